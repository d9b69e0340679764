using System.Text.Json.Nodes;

/// <summary>
/// The checks' one record: each check printed as a PASS/FAIL (or SKIP) line and kept for the JSON file the device
/// call brings back; <see cref="AllPassed"/> decides the exit code.
/// </summary>
sealed class CheckLog
{
    readonly JsonArray _results = [];

    public bool AllPassed { get; private set; } = true;

    /// <summary>A measured value against its tolerance (NaN fails).</summary>
    public void Check(string name, double measured, double tolerance, string what)
    {
        bool ok = measured <= tolerance && !double.IsNaN(measured);
        AllPassed &= ok;
        Console.WriteLine($"{(ok ? "PASS" : "FAIL")} {name}: {what} = {measured:G4} (tolerance {tolerance:G3})");
        _results.Add(new JsonObject { ["check"] = name, ["passed"] = ok, ["measured"] = measured, ["tolerance"] = tolerance, ["what"] = what });
    }

    /// <summary>A check with no number: PASS, FAIL or SKIP and what was seen.</summary>
    public void Report(string name, string status, string detail)
    {
        if (status == "FAIL") AllPassed = false;
        Console.WriteLine($"{status} {name}: {detail}");
        _results.Add(new JsonObject { ["check"] = name, ["passed"] = status == "PASS", ["status"] = status, ["what"] = detail });
    }

    public void Write(string? path)
    {
        if (path is not null) File.WriteAllText(path, _results.ToJsonString(new() { WriteIndented = true }) + "\n");
    }
}
