"""Double-double arithmetic written once in the implementation language: value = hi + lo, |lo| <= ulp(hi)/2,
about 2^-104 relative per operation, for the rare inputs where a kernel's double-precision parts cancel.

Only IEEE double arithmetic (exact products by Dekker's split, not fma(), which -std=c99 on x86-64 calls through
libm, and which numpy lacks): the same result on every platform and in every backend, whatever its long double.
Products overflow in the split beyond ~1e300: a non-finite refinement is discarded by its caller. Every backend
prints these (LIBRARY) before its runtime, whose double-double elementary functions (log, the series with a
data-dependent number of terms) build on them; :class:`~derive.numerics.ir.D`'s operators call them.
"""

from __future__ import annotations

import sympy as sp

from derive.numerics.ir import PAIR, D, F, Function, call, function, pair

#: 2^27 + 1: Dekker's split of a double into two halves of 26 bits whose products are exact.
SPLIT = 134217729.0


def _pair_function(name: str, params: str, body, doc: str, types: str = "", lets=None) -> Function:
    kinds = dict(zip(params.split(), types.split(), strict=True)) if types else {}
    return function(name, params, body, doc, types=kinds, result=PAIR, lets=lets)


def _p(name: str) -> D:
    return D(sp.Symbol(name))


TWO_SUM = _pair_function("dd_sum", "a b", lambda a, b, s, bb: pair(s, (a - (s - bb)) + (b - bb)),
                         "The exact sum a + b (Knuth's TwoSum).", lets=lambda a, b: {"s": a + b, "bb": F(
                             sp.Symbol("s")) - a})
FAST_TWO_SUM = _pair_function("dd_fast", "a b", lambda a, b, s: pair(s, b - (s - a)),
                              "a + b exactly for |a| >= |b| (Dekker's FastTwoSum).", lets=lambda a, b: {"s": a + b})


def _prod_lets(a: F, b: F) -> dict:
    ca, cb, ah, bh = (F(sp.Symbol(n)) for n in ("ca", "cb", "ah", "bh"))
    return {"ca": SPLIT * a, "cb": SPLIT * b, "ah": ca - (ca - a), "al": a - ah, "bh": cb - (cb - b), "bl": b - bh,
            "p": a * b}


PROD = _pair_function(
    "dd_prod", "a b",
    lambda a, b, ca, cb, ah, al, bh, bl, p: pair(p, ((ah * bh - p) + ah * bl + al * bh) + al * bl),
    "The exact product a b (Dekker): a and b split into 26-bit halves whose products are exact.", lets=_prod_lets)
OF = _pair_function("dd_of", "a", lambda a: pair(a, 0.0), "a as a pair.")
NEG = _pair_function("dd_neg", "a", lambda a: pair(-D(a.expr).hi, -D(a.expr).lo), "-a.", "pair")
VALUE = function("dd_value", "a", lambda a: D(a.expr).hi + D(a.expr).lo, "hi + lo, rounded to a double.",
                 types={"a": PAIR})
SCALE = _pair_function("dd_scale", "a c", lambda a, c: pair(c * D(a.expr).hi, c * D(a.expr).lo),
                       "a c, exact for a power of 2 c.", "pair real")


def _add(a: F, b: F, s: F, t: F, u: F) -> D:
    return call(FAST_TWO_SUM, D(u.expr).hi, D(u.expr).lo + D(t.expr).lo)


ADD = _pair_function("dd_add", "a b", _add, "a + b.", "pair pair", lets=lambda a, b: {
    "s": call(TWO_SUM, D(a.expr).hi, D(b.expr).hi), "t": call(TWO_SUM, D(a.expr).lo, D(b.expr).lo),
    "u": call(FAST_TWO_SUM, _p("s").hi, _p("s").lo + _p("t").hi)})
ADD_PLAIN = _pair_function(
    "dd_add_plain", "a b",
    lambda a, b, s: call(FAST_TWO_SUM, D(s.expr).hi, D(s.expr).lo + (D(a.expr).lo + D(b.expr).lo)),
    "a + b where they do not cancel (same sign, or |b| far below |a|): one TwoSum instead of two.", "pair pair",
    lets=lambda a, b: {"s": call(TWO_SUM, D(a.expr).hi, D(b.expr).hi)})
SUB = _pair_function("dd_sub", "a b", lambda a, b: call(ADD, a, call(NEG, b)), "a - b.", "pair pair")


def _mul(renormalise: Function, name: str, doc: str) -> Function:
    def body(a: F, b: F, p: F) -> D:
        x, y = D(a.expr), D(b.expr)
        return call(renormalise, D(p.expr).hi, D(p.expr).lo + (x.hi * y.lo + x.lo * y.hi))

    return _pair_function(name, "a b", body, doc, "pair pair",
                          lets=lambda a, b: {"p": call(PROD, D(a.expr).hi, D(b.expr).hi)})


MUL = _mul(FAST_TWO_SUM, "dd_mul", "a b.")
MUL_SUM = _mul(TWO_SUM, "dd_mul_sum", "a b renormalised by a full TwoSum (the low parts' products may be as large "
                                      "as the high part's error).")


def _div_lets(a: F, b: F) -> dict:
    x, y = D(a.expr), D(b.expr)
    q1, q2, r1, r2 = (F(sp.Symbol(n)) for n in ("q1", "q2", "r1", "r2"))
    return {"q1": x.hi / y.hi, "r1": call(SUB, x, call(MUL, y, call(OF, q1))), "q2": D(r1.expr).hi / y.hi,
            "r2": call(SUB, r1, call(MUL, y, call(OF, q2))), "q3": D(r2.expr).hi / y.hi}


DIV = _pair_function("dd_div", "a b", lambda a, b, q1, r1, q2, r2, q3: call(ADD, call(FAST_TWO_SUM, q1, q2),
                                                                            call(OF, q3)),
                     "a / b to about 2^-104: three double quotients, each from the exact remainder of the previous.",
                     "pair pair", lets=_div_lets)
RECIP = _pair_function(
    "dd_recip", "b", lambda b, q, p, remainder: call(FAST_TWO_SUM, q, remainder * q),
    "1 / b: q = 1/b.hi, and the remainder 1 - q b (exact for the b.hi part) gives the correction.", "pair",
    lets=lambda b: {"q": 1.0 / D(b.expr).hi, "p": call(PROD, F(sp.Symbol("q")), D(b.expr).hi),
                    "remainder": ((1.0 - _p("p").hi) - _p("p").lo) - F(sp.Symbol("q")) * D(b.expr).lo})

#: Printed by every backend, in this order (each after what it calls), before the backend's runtime.
LIBRARY: tuple[Function, ...] = (TWO_SUM, FAST_TWO_SUM, PROD, OF, NEG, VALUE, SCALE, ADD, ADD_PLAIN, SUB, MUL,
                                 MUL_SUM, DIV, RECIP)
BY_NAME = {fn.name: fn for fn in LIBRARY}
