/*
 * Record protection (see record.h). Length checks come before every cipher
 * call; each family is a {check, decrypt} pair in spirit, dispatched on the
 * suite's family.
 */
#include "crypto/record.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "crypto/kdf.h"
#include "util/cursor.h"

void tsc_rec_init(struct tsc_rec *r)
{
    memset(r, 0, sizeof(*r));
}

static void tsc_rec_drop_z(struct tsc_rec *r)
{
    if (r->z != NULL) {
        inflateEnd((z_stream *)r->z);
        free(r->z);
        r->z = NULL;
    }
}

void tsc_rec_free(struct tsc_rec *r)
{
    if (r == NULL) {
        return;
    }
    EVP_CIPHER_CTX_free(r->cctx);
    EVP_MAC_CTX_free(r->mac);
    EVP_MD_CTX_free(r->ssl3md);
    tsc_rec_drop_z(r);
    free(r->zout);
    OPENSSL_cleanse(r->mac_key, sizeof(r->mac_key));
    OPENSSL_cleanse(r->iv, sizeof(r->iv));
    memset(r, 0, sizeof(*r));
}

void tsc_rec_recycle(struct tsc_rec *r)
{
    if (r == NULL) {
        return;
    }
    struct tsc_rec keep = {.cctx = r->cctx, .mac = r->mac, .ssl3md = r->ssl3md, .zout = r->zout};
    tsc_rec_drop_z(r);
    OPENSSL_cleanse(r, sizeof(*r));
    *r = keep;
}

static enum tsc_err tsc_rec_setup_mac(struct tsc_rec *r, const struct tsc_suite *s)
{
    if (s->mac == TSC_MD_NONE) {
        return TSC_OK;
    }
    if (r->version == 0x0300) {
        if (r->ssl3md == NULL) {
            r->ssl3md = EVP_MD_CTX_new();
            TSC_ENSURE(r->ssl3md != NULL, TSC_ERR_NOMEM);
        }
        TSC_ENSURE(tsc_alg_md(s->mac) != NULL, TSC_ERR_UNSUPPORTED);
        return TSC_OK;
    }
    if (r->mac == NULL) {
        TSC_ENSURE(tsc_alg_hmac() != NULL, TSC_ERR_UNSUPPORTED);
        r->mac = tsc_hmac_ctx_new();
        TSC_ENSURE(r->mac != NULL, TSC_ERR_NOMEM);
    }
    /* The digest parameter only when it changes (a reused context usually has it):
     * passing it makes libcrypto fetch the digest by name again. MD5, SHA-1,
     * SHA-256 and SHA-384 differ in output size, so the size tells the digest. */
    if (EVP_MAC_CTX_get_mac_size(r->mac) == s->mac_len) {
        TSC_ENSURE(EVP_MAC_init(r->mac, r->mac_key, s->mac_len, NULL) == 1, TSC_ERR_CRYPTO);
        return TSC_OK;
    }
    OSSL_PARAM params[2];
    params[0] =
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)tsc_md_name(s->mac), 0);
    params[1] = OSSL_PARAM_construct_end();
    TSC_ENSURE(EVP_MAC_init(r->mac, r->mac_key, s->mac_len, params) == 1, TSC_ERR_CRYPTO);
    return TSC_OK;
}

