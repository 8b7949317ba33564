/*
 * The output module's formatting helpers, checked against the C library
 * functions they replace on the hot path: timestamps against snprintf, UTC
 * times against gmtime_r + snprintf (every day of several centuries, leap
 * days, the ends of the fast range, and values past it), IPv4 addresses
 * against inet_ntop, with short output buffers cut like snprintf cuts.
 */
#include <arpa/inet.h>
#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output/writer.h"

/* What tsc_fmt_time printed before it had a fast path. */
static void ref_time(struct tsc_ts ts, char *out, size_t outlen)
{
    time_t t = (time_t)ts.sec;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, outlen, "invalid");
        return;
    }
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)ts.nsec);
}

static void check_time(int64_t sec, uint32_t nsec)
{
    struct tsc_ts ts = {sec, nsec};
    char got[48];
    char want[48];
    memset(got, 'x', sizeof(got));
    tsc_fmt_time(ts, got, sizeof(got));
    ref_time(ts, want, sizeof(want));
    ck_assert_msg(strcmp(got, want) == 0, "sec %" PRId64 " nsec %u: got %s want %s", sec, nsec,
                  got, want);
}

START_TEST(test_time_every_day)
{
    /* Noon and the last second of every day from 1970 to 2500 (leap days,
     * 2000 as a leap century, 2100 and 2200 as common ones). */
    for (int64_t day = 0; day < 194000; day++) {
        check_time(day * 86400 + 43200, (uint32_t)(day % 1000000000));
        check_time(day * 86400 + 86399, 999999999u);
    }
}
END_TEST

START_TEST(test_time_edges)
{
    static const int64_t secs[] = {0,          1,           59,          60,         3599,
                                   3600,       86399,       86400,       951782400,  951868800,
                                   4107542400, 4107628800,  1700000000,  2147483647, 2147483648,
                                   4294967295, 4294967296,  253402300799, 253402300800,
                                   253402300801, -1,        -86400,      -62135596800,
                                   INT64_C(67767976233316800), INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
        check_time(secs[i], 0);
        check_time(secs[i], 123456789u);
        check_time(secs[i], 1000000000u); /* out of range nanoseconds print as they are */
        check_time(secs[i], UINT32_MAX);
    }
    /* A spread over the whole four-digit range. */
    for (int64_t s = 0; s < 253402300800; s += 987654321) {
        check_time(s, 5);
    }
}
END_TEST

START_TEST(test_time_short_buffer)
{
    struct tsc_ts ts = {1700000000, 5};
    for (size_t len = 1; len < 40; len++) {
        char got[48];
        char want[48];
        memset(got, 'x', sizeof(got));
        memset(want, 'x', sizeof(want));
        tsc_fmt_time(ts, got, len);
        ref_time(ts, want, len);
        ck_assert_msg(memcmp(got, want, sizeof(got)) == 0, "outlen %zu", len);
    }
}
END_TEST

static void check_ts(int64_t sec, uint32_t nsec, size_t outlen)
{
    struct tsc_ts ts = {sec, nsec};
    char got[48];
    char want[48];
    memset(got, 'x', sizeof(got));
    memset(want, 'x', sizeof(want));
    size_t n = tsc_fmt_ts(ts, got, outlen);
    int wn = snprintf(want, outlen, "%" PRId64 ".%09u", sec, (unsigned)nsec);
    ck_assert_msg(memcmp(got, want, sizeof(got)) == 0, "sec %" PRId64 " nsec %u outlen %zu: %s",
                  sec, nsec, outlen, got);
    size_t wlen = (size_t)wn < outlen ? (size_t)wn : outlen - 1;
    ck_assert_uint_eq(n, wlen);
}

START_TEST(test_ts)
{
    static const int64_t secs[] = {0, 1, 9, 10, 99, 100, 1700000000, 4294967295,
                                   INT64_MAX, -1, -1700000000, INT64_MIN};
    static const uint32_t nsecs[] = {0, 1, 999999999u, 1000000000u, UINT32_MAX};
    for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
        for (size_t k = 0; k < sizeof(nsecs) / sizeof(nsecs[0]); k++) {
            check_ts(secs[i], nsecs[k], 48);
            check_ts(secs[i], nsecs[k], 12);
            check_ts(secs[i], nsecs[k], 1);
        }
    }
}
END_TEST

START_TEST(test_ipv4)
{
    struct tsc_endpoint e;
    memset(&e, 0, sizeof(e));
    e.family = 4;
    /* Every value of each octet position, with digits of every width around it. */
    for (unsigned v = 0; v < 256; v++) {
        for (int pos = 0; pos < 4; pos++) {
            uint8_t a[4] = {10, 0, 255, 7};
            a[pos] = (uint8_t)v;
            memcpy(e.addr, a, 4);
            char got[64];
            char want[INET_ADDRSTRLEN];
            tsc_fmt_ip(&e, got, sizeof(got));
            ck_assert_ptr_nonnull(inet_ntop(AF_INET, a, want, sizeof(want)));
            ck_assert_str_eq(got, want);
        }
    }
    /* Cut like snprintf when the buffer is short. */
    uint8_t a[4] = {192, 168, 100, 200};
    memcpy(e.addr, a, 4);
    for (size_t len = 1; len <= 17; len++) {
        char got[20];
        char want[20];
        memset(got, 'x', sizeof(got));
        memset(want, 'x', sizeof(want));
        tsc_fmt_ip(&e, got, len);
        snprintf(want, len, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        ck_assert_msg(memcmp(got, want, sizeof(got)) == 0, "outlen %zu", len);
    }
}
END_TEST

static Suite *output_suite(void)
{
    Suite *s = suite_create("output");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_time_every_day);
    tcase_add_test(tc, test_time_edges);
    tcase_add_test(tc, test_ts);
    tcase_add_test(tc, test_ipv4);
    suite_add_tcase(s, tc);
    TCase *tl = tcase_create("limits");
    tcase_add_test(tl, test_time_short_buffer);
    suite_add_tcase(s, tl);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(output_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
