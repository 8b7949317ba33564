/* Unit tests for src/capture: pcap, pcapng, gzip, stdin, truncation, live errors. */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "capture/capture.h"

static char g_dir[256];

static void mkpath(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", g_dir, name);
}

static void setup(void)
{
    snprintf(g_dir, sizeof(g_dir), "/tmp/tsc_check_capture.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    ck_assert_int_eq(system(cmd), 0);
}

#define NPKT 3
static const uint8_t k_frames[NPKT][8] = {
    {1, 2, 3, 4, 5, 6, 7, 8},
    {9, 9, 9, 9, 9, 9, 9, 9},
    {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11},
};

/* pcap with nanosecond timestamps; packet 2 cut to 5 of 8 bytes by the "snaplen". */
static void write_pcap(const char *path)
{
    pcap_t *d = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
                                                     PCAP_TSTAMP_PRECISION_NANO);
    ck_assert_ptr_nonnull(d);
    pcap_dumper_t *w = pcap_dump_open(d, path);
    ck_assert_ptr_nonnull(w);
    for (int i = 0; i < NPKT; i++) {
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof(h));
        h.ts.tv_sec = 1700000000 + i;
        h.ts.tv_usec = 123456789 + i; /* nanoseconds in this precision */
        h.caplen = i == 1 ? 5 : 8;
        h.len = 8;
        pcap_dump((u_char *)w, &h, k_frames[i]);
    }
    pcap_dump_close(w);
    pcap_close(d);
}

