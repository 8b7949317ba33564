/*
 * struct tsc_keys core, the NSS key log parser and index, and PSKs.
 *
 * Key log format (NSS, "SSLKEYLOGFILE"): one entry per line,
 *   <LABEL> <client_random hex, 64 chars> <secret hex>
 *   RSA <first 8 bytes of the encrypted premaster, 16 hex chars> <premaster hex, 96 chars>
 * '#' starts a comment line; blank lines are ignored; CRLF is accepted.
 * A bad line gets one diagnostic naming origin:line and is skipped; the
 * diagnostic never repeats the secret.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys_int.h"

static const char *const tsc_kl_names[TSC_KL__COUNT] = {
#define TSC_KL_NAME(e, s) [e] = s,
    TSC_KEYLOG_LABELS(TSC_KL_NAME)
#undef TSC_KL_NAME
};

const char *tsc_keylog_label_name(enum tsc_keylog_label l)
{
    if ((unsigned)l >= TSC_KL__COUNT) {
        return NULL;
    }
    return tsc_kl_names[l];
}

enum tsc_err tsc_keys_new(struct tsc_keys **out, struct tsc_diag_sink *sink)
{
    TSC_ENSURE(out != NULL, TSC_ERR_ARG);
    *out = NULL;
    struct tsc_keys *k = calloc(1, sizeof(*k));
    TSC_ENSURE(k != NULL, TSC_ERR_NOMEM);
    if (pthread_mutex_init(&k->cache_mu, NULL) != 0) {
        free(k);
        return TSC_ERR_NOMEM;
    }
    k->sink = sink;
    k->trial_max = TSC_TRIAL_MAX_DEFAULT;
    if (RAND_bytes((unsigned char *)&k->seed, sizeof(k->seed)) != 1) {
        k->seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)k;
    }
    *out = k;
    return TSC_OK;
}

void tsc_keys_free(struct tsc_keys *k)
{
    if (k == NULL) {
        return;
    }
    if (k->kl != NULL) {
        OPENSSL_cleanse(k->kl, (size_t)k->kl_cap * sizeof(*k->kl));
        free(k->kl);
    }
    if (k->kl_old != NULL) {
        OPENSSL_cleanse(k->kl_old, (size_t)k->kl_old_cap * sizeof(*k->kl_old));
        free(k->kl_old);
    }
    if (k->kl_long != NULL) {
        OPENSSL_cleanse(k->kl_long, k->kl_long_cap);
        free(k->kl_long);
    }
    for (int i = 0; i < 2; i++) {
        free(k->tl[i].cr);
        free(k->tl_old[i].cr);
    }
    for (uint32_t i = 0; i < k->n_rsa; i++) {
        EVP_PKEY_free(k->rsa[i]);
    }
    OPENSSL_cleanse(k->psk, sizeof(k->psk));
    pthread_mutex_destroy(&k->cache_mu);
    free(k);
}

void tsc_keys_get_stats(const struct tsc_keys *k, struct tsc_keys_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (k == NULL) {
        return;
    }
    st->rsa_keys = k->n_rsa;
    st->keylog_entries = k->kl_count + k->kl_old_count;
    st->keylog_dropped = k->kl_dropped;
    st->keylog_bad_lines = k->kl_bad;
    st->psks = k->n_psk;
    st->rsa_private_ops = atomic_load(&k->rsa_ops);
    for (int i = 0; i < TSC_TRIAL_COST__COUNT; i++) {
        st->trial[i] = atomic_load_explicit(&k->trial_cost[i], memory_order_relaxed);
    }
    for (int i = 0; i < 2; i++) {
        st->trial_candidates += k->tl[i].n + k->tl_old[i].n;
    }
}

/* ---- hash index ---- */

static uint64_t tsc_kl_hash(uint64_t seed, uint8_t label, const uint8_t *key, size_t len)
{
    /* FNV-1a over label and key, seeded, then a final avalanche (splitmix64). */
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    h = (h ^ label) * 0x100000001b3ull;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ key[i]) * 0x100000001b3ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

