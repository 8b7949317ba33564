/*
 * Certificate summaries and the certificate cache. Certificates are made at
 * test time with libcrypto (RSA 2048, EC P-256, Ed25519) with known fields,
 * so every summary field can be checked exactly.
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x509/x509.h"

#define T_NOT_BEFORE 1700000000 /* 2023-11-14T22:13:20Z, UTCTime */
#define T_NOT_AFTER 1800000000  /* 2027-01-15T08:00:00Z, UTCTime */
#define T_FAR 2600000000        /* 2052-05-22T14:13:20Z, GeneralizedTime */

struct san {
    int type; /* GEN_DNS, GEN_IPADD, GEN_EMAIL, GEN_URI */
    const char *value;
    size_t len; /* 0: strlen(value) */
};

struct cert_spec {
    const char *alg; /* "RSA", "EC", "ED25519" */
    const char *cn;
    const char *org;
    int n_ou; /* repeated OU entries, to make long names */
    uint64_t serial;
    int64_t not_before;
    int64_t not_after;
    const struct san *sans;
    size_t n_sans;
};

/* Usable outside a test too (main builds the loop-test certificate). */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static EVP_PKEY *make_key(const char *alg)
{
    EVP_PKEY *pk = NULL;
    if (strcmp(alg, "RSA") == 0) {
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    } else if (strcmp(alg, "EC") == 0) {
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    } else {
        pk = EVP_PKEY_Q_keygen(NULL, NULL, alg);
    }
    REQUIRE(pk);
    return pk;
}

/* Builds and self-signs a certificate; returns malloc'd DER. */
static uint8_t *make_cert(const struct cert_spec *sp, size_t *len)
{
    EVP_PKEY *pk = make_key(sp->alg);
    X509 *x = X509_new();
    REQUIRE(x);
    REQUIRE((X509_set_version(x, X509_VERSION_3)) == 1);
    REQUIRE((ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), sp->serial)) == 1);
    REQUIRE(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)sp->not_before));
    REQUIRE(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)sp->not_after));
    X509_NAME *name = X509_get_subject_name(x);
    REQUIRE((X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)sp->org, -1,
                                        -1, 0)) == 1);
    for (int i = 0; i < sp->n_ou; i++) {
        char ou[64];
        snprintf(ou, sizeof(ou), "organizational unit number %02d", i);
        REQUIRE((X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, (const unsigned char *)ou, -1,
                                            -1, 0)) == 1);
    }
    REQUIRE((X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)sp->cn, -1,
                                        -1, 0)) == 1);
    REQUIRE((X509_set_issuer_name(x, name)) == 1);
    REQUIRE((X509_set_pubkey(x, pk)) == 1);
    if (sp->n_sans > 0) {
        GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
        REQUIRE(gens);
        for (size_t i = 0; i < sp->n_sans; i++) {
            const struct san *s = &sp->sans[i];
            size_t n = s->len ? s->len : strlen(s->value);
            GENERAL_NAME *gn = GENERAL_NAME_new();
            ASN1_STRING *str =
                s->type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
            REQUIRE(gn != NULL && str != NULL);
            REQUIRE((ASN1_STRING_set(str, s->value, (int)n)) == 1);
            GENERAL_NAME_set0_value(gn, s->type, str);
            REQUIRE((sk_GENERAL_NAME_push(gens, gn)) > 0);
        }
        REQUIRE((X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0)) == 1);
        GENERAL_NAMES_free(gens);
    }
    const EVP_MD *md = strcmp(sp->alg, "ED25519") == 0 ? NULL : EVP_sha256();
    REQUIRE((X509_sign(x, pk, md)) > 0);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    REQUIRE((n) > 0);
    uint8_t *copy = malloc((size_t)n);
    REQUIRE(copy);
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(pk);
    *len = (size_t)n;
    return copy;
}

static void sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    ck_assert_int_eq(EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL), 1);
}

