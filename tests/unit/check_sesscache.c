/*
 * Sessions across connections and across damage. Resumption cache
 * (src/crypto/sesscache.c) and resumption through the dissector
 * (src/tls/resume.c): the cache alone (hit,
 * miss, kinds kept apart, replace, LRU eviction order, stats), then the two
 * TLS 1.2 resumption captures of pcaps/ read connection by connection with a
 * shared cache: the resumed connection decrypts with the parent's master
 * secret (key log line of the parent only), a missing parent, a parent whose
 * secret is unknown, and a poisoned entry (wrong master secret) that the MAC
 * and Finished checks catch. Expected byte counts are pcaps/manifest.json's.
 * Decryption after a TCP gap (tsc_csess_decrypt_resync through records.c):
 * AEAD bulk captures with a server packet left out.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "crypto/sesscache.h"
#include "keys/keys.h"
#include "net/net.h"
#include "tcp/tcp.h"
#include "tls/msg.h"
#include "tls/tls.h"

/* ---- the cache alone ---- */

static struct tsc_sess_val val(uint64_t id, uint8_t fill)
{
    struct tsc_sess_val v;
    memset(&v, 0, sizeof(v));
    v.conn_id = id;
    v.have_ms = fill != 0;
    memset(v.ms, fill, sizeof(v.ms));
    v.version = 0x0303;
    v.suite = 0xc02f;
    return v;
}

static struct tsc_sess_key key_of(enum tsc_sess_kind kind, uint32_t n)
{
    uint8_t id[32];
    memset(id, 0, sizeof(id));
    memcpy(id, &n, sizeof(n));
    struct tsc_sess_key k;
    tsc_sess_key_make(kind, id, sizeof(id), &k);
    return k;
}

START_TEST(test_hit_miss)
{
    struct tsc_sess_cache *c = NULL;
    ck_assert_int_eq(tsc_sess_cache_new(&c, 8), TSC_OK);
    struct tsc_sess_key k = key_of(TSC_SESS_ID, 1);
    struct tsc_sess_val v = val(5, 0xab), got;
    tsc_sess_cache_put(c, &k, &v);
    ck_assert(tsc_sess_cache_get(c, &k, &got));
    ck_assert_uint_eq(got.conn_id, 5);
    ck_assert(got.have_ms);
    ck_assert_int_eq(memcmp(got.ms, v.ms, 48), 0);
    /* Same bytes under the other kind, and other bytes: misses. */
    struct tsc_sess_key kt = key_of(TSC_SESS_TICKET, 1);
    struct tsc_sess_key k2 = key_of(TSC_SESS_ID, 2);
    ck_assert(!tsc_sess_cache_get(c, &kt, &got));
    ck_assert(!tsc_sess_cache_get(c, &k2, &got));
    /* Replacing keeps one entry. */
    v = val(6, 0);
    tsc_sess_cache_put(c, &k, &v);
    ck_assert(tsc_sess_cache_get(c, &k, &got));
    ck_assert_uint_eq(got.conn_id, 6);
    ck_assert(!got.have_ms);
    struct tsc_sess_cache_stats st;
    tsc_sess_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.capacity, 8);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_uint_eq(st.inserts, 1);
    ck_assert_uint_eq(st.updates, 1);
    ck_assert_uint_eq(st.lookups, 4);
    ck_assert_uint_eq(st.hits, 2);
    ck_assert_uint_eq(st.evictions, 0);
    ck_assert_uint_gt(st.memory_bytes, 8 * sizeof(struct tsc_sess_val));
    tsc_sess_cache_free(c);
}
END_TEST

START_TEST(test_bad_capacity)
{
    struct tsc_sess_cache *c = (struct tsc_sess_cache *)1;
    ck_assert_int_eq(tsc_sess_cache_new(&c, 0), TSC_ERR_ARG);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(tsc_sess_cache_new(&c, TSC_SESS_CACHE_MAX + 1), TSC_ERR_ARG);
    /* NULL cache: lookups miss, stores do nothing, stats are zero. */
    struct tsc_sess_key k = key_of(TSC_SESS_ID, 1);
    struct tsc_sess_val v = val(1, 1), got;
    tsc_sess_cache_put(NULL, &k, &v);
    ck_assert(!tsc_sess_cache_get(NULL, &k, &got));
    struct tsc_sess_cache_stats st;
    tsc_sess_cache_get_stats(NULL, &st);
    ck_assert_uint_eq(st.capacity, 0);
}
END_TEST

