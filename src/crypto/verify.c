/* Signature and certificate chain checks for --verify (verify.h). */
#include "crypto/verify.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/suites.h"
#include "x509/x509.h"

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

/* Certificates larger than this are parsed per use, not cached (the entry keeps the DER). */
#define TSC_VCERT_KEEP_DER 16384u
/* Verification contexts kept per certificate (one per signature scheme it signed with). */
#define TSC_VCERT_TEMPLATES 4
/* Host names up to this length have their name check remembered per leaf. */
#define TSC_VCERT_HOST_MEMO 64

struct tsc_vcert {
    X509 *x;
    atomic_uint refs;
    struct tsc_vcert_cache *cache; /* NULL: not cached (no templates, no memo) */
    uint64_t key;                  /* tsc_x509_der_hash of the DER */
    uint32_t der_len;
    /* Guarded by cache->mu: */
    uint32_t n_tmpl;
    struct {
        uint32_t id; /* tsc_scheme_id */
        EVP_PKEY_CTX *pc;
    } tmpl[TSC_VCERT_TEMPLATES];
    bool host_known;
    bool host_ok;
    char host[TSC_VCERT_HOST_MEMO + 1];
    uint8_t der[]; /* der_len bytes when cached */
};

struct tsc_vcert_cache {
    pthread_mutex_t mu;
    uint32_t n; /* power of two */
    struct tsc_vcert **slots;
    struct tsc_vcert_stats st;
    uint64_t der_bytes; /* DER kept by the entries in slots */
};

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
    c->st.capacity = n;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return TSC_OK;
}

static void tsc_vcert_destroy(struct tsc_vcert *v)
{
    for (uint32_t i = 0; i < v->n_tmpl; i++) {
        EVP_PKEY_CTX_free(v->tmpl[i].pc);
    }
    X509_free(v->x);
    free(v);
}

void tsc_vcert_put(struct tsc_vcert *v)
{
    if (v != NULL && atomic_fetch_sub(&v->refs, 1) == 1) {
        tsc_vcert_destroy(v);
    }
}

void tsc_vcert_cache_free(struct tsc_vcert_cache *c)
{
    if (c == NULL) {
        return;
    }
    for (uint32_t i = 0; i < c->n; i++) {
        tsc_vcert_put(c->slots[i]); /* the cache's reference; holders keep theirs */
    }
    pthread_mutex_destroy(&c->mu);
    free(c->slots);
    free(c);
}

void tsc_vcert_cache_stats(struct tsc_vcert_cache *c, struct tsc_vcert_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    out->memory_bytes = (uint64_t)c->n * sizeof(*c->slots) +
                        out->entries * sizeof(struct tsc_vcert) + c->der_bytes;
    pthread_mutex_unlock(&c->mu);
}

static struct tsc_vcert *tsc_vcert_parse(const uint8_t *der, size_t len, bool keep)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL || X509_get0_pubkey(x) == NULL) {
        X509_free(x);
        ERR_clear_error();
        return NULL;
    }
    struct tsc_vcert *v = calloc(1, sizeof(*v) + (keep ? len : 0));
    if (v == NULL) {
        X509_free(x);
        return NULL;
    }
    v->x = x;
    atomic_init(&v->refs, 1);
    v->der_len = (uint32_t)len;
    if (keep) {
        memcpy(v->der, der, len);
    }
    return v;
}

/*
 * A hit costs a fast hash of the DER and a memcmp against the entry's copy
 * (no SHA-256, no parse): the common case of thousands of handshakes with
 * the same server. A colliding slot is overwritten (counted as an eviction);
 * its certificate lives on while connections hold it.
 */
