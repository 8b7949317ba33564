/*
 * PRFs and Finished computations, SSLv3 to TLS 1.3. All hashing goes through
 * libcrypto EVP; the HMAC context is the caller's and is re-keyed per use
 * (a NULL key on EVP_MAC_init keeps the previous key: no allocation).
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <string.h>

#include "crypto/kdf.h"

/*
 * Keys mc with key under digest hash (key NULL: keep the current key).
 * The digest parameter is passed only when it changes: with a parameter,
 * libcrypto fetches the digest by name on every init (a locked lookup that
 * cost as much as the HMAC itself in the handshake profile). The context's
 * output size tells the digest it holds, because the four digests used here
 * (MD5, SHA-1, SHA-256, SHA-384) have four different sizes; a fresh context
 * (size 0) always gets the parameter.
 */
/* Does mc already hold digest hash? (Output sizes 16, 20, 32, 48 are distinct.) */
static bool tsc_hmac_has_digest(EVP_MAC_CTX *mc, enum tsc_md hash)
{
    return EVP_MAC_CTX_get_mac_size(mc) == tsc_md_len(hash);
}

EVP_MAC_CTX *tsc_hmac_ctx_new(void)
{
    EVP_MAC *hm = tsc_alg_hmac();
    EVP_MAC_CTX *mc = hm != NULL ? EVP_MAC_CTX_new(hm) : NULL;
    if (mc == NULL) {
        return NULL;
    }
    /* A digest from the start, so the size query above never meets an empty context. */
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)tsc_md_name(TSC_MD_SHA256), 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(mc, params) != 1) {
        EVP_MAC_CTX_free(mc);
        return NULL;
    }
    return mc;
}

static enum tsc_err tsc_hmac_key(EVP_MAC_CTX *mc, enum tsc_md hash, const uint8_t *key, size_t klen)
{
    TSC_ENSURE(mc != NULL, TSC_ERR_ARG);
    if (key == NULL) {
        TSC_ENSURE(EVP_MAC_init(mc, NULL, 0, NULL) == 1, TSC_ERR_CRYPTO);
        return TSC_OK;
    }
    const char *name = tsc_md_name(hash);
    TSC_ENSURE(name != NULL, TSC_ERR_ARG);
    /* HMAC with an empty key is legal (RFC 2104 2); libcrypto wants a non-NULL pointer. */
    static const uint8_t empty[1] = {0};
    const uint8_t *kp = klen == 0 ? empty : key;
    if (tsc_hmac_has_digest(mc, hash)) {
        TSC_ENSURE(EVP_MAC_init(mc, kp, klen, NULL) == 1, TSC_ERR_CRYPTO);
        return TSC_OK;
    }
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0);
    params[1] = OSSL_PARAM_construct_end();
    TSC_ENSURE(EVP_MAC_init(mc, kp, klen, params) == 1, TSC_ERR_CRYPTO);
    return TSC_OK;
}

static enum tsc_err tsc_hmac_run(EVP_MAC_CTX *mc, const struct tsc_chunk *in, size_t nin,
                                 uint8_t *out, size_t outcap)
{
    for (size_t i = 0; i < nin; i++) {
        if (in[i].len > 0) {
            TSC_ENSURE(EVP_MAC_update(mc, in[i].p, in[i].len) == 1, TSC_ERR_CRYPTO);
        }
    }
    size_t got = 0;
    TSC_ENSURE(EVP_MAC_final(mc, out, &got, outcap) == 1, TSC_ERR_CRYPTO);
    return TSC_OK;
}

enum tsc_err tsc_hmac(EVP_MAC_CTX *mc, enum tsc_md hash, const uint8_t *key, size_t klen,
                      const struct tsc_chunk *in, size_t nin, uint8_t *out)
{
    TSC_TRY(tsc_hmac_key(mc, hash, key == NULL ? (const uint8_t *)"" : key, klen));
    return tsc_hmac_run(mc, in, nin, out, tsc_md_len(hash));
}

#define TSC_SEED_MAX 8u

