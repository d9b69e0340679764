using System.Diagnostics;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using RaftPipeline.Modeling.Native;

namespace RaftPipeline.Cli.Tests.Startup;

/// <summary>
/// The libtorch fix-up runs before TorchSharp's first load in every process, whatever touches <c>torch</c> first.
/// TorchSharp loads its native library in the static constructor of <c>torch</c>; when that happened before the
/// fix-up (the train stage's first torch call, <c>torch.CPU</c>, when the stages before it were cached), the load
/// failed for the whole process and the installed library stayed unpatched.
/// </summary>
public sealed class NativeSetupTests
{
    /// <summary>Assemblies known to use TorchSharp; others that do (new projects) are checked as well.</summary>
    static readonly string[] KnownTorchAssemblies =
        ["RaftPipeline.Modeling", "RaftPipeline.Training", "RaftPipeline.Stages", "RaftPipeline.Serving", "raft", "RaftPipeline.Cli.Tests"];

    [Fact]
    public void Every_assembly_that_uses_TorchSharp_prepares_libtorch_in_its_module_initializer()
    {
        var assemblies = Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll")
            .Where(f => Path.GetFileName(f) is var n && (n.StartsWith("RaftPipeline.", StringComparison.Ordinal) || n == "raft.dll"))
            .Select(f => Assembly.LoadFrom(f))
            .Where(a => a.GetReferencedAssemblies().Any(r => r.Name == "TorchSharp"))
            .ToList();
        // The known ones must be among them, so the test cannot pass by finding nothing.
        Assert.Subset(assemblies.Select(a => a.GetName().Name!).ToHashSet(), KnownTorchAssemblies.ToHashSet());
        var prepare = typeof(TorchRuntime).GetMethod(nameof(TorchRuntime.PrepareNativeLibraries))!;
        foreach (var assembly in assemblies)
        {
            var initializers = assembly.GetTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
                .Where(m => m.GetCustomAttribute<ModuleInitializerAttribute>() is not null)
                .ToList();
            Assert.True(initializers.Any(m => Calls(m, prepare)),
                $"{assembly.GetName().Name} uses TorchSharp but no module initializer of it calls TorchRuntime.PrepareNativeLibraries: " +
                "link src/RaftPipeline.Modeling/Native/TorchModuleInitializer.cs into its project");
        }
    }

    [Fact]
    public void This_process_was_prepared_before_any_test_touched_torch() => Assert.True(TorchRuntime.Prepared);

