"""torch runtime: the regime selection, Horner's rule, short sums over k < n and table lookups, with tensor
operations only (no numpy, no host copies of the data: the same code on CPU and CUDA).

Included verbatim, from the marker on, into generated/torch/nbkernels.py; importable on its own for its tests.
"""

import torch


# -- included from here --
def _select(args, regimes, otherwise, kind="real"):
    """Each (condition, form) of ``regimes`` on the elements where it holds and no earlier one did, ``otherwise`` on
    the rest: each evaluated only on its own elements (gathered, as the numpy backend does), on all of them where
    it holds for all. ``kind`` is the forms' value type ("real" or "pair"). The kernels are custom operators
    (torch.library), opaque to torch.compile, so data-dependent shapes are no obstacle here."""
    shape = _shape(args)
    for i, (condition, form) in enumerate(regimes):
        mask = torch.as_tensor(condition(*args)).expand(shape)
        where = mask.reshape(-1).nonzero().squeeze(1)
        if where.numel() == 0:
            continue
        if where.numel() == mask.numel():
            return form(*args)
        value = _patched(mask, form, args, (0.0, 0.0) if kind == "pair" else 0.0, kind, where)
        rest = (~mask).reshape(-1).nonzero().squeeze(1)
        left = _select(tuple(_gathered(a, mask, rest) for a in args), regimes[i + 1:], otherwise, kind)
        return _put(value, rest, left, kind)
    return otherwise(*args)


def _shape(args):
    """The broadcast shape of the arguments (pairs by their parts)."""
    return torch.broadcast_shapes(*(part.shape for a in args for part in (a if isinstance(a, tuple) else (a,))
                                    if isinstance(part, torch.Tensor)))


def _patched(mask, form, args, value, kind, where):
    """``value`` with ``form``'s result at ``where`` (the flat positions where ``mask`` holds), ``form`` evaluated
    on those elements alone."""
    whole = tuple(_filled(v, mask, args) for v in value) if kind == "pair" else _filled(value, mask, args)
    return _put(whole, where, form(*(_gathered(a, mask, where) for a in args)), kind)


def _filled(value, mask, args):
    """``value`` as a fresh tensor of the mask's shape and the arguments' floating dtype."""
    return torch.as_tensor(value, dtype=_dtype(args), device=mask.device).expand(mask.shape).clone()


def _put(whole, where, part, kind):
    """``whole`` (written in place) with ``part`` at the flat positions ``where``."""
    for target, source in (zip(whole, part, strict=True) if kind == "pair" else ((whole, part),)):
        flat = target.view(-1)
        if isinstance(source, torch.Tensor) and source.dim():
            flat.index_copy_(0, where, source.expand(where.shape).to(flat.dtype))
        else:
            flat[where] = source
    return whole


def _dtype(args):
    """The floating dtype of the arguments (of the first tensor among them)."""
    for a in args:
        for part in (a if isinstance(a, tuple) else (a,)):
            if isinstance(part, torch.Tensor) and part.is_floating_point():
                return part.dtype
    return torch.float64


def _gathered(a, mask, where):
    """The elements ``where`` (flat positions in ``mask``'s shape) of an argument, or of both parts of a pair."""
    if isinstance(a, tuple):
        return tuple(_gathered(part, mask, where) for part in a)
    if not isinstance(a, torch.Tensor) or a.dim() == 0:
        return a
    return a.expand(mask.shape).reshape(-1).index_select(0, where)


def _pick(mask, a, b):
    """Double-double a where mask holds, else b."""
    return torch.where(mask, a[0], b[0]), torch.where(mask, a[1], b[1])


def _polyval_w(coefficients, w):
    """sum_j coefficients[j] * w^(j+1), by Horner's rule."""
    acc = coefficients[-1] * w
    for c in coefficients[-2::-1]:
        acc = (acc + c) * w
    return acc


def _accumulate(n, lo, bound, term, *arrays):
    """acc = 0, then acc = acc + term(k, acc, *arrays) for lo <= k < n, per element (counts below ``bound``: a
    generated function's short sum, derive/numerics SumBelow), on prefixes of the count-sorted elements (the work is
    the sum of the counts, not their maximum times the size): the same additions in the same order as a loop per
    element."""
    order, steps = _by_count(n, lo, bound)
    parts = [_taken(a, order, n.numel()) for a in arrays]
    acc = n.new_zeros(order.numel())
    for k, top in steps:
        acc[:top] += term(k, acc[:top], *(_prefix(part, top) for part in parts))
    return _scattered(n, order, acc)


def _accumulate_pair(n, lo, bound, term, add, *arrays):
    """As _accumulate for a double-double term: acc = add(acc, term(k, acc, *arrays)), ``add`` the runtime's dd_add
    or dd_add_plain."""
    order, steps = _by_count(n, lo, bound)
    parts = [_taken(a, order, n.numel()) for a in arrays]
    hi, low = n.new_zeros(order.numel()), n.new_zeros(order.numel())
    for k, top in steps:
        acc = (hi[:top], low[:top])
        hi[:top], low[:top] = add(acc, term(k, acc, *(_prefix(part, top) for part in parts)))
    return _scattered(n, order, hi), _scattered(n, order, low)


def _by_count(n, lo, bound):
    """The flat positions of the elements with a count above ``lo`` (those with a term), largest count first, and
    (k, how many counts exceed k) for every lo <= k < bound that some count exceeds (one host synchronisation).
    Counts of other regimes' elements (beyond the bound, NaN) are clamped into [0, bound]: their sums are
    discarded."""
    counts = torch.nan_to_num(n.reshape(-1), nan=0.0).clamp(0, bound).to(torch.int16)
    active = (counts > lo).nonzero().squeeze(1)
    order = active[torch.argsort(counts[active], descending=True, stable=True)]
    histogram = torch.bincount(counts[order].to(torch.int64), minlength=bound + 1)
    exceeding = (order.numel() - torch.cumsum(histogram, 0)).tolist()
    return order, [(k, exceeding[k]) for k in range(lo, bound) if exceeding[k]]


def _taken(a, order, size):
    """The elements ``order`` of an argument of ``size`` elements (a constant or a broadcast scalar as it is)."""
    if isinstance(a, tuple):
        return tuple(_taken(part, order, size) for part in a)
    return a.reshape(-1)[order] if isinstance(a, torch.Tensor) and a.numel() == size else a


def _prefix(a, top):
    if isinstance(a, tuple):
        return tuple(_prefix(part, top) for part in a)
    return a[:top] if isinstance(a, torch.Tensor) and a.dim() else a


def _scattered(n, order, values, fill=0.0):
    """values (in count order) at their elements' places, in n's shape; ``fill`` (the empty sum or product) at the
    others'."""
    out = torch.full((n.numel(),), fill, dtype=n.dtype, device=n.device)
    out[order] = values
    return out.reshape(n.shape)


_TABLES = {}


def _lookup(table, index):
    """table[index] for an integer-valued index; other indices (of elements another regime takes: negative, too
    large, NaN) are clamped into the table. The table becomes a tensor once per dtype and device."""
    key = (id(table), index.dtype, index.device)
    values = _TABLES.get(key)
    if values is None:
        values = _TABLES[key] = torch.tensor(table, dtype=index.dtype, device=index.device)
    position = torch.nan_to_num(index, nan=0.0).clamp(0, len(table) - 1).to(torch.int64)
    return values[position]
