"""The kernels' own elementary functions: e^x, log1p, softplus and log1p of a quotient."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derive.numerics.ir import (
    F,
    Function,
    apply,
    call,
    function,
    let_symbols,
    libm,
    polynomial,
    regime,
    runtime,
)
from derive.primitives.base import _R, PrimitiveBase

if TYPE_CHECKING:
    from derive.series import Coefficients
from derive.primitives.predicates import IsInf


class Exp(PrimitiveBase):
    """e^x: the kernels' own, arithmetic alone in the ordinary range, so that loops of it vectorise."""

    nargs = 1
    c_name = "exp"
    error_bound = 1.0
    domain = ((("uniform", -708.0, 709.7), ("uniform", -1.0, 1.0)),)

    @classmethod
    def definition(cls, x: sp.Expr) -> sp.Expr:
        return sp.exp(x)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        inline = _exp_inline(coef)
        return function("exp", "x", lambda x: libm("exp", x),
                        "The inline form where it applies, the library's exp beyond (overflow, underflow, inf, NaN).",
                        regimes=lambda x: [regime(abs(x) <= float(coef.exp_inline_up_to), call(inline, x),
                                                  name="inline")],
                        default_name="library", helpers=(inline,))


def _exp_inline(coef: Coefficients) -> Function:
    """e^x for |x| <= EXP_INLINE_UP_TO: x = k ln2 + r with |r| <= ln2/2 (k ln2_hi exact, so r is exact but for
    ln2_lo's rounding), e^r by its Taylor polynomial, then times 2^k, written into the exponent bits (a runtime
    function: k + 1023 in 2..2045, a normal power, and the product is normal too). k comes from the bits of
    x/ln2 + 1.5 * 2^(p-1) (EXP_SHIFT, p the significand's bits), which rounds x/ln2 to an integer."""
    shift = coef.exp_shift
    shifted, k, r = let_symbols("shifted", "k", "r")
    tail = coef.exp_tail[0] + polynomial(r, "exp_tail", 1, len(coef.exp_tail))
    return function("exp_inline", "x", lambda x, *_: (1.0 + (r + r * r * tail)) * runtime("pow2_of_shifted", shifted),
                    _exp_inline.__doc__ or "",
                    lets=lambda x: {"shifted": x * coef.inv_ln2 + shift, "k": shifted - shift,
                                    "r": (x - k * coef.ln2_hi) - k * coef.ln2_lo})


class Log1p(PrimitiveBase):
    """log(1 + r): above 1/4 log(s), s = 1 + r, less the rounding of s, c = (s - 1) - r, over s (both differences
    exact): within about an ulp, like log1p, where glibc's log costs ~3 ns and its log1p 8 to 11 (x86-64, glibc
    2.36). Libm's log1p below 1/4 (and at inf, NaN)."""

    nargs = 1
    c_name = "log1p"
    error_bound = 1.0
    domain = ((("uniform", -0.999, 1.0), ("log", 1e-300, 1e300)),)

    @classmethod
    def definition(cls, r: sp.Expr) -> sp.Expr:
        return sp.log(1 + r)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        (s,), r = let_symbols("s"), F(_R)
        above = regime((r >= 0.25) & (r < sp.oo), libm("log", s) - ((s - 1.0) - r) / s, {s: 1.0 + r},
                       name="above")
        return function("log1p", "r", lambda r: libm("log1p", r), "Log of s = 1 + r corrected above 1/4.",
                        regimes=lambda r: [above], default_name="library")


class Log1pDiv(PrimitiveBase):
    """log(1 + a/b) for a, b > 0: log1p where a/b is a double, log(a) - log(b) where the quotient overflows."""

    nargs = 2
    c_name = "log1pdiv"
    error_bound = 2.0
    domain = ((("log", 1e-300, 1e300),), (("log", 1e-300, 1e300),))

    @classmethod
    def definition(cls, a: sp.Expr, b: sp.Expr) -> sp.Expr:
        return sp.log(1 + a / b)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        return function("log1pdiv", "a b", lambda a, b, q: apply(Log1p, q),
                        "log1p(a/b), log(a) - log(b) where the quotient overflows (an infinite a gives inf).",
                        lets=lambda a, b: {"q": a / b},
                        regimes=lambda a, b, q: [regime(IsInf(q.expr), libm("log", a) - libm("log", b),
                                                        name="overflow")], default_name="quotient")


class Softplus(PrimitiveBase):
    """log(1 + e^z) without overflow: log-space NB at huge log means."""

    nargs = 1
    c_name = "softplus"
    error_bound = 2.0
    domain = ((("uniform", -700.0, 700.0), ("uniform", -5.0, 5.0)),)

    @classmethod
    def definition(cls, z: sp.Expr) -> sp.Expr:
        return sp.log(1 + sp.exp(z))

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        return function("softplus", "z", lambda z: libm("log1p", libm("exp", z)),
                        "z + log1p(e^-z) for z > 0, log1p(e^z) elsewhere: no e^z overflows.",
                        regimes=lambda z: [regime(z > 0.0, z + libm("log1p", libm("exp", -z)), name="positive")],
                        default_name="negative")
