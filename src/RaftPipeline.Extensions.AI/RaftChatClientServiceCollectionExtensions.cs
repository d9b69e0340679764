using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace RaftPipeline.Extensions.AI;

/// <summary><c>services.AddRaftChatClient(...)</c>: an <see cref="IChatClient"/> singleton over a model folder, loaded on first use.</summary>
public static class RaftChatClientServiceCollectionExtensions
{
    public static IServiceCollection AddRaftChatClient(this IServiceCollection services, Action<RaftChatClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddSingleton(_ =>
        {
            var options = new RaftChatClientOptions();
            configure(options);
            return new RaftChatClient(options);
        });
        services.AddSingleton<IChatClient>(sp => sp.GetRequiredService<RaftChatClient>());
        return services;
    }

    public static IServiceCollection AddRaftChatClient(this IServiceCollection services, string modelDirectory, string? adapterDirectory = null) =>
        services.AddRaftChatClient(o =>
        {
            o.ModelDirectory = modelDirectory;
            o.AdapterDirectory = adapterDirectory;
        });
}
