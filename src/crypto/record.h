/*
 * Record protection, one direction of one epoch: NULL, RC4, CBC with
 * MAC-then-encrypt (SSLv3 / TLS 1.0 chained IV, TLS 1.1+ explicit IV) or
 * encrypt-then-MAC (RFC 7366), AEAD (GCM, CCM, CCM-8, ChaCha20-Poly1305) for
 * TLS 1.2 and TLS 1.3, and DEFLATE (RFC 3749). libcrypto contexts are created
 * at setup and reused for every record; decryption writes into the caller's
 * buffer, so a record costs no allocation.
 */
#ifndef TSC_CRYPTO_RECORD_H
#define TSC_CRYPTO_RECORD_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/suites.h"
#include "util/buf.h"
#include "util/err.h"

/* RFC 5246 6.2.3 / RFC 8446 5.2: the longest protected fragment. */
#define TSC_REC_MAX_CIPHERTEXT (16384u + 2048u)
#define TSC_REC_MAX_PLAINTEXT 16384u
/* Inflated output per record: 2^14 plus slack for a peer that overshoots by a little. */
#define TSC_REC_MAX_INFLATED (16384u + 1024u)

struct tsc_rec_keys {
    uint8_t mac_key[48];
    uint8_t key[32];
    uint8_t iv[16]; /* CBC: initial IV (SSLv3/TLS 1.0); AEAD: salt or TLS 1.3 iv (12) */
};

struct tsc_rec {
    bool ready;
    const struct tsc_suite *suite;
    uint16_t version; /* negotiated */
    bool etm;
    bool tls13;
    bool deflate;
    uint64_t seq;
    uint8_t mac_key[48];
    uint8_t iv[16];
    EVP_CIPHER_CTX *cctx;
    EVP_MAC_CTX *mac;   /* TLS HMAC keyed with mac_key */
    EVP_MD_CTX *ssl3md; /* SSLv3 MAC */
    void *z;            /* z_stream for DEFLATE, created on setup when needed */
    uint8_t *zout;      /* inflate scratch, TSC_REC_MAX_INFLATED bytes */
};

void tsc_rec_init(struct tsc_rec *r);
void tsc_rec_free(struct tsc_rec *r);
/* Forget keys and state but keep the libcrypto contexts for the next tsc_rec_setup. */
void tsc_rec_recycle(struct tsc_rec *r);
/*
 * (Re)key: suite, negotiated version, EtM, DEFLATE and the key material.
 * TSC_ERR_UNSUPPORTED when this libcrypto lacks the cipher (e.g. Camellia-GCM).
 * Sequence number starts at 0.
 */
TSC_MUST_USE enum tsc_err tsc_rec_setup(struct tsc_rec *r, const struct tsc_suite *suite,
                                        uint16_t version, bool etm, bool deflate,
                                        const struct tsc_rec_keys *k);
/*
 * Decrypt and verify one record fragment. TSC_OK: out holds the plaintext,
 * *inner_type the content type (TLS 1.3 inner type). TSC_ERR_CRYPTO: length,
 * padding, MAC or tag check failed (the sequence number still advances, as the
 * sender's did). `seq_on_fail` false keeps the sequence number on failure (trial
 * decryption).
 */
TSC_MUST_USE enum tsc_err tsc_rec_decrypt(struct tsc_rec *r, uint8_t type, uint16_t version,
                                          const uint8_t *in, size_t len, struct tsc_buf *out,
                                          uint8_t *inner_type, bool seq_on_fail);

#endif
