/*
 * --verify: signature checks (src/crypto/verify.c) with the throwaway keys
 * and certificates of pcaps/keys (signatures made here with libcrypto: valid,
 * wrong key, scheme not matching the key, truncated, TLS 1.3 rules, legacy
 * MD5+SHA-1; TLS 1.2 client CertificateVerify with SHA-1 to SHA-512, PSS,
 * ECDSA, Ed25519 over the messages), the certificate cache with its
 * verification contexts and name memo, chains at a given time and their
 * cached results, host names; and
 * the verdict logic (src/verify/verdict.c): ledger failures, findings,
 * incomplete evidence; and findings and the record ledger of the dissector
 * side (src/tls/verify.c) on crafted keyless records: fallback SCSV,
 * downgrade sentinel, missing renegotiation_info, a message out of order,
 * an early CCS, an overlong heartbeat, a protected record nobody can decrypt;
 * the kept TLS 1.2 transcript (a client CertificateVerify over it passes,
 * tampered fails, over the cap: not checked with a tls-limit diagnostic).
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/verify.h"
#include "tls/tls.h"
#include "verify/verdict.h"

static char *path_of(const char *name)
{
    static char buf[4][1024];
    static int n;
    const char *src = getenv("TSC_SOURCE_DIR");
    char *b = buf[n++ % 4];
    snprintf(b, sizeof(buf[0]), "%s/pcaps/keys/%s", src != NULL ? src : ".", name);
    return b;
}

static EVP_PKEY *load_key(const char *name)
{
    FILE *f = fopen(path_of(name), "r");
    ck_assert_ptr_nonnull(f);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(k);
    return k;
}

/* DER of a PEM certificate of pcaps/keys (caller frees). */
static uint8_t *load_der(const char *name, size_t *len)
{
    FILE *f = fopen(path_of(name), "r");
    ck_assert_ptr_nonnull(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    uint8_t *der = NULL;
    int n = i2d_X509(x, &der);
    ck_assert_int_gt(n, 0);
    X509_free(x);
    *len = (size_t)n;
    return der;
}

static struct tsc_vcert_cache *cache;

static struct tsc_vcert *cert(const char *name)
{
    size_t n = 0;
    uint8_t *der = load_der(name, &n);
    struct tsc_vcert *c = tsc_vcert_get(cache, der, n);
    OPENSSL_free(der);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* Signs data with key (md NULL for the legacy MD5-SHA1 form via "MD5-SHA1"), PSS if asked. */
static size_t sign(EVP_PKEY *key, const char *md, bool pss, const uint8_t *data, size_t len,
                   uint8_t *sig, size_t cap)
{
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    ck_assert_int_eq(EVP_DigestSignInit_ex(mc, &pc, md, NULL, NULL, key, NULL), 1);
    if (pss) {
        ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 0);
        ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST), 0);
    }
    size_t n = cap;
    ck_assert_int_eq(EVP_DigestSign(mc, sig, &n, data, len), 1);
    EVP_MD_CTX_free(mc);
    return n;
}

static uint8_t cr[32], srv_random[32], params[69];
static uint8_t tbs[64 + sizeof(params)];

static void setup(void)
{
    ck_assert_int_eq(tsc_vcert_cache_new(&cache, 16), TSC_OK);
    for (size_t i = 0; i < 32; i++) {
        cr[i] = (uint8_t)i;
        srv_random[i] = (uint8_t)(0xa0 + i);
    }
    /* ECParameters named_curve secp256r1 + a 65-byte point (contents do not matter here). */
    params[0] = 3;
    params[1] = 0;
    params[2] = 23;
    params[3] = 65;
    for (size_t i = 4; i < sizeof(params); i++) {
        params[i] = (uint8_t)(i * 7);
    }
    memcpy(tbs, cr, 32);
    memcpy(tbs + 32, srv_random, 32);
    memcpy(tbs + 64, params, sizeof(params));
}

static void teardown(void)
{
    tsc_vcert_cache_free(cache);
    cache = NULL;
}

