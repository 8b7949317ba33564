/* ServerKeyExchange, ClientKeyExchange and the cipher suite -> key exchange classifier. */
#include <string.h>

#include "tls/msg.h"
#include "tls/names.h"

/*
 * Key exchange family from the IANA suite name (data/tls-registries, via
 * tsc_name_cipher_suite): "TLS_<kx>_WITH_<cipher>". Order matters: PSK
 * variants before their plain forms, EXPORT before plain RSA.
 */
enum tsc_kex tsc_suite_kex(uint16_t suite, bool *anon)
{
    const char *n = tsc_name_cipher_suite(suite);
    *anon = false;
    if (n == NULL) {
        return TSC_KEX_UNKNOWN;
    }
    const char *with = strstr(n, "_WITH_");
    if (with == NULL) {
        /* TLS 1.3 suites (TLS_AES_128_GCM_SHA256) have no key exchange part. */
        return strncmp(n, "TLS_", 4) == 0 ? TSC_KEX_NONE : TSC_KEX_UNKNOWN;
    }
    char kx[48];
    size_t len = (size_t)(with - n);
    if (len >= sizeof(kx)) {
        return TSC_KEX_UNKNOWN;
    }
    /* Registry spellings vary in case ("DH_anon" / "DH_ANON"): compare upper-case. */
    for (size_t i = 0; i < len; i++) {
        char ch = n[i];
        kx[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
    }
    kx[len] = '\0';
    *anon = strstr(kx, "_ANON") != NULL;
    if (strstr(kx, "_ECDHE_PSK") != NULL) {
        return TSC_KEX_ECDHE_PSK;
    }
    if (strstr(kx, "_DHE_PSK") != NULL) {
        return TSC_KEX_DHE_PSK;
    }
    if (strstr(kx, "_RSA_PSK") != NULL) {
        return TSC_KEX_RSA_PSK;
    }
    if (strstr(kx, "_PSK") != NULL) {
        return TSC_KEX_PSK;
    }
    if (strstr(kx, "_SRP") != NULL) {
        return TSC_KEX_SRP;
    }
    if (strstr(kx, "_ECDHE_") != NULL || strstr(kx, "_ECDH_ANON") != NULL) {
        return TSC_KEX_ECDHE;
    }
    if (strstr(kx, "_ECDH_") != NULL) {
        return TSC_KEX_ECDH;
    }
    if (strstr(kx, "_DHE_") != NULL || strstr(kx, "_DH_ANON") != NULL) {
        return TSC_KEX_DHE;
    }
    if (strstr(kx, "_DH_") != NULL) {
        return TSC_KEX_DH;
    }
    if (strstr(kx, "_RSA_EXPORT") != NULL) {
        return TSC_KEX_RSA_EXPORT;
    }
    if (strcmp(kx, "TLS_RSA") == 0 || strcmp(kx, "SSL_RSA") == 0) {
        return TSC_KEX_RSA;
    }
    return TSC_KEX_UNKNOWN;
}

/*
 * NULL bulk cipher suites ("..._WITH_NULL_<mac>", RFC 5246 A.5): protected
 * records are plaintext followed by the MAC, so they stay readable without
 * keys. Returns the MAC length, 0 if the suite encrypts (or is unknown).
 */
size_t tsc_suite_null_mac_len(uint16_t suite)
{
    const char *n = tsc_name_cipher_suite(suite);
    if (n == NULL || strstr(n, "_WITH_NULL_") == NULL) {
        return 0;
    }
    size_t len = strlen(n);
    static const struct {
        const char *suffix;
        size_t mac;
    } macs[] = {{"_MD5", 16}, {"_SHA", 20}, {"_SHA256", 32}, {"_SHA384", 48}};
    for (size_t i = 0; i < sizeof(macs) / sizeof(macs[0]); i++) {
        size_t sl = strlen(macs[i].suffix);
        if (len > sl && strcmp(n + len - sl, macs[i].suffix) == 0) {
            return macs[i].mac;
        }
    }
    return 0;
}

const char *tsc_kex_name(enum tsc_kex k)
{
    static const char *const names[] = {
        "unknown", "none", "rsa",     "rsa_export", "dh",      "dhe", "ecdh",
        "ecdhe",   "psk",  "dhe_psk", "ecdhe_psk",  "rsa_psk", "srp",
    };
    if ((size_t)k < sizeof(names) / sizeof(names[0])) {
        return names[k];
    }
    return "unknown";
}

/*
 * RFC 5246 7.4.3 (with RFC 8422 5.4 and RFC 4279 2/4):
 *   struct { opaque dh_p<1..2^16-1>; opaque dh_g<1..2^16-1>; opaque dh_Ys<1..2^16-1>; }
 *       ServerDHParams;
 *   struct { opaque rsa_modulus<1..2^16-1>; opaque rsa_exponent<1..2^16-1>; }
 *       ServerRSAParams;                                     (RSA_EXPORT)
 *   struct { ECCurveType curve_type; NamedCurve namedcurve; opaque point <1..2^8-1>; }
 *       ServerECDHParams;                                    (named_curve only)
 *   opaque psk_identity_hint<0..2^16-1>;                     (PSK, before the params)
 *   digitally-signed struct { ... } signed_params;           (not for anon/PSK)
 * In TLS 1.2 the signature starts with a SignatureAndHashAlgorithm.
 */
enum tsc_err tsc_msg_server_key_exchange_parse(struct tsc_cur *c, const struct tsc_hs_ctx *ctx,
                                               struct tsc_server_key_exchange *out)
{
    struct tsc_cur b = *c;
    memset(out, 0, sizeof(*out));
    /* Without the negotiated suite the variant cannot be known. */
    TSC_ENSURE(ctx->have_suite, TSC_ERR_STATE);
    out->kex = tsc_suite_kex(ctx->cipher_suite, &out->anon);
    enum tsc_kex k = out->kex;
    if (k == TSC_KEX_PSK || k == TSC_KEX_DHE_PSK || k == TSC_KEX_ECDHE_PSK ||
        k == TSC_KEX_RSA_PSK) {
        TSC_TRY(tsc_cur_vec_slice(&b, 2, 0, 0xffff, &out->psk_identity_hint));
    }
    switch (k) {
    case TSC_KEX_DHE:
    case TSC_KEX_DHE_PSK:
        TSC_TRY(tsc_cur_vec_slice(&b, 2, 1, 0xffff, &out->dh_p));
        TSC_TRY(tsc_cur_vec_slice(&b, 2, 1, 0xffff, &out->dh_g));
        TSC_TRY(tsc_cur_vec_slice(&b, 2, 1, 0xffff, &out->dh_ys));
        break;
    case TSC_KEX_ECDHE:
    case TSC_KEX_ECDHE_PSK:
        TSC_TRY(tsc_cur_u8(&b, &out->curve_type));
        /* RFC 8422 5.4: explicit curves (1, 2) are deprecated; only named_curve (3). */
        TSC_ENSURE(out->curve_type == 3, TSC_ERR_UNSUPPORTED);
        TSC_TRY(tsc_cur_u16(&b, &out->named_curve));
        TSC_TRY(tsc_cur_vec_slice(&b, 1, 1, 0xff, &out->point));
        break;
    case TSC_KEX_RSA_EXPORT:
    case TSC_KEX_RSA:
        /* RSA: a ServerKeyExchange only with export-grade temporary keys. */
        TSC_TRY(tsc_cur_vec_slice(&b, 2, 1, 0xffff, &out->rsa_modulus));
        TSC_TRY(tsc_cur_vec_slice(&b, 2, 1, 0xffff, &out->rsa_exponent));
        break;
    case TSC_KEX_PSK:
    case TSC_KEX_RSA_PSK:
        break;
    default:
        return TSC_ERR_UNSUPPORTED;
    }
    bool signed_params = !out->anon && k != TSC_KEX_PSK && k != TSC_KEX_DHE_PSK &&
                         k != TSC_KEX_ECDHE_PSK && k != TSC_KEX_RSA_PSK;
    if (signed_params) {
        out->has_sig = true;
        if (ctx->version >= 0x0303) {
            out->has_sig_alg = true;
            TSC_TRY(tsc_cur_u16(&b, &out->sig_alg));
        }
        TSC_TRY(tsc_cur_vec_slice(&b, 2, 0, 0xffff, &out->signature));
    }
    TSC_TRY(tsc_cur_end(&b));
    *c = b;
    return TSC_OK;
}

/*
 * RFC 5246 7.4.7:
 *   struct {
 *       select (KeyExchangeAlgorithm) {
 *           case rsa:  EncryptedPreMasterSecret;   public-key-encrypted, opaque <0..2^16-1>
 *           case dhe_dss/dhe_rsa/dh_anon: ClientDiffieHellmanPublic;  opaque dh_Yc<1..2^16-1>
 *       } exchange_keys;
 *   } ClientKeyExchange;
 * RFC 8422 5.7: opaque point <1..2^8-1>; RFC 4279 2/3/4: psk_identity<0..2^16-1> first.
 * SSLv3 (RFC 6101 5.6.7.1) sends the RSA ciphertext without a length prefix.
 * Static DH/ECDH with an implicit client key sends an empty body.
 */
enum tsc_err tsc_msg_client_key_exchange_parse(struct tsc_cur *c, const struct tsc_hs_ctx *ctx,
                                               struct tsc_client_key_exchange *out)
{
    struct tsc_cur b = *c;
    bool anon;
    memset(out, 0, sizeof(*out));
    TSC_ENSURE(ctx->have_suite, TSC_ERR_STATE);
    out->kex = tsc_suite_kex(ctx->cipher_suite, &anon);
    enum tsc_kex k = out->kex;
    if (k == TSC_KEX_PSK || k == TSC_KEX_DHE_PSK || k == TSC_KEX_ECDHE_PSK ||
        k == TSC_KEX_RSA_PSK) {
        TSC_TRY(tsc_cur_vec_slice(&b, 2, 0, 0xffff, &out->psk_identity));
    }
    switch (k) {
    case TSC_KEX_RSA:
    case TSC_KEX_RSA_EXPORT:
    case TSC_KEX_RSA_PSK:
        if (ctx->version == 0x0300 && k != TSC_KEX_RSA_PSK) {
            TSC_TRY(tsc_cur_bytes(&b, b.left, &out->encrypted_pms));
        } else {
            TSC_TRY(tsc_cur_vec_slice(&b, 2, 0, 0xffff, &out->encrypted_pms));
        }
        break;
    case TSC_KEX_DHE:
    case TSC_KEX_DHE_PSK:
    case TSC_KEX_DH:
        if (b.left > 0 || k != TSC_KEX_DH) {
            TSC_TRY(tsc_cur_vec_slice(&b, 2, 1, 0xffff, &out->dh_yc));
        }
        break;
    case TSC_KEX_ECDHE:
    case TSC_KEX_ECDHE_PSK:
    case TSC_KEX_ECDH:
        if (b.left > 0 || k != TSC_KEX_ECDH) {
            TSC_TRY(tsc_cur_vec_slice(&b, 1, 1, 0xff, &out->point));
        }
        break;
    case TSC_KEX_PSK:
        break;
    default:
        return TSC_ERR_UNSUPPORTED;
    }
    TSC_TRY(tsc_cur_end(&b));
    *c = b;
    return TSC_OK;
}
