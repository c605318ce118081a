"""Numerical primitives: functions a kernel calls instead of the cancelling formula they stand for.

Each primitive is a SymPy function with an exact ``definition`` in standard functions. The symbolic core sees
through it (:func:`unfold`), so a stable form written with primitives is *proved* equal to the plain derivation;
the backends call a native implementation (``derive/backends/<lang>/templates``) whose series coefficients are
derived here by SymPy (:mod:`derive.series`). Predicates (NaN, infinity, integrality) are Boolean functions so
that kernels can state the scipy conventions as ordinary Piecewise conditions.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.logic.boolalg import BooleanFunction


class PrimitiveBase(sp.Function):
    """A function with an exact definition and a native, stable implementation in every backend.

    (The name ends in ``Base`` because SymPy's printers only dispatch on such intermediate classes:
    ``_print_PrimitiveBase`` handles every primitive.)
    """

    #: The name of the native implementation (``nbk_<c_name>`` in C, ``_<c_name>`` in numpy).
    c_name: str = ""
    #: Sums over k < n of their first argument n are empty at n = 0: SymPy folds them to 0 there (x = 0 branches).
    empty_at_zero_count: bool = False

    @classmethod
    def eval(cls, *args: sp.Expr):
        if cls.empty_at_zero_count and args[0] == 0:
            return sp.S.Zero
        return None

    @classmethod
    def definition(cls, *args: sp.Expr) -> sp.Expr:
        raise NotImplementedError

    def unfolded(self) -> sp.Expr:
        return self.definition(*self.args)

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.unfolded()._eval_evalf(prec)


class Log1pmx(PrimitiveBase):
    """log(1 + t) - t: the Poisson-limit and near-mode residue, O(t^2) for small t."""

    nargs = 1
    c_name = "log1pmx"

    @classmethod
    def definition(cls, t: sp.Expr) -> sp.Expr:
        return sp.log(1 + t) - t


class Dev1p(PrimitiveBase):
    """(1 + t) log(1 + t) - t >= 0: the deviance bd0(a, b) = b * Dev1p(a/b - 1), O(t^2) for small t."""

    nargs = 1
    c_name = "dev1p"

    @classmethod
    def definition(cls, t: sp.Expr) -> sp.Expr:
        return (1 + t) * sp.log(1 + t) - t


class Stirlerr(PrimitiveBase):
    """log Gamma(z) minus its Stirling approximation: small for large z, computed without cancellation."""

    nargs = 1
    c_name = "stirlerr"

    @classmethod
    def definition(cls, z: sp.Expr) -> sp.Expr:
        return sp.loggamma(z) - (z - sp.Rational(1, 2)) * sp.log(z) + z - sp.log(2 * sp.pi) / 2


class StirlerrCount(PrimitiveBase):
    """Stirlerr at a count n >= 1: a table below the asymptotic range's reach, the series beyond (no lgamma)."""

    nargs = 1
    c_name = "stirlerr_count"

    @classmethod
    def definition(cls, n: sp.Expr) -> sp.Expr:
        return Stirlerr.definition(n)


class LogRising1p(PrimitiveBase):
    """log(Gamma(n + z)/(Gamma(z) z^n)) = sum_{k<n} log(1 + k/z) for a small integer n: no x*log(theta) left."""

    nargs = 2
    c_name = "lrising1p"
    empty_at_zero_count = True

    @classmethod
    def definition(cls, n: sp.Expr, z: sp.Expr) -> sp.Expr:
        return sp.loggamma(n + z) - sp.loggamma(z) - n * sp.log(z)


class LogPowRising(PrimitiveBase):
    """n log(m) + LogRising1p(n, z) = log(prod_{k<n} m (1 + k/z)): one logarithm for a small count.

    The product of n factors carries about 2n rounding errors, an absolute error of ~2n 2^-53 in the log: for
    n < 16 far below the log-PMF's own size, and it saves a logarithm per nonzero count.
    """

    nargs = 3
    c_name = "lpowrising"
    empty_at_zero_count = True

    @classmethod
    def definition(cls, n: sp.Expr, m: sp.Expr, z: sp.Expr) -> sp.Expr:
        return n * sp.log(m) + LogRising1p.definition(n, z)


class Lfact(PrimitiveBase):
    """log(n!) for a count n: a table for small n, log Gamma(n + 1) beyond."""

    nargs = 1
    c_name = "lfact"

    @classmethod
    def definition(cls, n: sp.Expr) -> sp.Expr:
        return sp.loggamma(n + 1)


class PsilogDiff(PrimitiveBase):
    """psi(n + z) - psi(z) - log(1 + n/z): the digamma difference with its logarithm taken out.

    It is O(n/z^2) when z is large, where the plain digamma difference loses every digit (theta ~ 1e8).
    """

    nargs = 2
    c_name = "psilogdiff"
    empty_at_zero_count = True

    @classmethod
    def definition(cls, n: sp.Expr, z: sp.Expr) -> sp.Expr:
        return sp.polygamma(0, n + z) - sp.polygamma(0, z) - sp.log(1 + n / z)


