using System.CommandLine;
using RaftPipeline.Cli.Commands.Generate;

namespace RaftPipeline.Cli.Commands.Serve;

/// <summary>`dotnet raft serve --model DIR [--adapter NAME=DIR]... [--port N] [--api-key KEY] ...`: the wiring; the
/// behaviour is <see cref="ServeCommand"/>.</summary>
public sealed class ServeVerb : ICliVerb
{
    public Command Create()
    {
        var shared = new GenerationArguments();
        var adapters = new Option<string[]>("--adapter")
        {
            Description = "A peft adapter to serve as NAME=DIR (repeatable); a request picks it with \"model\": \"NAME\". A bare DIR is served under its folder name.",
            AllowMultipleArgumentsPerToken = false,
        };
        var name = new Option<string?>("--served-model-name") { Description = "Name requests use for the bare model (default: the model folder's name)." };
        var host = new Option<string>("--host") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port to listen on (0 picks a free one).", DefaultValueFactory = _ => 8000 };
        var apiKey = new Option<string?>("--api-key") { Description = $"Require 'Authorization: Bearer KEY' on /v1 (default: ${ServeCommand.ApiKeyVariable} when set)." };
        var maxBatch = new Option<int>("--max-batch-size") { Description = "Most requests one decode step runs together.", DefaultValueFactory = _ => 8 };
        var maxLen = new Option<int?>("--max-model-len") { Description = "Longest prompt + completion accepted (default: the model's max_position_embeddings)." };
        var shutdown = new Option<double>("--shutdown-timeout") { Description = "Seconds a stop (SIGTERM, Ctrl-C) waits for running requests.", DefaultValueFactory = _ => 30 };

        var command = new Command("serve", "Serve a model folder (and adapters) over an OpenAI-compatible HTTP API: /v1/chat/completions, /v1/completions, /v1/models, /health.");
        foreach (var option in new Option[] { shared.Model, adapters, name, host, port, apiKey, maxBatch, maxLen, shutdown, shared.Device })
            command.Options.Add(option);
        // A synchronous action: System.CommandLine's own signal handling (for async actions) ends the process two
        // seconds after SIGTERM, too soon to drain; the web host's console lifetime handles SIGTERM and Ctrl-C instead.
        command.SetAction(parse => new ServeCommand(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error).RunAsync(
            new ServeRequest(parse.GetValue(shared.Model)!, parse.GetValue(adapters) ?? [], parse.GetValue(name), parse.GetValue(host)!,
                parse.GetValue(port), parse.GetValue(apiKey), shared.DeviceKind(parse), parse.GetValue(maxBatch), parse.GetValue(maxLen),
                parse.GetValue(shutdown))).GetAwaiter().GetResult());
        return command;
    }
}
