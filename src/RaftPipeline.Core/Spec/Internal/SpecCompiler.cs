using System.Text.RegularExpressions;
using RaftPipeline.Core.Graph;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RaftPipeline.Core.Spec.Internal;

/// <summary>The steps of <see cref="SpecLoader"/>, for one spec file.</summary>
sealed partial class SpecCompiler
{
    [GeneratedRegex("^[a-z][a-z0-9_-]*$")]
    private static partial Regex StageNamePattern();

    readonly string specFile;
    readonly string specFolder;
    readonly Diagnostics diagnostics;
    readonly ParameterBinder binder;

    public SpecCompiler(string specPath)
    {
        specFile = Path.GetFullPath(specPath);
        specFolder = Path.GetDirectoryName(specFile)!;
        diagnostics = new Diagnostics(specPath);
        binder = new ParameterBinder(diagnostics);
    }

    public SpecLoadResult Compile(string yaml, IReadOnlyList<string> overrides)
    {
        if (Parse(yaml) is not { } root) return SpecLoadResult.Failure(diagnostics.Sorted());

        foreach (var assignment in overrides) new OverrideApplier(diagnostics).Apply(root, assignment);

        foreach (var (keyNode, _) in root.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!SpecLoader.TopLevelKeys.Contains(key))
                diagnostics.Add(keyNode, key, $"unknown key{DidYouMean.Hint(key, SpecLoader.TopLevelKeys, $"expected one of {string.Join(", ", SpecLoader.TopLevelKeys)}")}");
        }

        var vars = ReadVars(Get(root, "vars"));
        var substitution = new VariableSubstitution(diagnostics, vars);
        foreach (var (keyNode, value) in root.Children)
            if ((keyNode as YamlScalarNode)?.Value is { } key && key != "vars")
                substitution.Apply(value, key);

        var header = BindHeader(root);
        var stages = BindStages(root);
        var exports = stages is null ? null : BindExports(Get(root, "export"), stages);

