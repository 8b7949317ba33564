/*
 * Certificate summaries with libcrypto, and a bounded cache of them keyed by
 * the DER bytes.
 *
 * RFC 5280 4.1:
 *     Certificate  ::=  SEQUENCE  {
 *          tbsCertificate       TBSCertificate,
 *          signatureAlgorithm   AlgorithmIdentifier,
 *          signatureValue       BIT STRING  }
 *
 *     TBSCertificate  ::=  SEQUENCE  {
 *          version         [0]  EXPLICIT Version DEFAULT v1,
 *          serialNumber         CertificateSerialNumber,
 *          signature            AlgorithmIdentifier,
 *          issuer               Name,
 *          validity             Validity,
 *          subject              Name,
 *          subjectPublicKeyInfo SubjectPublicKeyInfo,
 *          ...
 *          extensions      [3]  EXPLICIT Extensions OPTIONAL }
 *
 * The DER is decoded by d2i_X509, never by hand. The certificate is described,
 * not validated: RFC 5280 4.1.2.2 says serials MUST be positive and at most 20
 * octets, and 4.1.2.5 fixes UTCTime/GeneralizedTime by year; both are relaxed
 * here (a passive observer reports what was sent; the summary just truncates).
 *
 * Strings are always NUL-terminated ASCII: bytes outside printable ASCII are
 * written as \xHH, and a field cut to fit its buffer ends in "...".
 *
 * Cache: a chained hash table plus an LRU list that holds only unreferenced
 * entries. An entry is found by a fast (non-cryptographic) hash of the DER
 * and confirmed by comparing the DER itself, kept in the entry for
 * certificates up to TSC_X509_KEEP_DER bytes (larger ones are confirmed by
 * their SHA-256, computed for the lookup): a repeated certificate costs a hash
 * and a memcmp, not a SHA-256, per connection. At max_entries, the least recently used unreferenced
 * entry is dropped; when every entry is referenced, a new summary is handed out
 * uncached and freed on its last put, so the table never exceeds max_entries
 * and a referenced entry is never freed.
 */
#include "x509/x509.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* TLS carries certificates as opaque cert_data<1..2^24-1> (RFC 8446 4.4.2). */
#define TSC_X509_MAX_DER ((size_t)1 << 24)
/* Bound on SAN entries walked; the output buffer fills long before. */
#define TSC_X509_MAX_SANS 1024
/* Hash buckets: a power of two, at most this many. */
#define TSC_X509_MAX_BUCKETS ((uint32_t)1 << 16)
/* DER kept in a cache entry for the hit check: bounds the cache at
 * max_entries * 4 KiB of DER (real server certificates are 1-2 KB). */
#define TSC_X509_KEEP_DER 4096u

/* ---- bounded string output ---- */

struct tsc_sbuf {
    char *p;
    size_t cap; /* including the NUL */
    size_t len;
    bool cut;
};

static void sbuf_init(struct tsc_sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->cut = false;
    p[0] = '\0';
}

static void sbuf_putc(struct tsc_sbuf *b, char ch)
{
    if (b->cut) {
        return;
    }
    if (b->len + 1 >= b->cap) {
        b->cut = true;
        return;
    }
    b->p[b->len++] = ch;
    b->p[b->len] = '\0';
}

/*
 * Appends n bytes, writing anything outside printable ASCII as \xHH. With
 * esc_backslash a literal backslash is escaped too (wire strings); names from
 * X509_NAME_print_ex are already RFC 2253 escaped and keep theirs.
 */
static void sbuf_put_raw(struct tsc_sbuf *b, const unsigned char *s, size_t n, bool esc_backslash)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n && !b->cut; i++) {
        unsigned char ch = s[i];
        if (ch >= 0x20 && ch < 0x7f && (ch != '\\' || !esc_backslash)) {
            sbuf_putc(b, (char)ch);
        } else if (b->len + 4 < b->cap) {
            sbuf_putc(b, '\\');
            sbuf_putc(b, 'x');
            sbuf_putc(b, digits[ch >> 4]);
            sbuf_putc(b, digits[ch & 15]);
        } else {
            b->cut = true;
        }
    }
}