static const struct san std_sans[] = {
    {GEN_DNS, "a.example", 0},
    {GEN_DNS, "*.b.example", 0},
    {GEN_IPADD, "\xc0\x00\x02\x01", 4},
    {GEN_IPADD, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16},
    {GEN_EMAIL, "hostmaster@example.com", 0},
    {GEN_URI, "https://example.com/x", 0},
};
#define STD_SANS_STR                                                                               \
    "DNS:a.example,DNS:*.b.example,IP:192.0.2.1,IP:2001:db8::1,email:hostmaster@example.com,"      \
    "URI:https://example.com/x"

static void check_common(const struct tsc_cert_summary *s, const uint8_t *der, size_t len,
                         const char *cn)
{
    uint8_t want[32];
    char subject[128];
    sha256(der, len, want);
    ck_assert(s->parse_ok);
    ck_assert_mem_eq(s->sha256, want, 32);
    ck_assert_uint_eq(s->der_len, len);
    snprintf(subject, sizeof(subject), "CN=%s,O=tlsscope test", cn);
    ck_assert_str_eq(s->subject, subject);
    ck_assert_str_eq(s->issuer, subject);
    ck_assert_str_eq(s->serial, "0123456789abcdef");
    ck_assert_int_eq(s->not_before, T_NOT_BEFORE);
    ck_assert_int_eq(s->not_after, T_NOT_AFTER);
    ck_assert_str_eq(s->not_before_str, "2023-11-14T22:13:20Z");
    ck_assert_str_eq(s->not_after_str, "2027-01-15T08:00:00Z");
    ck_assert_str_eq(s->san, STD_SANS_STR);
}

static void spec_std(struct cert_spec *sp, const char *alg, const char *cn)
{
    memset(sp, 0, sizeof(*sp));
    sp->alg = alg;
    sp->cn = cn;
    sp->org = "tlsscope test";
    sp->serial = 0x0123456789abcdefULL;
    sp->not_before = T_NOT_BEFORE;
    sp->not_after = T_NOT_AFTER;
    sp->sans = std_sans;
    sp->n_sans = sizeof(std_sans) / sizeof(std_sans[0]);
}

START_TEST(test_rsa)
{
    struct cert_spec sp;
    struct tsc_cert_summary s;
    size_t len = 0;
    spec_std(&sp, "RSA", "rsa.example");
    uint8_t *der = make_cert(&sp, &len);
    tsc_x509_summarize(der, len, &s);
    check_common(&s, der, len, "rsa.example");
    ck_assert_str_eq(s.key_type, "RSA");
    ck_assert_int_eq(s.key_bits, 2048);
    ck_assert_str_eq(s.key_curve, "");
    ck_assert_str_eq(s.sig_alg, "sha256WithRSAEncryption");
    free(der);
}
END_TEST

START_TEST(test_ec)
{
    struct cert_spec sp;
    struct tsc_cert_summary s;
    size_t len = 0;
    spec_std(&sp, "EC", "ec.example");
    uint8_t *der = make_cert(&sp, &len);
    tsc_x509_summarize(der, len, &s);
    check_common(&s, der, len, "ec.example");
    ck_assert_str_eq(s.key_type, "EC");
    ck_assert_int_eq(s.key_bits, 256);
    ck_assert_str_eq(s.key_curve, "prime256v1");
    ck_assert_str_eq(s.sig_alg, "ecdsa-with-SHA256");
    free(der);
}
END_TEST

START_TEST(test_ed25519)
{
    struct cert_spec sp;
    struct tsc_cert_summary s;
    size_t len = 0;
    spec_std(&sp, "ED25519", "ed.example");
    uint8_t *der = make_cert(&sp, &len);
    tsc_x509_summarize(der, len, &s);
    check_common(&s, der, len, "ed.example");
    ck_assert_str_eq(s.key_type, "Ed25519");
    /* libcrypto reports the key size of Ed25519 as 256 bits. */
    ck_assert_int_eq(s.key_bits, 256);
    ck_assert_str_eq(s.key_curve, "");
    ck_assert_str_eq(s.sig_alg, "ED25519");
    free(der);
}
END_TEST

