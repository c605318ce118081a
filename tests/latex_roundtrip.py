"""Read printed TeX back with SymPy's ``parse_latex`` and compare it with the expression it was printed from.

``parse_latex`` reads ``\\Gamma`` and ``\\psi`` as undefined functions, ``\\log`` as ``log(., E)``, ``e`` and
``\\pi`` as plain symbols, ``\\sigma^{2}`` as a square and ``x_{g}`` as one symbol; it cannot read
``\\operatorname``, ``\\begin{cases}`` or SymPy's ``f{\\left(x\\right)}`` calls. :class:`RoundTrip` rewrites those
forms (without changing what they mean) and maps the parsed result onto the source expression's own symbols and
functions; :func:`same` then compares symbolically, or numerically at random points, row by row for Piecewise and
term by term for infinite series (whose sums SymPy cannot evaluate).
"""

from __future__ import annotations

import random
import re

import sympy as sp

_FUNCTION_CALL = re.compile(r"(\\operatorname\{\w+\}|\\ell|(?<![\\\w])[A-Za-z])\{\\left\(")
_OPERATORNAME = re.compile(r"\\operatorname\{(\w+)\}")
_INDEXED = re.compile(r"^(\w+)_\{(\w+)\}$")


def _matching_brace(tex: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[i], 0)
        if depth == 0:
            return i
    raise ValueError(f"unbalanced braces in {tex!r}")


def _unbrace_calls(tex: str) -> str:
    """SymPy prints ``f{\\left(x \\right)}``; ``parse_latex`` reads a call only as ``f\\left(x\\right)``."""
    while match := _FUNCTION_CALL.search(tex):
        brace = match.end() - len(r"{\left(")
        close = _matching_brace(tex, brace)
        tex = tex[:brace] + tex[brace + 1:close] + tex[close + 1:]
    return tex


def _abs_bars(tex: str) -> str:
    r"""``\left|{a}\right|`` -> ``|a|`` (the form parse_latex reads)."""
    while (start := tex.find(r"\left|{")) >= 0:
        close = _matching_brace(tex, start + len(r"\left|"))
        assert tex.startswith(r"\right|", close + 1), tex
        tex = tex[:start] + "|" + tex[start + len(r"\left|{"):close] + "|" + tex[close + 1 + len(r"\right|"):]
    return tex


