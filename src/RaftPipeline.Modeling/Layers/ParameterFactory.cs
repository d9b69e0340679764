using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Layers;

/// <summary>
/// Parameters are created uninitialised (torch.empty) on their final device and dtype: a loaded checkpoint or an
/// explicit initializer fills them, so an 8 GB model is never first built at random in fp32. They are detached
/// from any dispose scope that happens to be open: the module owns them.
/// </summary>
public static class ParameterFactory
{
    [ThreadStatic] static int _placeholderScopes;

    /// <summary>
    /// While the returned scope is open on this thread, parameters are placeholders: their shape, dtype and device over
    /// a single element of storage (every stride 0), for a model whose weights are then made views of another model's
    /// (<see cref="Loading.ModelFolderLoader.ShareWeights"/>), so building it allocates nothing, on CUDA either.
    /// </summary>
    public static IDisposable Placeholders()
    {
        _placeholderScopes++;
        return new PlaceholderScope();
    }

    /// <summary>True inside <see cref="Placeholders"/> on this thread.</summary>
    public static bool MakingPlaceholders => _placeholderScopes > 0;

    public static Parameter Empty(long[] shape, ScalarType dtype, Device device, bool requiresGrad = true)
    {
        var data = MakingPlaceholders ? torch.empty_strided(shape, new long[shape.Length], dtype, device) : torch.empty(shape, dtype, device);
        var p = new Parameter(data, requiresGrad);
        return (Parameter)p.DetachFromDisposeScope();
    }

    sealed class PlaceholderScope : IDisposable
    {
        bool _closed;

        public void Dispose()
        {
            if (_closed) return;
            _closed = true;
            _placeholderScopes--;
        }
    }
}
