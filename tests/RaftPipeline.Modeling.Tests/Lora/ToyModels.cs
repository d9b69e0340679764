using RaftPipeline.Modeling.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Lora;

/// <summary>A dense slot for tests that must not depend on the decoder.</summary>
sealed class DenseSlot : LinearSlot
{
    readonly Parameter weight;

    public DenseSlot(long inFeatures, long outFeatures, ulong seed, ScalarType dtype = ScalarType.Float32) : base("DenseSlot")
    {
        weight = new Parameter((torch.randn(new[] { outFeatures, inFeatures }, generator: new torch.Generator(seed)) * 0.1).to(dtype));
        RegisterComponents();
    }

    public override long InFeatures => weight.shape[1];
    public override long OutFeatures => weight.shape[0];
    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight);
    public override Tensor DenseWeight(ScalarType dtype) => weight.detach().to(dtype);
}

/// <summary>A slot with a shape and no weights, to count adapter parameters for big shapes cheaply.</summary>
sealed class ShapeOnlySlot : LinearSlot
{
    public ShapeOnlySlot(long inFeatures, long outFeatures) : base("ShapeOnly") { InFeatures = inFeatures; OutFeatures = outFeatures; }
    public override long InFeatures { get; }
    public override long OutFeatures { get; }
    public override Tensor forward(Tensor input) => throw new NotSupportedException();
    public override Tensor DenseWeight(ScalarType dtype) => throw new NotSupportedException();
}

sealed class ToyAttention : nn.Module<Tensor, Tensor>
{
    LinearSlot q_proj, k_proj, v_proj, o_proj;
    public ToyAttention(Func<long, long, string, LinearSlot> slot, long hidden, long qDim, long kvDim) : base("ToyAttention")
    {
        q_proj = slot(hidden, qDim, "q_proj");
        k_proj = slot(hidden, kvDim, "k_proj");
        v_proj = slot(hidden, kvDim, "v_proj");
        o_proj = slot(qDim, hidden, "o_proj");
        RegisterComponents();
    }
    public override Tensor forward(Tensor x) =>
        o_proj.forward(q_proj.forward(x)) + k_proj.forward(x).sum(-1, keepdim: true) + v_proj.forward(x).sum(-1, keepdim: true);
}

sealed class ToyMlp : nn.Module<Tensor, Tensor>
{
    LinearSlot gate_proj, up_proj, down_proj;
    public ToyMlp(Func<long, long, string, LinearSlot> slot, long hidden, long inter) : base("ToyMlp")
    {
        gate_proj = slot(hidden, inter, "gate_proj");
        up_proj = slot(hidden, inter, "up_proj");
        down_proj = slot(inter, hidden, "down_proj");
        RegisterComponents();
    }
    public override Tensor forward(Tensor x) => down_proj.forward(nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x));
}

sealed class ToyLayer : nn.Module<Tensor, Tensor>
{
    ToyAttention self_attn;
    ToyMlp mlp;
    public ToyLayer(Func<long, long, string, LinearSlot> slot, long hidden, long qDim, long kvDim, long inter) : base("ToyLayer")
    {
        self_attn = new ToyAttention(slot, hidden, qDim, kvDim);
        mlp = new ToyMlp(slot, hidden, inter);
        RegisterComponents();
    }
    public override Tensor forward(Tensor x) { var h = x + self_attn.forward(x); return h + mlp.forward(h); }
}

sealed class ToyInner : nn.Module<Tensor, Tensor>
{
    ModuleList<ToyLayer> layers;
    public ToyInner(IEnumerable<ToyLayer> l) : base("ToyInner") { layers = nn.ModuleList(l.ToArray()); RegisterComponents(); }
    public override Tensor forward(Tensor x) { foreach (var l in layers) x = l.forward(x); return x; }
}

/// <summary>model.layers.N.{self_attn,mlp}.*_proj plus lm_head: the Qwen3 module paths without the rest.</summary>
sealed class ToyCausalLm : nn.Module<Tensor, Tensor>
{
    ToyInner model;
    LinearSlot lm_head;

    public ToyCausalLm(int layers, long hidden, long qDim, long kvDim, long inter, long vocab, Func<long, long, string, LinearSlot> slot) : base("ToyCausalLm")
    {
        model = new ToyInner(Enumerable.Range(0, layers).Select(_ => new ToyLayer(slot, hidden, qDim, kvDim, inter)));
        lm_head = slot(hidden, vocab, "lm_head");
        RegisterComponents();
    }

    public static ToyCausalLm Dense(ulong seed = 1)
    {
        ulong next = seed;
        return new ToyCausalLm(2, 16, 24, 8, 32, 40, (i, o, _) => new DenseSlot(i, o, next++));
    }

    public override Tensor forward(Tensor x) => lm_head.forward(model.forward(x));
}
