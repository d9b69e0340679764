using System.CommandLine;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Text.Tokenization;
using TorchSharp;

namespace RaftPipeline.Cli.Tests.Generate;

/// <summary>
/// The tiny preset written once into a temp folder, plus an adapter for it with non-zero B (so it changes the
/// logits), shared by the generate and chat tests. Direct TextGenerator calls here are what the CLI must match.
/// </summary>
public sealed class TinyModelFixture : IDisposable
{
    public TinyModelFixture()
    {
        Root = Directory.CreateTempSubdirectory("raft-generate-").FullName;
        ModelDir = Path.Combine(Root, "tiny");
        TinyPreset.Write(ModelDir, seed: 3);
        Tokenizer = HuggingFaceTokenizer.FromDirectory(ModelDir);

        AdapterDir = Path.Combine(Root, "adapter");
        using var model = PretrainedLoader.Load(ModelDir);
        var lora = new LoraConfig { R = 4, Alpha = 64, Targets = LoraTargets.FromNames("q_proj", "v_proj", "down_proj"), Init = LoraInit.Random, Seed = 11 };
        var wrapped = LoraInjector.Apply(model, lora);
        AdapterStore.Save(model, AdapterConfig.From(lora, ModelDir, wrapped), AdapterDir);
    }

    public string Root { get; }
    public string ModelDir { get; }
    public string AdapterDir { get; }
    public HuggingFaceTokenizer Tokenizer { get; }

    /// <summary>generation_config.json of the preset: eos [im_end, endoftext], pad endoftext.</summary>
    public static GenerationOptions Options(int maxNewTokens) => new()
    {
        MaxNewTokens = maxNewTokens,
        EosTokenIds = [TinyPreset.ImEndId, TinyPreset.EndOfTextId],
        PadTokenId = TinyPreset.EndOfTextId,
    };

    /// <summary>What TextGenerator gives for these ids on the fp32 CPU model, with the adapter when asked.</summary>
    public IReadOnlyList<int> DirectGenerate(IReadOnlyList<int> promptIds, GenerationOptions options, bool withAdapter = false)
    {
        using var model = PretrainedLoader.Load(ModelDir);
        if (withAdapter) AdapterStore.Load(model, AdapterDir);
        model.eval();
        return TextGenerator.Generate(model, [promptIds], options)[0].NewIds;
    }

    public static (int Exit, string Out, string Err) Raft(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = RaftCli.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>One tiny model for every generate/chat test class; they run one after another (chat swaps Console.In).</summary>
[CollectionDefinition(Name)]
public sealed class TinyModelCollection : ICollectionFixture<TinyModelFixture>
{
    public const string Name = "tiny model";
}