def _split_top(tex: str, separator: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(tex):
        if tex.startswith(r"\left", i) or tex[i] == "{":
            depth += 1
        elif tex.startswith(r"\right", i) or tex[i] == "}":
            depth -= 1
        elif depth == 0 and tex.startswith(separator, i):
            parts.append(tex[start:i])
            start = i + len(separator)
        i += 1
    return [*parts, tex[start:]]


def _strip_parens(tex: str) -> str:
    tex = tex.strip()
    if tex.startswith(r"\left(") and tex.endswith(r"\right)"):
        inner = tex[len(r"\left("):-len(r"\right)")]
        if _balanced(inner):
            return _strip_parens(inner)
    return tex


def _balanced(tex: str) -> bool:
    depth = 0
    for i in range(len(tex)):
        if tex.startswith(r"\left", i):
            depth += 1
        elif tex.startswith(r"\right", i):
            depth -= 1
        if depth < 0:
            return False
    return depth == 0


class RoundTrip:
    """Parses printed TeX back and maps it onto the symbols and functions of the expression it came from."""

    def __init__(self, source: sp.Basic):
        from derive import primitives
        from derive.symbols import BY_NAME

        self.symbols = dict(BY_NAME)
        self.symbols.update({s.name: s for s in source.atoms(sp.Symbol)})
        self.functions = {f.func.__name__.lstrip("\\"): f.func for f in source.atoms(sp.Function)}
        self.functions.update({"Gamma": sp.gamma, "psi": sp.digamma})
        self.named_functions = {cls.__name__: cls for cls in primitives.PRIMITIVES}
        self.named_functions.update({"log1p": primitives.log1p, "expm1": primitives.expm1})
        self.placeholders: dict[str, sp.Basic] = {}

    def parse(self, tex: str) -> sp.Basic:
        from sympy.parsing.latex import parse_latex

        tex = self._cases(_abs_bars(_unbrace_calls(tex)))
        tex = _OPERATORNAME.sub(self._operatorname, tex)
        return self._map(parse_latex(tex))

    def _operatorname(self, match: re.Match) -> str:
        name = match.group(1)
        assert name in self.named_functions, f"unknown function \\operatorname{{{name}}}"
        key = f"F_{{{len(self.placeholders)}}}"
        self.placeholders[key] = self.named_functions[name]
        return key

    def _cases(self, tex: str) -> str:
        r"""Parse each ``\begin{cases}`` row apart (parse_latex cannot) and leave a placeholder symbol."""
        begin, end = r"\begin{cases}", r"\end{cases}"
        while (start := tex.find(begin)) >= 0:
            stop = tex.index(end, start)
            assert begin not in tex[start + len(begin):stop], "nested cases"
            rows = []
            for row in tex[start + len(begin):stop].split(r"\\"):
                value, condition = row.split("&")
                rows.append((self.parse(value), self._condition(condition)))
            key = f"Z_{{{len(self.placeholders)}}}"
            self.placeholders[key] = sp.Piecewise(*rows)
            tex = tex[:start] + key + tex[stop + len(end):]
        return tex

    def _condition(self, tex: str) -> sp.Basic:
        tex = tex.strip()
        if tex == r"\text{otherwise}":
            return sp.true
        assert tex.startswith(r"\text{for}\:"), tex
        return self._logic(tex[len(r"\text{for}\:"):])

    def _logic(self, tex: str) -> sp.Basic:
        tex = _strip_parens(tex)
        for separator, combine in ((r"\vee", sp.Or), (r"\wedge", sp.And)):
            parts = _split_top(tex, separator)
            if len(parts) > 1:
                return combine(*(self._logic(part) for part in parts))
        return self.parse(tex)

    def _map(self, parsed: sp.Basic) -> sp.Basic:
        def symbol(s: sp.Symbol) -> sp.Basic:
            if s.name in self.placeholders:
                return self.placeholders[s.name]
            if s.name == "e":
                return sp.E
            if s.name == "pi":
                return sp.pi
            if s.name == "sigma":
                return sp.sqrt(self.symbols["sigma2"])
            if s.name.replace("{", "").replace("}", "") in self.symbols:  # T_{1} is the symbol T_1
                return self.symbols[s.name.replace("{", "").replace("}", "")]
            if match := _INDEXED.match(s.name):
                return sp.IndexedBase(match.group(1))[self.symbols.get(match.group(2), sp.Symbol(match.group(2)))]
            return self.symbols.get(s.name, s)

        expr = parsed.xreplace({s: symbol(s) for s in parsed.atoms(sp.Symbol)})
        expr = expr.replace(lambda e: isinstance(e, sp.log) and len(e.args) == 2,
                            lambda e: sp.log(e.args[0]) / sp.log(e.args[1]))
        def call(e: sp.Basic) -> sp.Basic:
            name = e.func.__name__
            target = self.placeholders.get(name) or self.functions.get(name)
            assert target is not None, f"parsed an unknown function {name}"
            return target(*e.args)

        # bottom up, so that a call inside another call's arguments is mapped too
        return expr.replace(lambda e: isinstance(e, sp.Function)
                            and isinstance(e.func, sp.core.function.UndefinedFunction), call)


def _value(symbol: sp.Basic, rng: random.Random) -> sp.Expr:
    """A random value respecting the symbol's assumptions (counts small integers, positives log-spread)."""
    base = symbol.base.label if isinstance(symbol, sp.Indexed) else symbol
    if base.is_integer or (isinstance(symbol, sp.Indexed) and base.name == "x"):
        return sp.Integer(rng.randint(1 if base.is_positive else 0, 9))
    magnitude = sp.Float(10 ** rng.uniform(-1.2, 1.2), 30)
    if base.is_positive or base.is_nonnegative or isinstance(symbol, sp.Indexed):
        return magnitude
    return magnitude if rng.random() < 0.5 else -magnitude


def _numeric(expr: sp.Basic, values: dict) -> sp.Basic:
    value = expr.xreplace(values).doit()
    indexed = value.atoms(sp.Indexed)
    if indexed:
        rng = random.Random(str(sorted(map(str, indexed))))
        value = value.xreplace({ix: _value(ix, rng) for ix in indexed}).doit()
    return sp.N(value, 30)


def same(a: sp.Basic, b: sp.Basic, points: int = 12) -> bool:
    """``a == b``: structurally for Piecewise, Sum to infinity and Boolean conditions, else by simplification or
    at random points (30 digits)."""
    a, b = sp.sympify(a), sp.sympify(b)
    if isinstance(a, sp.Eq) or isinstance(b, sp.Eq):
        return isinstance(a, sp.Eq) and isinstance(b, sp.Eq) and same(a.lhs, b.lhs) and same(a.rhs, b.rhs)
    if a.has(sp.Piecewise) or b.has(sp.Piecewise):
        a, b = sp.piecewise_fold(a), sp.piecewise_fold(b)
        return (isinstance(a, sp.Piecewise) and isinstance(b, sp.Piecewise) and len(a.args) == len(b.args)
                and all(same(ea, eb) and _same_condition(ca, cb)
                        for (ea, ca), (eb, cb) in zip(a.args, b.args, strict=True)))
    series_a, series_b = _series(a), _series(b)
    if series_a or series_b:  # an unevaluated infinite series: compare term by term, then the rest around it
        if len(series_a) != len(series_b):
            return False
        pairs = list(zip(series_a, series_b, strict=True))
        if not all(sa.limits == sb.limits and same(sa.function, sb.function) for sa, sb in pairs):
            return False
        stand_ins = [sp.Dummy(f"series{i}") for i in range(len(pairs))]
        return same(a.xreplace({sa: d for (sa, _), d in zip(pairs, stand_ins, strict=True)}),
                    b.xreplace({sb: d for (_, sb), d in zip(pairs, stand_ins, strict=True)}))
    try:
        if sp.simplify(a - b) == 0:
            return True
    except (TypeError, ValueError, NotImplementedError):
        pass
    rng = random.Random(0)
    free = sorted(a.free_symbols | b.free_symbols, key=sp.default_sort_key)
    for _ in range(points):
        values = {s: _value(s, rng) for s in free}
        va, vb = _numeric(a, values), _numeric(b, values)
        if not (va.is_number and vb.is_number):
            return False
        if abs(va - vb) > sp.Float("1e-20") * max(abs(va), abs(vb), 1):
            return False
    return True


def _series(expr: sp.Basic) -> list[sp.Sum]:
    return sorted((e for e in expr.atoms(sp.Sum) if e.has(sp.oo)), key=sp.default_sort_key)


def _same_condition(a: sp.Basic, b: sp.Basic, points: int = 40) -> bool:
    if a == b:
        return True
    rng = random.Random(1)
    free = sorted(a.free_symbols | b.free_symbols, key=sp.default_sort_key)
    for _ in range(points):
        values = {s: _value(s, rng) for s in free}
        va, vb = a.xreplace(values), b.xreplace(values)
        if not (isinstance(va, sp.logic.boolalg.BooleanAtom) and va == vb):
            return False
    return True


def check_fragment(tex: str, record) -> str | None:
    """None if ``tex`` parses back to ``record``'s expression, else why not."""
    lhs, rhs = record.lhs, record.rhs
    if isinstance(rhs, sp.Contains):
        return None  # set membership (x in N_0): parse_latex has no sets; checked for provenance only
    trip = RoundTrip(rhs if lhs is None else sp.Tuple(lhs, rhs))
    try:
        if isinstance(lhs, sp.Symbol) and "\\" in lhs.name:
            # A label written in TeX (\partial_{\mu}\mathcal{L}): printed verbatim, the right-hand side parsed.
            label = f"{lhs.name} = "
            if not tex.startswith(label):
                return f"label {lhs.name!r} not printed verbatim"
            parsed, expected = trip.parse(tex[len(label):]), rhs
        else:
            parsed = trip.parse(tex)
            expected = rhs if lhs is None else sp.Eq(lhs, rhs, evaluate=False)
    except Exception as error:  # parse_latex raises its own error types
        return f"does not parse: {type(error).__name__}: {error}"
    if not same(parsed, expected):
        return f"parses to {parsed}, not {expected}"
    return None