static struct tsc_kl_entry *tsc_kl_slot(struct tsc_kl_entry *tab, uint64_t cap, uint64_t seed,
                                        uint8_t label, const uint8_t *key, size_t keylen)
{
    uint64_t mask = cap - 1;
    uint64_t i = tsc_kl_hash(seed, label, key, keylen) & mask;
    /* Load factor <= 1/2 guarantees an empty slot; the bound is cap probes. */
    for (uint64_t n = 0; n < cap; n++) {
        struct tsc_kl_entry *e = &tab[i];
        if (!e->used ||
            (e->label == label && e->keylen == keylen && memcmp(e->key, key, keylen) == 0)) {
            return e;
        }
        i = (i + 1) & mask;
    }
    return NULL;
}

static enum tsc_err tsc_kl_grow(struct tsc_keys *k)
{
    uint64_t ncap = k->kl_cap == 0 ? 1024 : k->kl_cap * 2;
    struct tsc_kl_entry *nt = calloc((size_t)ncap, sizeof(*nt));
    TSC_ENSURE(nt != NULL, TSC_ERR_NOMEM);
    for (uint64_t i = 0; i < k->kl_cap; i++) {
        struct tsc_kl_entry *e = &k->kl[i];
        if (e->used) {
            struct tsc_kl_entry *d = tsc_kl_slot(nt, ncap, k->seed, e->label, e->key, e->keylen);
            *d = *e;
        }
    }
    if (k->kl != NULL) {
        OPENSSL_cleanse(k->kl, (size_t)k->kl_cap * sizeof(*k->kl));
        free(k->kl);
    }
    k->kl = nt;
    k->kl_cap = ncap;
    return TSC_OK;
}

/* The current generation becomes the previous one (the one before is dropped). */
static void tsc_kl_age(struct tsc_keys *k)
{
    if (k->kl_old != NULL) {
        OPENSSL_cleanse(k->kl_old, (size_t)k->kl_old_cap * sizeof(*k->kl_old));
        free(k->kl_old);
    }
    k->kl_dropped += k->kl_old_count;
    k->kl_old = k->kl;
    k->kl_old_cap = k->kl_cap;
    k->kl_old_count = k->kl_count;
    k->kl = NULL;
    k->kl_cap = 0;
    k->kl_count = 0;
    /* The candidate lists age with their generation; positions go on from where they were. */
    for (int i = 0; i < 2; i++) {
        free(k->tl_old[i].cr);
        k->tl_old[i] = k->tl[i];
        memset(&k->tl[i], 0, sizeof(k->tl[i]));
        k->tl[i].base = k->tl_old[i].base + k->tl_old[i].n;
    }
}

void tsc_keys_keylog_bound(struct tsc_keys *k, uint64_t gen_entries)
{
    if (k != NULL) {
        k->kl_gen_max = gen_entries;
    }
}

uint64_t tsc_keys_keylog_added(const struct tsc_keys *k)
{
    return k != NULL ? k->kl_added : 0;
}

/* The entry for (label, key): the current generation first, then the previous one. */
static const struct tsc_kl_entry *tsc_kl_find(const struct tsc_keys *k, uint8_t label,
                                              const uint8_t *key, size_t keylen)
{
    if (k->kl_count > 0) {
        const struct tsc_kl_entry *e = tsc_kl_slot(k->kl, k->kl_cap, k->seed, label, key, keylen);
        if (e != NULL && e->used) {
            return e;
        }
    }
    if (k->kl_old_count > 0) {
        const struct tsc_kl_entry *e =
            tsc_kl_slot(k->kl_old, k->kl_old_cap, k->seed, label, key, keylen);
        if (e != NULL && e->used) {
            return e;
        }
    }
    return NULL;
}

