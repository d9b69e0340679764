using RaftPipeline.Modeling.Native.Cuda;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Optimizers;

/// <summary>
/// AdamW with decoupled weight decay, the same tensor operations in the same order as torch.optim.AdamW's
/// single-tensor path (torch 2.x <c>_single_tensor_adam</c> with decoupled_weight_decay):
/// p ← p·(1 − lr·wd); m ← lerp(m, g, 1 − β1); v ← β2·v + (1 − β2)·g²;
/// p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε). Scalars are computed in double as Python does.
/// States are fp32 (or the parameter's dtype if wider), like torch's <c>zeros_like(p)</c> for fp32 parameters.
/// </summary>
public sealed class AdamW : ITrainingOptimizer
{
    readonly AdamWOptions _o;
    readonly List<(string Name, Tensor Parameter)> _params;
    readonly Tensor[] _expAvg;
    readonly Tensor[] _expAvgSq;

    public AdamW(IEnumerable<(string Name, Tensor Parameter)> parameters, AdamWOptions? options = null)
    {
        _o = options ?? new AdamWOptions();
        _params = parameters.ToList();
        _expAvg = _params.Select(p => zeros_like(p.Parameter).DetachFromDisposeScope()).ToArray();
        _expAvgSq = _params.Select(p => zeros_like(p.Parameter).DetachFromDisposeScope()).ToArray();
    }

    public IReadOnlyList<(string Name, Tensor Parameter)> Parameters => _params;
    public long StepCount { get; private set; }

    public void Step(double lr)
    {
        StepCount++;
        double bc1 = 1 - Math.Pow(_o.Beta1, StepCount);
        double bc2 = 1 - Math.Pow(_o.Beta2, StepCount);
        double stepSize = lr / bc1;
        double bc2Sqrt = Math.Sqrt(bc2);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (TryFusedStep(lr, bc2Sqrt, stepSize)) return;
        for (int i = 0; i < _params.Count; i++)
        {
            var p = _params[i].Parameter;
            var g = p.grad;
            if (g is null || g.IsInvalid) continue; // torch skips parameters without a gradient
            if (_o.WeightDecay != 0) p.mul_(1 - lr * _o.WeightDecay);
            _expAvg[i].lerp_(g, 1 - _o.Beta1);
            _expAvgSq[i].mul_(_o.Beta2).addcmul_(g, g, 1 - _o.Beta2);
            var denom = (_expAvgSq[i].sqrt() / bc2Sqrt).add_(_o.Epsilon);
            p.addcdiv_(_expAvg[i], denom, -stepSize);
        }
    }

    /// <summary>On CUDA with fp32 parameters: the same update for every parameter in one kernel launch.</summary>
    bool TryFusedStep(double lr, double bc2Sqrt, double stepSize)
    {
        using var scope = NewDisposeScope(); // the gradients' wrappers, not their storage
        var quads = new List<Tensor[]>(_params.Count);
        for (int i = 0; i < _params.Count; i++)
        {
            var g = _params[i].Parameter.grad;
            if (g is null || g.IsInvalid) continue;
            quads.Add([_params[i].Parameter, g, _expAvg[i], _expAvgSq[i]]);
        }
        if (quads.Count == 0) return true;
        if (FusedKernels.ForFp32Tensors(quads.SelectMany(q => q).ToList(), "adamw") is not { } kernels) return false;
        kernels.AdamWFp32(quads, 1 - lr * _o.WeightDecay, _o.Beta1, _o.Beta2, bc2Sqrt, _o.Epsilon, stepSize);
        return true;
    }

    public IReadOnlyDictionary<string, Tensor> StateTensors()
    {
        var d = new Dictionary<string, Tensor>();
        for (int i = 0; i < _params.Count; i++)
        {
            d[$"{_params[i].Name}.exp_avg"] = _expAvg[i];
            d[$"{_params[i].Name}.exp_avg_sq"] = _expAvgSq[i];
        }
        return d;
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < _params.Count; i++)
        {
            _expAvg[i].copy_(OptimizerState.Require(state, $"{_params[i].Name}.exp_avg", _expAvg[i]));
            _expAvgSq[i].copy_(OptimizerState.Require(state, $"{_params[i].Name}.exp_avg_sq", _expAvgSq[i]));
        }
        StepCount = stepCount;
    }
}
