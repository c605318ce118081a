/* 2^k for the k that x/ln2 + 1.5 * 2^52 = shifted was rounded to (nbk_exp_inline): the integer sits in the low bits of
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
