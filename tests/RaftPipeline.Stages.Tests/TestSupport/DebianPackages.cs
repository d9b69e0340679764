using System.Diagnostics;

namespace RaftPipeline.Stages.Tests.TestSupport;

/// <summary>
/// Installs a Debian package a test needs when it is missing, so that the README's test command passes on a bare
/// Debian 12 / Ubuntu machine with nothing but the .NET SDK: as root, or through password-less sudo, with apt-get.
/// Where neither is possible (or there is no apt-get) the test fails with the command to run; it never skips.
/// One install at a time on the machine (test projects run in parallel processes), the package list refreshed once.
/// </summary>
public static class DebianPackages
{
    static readonly Lock Gate = new();
    static bool _updated;

    /// <summary>Makes <paramref name="isPresent"/> true by installing <paramref name="package"/> if needed.</summary>
    /// <param name="why">What needs it, for the failure message.</param>
    public static void Ensure(string package, Func<bool> isPresent, string why)
    {
        if (isPresent()) return;
        lock (Gate)
        {
            using var machineWide = MachineLock();
            if (isPresent()) return;
            string manual = $"{why} needs the Debian package '{package}', which is not installed";
            if (!OnPath("apt-get"))
                throw new InvalidOperationException($"{manual}, and this system has no apt-get: install its equivalent");
            bool root = geteuid() == 0;
            string? sudo = !root && OnPath("sudo") && Run("sudo", ["-n", "true"], TimeSpan.FromSeconds(10)).Exit == 0 ? "sudo" : null;
            if (!root && sudo is null)
                throw new InvalidOperationException($"{manual}, and this user can install nothing (not root, no password-less sudo): run `sudo apt-get install -y {package}`");
            if (!_updated)
            {
                Install(sudo, ["update", "-qq"], package);
                _updated = true;
            }
            Install(sudo, ["install", "-y", "-qq", "--no-install-recommends", package], package);
            if (!isPresent())
                throw new InvalidOperationException($"{manual}; apt-get installed it, but it is still not usable");
        }
    }

    static void Install(string? sudo, string[] aptArguments, string package)
    {
        // The dpkg lock may be held by another installer: wait for it rather than fail.
        string[] args = ["-o", "DPkg::Lock::Timeout=600", .. aptArguments];
        var (exit, output) = sudo is null
            ? Run("apt-get", args, TimeSpan.FromMinutes(15))
            : Run(sudo, ["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", .. args], TimeSpan.FromMinutes(15));
        if (exit != 0)
            throw new InvalidOperationException($"apt-get {string.Join(' ', aptArguments)} (for '{package}') failed with exit code {exit}:\n{output}");
    }

    static (int Exit, string Output) Run(string file, string[] args, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Any(dir => File.Exists(Path.Combine(dir, name)));

    /// <summary>An exclusive lock file shared by every test process of the machine.</summary>
    static FileStream MachineLock()
    {
        var path = Path.Combine(Path.GetTempPath(), "raftpipeline-tests-apt.lock");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(20);
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(500); }
        }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern uint geteuid();
}
