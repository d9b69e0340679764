using System.Diagnostics;
using RaftPipeline.Modeling.Chat;
using RaftPipeline.Text.Templates;

namespace RaftPipeline.Extensions.AI.Tests;

/// <summary>examples/chat-app, built with the solution, run as a process on the tiny model: it answers each line with the engine's greedy answer.</summary>
[Collection(TinyCollection.Name)]
public sealed class ExampleAppTests(TinyFolders tiny)
{
    [Fact]
    public async Task The_example_app_chats_on_stdin_and_reports_usage()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "chat-app.dll"), tiny.ModelDir, "--adapter", tiny.AdapterDir, "--system", "짧게." })
            start.ArgumentList.Add(a);
        using var app = Process.Start(start)!;
        await app.StandardInput.WriteLineAsync("안녕?");
        await app.StandardInput.WriteLineAsync("/exit");
        app.StandardInput.Close();
        var output = await app.StandardOutput.ReadToEndAsync();
        var stderr = await app.StandardError.ReadToEndAsync();
        await app.WaitForExitAsync();
        Assert.True(app.ExitCode == 0, stderr);

        var engine = tiny.TunedEngine;
        var ids = engine.RenderChat(ChatConversation.FromMessages([new ChatMessage("system", "짧게."), new ChatMessage("user", "안녕?")])).Ids;
        var expected = engine.Generate(ids, engine.Options(new SamplingSettings { Greedy = true, MaxNewTokens = 128 }));
        Assert.StartsWith(expected.Text + "\n", output);
        Assert.Contains($"{ids.Length} prompt + {expected.CompletionTokens} answer tokens]", output);
    }
}
