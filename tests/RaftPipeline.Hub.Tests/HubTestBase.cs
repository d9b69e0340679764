using RaftPipeline.Hub.Download;
using RaftPipeline.Hub.TestServer;

namespace RaftPipeline.Hub.Tests;

/// <summary>A local Hub and an empty cache per test class instance.</summary>
public abstract class HubTestBase : IAsyncLifetime
{
    protected LocalHub Server { get; private set; } = null!;
    protected string Root { get; } = Directory.CreateTempSubdirectory("raft-hub-").FullName;
    protected string CacheDir => Path.Combine(Root, "hub");
    protected RecordingProgress Progress { get; } = new();

    public async Task InitializeAsync() => Server = await LocalHub.StartAsync();

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }

    protected HubSettings Settings(string? token = null, bool offline = false) =>
        new() { Endpoint = Server.Endpoint, CacheDirectory = CacheDir, Token = token, Offline = offline };

    protected HubModelResolver Resolver(string? token = null, bool offline = false) => new(Settings(token, offline), Progress);

    protected List<RecordedRequest> TakeRequests()
    {
        var list = new List<RecordedRequest>();
        while (Server.Requests.TryDequeue(out var r)) list.Add(r);
        return list;
    }

    protected sealed class RecordingProgress : IHubProgress
    {
        public List<string> Notes { get; } = [];
        public List<HubTransfer> Transfers { get; } = [];
        public void Note(string message) { lock (Notes) Notes.Add(message); }
        public void Transfer(HubTransfer transfer) { lock (Transfers) Transfers.Add(transfer); }
    }
}
