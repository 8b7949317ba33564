/*
 * Evidence export writers: NSS key log lines from confirmed secrets
 * (src/output/keylog_out.c: buffer limits, file mode, line counts, write
 * failures, replay in whole lines) and the -w pcapng writer
 * (src/capture/pcapng_write.c) read back by the capture reader and the
 * Decryption Secrets Block scanner.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture.h"
#include "output/keylog_out.h"

static struct tsc_tls_secrets secrets12(void)
{
    struct tsc_tls_secrets s;
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < 32; i++) {
        s.client_random[i] = (uint8_t)i;
    }
    s.n = 1;
    s.s[0].label = "CLIENT_RANDOM";
    memset(s.s[0].secret, 0xab, 48);
    s.s[0].len = 48;
    return s;
}

static const char *const g_cr =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

START_TEST(test_format_tls12)
{
    struct tsc_tls_secrets s = secrets12();
    char out[512];
    size_t n = tsc_secrets_format(&s, out, sizeof(out));
    char ms[97];
    for (int i = 0; i < 48; i++) {
        memcpy(ms + 2 * i, "ab", 2);
    }
    ms[96] = '\0';
    char want[512];
    snprintf(want, sizeof(want), "CLIENT_RANDOM %s %s\n", g_cr, ms);
    ck_assert_str_eq(out, want);
    ck_assert_uint_eq(n, strlen(want));
}
END_TEST

START_TEST(test_format_tls13_and_limits)
{
    struct tsc_tls_secrets s = secrets12();
    s.n = 3;
    s.s[0].label = "CLIENT_TRAFFIC_SECRET_0";
    s.s[0].len = 32;
    s.s[1].label = "SERVER_TRAFFIC_SECRET_0";
    memset(s.s[1].secret, 0x01, 48);
    s.s[1].len = 48;
    s.s[2].label = NULL; /* skipped */
    s.s[2].len = 32;
    char out[1024];
    size_t n = tsc_secrets_format(&s, out, sizeof(out));
    ck_assert_uint_gt(n, 0);
    ck_assert_ptr_nonnull(strstr(out, "CLIENT_TRAFFIC_SECRET_0 000102"));
    ck_assert_ptr_nonnull(strstr(out, "\nSERVER_TRAFFIC_SECRET_0 000102"));
    int lines = 0;
    for (size_t i = 0; i < n; i++) {
        lines += out[i] == '\n';
    }
    ck_assert_int_eq(lines, 2);
    /* Too small for both lines: nothing, not half a line. */
    ck_assert_uint_eq(tsc_secrets_format(&s, out, 150), 0);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(tsc_secrets_format(&s, out, 0), 0);
}
END_TEST

START_TEST(test_file)
{
    char path[] = "/tmp/tsc-export-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    unlink(path); /* created again by the writer, with its own mode */
    struct tsc_keylog_out *o = NULL;
    char err[256];
    ck_assert_int_eq(tsc_keylog_out_open(&o, path, err, sizeof(err)), TSC_OK);
    struct tsc_tls_secrets s = secrets12();
    tsc_keylog_out_add(o, &s);
    s.client_random[0] = 0xff;
    tsc_keylog_out_add(o, &s);
    ck_assert_uint_eq(tsc_keylog_out_lines(o), 2);
    ck_assert_int_eq(tsc_keylog_out_close(o), TSC_OK);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq((int)sb.st_size, 2 * (14 + 64 + 1 + 96 + 1));
    unlink(path);
    ck_assert_int_eq(tsc_keylog_out_open(&o, "/nonexistent-dir/x.keylog", err, sizeof(err)),
                     TSC_ERR_IO);
    ck_assert_ptr_null(o);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.keylog"));
    ck_assert_int_eq(tsc_keylog_out_close(NULL), TSC_OK);
}
END_TEST

/* A full disk is reported by close (the analyzer turns it into a diagnostic). */
START_TEST(test_write_failure)
{
    if (access("/dev/full", W_OK) != 0) {
        return; /* no /dev/full here */
    }
    struct tsc_keylog_out *o = NULL;
    char err[256];
    ck_assert_int_eq(tsc_keylog_out_open(&o, "/dev/full", err, sizeof(err)), TSC_OK);
    struct tsc_tls_secrets s = secrets12();
    tsc_keylog_out_add(o, &s);
    ck_assert_int_eq(tsc_keylog_out_close(o), TSC_ERR_IO);
}
END_TEST

