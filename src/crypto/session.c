/*
 * Per-connection decryption session (session.h): transcript, key sources,
 * key schedules per epoch, record decryption and Finished verification.
 *
 * TLS <= 1.2: the master secret comes from (in order) the key log's
 * CLIENT_RANDOM, PMS_CLIENT_RANDOM, the RSA label, a loaded RSA key, a PSK.
 * Keys for both directions are derived as soon as the master secret is known
 * and become active per direction at that direction's ChangeCipherSpec.
 * TLS 1.3: traffic secrets come from the key log; the handshake epoch starts
 * after ServerHello, the application epoch after each side's Finished, early
 * data uses the client early traffic secret.
 */
#include "crypto/session.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/kdf.h"
#include "crypto/record.h"
#include "crypto/suites.h"
#include "crypto/trial.h"
#include "util/cursor.h"

#define TSC_TX_PENDING_MAX (256u * 1024u) /* buffered hellos before the hash is known */
#define TSC_CERT_MAX (64u * 1024u)
#define TSC_CKE_MAX (16u * 1024u)
#define TSC_RSA_CANDIDATES 8u
#define TSC_EARLY_HOLD_MAX (1024u * 1024u) /* 0-RTT plaintext held until acceptance is known */
#define TSC_MD_SPARE 6u /* two transcript, two app_data, one scratch digest and a spare */

/* Handshake types used here (RFC 8446 4, RFC 5246 7.4). */
enum {
    TSC_HT_CLIENT_HELLO = 1,
    TSC_HT_SERVER_HELLO = 2,
    TSC_HT_END_OF_EARLY_DATA = 5,
    TSC_HT_CLIENT_KEY_EXCHANGE = 16,
    TSC_HT_FINISHED = 20,
    TSC_HT_KEY_UPDATE = 24,
};

/* Midstream trial, per direction. */
enum tsc_trial_dir {
    TSC_TR_NONE = 0, /* no protected record yet */
    TSC_TR_SCANNED,  /* candidates tried, none verified */
    TSC_TR_SYNCED,   /* decrypting */
    TSC_TR_LOST,     /* paired secret missing, or no sequence number verified */
};
/* Records of the paired direction tried with its secret before giving up (as after a gap). */
#define TSC_TRIAL_PAIRED_RECORDS 8u
/* Records of a direction scanned with every candidate: the first after a cut may be a
 * handshake-epoch record (a Finished), the next ones application data. */
#define TSC_TRIAL_SCAN_RECORDS 4u

struct tsc_trial_st {
    bool mode; /* protected records came and no hello was seen */
    bool matched;
    bool match_taken; /* the dissector heard of the match */
    bool tls12;       /* TLS <= 1.2 evidence: no TLS 1.3 trial possible */
    bool cap_hit;
    bool swapped;
    bool scanned;
    bool accounted;
    uint8_t dstate[2];
    uint32_t paired_fails[2];
    uint32_t scans[2];      /* dir's records scanned with every candidate */
    uint64_t next[2][2];    /* [dir][0 own label, 1 other]: next candidate position */
    uint32_t tried;
    uint64_t records;        /* protected records seen while undecided */
    bool all_block_multiple; /* ... every one a multiple of 16 bytes (CBC) */
    bool have_head[2];
    uint64_t head[2]; /* first 8 bytes of dir's last protected record */
    uint64_t cost[TSC_TRIAL_COST__COUNT];
};

enum tsc_epoch13 {
    TSC_EP_NONE = 0,
    TSC_EP_EARLY,
    TSC_EP_HANDSHAKE,
    TSC_EP_APP,
};

struct tsc_crypto_sess {
    const struct tsc_keys *keys;
    EVP_MAC_CTX *mc; /* HMAC for every KDF call of this session */
    struct tsc_crypto_facts f;
    bool finished_called;

    /* hello parameters */
    bool have_cr;
    uint8_t cr[32];
    uint8_t sr[32];
    bool offers_early;
    uint8_t psk_id[128];
    size_t psk_id_len;
    bool sh_seen; /* a real (non-HRR) ServerHello */
    bool hrr;
    uint16_t version;
    uint16_t suite_id;
    const struct tsc_suite *suite;
    bool tls13;
    bool ems;
    bool etm;
    bool deflate;

    /* server certificate and ClientKeyExchange */
    uint8_t *cert;
    size_t cert_len;
    struct tsc_buf cke;
    bool cke_seen;

    /* transcript */
    struct tsc_buf tx_pending;
    bool tx_started;
    bool tx_broken;    /* pending buffer overflowed: Finished cannot be checked */
    bool tx_closed;    /* TLS 1.3 after the handshake */
    EVP_MD_CTX *tx[2]; /* [0] suite hash or MD5, [1] SHA-1 for SSLv3/TLS 1.0/1.1 */
    uint8_t session_hash[64];
    size_t session_hash_len;
    bool fin_seen[2];

    /* TLS <= 1.2 */
    bool have_ms;
    uint8_t ms[48];
    bool pend_ok;
    struct tsc_rec_keys pend[2];
    bool ccs_seen[2];
    bool active[2];
    uint8_t cand_ms[TSC_RSA_CANDIDATES][48];
    uint32_t n_cand;
    uint32_t cur_cand;
    bool cand_confirmed;
    bool resume_parent; /* an earlier connection issued the session offered */
    bool resume_have_ms;
    uint8_t resume_ms[48];

    /* TLS 1.3 */
    size_t slen;
    bool have_hs;
    bool have_app;
    bool have_early;
    uint8_t hs_secret[2][TSC_MAX_SECRET];
    uint8_t app_secret[2][TSC_MAX_SECRET];
    uint8_t early_secret[TSC_MAX_SECRET];
    size_t early_slen;
    enum tsc_epoch13 epoch[2];
    bool early_accepted;
    bool early_rejected;
    /* 0-RTT records held until early_accepted / early_rejected (tsc_csess_app_record),
     * each as a struct tsc_early_hdr then its plaintext */
    struct tsc_buf early_hold;
    uint64_t early_held_bytes;
    bool client_hs_ready; /* client handshake keys loaded in hs_rec */
    const struct tsc_suite *early_suite;
    struct tsc_rec early_rec;
    struct tsc_rec hs_rec;    /* client handshake keys while early data may still come */
    struct tsc_rec trial_rec; /* application keys tried when a handshake-epoch record fails */
    bool last_early[2];

    struct tsc_rec rec[2];
    EVP_MD_CTX *app_md[2];

    struct tsc_trial_st tr;

    /* reused storage (see tsc_csess_free) */
    EVP_MD_CTX *md_spare[TSC_MD_SPARE];
    unsigned n_md_spare;
};

/* ---- names ---- */

static const char *const tsc_undec_names[TSC_UNDEC__COUNT] = {
#define TSC_UNDEC_NAME(e, s) [e] = s,
    TSC_UNDECRYPTED_LIST(TSC_UNDEC_NAME)
#undef TSC_UNDEC_NAME
};

const char *tsc_undecrypted_name(enum tsc_undecrypted u)
{
    if ((unsigned)u >= TSC_UNDEC__COUNT) {
        return NULL;
    }
    return tsc_undec_names[u];
}

/* A key log entry's origin: a key log file/line, or the capture's own
 * Decryption Secrets Block. */
static enum tsc_key_source tsc_keylog_source(const struct tsc_keys *k,
                                             enum tsc_keylog_label label, const uint8_t *key,
                                             size_t keylen)
{
    return tsc_keys_keylog_from_dsb(k, label, key, keylen) ? TSC_KEYSRC_DSB : TSC_KEYSRC_KEYLOG;
}

const char *tsc_key_source_name(enum tsc_key_source s)
{
    switch (s) {
    case TSC_KEYSRC_RSA:
        return "rsa";
    case TSC_KEYSRC_KEYLOG:
        return "keylog";
    case TSC_KEYSRC_PSK:
        return "psk";
    case TSC_KEYSRC_DSB:
        return "dsb";
    case TSC_KEYSRC_SESSION_CACHE:
        return "session-cache";
    default:
        return NULL;
    }
}

const char *tsc_finished_state_name(enum tsc_finished_state s)
{
    switch (s) {
    case TSC_FIN_VERIFIED:
        return "verified";
    case TSC_FIN_MISMATCH:
        return "mismatch";
    default:
        return "unverified";
    }
}

/* ---- life cycle ---- */

size_t tsc_csess_bytes(void)
{
    return sizeof(struct tsc_crypto_sess);
}

/*
 * Recycling. A connection's session costs a dozen libcrypto contexts (HMAC,
 * ciphers, digests) and a plaintext buffer; creating and freeing them per
 * connection was a fifth of the key-log handshake profile. Freed sessions go
 * to a small per-thread pool with their contexts and buffers kept (secrets and
 * state wiped), and the next connection takes one from there.
 */
#define TSC_CSESS_POOL 1024u /* ~10 KB each: captures open connections in waves */

static _Thread_local struct tsc_crypto_sess *tsc_pool[TSC_CSESS_POOL];
static _Thread_local unsigned tsc_pool_n;
/* One record is decrypted at a time per thread: its plaintext buffer is shared. */
static _Thread_local struct tsc_buf tsc_plain_buf;

/* What survives recycling. */
struct tsc_csess_kept {
    EVP_MAC_CTX *mc;
    EVP_MD_CTX *md_spare[TSC_MD_SPARE];
    unsigned n_md_spare;
    struct tsc_rec recs[5];
    struct tsc_buf bufs[3];
    uint8_t *cert;
};

static struct tsc_rec *tsc_sess_rec(struct tsc_crypto_sess *s, int i)
{
    struct tsc_rec *all[5] = {&s->rec[0], &s->rec[1], &s->early_rec, &s->hs_rec, &s->trial_rec};
    return all[i];
}

static struct tsc_buf *tsc_sess_buf(struct tsc_crypto_sess *s, int i)
{
    struct tsc_buf *all[3] = {&s->cke, &s->tx_pending, &s->early_hold};
    return all[i];
}

/* A digest context from the session's spares (DigestInit follows), or a new one. */
static EVP_MD_CTX *tsc_md_get(struct tsc_crypto_sess *s)
{
    if (s->n_md_spare > 0) {
        return s->md_spare[--s->n_md_spare];
    }
    return EVP_MD_CTX_new();
}

static void tsc_md_put(struct tsc_crypto_sess *s, EVP_MD_CTX *c)
{
    if (c == NULL) {
        return;
    }
    if (s->n_md_spare < TSC_MD_SPARE) {
        s->md_spare[s->n_md_spare++] = c;
        return;
    }
    EVP_MD_CTX_free(c);
}

