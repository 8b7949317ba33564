/*
 * Extension parsers for the extensions defined before TLS 1.3 (grouped: most
 * are a few lines each; see docs/tls-dissector.md).
 */
#include "tls/ext_parsers.h"

/* Extensions that must be empty (RFC 7366 2, RFC 7627 5.1; also SNI/status/SCT replies). */
enum tsc_err tsc_ext_empty(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    TSC_ENSURE(e->data.len == 0, TSC_ERR_DECODE);
    return TSC_OK;
}

enum tsc_err tsc_ext_opaque(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    e->u.opaque = e->data;
    return TSC_OK;
}

/*
 * RFC 6066 3:
 *   struct {
 *       NameType name_type;
 *       select (name_type) { case host_name: HostName; } name;
 *   } ServerName;
 *   opaque HostName<1..2^16-1>;
 *   struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
 * The server's reply "SHALL be empty". Unknown name types are read with the
 * same 2-byte length, as deployed parsers do.
 */
enum tsc_err tsc_ext_server_name(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    if (ctx != TSC_CTX_CH) {
        return tsc_ext_empty(ctx, e);
    }
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    struct tsc_cur list;
    TSC_TRY(tsc_cur_vec(&c, 2, 1, 0xffff, &list));
    TSC_TRY(tsc_cur_end(&c));
    e->u.sni.list.p = list.p;
    e->u.sni.list.len = list.left;
    bool have_host = false;
    while (list.left > 0) { /* each entry is >= 4 bytes: bounded by the length */
        uint8_t name_type;
        struct tsc_slice name;
        TSC_TRY(tsc_cur_u8(&list, &name_type));
        TSC_TRY(tsc_cur_vec_slice(&list, 2, 1, 0xffff, &name));
        if (name_type == 0 && !have_host) {
            e->u.sni.host = name;
            have_host = true;
        }
        e->u.sni.n_names++;
    }
    return TSC_OK;
}

/* RFC 6066 4: enum { 2^9(1), 2^10(2), 2^11(3), 2^12(4), (255) } MaxFragmentLength; */
enum tsc_err tsc_ext_max_fragment_length(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    TSC_TRY(tsc_cur_u8(&c, &e->u.max_fragment_length));
    TSC_TRY(tsc_cur_end(&c));
    /* RFC 6066 4: another value MUST abort with illegal_parameter. */
    TSC_ENSURE(e->u.max_fragment_length >= 1 && e->u.max_fragment_length <= 4, TSC_ERR_ILLEGAL);
    return TSC_OK;
}

/*
 * RFC 6066 8:
 *   struct {
 *       CertificateStatusType status_type;
 *       select (status_type) { case ocsp: OCSPStatusRequest; } request;
 *   } CertificateStatusRequest;
 *   struct {
 *       ResponderID responder_id_list<0..2^16-1>;
 *       Extensions  request_extensions;   (opaque <0..2^16-1>)
 *   } OCSPStatusRequest;
 * Empty in a TLS 1.2 ServerHello; RFC 8446 4.4.2.1: a CertificateEntry carries
 * a CertificateStatus (status_type, opaque OCSPResponse<1..2^24-1>).
 */
enum tsc_err tsc_ext_status_request(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    if (ctx == TSC_CTX_SH) {
        TSC_ENSURE(e->data.len == 0, TSC_ERR_DECODE);
        e->u.status_request.empty = true;
        return TSC_OK;
    }
    TSC_TRY(tsc_cur_u8(&c, &e->u.status_request.status_type));
    if (ctx == TSC_CTX_CT) {
        TSC_TRY(tsc_cur_vec_slice(&c, 3, 1, 0xffffff, &e->u.status_request.responder_ids));
        return tsc_cur_end(&c);
    }
    if (e->u.status_request.status_type != 1) {
        /* Unknown status types: body left opaque. */
        e->u.status_request.request_extensions.p = c.p;
        e->u.status_request.request_extensions.len = c.left;
        return TSC_OK;
    }
    TSC_TRY(tsc_cur_vec_slice(&c, 2, 0, 0xffff, &e->u.status_request.responder_ids));
    TSC_TRY(tsc_cur_vec_slice(&c, 2, 0, 0xffff, &e->u.status_request.request_extensions));
    return tsc_cur_end(&c);
}

/*
 * u16 lists:
 *   RFC 8422 5.1.1 / RFC 8446 4.2.7: NamedGroup named_group_list<2..2^16-1>;
 *   RFC 8446 4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2>;
 * An odd length is a decode error.
 */
enum tsc_err tsc_ext_u16_list(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    TSC_TRY(tsc_cur_vec_slice(&c, 2, 2, 0xffff, &e->u.u16s.list));
    TSC_TRY(tsc_cur_end(&c));
    TSC_ENSURE(e->u.u16s.list.len % 2 == 0, TSC_ERR_DECODE);
    e->u.u16s.n = (uint16_t)(e->u.u16s.list.len / 2);
    return TSC_OK;
}

