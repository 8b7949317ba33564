/*
 * Handshake authenticity checks with libcrypto (--verify, docs/forensics.md):
 * signatures of ServerKeyExchange and CertificateVerify against the
 * certificates seen in the capture, and certificate chains against a trust
 * store at the capture's time. Every libcrypto object stays behind this
 * header; callers pass raw bytes (DER certificates, signed data, signatures)
 * copied or borrowed from the dissector.
 *
 * Work that depends only on the certificates is done once per run, not per
 * connection: a fixed-size cache keyed by the DER (a fast hash confirmed by
 * memcmp of the kept DER) holds the parsed X509 (and so its public key), a
 * verification context per signature scheme it signed with (copied per
 * use), and its last name check; the trust store keeps chain results per
 * distinct chain and stretch of capture time in which no certificate's
 * validity changes. What is left per connection is what depends on it: the
 * signatures over its randoms and transcript. Never per record.
 */
#ifndef TSC_CRYPTO_VERIFY_H
#define TSC_CRYPTO_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsscope/types.h"
#include "util/err.h"

/* Why a signature check failed or could not run (stable codes for JSON). */
#define TSC_SIGERR_LIST(X)                                                                         \
    X(TSC_SIGERR_NONE, NULL)                                                                       \
    X(TSC_SIGERR_BAD_SIGNATURE, "bad_signature")                                                   \
    X(TSC_SIGERR_KEY_TYPE, "scheme_does_not_match_key")                                            \
    X(TSC_SIGERR_SCHEME_NOT_ALLOWED, "scheme_not_allowed")                                         \
    X(TSC_SIGERR_UNKNOWN_SCHEME, "unsupported_scheme")                                             \
    X(TSC_SIGERR_NO_CERTIFICATE, "no_certificate")                                                 \
    X(TSC_SIGERR_BAD_CERTIFICATE, "certificate_unparseable")                                       \
    X(TSC_SIGERR_TRUNCATED, "truncated")                                                           \
    X(TSC_SIGERR_NO_TRANSCRIPT, "transcript_unavailable")                                          \
    X(TSC_SIGERR_INTERNAL, "libcrypto_error")

enum tsc_sigerr {
#define TSC_SIGERR_ENUM(e, s) e,
    TSC_SIGERR_LIST(TSC_SIGERR_ENUM)
#undef TSC_SIGERR_ENUM
        TSC_SIGERR__COUNT
};
const char *tsc_sigerr_name(enum tsc_sigerr e); /* NULL for NONE */

/* A parsed certificate (reference counted; from tsc_vcert_get). */
struct tsc_vcert;

/*
 * Run-wide certificate cache; thread-safe. slots 0: default 1024 (direct
 * mapped; a colliding certificate replaces the slot's, counted as an
 * eviction). Certificates over 16 KiB are parsed per use (counted uncached).
 * Memory: the slot table, an entry and its DER copy per cached certificate
 * (libcrypto's parsed X509 and contexts come on top, a few KB each).
 */
struct tsc_vcert_cache;
TSC_MUST_USE enum tsc_err tsc_vcert_cache_new(struct tsc_vcert_cache **out, uint32_t slots);
void tsc_vcert_cache_free(struct tsc_vcert_cache *c);

struct tsc_vcert_stats {
    uint64_t capacity;     /* slots */
    uint64_t lookups;
    uint64_t hits;
    uint64_t entries;
    uint64_t evictions;
    uint64_t uncached;     /* parsed without caching (over 16 KiB) */
    uint64_t contexts;     /* verification contexts set up (per certificate and scheme) */
    uint64_t context_hits; /* verifications that copied a cached context */
    uint64_t name_hits;    /* name checks answered by the leaf's last result */
    uint64_t memory_bytes;
};
void tsc_vcert_cache_stats(struct tsc_vcert_cache *c, struct tsc_vcert_stats *out);

