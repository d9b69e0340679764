using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace RaftPipeline.Core.Spec.Internal;

/// <summary>
/// Binds YAML nodes to the typed parameter records by reflection: snake_case keys, property initializers as
/// defaults, DataAnnotations attributes as rules. Every problem goes to <see cref="Diagnostics"/>; binding goes
/// on after an error so that one pass reports them all.
/// </summary>
sealed class ParameterBinder(Diagnostics diagnostics)
{
    // NullabilityInfoContext fills an unsynchronized cache: one per thread, since specs load concurrently (the MSBuild
    // check of several items, parallel tests; the spec fuzz test found "An item with the same key has already been added").
    [ThreadStatic] static NullabilityInfoContext? _nullability;
    static NullabilityInfoContext Nullability => _nullability ??= new();

    /// <summary>Binds a mapping (or null: all defaults) to a new record of <paramref name="type"/>; null when any error was found.</summary>
    public object? BindRecord(YamlNode? node, Type type, string keyPath)
    {
        if (node is null || YamlScalars.IsNull(node)) node = new YamlMappingNode();
        return Bind(node, type, keyPath, property: null, out var value) ? value : null;
    }

    bool Bind(YamlNode node, Type type, string key, PropertyInfo? property, out object? value)
    {
        value = null;
        if (diagnostics.IsReported(node)) return false; // e.g. an unknown ${vars.x}: already said
        var underlying = Nullable.GetUnderlyingType(type);
        var nullable = underlying is not null
                       || (property is not null && !type.IsValueType && Nullability.Create(property).WriteState == NullabilityState.Nullable);
        if (YamlScalars.IsNull(node))
        {
            if (nullable) return true;
            return Fail(node, key, $"expected {Expectation(type, property)}, got nothing (null)");
        }
        type = underlying ?? type;

        if (type == typeof(string)) return BindString(node, key, property, out value);
        if (type == typeof(bool)) return BindBool(node, key, out value);
        if (type == typeof(int) || type == typeof(long)) return BindInteger(node, type, key, property, out value);
        if (type == typeof(double)) return BindDouble(node, key, property, out value);
        if (type.IsEnum) return BindEnum(node, type, key, out value);
        if (ListItemType(type) is { } itemType) return BindList(node, itemType, key, property, out value);
        if (type.IsClass && type.GetConstructor(Type.EmptyTypes) is not null) return BindMapping(node, type, key, out value);
        throw new NotSupportedException($"parameter type {type} of {key} is not supported by the spec binder");
    }

    bool BindString(YamlNode node, string key, PropertyInfo? property, out object? value)
    {
        value = null;
        if (node is not YamlScalarNode scalar) return Fail(node, key, $"expected a string, got {YamlScalars.Describe(node)}");
        var text = scalar.Value ?? "";
        if (property?.GetCustomAttribute<MinLengthAttribute>() is { } min && text.Length < min.Length)
            return Fail(node, key, min.Length == 1 ? "expected a non-empty string" : $"expected at least {min.Length} characters");
        if (property?.GetCustomAttribute<RegularExpressionAttribute>() is { } regex && !Regex.IsMatch(text, regex.Pattern))
            return Fail(node, key, $"expected text matching {regex.Pattern}, got '{text}'");
        if (property?.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed && !allowed.Values.Contains(text))
            return Fail(node, key, $"expected one of {string.Join('|', allowed.Values)}, got '{text}'{DidYouMean.Suffix(text, allowed.Values.Select(v => $"{v}"))}");
        value = text;
        return true;
    }

    bool BindBool(YamlNode node, string key, out object? value)
    {
        value = null;
        if (node is not YamlScalarNode scalar || !YamlScalars.TryBool(scalar, out var b))
            return Fail(node, key, $"expected true or false, got {YamlScalars.Describe(node)}");
        value = b;
        return true;
    }

