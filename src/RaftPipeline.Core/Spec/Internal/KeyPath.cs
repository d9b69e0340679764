namespace RaftPipeline.Core.Spec.Internal;

/// <summary>Dotted key paths as errors print them: <c>stages.train.params.learning_rate</c>, <c>prompts[0].name</c>.</summary>
static class KeyPath
{
    public static string Child(string parent, string key) => parent.Length == 0 ? key : $"{parent}.{key}";

    public static string Item(string parent, int index) => $"{parent}[{index}]";
}