/*
 * RFC 5246 5:
 *   P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) +
 *                          HMAC_hash(secret, A(2) + seed) + ...
 *   A(0) = seed, A(i) = HMAC_hash(secret, A(i-1))
 * Here seed = label + seed chunks. XORs into out when `xor` is set (TLS 1.0).
 */
static enum tsc_err tsc_p_hash(EVP_MAC_CTX *mc, enum tsc_md hash, const uint8_t *secret,
                               size_t slen, const struct tsc_chunk *seed, size_t nseed,
                               uint8_t *out, size_t n, bool xor)
{
    uint8_t a[64];
    uint8_t block[64];
    size_t hl = tsc_md_len(hash);
    struct tsc_chunk in[TSC_SEED_MAX + 1];
    enum tsc_err e = TSC_OK;
    TSC_ENSURE(hl > 0 && nseed <= TSC_SEED_MAX, TSC_ERR_ARG);
    /* A(1) */
    e = tsc_hmac_key(mc, hash, slen == 0 ? (const uint8_t *)"" : secret, slen);
    if (e == TSC_OK) {
        e = tsc_hmac_run(mc, seed, nseed, a, sizeof(a));
    }
    size_t done = 0;
    /* Loop bound: n / hl + 1 iterations, n <= TSC_PRF_MAX_OUT. */
    while (e == TSC_OK && done < n) {
        in[0].p = a;
        in[0].len = hl;
        memcpy(&in[1], seed, nseed * sizeof(*seed));
        e = tsc_hmac_key(mc, hash, NULL, 0);
        if (e == TSC_OK) {
            e = tsc_hmac_run(mc, in, nseed + 1, block, sizeof(block));
        }
        if (e != TSC_OK) {
            break;
        }
        size_t take = n - done < hl ? n - done : hl;
        for (size_t i = 0; i < take; i++) {
            out[done + i] = xor? (uint8_t)(out[done + i] ^ block[i]) : block[i];
        }
        done += take;
        if (done < n) {
            e = tsc_hmac_key(mc, hash, NULL, 0);
            if (e == TSC_OK) {
                e = tsc_hmac_run(mc, in, 1, a, sizeof(a));
            }
        }
    }
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(block, sizeof(block));
    return e;
}

/*
 * RFC 6101 6.1 / 6.2.2:
 *   out = MD5(secret + SHA('A' + secret + seed)) +
 *         MD5(secret + SHA('BB' + secret + seed)) + ...
 */
static enum tsc_err tsc_ssl3_prf(const uint8_t *secret, size_t slen, const struct tsc_chunk *seed,
                                 size_t nseed, uint8_t *out, size_t n)
{
    const EVP_MD *md5 = tsc_alg_md(TSC_MD_MD5);
    const EVP_MD *sha = tsc_alg_md(TSC_MD_SHA1);
    TSC_ENSURE(md5 != NULL && sha != NULL, TSC_ERR_UNSUPPORTED);
    TSC_ENSURE(n <= 26u * 16u, TSC_ERR_ARG);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    TSC_ENSURE(c != NULL, TSC_ERR_NOMEM);
    enum tsc_err e = TSC_OK;
    uint8_t salt[26];
    uint8_t inner[20];
    uint8_t blk[16];
    size_t done = 0;
    for (unsigned i = 0; done < n && i < 26; i++) {
        memset(salt, 'A' + (int)i, i + 1);
        int ok = EVP_DigestInit_ex(c, sha, NULL) == 1 && EVP_DigestUpdate(c, salt, i + 1) == 1 &&
                 EVP_DigestUpdate(c, secret, slen) == 1;
        for (size_t k = 0; ok && k < nseed; k++) {
            ok = EVP_DigestUpdate(c, seed[k].p, seed[k].len) == 1;
        }
        ok = ok && EVP_DigestFinal_ex(c, inner, NULL) == 1;
        ok = ok && EVP_DigestInit_ex(c, md5, NULL) == 1 && EVP_DigestUpdate(c, secret, slen) == 1 &&
             EVP_DigestUpdate(c, inner, sizeof(inner)) == 1 &&
             EVP_DigestFinal_ex(c, blk, NULL) == 1;
        if (!ok) {
            e = TSC_ERR_CRYPTO;
            break;
        }
        size_t take = n - done < 16 ? n - done : 16;
        memcpy(out + done, blk, take);
        done += take;
    }
    EVP_MD_CTX_free(c);
    OPENSSL_cleanse(inner, sizeof(inner));
    OPENSSL_cleanse(blk, sizeof(blk));
    return e;
}