struct tsc_vcert *tsc_vcert_get(struct tsc_vcert_cache *c, const uint8_t *der, size_t len)
{
    if (der == NULL || len == 0 || len > (1u << 24)) {
        return NULL;
    }
    if (c == NULL || len > TSC_VCERT_KEEP_DER) {
        if (c != NULL) {
            pthread_mutex_lock(&c->mu);
            c->st.lookups++;
            c->st.uncached++;
            pthread_mutex_unlock(&c->mu);
        }
        return tsc_vcert_parse(der, len, false);
    }
    uint64_t key = tsc_x509_der_hash(der, len);
    struct tsc_vcert **s = &c->slots[key & (c->n - 1)];
    pthread_mutex_lock(&c->mu);
    c->st.lookups++;
    struct tsc_vcert *v = *s;
    if (v != NULL && v->key == key && v->der_len == len && memcmp(v->der, der, len) == 0) {
        atomic_fetch_add(&v->refs, 1);
        c->st.hits++;
        pthread_mutex_unlock(&c->mu);
        return v;
    }
    pthread_mutex_unlock(&c->mu);
    v = tsc_vcert_parse(der, len, true);
    if (v == NULL) {
        return NULL;
    }
    v->key = key;
    v->cache = c;
    atomic_fetch_add(&v->refs, 1); /* the cache's reference */
    pthread_mutex_lock(&c->mu);
    struct tsc_vcert *old = *s;
    if (old != NULL) {
        c->st.evictions++;
        c->der_bytes -= old->der_len;
        c->st.entries--;
    }
    *s = v;
    c->der_bytes += len;
    c->st.entries++;
    pthread_mutex_unlock(&c->mu);
    tsc_vcert_put(old);
    return v;
}

bool tsc_vcert_matches_host(struct tsc_vcert *leaf, const char *host)
{
    if (leaf == NULL || host == NULL || host[0] == '\0') {
        return false;
    }
    size_t n = strlen(host);
    struct tsc_vcert_cache *c = leaf->cache;
    bool memo = c != NULL && n <= TSC_VCERT_HOST_MEMO;
    if (memo) {
        pthread_mutex_lock(&c->mu);
        if (leaf->host_known && strcmp(leaf->host, host) == 0) {
            bool ok = leaf->host_ok;
            c->st.name_hits++;
            pthread_mutex_unlock(&c->mu);
            return ok;
        }
        pthread_mutex_unlock(&c->mu);
    }
    bool ok = X509_check_host(leaf->x, host, n, 0, NULL) == 1;
    if (memo) {
        pthread_mutex_lock(&c->mu);
        memcpy(leaf->host, host, n + 1);
        leaf->host_ok = ok;
        leaf->host_known = true;
        pthread_mutex_unlock(&c->mu);
    }
    return ok;
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
    *pk = X509_get0_pubkey(cert->x);
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

/* Signed data in pieces (hashed in order; EdDSA needs them contiguous: one piece). */
struct tsc_piece {
    const uint8_t *p;
    size_t n;
};

/* EdDSA signs the data itself (RFC 8032): one-shot, no digest, no cached context. */
static enum tsc_sigerr tsc_verify_eddsa(EVP_PKEY *pk, const struct tsc_sig_in *in,
                                        const uint8_t *data, size_t len)
{
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    enum tsc_sigerr r = TSC_SIGERR_INTERNAL;
    if (mc != NULL && EVP_DigestVerifyInit(mc, NULL, NULL, NULL, pk) == 1) {
        r = EVP_DigestVerify(mc, in->sig, in->sig_len, data, len) == 1 ? TSC_SIGERR_NONE
                                                                       : TSC_SIGERR_BAD_SIGNATURE;
    }
    EVP_MD_CTX_free(mc);
    ERR_clear_error();
    return r;
}

/* A verification context for key + scheme: verify_init, padding and digest set. */
static EVP_PKEY_CTX *tsc_verify_ctx_new(EVP_PKEY *pk, const struct tsc_scheme *s,
                                        const EVP_MD *md)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    if (pc == NULL || EVP_PKEY_verify_init(pc) != 1 || !tsc_set_padding(pc, s) ||
        EVP_PKEY_CTX_set_signature_md(pc, md) <= 0) {
        EVP_PKEY_CTX_free(pc);
        return NULL;
    }
    return pc;
}

/*
 * The context a verification runs on (the caller frees it): a copy of the
 * certificate's cached template for this scheme, made on first use. Setting
 * a context up from the key looks the signature algorithm and key manager up
 * by name (about 2.6 us a time against 0.4 us for the copy); the template
 * makes that once per certificate and scheme. A copy per use keeps
 * concurrent verifications with one key apart.
 */
