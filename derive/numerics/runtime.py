"""The runtime functions implementations call: what is no expression (bit manipulation, products a backend forms its
own fastest way).

The double-double arithmetic and elementary functions are written once in derive/numerics/dd.py and
derive/numerics/dd_functions.py.

Each backend's runtime (derive/backends/<name>/runtime/) defines every function declared here, under the same name
(``nbk_<name>`` in C, ``_<name>`` in numpy); tests/test_runtime.py checks that, and checks each against mpmath.
Pairs are double-double values hi + lo with |lo| <= ulp(hi)/2 (about 2^-104 relative per operation); tables are
the coefficient tables of derive/series.py, passed whole.
"""

from derive.numerics.ir import REAL, declare

declare("rising_power", "real real real", REAL,
        "m^n (1 + 1/z) ... (1 + (n-1)/z) for a count 1 <= n < SMALL_COUNT where it cannot overflow (each backend its "
        "fastest exact-enough order: C prefix products, numpy a per-gene table or prefix-sorted products)", "columns")
declare("pow2_of_shifted", "real", REAL, "2^k for the k that x/ln2 + 1.5 * 2^52 was rounded to (the exponent bits)")
declare("binary_exponent", "real", REAL, "e (integer-valued) with x 2^-e in [1/sqrt 2, sqrt 2), for finite x > 0 "
        "(frexp's exponent, one less where its mantissa is below 1/sqrt 2)")
declare("times_pow2", "real real", REAL, "x 2^e for an integer-valued e (ldexp): exact where the result is normal")