static void tsc_csess_take(struct tsc_crypto_sess *s, struct tsc_csess_kept *k)
{
    /* Active digests become spares first. */
    for (int i = 0; i < 2; i++) {
        tsc_md_put(s, s->tx[i]);
        s->tx[i] = NULL;
        tsc_md_put(s, s->app_md[i]);
        s->app_md[i] = NULL;
    }
    k->mc = s->mc;
    s->mc = NULL;
    memcpy(k->md_spare, s->md_spare, sizeof(k->md_spare));
    k->n_md_spare = s->n_md_spare;
    s->n_md_spare = 0;
    for (int i = 0; i < 5; i++) {
        struct tsc_rec *r = tsc_sess_rec(s, i);
        tsc_rec_recycle(r);
        k->recs[i] = *r;
        tsc_rec_init(r);
    }
    tsc_buf_shrink(&s->early_hold, 0); /* rarely used, up to 1 MiB: not kept */
    for (int i = 0; i < 3; i++) {
        /* Wire bytes and plaintext, not secrets: kept as they are (tsc_buf_free does not wipe). */
        struct tsc_buf *b = tsc_sess_buf(s, i);
        k->bufs[i] = *b;
        k->bufs[i].len = 0;
        tsc_buf_init(b, b->limit);
    }
    if (s->cert != NULL) {
        OPENSSL_cleanse(s->cert, s->cert_len);
    }
    k->cert = s->cert;
    s->cert = NULL;
}

static void tsc_csess_give(struct tsc_crypto_sess *s, const struct tsc_csess_kept *k)
{
    s->mc = k->mc;
    memcpy(s->md_spare, k->md_spare, sizeof(s->md_spare));
    s->n_md_spare = k->n_md_spare;
    for (int i = 0; i < 5; i++) {
        *tsc_sess_rec(s, i) = k->recs[i];
    }
    for (int i = 0; i < 3; i++) {
        *tsc_sess_buf(s, i) = k->bufs[i];
    }
    s->cert = k->cert;
}

enum tsc_err tsc_csess_new(struct tsc_crypto_sess **out, const struct tsc_keys *keys)
{
    TSC_ENSURE(out != NULL, TSC_ERR_ARG);
    *out = NULL;
    struct tsc_crypto_sess *s = NULL;
    if (tsc_pool_n > 0) {
        s = tsc_pool[--tsc_pool_n];
        tsc_pool[tsc_pool_n] = NULL;
    } else {
        s = calloc(1, sizeof(*s));
        TSC_ENSURE(s != NULL, TSC_ERR_NOMEM);
        tsc_buf_init(&s->cke, TSC_CKE_MAX);
        tsc_buf_init(&s->tx_pending, TSC_TX_PENDING_MAX);
        tsc_buf_init(&s->early_hold, TSC_EARLY_HOLD_MAX);
        for (int d = 0; d < 2; d++) {
            tsc_rec_init(&s->rec[d]);
        }
        tsc_rec_init(&s->early_rec);
        tsc_rec_init(&s->hs_rec);
        tsc_rec_init(&s->trial_rec);
    }
    s->keys = keys;
    if (keys != NULL && s->mc == NULL) {
        s->mc = tsc_hmac_ctx_new();
        if (s->mc == NULL) {
            tsc_csess_free(s);
            return TSC_ERR_NOMEM;
        }
    }
    *out = s;
    return TSC_OK;
}

static void tsc_tx_free(struct tsc_crypto_sess *s)
{
    for (int i = 0; i < 2; i++) {
        tsc_md_put(s, s->tx[i]);
        s->tx[i] = NULL;
    }
}

/* Frees everything the session holds (kept parts were detached before, if any). */
static void tsc_csess_release(struct tsc_crypto_sess *s)
{
    EVP_MAC_CTX_free(s->mc);
    s->mc = NULL;
    tsc_tx_free(s);
    for (int d = 0; d < 2; d++) {
        tsc_rec_free(&s->rec[d]);
        EVP_MD_CTX_free(s->app_md[d]);
        s->app_md[d] = NULL;
    }
    for (unsigned i = 0; i < s->n_md_spare; i++) {
        EVP_MD_CTX_free(s->md_spare[i]);
    }
    s->n_md_spare = 0;
    tsc_rec_free(&s->early_rec);
    tsc_rec_free(&s->hs_rec);
    tsc_rec_free(&s->trial_rec);
    free(s->cert);
    s->cert = NULL;
    tsc_buf_free(&s->cke);
    tsc_buf_free(&s->tx_pending);
    tsc_buf_free(&s->early_hold);
    OPENSSL_cleanse(s, sizeof(*s));
}

void tsc_csess_free(struct tsc_crypto_sess *s)
{
    if (s == NULL) {
        return;
    }
    if (tsc_pool_n >= TSC_CSESS_POOL) {
        tsc_csess_release(s);
        free(s);
        return;
    }
    struct tsc_csess_kept k;
    tsc_csess_take(s, &k);
    tsc_csess_release(s); /* whatever is not kept; wipes the state */
    tsc_csess_give(s, &k);
    OPENSSL_cleanse(&k, sizeof(k));
    tsc_pool[tsc_pool_n++] = s;
}

void tsc_csess_pool_drain(void)
{
    while (tsc_pool_n > 0) {
        struct tsc_crypto_sess *s = tsc_pool[--tsc_pool_n];
        tsc_pool[tsc_pool_n] = NULL;
        tsc_csess_release(s);
        free(s);
    }
    tsc_buf_free(&tsc_plain_buf);
    tsc_trial_thread_drain();
}

struct tsc_buf *tsc_csess_plain(struct tsc_crypto_sess *s, size_t limit)
{
    (void)s;
    tsc_plain_buf.limit = limit;
    return &tsc_plain_buf;
}

const struct tsc_crypto_facts *tsc_csess_facts(const struct tsc_crypto_sess *s)
{
    return &s->f;
}

static void tsc_set_reason(struct tsc_crypto_sess *s, enum tsc_undecrypted u)
{
    if (s->f.undecrypted_reason == TSC_UNDEC_NONE) {
        s->f.undecrypted_reason = u;
    }
}

/* ---- transcript ---- */

static enum tsc_prf_kind tsc_prf_kind_of(uint16_t version)
{
    if (version == 0x0300) {
        return TSC_PRF_SSL3;
    }
    if (version == 0x0301 || version == 0x0302) {
        return TSC_PRF_TLS10;
    }
    return TSC_PRF_TLS12;
}

static enum tsc_md tsc_suite_hash(const struct tsc_crypto_sess *s)
{
    return s->suite != NULL ? s->suite->hash : TSC_MD_SHA256;
}

static void tsc_tx_update(struct tsc_crypto_sess *s, const uint8_t *p, size_t n)
{
    for (int i = 0; i < 2; i++) {
        if (s->tx[i] != NULL && EVP_DigestUpdate(s->tx[i], p, n) != 1) {
            s->tx_broken = true;
        }
    }
}

/* Starts hashing once the version and suite are known (at ServerHello). */
static void tsc_tx_start(struct tsc_crypto_sess *s)
{
    if (s->tx_started) {
        return;
    }
    tsc_tx_free(s);
    s->tx_started = true;
    bool old = !s->tls13 && s->version <= 0x0302;
    enum tsc_md mds[2] = {old ? TSC_MD_MD5 : tsc_suite_hash(s), old ? TSC_MD_SHA1 : TSC_MD_NONE};
    for (int i = 0; i < 2; i++) {
        if (mds[i] == TSC_MD_NONE) {
            continue;
        }
        const EVP_MD *md = tsc_alg_md(mds[i]);
        s->tx[i] = tsc_md_get(s);
        if (md == NULL || s->tx[i] == NULL || EVP_DigestInit_ex(s->tx[i], md, NULL) != 1) {
            s->tx_broken = true;
        }
    }
    tsc_tx_update(s, s->tx_pending.p, s->tx_pending.len);
    tsc_buf_reset(&s->tx_pending);
}

static void tsc_tx_add(struct tsc_crypto_sess *s, const uint8_t *msg, size_t len)
{
    if (!s->tx_started) {
        if (tsc_buf_append(&s->tx_pending, msg, len) != TSC_OK) {
            s->tx_broken = true;
        }
        return;
    }
    tsc_tx_update(s, msg, len);
}

/* Current transcript hash (the concatenation MD5 || SHA-1 for old versions). */
static bool tsc_tx_digest(struct tsc_crypto_sess *s, uint8_t *out, size_t *len)
{
    size_t n = 0;
    if (!s->tx_started || s->tx_broken) {
        return false;
    }
    EVP_MD_CTX *c = tsc_md_get(s);
    if (c == NULL) {
        return false;
    }
    bool ok = true;
    for (int i = 0; i < 2 && ok; i++) {
        unsigned dl = 0;
        if (s->tx[i] == NULL) {
            continue;
        }
        ok = EVP_MD_CTX_copy_ex(c, s->tx[i]) == 1 && EVP_DigestFinal_ex(c, out + n, &dl) == 1;
        n += dl;
    }
    tsc_md_put(s, c);
    *len = n;
    return ok && n > 0;
}

bool tsc_csess_transcript_hash(struct tsc_crypto_sess *s, uint8_t *out, size_t cap,
                               size_t *len, const char **md_name)
{
    uint8_t h[2 * EVP_MAX_MD_SIZE];
    size_t n = 0;
    if (s == NULL || !tsc_tx_digest(s, h, &n) || n > cap) {
        return false;
    }
    bool old = !s->tls13 && s->version <= 0x0302;
    static const char *const names[TSC_MD__COUNT] = {
        [TSC_MD_MD5] = "MD5", [TSC_MD_SHA1] = "SHA1", [TSC_MD_SHA256] = "SHA256",
        [TSC_MD_SHA384] = "SHA384"};
    *md_name = old ? "MD5-SHA1" : names[tsc_suite_hash(s)];
    memcpy(out, h, n);
    *len = n;
    return true;
}

/*
 * RFC 8446 4.4.1: after a HelloRetryRequest the transcript starts with
 *   message_hash (254) || 00 00 Hash.length || Hash(ClientHello1)
 * in place of ClientHello1.
 */
static void tsc_tx_hrr(struct tsc_crypto_sess *s)
{
    uint8_t h[EVP_MAX_MD_SIZE + 4];
    size_t hl = 0;
    if (!tsc_tx_digest(s, h + 4, &hl)) {
        s->tx_broken = true;
        return;
    }
    h[0] = 254;
    h[1] = 0;
    h[2] = 0;
    h[3] = (uint8_t)hl;
    if (EVP_DigestInit_ex(s->tx[0], NULL, NULL) != 1) {
        s->tx_broken = true;
        return;
    }
    tsc_tx_update(s, h, hl + 4);
}

/* ---- hello inputs ---- */

