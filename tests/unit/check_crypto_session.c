/*
 * Crypto sessions on real captures: event scripts extracted at development
 * time from pcaps/ (tests/data/crypto/extract_session.py: hello fields,
 * certificate, ClientKeyExchange, plaintext handshake messages, CCS and every
 * protected record in wire order, plus the connection's key log lines and the
 * manifest's app_data length and SHA-256) are replayed through tsc_csess_*,
 * acting as the dissector: decrypted handshake records are split into
 * messages and fed back, application data is hashed by the session.
 * Checks: both Finished verified, app_data equal to the manifest, key source;
 * and the negative cases (foreign RSA key, no certificate, truncated key log,
 * a flipped ciphertext byte, an unsupported suite, a resumed session).
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/session.h"
#include "keys/keys.h"
#include "util/buf.h"

#define MAXEV 256

struct event {
    char kind[8];
    int dir;
    uint8_t type;
    uint16_t version;
    char *text; /* rest of the line (hex or key log line) */
    uint8_t *bin;
    size_t n;
};

struct script {
    struct event ev[MAXEV];
    int n;
    uint64_t want_bytes[2];
    uint8_t want_sha[2][32];
};

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = strspn(s, "0123456789abcdefABCDEF") / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void load(struct script *sc, const char *name)
{
    memset(sc, 0, sizeof(*sc));
    const char *dir = getenv("TSC_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/crypto/%s.events", dir ? dir : ".", name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        if (strncmp(line, "EXPECT ", 7) == 0) {
            char d[8], hex[65];
            unsigned long long b;
            ck_assert_int_eq(sscanf(line + 7, "%7s %llu %64s", d, &b, hex), 3);
            int di = strcmp(d, "c2s") == 0 ? 0 : 1;
            sc->want_bytes[di] = b;
            ck_assert_uint_eq(unhex(hex, sc->want_sha[di]), 32);
            continue;
        }
        ck_assert_int_lt(sc->n, MAXEV);
        struct event *e = &sc->ev[sc->n++];
        char *sp = strchr(line, ' ');
        ck_assert_ptr_nonnull(sp);
        *sp = '\0';
        snprintf(e->kind, sizeof(e->kind), "%.7s", line);
        char *rest = sp + 1;
        if (strcmp(e->kind, "HS") == 0 || strcmp(e->kind, "CCS") == 0) {
            e->dir = rest[0] - '0';
            rest = rest[1] == ' ' ? rest + 2 : rest + 1;
        } else if (strcmp(e->kind, "REC") == 0) {
            unsigned t, v;
            int consumed = 0;
            ck_assert_int_eq(sscanf(rest, "%d %u %x %n", &e->dir, &t, &v, &consumed), 3);
            e->type = (uint8_t)t;
            e->version = (uint16_t)v;
            rest += consumed;
        }
        e->text = strdup(rest);
        e->bin = malloc(strlen(rest) / 2 + 1);
        e->n = unhex(rest, e->bin);
    }
    free(line);
    fclose(f);
}

static void unload(struct script *sc)
{
    for (int i = 0; i < sc->n; i++) {
        free(sc->ev[i].text);
        free(sc->ev[i].bin);
    }
}

struct opts {
    bool keylog;
    int keylog_lines; /* -1: all */
    bool no_cert;
    bool no_cke;
    int flip_record; /* index of the protected app-data record to damage, -1 none */
    int force_suite; /* replace the ServerHello's suite, -1 keep */
    bool ignore_ee;  /* do not report EncryptedExtensions' early_data answer */
    int stop_after;  /* replay only this many events, -1 all */
    int v2_mode;     /* SSLv2-format hello: 0 as captured, 1 random without the transcript,
                        2 challenge cut by one byte */
};

static const struct opts k_default = {true, -1, false, false, -1, -1, false, -1, 0};

