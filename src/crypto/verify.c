/* Signature and certificate chain checks for --verify (verify.h). */
#include "crypto/verify.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/suites.h"

static const char *const tsc_sigerr_names[TSC_SIGERR__COUNT] = {
#define TSC_SIGERR_NAME(e, s) [e] = s,
    TSC_SIGERR_LIST(TSC_SIGERR_NAME)
#undef TSC_SIGERR_NAME
};

const char *tsc_sigerr_name(enum tsc_sigerr e)
{
    return (unsigned)e < TSC_SIGERR__COUNT ? tsc_sigerr_names[e] : NULL;
}

/* ---- certificate cache ---- */

struct tsc_vcert_slot {
    uint8_t sha256[32];
    X509 *x; /* NULL: empty */
};

struct tsc_vcert_cache {
    pthread_mutex_t mu;
    uint32_t n; /* power of two */
    struct tsc_vcert_slot *slots;
};

/* struct tsc_vcert is an X509 behind an opaque name; its reference count is the X509's. */
static X509 *tsc_x(const struct tsc_vcert *v)
{
    return (X509 *)(void *)v;
}

enum tsc_err tsc_vcert_cache_new(struct tsc_vcert_cache **out, uint32_t slots)
{
    uint32_t n = 1;
    if (slots == 0) {
        slots = 1024;
    }
    while (n < slots && n < (1u << 20)) {
        n <<= 1;
    }
    struct tsc_vcert_cache *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return TSC_ERR_NOMEM;
    }
    c->slots = calloc(n, sizeof(*c->slots));
    if (c->slots == NULL) {
        free(c);
        return TSC_ERR_NOMEM;
    }
    c->n = n;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return TSC_OK;
}

void tsc_vcert_cache_free(struct tsc_vcert_cache *c)
{
    if (c == NULL) {
        return;
    }
    for (uint32_t i = 0; i < c->n; i++) {
        X509_free(c->slots[i].x);
    }
    pthread_mutex_destroy(&c->mu);
    free(c->slots);
    free(c);
}

struct tsc_vcert *tsc_vcert_get(struct tsc_vcert_cache *c, const uint8_t *der, size_t len)
{
    if (der == NULL || len == 0 || len > (1u << 24)) {
        return NULL;
    }
    uint8_t h[32];
    unsigned hl = 0;
    const EVP_MD *md = tsc_alg_md(TSC_MD_SHA256);
    bool hashed = c != NULL && md != NULL && EVP_Digest(der, len, h, &hl, md, NULL) == 1;
    struct tsc_vcert_slot *s = NULL;
    if (hashed) {
        uint32_t idx;
        memcpy(&idx, h, sizeof(idx));
        s = &c->slots[idx & (c->n - 1)];
        pthread_mutex_lock(&c->mu);
        if (s->x != NULL && memcmp(s->sha256, h, 32) == 0) {
            X509 *x = s->x;
            X509_up_ref(x);
            pthread_mutex_unlock(&c->mu);
            return (struct tsc_vcert *)(void *)x;
        }
        pthread_mutex_unlock(&c->mu);
    }
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL || X509_get0_pubkey(x) == NULL) {
        X509_free(x);
        return NULL;
    }
    if (s != NULL) {
        pthread_mutex_lock(&c->mu);
        X509_free(s->x); /* a colliding slot is overwritten */
        X509_up_ref(x);
        s->x = x;
        memcpy(s->sha256, h, 32);
        pthread_mutex_unlock(&c->mu);
    }
    return (struct tsc_vcert *)(void *)x;
}

void tsc_vcert_put(struct tsc_vcert *v)
{
    X509_free(tsc_x(v));
}

bool tsc_vcert_matches_host(const struct tsc_vcert *leaf, const char *host)
{
    if (leaf == NULL || host == NULL || host[0] == '\0') {
        return false;
    }
    return X509_check_host(tsc_x(leaf), host, strlen(host), 0, NULL) == 1;
}

