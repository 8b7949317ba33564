/*
 * Trial decryption of one TLS 1.3 record with a candidate traffic secret
 * (midstream pickup: no handshake, so no client random to look the secret up
 * by). For each TLS 1.3 AEAD whose hash length is the secret's length, each
 * KeyUpdate generation and each sequence number of a window, the record's
 * last plaintext byte is computed from one keystream block (GCM / CCM: AES
 * counter block, ChaCha20: one block) and must be a TLSInnerPlaintext ending
 * (a content type or zero padding, RFC 8446 5.4); only the candidates that
 * pass are checked in full, and the authentication tag decides.
 */
#ifndef TSC_CRYPTO_TRIAL_H
#define TSC_CRYPTO_TRIAL_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/record.h"
#include "crypto/session.h" /* TSC_TRIAL_WINDOW, TSC_TRIAL_GENERATIONS */
#include "keys/keys.h"
#include "util/buf.h"
#include "util/err.h"

/* One protected record as it came (outer type and version are the AEAD's additional data). */
struct tsc_trial_record {
    uint8_t type;
    uint16_t version;
    const uint8_t *p;
    size_t len;
};

struct tsc_trial_hit {
    const struct tsc_suite *suite;
    uint32_t generation;
    uint64_t seq; /* sequence number of the record */
};

/*
 * Try secret (slen 32 or 48 bytes) on rec: suites of that hash length (only
 * `only` when not NULL), generations [0, gens), sequence numbers [0, window).
 * TSC_OK: *hit says which; secret now holds that generation's secret; r is
 * set up with its keys and sequence number past the record; out holds the
 * plaintext and *inner the inner content type. TSC_ERR_CRYPTO: nothing
 * verified (r may have been re-keyed: not usable). Costs are added to
 * cost[] (TSC_TRIAL_DERIVATIONS, _PROBES, _TAG_CHECKS).
 */
TSC_MUST_USE enum tsc_err
tsc_trial_secret(EVP_MAC_CTX *mc, const struct tsc_trial_record *rec, uint8_t *secret, size_t slen,
                 const struct tsc_suite *only, uint32_t gens, uint64_t window, struct tsc_rec *r,
                 struct tsc_buf *out, uint8_t *inner, struct tsc_trial_hit *hit, uint64_t *cost);

/* Frees the calling thread's keystream contexts (end of a run). */
void tsc_trial_thread_drain(void);

#endif
