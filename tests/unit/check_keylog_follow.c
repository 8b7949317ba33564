/*
 * Following a key log while it grows (src/keys/keylog_follow.c): a file that
 * does not exist yet, lines appended in pieces (a line is taken only once its
 * newline is there), truncation, replacement by a new file (inode change),
 * an overlong line split across writes, bad lines, and the last unterminated
 * line taken at the end of the run.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys/keys.h"

struct capture {
    char last[512];
    int n;
    int follow_events; /* keylog-follow diagnostics */
};

static void cap_emit(void *ud, enum tsc_diag_kind kind, const struct tsc_where *w, const char *msg)
{
    (void)w;
    struct capture *c = ud;
    snprintf(c->last, sizeof(c->last), "%s", msg);
    c->n++;
    c->follow_events += kind == TSC_DIAG_KEYLOG_FOLLOW;
}

static struct tsc_diag_sink g_sink;
static struct capture g_cap;
static char g_dir[256];

static struct tsc_keys *new_keys(void)
{
    memset(&g_sink, 0, sizeof(g_sink));
    memset(&g_cap, 0, sizeof(g_cap));
    g_sink.emit = cap_emit;
    g_sink.ud = &g_cap;
    struct tsc_keys *k = NULL;
    ck_assert_int_eq(tsc_keys_new(&k, &g_sink), TSC_OK);
    return k;
}

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", g_dir, name);
}

/* Appends s to the file at p (created when missing). */
static void append(const char *p, const char *s)
{
    FILE *f = fopen(p, "ab");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(s, 1, strlen(s), f), strlen(s));
    fclose(f);
}

/* "LABEL <client random i> <32-byte secret>" with a newline. */
static void entry(char *out, size_t n, const char *label, int i)
{
    snprintf(out, n, "%s %056x%08x %064x\n", label, 0, i, i + 7);
}

static uint64_t poll_added(struct tsc_keylog_follow *f)
{
    uint64_t added = 99;
    ck_assert_int_eq(tsc_keylog_follow_poll(f, &added), TSC_OK);
    return added;
}

static bool have(const struct tsc_keys *k, int i)
{
    uint8_t key[32] = {0}, out[TSC_MAX_SECRET];
    size_t n = 0;
    key[28] = (uint8_t)(i >> 24);
    key[29] = (uint8_t)(i >> 16);
    key[30] = (uint8_t)(i >> 8);
    key[31] = (uint8_t)i;
    return tsc_keys_keylog_find(k, TSC_KL_CLIENT_TRAFFIC_SECRET_0, key, 32, out, &n) && n == 32;
}

START_TEST(test_wait_then_grow)
{
    char p[512], line[256];
    path_of(p, sizeof(p), "grow.log");
    unlink(p);
    struct tsc_keys *k = new_keys();
    struct tsc_keylog_follow *f = NULL;
    ck_assert_int_eq(tsc_keylog_follow_new(&f, k, p), TSC_OK);
    /* Not there yet: waited for, said once. */
    ck_assert_uint_eq(poll_added(f), 0);
    ck_assert_uint_eq(poll_added(f), 0);
    ck_assert_int_eq(g_cap.follow_events, 1);
    ck_assert_msg(strstr(g_cap.last, "does not exist yet") != NULL, "%s", g_cap.last);
    /* Appears with two lines. */
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 1);
    append(p, "# SSL/TLS secrets log file\n");
    append(p, line);
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 2);
    append(p, line);
    ck_assert_uint_eq(poll_added(f), 2);
    ck_assert(have(k, 1) && have(k, 2));
    ck_assert_int_eq(g_cap.follow_events, 2); /* "appeared" */
    /* Nothing new: nothing added. */
    ck_assert_uint_eq(poll_added(f), 0);
    /* A line written in three pieces counts once its newline is there. */
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 3);
    char a[64], b[64];
    snprintf(a, sizeof(a), "%.20s", line);
    snprintf(b, sizeof(b), "%.30s", line + 20);
    append(p, a);
    ck_assert_uint_eq(poll_added(f), 0);
    append(p, b);
    ck_assert_uint_eq(poll_added(f), 0);
    ck_assert(!have(k, 3));
    append(p, line + 50);
    ck_assert_uint_eq(poll_added(f), 1);
    ck_assert(have(k, 3));
    /* A bad line is a diagnostic naming file and line, the next one still counts. */
    int before = g_cap.n;
    append(p, "NOT_A_LABEL 00 11\n");
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 4);
    append(p, line);
    ck_assert_uint_eq(poll_added(f), 1);
    ck_assert_int_eq(g_cap.n, before + 1);
    char want[600];
    snprintf(want, sizeof(want), "%s:5:", p);
    ck_assert_msg(strstr(g_cap.last, want) != NULL, "%s", g_cap.last);
    struct tsc_keylog_follow_stats st;
    tsc_keylog_follow_get_stats(f, &st);
    ck_assert_uint_eq(st.lines, 6);
    ck_assert_uint_eq(st.entries_added, 4);
    tsc_keylog_follow_free(f);
    tsc_keys_free(k);
    unlink(p);
}
END_TEST