static EVP_PKEY_CTX *tsc_verify_ctx(struct tsc_vcert *cert, EVP_PKEY *pk,
                                    const struct tsc_scheme *s, uint32_t id, const EVP_MD *md)
{
    struct tsc_vcert_cache *c = cert->cache;
    if (c == NULL) {
        return tsc_verify_ctx_new(pk, s, md);
    }
    EVP_PKEY_CTX *pc = NULL;
    pthread_mutex_lock(&c->mu);
    uint32_t i = 0;
    while (i < cert->n_tmpl && cert->tmpl[i].id != id) {
        i++;
    }
    if (i == cert->n_tmpl && i < TSC_VCERT_TEMPLATES) {
        EVP_PKEY_CTX *t = tsc_verify_ctx_new(pk, s, md);
        if (t != NULL) {
            cert->tmpl[i].id = id;
            cert->tmpl[i].pc = t;
            cert->n_tmpl++;
            c->st.contexts++;
        }
    }
    if (i < cert->n_tmpl) {
        pc = EVP_PKEY_CTX_dup(cert->tmpl[i].pc);
        c->st.context_hits += pc != NULL ? 1 : 0;
    }
    pthread_mutex_unlock(&c->mu);
    return pc != NULL ? pc : tsc_verify_ctx_new(pk, s, md);
}

/* Scheme identity for the template table: the wire value, or the key kind before TLS 1.2. */
static uint32_t tsc_scheme_id(const struct tsc_sig_in *in, const struct tsc_scheme *s)
{
    return in->has_scheme ? in->scheme : 0x10000u | (uint32_t)s->kind;
}

/*
 * Signature over the concatenated pieces with the scheme's digest: the
 * digest is computed here, the signature checked over it (EVP_PKEY_verify,
 * what EVP_DigestVerify does inside). EdDSA: over the data itself (pieces
 * must then be one).
 */
