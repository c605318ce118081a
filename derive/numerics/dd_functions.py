"""Double-double elementary functions written once, on the arithmetic of derive/numerics/dd.py: the logarithm (a
table reduction and the atanh series), log(1 + t) - t near 0, and the two digamma series of the theta-score's
refinements.

Each series has a fixed number of terms: all of its table, which derive/series.py sizes for the largest argument the
callers pass (to TAIL_DD of the term it is added to), the first ``*_exact`` in double-double and the rest, below
2^-56 of the sum, in double precision. A varying count (fewer terms at smaller arguments) would save operations only
in refinements, which few elements enter, and it is no expression: a fixed count keeps the functions plain
expressions that every backend prints, vectorised or not.

What remains no expression is two bit-level runtime functions (derive/numerics/runtime.py): ``binary_exponent`` and
``times_pow2`` (frexp and ldexp).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from derive.numerics.ir import PAIR, D, F, Function, call, dd, function, libm, lookup, pair, pair_constant, runtime

#: 1/sqrt(2) rounded to a double: logarithms reduce their argument's mantissa to [1/sqrt 2, sqrt 2).
INV_SQRT2 = 0.70710678118654752


def _series(w: D, coefficients, exact: int) -> tuple[dict, D]:
    """(lets, value) of sum_j c[j] w^(j+1) by Horner's rule: the terms from ``exact`` on in double precision on w's
    leading part, the first ``exact`` in double-double (``acc = (c[j] + acc) w``; |acc| <= |c[j]| w/(1 - w), so the
    additions do not cancel)."""
    lets: dict = {}
    tail: F | None = None
    for j in range(len(coefficients) - 1, exact - 1, -1):
        tail = F(coefficients[j][0]) * w.hi if tail is None else (tail + coefficients[j][0]) * w.hi
    acc = dd("dd_of", 0.0 if tail is None else tail)
    for j in range(exact - 1, -1, -1):
        name = f"acc{j}"
        lets[name] = dd("dd_mul", dd("dd_add_plain", pair_constant(coefficients[j]), acc), w)
        acc = D(sp.Symbol(name))
    return lets, acc


def _pair_function(name: str, params: str, lets: Callable[..., dict], value: Callable[..., D], doc: str,
                   helpers: tuple[Function, ...] = ()) -> Function:
    """A function of pairs whose lets and value are built from its parameters (as D) alone: the lets refer to one
    another by name (``D(sp.Symbol(name))``)."""
    count = len(params.split())
    return function(name, params, lambda *args: value(*(D(a.expr) for a in args[:count])), doc,
                    lets=lambda *args: lets(*(D(a.expr) for a in args)), types=dict.fromkeys(params.split(), PAIR),
                    result=PAIR, helpers=helpers)


def _let(name: str) -> D:
    return D(sp.Symbol(name))


def atanh_tail(coef) -> Function:
    lets, value = _series(_let("w"), coef.dd_atanh, coef.dd_atanh_exact)
    return _pair_function("dd_atanh_tail", "w", lambda w: lets, lambda w: value,
                          "sum_j 1/(2j+1) w^j (j >= 1): log((1+v)/(1-v)) = 2 v (1 + this) at w = v^2, |v| below the "
                          "log table's half step (a few terms).")


def _table_pair(table: str, index: F) -> D:
    return pair(lookup(f"{table}_hi", index), lookup(f"{table}_lo", index))


def log(coef) -> Function:
    """log(y), y > 0: y = 2^e m with m in [1/sqrt 2, sqrt 2), m = c (1+v)/(1-v) with c = 1 + i/DD_LOG_STEPS the
    nearest table point (exact), and log((1+v)/(1-v)) = 2 v (1 + atanh tail)."""
    tail = atanh_tail(coef)
    steps, offset = float(coef.dd_log_steps), float(-coef.dd_log_first)

    def lets(y: D) -> dict:
        e, m, i, c, v, two_v = (F(sp.Symbol(n)) for n in ("e", "m", "i", "c", "v", "two_v"))
        return {"e": runtime("binary_exponent", y.hi),
                "m": pair(runtime("times_pow2", y.hi, -e), runtime("times_pow2", y.lo, -e)),
                "i": libm("rint", (D(m.expr).hi - 1.0) * steps), "c": 1.0 + i / steps,
                "v": (D(m.expr) + dd("dd_of", -c)) / (D(m.expr) + dd("dd_of", c)),
                "two_v": dd("dd_scale", D(v.expr), 2.0),
                "log_m": _table_pair("dd_log", i + offset) + (D(two_v.expr) + D(two_v.expr) * D(
                    call(tail, D(v.expr) * D(v.expr)).expr))}

    return _pair_function("dd_log", "y", lets,
                          lambda y: pair_constant(coef.dd_ln2) * dd("dd_of", F(sp.Symbol("e"))) + _let("log_m"),
                          log.__doc__ or "", helpers=(tail,))


def log1pmx_series(coef) -> Function:
    """log(1 + t) - t for |t| < DEVIANCE_SERIES_BELOW: with c = 1 + d the table point nearest to 1 + t and
    v = (t - d)/(2 + t + d), it is log(c) - d (the table) + 2 v (1 + atanh tail) - (t - d), and
    2 v - (t - d) = -v (t + d): no leading terms cancel."""
    tail = atanh_tail(coef)
    steps, offset = float(coef.dd_log_steps), float(-coef.dd_log_first)

    def lets(t: D) -> dict:
        i, d, t_plus_d, v = (F(sp.Symbol(n)) for n in ("i", "d", "t_plus_d", "v"))
        return {"i": libm("rint", t.hi * steps), "d": i / steps, "t_plus_d": t + dd("dd_of", d),
                "v": (t + dd("dd_of", -d)) / (D(t_plus_d.expr) + dd("dd_of", 2.0)),
                "tail": D(call(tail, D(v.expr) * D(v.expr)).expr)}

    def value(t: D) -> D:
        tail_value = _let("tail")
        return _table_pair("dd_log1pmx", F(sp.Symbol("i")) + offset) + _let("v") * (
            (tail_value + tail_value) - _let("t_plus_d"))

    return _pair_function("dd_log1pmx_series", "t", lets, value, log1pmx_series.__doc__ or "", helpers=(tail,))


def psilog_series(coef) -> Function:
    """psi(z) - log(z) for z >= DD_ASYMPTOTIC_FROM: -1/(2z) - sum_k B_2k/(2k) z^-2k, the asymptotic series."""

    def lets(z: D) -> dict:
        inv = _let("inv")
        series_lets, value = _series(_let("w"), coef.dd_digamma, coef.dd_digamma_exact)
        return {"inv": dd("dd_recip", z), "w": inv * inv, **series_lets, "acc": value}

    return _pair_function("dd_psilog_series", "z", lets,
                          lambda z: -(dd("dd_scale", _let("inv"), 0.5) + _let("acc")), psilog_series.__doc__ or "")


def psir_divided(coef) -> Function:
    """sum_k c_k (p^k - q^k)/(p - q), c_k = B_2k/(2k), for 0 < q < p <= 1/DD_ASYMPTOTIC_FROM^2: Horner's rule for
    A_k = c_k + p A_(k+1) and, alongside, for the divided difference D_k = A_(k+1) + q D_(k+1) (D_0 is the result).
    Every step adds a term far below the one it is added to: nothing cancels. The terms from DD_PSIR_EXACT on are
    summed in double precision."""
    c, exact = coef.dd_psir, coef.dd_psir_exact
    if exact < 1:
        raise ValueError("dd_psir_divided sums its leading term in double-double (dd_psir_exact >= 1)")

    def lets(p: D, q: D) -> dict:
        values: dict = {}
        a: F = F(c[-1][0])
        d: F | None = None  # D_(n-1) = 0
        for j in range(len(c) - 2, exact - 1, -1):
            values[f"d{j}"] = a if d is None else a + q.hi * d
            values[f"a{j}"] = c[j][0] + p.hi * a
            a, d = F(sp.Symbol(f"a{j}")), F(sp.Symbol(f"d{j}"))
        a_pair, d_pair = dd("dd_of", a), dd("dd_of", 0.0 if d is None else d)
        for j in range(exact - 1, -1, -1):
            values[f"dd_d{j}"] = dd("dd_add_plain", a_pair, q * d_pair)
            values[f"dd_a{j}"] = dd("dd_add_plain", pair_constant(c[j]), p * a_pair)
            a_pair, d_pair = _let(f"dd_a{j}"), _let(f"dd_d{j}")
        return values

    return _pair_function("dd_psir_divided", "p q", lets,
                          lambda p, q: dd("dd_add_plain", _let("dd_a0"), q * _let("dd_d0")),
                          psir_divided.__doc__ or "")


def stage_coefficients(coef):
    """The coefficients the double-double functions of ``coef``'s kernels are built from: its own, or, for a
    precision whose refinements are a wider one's (float32's are float64's, derive/precision.py), the wider one's."""
    from derive.precision import precision
    from derive.series import coefficients

    return coefficients(precision(coef.wider)) if coef.wider else coef


#: The functions by name, each built from a precision's coefficients (primitives call them through ``dd(name)``).
ELEMENTARY: dict[str, Callable[..., Function]] = {
    "dd_log": log, "dd_log1pmx_series": log1pmx_series, "dd_psilog_series": psilog_series,
    "dd_psir_divided": psir_divided}