static enum tsc_err tsc_rec_setup_cipher(struct tsc_rec *r, const struct tsc_suite *s,
                                         const struct tsc_rec_keys *k)
{
    if (s->family == TSC_FAM_NULL) {
        return TSC_OK;
    }
    const EVP_CIPHER *c = tsc_alg_cipher(s->bulk);
    TSC_ENSURE(c != NULL, TSC_ERR_UNSUPPORTED);
    if (r->cctx == NULL) {
        r->cctx = EVP_CIPHER_CTX_new();
        TSC_ENSURE(r->cctx != NULL, TSC_ERR_NOMEM);
    }
    EVP_CIPHER_CTX *x = r->cctx;
    /*
     * A context that already runs this cipher (next epoch, KeyUpdate, a
     * recycled session) is only re-keyed: passing the cipher again would
     * make libcrypto free and allocate its provider context.
     */
    if (EVP_CIPHER_CTX_get0_cipher(x) == c) {
        c = NULL;
    }
    switch (s->family) {
    case TSC_FAM_STREAM:
        TSC_ENSURE(EVP_DecryptInit_ex2(x, c, k->key, NULL, NULL) == 1, TSC_ERR_CRYPTO);
        break;
    case TSC_FAM_CBC:
        /* SSLv3 / TLS 1.0: the key block IV, then chained by the context itself. */
        TSC_ENSURE(EVP_DecryptInit_ex2(x, c, k->key, k->iv, NULL) == 1, TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_CIPHER_CTX_set_padding(x, 0) == 1, TSC_ERR_CRYPTO);
        break;
    case TSC_FAM_GCM:
    case TSC_FAM_CHACHA:
        TSC_ENSURE(EVP_DecryptInit_ex2(x, c, k->key, NULL, NULL) == 1, TSC_ERR_CRYPTO);
        break;
    case TSC_FAM_CCM:
        TSC_ENSURE(EVP_DecryptInit_ex2(x, c, NULL, NULL, NULL) == 1, TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1, TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, s->tag_len, NULL) == 1,
                   TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_DecryptInit_ex2(x, NULL, k->key, NULL, NULL) == 1, TSC_ERR_CRYPTO);
        break;
    default:
        return TSC_ERR_UNSUPPORTED;
    }
    return TSC_OK;
}

enum tsc_err tsc_rec_setup(struct tsc_rec *r, const struct tsc_suite *suite, uint16_t version,
                           bool etm, bool deflate, const struct tsc_rec_keys *k)
{
    TSC_ENSURE(r != NULL && suite != NULL && k != NULL, TSC_ERR_ARG);
    r->ready = false;
    r->suite = suite;
    r->version = version;
    r->tls13 = suite->tls13;
    /* RFC 7366 3: EtM applies to block ciphers only; AEAD and stream suites ignore it. */
    r->etm = etm && suite->family == TSC_FAM_CBC && !suite->tls13;
    r->deflate = deflate && !suite->tls13;
    r->seq = 0;
    memcpy(r->mac_key, k->mac_key, sizeof(r->mac_key));
    memcpy(r->iv, k->iv, sizeof(r->iv));
    TSC_TRY(tsc_rec_setup_mac(r, suite));
    TSC_TRY(tsc_rec_setup_cipher(r, suite, k));
    tsc_rec_drop_z(r);
    if (r->deflate) {
        if (r->zout == NULL) {
            r->zout = malloc(TSC_REC_MAX_INFLATED);
            TSC_ENSURE(r->zout != NULL, TSC_ERR_NOMEM);
        }
        z_stream *z = calloc(1, sizeof(*z));
        TSC_ENSURE(z != NULL, TSC_ERR_NOMEM);
        if (inflateInit(z) != Z_OK) {
            free(z);
            return TSC_ERR_NOMEM;
        }
        r->z = z;
    }
    r->ready = true;
    return TSC_OK;
}

static void tsc_put_seq(uint8_t *p, uint64_t seq)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)seq;
        seq >>= 8;
    }
}

/*
 * RFC 5246 6.2.3.1:
 *   MAC(MAC_write_key, seq_num + TLSCompressed.type + TLSCompressed.version +
 *       TLSCompressed.length + TLSCompressed.fragment);
 * RFC 6101 5.2.3.1 (SSLv3, no version field):
 *   hash(MAC_write_secret + pad_2 +
 *        hash(MAC_write_secret + pad_1 + seq_num + SSLCompressed.type +
 *             SSLCompressed.length + SSLCompressed.fragment));
 * With EtM (RFC 7366 3) the fragment is IV + ciphertext and the length is theirs.
 */