/* Capacity 4: the least recently used (put or hit) entry goes first. */
START_TEST(test_lru_eviction)
{
    struct tsc_sess_cache *c = NULL;
    ck_assert_int_eq(tsc_sess_cache_new(&c, 4), TSC_OK);
    struct tsc_sess_val got;
    for (uint32_t i = 1; i <= 4; i++) {
        struct tsc_sess_key k = key_of(TSC_SESS_TICKET, i);
        struct tsc_sess_val v = val(i, (uint8_t)i);
        tsc_sess_cache_put(c, &k, &v);
    }
    struct tsc_sess_key k1 = key_of(TSC_SESS_TICKET, 1);
    ck_assert(tsc_sess_cache_get(c, &k1, &got)); /* 1 is now the most recent; 2 the oldest */
    for (uint32_t i = 5; i <= 6; i++) {
        struct tsc_sess_key k = key_of(TSC_SESS_TICKET, i);
        struct tsc_sess_val v = val(i, (uint8_t)i);
        tsc_sess_cache_put(c, &k, &v);
    }
    uint32_t present[] = {1, 4, 5, 6}, gone[] = {2, 3};
    for (size_t i = 0; i < 4; i++) {
        struct tsc_sess_key k = key_of(TSC_SESS_TICKET, present[i]);
        ck_assert_msg(tsc_sess_cache_get(c, &k, &got), "entry %u evicted", present[i]);
        ck_assert_uint_eq(got.conn_id, present[i]);
        ck_assert_uint_eq(got.ms[0], present[i]);
    }
    for (size_t i = 0; i < 2; i++) {
        struct tsc_sess_key k = key_of(TSC_SESS_TICKET, gone[i]);
        ck_assert_msg(!tsc_sess_cache_get(c, &k, &got), "entry %u kept", gone[i]);
    }
    struct tsc_sess_cache_stats st;
    tsc_sess_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.entries, 4);
    ck_assert_uint_eq(st.evictions, 2);
    ck_assert_uint_eq(st.inserts, 6);
    tsc_sess_cache_free(c);
}
END_TEST

/* Many more identifiers than entries: bounded, exactly the newest ones stay. */
START_TEST(test_churn)
{
    struct tsc_sess_cache *c = NULL;
    ck_assert_int_eq(tsc_sess_cache_new(&c, 100), TSC_OK);
    struct tsc_sess_val got;
    for (uint32_t i = 0; i < 5000; i++) {
        struct tsc_sess_key k = key_of(TSC_SESS_ID, i);
        struct tsc_sess_val v = val(i, 1);
        tsc_sess_cache_put(c, &k, &v);
    }
    for (uint32_t i = 0; i < 5000; i++) {
        struct tsc_sess_key k = key_of(TSC_SESS_ID, i);
        ck_assert_msg(tsc_sess_cache_get(c, &k, &got) == (i >= 4900), "entry %u", i);
    }
    struct tsc_sess_cache_stats st;
    tsc_sess_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.entries, 100);
    ck_assert_uint_eq(st.evictions, 4900);
    tsc_sess_cache_free(c);
}
END_TEST

/* ---- whole connections through the dissector with a shared cache ---- */

#define MAX_CONNS 8

struct drv {
    struct tsc_tls_config cfg;
    struct tsc_diag_sink sink;
    struct tsc_tls_facts done[MAX_CONNS];
    int ndone;
    uint64_t skip_id; /* TCP connection left out (a parent cut from the capture), 0: none */
    uint64_t drop_pkt; /* packet left out (a TCP gap), 0: none */
    uint8_t ticket[2048];
    size_t ticket_len;
    unsigned bad_mac_diags;
};

static void d_diag(void *ud, enum tsc_diag_kind kind, const struct tsc_where *w, const char *m)
{
    struct drv *d = ud;
    (void)w;
    (void)m;
    d->bad_mac_diags += kind == TSC_DIAG_TLS_BAD_RECORD_MAC;
}

