"""numpy runtime: what the generated functions call that is no expression (gathers, the regime selection, Horner's
rule in place, short sums over k < n on prefixes of the count-sorted elements).

Included verbatim, from the marker on, into generated/python/nbkernels.py (which defines _SMALL_COUNT from
derive/series.py); importable on its own for its tests.
"""

import math

import numpy as np

_SMALL_COUNT = 16  # (the generated module's own value replaces it)

# -- included from here --
def _idx(mask):
    """Positions where ``mask`` holds: gathering by index is ~10x faster than by a random boolean mask."""
    return np.flatnonzero(mask)


def _polyval_w(coefficients, w):
    """sum_j coefficients[j] * w^(j+1), by Horner (in place: a fresh temporary per step costs more than the step)."""
    acc = coefficients[-1] * w
    for c in coefficients[-2::-1]:
        acc += c
        acc *= w
    return acc


def _select(args, regimes, otherwise, kind="real"):
    """Each (condition, form, dense) of ``regimes`` on the elements where it holds and no earlier one did, then
    ``otherwise`` on the rest: a generated function's regimes, elementwise. Conditions and forms are functions of the
    arguments; ``kind`` is the forms' value type ("real", "wide" or "pair": a (hi, lo) tuple; arguments may be pairs
    too).

    A regime that holds nowhere costs its condition; one that holds everywhere runs on the whole arrays. Otherwise
    the later regimes see only the elements left (gathered once), so that their conditions do not cost a pass over
    every element; and a dense common case (``dense``: three quarters of the elements or more) runs on the whole
    arrays, with no gather or scatter, what it gives on the others (even inf or NaN) overwritten (callers run under
    np.errstate(all="ignore")).
    """
    shape = np.shape(args[0])
    size = math.prod(shape)
    for i, (condition, form, dense) in enumerate(regimes):
        mask = condition(*args)
        taken = np.count_nonzero(mask)
        if not taken:
            continue
        if taken == size:
            return _own(form(*args), args, shape, kind)
        if dense and 4 * taken >= 3 * size:
            out = _own(form(*args), args, shape, kind)
        else:
            out = _empty(shape, kind)
            where = _idx(mask)
            _put(out, where, form(*(_take(a, where) for a in args)))
        rest = _idx(~mask)
        _put(out, rest, _select(tuple(_take(a, rest) for a in args), regimes[i + 1:], otherwise, kind))
        return out
    return _own(otherwise(*args), args, shape, kind)


_DTYPES = {"real": np.float64, "wide": np.longdouble}


def _empty(shape, kind):
    return (np.empty(shape), np.empty(shape)) if kind == "pair" else np.empty(shape, dtype=_DTYPES[kind])


def _take(a, where):
    """The elements ``where`` (flat positions) of an array, or of both parts of a pair."""
    if isinstance(a, tuple):
        return tuple(_take(part, where) for part in a)
    return np.reshape(a, -1)[where] if np.ndim(a) else a


def _put(out, where, value):
    if isinstance(out, tuple):
        for part, v in zip(out, value, strict=True):
            part.reshape(-1)[where] = v
    else:
        out.reshape(-1)[where] = value


def _own(value, args, shape, kind):
    """``value`` as a fresh array (or pair of arrays) of the arguments' shape and the kind's dtype, none of the
    arguments (callers write into it)."""
    if kind == "pair":
        return tuple(_own(part, args, shape, "real") for part in value)
    dtype = _DTYPES[kind]
    if (type(value) is np.ndarray and value.shape == shape and value.dtype == dtype
            and not any(value is a for a in args)):
        return value
    return np.array(np.broadcast_to(value, shape), dtype=dtype)


def _by_count(n, where=True, bound=None):
    """Positions of the counts 1 <= n < _SMALL_COUNT (where ``where`` holds), largest first, and above[k], how many
    of them exceed k, for every k some do. A loop over k < n then runs on the prefix [:above[k]] of the sorted
    elements: its work is the sum of the counts, with one gather per input. One stable sort of bytes (a radix sort)
    orders them."""
    bound = _SMALL_COUNT if bound is None else bound
    chosen = _idx(where & (n >= 1) & (n < bound))
    counts = n[chosen].astype(np.int8)
    chosen = chosen[np.argsort(-counts, kind="stable")]
    at_least = np.bincount(counts, minlength=bound)[::-1].cumsum()[::-1]
    return chosen, [int(c) for c in at_least[1:] if c]  # (non-increasing: the non-zero ones come first)


def _accumulate(n, lo, bound, term, *arrays):
    """acc = 0, then acc += term(k, acc, *arrays) for lo <= k < n, per element (counts 0 <= n < _SMALL_COUNT): a
    generated function's short sum (derive/numerics SumBelow, its counts below ``bound``), on prefixes of the
    count-sorted elements, the same additions in the same order as a loop per element."""
    chosen, above = _by_count(n, bound=bound)
    parts = [_take(a, chosen) for a in arrays]
    dtype = np.result_type(np.float64, *(a for a in arrays if not isinstance(a, tuple)))
    acc = np.zeros(chosen.size, dtype=dtype)
    for k, top in enumerate(above):
        if k >= lo:
            acc[:top] += term(k, acc[:top], *(_prefix(part, top) for part in parts))
    out = np.zeros(np.shape(n), dtype=dtype)
    out[chosen] = acc
    return out


def _prefix(a, top):
    return tuple(part[:top] for part in a) if isinstance(a, tuple) else a[:top]


def _accumulate_pair(n, lo, bound, term, add, *arrays):
    """As _accumulate for a double-double term: acc = add(acc, term(k, acc, *arrays)), ``add`` the runtime's dd_add
    or dd_add_plain."""
    chosen, above = _by_count(n, bound=bound)
    parts = [_take(a, chosen) for a in arrays]
    hi, lo_part = np.zeros(chosen.size), np.zeros(chosen.size)
    for k, top in enumerate(above):
        if k >= lo:
            acc = (hi[:top], lo_part[:top])
            hi[:top], lo_part[:top] = add(acc, term(k, acc, *(_prefix(part, top) for part in parts)))
    out = (np.zeros(np.shape(n)), np.zeros(np.shape(n)))
    out[0].reshape(-1)[chosen], out[1].reshape(-1)[chosen] = hi, lo_part
    return out


def _pick(mask, a, b):
    """Double-double a where mask holds, else b."""
    return np.where(mask, a[0], b[0]), np.where(mask, a[1], b[1])
