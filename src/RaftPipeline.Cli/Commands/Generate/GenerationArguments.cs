using System.CommandLine;
using RaftPipeline.Core.Spec;

namespace RaftPipeline.Cli.Commands.Generate;

/// <summary>The options `raft generate` and `raft chat` share: model, adapter, device and the decoding flags.</summary>
public sealed class GenerationArguments
{
    public Option<string> Model { get; } = new("--model")
    {
        Description = "Model folder (Hugging Face layout: config.json, safetensors, tokenizer files), 16-bit or NF4; or SPEC:STAGE (e.g. pipeline.yaml:merged), that stage's artifact in the cache.",
        Required = true,
    };
    public Option<string?> Adapter { get; } = new("--adapter") { Description = "peft LoRA adapter folder to attach (adapter_config.json + adapter_model.safetensors), or SPEC:STAGE (e.g. pipeline.yaml:train)." };
    public Option<int?> MaxNewTokens { get; } = new("--max-new-tokens")
    {
        Description = $"Most tokens to generate (default: generation_config.json's max_new_tokens, else {SamplingRequest.DefaultMaxNewTokens}).",
    };
    public Option<bool> Greedy { get; } = new("--greedy") { Description = "Argmax decoding, whatever generation_config.json says." };
    public Option<double?> Temperature { get; } = new("--temperature") { Description = "Sample with this temperature." };
    public Option<int?> TopK { get; } = new("--top-k") { Description = "Sample from the k most likely tokens (0 = off; default 50 as transformers)." };
    public Option<double?> TopP { get; } = new("--top-p") { Description = "Sample from the smallest set of tokens whose probability reaches p." };
    public Option<long?> Seed { get; } = new("--seed") { Description = "Seed of the sampler, for repeatable samples." };
    public Option<double?> RepetitionPenalty { get; } = new("--repetition-penalty") { Description = "Penalise tokens already in the sequence (1 = off), as transformers does." };
    public Option<string> Device { get; } = new("--device")
    {
        Description = "cpu, cuda or auto (cuda when available).",
        DefaultValueFactory = _ => "auto",
    };

    public GenerationArguments() => Device.AcceptOnlyFromAmong("cpu", "cuda", "auto");

    public IEnumerable<Option> All => [Model, Adapter, MaxNewTokens, Greedy, Temperature, TopK, TopP, Seed, RepetitionPenalty, Device];

    public SamplingRequest Sampling(ParseResult parse) => new(
        parse.GetValue(MaxNewTokens), parse.GetValue(Greedy), parse.GetValue(Temperature), parse.GetValue(TopK),
        parse.GetValue(TopP), parse.GetValue(Seed), parse.GetValue(RepetitionPenalty));

    public DeviceKind DeviceKind(ParseResult parse) => parse.GetValue(Device) switch
    {
        "cpu" => Core.Spec.DeviceKind.Cpu,
        "cuda" => Core.Spec.DeviceKind.Cuda,
        _ => Core.Spec.DeviceKind.Auto,
    };
}
