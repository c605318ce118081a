"""The runtime functions implementations call: what is no expression (double-double elementary functions built on
tables and loops of data-dependent length, bit manipulation, products a backend forms its own fastest way).

The double-double arithmetic itself is written once in derive/numerics/dd.py.

Each backend's runtime (derive/backends/<name>/runtime/) defines every function declared here, under the same name
(``nbk_<name>`` in C, ``_<name>`` in numpy); tests/test_runtime.py checks that, and checks each against mpmath.
Pairs are double-double values hi + lo with |lo| <= ulp(hi)/2 (about 2^-104 relative per operation); tables are
the coefficient tables of derive/series.py, passed whole.
"""

from derive.numerics.ir import PAIR, REAL, declare

declare("rising_power", "real real real", REAL,
        "m^n (1 + 1/z) ... (1 + (n-1)/z) for a count 1 <= n < SMALL_COUNT where it cannot overflow (each backend its "
        "fastest exact-enough order: C prefix products, numpy a per-gene table or prefix-sorted products)", "columns")
declare("pow2_of_shifted", "real", REAL, "2^k for the k that x/ln2 + 1.5 * 2^52 was rounded to (the exponent bits)")
declare("dd_log", "pair", PAIR, "log y, y > 0 (table reduction and the atanh series)")
declare("dd_log1pmx_series", "pair", PAIR, "log(1 + t) - t for |t| < DEVIANCE_SERIES_BELOW (table and series)")
declare("dd_psilog_series", "pair", PAIR, "psi(z) - log(z) for z >= DD_ASYMPTOTIC_FROM (the asymptotic series)")
declare("dd_psir_divided", "pair pair", PAIR, "sum_k c_k (p^k - q^k)/(p - q), c_k = B_2k/(2k), 0 < q < p")