/* Validity past 2049 is a GeneralizedTime (RFC 5280 4.1.2.5); no SANs at all. */
START_TEST(test_generalized_time_no_san)
{
    struct cert_spec sp;
    struct tsc_cert_summary s;
    size_t len = 0;
    spec_std(&sp, "EC", "far.example");
    sp.not_after = T_FAR;
    sp.n_sans = 0;
    sp.serial = 1;
    uint8_t *der = make_cert(&sp, &len);
    tsc_x509_summarize(der, len, &s);
    ck_assert(s.parse_ok);
    ck_assert_int_eq(s.not_after, T_FAR);
    ck_assert_str_eq(s.not_after_str, "2052-05-22T14:13:20Z");
    ck_assert_str_eq(s.san, "");
    ck_assert_str_eq(s.serial, "01");
    free(der);
}
END_TEST

/* Hostile bytes in SANs are escaped, never copied raw. */
START_TEST(test_san_escaping)
{
    static const struct san sans[] = {
        {GEN_DNS,
         "a\x01"
         "b\\c,d\xff",
         8},
        {GEN_IPADD, "\x01\x02\x03", 3}, /* neither 4 nor 16 octets */
    };
    struct cert_spec sp;
    struct tsc_cert_summary s;
    size_t len = 0;
    spec_std(&sp, "EC", "esc.example");
    sp.sans = sans;
    sp.n_sans = 2;
    uint8_t *der = make_cert(&sp, &len);
    tsc_x509_summarize(der, len, &s);
    ck_assert(s.parse_ok);
    ck_assert_str_eq(s.san, "DNS:a\\x01b\\x5cc,d\\xff,IP:010203");
    free(der);
}
END_TEST

/* Certificates whose fields do not fit are cut and end in "...". */
START_TEST(test_long_fields)
{
    static struct san sans[64];
    static char names[64][40];
    for (int i = 0; i < 64; i++) {
        snprintf(names[i], sizeof(names[i]), "host-%02d.long-name.example", i);
        sans[i].type = GEN_DNS;
        sans[i].value = names[i];
        sans[i].len = 0;
    }
    struct cert_spec sp;
    struct tsc_cert_summary s;
    size_t len = 0;
    spec_std(&sp, "EC", "long.example");
    sp.sans = sans;
    sp.n_sans = 64;
    sp.n_ou = 20;
    uint8_t *der = make_cert(&sp, &len);
    tsc_x509_summarize(der, len, &s);
    ck_assert(s.parse_ok);
    size_t n = strlen(s.san);
    ck_assert_uint_eq(n, sizeof(s.san) - 1);
    ck_assert_str_eq(s.san + n - 3, "...");
    ck_assert(strncmp(s.san, "DNS:host-00.long-name.example,DNS:host-01", 41) == 0);
    n = strlen(s.subject);
    ck_assert_uint_eq(n, sizeof(s.subject) - 1);
    ck_assert_str_eq(s.subject + n - 3, "...");
    ck_assert(strncmp(s.subject, "CN=long.example,OU=organizational unit number 19", 48) == 0);
    free(der);
}
END_TEST

/* ---- malformed / truncated ---- */

static uint8_t *g_ec_der; /* made once in main() for the loop tests */
static size_t g_ec_len;

START_TEST(test_truncated)
{
    struct tsc_cert_summary s;
    uint8_t want[32];
    size_t cut = (size_t)_i;
    /* Copy so ASan sees any read past the cut. */
    uint8_t *p = malloc(cut ? cut : 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, g_ec_der, cut);
    tsc_x509_summarize(p, cut, &s);
    ck_assert(!s.parse_ok);
    ck_assert_uint_eq(s.der_len, cut);
    sha256(p, cut, want);
    ck_assert_mem_eq(s.sha256, want, 32);
    ck_assert_str_eq(s.subject, "");
    free(p);
}
END_TEST

