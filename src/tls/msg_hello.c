/* ClientHello, ServerHello / HelloRetryRequest, HelloVerifyRequest. */
#include <string.h>

#include "tls/msg.h"

static const uint8_t tsc_hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

bool tsc_random_is_hrr(struct tsc_slice random)
{
    return random.len == 32 && memcmp(random.p, tsc_hrr_random, 32) == 0;
}

bool tsc_version_is_tls13(uint16_t v)
{
    return v == 0x0304 || (v & 0xff00) == 0x7f00;
}

/*
 * RFC 5246 7.4.1.2 / RFC 8446 4.1.2:
 *   struct {
 *       ProtocolVersion client_version;
 *       Random random;
 *       SessionID session_id;                        opaque SessionID<0..32>;
 *       CipherSuite cipher_suites<2..2^16-2>;
 *       CompressionMethod compression_methods<1..2^8-1>;
 *       select (extensions_present) {
 *           case false: struct {};
 *           case true:  Extension extensions<0..2^16-1>;
 *       };
 *   } ClientHello;
 * RFC 5246 7.4.1.2 allows the extensions block to be absent (SSLv3 clients).
 */
enum tsc_err tsc_msg_client_hello_parse(struct tsc_cur *c, struct tsc_client_hello *out)
{
    struct tsc_cur b = *c;
    memset(out, 0, offsetof(struct tsc_client_hello, ext));
    memset(&out->ext, 0, offsetof(struct tsc_ext_list, e));
    TSC_TRY(tsc_cur_u16(&b, &out->legacy_version));
    TSC_TRY(tsc_cur_bytes(&b, 32, &out->random));
    TSC_TRY(tsc_cur_vec_slice(&b, 1, 0, 32, &out->session_id));
    TSC_TRY(tsc_cur_vec_slice(&b, 2, 2, 0xfffe, &out->cipher_suites));
    /* Cipher suites are 2 bytes each: an odd length cannot be split. */
    TSC_ENSURE(out->cipher_suites.len % 2 == 0, TSC_ERR_DECODE);
    out->n_suites = (uint16_t)(out->cipher_suites.len / 2);
    TSC_TRY(tsc_cur_vec_slice(&b, 1, 1, 0xff, &out->compression_methods));
    if (b.left > 0) {
        TSC_TRY(tsc_ext_list_parse(&b, TSC_CTX_CH, &out->ext));
    }
    TSC_TRY(tsc_cur_end(&b));
    *c = b;
    return TSC_OK;
}

/*
 * RFC 8446 4.1.3:
 *   struct {
 *       ProtocolVersion legacy_version = 0x0303;
 *       Random random;
 *       opaque legacy_session_id_echo<0..32>;
 *       CipherSuite cipher_suite;
 *       uint8 legacy_compression_method = 0;
 *       Extension extensions<6..2^16-1>;
 *   } ServerHello;
 * RFC 5246 7.4.1.3: the extensions block may be absent. TLS 1.3 drafts before
 * 22 put the version in legacy_version and had no session id / compression:
 * those (0x7fXX, draft < 22) are read in that shorter form.
 */
enum tsc_err tsc_msg_server_hello_parse(struct tsc_cur *c, struct tsc_server_hello *out)
{
    struct tsc_cur b = *c;
    memset(out, 0, offsetof(struct tsc_server_hello, ext));
    memset(&out->ext, 0, offsetof(struct tsc_ext_list, e));
    TSC_TRY(tsc_cur_u16(&b, &out->legacy_version));
    TSC_TRY(tsc_cur_bytes(&b, 32, &out->random));
    out->hrr = tsc_random_is_hrr(out->random);
    bool old_draft = (out->legacy_version & 0xff00) == 0x7f00 && (out->legacy_version & 0xff) < 22;
    if (!old_draft) {
        TSC_TRY(tsc_cur_vec_slice(&b, 1, 0, 32, &out->session_id));
    }
    TSC_TRY(tsc_cur_u16(&b, &out->cipher_suite));
    if (!old_draft) {
        TSC_TRY(tsc_cur_u8(&b, &out->compression_method));
    }
    if (b.left > 0 || old_draft) {
        TSC_TRY(tsc_ext_list_parse(&b, out->hrr ? TSC_CTX_HRR : TSC_CTX_SH, &out->ext));
    }
    TSC_TRY(tsc_cur_end(&b));
    const struct tsc_ext *sv = tsc_ext_find(&out->ext, TSC_EXT_SUPPORTED_VERSIONS);
    if (sv != NULL && sv->known) {
        out->selected_version = sv->u.selected_version;
    }
    *c = b;
    return TSC_OK;
}
