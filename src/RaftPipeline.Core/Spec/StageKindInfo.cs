namespace RaftPipeline.Core.Spec;

/// <summary>A stage kind: its YAML name, its typed parameter record, its input slots and what it does.</summary>
public sealed record StageKindInfo(string Name, Type ParametersType, IReadOnlyList<InputSlot> Slots, string Description)
{
    public InputSlot? Slot(string name) => Slots.FirstOrDefault(s => s.Name == name);
}