enum tsc_err tsc_prf(EVP_MAC_CTX *mc, enum tsc_prf_kind kind, enum tsc_md hash,
                     const uint8_t *secret, size_t slen, const char *label,
                     const struct tsc_chunk *seed, size_t nseed, uint8_t *out, size_t n)
{
    TSC_ENSURE(n <= TSC_PRF_MAX_OUT && nseed < TSC_SEED_MAX, TSC_ERR_ARG);
    if (kind == TSC_PRF_SSL3) {
        return tsc_ssl3_prf(secret, slen, seed, nseed, out, n);
    }
    struct tsc_chunk all[TSC_SEED_MAX];
    all[0].p = (const uint8_t *)label;
    all[0].len = label == NULL ? 0 : strlen(label);
    memcpy(&all[1], seed, nseed * sizeof(*seed));
    if (kind == TSC_PRF_TLS12) {
        return tsc_p_hash(mc, hash, secret, slen, all, nseed + 1, out, n, false);
    }
    /*
     * RFC 2246 5: S1 is the first half of the secret, S2 the second; with an
     * odd length the middle byte belongs to both (halves are ceil(len / 2)).
     */
    size_t half = (slen + 1) / 2;
    memset(out, 0, n);
    TSC_TRY(tsc_p_hash(mc, TSC_MD_MD5, secret, half, all, nseed + 1, out, n, true));
    return tsc_p_hash(mc, TSC_MD_SHA1, secret + (slen - half), half, all, nseed + 1, out, n, true);
}

enum tsc_err tsc_master_secret(EVP_MAC_CTX *mc, enum tsc_prf_kind kind, enum tsc_md hash,
                               const uint8_t *pms, size_t pms_len, const uint8_t cr[32],
                               const uint8_t sr[32], uint8_t ms[48])
{
    struct tsc_chunk seed[2] = {{cr, 32}, {sr, 32}};
    return tsc_prf(mc, kind, hash, pms, pms_len, "master secret", seed, 2, ms, 48);
}

enum tsc_err tsc_master_secret_ems(EVP_MAC_CTX *mc, enum tsc_prf_kind kind, enum tsc_md hash,
                                   const uint8_t *pms, size_t pms_len, const uint8_t *session_hash,
                                   size_t sh_len, uint8_t ms[48])
{
    /* RFC 7627 4 defines EMS for TLS 1.0-1.2 only; SSLv3 has no label-based PRF. */
    TSC_ENSURE(kind != TSC_PRF_SSL3, TSC_ERR_UNSUPPORTED);
    struct tsc_chunk seed[1] = {{session_hash, sh_len}};
    return tsc_prf(mc, kind, hash, pms, pms_len, "extended master secret", seed, 1, ms, 48);
}

enum tsc_err tsc_key_block(EVP_MAC_CTX *mc, enum tsc_prf_kind kind, enum tsc_md hash,
                           const uint8_t ms[48], const uint8_t cr[32], const uint8_t sr[32],
                           uint8_t *out, size_t n)
{
    struct tsc_chunk seed[2] = {{sr, 32}, {cr, 32}};
    return tsc_prf(mc, kind, hash, ms, 48, "key expansion", seed, 2, out, n);
}