/* Every single-byte corruption: must not crash, strings stay bounded. */
START_TEST(test_mutated)
{
    struct tsc_cert_summary s;
    uint8_t *p = malloc(g_ec_len);
    ck_assert_ptr_nonnull(p);
    static const uint8_t xors[] = {0x01, 0x80, 0xff};
    for (size_t k = 0; k < sizeof(xors); k++) {
        memcpy(p, g_ec_der, g_ec_len);
        p[_i] ^= xors[k];
        tsc_x509_summarize(p, g_ec_len, &s);
        ck_assert_uint_eq(s.der_len, g_ec_len);
        ck_assert_uint_lt(strlen(s.subject), sizeof(s.subject));
        ck_assert_uint_lt(strlen(s.san), sizeof(s.san));
        ck_assert_uint_lt(strlen(s.key_type), sizeof(s.key_type));
        ck_assert_uint_lt(strlen(s.sig_alg), sizeof(s.sig_alg));
    }
    free(p);
}
END_TEST

START_TEST(test_garbage)
{
    struct tsc_cert_summary s;
    static const uint8_t junk[] = {0x30, 0x82, 0xff, 0xff, 0x30, 0x03, 0x02, 0x01, 0x01};
    static const uint8_t text[] = "not a certificate";
    tsc_x509_summarize(junk, sizeof(junk), &s);
    ck_assert(!s.parse_ok);
    ck_assert_uint_eq(s.der_len, sizeof(junk));
    tsc_x509_summarize(text, sizeof(text) - 1, &s);
    ck_assert(!s.parse_ok);
    tsc_x509_summarize(NULL, 0, &s);
    ck_assert(!s.parse_ok);
    ck_assert_uint_eq(s.der_len, 0);
}
END_TEST

/* ---- cache ---- */

static const uint8_t blob_a[] = {'a'};
static const uint8_t blob_b[] = {'b'};
static const uint8_t blob_c[] = {'c'};

static void expect_stats(struct tsc_x509_cache *c, uint64_t lookups, uint64_t hits,
                         uint64_t entries)
{
    struct tsc_x509_stats st;
    tsc_x509_get_stats(c, &st);
    ck_assert_uint_eq(st.lookups, lookups);
    ck_assert_uint_eq(st.hits, hits);
    ck_assert_uint_eq(st.entries, entries);
}

START_TEST(test_cache_hit_miss)
{
    struct tsc_x509_cache *c = NULL;
    ck_assert_int_eq(tsc_x509_cache_new(&c, 8), TSC_OK);
    const struct tsc_cert_summary *a1 = tsc_x509_get(c, g_ec_der, g_ec_len);
    ck_assert_ptr_nonnull(a1);
    ck_assert(a1->parse_ok);
    expect_stats(c, 1, 0, 1);
    const struct tsc_cert_summary *a2 = tsc_x509_get(c, g_ec_der, g_ec_len);
    ck_assert_ptr_eq(a1, a2);
    expect_stats(c, 2, 1, 1);
    const struct tsc_cert_summary *b = tsc_x509_get(c, blob_b, sizeof(blob_b));
    ck_assert_ptr_nonnull(b);
    ck_assert(!b->parse_ok);
    ck_assert_ptr_ne(a1, b);
    expect_stats(c, 3, 1, 2);
    tsc_x509_put(c, a1);
    tsc_x509_put(c, a2);
    tsc_x509_put(c, b);
    /* Unreferenced entries stay cached. */
    ck_assert_ptr_eq(tsc_x509_get(c, g_ec_der, g_ec_len), a1);
    expect_stats(c, 4, 2, 2);
    tsc_x509_put(c, a1);
    tsc_x509_cache_free(c);
}
END_TEST

START_TEST(test_cache_lru_eviction)
{
    struct tsc_x509_cache *c = NULL;
    ck_assert_int_eq(tsc_x509_cache_new(&c, 2), TSC_OK);
    tsc_x509_put(c, tsc_x509_get(c, blob_a, 1)); /* miss */
    tsc_x509_put(c, tsc_x509_get(c, blob_b, 1)); /* miss */
    tsc_x509_put(c, tsc_x509_get(c, blob_a, 1)); /* hit: a is now most recent */
    expect_stats(c, 3, 1, 2);
    tsc_x509_put(c, tsc_x509_get(c, blob_c, 1)); /* miss: evicts b */
    expect_stats(c, 4, 1, 2);
    tsc_x509_put(c, tsc_x509_get(c, blob_a, 1)); /* hit */
    expect_stats(c, 5, 2, 2);
    tsc_x509_put(c, tsc_x509_get(c, blob_b, 1)); /* miss: b was evicted; evicts c */
    expect_stats(c, 6, 2, 2);
    tsc_x509_put(c, tsc_x509_get(c, blob_c, 1)); /* miss */
    expect_stats(c, 7, 2, 2);
    tsc_x509_cache_free(c);
}
END_TEST

