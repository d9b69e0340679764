using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text;
using RaftPipeline.Core.Spec.Internal;

namespace RaftPipeline.Core.Spec.Schema;

/// <summary>
/// The spec reference as Markdown (every stage kind, its inputs and parameters with types, defaults, ranges and
/// descriptions), generated from the same records as the loader and the JSON Schema, so the docs cannot drift.
/// </summary>
public static class SpecReference
{
    public static string Markdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# Pipeline spec reference").AppendLine();
        md.AppendLine("Generated from the parameter records by `dotnet raft schema --markdown`; do not edit by hand.").AppendLine();
        md.AppendLine("## Top level").AppendLine();
        Table(md, typeof(PipelineHeader), "");
        md.AppendLine("| `vars` | mapping | | Named values; `${vars.NAME}` inside any value is replaced by them. |");
        md.AppendLine("| `export` | mapping | | Stage name → folder (relative to the spec): after the run, `raft run` copies the stage's artifact there, writable (as `--export STAGE=DIR`). Copies artifacts out; unlike a stage of kind `export`, it builds nothing. |");
        md.AppendLine("| `stages` | mapping | | Stage name (`[a-z][a-z0-9_-]*`) → `{ kind, inputs, params }`. |").AppendLine();

        foreach (var kind in StageKindCatalog.Kinds)
        {
            md.AppendLine($"## `{kind.Name}`").AppendLine().AppendLine(kind.Description).AppendLine();
            md.AppendLine("| input | required | takes | description |").AppendLine("|---|---|---|---|");
            foreach (var slot in kind.Slots)
                md.AppendLine($"| `{slot.Name}` | {(slot.Required ? "yes" : "no")} | {(slot.Many ? "one or more: " : "")}{Escape(slot.Expectation)} | {Escape(slot.Description)} |");
            md.AppendLine().AppendLine("| param | type | default | description |").AppendLine("|---|---|---|---|");
            Rows(md, kind.ParametersType, "");
            md.AppendLine();
        }
        return md.ToString();
    }

    static void Table(StringBuilder md, Type type, string prefix)
    {
        md.AppendLine("| key | type | default | description |").AppendLine("|---|---|---|---|");
        Rows(md, type, prefix);
    }

    static void Rows(StringBuilder md, Type type, string prefix)
    {
        var defaults = Activator.CreateInstance(type)!;
        foreach (var (key, property) in SpecNames.Fields(type))
        {
            var fieldType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var isRecord = fieldType.IsClass && fieldType != typeof(string) && ParameterBinder.ListItemType(fieldType) is null;
            var description = property.GetCustomAttribute<DescriptionAttribute>()?.Description ?? "";
            if (property.GetCustomAttribute<RangeAttribute>() is { } range) description += $" Range: {ParameterBinder.RangeText(range)}.";
            if (property.GetCustomAttribute<RequiredAttribute>() is not null) description += " Required.";
            var defaultText = isRecord || property.GetCustomAttribute<RequiredAttribute>() is not null
                ? ""
                : SpecJson.Value(property.GetValue(defaults))?.ToJsonString(new System.Text.Json.JsonSerializerOptions
                    { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? "";
            md.AppendLine($"| `{prefix}{key}` | {ParameterBinder.Expectation(property.PropertyType, property).Replace("|", "\\|")} | {Escape(defaultText)} | {Escape(description)} |");
            if (isRecord && ParameterBinder.ListItemType(fieldType) is null) Rows(md, fieldType, $"{prefix}{key}.");
            else if (ParameterBinder.ListItemType(fieldType) is { IsClass: true } item && item != typeof(string)) Rows(md, item, $"{prefix}{key}[].");
        }
    }

    static string Escape(string text) => text.Replace("|", "\\|").Replace("\n", "\\n");
}