    /// <summary>
    /// The reported failure, end to end: a copy of the tool whose libLibTorchSharp.so is as the package ships it
    /// (unpatched) runs a pipeline whose stages before <c>train</c> are cached, so train's <c>torch.CPU</c> is the
    /// process's first torch call. It trains, and the copy's library is patched afterwards.
    /// </summary>
    [Fact]
    public void A_fresh_copy_of_the_tool_trains_when_every_stage_before_train_is_cached()
    {
        var root = Path.Combine(Path.GetTempPath(), "raft-native-setup", Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var app = CopyTool(Path.Combine(root, "app"));
            var library = Path.Combine(app, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            var spec = WritePipeline(Path.Combine(root, "pipeline"));

            Unpatch(library);
            var first = RunTool(app, "run", spec, "adapter", "formatted");
            Assert.True(first.Exit == 0, first.Output);
            Assert.Contains("succeeded: 4 ran", first.Output);

            Unpatch(library); // as if the tool had just been installed again
            var second = RunTool(app, "run", spec);
            Assert.True(second.Exit == 0, second.Output);
            Assert.Contains("[5/5] train: ran", second.Output);
            Assert.Contains("succeeded: 1 ran, 4 reused", second.Output);
            Assert.True(ElfVersionPatcher.ReadNeeds(File.ReadAllBytes(library)).Single(n => n.Name == "GLIBCXX_3.4.32").IsWeak);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A library that cannot load is reported as what it is, with the fix, not as TorchSharp's advice to
    /// reference packages (which never applies to the tool).</summary>
    [Fact]
    public void A_damaged_native_library_is_reported_with_its_path_and_the_fix()
    {
        var root = Path.Combine(Path.GetTempPath(), "raft-native-setup", Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var app = CopyTool(Path.Combine(root, "app"));
            var library = Path.Combine(app, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            File.WriteAllText(library, "not a library");
            var doctor = RunTool(app, "doctor");
            Assert.Equal(1, doctor.Exit);
            Assert.Contains($"libtorch: does not load: TorchSharp's native library at '{library}' is damaged (not an ELF file); reinstall the tool", doctor.Output);
            Assert.DoesNotContain("Consider referencing", doctor.Output);

            // A run that must ask libtorch about CUDA says so in one message, with no stack trace (seen on the GPU
            // machine before the fix: an unhandled TypeInitializationException from the device check).
            var spec = Path.Combine(root, "pipeline.yaml");
            File.WriteAllText(spec, "name: t\nstages:\n  base:\n    kind: model\n    params: { preset: tiny }\n");
            var run = RunTool(app, "run", spec, "--device", "cuda", "--set", $"cache={Path.Combine(root, "cache")}");
            Assert.NotEqual(0, run.Exit);
            Assert.Contains("device 'cuda' was asked for, but no CUDA device is available", run.Output);
            Assert.DoesNotContain("   at ", run.Output);
            Assert.DoesNotContain("Unhandled exception", run.Output);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    static bool Calls(MethodInfo method, MethodInfo target)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        for (int i = 0; i + 4 < il.Length; i++)
        {
            if (il[i] != OpCodes.Call.Value) continue;
            try
            {
                if (method.Module.ResolveMethod(BitConverter.ToInt32(il, i + 1)) is { } called &&
                    called.DeclaringType == target.DeclaringType && called.Name == target.Name) return true;
            }
            catch (ArgumentException) { } // a byte that only looks like a call opcode
        }
        return false;
    }

    /// <summary>The tool as built beside these tests, in a folder of its own: the entry assembly and TorchSharp's
    /// library copied (the host resolves the entry assembly's real folder), everything else linked.</summary>
    static string CopyTool(string target)
    {
        var source = AppContext.BaseDirectory;
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("raft-", StringComparison.Ordinal)) continue;
            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            if (relative.StartsWith("raft.", StringComparison.Ordinal) || Path.GetFileName(file) == "libLibTorchSharp.so")
                File.Copy(file, destination);
            else
                File.CreateSymbolicLink(destination, file);
        }
        return target;
    }

    static void Unpatch(string library)
    {
        var image = File.ReadAllBytes(library);
        ElfVersionPatcher.SetWeak(image, TorchRuntime.UnusedVersionNeeds, weak: false);
        File.Delete(library);
        File.WriteAllBytes(library, image);
        Assert.False(ElfVersionPatcher.ReadNeeds(File.ReadAllBytes(library)).Single(n => n.Name == "GLIBCXX_3.4.32").IsWeak);
    }

    static string WritePipeline(string folder)
    {
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        File.WriteAllText(Path.Combine(folder, "data", "rows.csv"),
            "context,question,cot\n\"하늘은 파랗다.\",하늘 색은?,\"그것도 몰라? 파랑.\"\n\"바다는 짜다.\",바다 맛은?,\"그것도 몰라? 짜.\"\n");
        var spec = Path.Combine(folder, "pipeline.yaml");
        File.WriteAllText(spec, """
            name: native-setup
            seed: 1
            device: cpu
            stages:
              base:
                kind: model
                params: { preset: tiny }
              data:
                kind: load
                inputs: { files: [data/rows.csv] }
                params: { encoding: utf-8, columns: { context: context, question: question, answer: cot } }
              formatted:
                kind: format
                inputs: { data: data, model: base }
                params: { system_prompt: be rude }
              adapter:
                kind: lora
                inputs: { model: base }
                params: { r: 2, lora_alpha: 4 }
              train:
                kind: train
                inputs: { model: base, adapter: adapter, data: formatted }
                params: { max_steps: 1, batch_size: 2, max_seq_length: 64, logging_steps: 1 }
            """);
        return spec;
    }

    static (int Exit, string Output) RunTool(string app, params string[] args)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(app, "raft.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment[LibtorchDiscovery.Variable] = LibtorchDiscovery.CpuOnly; // the packaged build, whatever this machine has
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"raft {string.Join(' ', args)} did not finish in 3 minutes:\n{stdout}");
        }
        return (process.ExitCode, stdout + stderr.Result);
    }
}