/* Appends a long secret to the arena (growing it, wiping the old copy); offset in *off. */
static enum tsc_err tsc_kl_long_add(struct tsc_keys *k, const uint8_t *secret, size_t n,
                                    uint32_t *off)
{
    TSC_ENSURE(k->kl_long_len + n <= TSC_KEYLOG_LONG_ARENA_MAX, TSC_ERR_LIMIT);
    if (k->kl_long_len + n > k->kl_long_cap) {
        size_t ncap = k->kl_long_cap == 0 ? 16384 : k->kl_long_cap * 2;
        while (ncap < k->kl_long_len + n) {
            ncap *= 2;
        }
        if (ncap > TSC_KEYLOG_LONG_ARENA_MAX) {
            ncap = TSC_KEYLOG_LONG_ARENA_MAX;
        }
        uint8_t *na = malloc(ncap);
        TSC_ENSURE(na != NULL, TSC_ERR_NOMEM);
        if (k->kl_long != NULL) {
            memcpy(na, k->kl_long, k->kl_long_len);
            OPENSSL_cleanse(k->kl_long, k->kl_long_cap);
            free(k->kl_long);
        }
        k->kl_long = na;
        k->kl_long_cap = ncap;
    }
    memcpy(k->kl_long + k->kl_long_len, secret, n);
    *off = (uint32_t)k->kl_long_len;
    k->kl_long_len += n;
    return TSC_OK;
}

/* Which trial candidate list a label feeds: 0, 1, or -1 for none. */
static int tsc_kl_list_of(unsigned label)
{
    if (label == TSC_KL_CLIENT_TRAFFIC_SECRET_0) {
        return 0;
    }
    if (label == TSC_KL_SERVER_TRAFFIC_SECRET_0) {
        return 1;
    }
    return -1;
}

/* Room for one more candidate (doubling; bounded by the entry cap). */
static enum tsc_err tsc_kl_list_reserve(struct tsc_kl_list *l)
{
    if (l->n < l->cap) {
        return TSC_OK;
    }
    uint64_t ncap = l->cap == 0 ? 256 : l->cap * 2;
    uint8_t(*ncr)[32] = realloc(l->cr, (size_t)ncap * sizeof(*ncr));
    TSC_ENSURE(ncr != NULL, TSC_ERR_NOMEM);
    l->cr = ncr;
    l->cap = ncap;
    return TSC_OK;
}

static enum tsc_err tsc_kl_put(struct tsc_keys *k, uint8_t label, const uint8_t *key, size_t keylen,
                               const uint8_t *secret, size_t seclen)
{
    uint32_t off = 0;
    if (seclen > TSC_MAX_SECRET) {
        /* A repeated key with a long secret appends again: bounded by the arena cap. */
        TSC_TRY(tsc_kl_long_add(k, secret, seclen, &off));
    }
    if (k->kl_gen_max > 0 && k->kl_count >= k->kl_gen_max) {
        tsc_kl_age(k);
    }
    if ((k->kl_count + 1) * 2 > k->kl_cap) {
        TSC_TRY(tsc_kl_grow(k));
    }
    struct tsc_kl_entry *e = tsc_kl_slot(k->kl, k->kl_cap, k->seed, label, key, keylen);
    TSC_ENSURE(e != NULL, TSC_ERR_STATE);
    int li = tsc_kl_list_of(label);
    if (!e->used) {
        if (li >= 0) {
            /* A new application secret is a trial candidate (a repeated line is not). */
            struct tsc_kl_list *l = &k->tl[li];
            TSC_TRY(tsc_kl_list_reserve(l));
            memcpy(l->cr[l->n++], key, 32);
        }
        k->kl_count++;
        k->kl_added++;
        atomic_store_explicit(&e->bound, 0, memory_order_relaxed);
    }
    /* A repeated (label, key) keeps the last secret: later lines win, as in NSS tools. */
    e->used = 1;
    e->dsb = k->adding_dsb ? 1 : 0;
    if (k->adding_dsb) {
        k->kl_dsb++;
    }
    e->label = label;
    e->keylen = (uint8_t)keylen;
    memcpy(e->key, key, keylen);
    OPENSSL_cleanse(e->secret, sizeof(e->secret));
    if (seclen > TSC_MAX_SECRET) {
        e->long_off = off;
    } else {
        memcpy(e->secret, secret, seclen);
    }
    e->seclen = (uint16_t)seclen;
    return TSC_OK;
}