static void d_hs(void *ud, uint64_t id, int dir, const struct tsc_hs_msg *m, uint64_t pkt,
                 struct tsc_ts ts)
{
    struct drv *d = ud;
    (void)id;
    (void)pkt;
    (void)ts;
    if (dir == TSC_DIR_S2C && m->type == TSC_HS_NEW_SESSION_TICKET && m->parsed &&
        m->u.nst.ticket.len <= sizeof(d->ticket) && d->ticket_len == 0) {
        memcpy(d->ticket, m->u.nst.ticket.p, m->u.nst.ticket.len);
        d->ticket_len = m->u.nst.ticket.len;
    }
}

static void d_open(void *ud, struct tsc_tcp_conn *c)
{
    struct drv *d = ud;
    if (c->id == d->skip_id) {
        return;
    }
    struct tsc_tls_conn *t = NULL;
    ck_assert_int_eq(tsc_tls_conn_new(&t, &d->cfg, c->id), TSC_OK);
    c->user = t;
}

static void d_data(void *ud, struct tsc_tcp_conn *c, int dir, const uint8_t *p, size_t n,
                   uint64_t pkt, struct tsc_ts ts)
{
    (void)ud;
    if (c->user != NULL) {
        tsc_tls_conn_data(c->user, dir, p, n, pkt, ts, NULL);
    }
}

static void d_gap(void *ud, struct tsc_tcp_conn *c, int dir, uint64_t len, uint64_t pkt,
                  struct tsc_ts ts)
{
    (void)ud;
    if (c->user != NULL) {
        tsc_tls_conn_gap(c->user, dir, len, pkt, ts);
    }
}

static void d_close(void *ud, struct tsc_tcp_conn *c, enum tsc_tcp_end_reason why)
{
    struct drv *d = ud;
    struct tsc_tls_conn *t = c->user;
    (void)why;
    if (t == NULL) {
        return;
    }
    tsc_tls_conn_end(t, TSC_DIR_C2S);
    tsc_tls_conn_end(t, TSC_DIR_S2C);
    tsc_tls_conn_close(t);
    ck_assert_int_lt(d->ndone, MAX_CONNS);
    d->done[d->ndone] = *tsc_tls_conn_facts(t);
    d->done[d->ndone].n_certs = 0; /* borrowed pointers: not used after free */
    d->ndone++;
    tsc_tls_conn_free(t);
    c->user = NULL;
}

static const char *src_path(const char *rel, char *buf, size_t cap)
{
    const char *src = getenv("TSC_SOURCE_DIR");
    snprintf(buf, cap, "%s/%s", src != NULL ? src : ".", rel);
    return buf;
}

/* Reads pcaps/NAME.pcap through capture, net, TCP and one dissector per connection. */
static void run_capture_ex(const char *name, const struct tsc_keys *keys,
                           struct tsc_sess_cache *cache, uint64_t skip_id, uint64_t drop_pkt,
                           struct drv *d)
{
    char rel[256], path[1024], err[256];
    memset(d, 0, sizeof(*d));
    d->sink.emit = d_diag;
    d->sink.ud = d;
    d->skip_id = skip_id;
    d->drop_pkt = drop_pkt;
    tsc_tls_config_default(&d->cfg);
    d->cfg.keys = keys;
    d->cfg.sessions = cache;
    d->cfg.sink = &d->sink;
    d->cfg.events.on_handshake = d_hs;
    d->cfg.events.ud = d;
    snprintf(rel, sizeof(rel), "pcaps/%s.pcap", name);
    struct tsc_capture *cap = NULL;
    struct tsc_net *net = NULL;
    struct tsc_tcp_table *tcp = NULL;
    struct tsc_tcp_config tc;
    struct tsc_net_config nc = {0, 0, 0};
    struct tsc_tcp_callbacks cb = {d_open, d_data, d_gap, NULL, d_close, d};
    tsc_tcp_config_default(&tc);
    ck_assert_int_eq(tsc_capture_open_file(&cap, src_path(rel, path, sizeof(path)), &d->sink, err,
                                           sizeof(err)),
                     TSC_OK);
    ck_assert_int_eq(tsc_net_new(&net, &nc, &d->sink), TSC_OK);
    ck_assert_int_eq(tsc_tcp_table_new(&tcp, &tc, &cb, &d->sink), TSC_OK);
    for (;;) {
        struct tsc_frame f;
        bool eof = false;
        if (tsc_capture_next(cap, &f, &eof) != TSC_OK || eof) {
            break;
        }
        struct tsc_tcp_seg seg;
        bool is_tcp = false;
        if (f.data != NULL && f.num != d->drop_pkt &&
            tsc_net_decode(net, &f, &seg, &is_tcp) == TSC_OK && is_tcp) {
            tsc_tcp_process(tcp, &seg);
        }
    }
    tsc_tcp_flush_all(tcp, TSC_TCP_END_EOF);
    tsc_tcp_table_free(tcp);
    tsc_net_free(net);
    tsc_capture_close(cap);
}