static size_t file_read(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void file_write(const char *path, const uint8_t *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
}

static void gzip_file(const char *src, const char *dst)
{
    uint8_t buf[4096];
    size_t n = file_read(src, buf, sizeof(buf));
    gzFile g = gzopen(dst, "wb");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(gzwrite(g, buf, (unsigned)n), (int)n);
    ck_assert_int_eq(gzclose(g), Z_OK);
}

/* Read all frames; check they match k_frames. Returns the count. */
static int read_all(struct tsc_capture *c, uint64_t first, struct tsc_diag_sink *sink,
                    enum tsc_err *last)
{
    int n = 0;
    for (int guard = 0; guard < 100; guard++) {
        struct tsc_frame f;
        bool eof = false;
        enum tsc_err e = tsc_capture_next(c, &f, &eof);
        *last = e;
        if (e != TSC_OK || eof) {
            ck_assert(eof);
            break;
        }
        ck_assert_ptr_nonnull(f.data);
        ck_assert_int_lt(n, NPKT);
        ck_assert_uint_eq(f.num, first + (uint64_t)n);
        ck_assert_uint_eq(f.wirelen, 8);
        ck_assert_uint_eq(f.caplen, n == 1 ? 5 : 8);
        ck_assert(memcmp(f.data, k_frames[n], f.caplen) == 0);
        ck_assert_int_eq(f.linktype, DLT_EN10MB);
        ck_assert_int_eq(f.ts.sec, 1700000000 + n);
        n++;
    }
    (void)sink;
    return n;
}

/* ---- valid ---- */

START_TEST(t_pcap_nano)
{
    char p[300];
    mkpath(p, sizeof(p), "a.pcap");
    write_pcap(p);
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct tsc_capture *c = NULL;
    char err[256] = "";
    ck_assert_int_eq(tsc_capture_open_file(&c, p, &sink, err, sizeof(err)), TSC_OK);
    struct tsc_frame f;
    bool eof = false;
    ck_assert_int_eq(tsc_capture_next(c, &f, &eof), TSC_OK);
    ck_assert_uint_eq(f.ts.nsec, 123456789); /* nanoseconds kept */
    ck_assert_str_eq(f.file, p);
    tsc_capture_close(c);

    ck_assert_int_eq(tsc_capture_open_file(&c, p, &sink, err, sizeof(err)), TSC_OK);
    tsc_capture_set_first_num(c, 41);
    enum tsc_err last;
    ck_assert_int_eq(read_all(c, 41, &sink, &last), NPKT);
    ck_assert_int_eq(last, TSC_ERR_STATE);
    uint64_t done, total;
    tsc_capture_progress(c, &done, &total);
    ck_assert_uint_gt(total, 0);
    ck_assert_uint_eq(done, total);
    uint64_t r, d;
    ck_assert(!tsc_capture_kernel_stats(c, &r, &d));
    tsc_capture_close(c);
    ck_assert_uint_eq(sink.counts[TSC_DIAG_CAPTURE_SNAPLEN], 1);
}
END_TEST

START_TEST(t_gzip)
{
    char p[300], g[300];
    mkpath(p, sizeof(p), "a.pcap");
    mkpath(g, sizeof(g), "a.pcap.gz");
    write_pcap(p);
    gzip_file(p, g);
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct tsc_capture *c = NULL;
    char err[256] = "";
    ck_assert_int_eq(tsc_capture_open_file(&c, g, &sink, err, sizeof(err)), TSC_OK);
    enum tsc_err last;
    ck_assert_int_eq(read_all(c, 1, &sink, &last), NPKT);
    uint64_t done, total;
    tsc_capture_progress(c, &done, &total);
    ck_assert_uint_gt(done, 0);
    ck_assert_uint_le(done, total);
    tsc_capture_close(c);
}
END_TEST

static void put32(uint8_t *b, size_t *o, uint32_t v)
{
    memcpy(b + *o, &v, 4); /* host order, as the byte-order magic says */
    *o += 4;
}

static void put16(uint8_t *b, size_t *o, uint16_t v)
{
    memcpy(b + *o, &v, 2);
    *o += 2;
}

/* Minimal pcapng: SHB, IDB (Ethernet, default microsecond resolution), 3 EPBs. */
static size_t build_pcapng(uint8_t *b)
{
    size_t o = 0;
    put32(b, &o, 0x0a0d0d0a); /* SHB */
    put32(b, &o, 28);
    put32(b, &o, 0x1a2b3c4d);
    put16(b, &o, 1);
    put16(b, &o, 0);
    put32(b, &o, 0xffffffff); /* section length unknown */
    put32(b, &o, 0xffffffff);
    put32(b, &o, 28);
    put32(b, &o, 1); /* IDB */
    put32(b, &o, 20);
    put16(b, &o, DLT_EN10MB);
    put16(b, &o, 0);
    put32(b, &o, 65535);
    put32(b, &o, 20);
    for (int i = 0; i < NPKT; i++) {
        uint32_t cap = i == 1 ? 5 : 8;
        uint32_t padded = (cap + 3) & ~3u;
        uint64_t usec = (uint64_t)(1700000000 + i) * 1000000u + 250000u;
        put32(b, &o, 6); /* EPB */
        put32(b, &o, 32 + padded);
        put32(b, &o, 0);
        put32(b, &o, (uint32_t)(usec >> 32));
        put32(b, &o, (uint32_t)usec);
        put32(b, &o, cap);
        put32(b, &o, 8);
        memset(b + o, 0, padded);
        memcpy(b + o, k_frames[i], cap);
        o += padded;
        put32(b, &o, 32 + padded);
    }
    return o;
}

START_TEST(t_pcapng)
{
    uint8_t b[512];
    size_t n = build_pcapng(b);
    char p[300];
    mkpath(p, sizeof(p), "a.pcapng");
    file_write(p, b, n);
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct tsc_capture *c = NULL;
    char err[256] = "";
    ck_assert_int_eq(tsc_capture_open_file(&c, p, &sink, err, sizeof(err)), TSC_OK);
    struct tsc_frame f;
    bool eof = false;
    ck_assert_int_eq(tsc_capture_next(c, &f, &eof), TSC_OK);
    ck_assert_uint_eq(f.ts.nsec, 250000000u);
    tsc_capture_close(c);
    ck_assert_int_eq(tsc_capture_open_file(&c, p, &sink, err, sizeof(err)), TSC_OK);
    enum tsc_err last;
    ck_assert_int_eq(read_all(c, 1, &sink, &last), NPKT);
    tsc_capture_close(c);
}
END_TEST

START_TEST(t_stdin_gzip)
{
    char p[300], g[300];
    mkpath(p, sizeof(p), "a.pcap");
    mkpath(g, sizeof(g), "a.pcap.gz");
    write_pcap(p);
    gzip_file(p, g);
    for (int k = 0; k < 2; k++) {
        FILE *in = fopen(k == 0 ? p : g, "rb");
        ck_assert_ptr_nonnull(in);
        int saved = dup(0);
        ck_assert_int_ge(saved, 0);
        ck_assert_int_eq(dup2(fileno(in), 0), 0);
        fclose(in);
        struct tsc_capture *c = NULL;
        char err[256] = "";
        ck_assert_int_eq(tsc_capture_open_file(&c, "-", NULL, err, sizeof(err)), TSC_OK);
        enum tsc_err last;
        ck_assert_int_eq(read_all(c, 1, NULL, &last), NPKT);
        tsc_capture_close(c);
        ck_assert_int_eq(dup2(saved, 0), 0);
        close(saved);
    }
}
END_TEST

START_TEST(t_filter)
{
    char p[300];
    mkpath(p, sizeof(p), "a.pcap");
    write_pcap(p);
    struct tsc_capture *c = NULL;
    char err[256] = "";
    ck_assert_int_eq(tsc_capture_open_file(&c, p, NULL, err, sizeof(err)), TSC_OK);
    ck_assert_int_eq(tsc_capture_set_filter(c, "this is not bpf", err, sizeof(err)), TSC_ERR_ARG);
    ck_assert(strlen(err) > 0);
    /* ether[0] == 9 keeps only the second frame. */
    ck_assert_int_eq(tsc_capture_set_filter(c, "ether[0] == 9", err, sizeof(err)), TSC_OK);
    struct tsc_frame f;
    bool eof = false;
    ck_assert_int_eq(tsc_capture_next(c, &f, &eof), TSC_OK);
    ck_assert_uint_eq(f.num, 1); /* numbers count delivered frames */
    ck_assert_uint_eq(f.data[0], 9);
    ck_assert_int_eq(tsc_capture_next(c, &f, &eof), TSC_ERR_STATE);
    ck_assert(eof);
    tsc_capture_close(c);
}
END_TEST

/* ---- malformed ---- */

START_TEST(t_bad_files)
{
    char p[300];
    char err[256] = "";
    struct tsc_capture *c = NULL;
    mkpath(p, sizeof(p), "missing.pcap");
    ck_assert_int_eq(tsc_capture_open_file(&c, p, NULL, err, sizeof(err)), TSC_ERR_IO);
    ck_assert_ptr_null(c);
    ck_assert(strstr(err, "No such file") != NULL);
    mkpath(p, sizeof(p), "garbage.pcap");
    const uint8_t junk[64] = "this is not a capture file at all, just some text........";
    file_write(p, junk, sizeof(junk));
    err[0] = 0;
    ck_assert_int_eq(tsc_capture_open_file(&c, p, NULL, err, sizeof(err)), TSC_ERR_DECODE);
    ck_assert(strlen(err) > 0);
    /* gzip magic followed by garbage */
    const uint8_t badgz[16] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff};
    mkpath(p, sizeof(p), "bad.gz");
    file_write(p, badgz, sizeof(badgz));
    ck_assert_int_ne(tsc_capture_open_file(&c, p, NULL, err, sizeof(err)), TSC_OK);
    mkpath(p, sizeof(p), "empty.pcap");
    file_write(p, junk, 0);
    ck_assert_int_ne(tsc_capture_open_file(&c, p, NULL, err, sizeof(err)), TSC_OK);
}
END_TEST

