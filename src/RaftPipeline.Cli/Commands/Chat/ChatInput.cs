using System.Diagnostics;
using System.Text;

namespace RaftPipeline.Cli.Commands.Chat;

/// <summary>
/// Reads one user message for <c>raft chat</c>. A message is one line, or several: a line holding only
/// <see cref="MultiLineFence"/> starts a multi-line message and the next such line ends it (the lines between are the
/// message, newlines kept); <see cref="EditCommand"/> opens $VISUAL or $EDITOR on an empty file and sends what was saved.
/// </summary>
public static class ChatInput
{
    public const string MultiLineFence = "\"\"\"";
    public const string EditCommand = "/edit";

    /// <summary>The next message, or null at the end of input. <paramref name="editor"/> runs the editor on a file (tests replace it).</summary>
    public static string? ReadMessage(TextReader input, TextWriter output, TextWriter error, bool interactive, Action<string>? editor = null)
    {
        var line = input.ReadLine();
        if (line is null) return null;
        switch (line.Trim())
        {
            case MultiLineFence:
                var text = new StringBuilder();
                while (true)
                {
                    if (interactive)
                    {
                        output.Write(". ");
                        output.Flush();
                    }
                    var next = input.ReadLine();
                    if (next is null || next.Trim() == MultiLineFence) break; // the end of input ends the message too
                    if (text.Length > 0) text.Append('\n');
                    text.Append(next);
                }
                return text.ToString();
            case EditCommand:
                var file = Path.Combine(Path.GetTempPath(), $"raft-chat-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
                try
                {
                    File.WriteAllText(file, "");
                    (editor ?? RunEditor)(file);
                    return File.ReadAllText(file).TrimEnd('\n', '\r');
                }
                catch (Exception e) when (e is InvalidOperationException or IOException)
                {
                    error.WriteLine($"raft chat: {EditCommand}: {e.Message}");
                    return "";
                }
                finally
                {
                    File.Delete(file);
                }
            default:
                return line;
        }
    }

    /// <summary>$VISUAL, else $EDITOR, run through the shell (it may carry arguments, e.g. "code -w") on <paramref name="file"/>.</summary>
    static void RunEditor(string file)
    {
        var editor = new[] { "VISUAL", "EDITOR" }.Select(Environment.GetEnvironmentVariable).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))
            ?? throw new InvalidOperationException($"set VISUAL or EDITOR to your editor, or type {MultiLineFence} on a line to start and end a multi-line message");
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var a in new[] { "-c", $"{editor} \"$1\"", "sh", file }) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {editor}");
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{editor} exited with {process.ExitCode}; nothing was sent");
    }
}