static void sbuf_put_bytes(struct tsc_sbuf *b, const unsigned char *s, size_t n)
{
    sbuf_put_raw(b, s, n, true);
}

static void sbuf_puts(struct tsc_sbuf *b, const char *s)
{
    sbuf_put_bytes(b, (const unsigned char *)s, strlen(s));
}

/* Marks a cut string by ending it in "..." (buffers are all >= 16 bytes). */
static void sbuf_finish(struct tsc_sbuf *b)
{
    if (!b->cut || b->cap < 4) {
        return;
    }
    size_t at = b->len;
    if (at + 3 >= b->cap) {
        at = b->cap - 4;
    }
    memcpy(b->p + at, "...", 4);
    b->len = at + 3;
}

/* ---- fields ---- */

static void put_name(const X509_NAME *name, char *out, size_t cap)
{
    struct tsc_sbuf b;
    sbuf_init(&b, out, cap);
    if (name == NULL) {
        return;
    }
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return;
    }
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data != NULL) {
            sbuf_put_raw(&b, (const unsigned char *)data, (size_t)n, false);
        }
    }
    BIO_free(bio);
    sbuf_finish(&b);
}

static void put_serial(const ASN1_INTEGER *serial, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    struct tsc_sbuf b;
    sbuf_init(&b, out, cap);
    if (serial == NULL) {
        return;
    }
    const unsigned char *p = ASN1_STRING_get0_data(serial);
    int n = ASN1_STRING_length(serial);
    if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) {
        sbuf_putc(&b, '-');
    }
    if (p == NULL || n <= 0) {
        sbuf_puts(&b, "00");
    }
    for (int i = 0; p != NULL && i < n && !b.cut; i++) {
        sbuf_putc(&b, digits[p[i] >> 4]);
        sbuf_putc(&b, digits[p[i] & 15]);
    }
    sbuf_finish(&b);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void put_time(const ASN1_TIME *t, int64_t *secs, char *out, size_t cap)
{
    struct tm tm;
    *secs = 0;
    out[0] = '\0';
    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return;
    }
    int64_t year = (int64_t)tm.tm_year + 1900;
    int64_t days = days_from_civil(year, (int64_t)tm.tm_mon + 1, tm.tm_mday);
    *secs = days * 86400 + (int64_t)tm.tm_hour * 3600 + (int64_t)tm.tm_min * 60 + tm.tm_sec;
    /* Each field is reduced to its printed width so the compiler can see the
     * string fits (ASN1_TIME_to_tm already range-checks them). */
    snprintf(out, cap, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)(year % 10000) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}

static void put_ip(struct tsc_sbuf *b, const ASN1_OCTET_STRING *ip)
{
    char text[INET6_ADDRSTRLEN];
    const unsigned char *p = ASN1_STRING_get0_data(ip);
    int n = ASN1_STRING_length(ip);
    if (p != NULL && n == 4 && inet_ntop(AF_INET, p, text, sizeof(text)) != NULL) {
        sbuf_puts(b, text);
    } else if (p != NULL && n == 16 && inet_ntop(AF_INET6, p, text, sizeof(text)) != NULL) {
        sbuf_puts(b, text);
    } else if (p != NULL && n > 0) {
        /* RFC 5280 4.2.1.6: 4 or 16 octets; anything else is shown as hex. */
        static const char digits[] = "0123456789abcdef";
        for (int i = 0; i < n && !b->cut; i++) {
            sbuf_putc(b, digits[p[i] >> 4]);
            sbuf_putc(b, digits[p[i] & 15]);
        }
    }
}

