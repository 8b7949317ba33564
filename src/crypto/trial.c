/*
 * Trial decryption of a TLS 1.3 record with a candidate traffic secret (see
 * trial.h). The cost of a wrong candidate is a key derivation per generation
 * and one keystream block per (suite, sequence number), whatever the record's
 * length; about 3 in 256 wrong candidates reach the full AEAD check.
 */
#include "crypto/trial.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <string.h>

#include "crypto/kdf.h"

/* TLS 1.3 suites (RFC 8446 B.4): AES_128_GCM_SHA256, AES_256_GCM_SHA384,
 * CHACHA20_POLY1305_SHA256, AES_128_CCM_SHA256, AES_128_CCM_8_SHA256. */
static const uint16_t tsc_trial_ids[] = {0x1301, 0x1302, 0x1303, 0x1304, 0x1305};

/* Keystream ciphers: AES-128-CTR, AES-256-CTR (GCM and CCM counter blocks), ChaCha20. */
enum {
    TSC_KS_AES128 = 0,
    TSC_KS_AES256,
    TSC_KS_CHACHA,
    TSC_KS__COUNT
};
static const char *const tsc_ks_names[TSC_KS__COUNT] = {"AES-128-CTR", "AES-256-CTR", "ChaCha20"};
static EVP_CIPHER *tsc_ks_cipher[TSC_KS__COUNT];
static pthread_once_t tsc_ks_once = PTHREAD_ONCE_INIT;
static _Thread_local EVP_CIPHER_CTX *tsc_ks_ctx[TSC_KS__COUNT];

static void tsc_ks_fetch(void)
{
    /* Fetched once per run, kept until exit (as the suite table's algorithms). */
    for (int i = 0; i < TSC_KS__COUNT; i++) {
        tsc_ks_cipher[i] = EVP_CIPHER_fetch(NULL, tsc_ks_names[i], NULL);
    }
}

void tsc_trial_thread_drain(void)
{
    for (int i = 0; i < TSC_KS__COUNT; i++) {
        EVP_CIPHER_CTX_free(tsc_ks_ctx[i]);
        tsc_ks_ctx[i] = NULL;
    }
}

static int tsc_ks_kind(const struct tsc_suite *st)
{
    if (st->family == TSC_FAM_CHACHA) {
        return TSC_KS_CHACHA;
    }
    return st->key_len == 32 ? TSC_KS_AES256 : TSC_KS_AES128;
}

/* Keys the calling thread's keystream context of kind with key. */
static bool tsc_ks_key(int kind, const uint8_t *key)
{
    if (tsc_ks_cipher[kind] == NULL) {
        return false;
    }
    if (tsc_ks_ctx[kind] == NULL) {
        tsc_ks_ctx[kind] = EVP_CIPHER_CTX_new();
        if (tsc_ks_ctx[kind] == NULL) {
            return false;
        }
    }
    EVP_CIPHER_CTX *x = tsc_ks_ctx[kind];
    const EVP_CIPHER *c =
        EVP_CIPHER_CTX_get0_cipher(x) == tsc_ks_cipher[kind] ? NULL : tsc_ks_cipher[kind];
    return EVP_EncryptInit_ex2(x, c, key, NULL, NULL) == 1;
}

/*
 * The keystream byte that covers plaintext offset off under nonce:
 *   GCM (NIST SP 800-38D 7.1): counter block nonce || [2 + off / 16]_32;
 *   CCM (RFC 3610 2.3, 12-byte nonce so L = 3): flags 2 || nonce || [1 + off / 16]_24;
 *   ChaCha20 (RFC 8439 2.8): block counter 1 + off / 64, little-endian, then the nonce.
 */