START_TEST(t_live_errors)
{
    struct tsc_capture *c = NULL;
    char err[256] = "";
    struct tsc_capture_live_opts o = {0, false, true, 0, 0};
    ck_assert_int_ne(tsc_capture_open_live(&c, "tscnosuchif0", &o, NULL, err, sizeof(err)),
                     TSC_OK);
    ck_assert_ptr_null(c);
    ck_assert(strstr(err, "tscnosuchif0") != NULL);
}
END_TEST

/* ---- truncated: the pcap file cut at every length ---- */

START_TEST(t_cut_every)
{
    char p[300], q[300];
    mkpath(p, sizeof(p), "a.pcap");
    mkpath(q, sizeof(q), "cut.pcap");
    write_pcap(p);
    uint8_t buf[1024];
    size_t n = file_read(p, buf, sizeof(buf));
    size_t cut = (size_t)_i;
    if (cut >= n) {
        return;
    }
    file_write(q, buf, cut);
    /* Record ends: header 24, each record 16 + caplen. */
    size_t ends[NPKT] = {24 + 16 + 8, 24 + 16 + 8 + 16 + 5, 24 + 16 + 8 + 16 + 5 + 16 + 8};
    int complete = 0;
    for (int i = 0; i < NPKT; i++) {
        complete += cut >= ends[i];
    }
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct tsc_capture *c = NULL;
    char err[256] = "";
    enum tsc_err e = tsc_capture_open_file(&c, q, &sink, err, sizeof(err));
    if (cut < 24) {
        ck_assert_int_ne(e, TSC_OK);
        return;
    }
    ck_assert_int_eq(e, TSC_OK);
    enum tsc_err last;
    ck_assert_int_eq(read_all(c, 1, &sink, &last), complete);
    bool at_boundary = cut == 24 || cut == ends[0] || cut == ends[1];
    if (at_boundary) {
        ck_assert_int_eq(last, TSC_ERR_STATE);
        ck_assert_uint_eq(sink.counts[TSC_DIAG_CAPTURE_TRUNCATED_FILE], 0);
    } else {
        ck_assert_int_eq(last, TSC_ERR_TRUNCATED);
        ck_assert_uint_eq(sink.counts[TSC_DIAG_CAPTURE_TRUNCATED_FILE], 1);
    }
    tsc_capture_close(c);
}
END_TEST

