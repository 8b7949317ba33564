/*
 * Cipher suite classification and the run-wide cache of fetched libcrypto
 * algorithms. The table is derived once (pthread_once) by parsing the IANA
 * registry names that tsc_name_cipher_suite() returns, so every suite whose
 * name follows the "TLS_<kex>_WITH_<bulk>_<mac>" (or TLS 1.3
 * "TLS_<aead>_<hash>") pattern is covered. After that first call the table and
 * the fetched EVP objects are read-only.
 */
#ifndef TSC_CRYPTO_SUITES_H
#define TSC_CRYPTO_SUITES_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>

enum tsc_kex {
    TSC_KEX_OTHER = 0,
    TSC_KEX_RSA,
    TSC_KEX_DHE,
    TSC_KEX_ECDHE,
    TSC_KEX_PSK,
    TSC_KEX_RSA_PSK,
    TSC_KEX_DHE_PSK,
    TSC_KEX_ECDHE_PSK,
    TSC_KEX_TLS13,
};

/* X(enum, registry token, libcrypto name, key, block, fixed iv, record iv, tag, family) */
#define TSC_BULK_LIST(X)                                                                           \
    X(TSC_BULK_NULL, "NULL", NULL, 0, 0, 0, 0, 0, TSC_FAM_NULL)                                    \
    X(TSC_BULK_RC4_128, "RC4_128", "RC4", 16, 0, 0, 0, 0, TSC_FAM_STREAM)                          \
    X(TSC_BULK_3DES_EDE_CBC, "3DES_EDE_CBC", "DES-EDE3-CBC", 24, 8, 8, 8, 0, TSC_FAM_CBC)          \
    X(TSC_BULK_DES_CBC, "DES_CBC", "DES-CBC", 8, 8, 8, 8, 0, TSC_FAM_CBC)                          \
    X(TSC_BULK_IDEA_CBC, "IDEA_CBC", "IDEA-CBC", 16, 8, 8, 8, 0, TSC_FAM_CBC)                      \
    X(TSC_BULK_SEED_CBC, "SEED_CBC", "SEED-CBC", 16, 16, 16, 16, 0, TSC_FAM_CBC)                   \
    X(TSC_BULK_AES_128_CBC, "AES_128_CBC", "AES-128-CBC", 16, 16, 16, 16, 0, TSC_FAM_CBC)          \
    X(TSC_BULK_AES_256_CBC, "AES_256_CBC", "AES-256-CBC", 32, 16, 16, 16, 0, TSC_FAM_CBC)          \
    X(TSC_BULK_CAMELLIA_128_CBC, "CAMELLIA_128_CBC", "CAMELLIA-128-CBC", 16, 16, 16, 16, 0,        \
      TSC_FAM_CBC)                                                                                 \
    X(TSC_BULK_CAMELLIA_256_CBC, "CAMELLIA_256_CBC", "CAMELLIA-256-CBC", 32, 16, 16, 16, 0,        \
      TSC_FAM_CBC)                                                                                 \
    X(TSC_BULK_ARIA_128_CBC, "ARIA_128_CBC", "ARIA-128-CBC", 16, 16, 16, 16, 0, TSC_FAM_CBC)       \
    X(TSC_BULK_ARIA_256_CBC, "ARIA_256_CBC", "ARIA-256-CBC", 32, 16, 16, 16, 0, TSC_FAM_CBC)       \
    X(TSC_BULK_AES_128_GCM, "AES_128_GCM", "AES-128-GCM", 16, 0, 4, 8, 16, TSC_FAM_GCM)            \
    X(TSC_BULK_AES_256_GCM, "AES_256_GCM", "AES-256-GCM", 32, 0, 4, 8, 16, TSC_FAM_GCM)            \
    X(TSC_BULK_AES_128_CCM_8, "AES_128_CCM_8", "AES-128-CCM", 16, 0, 4, 8, 8, TSC_FAM_CCM)         \
    X(TSC_BULK_AES_256_CCM_8, "AES_256_CCM_8", "AES-256-CCM", 32, 0, 4, 8, 8, TSC_FAM_CCM)         \
    X(TSC_BULK_AES_128_CCM, "AES_128_CCM", "AES-128-CCM", 16, 0, 4, 8, 16, TSC_FAM_CCM)            \
    X(TSC_BULK_AES_256_CCM, "AES_256_CCM", "AES-256-CCM", 32, 0, 4, 8, 16, TSC_FAM_CCM)            \
    X(TSC_BULK_CAMELLIA_128_GCM, "CAMELLIA_128_GCM", "CAMELLIA-128-GCM", 16, 0, 4, 8, 16,          \
      TSC_FAM_GCM)                                                                                 \
    X(TSC_BULK_CAMELLIA_256_GCM, "CAMELLIA_256_GCM", "CAMELLIA-256-GCM", 32, 0, 4, 8, 16,          \
      TSC_FAM_GCM)                                                                                 \
    X(TSC_BULK_ARIA_128_GCM, "ARIA_128_GCM", "ARIA-128-GCM", 16, 0, 4, 8, 16, TSC_FAM_GCM)         \
    X(TSC_BULK_ARIA_256_GCM, "ARIA_256_GCM", "ARIA-256-GCM", 32, 0, 4, 8, 16, TSC_FAM_GCM)         \
    X(TSC_BULK_CHACHA20_POLY1305, "CHACHA20_POLY1305", "ChaCha20-Poly1305", 32, 0, 12, 0, 16,      \
      TSC_FAM_CHACHA)