class RisingRecipDev(PrimitiveBase):
    """sum_{k<n} (m - k)/((z + k)(z + m)) = psi(n + z) - psi(z) - n/(z + m), for a small integer n.

    The digamma difference with n/(z + m) taken out term by term: at m -> 0 and n = 1 it is O(m), where
    psi(1 + z) - psi(z) = 1/z and n/(z + m) would cancel to nothing.
    """

    nargs = 3
    c_name = "rrecipdev"
    empty_at_zero_count = True

    @classmethod
    def definition(cls, n: sp.Expr, z: sp.Expr, m: sp.Expr) -> sp.Expr:
        return sp.polygamma(0, n + z) - sp.polygamma(0, z) - n / (z + m)


class GradThetaLead(PrimitiveBase):
    """x/(2 theta (x+theta)) - s^2/2 + s^3/3, s = (x-mu)/(theta+mu): the leading part of the theta-gradient.

    Its terms cancel where the gradient changes sign (about one standard deviation from the mean); the
    implementation forms the numerator over (theta+mu)^3 with error-free (double-double) products. Beyond theta = 2^47
    that keeps too few digits near the zero (the numerator's terms are ~x theta^3, the result ~theta^2 x): there the
    numerator is expanded in powers of theta, each coefficient formed from x, mu and x - mu alone, and beyond 1e50
    (theta^5 would overflow) it is the series (x - (x-mu)^2)/(2 theta^2) + c3/theta^3.
    """

    nargs = 3
    c_name = "gradthetalead"

    @classmethod
    def definition(cls, x: sp.Expr, mu: sp.Expr, theta: sp.Expr) -> sp.Expr:
        s = (x - mu) / (theta + mu)
        return x / (2 * theta * (x + theta)) - s**2 / 2 + s**3 / 3


class Log1pmx4(PrimitiveBase):
    """log(1 + t) - t + t^2/2 - t^3/3 = O(t^4): log1p(t) - t once its leading terms are taken out."""

    nargs = 1
    c_name = "log1pmx4"

    @classmethod
    def definition(cls, t: sp.Expr) -> sp.Expr:
        return sp.log(1 + t) - t + t**2 / 2 - t**3 / 3


class PsilogDiffR(PrimitiveBase):
    """PsilogDiff(n, z) - n/(2 z (n+z)): the O(n/z^3) remainder of the digamma difference."""

    nargs = 2
    c_name = "psilogdiffr"
    empty_at_zero_count = True

    @classmethod
    def definition(cls, n: sp.Expr, z: sp.Expr) -> sp.Expr:
        return sp.polygamma(0, n + z) - sp.polygamma(0, z) - sp.log(1 + n / z) - n / (2 * z * (n + z))


class ScoreTheta(PrimitiveBase):
    """psi(x+theta) - psi(theta) + log(theta/(theta+mu)) + (mu-x)/(theta+mu) (the theta-score), given a + b = it.

    a and b are the two parts of a stable double-precision form of the score (e.g. RisingRecipDev and Log1pmx).
    Where the gradient changes sign they cancel, and each part's few-ulp error becomes a large relative one: there
    (|a + b| < REFINE_BELOW (|a| + |b|), derive/series.py) the implementation recomputes the same two parts in x87
    long double where the platform has it (2^-64), and where they cancel even further (or without such a long
    double) in double-double (about 2^-104); elsewhere it returns a + b. The definition does not depend on a and b:
    they are the value itself, computed in double precision, which the implementation only refines.
    """

    nargs = 5
    c_name = "scoretheta"

    @classmethod
    def eval(cls, a: sp.Expr, b: sp.Expr, *rest: sp.Expr):
        # With one part zero there is nothing to cancel: the other part is the value (at x = 0, a sum over k < x).
        if a == 0:
            return b
        if b == 0:
            return a
        return None

    @classmethod
    def definition(cls, a: sp.Expr, b: sp.Expr, x: sp.Expr, mu: sp.Expr, theta: sp.Expr) -> sp.Expr:
        return (sp.polygamma(0, x + theta) - sp.polygamma(0, theta) + sp.log(theta / (theta + mu))
                + (mu - x) / (theta + mu))


