/*
 * Cipher suite table built once from the registry names (src/tls/names.h) and
 * the run-wide cache of fetched algorithms. Both are written only inside
 * pthread_once and read-only afterwards.
 */
#include "crypto/suites.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tls/names.h"

#define TSC_SUITES_MAX 1024u

struct tsc_bulk_def {
    const char *token;
    const char *ossl;
    uint8_t key, block, fixed_iv, record_iv, tag;
    enum tsc_cipher_family fam;
};

static const struct tsc_bulk_def tsc_bulk_defs[TSC_BULK__COUNT] = {
#define TSC_BULK_DEF(e, tok, os, k, b, fi, ri, t, fm) [e] = {tok, os, k, b, fi, ri, t, fm},
    TSC_BULK_LIST(TSC_BULK_DEF)
#undef TSC_BULK_DEF
};

static const char *const tsc_md_names[TSC_MD__COUNT] = {
    [TSC_MD_NONE] = NULL,         [TSC_MD_MD5] = "MD5",         [TSC_MD_SHA1] = "SHA1",
    [TSC_MD_SHA256] = "SHA2-256", [TSC_MD_SHA384] = "SHA2-384",
};

const char *tsc_md_name(enum tsc_md m)
{
    return (unsigned)m < TSC_MD__COUNT ? tsc_md_names[m] : NULL;
}

struct tsc_kex_def {
    const char *token;
    enum tsc_kex kex;
};

/* Key exchange tokens between "TLS_" and "_WITH_" (upper case, as the registry CSV). */
static const struct tsc_kex_def tsc_kex_defs[] = {
    {"RSA", TSC_KEX_RSA},         {"DHE_RSA", TSC_KEX_DHE},
    {"DHE_DSS", TSC_KEX_DHE},     {"DH_RSA", TSC_KEX_DHE},
    {"DH_DSS", TSC_KEX_DHE},      {"DH_ANON", TSC_KEX_DHE},
    {"ECDHE_RSA", TSC_KEX_ECDHE}, {"ECDHE_ECDSA", TSC_KEX_ECDHE},
    {"ECDH_RSA", TSC_KEX_ECDHE},  {"ECDH_ECDSA", TSC_KEX_ECDHE},
    {"ECDH_ANON", TSC_KEX_ECDHE}, {"PSK", TSC_KEX_PSK},
    {"RSA_PSK", TSC_KEX_RSA_PSK}, {"DHE_PSK", TSC_KEX_DHE_PSK},
    {"PSK_DHE", TSC_KEX_DHE_PSK}, {"ECDHE_PSK", TSC_KEX_ECDHE_PSK},
};

struct tsc_suite_state {
    struct tsc_suite suites[TSC_SUITES_MAX];
    unsigned n;
    const EVP_CIPHER *cipher[TSC_BULK__COUNT];
    const EVP_MD *md[TSC_MD__COUNT];
    EVP_MAC *hmac;
};

/* Written once under pthread_once, read-only afterwards. */
static struct tsc_suite_state tsc_ss;
static pthread_once_t tsc_ss_once = PTHREAD_ONCE_INIT;

static bool tsc_md_token(const char *s, enum tsc_md *out)
{
    if (strcmp(s, "MD5") == 0) {
        *out = TSC_MD_MD5;
    } else if (strcmp(s, "SHA") == 0) {
        *out = TSC_MD_SHA1;
    } else if (strcmp(s, "SHA256") == 0) {
        *out = TSC_MD_SHA256;
    } else if (strcmp(s, "SHA384") == 0) {
        *out = TSC_MD_SHA384;
    } else {
        return false;
    }
    return true;
}

size_t tsc_md_len(enum tsc_md m)
{
    switch (m) {
    case TSC_MD_MD5:
        return 16;
    case TSC_MD_SHA1:
        return 20;
    case TSC_MD_SHA256:
        return 32;
    case TSC_MD_SHA384:
        return 48;
    default:
        return 0;
    }
}

/*
 * "<bulk>[_<mac>]": bulk from the table; for block and stream ciphers the MAC
 * token is required and names the PRF hash too (SHA384 suites use SHA-384,
 * all others SHA-256: RFC 5246 5, RFC 5289 3.2); AEAD suites name only the PRF
 * hash, which defaults to SHA-256 (RFC 6655 3 for CCM).
 */