static void put_sans(X509 *x, char *out, size_t cap)
{
    struct tsc_sbuf b;
    sbuf_init(&b, out, cap);
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) {
        return;
    }
    int n = sk_GENERAL_NAME_num(names);
    bool first = true;
    for (int i = 0; i < n && i < TSC_X509_MAX_SANS && !b.cut; i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        const ASN1_STRING *s = NULL;
        const char *label = NULL;
        if (gn == NULL) {
            continue;
        }
        switch (gn->type) {
        case GEN_DNS:
            label = "DNS:";
            s = gn->d.dNSName;
            break;
        case GEN_EMAIL:
            label = "email:";
            s = gn->d.rfc822Name;
            break;
        case GEN_URI:
            label = "URI:";
            s = gn->d.uniformResourceIdentifier;
            break;
        case GEN_IPADD:
            label = "IP:";
            break;
        default:
            continue; /* otherName, directoryName, ...: not summarized */
        }
        if (!first) {
            sbuf_putc(&b, ',');
        }
        first = false;
        sbuf_puts(&b, label);
        if (gn->type == GEN_IPADD) {
            if (gn->d.iPAddress != NULL) {
                put_ip(&b, gn->d.iPAddress);
            }
        } else if (s != NULL && ASN1_STRING_get0_data(s) != NULL) {
            int len = ASN1_STRING_length(s);
            if (len > 0) {
                sbuf_put_bytes(&b, ASN1_STRING_get0_data(s), (size_t)len);
            }
        }
    }
    GENERAL_NAMES_free(names);
    sbuf_finish(&b);
}

static void put_obj(const ASN1_OBJECT *obj, char *out, size_t cap)
{
    struct tsc_sbuf b;
    char text[128];
    sbuf_init(&b, out, cap);
    if (obj == NULL) {
        return;
    }
    int n = OBJ_obj2txt(text, (int)sizeof(text), obj, 0);
    if (n > 0) {
        sbuf_puts(&b, text);
    }
    sbuf_finish(&b);
}

static void put_key(X509 *x, struct tsc_cert_summary *out)
{
    struct tsc_sbuf b;
    sbuf_init(&b, out->key_type, sizeof(out->key_type));
    out->key_curve[0] = '\0';
    out->key_bits = 0;
    EVP_PKEY *pk = X509_get0_pubkey(x); /* NULL when the key does not decode */
    const char *type = NULL;
    if (pk != NULL) {
        switch (EVP_PKEY_get_base_id(pk)) {
        case EVP_PKEY_RSA:
            type = "RSA";
            break;
        case EVP_PKEY_RSA_PSS:
            type = "RSA-PSS";
            break;
        case EVP_PKEY_EC:
            type = "EC";
            break;
        case EVP_PKEY_ED25519:
            type = "Ed25519";
            break;
        case EVP_PKEY_ED448:
            type = "Ed448";
            break;
        case EVP_PKEY_X25519:
            type = "X25519";
            break;
        case EVP_PKEY_X448:
            type = "X448";
            break;
        case EVP_PKEY_DSA:
            type = "DSA";
            break;
        case EVP_PKEY_DH:
        case EVP_PKEY_DHX:
            type = "DH";
            break;
        default:
            break;
        }
        int bits = EVP_PKEY_get_bits(pk);
        out->key_bits = bits > 0 ? bits : 0;
        if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
            size_t len = 0;
            if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, out->key_curve,
                                               sizeof(out->key_curve), &len) != 1) {
                /* Explicit curve parameters (RFC 5480 2.1.1 forbids them in PKIX). */
                snprintf(out->key_curve, sizeof(out->key_curve), "explicit");
            }
        }
    }
    if (type != NULL) {
        sbuf_puts(&b, type);
        return;
    }
    /* Unknown or undecodable key: the SubjectPublicKeyInfo algorithm, as text. */
    ASN1_OBJECT *alg = NULL;
    X509_PUBKEY *spki = X509_get_X509_PUBKEY(x);
    if (spki != NULL && X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, spki) == 1 && alg != NULL) {
        char text[128];
        int nid = OBJ_obj2nid(alg);
        const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
        if (sn != NULL) {
            sbuf_puts(&b, sn);
        } else if (OBJ_obj2txt(text, (int)sizeof(text), alg, 1) > 0) {
            sbuf_puts(&b, text);
        }
    }
    sbuf_finish(&b);
}