static void run_capture(const char *name, const struct tsc_keys *keys,
                        struct tsc_sess_cache *cache, uint64_t skip_id, struct drv *d)
{
    run_capture_ex(name, keys, cache, skip_id, 0, d);
}

/* Keys holding only the first key log line of the capture (the parent's master secret). */
static struct tsc_keys *parent_keys(const char *name)
{
    char rel[256], path[1024], line[1100];
    snprintf(rel, sizeof(rel), "pcaps/keylogs/%s.keylog", name);
    FILE *f = fopen(src_path(rel, path, sizeof(path)), "r");
    ck_assert_ptr_nonnull(f);
    struct tsc_keys *k = NULL;
    ck_assert_int_eq(tsc_keys_new(&k, NULL), TSC_OK);
    bool added = false;
    while (!added && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "CLIENT_RANDOM ", 14) == 0) {
            ck_assert_int_eq(tsc_keys_add_keylog_line(k, line, strcspn(line, "\r\n"), path, 1),
                             TSC_OK);
            added = true;
        }
    }
    fclose(f);
    ck_assert(added);
    return k;
}

static const char *const g_caps[] = {"tls12-resume-session-id", "tls12-resume-ticket"};

/* Keys from the capture's whole key log. */
static struct tsc_keys *all_keys(const char *name)
{
    char rel[256], path[1024];
    snprintf(rel, sizeof(rel), "pcaps/keylogs/%s.keylog", name);
    struct tsc_keys *k = NULL;
    ck_assert_int_eq(tsc_keys_new(&k, NULL), TSC_OK);
    ck_assert_int_eq(tsc_keys_load_keylog_file(k, src_path(rel, path, sizeof(path))), TSC_OK);
    return k;
}

/* Each capture holds a full handshake (the parent) and one resumption of it. */
static const struct tsc_tls_facts *find_conn(const struct drv *d, bool resumed)
{
    for (int i = 0; i < d->ndone; i++) {
        if (d->done[i].is_tls && d->done[i].resumed == resumed) {
            return &d->done[i];
        }
    }
    ck_abort_msg("no %s connection reported", resumed ? "resumed" : "full-handshake");
    return NULL;
}

/* manifest.json: 1200 bytes client to server, 2100 back, in both connections. */
static void assert_full(const struct tsc_tls_facts *f)
{
    ck_assert(f->dec.decrypted);
    ck_assert_str_eq(f->dec.finished[0], "verified");
    ck_assert_str_eq(f->dec.finished[1], "verified");
    ck_assert_uint_eq(f->dec.bad_records, 0);
    ck_assert_uint_eq(f->dec.app_bytes[0], 1200);
    ck_assert_uint_eq(f->dec.app_bytes[1], 2100);
    ck_assert_ptr_null(f->dec.undecrypted_reason);
}

START_TEST(test_resume_from_parent)
{
    const char *name = g_caps[_i];
    struct tsc_keys *k = parent_keys(name);
    struct tsc_sess_cache *c = NULL;
    ck_assert_int_eq(tsc_sess_cache_new(&c, 16), TSC_OK);
    struct drv d;
    run_capture(name, k, c, 0, &d);
    ck_assert_int_eq(d.ndone, 2);
    const struct tsc_tls_facts *p = find_conn(&d, false), *r = find_conn(&d, true);
    assert_full(p);
    ck_assert_str_eq(p->dec.key_source, "keylog");
    ck_assert(!p->have_resumed_from);
    assert_full(r);
    ck_assert_str_eq(r->dec.key_source, "session-cache");
    ck_assert(r->have_resumed_from);
    ck_assert_uint_eq(r->resumed_from, 1);
    ck_assert_int_eq(memcmp(r->dec.master_secret, p->dec.master_secret, 48), 0);
    struct tsc_sess_cache_stats st;
    tsc_sess_cache_get_stats(c, &st);
    ck_assert_uint_ge(st.hits, 1);
    tsc_sess_cache_free(c);
    tsc_keys_free(k);
}
END_TEST