/* -w output read back by the capture reader and the DSB scanner. */
static char g_dsb[4096];
static size_t g_dsb_len;
static uint32_t g_dsb_calls;

static void on_dsb(void *ud, const uint8_t *p, size_t n)
{
    (void)ud;
    ck_assert_uint_le(g_dsb_len + n, sizeof(g_dsb));
    memcpy(g_dsb + g_dsb_len, p, n);
    g_dsb_len += n;
    g_dsb_calls++;
}

static enum tsc_err to_dsb(void *ud, const uint8_t *p, size_t n)
{
    return tsc_pcapng_out_dsb(ud, p, n);
}

START_TEST(test_pcapng_roundtrip)
{
    char path[] = "/tmp/tsc-pcapng-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    struct tsc_pcapng_out *o = NULL;
    char err[256];
    ck_assert_int_eq(tsc_pcapng_out_open(&o, path, err, sizeof(err)), TSC_OK);
    /* Secrets through the temporary key log, in pieces of at most 256 bytes (one line each). */
    struct tsc_keylog_out *tmp = NULL;
    ck_assert_int_eq(tsc_keylog_out_open_temp(&tmp), TSC_OK);
    struct tsc_tls_secrets s = secrets12();
    for (int i = 0; i < 5; i++) {
        s.client_random[31] = (uint8_t)i;
        tsc_keylog_out_add(tmp, &s);
    }
    ck_assert_int_eq(tsc_keylog_out_replay(tmp, 256, to_dsb, o), TSC_OK);
    ck_assert_int_eq(tsc_keylog_out_replay(tmp, 100, to_dsb, o), TSC_ERR_ARG);
    ck_assert_int_eq(tsc_keylog_out_close(tmp), TSC_OK);
    /* Three packets, odd lengths (padding), nanosecond times. (libpcap reads one link
     * type per file; a second one would get its own interface block.) */
    uint8_t data[61];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 7);
    }
    struct tsc_frame f;
    memset(&f, 0, sizeof(f));
    const int lt[3] = {1, 1, 1};
    const uint32_t len[3] = {61, 13, 1};
    for (int i = 0; i < 3; i++) {
        f.ts.sec = 1700000000 + i;
        f.ts.nsec = 123456789u + (uint32_t)i;
        f.caplen = len[i];
        f.wirelen = len[i] + 100;
        f.linktype = lt[i];
        f.data = data;
        ck_assert_int_eq(tsc_pcapng_out_packet(o, &f), TSC_OK);
    }
    ck_assert_uint_eq(tsc_pcapng_out_packets(o), 3);
    ck_assert_int_eq(tsc_pcapng_out_close(o), TSC_OK);

    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    uint32_t blocks = 0;
    g_dsb_len = 0;
    g_dsb_calls = 0;
    ck_assert_int_eq(tsc_capture_scan_dsb(path, on_dsb, NULL, &sink, &blocks), TSC_OK);
    ck_assert_uint_eq(blocks, 5);
    ck_assert_uint_eq(g_dsb_len, 5 * (14 + 64 + 1 + 96 + 1));
    ck_assert_int_eq(memcmp(g_dsb, "CLIENT_RANDOM ", 14), 0);
    struct tsc_capture *cap = NULL;
    ck_assert_int_eq(tsc_capture_open_file(&cap, path, &sink, err, sizeof(err)), TSC_OK);
    for (int i = 0; i < 3; i++) {
        bool eof = false;
        ck_assert_int_eq(tsc_capture_next(cap, &f, &eof), TSC_OK);
        ck_assert(!eof);
        ck_assert_int_eq(f.linktype, lt[i]);
        ck_assert_uint_eq(f.caplen, len[i]);
        ck_assert_uint_eq(f.wirelen, len[i] + 100);
        ck_assert_int_eq((int)f.ts.sec, 1700000000 + i);
        ck_assert_uint_eq(f.ts.nsec, 123456789u + (uint32_t)i);
        ck_assert_int_eq(memcmp(f.data, data, len[i]), 0);
    }
    bool eof = false;
    enum tsc_err last = tsc_capture_next(cap, &f, &eof);
    ck_assert(eof || last != TSC_OK);
    tsc_capture_close(cap);
    unlink(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("keylog");
    tcase_add_test(tc, test_format_tls12);
    tcase_add_test(tc, test_format_tls13_and_limits);
    tcase_add_test(tc, test_file);
    tcase_add_test(tc, test_write_failure);
    tcase_add_test(tc, test_pcapng_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
