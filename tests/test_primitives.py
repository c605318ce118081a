"""Every implemented primitive, in every backend, against mpmath at 50 digits of its exact definition.

The implementations are printed from one description (derive/numerics) by each backend; this checks what each
backend made of it, over the primitive's declared domain and within its declared error bound.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from derive.backends import backend, code_backends
from derive.kernels import available
from derive.numerics.ir import REAL
from derive.primitives import PRIMITIVES
from derive.series import coefficients

IMPLEMENTED = [p for p in PRIMITIVES if p.implementation(coefficients()) is not None]
#: Refinements take their value's own double parts, which only the kernels give consistently: checked through the
#: kernels near the zeros where they refine (tests/test_near_zero.py), not here.
CHECKED = [p for p in IMPLEMENTED if not p.parts]
EPS = 2.0**-52


def sample(ranges, rng, n: int) -> np.ndarray:
    """n values per range of one argument (see PrimitiveBase.domain), plus the ranges' ends."""
    parts = []
    for kind, lo, hi in ranges:
        if kind == "uniform":
            parts.append(rng.uniform(lo, hi, n))
        elif kind == "log":
            parts.append(np.exp(rng.uniform(np.log(lo), np.log(hi), n)))
        else:
            parts.append(np.floor(np.exp(rng.uniform(np.log(max(lo, 1)), np.log(hi + 1), n))))
            parts.append(np.arange(lo, min(hi, lo + 40)))
        parts.append(np.array([lo, hi], dtype=float))
    return np.concatenate(parts)


def arguments(primitive, rng, n: int = 300) -> list[np.ndarray]:
    """Samples of every argument; with several, each is shuffled so that their ranges meet in every combination."""
    columns = [sample(ranges, rng, n) for ranges in primitive.domain]
    size = max(len(c) for c in columns)
    return [rng.choice(c, size) if len(columns) > 1 else c for c in columns]


def exact(primitive, args: list[np.ndarray]) -> list[mpmath.mpf]:
    """The definition at each point in mpmath, from 40 digits plus twice the inputs' spread of magnitudes (1 + t at
    t = 1e-116 keeps t's digits only beyond 116; a difference of terms of size 1e192 that is 1e-194 needs ~390), the
    digits doubled until two evaluations agree to 30 digits."""
    import sympy as sp

    symbols = sp.symbols(f"a0:{len(args)}")
    f = sp.lambdify(symbols, primitive.definition(*symbols), "mpmath")
    out = []
    for i in range(len(args[0])):
        values = [float(a[i]) for a in args]
        spread = max((abs(float(np.log10(abs(v)))) for v in values if v), default=0.0)
        digits, previous = 40 + 2 * int(spread), None
        while True:
            with mpmath.workdps(digits):
                value = +f(*(mpmath.mpf(v) for v in values))
            # (two zeros agree only once the digits would have seen e^-700 next to 1)
            agree = previous is not None and abs(value - previous) <= mpmath.mpf(10) ** -30 * abs(value)
            if agree and (value != 0 or digits > 1200):
                break
            if digits > 1200 and abs(value) < mpmath.mpf(10) ** -400:  # (zero for any double: an exact zero)
                value = mpmath.mpf(0)
                break
            if digits > 5000:
                raise ArithmeticError(f"{primitive.__name__}{tuple(values)} does not converge")
            previous, digits = value, 2 * digits
        out.append(value)
    return out


@pytest.fixture(scope="module")
def probes():
    """Every backend's generated implementation of each checked primitive (derive/backends/<name>/probe.py)."""
    signatures = [(p.c_name, [REAL] * len(p.domain), REAL) for p in CHECKED]
    return {name: backend(name).probe(signatures) for name in available()}


def test_refinements_are_the_primitives_left_to_the_kernel_tests():
    assert {p.__name__ for p in IMPLEMENTED if p.parts} == {"ScoreTheta", "ScoreThetaAsymptotic", "GaussLogpdf"}


@pytest.mark.parametrize("backend_name", code_backends())
@pytest.mark.parametrize("primitive", CHECKED, ids=lambda p: p.__name__)
def test_primitive_meets_its_error_bound(primitive, backend_name, probes):
    assert primitive.domain and primitive.error_bound > 0, f"{primitive.__name__} declares no domain or bound"
    rng = np.random.default_rng(7)
    args = arguments(primitive, rng)
    if backend_name not in probes:
        pytest.skip(f"backend {backend_name}: its framework is not installed")
    got = probes[backend_name][primitive.c_name](*args)
    worst, at = 0.0, None
    for g, e, i in zip(got, exact(primitive, args), range(len(got)), strict=True):
        # (below the smallest normal number only an absolute error of that size is asked: the result may underflow)
        scale = max(abs(e), primitive.error_floor, mpmath.mpf(2.0**-1022) / EPS)
        err = float(abs(mpmath.mpf(float(g)) - e) / scale)
        if err / EPS > worst:
            worst, at = err / EPS, ([float(a[i]) for a in args], float(g), float(e))
        assert err <= primitive.error_bound * EPS, (primitive.__name__, [float(a[i]) for a in args], float(g), e)
    print(f"{primitive.__name__} {backend_name}: worst {worst:.2f} eps", at if worst else "")


def _inside(bounds: tuple[str, float, float], rng) -> float:
    """A point well inside a range (magnitudes within 1e-4..1e4 where the range allows: the symbolic side evaluates
    at a fixed working precision, which a difference of 1e300-sized terms would exhaust)."""
    kind, lo, hi = bounds
    a, b = max(lo, -1e4), min(hi, 1e4)
    if kind == "log":
        a, b = max(lo, 1e-4), min(hi, 1e4)
        return float(np.exp(rng.uniform(np.log(a), np.log(b))))
    value = float(rng.uniform(a, b))
    return max(float(np.floor(value)), 1.0) if kind == "count" else value


@pytest.mark.parametrize("primitive", PRIMITIVES, ids=lambda p: p.__name__)
def test_derivative_is_the_definitions(primitive):
    """SymPy differentiates a primitive (fdiff): in every argument, at a point of its domain, the derivative
    equals mpmath's numerical derivative of the definition (30 digits)."""
    import sympy as sp

    rng = np.random.default_rng(11)
    arity = primitive.definition.__code__.co_argcount - 1
    symbols = sp.symbols(f"a0:{arity}")
    point = ([_inside(ranges[0], rng) for ranges in primitive.domain] if primitive.domain
             else [0.3, -0.2, 7.0, 5.0, 40.0, 2.0][:arity])
    f = sp.lambdify(symbols, primitive.definition(*symbols), "mpmath")
    for i, symbol in enumerate(symbols):
        derivative = sp.diff(primitive(*symbols), symbol)
        assert not derivative.has(sp.Derivative), (primitive.__name__, i)
        with mpmath.workdps(40):
            exact_point = {s: sp.Float(v, 60) for s, v in zip(symbols, point, strict=True)}  # (the doubles, exactly)
            got = sp.N(derivative.subs(exact_point), 30, maxn=400)
            args = [mpmath.mpf(v) for v in point]
            want = mpmath.diff(lambda v, i=i, args=args: f(*args[:i], v, *args[i + 1:]), args[i])
            assert abs(complex(got) - complex(want)) <= 1e-20 * max(1.0, abs(complex(want))), (primitive.__name__, i)
