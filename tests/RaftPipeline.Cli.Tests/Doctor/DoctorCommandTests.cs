using RaftPipeline.Cli.Commands.Doctor;
using RaftPipeline.Modeling.Native;

namespace RaftPipeline.Cli.Tests.Doctor;

/// <summary><c>raft doctor</c> on this CPU-only machine, with a fake set of libtorch builds for discovery to find.</summary>
public sealed class DoctorCommandTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), "raft-doctor-tests", Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public void Reports_the_runtime_the_loaded_libtorch_the_builds_found_and_what_to_do()
    {
        // A PyTorch of the wrong version in a virtualenv: found, listed with the reason, not used.
        var torch = Path.Combine(root, "venv", "lib", "python3.11", "site-packages", "torch");
        Directory.CreateDirectory(Path.Combine(torch, "lib"));
        foreach (var f in new[] { "libtorch_cpu.so", "libtorch_cuda.so" }) File.WriteAllBytes(Path.Combine(torch, "lib", f), []);
        File.WriteAllText(Path.Combine(torch, "version.py"), "__version__ = '2.4.0+cu121'\n");
        var env = new DiscoveryEnvironment(new Dictionary<string, string?> { ["VIRTUAL_ENV"] = Path.Combine(root, "venv"), ["HOME"] = Path.Combine(root, "home") }, []);

        var output = new StringWriter();
        var exit = DoctorCommand.Run(output, env);
        var text = output.ToString().ReplaceLineEndings("\n");

        Assert.Equal(0, exit);
        Assert.Contains($".NET: {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription} (linux-x64)", text);
        // The packaged CPU build, from beside the tool, with the fix-up done.
        Assert.Contains($"libtorch: 2.10.0.0, CPU build, loaded from {Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native")}\n", text);
        Assert.Contains("native fix-up: ", text);
        Assert.Contains($"large CPU tensors: THP_MEM_ALLOC_ENABLE={Environment.GetEnvironmentVariable("THP_MEM_ALLOC_ENABLE") ?? TorchRuntime.HugePageAllocation}, transparent huge pages ", text);
        Assert.Contains(": done (GLIBCXX_3.4.32 need marked weak)", text);
        Assert.Contains($"  {Path.Combine(torch, "lib")}: CUDA 2.4.0+cu121, from PyTorch in {Path.Combine(root, "venv", "lib", "python3.11", "site-packages")}; not usable: libtorch 2.4.0+cu121; this tool needs 2.10.x or 2.11.x\n", text);
        Assert.Contains("CUDA in libtorch: not available\n", text);
        Assert.Contains("NCCL: ", text);
        Assert.Contains("What to do:\n  - ", text);
        Assert.Contains("pip install \"torch==2.10.*\"", text);
    }

    [Fact]
    public void The_verb_is_wired()
    {
        var output = new StringWriter();
        var exit = RaftCli.Invoke(["doctor"], new System.CommandLine.InvocationConfiguration { Output = output, Error = new StringWriter() });
        Assert.Equal(0, exit);
        Assert.Contains("libtorch: 2.10.0.0, ", output.ToString());
    }

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }
}