void tsc_x509_summarize(const uint8_t *der, size_t len, struct tsc_cert_summary *out)
{
    memset(out, 0, sizeof(*out));
    out->der_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    if (der == NULL) {
        return;
    }
    if (EVP_Digest(der, len, out->sha256, NULL, EVP_sha256(), NULL) != 1) {
        memset(out->sha256, 0, sizeof(out->sha256));
    }
    if (len == 0 || len > TSC_X509_MAX_DER || len > (size_t)LONG_MAX) {
        ERR_clear_error();
        return;
    }
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        ERR_clear_error();
        return;
    }
    /* Bytes after the Certificate SEQUENCE are ignored, as d2i does. */
    put_name(X509_get_subject_name(x), out->subject, sizeof(out->subject));
    put_name(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
    put_serial(X509_get0_serialNumber(x), out->serial, sizeof(out->serial));
    put_time(X509_get0_notBefore(x), &out->not_before, out->not_before_str,
             sizeof(out->not_before_str));
    put_time(X509_get0_notAfter(x), &out->not_after, out->not_after_str,
             sizeof(out->not_after_str));
    put_sans(x, out->san, sizeof(out->san));
    put_key(x, out);
    const X509_ALGOR *sig = NULL;
    X509_get0_signature(NULL, &sig, x);
    if (sig != NULL) {
        const ASN1_OBJECT *obj = NULL;
        X509_ALGOR_get0(&obj, NULL, NULL, sig);
        put_obj(obj, out->sig_alg, sizeof(out->sig_alg));
    }
    out->parse_ok = true;
    X509_free(x);
    ERR_clear_error();
}

/* ---- cache ---- */

struct tsc_x509_entry {
    struct tsc_cert_summary s; /* first: a summary pointer is its entry */
    uint64_t key;              /* tsc_x509_der_hash() of the DER */
    uint32_t refs;
    bool cached;   /* in the hash table (else freed on last put) */
    bool der_null; /* looked up without DER bytes (der NULL) */
    bool der_kept; /* der[] holds the DER (s.der_len <= TSC_X509_KEEP_DER) */
    struct tsc_x509_entry *hnext;    /* hash chain */
    struct tsc_x509_entry *lru_prev; /* LRU of unreferenced cached entries */
    struct tsc_x509_entry *lru_next;
    struct tsc_x509_entry *all_prev; /* every live entry, for cache_free */
    struct tsc_x509_entry *all_next;
    uint8_t der[]; /* s.der_len bytes when der_kept */
};

struct tsc_x509_cache {
    struct tsc_x509_entry **buckets;
    uint32_t nbuckets; /* power of two */
    uint32_t max_entries;
    uint32_t n_cached;
    struct tsc_x509_entry *lru_head; /* least recently used */
    struct tsc_x509_entry *lru_tail;
    struct tsc_x509_entry *all;
    uint64_t lookups;
    uint64_t hits;
    uint64_t evictions;
    uint64_t live;      /* entries allocated (cached, or still referenced) */
    uint64_t der_bytes; /* DER kept in those entries */
};

enum tsc_err tsc_x509_cache_new(struct tsc_x509_cache **out, uint32_t max_entries)
{
    *out = NULL;
    TSC_ENSURE(max_entries > 0, TSC_ERR_ARG);
    struct tsc_x509_cache *c = calloc(1, sizeof(*c));
    TSC_ENSURE(c != NULL, TSC_ERR_NOMEM);
    uint32_t nb = 16;
    while (nb < max_entries && nb < TSC_X509_MAX_BUCKETS) {
        nb *= 2;
    }
    c->buckets = calloc(nb, sizeof(*c->buckets));
    if (c->buckets == NULL) {
        free(c);
        return TSC_ERR_NOMEM;
    }
    c->nbuckets = nb;
    c->max_entries = max_entries;
    *out = c;
    return TSC_OK;
}

