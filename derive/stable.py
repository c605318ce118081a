"""Numerically stable forms of the kernels' expressions (filled by the accuracy work)."""
