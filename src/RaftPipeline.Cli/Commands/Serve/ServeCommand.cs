using RaftPipeline.Cli.Commands.Generate;
using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Cli.Models;
using RaftPipeline.Serving;
using RaftPipeline.Stages.Models;

namespace RaftPipeline.Cli.Commands.Serve;

/// <summary>
/// The behaviour of `raft serve`: check the folders and flags (bad input is one line on stderr and exit code 2),
/// load the model and each adapter, start the OpenAI-compatible server, print where it listens, and serve until
/// SIGTERM or Ctrl-C, which drain the running requests before the process exits 0.
/// </summary>
public sealed class ServeCommand(TextWriter output, TextWriter error)
{
    public const string ApiKeyVariable = "RAFT_API_KEY";

    public async Task<int> RunAsync(ServeRequest request, CancellationToken cancellation = default)
    {
        var model = ModelArguments.Resolve(error, ("--model", request.Model));
        if (model.Problem is not null) return BadInput(model.Problem);
        request = request with { Model = model.Paths[0]! };
        if (ModelProblems.Check(request.Model, null) is { } folderProblem) return BadInput(folderProblem);
        var adapters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in request.Adapters)
        {
            // NAME=DIR as vLLM's --lora-modules; a bare DIR is served under its folder name.
            int eq = value.IndexOf('=');
            var (name, given) = eq >= 0 ? (value[..eq], value[(eq + 1)..]) : (Path.GetFileName(Path.TrimEndingDirectorySeparator(value)), value);
            if (name.Length == 0 || given.Length == 0) return BadInput($"--adapter: '{value}' is not NAME=DIR");
            var adapter = ModelArguments.Resolve(error, ("--adapter", given));
            if (adapter.Problem is not null) return BadInput(adapter.Problem);
            var dir = adapter.Paths[0]!;
            if (!Directory.Exists(dir)) return BadInput($"--adapter: folder not found: {dir}");
            if (!adapters.TryAdd(name, dir)) return BadInput($"--adapter: the name '{name}' is given twice");
        }
        if (request.Port is < 0 or > 65535) return BadInput($"--port must be from 0 to 65535, got {request.Port}");
        if (request.MaxBatchSize < 1) return BadInput($"--max-batch-size must be at least 1, got {request.MaxBatchSize}");
        if (request.MaxModelLength is < 2) return BadInput($"--max-model-len must be at least 2, got {request.MaxModelLength}");
        if (!(request.ShutdownTimeoutSeconds >= 0)) return BadInput($"--shutdown-timeout must be ≥ 0 seconds, got {request.ShutdownTimeoutSeconds}");
        var options = new ServeOptions
        {
            ModelDirectory = request.Model,
            ModelName = request.ServedModelName,
            Adapters = adapters,
            Host = request.Host,
            Port = request.Port,
            ApiKey = string.IsNullOrEmpty(request.ApiKey) ? Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } k ? k : null : request.ApiKey,
            MaxBatchSize = request.MaxBatchSize,
            MaxModelLength = request.MaxModelLength,
            ShutdownTimeout = TimeSpan.FromSeconds(request.ShutdownTimeoutSeconds),
        };
        if (adapters.ContainsKey(options.BaseModelName))
            return BadInput($"--adapter: the name '{options.BaseModelName}' is the base model's; pick another or set --served-model-name");

        var device = DeviceSelection.Resolve(request.Device, DeviceSelection.CudaAvailable);
        if (device.Error is not null) return BadInput($"--device: {device.Error}");
        if (device.Note is not null) error.WriteLine(device.Note);

        ServedModels models;
        try
        {
            models = ServedModels.Load(options, device.Device.ToTorchDevice());
        }
        catch (Exception e) when (ModelProblems.IsBadInput(e) || e is ArgumentException)
        {
            return BadInput(e.Message);
        }
        using (models)
        {
            RaftServer server;
            try
            {
                server = await RaftServer.StartAsync(options, models, error, cancellation);
            }
            catch (IOException e) // the address is taken or not ours
            {
                return BadInput($"cannot listen on {options.Host}:{options.Port}: {e.Message}");
            }
            await using (server)
            {
                output.WriteLine($"raft serve: listening on {server.Address} (OpenAI API at {new Uri(server.Address, "/v1")}); models: {string.Join(", ", models.All.Select(m => m.Name))}");
                output.Flush();
                await server.WaitForShutdownAsync(cancellation);
                error.WriteLine("raft serve: stopped; running requests drained");
            }
        }
        return RaftCli.ExitCodes.Ok;
    }

    int BadInput(string message)
    {
        error.WriteLine($"raft serve: {message}");
        return RaftCli.ExitCodes.BadInput;
    }
}
