namespace RaftPipeline.Text.Tests.Templates;

/// <summary>
/// One construct per case; expected strings were produced by jinja2 3.1.6 configured as transformers configures it
/// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, json.dumps tojson). Regenerate with
/// `python tests/RaftPipeline.Text.Tests/Templates/jinja_cases.py` (jinja2 only, from the repository root).
/// </summary>
public class JinjaConstructTests
{
    [Theory]
    [InlineData("{% if true %}\nA\n{% endif %}\nB", "A\nB")]
    [InlineData("  {% if true %}\n  x\n  {% endif %}\ny", "  x\ny")]
    [InlineData("a\n  {%- if true %} b {% endif -%}  \n c", "a b c")]
    [InlineData("a  {{- 'b' -}}  c", "abc")]
    [InlineData("  {{ 'v' }}\n", "  v")]
    [InlineData("line\n\t{# comment #}\nnext", "line\nnext")]
    [InlineData("  {%+ if true %}kept{% endif %}", "  kept")]
    [InlineData("{% if true +%}\nnewline kept{% endif %}", "\nnewline kept")]
    [InlineData("x\r\ny\r\n{% if true %}\r\nz\r\n{% endif %}\r\n", "x\ny\nz\n")]
    [InlineData("{% raw %}{{ a }}{% endraw %}", "{{ a }}")]
    [InlineData("a\n\n", "a\n")]
    [InlineData("{%- for i in [1, 2] %}\n  {{ i }}\n{%- endfor %}", "  1  2")]
    public void Whitespace(string template, string expected) => Assert.Equal(expected, Jinja.Render(template));

    [Theory]
    [InlineData("{{ 1 + 2 * 3 }}", "7")]
    [InlineData("{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % -3 }}|{{ 7.5 % 2 }}", "3|-4|-2|1.5")]
    [InlineData("{{ 2 ** 3 ** 2 }}", "64")]
    [InlineData("{{ 10 / 4 }}", "2.5")]
    [InlineData("{{ 'a' ~ 1 ~ none ~ true }}", "a1NoneTrue")]
    [InlineData("{{ 'x' + 'y' | upper }}", "xY")]
    [InlineData("{{ [1, 2] + [3] }}|{{ (1, 2) }}|{{ (1,) }}", "[1, 2, 3]|(1, 2)|(1,)")]
    [InlineData("{{ 1 < 2 < 3 }}|{{ 1 < 3 < 2 }}", "True|False")]
    [InlineData("{{ 'a' in 'cat' }}|{{ 2 not in [1, 2] }}", "True|False")]
    [InlineData("{{ 'yes' if 0 else 'no' }}|{{ 'x' if false }}|", "no||")]
    [InlineData("{{ true and 'v' }}|{{ none or 'w' }}|{{ not '' }}", "v|w|True")]
    [InlineData("{{ [0, 1, 2, 3][1:3] }}|{{ 'hello'[::-1] }}|{{ 'hello'[-2:] }}", "[1, 2]|olleh|lo")]
    [InlineData("{{ {'a': 1, 'b': [1.5, none]} }}", "{'a': 1, 'b': [1.5, None]}")]
    [InlineData("{{ ['it\\'s', \"q\\\"\", '\\n'] }}", "[\"it's\", 'q\"', '\\n']")]
    [InlineData("{{ 0.1 + 0.2 }}|{{ 1e16 }}|{{ 1e-5 }}|{{ 100.0 }}|{{ 2.5e-3 }}", "0.30000000000000004|1e+16|1e-05|100.0|0.0025")]
    [InlineData("{{ none.y }}|{{ [1][3] }}|{{ {}.y }}|", "|||")]
    [InlineData("{{ 'abc'.upper() }}|{{ {'k': 'v'}.get('k') }}|{{ {'k': 'v'}['k'] }}", "ABC|v|v")]
    [InlineData("{{ '\\u00e9\\x41\\t' }}", "éA\t")]
    [InlineData("{{ 'a' 'b' }}", "ab")]
    [InlineData("{{ -3 | abs }}|{{ -(2 + 1) }}", "3|-3")]
    public void Expressions(string template, string expected) => Assert.Equal(expected, Jinja.Render(template));