/* ---- signature schemes ---- */

enum tsc_sigkind {
    TSC_SK_NONE = 0,
    TSC_SK_PKCS1,    /* RSASSA-PKCS1-v1_5 */
    TSC_SK_PSS_RSAE, /* RSASSA-PSS with an rsaEncryption key */
    TSC_SK_PSS_PSS,  /* RSASSA-PSS with an RSASSA-PSS key */
    TSC_SK_ECDSA,
    TSC_SK_DSA,
    TSC_SK_ED25519,
    TSC_SK_ED448,
};

struct tsc_scheme {
    enum tsc_sigkind kind;
    const char *md; /* libcrypto digest name, NULL for EdDSA */
};

/*
 * RFC 5246 7.4.1.4.1 (hash byte 1 md5 .. 6 sha512, signature byte 1 rsa,
 * 2 dsa, 3 ecdsa) and RFC 8446 4.2.3 / RFC 8734 SignatureScheme values.
 */
static struct tsc_scheme tsc_scheme_of(uint16_t v)
{
    static const char *const hashes[7] = {NULL,     "MD5",    "SHA1",  "SHA224",
                                          "SHA256", "SHA384", "SHA512"};
    struct tsc_scheme s = {TSC_SK_NONE, NULL};
    uint8_t hi = (uint8_t)(v >> 8), lo = (uint8_t)v;
    if (hi >= 1 && hi <= 6 && lo >= 1 && lo <= 3) {
        static const enum tsc_sigkind kinds[4] = {TSC_SK_NONE, TSC_SK_PKCS1, TSC_SK_DSA,
                                                  TSC_SK_ECDSA};
        s.kind = kinds[lo];
        s.md = hashes[hi];
        return s;
    }
    switch (v) {
    case 0x0804: s = (struct tsc_scheme){TSC_SK_PSS_RSAE, "SHA256"}; break;
    case 0x0805: s = (struct tsc_scheme){TSC_SK_PSS_RSAE, "SHA384"}; break;
    case 0x0806: s = (struct tsc_scheme){TSC_SK_PSS_RSAE, "SHA512"}; break;
    case 0x0809: s = (struct tsc_scheme){TSC_SK_PSS_PSS, "SHA256"}; break;
    case 0x080a: s = (struct tsc_scheme){TSC_SK_PSS_PSS, "SHA384"}; break;
    case 0x080b: s = (struct tsc_scheme){TSC_SK_PSS_PSS, "SHA512"}; break;
    case 0x0807: s = (struct tsc_scheme){TSC_SK_ED25519, NULL}; break;
    case 0x0808: s = (struct tsc_scheme){TSC_SK_ED448, NULL}; break;
    case 0x081a: s = (struct tsc_scheme){TSC_SK_ECDSA, "SHA256"}; break; /* brainpool, RFC 8734 */
    case 0x081b: s = (struct tsc_scheme){TSC_SK_ECDSA, "SHA384"}; break;
    case 0x081c: s = (struct tsc_scheme){TSC_SK_ECDSA, "SHA512"}; break;
    default: break;
    }
    return s;
}

static bool tsc_key_fits(EVP_PKEY *pk, enum tsc_sigkind k)
{
    int id = EVP_PKEY_get_base_id(pk);
    switch (k) {
    case TSC_SK_PKCS1:
    case TSC_SK_PSS_RSAE:
        return id == EVP_PKEY_RSA;
    case TSC_SK_PSS_PSS:
        return id == EVP_PKEY_RSA_PSS;
    case TSC_SK_ECDSA:
        return id == EVP_PKEY_EC;
    case TSC_SK_DSA:
        return id == EVP_PKEY_DSA;
    case TSC_SK_ED25519:
        return id == EVP_PKEY_ED25519;
    case TSC_SK_ED448:
        return id == EVP_PKEY_ED448;
    default:
        return false;
    }
}

