/*
 * Decryption through the dissector (src/tls/decrypt.c, records.c with
 * src/crypto and src/keys): real connections from pcaps/ are read with the
 * capture, network and TCP layers, and both directions are fed, in their
 * capture order, to a tsc_tls_conn that has key material. Expected values
 * are those of pcaps/manifest.json (written by tools/mkcorpus from the
 * client's own view of the session).
 */
#include <check.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlsscope/tlsscope.h"

#include "capture/capture.h"
#include "keys/keys.h"
#include "net/net.h"
#include "tcp/tcp.h"
#include "tls/msg.h"
#include "tls/tls.h"

/*
 * Check's assertions report progress to the runner, which exists only inside
 * tests; main() loads one capture before (to size the cut loop) with this.
 */
static bool g_outside_tests;
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (g_outside_tests) {                                                                     \
            if (!(cond)) {                                                                         \
                fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #cond);                  \
                abort();                                                                           \
            }                                                                                      \
        } else {                                                                                   \
            ck_assert_msg(cond, "%s", #cond);                                                      \
        }                                                                                          \
    } while (0)

/* ---- a capture's first TCP connection, as in-order chunks per direction ---- */

struct chunk {
    int dir;
    size_t at; /* offset in streams.bytes */
    size_t len;
};

struct streams {
    uint8_t *bytes;
    size_t n;
    struct chunk ch[4096];
    size_t nch;
    uint64_t conn_id; /* 0: none yet */
};

static void st_open(void *ud, struct tsc_tcp_conn *c)
{
    struct streams *s = ud;
    if (s->conn_id == 0) {
        s->conn_id = c->id;
    }
}

static void st_data(void *ud, struct tsc_tcp_conn *c, int dir, const uint8_t *p, size_t n,
                    uint64_t pkt, struct tsc_ts ts)
{
    struct streams *s = ud;
    (void)pkt;
    (void)ts;
    if (c->id != s->conn_id) {
        return;
    }
    REQUIRE(s->nch < sizeof(s->ch) / sizeof(s->ch[0]));
    s->bytes = realloc(s->bytes, s->n + n);
    REQUIRE(s->bytes != NULL);
    memcpy(s->bytes + s->n, p, n);
    s->ch[s->nch].dir = dir;
    s->ch[s->nch].at = s->n;
    s->ch[s->nch].len = n;
    s->nch++;
    s->n += n;
}

static const char *src_path(const char *rel, char *buf, size_t cap)
{
    const char *src = getenv("TSC_SOURCE_DIR");
    snprintf(buf, cap, "%s/%s", src != NULL ? src : ".", rel);
    return buf;
}

static void load_streams(const char *rel, struct streams *s)
{
    char path[1024];
    char err[256];
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    memset(s, 0, sizeof(*s));
    struct tsc_capture *cap = NULL;
    struct tsc_net *net = NULL;
    struct tsc_tcp_table *tcp = NULL;
    struct tsc_tcp_config tc;
    struct tsc_net_config nc = {0, 0, 0};
    struct tsc_tcp_callbacks cb = {st_open, st_data, NULL, NULL, NULL, s};
    tsc_tcp_config_default(&tc);
    /* Fails when the capture cannot be opened (set TSC_SOURCE_DIR). */
    REQUIRE(tsc_capture_open_file(&cap, src_path(rel, path, sizeof(path)), &sink, err,
                                  sizeof(err)) == TSC_OK);
    REQUIRE(tsc_net_new(&net, &nc, &sink) == TSC_OK);
    REQUIRE(tsc_tcp_table_new(&tcp, &tc, &cb, &sink) == TSC_OK);
    for (;;) {
        struct tsc_frame f;
        bool eof = false;
        if (tsc_capture_next(cap, &f, &eof) != TSC_OK || eof) {
            break;
        }
        struct tsc_tcp_seg seg;
        bool is_tcp = false;
        if (f.data != NULL && tsc_net_decode(net, &f, &seg, &is_tcp) == TSC_OK && is_tcp) {
            tsc_tcp_process(tcp, &seg);
        }
    }
    tsc_tcp_flush_all(tcp, TSC_TCP_END_EOF);
    tsc_tcp_table_free(tcp);
    tsc_net_free(net);
    tsc_capture_close(cap);
    REQUIRE(s->n > 0);
}

/* ---- running one connection through the dissector with keys ---- */

#define MAX_REC 256

struct result {
    struct tsc_tls_facts f; /* copy taken after close (certificate pointers not used) */
    unsigned records[2];
    unsigned decrypted_records[2];
    uint8_t hs[2][64];
    unsigned nhs[2];
    unsigned alerts_plain[2]; /* alerts with a level/description (decrypted or plaintext) */
    uint64_t app_events_bytes[2];
    unsigned bad_mac_diags;
    unsigned lost_diags;
    /* records of dir 0 seen: stream offset, length, decrypted, inner type */
    struct {
        int64_t off;
        uint32_t len;
        bool dec;
        uint8_t inner;
    } rec[2][MAX_REC];
    unsigned nrec[2];
};

static void r_record(void *ud, uint64_t id, int dir, const struct tsc_tls_record_info *r)
{
    struct result *res = ud;
    (void)id;
    res->records[dir]++;
    res->decrypted_records[dir] += r->decrypted;
    if (res->nrec[dir] < MAX_REC) {
        unsigned i = res->nrec[dir]++;
        res->rec[dir][i].off = r->offset;
        res->rec[dir][i].len = r->length;
        res->rec[dir][i].dec = r->decrypted;
        res->rec[dir][i].inner = r->inner_type;
    }
}

