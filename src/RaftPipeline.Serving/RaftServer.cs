using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RaftPipeline.Serving.Endpoints;

namespace RaftPipeline.Serving;

/// <summary>
/// The OpenAI-compatible server over <see cref="ServedModels"/>: Kestrel on <see cref="ServeOptions.Host"/>:<see
/// cref="ServeOptions.Port"/>, the routes of <see cref="OpenAiEndpoints"/>. Stopping (SIGTERM or Ctrl-C through the
/// host's console lifetime, or <see cref="StopAsync"/>) drains: no new connection is taken and running requests finish,
/// up to <see cref="ServeOptions.ShutdownTimeout"/>; the engines' queues drain when the models are disposed.
/// </summary>
public sealed class RaftServer : IAsyncDisposable
{
    readonly WebApplication _app;

    RaftServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The bound address (with the real port when <see cref="ServeOptions.Port"/> was 0).</summary>
    public Uri Address { get; }

    /// <summary>Builds and starts the server. <paramref name="log"/> gets one line per request (method, path, status, time).</summary>
    public static async Task<RaftServer> StartAsync(ServeOptions options, ServedModels models, TextWriter? log = null, CancellationToken cancellation = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls($"http://{options.Host}:{options.Port}");
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        var app = builder.Build();
        if (log is not null) app.Use(async (HttpContext http, RequestDelegate next) =>
        {
            var clock = Stopwatch.StartNew();
            await next(http);
            string outcome = http.RequestAborted.IsCancellationRequested ? "client gone" : http.Response.StatusCode.ToString();
            lock (log) log.WriteLine($"{http.Request.Method} {http.Request.Path} {outcome} {clock.ElapsedMilliseconds} ms");
        });
        OpenAiEndpoints.Map(app, models, options);
        await app.StartAsync(cancellation);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RaftServer(app, new Uri(bound));
    }

    /// <summary>Completes when the host stops (SIGTERM, Ctrl-C, <see cref="StopAsync"/>) and the running requests have drained.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellation = default) => _app.WaitForShutdownAsync(cancellation);

    /// <summary>Stops taking requests and waits for the running ones (up to the shutdown timeout).</summary>
    public Task StopAsync(CancellationToken cancellation = default) => _app.StopAsync(cancellation);

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