/* Keyless: the link is still made (session ID / ticket are plaintext in TLS 1.2). */
START_TEST(test_resume_keyless_link)
{
    struct tsc_sess_cache *c = NULL;
    ck_assert_int_eq(tsc_sess_cache_new(&c, 16), TSC_OK);
    struct drv d;
    run_capture(g_caps[_i], NULL, c, 0, &d);
    ck_assert_int_eq(d.ndone, 2);
    const struct tsc_tls_facts *r = find_conn(&d, true);
    ck_assert(r->have_resumed_from);
    ck_assert_uint_eq(r->resumed_from, 1);
    ck_assert(!r->dec.decrypted);
    tsc_sess_cache_free(c);
}
END_TEST

/* The parent cut from the capture: resumed_parent_missing, no link. */
START_TEST(test_resume_parent_missing)
{
    struct tsc_keys *k = parent_keys(g_caps[_i]);
    struct tsc_sess_cache *c = NULL;
    ck_assert_int_eq(tsc_sess_cache_new(&c, 16), TSC_OK);
    struct drv d;
    run_capture(g_caps[_i], k, c, 1, &d);
    ck_assert_int_eq(d.ndone, 1);
    const struct tsc_tls_facts *r = &d.done[0];
    ck_assert(r->resumed);
    ck_assert(!r->have_resumed_from);
    ck_assert(!r->dec.decrypted);
    ck_assert_str_eq(r->dec.undecrypted_reason, "resumed_parent_missing");
    tsc_sess_cache_free(c);
    tsc_keys_free(k);
}
END_TEST

/* The parent present but not decrypted (no key material for it): says so. */
START_TEST(test_resume_parent_undecrypted)
{
    struct tsc_keys *k = NULL;
    ck_assert_int_eq(tsc_keys_new(&k, NULL), TSC_OK);
    const char *other = "CLIENT_RANDOM "
                        "0000000000000000000000000000000000000000000000000000000000000001 "
                        "000000000000000000000000000000000000000000000000000000000000000000000000"
                        "000000000000000000000000";
    ck_assert_int_eq(tsc_keys_add_keylog_line(k, other, strlen(other), "test", 1), TSC_OK);
    struct tsc_sess_cache *c = NULL;
    ck_assert_int_eq(tsc_sess_cache_new(&c, 16), TSC_OK);
    struct drv d;
    run_capture(g_caps[_i], k, c, 0, &d);
    const struct tsc_tls_facts *r = find_conn(&d, true);
    ck_assert(r->have_resumed_from);
    ck_assert_str_eq(r->dec.undecrypted_reason, "resumed_parent_undecrypted");
    tsc_sess_cache_free(c);
    tsc_keys_free(k);
}
END_TEST

/*
 * Poisoned entry: the session's identifier maps to a wrong master secret.
 * The resumed connection must not yield plaintext: every protected record
 * fails its tag, reason key_mismatch, key_source still says where the secret
 * came from.
 */
START_TEST(test_resume_poisoned)
{
    const char *name = g_caps[_i];
    struct tsc_sess_cache *scan = NULL;
    ck_assert_int_eq(tsc_sess_cache_new(&scan, 16), TSC_OK);
    struct drv d;
    run_capture(name, NULL, scan, 0, &d); /* keyless: learn the session ID / ticket */
    tsc_sess_cache_free(scan);
    struct tsc_sess_key key;
    if (d.ticket_len > 0) {
        tsc_sess_key_make(TSC_SESS_TICKET, d.ticket, d.ticket_len, &key);
    } else {
        const struct tsc_tls_facts *p = find_conn(&d, false);
        ck_assert_uint_gt(p->session_id_len, 0);
        tsc_sess_key_make(TSC_SESS_ID, p->session_id, p->session_id_len, &key);
    }
    struct tsc_sess_cache *c = NULL;
    ck_assert_int_eq(tsc_sess_cache_new(&c, 16), TSC_OK);
    struct tsc_sess_val bad = val(77, 0x5a);
    tsc_sess_cache_put(c, &key, &bad);
    struct tsc_keys *k = NULL;
    ck_assert_int_eq(tsc_keys_new(&k, NULL), TSC_OK); /* key material, none for these sessions */
    run_capture(name, k, c, 1, &d);
    ck_assert_int_eq(d.ndone, 1);
    const struct tsc_tls_facts *r = &d.done[0];
    ck_assert(r->have_resumed_from);
    ck_assert_uint_eq(r->resumed_from, 77);
    ck_assert(!r->dec.decrypted);
    ck_assert_str_eq(r->dec.key_source, "session-cache");
    ck_assert_str_eq(r->dec.undecrypted_reason, "key_mismatch");
    ck_assert_uint_gt(r->dec.bad_records, 0);
    ck_assert_uint_eq(r->dec.app_bytes[0] + r->dec.app_bytes[1], 0);
    ck_assert_uint_eq(r->dec.decrypted_records[0] + r->dec.decrypted_records[1], 0);
    ck_assert_uint_gt(d.bad_mac_diags, 0);
    tsc_sess_cache_free(c);
    tsc_keys_free(k);
}
END_TEST