    [Theory]
    [InlineData("{{ ' a b '.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a-b-c'.split('-', 1) }}|{{ 'a-b-c'.rsplit('-', 1) }}", "['a', 'b']|['a', 'b', '', 'c']|['a', 'b-c']|['a-b', 'c']")]
    [InlineData("{{ 'xxhixx'.strip('x') }}|{{ '\\n\\nhi\\n'.lstrip('\\n') }}|{{ 'hi  '.rstrip() }}.", "hi|hi\n|hi.")]
    [InlineData("{{ 'hello'.startswith('he') }}|{{ 'hello'.endswith(('x', 'lo')) }}|{{ 'banana'.find('na') }}|{{ 'banana'.rfind('na') }}|{{ 'banana'.count('a') }}", "True|True|2|4|3")]
    [InlineData("{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'ab'.replace('', '-') }}", "bba|-a-b-")]
    [InlineData("{{ \"they're bill's\".title() }}|{{ 'hELLO'.capitalize() }}", "They'Re Bill'S|Hello")]
    [InlineData("{{ '{} + {} = {sum}'.format(1, 2, sum=3) }}", "1 + 2 = 3")]
    [InlineData("{{ '-'.join(['a', 'b']) }}", "a-b")]
    [InlineData("{{ 'a\\nb\\r\\nc'.splitlines() }}", "['a', 'b', 'c']")]
    [InlineData("{{ 'x'.center(5, '*') }}|{{ 'ab'.center(5) }}|{{ '7'.zfill(3) }}", "**x**|  ab |007")]
    [InlineData("{{ 'k=v'.partition('=') }}", "('k', '=', 'v')")]
    [InlineData("{{ '%s has %d items' % ('list', 3) }}", "list has 3 items")]
    [InlineData("{{ '한국어😀'|length }}|{{ '한국어😀'[3] }}|{{ '😀a'[1:] }}", "4|😀|a")]
    public void StrMethods(string template, string expected) => Assert.Equal(expected, Jinja.Render(template));

    [Theory]
    [InlineData("{{ '  x  ' | trim }}|{{ 'xxyxx' | trim('x') }}", "x|y")]
    [InlineData("{{ [1, 2, 3] | length }}|{{ 'abc' | count }}", "3|3")]
    [InlineData("{{ x | default('d') }}|{{ '' | default('d', true) }}|{{ none | default('d') }}", "d|d|None")]
    [InlineData("{{ [1, 2] | join(', ') }}|{{ [{'n': 'a'}, {'n': 'b'}] | join('/', attribute='n') }}", "1, 2|a/b")]
    [InlineData("{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}|{{ 'Hi' | upper }}{{ 'Hi' | lower }}", "Hello World|Hello|HIhi")]
    [InlineData("{{ 'aXbX' | replace('X', '-') }}", "a-b-")]
    [InlineData("{{ [3, 1, 2] | first }}{{ [3, 1, 2] | last }}|{{ 'abc' | list }}|{{ 42 | string }}", "32|['a', 'b', 'c']|42")]
    [InlineData("{{ '12' | int + 1 }}|{{ '3.9' | int }}|{{ 'x' | int(7) }}|{{ '1.5' | float }}|{{ 2.5 | round }}|{{ 3.14159 | round(2) }}|{{ 2.675 | round(2) }}|{{ 3.1 | round(0, 'ceil') }}", "13|3|7|1.5|2.0|3.14|2.67|4.0")]
    [InlineData("{{ {'b': 1, 'a': 'é'} | tojson }}|{{ [1, {'x': none}] | tojson(indent=2) }}|{{ 'é' | tojson(ensure_ascii=true) }}", "{\"b\": 1, \"a\": \"é\"}|[\n  1,\n  {\n    \"x\": null\n  }\n]|\"\\u00e9\"")]
    [InlineData("{% for k, v in {'a': 1, 'b': 2} | items %}{{ k }}{{ v }}{% endfor %}", "a1b2")]
    [InlineData("{{ [{'r': 'u'}, {'r': 's'}] | map(attribute='r') | list }}|{{ ['a'] | map('upper') | list }}", "['u', 's']|['A']")]
    [InlineData("{{ [1, 2, 3, 4] | select('even') | list }}|{{ [1, 2, 3, 4] | reject('odd') | list }}|{{ [none, 0, 1] | select | list }}", "[2, 4]|[2, 4]|[1]")]
    [InlineData("{{ [{'r': 'u'}, {'r': 's'}] | selectattr('r', 'equalto', 'u') | list }}|{{ [{'r': 'u'}, {'r': 's'}] | rejectattr('r', 'eq', 'u') | list }}", "[{'r': 'u'}]|[{'r': 's'}]")]
    [InlineData("{{ ['A', 'a', 'b'] | unique | list }}|{{ ['b', 'A', 'c'] | sort }}|{{ [{'n': 2}, {'n': 1}] | sort(attribute='n') }}", "['A', 'b']|['A', 'b', 'c']|[{'n': 1}, {'n': 2}]")]
    [InlineData("{{ [1, 2] | sum }}|{{ [3, 1] | min }}{{ [3, 1] | max }}|{{ [1, 2] | reverse | list }}|{{ {'b': 1, 'a': 2} | dictsort }}", "3|13|[2, 1]|[('a', 2), ('b', 1)]")]
    [InlineData("{{ 'a\\nb' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}", "a\n  b|  a\n  b")]
    [InlineData("{{ '<a href=\"x\">' | e }}|{{ ('<' | safe) + '<' }}", "&lt;a href=&#34;x&#34;&gt;|<&lt;")]
    public void Filters(string template, string expected) => Assert.Equal(expected, Jinja.Render(template));