void tsc_csess_client_hello(struct tsc_crypto_sess *s, const uint8_t random[32],
                            bool offers_early_data, const uint8_t *psk_identity, size_t psk_id_len)
{
    if (s == NULL || random == NULL) {
        return;
    }
    if (s->sh_seen && !s->tls13 && s->fin_seen[0] && s->fin_seen[1]) {
        /* TLS <= 1.2 renegotiation: a new handshake, new transcript and master secret. */
        s->tx_started = false;
        s->tx_broken = false;
        tsc_tx_free(s);
        tsc_buf_reset(&s->tx_pending);
        s->have_ms = false;
        s->pend_ok = false;
        s->cke_seen = false;
        s->fin_seen[0] = s->fin_seen[1] = false;
        s->n_cand = 0;
        s->cur_cand = 0;
        s->cand_confirmed = false;
        s->resume_parent = false;
        s->resume_have_ms = false;
    }
    memcpy(s->cr, random, 32);
    s->have_cr = true;
    if (!s->hrr) {
        /* RFC 8446 4.2.10: no early data after a HelloRetryRequest. */
        s->offers_early = offers_early_data;
    } else {
        s->offers_early = false;
    }
    s->psk_id_len = 0;
    if (psk_identity != NULL && psk_id_len <= sizeof(s->psk_id)) {
        memcpy(s->psk_id, psk_identity, psk_id_len);
        s->psk_id_len = psk_id_len;
    }
}

void tsc_csess_client_hello_v2(struct tsc_crypto_sess *s, const uint8_t *challenge, size_t clen,
                               const uint8_t *msg, size_t len)
{
    /* RFC 6101 E.1 / RFC 5246 E.2: challenge_length is 16..32. */
    if (s == NULL || challenge == NULL || msg == NULL || clen < 16 || clen > 32) {
        return;
    }
    /* RFC 5246 E.2: the challenge is the client random, right-aligned, zero-padded. */
    uint8_t random[32] = {0};
    memcpy(random + (32 - clen), challenge, clen);
    tsc_csess_client_hello(s, random, false, NULL, 0);
    /* The transcript holds the CLIENT-HELLO message as sent, without its 2-byte record
     * header (RFC 5246 E.2: it is what the Finished hashes cover). */
    tsc_tx_add(s, msg, len);
}

static void tsc_csess_early_lookup(struct tsc_crypto_sess *s)
{
    if (s->have_early || s->keys == NULL || !s->have_cr) {
        return;
    }
    size_t n = 0;
    if (tsc_keys_keylog_find(s->keys, TSC_KL_CLIENT_EARLY_TRAFFIC_SECRET, s->cr, 32,
                             s->early_secret, &n)) {
        s->early_slen = n;
        s->have_early = true;
    }
}

/* Sets up a record state for a TLS 1.3 traffic secret. */
static enum tsc_err tsc_setup13(struct tsc_crypto_sess *s, struct tsc_rec *r,
                                const struct tsc_suite *suite, const uint8_t *secret, size_t slen)
{
    struct tsc_rec_keys k;
    memset(&k, 0, sizeof(k));
    enum tsc_err e =
        tsc_tls13_traffic_keys(s->mc, suite->hash, secret, slen, k.key, suite->key_len, k.iv);
    if (e == TSC_OK) {
        e = tsc_rec_setup(r, suite, 0x0304, false, false, &k);
    }
    OPENSSL_cleanse(&k, sizeof(k));
    return e;
}

static void tsc_sh13(struct tsc_crypto_sess *s)
{
    size_t n = 0;
    if (s->keys == NULL) {
        return;
    }
    const struct tsc_suite *st = s->suite;
    if (st == NULL || !st->tls13) {
        tsc_set_reason(s, TSC_UNDEC_UNSUPPORTED_SUITE);
        return;
    }
    size_t hl = tsc_md_len(st->hash);
    bool hs = tsc_keys_keylog_find(s->keys, TSC_KL_CLIENT_HANDSHAKE_TRAFFIC_SECRET, s->cr, 32,
                                   s->hs_secret[0], &n) &&
              n == hl &&
              tsc_keys_keylog_find(s->keys, TSC_KL_SERVER_HANDSHAKE_TRAFFIC_SECRET, s->cr, 32,
                                   s->hs_secret[1], &n) &&
              n == hl;
    bool app = tsc_keys_keylog_find(s->keys, TSC_KL_CLIENT_TRAFFIC_SECRET_0, s->cr, 32,
                                    s->app_secret[0], &n) &&
               n == hl &&
               tsc_keys_keylog_find(s->keys, TSC_KL_SERVER_TRAFFIC_SECRET_0, s->cr, 32,
                                    s->app_secret[1], &n) &&
               n == hl;
    s->slen = hl;
    s->have_hs = hs;
    s->have_app = app;
    if (!hs && !app) {
        tsc_set_reason(s, TSC_UNDEC_NO_KEY_MATERIAL);
        return;
    }
    s->f.key_source = tsc_keylog_source(s->keys, hs ? TSC_KL_SERVER_HANDSHAKE_TRAFFIC_SECRET
                                                    : TSC_KL_SERVER_TRAFFIC_SECRET_0,
                                        s->cr, 32);
    if (app) {
        s->f.keys_known = true;
        tsc_keys_keylog_bind(s->keys, s->cr); /* midstream trials skip these secrets */
    }
    if (hs) {
        enum tsc_err e = tsc_setup13(s, &s->rec[1], st, s->hs_secret[1], hl);
        if (e == TSC_OK) {
            e = tsc_setup13(s, &s->hs_rec, st, s->hs_secret[0], hl);
        }
        if (e == TSC_ERR_UNSUPPORTED) {
            tsc_set_reason(s, TSC_UNDEC_UNSUPPORTED_SUITE);
            s->f.keys_known = false;
            return;
        }
        if (e != TSC_OK) {
            return;
        }
        s->epoch[1] = TSC_EP_HANDSHAKE;
        s->client_hs_ready = true;
        if (!s->offers_early) {
            /* No early data: the client's next protected record uses handshake keys. */
            struct tsc_rec tmp = s->rec[0];
            s->rec[0] = s->hs_rec;
            s->hs_rec = tmp;
            s->epoch[0] = TSC_EP_HANDSHAKE;
            s->client_hs_ready = false;
        }
    } else {
        /* Handshake not decryptable but application keys known: switch at the
         * first record that fails as an encrypted handshake record would. */
        enum tsc_err e = tsc_setup13(s, &s->rec[1], st, s->app_secret[1], hl);
        if (e == TSC_OK) {
            e = tsc_setup13(s, &s->rec[0], st, s->app_secret[0], hl);
        }
        if (e == TSC_ERR_UNSUPPORTED) {
            tsc_set_reason(s, TSC_UNDEC_UNSUPPORTED_SUITE);
            s->f.keys_known = false;
            return;
        }
        s->epoch[0] = s->epoch[1] = TSC_EP_APP;
    }
}

void tsc_csess_server_hello(struct tsc_crypto_sess *s, uint16_t version, uint16_t cipher_suite,
                            const uint8_t random[32], uint8_t compression, bool ems, bool etm,
                            bool hrr, bool psk_selected)
{
    (void)psk_selected;
    if (s == NULL || random == NULL) {
        return;
    }
    s->version = version;
    s->suite_id = cipher_suite;
    s->suite = tsc_suite_find(cipher_suite);
    s->tls13 = version == 0x0304 || (version >> 8) == 0x7f || (s->suite != NULL && s->suite->tls13);
    if (hrr) {
        s->hrr = true;
        s->tls13 = true;
        s->offers_early = false;
        /* RFC 8446 4.2.10: a server that sends HelloRetryRequest rejects early data. */
        tsc_csess_early_data_rejected(s);
        tsc_tx_start(s);
        tsc_tx_hrr(s);
        return;
    }
    memcpy(s->sr, random, 32);
    s->sh_seen = true;
    s->ems = ems;
    s->etm = etm;
    s->deflate = false;
    tsc_tx_start(s);
    if (s->tls13) {
        tsc_sh13(s);
        return;
    }
    tsc_csess_early_data_rejected(s); /* 0-RTT does not exist below TLS 1.3 */
    if (compression == 1) {
        s->deflate = true; /* RFC 3749 */
    } else if (compression != 0) {
        tsc_set_reason(s, TSC_UNDEC_COMPRESSION);
    }
    if (s->suite == NULL) {
        tsc_set_reason(s, TSC_UNDEC_UNSUPPORTED_SUITE);
    }
}

static bool tsc_app_hash(struct tsc_crypto_sess *s, int dir, const uint8_t *p, size_t len);

/* Where a held 0-RTT record was, ahead of its bytes in early_hold. */
struct tsc_early_hdr {
    uint64_t pkt;
    struct tsc_ts ts;
    uint32_t len;
};

/* The held record at byte offset *off of early_hold (advances *off); false at the end. */
static bool tsc_early_next(const struct tsc_crypto_sess *s, size_t *off, struct tsc_early_hdr *h,
                           const uint8_t **p)
{
    if (*off + sizeof(*h) > s->early_hold.len) {
        return false;
    }
    memcpy(h, s->early_hold.p + *off, sizeof(*h));
    *p = s->early_hold.p + *off + sizeof(*h);
    *off += sizeof(*h) + h->len;
    return true;
}

void tsc_csess_early_data_accepted(struct tsc_crypto_sess *s)
{
    if (s == NULL || s->early_accepted || s->early_rejected) {
        return;
    }
    s->early_accepted = true;
    /* The held 0-RTT comes first in the client's stream (RFC 8446 2.3). */
    size_t off = 0;
    struct tsc_early_hdr h;
    const uint8_t *p = NULL;
    /* Each step moves past one held record: bounded by early_hold.len. */
    while (tsc_early_next(s, &off, &h, &p)) {
        if (tsc_app_hash(s, 0, p, h.len)) {
            s->f.early_data_bytes += h.len;
        }
    }
}

void tsc_csess_early_data_rejected(struct tsc_crypto_sess *s)
{
    if (s == NULL || s->early_accepted || s->early_rejected) {
        return;
    }
    s->early_rejected = true;
    s->f.early_data_rejected_bytes += s->early_held_bytes;
    tsc_csess_early_release_done(s);
}

bool tsc_csess_early_released(const struct tsc_crypto_sess *s, size_t i, const uint8_t **p,
                              size_t *len, uint64_t *pkt, struct tsc_ts *ts)
{
    if (s == NULL || !s->early_accepted) {
        return false;
    }
    size_t off = 0;
    struct tsc_early_hdr h;
    /* i + 1 steps at most, each past one held record. */
    for (size_t k = 0; tsc_early_next(s, &off, &h, p); k++) {
        if (k == i) {
            *len = h.len;
            *pkt = h.pkt;
            *ts = h.ts;
            return true;
        }
    }
    return false;
}

