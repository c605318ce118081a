"""torch runtime: a float32 implementation or kernel that float64 performs (a refinement, one built on double-double
pairs: derive/numerics/narrow.py; a kernel whose float32 forms miss float32's goal: KernelSpec.widened), on the
arguments widened exactly, its results rounded back to float32.

Included verbatim (from the marker on) into generated/torch/nbkernels.py; importable on its own for its tests.
"""

import torch


# -- included from here --
def _widened(function, *args):
    """``function`` (float64's) of the float32 arguments as float64 tensors, its result (or each of a kernel body's
    results) rounded to float32 once."""
    out = function(*(a.to(torch.float64) if isinstance(a, torch.Tensor) else a for a in args))
    return tuple(o.to(torch.float32) for o in out) if isinstance(out, tuple) else out.to(torch.float32)


def _outside(v, bound, kind):
    """Where an input is beyond what a float32 kernel computes in float32 (Precision.ordinary_exponent): a magnitude
    outside [1/bound, bound] and not 0 (a "log" input: beyond bound), NaN or infinite. Those elements go to float64's
    kernel, whose forms and conventions hold over the whole range."""
    size = v.abs()
    if kind == "log":
        return ~(size <= bound)
    return ~((size == 0) | ((size >= 1 / bound) & (size <= bound)))
