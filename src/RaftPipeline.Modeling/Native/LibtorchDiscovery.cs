using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace RaftPipeline.Modeling.Native;

/// <summary>A folder holding a build of libtorch's shared libraries, where it was found, and what it is.</summary>
/// <param name="Directory">The folder with libtorch_cpu.so (and libtorch_cuda.so for a CUDA build).</param>
/// <param name="Source">How it was found, in words (the variable, the package, the Python installation).</param>
/// <param name="IsCuda">True when the folder holds libtorch_cuda.so.</param>
/// <param name="Version">The libtorch version when the folder says (PyTorch's version.py, the package version), else null.</param>
/// <param name="Problem">Why this folder cannot be used by this tool (wrong version, split package), or null.</param>
public sealed record LibtorchCandidate(string Directory, string Source, bool IsCuda, string? Version, string? Problem = null)
{
    public bool Usable => Problem is null;
}

/// <summary>The CUDA build this process loaded before TorchSharp (or that LD_LIBRARY_PATH already provides).</summary>
public sealed record LibtorchBinding(LibtorchCandidate Candidate, bool Preloaded);

/// <summary>What discovery looks at, gathered once from the process (see <see cref="LibtorchDiscovery.FromEnvironment"/>); tests build their own.</summary>
/// <param name="Variables">Environment variables (RAFT_LIBTORCH, LD_LIBRARY_PATH, NUGET_PACKAGES, VIRTUAL_ENV, CONDA_PREFIX, PYTHONPATH, HOME).</param>
/// <param name="SystemPythonRoots">Prefixes of system Python installations (/usr, /usr/local, /opt/conda).</param>
public sealed record DiscoveryEnvironment(IReadOnlyDictionary<string, string?> Variables, IReadOnlyList<string> SystemPythonRoots)
{
    public string? this[string name] => Variables.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;
}

/// <summary>
/// Finds a CUDA build of libtorch for the tool to run on, so that no one edits LD_LIBRARY_PATH: the packaged libtorch
/// is the CPU build, and TorchSharp binds to whichever libtorch is loaded first. Looked at, in order:
/// <list type="number">
/// <item><see cref="Variable"/>: a libtorch folder (or its <c>lib/</c>) named by the user, never second-guessed
/// (<c>cpu</c>: the packaged CPU build, no discovery);</item>
/// <item>LD_LIBRARY_PATH, when a folder on it already has libtorch_cuda.so (the project's GPU runner does this): the
/// dynamic loader uses it anyway, so it is only reported;</item>
/// <item>the NuGet cache (NUGET_PACKAGES or ~/.nuget/packages): a <c>libtorch-cuda-*-linux-x64</c> package, which
/// TorchSharp-cuda-linux brings;</item>
/// <item>Python installations: <c>torch/lib</c> of a PyTorch wheel in the active virtualenv or conda environment,
/// PYTHONPATH, the user's site-packages, pyenv versions and the system's site-/dist-packages.</item>
/// </list>
/// Only libtorch <see cref="RequiredVersion"/> (what TorchSharp 0.107 is built against) or <see cref="AlsoRuns"/> (the
/// PyTorch of this project's GPU machine, on which every CUDA benchmark and GPU check of the tool has run) is bound;
/// other versions are listed with the reason. Binding loads libtorch_cuda.so and libtorch.so by path (their own dependencies come from
/// their RUNPATH, as in a PyTorch wheel), so that TorchSharp's native library, loaded afterwards, resolves them by
/// name to the CUDA build instead of the CPU one beside the tool.
/// </summary>
public static class LibtorchDiscovery
{
    /// <summary>The environment variable naming a libtorch folder to use.</summary>
    public const string Variable = "RAFT_LIBTORCH";

    /// <summary>The libtorch release TorchSharp 0.107 (this tool's) is built against: major.minor.</summary>
    public const string RequiredVersion = "2.10";

    /// <summary>
    /// A later libtorch release the tool is known to run on: torch 2.11.0+cu130 on the project's GPU machine
    /// (bench/RESULTS.md, tests/gpu/results), bound by TorchSharp 0.107 without a rebuild.
    /// </summary>
    public const string AlsoRuns = "2.11";

    /// <summary><c>RAFT_LIBTORCH=cpu</c>: no discovery, the packaged CPU build.</summary>
    public const string CpuOnly = "cpu";

    const string CudaLibrary = "libtorch_cuda.so";
    const string CpuLibrary = "libtorch_cpu.so";