/* ---- pcapng Decryption Secrets Blocks ---- */

static size_t put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
    return 4;
}

/* SHB (28 bytes, little-endian) then one DSB carrying `secret` (padded). */
static size_t mk_dsb_file(uint8_t *b, const char *secret, uint32_t stype, uint32_t slen_field,
                          uint32_t total_override)
{
    size_t n = 0;
    n += put32le(b + n, 0x0A0D0D0Au);
    n += put32le(b + n, 28);
    n += put32le(b + n, 0x1A2B3C4Du);
    n += put32le(b + n, 1); /* major 1, minor 0 */
    n += put32le(b + n, 0xffffffffu);
    n += put32le(b + n, 0xffffffffu); /* section length -1 */
    n += put32le(b + n, 28);
    size_t sl = strlen(secret);
    size_t pad = (4 - sl % 4) % 4;
    uint32_t total = (uint32_t)(12 + 8 + sl + pad);
    n += put32le(b + n, 0x0000000Au);
    n += put32le(b + n, total_override ? total_override : total);
    n += put32le(b + n, stype);
    n += put32le(b + n, slen_field);
    memcpy(b + n, secret, sl);
    n += sl;
    memset(b + n, 0, pad);
    n += pad;
    n += put32le(b + n, total);
    return n;
}