/* The parsed certificate for DER bytes (a new reference), or NULL when it does not parse. */
struct tsc_vcert *tsc_vcert_get(struct tsc_vcert_cache *c, const uint8_t *der, size_t len);
void tsc_vcert_put(struct tsc_vcert *v); /* NULL is fine */

/* Protocol context of a signature. */
struct tsc_sig_in {
    uint16_t version;  /* negotiated protocol version */
    bool has_scheme;   /* TLS 1.2+: SignatureAndHashAlgorithm / SignatureScheme present */
    uint16_t scheme;
    const uint8_t *sig; /* the signature as on the wire */
    size_t sig_len;
};

/*
 * TLS 1.0-1.2 ServerKeyExchange (RFC 5246 7.4.3, RFC 4492 5.4): the signature
 * covers client_random || server_random || params. Before TLS 1.2 an RSA
 * signature is over MD5 || SHA-1 of that data (no DigestInfo), an ECDSA or
 * DSA one over SHA-1.
 */
enum tsc_sigerr tsc_verify_ske(struct tsc_vcert *cert, const struct tsc_sig_in *in,
                               const uint8_t client_random[32], const uint8_t server_random[32],
                               const uint8_t *params, size_t params_len);

/*
 * TLS 1.3 CertificateVerify (RFC 8446 4.4.3): 64 spaces, the context string
 * ("TLS 1.3, server CertificateVerify" or the client one), a zero byte and the
 * transcript hash up to and including Certificate. RSASSA-PKCS1-v1_5 is not
 * allowed there (scheme_not_allowed).
 */
enum tsc_sigerr tsc_verify_cv13(struct tsc_vcert *cert, const struct tsc_sig_in *in,
                                bool from_server, const uint8_t *transcript_hash, size_t hash_len);

/*
 * TLS 1.0-1.2 client CertificateVerify (RFC 5246 7.4.8): a signature over the
 * handshake messages so far, passed as they were on the wire (type, length
 * and body of each, from ClientHello up to the one before CertificateVerify),
 * hashed here with the scheme's own hash, whatever the PRF's: SHA-1 to
 * SHA-512, RSASSA-PKCS1-v1_5, RSASSA-PSS, ECDSA, DSA; EdDSA over the messages
 * themselves (RFC 8422 5.10). Before TLS 1.2: MD5 || SHA-1 for RSA, SHA-1 for
 * (EC)DSA.
 */
enum tsc_sigerr tsc_verify_cv12(struct tsc_vcert *cert, const struct tsc_sig_in *in,
                                const uint8_t *transcript, size_t len);

/* ---- certificate chains ---- */

struct tsc_trust; /* trust anchors from --ca-file / --ca-path */

/* Either may be NULL (not both). errbuf explains a failure. */
int tsc_trust_new(struct tsc_trust **out, const char *ca_file, const char *ca_path, char *errbuf,
                  size_t errlen);
void tsc_trust_free(struct tsc_trust *t);

/*
 * Chain certs[0] (leaf) .. certs[n-1] against the anchors, validity at unix
 * time at. PASS, or FAIL with the libcrypto reason in err (e.g. "certificate
 * has expired"). Thread-safe. Results are kept (256 slots, direct mapped) per
 * chain of cached certificates (up to 8) and reused for any time at which no
 * certificate of the chain or of the store changes validity.
 */
enum tsc_check tsc_trust_verify(struct tsc_trust *t, struct tsc_vcert *const *certs, size_t n,
                                int64_t at, char *err, size_t errlen);

struct tsc_chain_stats {
    uint64_t capacity;
    uint64_t lookups;
    uint64_t hits;
    uint64_t entries;
    uint64_t evictions;
    uint64_t memory_bytes;
};
void tsc_trust_stats(struct tsc_trust *t, struct tsc_chain_stats *out);

/* Leaf names (SAN dNSName, else subject CN; RFC 6125 wildcards) against host. */
bool tsc_vcert_matches_host(struct tsc_vcert *leaf, const char *host);

#endif
