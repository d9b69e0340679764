using System.Text;
using RaftPipeline.Text.Templates.Jinja.Syntax;

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>
/// Walks a parsed template. Python-level failures (<see cref="PyException"/>) are turned into
/// <see cref="TemplateRuntimeException"/> at the innermost expression or statement that raised them, so an error
/// names the template line and column; <c>raise_exception</c> becomes a <see cref="TemplateRaisedException"/>.
/// </summary>
public sealed class Interpreter(string sourceName)
{
    /// <summary>Python's default recursion limit is 1000 frames; macros nest far less before that.</summary>
    const int MaxMacroDepth = 250;

    enum Flow { Normal, Break, Continue }

    int _macroDepth;

    public string SourceName { get; } = sourceName;

    public string Render(IReadOnlyList<Stmt> body, Scope scope)
    {
        var sb = new StringBuilder();
        Exec(body, scope, sb);
        return sb.ToString();
    }

    TemplateException Locate(PyException ex, int line, int column) => ex.ErrorType == "TemplateError"
        ? new TemplateRaisedException(ex.Message, SourceName, line, column)
        : new TemplateRuntimeException(ex.ErrorType, ex.Message, SourceName, line, column);

    // ---------------------------------------------------------------- statements

    Flow Exec(IReadOnlyList<Stmt> body, Scope scope, StringBuilder output)
    {
        foreach (var stmt in body)
        {
            Flow flow;
            try
            {
                flow = Exec(stmt, scope, output);
            }
            catch (PyException ex)
            {
                throw Locate(ex, stmt.Line, stmt.Column);
            }
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    Flow Exec(Stmt stmt, Scope scope, StringBuilder output)
    {
        switch (stmt)
        {
            case TextStmt t:
                output.Append(t.Text);
                return Flow.Normal;
            case PrintStmt p:
                {
                    var value = Eval(p.Value, scope);
                    try { output.Append(PyFormat.Str(value)); }
                    catch (PyException ex) { throw Locate(ex, p.Value.Line, p.Value.Column); }
                    return Flow.Normal;
                }
            case IfStmt s:
                foreach (var (test, branch) in s.Branches)
                    if (PyOps.Truthy(Eval(test, scope))) return Exec(branch, scope, output);
                return s.Else is null ? Flow.Normal : Exec(s.Else, scope, output);
            case ForStmt f:
                ExecFor(f, scope, output);
                return Flow.Normal;
            case SetStmt s:
                Assign(s.Target, Eval(s.Value, scope), scope);
                return Flow.Normal;
            case SetBlockStmt s:
                {
                    var inner = new Scope(scope);
                    object? value = RenderBody(s.Body, inner);
                    if (s.Filter is not null) value = ApplyFilterChain(s.Filter, value, scope);
                    Assign(s.Target, value, scope);
                    return Flow.Normal;
                }
            case MacroStmt m:
                scope.Set(m.Name, new Macro(this, m.Name, m.Params, m.Body, m.Uses, scope));
                return Flow.Normal;
            case CallBlockStmt c:
                {
                    var caller = new Macro(this, "caller", c.CallerParams, c.Body, c.Uses, scope);
                    output.Append(PyFormat.Str(EvalCall(c.Call, scope, caller)));
                    return Flow.Normal;
                }
            case FilterBlockStmt fb:
                {
                    var text = RenderBody(fb.Body, new Scope(scope));
                    output.Append(PyFormat.Str(ApplyFilterChain(fb.Filter, text, scope)));
                    return Flow.Normal;
                }
            case WithStmt w:
                {
                    var values = w.Assignments.Select(a => Eval(a.Value, scope)).ToList();
                    var inner = new Scope(scope);
                    for (var i = 0; i < values.Count; i++) Assign(w.Assignments[i].Target, values[i], inner);
                    return Exec(w.Body, inner, output);
                }
            case BreakStmt:
                return Flow.Break;
            case ContinueStmt:
                return Flow.Continue;
            default:
                throw new InvalidOperationException($"unknown statement {stmt.GetType().Name}");
        }
    }

    internal string RenderBody(IReadOnlyList<Stmt> body, Scope scope)
    {
        var sb = new StringBuilder();
        Exec(body, scope, sb);
        return sb.ToString();
    }

    void ExecFor(ForStmt f, Scope scope, StringBuilder output)
    {
        var iterable = Eval(f.Iterable, scope);
        List<object?> items;
        try { items = PyOps.Iterate(iterable).ToList(); }
        catch (PyException ex) { throw Locate(ex, f.Iterable.Line, f.Iterable.Column); }
        if (f.Filter is not null)
        {
            // jinja2 filters before counting: loop.index and loop.length see only the kept items.
            items = items.Where(item =>
            {
                var probe = new Scope(scope);
                Assign(f.Target, item, probe);
                return PyOps.Truthy(Eval(f.Filter, probe));
            }).ToList();
        }
        if (items.Count == 0)
        {
            if (f.Else is not null) Exec(f.Else, scope, output);
            return;
        }
        var loop = new LoopContext(items);
        for (var i = 0; i < items.Count; i++)
        {
            loop.Index0 = i;
            var inner = new Scope(scope);
            inner.Set("loop", loop);
            Assign(f.Target, items[i], inner);
            if (Exec(f.Body, inner, output) == Flow.Break) break;
        }
    }

    void Assign(Target target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameTarget n:
                scope.Set(n.Name, value);
                break;
            case NamespaceTarget ns:
                if (scope.Get(ns.Name) is not Namespace space)
                    throw new PyException("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
                space.Attributes[ns.Attribute] = value;
                break;
            case TupleTarget t:
                {
                    var items = PyOps.Iterate(value).ToList();
                    if (items.Count > t.Items.Count) throw PyException.Value($"too many values to unpack (expected {t.Items.Count})");
                    if (items.Count < t.Items.Count) throw PyException.Value($"not enough values to unpack (expected {t.Items.Count}, got {items.Count})");
                    for (var i = 0; i < items.Count; i++) Assign(t.Items[i], items[i], scope);
                    break;
                }
        }
    }

    // ---------------------------------------------------------------- expressions

    public object? Eval(Expr e, Scope scope)
    {
        try
        {
            return EvalCore(e, scope);
        }
        catch (PyException ex)
        {
            throw Locate(ex, e.Line, e.Column);
        }
    }

    object? EvalCore(Expr e, Scope scope)
    {
        switch (e)
        {
            case ConstExpr c:
                return c.Value;
            case NameExpr n:
                return scope.Get(n.Name);
            case ListExpr l:
                return l.Items.Select(x => Eval(x, scope)).ToList();
            case TupleExpr t:
                return new PyTuple(t.Items.Select(x => Eval(x, scope)).ToList());
            case DictExpr d:
                {
                    var dict = new PyDict();
                    foreach (var (k, v) in d.Pairs) dict[Eval(k, scope)] = Eval(v, scope);
                    return dict;
                }
            case GetAttrExpr ga:
                return Attributes.GetAttr(Eval(ga.Target, scope), ga.Name);
            case GetItemExpr gi:
                {
                    var target = Eval(gi.Target, scope);
                    if (gi.Index is SliceExpr s)
                        return Attributes.Slice(target, Opt(s.Start, scope), Opt(s.Stop, scope), Opt(s.Step, scope));
                    return Attributes.GetItem(target, Eval(gi.Index, scope));
                }
            case SliceExpr:
                throw PyException.Unsupported("a slice outside of brackets");
            case CallExpr call:
                return EvalCall(call, scope, caller: null);
            case FilterExpr f:
                return ApplyFilterChain(f, null, scope);
            case TestExpr t:
                {
                    var value = Eval(t.Input, scope);
                    var (args, kwargs) = EvalArgs(t.Args, scope);
                    return Tests.Apply(t.Name, value, args, kwargs);
                }
            case UnaryExpr u:
                {
                    var v = Eval(u.Operand, scope);
                    return u.Op switch
                    {
                        "not" => !PyOps.Truthy(v),
                        "-" => PyOps.Negate(v),
                        _ => PyOps.Plus(v),
                    };
                }
            case BinaryExpr b:
                return EvalBinary(b, scope);
            case CompareExpr c:
                {
                    var left = Eval(c.First, scope);
                    foreach (var (op, operand) in c.Rest)
                    {
                        var right = Eval(operand, scope);
                        var ok = op switch
                        {
                            "==" => PyOps.Equal(left, right),
                            "!=" => !PyOps.Equal(left, right),
                            "in" => PyOps.Contains(right, left),
                            "notin" => !PyOps.Contains(right, left),
                            _ => PyOps.Order(op, left, right),
                        };
                        if (!ok) return false;
                        left = right;
                    }
                    return true;
                }
            case CondExpr c:
                if (PyOps.Truthy(Eval(c.Test, scope))) return Eval(c.Then, scope);
                return c.Else is null
                    ? new Undefined($"the inline if-expression on line {c.Line} evaluated to false and no else section was defined.")
                    : Eval(c.Else, scope);
            default:
                throw new InvalidOperationException($"unknown expression {e.GetType().Name}");
        }
    }

    object? Opt(Expr? e, Scope scope) => e is null ? null : Eval(e, scope);

    object? EvalBinary(BinaryExpr b, Scope scope)
    {
        var left = Eval(b.Left, scope);
        switch (b.Op)
        {
            case "and": return PyOps.Truthy(left) ? Eval(b.Right, scope) : left;
            case "or": return PyOps.Truthy(left) ? left : Eval(b.Right, scope);
        }
        var right = Eval(b.Right, scope);
        return b.Op switch
        {
            "+" => PyOps.Add(left, right),
            "-" => PyOps.Subtract(left, right),
            "*" => PyOps.Multiply(left, right),
            "/" => PyOps.Divide(left, right),
            "//" => PyOps.FloorDivide(left, right),
            "%" => PyOps.Modulo(left, right),
            "**" => PyOps.Power(left, right),
            "~" => PyFormat.Str(left) + PyFormat.Str(right),
            _ => throw new InvalidOperationException($"unknown operator {b.Op}"),
        };
    }

    (List<object?> Args, List<KeyValuePair<string, object?>> Kwargs) EvalArgs(IReadOnlyList<Argument> arguments, Scope scope)
    {
        var args = new List<object?>();
        var kwargs = new List<KeyValuePair<string, object?>>();
        foreach (var a in arguments)
        {
            var v = Eval(a.Value, scope);
            if (a.Name is null) args.Add(v);
            else kwargs.Add(new(a.Name, v));
        }
        return (args, kwargs);
    }

    object? EvalCall(CallExpr call, Scope scope, Macro? caller)
    {
        var callee = Eval(call.Callee, scope);
        var (args, kwargs) = EvalArgs(call.Args, scope);
        if (caller is not null) kwargs.Add(new("caller", caller));
        try
        {
            return callee switch
            {
                IPyCallable f => f.Call(args, kwargs),
                Undefined u => throw u.Fail(),
                _ => throw PyException.Type($"'{PyOps.TypeName(callee)}' object is not callable"),
            };
        }
        catch (PyException ex)
        {
            throw Locate(ex, call.Line, call.Column);
        }
    }

    object? ApplyFilterChain(FilterExpr f, object? blockInput, Scope scope)
    {
        var input = f.Input switch
        {
            null => blockInput,
            FilterExpr inner when inner.Input is null || ContainsPlaceholder(inner) => ApplyFilterChain(inner, blockInput, scope),
            _ => Eval(f.Input, scope),
        };
        var (args, kwargs) = EvalArgs(f.Args, scope);
        try
        {
            return Filters.Apply(f.Name, input, args, kwargs);
        }
        catch (PyException ex)
        {
            throw Locate(ex, f.Line, f.Column);
        }
    }

    static bool ContainsPlaceholder(FilterExpr f) => f.Input is null || (f.Input is FilterExpr inner && ContainsPlaceholder(inner));

    // ---------------------------------------------------------------- macros

    internal object? Invoke(Macro macro, IReadOnlyList<object?> args, IReadOnlyList<KeyValuePair<string, object?>> kwargs)
    {
        if (_macroDepth >= MaxMacroDepth) throw new PyException("RecursionError", "maximum recursion depth exceeded");
        var scope = new Scope(macro.Closure);
        var parameters = macro.Params;
        var bound = new bool[parameters.Count];
        var extraArgs = new List<object?>();
        for (var i = 0; i < args.Count; i++)
        {
            if (i < parameters.Count)
            {
                scope.Set(parameters[i].Name, args[i]);
                bound[i] = true;
            }
            else extraArgs.Add(args[i]);
        }
        if (extraArgs.Count > 0 && !macro.Uses.Varargs)
            throw PyException.Type($"macro '{macro.Name}' takes not more than {parameters.Count} argument(s)");
        var extraKwargs = new PyDict();
        object? caller = null;
        foreach (var (name, value) in kwargs)
        {
            var i = parameters.ToList().FindIndex(p => p.Name == name);
            if (i >= 0)
            {
                if (bound[i]) throw PyException.Type($"macro '{macro.Name}' got multiple values for argument '{name}'");
                scope.Set(name, value);
                bound[i] = true;
            }
            else if (name == "caller" && macro.Uses.Caller) caller = value;
            else if (macro.Uses.Kwargs) extraKwargs[name] = value;
            else throw PyException.Type($"macro '{macro.Name}' takes no keyword argument '{name}'");
        }
        for (var i = 0; i < parameters.Count; i++)
        {
            if (bound[i]) continue;
            scope.Set(parameters[i].Name, parameters[i].Default is { } d
                ? Eval(d, scope)
                : new Undefined($"parameter '{parameters[i].Name}' was not provided"));
        }
        if (macro.Uses.Varargs) scope.Set("varargs", new PyTuple(extraArgs));
        if (macro.Uses.Kwargs) scope.Set("kwargs", extraKwargs);
        if (macro.Uses.Caller) scope.Set("caller", caller ?? new Undefined("No caller defined"));
        _macroDepth++;
        try
        {
            return RenderBody(macro.Body, scope);
        }
        finally
        {
            _macroDepth--;
        }
    }
}

/// <summary>A <c>{% macro %}</c> (or the body of a call block, as <c>caller</c>), closed over its defining frame.</summary>
public sealed class Macro(Interpreter interpreter, string name, IReadOnlyList<MacroParam> parameters, IReadOnlyList<Stmt> body,
    MacroUses uses, Scope closure) : IPyCallable
{
    public string Name { get; } = name;
    public IReadOnlyList<MacroParam> Params { get; } = parameters;
    public IReadOnlyList<Stmt> Body { get; } = body;
    public MacroUses Uses { get; } = uses;
    public Scope Closure { get; } = closure;

    public object? Call(IReadOnlyList<object?> args, IReadOnlyList<KeyValuePair<string, object?>> kwargs) =>
        interpreter.Invoke(this, args, kwargs);
}