/* Scheme for a signature without SignatureAndHashAlgorithm (TLS < 1.2): by key type. */
static struct tsc_scheme tsc_legacy_scheme(EVP_PKEY *pk)
{
    struct tsc_scheme s = {TSC_SK_NONE, NULL};
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        s = (struct tsc_scheme){TSC_SK_PKCS1, "MD5-SHA1"}; /* RFC 2246 7.4.3: no DigestInfo */
        break;
    case EVP_PKEY_EC:
        s = (struct tsc_scheme){TSC_SK_ECDSA, "SHA1"}; /* RFC 4492 5.4 */
        break;
    case EVP_PKEY_DSA:
        s = (struct tsc_scheme){TSC_SK_DSA, "SHA1"};
        break;
    default:
        break;
    }
    return s;
}

static bool tsc_set_padding(EVP_PKEY_CTX *pc, const struct tsc_scheme *s)
{
    if (s->kind == TSC_SK_PKCS1) {
        return EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0;
    }
    if (s->kind == TSC_SK_PSS_RSAE || s->kind == TSC_SK_PSS_PSS) {
        /* RFC 8446 4.2.3: salt as long as the digest, MGF1 with the same hash. */
        return EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) > 0 &&
               EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) > 0;
    }
    return true;
}

/* Resolves the scheme for a key and checks they fit. */
static enum tsc_sigerr tsc_sig_setup(const struct tsc_vcert *cert, const struct tsc_sig_in *in,
                                     EVP_PKEY **pk, struct tsc_scheme *s)
{
    if (cert == NULL) {
        return TSC_SIGERR_NO_CERTIFICATE;
    }
    *pk = X509_get0_pubkey(tsc_x(cert));
    if (*pk == NULL) {
        return TSC_SIGERR_BAD_CERTIFICATE;
    }
    if (in->sig == NULL || in->sig_len == 0) {
        return TSC_SIGERR_TRUNCATED;
    }
    *s = in->has_scheme ? tsc_scheme_of(in->scheme) : tsc_legacy_scheme(*pk);
    if (s->kind == TSC_SK_NONE) {
        return TSC_SIGERR_UNKNOWN_SCHEME;
    }
    if (!tsc_key_fits(*pk, s->kind)) {
        return TSC_SIGERR_KEY_TYPE;
    }
    return TSC_SIGERR_NONE;
}

/*
 * Digests fetched once per run (pthread_once), so a verification does not
 * look its algorithm up by name each time.
 */
static const char *const tsc_vmd_names[] = {"MD5", "SHA1", "SHA224", "SHA256",
                                            "SHA384", "SHA512", "MD5-SHA1"};
#define TSC_VMD_N (sizeof(tsc_vmd_names) / sizeof(tsc_vmd_names[0]))
static EVP_MD *tsc_vmd[TSC_VMD_N];
static pthread_once_t tsc_vmd_once = PTHREAD_ONCE_INIT;

static void tsc_vmd_fetch(void)
{
    for (size_t i = 0; i < TSC_VMD_N; i++) {
        tsc_vmd[i] = EVP_MD_fetch(NULL, tsc_vmd_names[i], NULL); /* NULL: not available */
    }
}

/* The fetched digest for a scheme's name; NULL for EdDSA (no digest) or when missing. */
static const EVP_MD *tsc_vmd_get(const char *name, bool *missing)
{
    *missing = false;
    if (name == NULL) {
        return NULL;
    }
    pthread_once(&tsc_vmd_once, tsc_vmd_fetch);
    for (size_t i = 0; i < TSC_VMD_N; i++) {
        if (strcmp(tsc_vmd_names[i], name) == 0) {
            *missing = tsc_vmd[i] == NULL;
            return tsc_vmd[i];
        }
    }
    *missing = true;
    return NULL;
}