    [Theory]
    [InlineData("{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ 1 is number }}{{ true is number }}{{ 1 is integer }}{{ true is integer }}{{ 1.0 is float }}", "FalseTrueTrueTrueTrueTrueFalseTrue")]
    [InlineData("{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 3 is iterable }}{{ 'a' is sequence }}{{ true is boolean }}{{ 1 is true }}{{ false is false }}", "TrueTrueTrueFalseTrueTrueFalseTrue")]
    [InlineData("{{ 3 is equalto 3 }}{{ 3 is eq(4) }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 'a' is in 'abc' }}{{ 2 is gt 1 }}{{ none is not none }}", "TrueFalseTrueTrueTrueTrueTrueFalse")]
    public void Tests(string template, string expected) => Assert.Equal(expected, Jinja.Render(template));

    [Theory]
    [InlineData("{% for x in [1, 2, 3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", "1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;")]
    [InlineData("{% for x in ['a', 'b', 'c'] %}{{ loop.previtem }}>{{ x }}<{{ loop.nextitem }} {% endfor %}", ">a<b a>b<c b>c< ")]
    [InlineData("{% for x in [1, 2, 3, 4] if x is even %}{{ loop.index }}:{{ x }} {% endfor %}", "1:2 2:4 ")]
    [InlineData("{% for x in [] %}x{% else %}empty{% endfor %}", "empty")]
    [InlineData("{% for k, v in {'a': 1}.items() %}{{ k }}={{ v }}{% endfor %}", "a=1")]
    [InlineData("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", "0134")]
    [InlineData("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}", "231")]
    [InlineData("{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}", "6")]
    [InlineData("{% set a, b = 1, 2 %}{{ b }}{{ a }}", "21")]
    [InlineData("{% set s %}in {{ 1 + 1 }}{% endset %}[{{ s }}]", "[in 2]")]
    [InlineData("{% macro m(a, b='B') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ m(1, b=2) }}", "1B12")]
    [InlineData("{% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}body{% endcall %}", "<body>")]
    [InlineData("{% macro w() %}{{ caller(5) }}{% endmacro %}{% call(n) w() %}n={{ n }}{% endcall %}", "n=5")]
    [InlineData("{% filter upper %}shout {{ 'this' }}{% endfilter %}", "SHOUT THIS")]
    [InlineData("{% with a = 3 %}{{ a }}{% endwith %}{{ a }}", "3")]
    [InlineData("{% for i in [1, 2] %}{% for j in 'ab' %}{{ loop.index }}{{ j }}{% endfor %}{{ loop.index }}{% endfor %}", "1a2b11a2b2")]
    [InlineData("{% if false %}a{% elif none %}b{% elif 'x' %}c{% else %}d{% endif %}", "c")]
    [InlineData("{% for x in [1, 2] %}{{ loop.cycle('o', 'e') }}{% endfor %}", "oe")]
    public void Statements(string template, string expected) => Assert.Equal(expected, Jinja.Render(template));
}
