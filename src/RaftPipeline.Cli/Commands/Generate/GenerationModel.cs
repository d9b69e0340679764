using RaftPipeline.Core.Spec;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Stages.Models;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Cli.Commands.Generate;

/// <summary>
/// A model folder ready to generate from: the CausalLM on its device (16-bit or NF4, with a peft adapter attached
/// when given, through <see cref="ModelSlotLoader"/>), its tokenizer, chat template, generation_config.json, and
/// the eos/pad ids generate() uses.
/// </summary>
public sealed class GenerationModel : IDisposable
{
    ChatTemplate? _chatTemplate;

    GenerationModel(string directory, CausalLM model, HuggingFaceTokenizer tokenizer, GenerationConfigFile defaults,
        IReadOnlyList<int> eosTokenIds, int padTokenId)
    {
        Directory = directory;
        Model = model;
        Tokenizer = tokenizer;
        Defaults = defaults;
        EosTokenIds = eosTokenIds;
        PadTokenId = padTokenId;
    }

    public string Directory { get; }
    public CausalLM Model { get; }
    public HuggingFaceTokenizer Tokenizer { get; }
    public GenerationConfigFile Defaults { get; }
    public IReadOnlyList<int> EosTokenIds { get; }
    public int PadTokenId { get; }

    /// <summary>The folder's chat template, read on first use (a plain --prompt never needs one).</summary>
    /// <exception cref="ChatInputException">The folder has no chat template.</exception>
    public ChatTemplate ChatTemplate => _chatTemplate ??= ChatTemplate.FromModelFolder(Directory);

    /// <param name="device">Cpu or Cuda (Auto resolved by the caller).</param>
    /// <exception cref="FileNotFoundException">A required file is missing (named).</exception>
    /// <exception cref="InvalidDataException">A file holds what this tool cannot use (named).</exception>
    public static GenerationModel Load(string directory, string? adapterDirectory, DeviceKind device)
    {
        // Cheap checks first, so a bad folder fails before libtorch loads and weights are read.
        var tokenizer = HuggingFaceTokenizer.FromDirectory(directory);
        var defaults = GenerationConfigFile.ReadFolder(directory);
        var config = ModelConfigReader.ReadFolder(directory);
        var eos = defaults.EosTokenIds
            ?? (config.EosTokenIds.Count > 0 ? config.EosTokenIds : null)
            ?? (tokenizer.EosTokenId is { } e ? [e] : []);
        int pad = defaults.PadTokenId ?? config.PadTokenId ?? tokenizer.PadTokenId ?? (eos.Count > 0 ? eos[0] : 0);

        // Plain or NF4 folder, built on the device (ModelSlotLoader); the adapter is attached frozen.
        var model = ModelSlotLoader.Load(directory, device, ModelSlotLoader.DefaultComputeDtype(device));
        try
        {
            if (adapterDirectory is not null) ModelSlotLoader.AttachAdapter(model, adapterDirectory, trainable: false);
        }
        catch
        {
            model.Dispose(); // the adapter's error propagates unchanged
            throw;
        }
        model.eval(); // no LoRA dropout while generating
        return new GenerationModel(directory, model, tokenizer, defaults, eos, pad);
    }

    public void Dispose() => Model.Dispose();
}