enum tsc_err tsc_finished_tls(EVP_MAC_CTX *mc, enum tsc_prf_kind kind, enum tsc_md hash,
                              const uint8_t ms[48], bool client, const uint8_t *handshake_hash,
                              size_t hh_len, uint8_t out[12])
{
    TSC_ENSURE(kind != TSC_PRF_SSL3, TSC_ERR_ARG);
    struct tsc_chunk seed[1] = {{handshake_hash, hh_len}};
    return tsc_prf(mc, kind, hash, ms, 48, client ? "client finished" : "server finished", seed, 1,
                   out, 12);
}

/*
 * RFC 6101 5.6.9:
 *   md5_hash = MD5(master_secret + pad2 + MD5(handshake_messages + Sender +
 *                  master_secret + pad1));
 *   sha_hash = SHA(master_secret + pad2 + SHA(handshake_messages + Sender +
 *                  master_secret + pad1));
 * pad1 is 0x36 and pad2 0x5c repeated 48 times for MD5 and 40 times for SHA.
 */
static enum tsc_err tsc_ssl3_fin_part(const EVP_MD_CTX *tx, const uint8_t ms[48],
                                      const uint8_t sender[4], size_t padlen, uint8_t *out)
{
    uint8_t pad1[48];
    uint8_t pad2[48];
    uint8_t inner[EVP_MAX_MD_SIZE];
    unsigned il = 0;
    memset(pad1, 0x36, sizeof(pad1));
    memset(pad2, 0x5c, sizeof(pad2));
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    TSC_ENSURE(c != NULL, TSC_ERR_NOMEM);
    const EVP_MD *md = EVP_MD_CTX_get0_md(tx);
    int ok = md != NULL && EVP_MD_CTX_copy_ex(c, tx) == 1 && EVP_DigestUpdate(c, sender, 4) == 1 &&
             EVP_DigestUpdate(c, ms, 48) == 1 && EVP_DigestUpdate(c, pad1, padlen) == 1 &&
             EVP_DigestFinal_ex(c, inner, &il) == 1;
    ok = ok && EVP_DigestInit_ex(c, md, NULL) == 1 && EVP_DigestUpdate(c, ms, 48) == 1 &&
         EVP_DigestUpdate(c, pad2, padlen) == 1 && EVP_DigestUpdate(c, inner, il) == 1 &&
         EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    OPENSSL_cleanse(inner, sizeof(inner));
    return ok ? TSC_OK : TSC_ERR_CRYPTO;
}

enum tsc_err tsc_finished_ssl3(const EVP_MD_CTX *md5_tx, const EVP_MD_CTX *sha_tx,
                               const uint8_t ms[48], bool client, uint8_t out[36])
{
    static const uint8_t clnt[4] = {0x43, 0x4c, 0x4e, 0x54};
    static const uint8_t srvr[4] = {0x53, 0x52, 0x56, 0x52};
    TSC_ENSURE(md5_tx != NULL && sha_tx != NULL, TSC_ERR_ARG);
    TSC_TRY(tsc_ssl3_fin_part(md5_tx, ms, client ? clnt : srvr, 48, out));
    return tsc_ssl3_fin_part(sha_tx, ms, client ? clnt : srvr, 40, out + 16);
}

/*
 * RFC 8446 7.1:
 *   struct {
 *       uint16 length = Length;
 *       opaque label<7..255> = "tls13 " + Label;
 *       opaque context<0..255> = Context;
 *   } HkdfLabel;
 *   HKDF-Expand-Label(Secret, Label, Context, Length) =
 *       HKDF-Expand(Secret, HkdfLabel, Length)
 * HKDF-Expand (RFC 5869 2.3): T(i) = HMAC(PRK, T(i-1) | info | i).
 */
