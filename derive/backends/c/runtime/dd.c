/* Double-double elementary functions (derive/numerics/runtime.py declares them), on the arithmetic printed from
 * derive/numerics/dd.py: series whose number of terms depends on the argument, and the logarithms' table reduction.
 * They read the generated tables (NBK_DD_*). */
/* How many terms of a series sum_j c[j] x^(j+1) (times j+1 when `weighted`) a double-double sum needs, the first
 * `first` always: *used those down to NBK_TAIL_DD of `lead`, *exact those down to NBK_DD_EXACT_ABOVE of it (the rest
 * are summed in double precision). */
static inline void nbk_dd_terms(const double (*c)[2], int n, int first, int weighted, double x, double lead,
                                int *used, int *exact) {
    int k = first, e = first;
    for (double size = x; k < n && (weighted ? k + 1 : 1) * fabs(c[k][0]) * size >= NBK_TAIL_DD * lead; size *= x) {
        if ((weighted ? k + 1 : 1) * fabs(c[k][0]) * size >= NBK_DD_EXACT_ABOVE * lead) e = k + 1;
        ++k;
    }
    *used = k;
    *exact = e;
}

/* sum_{j<n} c[j] w^(j+1) by Horner, relative to a leading term `lead`: terms below 2^-110 lead are left out,
 * those below 2^-56 lead (from index `exact` on at the largest w, derive/series.py; fewer at smaller w) are summed in
 * double precision, the others in double-double. */
static inline nbk_dd nbk_dd_series(nbk_dd w, const double (*c)[2], int n, int exact, double lead) {
    int used, exact_here;
    nbk_dd_terms(c, n, 0, 0, w.hi, lead, &used, &exact_here);
    if (exact_here > exact) exact_here = exact;
    double tail = 0.0;
    for (int j = used - 1; j >= exact_here; --j) tail = (tail + c[j][0]) * w.hi;
    nbk_dd acc = nbk_dd_of(tail);
    for (int j = exact_here - 1; j >= 0; --j) {
        const nbk_dd cj = {c[j][0], c[j][1]};
        acc = nbk_dd_mul(nbk_dd_add_plain(cj, acc), w); /* |acc| <= |c[j]| w / (1 - w): no cancellation */
    }
    return acc;
}

/* sum_j 1/(2j+1) w^j (j >= 1): log((1+v)/(1-v)) = 2 v (1 + this) at w = v^2, |v| below the table's bound, to
 * about 2^-106 of `lead`, the size of what it is added to (1 in the log; |t + d|/2 in log1p(t) - t, which may be
 * tiny). */
static inline nbk_dd nbk_dd_atanh_tail(nbk_dd w, double lead) {
    return nbk_dd_series(w, NBK_DD_ATANH, NBK_DD_ATANH_SIZE, NBK_DD_ATANH_EXACT, lead);
}

/* The table point i nearest to 1 + t: c = 1 + i/NBK_DD_LOG_STEPS is exact. */
static inline int nbk_dd_log_point(double t) {
    const double steps = t * NBK_DD_LOG_STEPS;
    return (int)(steps + (steps >= 0.0 ? 0.5 : -0.5));
}

/* log(y), y > 0: y = 2^e m with m in [1/sqrt 2, sqrt 2), m = c (1+v)/(1-v) with c the nearest table point, and
 * log((1+v)/(1-v)) = 2 atanh(v) by its series (|v| < 0.006: a few terms). */
static nbk_dd nbk_dd_log(nbk_dd y) {
    int e;
    frexp(y.hi, &e);
    if (ldexp(y.hi, -e) < 0.70710678118654752) e -= 1;
    const nbk_dd m = {ldexp(y.hi, -e), ldexp(y.lo, -e)};
    const int i = nbk_dd_log_point(m.hi - 1.0);
    const double c = 1.0 + i / NBK_DD_LOG_STEPS;
    const nbk_dd v = nbk_dd_div(nbk_dd_add(m, nbk_dd_of(-c)), nbk_dd_add(m, nbk_dd_of(c)));
    const nbk_dd two_v = {2.0 * v.hi, 2.0 * v.lo};
    const double *log_c = NBK_DD_LOG_TABLE[i - NBK_DD_LOG_FIRST];
    const nbk_dd table = {log_c[0], log_c[1]}, ln2 = {NBK_DD_LN2_HI, NBK_DD_LN2_LO};
    const nbk_dd tail = nbk_dd_atanh_tail(nbk_dd_mul(v, v), 1.0);
    const nbk_dd log_m = nbk_dd_add(table, nbk_dd_add(two_v, nbk_dd_mul(two_v, tail)));
    return nbk_dd_add(nbk_dd_mul(ln2, nbk_dd_of((double)e)), log_m);
}