static bool tsc_ks_byte(const struct tsc_suite *st, const uint8_t nonce[12], size_t off,
                        uint8_t *ks)
{
    int kind = tsc_ks_kind(st);
    uint8_t ivb[16];
    static const uint8_t zero[64];
    uint8_t out[64];
    size_t pos;
    if (st->family == TSC_FAM_CHACHA) {
        uint32_t ctr = (uint32_t)(1 + off / 64);
        pos = off % 64;
        ivb[0] = (uint8_t)ctr;
        ivb[1] = (uint8_t)(ctr >> 8);
        ivb[2] = (uint8_t)(ctr >> 16);
        ivb[3] = (uint8_t)(ctr >> 24);
        memcpy(ivb + 4, nonce, 12);
    } else if (st->family == TSC_FAM_GCM) {
        uint32_t ctr = (uint32_t)(2 + off / 16);
        pos = off % 16;
        memcpy(ivb, nonce, 12);
        ivb[12] = (uint8_t)(ctr >> 24);
        ivb[13] = (uint8_t)(ctr >> 16);
        ivb[14] = (uint8_t)(ctr >> 8);
        ivb[15] = (uint8_t)ctr;
    } else {
        uint32_t ctr = (uint32_t)(1 + off / 16);
        pos = off % 16;
        ivb[0] = 2;
        memcpy(ivb + 1, nonce, 12);
        ivb[13] = (uint8_t)(ctr >> 16);
        ivb[14] = (uint8_t)(ctr >> 8);
        ivb[15] = (uint8_t)ctr;
    }
    int ol = 0;
    EVP_CIPHER_CTX *x = tsc_ks_ctx[kind];
    if (EVP_EncryptInit_ex2(x, NULL, NULL, ivb, NULL) != 1 ||
        EVP_EncryptUpdate(x, out, &ol, zero, (int)pos + 1) != 1 || (size_t)ol != pos + 1) {
        return false;
    }
    *ks = out[pos];
    return true;
}

/*
 * RFC 8446 5.4: TLSInnerPlaintext ends with its content type or zero padding.
 * Protected TLS 1.3 records carry alert (21), handshake (22) or
 * application_data (23); an unpadded alert is 2 bytes and its type.
 */
static bool tsc_inner_end_plausible(uint8_t b, size_t plain_len)
{
    return b == 0 || b == 22 || b == 23 || (b == 21 && plain_len == 3);
}

/* The sender's nonce for seq (RFC 8446 5.3): iv xor the left-padded sequence number. */
static void tsc_nonce13(const uint8_t iv[12], uint64_t seq, uint8_t nonce[12])
{
    memcpy(nonce, iv, 12);
    for (int i = 0; i < 8; i++) {
        nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
    }
}

/* Tries one suite with the keys of one generation; TSC_OK on a verified record. */
static enum tsc_err tsc_trial_suite(const struct tsc_suite *st, const uint8_t *key,
                                    const uint8_t iv[12], const struct tsc_trial_record *rec,
                                    uint64_t window, struct tsc_rec *r, struct tsc_buf *out,
                                    uint8_t *inner, struct tsc_trial_hit *hit, uint64_t *cost)
{
    if (rec->len < (size_t)st->tag_len + 1 || !tsc_ks_key(tsc_ks_kind(st), key)) {
        return TSC_ERR_CRYPTO;
    }
    size_t last = rec->len - st->tag_len - 1; /* offset of the last plaintext byte */
    bool rec_ready = false;
    for (uint64_t seq = 0; seq < window; seq++) {
        uint8_t nonce[12];
        uint8_t ks = 0;
        tsc_nonce13(iv, seq, nonce);
        cost[TSC_TRIAL_PROBES]++;
        if (!tsc_ks_byte(st, nonce, last, &ks) ||
            !tsc_inner_end_plausible(ks ^ rec->p[last], last + 1)) {
            continue;
        }
        if (!rec_ready) {
            struct tsc_rec_keys k;
            memset(&k, 0, sizeof(k));
            memcpy(k.key, key, st->key_len);
            memcpy(k.iv, iv, 12);
            enum tsc_err e = tsc_rec_setup(r, st, 0x0304, false, false, &k);
            OPENSSL_cleanse(&k, sizeof(k));
            if (e != TSC_OK) {
                return TSC_ERR_CRYPTO;
            }
            rec_ready = true;
        }
        r->seq = seq;
        cost[TSC_TRIAL_TAG_CHECKS]++;
        if (tsc_rec_decrypt(r, rec->type, rec->version, rec->p, rec->len, out, inner, false) ==
            TSC_OK) {
            hit->suite = st;
            hit->seq = seq;
            return TSC_OK;
        }
    }
    return TSC_ERR_CRYPTO;
}