        if (diagnostics.Count > 0 || header is null || stages is null || exports is null) return SpecLoadResult.Failure(diagnostics.Sorted());
        return SpecLoadResult.Success(new PipelineSpec(
            header.Name,
            header.Seed,
            header.Device,
            Path.GetFullPath(Path.Combine(specFolder, header.Cache)),
            vars.ToDictionary(v => v.Key, v => v.Value.Value ?? "", StringComparer.Ordinal),
            stages,
            specFile) { Exports = exports });
    }

    /// <summary>
    /// The top-level <c>export:</c> map (stage name → folder, relative to the spec): where <c>raft run</c> copies
    /// those stages' artifacts. Not to be confused with a stage of kind <c>export</c>.
    /// </summary>
    Dictionary<string, string>? BindExports(YamlNode? node, IReadOnlyList<StageSpec> stages)
    {
        var exports = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is null || YamlScalars.IsNull(node)) return exports;
        if (node is not YamlMappingNode mapping)
            return Fail(node, "export", $"expected a mapping of stage names to folders (e.g. merged: out/merged), got {YamlScalars.Describe(node)}") ? null : null;
        var ok = true;
        var names = stages.Select(s => s.Name).ToList();
        foreach (var (keyNode, value) in mapping.Children)
        {
            var stage = (keyNode as YamlScalarNode)?.Value ?? "";
            var key = KeyPath.Child("export", stage);
            if (!names.Contains(stage))
                ok = Fail(keyNode, key, $"'{stage}' is no stage of this spec{DidYouMean.Hint(stage, names, "expected the name of a stage whose artifact to copy out")}");
            else if (value is not YamlScalarNode { Value: { Length: > 0 } folder } || YamlScalars.IsNull(value))
                ok = Fail(value, key, $"expected a folder path (relative to the spec file), got {YamlScalars.Describe(value)}");
            else if (!diagnostics.IsReported(value))
                exports[stage] = Path.GetFullPath(Path.Combine(specFolder, folder));
        }
        return ok ? exports : null;
    }

    YamlMappingNode? Parse(string yaml)
    {
        var stream = new YamlStream();
        var shielded = ReferenceShield.Protect(yaml);
        if (YamlPrecheck.Check(shielded) is { } problem)
        {
            diagnostics.Add(new SourceLocation(diagnostics.DisplayPath, problem.Line, problem.Column), "", problem.Message);
            return null;
        }
        try
        {
            stream.Load(new StringReader(shielded));
        }
        catch (YamlException e)
        {
            var (line, column) = ((int)e.Start.Line, (int)e.Start.Column);
            // YamlDotNet reports a tab used for indentation at the start of the mapping (often 1:1): point at the tab.
            if (e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) && YamlPrecheck.IndentationTab(shielded, line) is { } tab)
                (line, column) = tab;
            diagnostics.Add(new SourceLocation(diagnostics.DisplayPath, line, column), "", $"YAML syntax: {YamlText.Message(e)}");
            return null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException or NullReferenceException)
        {
            // YamlDotNet's node loader fails this way on some malformed input (an empty key before a repeated one):
            // locate the first line from which loading fails.
            diagnostics.Add(new SourceLocation(diagnostics.DisplayPath, YamlPrecheck.FirstFailingLine(shielded, LoadsWithoutCrash), 1), "",
                $"YAML syntax: cannot make sense of this line ({e.Message})");
            return null;
        }
        if (stream.Documents.Count != 1)
        {
            diagnostics.Add(new SourceLocation(diagnostics.DisplayPath, 1, 1), "",
                stream.Documents.Count == 0 ? "the spec is empty; expected a mapping with name and stages" : $"expected one YAML document, got {stream.Documents.Count}");
            return null;
        }
        if (stream.Documents[0].RootNode is YamlMappingNode root)
        {
            Unshield(root);
            return root;
        }
        diagnostics.Add(stream.Documents[0].RootNode, "", $"expected a mapping with keys {string.Join(", ", SpecLoader.TopLevelKeys)}, got {YamlScalars.Describe(stream.Documents[0].RootNode)}");
        return null;
    }

    static bool LoadsWithoutCrash(string yaml)
    {
        try
        {
            new YamlStream().Load(new StringReader(yaml));
            return true;
        }
        catch (YamlException)
        {
            return true; // a located error, not the crash being searched for
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException or NullReferenceException)
        {
            return false;
        }
    }

    /// <summary>Gives every scalar (keys included) its <c>${...}</c> back after parsing; see <see cref="ReferenceShield"/>.</summary>
    static void Unshield(YamlNode node)
    {
        foreach (var n in node.AllNodes)
            if (n is YamlScalarNode scalar)
                scalar.Value = ReferenceShield.Restore(scalar.Value);
    }

    Dictionary<string, YamlScalarNode> ReadVars(YamlNode? node)
    {
        var vars = new Dictionary<string, YamlScalarNode>(StringComparer.Ordinal);
        if (node is null || YamlScalars.IsNull(node)) return vars;
        if (node is not YamlMappingNode mapping)
        {
            diagnostics.Add(node, "vars", $"expected a mapping of names to values, got {YamlScalars.Describe(node)}");
            return vars;
        }
        foreach (var (keyNode, value) in mapping.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? "";
            var key = KeyPath.Child("vars", name);
            if (value is not YamlScalarNode scalar || YamlScalars.IsNull(value))
                diagnostics.Add(value, key, $"expected a string, number or bool, got {YamlScalars.Describe(value)}");
            else if (scalar.Value?.Contains("${", StringComparison.Ordinal) == true)
                diagnostics.Add(value, key, "a variable cannot refer to other variables");
            else
                vars[name] = scalar;
        }
        return vars;
    }

    PipelineHeader? BindHeader(YamlMappingNode root)
    {
        // Bind the scalar keys through the same binder as stage parameters; vars and stages are read apart.
        var scalars = new YamlMappingNode();
        foreach (var (key, value) in root.Children)
            if ((key as YamlScalarNode)?.Value is "name" or "seed" or "device" or "cache")
                scalars.Children.Add(key, value);
        diagnostics.Alias(scalars, root);
        return binder.BindRecord(scalars, typeof(PipelineHeader), "") as PipelineHeader;
    }

    List<StageSpec>? BindStages(YamlMappingNode root)
    {
        var node = Get(root, "stages");
        if (node is null)
        {
            diagnostics.Add(root, "stages", "missing required key; expected a mapping of stage names to stages");
            return null;
        }
        if (node is not YamlMappingNode mapping || mapping.Children.Count == 0)
        {
            diagnostics.Add(node, "stages", $"expected a mapping of stage names to stages, got {YamlScalars.Describe(node)}");
            return null;
        }

        // Every name is known before any input is resolved, so a stage may read one written below it.
        var kinds = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
            kinds[(keyNode as YamlScalarNode)?.Value ?? ""] = ((value as YamlMappingNode) is { } m ? Get(m, "kind") as YamlScalarNode : null)?.Value;

        var stages = new List<StageSpec>();
        var stageNodes = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? "";
            stageNodes[name] = keyNode;
            if (BindStage(name, keyNode, value, kinds) is { } stage) stages.Add(stage);
        }

        var cycle = PipelineGraph.FindCycle(
            stages.Select(s => s.Name).ToList(),
            n => stages.First(s => s.Name == n).Inputs.Values.SelectMany(v => v).OfType<StageInput.FromStage>().Select(i => i.Stage));
        if (cycle is not null)
            diagnostics.Add(stageNodes[cycle[0]], KeyPath.Child("stages", cycle[0]), $"the stages form a cycle: {string.Join(" -> ", cycle)}; expected each stage to read only stages that do not read it");
        return stages;
    }

    StageSpec? BindStage(string name, YamlNode keyNode, YamlNode node, IReadOnlyDictionary<string, string?> kinds)
    {
        var key = KeyPath.Child("stages", name);
        var ok = true;
        if (!StageNamePattern().IsMatch(name))
            ok = Fail(keyNode, key, "invalid stage name; expected lower-case letters, digits, '_' and '-', starting with a letter");
        if (node is not YamlMappingNode mapping)
            return Fail(node, key, $"expected a mapping with keys kind, inputs, params, got {YamlScalars.Describe(node)}") ? null : null;

        string[] stageKeys = ["kind", "inputs", "params"];
        foreach (var (k, _) in mapping.Children)
            if ((k as YamlScalarNode)?.Value is var childKey && !stageKeys.Contains(childKey))
                ok = Fail(k, KeyPath.Child(key, childKey ?? ""), $"unknown key{DidYouMean.Hint(childKey ?? "", stageKeys, "expected kind, inputs or params")}");

        var kindNames = StageKindCatalog.Kinds.Select(k => k.Name).ToList();
        StageKindInfo? kind = null;
        switch (Get(mapping, "kind"))
        {
            case null:
                ok = Fail(keyNode, KeyPath.Child(key, "kind"), $"missing required key; expected one of {string.Join('|', kindNames)}");
                break;
            case YamlScalarNode { Value: { } kindName } kindNode when !YamlScalars.IsNull(kindNode):
                kind = StageKindCatalog.Find(kindName);
                if (kind is null)
                    ok = Fail(kindNode, KeyPath.Child(key, "kind"), $"unknown stage kind '{kindName}'{DidYouMean.Hint(kindName, kindNames, $"expected one of {string.Join('|', kindNames)}")}");
                break;
            case var other:
                ok = Fail(other, KeyPath.Child(key, "kind"), $"expected one of {string.Join('|', kindNames)}, got {YamlScalars.Describe(other)}");
                break;
        }
        if (kind is null) return null;

        var parameters = binder.BindRecord(Get(mapping, "params"), kind.ParametersType, KeyPath.Child(key, "params")) as StageParameters;
        var inputs = BindInputs(name, keyNode, Get(mapping, "inputs"), kind, kinds);
        if (!ok || parameters is null || inputs is null) return null;
        return new StageSpec(name, kind.Name, inputs, parameters, diagnostics.Locate(keyNode));
    }

    Dictionary<string, IReadOnlyList<StageInput>>? BindInputs(
        string stage, YamlNode stageKeyNode, YamlNode? node, StageKindInfo kind, IReadOnlyDictionary<string, string?> kinds)
    {
        var key = KeyPath.Child(KeyPath.Child("stages", stage), "inputs");
        var inputs = new Dictionary<string, IReadOnlyList<StageInput>>(StringComparer.Ordinal);
        var ok = true;
        var slotNames = kind.Slots.Select(s => s.Name).ToList();
        if (node is not null && !YamlScalars.IsNull(node) && node is not YamlMappingNode)
            return Fail(node, key, $"expected a mapping of input slots ({string.Join(", ", slotNames)}) to values, got {YamlScalars.Describe(node)}") ? null : null;

        if (node is YamlMappingNode mapping)
            foreach (var (slotKey, value) in mapping.Children)
            {
                var slotName = (slotKey as YamlScalarNode)?.Value ?? "";
                var slotPath = KeyPath.Child(key, slotName);
                if (kind.Slot(slotName) is not { } slot)
                {
                    ok = Fail(slotKey, slotPath, $"unknown input slot{DidYouMean.Hint(slotName, slotNames, $"a {kind.Name} stage takes {string.Join(", ", slotNames)}")}");
                    continue;
                }
                if (BindSlot(stage, slot, value, slotPath, kinds) is { } bound) inputs[slotName] = bound;
                else ok = false;
            }

        foreach (var slot in kind.Slots.Where(s => s.Required && !inputs.ContainsKey(s.Name)))
            if (node is not YamlMappingNode m || !m.Children.ContainsKey(new YamlScalarNode(slot.Name)))
                ok = Fail(node is YamlMappingNode ? node : stageKeyNode, KeyPath.Child(key, slot.Name), $"missing required input; expected {slot.Expectation}");
        return ok ? inputs : null;
    }

    List<StageInput>? BindSlot(string stage, InputSlot slot, YamlNode node, string key, IReadOnlyDictionary<string, string?> kinds)
    {
        List<YamlNode> values;
        switch (node)
        {
            case YamlSequenceNode sequence when slot.Many:
                values = sequence.Children.ToList();
                if (values.Count == 0) return Fail(node, key, $"expected at least one value: {slot.Expectation}") ? null : null;
                break;
            case YamlSequenceNode sequence:
                return Fail(node, key, $"expected one value ({slot.Expectation}), got a list of {sequence.Children.Count}; this slot takes a single input") ? null : null;
            case YamlScalarNode when !YamlScalars.IsNull(node):
                values = [node];
                break;
            default:
                return Fail(node, key, $"expected {slot.Expectation}{(slot.Many ? " or a list of them" : "")}, got {YamlScalars.Describe(node)}") ? null : null;
        }

        var result = new List<StageInput>();
        var ok = true;
        for (var i = 0; i < values.Count; i++)
        {
            var itemKey = slot.Many && node is YamlSequenceNode ? KeyPath.Item(key, i) : key;
            if (diagnostics.IsReported(values[i]))
            {
                ok = false; // an unknown ${vars.x}, already reported
                continue;
            }
            if (values[i] is not YamlScalarNode { Value: { } text } scalar || YamlScalars.IsNull(values[i]))
            {
                ok = Fail(values[i], itemKey, $"expected {slot.Expectation}, got {YamlScalars.Describe(values[i])}");
                continue;
            }
            if (ResolveInput(stage, slot, scalar, text, itemKey, kinds) is { } input) result.Add(input);
            else ok = false;
        }
        return ok ? result : null;
    }

    StageInput? ResolveInput(string stage, InputSlot slot, YamlNode node, string text, string key, IReadOnlyDictionary<string, string?> kinds)
    {
        if (kinds.TryGetValue(text, out var kind))
        {
            if (text == stage)
                return Fail(node, key, $"the stages form a cycle: {stage} -> {stage}; a stage cannot read its own artifact") ? null : null;
            // A referenced stage whose own kind is wrong has been reported already; don't pile on.
            if (kind is not null && StageKindCatalog.Find(kind) is not null && !slot.AcceptedKinds.Contains(kind))
                return Fail(node, key, $"expected {slot.Expectation}, got stage '{text}' (kind {kind})") ? null : null;
            return new StageInput.FromStage(text);
        }

        var stageNames = kinds.Keys.ToList();
        if (!slot.AcceptsPath)
            return Fail(node, key, $"expected {slot.Expectation}, got '{text}', which is no stage of this spec{DidYouMean.Suffix(text, stageNames)}") ? null : null;

        var full = Path.GetFullPath(Path.Combine(specFolder, text));
        if (File.Exists(full) || Directory.Exists(full)) return new StageInput.FromPath(full);
        // A path that exists wins; otherwise org/name[@rev] is a Hub model id, resolved when keys are computed; unless
        // its first part is a folder here (models/tiyn beside models/), which is a mistyped path, reported now.
        if (slot.AcceptsModelId && RaftPipeline.Hub.HubModelId.TryParse(text, out var modelId))
        {
            var owner = Path.Combine(specFolder, modelId.Owner);
            if (!Directory.Exists(owner)) return new StageInput.FromHub(modelId, full);
            return Fail(node, key, $"path not found: '{text}' (resolved to {full}); expected {slot.Expectation} " +
                                   $"(not taken as a model id: the folder '{modelId.Owner}' exists beside the spec){DidYouMean.Suffix(modelId.RepoId, ListFolder(owner).Select(n => $"{modelId.Owner}/{n}"))}") ? null : null;
        }
        if (StageNamePattern().IsMatch(text))
            return Fail(node, key, $"'{text}' is neither a stage of this spec nor an existing path{DidYouMean.Hint(text, stageNames, $"expected {slot.Expectation}")}") ? null : null;
        return Fail(node, key, $"path not found: '{text}' (resolved to {full}); expected {slot.Expectation}") ? null : null;
    }

    static IReadOnlyList<string> ListFolder(string folder) =>
        Directory.EnumerateFileSystemEntries(folder).Select(p => Path.GetFileName(p)).ToList();

    static YamlNode? Get(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    bool Fail(YamlNode node, string key, string message)
    {
        diagnostics.Add(node, key, message);
        return false;
    }
}
