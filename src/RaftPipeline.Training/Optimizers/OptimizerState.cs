using static TorchSharp.torch;

namespace RaftPipeline.Training.Optimizers;

static class OptimizerState
{
    /// <summary>A saved state tensor by name, checked against the live one's shape and dtype.</summary>
    public static Tensor Require(IReadOnlyDictionary<string, Tensor> state, string name, Tensor like)
    {
        if (!state.TryGetValue(name, out var t))
            throw new InvalidDataException($"optimizer state '{name}' missing from the checkpoint");
        if (!t.shape.SequenceEqual(like.shape) || t.dtype != like.dtype)
            throw new InvalidDataException(
                $"optimizer state '{name}': checkpoint has {t.dtype}[{string.Join(",", t.shape)}], " +
                $"expected {like.dtype}[{string.Join(",", like.shape)}]");
        return t;
    }
}
