/* m^n (1 + 1/z) ... (1 + (n-1)/z) for a count 1 <= n < NBK_SMALL_COUNT where it cannot overflow (LogPowRising's
 * product): the products of the first four factors' prefixes are formed unconditionally and one is picked by index
 * (counts are mostly 1, 2 or 3 in random order, and a loop whose length varies so mispredicts its exit). */
static inline double nbk_rising_power(double n, double m, double z) {
    const double inv = 1.0 / z;
    const int count = (int)n;
    double prefix[4];
    prefix[0] = m;
    prefix[1] = prefix[0] * (m + m * inv);
    prefix[2] = prefix[1] * (m + m * (2 * inv));
    prefix[3] = prefix[2] * (m + m * (3 * inv));
    double p = prefix[count < 4 ? count - 1 : 3];
    for (int k = 4; k < count; ++k) p *= m + m * (k * inv);
    return p;
}