    bool BindInteger(YamlNode node, Type type, string key, PropertyInfo? property, out object? value)
    {
        value = null;
        if (node is not YamlScalarNode scalar)
            return Fail(node, key, $"expected an integer, got {YamlScalars.Describe(node)}");
        if (!YamlScalars.TryInteger(scalar, out var n, out var overflow))
        {
            var got = overflow ? $"'{scalar.Value}', which is too large"
                : YamlScalars.TryNumber(scalar, out _) ? $"'{scalar.Value}', which is not whole"
                : YamlScalars.Describe(node);
            return Fail(node, key, $"expected an integer, got {got}");
        }
        if (type == typeof(int) && n is < int.MinValue or > int.MaxValue)
            return Fail(node, key, $"expected an integer, got '{scalar.Value}', which is too large");
        if (!CheckRange(node, key, property, n, scalar.Value!) || !CheckAllowed(node, key, property, n, scalar.Value!)) return false;
        value = type == typeof(int) ? (object)(int)n : n;
        return true;
    }

    bool BindDouble(YamlNode node, string key, PropertyInfo? property, out object? value)
    {
        value = null;
        if (node is not YamlScalarNode scalar || !YamlScalars.TryNumber(scalar, out var d))
            return Fail(node, key, $"expected a number, got {YamlScalars.Describe(node)}");
        if (!CheckRange(node, key, property, d, scalar.Value!)) return false;
        value = d;
        return true;
    }

    bool BindEnum(YamlNode node, Type type, string key, out object? value)
    {
        value = null;
        var members = SpecNames.EnumMembers(type);
        var names = members.Select(m => m.Name).ToList();
        if (node is YamlScalarNode scalar && members.FirstOrDefault(m => m.Name == scalar.Value) is { Value: not null } match)
        {
            value = match.Value;
            return true;
        }
        var suffix = node is YamlScalarNode { Value: { } text } ? DidYouMean.Suffix(text, names) : "";
        return Fail(node, key, $"expected one of {string.Join('|', names)}, got {YamlScalars.Describe(node)}{suffix}");
    }

    bool BindList(YamlNode node, Type itemType, string key, PropertyInfo? property, out object? value)
    {
        value = null;
        IReadOnlyList<YamlNode> items;
        if (node is YamlSequenceNode sequence) items = sequence.Children.ToList();
        else if (node is YamlScalarNode && property?.GetCustomAttribute<SingleValueAllowedAttribute>() is not null) items = [node];
        else return Fail(node, key, $"expected {Expectation(property!.PropertyType, property)}, got {YamlScalars.Describe(node)}");

        if (property?.GetCustomAttribute<MinLengthAttribute>() is { } min && items.Count < min.Length)
            return Fail(node, key, min.Length == 1 ? "expected at least one item, got an empty list" : $"expected at least {min.Length} items, got {items.Count}");

        var array = Array.CreateInstance(itemType, items.Count);
        var ok = true;
        for (var i = 0; i < items.Count; i++)
        {
            if (Bind(items[i], itemType, KeyPath.Item(key, i), property: null, out var item)) array.SetValue(item, i);
            else ok = false;
        }
        value = array;
        return ok;
    }

    bool BindMapping(YamlNode node, Type type, string key, out object? value)
    {
        value = null;
        if (node is not YamlMappingNode mapping)
            return Fail(node, key, $"expected a mapping with keys {string.Join(", ", SpecNames.Fields(type).Select(f => f.Key))}, got {YamlScalars.Describe(node)}");

        var fields = SpecNames.Fields(type);
        var instance = Activator.CreateInstance(type)!;
        var ok = true;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? "";
            var childKey = KeyPath.Child(key, name);
            var field = fields.FirstOrDefault(f => f.Key == name);
            if (field.Property is null)
            {
                ok = Fail(keyNode, childKey, $"unknown key{DidYouMean.Hint(name, fields.Select(f => f.Key), $"expected one of {string.Join(", ", fields.Select(f => f.Key))}")}");
                continue;
            }
            seen.Add(name);
            if (Bind(valueNode, field.Property.PropertyType, childKey, field.Property, out var fieldValue))
                field.Property.SetValue(instance, fieldValue);
            else ok = false;
        }
        foreach (var (fieldKey, property) in fields)
            if (property.GetCustomAttribute<RequiredAttribute>() is not null && !seen.Contains(fieldKey))
                ok = Fail(node, KeyPath.Child(key, fieldKey), "missing required key");