static bool tsc_parse_bulk(const char *s, struct tsc_suite *st)
{
    for (int b = 0; b < TSC_BULK__COUNT; b++) {
        const struct tsc_bulk_def *d = &tsc_bulk_defs[b];
        size_t tl = strlen(d->token);
        if (strncmp(s, d->token, tl) != 0) {
            continue;
        }
        const char *rest = s + tl;
        enum tsc_md md = TSC_MD_NONE;
        if (rest[0] == '_') {
            if (!tsc_md_token(rest + 1, &md)) {
                continue;
            }
        } else if (rest[0] != '\0') {
            continue;
        }
        bool aead = d->fam == TSC_FAM_GCM || d->fam == TSC_FAM_CCM || d->fam == TSC_FAM_CHACHA;
        if (aead) {
            if (md == TSC_MD_MD5 || md == TSC_MD_SHA1) {
                continue;
            }
            st->mac = TSC_MD_NONE;
            st->hash = md == TSC_MD_NONE ? TSC_MD_SHA256 : md;
        } else {
            if (md == TSC_MD_NONE) {
                continue;
            }
            st->mac = md;
            st->hash = md == TSC_MD_SHA384 ? TSC_MD_SHA384 : TSC_MD_SHA256;
        }
        st->bulk = (enum tsc_bulk)b;
        st->family = d->fam;
        st->key_len = d->key;
        st->block_len = d->block;
        st->fixed_iv_len = d->fixed_iv;
        st->record_iv_len = d->record_iv;
        st->tag_len = d->tag;
        st->mac_len = (uint8_t)tsc_md_len(st->mac);
        return true;
    }
    return false;
}

static bool tsc_parse_suite(uint16_t id, const char *name, struct tsc_suite *st)
{
    char kex[64];
    memset(st, 0, sizeof(*st));
    st->id = id;
    st->name = name;
    if (strncmp(name, "TLS_", 4) != 0 && strncmp(name, "SSL_", 4) != 0) {
        return false;
    }
    const char *body = name + 4;
    const char *with = strstr(body, "_WITH_");
    if (with == NULL) {
        /* RFC 8446 B.4: TLS_<AEAD>_<HASH>, only in 0x13xx. */
        if ((id >> 8) != 0x13) {
            return false;
        }
        st->kex = TSC_KEX_TLS13;
        st->tls13 = true;
        if (!tsc_parse_bulk(body, st) || st->mac != TSC_MD_NONE) {
            return false;
        }
        /* TLS 1.3 AEAD nonces are 12 bytes from the key schedule (RFC 8446 5.3). */
        st->fixed_iv_len = 12;
        st->record_iv_len = 0;
        return true;
    }
    size_t kl = (size_t)(with - body);
    if (kl == 0 || kl >= sizeof(kex)) {
        return false;
    }
    memcpy(kex, body, kl);
    kex[kl] = '\0';
    st->kex = TSC_KEX_OTHER;
    for (size_t i = 0; i < sizeof(tsc_kex_defs) / sizeof(tsc_kex_defs[0]); i++) {
        if (strcmp(kex, tsc_kex_defs[i].token) == 0) {
            st->kex = tsc_kex_defs[i].kex;
            break;
        }
    }
    if (strcmp(kex, "NULL") == 0) {
        return false; /* TLS_NULL_WITH_NULL_NULL: the initial state, nothing to derive */
    }
    return tsc_parse_bulk(with + 6, st);
}

static void tsc_ss_init(void)
{
    /* Explicit loading replaces the implicit default provider: load both. */
    (void)OSSL_PROVIDER_load(NULL, "default");
    (void)OSSL_PROVIDER_load(NULL, "legacy");
    for (int b = 0; b < TSC_BULK__COUNT; b++) {
        if (tsc_bulk_defs[b].ossl != NULL) {
            tsc_ss.cipher[b] = EVP_CIPHER_fetch(NULL, tsc_bulk_defs[b].ossl, NULL);
        }
    }
    for (int m = 1; m < TSC_MD__COUNT; m++) {
        tsc_ss.md[m] = EVP_MD_fetch(NULL, tsc_md_names[m], NULL);
    }
    tsc_ss.hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    ERR_clear_error();
    for (uint32_t id = 0; id <= 0xffff && tsc_ss.n < TSC_SUITES_MAX; id++) {
        const char *name = tsc_name_cipher_suite((uint16_t)id);
        if (name == NULL || tsc_is_grease((uint16_t)id)) {
            continue;
        }
        if (tsc_parse_suite((uint16_t)id, name, &tsc_ss.suites[tsc_ss.n])) {
            tsc_ss.n++;
        }
    }
}

static const struct tsc_suite_state *tsc_ss_get(void)
{
    (void)pthread_once(&tsc_ss_once, tsc_ss_init);
    return &tsc_ss;
}

const struct tsc_suite *tsc_suite_find(uint16_t id)
{
    const struct tsc_suite_state *ss = tsc_ss_get();
    unsigned lo = 0;
    unsigned hi = ss->n;
    /* ids were added in increasing order: binary search */
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (ss->suites[mid].id == id) {
            return &ss->suites[mid];
        }
        if (ss->suites[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

unsigned tsc_suite_count(void)
{
    return tsc_ss_get()->n;
}

const EVP_CIPHER *tsc_alg_cipher(enum tsc_bulk b)
{
    if ((unsigned)b >= TSC_BULK__COUNT) {
        return NULL;
    }
    return tsc_ss_get()->cipher[b];
}

const EVP_MD *tsc_alg_md(enum tsc_md m)
{
    if ((unsigned)m >= TSC_MD__COUNT) {
        return NULL;
    }
    return tsc_ss_get()->md[m];
}

EVP_MAC *tsc_alg_hmac(void)
{
    return tsc_ss_get()->hmac;
}