static const struct tsc_kl_entry *tsc_kl_lookup(const struct tsc_keys *k,
                                                enum tsc_keylog_label label, const uint8_t *key,
                                                size_t keylen)
{
    if (k == NULL || key == NULL || keylen == 0 || keylen > 32 ||
        (unsigned)label >= TSC_KL__COUNT) {
        return NULL;
    }
    return tsc_kl_find(k, (uint8_t)label, key, keylen);
}

bool tsc_keys_keylog_find(const struct tsc_keys *k, enum tsc_keylog_label label, const uint8_t *key,
                          size_t keylen, uint8_t *out, size_t *len)
{
    const struct tsc_kl_entry *e = tsc_kl_lookup(k, label, key, keylen);
    if (e == NULL || e->seclen > TSC_MAX_SECRET) {
        return false;
    }
    memcpy(out, e->secret, e->seclen);
    *len = e->seclen;
    return true;
}

bool tsc_keys_keylog_get(const struct tsc_keys *k, enum tsc_keylog_label label, const uint8_t *key,
                         size_t keylen, const uint8_t **secret, size_t *len)
{
    const struct tsc_kl_entry *e = tsc_kl_lookup(k, label, key, keylen);
    if (e == NULL) {
        return false;
    }
    *secret = e->seclen > TSC_MAX_SECRET ? k->kl_long + e->long_off : e->secret;
    *len = e->seclen;
    return true;
}

bool tsc_keys_keylog_from_dsb(const struct tsc_keys *k, enum tsc_keylog_label label,
                              const uint8_t *key, size_t keylen)
{
    const struct tsc_kl_entry *e = tsc_kl_lookup(k, label, key, keylen);
    return e != NULL && e->dsb;
}

enum tsc_err tsc_keys_add_dsb_keylog(struct tsc_keys *k, const uint8_t *data, size_t len,
                                     const char *origin)
{
    TSC_ENSURE(k != NULL && (data != NULL || len == 0), TSC_ERR_ARG);
    k->adding_dsb = true;
    uint64_t line_no = 0;
    size_t i = 0;
    /* Each pass consumes one line: bounded by len. */
    while (i < len) {
        size_t j = i;
        while (j < len && data[j] != '\n') {
            j++;
        }
        line_no++;
        /* Bad lines are diagnostics inside; the rest of the block still counts. */
        (void)!tsc_keys_add_keylog_line(k, (const char *)data + i, j - i, origin, line_no);
        i = j + 1;
    }
    k->adding_dsb = false;
    return TSC_OK;
}

/* ---- line parser ---- */

