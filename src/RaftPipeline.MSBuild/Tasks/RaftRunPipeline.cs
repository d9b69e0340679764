using System.Globalization;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using RaftPipeline.Core.Graph;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Spec;
using RaftPipeline.MSBuild.Check;
using RaftPipeline.MSBuild.Output;

namespace RaftPipeline.MSBuild.Tasks;

/// <summary>
/// Runs <c>dotnet raft run SPEC [STAGE...] --set KEY=VALUE... --run-dir DIR</c> out of process (the MSBuild
/// node must never load libtorch), streams its lines into the build log and turns its error lines into
/// MSBuild errors in the canonical format (<see cref="ToolOutputParser"/>). After a successful run, the final
/// stages' files come back as <c>RaftPipelineOutput</c> items, read from the run's lock file.
/// </summary>
public sealed class RaftRunPipeline : ToolTask
{
    [Required] public string Spec { get; set; } = "";
    public string[] Overrides { get; set; } = [];
    public string[] Stages { get; set; } = [];
    /// <summary>cpu, cuda or auto; empty: what the spec says.</summary>
    public string? Device { get; set; }
    /// <summary>The folder holding this pipeline's run folders; this run gets a new UTC-timestamped folder in it.</summary>
    [Required] public string RunsDirectory { get; set; } = "";
    /// <summary>RaftToolCommand: the command line that starts the tool (default <c>dotnet raft</c>).</summary>
    public string ToolCommand { get; set; } = "dotnet raft";
    /// <summary>RaftToolPath: the tool's executable (an apphost such as <c>dotnet-raft</c>, a script, or a .dll run with dotnet); wins over ToolCommand.</summary>
    public string? Executable { get; set; }
    public string? WorkingDirectory { get; set; }
    public string? OutputFolder { get; set; }
    public string? CopyToOutputDirectory { get; set; }

    [Output] public string RunFolder { get; private set; } = "";
    [Output] public ITaskItem[] Outputs { get; private set; } = [];

    ToolOutputParser? _parser;
    SpecLoadResult? _spec;
    int _errors;

    protected override string ToolName => Executable is { Length: > 0 } exe ? Path.GetFileName(exe) : Tokens()[0];

    // The tool's output is what a person watching a long training build wants to see: normal, not low; its progress
    // lines high (see ToolProgress).
    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.Normal;
    protected override MessageImportance StandardErrorLoggingImportance => MessageImportance.Normal;

    public override bool Execute()
    {
        RunFolder = NewRunFolder(RunsDirectory);
        _parser = new ToolOutputParser(StageLocation);
        var ok = base.Execute() && !Log.HasLoggedErrors;
        if (ok) Outputs = CollectOutputs();
        return ok && !Log.HasLoggedErrors;
    }

    protected override string GenerateFullPathToTool()
    {
        if (Executable is { Length: > 0 } exe)
            return exe.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? DotnetHost() : Path.GetFullPath(exe);
        var program = Tokens()[0];
        if (program == "dotnet") return DotnetHost();
        return Path.IsPathRooted(program) ? program : FindOnPath(program) ?? program;
    }

    protected override string GenerateCommandLineCommands()
    {
        var b = new CommandLineBuilder();
        if (Executable is { Length: > 0 } exe)
        {
            if (exe.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) b.AppendFileNameIfNotNull(Path.GetFullPath(exe));
        }
        else
        {
            foreach (var token in Tokens().Skip(1)) b.AppendTextUnquoted(" " + token);
        }
        b.AppendTextUnquoted(" run");
        b.AppendFileNameIfNotNull(Path.GetFullPath(Spec));
        foreach (var stage in RaftCheckPipeline.Clean(Stages)) b.AppendTextUnquoted(" " + Quote(stage));
        foreach (var o in RaftCheckPipeline.Clean(Overrides)) b.AppendSwitchIfNotNull("--set ", o);
        if (Device is { Length: > 0 } device) b.AppendSwitchIfNotNull("--set ", $"device={device}");
        b.AppendSwitchIfNotNull("--run-dir ", RunFolder);
        return b.ToString();
    }

    protected override string? GetWorkingDirectory() => WorkingDirectory is { Length: > 0 } w ? w : null;

    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
    {
        if (_parser!.Parse(singleLine) is { } d)
        {
            _errors++;
            Log.LogError(null, d.Code, null, d.File, d.Line, d.Column, 0, 0, d.Message);
            return;
        }
        Log.LogMessage(Output.ToolProgress.IsProgress(singleLine) ? MessageImportance.High : messageImportance, singleLine);
    }

