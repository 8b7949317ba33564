/*
 * Check suite for the public embedding API (include/tlsscope/tlsscope.h):
 * event callbacks against what -j writes, masks, TSC_FORMAT_NONE, typed
 * views, connection facts, version calls.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsscope/tlsscope.h"

#define MAX_EVENTS 4096

struct seen {
    int n;
    enum tsc_event_type type[MAX_EVENTS];
    char *json[MAX_EVENTS];
    int per_type[TSC_EV__COUNT];
    /* From the typed views. */
    int handshakes_with_type;
    int conn_with_facts;
    uint64_t app_bytes[2];
    char sni[256];
    uint64_t last_conn_id;
    int bad_views;
    char starttls[32]; /* TSC_EV_PRELUDE view */
};

static void on_event(void *ud, const struct tsc_event *ev)
{
    struct seen *s = ud;
    if (ev->type >= TSC_EV__COUNT || ev->json == NULL || ev->type_name == NULL ||
        strlen(ev->json) != ev->json_len) {
        s->bad_views++;
        return;
    }
    s->per_type[ev->type]++;
    if (s->n < MAX_EVENTS) {
        s->type[s->n] = ev->type;
        s->json[s->n] = strdup(ev->json);
        s->n++;
    }
    /* The JSON names the same type as the typed view. */
    char want[64];
    snprintf(want, sizeof(want), "{\"type\":\"%s\"", ev->type_name);
    if (strncmp(ev->json, want, strlen(want)) != 0) {
        s->bad_views++;
    }
    switch (ev->type) {
    case TSC_EV_HANDSHAKE:
        if (ev->conn == NULL || ev->conn_id != ev->conn->id || ev->dir < 0 || ev->pkt == 0) {
            s->bad_views++;
        }
        if (ev->msg_type == 1 || ev->msg_type == 2) {
            s->handshakes_with_type++;
        }
        break;
    case TSC_EV_APP_DATA:
        if (ev->dir == 0 || ev->dir == 1) {
            s->app_bytes[ev->dir] += ev->data_len;
        }
        if (ev->data == NULL && ev->data_len > 0) {
            s->bad_views++;
        }
        break;
    case TSC_EV_CONNECTION:
        if (ev->facts == NULL || ev->conn == NULL) {
            s->bad_views++;
            break;
        }
        s->conn_with_facts++;
        s->last_conn_id = ev->conn->id;
        snprintf(s->sni, sizeof(s->sni), "%s", ev->facts->sni);
        break;
    case TSC_EV_PRELUDE:
        if (ev->prelude == NULL || ev->conn == NULL || ev->prelude->starttls == NULL) {
            s->bad_views++;
            break;
        }
        snprintf(s->starttls, sizeof(s->starttls), "%s", ev->prelude->starttls);
        break;
    case TSC_EV_RUN:
    case TSC_EV_STATS:
        if (ev->conn != NULL || ev->conn_id != 0) {
            s->bad_views++;
        }
        break;
    default:
        break;
    }
}

static void seen_free(struct seen *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->json[i]);
    }
    free(s);
}

static char *capture_path(const char *name, const char *sub)
{
    static char path[4][1024];
    static int k;
    const char *src = getenv("TSC_SOURCE_DIR");
    ck_assert_msg(src != NULL, "TSC_SOURCE_DIR not set");
    k = (k + 1) % 4;
    snprintf(path[k], sizeof(path[k]), "%s/pcaps/%s%s", src, sub, name);
    return path[k];
}

/* Runs one capture of pcaps/; out (may be NULL) receives the stream. */
static struct seen *run_capture(const char *pcap, enum tsc_format fmt, unsigned mask, bool keys,
                                FILE *out)
{
    struct seen *s = calloc(1, sizeof(*s));
    ck_assert_ptr_nonnull(s);
    struct tsc_config cfg;
    tsc_config_default(&cfg);
    cfg.format = fmt;
    cfg.verbosity = 1;
    cfg.quiet = true;
    cfg.env_keylog = false;
    cfg.out = out;
    cfg.on_event = on_event;
    cfg.event_ud = s;
    cfg.event_mask = mask;
    const char *logs[1] = {capture_path("tls13-aes128-gcm-sha256.keylog", "keylogs/")};
    if (keys) {
        cfg.keylog_files = logs;
        cfg.n_keylog_files = 1;
        cfg.show_app_data = true;
    }
    struct tsc_analyzer *a = NULL;
    char err[256];
    ck_assert_int_eq(tsc_analyzer_new(&a, &cfg, err, sizeof(err)), 0);
    const char *paths[1] = {capture_path(pcap, "")};
    ck_assert_int_eq(tsc_analyzer_run_files(a, paths, 1), 0);
    tsc_analyzer_free(a);
    return s;
}

static struct seen *run(enum tsc_format fmt, unsigned mask, bool keys, FILE *out)
{
    return run_capture("tls13-aes128-gcm-sha256.pcap", fmt, mask, keys, out);
}