/* Signature over data (hashed here with the scheme's digest; EdDSA signs data itself). */
static enum tsc_sigerr tsc_verify_data(EVP_PKEY *pk, const struct tsc_scheme *s,
                                       const struct tsc_sig_in *in, const uint8_t *data,
                                       size_t len)
{
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    if (mc == NULL) {
        return TSC_SIGERR_INTERNAL;
    }
    enum tsc_sigerr r = TSC_SIGERR_INTERNAL;
    bool missing = false;
    const EVP_MD *md = tsc_vmd_get(s->md, &missing);
    if (!missing && EVP_DigestVerifyInit(mc, &pc, md, NULL, pk) == 1 && tsc_set_padding(pc, s)) {
        r = EVP_DigestVerify(mc, in->sig, in->sig_len, data, len) == 1 ? TSC_SIGERR_NONE
                                                                       : TSC_SIGERR_BAD_SIGNATURE;
    }
    EVP_MD_CTX_free(mc);
    return r;
}

enum tsc_sigerr tsc_verify_ske(const struct tsc_vcert *cert, const struct tsc_sig_in *in,
                               const uint8_t client_random[32], const uint8_t server_random[32],
                               const uint8_t *params, size_t params_len)
{
    EVP_PKEY *pk = NULL;
    struct tsc_scheme s;
    enum tsc_sigerr e = tsc_sig_setup(cert, in, &pk, &s);
    if (e != TSC_SIGERR_NONE) {
        return e;
    }
    if (params == NULL || params_len == 0 || params_len > (1u << 20)) {
        return TSC_SIGERR_TRUNCATED;
    }
    /* One contiguous buffer: EdDSA cannot sign in pieces. 64 + params (< 2^16 on the wire). */
    uint8_t *buf = malloc(64 + params_len);
    if (buf == NULL) {
        return TSC_SIGERR_INTERNAL;
    }
    memcpy(buf, client_random, 32);
    memcpy(buf + 32, server_random, 32);
    memcpy(buf + 64, params, params_len);
    e = tsc_verify_data(pk, &s, in, buf, 64 + params_len);
    free(buf);
    return e;
}

enum tsc_sigerr tsc_verify_cv13(const struct tsc_vcert *cert, const struct tsc_sig_in *in,
                                bool from_server, const uint8_t *transcript_hash, size_t hash_len)
{
    EVP_PKEY *pk = NULL;
    struct tsc_scheme s;
    enum tsc_sigerr e = tsc_sig_setup(cert, in, &pk, &s);
    if (e != TSC_SIGERR_NONE) {
        return e;
    }
    if (!in->has_scheme || s.kind == TSC_SK_PKCS1 || s.kind == TSC_SK_DSA ||
        (s.md != NULL && (strcmp(s.md, "SHA1") == 0 || strcmp(s.md, "MD5") == 0 ||
                          strcmp(s.md, "SHA224") == 0))) {
        return TSC_SIGERR_SCHEME_NOT_ALLOWED; /* RFC 8446 4.2.3, 4.4.3 */
    }
    if (transcript_hash == NULL || hash_len == 0 || hash_len > 64) {
        return TSC_SIGERR_NO_TRANSCRIPT;
    }
    static const char ctx_server[] = "TLS 1.3, server CertificateVerify";
    static const char ctx_client[] = "TLS 1.3, client CertificateVerify";
    uint8_t buf[64 + sizeof(ctx_server) + 64];
    size_t n = 0;
    memset(buf, 0x20, 64);
    n = 64;
    const char *c = from_server ? ctx_server : ctx_client;
    memcpy(buf + n, c, sizeof(ctx_server)); /* with the terminating 0x00 separator */
    n += sizeof(ctx_server);
    memcpy(buf + n, transcript_hash, hash_len);
    n += hash_len;
    return tsc_verify_data(pk, &s, in, buf, n);
}

