/*
 * The small handshake messages (a few fields each) and the dispatch table
 * from handshake type to parser.
 */
#include <string.h>

#include "tls/msg.h"

/*
 * RFC 5077 3.3:
 *   struct { uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>; } NewSessionTicket;
 * RFC 8446 4.6.1:
 *   struct {
 *       uint32 ticket_lifetime;
 *       uint32 ticket_age_add;
 *       opaque ticket_nonce<0..255>;
 *       opaque ticket<1..2^16-1>;
 *       Extension extensions<0..2^16-2>;
 *   } NewSessionTicket;
 */
enum tsc_err tsc_msg_new_session_ticket_parse(struct tsc_cur *c, bool tls13,
                                              struct tsc_new_session_ticket *out)
{
    struct tsc_cur b = *c;
    memset(out, 0, offsetof(struct tsc_new_session_ticket, ext));
    memset(&out->ext, 0, offsetof(struct tsc_ext_list, e));
    out->tls13 = tls13;
    TSC_TRY(tsc_cur_u32(&b, &out->lifetime));
    if (tls13) {
        TSC_TRY(tsc_cur_u32(&b, &out->age_add));
        TSC_TRY(tsc_cur_vec_slice(&b, 1, 0, 0xff, &out->nonce));
        TSC_TRY(tsc_cur_vec_slice(&b, 2, 1, 0xffff, &out->ticket));
        TSC_TRY(tsc_ext_list_parse(&b, TSC_CTX_NST, &out->ext));
    } else {
        TSC_TRY(tsc_cur_vec_slice(&b, 2, 0, 0xffff, &out->ticket));
    }
    TSC_TRY(tsc_cur_end(&b));
    *c = b;
    return TSC_OK;
}

/* RFC 8446 4.3.1: struct { Extension extensions<0..2^16-1>; } EncryptedExtensions; */
static enum tsc_err tsc_msg_encrypted_extensions_parse(struct tsc_cur *c, struct tsc_ext_list *out)
{
    struct tsc_cur b = *c;
    TSC_TRY(tsc_ext_list_parse(&b, TSC_CTX_EE, out));
    TSC_TRY(tsc_cur_end(&b));
    *c = b;
    return TSC_OK;
}

/*
 * RFC 5246 7.4.8 / RFC 8446 4.4.3:
 *   struct { SignatureScheme algorithm; opaque signature<0..2^16-1>; } CertificateVerify;
 * Before TLS 1.2 there is no algorithm field.
 */
static enum tsc_err tsc_msg_certificate_verify_parse(struct tsc_cur *c, uint16_t version,
                                                     struct tsc_certificate_verify *out)
{
    struct tsc_cur b = *c;
    memset(out, 0, sizeof(*out));
    if (version >= 0x0303 || version == 0) {
        out->has_sig_alg = true;
        TSC_TRY(tsc_cur_u16(&b, &out->sig_alg));
    }
    TSC_TRY(tsc_cur_vec_slice(&b, 2, 0, 0xffff, &out->signature));
    TSC_TRY(tsc_cur_end(&b));
    *c = b;
    return TSC_OK;
}

/*
 * RFC 6066 8:
 *   struct {
 *       CertificateStatusType status_type;
 *       select (status_type) { case ocsp: OCSPResponse response; } response;
 *   } CertificateStatus;
 *   opaque OCSPResponse<1..2^24-1>;
 */
static enum tsc_err tsc_msg_certificate_status_parse(struct tsc_cur *c,
                                                     struct tsc_certificate_status *out)
{
    struct tsc_cur b = *c;
    TSC_TRY(tsc_cur_u8(&b, &out->status_type));
    TSC_TRY(tsc_cur_vec_slice(&b, 3, 1, 0xffffff, &out->response));
    TSC_TRY(tsc_cur_end(&b));
    *c = b;
    return TSC_OK;
}

/*
 * RFC 8879 4:
 *   struct {
 *       CertificateCompressionAlgorithm algorithm;
 *       uint24 uncompressed_length;
 *       opaque compressed_certificate_message<1..2^24-1>;
 *   } CompressedCertificate;
 */
static enum tsc_err tsc_msg_compressed_certificate_parse(struct tsc_cur *c,
                                                         struct tsc_compressed_certificate *out)
{
    struct tsc_cur b = *c;
    TSC_TRY(tsc_cur_u16(&b, &out->algorithm));
    TSC_TRY(tsc_cur_u24(&b, &out->uncompressed_length));
    TSC_TRY(tsc_cur_vec_slice(&b, 3, 1, 0xffffff, &out->compressed));
    TSC_TRY(tsc_cur_end(&b));
    *c = b;
    return TSC_OK;
}

/* RFC 8446 4.6.3: enum { update_not_requested(0), update_requested(1), (255) } KeyUpdateRequest; */
static enum tsc_err tsc_msg_key_update_parse(struct tsc_cur *c, uint8_t *out)
{
    struct tsc_cur b = *c;
    TSC_TRY(tsc_cur_u8(&b, out));
    TSC_TRY(tsc_cur_end(&b));
    /* RFC 8446 4.6.3: another value MUST be answered with illegal_parameter. */
    TSC_ENSURE(*out <= 1, TSC_ERR_ILLEGAL);
    *c = b;
    return TSC_OK;
}

/*
 * DTLS-style HelloVerifyRequest (RFC 6347 4.2.1), seen over TCP only by mistake:
 *   struct { ProtocolVersion server_version; opaque cookie<0..2^8-1>; } HelloVerifyRequest;
 */
