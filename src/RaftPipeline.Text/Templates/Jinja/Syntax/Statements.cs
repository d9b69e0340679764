namespace RaftPipeline.Text.Templates.Jinja.Syntax;

public abstract record Stmt(int Line, int Column);

public sealed record TextStmt(string Text, int Line, int Column) : Stmt(Line, Column);
public sealed record PrintStmt(Expr Value, int Line, int Column) : Stmt(Line, Column);
public sealed record IfStmt(IReadOnlyList<(Expr Test, IReadOnlyList<Stmt> Body)> Branches, IReadOnlyList<Stmt>? Else, int Line, int Column) : Stmt(Line, Column);
public sealed record ForStmt(Target Target, Expr Iterable, Expr? Filter, IReadOnlyList<Stmt> Body, IReadOnlyList<Stmt>? Else, int Line, int Column) : Stmt(Line, Column);
public sealed record SetStmt(Target Target, Expr Value, int Line, int Column) : Stmt(Line, Column);
/// <summary><c>{% set x | filters %}body{% endset %}</c>; <see cref="Filter"/> has a null input that stands for the body.</summary>
public sealed record SetBlockStmt(Target Target, FilterExpr? Filter, IReadOnlyList<Stmt> Body, int Line, int Column) : Stmt(Line, Column);
public sealed record MacroParam(string Name, Expr? Default);
public sealed record MacroStmt(string Name, IReadOnlyList<MacroParam> Params, IReadOnlyList<Stmt> Body, MacroUses Uses, int Line, int Column) : Stmt(Line, Column);
/// <summary><c>{% call(params) macro(args) %}body{% endcall %}</c>: body becomes <c>caller</c>.</summary>
public sealed record CallBlockStmt(CallExpr Call, IReadOnlyList<MacroParam> CallerParams, IReadOnlyList<Stmt> Body, MacroUses Uses, int Line, int Column) : Stmt(Line, Column);
public sealed record FilterBlockStmt(FilterExpr Filter, IReadOnlyList<Stmt> Body, int Line, int Column) : Stmt(Line, Column);
public sealed record WithStmt(IReadOnlyList<(Target Target, Expr Value)> Assignments, IReadOnlyList<Stmt> Body, int Line, int Column) : Stmt(Line, Column);
public sealed record BreakStmt(int Line, int Column) : Stmt(Line, Column);
public sealed record ContinueStmt(int Line, int Column) : Stmt(Line, Column);

/// <summary>Which of jinja2's implicit macro variables a body reads; jinja2 rejects extra arguments otherwise.</summary>
public sealed record MacroUses(bool Caller, bool Varargs, bool Kwargs);

/// <summary>An assignment target: a name, <c>ns.attr</c>, or a tuple of targets to unpack into.</summary>
public abstract record Target(int Line, int Column);
public sealed record NameTarget(string Name, int Line, int Column) : Target(Line, Column);
public sealed record NamespaceTarget(string Name, string Attribute, int Line, int Column) : Target(Line, Column);
public sealed record TupleTarget(IReadOnlyList<Target> Items, int Line, int Column) : Target(Line, Column);
