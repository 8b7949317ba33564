/* Helpers shared by the Check suites. */
#ifndef TSC_TEST_UTIL_H
#define TSC_TEST_UTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Hex text (pairs of digits, nothing else) to bytes; fails the test on bad hex
 * or when out would overflow. */
static inline size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; h[0] != '\0' && h[1] != '\0'; h += 2) {
        unsigned v;
        ck_assert_int_eq(sscanf(h, "%2x", &v), 1);
        ck_assert_uint_lt(n, cap);
        out[n++] = (uint8_t)v;
    }
    return n;
}

#endif