        if (ok && instance is ICheckedParameters checkedRecord)
            foreach (var problem in checkedRecord.Check())
            {
                var problemNode = mapping.Children.FirstOrDefault(c => (c.Key as YamlScalarNode)?.Value == problem.Key).Value ?? mapping;
                ok = Fail(problemNode, problem.Key.Length == 0 ? key : KeyPath.Child(key, problem.Key), problem.Message);
            }
        value = instance;
        return ok;
    }

    bool CheckRange(YamlNode node, string key, PropertyInfo? property, double number, string text)
    {
        if (property?.GetCustomAttribute<RangeAttribute>() is not { } range) return true;
        var min = Convert.ToDouble(range.Minimum, CultureInfo.InvariantCulture);
        var max = Convert.ToDouble(range.Maximum, CultureInfo.InvariantCulture);
        var aboveMin = range.MinimumIsExclusive ? number > min : number >= min;
        var belowMax = range.MaximumIsExclusive ? number < max : number <= max;
        return aboveMin && belowMax || Fail(node, key, $"expected {RangeText(range)}, got {text}");
    }

    bool CheckAllowed(YamlNode node, string key, PropertyInfo? property, long number, string text)
    {
        if (property?.GetCustomAttribute<AllowedValuesAttribute>() is not { } allowed) return true;
        return allowed.Values.Any(v => Convert.ToInt64(v, CultureInfo.InvariantCulture) == number)
               || Fail(node, key, $"expected one of {string.Join('|', allowed.Values)}, got {text}");
    }

    /// <summary>"a value in [0, 1]", "a value > 0", "a value >= 1": unbounded ends (MaxValue) are left out.</summary>
    public static string RangeText(RangeAttribute range)
    {
        var min = Format(range.Minimum);
        var max = Format(range.Maximum);
        var unboundedMax = range.Maximum is int.MaxValue or long.MaxValue or double.MaxValue;
        if (unboundedMax) return $"a value {(range.MinimumIsExclusive ? ">" : ">=")} {min}";
        return $"a value in {(range.MinimumIsExclusive ? '(' : '[')}{min}, {max}{(range.MaximumIsExclusive ? ')' : ']')}";
    }

    static string Format(object value) => Convert.ToString(value, CultureInfo.InvariantCulture)!;

    /// <summary>What a value of <paramref name="type"/> looks like, for "expected ..." messages.</summary>
    public static string Expectation(Type type, PropertyInfo? property)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(int) || type == typeof(long)) return "an integer";
        if (type == typeof(double)) return "a number";
        if (type.IsEnum) return $"one of {string.Join('|', SpecNames.EnumMembers(type).Select(m => m.Name))}";
        if (ListItemType(type) is { } item)
            return property?.GetCustomAttribute<SingleValueAllowedAttribute>() is not null
                ? $"{Expectation(item, null)} or a list of them"
                : $"a list of {Plural(Expectation(item, null))}";
        return "a mapping";
    }

    static string Plural(string expectation) => expectation switch
    {
        "a string" => "strings",
        "an integer" => "integers",
        "a number" => "numbers",
        "a mapping" => "mappings",
        _ => expectation,
    };

    public static Type? ListItemType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && type.GetGenericTypeDefinition() is var g
          && (g == typeof(IReadOnlyList<>) || g == typeof(IList<>) || g == typeof(IEnumerable<>) || g == typeof(IReadOnlyCollection<>))
            ? type.GetGenericArguments()[0]
            : null;

    bool Fail(YamlNode node, string key, string message)
    {
        diagnostics.Add(node, key, message);
        return false;
    }
}