static enum tsc_sigerr tsc_verify_pieces(struct tsc_vcert *cert, EVP_PKEY *pk,
                                         const struct tsc_scheme *s, const struct tsc_sig_in *in,
                                         const struct tsc_piece *pc_in, size_t npieces)
{
    if (s->md == NULL) {
        if (npieces != 1) {
            return TSC_SIGERR_INTERNAL;
        }
        return tsc_verify_eddsa(pk, in, pc_in[0].p, pc_in[0].n);
    }
    bool missing = false;
    const EVP_MD *md = tsc_vmd_get(s->md, &missing);
    if (md == NULL) {
        return TSC_SIGERR_INTERNAL;
    }
    uint8_t dig[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    bool ok = mc != NULL && EVP_DigestInit_ex(mc, md, NULL) == 1;
    for (size_t i = 0; ok && i < npieces; i++) {
        ok = EVP_DigestUpdate(mc, pc_in[i].p, pc_in[i].n) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(mc, dig, &dl) == 1;
    EVP_MD_CTX_free(mc);
    if (!ok) {
        return TSC_SIGERR_INTERNAL;
    }
    EVP_PKEY_CTX *pc = tsc_verify_ctx(cert, pk, s, tsc_scheme_id(in, s), md);
    if (pc == NULL) {
        ERR_clear_error();
        return TSC_SIGERR_INTERNAL;
    }
    enum tsc_sigerr r = EVP_PKEY_verify(pc, in->sig, in->sig_len, dig, dl) == 1
                            ? TSC_SIGERR_NONE
                            : TSC_SIGERR_BAD_SIGNATURE;
    EVP_PKEY_CTX_free(pc);
    ERR_clear_error();
    return r;
}

enum tsc_sigerr tsc_verify_ske(struct tsc_vcert *cert, const struct tsc_sig_in *in,
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
    if (s.md != NULL) {
        const struct tsc_piece p[3] = {{client_random, 32}, {server_random, 32}, {params, params_len}};
        return tsc_verify_pieces(cert, pk, &s, in, p, 3);
    }
    /* EdDSA signs the bytes themselves: one contiguous buffer, 64 + params (< 2^16 on the wire). */
    uint8_t *buf = malloc(64 + params_len);
    if (buf == NULL) {
        return TSC_SIGERR_INTERNAL;
    }
    memcpy(buf, client_random, 32);
    memcpy(buf + 32, server_random, 32);
    memcpy(buf + 64, params, params_len);
    const struct tsc_piece one = {buf, 64 + params_len};
    e = tsc_verify_pieces(cert, pk, &s, in, &one, 1);
    free(buf);
    return e;
}

enum tsc_sigerr tsc_verify_cv13(struct tsc_vcert *cert, const struct tsc_sig_in *in,
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
    const struct tsc_piece one = {buf, n};
    return tsc_verify_pieces(cert, pk, &s, in, &one, 1);
}

enum tsc_sigerr tsc_verify_cv12(struct tsc_vcert *cert, const struct tsc_sig_in *in,
                                const uint8_t *transcript, size_t len)
{
    EVP_PKEY *pk = NULL;
    struct tsc_scheme s;
    enum tsc_sigerr e = tsc_sig_setup(cert, in, &pk, &s);
    if (e != TSC_SIGERR_NONE) {
        return e;
    }
    if (transcript == NULL || len == 0) {
        return TSC_SIGERR_NO_TRANSCRIPT;
    }
    /*
     * RFC 5246 7.4.8: the signature is over handshake_messages with the
     * scheme's hash (RFC 8422 5.10: EdDSA over the messages themselves).
     * Before TLS 1.2 (RFC 2246 7.4.8, RFC 4492 5.10): RSA over MD5 || SHA-1
     * without DigestInfo, (EC)DSA over SHA-1, as the legacy scheme says.
     */
    const struct tsc_piece one = {transcript, len};
    return tsc_verify_pieces(cert, pk, &s, in, &one, 1);
}

/* ---- chains ---- */

/* Chain results kept (direct-mapped by the chain's certificates). */
#define TSC_CHAIN_SLOTS 256u
/* Chains longer than this are verified every time. */
#define TSC_CHAIN_MAX 8

/*
 * One chain result: valid for the same certificates (identity: cache entries,
 * referenced here so they cannot be reused) at any time in [lo, hi), the
 * stretch of time around the first capture time in which no certificate of
 * the chain or of the trust store starts or stops being valid, so
 * X509_verify_cert, whose only time input is the verification time, would
 * decide the same (no CRLs are loaded or checked).
 */
struct tsc_chain_entry {
    uint64_t key;
    uint32_t n; /* 0: empty */
    struct tsc_vcert *certs[TSC_CHAIN_MAX];
    int64_t lo, hi;
    enum tsc_check result;
    char err[128];
};

struct tsc_trust {
    X509_STORE *store;
    pthread_mutex_t mu;
    struct tsc_chain_entry *slots; /* TSC_CHAIN_SLOTS */
    struct tsc_chain_stats st;
};

int tsc_trust_new(struct tsc_trust **out, const char *ca_file, const char *ca_path, char *errbuf,
                  size_t errlen)
{
    struct tsc_trust *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->store = X509_STORE_new()) == NULL ||
        (t->slots = calloc(TSC_CHAIN_SLOTS, sizeof(*t->slots))) == NULL) {
        if (t != NULL) {
            X509_STORE_free(t->store);
        }
        free(t);
        snprintf(errbuf, errlen, "out of memory creating the trust store");
        return -1;
    }
    pthread_mutex_init(&t->mu, NULL);
    t->st.capacity = TSC_CHAIN_SLOTS;
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

static void tsc_chain_entry_clear(struct tsc_chain_entry *e)
{
    for (uint32_t i = 0; i < e->n; i++) {
        tsc_vcert_put(e->certs[i]);
    }
    e->n = 0;
}

void tsc_trust_free(struct tsc_trust *t)
{
    if (t == NULL) {
        return;
    }
    for (uint32_t i = 0; t->slots != NULL && i < TSC_CHAIN_SLOTS; i++) {
        tsc_chain_entry_clear(&t->slots[i]);
    }
    pthread_mutex_destroy(&t->mu);
    free(t->slots);
    X509_STORE_free(t->store);
    free(t);
}

void tsc_trust_stats(struct tsc_trust *t, struct tsc_chain_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (t == NULL) {
        return;
    }
    pthread_mutex_lock(&t->mu);
    *out = t->st;
    out->memory_bytes = (uint64_t)TSC_CHAIN_SLOTS * sizeof(*t->slots);
    pthread_mutex_unlock(&t->mu);
}

/* Seconds since the epoch of an ASN1_TIME; false when it does not convert. */
static bool tsc_asn1_secs(const ASN1_TIME *tm, int64_t *out)
{
    struct tm v;
    if (tm == NULL || ASN1_TIME_to_tm(tm, &v) != 1) {
        return false;
    }
    /* Days from civil (proleptic Gregorian), as in x509.c's summaries. */
    int64_t y = (int64_t)v.tm_year + 1900, m = v.tm_mon + 1, d = v.tm_mday;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    *out = days * 86400 + (int64_t)v.tm_hour * 3600 + (int64_t)v.tm_min * 60 + v.tm_sec;
    return true;
}

/* Narrows [lo, hi) around at to exclude x's validity boundaries (valid on [notBefore, notAfter]). */
static bool tsc_narrow(X509 *x, int64_t at, int64_t *lo, int64_t *hi)
{
    int64_t b[2];
    if (!tsc_asn1_secs(X509_get0_notBefore(x), &b[0]) ||
        !tsc_asn1_secs(X509_get0_notAfter(x), &b[1])) {
        return false;
    }
    b[1] = b[1] < INT64_MAX ? b[1] + 1 : b[1];
    for (int i = 0; i < 2; i++) {
        if (b[i] <= at && b[i] > *lo) {
            *lo = b[i];
        } else if (b[i] > at && b[i] < *hi) {
            *hi = b[i];
        }
    }
    return true;
}

static enum tsc_check tsc_chain_run(struct tsc_trust *t, struct tsc_vcert *const *certs, size_t n,
                                    int64_t at, char *err, size_t errlen)
{
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    enum tsc_check r = TSC_CHECK_FAIL;
    if (untrusted == NULL || ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 1; i < n; i++) {
        if (certs[i] != NULL && sk_X509_push(untrusted, certs[i]->x) <= 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (X509_STORE_CTX_init(ctx, t->store, certs[0]->x, untrusted) != 1) {
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
    ERR_clear_error();
    return r;
}

/*
 * [lo, hi) around at over the presented certificates and every certificate
 * the store holds once the verification ran (a --ca-path directory loads the
 * candidates for an issuer when it is looked up). false: some validity does
 * not convert, so the result is not reused.
 */
static bool tsc_chain_window(struct tsc_trust *t, struct tsc_vcert *const *certs, size_t n,
                             int64_t at, int64_t *lo, int64_t *hi)
{
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (!tsc_narrow(certs[i]->x, at, lo, hi)) {
            return false;
        }
    }
    STACK_OF(X509) *all = X509_STORE_get1_all_certs(t->store);
    if (all == NULL) {
        return false;
    }
    bool ok = true;
    for (int i = 0; ok && i < sk_X509_num(all); i++) {
        ok = tsc_narrow(sk_X509_value(all, i), at, lo, hi);
    }
    sk_X509_pop_free(all, X509_free);
    return ok;
}

static uint64_t tsc_chain_key(struct tsc_vcert *const *certs, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint64_t)(uintptr_t)certs[i]) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    return h;
}

enum tsc_check tsc_trust_verify(struct tsc_trust *t, struct tsc_vcert *const *certs, size_t n,
                                int64_t at, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    if (t == NULL || n == 0 || certs[0] == NULL) {
        return TSC_CHECK_NOT_CHECKED;
    }
    bool cacheable = n <= TSC_CHAIN_MAX;
    for (size_t i = 0; cacheable && i < n; i++) {
        cacheable = certs[i] != NULL && certs[i]->cache != NULL;
    }
    uint64_t key = cacheable ? tsc_chain_key(certs, n) : 0;
    struct tsc_chain_entry *e = cacheable ? &t->slots[key % TSC_CHAIN_SLOTS] : NULL;
    pthread_mutex_lock(&t->mu);
    t->st.lookups++;
    if (e != NULL && e->n == n && e->key == key && at >= e->lo && at < e->hi &&
        memcmp(e->certs, certs, n * sizeof(*certs)) == 0) {
        enum tsc_check r = e->result;
        snprintf(err, errlen, "%s", e->err);
        t->st.hits++;
        pthread_mutex_unlock(&t->mu);
        return r;
    }
    pthread_mutex_unlock(&t->mu);
    enum tsc_check r = tsc_chain_run(t, certs, n, at, err, errlen);
    int64_t lo, hi;
    if (e == NULL || !tsc_chain_window(t, certs, n, at, &lo, &hi)) {
        return r;
    }
    pthread_mutex_lock(&t->mu);
    if (e->n != 0) {
        t->st.evictions++;
        t->st.entries--;
        tsc_chain_entry_clear(e);
    }
    for (size_t i = 0; i < n; i++) {
        atomic_fetch_add(&certs[i]->refs, 1);
        e->certs[i] = certs[i];
    }
    e->n = (uint32_t)n;
    e->key = key;
    e->lo = lo;
    e->hi = hi;
    e->result = r;
    snprintf(e->err, sizeof(e->err), "%s", err != NULL ? err : "");
    t->st.entries++;
    pthread_mutex_unlock(&t->mu);
    return r;
}