/* RFC 8422 5.1.2: ECPointFormat ec_point_format_list<1..2^8-1>; */
enum tsc_err tsc_ext_ec_point_formats(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    TSC_TRY(tsc_cur_vec_slice(&c, 1, 1, 0xff, &e->u.u8s.list));
    TSC_TRY(tsc_cur_end(&c));
    e->u.u8s.n = (uint16_t)e->u.u8s.list.len;
    return TSC_OK;
}

/* RFC 6520 2: struct { HeartbeatMode mode; } HeartbeatExtension; peer_allowed(1), not(2). */
enum tsc_err tsc_ext_heartbeat(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    TSC_TRY(tsc_cur_u8(&c, &e->u.heartbeat_mode));
    TSC_TRY(tsc_cur_end(&c));
    /* RFC 6520 2: an unknown mode MUST be answered with illegal_parameter. */
    TSC_ENSURE(e->u.heartbeat_mode == 1 || e->u.heartbeat_mode == 2, TSC_ERR_ILLEGAL);
    return TSC_OK;
}

/*
 * RFC 7301 3.1:
 *   opaque ProtocolName<1..2^8-1>;
 *   struct { ProtocolName protocol_name_list<2..2^16-1> } ProtocolNameList;
 * The server's list MUST contain exactly one name.
 */
enum tsc_err tsc_ext_alpn(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    struct tsc_cur list;
    TSC_TRY(tsc_cur_vec(&c, 2, 2, 0xffff, &list));
    TSC_TRY(tsc_cur_end(&c));
    e->u.alpn.list.p = list.p;
    e->u.alpn.list.len = list.left;
    while (list.left > 0) { /* each name takes >= 2 bytes */
        struct tsc_slice name;
        TSC_TRY(tsc_cur_vec_slice(&list, 1, 1, 0xff, &name));
        e->u.alpn.n++;
    }
    if (ctx == TSC_CTX_SH || ctx == TSC_CTX_EE) {
        TSC_ENSURE(e->u.alpn.n == 1, TSC_ERR_ILLEGAL);
    }
    return TSC_OK;
}

/*
 * RFC 6962 3.3: opaque SerializedSCT<1..2^16-1>;
 *   struct { SerializedSCT sct_list <1..2^16-1>; } SignedCertificateTimestampList;
 * The ClientHello's extension_data is empty.
 */
enum tsc_err tsc_ext_sct(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    if (ctx == TSC_CTX_CH || ctx == TSC_CTX_CR) {
        return tsc_ext_empty(ctx, e);
    }
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    struct tsc_cur list;
    TSC_TRY(tsc_cur_vec(&c, 2, 1, 0xffff, &list));
    TSC_TRY(tsc_cur_end(&c));
    e->u.opaque.p = list.p;
    e->u.opaque.len = list.left;
    while (list.left > 0) {
        struct tsc_slice sct;
        TSC_TRY(tsc_cur_vec_slice(&list, 2, 1, 0xffff, &sct));
    }
    return TSC_OK;
}

/* RFC 7685 3: the padding "MUST be filled with zero bytes": relaxed, flagged instead. */
enum tsc_err tsc_ext_padding(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    e->u.padding.all_zero = true;
    for (size_t i = 0; i < e->data.len; i++) {
        if (e->data.p[i] != 0) {
            e->u.padding.all_zero = false;
            break;
        }
    }
    return TSC_OK;
}

/* RFC 8879 3: CertificateCompressionAlgorithm algorithms<2..2^8-2>; */
enum tsc_err tsc_ext_compress_certificate(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    TSC_TRY(tsc_cur_vec_slice(&c, 1, 2, 0xfe, &e->u.u16s.list));
    TSC_TRY(tsc_cur_end(&c));
    TSC_ENSURE(e->u.u16s.list.len % 2 == 0, TSC_ERR_DECODE);
    e->u.u16s.n = (uint16_t)(e->u.u16s.list.len / 2);
    return TSC_OK;
}

/* RFC 8449 4: uint16 RecordSizeLimit; a value below 64 MUST be illegal_parameter. */
enum tsc_err tsc_ext_record_size_limit(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    TSC_TRY(tsc_cur_u16(&c, &e->u.record_size_limit));
    TSC_TRY(tsc_cur_end(&c));
    TSC_ENSURE(e->u.record_size_limit >= 64, TSC_ERR_ILLEGAL);
    return TSC_OK;
}

/* RFC 5746 3.2: struct { opaque renegotiated_connection<0..255>; } RenegotiationInfo; */
enum tsc_err tsc_ext_renegotiation_info(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    TSC_TRY(tsc_cur_vec_slice(&c, 1, 0, 0xff, &e->u.opaque));
    return tsc_cur_end(&c);
}