static void r_hs(void *ud, uint64_t id, int dir, const struct tsc_hs_msg *m, uint64_t pkt,
                 struct tsc_ts ts)
{
    struct result *res = ud;
    (void)id;
    (void)pkt;
    (void)ts;
    if (res->nhs[dir] < 64) {
        res->hs[dir][res->nhs[dir]++] = tsc_hs_msg_type(m);
    }
}

static void r_alert(void *ud, uint64_t id, int dir, const struct tsc_tls_alert_info *a)
{
    struct result *res = ud;
    (void)id;
    if (!a->encrypted) {
        res->alerts_plain[dir]++;
    }
}

static void r_app(void *ud, uint64_t id, int dir, const uint8_t *p, size_t n, uint64_t pkt,
                  struct tsc_ts ts)
{
    struct result *res = ud;
    (void)id;
    (void)p;
    (void)pkt;
    (void)ts;
    res->app_events_bytes[dir] += n;
}

static void r_diag(void *ud, enum tsc_diag_kind kind, const struct tsc_where *where,
                   const char *msg)
{
    struct result *res = ud;
    (void)where;
    (void)msg;
    if (kind == TSC_DIAG_TLS_BAD_RECORD_MAC) {
        res->bad_mac_diags++;
    }
    if (kind == TSC_DIAG_TLS_DECRYPT_LOST) {
        res->lost_diags++;
    }
}

/*
 * Feed the chunks in capture order, the first `cut` bytes only; flip the byte
 * at absolute index `flip` (or none when flip >= s->n).
 */
static void run_ex(const struct streams *s, const struct tsc_keys *keys, size_t cut, size_t flip,
                   size_t gap_chunk, struct result *res)
{
    struct tsc_tls_config cfg;
    struct tsc_diag_sink sink;
    struct tsc_tls_conn *t = NULL;
    memset(res, 0, sizeof(*res));
    memset(&sink, 0, sizeof(sink));
    sink.emit = r_diag;
    sink.ud = res;
    tsc_tls_config_default(&cfg);
    cfg.sink = &sink;
    cfg.keys = keys;
    cfg.events.on_record = r_record;
    cfg.events.on_handshake = r_hs;
    cfg.events.on_alert = r_alert;
    cfg.events.on_app_data = r_app;
    cfg.events.ud = res;
    ck_assert_int_eq(tsc_tls_conn_new(&t, &cfg, 1), TSC_OK);
    uint8_t *copy = malloc(s->n);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, s->bytes, s->n);
    if (flip < s->n) {
        copy[flip] ^= 0x01;
    }
    struct tsc_ts ts = {0, 0};
    for (size_t i = 0; i < s->nch; i++) {
        const struct chunk *c = &s->ch[i];
        if (c->at >= cut) {
            break;
        }
        size_t len = c->at + c->len <= cut ? c->len : cut - c->at;
        if (i == gap_chunk) {
            tsc_tls_conn_gap(t, c->dir, len, i + 1, ts); /* as src/tcp reports lost bytes */
            continue;
        }
        tsc_tls_conn_data(t, c->dir, copy + c->at, len, i + 1, ts, NULL);
    }
    tsc_tls_conn_end(t, TSC_DIR_C2S);
    tsc_tls_conn_end(t, TSC_DIR_S2C);
    tsc_tls_conn_close(t);
    tsc_tls_conn_close(t); /* idempotent */
    memcpy(&res->f, tsc_tls_conn_facts(t), sizeof(res->f));
    tsc_tls_conn_free(t);
    free(copy);
}

static void run(const struct streams *s, const struct tsc_keys *keys, size_t cut, size_t flip,
                struct result *res)
{
    run_ex(s, keys, cut, flip, SIZE_MAX, res);
}

/* Absolute index in s->bytes of byte `off` of direction dir's stream. */
static size_t abs_index(const struct streams *s, int dir, int64_t off)
{
    int64_t pos = 0;
    for (size_t i = 0; i < s->nch; i++) {
        if (s->ch[i].dir != dir) {
            continue;
        }
        if (off < pos + (int64_t)s->ch[i].len) {
            return s->ch[i].at + (size_t)(off - pos);
        }
        pos += (int64_t)s->ch[i].len;
    }
    ck_abort_msg("offset %lld beyond direction %d", (long long)off, dir);
    return 0;
}

static struct tsc_keys *keys_keylog(const char *rel)
{
    char path[1024];
    struct tsc_keys *k = NULL;
    REQUIRE(tsc_keys_new(&k, NULL) == TSC_OK);
    REQUIRE(tsc_keys_load_keylog_file(k, src_path(rel, path, sizeof(path))) == TSC_OK);
    return k;
}

static struct tsc_keys *keys_rsa(const char *rel)
{
    char path[1024];
    struct tsc_keys *k = NULL;
    ck_assert_int_eq(tsc_keys_new(&k, NULL), TSC_OK);
    ck_assert_int_eq(tsc_keys_load_rsa_file(k, src_path(rel, path, sizeof(path)), NULL), TSC_OK);
    return k;
}

static void hex32(const uint8_t *p, char out[65])
{
    for (int i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", p[i]);
    }
}

static void assert_types(const struct tsc_tls_dir_facts *d, const uint8_t *want, unsigned n)
{
    ck_assert_uint_eq(d->n_hs_types, n);
    for (unsigned i = 0; i < n; i++) {
        ck_assert_uint_eq(d->hs_types[i], want[i]);
    }
}