/* What the replay saw of 0-RTT handling. */
struct early_seen {
    int held;              /* records tsc_csess_app_data held back */
    int dropped;           /* records it refused */
    size_t released_bytes; /* held bytes handed back after an acceptance */
};
static struct early_seen g_early;

/* The dissector's part after an acceptance: take the held records back. */
static void take_released(struct tsc_crypto_sess *s)
{
    const uint8_t *p = NULL;
    size_t n = 0;
    uint64_t pkt = 0;
    struct tsc_ts ts;
    for (size_t i = 0; tsc_csess_early_released(s, i, &p, &n, &pkt, &ts); i++) {
        g_early.released_bytes += n;
    }
    tsc_csess_early_release_done(s);
}

/* The dissector's part: split decrypted handshake records into messages. */
struct hsbuf {
    struct tsc_buf b[2];
};

static void feed_hs(struct tsc_crypto_sess *s, struct hsbuf *h, int d, const uint8_t *p, size_t n,
                    const struct opts *o)
{
    ck_assert_int_eq(tsc_buf_append(&h->b[d], p, n), TSC_OK);
    /* bounded: every message consumes at least its 4-byte header */
    while (h->b[d].len >= 4) {
        const uint8_t *m = h->b[d].p;
        size_t ml = 4 + ((size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3]);
        if (h->b[d].len < ml) {
            break;
        }
        if (m[0] == 8 && d == 1 && !o->ignore_ee) {
            /* EncryptedExtensions: extensions<0..2^16-1>; early_data (42) accepts 0-RTT,
             * its absence rejects it */
            size_t i = 6;
            bool accepted = false;
            while (i + 4 <= ml) {
                unsigned t = (unsigned)m[i] << 8 | m[i + 1];
                size_t el = (size_t)m[i + 2] << 8 | m[i + 3];
                accepted = accepted || t == 42;
                i += 4 + el;
            }
            if (accepted) {
                tsc_csess_early_data_accepted(s);
                take_released(s);
            } else {
                tsc_csess_early_data_rejected(s);
            }
        }
        tsc_csess_handshake(s, d, m, ml);
        if (m[0] == 5 && d == 0) {
            take_released(s);
        }
        tsc_buf_consume(&h->b[d], ml);
    }
}

