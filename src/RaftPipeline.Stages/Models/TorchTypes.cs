using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Spec.Stages;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Models;

/// <summary>The spec's device and dtype names as TorchSharp values.</summary>
public static class TorchTypes
{
    public static ScalarType ToScalarType(this TensorDtype dtype) => dtype switch
    {
        TensorDtype.Bf16 => ScalarType.BFloat16,
        TensorDtype.Fp16 => ScalarType.Float16,
        TensorDtype.Fp32 => ScalarType.Float32,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown tensor dtype"),
    };

    /// <summary>The torch device of a resolved <see cref="DeviceKind"/> (the engine never passes <c>auto</c> to a stage).</summary>
    public static Device ToTorchDevice(this DeviceKind device) => device switch
    {
        DeviceKind.Cpu => torch.CPU,
        DeviceKind.Cuda => torch.CUDA,
        _ => throw new ArgumentException($"device '{device}' must be resolved to cpu or cuda before a stage runs", nameof(device)),
    };

    public static DeviceType ToDeviceType(this DeviceKind device) => device.ToTorchDevice().type;
}
