"""nbderive: the Negative Binomial likelihood derived with SymPy, documented, and turned into kernels.

The public entry points are the registry's: :func:`names`, :func:`expr` and :func:`derivation`.
"""

from derive.registry import UnknownNameError, derivation, expr, names

__all__ = ["names", "expr", "derivation", "UnknownNameError"]
__version__ = "0.1.0"
