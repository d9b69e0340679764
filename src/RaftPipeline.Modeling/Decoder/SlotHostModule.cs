using RaftPipeline.Modeling.Layers;
using RaftPipeline.Modeling.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// A module whose projections are <see cref="LinearSlot"/> fields that can be swapped after construction
/// (plain → NF4 → LoRA-wrapped). Swapping updates both the field and TorchSharp's registered-submodule table in
/// place (same position), so named_parameters(), to() and state_dict() see the new slot.
/// </summary>
public abstract class SlotHostModule : nn.Module
{
    protected SlotHostModule(string name) : base(name) { }

    /// <summary>The slot names this module holds (e.g. q_proj, k_proj, v_proj, o_proj).</summary>
    public abstract IReadOnlyList<string> SlotNames { get; }

    public abstract LinearSlot GetSlot(string name);

    /// <summary>Replaces slot <paramref name="name"/>; returns the slot it replaced (not disposed: the caller decides).</summary>
    public LinearSlot ReplaceSlot(string name, LinearSlot slot)
    {
        var old = GetSlot(name);
        if (slot.InFeatures != old.InFeatures || slot.OutFeatures != old.OutFeatures)
            throw new ArgumentException(
                $"slot '{name}' is [{old.OutFeatures} × {old.InFeatures}] (out × in); the replacement is [{slot.OutFeatures} × {slot.InFeatures}]");
        SetSlotField(name, slot);
        // Re-register every child in its original order; register_module also runs the new slot's
        // RegisterComponents, so its own parameters are visible whether or not its constructor did that.
        var children = named_children().ToList();
        _internal_submodules.Clear();
        foreach (var (childName, child) in children)
            register_module(childName, childName == name ? slot : child);
        return old;
    }

    protected abstract void SetSlotField(string name, LinearSlot slot);

    /// <summary>The slots that read the block's input (q/k/v, gate/up), in order.</summary>
    public abstract IReadOnlyList<string> InputSlotNames { get; }

    /// <summary>The slot that reads the block's inner activation (o_proj, down_proj).</summary>
    public abstract string OutputSlotName { get; }

    /// <summary>LoRA compute copies for (some of) the input slots while training, or null (see <see cref="LoraComputeWeights"/>).</summary>
    public LoraProjectionGroup? InputLora { get; set; }

    /// <summary>LoRA compute copies for the output slot while training, or null.</summary>
    public LoraProjectionGroup? OutputLora { get; set; }

    /// <summary>The outputs of <paramref name="slots"/> for one input: the grouped members through the group, others on their own.</summary>
    protected static Tensor[] Project(LinearSlot[] slots, LoraProjectionGroup? group, Tensor x)
    {
        var outputs = new Tensor[slots.Length];
        if (group is not null && group.Accepts(x))
        {
            var grouped = group.Forward(x);
            for (int m = 0; m < grouped.Length; m++) outputs[Array.IndexOf(slots, group.Members[m])] = grouped[m];
        }
        for (int i = 0; i < slots.Length; i++) outputs[i] ??= slots[i].forward(x);
        return outputs;
    }

    protected ArgumentException UnknownSlot(string name) =>
        new($"no linear slot named '{name}' here (slots: {string.Join(", ", SlotNames)})");
}