void tsc_csess_early_release_done(struct tsc_crypto_sess *s)
{
    if (s == NULL) {
        return;
    }
    if (s->early_hold.p != NULL) {
        OPENSSL_cleanse(s->early_hold.p, s->early_hold.len);
    }
    tsc_buf_reset(&s->early_hold);
    s->early_held_bytes = 0;
}

void tsc_csess_server_certificate(struct tsc_crypto_sess *s, const uint8_t *der, size_t len)
{
    if (s == NULL || der == NULL || len == 0 || len > TSC_CERT_MAX) {
        return;
    }
    uint8_t *c = realloc(s->cert, len);
    if (c == NULL) {
        return;
    }
    memcpy(c, der, len);
    s->cert = c;
    s->cert_len = len;
}

void tsc_csess_client_key_exchange(struct tsc_crypto_sess *s, const uint8_t *body, size_t len)
{
    if (s == NULL || (body == NULL && len > 0)) {
        return;
    }
    tsc_buf_reset(&s->cke);
    if (tsc_buf_append(&s->cke, body, len) == TSC_OK) {
        s->cke_seen = true;
    }
}

/* ---- TLS <= 1.2 key schedule ---- */

/* RFC 5246 6.3: client MAC, server MAC, client key, server key, client IV, server IV. */
static enum tsc_err tsc_derive12(struct tsc_crypto_sess *s, const uint8_t ms[48])
{
    const struct tsc_suite *st = s->suite;
    uint8_t kb[TSC_PRF_MAX_OUT];
    TSC_ENSURE(st != NULL && !st->tls13, TSC_ERR_UNSUPPORTED);
    size_t ml = st->mac_len;
    size_t kl = st->key_len;
    size_t il = st->fixed_iv_len;
    size_t n = 2 * (ml + kl + il);
    enum tsc_prf_kind kind = tsc_prf_kind_of(s->version);
    TSC_ENSURE(n <= sizeof(kb), TSC_ERR_ARG);
    enum tsc_err e = tsc_key_block(s->mc, kind, st->hash, ms, s->cr, s->sr, kb, n);
    if (e == TSC_OK) {
        memset(s->pend, 0, sizeof(s->pend));
        size_t o = 0;
        memcpy(s->pend[0].mac_key, kb + o, ml);
        o += ml;
        memcpy(s->pend[1].mac_key, kb + o, ml);
        o += ml;
        memcpy(s->pend[0].key, kb + o, kl);
        o += kl;
        memcpy(s->pend[1].key, kb + o, kl);
        o += kl;
        memcpy(s->pend[0].iv, kb + o, il);
        o += il;
        memcpy(s->pend[1].iv, kb + o, il);
        s->pend_ok = true;
        memcpy(s->ms, ms, 48);
        s->have_ms = true;
        s->f.have_master_secret = true;
        memcpy(s->f.master_secret, ms, 48);
        s->f.keys_known = true;
    }
    OPENSSL_cleanse(kb, sizeof(kb));
    return e;
}

static enum tsc_err tsc_ms_from_pms(struct tsc_crypto_sess *s, const uint8_t *pms, size_t pl,
                                    uint8_t ms[48])
{
    enum tsc_prf_kind kind = tsc_prf_kind_of(s->version);
    if (s->ems && kind != TSC_PRF_SSL3) {
        TSC_ENSURE(s->session_hash_len > 0, TSC_ERR_STATE);
        return tsc_master_secret_ems(s->mc, kind, s->suite->hash, pms, pl, s->session_hash,
                                     s->session_hash_len, ms);
    }
    return tsc_master_secret(s->mc, kind, s->suite->hash, pms, pl, s->cr, s->sr, ms);
}

/* RFC 5246 7.4.7.1: opaque EncryptedPreMasterSecret<0..2^16-1> (no length in SSLv3). */
static bool tsc_cke_rsa(const struct tsc_crypto_sess *s, struct tsc_cur c, struct tsc_slice *enc)
{
    if (s->version == 0x0300) {
        return tsc_cur_bytes(&c, c.left, enc) == TSC_OK;
    }
    return tsc_cur_vec_slice(&c, 2, 0, 0xffff, enc) == TSC_OK && tsc_cur_end(&c) == TSC_OK;
}

/*
 * RFC 4279 2: premaster = uint16 N || N zero octets || uint16 N || psk
 * (plain PSK); RFC 4279 4 (RSA_PSK): other_secret is the 48-byte RSA premaster.
 *   struct { opaque psk_identity<0..2^16-1>; [EncryptedPreMasterSecret] } ClientKeyExchange;
 */
static size_t tsc_psk_pms(const uint8_t *other, size_t ol, const uint8_t *psk, size_t pl,
                          uint8_t *out)
{
    size_t o = 0;
    out[o++] = (uint8_t)(ol >> 8);
    out[o++] = (uint8_t)ol;
    if (other == NULL) {
        memset(out + o, 0, ol);
    } else {
        memcpy(out + o, other, ol);
    }
    o += ol;
    out[o++] = (uint8_t)(pl >> 8);
    out[o++] = (uint8_t)pl;
    memcpy(out + o, psk, pl);
    return o + pl;
}

static void tsc_master12(struct tsc_crypto_sess *s)
{
    uint8_t ms[48];
    uint8_t pms[2 * TSC_MAX_SECRET + 8];
    size_t pl = 0;
    const struct tsc_suite *st = s->suite;
    if (s->have_ms || s->keys == NULL || st == NULL || s->f.undecrypted_reason != TSC_UNDEC_NONE) {
        return;
    }
    struct tsc_cur c = tsc_cur_make(s->cke.p, s->cke.len);
    struct tsc_slice enc = {NULL, 0};
    bool rsa = st->kex == TSC_KEX_RSA && s->cke_seen && tsc_cke_rsa(s, c, &enc);
    enum tsc_key_source src = TSC_KEYSRC_NONE;
    const uint8_t *kl_pms = NULL; /* a key log premaster, any length up to TSC_MAX_PREMASTER */
    if (tsc_keys_keylog_get(s->keys, TSC_KL_PMS_CLIENT_RANDOM, s->cr, 32, &kl_pms, &pl)) {
        src = tsc_keylog_source(s->keys, TSC_KL_PMS_CLIENT_RANDOM, s->cr, 32);
    } else if (rsa && enc.len >= 8 &&
               tsc_keys_keylog_find(s->keys, TSC_KL_RSA, enc.p, 8, pms, &pl)) {
        src = tsc_keylog_source(s->keys, TSC_KL_RSA, enc.p, 8);
    } else if (rsa && tsc_keys_rsa_count(s->keys) > 0) {
        int idx = -1;
        bool matched = false;
        if (s->cert_len > 0) {
            if (tsc_keys_rsa_decrypt_pms(s->keys, s->cert, s->cert_len, enc.p, enc.len, pms, &idx,
                                         &matched)) {
                pl = 48;
                src = TSC_KEYSRC_RSA;
            } else {
                tsc_set_reason(s, matched ? TSC_UNDEC_KEY_MISMATCH : TSC_UNDEC_NO_MATCHING_KEY);
                goto out;
            }
        } else {
            /* No certificate: every key that yields a well-formed premaster is a
             * candidate; the first protected record (Finished) picks one. */
            uint32_t nk = tsc_keys_rsa_count(s->keys);
            s->n_cand = 0;
            for (uint32_t i = 0; i < nk && s->n_cand < TSC_RSA_CANDIDATES; i++) {
                uint8_t p48[48];
                if (tsc_keys_rsa_decrypt_pms_with(s->keys, i, enc.p, enc.len, p48) &&
                    tsc_ms_from_pms(s, p48, 48, s->cand_ms[s->n_cand]) == TSC_OK) {
                    s->n_cand++;
                }
                OPENSSL_cleanse(p48, sizeof(p48));
            }
            if (s->n_cand == 0) {
                tsc_set_reason(s, TSC_UNDEC_KEY_MISMATCH);
                goto out;
            }
            s->cur_cand = 0;
            s->cand_confirmed = s->n_cand == 1;
            if (tsc_derive12(s, s->cand_ms[0]) == TSC_OK) {
                s->f.key_source = TSC_KEYSRC_RSA;
            }
            goto out;
        }
    } else if (s->cke_seen && (st->kex == TSC_KEX_PSK || st->kex == TSC_KEX_RSA_PSK)) {
        struct tsc_slice id;
        uint8_t psk[TSC_MAX_SECRET];
        size_t psl = 0;
        if (tsc_cur_vec_slice(&c, 2, 0, 0xffff, &id) == TSC_OK &&
            tsc_keys_psk_find(s->keys, id.p, id.len, psk, &psl)) {
            if (st->kex == TSC_KEX_PSK) {
                pl = tsc_psk_pms(NULL, psl, psk, psl, pms);
                src = TSC_KEYSRC_PSK;
            } else {
                struct tsc_slice e2;
                uint8_t p48[48];
                bool matched = false;
                int idx = -1;
                if (tsc_cur_vec_slice(&c, 2, 0, 0xffff, &e2) == TSC_OK &&
                    tsc_keys_rsa_decrypt_pms(s->keys, s->cert, s->cert_len, e2.p, e2.len, p48, &idx,
                                             &matched)) {
                    pl = tsc_psk_pms(p48, 48, psk, psl, pms);
                    src = TSC_KEYSRC_PSK;
                }
                OPENSSL_cleanse(p48, sizeof(p48));
            }
        }
        OPENSSL_cleanse(psk, sizeof(psk));
    }
    if (src == TSC_KEYSRC_NONE) {
        goto out;
    }
    if (tsc_ms_from_pms(s, kl_pms != NULL ? kl_pms : pms, pl, ms) == TSC_OK &&
        tsc_derive12(s, ms) == TSC_OK) {
        s->f.key_source = src;
    }
out:
    OPENSSL_cleanse(ms, sizeof(ms));
    OPENSSL_cleanse(pms, sizeof(pms));
}

/* Key log CLIENT_RANDOM gives the master secret directly (any key exchange, resumption too). */
static void tsc_master12_keylog(struct tsc_crypto_sess *s)
{
    uint8_t ms[TSC_MAX_SECRET];
    size_t n = 0;
    if (s->have_ms || s->keys == NULL || s->suite == NULL || !s->have_cr ||
        s->f.undecrypted_reason != TSC_UNDEC_NONE) {
        return;
    }
    if (tsc_keys_keylog_find(s->keys, TSC_KL_CLIENT_RANDOM, s->cr, 32, ms, &n) && n == 48 &&
        tsc_derive12(s, ms) == TSC_OK) {
        s->f.key_source = tsc_keylog_source(s->keys, TSC_KL_CLIENT_RANDOM, s->cr, 32);
    }
    OPENSSL_cleanse(ms, sizeof(ms));
}