enum tsc_sigerr tsc_verify_cv12(const struct tsc_vcert *cert, const struct tsc_sig_in *in,
                                const char *md_name, const uint8_t *digest, size_t digest_len)
{
    EVP_PKEY *pk = NULL;
    struct tsc_scheme s;
    enum tsc_sigerr e = tsc_sig_setup(cert, in, &pk, &s);
    if (e != TSC_SIGERR_NONE) {
        return e;
    }
    if (digest == NULL || digest_len == 0) {
        return TSC_SIGERR_NO_TRANSCRIPT;
    }
    if (s.md == NULL) {
        return TSC_SIGERR_NO_TRANSCRIPT; /* EdDSA signs the messages, not a digest */
    }
    const uint8_t *d = digest;
    size_t dl = digest_len;
    if (!in->has_scheme) {
        /* MD5 || SHA-1 transcript: RSA signs all 36 bytes, (EC)DSA the SHA-1 half. */
        if (digest_len != 36) {
            return TSC_SIGERR_NO_TRANSCRIPT;
        }
        if (s.kind != TSC_SK_PKCS1) {
            d += 16;
            dl = 20;
        }
    } else if (md_name == NULL || strcmp(md_name, s.md) != 0) {
        return TSC_SIGERR_NO_TRANSCRIPT;
    }
    bool missing = false;
    const EVP_MD *md = tsc_vmd_get(s.md, &missing);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    enum tsc_sigerr r = TSC_SIGERR_INTERNAL;
    if (md != NULL && pc != NULL && EVP_PKEY_verify_init(pc) == 1 && tsc_set_padding(pc, &s) &&
        EVP_PKEY_CTX_set_signature_md(pc, md) > 0) {
        r = EVP_PKEY_verify(pc, in->sig, in->sig_len, d, dl) == 1 ? TSC_SIGERR_NONE
                                                                  : TSC_SIGERR_BAD_SIGNATURE;
    }
    EVP_PKEY_CTX_free(pc);
    return r;
}

/* ---- chains ---- */

struct tsc_trust {
    X509_STORE *store;
};

int tsc_trust_new(struct tsc_trust **out, const char *ca_file, const char *ca_path, char *errbuf,
                  size_t errlen)
{
    struct tsc_trust *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->store = X509_STORE_new()) == NULL) {
        free(t);
        snprintf(errbuf, errlen, "out of memory creating the trust store");
        return -1;
    }
    if (ca_file != NULL && X509_STORE_load_file(t->store, ca_file) != 1) {
        snprintf(errbuf, errlen, "cannot load CA certificates from %s", ca_file);
        tsc_trust_free(t);
        return -1;
    }
    if (ca_path != NULL && X509_STORE_load_path(t->store, ca_path) != 1) {
        snprintf(errbuf, errlen, "cannot use CA directory %s", ca_path);
        tsc_trust_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void tsc_trust_free(struct tsc_trust *t)
{
    if (t == NULL) {
        return;
    }
    X509_STORE_free(t->store);
    free(t);
}

enum tsc_check tsc_trust_verify(const struct tsc_trust *t, struct tsc_vcert *const *certs,
                               size_t n, int64_t at, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    if (t == NULL || n == 0 || certs[0] == NULL) {
        return TSC_CHECK_NOT_CHECKED;
    }
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    enum tsc_check r = TSC_CHECK_FAIL;
    if (untrusted == NULL || ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 1; i < n; i++) {
        if (certs[i] != NULL && sk_X509_push(untrusted, tsc_x(certs[i])) <= 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (X509_STORE_CTX_init(ctx, t->store, tsc_x(certs[0]), untrusted) != 1) {
        snprintf(err, errlen, "verification context not initialised");
        goto out;
    }
    /* Validity at the time of the capture, not today's. */
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)at);
    if (X509_verify_cert(ctx) == 1) {
        r = TSC_CHECK_PASS;
    } else {
        int code = X509_STORE_CTX_get_error(ctx);
        snprintf(err, errlen, "%s (depth %d)", X509_verify_cert_error_string(code),
                 X509_STORE_CTX_get_error_depth(ctx));
    }
out:
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted); /* the certificates themselves are the caller's */
    return r;
}