static void assert_app(const struct tsc_decrypt_facts *dec, int dir, uint64_t bytes,
                       const char *sha)
{
    char hex[65];
    ck_assert(dec->have_app_data[dir]);
    ck_assert_uint_eq(dec->app_bytes[dir], bytes);
    hex32(dec->app_sha256[dir], hex);
    ck_assert_str_eq(hex, sha);
}

/* ---- the connections (pcaps/manifest.json) ---- */

struct conn_case {
    const char *pcap;
    const char *keylog;
    uint8_t c2s[8];
    unsigned nc2s;
    uint8_t s2c[8];
    unsigned ns2c;
    uint64_t c2s_bytes, s2c_bytes;
    const char *c2s_sha, *s2c_sha;
    bool tls13;
};

static const struct conn_case TLS12 = {
    "pcaps/tls12-rsa-aes128-gcm-sha256.pcap",
    "pcaps/keylogs/tls12-rsa-aes128-gcm-sha256.keylog",
    {1, 16, 20},
    3,
    {2, 11, 14, 4, 20},
    5,
    1200,
    2100,
    "83647e0cc7237c3214281449314d7b898d5060367203e593938f92c345fa8462",
    "0dfa0eb4eaf7aeed31fc2edf3ed6d4d6c13fab58e55aeda2d108dbe47b7b1936",
    false,
};

static const struct conn_case TLS13 = {
    "pcaps/tls13-aes128-gcm-sha256.pcap",
    "pcaps/keylogs/tls13-aes128-gcm-sha256.keylog",
    {1, 20},
    2,
    {2, 8, 11, 15, 20, 4},
    6,
    1200,
    2100,
    "766df0752f4f0b61294dccf9b9ea1380db2448c2c6e857532518644151670dd5",
    "351e40e3f99b347a1690030f0a1feed94e591265c45f9c9e992a7569335dd433",
    true,
};

static const struct conn_case TLS13_CHACHA = {
    "pcaps/tls13-chacha20-poly1305-sha256.pcap",
    "pcaps/keylogs/tls13-chacha20-poly1305-sha256.keylog",
    {1, 20},
    2,
    {2, 8, 11, 15, 20, 4},
    6,
    1200,
    2100,
    "16d5d619d1ec97dc543749990a31eb038f58cb8e4f55f5d3beb22f7c01414fc6",
    "71f4bf00c3d829639c58b4684de1f7c3fbd7ceadb0c7193ef54950065dd8776f",
    true,
};

static const struct conn_case *const CASES[] = {&TLS12, &TLS13, &TLS13_CHACHA};
#define N_CASES (sizeof(CASES) / sizeof(CASES[0]))

static void check_full(const struct conn_case *cc, const struct result *r)
{
    const struct tsc_decrypt_facts *dec = &r->f.dec;
    assert_types(&r->f.dir[0], cc->c2s, cc->nc2s);
    assert_types(&r->f.dir[1], cc->s2c, cc->ns2c);
    ck_assert(dec->key_material);
    ck_assert(dec->decrypted);
    ck_assert_str_eq(dec->finished[0], "verified");
    ck_assert_str_eq(dec->finished[1], "verified");
    ck_assert_uint_eq(dec->bad_records, 0);
    ck_assert_uint_eq(r->bad_mac_diags, 0);
    ck_assert_ptr_null(dec->undecrypted_reason);
    assert_app(dec, 0, cc->c2s_bytes, cc->c2s_sha);
    assert_app(dec, 1, cc->s2c_bytes, cc->s2c_sha);
    ck_assert_uint_eq(r->app_events_bytes[0], cc->c2s_bytes);
    ck_assert_uint_eq(r->app_events_bytes[1], cc->s2c_bytes);
    /* Decrypted records are no longer opaque: as the corpus oracle counts them. */
    for (int d = 0; d < 2; d++) {
        ck_assert_uint_eq(r->f.dir[d].encrypted_handshake_records, 0);
        ck_assert_uint_eq(r->f.dir[d].encrypted_alerts, 0);
        ck_assert_uint_eq(r->alerts_plain[d], 1); /* close_notify, decrypted */
        ck_assert_uint_eq(dec->decrypted_records[d], r->decrypted_records[d]);
        ck_assert_uint_gt(r->decrypted_records[d], 0);
    }
    ck_assert_uint_eq(r->f.n_alerts, 2);
    ck_assert_uint_eq(r->f.alerts[0].level, 1);
    ck_assert_uint_eq(r->f.alerts[0].description, 0);
    ck_assert(dec->have_master_secret == !cc->tls13);
    ck_assert_str_eq(dec->key_source, "keylog");
}

/* ---- valid ---- */

START_TEST(test_keylog_full)
{
    const struct conn_case *cc = CASES[_i];
    struct streams s;
    struct result r;
    load_streams(cc->pcap, &s);
    struct tsc_keys *k = keys_keylog(cc->keylog);
    run(&s, k, s.n, s.n, &r);
    check_full(cc, &r);
    /* Wire record counts do not depend on decryption. */
    struct result plain;
    run(&s, NULL, s.n, s.n, &plain);
    for (int d = 0; d < 2; d++) {
        ck_assert_uint_eq(r.records[d], plain.records[d]);
        for (int ty = 0; ty < 5; ty++) {
            ck_assert_uint_eq(r.f.dir[d].records[ty], plain.f.dir[d].records[ty]);
        }
        ck_assert_uint_eq(r.f.dir[d].app_data_bytes, plain.f.dir[d].app_data_bytes);
    }
    ck_assert_str_eq(plain.f.dec.undecrypted_reason, "no_key_material");
    ck_assert(!plain.f.dec.decrypted);
    ck_assert(!plain.f.dec.key_material);
    tsc_keys_free(k);
    free(s.bytes);
}
END_TEST