static enum tsc_err tsc_activate12(struct tsc_crypto_sess *s, int dir)
{
    enum tsc_err e =
        tsc_rec_setup(&s->rec[dir], s->suite, s->version, s->etm, s->deflate, &s->pend[dir]);
    s->active[dir] = e == TSC_OK;
    if (e == TSC_ERR_UNSUPPORTED) {
        tsc_set_reason(s, TSC_UNDEC_UNSUPPORTED_SUITE);
        s->f.keys_known = false;
    }
    return e;
}

void tsc_csess_change_cipher_spec(struct tsc_crypto_sess *s, int dir)
{
    if (s == NULL || (dir != 0 && dir != 1) || s->tls13) {
        return; /* RFC 8446 5: a TLS 1.3 ChangeCipherSpec is only for middleboxes */
    }
    s->ccs_seen[dir] = true;
    s->active[dir] = false;
    if (s->keys == NULL) {
        return;
    }
    tsc_master12_keylog(s);
    if (!s->have_ms && !s->cke_seen && s->sh_seen) {
        /* ServerHello then ChangeCipherSpec with no key exchange: an abbreviated
         * (resumed) handshake whose master secret lives in an earlier connection. */
        if (s->resume_have_ms && s->suite != NULL && s->f.undecrypted_reason == TSC_UNDEC_NONE &&
            tsc_derive12(s, s->resume_ms) == TSC_OK) {
            s->f.key_source = TSC_KEYSRC_SESSION_CACHE;
        } else {
            tsc_set_reason(s, s->resume_parent ? TSC_UNDEC_RESUMED_PARENT_UNDECRYPTED
                                               : TSC_UNDEC_RESUMED_PARENT_MISSING);
            return;
        }
    }
    if (s->pend_ok) {
        (void)tsc_activate12(s, dir);
    }
}

void tsc_csess_resume_candidate(struct tsc_crypto_sess *s, const uint8_t *ms)
{
    if (s == NULL || s->tls13) {
        return;
    }
    s->resume_parent = true;
    s->resume_have_ms = ms != NULL;
    if (ms != NULL) {
        memcpy(s->resume_ms, ms, 48);
    }
}

bool tsc_csess_protected(const struct tsc_crypto_sess *s, int dir)
{
    if (s == NULL || (dir != 0 && dir != 1)) {
        return false;
    }
    if (s->tls13) {
        if (dir == 1) {
            return s->sh_seen;
        }
        return s->sh_seen || s->offers_early;
    }
    if (!s->sh_seen && dir == 0 && s->offers_early) {
        return true; /* 0-RTT before the ServerHello tells the version */
    }
    return s->ccs_seen[dir];
}

/*
 * Keys looked up when the handshake reached them (ServerHello for TLS 1.3,
 * ClientKeyExchange / ChangeCipherSpec for TLS <= 1.2) were not in the key
 * log, and nothing else ruled decryption out: a key log still being written
 * (live capture) may bring them. dir: is the next protected record of dir
 * such a record?
 */
static void tsc_enter_app13(struct tsc_crypto_sess *s, int dir);

static bool tsc_trial_undecided(const struct tsc_crypto_sess *s, int dir);
static bool tsc_trial_untried(const struct tsc_crypto_sess *s, int dir);

bool tsc_csess_awaiting_keys(const struct tsc_crypto_sess *s, int dir)
{
    if (tsc_trial_undecided(s, dir)) {
        /* Midstream: a record is worth a scan when dir has candidates it has not tried;
         * else it waits (held) for a followed key log to bring more. */
        return !tsc_trial_untried(s, dir);
    }
    if (s == NULL || s->keys == NULL || (dir != 0 && dir != 1) || !s->sh_seen ||
        s->suite == NULL || s->finished_called) {
        return false;
    }
    if (s->f.undecrypted_reason != TSC_UNDEC_NONE &&
        s->f.undecrypted_reason != TSC_UNDEC_NO_KEY_MATERIAL) {
        return false;
    }
    if (s->tls13) {
        if (!s->suite->tls13) {
            return false;
        }
        if (!s->have_hs && !s->have_app) {
            return true;
        }
        /* Handshake keys known, application keys not (yet): after dir's Finished. */
        return !s->have_app && s->fin_seen[dir] && s->epoch[dir] == TSC_EP_NONE;
    }
    return s->ccs_seen[dir] && !s->active[dir] && !s->have_ms && s->n_cand == 0;
}

bool tsc_csess_retry_keys(struct tsc_crypto_sess *s)
{
    if (tsc_trial_undecided(s, 0) || tsc_trial_undecided(s, 1)) {
        /* The trial needs the record itself: tsc_csess_awaiting_keys turns false for a
         * direction once candidates it has not tried exist, and the record goes through. */
        return false;
    }
    if (!tsc_csess_awaiting_keys(s, 0) && !tsc_csess_awaiting_keys(s, 1)) {
        return false;
    }
    if (s->tls13) {
        if (!s->have_hs && !s->have_app) {
            /* Nothing was decrypted yet: the lookup of the ServerHello, again. */
            s->f.undecrypted_reason = TSC_UNDEC_NONE;
            tsc_sh13(s);
            return s->have_hs || s->have_app;
        }
        size_t hl = tsc_md_len(s->suite->hash);
        size_t n = 0;
        bool app = tsc_keys_keylog_find(s->keys, TSC_KL_CLIENT_TRAFFIC_SECRET_0, s->cr, 32,
                                        s->app_secret[0], &n) &&
                   n == hl &&
                   tsc_keys_keylog_find(s->keys, TSC_KL_SERVER_TRAFFIC_SECRET_0, s->cr, 32,
                                        s->app_secret[1], &n) &&
                   n == hl;
        if (!app) {
            return false;
        }
        s->have_app = true;
        s->f.keys_known = true;
        tsc_keys_keylog_bind(s->keys, s->cr);
        for (int d = 0; d < 2; d++) {
            if (s->fin_seen[d] && s->epoch[d] == TSC_EP_NONE) {
                tsc_enter_app13(s, d);
            }
        }
        return true;
    }
    tsc_master12_keylog(s);
    tsc_master12(s);
    if (!s->have_ms || !s->pend_ok) {
        return false;
    }
    for (int d = 0; d < 2; d++) {
        if (s->ccs_seen[d] && !s->active[d]) {
            (void)tsc_activate12(s, d);
        }
    }
    return true;
}

/* ---- handshake messages ---- */

static void tsc_fin_result(struct tsc_crypto_sess *s, int dir, bool ok)
{
    if (s->f.finished[dir] == TSC_FIN_MISMATCH) {
        return; /* a mismatch stays visible across renegotiations */
    }
    s->f.finished[dir] = ok ? TSC_FIN_VERIFIED : TSC_FIN_MISMATCH;
}

/* RFC 5246 7.4.9 / RFC 6101 5.6.9 / RFC 8446 4.4.4, over the transcript so far. */
static void tsc_check_finished(struct tsc_crypto_sess *s, int dir, struct tsc_slice body)
{
    uint8_t th[2 * EVP_MAX_MD_SIZE];
    size_t thl = 0;
    uint8_t want[EVP_MAX_MD_SIZE];
    size_t wl = 0;
    bool client = dir == 0;
    if (!tsc_tx_digest(s, th, &thl)) {
        return;
    }
    if (s->tls13) {
        if (!s->have_hs || s->suite == NULL) {
            return;
        }
        wl = tsc_md_len(s->suite->hash);
        if (tsc_tls13_finished(s->mc, s->suite->hash, s->hs_secret[dir], s->slen, th, thl, want) !=
            TSC_OK) {
            return;
        }
    } else {
        if (!s->have_ms || s->suite == NULL) {
            return;
        }
        if (s->version == 0x0300) {
            wl = 36;
            if (s->tx[0] == NULL || s->tx[1] == NULL ||
                tsc_finished_ssl3(s->tx[0], s->tx[1], s->ms, client, want) != TSC_OK) {
                return;
            }
        } else {
            wl = 12;
            if (tsc_finished_tls(s->mc, tsc_prf_kind_of(s->version), s->suite->hash, s->ms, client,
                                 th, thl, want) != TSC_OK) {
                return;
            }
        }
    }
    tsc_fin_result(s, dir, body.len == wl && CRYPTO_memcmp(body.p, want, wl) == 0);
    OPENSSL_cleanse(want, sizeof(want));
}

static void tsc_key_update(struct tsc_crypto_sess *s, int dir)
{
    if (!s->have_app || s->epoch[dir] != TSC_EP_APP) {
        return;
    }
    /* RFC 8446 4.6.3: the sender switches to the next generation after KeyUpdate. */
    if (tsc_tls13_next_secret(s->mc, s->suite->hash, s->app_secret[dir], s->slen) == TSC_OK) {
        (void)tsc_setup13(s, &s->rec[dir], s->suite, s->app_secret[dir], s->slen);
    }
}

static void tsc_enter_app13(struct tsc_crypto_sess *s, int dir)
{
    if (!s->have_app || s->suite == NULL) {
        s->epoch[dir] = TSC_EP_NONE;
        return;
    }
    if (tsc_setup13(s, &s->rec[dir], s->suite, s->app_secret[dir], s->slen) == TSC_OK) {
        s->epoch[dir] = TSC_EP_APP;
    }
}

/* Client: leave the early epoch for the handshake keys held in hs_rec. */
static void tsc_client_to_hs(struct tsc_crypto_sess *s)
{
    if (!s->client_hs_ready) {
        return;
    }
    struct tsc_rec tmp = s->rec[0];
    s->rec[0] = s->hs_rec;
    s->hs_rec = tmp;
    s->client_hs_ready = false;
    s->epoch[0] = TSC_EP_HANDSHAKE;
}