class ScoreThetaAsymptotic(PrimitiveBase):
    """The theta-score (as ScoreTheta), given a + b + c = it: the three parts of its asymptotic split near its zero.

    a, b and c are GradThetaLead(x, mu, theta), Log1pmx4(s) and PsilogDiffR(x, theta), s = (x-mu)/(theta+mu), each
    accurate to a few ulps of itself. Where the gradient changes sign they cancel (|a + b + c| < REFINE_BELOW_ASYMPTOTIC
    (|a| + |b| + |c|), derive/series.py): there the implementation recomputes the score in double-double as
    x/(2 theta (x+theta)) + PsilogDiffR(x, theta) + Log1pmx(s), PsilogDiffR as (p - q) times a divided difference of
    the digamma series, p = 1/theta^2, q = 1/(x+theta)^2. No digamma of size log theta is subtracted, so only the final
    sum cancels and the precision does not depend on theta (up to theta ~ 1e154, where its products would overflow and
    the double sum is kept). Below theta = 16 (DD_ASYMPTOTIC_FROM), where that series does not reach double-double
    precision, it recomputes as ScoreTheta does. Elsewhere it returns a + b + c. As for ScoreTheta, the definition does
    not depend on the parts.
    """

    nargs = 6
    c_name = "scorethetaasym"

    @classmethod
    def definition(cls, a: sp.Expr, b: sp.Expr, c: sp.Expr, x: sp.Expr, mu: sp.Expr, theta: sp.Expr) -> sp.Expr:
        return ScoreTheta.definition(a, b, x, mu, theta)


class GaussLogpdf(PrimitiveBase):
    """-log(2 pi sigma2)/2 - (x-mu)^2/(2 sigma2), given a + b = it (a the log term, b the quadratic one).

    Where the density is near 1 the two terms cancel, and log(2 pi sigma2) of an argument near 1 has an absolute
    error of an ulp: there (|a + b| < REFINE_BELOW (|a| + |b| + 1/2)) the implementation recomputes both terms in
    double-double, elsewhere it returns a + b.
    """

    nargs = 5
    c_name = "gausslogpdf"

    @classmethod
    def definition(cls, a: sp.Expr, b: sp.Expr, x: sp.Expr, mu: sp.Expr, sigma2: sp.Expr) -> sp.Expr:
        return -sp.log(2 * sp.pi * sigma2) / 2 - (x - mu) ** 2 / (2 * sigma2)


class Log1pDiv(PrimitiveBase):
    """log(1 + a/b) for a, b > 0: log1p where a/b is a double, log(a) - log(b) where the quotient overflows."""

    nargs = 2
    c_name = "log1pdiv"

    @classmethod
    def definition(cls, a: sp.Expr, b: sp.Expr) -> sp.Expr:
        return sp.log(1 + a / b)


class AtanhTail(PrimitiveBase):
    """atanh(sqrt(w))/sqrt(w) - 1 = w/3 + w^2/5 + ...: log1p(u) = 2 v (1 + AtanhTail(v^2)) with v = u/(2+u).

    Native code sums the series, truncated for w <= 1/49 (v <= 1/7, derive/series.py); callers stay there. A short
    polynomial instead of a log call, and its terms are what log1p(u) - u/(1+u) leaves, without cancellation.
    """

    nargs = 1
    c_name = "atanh_tail"

    @classmethod
    def definition(cls, w: sp.Expr) -> sp.Expr:
        return sp.atanh(sp.sqrt(w)) / sp.sqrt(w) - 1


class Softplus(PrimitiveBase):
    """log(1 + e^z) without overflow: log-space NB at huge log means."""

    nargs = 1
    c_name = "softplus"

    @classmethod
    def definition(cls, z: sp.Expr) -> sp.Expr:
        return sp.log(1 + sp.exp(z))


Primitive = PrimitiveBase

PRIMITIVES: tuple[type[Primitive], ...] = (
    Log1pmx, Dev1p, Stirlerr, StirlerrCount, LogRising1p, LogPowRising, Lfact, PsilogDiff, RisingRecipDev,
    GradThetaLead, Log1pmx4, PsilogDiffR, ScoreTheta, ScoreThetaAsymptotic, GaussLogpdf, Log1pDiv, AtanhTail,
    Softplus,
)


# --------------------------------------------------------------------------------------------------------
# Predicates for the conventions (NaN in, NaN out; non-integer counts have probability 0; ...)


class IsNaN(BooleanFunction):
    """True where the argument is NaN."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr):
        if arg.is_number and arg.is_finite is not None:
            return sp.false
        return None


class IsInf(BooleanFunction):
    """True where the argument is +infinity (theta = +inf is the Poisson limit, a valid input)."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr):
        if arg.is_number:
            return sp.true if arg == sp.oo else sp.false
        return None


class NotCount(BooleanFunction):
    """True where the argument is not a non-negative integer (negative, fractional or infinite)."""

    nargs = 1


PREDICATES = (IsNaN, IsInf, NotCount)


def unfold(expr: sp.Expr) -> sp.Expr:
    """Replace every primitive (and log1p/expm1) by its definition, for proofs and high-precision checks."""
    expr = sp.sympify(expr)
    expr = expr.replace(lambda e: isinstance(e, PrimitiveBase), lambda e: e.unfolded())
    return expr.replace(log1p, lambda a: sp.log(1 + a)).replace(expm1, lambda a: sp.exp(a) - 1)


__all__ = [
    "Primitive", "PrimitiveBase", "PRIMITIVES", "PREDICATES", "IsNaN", "IsInf", "NotCount", "unfold", "log1p", "expm1",
    *(primitive.__name__ for primitive in PRIMITIVES),
]