/* Master secret from the RSA key equals the key log's CLIENT_RANDOM secret. */
START_TEST(test_rsa_key)
{
    struct streams s;
    struct result r;
    char path[1024];
    load_streams("pcaps/tls12-rsa-aes128-cbc-sha.pcap", &s);
    struct tsc_keys *k = keys_rsa("pcaps/keys/server-rsa.key");
    run(&s, k, s.n, s.n, &r);
    const struct tsc_decrypt_facts *dec = &r.f.dec;
    ck_assert(dec->decrypted);
    ck_assert_str_eq(dec->key_source, "rsa");
    ck_assert_str_eq(dec->finished[0], "verified");
    ck_assert_str_eq(dec->finished[1], "verified");
    assert_app(dec, 0, 1200, "5cc898960039ec5b714704926dadbea47f62adc7c9c2fc841401097b9a1d5014");
    assert_app(dec, 1, 2100, "3792b8fe6199330d9f1e1cec57b7f2cad8ab607df6468c6e48a3ccae8fcfd795");
    ck_assert(dec->have_master_secret);
    FILE *f =
        fopen(src_path("pcaps/keylogs/tls12-rsa-aes128-cbc-sha.keylog", path, sizeof(path)), "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    char want[97] = "";
    while (fgets(line, sizeof(line), f) != NULL) {
        char cr[65];
        char ms[97];
        if (sscanf(line, "CLIENT_RANDOM %64s %96s", cr, ms) == 2) {
            memcpy(want, ms, sizeof(want));
        }
    }
    fclose(f);
    char got[97];
    for (int i = 0; i < 48; i++) {
        snprintf(got + 2 * i, 3, "%02x", dec->master_secret[i]);
    }
    ck_assert_str_eq(got, want);
    tsc_keys_free(k);
    free(s.bytes);
}
END_TEST

/* ---- malformed ---- */

/* One flipped ciphertext byte: exactly one bad record, everything else decrypts. */
START_TEST(test_flipped_byte)
{
    const struct conn_case *cc = CASES[_i];
    struct streams s;
    struct result clean;
    struct result bad;
    load_streams(cc->pcap, &s);
    struct tsc_keys *k = keys_keylog(cc->keylog);
    run(&s, k, s.n, s.n, &clean);
    /* The first c2s record carrying application data: flip the last byte (MAC / tag). */
    unsigned pick = MAX_REC;
    for (unsigned i = 0; i < clean.nrec[0]; i++) {
        if (clean.rec[0][i].dec && clean.rec[0][i].inner == 23) {
            pick = i;
            break;
        }
    }
    ck_assert_uint_lt(pick, clean.nrec[0]);
    int64_t off = clean.rec[0][pick].off + 5 + (int64_t)clean.rec[0][pick].len - 1;
    run(&s, k, s.n, abs_index(&s, 0, off), &bad);
    ck_assert_uint_eq(bad.f.dec.bad_records, 1);
    ck_assert_uint_eq(bad.bad_mac_diags, 1);
    ck_assert_uint_eq(bad.decrypted_records[0], clean.decrypted_records[0] - 1);
    ck_assert_uint_eq(bad.decrypted_records[1], clean.decrypted_records[1]);
    /* The client's data is one record in these captures: none of it is left. */
    ck_assert_uint_lt(bad.f.dec.app_bytes[0], cc->c2s_bytes);
    ck_assert(bad.f.dec.have_app_data[0] == (bad.f.dec.app_bytes[0] > 0));
    ck_assert_uint_eq(bad.app_events_bytes[0], bad.f.dec.app_bytes[0]);
    assert_app(&bad.f.dec, 1, cc->s2c_bytes, cc->s2c_sha);
    ck_assert_str_eq(bad.f.dec.finished[0], "verified");
    ck_assert_str_eq(bad.f.dec.finished[1], "verified");
    /* The closing alerts come after the bad record and are still read. */
    ck_assert_uint_eq(bad.alerts_plain[0], 1);
    tsc_keys_free(k);
    free(s.bytes);
}
END_TEST

/* A key log whose secrets are wrong (same client random): nothing verifies, nothing crashes. */
START_TEST(test_wrong_keylog)
{
    const struct conn_case *cc = CASES[_i];
    struct streams s;
    struct result r;
    char path[1024];
    load_streams(cc->pcap, &s);
    FILE *in = fopen(src_path(cc->keylog, path, sizeof(path)), "r");
    ck_assert_ptr_nonnull(in);
    char tmpl[] = "/tmp/tsc_check_keylog_XXXXXX";
    int fd = mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    FILE *out = fdopen(fd, "w");
    ck_assert_ptr_nonnull(out);
    char line[1024];
    while (fgets(line, sizeof(line), in) != NULL) {
        size_t n = strcspn(line, "\r\n");
        /* Change the last hex digit of the secret. */
        if (n > 0 && line[0] != '#') {
            line[n - 1] = line[n - 1] == '0' ? '1' : '0';
        }
        fputs(line, out);
    }
    fclose(in);
    fclose(out);
    struct tsc_keys *k = NULL;
    ck_assert_int_eq(tsc_keys_new(&k, NULL), TSC_OK);
    ck_assert_int_eq(tsc_keys_load_keylog_file(k, tmpl), TSC_OK);
    unlink(tmpl);
    run(&s, k, s.n, s.n, &r);
    ck_assert(!r.f.dec.decrypted);
    ck_assert_str_ne(r.f.dec.finished[0], "verified");
    ck_assert_str_ne(r.f.dec.finished[1], "verified");
    ck_assert_ptr_nonnull(r.f.dec.undecrypted_reason);
    ck_assert(!r.f.dec.have_app_data[0] && !r.f.dec.have_app_data[1]);
    ck_assert_uint_eq(r.app_events_bytes[0] + r.app_events_bytes[1], 0);
    /* The plaintext part of the handshake is still there. */
    ck_assert_uint_ge(r.f.dir[0].n_hs_types, 1);
    ck_assert_uint_eq(r.f.dir[0].hs_types[0], 1);
    tsc_keys_free(k);
    free(s.bytes);
}
END_TEST

/* A key log for another connection: the keyless view, exactly. */
START_TEST(test_foreign_keylog)
{
    struct streams s;
    struct result r;
    struct result plain;
    load_streams(TLS12.pcap, &s);
    struct tsc_keys *k = keys_keylog(TLS13.keylog);
    run(&s, k, s.n, s.n, &r);
    run(&s, NULL, s.n, s.n, &plain);
    ck_assert(!r.f.dec.decrypted);
    ck_assert_ptr_nonnull(r.f.dec.undecrypted_reason);
    ck_assert_uint_eq(r.f.dec.bad_records, 0);
    for (int d = 0; d < 2; d++) {
        ck_assert_uint_eq(r.f.dir[d].n_hs_types, plain.f.dir[d].n_hs_types);
        ck_assert_uint_eq(r.f.dir[d].encrypted_handshake_records,
                          plain.f.dir[d].encrypted_handshake_records);
        ck_assert_uint_eq(r.f.dir[d].encrypted_alerts, plain.f.dir[d].encrypted_alerts);
        ck_assert_uint_eq(r.decrypted_records[d], 0);
    }
    tsc_keys_free(k);
    free(s.bytes);
}
END_TEST

/* ---- late keys: a key log that grows while the connection is analysed ---- */

/* Adds the lines of a key log whose label is (or is not) a traffic secret 0. */
static void add_keylog_lines(struct tsc_keys *k, const char *rel, bool app_secrets)
{
    char path[1024];
    FILE *f = fopen(src_path(rel, path, sizeof(path)), "r");
    ck_assert_ptr_nonnull(f);
    char line[2048];
    uint64_t no = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        no++;
        bool app = strstr(line, "_TRAFFIC_SECRET_0 ") != NULL;
        if (app == app_secrets) {
            (void)!tsc_keys_add_keylog_line(k, line, strlen(line), rel, no);
        }
    }
    fclose(f);
}

