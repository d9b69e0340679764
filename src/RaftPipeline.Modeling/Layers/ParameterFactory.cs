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
    public static Parameter Empty(long[] shape, ScalarType dtype, Device device, bool requiresGrad = true)
    {
        var p = new Parameter(torch.empty(shape, dtype, device), requiresGrad);
        return (Parameter)p.DetachFromDisposeScope();
    }
}
