/*
 * Key derivation: the SSLv3 and TLS 1.0-1.2 PRFs, master secret (RFC 5246
 * 8.1, RFC 7627), key block, Finished verify_data; TLS 1.3 HKDF-Expand-Label,
 * traffic keys, KeyUpdate and Finished (RFC 8446 7.1, 7.3, 4.4.4).
 *
 * Every function takes an HMAC context owned by the caller (created once per
 * session with tsc_hmac_ctx_new() and re-keyed per use): no EVP_KDF, no
 * context per call, and the digest is set only when it changes.
 */
#ifndef TSC_CRYPTO_KDF_H
#define TSC_CRYPTO_KDF_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/suites.h"
#include "util/err.h"

enum tsc_prf_kind {
    TSC_PRF_SSL3 = 0, /* SSLv3 MD5/SHA-1 construction (RFC 6101 6.1, 6.2.2) */
    TSC_PRF_TLS10,    /* P_MD5 xor P_SHA1 (RFC 2246 5, also TLS 1.1) */
    TSC_PRF_TLS12,    /* P_<hash> (RFC 5246 5) */
};

#define TSC_PRF_MAX_OUT 512u /* bytes: the largest key block is 2*48 + 2*32 + 2*16 */

/* An HMAC context for the functions below (digest preset; free with EVP_MAC_CTX_free). */
EVP_MAC_CTX *tsc_hmac_ctx_new(void);

/* One input chunk of a seed (label, randoms, hashes are passed as chunks). */
struct tsc_chunk {
    const uint8_t *p;
    size_t len;
};

/*
 * out = PRF(secret, label, seed[0] + seed[1] + ...)[0..n). For SSLv3 the
 * label is ignored (the construction has none) and n <= 416.
 */
TSC_MUST_USE enum tsc_err tsc_prf(EVP_MAC_CTX *mc, enum tsc_prf_kind kind, enum tsc_md hash,
                                  const uint8_t *secret, size_t slen, const char *label,
                                  const struct tsc_chunk *seed, size_t nseed, uint8_t *out,
                                  size_t n);

/* RFC 5246 8.1 / RFC 6101 6.1: master secret from the premaster and both randoms. */
TSC_MUST_USE enum tsc_err tsc_master_secret(EVP_MAC_CTX *mc, enum tsc_prf_kind kind,
                                            enum tsc_md hash, const uint8_t *pms, size_t pms_len,
                                            const uint8_t cr[32], const uint8_t sr[32],
                                            uint8_t ms[48]);
/* RFC 7627 4: master secret from the premaster and the session hash. */
TSC_MUST_USE enum tsc_err tsc_master_secret_ems(EVP_MAC_CTX *mc, enum tsc_prf_kind kind,
                                                enum tsc_md hash, const uint8_t *pms,
                                                size_t pms_len, const uint8_t *session_hash,
                                                size_t sh_len, uint8_t ms[48]);
/* RFC 5246 6.3: key_block = PRF(ms, "key expansion", server_random + client_random). */
TSC_MUST_USE enum tsc_err tsc_key_block(EVP_MAC_CTX *mc, enum tsc_prf_kind kind, enum tsc_md hash,
                                        const uint8_t ms[48], const uint8_t cr[32],
                                        const uint8_t sr[32], uint8_t *out, size_t n);
/*
 * RFC 5246 7.4.9: verify_data = PRF(ms, finished_label, hash)[0..11], where
 * hash is MD5(handshake) || SHA1(handshake) for TLS 1.0/1.1 and the PRF hash
 * for TLS 1.2. `handshake_hash` is that value.
 */
TSC_MUST_USE enum tsc_err tsc_finished_tls(EVP_MAC_CTX *mc, enum tsc_prf_kind kind,
                                           enum tsc_md hash, const uint8_t ms[48], bool client,
                                           const uint8_t *handshake_hash, size_t hh_len,
                                           uint8_t out[12]);
/*
 * RFC 6101 5.6.9: SSLv3 Finished, 36 bytes (MD5 part then SHA-1 part). md5_tx
 * and sha_tx hold the transcript so far; they are copied, not changed.
 */
TSC_MUST_USE enum tsc_err tsc_finished_ssl3(const EVP_MD_CTX *md5_tx, const EVP_MD_CTX *sha_tx,
                                            const uint8_t ms[48], bool client, uint8_t out[36]);

/* ---- TLS 1.3 (RFC 8446 7.1) ---- */

/* HKDF-Expand-Label(secret, label, context, n); label without the "tls13 " prefix. */
TSC_MUST_USE enum tsc_err tsc_hkdf_expand_label(EVP_MAC_CTX *mc, enum tsc_md hash,
                                                const uint8_t *secret, size_t slen,
                                                const char *label, const uint8_t *ctx,
                                                size_t ctx_len, uint8_t *out, size_t n);
/* RFC 8446 7.3: [sender]_write_key and [sender]_write_iv from a traffic secret. */
TSC_MUST_USE enum tsc_err tsc_tls13_traffic_keys(EVP_MAC_CTX *mc, enum tsc_md hash,
                                                 const uint8_t *secret, size_t slen, uint8_t *key,
                                                 size_t key_len, uint8_t iv[12]);
/* RFC 8446 7.2: application_traffic_secret_N+1 (in place). */
TSC_MUST_USE enum tsc_err tsc_tls13_next_secret(EVP_MAC_CTX *mc, enum tsc_md hash, uint8_t *secret,
                                                size_t slen);
/* RFC 8446 4.4.4: HMAC(finished_key, transcript_hash), finished_key from base_key. */
TSC_MUST_USE enum tsc_err tsc_tls13_finished(EVP_MAC_CTX *mc, enum tsc_md hash,
                                             const uint8_t *base_key, size_t blen,
                                             const uint8_t *transcript_hash, size_t th_len,
                                             uint8_t *out);

/* HMAC over chunks with a (re)keyed context; out must hold the digest length. */
TSC_MUST_USE enum tsc_err tsc_hmac(EVP_MAC_CTX *mc, enum tsc_md hash, const uint8_t *key,
                                   size_t klen, const struct tsc_chunk *in, size_t nin,
                                   uint8_t *out);

#endif