/*
 * The connection is fed with records held for late keys (cfg.hold); the
 * handshake secrets (TLS 1.2: the master secret) are added after chunk
 * hs_at, the TLS 1.3 application secrets after chunk app_at, each followed by
 * a retry, as the live analyzer does after polling the key log. SIZE_MAX:
 * after the whole stream (before close).
 */
static void run_late(const struct streams *s, const struct conn_case *cc, size_t hs_at,
                     size_t app_at, struct tsc_tls_hold *hold, struct result *res)
{
    struct tsc_keys *k = NULL;
    ck_assert_int_eq(tsc_keys_new(&k, NULL), TSC_OK);
    struct tsc_tls_config cfg;
    struct tsc_diag_sink sink;
    struct tsc_tls_conn *t = NULL;
    memset(res, 0, sizeof(*res));
    memset(&sink, 0, sizeof(sink));
    memset(hold, 0, sizeof(*hold));
    hold->max_bytes = 1u << 20;
    hold->max_conn_bytes = 256u << 10;
    hold->timeout_s = 5;
    sink.emit = r_diag;
    sink.ud = res;
    tsc_tls_config_default(&cfg);
    cfg.sink = &sink;
    cfg.keys = k;
    cfg.hold = hold;
    cfg.events.on_record = r_record;
    cfg.events.on_handshake = r_hs;
    cfg.events.on_alert = r_alert;
    cfg.events.on_app_data = r_app;
    cfg.events.ud = res;
    ck_assert_int_eq(tsc_tls_conn_new(&t, &cfg, 1), TSC_OK);
    struct tsc_ts ts = {0, 0};
    for (size_t i = 0; i <= s->nch; i++) {
        if (i < s->nch) {
            const struct chunk *c = &s->ch[i];
            tsc_tls_conn_data(t, c->dir, s->bytes + c->at, c->len, i + 1, ts, NULL);
        } else {
            tsc_tls_conn_end(t, TSC_DIR_C2S);
            tsc_tls_conn_end(t, TSC_DIR_S2C);
        }
        size_t at = i < s->nch ? i : SIZE_MAX;
        if (at == hs_at) {
            add_keylog_lines(k, cc->keylog, false);
            (void)tsc_tls_conn_retry_keys(t, false);
        }
        if (at == app_at) {
            add_keylog_lines(k, cc->keylog, true);
            (void)tsc_tls_conn_retry_keys(t, false);
        }
    }
    if (hs_at <= s->nch || hs_at == SIZE_MAX) {
        ck_assert_msg(!tsc_tls_conn_holding(t), "still holding: hs_at %zu app_at %zu of %zu",
                      hs_at, app_at, s->nch);
    }
    tsc_tls_conn_close(t);
    memcpy(&res->f, tsc_tls_conn_facts(t), sizeof(res->f));
    tsc_tls_conn_free(t);
    ck_assert_uint_eq(hold->bytes, 0);
    tsc_keys_free(k);
}