    protected override bool HandleTaskExecutionErrors()
    {
        // The tool's own error lines already said what went wrong; add the exit code only when it said nothing.
        if (_errors == 0)
        {
            var log = Path.Combine(RunFolder, Core.Runs.RunFolder.LogFileName);
            var where = File.Exists(log)
                ? $"see the lines above and {log}"
                : "it started no run; see the lines above (is the RaftPipeline tool installed? `dotnet tool restore` installs the version dotnet-tools.json pins; RaftToolPath names another)";
            Log.LogError(null, ToolDiagnostic.ToolFailedCode, null, Spec, 0, 0, 0, 0,
                $"the tool exited with code {ExitCode} ({ExitMeaning(ExitCode)}); {where}");
        }
        return false;
    }

    static string ExitMeaning(int code) => code switch
    {
        1 => "a stage or the tool failed",
        2 => "bad input: nothing was run",
        3 => "the cache or run folder is unusable (read-only, full, missing or not a folder)",
        130 => "cancelled",
        143 => "terminated (SIGTERM)",
        _ => "unexpected exit code",
    };

    (string File, int Line, int Column)? StageLocation(string stage)
    {
        _spec ??= SpecLoader.Load(Spec, RaftCheckPipeline.Clean(Overrides));
        return _spec.Spec?.Stages.FirstOrDefault(s => s.Name == stage) is { Location: { HasPosition: true } at }
            ? (Path.GetFullPath(at.File), at.Line, at.Column)
            : null;
    }

    ITaskItem[] CollectOutputs()
    {
        var lockPath = Path.Combine(RunFolder, RunLock.FileName);
        if (!File.Exists(lockPath))
        {
            Log.LogWarning($"RaftPipeline: the tool succeeded but wrote no {RunLock.FileName} in {RunFolder}; no RaftPipelineOutput items");
            return [];
        }
        var runLock = RunLock.Read(lockPath);
        _spec ??= SpecLoader.Load(Spec, RaftCheckPipeline.Clean(Overrides));
        if (_spec.Spec is not { } spec) return [];
        var graph = PipelineGraph.Build(spec);
        var targets = RaftCheckPipeline.Clean(Stages);
        var finals = FinalStages.Of(graph, targets.Length == 0 ? graph.TopologicalOrder : graph.Closure(targets), targets);
        var artifacts = runLock.Stages
            .Where(s => finals.Contains(s.Name) && s.Key is not null && s.Artifact is not null)
            .Select(s => (s.Name, s.Key!, s.Artifact!));
        return OutputItems.Create(runLock.Pipeline, artifacts, OutputFolder, CopyToOutputDirectory);
    }

    /// <summary>A new folder name under <paramref name="parent"/>: the UTC time as the tool names runs, with -2, -3... when taken.</summary>
    static string NewRunFolder(string parent)
    {
        var stamp = DateTime.UtcNow.ToString(Core.Runs.RunFolder.TimestampFormat, CultureInfo.InvariantCulture);
        for (var n = 1; ; n++)
        {
            var path = Path.Combine(Path.GetFullPath(parent), n == 1 ? stamp : $"{stamp}-{n}");
            if (!Directory.Exists(path)) return path;
        }
    }

    string[] Tokens()
    {
        var tokens = Split(ToolCommand);
        return tokens.Length > 0 ? tokens : ["dotnet", "raft"];
    }

    /// <summary>Splits a command line on spaces; double quotes group a token that holds spaces.</summary>
    internal static string[] Split(string commandLine)
    {
        var tokens = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in commandLine)
        {
            if (c == '"') { quoted = !quoted; continue; }
            if (char.IsWhiteSpace(c) && !quoted)
            {
                if (current.Length > 0) { tokens.Add(current.ToString()); current.Clear(); }
                continue;
            }
            current.Append(c);
        }
        if (current.Length > 0) tokens.Add(current.ToString());
        return tokens.ToArray();
    }

    static string Quote(string s) => s.Contains(' ') ? $"\"{s}\"" : s;

    static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : FindOnPath(OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet") ?? "dotnet";

    static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, program))
        .FirstOrDefault(File.Exists);
}