static struct tsc_crypto_sess *replay(const struct script *sc, struct tsc_keys *k,
                                      const struct opts *o)
{
    struct tsc_crypto_sess *s = NULL;
    struct tsc_buf out;
    struct hsbuf h;
    int app_rec = 0;
    int kl = 0;
    ck_assert_int_eq(tsc_csess_new(&s, k), TSC_OK);
    tsc_buf_init(&out, 1 << 16);
    tsc_buf_init(&h.b[0], 1 << 20);
    tsc_buf_init(&h.b[1], 1 << 20);
    for (int i = 0; i < sc->n; i++) {
        const struct event *e = &sc->ev[i];
        if (strcmp(e->kind, "KL") == 0) {
            if (o->keylog && (o->keylog_lines < 0 || kl < o->keylog_lines)) {
                /* CLIENT_TRAFFIC_SECRET_N lines of some tools are not NSS labels: skipped */
                enum tsc_err r = tsc_keys_add_keylog_line(k, e->text, strlen(e->text), "t", 1);
                ck_assert(r == TSC_OK || (r == TSC_ERR_DECODE && strstr(e->text, "_N ") != NULL));
                kl++;
            }
        }
    }
    memset(&g_early, 0, sizeof(g_early));
    for (int i = 0; i < sc->n && (o->stop_after < 0 || i < o->stop_after); i++) {
        const struct event *e = &sc->ev[i];
        if (strcmp(e->kind, "CH2") == 0) {
            /* "CH2 <challenge hex> <CLIENT-HELLO message hex>" (RFC 5246 E.2) */
            const char *sp = strchr(e->text, ' ');
            ck_assert_ptr_nonnull(sp);
            uint8_t *msg = malloc(strlen(sp) / 2 + 1);
            size_t ml = unhex(sp + 1, msg);
            size_t cl = e->n;
            if (o->v2_mode == 1) {
                uint8_t r[32] = {0};
                memcpy(r + 32 - cl, e->bin, cl);
                tsc_csess_client_hello(s, r, false, NULL, 0);
            } else {
                tsc_csess_client_hello_v2(s, e->bin, o->v2_mode == 2 ? cl - 1 : cl, msg, ml);
            }
            free(msg);
        } else if (strcmp(e->kind, "CH") == 0) {
            unsigned early = 0;
            sscanf(e->text + 65, "%u", &early);
            tsc_csess_client_hello(s, e->bin, early != 0, NULL, 0);
        } else if (strcmp(e->kind, "SH") == 0) {
            unsigned v, suite, comp, ems, etm, hrr;
            char rnd[65];
            uint8_t r[32];
            ck_assert_int_eq(
                sscanf(e->text, "%x %x %64s %u %u %u %u", &v, &suite, rnd, &comp, &ems, &etm, &hrr),
                7);
            unhex(rnd, r);
            if (o->force_suite >= 0) {
                suite = (unsigned)o->force_suite;
            }
            tsc_csess_server_hello(s, (uint16_t)v, (uint16_t)suite, r, (uint8_t)comp, ems, etm, hrr,
                                   false);
        } else if (strcmp(e->kind, "CERT") == 0) {
            if (!o->no_cert) {
                tsc_csess_server_certificate(s, e->bin, e->n);
            }
        } else if (strcmp(e->kind, "CKE") == 0) {
            if (!o->no_cke) {
                tsc_csess_client_key_exchange(s, e->bin, e->n);
            }
        } else if (strcmp(e->kind, "HS") == 0) {
            if (o->no_cke && e->bin[0] == 16) {
                continue;
            }
            tsc_csess_handshake(s, e->dir, e->bin, e->n);
        } else if (strcmp(e->kind, "CCS") == 0) {
            tsc_csess_change_cipher_spec(s, e->dir);
        } else if (strcmp(e->kind, "REC") == 0) {
            ck_assert(tsc_csess_protected(s, e->dir));
            uint8_t *frag = malloc(e->n + 1);
            memcpy(frag, e->bin, e->n);
            if (e->type == 23 && e->n > 100) {
                if (app_rec == o->flip_record) {
                    frag[e->n / 2] ^= 0x20;
                }
                app_rec++;
            }
            uint8_t inner = 0;
            enum tsc_err r =
                tsc_csess_decrypt(s, e->dir, e->type, e->version, frag, e->n, &out, &inner);
            ck_assert(r == TSC_OK || r == TSC_ERR_CRYPTO || r == TSC_ERR_UNSUPPORTED);
            if (r == TSC_OK && inner == 22) {
                feed_hs(s, &h, e->dir, out.p, out.len, o);
            } else if (r == TSC_OK && inner == 23) {
                enum tsc_app_verdict v = tsc_csess_app_data(s, e->dir, out.p, out.len);
                g_early.held += v == TSC_APP_HELD;
                g_early.dropped += v == TSC_APP_DROPPED;
            }
            free(frag);
        }
    }
    tsc_csess_finish(s);
    tsc_csess_finish(s); /* idempotent */
    tsc_buf_free(&out);
    tsc_buf_free(&h.b[0]);
    tsc_buf_free(&h.b[1]);
    return s;
}

static void assert_complete(const struct script *sc, const struct tsc_crypto_facts *f)
{
    ck_assert_int_eq(f->finished[0], TSC_FIN_VERIFIED);
    ck_assert_int_eq(f->finished[1], TSC_FIN_VERIFIED);
    ck_assert_uint_eq(f->bad_records, 0);
    ck_assert(f->decrypted);
    ck_assert_int_eq(f->undecrypted_reason, TSC_UNDEC_NONE);
    for (int d = 0; d < 2; d++) {
        ck_assert_uint_eq(f->app_bytes[d], sc->want_bytes[d]);
        ck_assert_mem_eq(f->app_sha256[d], sc->want_sha[d], 32);
    }
}