START_TEST(test_cache_refcount)
{
    struct tsc_x509_cache *c = NULL;
    ck_assert_int_eq(tsc_x509_cache_new(&c, 1), TSC_OK);
    const struct tsc_cert_summary *a = tsc_x509_get(c, g_ec_der, g_ec_len);
    struct tsc_cert_summary saved = *a;
    /* a is referenced: b cannot evict it and is handed out uncached. */
    const struct tsc_cert_summary *b = tsc_x509_get(c, blob_b, 1);
    ck_assert_ptr_nonnull(b);
    expect_stats(c, 2, 0, 1);
    const struct tsc_cert_summary *b2 = tsc_x509_get(c, blob_b, 1);
    ck_assert_ptr_ne(b, b2); /* not cached, so a fresh summary */
    expect_stats(c, 3, 0, 1);
    tsc_x509_put(c, b);
    tsc_x509_put(c, b2);
    for (int i = 0; i < 100; i++) {
        uint8_t blob[2] = {(uint8_t)i, 0x55};
        tsc_x509_put(c, tsc_x509_get(c, blob, sizeof(blob)));
    }
    /* Still the same live entry (ASan reports a use after free otherwise). */
    ck_assert_mem_eq(a, &saved, sizeof(saved));
    ck_assert_ptr_eq(tsc_x509_get(c, g_ec_der, g_ec_len), a);
    tsc_x509_put(c, a);
    tsc_x509_put(c, a);
    /* Now unreferenced: the next new certificate evicts it. */
    tsc_x509_put(c, tsc_x509_get(c, blob_c, 1));
    expect_stats(c, 105, 1, 1);
    const struct tsc_cert_summary *a3 = tsc_x509_get(c, g_ec_der, g_ec_len);
    expect_stats(c, 106, 1, 1);
    tsc_x509_put(c, a3);
    /* Extra puts and NULLs are ignored. */
    tsc_x509_put(c, a3);
    tsc_x509_put(c, NULL);
    tsc_x509_put(NULL, a3);
    tsc_x509_cache_free(c);
}
END_TEST

/* Freeing the cache with references outstanding frees everything (LSan checks). */
START_TEST(test_cache_free_with_refs)
{
    struct tsc_x509_cache *c = NULL;
    ck_assert_int_eq(tsc_x509_cache_new(&c, 1), TSC_OK);
    ck_assert_ptr_nonnull(tsc_x509_get(c, blob_a, 1));
    ck_assert_ptr_nonnull(tsc_x509_get(c, blob_b, 1)); /* uncached */
    tsc_x509_cache_free(c);
    tsc_x509_cache_free(NULL);
}
END_TEST

/* Hits need the same bytes: equal length and a difference in any byte (first,
 * middle, last) is a miss, for certificates whose DER the cache keeps and for
 * larger ones it confirms by SHA-256; a copy at another address is a hit. */