START_TEST(t_version)
{
    char want[32];
    snprintf(want, sizeof(want), "%d.%d.%d", TSC_VERSION_MAJOR, TSC_VERSION_MINOR,
             TSC_VERSION_PATCH);
    ck_assert_str_eq(tsc_version(), want);
}
END_TEST

START_TEST(t_callback_equals_jsonl)
{
    /* With -j at verbosity 1 the callback sees exactly the lines written, in order. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(mem);
    struct seen *s = run(TSC_FORMAT_JSONL, 0, true, mem);
    fclose(mem);
    ck_assert_int_eq(s->bad_views, 0);
    /* The run record is written first but delivered when the input hashes are known
     * (it may come after other events): compare the other events in order. */
    int lines = 0, k = 0, runs = 0;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        lines++;
        if (strncmp(line, "{\"type\":\"run\"", 13) == 0) {
            continue;
        }
        while (k < s->n && s->type[k] == TSC_EV_RUN) {
            k++;
            runs++;
        }
        ck_assert_int_lt(k, s->n);
        ck_assert_str_eq(s->json[k], line);
        k++;
    }
    while (k < s->n && s->type[k] == TSC_EV_RUN) {
        k++;
        runs++;
    }
    ck_assert_int_eq(k, s->n);
    ck_assert_int_eq(runs, 1);
    ck_assert_int_eq(lines, s->n);
    ck_assert_int_eq(s->per_type[TSC_EV_RUN], 1);
    ck_assert_int_eq(s->per_type[TSC_EV_STATS], 1);
    ck_assert_int_eq(s->per_type[TSC_EV_CONNECTION], 1);
    ck_assert_int_eq(s->conn_with_facts, 1);
    ck_assert_str_eq(s->sni, "server.test");
    /* tls13-aes128-gcm-sha256 (pcaps/manifest.json): 1200 bytes c2s, 2100 s2c. */
    ck_assert_uint_eq(s->app_bytes[0], 1200);
    ck_assert_uint_eq(s->app_bytes[1], 2100);
    ck_assert_int_ge(s->handshakes_with_type, 2);
    seen_free(s);
    free(buf);
}
END_TEST

START_TEST(t_prelude_event)
{
    /* A STARTTLS capture: the starttls event reaches the callback, same JSON as -j. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(mem);
    struct seen *s = run_capture("starttls-smtp.pcap", TSC_FORMAT_JSONL, 0, false, mem);
    fclose(mem);
    ck_assert_int_eq(s->bad_views, 0);
    ck_assert_int_eq(s->per_type[TSC_EV_PRELUDE], 1);
    ck_assert_str_eq(s->starttls, "smtp");
    int found = 0;
    for (int k = 0; k < s->n; k++) {
        if (s->type[k] == TSC_EV_PRELUDE) {
            ck_assert_ptr_nonnull(strstr(buf, s->json[k]));
            found++;
        }
    }
    ck_assert_int_eq(found, 1);
    seen_free(s);
    free(buf);
}
END_TEST

START_TEST(t_format_none_and_mask)
{
    /* Nothing written; only connection summaries delivered. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(mem);
    struct seen *s = run(TSC_FORMAT_NONE, TSC_EV_MASK(TSC_EV_CONNECTION), false, mem);
    fclose(mem);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(s->bad_views, 0);
    ck_assert_int_eq(s->n, 1);
    ck_assert_int_eq(s->type[0], TSC_EV_CONNECTION);
    ck_assert_uint_eq(s->last_conn_id, 1);
    ck_assert(strstr(s->json[0], "\"sni\":\"server.test\"") != NULL);
    seen_free(s);
    free(buf);
}
END_TEST

START_TEST(t_text_format_still_gets_json)
{
    /* Text output on the stream, JSON in the callback; summary_only does not hide events
     * from the callback. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(mem);
    struct seen *s = run(TSC_FORMAT_TEXT, TSC_EV_MASK(TSC_EV_HANDSHAKE) | TSC_EV_MASK(TSC_EV_RECORD),
                         false, mem);
    fclose(mem);
    ck_assert_uint_gt(len, 0);
    ck_assert(buf[0] != '{');
    ck_assert_int_eq(s->bad_views, 0);
    ck_assert_int_gt(s->per_type[TSC_EV_HANDSHAKE], 0);
    ck_assert_int_gt(s->per_type[TSC_EV_RECORD], 0);
    ck_assert_int_eq(s->per_type[TSC_EV_CONNECTION], 0);
    ck_assert_int_eq(s->per_type[TSC_EV_RUN], 0);
    seen_free(s);
    free(buf);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *v = tcase_create("valid");
    tcase_add_test(v, t_version);
    tcase_add_test(v, t_callback_equals_jsonl);
    tcase_add_test(v, t_prelude_event);
    tcase_add_test(v, t_format_none_and_mask);
    tcase_add_test(v, t_text_format_still_gets_json);
    suite_add_tcase(s, v);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(api_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