/* secret NULL: mc is already keyed with the secret (a second label from the same secret). */
static enum tsc_err tsc_expand_label(EVP_MAC_CTX *mc, enum tsc_md hash, const uint8_t *secret,
                                     size_t slen, const char *label, const uint8_t *ctx,
                                     size_t ctx_len, uint8_t *out, size_t n)
{
    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t ll = strlen(label);
    size_t hl = tsc_md_len(hash);
    TSC_ENSURE(hl > 0 && 6 + ll <= 255 && ctx_len <= 255 && n <= 255 * hl && n <= 0xffff,
               TSC_ERR_ARG);
    size_t k = 0;
    info[k++] = (uint8_t)(n >> 8);
    info[k++] = (uint8_t)n;
    info[k++] = (uint8_t)(6 + ll);
    memcpy(info + k, "tls13 ", 6);
    k += 6;
    memcpy(info + k, label, ll);
    k += ll;
    info[k++] = (uint8_t)ctx_len;
    if (ctx_len > 0) {
        memcpy(info + k, ctx, ctx_len);
        k += ctx_len;
    }
    uint8_t t[64];
    size_t tl = 0;
    size_t done = 0;
    enum tsc_err e = tsc_hmac_key(mc, hash, secret, secret == NULL ? 0 : slen);
    for (uint8_t i = 1; e == TSC_OK && done < n; i++) {
        struct tsc_chunk in[3] = {{t, tl}, {info, k}, {&i, 1}};
        if (i > 1) {
            e = tsc_hmac_key(mc, hash, NULL, 0);
        }
        if (e == TSC_OK) {
            e = tsc_hmac_run(mc, in, 3, t, sizeof(t));
        }
        if (e != TSC_OK) {
            break;
        }
        tl = hl;
        size_t take = n - done < hl ? n - done : hl;
        memcpy(out + done, t, take);
        done += take;
    }
    OPENSSL_cleanse(t, sizeof(t));
    return e;
}

enum tsc_err tsc_hkdf_expand_label(EVP_MAC_CTX *mc, enum tsc_md hash, const uint8_t *secret,
                                   size_t slen, const char *label, const uint8_t *ctx,
                                   size_t ctx_len, uint8_t *out, size_t n)
{
    static const uint8_t empty[1] = {0};
    TSC_ENSURE(secret != NULL || slen == 0, TSC_ERR_ARG);
    return tsc_expand_label(mc, hash, secret == NULL ? empty : secret, slen, label, ctx, ctx_len,
                            out, n);
}

enum tsc_err tsc_tls13_traffic_keys(EVP_MAC_CTX *mc, enum tsc_md hash, const uint8_t *secret,
                                    size_t slen, uint8_t *key, size_t key_len, uint8_t iv[12])
{
    TSC_ENSURE(secret != NULL, TSC_ERR_ARG);
    TSC_TRY(tsc_expand_label(mc, hash, secret, slen, "key", NULL, 0, key, key_len));
    /* Same secret: the keyed context is reused, not keyed again. */
    return tsc_expand_label(mc, hash, NULL, slen, "iv", NULL, 0, iv, 12);
}

enum tsc_err tsc_tls13_next_secret(EVP_MAC_CTX *mc, enum tsc_md hash, uint8_t *secret, size_t slen)
{
    uint8_t next[64];
    TSC_ENSURE(slen <= sizeof(next), TSC_ERR_ARG);
    enum tsc_err e =
        tsc_hkdf_expand_label(mc, hash, secret, slen, "traffic upd", NULL, 0, next, slen);
    if (e == TSC_OK) {
        memcpy(secret, next, slen);
    }
    OPENSSL_cleanse(next, sizeof(next));
    return e;
}

enum tsc_err tsc_tls13_finished(EVP_MAC_CTX *mc, enum tsc_md hash, const uint8_t *base_key,
                                size_t blen, const uint8_t *transcript_hash, size_t th_len,
                                uint8_t *out)
{
    uint8_t fk[64];
    size_t hl = tsc_md_len(hash);
    TSC_ENSURE(hl > 0, TSC_ERR_ARG);
    enum tsc_err e = tsc_hkdf_expand_label(mc, hash, base_key, blen, "finished", NULL, 0, fk, hl);
    if (e == TSC_OK) {
        struct tsc_chunk in[1] = {{transcript_hash, th_len}};
        e = tsc_hmac(mc, hash, fk, hl, in, 1, out);
    }
    OPENSSL_cleanse(fk, sizeof(fk));
    return e;
}
