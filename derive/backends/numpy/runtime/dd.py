"""numpy runtime: double-double elementary functions on (hi, lo) pairs of arrays, on the arithmetic printed from
derive/numerics/dd.py (the same names and algorithms as the C runtime's; derive/numerics/runtime.py declares them):
series whose number of terms depends on the arguments, and the logarithms' table reduction. They read the generated
module's tables (_DD_*), hence no standalone import: tests/test_runtime.py checks them through the generated module.
"""
# ruff: noqa: F821  (the tables and the arithmetic are the generated module's)

import numpy as np


# -- included from here --
def _dd_terms(coefficients, first, weighted, x, lead):
    """(used, exact): how many terms of sum_j c[j] x^(j+1) (times j+1 when ``weighted``) a double-double sum needs at
    some element, the first ``first`` always: down to _TAIL_DD of ``lead``, and down to _DD_EXACT_ABOVE of it (the
    rest are summed in double precision)."""
    size, used, exact = x.copy(), first, first
    while used < len(coefficients):
        term = (used + 1 if weighted else 1) * abs(coefficients[used][0]) * size
        if not np.any(term >= _TAIL_DD * lead):
            break
        if np.any(term >= _DD_EXACT_ABOVE * lead):
            exact = used + 1
        used += 1
        size = size * x
    return used, exact


def _dd_series(w, coefficients, exact, lead):
    """sum_j coefficients[j] w^(j+1) by Horner, relative to a leading term ``lead``: terms below 2^-110 lead (at
    every element) are left out, those from index ``exact`` on (below 2^-56 of the sum, derive/series.py) or below
    2^-56 lead at every element are summed in double precision, the others in double-double."""
    used, exact_here = _dd_terms(coefficients, 0, False, w[0], lead)
    exact_here = min(exact_here, exact)
    tail = np.zeros_like(w[0])
    for j in range(used - 1, exact_here - 1, -1):
        tail = (tail + coefficients[j][0]) * w[0]
    acc = _dd_of(tail)
    for j in range(exact_here - 1, -1, -1):
        acc = _dd_mul(_dd_add_plain(coefficients[j], acc), w)  # |acc| <= |c[j]| w/(1 - w): no cancellation
    return acc


def _dd_atanh_tail(w, lead=1.0):
    """sum_j 1/(2j+1) w^j (j >= 1): log((1+v)/(1-v)) = 2 v (1 + this) at w = v^2, |v| below the table's bound, to about
    2^-106 of ``lead``, the size of what it is added to (1 in the log; |t + d|/2 in log1p(t) - t, which may be tiny)."""
    return _dd_series(w, _DD_ATANH, _DD_ATANH_EXACT, lead)


def _dd_log_point(t):
    """The table point i nearest to 1 + t (c = 1 + i/_DD_LOG_STEPS is exact)."""
    return np.rint(t * _DD_LOG_STEPS).astype(np.int64)


def _dd_log(y):
    """log(y), y > 0: y = 2^e m with m in [1/sqrt 2, sqrt 2), m = c (1+v)/(1-v) with c the nearest table point,
    and log((1+v)/(1-v)) = 2 atanh(v) by its series (|v| < 0.006: a few terms)."""
    mantissa, e = np.frexp(y[0])
    e = np.where(mantissa < 0.70710678118654752, e - 1, e)
    m = np.ldexp(y[0], -e), np.ldexp(y[1], -e)
    i = _dd_log_point(m[0] - 1.0)
    c = 1.0 + i / _DD_LOG_STEPS
    v = _dd_div(_dd_add(m, _dd_of(-c)), _dd_add(m, _dd_of(c)))
    two_v = 2.0 * v[0], 2.0 * v[1]
    table = _DD_LOG_TABLE[i - _DD_LOG_FIRST]
    log_m = _dd_add((table[:, 0], table[:, 1]), _dd_add(two_v, _dd_mul(two_v, _dd_atanh_tail(_dd_mul(v, v)))))
    return _dd_add(_dd_mul(_DD_LN2, _dd_of(e.astype(np.float64))), log_m)


def _dd_log1pmx_series(t):
    """log(1 + t) - t for |t| < _SERIES_BELOW: with c = 1 + d the table point nearest to 1 + t and
    v = (t - d)/(2 + t + d), log(c) - d (the table) + 2 v (1 + atanh tail) - (t - d), where 2 v - (t - d) = -v (t + d)
    (the tail is summed to 2^-106 of (t + d)/2, not of 1: near t = 0 it is ~t/6 of it)."""
    i = _dd_log_point(t[0])
    d = i / _DD_LOG_STEPS
    t_plus_d = _dd_add(t, _dd_of(d))
    v = _dd_div(_dd_add(t, _dd_of(-d)), _dd_add(t_plus_d, _dd_of(2.0)))
    tail = _dd_atanh_tail(_dd_mul(v, v), 0.5 * np.abs(t_plus_d[0]))
    table = _DD_LOG_TABLE[i - _DD_LOG_FIRST]
    return _dd_add((table[:, 2], table[:, 3]), _dd_mul(v, _dd_sub(_dd_add(tail, tail), t_plus_d)))


def _dd_psilog_series(z):
    """psi(z) - log(z) for z >= _DD_ASYMPTOTIC_FROM, by the asymptotic series."""
    inv = _dd_recip(z)
    acc = _dd_series(_dd_mul(inv, inv), _DD_DIGAMMA, _DD_DIGAMMA_EXACT, 0.5 * inv[0])
    return _dd_neg(_dd_add((0.5 * inv[0], 0.5 * inv[1]), acc))


def _pick(mask, a, b):
    """Double-double a where mask holds, else b."""
    return np.where(mask, a[0], b[0]), np.where(mask, a[1], b[1])


def _dd_psir_divided(p, q):
    """sum_k c_k (p^k - q^k)/(p - q), c_k = _DD_PSIR[k-1] = B_2k/(2k), for 0 < q < p <= 1/_DD_ASYMPTOTIC_FROM^2
    (see the C backend's nbk_dd_psir_divided): Horner's scheme for A_k = c_k + p A_(k+1) and the divided difference
    D_k = A_(k+1) + q D_(k+1) alongside; terms whose bound k |c_k| p^(k-1) is below 2^-110 of c_1 (at every element) are
    left out, those below 2^-56 of it summed in double precision."""
    used, exact = _dd_terms(_DD_PSIR, 1, True, p[0], _DD_PSIR[0][0])
    exact = min(exact, _DD_PSIR_EXACT)
    a_tail, d_tail = np.zeros_like(p[0]), np.zeros_like(p[0])
    for j in range(used - 1, exact - 1, -1):
        d_tail = a_tail + q[0] * d_tail
        a_tail = _DD_PSIR[j][0] + p[0] * a_tail
    a, d = _dd_of(a_tail), _dd_of(d_tail)
    for j in range(exact - 1, -1, -1):
        d = _dd_add_plain(a, _dd_mul(q, d))
        a = _dd_add_plain(_DD_PSIR[j], _dd_mul(p, a))
    return _dd_add_plain(a, _dd_mul(q, d))
