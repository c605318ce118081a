"""The numerics every backend prints: implementations of the primitives written once, as SymPy expressions.

A primitive (:mod:`derive.primitives`) says what it computes (``definition``) and how (``implementation``): a
:class:`~derive.numerics.ir.Function` of regimes, lets and values in *ordered* arithmetic (floating point is not
associative, so the tree fixes the order of every operation), with polynomials (:class:`~derive.numerics.ir.Polynomial`)
that each backend writes in its own form (Estrin in C, Horner in numpy) and table lookups. Each backend's
``numerics.py`` prints these; what cannot be an expression lives in a small runtime per backend
(``derive/backends/<name>/runtime/``).
"""

from derive.numerics import runtime as _runtime  # noqa: F401  (declares the runtime functions)
