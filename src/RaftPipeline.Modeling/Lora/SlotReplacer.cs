using System.Reflection;
using RaftPipeline.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Lora;

/// <summary>
/// Swaps the <see cref="LinearSlot"/> a module holds under a name (its field, as TorchSharp registers it) for
/// another one: the field is rewritten and the child re-registered, so forward, parameters() and state_dict all see
/// the new slot. This is how adapters and quantized layers go into a model built with plain slots.
/// </summary>
public static class SlotReplacer
{
    public static void Replace(nn.Module parent, string name, LinearSlot replacement)
    {
        // The decoder's hosts know their slots and keep the child order (so state_dict order is stable).
        if (parent is RaftPipeline.Modeling.Decoder.SlotHostModule host)
        {
            host.ReplaceSlot(name, replacement);
            return;
        }
        var field = FindField(parent.GetType(), name)
            ?? throw new InvalidOperationException($"{parent.GetType().Name} has no field '{name}' holding a linear slot");
        if (!typeof(LinearSlot).IsAssignableFrom(field.FieldType) && field.FieldType != typeof(nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>))
            throw new InvalidOperationException($"{parent.GetType().Name}.{name} is a {field.FieldType.Name}, not a LinearSlot field");
        field.SetValue(parent, replacement);
        parent.register_module(name, null!);   // TorchSharp: a null module unregisters the name
        parent.register_module(name, replacement);
    }

    static FieldInfo? FindField(Type? type, string name)
    {
        for (; type is not null && type != typeof(object); type = type.BaseType)
        {
            var f = type.GetField(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
            if (f is not null) return f;
        }
        return null;
    }
}
