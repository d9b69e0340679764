using RaftPipeline.Modeling.Native;

namespace RaftPipeline.Modeling.Tests.Native;

/// <summary>Discovery of a CUDA build of libtorch on fake folder layouts (empty files named as the real ones).</summary>
public sealed class LibtorchDiscoveryTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), "raft-libtorch-discovery", Guid.NewGuid().ToString("N")[..12]);

    string Home => Path.Combine(root, "home");

    /// <summary>A PyTorch wheel: PREFIX/lib/python3.X/site-packages/torch/{lib/*.so, version.py}.</summary>
    string PyTorch(string prefix, string version, bool cuda = true, string python = "python3.11", string packages = "site-packages")
    {
        var torch = Path.Combine(prefix, "lib", python, packages, "torch");
        var lib = Path.Combine(torch, "lib");
        Touch(lib, "libtorch_cpu.so", "libtorch.so", "libc10.so");
        if (cuda) Touch(lib, "libtorch_cuda.so", "libc10_cuda.so");
        File.WriteAllText(Path.Combine(torch, "version.py"), $"__version__ = '{version}'\ndebug = False\ncuda = '12.8'\n");
        return lib;
    }

    static void Touch(string dir, params string[] files)
    {
        Directory.CreateDirectory(dir);
        foreach (var f in files) File.WriteAllBytes(Path.Combine(dir, f), []);
    }

    DiscoveryEnvironment Env(params (string Name, string Value)[] variables)
    {
        var vars = new Dictionary<string, string?> { ["HOME"] = Home };
        foreach (var (name, value) in variables) vars[name] = value;
        return new DiscoveryEnvironment(vars, [Path.Combine(root, "usr", "local"), Path.Combine(root, "usr")]);
    }

    [Fact]
    public void Finds_PyTorch_in_the_active_virtualenv_and_chooses_its_cuda_build()
    {
        var venv = Path.Combine(root, "venv");
        var lib = PyTorch(venv, "2.10.0+cu128");
        var found = LibtorchDiscovery.Find(Env(("VIRTUAL_ENV", venv)));
        var candidate = Assert.Single(found);
        Assert.Equal((lib, true, "2.10.0+cu128", true), (candidate.Directory, candidate.IsCuda, candidate.Version, candidate.Usable));
        Assert.Equal($"PyTorch in {Path.Combine(venv, "lib", "python3.11", "site-packages")}", candidate.Source);
        Assert.Same(candidate, LibtorchDiscovery.Choose(found));
    }

    [Fact]
    public void A_pytorch_of_another_version_is_listed_with_the_reason_and_never_chosen()
    {
        var venv = Path.Combine(root, "venv");
        PyTorch(venv, "2.5.1+cu121");
        var found = LibtorchDiscovery.Find(Env(("VIRTUAL_ENV", venv)));
        var candidate = Assert.Single(found);
        Assert.Equal("libtorch 2.5.1+cu121; this tool needs 2.10.x or 2.11.x", candidate.Problem);
        Assert.Null(LibtorchDiscovery.Choose(found));
        var advice = CudaSetupAdvice.WhyNoCuda(null, found);
        Assert.Contains("this tool needs 2.10.x", advice);
        Assert.Contains("pip install \"torch==2.10.*\"", advice);
    }

    /// <summary>
    /// The project's GPU machine: torch 2.11.0+cu130 in /opt/torch/.venv, whose bin/ is on PATH but which is not
    /// activated (no VIRTUAL_ENV). Found there on the GPU machine by `raft doctor` only after this case was added.
    /// </summary>
    [Fact]
    public void Finds_PyTorch_2_11_in_a_virtualenv_whose_python_is_on_PATH_without_activation()
    {
        var venv = Path.Combine(root, "opt", "torch", ".venv");
        var lib = PyTorch(venv, "2.11.0+cu130", python: "python3.12");
        Touch(Path.Combine(venv, "bin"), "python3");
        File.WriteAllText(Path.Combine(venv, "pyvenv.cfg"), "home = /usr/bin\n");
        var elsewhere = Path.Combine(root, "bin");
        Touch(elsewhere, "python3"); // a python3 on PATH that is not a virtualenv adds nothing
        var found = LibtorchDiscovery.Find(Env(("PATH", $"{elsewhere}:{Path.Combine(venv, "bin")}")));
        var candidate = Assert.Single(found);
        Assert.Equal((lib, true, "2.11.0+cu130", true), (candidate.Directory, candidate.IsCuda, candidate.Version, candidate.Usable));
        Assert.Same(candidate, LibtorchDiscovery.Choose(found));
        Assert.Empty(LibtorchDiscovery.Find(Env(("PATH", elsewhere))));
    }

    [Fact]
    public void Prefers_the_virtualenv_then_the_users_site_packages_then_pyenv_then_the_system_and_skips_cpu_only_builds()
    {
        var venv = Path.Combine(root, "venv");
        var venvLib = PyTorch(venv, "2.10.0", cuda: false);                 // a CPU wheel: found, not chosen
        var userLib = PyTorch(Path.Combine(Home, ".local"), "2.10.0+cu126");
        var pyenvLib = PyTorch(Path.Combine(Home, ".pyenv", "versions", "3.12.4"), "2.10.0+cu128", python: "python3.12");
        var systemLib = PyTorch(Path.Combine(root, "usr"), "2.10.0+cu128", packages: "dist-packages");
        var found = LibtorchDiscovery.Find(Env(("VIRTUAL_ENV", venv)));
        Assert.Equal([venvLib, userLib, pyenvLib, systemLib], found.Select(c => c.Directory));
        Assert.False(found[0].IsCuda);
        Assert.Equal(userLib, LibtorchDiscovery.Choose(found)!.Directory);
    }

    [Fact]
    public void Finds_a_libtorch_cuda_package_in_the_nuget_cache_and_explains_a_split_one()
    {
        var packages = Path.Combine(root, "nuget");
        var whole = Path.Combine(packages, "libtorch-cuda-12.8-linux-x64", "2.10.0.1", "runtimes", "linux-x64", "native");
        Touch(whole, "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so");
        var split = Path.Combine(packages, "libtorch-cuda-12.6-linux-x64", "2.10.0.1", "runtimes", "linux-x64", "native");
        Touch(split, "libtorch_cpu.so", "libtorch_cuda.so.fragment1", "libtorch_cuda.so.fragment2");
        var found = LibtorchDiscovery.Find(Env(("NUGET_PACKAGES", packages)));
        Assert.Equal([whole, split], found.Select(c => c.Directory));
        Assert.Equal(("NuGet package libtorch-cuda-12.8-linux-x64 2.10.0.1", "2.10.0.1", true), (found[0].Source, found[0].Version, found[0].Usable));
        Assert.Contains("split into parts", found[1].Problem);
        Assert.Same(found[0], LibtorchDiscovery.Choose(found));

        // Without NUGET_PACKAGES: ~/.nuget/packages.
        Directory.CreateDirectory(Path.Combine(Home, ".nuget"));
        Directory.Move(packages, Path.Combine(Home, ".nuget", "packages"));
        Assert.Equal(2, LibtorchDiscovery.Find(Env()).Count);
    }

    [Fact]
    public void RAFT_LIBTORCH_is_never_second_guessed()
    {
        var venv = Path.Combine(root, "venv");
        PyTorch(venv, "2.10.0+cu128");
        var mine = Path.Combine(root, "libtorch");
        Touch(Path.Combine(mine, "lib"), "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so");
        File.WriteAllText(Path.Combine(mine, "build-version"), "2.10.0+cu128\n");

        var named = LibtorchDiscovery.Find(Env((LibtorchDiscovery.Variable, mine), ("VIRTUAL_ENV", venv)));
        var chosen = LibtorchDiscovery.Choose(named)!;
        Assert.Equal((Path.Combine(mine, "lib"), $"RAFT_LIBTORCH={mine}", "2.10.0+cu128"), (chosen.Directory, chosen.Source, chosen.Version));

        // cpu: the packaged build, even with a usable CUDA build about.
        Assert.Null(LibtorchDiscovery.Choose(LibtorchDiscovery.Find(Env((LibtorchDiscovery.Variable, "cpu"), ("VIRTUAL_ENV", venv)))));

        // A folder that is not libtorch: said so, and nothing else is taken instead.
        var wrong = LibtorchDiscovery.Find(Env((LibtorchDiscovery.Variable, Path.Combine(root, "nothing")), ("VIRTUAL_ENV", venv)));
        Assert.StartsWith($"no libtorch_cpu.so in {Path.Combine(root, "nothing")}", wrong[0].Problem);
        Assert.Null(LibtorchDiscovery.Choose(wrong));
    }

    [Fact]
    public void A_cuda_build_already_on_LD_LIBRARY_PATH_is_reported_and_left_to_the_loader()
    {
        // What the project's GPU runner does (shared/gpu/run.sh puts PyTorch's torch/lib first on LD_LIBRARY_PATH).
        var lib = PyTorch(Path.Combine(root, "py"), "2.10.0+cu128");
        var env = Env(("LD_LIBRARY_PATH", $"{lib}:/nowhere"));
        var binding = LibtorchDiscovery.BindCudaBuild(env)!;
        Assert.Equal((lib, "LD_LIBRARY_PATH", false), (binding.Candidate.Directory, binding.Candidate.Source, binding.Preloaded));
    }

    [Fact]
    public void A_chosen_build_that_does_not_load_fails_with_the_loaders_message_and_the_way_out()
    {
        var venv = Path.Combine(root, "venv");
        var lib = PyTorch(venv, "2.10.0+cu128"); // empty files: not loadable
        var e = Assert.Throws<InvalidOperationException>(() => LibtorchDiscovery.BindCudaBuild(Env(("VIRTUAL_ENV", venv))));
        Assert.Contains($"the CUDA build of libtorch found at {lib}", e.Message);
        Assert.Contains("does not load", e.Message);
        Assert.Contains("libtorch_cuda.so", e.Message);
        Assert.Contains("RAFT_LIBTORCH", e.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }
}
