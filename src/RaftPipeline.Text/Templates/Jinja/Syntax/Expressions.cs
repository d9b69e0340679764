namespace RaftPipeline.Text.Templates.Jinja.Syntax;

/// <summary>An expression node; every node remembers where it starts in the template (1-based).</summary>
public abstract record Expr(int Line, int Column);

public sealed record ConstExpr(object? Value, int Line, int Column) : Expr(Line, Column);
public sealed record NameExpr(string Name, int Line, int Column) : Expr(Line, Column);
public sealed record ListExpr(IReadOnlyList<Expr> Items, int Line, int Column) : Expr(Line, Column);
public sealed record TupleExpr(IReadOnlyList<Expr> Items, int Line, int Column) : Expr(Line, Column);
public sealed record DictExpr(IReadOnlyList<(Expr Key, Expr Value)> Pairs, int Line, int Column) : Expr(Line, Column);

/// <summary><c>obj.name</c>: jinja2 tries the Python attribute first, then the item.</summary>
public sealed record GetAttrExpr(Expr Target, string Name, int Line, int Column) : Expr(Line, Column);
/// <summary><c>obj[index]</c>: jinja2 tries the item first, then (for string keys) the attribute.</summary>
public sealed record GetItemExpr(Expr Target, Expr Index, int Line, int Column) : Expr(Line, Column);
/// <summary>The <c>a:b:c</c> inside brackets.</summary>
public sealed record SliceExpr(Expr? Start, Expr? Stop, Expr? Step, int Line, int Column) : Expr(Line, Column);

public sealed record Argument(string? Name, Expr Value);

public sealed record CallExpr(Expr Callee, IReadOnlyList<Argument> Args, int Line, int Column) : Expr(Line, Column);
/// <summary><c>input | name(args)</c>; <see cref="Input"/> is null inside a filter block header.</summary>
public sealed record FilterExpr(Expr? Input, string Name, IReadOnlyList<Argument> Args, int Line, int Column) : Expr(Line, Column);
public sealed record TestExpr(Expr Input, string Name, IReadOnlyList<Argument> Args, int Line, int Column) : Expr(Line, Column);

public sealed record UnaryExpr(string Op, Expr Operand, int Line, int Column) : Expr(Line, Column);
/// <summary>Arithmetic (+ - * / // % **), concatenation (~) and the short-circuit and/or.</summary>
public sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line, int Column) : Expr(Line, Column);
/// <summary>A Python comparison chain: <c>a &lt; b &lt;= c</c>, with ==, !=, &lt;, &lt;=, &gt;, &gt;=, in, notin.</summary>
public sealed record CompareExpr(Expr First, IReadOnlyList<(string Op, Expr Operand)> Rest, int Line, int Column) : Expr(Line, Column);
/// <summary><c>Then if Test else Else</c>; with no else a false test yields undefined (renders empty).</summary>
public sealed record CondExpr(Expr Test, Expr Then, Expr? Else, int Line, int Column) : Expr(Line, Column);