static struct tsc_keys *keys(void)
{
    struct tsc_keys *k = NULL;
    ck_assert_int_eq(tsc_keys_new(&k, NULL), TSC_OK);
    return k;
}

static const char *const k_keylog_caps[] = {
    "tls12-rsa-aes128-gcm-sha256", "tls13-aes128-gcm-sha256",
    "tls13-hello-retry-request",   "tls13-key-update",
    "tls12-rsa-aes128-cbc-sha",    "tls10-rsa-rc4-128-md5",
};

START_TEST(test_keylog_captures)
{
    struct script sc;
    load(&sc, k_keylog_caps[_i]);
    struct tsc_keys *k = keys();
    struct tsc_crypto_sess *s = replay(&sc, k, &k_default);
    const struct tsc_crypto_facts *f = tsc_csess_facts(s);
    assert_complete(&sc, f);
    ck_assert_int_eq(f->key_source, TSC_KEYSRC_KEYLOG);
    tsc_csess_free(s);
    tsc_keys_free(k);
    unload(&sc);
}
END_TEST

static void load_server_key(struct tsc_keys *k)
{
    const char *dir = getenv("TSC_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/pcaps/keys/server-rsa.key", dir ? dir : ".");
    ck_assert_int_eq(tsc_keys_load_rsa_file(k, path, NULL), TSC_OK);
}

static const char *const k_rsa_caps[] = {"tls12-rsa-aes128-gcm-sha256", "tls12-rsa-aes128-cbc-sha",
                                         "tls10-rsa-rc4-128-md5"};

START_TEST(test_rsa_captures)
{
    struct script sc;
    load(&sc, k_rsa_caps[_i]);
    struct opts o = k_default;
    o.keylog = false;
    /* with the certificate (one private operation), then without it (each key tried) */
    for (int v = 0; v < 2; v++) {
        struct tsc_keys *k = keys();
        EVP_PKEY *other = EVP_RSA_gen(1024);
        if (v == 1) {
            /* a foreign key loaded first: the trial must move past it */
            char p[] = "/tmp/tsc_sess_keyXXXXXX";
            int fd = mkstemp(p);
            ck_assert_int_ge(fd, 0);
            FILE *f = fdopen(fd, "w");
            ck_assert_int_eq(PEM_write_PrivateKey(f, other, NULL, NULL, 0, NULL, NULL), 1);
            fclose(f);
            ck_assert_int_eq(tsc_keys_load_rsa_file(k, p, NULL), TSC_OK);
            unlink(p);
        }
        load_server_key(k);
        o.no_cert = v == 1;
        struct tsc_crypto_sess *s = replay(&sc, k, &o);
        const struct tsc_crypto_facts *f = tsc_csess_facts(s);
        assert_complete(&sc, f);
        ck_assert_int_eq(f->key_source, TSC_KEYSRC_RSA);
        ck_assert(f->have_master_secret);
        tsc_csess_free(s);
        tsc_keys_free(k);
        EVP_PKEY_free(other);
    }
    unload(&sc);
}
END_TEST