void tsc_csess_handshake(struct tsc_crypto_sess *s, int dir, const uint8_t *msg, size_t len)
{
    if (s == NULL || msg == NULL || (dir != 0 && dir != 1)) {
        return;
    }
    /*
     * RFC 8446 4 / RFC 5246 7.4:
     *   struct { HandshakeType msg_type; uint24 length; select (msg_type) {...} body; } Handshake;
     */
    struct tsc_cur c = tsc_cur_make(msg, len);
    uint8_t type = 0;
    uint32_t blen = 0;
    struct tsc_slice body;
    if (tsc_cur_u8(&c, &type) != TSC_OK || tsc_cur_u24(&c, &blen) != TSC_OK ||
        tsc_cur_bytes(&c, blen, &body) != TSC_OK) {
        return;
    }
    if (s->tls13 && s->tx_closed) {
        if (type == TSC_HT_KEY_UPDATE) {
            tsc_key_update(s, dir);
        }
        return; /* post-handshake messages are not in the transcript */
    }
    if (type == TSC_HT_FINISHED) {
        tsc_check_finished(s, dir, body);
    }
    if (s->tls13 && s->fin_seen[1] && dir == 1) {
        /* Server messages after its Finished (NewSessionTicket) are post-handshake. */
        if (type == TSC_HT_KEY_UPDATE) {
            tsc_key_update(s, dir);
        }
        return;
    }
    tsc_tx_add(s, msg, len);
    if (type == TSC_HT_CLIENT_KEY_EXCHANGE && dir == 0 && !s->tls13) {
        /* RFC 7627 3: session_hash = Hash(handshake messages up to and including CKE). */
        s->session_hash_len = 0;
        size_t n = 0;
        if (tsc_tx_digest(s, s->session_hash, &n)) {
            s->session_hash_len = n;
        }
        tsc_master12_keylog(s);
        tsc_master12(s);
    }
    if (type == TSC_HT_SERVER_HELLO && !s->tls13) {
        tsc_master12_keylog(s);
    }
    if (s->tls13 && type == TSC_HT_END_OF_EARLY_DATA && dir == 0) {
        /* RFC 8446 4.5: sent only when the server accepted early data. */
        tsc_csess_early_data_accepted(s);
        tsc_client_to_hs(s);
    }
    if (type == TSC_HT_FINISHED) {
        s->fin_seen[dir] = true;
        if (s->tls13) {
            tsc_enter_app13(s, dir);
            if (s->fin_seen[0]) {
                s->tx_closed = true;
            }
        }
    }
}

/* ---- records ---- */

static const uint16_t tsc_early_sha256[] = {0x1301, 0x1303, 0x1304, 0x1305};
static const uint16_t tsc_early_sha384[] = {0x1302};

/* TLS 1.3 0-RTT before the suite is known: the suite whose tag verifies wins. */
static enum tsc_err tsc_early_try(struct tsc_crypto_sess *s, uint8_t type, uint16_t rv,
                                  const uint8_t *in, size_t len, struct tsc_buf *out,
                                  uint8_t *inner)
{
    if (s->early_suite != NULL) {
        return tsc_rec_decrypt(&s->early_rec, type, rv, in, len, out, inner, false);
    }
    const uint16_t *ids = s->early_slen == 48 ? tsc_early_sha384 : tsc_early_sha256;
    size_t nids = s->early_slen == 48 ? 1 : 4;
    if (s->sh_seen && s->suite != NULL) {
        ids = &s->suite_id;
        nids = 1;
    }
    for (size_t i = 0; i < nids; i++) {
        const struct tsc_suite *st = tsc_suite_find(ids[i]);
        if (st == NULL || tsc_md_len(st->hash) != s->early_slen ||
            tsc_setup13(s, &s->early_rec, st, s->early_secret, s->early_slen) != TSC_OK) {
            continue;
        }
        if (tsc_rec_decrypt(&s->early_rec, type, rv, in, len, out, inner, false) == TSC_OK) {
            s->early_suite = st;
            return TSC_OK;
        }
    }
    return TSC_ERR_CRYPTO;
}

static enum tsc_err tsc_decrypt13_client_early(struct tsc_crypto_sess *s, uint8_t type, uint16_t rv,
                                               const uint8_t *in, size_t len, struct tsc_buf *out,
                                               uint8_t *inner)
{
    tsc_csess_early_lookup(s);
    if (s->have_early && tsc_early_try(s, type, rv, in, len, out, inner) == TSC_OK) {
        s->last_early[0] = true;
        return TSC_OK;
    }
    if (s->client_hs_ready &&
        tsc_rec_decrypt(&s->hs_rec, type, rv, in, len, out, inner, false) == TSC_OK) {
        tsc_client_to_hs(s);
        return TSC_OK;
    }
    if (s->early_accepted && s->have_early) {
        /* Accepted 0-RTT that does not verify: a bad record. */
        s->early_rec.seq++;
        return TSC_ERR_CRYPTO;
    }
    /* RFC 8446 4.2.10: rejected (or unkeyed) early data is skipped by trial. */
    return TSC_ERR_UNSUPPORTED;
}

static bool tsc_candidate_retry(struct tsc_crypto_sess *s, int dir)
{
    /* RSA without a certificate: the next candidate premaster, if any. */
    if (s->cand_confirmed || s->cur_cand + 1 >= s->n_cand) {
        return false;
    }
    s->cur_cand++;
    if (tsc_derive12(s, s->cand_ms[s->cur_cand]) != TSC_OK) {
        return false;
    }
    for (int d = 0; d < 2; d++) {
        if (s->active[d] || d == dir) {
            (void)tsc_activate12(s, d);
        }
    }
    return s->active[dir];
}

/*
 * A handshake-epoch record that fails may be the first application record
 * after a Finished we could not read (lost or damaged): try the application
 * keys and move to that epoch if they verify. The failed attempt under the
 * handshake keys is then not a bad record.
 */
static enum tsc_err tsc_try_app13(struct tsc_crypto_sess *s, int dir, uint8_t type, uint16_t rv,
                                  const uint8_t *in, size_t len, struct tsc_buf *out,
                                  uint8_t *inner)
{
    if (!s->have_app || s->suite == NULL ||
        tsc_setup13(s, &s->trial_rec, s->suite, s->app_secret[dir], s->slen) != TSC_OK ||
        tsc_rec_decrypt(&s->trial_rec, type, rv, in, len, out, inner, false) != TSC_OK) {
        return TSC_ERR_CRYPTO;
    }
    struct tsc_rec tmp = s->rec[dir];
    s->rec[dir] = s->trial_rec;
    s->trial_rec = tmp;
    s->epoch[dir] = TSC_EP_APP;
    return TSC_OK;
}

/* ---- midstream trial ---- */

/* No hello of any kind was seen: a protected record can only be keyed by trial. */
static bool tsc_trial_applies(const struct tsc_crypto_sess *s)
{
    return !s->have_cr && !s->sh_seen && !s->tls13 && !s->offers_early;
}

static bool tsc_trial_undecided(const struct tsc_crypto_sess *s, int dir)
{
    if (s == NULL || s->keys == NULL || (dir != 0 && dir != 1) || s->finished_called ||
        !(s->tr.mode || tsc_trial_applies(s))) {
        return false;
    }
    return !s->tr.matched && !s->tr.tls12 && !s->tr.cap_hit;
}

/* Candidates past where dir's last scan stopped (none scanned yet, or a followed key log grew). */
static bool tsc_trial_untried(const struct tsc_crypto_sess *s, int dir)
{
    for (int which = 0; which < 2; which++) {
        bool client = (dir == 0) != (which == 1); /* as in tsc_trial_scan */
        uint64_t first = 0;
        uint64_t end = 0;
        tsc_keys_trial_span(s->keys,
                            client ? TSC_KL_CLIENT_TRAFFIC_SECRET_0 : TSC_KL_SERVER_TRAFFIC_SECRET_0,
                            &first, &end);
        uint64_t next = s->tr.next[dir][which];
        if (end > (next > first ? next : first)) {
            return true;
        }
    }
    return false;
}

/*
 * TLS <= 1.2 cannot be keyed from a key log without its handshake: the key
 * block needs the server random too (RFC 5246 6.3). Its records show it: a
 * protected record whose outer type is not application_data (TLS 1.3 gives
 * every protected record that type, RFC 8446 5.2), or a GCM/CCM explicit
 * nonce (RFC 5288 3) where TLS 1.3 has ciphertext: one that counts up by one
 * from a direction's previous record (OpenSSL starts it at random, 1 in 2^64
 * by chance), or a small one (GnuTLS uses the sequence number; 32 zero bits,
 * 1 in 2^32 by chance).
 */
static void tsc_trial_version_evidence(struct tsc_crypto_sess *s, int dir,
                                       const struct tsc_trial_record *rec)
{
    struct tsc_trial_st *t = &s->tr;
    if (rec->type != 23 && rec->len > 2) {
        t->tls12 = true;
        return;
    }
    struct tsc_cur c = tsc_cur_make(rec->p, rec->len);
    uint64_t head = 0;
    if (rec->len < 8 + 16 + 1 || tsc_cur_u64(&c, &head) != TSC_OK) {
        return;
    }
    if ((head >> 32) == 0 || (t->have_head[dir] && head == t->head[dir] + 1)) {
        t->tls12 = true;
    }
    t->head[dir] = head;
    t->have_head[dir] = true;
}

/* The trial verified `label`'s secret of cr on dir's record: the connection is TLS 1.3 with it. */
static void tsc_trial_bind(struct tsc_crypto_sess *s, int dir, enum tsc_keylog_label label,
                           const uint8_t cr[32], const uint8_t *secret, size_t slen,
                           const struct tsc_trial_hit *hit)
{
    enum tsc_keylog_label own =
        dir == 0 ? TSC_KL_CLIENT_TRAFFIC_SECRET_0 : TSC_KL_SERVER_TRAFFIC_SECRET_0;
    enum tsc_keylog_label pair = label == TSC_KL_CLIENT_TRAFFIC_SECRET_0
                                     ? TSC_KL_SERVER_TRAFFIC_SECRET_0
                                     : TSC_KL_CLIENT_TRAFFIC_SECRET_0;
    struct tsc_trial_st *t = &s->tr;
    t->matched = true;
    t->swapped = label != own;
    memcpy(s->cr, cr, 32);
    s->have_cr = true;
    s->suite = hit->suite;
    s->suite_id = hit->suite->id;
    s->version = 0x0304;
    s->tls13 = true;
    s->slen = slen;
    s->have_app = true;
    /* After the handshake: later handshake messages (NewSessionTicket, KeyUpdate) are
     * post-handshake, not transcript. */
    s->tx_closed = true;
    s->fin_seen[0] = s->fin_seen[1] = true;
    s->f.keys_known = true;
    s->f.key_source = tsc_keylog_source(s->keys, label, cr, 32);
    memcpy(s->app_secret[dir], secret, slen);
    s->epoch[dir] = TSC_EP_APP; /* s->rec[dir] was keyed by the trial */
    t->dstate[dir] = TSC_TR_SYNCED;
    s->f.trial = true;
    s->f.trial_matched = true;
    s->f.trial_roles_swapped = t->swapped;
    s->f.trial_secrets_tried = t->tried;
    memcpy(s->f.trial_client_random, cr, 32);
    s->f.trial_cipher_suite = s->suite_id;
    s->f.trial_synced[dir] = true;
    s->f.trial_first_seq[dir] = hit->seq;
    s->f.trial_generation[dir] = hit->generation;
    size_t n = 0;
    if (!tsc_keys_keylog_find(s->keys, pair, cr, 32, s->app_secret[1 - dir], &n) || n != slen) {
        t->dstate[1 - dir] = TSC_TR_LOST; /* the key log has one half of the pair */
    }
    tsc_keys_keylog_bind(s->keys, cr);
}