void tsc_x509_cache_free(struct tsc_x509_cache *c)
{
    if (c == NULL) {
        return;
    }
    struct tsc_x509_entry *e = c->all;
    while (e != NULL) {
        struct tsc_x509_entry *next = e->all_next;
        free(e);
        e = next;
    }
    free(c->buckets);
    free(c);
}

/*
 * Fast hash of the whole DER (four independent multiply-xor lanes over 32-byte
 * strides, then a murmur-style finaliser). Not cryptographic: it only spreads
 * entries over buckets; a hit is confirmed by the bytes themselves.
 */
uint64_t tsc_x509_der_hash(const uint8_t *p, size_t n)
{
    const uint64_t m = 0x9e3779b97f4a7c15ull;
    uint64_t h[4] = {m ^ n, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull, 0xd6e8feb86659fd93ull};
    size_t i = 0;
    if (p == NULL) {
        n = 0;
    }
    for (; i + 32 <= n; i += 32) {
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * (size_t)k, 8);
            h[k] = (h[k] ^ w) * m;
            h[k] ^= h[k] >> 29;
        }
    }
    uint64_t x = h[0] ^ (h[1] * 31) ^ (h[2] * 127) ^ (h[3] * 8191);
    for (; i < n; i += 8) {
        uint64_t w = 0;
        memcpy(&w, p + i, n - i < 8 ? n - i : 8);
        x = (x ^ w) * m;
        x ^= x >> 29;
    }
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static uint32_t bucket_of(const struct tsc_x509_cache *c, uint64_t key)
{
    return (uint32_t)key & (c->nbuckets - 1);
}

static void lru_unlink(struct tsc_x509_cache *c, struct tsc_x509_entry *e)
{
    if (e->lru_prev != NULL) {
        e->lru_prev->lru_next = e->lru_next;
    } else {
        c->lru_head = e->lru_next;
    }
    if (e->lru_next != NULL) {
        e->lru_next->lru_prev = e->lru_prev;
    } else {
        c->lru_tail = e->lru_prev;
    }
    e->lru_prev = NULL;
    e->lru_next = NULL;
}

static void lru_push_tail(struct tsc_x509_cache *c, struct tsc_x509_entry *e)
{
    e->lru_next = NULL;
    e->lru_prev = c->lru_tail;
    if (c->lru_tail != NULL) {
        c->lru_tail->lru_next = e;
    } else {
        c->lru_head = e;
    }
    c->lru_tail = e;
}

static void all_unlink(struct tsc_x509_cache *c, struct tsc_x509_entry *e)
{
    if (e->all_prev != NULL) {
        e->all_prev->all_next = e->all_next;
    } else {
        c->all = e->all_next;
    }
    if (e->all_next != NULL) {
        e->all_next->all_prev = e->all_prev;
    }
}

static void hash_unlink(struct tsc_x509_cache *c, struct tsc_x509_entry *e)
{
    struct tsc_x509_entry **pp = &c->buckets[bucket_of(c, e->key)];
    while (*pp != NULL && *pp != e) {
        pp = &(*pp)->hnext;
    }
    if (*pp == e) {
        *pp = e->hnext;
    }
    e->hnext = NULL;
}

/* Drops the least recently used unreferenced entry; false if there is none. */
static bool evict_one(struct tsc_x509_cache *c)
{
    struct tsc_x509_entry *e = c->lru_head;
    if (e == NULL) {
        return false;
    }
    lru_unlink(c, e);
    hash_unlink(c, e);
    all_unlink(c, e);
    c->n_cached--;
    c->evictions++;
    c->live--;
    c->der_bytes -= e->der_kept ? e->s.der_len : 0;
    free(e);
    return true;
}