    /// <summary>This process's view (environment variables and the usual system Python prefixes).</summary>
    public static DiscoveryEnvironment FromEnvironment()
    {
        var names = new[] { Variable, "LD_LIBRARY_PATH", "NUGET_PACKAGES", "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "HOME", "PATH" };
        return new DiscoveryEnvironment(names.ToDictionary(n => n, Environment.GetEnvironmentVariable),
            ["/usr/local", "/usr", "/opt/conda"]);
    }

    /// <summary>Every libtorch build found, in the order of preference above (usable or not).</summary>
    public static IReadOnlyList<LibtorchCandidate> Find(DiscoveryEnvironment env)
    {
        var found = new List<LibtorchCandidate>();
        if (env[Variable] is { } named)
        {
            if (named == CpuOnly)
                found.Add(new LibtorchCandidate(AppContext.BaseDirectory, $"{Variable}={CpuOnly}", false, null));
            else
            {
                var dir = new[] { named, Path.Combine(named, "lib") }.FirstOrDefault(d => File.Exists(Path.Combine(d, CpuLibrary)));
                found.Add(dir is null
                    ? new LibtorchCandidate(named, $"{Variable}={named}", false, null,
                        $"no {CpuLibrary} in {named} or {Path.Combine(named, "lib")}; expected a libtorch folder (PyTorch's torch/lib, or libtorch/lib of the C++ download)")
                    : Describe(dir, $"{Variable}={named}", PyTorchVersion(dir) ?? BuildVersionFile(dir), explicitChoice: true));
            }
        }
        foreach (var dir in Split(env["LD_LIBRARY_PATH"]))
            if (File.Exists(Path.Combine(dir, CudaLibrary)))
                found.Add(Describe(dir, "LD_LIBRARY_PATH", PyTorchVersion(dir)));

        found.AddRange(NuGetCandidates(env));
        foreach (var sitePackages in SitePackages(env))
        {
            var lib = Path.Combine(sitePackages, "torch", "lib");
            if (File.Exists(Path.Combine(lib, CpuLibrary)))
                found.Add(Describe(lib, $"PyTorch in {sitePackages}", PyTorchVersion(lib)));
        }
        return found.DistinctBy(c => Path.GetFullPath(c.Directory)).ToList();
    }

    /// <summary>The CUDA build to bind: the first usable CUDA candidate, or null (then the packaged CPU build is used).</summary>
    public static LibtorchCandidate? Choose(IReadOnlyList<LibtorchCandidate> candidates)
    {
        // A folder the user named is never second-guessed: it is used, or (not a CUDA build, unusable) nothing is.
        if (candidates.FirstOrDefault(c => c.Source.StartsWith(Variable + "=", StringComparison.Ordinal)) is { } named)
            return named.IsCuda && named.Usable ? named : null;
        return candidates.FirstOrDefault(c => c.IsCuda && c.Usable);
    }

    /// <summary>
    /// Loads the chosen CUDA build (see the class summary) unless LD_LIBRARY_PATH already provides it. Returns null
    /// when there is none; throws when loading a chosen build fails (the loader's message names the missing library).
    /// </summary>
    public static LibtorchBinding? BindCudaBuild(DiscoveryEnvironment env)
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return null;
        var chosen = Choose(Find(env));
        if (chosen is null) return null;
        if (chosen.Source == "LD_LIBRARY_PATH") return new LibtorchBinding(chosen, Preloaded: false);
        try
        {
            // libtorch_cuda.so brings libtorch_cpu, libc10 and libc10_cuda from its own folder in one dlopen, which
            // either loads all or none; libtorch.so (what TorchSharp's library names) follows.
            NativeLibrary.Load(Path.Combine(chosen.Directory, CudaLibrary));
            var umbrella = Path.Combine(chosen.Directory, "libtorch.so");
            if (File.Exists(umbrella)) NativeLibrary.Load(umbrella);
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException(
                $"the CUDA build of libtorch found at {chosen.Directory} ({chosen.Source}) does not load: {e.Message.Trim()}. " +
                $"Set {Variable} to another libtorch {RequiredVersion} folder, or to {CpuOnly} to use the packaged CPU build.", e);
        }
        return new LibtorchBinding(chosen, Preloaded: true);
    }

    static LibtorchCandidate Describe(string dir, string source, string? version, bool explicitChoice = false)
    {
        bool cuda = File.Exists(Path.Combine(dir, CudaLibrary));
        string? problem = null;
        if (version is not null && !MatchesRequired(version) && !explicitChoice)
            problem = $"libtorch {version}; this tool needs {RequiredVersion}.x or {AlsoRuns}.x";
        return new LibtorchCandidate(dir, source, cuda, version, problem);
    }

    /// <summary>True when <paramref name="version"/> (2.10.0, 2.10.0+cu128, 2.10.0.1) is libtorch <see cref="RequiredVersion"/>.</summary>
    public static bool MatchesRequired(string version) => IsRelease(version, RequiredVersion) || IsRelease(version, AlsoRuns);

