using RaftPipeline.Modeling.Layers;
using RaftPipeline.Modeling.Native.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Quantization;

/// <summary>
/// A frozen NF4 linear (bitsandbytes' Linear4bit): the weight is stored packed with its statistics and dequantized
/// to the compute dtype on every forward; the input is cast to the compute dtype and the output back to the input's
/// dtype, as Linear4bit.forward does. Its buffers are registered under the exact state-dict names bitsandbytes uses
/// ("weight", "weight.absmax", ...; see <see cref="Nf4StateDict"/>), so the module's state dict IS the bnb layout.
/// </summary>
public sealed class Nf4Linear : LinearSlot
{
    readonly long[] _shape;
    readonly string _dtypeName;
    readonly bool _nested;
    readonly float _nestedOffset;
    readonly int _nestedBlockSize;
    readonly TorchSharp.Modules.Parameter? bias;

    public ScalarType ComputeDType { get; set; }

    /// <summary>Wraps <paramref name="weight"/>; the module owns its tensors from then on.</summary>
    public Nf4Linear(Nf4Tensor weight, Tensor? bias = null, ScalarType computeDType = ScalarType.BFloat16, string name = "Nf4Linear")
        : base(name)
    {
        if (weight.Shape.Length != 2) throw new ArgumentException($"an NF4 linear needs a 2-D weight, got shape [{string.Join(", ", weight.Shape)}]");
        _shape = weight.Shape;
        _dtypeName = weight.DType;
        _nested = weight.Nested;
        _nestedOffset = weight.NestedOffset;
        _nestedBlockSize = weight.NestedBlockSize;
        ComputeDType = computeDType;
        foreach (var (key, value) in Nf4StateDict.ToEntries(weight, "weight"))
            register_buffer(key, value.DetachFromDisposeScope());
        if (bias is not null)
        {
            this.bias = new TorchSharp.Modules.Parameter(bias.detach().clone(), requires_grad: false);
            register_parameter("bias", this.bias);
        }
    }

    /// <summary>
    /// A second module over this one's packed weight and statistics (views of the same storage, not copies), for a
    /// model that shares its base weights (<see cref="Loading.ModelFolderLoader.ShareWeights"/>).
    /// </summary>
    public Nf4Linear ShareStorage()
    {
        using var noGrad = torch.no_grad();
        var w = Weight;
        var shared = new Nf4Tensor
        {
            Packed = w.Packed.detach(), Absmax = w.Absmax.detach(), QuantMap = w.QuantMap.detach(),
            NestedAbsmax = w.NestedAbsmax?.detach(), NestedQuantMap = w.NestedQuantMap?.detach(),
            NestedOffset = w.NestedOffset, NestedBlockSize = w.NestedBlockSize, Shape = w.Shape, DType = w.DType, BlockSize = w.BlockSize,
        };
        return new Nf4Linear(shared, bias, ComputeDType);
    }

    /// <summary>Quantizes a dense [out, in] weight.</summary>
    public static Nf4Linear FromDense(Tensor weight, Tensor? bias = null, ScalarType computeDType = ScalarType.BFloat16, bool doubleQuant = true)
    {
        // The module takes ownership of the quantized tensors: no using here.
        return new Nf4Linear(Nf4Quantizer.Quantize(weight, doubleQuant), bias, computeDType);
    }

    public override long InFeatures => _shape[1];
    public override long OutFeatures => _shape[0];

    /// <summary>A view of the stored weight (tensors owned by this module: do not dispose).</summary>
    public Nf4Tensor Weight => new()
    {
        Packed = get_buffer("weight")!,
        Absmax = get_buffer("weight.absmax")!,
        QuantMap = get_buffer("weight.quant_map")!,
        NestedAbsmax = _nested ? get_buffer("weight.nested_absmax") : null,
        NestedQuantMap = _nested ? get_buffer("weight.nested_quant_map") : null,
        NestedOffset = _nestedOffset,
        NestedBlockSize = _nestedBlockSize,
        Shape = _shape,
        DType = _dtypeName,
    };

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var inputType = input.dtype;
        var x = input.to(ComputeDType);
        Tensor y;
        if (x.device_type == DeviceType.CUDA)
        {
            // The dense weight lives only inside forward and backward (see Nf4MatmulFunction), dequantized by one
            // kernel when the fused kernels are there.
            Func<Tensor> dequantize = DenseForCompute;
            var b = bias?.to(ComputeDType);
            y = is_grad_enabled() && x.requires_grad
                ? (b is null ? Nf4MatmulFunction.apply(x, dequantize) : Nf4MatmulFunction.apply(x, dequantize, b))
                : DenseLinear(x, b);
        }
        else
        {
            var w = Nf4Quantizer.Dequantize(Weight, ComputeDType);
            y = nn.functional.linear(x, w, bias?.to(ComputeDType));
        }
        return y.to(inputType).MoveToOuterDisposeScope();
    }

    Tensor DenseLinear(Tensor x, Tensor? b)
    {
        using var scope = NewDisposeScope();
        var w = DenseForCompute();
        return nn.functional.linear(x, w, b).MoveToOuterDisposeScope();
    }

    public bool HasBias => bias is not null;

    /// <summary>
    /// Writes the bf16 weight into <paramref name="destination"/> (contiguous rows of a wider buffer: a LoRA group's
    /// stacked base weight); false when the fused kernels do not apply (CPU, another compute dtype).
    /// </summary>
    public bool TryDequantizeInto(Tensor destination)
    {
        if (ComputeDType != ScalarType.BFloat16 || FusedKernels.For(get_buffer("weight")!.device) is not { } kernels) return false;
        kernels.Nf4DequantizeBf16(Weight, destination);
        return true;
    }

    /// <summary>The weight in the compute dtype: one fused kernel for bf16 on CUDA, else the libtorch ops.</summary>
    Tensor DenseForCompute() =>
        ComputeDType == ScalarType.BFloat16 && FusedKernels.For(get_buffer("weight")!.device) is { } kernels
            ? kernels.Nf4DequantizeBf16(Weight)
            : Nf4Quantizer.Dequantize(Weight, ComputeDType);

    public override Tensor DenseWeight(ScalarType dtype) => Nf4Quantizer.Dequantize(Weight, dtype);

    /// <summary>
    /// Moving the module moves the stored codes and statistics; converting its dtype never touches them (they are
    /// uint8 codes and fp32 statistics by format, and the compute dtype is a setting), unlike plain buffers.
    /// </summary>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        if (device is null) return;
        base._toEpilog(null, device, non_blocking);
    }
}
