using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Loading;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Export.Tests.Support;

/// <summary>The repository's own decoder and generation (RaftPipeline.Modeling, fp32 on the CPU) on a model folder.</summary>
public static class Ours
{
    public static List<int> Greedy(string folder, IReadOnlyList<int> prompt, int newTokens)
    {
        using var model = PretrainedLoader.Load(folder);
        var result = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = newTokens, DoSample = false });
        return [.. result[0].NewIds];
    }

    /// <summary>Logits [position][vocab] for every position of one unpadded sequence.</summary>
    public static float[][] Logits(string folder, IReadOnlyList<int> ids)
    {
        using var model = PretrainedLoader.Load(folder);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var input = torch.tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Count]);
        var logits = model.forward(input)[0].to(ScalarType.Float32).contiguous();
        var flat = logits.data<float>().ToArray();
        int v = (int)logits.shape[1];
        return Enumerable.Range(0, ids.Count).Select(t => flat.AsSpan(t * v, v).ToArray()).ToArray();
    }
}