const struct tsc_cert_summary *tsc_x509_get(struct tsc_x509_cache *c, const uint8_t *der,
                                            size_t len)
{
    if (c == NULL) {
        return NULL;
    }
    c->lookups++;
    uint64_t key = tsc_x509_der_hash(der, len);
    uint32_t der_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    bool keep = der != NULL && len <= TSC_X509_KEEP_DER;
    uint8_t sha[32];
    bool have_sha = false;
    struct tsc_x509_entry *e = c->buckets[bucket_of(c, key)];
    for (; e != NULL; e = e->hnext) {
        if (e->key != key || e->s.der_len != der_len || e->der_null != (der == NULL)) {
            continue;
        }
        if (der == NULL) {
            break;
        }
        if (keep) {
            /* Same length, so this entry kept its DER too. */
            if (memcmp(e->der, der, len) == 0) {
                break;
            }
            continue;
        }
        if (!have_sha) {
            if (EVP_Digest(der, len, sha, NULL, EVP_sha256(), NULL) != 1) {
                memset(sha, 0, sizeof(sha));
            }
            have_sha = true;
        }
        if (memcmp(e->s.sha256, sha, sizeof(sha)) == 0) {
            break;
        }
    }
    if (e != NULL) {
        c->hits++;
        if (e->refs == 0) {
            lru_unlink(c, e);
        }
        e->refs++;
        return &e->s;
    }
    e = calloc(1, sizeof(*e) + (keep ? len : 0));
    if (e == NULL) {
        return NULL;
    }
    tsc_x509_summarize(der, len, &e->s);
    c->live++;
    e->key = key;
    e->der_null = der == NULL;
    e->der_kept = keep;
    if (keep && len > 0) {
        memcpy(e->der, der, len);
        c->der_bytes += len;
    }
    e->refs = 1;
    e->all_next = c->all;
    if (c->all != NULL) {
        c->all->all_prev = e;
    }
    c->all = e;
    if (c->n_cached >= c->max_entries) {
        (void)evict_one(c);
    }
    if (c->n_cached < c->max_entries) {
        uint32_t b = bucket_of(c, key);
        e->hnext = c->buckets[b];
        c->buckets[b] = e;
        e->cached = true;
        c->n_cached++;
    }
    return &e->s;
}

void tsc_x509_put(struct tsc_x509_cache *c, const struct tsc_cert_summary *s)
{
    if (c == NULL || s == NULL) {
        return;
    }
    /* The summary is the first member of its entry (C11 6.7.2.1p15). */
    struct tsc_x509_entry *e = (struct tsc_x509_entry *)(uintptr_t)s;
    if (e->refs == 0) {
        return; /* unbalanced put: ignore rather than corrupt the lists */
    }
    e->refs--;
    if (e->refs > 0) {
        return;
    }
    if (e->cached) {
        lru_push_tail(c, e);
    } else {
        all_unlink(c, e);
        c->live--;
        c->der_bytes -= e->der_kept ? e->s.der_len : 0;
        free(e);
    }
}

size_t tsc_x509_entry_bytes(void)
{
    /* At most: an entry keeps the DER of certificates up to TSC_X509_KEEP_DER. */
    return sizeof(struct tsc_x509_entry) + TSC_X509_KEEP_DER;
}

void tsc_x509_get_stats(const struct tsc_x509_cache *c, struct tsc_x509_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (c == NULL) {
        return;
    }
    st->lookups = c->lookups;
    st->hits = c->hits;
    st->entries = c->n_cached;
    st->evictions = c->evictions;
    st->memory_bytes = c->live * sizeof(struct tsc_x509_entry) + c->der_bytes +
                       (uint64_t)c->nbuckets * sizeof(*c->buckets);
}