static enum tsc_err tsc_rec_mac(struct tsc_rec *r, uint8_t type, uint16_t version,
                                const uint8_t *frag, size_t flen, uint8_t *out)
{
    uint8_t hdr[13];
    tsc_put_seq(hdr, r->seq);
    hdr[8] = type;
    if (r->version == 0x0300) {
        static const uint8_t pad1[48] = {0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36,
                                         0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36,
                                         0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36,
                                         0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36,
                                         0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36, 0x36};
        uint8_t pad2[48];
        uint8_t inner[EVP_MAX_MD_SIZE];
        unsigned il = 0;
        memset(pad2, 0x5c, sizeof(pad2));
        size_t padlen = r->suite->mac == TSC_MD_MD5 ? 48 : 40;
        size_t ml = r->suite->mac_len;
        const EVP_MD *md = tsc_alg_md(r->suite->mac);
        hdr[9] = (uint8_t)(flen >> 8);
        hdr[10] = (uint8_t)flen;
        EVP_MD_CTX *c = r->ssl3md;
        int ok = EVP_DigestInit_ex(c, md, NULL) == 1 && EVP_DigestUpdate(c, r->mac_key, ml) == 1 &&
                 EVP_DigestUpdate(c, pad1, padlen) == 1 && EVP_DigestUpdate(c, hdr, 11) == 1 &&
                 (flen == 0 || EVP_DigestUpdate(c, frag, flen) == 1) &&
                 EVP_DigestFinal_ex(c, inner, &il) == 1;
        ok = ok && EVP_DigestInit_ex(c, md, NULL) == 1 &&
             EVP_DigestUpdate(c, r->mac_key, ml) == 1 && EVP_DigestUpdate(c, pad2, padlen) == 1 &&
             EVP_DigestUpdate(c, inner, il) == 1 && EVP_DigestFinal_ex(c, out, NULL) == 1;
        return ok ? TSC_OK : TSC_ERR_CRYPTO;
    }
    hdr[9] = (uint8_t)(version >> 8);
    hdr[10] = (uint8_t)version;
    hdr[11] = (uint8_t)(flen >> 8);
    hdr[12] = (uint8_t)flen;
    size_t got = 0;
    /* NULL key: keep the key set up for this epoch (no allocation per record). */
    int ok = EVP_MAC_init(r->mac, NULL, 0, NULL) == 1 && EVP_MAC_update(r->mac, hdr, 13) == 1 &&
             (flen == 0 || EVP_MAC_update(r->mac, frag, flen) == 1) &&
             EVP_MAC_final(r->mac, out, &got, EVP_MAX_MD_SIZE) == 1;
    return ok ? TSC_OK : TSC_ERR_CRYPTO;
}

static enum tsc_err tsc_rec_check_mac(struct tsc_rec *r, uint8_t type, uint16_t version,
                                      const uint8_t *frag, size_t flen, const uint8_t *mac)
{
    uint8_t calc[EVP_MAX_MD_SIZE];
    TSC_TRY(tsc_rec_mac(r, type, version, frag, flen, calc));
    TSC_ENSURE(CRYPTO_memcmp(calc, mac, r->suite->mac_len) == 0, TSC_ERR_CRYPTO);
    return TSC_OK;
}

/* NULL and RC4: GenericStreamCipher { content; MAC } (RFC 5246 6.2.3.1). */
static enum tsc_err tsc_rec_stream(struct tsc_rec *r, uint8_t type, uint16_t version,
                                   struct tsc_cur c, struct tsc_buf *out)
{
    size_t ml = r->suite->mac_len;
    size_t len = c.left;
    struct tsc_slice all;
    TSC_ENSURE(len >= ml, TSC_ERR_CRYPTO);
    TSC_TRY(tsc_cur_bytes(&c, len, &all));
    TSC_TRY(tsc_buf_reserve(out, len + 1));
    if (r->suite->family == TSC_FAM_STREAM) {
        int ol = 0;
        /* The RC4 state moves on even when the MAC fails: the sender's did too. */
        TSC_ENSURE(EVP_DecryptUpdate(r->cctx, out->p, &ol, all.p, (int)len) == 1, TSC_ERR_CRYPTO);
    } else if (len > 0) {
        memcpy(out->p, all.p, len);
    }
    size_t content = len - ml;
    TSC_TRY(tsc_rec_check_mac(r, type, version, out->p, content, out->p + content));
    out->len = content;
    return TSC_OK;
}