enum tsc_err tsc_trial_secret(EVP_MAC_CTX *mc, const struct tsc_trial_record *rec, uint8_t *secret,
                              size_t slen, const struct tsc_suite *only, uint32_t gens,
                              uint64_t window, struct tsc_rec *r, struct tsc_buf *out,
                              uint8_t *inner, struct tsc_trial_hit *hit, uint64_t *cost)
{
    TSC_ENSURE(mc != NULL && rec != NULL && secret != NULL && r != NULL && out != NULL &&
                   inner != NULL && hit != NULL && cost != NULL &&
                   (rec->p != NULL || rec->len == 0),
               TSC_ERR_ARG);
    TSC_ENSURE(slen == 32 || slen == 48, TSC_ERR_ARG);
    if (rec->len > TSC_REC_MAX_CIPHERTEXT) {
        return TSC_ERR_CRYPTO;
    }
    pthread_once(&tsc_ks_once, tsc_ks_fetch);
    enum tsc_md hash = slen == 48 ? TSC_MD_SHA384 : TSC_MD_SHA256;
    uint8_t cur[TSC_MAX_SECRET];
    uint8_t iv[12];
    uint8_t keys[2][32]; /* by key length: [0] 16 bytes, [1] 32 bytes */
    enum tsc_err res = TSC_ERR_CRYPTO;
    memcpy(cur, secret, slen);
    for (uint32_t g = 0; g < gens && res != TSC_OK; g++) {
        bool have_key[2] = {false, false};
        if (g > 0) {
            cost[TSC_TRIAL_DERIVATIONS]++;
            if (tsc_tls13_next_secret(mc, hash, cur, slen) != TSC_OK) {
                break;
            }
        }
        cost[TSC_TRIAL_DERIVATIONS]++;
        if (tsc_hkdf_expand_label(mc, hash, cur, slen, "iv", NULL, 0, iv, 12) != TSC_OK) {
            break;
        }
        for (size_t i = 0; i < sizeof(tsc_trial_ids) / sizeof(tsc_trial_ids[0]); i++) {
            const struct tsc_suite *st = tsc_suite_find(tsc_trial_ids[i]);
            if (st == NULL || tsc_md_len(st->hash) != slen || (only != NULL && st != only) ||
                tsc_alg_cipher(st->bulk) == NULL || (st->key_len != 16 && st->key_len != 32)) {
                continue;
            }
            int ki = st->key_len == 32;
            if (!have_key[ki]) {
                cost[TSC_TRIAL_DERIVATIONS]++;
                if (tsc_hkdf_expand_label(mc, hash, cur, slen, "key", NULL, 0, keys[ki],
                                          st->key_len) != TSC_OK) {
                    continue;
                }
                have_key[ki] = true;
            }
            if (tsc_trial_suite(st, keys[ki], iv, rec, window, r, out, inner, hit, cost) ==
                TSC_OK) {
                hit->generation = g;
                memcpy(secret, cur, slen);
                res = TSC_OK;
                break;
            }
        }
    }
    OPENSSL_cleanse(cur, sizeof(cur));
    OPENSSL_cleanse(iv, sizeof(iv));
    OPENSSL_cleanse(keys, sizeof(keys));
    return res;
}