START_TEST(ske_rsa_pss_valid_and_tampered)
{
    EVP_PKEY *k = load_key("server-rsa.key");
    struct tsc_vcert *c = cert("server-rsa.crt");
    uint8_t sig[512];
    size_t n = sign(k, "SHA256", true, tbs, sizeof(tbs), sig, sizeof(sig));
    struct tsc_sig_in in = {0x0303, true, 0x0804, sig, n};
    ck_assert_int_eq(tsc_verify_ske(c, &in, cr, srv_random, params, sizeof(params)), TSC_SIGERR_NONE);
    /* One parameter byte changed: the signature no longer covers it. */
    params[10] ^= 1;
    ck_assert_int_eq(tsc_verify_ske(c, &in, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_BAD_SIGNATURE);
    params[10] ^= 1;
    /* Randoms swapped (a replayed ServerKeyExchange in another handshake). */
    ck_assert_int_eq(tsc_verify_ske(c, &in, srv_random, cr, params, sizeof(params)),
                     TSC_SIGERR_BAD_SIGNATURE);
    /* Truncated signature. */
    in.sig_len = n - 1;
    ck_assert_int_eq(tsc_verify_ske(c, &in, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_BAD_SIGNATURE);
    in.sig_len = 0;
    ck_assert_int_eq(tsc_verify_ske(c, &in, cr, srv_random, params, sizeof(params)), TSC_SIGERR_TRUNCATED);
    /* Same signature, claimed as PKCS#1 v1.5: wrong padding. */
    in.sig_len = n;
    in.scheme = 0x0401;
    ck_assert_int_eq(tsc_verify_ske(c, &in, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_BAD_SIGNATURE);
    tsc_vcert_put(c);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(ske_wrong_key_and_scheme)
{
    EVP_PKEY *k = load_key("server-rsa.key");
    struct tsc_vcert *other = cert("client-rsa.crt"); /* another RSA key */
    struct tsc_vcert *ec = cert("server-ecdsa.crt");
    uint8_t sig[512];
    size_t n = sign(k, "SHA256", false, tbs, sizeof(tbs), sig, sizeof(sig));
    struct tsc_sig_in in = {0x0303, true, 0x0401, sig, n};
    ck_assert_int_eq(tsc_verify_ske(other, &in, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_BAD_SIGNATURE);
    ck_assert_int_eq(tsc_verify_ske(ec, &in, cr, srv_random, params, sizeof(params)), TSC_SIGERR_KEY_TYPE);
    in.scheme = 0x0403; /* ecdsa_secp256r1_sha256 with an RSA certificate */
    struct tsc_vcert *rsa = cert("server-rsa.crt");
    ck_assert_int_eq(tsc_verify_ske(rsa, &in, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_KEY_TYPE);
    in.scheme = 0x0c0c; /* no such scheme */
    ck_assert_int_eq(tsc_verify_ske(rsa, &in, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_UNKNOWN_SCHEME);
    ck_assert_int_eq(tsc_verify_ske(NULL, &in, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_NO_CERTIFICATE);
    tsc_vcert_put(rsa);
    tsc_vcert_put(other);
    tsc_vcert_put(ec);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(ske_ecdsa_and_legacy)
{
    EVP_PKEY *ek = load_key("server-ecdsa.key");
    struct tsc_vcert *ec = cert("server-ecdsa.crt");
    uint8_t sig[512];
    size_t n = sign(ek, "SHA384", false, tbs, sizeof(tbs), sig, sizeof(sig));
    struct tsc_sig_in in = {0x0303, true, 0x0503, sig, n};
    ck_assert_int_eq(tsc_verify_ske(ec, &in, cr, srv_random, params, sizeof(params)), TSC_SIGERR_NONE);
    in.scheme = 0x0403; /* the hash named by the scheme is the one checked */
    ck_assert_int_eq(tsc_verify_ske(ec, &in, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_BAD_SIGNATURE);
    /* TLS 1.0: no scheme; ECDSA over SHA-1 (RFC 4492 5.4). */
    n = sign(ek, "SHA1", false, tbs, sizeof(tbs), sig, sizeof(sig));
    struct tsc_sig_in old = {0x0301, false, 0, sig, n};
    ck_assert_int_eq(tsc_verify_ske(ec, &old, cr, srv_random, params, sizeof(params)), TSC_SIGERR_NONE);
    /* TLS 1.0 RSA: MD5 || SHA-1 without DigestInfo. */
    EVP_PKEY *rk = load_key("server-rsa.key");
    struct tsc_vcert *rsa = cert("server-rsa.crt");
    n = sign(rk, "MD5-SHA1", false, tbs, sizeof(tbs), sig, sizeof(sig));
    old.sig_len = n;
    ck_assert_int_eq(tsc_verify_ske(rsa, &old, cr, srv_random, params, sizeof(params)), TSC_SIGERR_NONE);
    sig[5] ^= 0x40;
    ck_assert_int_eq(tsc_verify_ske(rsa, &old, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_BAD_SIGNATURE);
    tsc_vcert_put(rsa);
    tsc_vcert_put(ec);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(ek);
}
END_TEST

START_TEST(cv13_rules)
{
    EVP_PKEY *k = load_key("server-rsa.key");
    struct tsc_vcert *c = cert("server-rsa.crt");
    uint8_t hash[32];
    for (size_t i = 0; i < 32; i++) {
        hash[i] = (uint8_t)(3 * i);
    }
    /* RFC 8446 4.4.3: 64 spaces, context string, 0x00, transcript hash. */
    static const char ctx[] = "TLS 1.3, server CertificateVerify";
    uint8_t content[64 + sizeof(ctx) + 32];
    memset(content, 0x20, 64);
    memcpy(content + 64, ctx, sizeof(ctx));
    memcpy(content + 64 + sizeof(ctx), hash, 32);
    uint8_t sig[512];
    size_t n = sign(k, "SHA256", true, content, sizeof(content), sig, sizeof(sig));
    struct tsc_sig_in in = {0x0304, true, 0x0804, sig, n};
    ck_assert_int_eq(tsc_verify_cv13(c, &in, true, hash, 32), TSC_SIGERR_NONE);
    /* The client context string differs: a server signature is not a client one. */
    ck_assert_int_eq(tsc_verify_cv13(c, &in, false, hash, 32), TSC_SIGERR_BAD_SIGNATURE);
    hash[0] ^= 1;
    ck_assert_int_eq(tsc_verify_cv13(c, &in, true, hash, 32), TSC_SIGERR_BAD_SIGNATURE);
    in.scheme = 0x0401; /* RSASSA-PKCS1-v1_5 is not allowed in TLS 1.3 CertificateVerify */
    ck_assert_int_eq(tsc_verify_cv13(c, &in, true, hash, 32), TSC_SIGERR_SCHEME_NOT_ALLOWED);
    in.scheme = 0x0804;
    ck_assert_int_eq(tsc_verify_cv13(c, &in, true, NULL, 0), TSC_SIGERR_NO_TRANSCRIPT);
    tsc_vcert_put(c);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(cache_and_names_and_chain)
{
    size_t n = 0;
    uint8_t *der = load_der("server-rsa.crt", &n);
    struct tsc_vcert *a = tsc_vcert_get(cache, der, n);
    struct tsc_vcert *b = tsc_vcert_get(cache, der, n);
    ck_assert_ptr_eq(a, b); /* one parse for both */
    ck_assert(tsc_vcert_matches_host(a, "server.test"));
    ck_assert(!tsc_vcert_matches_host(a, "other.test"));
    ck_assert(!tsc_vcert_matches_host(a, ""));
    der[n / 2] ^= 0xff;
    struct tsc_vcert *bad = tsc_vcert_get(cache, der, n / 3); /* cut DER */
    ck_assert_ptr_null(bad);
    OPENSSL_free(der);
    struct tsc_trust *t = NULL;
    char err[256];
    ck_assert_int_eq(tsc_trust_new(&t, path_of("server-rsa.crt"), NULL, err, sizeof(err)), 0);
    struct tsc_vcert *chain[1] = {a};
    /* 2030: inside the validity (2026-11-22 .. 2046); 2020 before it; 2050 after it. */
    ck_assert_int_eq(tsc_trust_verify(t, chain, 1, 1893456000, err, sizeof(err)), TSC_CHECK_PASS);
    ck_assert_int_eq(tsc_trust_verify(t, chain, 1, 1577836800, err, sizeof(err)), TSC_CHECK_FAIL);
    ck_assert_ptr_nonnull(strstr(err, "not yet valid"));
    ck_assert_int_eq(tsc_trust_verify(t, chain, 1, 2524608000, err, sizeof(err)), TSC_CHECK_FAIL);
    ck_assert_ptr_nonnull(strstr(err, "expired"));
    struct tsc_vcert *ec = cert("server-ecdsa.crt");
    chain[0] = ec;
    ck_assert_int_eq(tsc_trust_verify(t, chain, 1, 1893456000, err, sizeof(err)), TSC_CHECK_FAIL);
    ck_assert_int_ne(tsc_trust_new(&t, "/nonexistent/ca.pem", NULL, err, sizeof(err)), 0);
    tsc_trust_free(t);
    tsc_vcert_put(ec);
    tsc_vcert_put(a);
    tsc_vcert_put(b);
}
END_TEST

/* TLS <= 1.2 client CertificateVerify: the scheme's own hash over the messages, any scheme. */
START_TEST(cv12_any_scheme)
{
    uint8_t tx[700];
    for (size_t i = 0; i < sizeof(tx); i++) {
        tx[i] = (uint8_t)(i * 13 + 5);
    }
    static const struct {
        const char *key, *crt, *md;
        bool pss, has_scheme;
        uint16_t scheme;
    } cases[] = {
        {"client-rsa.key", "client-rsa.crt", "SHA1", false, true, 0x0201},    /* rsa_pkcs1_sha1 */
        {"client-rsa.key", "client-rsa.crt", "SHA512", false, true, 0x0601},  /* rsa_pkcs1_sha512 */
        {"client-rsa.key", "client-rsa.crt", "SHA384", true, true, 0x0805},   /* rsa_pss_rsae_sha384 */
        {"server-ecdsa.key", "server-ecdsa.crt", "SHA512", false, true, 0x0603}, /* ecdsa_sha512 */
        {"server-ecdsa.key", "server-ecdsa.crt", "SHA1", false, true, 0x0203},   /* ecdsa_sha1 */
        {"client-rsa.key", "client-rsa.crt", "MD5-SHA1", false, false, 0},   /* TLS 1.0 RSA */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EVP_PKEY *k = load_key(cases[i].key);
        struct tsc_vcert *c = cert(cases[i].crt);
        uint8_t sig[512];
        size_t n = sign(k, cases[i].md, cases[i].pss, tx, sizeof(tx), sig, sizeof(sig));
        struct tsc_sig_in in = {cases[i].has_scheme ? 0x0303 : 0x0301, cases[i].has_scheme,
                                cases[i].scheme, sig, n};
        ck_assert_msg(tsc_verify_cv12(c, &in, tx, sizeof(tx)) == TSC_SIGERR_NONE, "case %zu", i);
        tx[100] ^= 1; /* one transcript byte changed */
        ck_assert_msg(tsc_verify_cv12(c, &in, tx, sizeof(tx)) == TSC_SIGERR_BAD_SIGNATURE,
                      "case %zu tampered", i);
        tx[100] ^= 1;
        /* A shorter transcript (one message less) is another transcript. */
        ck_assert_int_eq(tsc_verify_cv12(c, &in, tx, sizeof(tx) - 1), TSC_SIGERR_BAD_SIGNATURE);
        ck_assert_int_eq(tsc_verify_cv12(c, &in, NULL, 0), TSC_SIGERR_NO_TRANSCRIPT);
        tsc_vcert_put(c);
        EVP_PKEY_free(k);
    }
}
END_TEST

/* RFC 8422 5.10: an Ed25519 client signs the handshake messages themselves (no digest). */
START_TEST(cv12_ed25519)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ck_assert_ptr_nonnull(k);
    X509 *x = X509_new();
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    ck_assert_int_eq(X509_set_pubkey(x, k), 1);
    ck_assert_int_gt(X509_sign(x, k, NULL), 0);
    uint8_t *der = NULL;
    int dn = i2d_X509(x, &der);
    ck_assert_int_gt(dn, 0);
    struct tsc_vcert *c = tsc_vcert_get(cache, der, (size_t)dn);
    ck_assert_ptr_nonnull(c);
    uint8_t tx[300];
    for (size_t i = 0; i < sizeof(tx); i++) {
        tx[i] = (uint8_t)(i ^ 0x5c);
    }
    uint8_t sig[128];
    size_t n = sizeof(sig);
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestSignInit(mc, NULL, NULL, NULL, k), 1);
    ck_assert_int_eq(EVP_DigestSign(mc, sig, &n, tx, sizeof(tx)), 1);
    EVP_MD_CTX_free(mc);
    struct tsc_sig_in in = {0x0303, true, 0x0807, sig, n};
    ck_assert_int_eq(tsc_verify_cv12(c, &in, tx, sizeof(tx)), TSC_SIGERR_NONE);
    tx[0] ^= 1;
    ck_assert_int_eq(tsc_verify_cv12(c, &in, tx, sizeof(tx)), TSC_SIGERR_BAD_SIGNATURE);
    in.scheme = 0x0804; /* claimed as RSA-PSS: not this key */
    ck_assert_int_eq(tsc_verify_cv12(c, &in, tx, sizeof(tx)), TSC_SIGERR_KEY_TYPE);
    tsc_vcert_put(c);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(k);
}
END_TEST

/* What is done once per certificate or chain is done once, and counted. */
START_TEST(caches_count_and_reuse)
{
    EVP_PKEY *k = load_key("server-rsa.key");
    struct tsc_vcert *a = cert("server-rsa.crt");
    struct tsc_vcert *b = cert("server-rsa.crt");
    struct tsc_vcert_stats st;
    tsc_vcert_cache_stats(cache, &st);
    ck_assert_uint_eq(st.lookups, 2);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_uint_eq(st.capacity, 16);
    ck_assert_uint_gt(st.memory_bytes, 16 * sizeof(void *));
    uint8_t sig[512];
    size_t n = sign(k, "SHA256", true, tbs, sizeof(tbs), sig, sizeof(sig));
    struct tsc_sig_in in = {0x0303, true, 0x0804, sig, n};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(tsc_verify_ske(b, &in, cr, srv_random, params, sizeof(params)),
                         TSC_SIGERR_NONE);
    }
    /* The cached context does not carry one verification's state into the next. */
    params[3] ^= 1;
    ck_assert_int_eq(tsc_verify_ske(a, &in, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_BAD_SIGNATURE);
    params[3] ^= 1;
    ck_assert_int_eq(tsc_verify_ske(a, &in, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_NONE);
    in.scheme = 0x0401; /* another scheme: another context */
    ck_assert_int_eq(tsc_verify_ske(a, &in, cr, srv_random, params, sizeof(params)),
                     TSC_SIGERR_BAD_SIGNATURE);
    ck_assert(tsc_vcert_matches_host(a, "server.test"));
    ck_assert(tsc_vcert_matches_host(b, "server.test"));
    ck_assert(!tsc_vcert_matches_host(a, "other.test"));
    ck_assert(tsc_vcert_matches_host(a, "server.test"));
    tsc_vcert_cache_stats(cache, &st);
    ck_assert_uint_eq(st.contexts, 2);
    ck_assert_uint_eq(st.context_hits, 6);
    ck_assert_uint_eq(st.name_hits, 1);

    struct tsc_trust *t = NULL;
    char err[256];
    ck_assert_int_eq(tsc_trust_new(&t, path_of("server-rsa.crt"), NULL, err, sizeof(err)), 0);
    struct tsc_vcert *chain[1] = {a};
    /* 2030 and 2031: same validity stretch (one run); 2050: past notAfter, run again. */
    ck_assert_int_eq(tsc_trust_verify(t, chain, 1, 1893456000, err, sizeof(err)), TSC_CHECK_PASS);
    ck_assert_int_eq(tsc_trust_verify(t, chain, 1, 1924992000, err, sizeof(err)), TSC_CHECK_PASS);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(tsc_trust_verify(t, chain, 1, 2524608000, err, sizeof(err)), TSC_CHECK_FAIL);
    ck_assert_ptr_nonnull(strstr(err, "expired"));
    ck_assert_int_eq(tsc_trust_verify(t, chain, 1, 2524608100, err, sizeof(err)), TSC_CHECK_FAIL);
    ck_assert_ptr_nonnull(strstr(err, "expired")); /* the reason comes back with the result */
    struct tsc_chain_stats cs;
    tsc_trust_stats(t, &cs);
    ck_assert_uint_eq(cs.lookups, 4);
    ck_assert_uint_eq(cs.hits, 2);
    ck_assert_uint_eq(cs.entries, 1);
    ck_assert_uint_eq(cs.evictions, 1);
    tsc_vcert_put(a);
    tsc_vcert_put(b);
    /* The chain result keeps its certificate alive past the cache. */
    tsc_vcert_cache_free(cache);
    cache = NULL;
    ck_assert_int_eq(tsc_trust_verify(t, chain, 1, 2524608200, err, sizeof(err)), TSC_CHECK_FAIL);
    tsc_trust_free(t);
    ck_assert_int_eq(tsc_vcert_cache_new(&cache, 16), TSC_OK);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- verdicts ---- */

static struct tsc_tls_facts F;
static struct tsc_verify_facts VF;
static struct tsc_tcp_dir_stats TS[2];

/* A complete, decrypted ECDHE handshake whose checks all passed. */
static void good(void)
{
    memset(&F, 0, sizeof(F));
    memset(&VF, 0, sizeof(VF));
    memset(TS, 0, sizeof(TS));
    F.is_tls = true;
    F.version = 0x0303;
    F.cipher_suite = 0xc02f;
    snprintf(F.sni, sizeof(F.sni), "server.test");
    F.dir[0].hs_types[0] = 1;
    F.dir[0].hs_types[1] = 16;
    F.dir[0].hs_types[2] = 20;
    F.dir[0].n_hs_types = 3;
    F.dir[1].hs_types[0] = 2;
    F.dir[1].hs_types[1] = 11;
    F.dir[1].hs_types[2] = 12;
    F.dir[1].hs_types[3] = 14;
    F.dir[1].hs_types[4] = 20;
    F.dir[1].n_hs_types = 5;
    F.dec.key_material = true;
    F.dec.decrypted = true;
    F.dec.key_source = "keylog";
    F.dec.finished[0] = "verified";
    F.dec.finished[1] = "verified";
    F.dec.have_master_secret = true;
    VF.ske.present = true;
    VF.ske.result = TSC_CHECK_PASS;
    VF.ske.has_scheme = true;
    VF.ske.scheme = 0x0804;
    VF.server_cert = true;
    VF.server_cert_parsed = true;
    VF.name = TSC_CHECK_PASS;
    for (int d = 0; d < 2; d++) {
        VF.ledger[d].records = 5;
        VF.ledger[d].plaintext = 2;
        VF.ledger[d].protected_records = 3;
        VF.ledger[d].decrypted = 3;
    }
}

static struct tsc_verdict compute(void)
{
    struct tsc_verdict_in in = {&F, &VF, TS, true, false};
    struct tsc_verdict v;
    tsc_verdict_compute(&in, &v);
    return v;
}

static enum tsc_check result_of(const struct tsc_verdict *v, const char *check)
{
    for (uint32_t i = 0; i < v->n_checks; i++) {
        if (strcmp(v->checks[i].check, check) == 0) {
            return v->checks[i].result;
        }
    }
    return (enum tsc_check)-1;
}

START_TEST(verdict_verified_and_failures)
{
    good();
    struct tsc_verdict v = compute();
    ck_assert_int_eq(v.kind, TSC_VERDICT_VERIFIED);
    ck_assert_str_eq(v.server_auth, "signature");
    ck_assert_str_eq(v.master_secret, "recomputed");
    ck_assert_ptr_null(tsc_verdict_first_problem(&v));
    /* A failed record in the ledger. */
    VF.ledger[1].failed = 1;
    VF.ledger[1].decrypted = 2;
    VF.ledger[1].first_failed_record = 4;
    VF.ledger[1].first_failed_pkt = 11;
    VF.ledger[1].first_failed_reason = "bad_record_mac";
    v = compute();
    ck_assert_int_eq(v.kind, TSC_VERDICT_FAILED);
    ck_assert_int_eq(result_of(&v, "records_s2c"), TSC_CHECK_FAIL);
    const struct tsc_vcheck *p = tsc_verdict_first_problem(&v);
    ck_assert_str_eq(p->check, "records_s2c");
    ck_assert_ptr_nonnull(strstr(p->detail, "record 4 (packet 11): bad_record_mac"));
    /* A Finished mismatch. */
    good();
    F.dec.finished[0] = "mismatch";
    v = compute();
    ck_assert_int_eq(v.kind, TSC_VERDICT_FAILED);
    ck_assert_int_eq(result_of(&v, "client_finished"), TSC_CHECK_FAIL);
    /* A bad signature. */
    good();
    VF.ske.result = TSC_CHECK_FAIL;
    VF.ske.error = "bad_signature";
    v = compute();
    ck_assert_int_eq(v.kind, TSC_VERDICT_FAILED);
    /* A critical finding fails, a warning does not. */
    good();
    VF.findings[0] = (struct tsc_finding){"weak_cipher_suite", "warning", "RC4", 0};
    VF.n_findings = 1;
    ck_assert_int_eq(compute().kind, TSC_VERDICT_VERIFIED);
    VF.findings[1] = (struct tsc_finding){"downgrade_sentinel", "critical", "x", 5};
    VF.n_findings = 2;
    v = compute();
    ck_assert_int_eq(v.kind, TSC_VERDICT_FAILED);
    ck_assert_int_eq(result_of(&v, "findings"), TSC_CHECK_FAIL);
}
END_TEST

START_TEST(verdict_incomplete)
{
    /* Bytes missing in TCP. */
    good();
    TS[1].gap_bytes = 1200;
    struct tsc_verdict v = compute();
    ck_assert_int_eq(v.kind, TSC_VERDICT_INCOMPLETE);
    ck_assert_int_eq(result_of(&v, "tcp_evidence"), TSC_CHECK_NOT_CHECKED);
    /* Records that could not be decrypted. */
    good();
    VF.ledger[0].undecryptable = 1;
    ck_assert_int_eq(compute().kind, TSC_VERDICT_INCOMPLETE);
    /* No keys: Finished unverified. */
    good();
    F.dec.decrypted = false;
    F.dec.key_source = NULL;
    F.dec.finished[0] = F.dec.finished[1] = "unverified";
    F.dec.undecrypted_reason = "no_key_material";
    ck_assert_int_eq(compute().kind, TSC_VERDICT_INCOMPLETE);
    /* Handshake stopped after the ServerHello. */
    good();
    F.dir[0].n_hs_types = 1;
    F.dir[1].n_hs_types = 1;
    v = compute();
    ck_assert_int_eq(v.kind, TSC_VERDICT_INCOMPLETE);
    ck_assert(!v.handshake_complete);
    ck_assert_str_eq(v.stopped_after, "server_hello");
    ck_assert_str_eq(v.stopped_from, "server");
    /* ECDHE without the ServerKeyExchange signature seen. */
    good();
    VF.ske.present = false;
    v = compute();
    ck_assert_int_eq(v.kind, TSC_VERDICT_INCOMPLETE);
    ck_assert_int_eq(result_of(&v, "server_signature"), TSC_CHECK_NOT_CHECKED);
}
END_TEST

/* ---- findings and ledger through the dissector (keyless, crafted records) ---- */

static size_t put(uint8_t *b, size_t at, const uint8_t *p, size_t n)
{
    if (n > 0) {
        memcpy(b + at, p, n);
    }
    return at + n;
}

/* A record of type with body; returns its length. */
static size_t record(uint8_t *out, uint8_t type, const uint8_t *body, size_t n)
{
    uint8_t h[5] = {type, 3, 3, (uint8_t)(n >> 8), (uint8_t)n};
    size_t at = put(out, 0, h, 5);
    return put(out, at, body, n);
}

static size_t hs(uint8_t *out, uint8_t type, const uint8_t *body, size_t n)
{
    uint8_t h[4] = {type, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    size_t at = put(out, 0, h, 4);
    return put(out, at, body, n);
}

static const struct tsc_finding *finding(const struct tsc_verify_facts *v, const char *code)
{
    for (uint32_t i = 0; i < v->n_findings; i++) {
        if (strcmp(v->findings[i].code, code) == 0) {
            return &v->findings[i];
        }
    }
    return NULL;
}

START_TEST(dissector_findings_and_ledger)
{
    struct tsc_verify_config vc = {cache, NULL};
    struct tsc_tls_config cfg;
    tsc_tls_config_default(&cfg);
    cfg.verify = &vc;
    struct tsc_tls_conn *t = NULL;
    ck_assert_int_eq(tsc_tls_conn_new(&t, &cfg, 1), TSC_OK);
    struct tsc_ts ts = {1700000000, 0};
    uint8_t body[512], msg[600], rec[700];
    /* ClientHello: suites ECDHE-RSA-AES128-GCM, TLS_FALLBACK_SCSV, EMPTY_RENEGOTIATION_INFO;
     * supported_versions 1.3, 1.2. */
    size_t n = 0;
    static const uint8_t v12[2] = {3, 3};
    n = put(body, n, v12, 2);
    memset(body + n, 0x11, 32);
    n += 32;
    static const uint8_t rest[] = {0, 0, 6, 0xc0, 0x2f, 0x56, 0x00, 0x00, 0xff, 1, 0,
                                   0, 9, 0x00, 0x2b, 0, 5, 4, 3, 4, 3, 3};
    n = put(body, n, rest, sizeof(rest));
    size_t m = hs(msg, 1, body, n);
    size_t r = record(rec, 22, msg, m);
    tsc_tls_conn_data(t, TSC_DIR_C2S, rec, r, 4, ts, NULL);
    /* ServerHello with the TLS 1.2 downgrade sentinel, no renegotiation_info; then
     * ServerHelloDone, then a Certificate after it (out of order). */
    n = put(body, 0, v12, 2);
    memset(body + n, 0x22, 24);
    n += 24;
    static const uint8_t dg[8] = {'D', 'O', 'W', 'N', 'G', 'R', 'D', 1};
    n = put(body, n, dg, 8);
    static const uint8_t sh_rest[] = {0, 0xc0, 0x2f, 0, 0, 0};
    n = put(body, n, sh_rest, sizeof(sh_rest));
    m = hs(msg, 2, body, n);
    m += hs(msg + m, 14, NULL, 0);
    static const uint8_t empty_chain[3] = {0, 0, 0};
    m += hs(msg + m, 11, empty_chain, 3);
    r = record(rec, 22, msg, m);
    tsc_tls_conn_data(t, TSC_DIR_S2C, rec, r, 6, ts, NULL);
    /* Client: an overlong heartbeat (payload_length 16384 in a 3-byte record), a CCS before
     * any ClientKeyExchange, then a protected handshake record nobody can decrypt. */
    static const uint8_t hb[3] = {1, 0x40, 0x00};
    r = record(rec, 24, hb, 3);
    tsc_tls_conn_data(t, TSC_DIR_C2S, rec, r, 8, ts, NULL);
    static const uint8_t ccs[1] = {1};
    r = record(rec, 20, ccs, 1);
    tsc_tls_conn_data(t, TSC_DIR_C2S, rec, r, 9, ts, NULL);
    memset(body, 0x5a, 40);
    r = record(rec, 22, body, 40);
    tsc_tls_conn_data(t, TSC_DIR_C2S, rec, r, 10, ts, NULL);
    tsc_tls_conn_end(t, TSC_DIR_C2S);
    tsc_tls_conn_end(t, TSC_DIR_S2C);
    tsc_tls_conn_close(t);
    const struct tsc_verify_facts *v = tsc_tls_conn_verify(t);
    ck_assert_ptr_nonnull(v);
    ck_assert(v->client_offered_tls13);
    const struct tsc_finding *x = finding(v, "downgrade_sentinel");
    ck_assert_ptr_nonnull(x);
    ck_assert_str_eq(x->severity, "critical");
    ck_assert_uint_eq(x->pkt, 6);
    ck_assert_ptr_nonnull(finding(v, "fallback_scsv"));
    ck_assert_ptr_nonnull(finding(v, "insecure_renegotiation"));
    x = finding(v, "out_of_order_message");
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(strstr(x->detail, "certificate from the server"));
    x = finding(v, "unexpected_ccs");
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(strstr(x->detail, "before its ClientKeyExchange"));
    ck_assert_uint_eq(x->pkt, 9);
    ck_assert_ptr_nonnull(finding(v, "heartbleed"));
    ck_assert_ptr_nonnull(finding(v, "heartbeat"));
    ck_assert_ptr_null(finding(v, "weak_cipher_suite"));
    /* Ledger: client 4 records (hello, heartbeat, CCS plaintext; one protected, opaque). */
    const struct tsc_ledger *l = &v->ledger[TSC_DIR_C2S];
    ck_assert_uint_eq(l->records, 4);
    ck_assert_uint_eq(l->plaintext, 3);
    ck_assert_uint_eq(l->protected_records, 1);
    ck_assert_uint_eq(l->undecryptable, 1);
    ck_assert_uint_eq(l->failed, 0);
    ck_assert_uint_eq(l->decrypted, 0);
    ck_assert_uint_eq(l->authenticated, 0); /* no verified Finished */
    ck_assert_uint_eq(v->ledger[TSC_DIR_S2C].records, 1);
    /* The verdict: critical findings fail it. */
    struct tsc_tcp_dir_stats st[2];
    memset(st, 0, sizeof(st));
    struct tsc_verdict_in in = {tsc_tls_conn_facts(t), v, st, true, false};
    struct tsc_verdict vd;
    tsc_verdict_compute(&in, &vd);
    ck_assert_int_eq(vd.kind, TSC_VERDICT_FAILED);
    ck_assert_int_eq(result_of(&vd, "findings"), TSC_CHECK_FAIL);
    tsc_tls_conn_free(t);
}
END_TEST

/* Diagnostics of the crafted connections below, by kind. */
static void count_diag(void *ud, enum tsc_diag_kind kind, const struct tsc_where *where,
                       const char *msg)
{
    (void)ud;
    (void)kind;
    (void)where;
    (void)msg;
}

/* Feeds p as handshake records of at most 16384 bytes. */
static void feed_hs(struct tsc_tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t pkt)
{
    static uint8_t rec[16384 + 5];
    struct tsc_ts ts = {1700000000, 0};
    for (size_t at = 0; at < n;) {
        size_t k = n - at < 16384 ? n - at : 16384;
        size_t r = record(rec, 22, p + at, k);
        tsc_tls_conn_data(t, dir, rec, r, pkt, ts, NULL);
        at += k;
    }
}

/*
 * A keyless TLS 1.2 handshake with client authentication, SHA-1 client
 * signature under a SHA-256 PRF suite: the client CertificateVerify is
 * checked over the messages from ClientHello to ClientKeyExchange (a
 * HelloRequest among them is not part of it). big: the server also sends a
 * 130 000-byte message, beyond the kept-transcript cap: not checked, and a
 * tls-limit diagnostic says why.
 */
static void client_auth_conn(bool big, bool tamper)
{
    struct tsc_verify_config vc = {cache, NULL};
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    sink.emit = count_diag;
    struct tsc_tls_config cfg;
    tsc_tls_config_default(&cfg);
    cfg.verify = &vc;
    cfg.sink = &sink;
    struct tsc_tls_conn *t = NULL;
    ck_assert_int_eq(tsc_tls_conn_new(&t, &cfg, 1), TSC_OK);
    size_t cap = 200000, tn = 0, n = 0;
    uint8_t *tx = malloc(cap), *flight = malloc(cap), body[600];
    ck_assert_ptr_nonnull(tx);
    ck_assert_ptr_nonnull(flight);
    static const uint8_t v12[2] = {3, 3};
    n = put(body, 0, v12, 2);
    memset(body + n, 0x31, 32);
    n += 32;
    static const uint8_t ch_rest[] = {0, 0, 2, 0xc0, 0x2f, 1, 0, 0, 0};
    n = put(body, n, ch_rest, sizeof(ch_rest));
    size_t m = hs(flight, 1, body, n);
    tn = put(tx, 0, flight, m);
    feed_hs(t, TSC_DIR_C2S, flight, m, 1);
    /* ServerHello (renegotiation_info), HelloRequest, [big], CertificateRequest, ServerHelloDone. */
    n = put(body, 0, v12, 2);
    memset(body + n, 0x42, 32);
    n += 32;
    static const uint8_t sh_rest[] = {0, 0xc0, 0x2f, 0, 0, 5, 0xff, 1, 0, 1, 0};
    n = put(body, n, sh_rest, sizeof(sh_rest));
    m = hs(flight, 2, body, n);
    tn = put(tx, tn, flight, m);
    size_t hr = hs(flight + m, 0, NULL, 0);
    m += hr;
    if (big) {
        static uint8_t junk[130000];
        memset(junk, 0x77, sizeof(junk));
        size_t b = hs(flight + m, 22, junk, sizeof(junk)); /* certificate_status */
        tn = put(tx, tn, flight + m, b);
        m += b;
    }
    static const uint8_t cr_body[] = {1, 1, 0, 2, 2, 1, 0, 0}; /* rsa_sign; rsa_pkcs1_sha1 */
    size_t b = hs(flight + m, 13, cr_body, sizeof(cr_body));
    b += hs(flight + m + b, 14, NULL, 0);
    tn = put(tx, tn, flight + m, b);
    m += b;
    feed_hs(t, TSC_DIR_S2C, flight, m, 2);
    /* Client: Certificate, ClientKeyExchange, CertificateVerify. */
    size_t dl = 0;
    uint8_t *der = load_der("client-rsa.crt", &dl);
    uint8_t cert_body[2048];
    size_t cb = 0;
    const uint8_t l3[6] = {0, (uint8_t)((dl + 3) >> 8), (uint8_t)(dl + 3), 0, (uint8_t)(dl >> 8),
                           (uint8_t)dl};
    cb = put(cert_body, 0, l3, 6);
    cb = put(cert_body, cb, der, dl);
    OPENSSL_free(der);
    m = hs(flight, 11, cert_body, cb);
    uint8_t cke[66];
    cke[0] = 65;
    memset(cke + 1, 0x04, 65);
    m += hs(flight + m, 16, cke, sizeof(cke));
    tn = put(tx, tn, flight, m);
    EVP_PKEY *k = load_key("client-rsa.key");
    uint8_t sig[512];
    size_t sl = sign(k, "SHA1", false, tx, tn, sig, sizeof(sig));
    EVP_PKEY_free(k);
    if (tamper) {
        sig[sl / 2] ^= 1;
    }
    uint8_t cv[4 + 512];
    const uint8_t cvh[4] = {2, 1, (uint8_t)(sl >> 8), (uint8_t)sl};
    size_t cvn = put(cv, 0, cvh, 4);
    cvn = put(cv, cvn, sig, sl);
    m += hs(flight + m, 15, cv, cvn);
    feed_hs(t, TSC_DIR_C2S, flight, m, 3);
    tsc_tls_conn_end(t, TSC_DIR_C2S);
    tsc_tls_conn_end(t, TSC_DIR_S2C);
    tsc_tls_conn_close(t);
    const struct tsc_verify_facts *v = tsc_tls_conn_verify(t);
    ck_assert(v->client_cert);
    ck_assert(v->client_cv.present);
    ck_assert_uint_eq(v->client_cv.scheme, 0x0201);
    if (big) {
        ck_assert_int_eq(v->client_cv.result, TSC_CHECK_NOT_CHECKED);
        ck_assert_str_eq(v->client_cv.error, "transcript_unavailable");
        ck_assert_uint_eq(sink.counts[TSC_DIAG_TLS_LIMIT], 1);
    } else if (tamper) {
        ck_assert_int_eq(v->client_cv.result, TSC_CHECK_FAIL);
        ck_assert_str_eq(v->client_cv.error, "bad_signature");
    } else {
        ck_assert_int_eq(v->client_cv.result, TSC_CHECK_PASS);
        ck_assert_ptr_null(v->client_cv.error);
        ck_assert_uint_eq(sink.counts[TSC_DIAG_TLS_LIMIT], 0);
    }
    tsc_tls_conn_free(t);
    free(tx);
    free(flight);
}

START_TEST(dissector_client_cv_transcript)
{
    client_auth_conn(false, false);
    client_auth_conn(false, true);
    client_auth_conn(true, false);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("verify");
    TCase *tc = tcase_create("signatures");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ske_rsa_pss_valid_and_tampered);
    tcase_add_test(tc, ske_wrong_key_and_scheme);
    tcase_add_test(tc, ske_ecdsa_and_legacy);
    tcase_add_test(tc, cv13_rules);
    tcase_add_test(tc, cache_and_names_and_chain);
    tcase_add_test(tc, cv12_any_scheme);
    tcase_add_test(tc, cv12_ed25519);
    tcase_add_test(tc, caches_count_and_reuse);
    suite_add_tcase(s, tc);
    TCase *tv = tcase_create("verdicts");
    tcase_add_test(tv, verdict_verified_and_failures);
    tcase_add_test(tv, verdict_incomplete);
    suite_add_tcase(s, tv);
    TCase *td = tcase_create("dissector");
    tcase_add_checked_fixture(td, setup, teardown);
    tcase_add_test(td, dissector_findings_and_ledger);
    tcase_add_test(td, dissector_client_cv_transcript);
    suite_add_tcase(s, td);
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