START_TEST(test_wrong_rsa_key)
{
    struct script sc;
    load(&sc, "tls12-rsa-aes128-gcm-sha256");
    struct opts o = k_default;
    o.keylog = false;
    char p[] = "/tmp/tsc_sess_keyXXXXXX";
    int fd = mkstemp(p);
    EVP_PKEY *other = EVP_RSA_gen(1024);
    FILE *fp = fdopen(fd, "w");
    ck_assert_int_eq(PEM_write_PrivateKey(fp, other, NULL, NULL, 0, NULL, NULL), 1);
    fclose(fp);
    /* Certificate visible: the foreign key does not match it. */
    struct tsc_keys *k = keys();
    ck_assert_int_eq(tsc_keys_load_rsa_file(k, p, NULL), TSC_OK);
    struct tsc_crypto_sess *s = replay(&sc, k, &o);
    const struct tsc_crypto_facts *f = tsc_csess_facts(s);
    ck_assert(!f->decrypted);
    ck_assert_int_eq(f->undecrypted_reason, TSC_UNDEC_NO_MATCHING_KEY);
    ck_assert_int_eq(f->finished[0], TSC_FIN_UNVERIFIED);
    tsc_csess_free(s);
    /* No certificate: the key is tried and fails. */
    o.no_cert = true;
    s = replay(&sc, k, &o);
    f = tsc_csess_facts(s);
    ck_assert(!f->decrypted);
    ck_assert_int_eq(f->undecrypted_reason, TSC_UNDEC_KEY_MISMATCH);
    tsc_csess_free(s);
    tsc_keys_free(k);
    unlink(p);
    EVP_PKEY_free(other);
    unload(&sc);
}
END_TEST

START_TEST(test_flipped_byte)
{
    struct script sc;
    load(&sc, _i == 0 ? "tls12-rsa-aes128-gcm-sha256" : "tls13-aes128-gcm-sha256");
    struct tsc_keys *k = keys();
    struct opts o = k_default;
    o.flip_record = _i == 0 ? 1 : 3; /* an application data record (1.3: after 3 handshake ones) */
    struct tsc_crypto_sess *s = replay(&sc, k, &o);
    const struct tsc_crypto_facts *f = tsc_csess_facts(s);
    ck_assert_uint_eq(f->bad_records, 1);
    ck_assert_int_eq(f->finished[0], TSC_FIN_VERIFIED);
    ck_assert_int_eq(f->finished[1], TSC_FIN_VERIFIED);
    ck_assert(f->decrypted);
    ck_assert_uint_lt(f->app_bytes[0] + f->app_bytes[1], sc.want_bytes[0] + sc.want_bytes[1]);
    ck_assert_uint_gt(f->app_bytes[0] + f->app_bytes[1], 0);
    tsc_csess_free(s);
    tsc_keys_free(k);
    unload(&sc);
}
END_TEST

/* 0-RTT: connection 1 of tls13-early-data (accepted, 300 bytes). */
START_TEST(test_early_data_accepted)
{
    struct script sc;
    load(&sc, "tls13-early-data-1");
    struct tsc_keys *k = keys();
    struct opts o = k_default;
    /* _i 1: EncryptedExtensions not reported; the client's EndOfEarlyData accepts instead. */
    o.ignore_ee = _i == 1;
    struct tsc_crypto_sess *s = replay(&sc, k, &o);
    const struct tsc_crypto_facts *f = tsc_csess_facts(s);
    assert_complete(&sc, f); /* c2s: early data + normal data, as the server received it */
    ck_assert_uint_eq(f->early_data_bytes, 300);
    ck_assert_uint_eq(f->early_data_rejected_bytes, 0);
    ck_assert_int_eq(g_early.held, 1);
    ck_assert_int_eq(g_early.dropped, 0);
    ck_assert_uint_eq(g_early.released_bytes, 300);
    tsc_csess_free(s);
    tsc_keys_free(k);
    unload(&sc);
}
END_TEST

/* Connection 2 of tls13-early-data-rejected: the server's anti-replay rejected its 0-RTT. */
START_TEST(test_early_data_rejected)
{
    struct script sc;
    load(&sc, "tls13-early-data-rejected-2");
    struct tsc_keys *k = keys();
    struct tsc_crypto_sess *s = replay(&sc, k, &k_default);
    const struct tsc_crypto_facts *f = tsc_csess_facts(s);
    assert_complete(&sc, f); /* c2s: the 1200 normal bytes only */
    ck_assert_uint_eq(f->early_data_bytes, 0);
    ck_assert_uint_eq(f->early_data_rejected_bytes, 300);
    ck_assert_int_eq(g_early.held, 1);
    ck_assert_uint_eq(g_early.released_bytes, 0);
    /* Nothing comes back after the rejection. */
    const uint8_t *p = NULL;
    size_t n = 0;
    uint64_t pkt = 0;
    struct tsc_ts ts;
    ck_assert(!tsc_csess_early_released(s, 0, &p, &n, &pkt, &ts));
    tsc_csess_free(s);
    tsc_keys_free(k);
    unload(&sc);
}
END_TEST

