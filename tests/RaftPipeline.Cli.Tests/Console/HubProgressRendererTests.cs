using RaftPipeline.Cli.Console;
using RaftPipeline.Hub.Download;

namespace RaftPipeline.Cli.Tests.Console;

public sealed class HubProgressRendererTests
{
    [Fact]
    public void On_a_terminal_a_bar_is_redrawn_in_place_and_ends_its_line_when_the_file_is_done()
    {
        var error = new StringWriter();
        var renderer = new HubProgressRenderer(error, interactive: true);
        renderer.Transfer(new HubTransfer("org/name", "model.safetensors", 0, 4 << 20, false));
        renderer.Transfer(new HubTransfer("org/name", "model.safetensors", 1 << 20, 4 << 20, false));
        renderer.Transfer(new HubTransfer("org/name", "model.safetensors", 4 << 20, 4 << 20, true));
        var frames = error.ToString().Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, frames.Length);
        Assert.StartsWith("org/name  model.safetensors  [......................" , frames[0]);
        Assert.Contains("[######..................]   25%  1.0 MiB / 4.0 MiB", frames[1]);
        Assert.Contains("[########################]  100%  4.0 MiB / 4.0 MiB", frames[2]);
        Assert.EndsWith(Environment.NewLine, frames[2]);
    }

    [Fact]
    public void In_a_log_each_finished_file_is_one_line()
    {
        var error = new StringWriter();
        var renderer = new HubProgressRenderer(error, interactive: false);
        renderer.Note("org/name: commit 0123456789ab, 1 of 1 files to fetch");
        renderer.Transfer(new HubTransfer("org/name", "config.json", 10, 700, false));
        renderer.Transfer(new HubTransfer("org/name", "config.json", 700, 700, true));
        Assert.Equal($"org/name: commit 0123456789ab, 1 of 1 files to fetch{Environment.NewLine}org/name: downloaded config.json (700 B){Environment.NewLine}", error.ToString());
    }
}