    static bool IsRelease(string version, string release) =>
        version == release || version.StartsWith(release + ".", StringComparison.Ordinal) ||
        version.StartsWith(release + "+", StringComparison.Ordinal);

    /// <summary>PyTorch's version from torch/version.py beside torch/lib (<c>__version__ = '2.10.0+cu128'</c>).</summary>
    static string? PyTorchVersion(string libDir)
    {
        var file = Path.Combine(libDir, "..", "version.py");
        if (!File.Exists(file)) return null;
        var m = Regex.Match(File.ReadAllText(file), @"^__version__\s*=\s*['""]([^'""]+)['""]", RegexOptions.Multiline);
        return m.Success ? m.Groups[1].Value : null;
    }

    /// <summary>The C++ download's libtorch/build-version (beside lib/).</summary>
    static string? BuildVersionFile(string libDir)
    {
        var file = Path.Combine(libDir, "..", "build-version");
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }

    /// <summary>libtorch-cuda-*-linux-x64/VERSION/runtimes/linux-x64/native in the NuGet cache.</summary>
    static IEnumerable<LibtorchCandidate> NuGetCandidates(DiscoveryEnvironment env)
    {
        var root = env["NUGET_PACKAGES"] ?? (env["HOME"] is { } home ? Path.Combine(home, ".nuget", "packages") : null);
        if (root is null || !Directory.Exists(root)) yield break;
        foreach (var package in Directory.EnumerateDirectories(root, "libtorch-cuda-*-linux-x64").Order(StringComparer.Ordinal).Reverse())
        foreach (var versionDir in Directory.EnumerateDirectories(package).Order(StringComparer.Ordinal).Reverse())
        {
            var native = Path.Combine(versionDir, "runtimes", "linux-x64", "native");
            var version = Path.GetFileName(versionDir);
            var source = $"NuGet package {Path.GetFileName(package)} {version}";
            if (File.Exists(Path.Combine(native, CudaLibrary)))
                yield return Describe(native, source, version);
            else if (Directory.Exists(native) && Directory.EnumerateFiles(native, "libtorch_cuda.so*").Any())
                // The package ships libtorch_cuda.so in parts that a build of a project referencing it joins into its
                // output folder; that folder (bin/.../runtimes/linux-x64/native) is what RAFT_LIBTORCH can name.
                yield return new LibtorchCandidate(native, source, true, version,
                    $"{CudaLibrary} is split into parts in this package; build a project that references TorchSharp-cuda-linux " +
                    $"and set {Variable} to its output's runtimes/linux-x64/native folder");
        }
    }

    /// <summary>The site-packages (and dist-packages) folders of the Python installations discovery looks at.</summary>
    public static IEnumerable<string> SitePackages(DiscoveryEnvironment env)
    {
        var prefixes = new List<string>();
        if (env["VIRTUAL_ENV"] is { } venv) prefixes.Add(venv);
        if (env["CONDA_PREFIX"] is { } conda) prefixes.Add(conda);
        // The Python that `python3` runs: a virtualenv's bin/ on PATH (not activated, as on a machine whose image puts
        // /opt/torch/.venv/bin first) has its site-packages under the folder above bin/.
        foreach (var bin in Split(env["PATH"]))
            if (File.Exists(Path.Combine(bin, "python3")) && Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(bin)) is { } prefix
                && File.Exists(Path.Combine(prefix, "pyvenv.cfg")))
                prefixes.Add(prefix);
        var folders = new List<string>();
        foreach (var p in Split(env["PYTHONPATH"])) folders.Add(p);
        if (env["HOME"] is { } home)
        {
            prefixes.Add(Path.Combine(home, ".local"));
            var pyenv = Path.Combine(home, ".pyenv", "versions");
            if (Directory.Exists(pyenv)) prefixes.AddRange(Directory.EnumerateDirectories(pyenv).Order(StringComparer.Ordinal));
        }
        prefixes.AddRange(env.SystemPythonRoots);
        foreach (var prefix in prefixes)
        {
            var lib = Path.Combine(prefix, "lib");
            if (!Directory.Exists(lib)) continue;
            foreach (var python in Directory.EnumerateDirectories(lib, "python3*").Order(StringComparer.Ordinal).Reverse())
                folders.AddRange(new[] { "site-packages", "dist-packages" }.Select(s => Path.Combine(python, s)));
            folders.Add(Path.Combine(lib, "python3", "dist-packages")); // Debian's python3-* packages
        }
        return folders.Where(Directory.Exists).Distinct();
    }

    static IEnumerable<string> Split(string? pathList) =>
        (pathList ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
