/* Powers of two: bit manipulation and frexp/ldexp, not expressions.
 *
 * 2^k for the k that x/ln2 + 1.5 * 2^52 = shifted was rounded to (nbk_exp_inline): the integer sits in the low bits of
 * shifted, and k + 1023 shifted into the exponent field is the power (normal for |k| <= 1022). Bit manipulation,
 * not an expression: a runtime function. */
static inline double nbk_pow2_of_shifted(double shifted) {
    const double shift = 6755399441055744.0;
    uint64_t bits, shift_bits;
    memcpy(&bits, &shifted, sizeof bits);
    memcpy(&shift_bits, &shift, sizeof shift_bits);
    const uint64_t scale_bits = (bits - shift_bits + 1023u) << 52;
    double scale;
    memcpy(&scale, &scale_bits, sizeof scale);
    return scale;
}

/* e with x 2^-e in [1/sqrt 2, sqrt 2), for finite x > 0 (the double-double logarithm's reduction): frexp's exponent
 * (its mantissa is in [1/2, 1)), one less where the mantissa is below 1/sqrt 2. */
static inline double nbk_binary_exponent(double x) {
    int e;
    const double mantissa = frexp(x, &e);
    return mantissa < 0.70710678118654752 ? e - 1 : e;
}

/* x 2^e for an integer-valued e (exact where the result is normal). */
static inline double nbk_times_pow2(double x, double e) {
    return ldexp(x, (int)e);
}
