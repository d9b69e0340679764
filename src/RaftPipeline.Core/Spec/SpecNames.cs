using System.Reflection;
using System.Text;

namespace RaftPipeline.Core.Spec;

/// <summary>
/// How C# names appear in YAML: properties and enum members in snake_case (<c>LearningRate</c> ↔
/// <c>learning_rate</c>) unless <see cref="SpecNameAttribute"/> says otherwise.
/// </summary>
public static class SpecNames
{
    public static string SnakeCase(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (char.IsUpper(c))
            {
                // A word starts at an upper-case letter after a lower-case letter or a digit ("Bf16" stays "bf16").
                if (i > 0 && (char.IsLower(pascal[i - 1]) || char.IsDigit(pascal[i - 1]))) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The YAML key of a record property.</summary>
    public static string Of(PropertyInfo property) =>
        property.GetCustomAttribute<SpecNameAttribute>()?.Name ?? SnakeCase(property.Name);

    /// <summary>The YAML value of an enum member.</summary>
    public static string Of(Enum value)
    {
        var field = value.GetType().GetField(value.ToString(), BindingFlags.Public | BindingFlags.Static)!;
        return field.GetCustomAttribute<SpecNameAttribute>()?.Name ?? SnakeCase(field.Name);
    }

    /// <summary>YAML value → enum member, for every member of <paramref name="enumType"/>, in declaration order.</summary>
    public static IReadOnlyList<(string Name, Enum Value)> EnumMembers(Type enumType) =>
        enumType.GetFields(BindingFlags.Public | BindingFlags.Static)
            .OrderBy(f => f.MetadataToken)
            .Select(f => (f.GetCustomAttribute<SpecNameAttribute>()?.Name ?? SnakeCase(f.Name), (Enum)f.GetValue(null)!))
            .ToList();

    /// <summary>
    /// The settable properties of a parameter record, in declaration order (base record's first), with their YAML keys:
    /// what the binder accepts, the schema lists and the docs describe.
    /// </summary>
    public static IReadOnlyList<(string Key, PropertyInfo Property)> Fields(Type recordType) =>
        recordType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
            .OrderBy(p => Depth(p.DeclaringType!))
            .ThenBy(p => p.MetadataToken)
            .Select(p => (Of(p), p))
            .ToList();

    static int Depth(Type t)
    {
        var depth = 0;
        for (var b = t.BaseType; b is not null; b = b.BaseType) depth++;
        return depth;
    }
}