static int tsc_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes exactly n chars of hex into out (n even, n / 2 <= cap). */
static bool tsc_unhex(const char *s, size_t n, uint8_t *out, size_t cap)
{
    if (n % 2 != 0 || n / 2 > cap) {
        return false;
    }
    for (size_t i = 0; i < n; i += 2) {
        int hi = tsc_hexval(s[i]);
        int lo = tsc_hexval(s[i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

struct tsc_tok {
    const char *p;
    size_t len;
};

static size_t tsc_split(const char *s, size_t n, struct tsc_tok *tok, size_t maxtok)
{
    size_t nt = 0;
    size_t i = 0;
    /* Each iteration consumes at least one character: bounded by n. */
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t')) {
            i++;
        }
        if (i >= n) {
            break;
        }
        size_t st = i;
        while (i < n && s[i] != ' ' && s[i] != '\t') {
            i++;
        }
        if (nt < maxtok) {
            tok[nt].p = s + st;
            tok[nt].len = i - st;
        }
        nt++;
    }
    return nt;
}

static void tsc_kl_bad(struct tsc_keys *k, const char *origin, uint64_t line_no, const char *why)
{
    k->kl_bad++;
    if (k->sink != NULL) {
        struct tsc_where w = {origin, 0, TSC_NO_CONN, -1, -1};
        tsc_diag(k->sink, TSC_DIAG_KEYLOG_BAD_LINE, &w, "%s:%llu: %s; line skipped",
                 origin != NULL ? origin : "keylog", (unsigned long long)line_no, why);
    }
}

enum tsc_err tsc_keys_add_keylog_line(struct tsc_keys *k, const char *line, size_t len,
                                      const char *origin, uint64_t line_no)
{
    TSC_ENSURE(k != NULL && (line != NULL || len == 0), TSC_ERR_ARG);
    /* Line endings: LF, CRLF (and a lone trailing CR). */
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        len--;
    }
    if (len > TSC_KEYLOG_MAX_LINE) {
        tsc_kl_bad(k, origin, line_no, "line longer than " TSC_KEYLOG_MAX_LINE_STR " characters");
        return TSC_ERR_LIMIT;
    }
    struct tsc_tok tok[4];
    size_t nt = tsc_split(line, len, tok, 4);
    if (nt == 0 || tok[0].p[0] == '#') {
        return TSC_OK; /* blank or comment */
    }
    if (nt != 3) {
        tsc_kl_bad(k, origin, line_no, "expected three fields: label, key, secret");
        return TSC_ERR_DECODE;
    }
    int label = -1;
    for (int i = 0; i < TSC_KL__COUNT; i++) {
        if (strlen(tsc_kl_names[i]) == tok[0].len &&
            memcmp(tsc_kl_names[i], tok[0].p, tok[0].len) == 0) {
            label = i;
            break;
        }
    }
    if (label < 0) {
        tsc_kl_bad(k, origin, line_no, "unknown label");
        return TSC_ERR_DECODE;
    }
    uint8_t key[32];
    uint8_t secret[TSC_MAX_PREMASTER];
    size_t keylen = label == TSC_KL_RSA ? 8 : 32;
    if (tok[1].len != keylen * 2 || !tsc_unhex(tok[1].p, tok[1].len, key, sizeof(key))) {
        tsc_kl_bad(k, origin, line_no,
                   label == TSC_KL_RSA ? "RSA key field is not 16 hex digits"
                                       : "client random is not 64 hex digits");
        return TSC_ERR_DECODE;
    }
    size_t sl = tok[2].len / 2;
    bool len_ok;
    switch (label) {
    case TSC_KL_CLIENT_RANDOM:
    case TSC_KL_RSA:
        len_ok = sl == 48; /* master secret / RSA premaster (RFC 5246 8.1, 7.4.7.1) */
        break;
    case TSC_KL_PMS_CLIENT_RANDOM:
        /* RSA (48), ECDHE (the x coordinate, <= 66) or finite-field DHE (the size of p). */
        len_ok = sl >= 1 && sl <= TSC_MAX_PREMASTER;
        break;
    default:
        len_ok = sl == 32 || sl == 48; /* SHA-256 or SHA-384 traffic secrets */
        break;
    }
    if (tok[2].len % 2 != 0 || !len_ok) {
        tsc_kl_bad(k, origin, line_no, "secret has the wrong length for its label");
        return TSC_ERR_DECODE;
    }
    if (!tsc_unhex(tok[2].p, tok[2].len, secret, sizeof(secret))) {
        OPENSSL_cleanse(secret, sizeof(secret));
        tsc_kl_bad(k, origin, line_no, "secret is not hex");
        return TSC_ERR_DECODE;
    }
    enum tsc_err e = TSC_OK;
    if (k->kl_count >= TSC_KEYLOG_MAX_ENTRIES) {
        k->kl_bad++;
        if (!k->kl_limit_reported && k->sink != NULL) {
            struct tsc_where w = {origin, 0, TSC_NO_CONN, -1, -1};
            tsc_diag(k->sink, TSC_DIAG_KEY_LIMIT, &w,
                     "%s:%llu: key log entry cap (%u) reached; further entries ignored",
                     origin != NULL ? origin : "keylog", (unsigned long long)line_no,
                     TSC_KEYLOG_MAX_ENTRIES);
        }
        k->kl_limit_reported = true;
        e = TSC_ERR_LIMIT;
    } else {
        e = tsc_kl_put(k, (uint8_t)label, key, keylen, secret, sl);
        if (e == TSC_ERR_LIMIT) {
            k->kl_bad++;
            if (!k->kl_long_limit_reported && k->sink != NULL) {
                struct tsc_where w = {origin, 0, TSC_NO_CONN, -1, -1};
                tsc_diag(k->sink, TSC_DIAG_KEY_LIMIT, &w,
                         "%s:%llu: key log secrets longer than %d bytes fill their %u MiB cap; "
                         "further long secrets ignored",
                         origin != NULL ? origin : "keylog", (unsigned long long)line_no,
                         TSC_MAX_SECRET, TSC_KEYLOG_LONG_ARENA_MAX >> 20);
            }
            k->kl_long_limit_reported = true;
        }
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    return e;
}

enum tsc_err tsc_keys_load_keylog_file(struct tsc_keys *k, const char *path)
{
    TSC_ENSURE(k != NULL && path != NULL, TSC_ERR_ARG);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (k->sink != NULL) {
            struct tsc_where w = {path, 0, TSC_NO_CONN, -1, -1};
            tsc_diag(k->sink, TSC_DIAG_KEY_FILE, &w, "%s: cannot open key log: %s", path,
                     strerror(errno));
        }
        return TSC_ERR_IO;
    }
    char buf[TSC_KEYLOG_MAX_LINE + 3];
    uint64_t line_no = 0;
    enum tsc_err e = TSC_OK;
    /* Every fgets consumes input; the file is finite. */
    while (fgets(buf, sizeof(buf), f) != NULL) {
        line_no++;
        size_t n = strlen(buf);
        bool complete = n > 0 && buf[n - 1] == '\n';
        if (!complete && !feof(f)) {
            /* Overlong: drop the rest of the line, report it once. */
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n') {
            }
            tsc_kl_bad(k, path, line_no, "line longer than " TSC_KEYLOG_MAX_LINE_STR " characters");
            continue;
        }
        enum tsc_err le = tsc_keys_add_keylog_line(k, buf, n, path, line_no);
        if (le == TSC_ERR_NOMEM) {
            e = le;
            break;
        }
    }
    if (ferror(f) && e == TSC_OK) {
        e = TSC_ERR_IO;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    fclose(f);
    return e;
}

/* ---- trial decryption candidates ---- */

static const char *const tsc_tc_names[TSC_TRIAL_COST__COUNT] = {
#define TSC_TC_NAME(e, s) [e] = s,
    TSC_TRIAL_COSTS(TSC_TC_NAME)
#undef TSC_TC_NAME
};

const char *tsc_trial_cost_name(enum tsc_trial_cost_kind c)
{
    return (unsigned)c < TSC_TRIAL_COST__COUNT ? tsc_tc_names[c] : NULL;
}

void tsc_keys_trial_span(const struct tsc_keys *k, enum tsc_keylog_label label, uint64_t *first,
                         uint64_t *end)
{
    *first = *end = 0;
    int li = tsc_kl_list_of((unsigned)label);
    if (k == NULL || li < 0) {
        return;
    }
    const struct tsc_kl_list *old = &k->tl_old[li];
    const struct tsc_kl_list *cur = &k->tl[li];
    *first = old->n > 0 ? old->base : cur->base;
    *end = cur->base + cur->n;
}

bool tsc_keys_trial_get(const struct tsc_keys *k, enum tsc_keylog_label label, uint64_t pos,
                        uint8_t cr[32], uint8_t *secret, size_t *len, bool *bound)
{
    int li = tsc_kl_list_of((unsigned)label);
    if (k == NULL || li < 0) {
        return false;
    }
    const struct tsc_kl_list *l = &k->tl[li];
    if (pos < l->base) {
        l = &k->tl_old[li];
    }
    if (pos < l->base || pos - l->base >= l->n) {
        return false;
    }
    memcpy(cr, l->cr[pos - l->base], 32);
    const struct tsc_kl_entry *e = tsc_kl_find(k, (uint8_t)label, cr, 32);
    if (e == NULL || e->seclen > TSC_MAX_SECRET) {
        return false;
    }
    memcpy(secret, e->secret, e->seclen);
    *len = e->seclen;
    *bound = atomic_load_explicit(&e->bound, memory_order_relaxed) != 0;
    return true;
}

void tsc_keys_keylog_bind(const struct tsc_keys *k, const uint8_t cr[32])
{
    static const uint8_t labels[2] = {TSC_KL_CLIENT_TRAFFIC_SECRET_0,
                                      TSC_KL_SERVER_TRAFFIC_SECRET_0};
    if (k == NULL || cr == NULL) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        const struct tsc_kl_entry *e = tsc_kl_find(k, labels[i], cr, 32);
        if (e != NULL) {
            /* The entry is not const (the index owns it); only this flag is written. */
            atomic_store_explicit(&((struct tsc_kl_entry *)e)->bound, 1, memory_order_relaxed);
        }
    }
}