enum tsc_cipher_family {
    TSC_FAM_NULL = 0,
    TSC_FAM_STREAM,
    TSC_FAM_CBC,
    TSC_FAM_GCM,
    TSC_FAM_CCM,
    TSC_FAM_CHACHA,
};

enum tsc_bulk {
#define TSC_BULK_ENUM(e, tok, ossl, k, b, fi, ri, t, fam) e,
    TSC_BULK_LIST(TSC_BULK_ENUM)
#undef TSC_BULK_ENUM
    TSC_BULK__COUNT
};

/* Digests: MAC algorithms, PRF hashes and transcript hashes. */
enum tsc_md {
    TSC_MD_NONE = 0, /* AEAD: no separate MAC */
    TSC_MD_MD5,
    TSC_MD_SHA1,
    TSC_MD_SHA256,
    TSC_MD_SHA384,
    TSC_MD__COUNT
};

struct tsc_suite {
    uint16_t id;
    enum tsc_kex kex;
    enum tsc_bulk bulk;
    enum tsc_cipher_family family;
    enum tsc_md mac;  /* record MAC (NONE for AEAD) */
    enum tsc_md hash; /* TLS 1.2 PRF hash / TLS 1.3 HKDF hash */
    uint8_t key_len;
    uint8_t block_len;     /* CBC block size, else 0 */
    uint8_t fixed_iv_len;  /* key block IV (CBC: SSLv3/TLS 1.0 IV; AEAD: salt / TLS 1.3 iv) */
    uint8_t record_iv_len; /* explicit per-record IV / nonce (TLS 1.2) */
    uint8_t tag_len;
    uint8_t mac_len;
    bool tls13;
    const char *name;
};

/* NULL for a suite whose registry name does not parse (export, SRP, GOST, ...). */
const struct tsc_suite *tsc_suite_find(uint16_t id);
/* How many suites the table holds (for tests). */
unsigned tsc_suite_count(void);

/* Fetched once per run; NULL when this libcrypto lacks the algorithm. */
const EVP_CIPHER *tsc_alg_cipher(enum tsc_bulk b);
const EVP_MD *tsc_alg_md(enum tsc_md m);
EVP_MAC *tsc_alg_hmac(void);
size_t tsc_md_len(enum tsc_md m);
/* OpenSSL's name of the digest ("SHA2-256"), NULL for TSC_MD_NONE. */
const char *tsc_md_name(enum tsc_md m);

#endif
