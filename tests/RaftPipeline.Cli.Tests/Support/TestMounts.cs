using System.Diagnostics;

namespace RaftPipeline.Cli.Tests.Support;

/// <summary>
/// Real file-system failures for the storage tests: a folder made read-only, a tiny file system that fills up.
/// As root (CI runs as root) permissions do not stop writes, so both are mounts (a read-only bind mount, a tmpfs);
/// otherwise a read-only folder is a chmod, and a small disk cannot be made: the test fails saying so (never skips).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TestMounts : IDisposable
{
    readonly List<string> _mounted = [];
    readonly List<string> _chmodded = [];

    public static bool IsRoot => Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root";

    /// <summary>Makes <paramref name="folder"/> (and what is under it) unwritable until disposed.</summary>
    public void MakeReadOnly(string folder)
    {
        if (IsRoot)
        {
            Run("mount", "--bind", folder, folder);
            _mounted.Add(folder);
            Run("mount", "-o", "remount,ro,bind", folder);
            return;
        }
        foreach (var dir in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories).Prepend(folder))
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            _chmodded.Add(dir);
        }
    }

    /// <summary>Mounts a tmpfs of <paramref name="kilobytes"/> KB on <paramref name="folder"/> (created), with <paramref name="freeKilobytes"/> left free.</summary>
    public void SmallDisk(string folder, int kilobytes, int freeKilobytes)
    {
        if (!IsRoot)
            throw new InvalidOperationException("this test needs root to mount a small tmpfs (CI runs as root); run it as root");
        Directory.CreateDirectory(folder);
        Run("mount", "-t", "tmpfs", "-o", $"size={kilobytes}k", "tmpfs", folder);
        _mounted.Add(folder);
        using var fill = new FileStream(Path.Combine(folder, "fill"), FileMode.Create);
        fill.Write(new byte[(kilobytes - freeKilobytes) * 1024]);
    }

    static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {error}");
    }

    public void Dispose()
    {
        foreach (var folder in Enumerable.Reverse(_mounted))
            try { Run("umount", "-l", folder); }
            catch (InvalidOperationException) { /* already gone */ }
        foreach (var dir in _chmodded)
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
