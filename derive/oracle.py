"""An arbitrary-precision reference (mpmath) for every kernel, from the closed forms its model types.

The formulas are deliberately *not* taken from the derivation registry: the oracle is the independent witness that
the derived kernels are right. Each model folder's ``oracle.py`` holds the textbook closed forms of its kernels (NB
log-PMF, its gradients, P(x = 0), the Poisson and Gaussian log-densities, the squared error), and each kernel's spec
names its own (:attr:`derive.spec.KernelSpec.oracle`); this module evaluates them at the exact values of the float64
inputs (``mpf(float)`` is exact). Naive closed forms cancel catastrophically in some regimes (e.g. the
theta-gradient in the Poisson limit), so every value is computed twice at different precisions and the precision is
raised until the two agree to :data:`AGREE_DIGITS` digits (Ziv's strategy): the oracle checks its own accuracy
instead of trusting a hand-made stable rewrite.

:func:`value` and :func:`reference_scalar` take floats; :func:`evaluate`, :func:`reference` and :func:`condition`
are the vectorised entry points (numpy arrays in, float64 arrays out, rounded once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
from mpmath import mp, mpf

from derive.spec import Oracle, spec

#: Default working precision (decimal digits).
DPS = 60
#: Two evaluations (at ``dps`` and ``dps + GUARD_DIGITS``) must agree to this many digits to be trusted.
AGREE_DIGITS = 30
GUARD_DIGITS = 20
#: Give up rather than loop: no value in the kernels' domain needs anywhere near this much precision.
MAX_DPS = 2000

Value = mpf | tuple[mpf, ...]


def _oracle(name: str) -> Oracle:
    """Kernel ``name``'s reference, from the registry of kernels (its model's ``oracle.py``)."""
    found = spec(name).oracle
    if found is None:
        raise KeyError(f"kernel {name!r} has no oracle")
    return found


# ----------------------------------------------------------------------------------------------------------
# Self-checking evaluation.


def _as_tuple(value: Value) -> tuple[mpf, ...]:
    return value if isinstance(value, tuple) else (value,)


def _agree(a: Value, b: Value, digits: int) -> bool:
    tol = mpf(10) ** -digits
    for u, v in zip(_as_tuple(a), _as_tuple(b), strict=True):
        if u == v:
            continue
        if not (mpmath.isfinite(u) and mpmath.isfinite(v)) or abs(u - v) > tol * abs(v):
            return False
    return True


def _guarded(f: Callable[..., Value], args: list[mpf], dps: int) -> Value:
    """f(*args) correct to at least AGREE_DIGITS digits: evaluated at ``dps`` and ``dps + GUARD_DIGITS``; if
    cancellation made the two disagree, the precision is doubled until they agree."""
    while dps <= MAX_DPS:
        with mp.workdps(dps):
            low = f(*args)
        with mp.workdps(dps + GUARD_DIGITS):
            high = f(*args)
            if _agree(low, high, AGREE_DIGITS):
                return high
        dps *= 2
    raise ArithmeticError(f"oracle: {f.__name__}{tuple(args)} did not converge below {MAX_DPS} digits")


def _spread_digits(args: list[mpf]) -> int:
    """Decimal orders of magnitude between the largest and smallest nonzero argument.

    Added to the working precision so that no sum like x + theta absorbs its smaller term: both evaluations of
    _guarded would absorb it alike, agree, and be wrong together.
    """
    sizes = [abs(a) for a in args if a != 0 and mpmath.isfinite(a)]
    if len(sizes) < 2:
        return 0
    return int(mpmath.ceil(mpmath.log10(max(sizes) / min(sizes))))


def value(name: str, *args: float, dps: int = DPS) -> Value:
    """Kernel ``name``'s closed form at the exact values of the float64 ``args``, to at least AGREE_DIGITS digits."""
    margs = [mpf(float(a)) for a in args]
    return _guarded(_oracle(name).value, margs, dps + _spread_digits(margs))


def to_float64(v: mpf) -> float:
    """Round an mpf to the nearest float64 (``float(mpf)`` truncates, which would bias the reference)."""
    return mpmath.libmp.to_float(v._mpf_, rnd=mpmath.libmp.round_nearest)


def _n_out(name: str) -> int:
    return len(spec(name).outputs)