/*
 * Keys appended after any chunk of the connection, or only at its end: the
 * result is the same as with the whole key log from the start (records wait
 * for their keys, in order, and the ends of the directions behind them).
 */
START_TEST(test_late_keys)
{
    const struct conn_case *cc = CASES[_i];
    struct streams s;
    load_streams(cc->pcap, &s);
    uint64_t held_max = 0;
    for (size_t at = 0; at <= s.nch; at++) {
        size_t when = at < s.nch ? at : SIZE_MAX;
        struct result r;
        struct tsc_tls_hold hold;
        run_late(&s, cc, when, when, &hold, &r);
        check_full(cc, &r);
        ck_assert_uint_eq(hold.dropped_records, 0);
        held_max = hold.held_records > held_max ? hold.held_records : held_max;
        if (cc->tls13 && at + 1 < s.nch) {
            /* TLS 1.3: handshake secrets now, application secrets some chunks later. */
            run_late(&s, cc, when, at + 1 + (s.nch - at - 1) / 2, &hold, &r);
            check_full(cc, &r);
            ck_assert_uint_eq(hold.dropped_records, 0);
        }
    }
    ck_assert_uint_gt(held_max, 3); /* records did wait */
    free(s.bytes);
}
END_TEST

/* Keys that never come: at close the held records go through as opaque ones. */
START_TEST(test_late_keys_never)
{
    const struct conn_case *cc = CASES[_i];
    struct streams s;
    load_streams(cc->pcap, &s);
    struct result r, plain;
    struct tsc_tls_hold hold;
    run_late(&s, cc, s.nch + 1, s.nch + 1, &hold, &r);
    struct tsc_keys *empty = NULL;
    ck_assert_int_eq(tsc_keys_new(&empty, NULL), TSC_OK);
    run(&s, empty, s.n, s.n, &plain);
    ck_assert_uint_gt(hold.dropped_records, 0);
    ck_assert(!r.f.dec.decrypted);
    ck_assert_str_eq(r.f.dec.undecrypted_reason, plain.f.dec.undecrypted_reason);
    for (int d = 0; d < 2; d++) {
        ck_assert_uint_eq(r.records[d], plain.records[d]);
        ck_assert_uint_eq(r.f.dir[d].encrypted_handshake_records,
                          plain.f.dir[d].encrypted_handshake_records);
        ck_assert_uint_eq(r.f.dir[d].app_data_bytes, plain.f.dir[d].app_data_bytes);
    }
    tsc_keys_free(empty);
    free(s.bytes);
}
END_TEST

/* ---- truncated: the capture cut at every length ---- */

static struct streams g_cut; /* loaded once in main (read-only afterwards) */
static struct tsc_keys *g_cut_keys;

/* Each loop iteration covers CUT_BLOCK consecutive cut lengths (one fork per block). */
#define CUT_BLOCK 64

START_TEST(test_cut)
{
    for (size_t cut = (size_t)_i * CUT_BLOCK; cut < ((size_t)_i + 1) * CUT_BLOCK; cut++) {
        if (cut > g_cut.n) {
            break;
        }
        struct result r;
        run(&g_cut, g_cut_keys, cut, g_cut.n, &r);
        const struct tsc_decrypt_facts *dec = &r.f.dec;
        /* A cut never makes a record fail its tag: a partial record is not decrypted. */
        ck_assert_uint_eq(dec->bad_records, 0);
        ck_assert_uint_le(dec->app_bytes[0], TLS13.c2s_bytes);
        ck_assert_uint_le(dec->app_bytes[1], TLS13.s2c_bytes);
        ck_assert_uint_eq(r.app_events_bytes[0], dec->app_bytes[0]);
        ck_assert_uint_eq(r.app_events_bytes[1], dec->app_bytes[1]);
        ck_assert_ptr_nonnull(dec->finished[0]);
        ck_assert_ptr_nonnull(dec->finished[1]);
        if (cut == g_cut.n) {
            check_full(&TLS13, &r);
        }
    }
}
END_TEST

/*
 * Every single byte of the connection flipped in turn (in blocks of
 * CUT_BLOCK positions): whatever it hits (header, handshake, ciphertext, tag),
 * the dissector and the session stay consistent and within bounds.
 */
START_TEST(test_flip_every_byte)
{
    for (size_t at = (size_t)_i * CUT_BLOCK; at < ((size_t)_i + 1) * CUT_BLOCK; at++) {
        if (at >= g_cut.n) {
            break;
        }
        struct result r;
        run(&g_cut, g_cut_keys, g_cut.n, at, &r);
        const struct tsc_decrypt_facts *dec = &r.f.dec;
        ck_assert_uint_le(dec->bad_records, r.records[0] + r.records[1]);
        ck_assert_uint_eq(dec->bad_records, r.bad_mac_diags);
        ck_assert_uint_eq(r.app_events_bytes[0], dec->app_bytes[0]);
        ck_assert_uint_eq(r.app_events_bytes[1], dec->app_bytes[1]);
        ck_assert_uint_le(dec->app_bytes[0], TLS13.c2s_bytes);
        ck_assert_uint_le(dec->app_bytes[1], TLS13.s2c_bytes);
        ck_assert_ptr_nonnull(dec->finished[0]);
        ck_assert_ptr_nonnull(dec->finished[1]);
    }
}
END_TEST

/*
 * Bytes lost (a TCP gap) in the server's direction after decryption started
 * (TLS 1.3 AES-GCM): the next whole record's sequence number is found by
 * trial and the later records decrypt; none fails; the client's direction is
 * not affected.
 */