/* Capture cut after the 0-RTT record: acceptance never seen, nothing counted. */
START_TEST(test_early_data_unanswered)
{
    struct script sc;
    load(&sc, "tls13-early-data-1");
    int first_rec = -1;
    for (int i = 0; i < sc.n && first_rec < 0; i++) {
        if (strcmp(sc.ev[i].kind, "REC") == 0) {
            first_rec = i;
        }
    }
    ck_assert_int_ge(first_rec, 0);
    struct tsc_keys *k = keys();
    struct opts o = k_default;
    o.stop_after = first_rec + 1;
    struct tsc_crypto_sess *s = replay(&sc, k, &o);
    const struct tsc_crypto_facts *f = tsc_csess_facts(s);
    ck_assert_int_eq(g_early.held, 1);
    ck_assert_uint_eq(f->app_bytes[0], 0);
    ck_assert_uint_eq(f->early_data_bytes, 0);
    ck_assert_uint_eq(f->early_data_rejected_bytes, 300);
    ck_assert_int_eq(f->undecrypted_reason, TSC_UNDEC_HANDSHAKE_NOT_CAPTURED);
    tsc_csess_free(s);
    tsc_keys_free(k);
    unload(&sc);
}
END_TEST

/*
 * SSLv2-compatible ClientHello (pcaps/raw, tools/mkrawcaps): 16-byte challenge,
 * RSA key exchange. _i 0: server key, 1: key log, 2: key log but the hello's
 * message left out of the transcript (both Finished must fail), 3: the challenge
 * one byte short (too short for RFC 6101: no client random, nothing verifies).
 */
START_TEST(test_sslv2_hello)
{
    struct script sc;
    load(&sc, "raw-sslv2-hello-tls12-rsa-aes128-gcm");
    struct tsc_keys *k = keys();
    struct opts o = k_default;
    o.keylog = _i != 0;
    o.v2_mode = _i >= 2 ? _i - 1 : 0;
    if (_i == 0) {
        load_server_key(k);
    }
    struct tsc_crypto_sess *s = replay(&sc, k, &o);
    const struct tsc_crypto_facts *f = tsc_csess_facts(s);
    if (_i < 2) {
        assert_complete(&sc, f);
        ck_assert_int_eq(f->key_source, _i == 0 ? TSC_KEYSRC_RSA : TSC_KEYSRC_KEYLOG);
    } else if (_i == 2) {
        /* Keys right (the random is), transcript wrong: records decrypt, Finished do not. */
        ck_assert(f->decrypted);
        ck_assert_int_eq(f->finished[0], TSC_FIN_MISMATCH);
        ck_assert_int_eq(f->finished[1], TSC_FIN_MISMATCH);
    } else {
        ck_assert(!f->decrypted);
        ck_assert_int_ne(f->finished[0], TSC_FIN_VERIFIED);
        ck_assert_int_ne(f->undecrypted_reason, TSC_UNDEC_NONE);
    }
    tsc_csess_free(s);
    tsc_keys_free(k);
    unload(&sc);
}
END_TEST