/*
 * RFC 5246 6.2.3.2:
 *   struct {
 *       opaque IV[SecurityParameters.record_iv_length];
 *       block-ciphered struct {
 *           opaque content[TLSCompressed.length];
 *           opaque MAC[SecurityParameters.mac_length];
 *           uint8 padding[GenericBlockCipher.padding_length];
 *           uint8 padding_length;
 *       };
 *   } GenericBlockCipher;
 * SSLv3 and TLS 1.0 have no IV field (chained IV, RFC 2246 6.2.3.2).
 * EtM (RFC 7366 3): the MAC follows the encrypted block and covers IV + it.
 */
static enum tsc_err tsc_rec_cbc(struct tsc_rec *r, uint8_t type, uint16_t version, struct tsc_cur c,
                                struct tsc_buf *out)
{
    const struct tsc_suite *s = r->suite;
    size_t bl = s->block_len;
    size_t ml = s->mac_len;
    bool explicit_iv = r->version >= 0x0302;
    struct tsc_slice iv = {NULL, 0};
    struct tsc_slice ct;
    struct tsc_slice mac = {NULL, 0};
    struct tsc_cur whole = c;
    if (r->etm) {
        TSC_ENSURE(c.left >= ml, TSC_ERR_CRYPTO);
        size_t enc_len = c.left - ml;
        struct tsc_slice covered;
        TSC_TRY(tsc_cur_bytes(&whole, enc_len, &covered));
        TSC_TRY(tsc_cur_bytes(&whole, ml, &mac));
        /* MAC first (RFC 7366 3): a failure needs no decryption. The IV still
         * chains for TLS 1.0, so the length check comes before. */
        TSC_ENSURE(enc_len % bl == 0 && enc_len >= (explicit_iv ? 2 * bl : bl), TSC_ERR_CRYPTO);
        if (explicit_iv) {
            TSC_TRY(tsc_cur_bytes(&c, bl, &iv));
        }
        TSC_TRY(tsc_cur_bytes(&c, enc_len - iv.len, &ct));
        enum tsc_err me = tsc_rec_check_mac(r, type, version, covered.p, covered.len, mac.p);
        if (me != TSC_OK) {
            if (!explicit_iv) {
                /* keep the chain: the next record's IV is this record's last block */
                TSC_ENSURE(EVP_DecryptInit_ex2(r->cctx, NULL, NULL, ct.p + ct.len - bl, NULL) == 1,
                           TSC_ERR_CRYPTO);
            }
            return me;
        }
    } else {
        /* Shortest MtE record: one block holding MAC + padding_length. */
        size_t min = ml + 1 > bl ? ((ml + 1 + bl - 1) / bl) * bl : bl;
        if (explicit_iv) {
            min += bl;
        }
        TSC_ENSURE(c.left % bl == 0 && c.left >= min, TSC_ERR_CRYPTO);
        if (explicit_iv) {
            TSC_TRY(tsc_cur_bytes(&c, bl, &iv));
        }
        TSC_TRY(tsc_cur_bytes(&c, c.left, &ct));
    }
    if (explicit_iv) {
        TSC_ENSURE(EVP_DecryptInit_ex2(r->cctx, NULL, NULL, iv.p, NULL) == 1, TSC_ERR_CRYPTO);
    }
    TSC_TRY(tsc_buf_reserve(out, ct.len + bl));
    int ol = 0;
    TSC_ENSURE(EVP_DecryptUpdate(r->cctx, out->p, &ol, ct.p, (int)ct.len) == 1, TSC_ERR_CRYPTO);
    TSC_ENSURE((size_t)ol == ct.len, TSC_ERR_CRYPTO);
    size_t n = ct.len;
    uint8_t pad = out->p[n - 1];
    size_t need = (size_t)pad + 1 + (r->etm ? 0 : ml);
    TSC_ENSURE(need <= n, TSC_ERR_CRYPTO);
    if (r->version == 0x0300) {
        /* RFC 6101 5.2.3.2: padding shorter than a block, contents unspecified. */
        TSC_ENSURE((size_t)pad < bl, TSC_ERR_CRYPTO);
    } else {
        /* RFC 5246 6.2.3.2: every padding byte holds padding_length. */
        for (size_t i = n - 1 - pad; i < n - 1; i++) {
            TSC_ENSURE(out->p[i] == pad, TSC_ERR_CRYPTO);
        }
    }
    size_t content = n - need;
    if (!r->etm) {
        TSC_TRY(tsc_rec_check_mac(r, type, version, out->p, content, out->p + content));
    }
    out->len = content;
    return TSC_OK;
}

