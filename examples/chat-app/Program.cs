// Chats on stdin with a model folder through Microsoft.Extensions.AI's IChatClient, registered with AddRaftChatClient.
//
//   dotnet run --project examples/chat-app -- MODEL_DIR [--adapter ADAPTER_DIR] [--system TEXT]
//
// MODEL_DIR is, for example, the merged folder of pipelines/quickstart.yaml (its `merged` stage's artifact, named in
// the run folder's raft.lock.json). Each line is one user message; the answer streams as it is generated, and its
// finish reason and token usage follow.
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using RaftPipeline.Extensions.AI;

if (args.Length == 0 || args[0].StartsWith('-'))
{
    Console.Error.WriteLine("usage: chat-app MODEL_DIR [--adapter ADAPTER_DIR] [--system TEXT]");
    return 2;
}
string model = args[0];
string? adapter = Option("--adapter");
// The quickstart's system prompt (pipelines/quickstart.yaml, vars.system_prompt): the tuned model answers in its style.
string system = Option("--system") ?? "너는 무례하지만 정확한 RAG 봇이야. 주어진 Context 안에서만 답을 찾고, 근거 문장을 '여기'라며 그대로 인용해. Context에 답이 없으면 '내가 그딴 걸 어떻게 알아?'라고만 답해.";

var services = new ServiceCollection();
services.AddRaftChatClient(options =>
{
    options.ModelDirectory = model;
    options.AdapterDirectory = adapter;
    options.Device = "auto";
});
using var provider = services.BuildServiceProvider();

IChatClient chat;
try
{
    chat = provider.GetRequiredService<IChatClient>();
}
catch (RaftChatClientException e)
{
    Console.Error.WriteLine($"chat-app: {e.Reason}: {e.Message}");
    return 2;
}

List<ChatMessage> history = [new(ChatRole.System, system)];
var settings = new ChatOptions { MaxOutputTokens = 128, Temperature = 0 };
while (Console.ReadLine() is { } line)
{
    if (line.Trim() is "" or "/exit") break;
    history.Add(new ChatMessage(ChatRole.User, line));
    var updates = new List<ChatResponseUpdate>();
    await foreach (var update in chat.GetStreamingResponseAsync(history, settings))
    {
        Console.Write(update.Text);
        updates.Add(update);
    }
    var response = updates.ToChatResponse();
    history.AddMessages(response);
    Console.WriteLine();
    Console.WriteLine($"[{response.FinishReason}; {response.Usage?.InputTokenCount} prompt + {response.Usage?.OutputTokenCount} answer tokens]");
}
return 0;

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