START_TEST(test_truncated_keylog)
{
    /* Fewer key log lines than the connection needs. */
    struct script sc;
    load(&sc, "tls13-aes128-gcm-sha256");
    struct opts o = k_default;
    o.keylog_lines = _i;
    struct tsc_keys *k = keys();
    struct tsc_crypto_sess *s = replay(&sc, k, &o);
    const struct tsc_crypto_facts *f = tsc_csess_facts(s);
    int nkl = 0;
    for (int i = 0; i < sc.n; i++) {
        nkl += strcmp(sc.ev[i].kind, "KL") == 0;
    }
    if (_i >= nkl) {
        assert_complete(&sc, f);
    } else {
        /* never a crash, never a bad record: missing keys are not damage */
        ck_assert_uint_eq(f->bad_records, 0);
        ck_assert(f->finished[0] != TSC_FIN_MISMATCH && f->finished[1] != TSC_FIN_MISMATCH);
        if (!f->keys_known) {
            ck_assert_int_ne(f->undecrypted_reason, TSC_UNDEC_NONE);
        }
    }
    tsc_csess_free(s);
    tsc_keys_free(k);
    unload(&sc);
}
END_TEST

START_TEST(test_unsupported_suite_and_resumed)
{
    struct script sc;
    load(&sc, "tls12-rsa-aes128-gcm-sha256");
    struct tsc_keys *k = keys();
    struct opts o = k_default;
    o.force_suite = 0xC07A; /* Camellia-GCM: no libcrypto implementation */
    struct tsc_crypto_sess *s = replay(&sc, k, &o);
    const struct tsc_crypto_facts *f = tsc_csess_facts(s);
    ck_assert(!f->decrypted);
    ck_assert_int_eq(f->undecrypted_reason, TSC_UNDEC_UNSUPPORTED_SUITE);
    ck_assert_uint_eq(f->bad_records, 0);
    tsc_csess_free(s);
    tsc_keys_free(k);
    /* An unparseable suite (export RC4-40). */
    k = keys();
    o.force_suite = 0x0003;
    s = replay(&sc, k, &o);
    ck_assert_int_eq(tsc_csess_facts(s)->undecrypted_reason, TSC_UNDEC_UNSUPPORTED_SUITE);
    tsc_csess_free(s);
    tsc_keys_free(k);
    /* ServerHello then CCS without a key exchange and no key log: resumed. */
    k = keys();
    o = k_default;
    o.keylog = false;
    o.no_cke = true;
    load_server_key(k);
    s = replay(&sc, k, &o);
    f = tsc_csess_facts(s);
    ck_assert_int_eq(f->undecrypted_reason, TSC_UNDEC_RESUMED_PARENT_MISSING);
    ck_assert(!f->decrypted);
    tsc_csess_free(s);
    tsc_keys_free(k);
    /* TLS 1.3 with only RSA keys: no key material for 1.3. */
    unload(&sc);
    load(&sc, "tls13-aes128-gcm-sha256");
    k = keys();
    load_server_key(k);
    o = k_default;
    o.keylog = false;
    s = replay(&sc, k, &o);
    ck_assert_int_eq(tsc_csess_facts(s)->undecrypted_reason, TSC_UNDEC_NO_KEY_MATERIAL);
    tsc_csess_free(s);
    tsc_keys_free(k);
    unload(&sc);
}
END_TEST

static Suite *session_suite(void)
{
    Suite *s = suite_create("crypto_session");
    TCase *tc = tcase_create("valid");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_keylog_captures, 0,
                        (int)(sizeof(k_keylog_caps) / sizeof(k_keylog_caps[0])));
    tcase_add_loop_test(tc, test_rsa_captures, 0,
                        (int)(sizeof(k_rsa_caps) / sizeof(k_rsa_caps[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_wrong_rsa_key);
    tcase_add_loop_test(tc, test_flipped_byte, 0, 2);
    tcase_add_test(tc, test_unsupported_suite_and_resumed);
    tcase_add_loop_test(tc, test_early_data_accepted, 0, 2);
    tcase_add_test(tc, test_early_data_rejected);
    tcase_add_test(tc, test_early_data_unanswered);
    tcase_add_loop_test(tc, test_sslv2_hello, 0, 4);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_loop_test(tc, test_truncated_keylog, 0, 6);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(session_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
