using System.CommandLine;

namespace RaftPipeline.Cli.Commands.Cache;

/// <summary>
/// <c>dotnet raft cache ls [SPEC]|gc|pin|unpin|verify [--cache DIR | --spec FILE]</c>: the wiring; the behaviour is <see cref="CacheCommand"/>.
/// </summary>
public sealed class CacheVerb : ICliVerb
{
    public Command Create()
    {
        var cache = new Option<string?>("--cache") { Description = "The cache folder (default: the --spec's cache, else ./.raft-cache).", Recursive = true };
        var spec = new Option<string?>("--spec") { Description = "Use this spec's cache (and, for gc, its runs/ folder).", Recursive = true };

        var lsSpec = new Argument<string?>("spec") { Description = "List this spec's cache (as `run` takes the spec).", Arity = ArgumentArity.ZeroOrOne };
        var ls = new Command("ls", "List the cached artifacts: key, pipeline, stage, kind, files, size, created, last used.") { lsSpec };
        ls.SetAction(parse => WithCache(parse, cache, spec, root => CacheCommand.List(root, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error),
            parse.GetValue(lsSpec)));

        var runs = new Option<string[]>("--runs") { Description = "Runs folder whose kept runs (per pipeline and set of --set overrides: the newest and the newest that succeeded) keep their artifacts (default: runs/ beside --spec). Repeatable." };
        var keepDays = new Option<double>("--keep-days") { Description = "Also keep artifacts used within this many days.", DefaultValueFactory = _ => 7 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be removed; remove nothing." };
        var gc = new Command("gc", "Remove artifacts that are neither pinned, exported, used by a kept run, nor used recently; and leftovers of killed runs.")
        {
            runs, keepDays, dryRun,
        };
        gc.SetAction(parse => WithCache(parse, cache, spec, root =>
        {
            var roots = parse.GetValue(runs) is { Length: > 0 } given ? given
                : parse.GetValue(spec) is { } s && Directory.Exists(CacheCommand.RunsBeside(s)) ? [CacheCommand.RunsBeside(s)]
                : [];
            return CacheCommand.Collect(root, roots, parse.GetValue(keepDays), parse.GetValue(dryRun),
                parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        }));

        var pinTarget = new Argument<string>("target") { Description = "SPEC:STAGE (e.g. pipeline.yaml:merged), a STAGE of --spec, or a key (a unique prefix of 8+ digits) from 'raft cache ls'." };
        var pin = new Command("pin", "Keep an artifact whatever cache gc's other rules say.") { pinTarget };
        pin.SetAction(parse => WithCache(parse, cache, spec, root =>
            CacheCommand.Pin(root, parse.GetValue(pinTarget)!, parse.GetValue(spec), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error)));
        var unpinTarget = new Argument<string>("target") { Description = "As for pin: SPEC:STAGE, a STAGE of --spec, or a pinned key (prefix)." };
        var unpin = new Command("unpin", "Undo 'cache pin': gc applies its usual rules to the artifact again.") { unpinTarget };
        unpin.SetAction(parse => WithCache(parse, cache, spec, root =>
            CacheCommand.Unpin(root, parse.GetValue(unpinTarget)!, parse.GetValue(spec), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error)));

        var remove = new Option<bool>("--remove") { Description = "Delete tampered entries so the next run rebuilds them." };
        var verify = new Command("verify", "Rehash every cached file against its manifest; exit 1 when an entry was tampered with or built from one.") { remove };
        verify.SetAction(parse => WithCache(parse, cache, spec, root =>
            CacheCommand.Verify(root, parse.GetValue(remove), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error)));

        return new Command("cache", "Inspect and maintain the artifact cache.") { cache, spec, ls, gc, pin, unpin, verify };
    }

    static int WithCache(ParseResult parse, Option<string?> cache, Option<string?> spec, Func<string, int> action, string? specArgument = null)
    {
        var root = CacheCommand.ResolveCache(parse.GetValue(cache), specArgument ?? parse.GetValue(spec), parse.InvocationConfiguration.Error);
        return root is null ? RaftCli.ExitCodes.BadInput : action(root);
    }
}