void tsc_keys_set_trial_max(struct tsc_keys *k, uint32_t n)
{
    if (k != NULL) {
        k->trial_max = n == 0 ? TSC_TRIAL_MAX_DEFAULT : n;
    }
}

uint32_t tsc_keys_trial_max(const struct tsc_keys *k)
{
    return k != NULL ? k->trial_max : 0;
}

void tsc_keys_trial_account(const struct tsc_keys *k, const uint64_t cost[TSC_TRIAL_COST__COUNT])
{
    if (k == NULL) {
        return;
    }
    struct tsc_keys *w = (struct tsc_keys *)k; /* counters only, atomic */
    for (int i = 0; i < TSC_TRIAL_COST__COUNT; i++) {
        if (cost[i] != 0) {
            atomic_fetch_add_explicit(&w->trial_cost[i], cost[i], memory_order_relaxed);
        }
    }
}

/* ---- PSK ---- */

enum tsc_err tsc_keys_add_psk(struct tsc_keys *k, const uint8_t *psk, size_t len,
                              const char *identity)
{
    TSC_ENSURE(k != NULL && psk != NULL, TSC_ERR_ARG);
    /* RFC 4279 5.3: PSKs up to 64 octets MUST be supported; that is our bound. */
    TSC_ENSURE(len >= 1 && len <= TSC_MAX_SECRET, TSC_ERR_LIMIT);
    size_t idlen = identity == NULL ? 0 : strlen(identity);
    TSC_ENSURE(idlen <= TSC_PSK_ID_MAX, TSC_ERR_LIMIT);
    TSC_ENSURE(k->n_psk < TSC_PSK_MAX, TSC_ERR_LIMIT);
    struct tsc_psk_entry *p = &k->psk[k->n_psk++];
    p->any_identity = identity == NULL;
    p->idlen = (uint8_t)idlen;
    if (idlen > 0) {
        memcpy(p->identity, identity, idlen);
    }
    p->len = (uint8_t)len;
    memcpy(p->psk, psk, len);
    return TSC_OK;
}

bool tsc_keys_psk_find(const struct tsc_keys *k, const uint8_t *identity, size_t idlen,
                       uint8_t *out, size_t *len)
{
    if (k == NULL) {
        return false;
    }
    const struct tsc_psk_entry *any = NULL;
    for (uint32_t i = 0; i < k->n_psk; i++) {
        const struct tsc_psk_entry *p = &k->psk[i];
        if (p->any_identity) {
            if (any == NULL) {
                any = p;
            }
            continue;
        }
        if (identity != NULL && p->idlen == idlen && memcmp(p->identity, identity, idlen) == 0) {
            memcpy(out, p->psk, p->len);
            *len = p->len;
            return true;
        }
    }
    if (any != NULL) {
        memcpy(out, any->psk, any->len);
        *len = any->len;
        return true;
    }
    return false;
}