START_TEST(test_cache_same_bytes)
{
    static const size_t lens[] = {1, 7, 8, 31, 32, 33, 1000, 4096, 4097, 9000};
    struct tsc_x509_cache *c = NULL;
    ck_assert_int_eq(tsc_x509_cache_new(&c, 64), TSC_OK);
    static uint8_t a[9000];
    static uint8_t b[9000];
    uint64_t lookups = 0;
    uint64_t hits = 0;
    uint64_t entries = 0;
    for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
        size_t n = lens[li];
        for (size_t i = 0; i < n; i++) {
            a[i] = (uint8_t)(i * 131 + n);
        }
        const struct tsc_cert_summary *sa = tsc_x509_get(c, a, n);
        lookups++;
        entries++;
        size_t where[3] = {0, n / 2, n - 1};
        for (int k = 0; k < 3; k++) {
            memcpy(b, a, n);
            b[where[k]] ^= 0x40;
            const struct tsc_cert_summary *sb = tsc_x509_get(c, b, n);
            lookups++;
            if (k == 0 || where[k] != where[k - 1]) {
                ck_assert_ptr_ne(sb, sa);
                entries++;
            } else {
                hits++;
            }
            tsc_x509_put(c, sb);
        }
        memcpy(b, a, n);
        const struct tsc_cert_summary *sc = tsc_x509_get(c, b, n);
        lookups++;
        hits++;
        ck_assert_ptr_eq(sc, sa);
        tsc_x509_put(c, sc);
        tsc_x509_put(c, sa);
    }
    expect_stats(c, lookups, hits, entries);
    /* No DER at all is its own entry, found again; not the same as zero bytes. */
    const struct tsc_cert_summary *n1 = tsc_x509_get(c, NULL, 0);
    const struct tsc_cert_summary *n2 = tsc_x509_get(c, NULL, 0);
    const struct tsc_cert_summary *z = tsc_x509_get(c, a, 0);
    ck_assert_ptr_eq(n1, n2);
    ck_assert_ptr_ne(n1, z);
    ck_assert(!n1->parse_ok && !z->parse_ok);
    expect_stats(c, lookups + 3, hits + 1, entries + 2);
    tsc_x509_put(c, n1);
    tsc_x509_put(c, n2);
    tsc_x509_put(c, z);
    tsc_x509_cache_free(c);
}
END_TEST

START_TEST(test_cache_limits)
{
    struct tsc_x509_cache *c = (struct tsc_x509_cache *)1;
    ck_assert_int_eq(tsc_x509_cache_new(&c, 0), TSC_ERR_ARG);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(tsc_x509_cache_new(&c, UINT32_MAX), TSC_OK);
    const uint32_t n = 5000;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t blob[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        tsc_x509_put(c, tsc_x509_get(c, blob, sizeof(blob)));
    }
    expect_stats(c, n, 0, n);
    tsc_x509_cache_free(c);
    ck_assert_int_eq(tsc_x509_cache_new(&c, 3), TSC_OK);
    for (uint32_t i = 0; i < 1000; i++) {
        uint8_t blob[2] = {(uint8_t)(i >> 8), (uint8_t)i};
        tsc_x509_put(c, tsc_x509_get(c, blob, sizeof(blob)));
    }
    expect_stats(c, 1000, 0, 3);
    tsc_x509_cache_free(c);
    struct tsc_x509_stats st;
    tsc_x509_get_stats(NULL, &st);
    ck_assert_uint_eq(st.lookups, 0);
    ck_assert_ptr_null(tsc_x509_get(NULL, blob_a, 1));
}
END_TEST

static Suite *x509_suite(void)
{
    Suite *s = suite_create("x509");
    TCase *tc = tcase_create("valid");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_rsa);
    tcase_add_test(tc, test_ec);
    tcase_add_test(tc, test_ed25519);
    tcase_add_test(tc, test_generalized_time_no_san);
    tcase_add_test(tc, test_cache_hit_miss);
    tcase_add_test(tc, test_cache_lru_eviction);
    tcase_add_test(tc, test_cache_refcount);
    tcase_add_test(tc, test_cache_free_with_refs);
    tcase_add_test(tc, test_cache_same_bytes);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_san_escaping);
    tcase_add_test(tc, test_garbage);
    tcase_add_loop_test(tc, test_mutated, 0, (int)g_ec_len);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_truncated, 0, (int)g_ec_len);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_long_fields);
    tcase_add_test(tc, test_cache_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    struct cert_spec sp;
    spec_std(&sp, "EC", "loop.example");
    g_ec_der = make_cert(&sp, &g_ec_len);
    SRunner *sr = srunner_create(x509_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(g_ec_der);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