START_TEST(test_gap_after_keys)
{
    struct result clean;
    struct result r;
    run(&g_cut, g_cut_keys, g_cut.n, g_cut.n, &clean);
    unsigned pick = MAX_REC;
    for (unsigned i = 0; i < clean.nrec[1]; i++) {
        if (clean.rec[1][i].dec && clean.rec[1][i].inner == 23) {
            pick = i;
            break;
        }
    }
    ck_assert_uint_lt(pick, clean.nrec[1]);
    size_t at = abs_index(&g_cut, 1, clean.rec[1][pick].off);
    size_t chunk = SIZE_MAX;
    for (size_t i = 0; i < g_cut.nch; i++) {
        if (at >= g_cut.ch[i].at && at < g_cut.ch[i].at + g_cut.ch[i].len) {
            chunk = i;
        }
    }
    ck_assert_uint_ne(chunk, SIZE_MAX);
    run_ex(&g_cut, g_cut_keys, g_cut.n, g_cut.n, chunk, &r);
    const struct tsc_decrypt_facts *dec = &r.f.dec;
    /* AEAD: decryption resumes at the next whole record (sequence number by trial);
     * the records lost are counted as skipped, none fails. */
    ck_assert_uint_eq(r.lost_diags, 0);
    ck_assert_uint_eq(dec->resyncs[1], 1);
    ck_assert_uint_gt(dec->records_skipped[1], 0);
    ck_assert_uint_eq(r.decrypted_records[1] + dec->records_skipped[1], clean.decrypted_records[1]);
    ck_assert_uint_eq(dec->bad_records, 0);
    ck_assert_uint_lt(dec->app_bytes[1], TLS13.s2c_bytes);
    ck_assert_uint_lt(r.decrypted_records[1], clean.decrypted_records[1]);
    assert_app(dec, 0, TLS13.c2s_bytes, TLS13.c2s_sha);
    ck_assert_str_eq(dec->finished[0], "verified");
    ck_assert_str_eq(dec->finished[1], "verified");
}
END_TEST

/* ---- limits ---- */

/*
 * Every decrypted c2s record corrupted (Finished, data, alert): each is one
 * bad record, and the other direction is still decrypted in full.
 */
START_TEST(test_all_bad)
{
    struct streams s;
    struct result clean;
    load_streams(TLS12.pcap, &s);
    struct tsc_keys *k = keys_keylog(TLS12.keylog);
    run(&s, k, s.n, s.n, &clean);
    uint8_t *orig = s.bytes;
    uint8_t *mod = malloc(s.n);
    ck_assert_ptr_nonnull(mod);
    memcpy(mod, orig, s.n);
    unsigned n_app = 0;
    for (unsigned i = 0; i < clean.nrec[0]; i++) {
        if (clean.rec[0][i].dec) {
            int64_t off = clean.rec[0][i].off + 5 + (int64_t)clean.rec[0][i].len - 1;
            mod[abs_index(&s, 0, off)] ^= 0x80;
            n_app++;
        }
    }
    ck_assert_uint_ge(n_app, 3);
    s.bytes = mod;
    struct result r;
    run(&s, k, s.n, s.n, &r);
    ck_assert_uint_eq(r.f.dec.bad_records, n_app);
    ck_assert_uint_eq(r.bad_mac_diags, n_app);
    ck_assert_uint_eq(r.decrypted_records[0], 0);
    ck_assert(!r.f.dec.have_app_data[0]);
    ck_assert_str_ne(r.f.dec.finished[0], "verified");
    /* The client's Finished and alert stay opaque: counted as before decryption existed. */
    ck_assert_uint_eq(r.f.dir[0].encrypted_handshake_records, 1);
    ck_assert_uint_eq(r.f.dir[0].encrypted_alerts, 1);
    assert_app(&r.f.dec, 1, TLS12.s2c_bytes, TLS12.s2c_sha);
    s.bytes = orig;
    free(mod);
    tsc_keys_free(k);
    free(s.bytes);
}
END_TEST

/* ---- the whole analyzer: JSON output with -d, run object, key errors ---- */

static int b64val(char c)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(a, c);
    return c != '\0' && p != NULL ? (int)(p - a) : -1;
}