/* log(1 + t) - t for |t| < NBK_SERIES_BELOW: with c = 1 + d the table point nearest to 1 + t, and
 * v = (t - d)/(2 + t + d), it is log(c) - d (the table) + 2 v (1 + atanh tail) - (t - d), and
 * 2 v - (t - d) = -v (t + d): no cancelling leading terms (the tail is summed to 2^-106 of (t + d)/2, not of 1: near
 * t = 0 it is ~t/6 of it). */
static nbk_dd nbk_dd_log1pmx_series(nbk_dd t) {
    const int i = nbk_dd_log_point(t.hi);
    const double d = i / NBK_DD_LOG_STEPS;
    const nbk_dd t_plus_d = nbk_dd_add(t, nbk_dd_of(d));
    const nbk_dd v = nbk_dd_div(nbk_dd_add(t, nbk_dd_of(-d)), nbk_dd_add(t_plus_d, nbk_dd_of(2.0)));
    const nbk_dd tail = nbk_dd_atanh_tail(nbk_dd_mul(v, v), 0.5 * fabs(t_plus_d.hi));
    const double *log_c = NBK_DD_LOG_TABLE[i - NBK_DD_LOG_FIRST];
    const nbk_dd table = {log_c[2], log_c[3]};
    return nbk_dd_add(table, nbk_dd_mul(v, nbk_dd_sub(nbk_dd_add(tail, tail), t_plus_d)));
}

/* psi(z) - log(z) for z >= NBK_DD_ASYMPTOTIC_FROM, by the asymptotic series. */
static nbk_dd nbk_dd_psilog_series(nbk_dd z) {
    const nbk_dd inv = nbk_dd_recip(z);
    const nbk_dd acc = nbk_dd_series(nbk_dd_mul(inv, inv), NBK_DD_DIGAMMA, NBK_DD_DIGAMMA_SIZE,
                                     NBK_DD_DIGAMMA_EXACT, 0.5 * inv.hi);
    const nbk_dd half = {0.5 * inv.hi, 0.5 * inv.lo};
    return nbk_dd_neg(nbk_dd_add(half, acc));
}

/* sum_k c_k (p^k - q^k)/(p - q), c_k = NBK_DD_PSIR[k-1] = B_2k/(2k), for 0 < q < p <= 1/NBK_DD_ASYMPTOTIC_FROM^2:
 * Horner's scheme for A_k = c_k + p A_(k+1) and, alongside, for the divided difference D_k = A_(k+1) + q D_(k+1) (D_0
 * is the result). Every step adds a term far below the one it is added to: nothing cancels. Terms whose bound k |c_k|
 * p^(k-1) is below 2^-110 of c_1 are left out, those below 2^-56 of it (from index `exact` on at the largest p,
 * derive/series.py) summed in double precision. */
static nbk_dd nbk_dd_psir_divided(nbk_dd p, nbk_dd q) {
    const int n = NBK_DD_PSIR_SIZE;
    int used, exact;
    nbk_dd_terms(NBK_DD_PSIR, n, 1, 1, p.hi, NBK_DD_PSIR[0][0], &used, &exact);
    if (exact > NBK_DD_PSIR_EXACT) exact = NBK_DD_PSIR_EXACT;
    double a_tail = 0.0, d_tail = 0.0;
    for (int j = used - 1; j >= exact; --j) {
        d_tail = a_tail + q.hi * d_tail;
        a_tail = NBK_DD_PSIR[j][0] + p.hi * a_tail;
    }
    nbk_dd a = nbk_dd_of(a_tail), d = nbk_dd_of(d_tail);
    for (int j = exact - 1; j >= 0; --j) {
        const nbk_dd c = {NBK_DD_PSIR[j][0], NBK_DD_PSIR[j][1]};
        d = nbk_dd_add_plain(a, nbk_dd_mul(q, d));
        a = nbk_dd_add_plain(c, nbk_dd_mul(p, a));
    }
    return nbk_dd_add_plain(a, nbk_dd_mul(q, d));
}
