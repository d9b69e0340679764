using System.CommandLine;
using System.Reflection;

namespace RaftPipeline.Cli;

/// <summary>
/// The `dotnet raft` root command. Verbs live one folder each under Commands/ and are found by reflection
/// (every <see cref="ICliVerb"/> in this assembly), so adding a verb touches no shared file.
/// </summary>
public static class RaftCli
{
    /// <summary>Exit codes shared by every verb.</summary>
    public static class ExitCodes
    {
        public const int Ok = 0;
        /// <summary>A stage or the tool itself failed while running.</summary>
        public const int Failed = 1;
        /// <summary>Bad input: the spec, a file or an argument is wrong; nothing was executed.</summary>
        public const int BadInput = 2;
        /// <summary>
        /// A folder or file the tool must use is unusable: the cache or run folder is read-only, missing, full or not a
        /// folder. One line names the path and the reason; nothing was left half-written.
        /// </summary>
        public const int StorageError = 3;
        /// <summary>Stopped by the user (Ctrl-C, SIGINT: 128 + 2); finished artifacts are kept.</summary>
        public const int Cancelled = 130;
        /// <summary>Stopped by SIGTERM (128 + 15, the shell's convention), with the same clean wind-down as <see cref="Cancelled"/>.</summary>
        public const int Terminated = 143;
    }

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("RaftPipeline: declarative, reproducible LoRA/QLoRA fine-tuning of LLMs in .NET.");
        var verbs = typeof(RaftCli).Assembly.GetTypes()
            .Where(t => typeof(ICliVerb).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => (ICliVerb)Activator.CreateInstance(t)!)
            .Select(v => v.Create())
            .OrderBy(c => c.Name, StringComparer.Ordinal);
        foreach (var command in verbs) root.Subcommands.Add(command);
        GuardStorage(root);
        // The default --version prints the entry assembly's version, which is the test host's in tests and
        // the MSBuild node's under a ToolTask; print this tool's own version instead.
        foreach (var option in root.Options.OfType<VersionOption>()) option.Action = new PrintVersionAction();
        return root;
    }

    public static int Run(string[] args) => Invoke(args, new InvocationConfiguration());

    /// <summary>
    /// Parses and runs a command line. A command line that does not parse (a mistyped verb, a missing argument) gets
    /// its errors and the closest verbs, not the whole help, and exits with <see cref="ExitCodes.BadInput"/>.
    /// </summary>
    public static int Invoke(string[] args, InvocationConfiguration configuration)
    {
        var parse = BuildRoot().Parse(args);
        if (parse.Action is not System.CommandLine.Invocation.ParseErrorAction errors) return parse.Invoke(configuration);
        errors.ShowHelp = false;
        parse.Invoke(configuration);
        var verb = parse.CommandResult.Command is RootCommand ? "" : $" {parse.CommandResult.Command.Name}";
        configuration.Error.WriteLine($"See `dotnet raft{verb} --help`.");
        return ExitCodes.BadInput;
    }

    /// <summary>
    /// The top-level error handling of every verb: an I/O failure no verb handled itself (a read-only or full folder,
    /// a path that is a file) becomes one line and <see cref="ExitCodes.StorageError"/>, never a stack trace.
    /// </summary>
    static void GuardStorage(Command command)
    {
        if (command.Action is System.CommandLine.Invocation.SynchronousCommandLineAction action and not StorageGuard)
            command.Action = new StorageGuard(action);
        foreach (var sub in command.Subcommands) GuardStorage(sub);
    }

    sealed class StorageGuard(System.CommandLine.Invocation.SynchronousCommandLineAction inner) : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override bool Terminating => inner.Terminating;
        public override bool ClearsParseErrors => inner.ClearsParseErrors;

        public override int Invoke(ParseResult parseResult)
        {
            try
            {
                return inner.Invoke(parseResult);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                parseResult.InvocationConfiguration.Error.WriteLine(e is Core.Store.StorageException ? e.Message : $"error: {OneLine(e.Message)}");
                return ExitCodes.StorageError;
            }
            catch (Modeling.Native.LibtorchUnavailableException e)
            {
                // libtorch failed to load outside a stage (a stage's failure is recorded by the run): say why, no trace.
                parseResult.InvocationConfiguration.Error.WriteLine($"error: {OneLine(e.Message)}");
                return ExitCodes.Failed;
            }
        }

        static string OneLine(string text) => text.ReplaceLineEndings(" ");
    }

    sealed class PrintVersionAction : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return ExitCodes.Ok;
        }
    }

    public static string Version =>
        typeof(RaftCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0";
}
