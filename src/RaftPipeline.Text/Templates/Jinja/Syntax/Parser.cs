using System.Globalization;
using RaftPipeline.Text.Templates.Jinja.Lexing;
using RaftPipeline.Text.Templates.Jinja.Runtime;

namespace RaftPipeline.Text.Templates.Jinja.Syntax;

/// <summary>
/// A recursive-descent parser with jinja2 3.1's grammar and precedence (parser.py): conditional expressions,
/// or, and, not, comparison chains (with in / not in), + -, ~, * / // %, ** (left-associative as in jinja2),
/// unary - +, then postfix (.attr, [item], calls) and finally filters and <c>is</c> tests.
/// Unknown filters and tests are rejected here, as jinja2 does when it compiles a template.
/// </summary>
public sealed class Parser
{
    static readonly HashSet<string> UnsupportedTags =
        ["block", "extends", "include", "import", "from", "autoescape", "do", "trans", "pluralize", "print", "endblock"];
    static readonly HashSet<string> CompareOps = ["==", "!=", "<", "<=", ">", ">="];

    readonly IReadOnlyList<Token> _tokens;
    readonly string _name;
    int _i;
    int _loopDepth;
    readonly List<HashSet<string>> _nameSinks = [];

    Parser(IReadOnlyList<Token> tokens, string sourceName)
    {
        _tokens = tokens;
        _name = sourceName;
    }

    public static IReadOnlyList<Stmt> Parse(string source, string sourceName)
    {
        var parser = new Parser(Lexer.Tokenize(source, sourceName), sourceName);
        return parser.SubParse([], "template");
    }

    Token Current => _tokens[_i];
    Token Peek(int n = 1) => _tokens[Math.Min(_i + n, _tokens.Count - 1)];
    Token Advance() => _tokens[_i++];

    TemplateSyntaxException Error(string detail, Token at) => new(detail, _name, at.Line, at.Column);

    Token Expect(TokenKind kind, string? value = null)
    {
        var t = Current;
        if (t.Kind != kind || (value is not null && t.Value != value))
        {
            var wanted = value is not null ? $"'{value}'" : kind switch
            {
                TokenKind.BlockEnd => "end of statement block",
                TokenKind.VariableEnd => "end of print statement",
                TokenKind.Name => "a name",
                _ => kind.ToString(),
            };
            throw Error($"expected {wanted}, got {t.Describe()}", t);
        }
        return Advance();
    }

    bool SkipOp(string op)
    {
        if (!Current.IsOp(op)) return false;
        _i++;
        return true;
    }

    bool SkipName(string name)
    {
        if (!Current.IsName(name)) return false;
        _i++;
        return true;
    }

    // ---------------------------------------------------------------- statements