/*
 * RFC 5246 6.2.3.3 / RFC 5288 3 / RFC 6655 3:
 *   struct {
 *       opaque nonce_explicit[SecurityParameters.record_iv_length];
 *       aead-ciphered struct { opaque content[TLSCompressed.length]; };
 *   } GenericAEADCipher;
 *   additional_data = seq_num + TLSCompressed.type + TLSCompressed.version +
 *                     TLSCompressed.length;
 * nonce = salt (4) + nonce_explicit (8); ChaCha20 (RFC 7905 2): the 12-byte
 * iv XOR the left-padded sequence number, no explicit part.
 * TLS 1.3 (RFC 8446 5.2, 5.3): nonce = iv XOR padded seq, additional_data is
 * the record header; the plaintext is TLSInnerPlaintext.
 */
static enum tsc_err tsc_rec_aead(struct tsc_rec *r, uint8_t type, uint16_t version,
                                 struct tsc_cur c, struct tsc_buf *out, uint8_t *inner_type)
{
    const struct tsc_suite *s = r->suite;
    size_t tl = s->tag_len;
    uint8_t nonce[12];
    uint8_t aad[13];
    size_t aad_len;
    struct tsc_slice expl = {NULL, 0};
    struct tsc_slice ct;
    struct tsc_slice tag;
    size_t rec_len = c.left;
    TSC_ENSURE(c.left >= (size_t)s->record_iv_len + tl, TSC_ERR_CRYPTO);
    if (!r->tls13 && s->record_iv_len > 0) {
        TSC_TRY(tsc_cur_bytes(&c, s->record_iv_len, &expl));
    }
    TSC_TRY(tsc_cur_bytes(&c, c.left - tl, &ct));
    TSC_TRY(tsc_cur_bytes(&c, tl, &tag));
    if (!r->tls13 && s->record_iv_len > 0) {
        memcpy(nonce, r->iv, 4);
        memcpy(nonce + 4, expl.p, 8);
    } else {
        uint8_t sq[8];
        tsc_put_seq(sq, r->seq);
        memcpy(nonce, r->iv, 12);
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] ^= sq[i];
        }
    }
    if (r->tls13) {
        /* RFC 8446 5.2: additional_data = opaque_type || legacy_record_version || length */
        aad[0] = type;
        aad[1] = (uint8_t)(version >> 8);
        aad[2] = (uint8_t)version;
        aad[3] = (uint8_t)(rec_len >> 8);
        aad[4] = (uint8_t)rec_len;
        aad_len = 5;
    } else {
        tsc_put_seq(aad, r->seq);
        aad[8] = type;
        aad[9] = (uint8_t)(version >> 8);
        aad[10] = (uint8_t)version;
        aad[11] = (uint8_t)(ct.len >> 8);
        aad[12] = (uint8_t)ct.len;
        aad_len = 13;
    }
    TSC_TRY(tsc_buf_reserve(out, ct.len + 16));
    EVP_CIPHER_CTX *x = r->cctx;
    int ol = 0;
    int fl = 0;
    static const uint8_t empty[1] = {0};
    const uint8_t *ctp = ct.len > 0 ? ct.p : empty;
    if (s->family == TSC_FAM_CCM) {
        /* CCM: tag and total length before the AAD; the update checks the tag. */
        TSC_ENSURE(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, (int)tl, (void *)tag.p) == 1,
                   TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_DecryptInit_ex2(x, NULL, NULL, nonce, NULL) == 1, TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_DecryptUpdate(x, NULL, &ol, NULL, (int)ct.len) == 1, TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_DecryptUpdate(x, NULL, &ol, aad, (int)aad_len) == 1, TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_DecryptUpdate(x, out->p, &ol, ctp, (int)ct.len) == 1, TSC_ERR_CRYPTO);
    } else {
        TSC_ENSURE(EVP_DecryptInit_ex2(x, NULL, NULL, nonce, NULL) == 1, TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_DecryptUpdate(x, NULL, &ol, aad, (int)aad_len) == 1, TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_DecryptUpdate(x, out->p, &ol, ctp, (int)ct.len) == 1, TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, (int)tl, (void *)tag.p) == 1,
                   TSC_ERR_CRYPTO);
        TSC_ENSURE(EVP_DecryptFinal_ex(x, out->p + ol, &fl) == 1, TSC_ERR_CRYPTO);
    }
    size_t n = ct.len;
    if (r->tls13) {
        /*
         * RFC 8446 5.4: struct { opaque content[length]; ContentType type;
         *                        uint8 zeros[length_of_padding]; } TLSInnerPlaintext;
         * All zeros (no type) MUST be an unexpected_message: a bad record here.
         */
        while (n > 0 && out->p[n - 1] == 0) {
            n--;
        }
        TSC_ENSURE(n > 0, TSC_ERR_CRYPTO);
        *inner_type = out->p[n - 1];
        n--;
    }
    out->len = n;
    return TSC_OK;
}