/* Scans the candidates of one label not tried yet in dir; TSC_OK on a match. */
static enum tsc_err tsc_trial_scan(struct tsc_crypto_sess *s, int dir, int which,
                                   const struct tsc_trial_record *rec, uint64_t window,
                                   struct tsc_buf *out, uint8_t *inner)
{
    bool client = (dir == 0) != (which == 1);
    enum tsc_keylog_label label =
        client ? TSC_KL_CLIENT_TRAFFIC_SECRET_0 : TSC_KL_SERVER_TRAFFIC_SECRET_0;
    struct tsc_trial_st *t = &s->tr;
    uint32_t max = tsc_keys_trial_max(s->keys);
    uint64_t first = 0;
    uint64_t end = 0;
    tsc_keys_trial_span(s->keys, label, &first, &end);
    uint64_t pos = t->next[dir][which] > first ? t->next[dir][which] : first;
    enum tsc_err res = TSC_ERR_CRYPTO;
    uint64_t visited = 0;
    /* Bounded by the span, the per-connection cap, and (bound entries) 64 times the cap. */
    for (; pos < end; pos++) {
        if (++visited > 64ull * max) {
            t->cap_hit = true;
            break;
        }
        uint8_t cr[32];
        uint8_t secret[TSC_MAX_SECRET];
        size_t slen = 0;
        bool bound = false;
        if (!tsc_keys_trial_get(s->keys, label, pos, cr, secret, &slen, &bound) || bound) {
            continue;
        }
        if (t->tried >= max) {
            t->cap_hit = true;
            OPENSSL_cleanse(secret, sizeof(secret));
            break;
        }
        t->tried++;
        t->cost[TSC_TRIAL_SECRETS]++;
        struct tsc_trial_hit hit;
        if (tsc_trial_secret(s->mc, rec, secret, slen, NULL, TSC_TRIAL_GENERATIONS, window,
                             &s->rec[dir], out, inner, &hit, t->cost) == TSC_OK) {
            tsc_trial_bind(s, dir, label, cr, secret, slen, &hit);
            OPENSSL_cleanse(secret, sizeof(secret));
            pos++;
            res = TSC_OK;
            break;
        }
        OPENSSL_cleanse(secret, sizeof(secret));
    }
    t->next[dir][which] = pos;
    return res;
}