/* Decodes base64 up to the closing quote; returns the byte count. */
static size_t b64dec(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *s != '"' && *s != '\0'; s++) {
        if (*s == '=') {
            continue;
        }
        int v = b64val(*s);
        ck_assert_int_ge(v, 0);
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            ck_assert_uint_lt(n, cap);
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

static void sha256_hex(EVP_MD_CTX *md, char out[65])
{
    uint8_t h[32];
    unsigned int len = 0;
    ck_assert_int_eq(EVP_DigestFinal_ex(md, h, &len), 1);
    hex32(h, out);
}

START_TEST(test_analyzer_json)
{
    char path[1024];
    char keylog[1024];
    src_path(TLS13.keylog, keylog, sizeof(keylog));
    const char *keylogs[] = {keylog};
    static const uint8_t psk[] = {0x00, 0xff, 0x00, 0xee};
    char *argv[] = {"tlsscope", "-j", "-d", "--psk", "00ff00ee", NULL};
    struct tsc_config cfg;
    tsc_config_default(&cfg);
    cfg.format = TSC_FORMAT_JSONL;
    cfg.show_app_data = true;
    cfg.keylog_files = keylogs;
    cfg.n_keylog_files = 1;
    cfg.psk = psk;
    cfg.psk_len = sizeof(psk);
    cfg.argc = 5;
    cfg.argv = argv;
    cfg.out = tmpfile();
    ck_assert_ptr_nonnull(cfg.out);
    char err[256] = "";
    struct tsc_analyzer *a = NULL;
    ck_assert_int_eq(tsc_analyzer_new(&a, &cfg, err, sizeof(err)), 0);
    const char *in[] = {src_path(TLS13.pcap, path, sizeof(path))};
    ck_assert_int_eq(tsc_analyzer_run_files(a, in, 1), 0);
    tsc_analyzer_free(a);
    rewind(cfg.out);
    EVP_MD_CTX *md[2] = {EVP_MD_CTX_new(), EVP_MD_CTX_new()};
    ck_assert(md[0] != NULL && md[1] != NULL);
    ck_assert_int_eq(EVP_DigestInit_ex(md[0], EVP_sha256(), NULL), 1);
    ck_assert_int_eq(EVP_DigestInit_ex(md[1], EVP_sha256(), NULL), 1);
    uint64_t bytes[2] = {0, 0};
    static char line[1 << 17];
    static uint8_t data[1 << 16];
    unsigned n_lines = 0;
    bool conn_seen = false;
    while (fgets(line, sizeof(line), cfg.out) != NULL) {
        if (n_lines++ == 0) {
            /* The run object: capability, key file with its hash, no secret. */
            ck_assert_ptr_nonnull(strstr(line, "\"type\":\"run\""));
            ck_assert_ptr_nonnull(
                strstr(line, "\"capabilities\":[\"dissect\",\"decrypt\",\"verify\"]"));
            ck_assert_ptr_nonnull(strstr(line, "\"kind\":\"keylog\",\"sha256\":\""));
            ck_assert_ptr_null(strstr(line, "00ff00ee"));
            continue;
        }
        if (strstr(line, "\"type\":\"connection\"") != NULL) {
            conn_seen = true;
            ck_assert_ptr_nonnull(strstr(line, "\"decrypted\":true"));
            ck_assert_ptr_nonnull(
                strstr(line, "\"finished\":{\"client\":\"verified\",\"server\":\"verified\"}"));
            ck_assert_ptr_nonnull(strstr(line, TLS13.c2s_sha));
            ck_assert_ptr_nonnull(strstr(line, TLS13.s2c_sha));
            continue;
        }
        if (strstr(line, "\"type\":\"app_data\"") == NULL) {
            continue;
        }
        int dir = strstr(line, "\"dir\":\"s2c\"") != NULL ? 1 : 0;
        const char *b = strstr(line, "\"data_base64\":\"");
        ck_assert_ptr_nonnull(b);
        size_t n = b64dec(b + strlen("\"data_base64\":\""), data, sizeof(data));
        const char *l = strstr(line, "\"length\":");
        ck_assert_ptr_nonnull(l);
        ck_assert_uint_eq(strtoull(l + strlen("\"length\":"), NULL, 10), n);
        ck_assert_int_eq(EVP_DigestUpdate(md[dir], data, n), 1);
        bytes[dir] += n;
    }
    fclose(cfg.out);
    ck_assert(conn_seen);
    char hex[65];
    ck_assert_uint_eq(bytes[0], TLS13.c2s_bytes);
    sha256_hex(md[0], hex);
    ck_assert_str_eq(hex, TLS13.c2s_sha);
    ck_assert_uint_eq(bytes[1], TLS13.s2c_bytes);
    sha256_hex(md[1], hex);
    ck_assert_str_eq(hex, TLS13.s2c_sha);
    EVP_MD_CTX_free(md[0]);
    EVP_MD_CTX_free(md[1]);
}
END_TEST

/* A key file that cannot be loaded at all stops the analyzer with a message. */
START_TEST(test_analyzer_bad_key_file)
{
    const char *files[] = {"/nonexistent/tlsscope-check.key"};
    struct tsc_config cfg;
    tsc_config_default(&cfg);
    if (_i == 0) {
        cfg.rsa_key_files = files;
        cfg.n_rsa_key_files = 1;
    } else {
        cfg.keylog_files = files;
        cfg.n_keylog_files = 1;
    }
    cfg.out = tmpfile();
    ck_assert_ptr_nonnull(cfg.out);
    char err[256] = "";
    struct tsc_analyzer *a = NULL;
    ck_assert_int_eq(tsc_analyzer_new(&a, &cfg, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, _i == 0 ? "RSA key" : "key log"));
    fclose(cfg.out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("decrypt_e2e");
    TCase *tc = tcase_create("valid");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_keylog_full, 0, (int)N_CASES);
    tcase_add_loop_test(tc, test_late_keys, 0, (int)N_CASES);
    tcase_add_loop_test(tc, test_late_keys_never, 0, (int)N_CASES);
    tcase_add_test(tc, test_rsa_key);
    tcase_add_test(tc, test_analyzer_json);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_flipped_byte, 0, (int)N_CASES);
    tcase_add_loop_test(tc, test_wrong_keylog, 0, (int)N_CASES);
    tcase_add_test(tc, test_foreign_keylog);
    tcase_add_loop_test(tc, test_analyzer_bad_key_file, 0, 2);
    tcase_add_loop_test(tc, test_flip_every_byte, 0, (int)(g_cut.n / CUT_BLOCK) + 1);
    tcase_add_test(tc, test_gap_after_keys);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_cut, 0, (int)(g_cut.n / CUT_BLOCK) + 1);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_all_bad);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    g_outside_tests = true;
    load_streams(TLS13.pcap, &g_cut);
    g_cut_keys = keys_keylog(TLS13.keylog);
    g_outside_tests = false;
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    tsc_keys_free(g_cut_keys);
    free(g_cut.bytes);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
