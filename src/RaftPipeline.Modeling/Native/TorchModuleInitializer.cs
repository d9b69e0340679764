using System.Runtime.CompilerServices;

namespace RaftPipeline.Modeling.Native;

/// <summary>
/// Runs <see cref="TorchRuntime.PrepareNativeLibraries"/> when this assembly is first used, before any of its code can
/// touch <c>TorchSharp.torch</c> (whose static constructor loads libtorch, once, for good or ill). This one file is
/// compiled into every assembly that uses TorchSharp (a linked Compile item in each project file); a test checks that
/// none is missing (tests/RaftPipeline.Cli.Tests/Startup/NativeSetupTests.cs).
/// </summary>
internal static class TorchModuleInitializer
{
#pragma warning disable CA2255 // a library's module initializer is exactly what is wanted: it must precede any caller's first torch call
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void PrepareLibtorch() => TorchRuntime.PrepareNativeLibraries();
}