static char g_seen[512];
static void seen_cb(void *ud, const uint8_t *p, size_t n)
{
    (void)ud;
    size_t l = strlen(g_seen);
    ck_assert_uint_lt(l + n, sizeof(g_seen));
    memcpy(g_seen + l, p, n);
    g_seen[l + n] = '\0';
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

START_TEST(t_dsb_valid)
{
    uint8_t b[512];
    char path[300];
    const char *kl = "CLIENT_RANDOM 00 11\n";
    size_t n = mk_dsb_file(b, kl, 0x544c534bu, (uint32_t)strlen(kl), 0);
    mkpath(path, sizeof(path), "dsb.pcapng");
    write_file(path, b, n);
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    uint32_t blocks = 0;
    g_seen[0] = '\0';
    ck_assert_int_eq(tsc_capture_scan_dsb(path, seen_cb, NULL, &sink, &blocks), TSC_OK);
    ck_assert_uint_eq(blocks, 1);
    ck_assert_str_eq(g_seen, kl);
    /* Another secrets type is skipped. */
    n = mk_dsb_file(b, kl, 0x57474b4cu, (uint32_t)strlen(kl), 0);
    write_file(path, b, n);
    g_seen[0] = '\0';
    ck_assert_int_eq(tsc_capture_scan_dsb(path, seen_cb, NULL, &sink, &blocks), TSC_OK);
    ck_assert_uint_eq(blocks, 0);
    ck_assert_str_eq(g_seen, "");
}
END_TEST

START_TEST(t_dsb_malformed)
{
    uint8_t b[512];
    char path[300];
    const char *kl = "CLIENT_RANDOM 00 11\n";
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    uint32_t blocks = 0;
    mkpath(path, sizeof(path), "bad.pcapng");
    /* Secrets length larger than the block: diagnostic, nothing delivered. */
    size_t n = mk_dsb_file(b, kl, 0x544c534bu, 4096, 0);
    write_file(path, b, n);
    g_seen[0] = '\0';
    ck_assert_int_eq(tsc_capture_scan_dsb(path, seen_cb, NULL, &sink, &blocks), TSC_OK);
    ck_assert_uint_eq(blocks, 0);
    ck_assert_uint_eq(sink.counts[TSC_DIAG_CAPTURE_CORRUPT], 1);
    /* Impossible block length: the scan stops with an error, no crash. */
    n = mk_dsb_file(b, kl, 0x544c534bu, (uint32_t)strlen(kl), 13);
    write_file(path, b, n);
    ck_assert_int_eq(tsc_capture_scan_dsb(path, seen_cb, NULL, &sink, &blocks), TSC_ERR_DECODE);
    ck_assert_uint_eq(sink.counts[TSC_DIAG_CAPTURE_CORRUPT], 2);
    /* Every cut of a valid file: never a crash, never more than one block. */
    size_t full = mk_dsb_file(b, kl, 0x544c534bu, (uint32_t)strlen(kl), 0);
    for (size_t cut = 0; cut < full; cut++) {
        write_file(path, b, cut);
        (void)!tsc_capture_scan_dsb(path, seen_cb, NULL, &sink, &blocks);
        ck_assert_uint_le(blocks, 1);
        g_seen[0] = '\0';
    }
    /* Not pcapng: nothing. */
    ck_assert_int_eq(tsc_capture_scan_dsb("/dev/null", seen_cb, NULL, &sink, &blocks), TSC_OK);
    ck_assert_uint_eq(blocks, 0);
}
END_TEST

static Suite *capture_suite(void)
{
    Suite *s = suite_create("capture");
    TCase *v = tcase_create("valid");
    tcase_add_checked_fixture(v, setup, teardown);
    tcase_add_test(v, t_pcap_nano);
    tcase_add_test(v, t_gzip);
    tcase_add_test(v, t_pcapng);
    tcase_add_test(v, t_stdin_gzip);
    tcase_add_test(v, t_filter);
    tcase_add_test(v, t_dsb_valid);
    suite_add_tcase(s, v);
    TCase *m = tcase_create("malformed");
    tcase_add_checked_fixture(m, setup, teardown);
    tcase_add_test(m, t_bad_files);
    tcase_add_test(m, t_live_errors);
    tcase_add_test(m, t_dsb_malformed);
    suite_add_tcase(s, m);
    TCase *t = tcase_create("truncated");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_loop_test(t, t_cut_every, 0, 24 + 16 * 3 + 8 + 5 + 8);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(capture_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