/*
 * A server packet removed from an AEAD bulk transfer (packet numbers: one in
 * the middle of the server's data): the dissector finds the sequence number
 * of the first whole record after the gap and every later record decrypts.
 * Compared with the intact run: fewer plaintext bytes, no bad record, the
 * records lost counted as skipped, one resync.
 */
static const struct {
    const char *name;
    uint64_t drop;
} g_gap_cases[] = {
    {"tls13-bulk-3mb", 65},
    {"tls12-bulk-aes128-gcm", 32},
    {"tls12-bulk-chacha20", 31},
};

START_TEST(test_gap_resync)
{
    const char *name = g_gap_cases[_i].name;
    struct tsc_keys *k = all_keys(name);
    struct drv whole, cut;
    run_capture_ex(name, k, NULL, 0, 0, &whole);
    run_capture_ex(name, k, NULL, 0, g_gap_cases[_i].drop, &cut);
    ck_assert_int_eq(whole.ndone, 1);
    ck_assert_int_eq(cut.ndone, 1);
    const struct tsc_decrypt_facts *w = &whole.done[0].dec, *c = &cut.done[0].dec;
    ck_assert(c->decrypted);
    ck_assert_uint_eq(c->bad_records, 0);
    ck_assert_uint_eq(c->resyncs[TSC_DIR_S2C], 1);
    ck_assert_uint_gt(c->records_skipped[TSC_DIR_S2C], 0);
    ck_assert_uint_eq(c->resyncs[TSC_DIR_C2S], 0);
    /* Every record is either decrypted or skipped. */
    ck_assert_uint_eq(c->decrypted_records[TSC_DIR_S2C] + c->records_skipped[TSC_DIR_S2C],
                      w->decrypted_records[TSC_DIR_S2C]);
    ck_assert_uint_lt(c->app_bytes[TSC_DIR_S2C], w->app_bytes[TSC_DIR_S2C]);
    ck_assert_uint_gt(c->app_bytes[TSC_DIR_S2C], w->app_bytes[TSC_DIR_S2C] / 2);
    ck_assert_uint_eq(c->app_bytes[TSC_DIR_C2S], w->app_bytes[TSC_DIR_C2S]);
    ck_assert_uint_gt(cut.done[0].dir[TSC_DIR_S2C].records[3], 0);
    tsc_keys_free(k);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sesscache");
    TCase *tc = tcase_create("cache");
    tcase_add_test(tc, test_hit_miss);
    tcase_add_test(tc, test_bad_capacity);
    tcase_add_test(tc, test_lru_eviction);
    tcase_add_test(tc, test_churn);
    suite_add_tcase(s, tc);
    tc = tcase_create("resumption");
    int n = (int)(sizeof(g_caps) / sizeof(g_caps[0]));
    tcase_add_loop_test(tc, test_resume_from_parent, 0, n);
    tcase_add_loop_test(tc, test_resume_keyless_link, 0, n);
    tcase_add_loop_test(tc, test_resume_parent_missing, 0, n);
    tcase_add_loop_test(tc, test_resume_parent_undecrypted, 0, n);
    tcase_add_loop_test(tc, test_resume_poisoned, 0, n);
    suite_add_tcase(s, tc);
    tc = tcase_create("gaps");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_gap_resync, 0,
                        (int)(sizeof(g_gap_cases) / sizeof(g_gap_cases[0])));
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