def _vectorize(arrays: tuple[np.ndarray, ...], scalar: Callable[..., tuple[mpf, ...]], n_out: int) -> np.ndarray:
    """Apply ``scalar`` (float args -> n_out mpf values) elementwise; an (n_out, *shape) float64 array."""
    args = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays))
    shape = args[0].shape
    out = np.empty((n_out, *shape), dtype=np.float64)
    for index in np.ndindex(shape):
        for k, v in enumerate(scalar(*(float(a[index]) for a in args))):
            out[(k, *index)] = to_float64(v)
    return out


def _unstack(out: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
    return out[0] if len(out) == 1 else tuple(out)


def evaluate(name: str, *arrays: np.ndarray, dps: int = DPS) -> np.ndarray | tuple[np.ndarray, ...]:
    """Exact values of kernel ``name`` at float64 inputs (broadcast), each rounded once to float64.

    A kernel of several outputs (``nb_nll_fused``) gives a tuple of arrays, like the kernel.
    """
    return _unstack(_vectorize(arrays, lambda *a: _as_tuple(value(name, *a, dps=dps)), _n_out(name)))


# ----------------------------------------------------------------------------------------------------------
# Condition numbers: how much error the problem itself forces on any float64 kernel.

#: Relative step of the central differences used for derivatives: their truncation error is ~step^2 and
#: each evaluation is correct to AGREE_DIGITS digits, so the derivative keeps ~AGREE_DIGITS - 20 digits.
_STEP = mpf(10) ** -20


def reference_scalar(name: str, *args: float, dps: int = DPS) -> tuple[tuple[mpf, ...], tuple[mpf, ...]]:
    """(values, condition numbers) of kernel ``name`` at ``args``, one of each per output.

    The condition number is in units of float64 rounding: a kernel cannot be expected to beat
    cond * 2^-53 relative error.

    * For a log argument eta that the kernel exponentiates: max(|eta|, 1) * |df/d eta| / |f|. |eta f'/f| is
      the relative condition number w.r.t. eta (eta is itself a rounded double); |f'/f| is the effect of
      rounding mu = exp(eta) by one part in 2^53, which dominates when |eta| < 1. Summed over log arguments.
    * Where the kernel's oracle gives a ``condition`` (P(x = 0) = exp(L): |L|, the amplification of exp(), whose
      argument can be no more accurate than one rounding), that too.
    * Zero for everything else (exact float64 inputs: the goal alone applies).

    Where f = 0 exactly the relative error is undefined and the condition is reported as 0.
    """
    oracle = _oracle(name)
    margs = [mpf(float(a)) for a in args]
    dps += _spread_digits(margs)
    values = _as_tuple(_guarded(oracle.value, margs, dps))
    cond = [mpf(0)] * len(values)
    with mp.workdps(dps + GUARD_DIGITS):
        if oracle.condition is not None:
            cond = list(_as_tuple(oracle.condition(*margs)))
        for i in spec(name).log_inputs:
            cond = _add_log_condition(oracle.value, margs, i, values, cond, dps)
    return values, tuple(cond)


def _add_log_condition(f: Callable[..., Value], margs: list[mpf], i: int, values: tuple[mpf, ...], cond: list[mpf],
                       dps: int) -> list[mpf]:
    """``cond`` plus log input ``i``'s share, max(|eta|, 1) |df/d eta| / |f| per output (a central difference)."""
    scale = max(abs(margs[i]), mpf(1))
    h = scale * _STEP
    plus, minus = list(margs), list(margs)
    plus[i] += h
    minus[i] -= h
    upper, lower = _as_tuple(_guarded(f, plus, dps)), _as_tuple(_guarded(f, minus, dps))
    for k, v in enumerate(values):
        if v != 0:
            cond[k] += scale * abs((upper[k] - lower[k]) / (plus[i] - minus[i])) / abs(v)
    return cond


def reference(name: str, *arrays: np.ndarray, dps: int = DPS) -> tuple[Any, Any]:
    """Vectorised :func:`reference_scalar`: (exact values rounded once, condition numbers), float64 arrays.

    For a kernel of several outputs (``nb_nll_fused``: NLL, d/d log mu, d/d log theta) each of the two is a tuple of
    arrays.
    """
    n = _n_out(name)
    out = _vectorize(arrays, lambda *a: sum(reference_scalar(name, *a, dps=dps), ()), 2 * n)
    return _unstack(out[:n]), _unstack(out[n:])


def condition(name: str, *arrays: np.ndarray, dps: int = DPS) -> np.ndarray | tuple[np.ndarray, ...]:
    """The condition numbers alone (see :func:`reference_scalar`)."""
    return reference(name, *arrays, dps=dps)[1]