static enum tsc_err tsc_msg_hello_verify_request_parse(struct tsc_cur *c,
                                                       struct tsc_hello_verify_request *out)
{
    struct tsc_cur b = *c;
    TSC_TRY(tsc_cur_u16(&b, &out->server_version));
    TSC_TRY(tsc_cur_vec_slice(&b, 1, 0, 0xff, &out->cookie));
    TSC_TRY(tsc_cur_end(&b));
    *c = b;
    return TSC_OK;
}

/*
 * HelloRequest (RFC 5246 7.4.1.1), ServerHelloDone (7.4.5), EndOfEarlyData
 * (RFC 8446 4.5): struct { } — a non-empty body is a decode error.
 */
static enum tsc_err tsc_msg_empty_parse(struct tsc_cur *c)
{
    return tsc_cur_end(c);
}

/* Whole body kept as one opaque slice: Finished verify_data, message_hash, supplemental data. */
static enum tsc_err tsc_msg_opaque_parse(struct tsc_cur *c, struct tsc_slice *out)
{
    return tsc_cur_bytes(c, c->left, out);
}

static enum tsc_err tsc_dispatch(struct tsc_hs_msg *m, struct tsc_cur *c)
{
    bool tls13 = m->ctx.tls13;
    switch (m->type) {
    case TSC_HS_HELLO_REQUEST:
    case TSC_HS_SERVER_HELLO_DONE:
    case TSC_HS_END_OF_EARLY_DATA:
        return tsc_msg_empty_parse(c);
    case TSC_HS_CLIENT_HELLO:
        return tsc_msg_client_hello_parse(c, &m->u.ch);
    case TSC_HS_SERVER_HELLO:
        return tsc_msg_server_hello_parse(c, &m->u.sh);
    case TSC_HS_HELLO_VERIFY_REQUEST:
        return tsc_msg_hello_verify_request_parse(c, &m->u.hvr);
    case TSC_HS_NEW_SESSION_TICKET:
        return tsc_msg_new_session_ticket_parse(c, tls13, &m->u.nst);
    case TSC_HS_ENCRYPTED_EXTENSIONS:
        return tsc_msg_encrypted_extensions_parse(c, &m->u.ee);
    case TSC_HS_CERTIFICATE:
        return tsc_msg_certificate_parse(c, tls13, &m->u.cert);
    case TSC_HS_SERVER_KEY_EXCHANGE:
        return tsc_msg_server_key_exchange_parse(c, &m->ctx, &m->u.ske);
    case TSC_HS_CERTIFICATE_REQUEST:
        return tsc_msg_certificate_request_parse(c, tls13, m->ctx.version, &m->u.cr);
    case TSC_HS_CERTIFICATE_VERIFY:
        return tsc_msg_certificate_verify_parse(c, m->ctx.version, &m->u.cv);
    case TSC_HS_CLIENT_KEY_EXCHANGE:
        return tsc_msg_client_key_exchange_parse(c, &m->ctx, &m->u.cke);
    case TSC_HS_FINISHED:
        return tsc_msg_opaque_parse(c, &m->u.finished);
    case TSC_HS_CERTIFICATE_STATUS:
        return tsc_msg_certificate_status_parse(c, &m->u.cs);
    case TSC_HS_KEY_UPDATE:
        return tsc_msg_key_update_parse(c, &m->u.key_update_request);
    case TSC_HS_COMPRESSED_CERTIFICATE:
        return tsc_msg_compressed_certificate_parse(c, &m->u.cc);
    case TSC_HS_MESSAGE_HASH:
    case TSC_HS_SUPPLEMENTAL_DATA:
        return tsc_msg_opaque_parse(c, &m->u.message_hash);
    default:
        return TSC_ERR_UNSUPPORTED;
    }
}

enum tsc_err tsc_msg_parse(struct tsc_hs_msg *m)
{
    struct tsc_cur c = tsc_cur_from_slice(m->body);
    m->parsed = false;
    if (m->skipped) {
        m->err = TSC_ERR_LIMIT;
        return m->err;
    }
    if (m->sslv2) {
        if (m->type == TSC_V2_CLIENT_HELLO) {
            m->err = tsc_msg_v2_client_hello_parse(&c, &m->u.v2ch);
        } else if (m->type == TSC_V2_SERVER_HELLO) {
            m->err = tsc_msg_v2_server_hello_parse(&c, &m->u.v2sh);
        } else {
            m->err = TSC_ERR_UNSUPPORTED;
        }
    } else {
        m->err = tsc_dispatch(m, &c);
    }
    m->parsed = m->err == TSC_OK;
    return m->err;
}

const struct tsc_ext_list *tsc_msg_ext_list(const struct tsc_hs_msg *m)
{
    if (!m->parsed || m->sslv2) {
        return NULL;
    }
    switch (m->type) {
    case TSC_HS_CLIENT_HELLO:
        return &m->u.ch.ext;
    case TSC_HS_SERVER_HELLO:
        return &m->u.sh.ext;
    case TSC_HS_ENCRYPTED_EXTENSIONS:
        return &m->u.ee;
    case TSC_HS_CERTIFICATE_REQUEST:
        return m->u.cr.tls13 ? &m->u.cr.ext : NULL;
    case TSC_HS_NEW_SESSION_TICKET:
        return m->u.nst.tls13 ? &m->u.nst.ext : NULL;
    default:
        return NULL;
    }
}

uint8_t tsc_hs_msg_type(const struct tsc_hs_msg *m)
{
    return m->type;
}

uint32_t tsc_hs_msg_length(const struct tsc_hs_msg *m)
{
    return m->length;
}