/* The other direction after a match: its paired secret, a wider window of sequence numbers. */
static enum tsc_err tsc_trial_paired(struct tsc_crypto_sess *s, int dir,
                                     const struct tsc_trial_record *rec, struct tsc_buf *out,
                                     uint8_t *inner)
{
    struct tsc_trial_st *t = &s->tr;
    if (t->dstate[dir] == TSC_TR_LOST) {
        return TSC_ERR_UNSUPPORTED;
    }
    uint8_t secret[TSC_MAX_SECRET];
    struct tsc_trial_hit hit;
    memcpy(secret, s->app_secret[dir], s->slen);
    enum tsc_err e = tsc_trial_secret(s->mc, rec, secret, s->slen, s->suite, TSC_TRIAL_GENERATIONS,
                                      TSC_RESYNC_TRIALS, &s->rec[dir], out, inner, &hit, t->cost);
    if (e == TSC_OK) {
        memcpy(s->app_secret[dir], secret, s->slen);
        s->epoch[dir] = TSC_EP_APP;
        t->dstate[dir] = TSC_TR_SYNCED;
        s->f.trial_synced[dir] = true;
        s->f.trial_first_seq[dir] = hit.seq;
        s->f.trial_generation[dir] = hit.generation;
    } else if (++t->paired_fails[dir] >= TSC_TRIAL_PAIRED_RECORDS) {
        t->dstate[dir] = TSC_TR_LOST;
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    return e == TSC_OK ? TSC_OK : TSC_ERR_UNSUPPORTED;
}

/*
 * The window for dir's scan: what is left of the connection's probe budget
 * over the candidates left (both labels, up to the cap) times the suites and
 * generations each is tried with.
 */
static uint64_t tsc_trial_window(const struct tsc_crypto_sess *s, int dir)
{
    uint64_t left = 0;
    for (int which = 0; which < 2; which++) {
        bool client = (dir == 0) != (which == 1);
        uint64_t first = 0;
        uint64_t end = 0;
        tsc_keys_trial_span(
            s->keys, client ? TSC_KL_CLIENT_TRAFFIC_SECRET_0 : TSC_KL_SERVER_TRAFFIC_SECRET_0,
            &first, &end);
        uint64_t pos = s->tr.next[dir][which] > first ? s->tr.next[dir][which] : first;
        left += end > pos ? end - pos : 0;
    }
    uint32_t max = tsc_keys_trial_max(s->keys);
    uint64_t room = max > s->tr.tried ? max - s->tr.tried : 0;
    left = left < room ? left : room;
    /* Four SHA-256 suites at most (AES-128-GCM, ChaCha20, CCM, CCM_8). */
    uint64_t per = (left > 0 ? left : 1) * 4u * TSC_TRIAL_GENERATIONS;
    uint64_t used = s->tr.cost[TSC_TRIAL_PROBES];
    uint64_t w = used < TSC_TRIAL_PROBE_BUDGET ? (TSC_TRIAL_PROBE_BUDGET - used) / per : 0;
    return w < TSC_TRIAL_WINDOW       ? TSC_TRIAL_WINDOW
           : w > TSC_TRIAL_WINDOW_MAX ? TSC_TRIAL_WINDOW_MAX
                                      : w;
}

/* A protected record of a connection with no hello: trial, or opaque (never a bad record). */
static enum tsc_err tsc_trial_record(struct tsc_crypto_sess *s, int dir,
                                     const struct tsc_trial_record *rec, struct tsc_buf *out,
                                     uint8_t *inner)
{
    struct tsc_trial_st *t = &s->tr;
    if (!t->mode) {
        t->mode = true;
        t->all_block_multiple = true;
    }
    if (t->matched) {
        return tsc_trial_paired(s, dir, rec, out, inner);
    }
    t->records++;
    if (rec->len % 16 != 0) {
        t->all_block_multiple = false;
    }
    tsc_trial_version_evidence(s, dir, rec);
    if (t->tls12 || t->cap_hit || s->mc == NULL) {
        return TSC_ERR_UNSUPPORTED;
    }
    if (t->scans[dir] < TSC_TRIAL_SCAN_RECORDS) {
        t->scans[dir]++;
        t->next[dir][0] = t->next[dir][1] = 0; /* every candidate again */
    } /* else only candidates added since (a followed key log) */
    t->scanned = true;
    t->dstate[dir] = TSC_TR_SCANNED;
    uint64_t window = tsc_trial_window(s, dir);
    if (window > s->f.trial_window) {
        s->f.trial_window = window;
    }
    for (int which = 0; which < 2 && !t->cap_hit; which++) {
        if (tsc_trial_scan(s, dir, which, rec, window, out, inner) == TSC_OK) {
            return TSC_OK;
        }
    }
    tsc_buf_reset(out);
    return TSC_ERR_UNSUPPORTED;
}

bool tsc_csess_trial_take_match(struct tsc_crypto_sess *s, uint16_t *cipher_suite)
{
    if (s == NULL || !s->tr.matched || s->tr.match_taken) {
        return false;
    }
    s->tr.match_taken = true;
    *cipher_suite = s->suite_id;
    return true;
}

bool tsc_csess_client_random(const struct tsc_crypto_sess *s, uint8_t out[32])
{
    if (s == NULL || !s->have_cr) {
        return false;
    }
    memcpy(out, s->cr, 32);
    return true;
}

/* Close out the trial: facts, reason, run-wide cost. */
static void tsc_trial_finish(struct tsc_crypto_sess *s)
{
    struct tsc_trial_st *t = &s->tr;
    struct tsc_crypto_facts *f = &s->f;
    if (!t->mode) {
        return;
    }
    f->trial = t->scanned || t->tls12;
    f->trial_matched = t->matched;
    f->trial_cap_hit = t->cap_hit && !t->matched;
    f->trial_secrets_tried = t->tried;
    f->trial_roles_swapped = t->swapped;
    /* Every protected record a multiple of 16 bytes, four or more: CBC (TLS <= 1.2). */
    f->trial_tls12 = !t->matched && (t->tls12 || (t->records >= 4 && t->all_block_multiple));
    if (t->matched) {
        /* The match facts were set when it happened (tsc_trial_bind, tsc_trial_paired). */
    } else if (f->trial_tls12) {
        tsc_set_reason(s, TSC_UNDEC_MIDSTREAM_TLS12);
    } else if (f->trial_cap_hit) {
        tsc_set_reason(s, TSC_UNDEC_MIDSTREAM_TRIAL_CAP);
    } else {
        tsc_set_reason(s, TSC_UNDEC_MIDSTREAM_NO_MATCH);
    }
    if (!t->accounted && f->trial) {
        t->accounted = true;
        t->cost[TSC_TRIAL_CONNECTIONS] = 1;
        t->cost[TSC_TRIAL_MATCHED] = t->matched ? 1 : 0;
        t->cost[TSC_TRIAL_CAP_HITS] = f->trial_cap_hit ? 1 : 0;
        tsc_keys_trial_account(s->keys, t->cost);
    }
}

enum tsc_err tsc_csess_decrypt(struct tsc_crypto_sess *s, int dir, uint8_t content_type,
                               uint16_t record_version, const uint8_t *in, size_t len,
                               struct tsc_buf *out, uint8_t *inner_type)
{
    TSC_ENSURE(s != NULL && out != NULL && inner_type != NULL && (dir == 0 || dir == 1),
               TSC_ERR_ARG);
    *inner_type = content_type;
    tsc_buf_reset(out);
    s->last_early[dir] = false;
    enum tsc_err e;
    if (s->keys == NULL) {
        return TSC_ERR_UNSUPPORTED;
    }
    if ((s->tr.mode || tsc_trial_applies(s)) && s->tr.dstate[dir] != TSC_TR_SYNCED) {
        struct tsc_trial_record rec = {content_type, record_version, in, len};
        e = tsc_trial_record(s, dir, &rec, out, inner_type);
    } else if (s->tls13 || (!s->sh_seen && dir == 0 && s->offers_early)) {
        if (dir == 0 && s->offers_early && s->epoch[0] != TSC_EP_HANDSHAKE &&
            s->epoch[0] != TSC_EP_APP) {
            e = tsc_decrypt13_client_early(s, content_type, record_version, in, len, out,
                                           inner_type);
        } else if (s->epoch[dir] == TSC_EP_NONE || !s->rec[dir].ready) {
            return TSC_ERR_UNSUPPORTED;
        } else {
            e = tsc_rec_decrypt(&s->rec[dir], content_type, record_version, in, len, out,
                                inner_type, true);
            if (e == TSC_ERR_CRYPTO && s->epoch[dir] == TSC_EP_HANDSHAKE) {
                e = tsc_try_app13(s, dir, content_type, record_version, in, len, out, inner_type);
            }
        }
    } else {
        if (!s->active[dir]) {
            return TSC_ERR_UNSUPPORTED;
        }
        uint64_t seq = s->rec[dir].seq;
        e = tsc_rec_decrypt(&s->rec[dir], content_type, record_version, in, len, out, inner_type,
                            true);
        /* Bounded by TSC_RSA_CANDIDATES: each retry moves to the next candidate. */
        while (e == TSC_ERR_CRYPTO && seq == 0 && tsc_candidate_retry(s, dir)) {
            e = tsc_rec_decrypt(&s->rec[dir], content_type, record_version, in, len, out,
                                inner_type, true);
        }
        if (e == TSC_OK && s->n_cand > 1) {
            s->cand_confirmed = true;
        }
    }
    if (e == TSC_OK) {
        s->f.decrypted = true;
        s->f.decrypted_records[dir]++;
    } else if (e == TSC_ERR_CRYPTO || e == TSC_ERR_LIMIT) {
        s->f.bad_records++;
        e = TSC_ERR_CRYPTO;
    }
    return e;
}

bool tsc_csess_can_resync(const struct tsc_crypto_sess *s, int dir)
{
    if (s == NULL || (dir != 0 && dir != 1) || s->keys == NULL) {
        return false;
    }
    const struct tsc_rec *r = &s->rec[dir];
    if (!r->ready || r->suite == NULL || r->deflate) {
        return false;
    }
    if (s->tls13) {
        return s->epoch[dir] == TSC_EP_HANDSHAKE || s->epoch[dir] == TSC_EP_APP;
    }
    if (!s->active[dir] || (s->n_cand > 1 && !s->cand_confirmed)) {
        return false;
    }
    switch (r->suite->family) {
    case TSC_FAM_NULL:
    case TSC_FAM_GCM:
    case TSC_FAM_CCM:
    case TSC_FAM_CHACHA:
        return true;
    case TSC_FAM_CBC:
        return r->version >= 0x0302; /* explicit IV (RFC 4346 6.2.3.2) */
    default:
        return false; /* RC4: the key stream position is lost with the bytes */
    }
}

/* Largest sequence number jump accepted from a TLS 1.2 explicit nonce. */
#define TSC_RESYNC_MAX_JUMP (1u << 24)

enum tsc_err tsc_csess_decrypt_resync(struct tsc_crypto_sess *s, int dir, uint8_t content_type,
                                      uint16_t record_version, const uint8_t *in, size_t len,
                                      uint64_t estimate, struct tsc_buf *out, uint8_t *inner_type,
                                      uint64_t *skipped)
{
    TSC_ENSURE(s != NULL && out != NULL && inner_type != NULL && skipped != NULL &&
                   (dir == 0 || dir == 1) && (in != NULL || len == 0),
               TSC_ERR_ARG);
    *skipped = 0;
    TSC_ENSURE(tsc_csess_can_resync(s, dir), TSC_ERR_UNSUPPORTED);
    struct tsc_rec *r = &s->rec[dir];
    const uint64_t base = r->seq;
    enum tsc_err e = TSC_ERR_CRYPTO;
    /*
     * RFC 5288 3 / RFC 6655 3: GCM and CCM carry an 8-byte explicit nonce that
     * senders fill with the sequence number; a value in range is tried first.
     */
    uint64_t hint = UINT64_MAX;
    if (!s->tls13 && r->suite->record_iv_len == 8 && len >= 8 &&
        (r->suite->family == TSC_FAM_GCM || r->suite->family == TSC_FAM_CCM)) {
        struct tsc_cur c = tsc_cur_make(in, len);
        uint64_t n = 0;
        if (tsc_cur_u64(&c, &n) == TSC_OK && n >= base && n - base <= TSC_RESYNC_MAX_JUMP) {
            hint = n;
            r->seq = n;
            e = tsc_rec_decrypt(r, content_type, record_version, in, len, out, inner_type, false);
        }
    }
    /* Then base + estimate, +1, -1, +2, -2, ... (never before base), bounded. */
    uint32_t trials = 0;
    for (uint64_t d = 0; e != TSC_OK && trials < TSC_RESYNC_TRIALS; d++) {
        for (int side = 0; side < 2 && e != TSC_OK && trials < TSC_RESYNC_TRIALS; side++) {
            if (side == 1 && (d == 0 || d > estimate)) {
                continue;
            }
            uint64_t seq = base + (side == 0 ? estimate + d : estimate - d);
            if (seq == hint) {
                continue;
            }
            trials++;
            r->seq = seq;
            e = tsc_rec_decrypt(r, content_type, record_version, in, len, out, inner_type, false);
        }
    }
    if (e != TSC_OK) {
        r->seq = base;
        return TSC_ERR_CRYPTO;
    }
    /* tsc_rec_decrypt moved past the record: it was number r->seq - 1. */
    *skipped = r->seq - 1 - base;
    s->f.records_skipped[dir] += *skipped;
    s->f.resyncs[dir]++;
    s->f.decrypted = true;
    s->f.decrypted_records[dir]++;
    return TSC_OK;
}

/* Streams plaintext into dir's app_data hash (started on first use). */
static bool tsc_app_hash(struct tsc_crypto_sess *s, int dir, const uint8_t *p, size_t len)
{
    if (s->app_md[dir] == NULL) {
        s->app_md[dir] = tsc_md_get(s);
        if (s->app_md[dir] == NULL ||
            EVP_DigestInit_ex(s->app_md[dir], tsc_alg_md(TSC_MD_SHA256), NULL) != 1) {
            EVP_MD_CTX_free(s->app_md[dir]);
            s->app_md[dir] = NULL;
            return false;
        }
    }
    if (len > 0 && EVP_DigestUpdate(s->app_md[dir], p, len) != 1) {
        return false;
    }
    s->f.app_bytes[dir] += len;
    return true;
}

enum tsc_app_verdict tsc_csess_app_record(struct tsc_crypto_sess *s, int dir, const uint8_t *p,
                                          size_t len, uint64_t pkt, struct tsc_ts ts)
{
    if (s == NULL || (dir != 0 && dir != 1) || s->finished_called || (p == NULL && len > 0)) {
        return TSC_APP_DROPPED;
    }
    if (s->last_early[dir] && !s->early_accepted) {
        /*
         * 0-RTT before the server's answer: it is application data only if the
         * server accepts it (RFC 8446 4.2.10), which EncryptedExtensions (or the
         * client's EndOfEarlyData) tells later. Hold it until then.
         */
        struct tsc_early_hdr h = {.pkt = pkt, .ts = ts, .len = (uint32_t)len};
        if (s->early_rejected || tsc_buf_reserve(&s->early_hold, sizeof(h) + len) != TSC_OK) {
            s->f.early_data_rejected_bytes += len; /* over the hold cap: never counted */
            return TSC_APP_DROPPED;
        }
        (void)!tsc_buf_append(&s->early_hold, &h, sizeof(h)); /* room reserved above */
        (void)!tsc_buf_append(&s->early_hold, p, len);
        s->early_held_bytes += len;
        return TSC_APP_HELD;
    }
    if (!tsc_app_hash(s, dir, p, len)) {
        return TSC_APP_DROPPED;
    }
    if (s->last_early[dir]) {
        s->f.early_data_bytes += len;
    }
    return TSC_APP_COUNTED;
}

enum tsc_app_verdict tsc_csess_app_data(struct tsc_crypto_sess *s, int dir, const uint8_t *p,
                                        size_t len)
{
    struct tsc_ts none = {0, 0};
    return tsc_csess_app_record(s, dir, p, len, 0, none);
}

void tsc_csess_finish(struct tsc_crypto_sess *s)
{
    if (s == NULL || s->finished_called) {
        return;
    }
    /* Acceptance never seen (EncryptedExtensions not decrypted, capture cut): the held
     * 0-RTT is not counted as the connection's data. */
    tsc_csess_early_data_rejected(s);
    s->finished_called = true;
    for (int d = 0; d < 2; d++) {
        EVP_MD_CTX *c = s->app_md[d];
        bool own = false;
        if (c == NULL) {
            c = tsc_md_get(s);
            own = true;
            if (c == NULL || EVP_DigestInit_ex(c, tsc_alg_md(TSC_MD_SHA256), NULL) != 1) {
                EVP_MD_CTX_free(c);
                continue;
            }
        }
        (void)EVP_DigestFinal_ex(c, s->f.app_sha256[d], NULL);
        if (own) {
            tsc_md_put(s, c);
        }
    }
    struct tsc_crypto_facts *f = &s->f;
    if (s->keys != NULL) {
        tsc_trial_finish(s);
    }
    if (s->keys == NULL) {
        tsc_set_reason(s, TSC_UNDEC_NO_KEY_MATERIAL);
    } else if (s->tr.mode && !s->tr.matched) {
        /* The reason was set by the trial. */
    } else if (!s->sh_seen && !s->tr.matched) {
        tsc_set_reason(s, TSC_UNDEC_HANDSHAKE_NOT_CAPTURED);
    } else if (!f->keys_known) {
        bool rsa_loaded = tsc_keys_rsa_count(s->keys) > 0;
        if (!s->tls13 && s->suite != NULL && s->suite->kex != TSC_KEX_RSA && rsa_loaded &&
            s->suite->kex != TSC_KEX_RSA_PSK) {
            tsc_set_reason(s, TSC_UNDEC_KEX_NOT_RSA);
        } else if (!s->tls13 && s->suite != NULL && s->suite->kex == TSC_KEX_RSA && rsa_loaded &&
                   !s->cke_seen) {
            tsc_set_reason(s, TSC_UNDEC_HANDSHAKE_NOT_CAPTURED);
        } else {
            tsc_set_reason(s, TSC_UNDEC_NO_KEY_MATERIAL);
        }
    } else if (!f->decrypted && f->bad_records > 0) {
        /* RSA candidates or a cached master secret that no record verifies: wrong key. */
        bool wrong_key = s->n_cand > 0 || f->key_source == TSC_KEYSRC_SESSION_CACHE;
        tsc_set_reason(s, wrong_key ? TSC_UNDEC_KEY_MISMATCH : TSC_UNDEC_DECRYPT_FAILED);
    }
    if (f->decrypted && f->keys_known && f->undecrypted_reason != TSC_UNDEC_NONE &&
        f->undecrypted_reason != TSC_UNDEC_COMPRESSION) {
        /* Keys were found after all (e.g. a later renegotiation): no reason to report. */
        f->undecrypted_reason = TSC_UNDEC_NONE;
    }
}