START_TEST(test_truncate_and_replace)
{
    char p[512], q[512], line[256];
    path_of(p, sizeof(p), "rot.log");
    path_of(q, sizeof(q), "rot.log.new");
    unlink(p);
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 10);
    append(p, line);
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 11);
    append(p, line);
    struct tsc_keys *k = new_keys();
    struct tsc_keylog_follow *f = NULL;
    ck_assert_int_eq(tsc_keylog_follow_new(&f, k, p), TSC_OK);
    ck_assert_uint_eq(poll_added(f), 2);
    /* Truncated, then one shorter line: read again from the start. */
    FILE *t = fopen(p, "wb");
    ck_assert_ptr_nonnull(t);
    fclose(t);
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 12);
    append(p, line);
    ck_assert_uint_eq(poll_added(f), 1);
    ck_assert(have(k, 12));
    /* Replaced by another file (rename over it): the old one's tail is read,
     * then the new one from its start. */
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 13);
    append(p, line);
    unlink(q);
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 14);
    append(q, line);
    ck_assert_int_eq(rename(q, p), 0);
    ck_assert_uint_eq(poll_added(f), 2);
    ck_assert(have(k, 13) && have(k, 14));
    /* Removed: nothing happens until a file is there again. */
    unlink(p);
    ck_assert_uint_eq(poll_added(f), 0);
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 15);
    append(p, line);
    ck_assert_uint_eq(poll_added(f), 1);
    struct tsc_keylog_follow_stats st;
    tsc_keylog_follow_get_stats(f, &st);
    ck_assert_uint_eq(st.truncations, 1);
    ck_assert_uint_eq(st.reopens, 2);
    tsc_keylog_follow_free(f);
    tsc_keys_free(k);
    unlink(p);
}
END_TEST

START_TEST(test_overlong_and_unterminated)
{
    char p[512], line[256];
    path_of(p, sizeof(p), "long.log");
    unlink(p);
    struct tsc_keys *k = new_keys();
    struct tsc_keylog_follow *f = NULL;
    ck_assert_int_eq(tsc_keylog_follow_new(&f, k, p), TSC_OK);
    /* 3000 characters in several writes: one diagnostic, the line dropped. */
    char chunk[1001];
    memset(chunk, 'A', 1000);
    chunk[1000] = '\0';
    append(p, chunk);
    ck_assert_uint_eq(poll_added(f), 0);
    append(p, chunk);
    ck_assert_uint_eq(poll_added(f), 0);
    append(p, chunk);
    append(p, "\n");
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 20);
    append(p, line);
    ck_assert_uint_eq(poll_added(f), 1);
    struct tsc_keys_stats ks;
    tsc_keys_get_stats(k, &ks);
    ck_assert_uint_eq(ks.keylog_bad_lines, 1);
    ck_assert(have(k, 20));
    /* The last line without a newline: only taken at the end of the run. */
    entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 21);
    line[strlen(line) - 1] = '\0';
    append(p, line);
    ck_assert_uint_eq(poll_added(f), 0);
    tsc_keylog_follow_finish(f);
    ck_assert(have(k, 21));
    tsc_keylog_follow_free(f);
    tsc_keys_free(k);
    unlink(p);
}
END_TEST

/* A bounded index keeps the newest one or two generations of entries. */
START_TEST(test_bounded_index)
{
    char p[512], line[256];
    path_of(p, sizeof(p), "bound.log");
    unlink(p);
    struct tsc_keys *k = new_keys();
    tsc_keys_keylog_bound(k, 4);
    struct tsc_keylog_follow *f = NULL;
    ck_assert_int_eq(tsc_keylog_follow_new(&f, k, p), TSC_OK);
    for (int i = 0; i < 10; i++) {
        entry(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0", 100 + i);
        append(p, line);
    }
    ck_assert_uint_eq(poll_added(f), 10);
    /* Generations of 4: {100..103} dropped, {104..107} previous, {108, 109} current. */
    for (int i = 0; i < 4; i++) {
        ck_assert(!have(k, 100 + i));
    }
    for (int i = 4; i < 10; i++) {
        ck_assert(have(k, 100 + i));
    }
    struct tsc_keys_stats ks;
    tsc_keys_get_stats(k, &ks);
    ck_assert_uint_eq(ks.keylog_entries, 6);
    ck_assert_uint_eq(ks.keylog_dropped, 4);
    ck_assert_uint_eq(tsc_keys_keylog_added(k), 10);
    tsc_keylog_follow_free(f);
    tsc_keys_free(k);
    unlink(p);
}
END_TEST

static Suite *follow_suite(void)
{
    Suite *s = suite_create("keylog_follow");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_wait_then_grow);
    tcase_add_test(tc, test_truncate_and_replace);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, test_overlong_and_unterminated);
    tcase_add_test(tc, test_bounded_index);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    snprintf(g_dir, sizeof(g_dir), "/tmp/tsc_check_follow.XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(follow_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    rmdir(g_dir);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