    List<Stmt> SubParse(string[] endTags, string innermost)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var t = Current;
            switch (t.Kind)
            {
                case TokenKind.Data:
                    body.Add(new TextStmt(t.Value, t.Line, t.Column));
                    _i++;
                    break;
                case TokenKind.VariableBegin:
                    _i++;
                    var value = ParseTuple(withCondExpr: true);
                    Expect(TokenKind.VariableEnd);
                    body.Add(new PrintStmt(value, t.Line, t.Column));
                    break;
                case TokenKind.BlockBegin:
                    _i++;
                    if (Current.Kind == TokenKind.Name && endTags.Contains(Current.Value)) return body;
                    body.Add(ParseStatement(endTags, innermost));
                    break;
                case TokenKind.Eof:
                    if (endTags.Length > 0)
                        throw Error($"Unexpected end of template. Jinja was looking for the following tags: {Quote(endTags)}. " +
                                    $"The innermost block that needs to be closed is '{innermost}'.", t);
                    return body;
                default:
                    throw Error($"unexpected {t.Describe()}", t);
            }
        }
    }

    static string Quote(string[] tags) => string.Join(" or ", tags.Select(x => $"'{x}'"));

    Stmt ParseStatement(string[] endTags, string innermost)
    {
        var t = Current;
        if (t.Kind != TokenKind.Name) throw Error("tag name expected", t);
        switch (t.Value)
        {
            case "for": return ParseFor();
            case "if": return ParseIf();
            case "set": return ParseSet();
            case "macro": return ParseMacro();
            case "call": return ParseCallBlock();
            case "filter": return ParseFilterBlock();
            case "with": return ParseWith();
            case "break":
            case "continue":
                _i++;
                if (_loopDepth == 0) throw Error($"'{t.Value}' outside of a for loop", t);
                Expect(TokenKind.BlockEnd);
                return t.Value == "break" ? new BreakStmt(t.Line, t.Column) : new ContinueStmt(t.Line, t.Column);
            case "generation":
                {
                    // transformers' {% generation %} marks assistant text for the token mask; the text renders as is.
                    _i++;
                    Expect(TokenKind.BlockEnd);
                    var body = SubParse(["endgeneration"], "generation");
                    _i++;
                    Expect(TokenKind.BlockEnd);
                    return new IfStmt([(new ConstExpr(true, t.Line, t.Column), body)], null, t.Line, t.Column);
                }
        }
        if (t.Value == "recursive" || UnsupportedTags.Contains(t.Value))
            throw Error($"the '{t.Value}' tag is not supported by this Jinja interpreter", t);
        var detail = $"Encountered unknown tag '{t.Value}'.";
        if (endTags.Length > 0)
            detail += $" Jinja was looking for the following tags: {Quote(endTags)}. The innermost block that needs to be closed is '{innermost}'.";
        throw Error(detail, t);
    }

    ForStmt ParseFor()
    {
        var start = Advance();
        var target = ParseAssignTarget(withNamespace: false, "in");
        Expect(TokenKind.Name, "in");
        var iterable = ParseTuple(withCondExpr: false, "recursive");
        Expr? filter = null;
        if (SkipName("if")) filter = ParseExpression();
        if (Current.IsName("recursive")) throw Error("recursive for loops are not supported by this Jinja interpreter", Current);
        Expect(TokenKind.BlockEnd);
        _loopDepth++;
        var body = SubParse(["endfor", "else"], "for");
        _loopDepth--;
        List<Stmt>? elseBody = null;
        if (Advance().Value == "else")
        {
            Expect(TokenKind.BlockEnd);
            elseBody = SubParse(["endfor"], "for");
            _i++;
        }
        Expect(TokenKind.BlockEnd);
        return new ForStmt(target, iterable, filter, body, elseBody, start.Line, start.Column);
    }

    IfStmt ParseIf()
    {
        var start = Advance();
        var branches = new List<(Expr, IReadOnlyList<Stmt>)>();
        List<Stmt>? elseBody = null;
        var test = ParseTuple(withCondExpr: false);
        while (true)
        {
            Expect(TokenKind.BlockEnd);
            var body = SubParse(["elif", "else", "endif"], "if");
            branches.Add((test, body));
            var tag = Advance().Value;
            if (tag == "elif")
            {
                test = ParseTuple(withCondExpr: false);
                continue;
            }
            if (tag == "else")
            {
                Expect(TokenKind.BlockEnd);
                elseBody = SubParse(["endif"], "if");
                _i++;
            }
            break;
        }
        Expect(TokenKind.BlockEnd);
        return new IfStmt(branches, elseBody, start.Line, start.Column);
    }

    Stmt ParseSet()
    {
        var start = Advance();
        var target = ParseAssignTarget(withNamespace: true);
        if (SkipOp("="))
        {
            var value = ParseTuple(withCondExpr: true);
            Expect(TokenKind.BlockEnd);
            return new SetStmt(target, value, start.Line, start.Column);
        }
        FilterExpr? filter = null;
        if (Current.IsOp("|")) filter = (FilterExpr)ParseFilter(null, startInline: false);
        Expect(TokenKind.BlockEnd);
        var body = SubParse(["endset"], "set");
        _i++;
        Expect(TokenKind.BlockEnd);
        return new SetBlockStmt(target, filter, body, start.Line, start.Column);
    }

    List<MacroParam> ParseSignature()
    {
        var parameters = new List<MacroParam>();
        Expect(TokenKind.Operator, "(");
        while (!Current.IsOp(")"))
        {
            if (parameters.Count > 0) Expect(TokenKind.Operator, ",");
            if (Current.IsOp(")")) break;
            var name = Expect(TokenKind.Name);
            Expr? dflt = null;
            if (SkipOp("=")) dflt = ParseExpression();
            else if (parameters.Count > 0 && parameters[^1].Default is not null)
                throw Error("non-default argument follows default argument", name);
            parameters.Add(new MacroParam(name.Value, dflt));
        }
        Expect(TokenKind.Operator, ")");
        return parameters;
    }

    MacroStmt ParseMacro()
    {
        var start = Advance();
        var name = Expect(TokenKind.Name).Value;
        var parameters = ParseSignature();
        Expect(TokenKind.BlockEnd);
        var (body, uses) = ParseMacroBody("endmacro", "macro");
        return new MacroStmt(name, parameters, body, uses, start.Line, start.Column);
    }

    (List<Stmt>, MacroUses) ParseMacroBody(string endTag, string innermost)
    {
        var sink = new HashSet<string>();
        _nameSinks.Add(sink);
        var savedDepth = _loopDepth;
        _loopDepth = 0; // a macro body is a function: break/continue cannot reach an enclosing loop
        var body = SubParse([endTag], innermost);
        _loopDepth = savedDepth;
        _nameSinks.RemoveAt(_nameSinks.Count - 1);
        _i++;
        Expect(TokenKind.BlockEnd);
        return (body, new MacroUses(sink.Contains("caller"), sink.Contains("varargs"), sink.Contains("kwargs")));
    }

    CallBlockStmt ParseCallBlock()
    {
        var start = Advance();
        var callerParams = Current.IsOp("(") ? ParseSignature() : [];
        var callExpr = ParseExpression();
        if (callExpr is not CallExpr call) throw Error("expected call", start);
        Expect(TokenKind.BlockEnd);
        var (body, uses) = ParseMacroBody("endcall", "call");
        return new CallBlockStmt(call, callerParams, body, uses, start.Line, start.Column);
    }

    FilterBlockStmt ParseFilterBlock()
    {
        var start = Advance();
        var filter = (FilterExpr)ParseFilter(null, startInline: true);
        Expect(TokenKind.BlockEnd);
        var body = SubParse(["endfilter"], "filter");
        _i++;
        Expect(TokenKind.BlockEnd);
        return new FilterBlockStmt(filter, body, start.Line, start.Column);
    }

    WithStmt ParseWith()
    {
        var start = Advance();
        var assignments = new List<(Target, Expr)>();
        while (Current.Kind != TokenKind.BlockEnd)
        {
            if (assignments.Count > 0) Expect(TokenKind.Operator, ",");
            var target = ParseAssignTarget(withNamespace: false);
            Expect(TokenKind.Operator, "=");
            assignments.Add((target, ParseExpression()));
        }
        Expect(TokenKind.BlockEnd);
        var body = SubParse(["endwith"], "with");
        _i++;
        Expect(TokenKind.BlockEnd);
        return new WithStmt(assignments, body, start.Line, start.Column);
    }

    Target ParseAssignTarget(bool withNamespace, params string[] extraEnd)
    {
        var t = Current;
        if (withNamespace && t.Kind == TokenKind.Name && Peek().IsOp("."))
        {
            _i += 2;
            var attr = Expect(TokenKind.Name);
            return new NamespaceTarget(t.Value, attr.Value, t.Line, t.Column);
        }
        var items = new List<Target>();
        var isTuple = false;
        while (true)
        {
            if (items.Count > 0) Expect(TokenKind.Operator, ",");
            if (IsTupleEnd(extraEnd) || Current.IsOp("=")) break;
            items.Add(ParseTargetPrimary());
            if (Current.IsOp(",")) isTuple = true;
            else break;
        }
        if (items.Count == 0) throw Error($"expected an assignment target, got {Current.Describe()}", Current);
        return isTuple ? new TupleTarget(items, t.Line, t.Column) : items[0];
    }

    Target ParseTargetPrimary()
    {
        var t = Current;
        if (t.Kind == TokenKind.Name)
        {
            if (t.Value is "true" or "false" or "none" or "True" or "False" or "None")
                throw Error($"can't assign to '{t.Value}'", t);
            _i++;
            return new NameTarget(t.Value, t.Line, t.Column);
        }
        if (t.IsOp("("))
        {
            _i++;
            var inner = ParseAssignTarget(withNamespace: false);
            Expect(TokenKind.Operator, ")");
            return inner;
        }
        throw Error($"can't assign to {t.Describe()}", t);
    }

    // ---------------------------------------------------------------- expressions

    bool IsTupleEnd(string[] extraEnd) =>
        Current.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd || Current.IsOp(")") ||
        (Current.Kind == TokenKind.Name && extraEnd.Contains(Current.Value));

    Expr ParseTuple(bool withCondExpr, params string[] extraEnd) => ParseTupleCore(withCondExpr, explicitParens: false, extraEnd);

    Expr ParseTupleCore(bool withCondExpr, bool explicitParens, string[] extraEnd)
    {
        var start = Current;
        var items = new List<Expr>();
        var isTuple = false;
        while (true)
        {
            if (items.Count > 0) Expect(TokenKind.Operator, ",");
            if (IsTupleEnd(extraEnd)) break;
            items.Add(withCondExpr ? ParseExpression() : ParseOr());
            if (Current.IsOp(",")) isTuple = true;
            else break;
        }
        if (!isTuple)
        {
            if (items.Count == 1) return items[0];
            if (!explicitParens) throw Error($"Expected an expression, got {Current.Describe()}", Current);
        }
        return new TupleExpr(items, start.Line, start.Column);
    }

    Expr ParseExpression() => ParseCondExpr();

    Expr ParseCondExpr()
    {
        var expr = ParseOr();
        while (Current.IsName("if"))
        {
            var t = Advance();
            var test = ParseOr();
            Expr? otherwise = SkipName("else") ? ParseCondExpr() : null;
            expr = new CondExpr(test, expr, otherwise, t.Line, t.Column);
        }
        return expr;
    }

    Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            var t = Advance();
            left = new BinaryExpr("or", left, ParseAnd(), t.Line, t.Column);
        }
        return left;
    }

    Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            var t = Advance();
            left = new BinaryExpr("and", left, ParseNot(), t.Line, t.Column);
        }
        return left;
    }

    Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            var t = Advance();
            return new UnaryExpr("not", ParseNot(), t.Line, t.Column);
        }
        return ParseCompare();
    }

    Expr ParseCompare()
    {
        var start = Current;
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && CompareOps.Contains(Current.Value))
            {
                var op = Advance().Value;
                rest.Add((op, ParseMath1()));
            }
            else if (SkipName("in")) rest.Add(("in", ParseMath1()));
            else if (Current.IsName("not") && Peek().IsName("in"))
            {
                _i += 2;
                rest.Add(("notin", ParseMath1()));
            }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest, start.Line, start.Column);
    }

    Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOp("+") || Current.IsOp("-"))
        {
            var t = Advance();
            left = new BinaryExpr(t.Value, left, ParseConcat(), t.Line, t.Column);
        }
        return left;
    }

    Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOp("~"))
        {
            var t = Advance();
            left = new BinaryExpr("~", left, ParseMath2(), t.Line, t.Column);
        }
        return left;
    }

    Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.IsOp("*") || Current.IsOp("/") || Current.IsOp("//") || Current.IsOp("%"))
        {
            var t = Advance();
            left = new BinaryExpr(t.Value, left, ParsePow(), t.Line, t.Column);
        }
        return left;
    }

    Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOp("**"))
        {
            var t = Advance();
            left = new BinaryExpr("**", left, ParseUnary(withFilter: true), t.Line, t.Column);
        }
        return left;
    }

    Expr ParseUnary(bool withFilter)
    {
        var t = Current;
        Expr node;
        if (t.IsOp("-") || t.IsOp("+"))
        {
            _i++;
            node = new UnaryExpr(t.Value, ParseUnary(withFilter: false), t.Line, t.Column);
        }
        else node = ParsePrimary();
        node = ParsePostfix(node);
        if (withFilter) node = ParseFilterExpr(node);
        return node;
    }

    Expr ParsePrimary()
    {
        var t = Current;
        switch (t.Kind)
        {
            case TokenKind.Name:
                _i++;
                switch (t.Value)
                {
                    case "true" or "True": return new ConstExpr(true, t.Line, t.Column);
                    case "false" or "False": return new ConstExpr(false, t.Line, t.Column);
                    case "none" or "None": return new ConstExpr(null, t.Line, t.Column);
                }
                foreach (var sink in _nameSinks) sink.Add(t.Value);
                return new NameExpr(t.Value, t.Line, t.Column);
            case TokenKind.String:
                {
                    _i++;
                    var s = t.Value;
                    while (Current.Kind == TokenKind.String) s += Advance().Value; // adjacent literals join
                    return new ConstExpr(s, t.Line, t.Column);
                }
            case TokenKind.Integer:
                _i++;
                return new ConstExpr(ParseInteger(t), t.Line, t.Column);
            case TokenKind.Float:
                _i++;
                return new ConstExpr(double.Parse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture), t.Line, t.Column);
            case TokenKind.Operator when t.Value == "(":
                {
                    _i++;
                    var inner = ParseTupleCore(withCondExpr: true, explicitParens: true, []);
                    Expect(TokenKind.Operator, ")");
                    return inner;
                }
            case TokenKind.Operator when t.Value == "[":
                {
                    _i++;
                    var items = new List<Expr>();
                    while (!Current.IsOp("]"))
                    {
                        if (items.Count > 0) Expect(TokenKind.Operator, ",");
                        if (Current.IsOp("]")) break;
                        items.Add(ParseExpression());
                    }
                    Expect(TokenKind.Operator, "]");
                    return new ListExpr(items, t.Line, t.Column);
                }
            case TokenKind.Operator when t.Value == "{":
                {
                    _i++;
                    var pairs = new List<(Expr, Expr)>();
                    while (!Current.IsOp("}"))
                    {
                        if (pairs.Count > 0) Expect(TokenKind.Operator, ",");
                        if (Current.IsOp("}")) break;
                        var key = ParseExpression();
                        Expect(TokenKind.Operator, ":");
                        pairs.Add((key, ParseExpression()));
                    }
                    Expect(TokenKind.Operator, "}");
                    return new DictExpr(pairs, t.Line, t.Column);
                }
        }
        throw Error($"unexpected {t.Describe()}", t);
    }

    object ParseInteger(Token t)
    {
        var text = t.Value;
        try
        {
            if (text.Length > 2 && text[0] == '0' && char.IsLetter(text[1]))
            {
                var radix = char.ToLowerInvariant(text[1]) switch { 'b' => 2, 'o' => 8, _ => 16 };
                return Convert.ToInt64(text[2..], radix);
            }
            return long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (OverflowException)
        {
            throw Error($"integer literal {text} is larger than this interpreter supports (64-bit)", t);
        }
    }

    Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            if (Current.IsOp(".") || Current.IsOp("[")) node = ParseSubscript(node);
            else if (Current.IsOp("(")) node = ParseCall(node);
            else return node;
        }
    }

    Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            if (Current.IsOp("|")) node = ParseFilter(node, startInline: false);
            else if (Current.IsName("is")) node = ParseTest(node);
            else if (Current.IsOp("(")) node = ParseCall(node);
            else return node;
        }
    }

    Expr ParseSubscript(Expr node)
    {
        var t = Advance();
        if (t.Value == ".")
        {
            var attr = Current;
            if (attr.Kind == TokenKind.Name)
            {
                _i++;
                return new GetAttrExpr(node, attr.Value, t.Line, t.Column);
            }
            if (attr.Kind == TokenKind.Integer)
            {
                _i++;
                return new GetItemExpr(node, new ConstExpr(ParseInteger(attr), attr.Line, attr.Column), t.Line, t.Column);
            }
            throw Error("expected name or number", attr);
        }
        var args = new List<Expr>();
        while (!Current.IsOp("]"))
        {
            if (args.Count > 0) Expect(TokenKind.Operator, ",");
            args.Add(ParseSubscribed());
        }
        Expect(TokenKind.Operator, "]");
        var index = args.Count == 1 ? args[0] : new TupleExpr(args, t.Line, t.Column);
        return new GetItemExpr(node, index, t.Line, t.Column);
    }

    Expr ParseSubscribed()
    {
        var start = Current;
        Expr? first;
        if (Current.IsOp(":"))
        {
            _i++;
            first = null;
        }
        else
        {
            var node = ParseExpression();
            if (!Current.IsOp(":")) return node;
            _i++;
            first = node;
        }
        Expr? stop = null, step = null;
        if (!Current.IsOp(":") && !Current.IsOp("]") && !Current.IsOp(",")) stop = ParseExpression();
        if (SkipOp(":"))
        {
            if (!Current.IsOp("]") && !Current.IsOp(",")) step = ParseExpression();
        }
        return new SliceExpr(first, stop, step, start.Line, start.Column);
    }

    List<Argument> ParseCallArgs()
    {
        var args = new List<Argument>();
        Expect(TokenKind.Operator, "(");
        while (!Current.IsOp(")"))
        {
            if (args.Count > 0) Expect(TokenKind.Operator, ",");
            if (Current.IsOp(")")) break;
            if (Current.IsOp("*") || Current.IsOp("**"))
                throw Error("*args and **kwargs in calls are not supported by this Jinja interpreter", Current);
            if (Current.Kind == TokenKind.Name && Peek().IsOp("="))
            {
                var name = Advance().Value;
                _i++;
                args.Add(new Argument(name, ParseExpression()));
            }
            else
            {
                if (args.Any(a => a.Name is not null)) throw Error("invalid syntax for function call expression", Current);
                args.Add(new Argument(null, ParseExpression()));
            }
        }
        Expect(TokenKind.Operator, ")");
        return args;
    }

    Expr ParseCall(Expr node)
    {
        var args = ParseCallArgs();
        return new CallExpr(node, args, node.Line, node.Column);
    }

    Expr ParseFilter(Expr? node, bool startInline)
    {
        while (Current.IsOp("|") || startInline)
        {
            if (!startInline) _i++;
            startInline = false;
            var nameTok = Expect(TokenKind.Name);
            var name = nameTok.Value;
            while (Current.IsOp(".")) { _i++; name += "." + Expect(TokenKind.Name).Value; }
            if (!Filters.IsKnown(name))
                throw Error(Filters.UnsupportedBuiltins.Contains(name)
                    ? $"the '{name}' filter is not supported by this Jinja interpreter"
                    : $"No filter named '{name}'.", nameTok);
            var args = Current.IsOp("(") ? ParseCallArgs() : [];
            node = new FilterExpr(node, name, args, nameTok.Line, nameTok.Column);
        }
        return node!;
    }

    Expr ParseTest(Expr node)
    {
        var isTok = Advance();
        var negated = SkipName("not");
        var nameTok = Expect(TokenKind.Name);
        var name = nameTok.Value;
        while (Current.IsOp(".")) { _i++; name += "." + Expect(TokenKind.Name).Value; }
        if (!Tests.IsKnown(name)) throw Error($"No test named '{name}'.", nameTok);
        List<Argument> args;
        var c = Current;
        if (c.IsOp("(")) args = ParseCallArgs();
        else if ((c.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float || c.IsOp("[") || c.IsOp("{"))
                 && !c.IsName("else") && !c.IsName("or") && !c.IsName("and"))
        {
            if (c.IsName("is")) throw Error("You cannot chain multiple tests with is", c);
            args = [new Argument(null, ParsePostfix(ParsePrimary()))];
        }
        else args = [];
        Expr test = new TestExpr(node, name, args, nameTok.Line, nameTok.Column);
        return negated ? new UnaryExpr("not", test, isTok.Line, isTok.Column) : test;
    }
}