/* RFC 3749 2.1 / RFC 1951: one continuous DEFLATE stream per direction and epoch. */
static enum tsc_err tsc_rec_inflate(struct tsc_rec *r, struct tsc_buf *out)
{
    z_stream *z = (z_stream *)r->z;
    if (out->len == 0) {
        return TSC_OK;
    }
    z->next_in = out->p;
    z->avail_in = (uInt)out->len;
    z->next_out = r->zout;
    z->avail_out = TSC_REC_MAX_INFLATED;
    int rc = inflate(z, Z_SYNC_FLUSH);
    TSC_ENSURE(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR, TSC_ERR_CRYPTO);
    /* Input left over means the record inflates past the cap (RFC 5246 6.2.2: 2^14 + 1024). */
    TSC_ENSURE(z->avail_in == 0, TSC_ERR_LIMIT);
    size_t n = TSC_REC_MAX_INFLATED - z->avail_out;
    out->len = 0;
    return tsc_buf_append(out, r->zout, n);
}

enum tsc_err tsc_rec_decrypt(struct tsc_rec *r, uint8_t type, uint16_t version, const uint8_t *in,
                             size_t len, struct tsc_buf *out, uint8_t *inner_type, bool seq_on_fail)
{
    TSC_ENSURE(r != NULL && r->ready && out != NULL && inner_type != NULL, TSC_ERR_ARG);
    TSC_ENSURE(in != NULL || len == 0, TSC_ERR_ARG);
    tsc_buf_reset(out);
    *inner_type = type;
    enum tsc_err e;
    if (len > TSC_REC_MAX_CIPHERTEXT) {
        /* RFC 5246 6.2.3: longer than 2^14 + 2048 is a record_overflow. */
        e = TSC_ERR_CRYPTO;
    } else {
        struct tsc_cur c = tsc_cur_make(in, len);
        switch (r->suite->family) {
        case TSC_FAM_NULL:
        case TSC_FAM_STREAM:
            e = tsc_rec_stream(r, type, version, c, out);
            break;
        case TSC_FAM_CBC:
            e = tsc_rec_cbc(r, type, version, c, out);
            break;
        default:
            e = tsc_rec_aead(r, type, version, c, out, inner_type);
            break;
        }
    }
    if (e == TSC_OK && r->deflate) {
        e = tsc_rec_inflate(r, out);
    }
    if (e == TSC_OK && out->len > TSC_REC_MAX_PLAINTEXT + (r->deflate ? 1024u : 0u)) {
        e = TSC_ERR_CRYPTO; /* RFC 5246 6.2.1 / RFC 8446 5.4: record_overflow */
    }
    if (e != TSC_OK) {
        tsc_buf_reset(out);
        *inner_type = type;
        if (e != TSC_ERR_NOMEM && e != TSC_ERR_LIMIT) {
            e = TSC_ERR_CRYPTO;
        }
        if (!seq_on_fail) {
            return e;
        }
    }
    r->seq++;
    return e;
}
