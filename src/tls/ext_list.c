/*
 * Extension block framing, the "extension allowed in this message" table and
 * the per-type parser dispatch table.
 */
#include <string.h>

#include "tls/ext_parsers.h"
#include "tls/msg.h"

#define C(x) (1u << (x))

/*
 * Where each extension may appear: RFC 8446 4.2 table for TLS 1.3 contexts,
 * plus the TLS 1.2 ServerHello uses (RFC 6066, 7301, 7627, 7366, 5077, 5746,
 * 8422, 6962, 6520, 8449). Unknown types are not judged.
 */
static const struct {
    uint16_t type;
    uint8_t ctx_mask;
    enum tsc_err (*parse)(enum tsc_ext_ctx ctx, struct tsc_ext *e);
} tsc_ext_table[] = {
    {TSC_EXT_SERVER_NAME, C(TSC_CTX_CH) | C(TSC_CTX_SH) | C(TSC_CTX_EE), tsc_ext_server_name},
    {TSC_EXT_MAX_FRAGMENT_LENGTH, C(TSC_CTX_CH) | C(TSC_CTX_SH) | C(TSC_CTX_EE),
     tsc_ext_max_fragment_length},
    {TSC_EXT_STATUS_REQUEST, C(TSC_CTX_CH) | C(TSC_CTX_SH) | C(TSC_CTX_CR) | C(TSC_CTX_CT),
     tsc_ext_status_request},
    {TSC_EXT_SUPPORTED_GROUPS, C(TSC_CTX_CH) | C(TSC_CTX_EE), tsc_ext_u16_list},
    {TSC_EXT_EC_POINT_FORMATS, C(TSC_CTX_CH) | C(TSC_CTX_SH), tsc_ext_ec_point_formats},
    {TSC_EXT_SIGNATURE_ALGORITHMS, C(TSC_CTX_CH) | C(TSC_CTX_CR), tsc_ext_u16_list},
    {TSC_EXT_HEARTBEAT, C(TSC_CTX_CH) | C(TSC_CTX_SH) | C(TSC_CTX_EE), tsc_ext_heartbeat},
    {TSC_EXT_ALPN, C(TSC_CTX_CH) | C(TSC_CTX_SH) | C(TSC_CTX_EE), tsc_ext_alpn},
    {TSC_EXT_SCT, C(TSC_CTX_CH) | C(TSC_CTX_SH) | C(TSC_CTX_CR) | C(TSC_CTX_CT), tsc_ext_sct},
    {TSC_EXT_PADDING, C(TSC_CTX_CH), tsc_ext_padding},
    {TSC_EXT_ENCRYPT_THEN_MAC, C(TSC_CTX_CH) | C(TSC_CTX_SH), tsc_ext_empty},
    {TSC_EXT_EXTENDED_MASTER_SECRET, C(TSC_CTX_CH) | C(TSC_CTX_SH), tsc_ext_empty},
    {TSC_EXT_COMPRESS_CERTIFICATE, C(TSC_CTX_CH) | C(TSC_CTX_CR), tsc_ext_compress_certificate},
    {TSC_EXT_RECORD_SIZE_LIMIT, C(TSC_CTX_CH) | C(TSC_CTX_SH) | C(TSC_CTX_EE),
     tsc_ext_record_size_limit},
    {TSC_EXT_SESSION_TICKET, C(TSC_CTX_CH) | C(TSC_CTX_SH), tsc_ext_opaque},
    {TSC_EXT_PRE_SHARED_KEY, C(TSC_CTX_CH) | C(TSC_CTX_SH), tsc_ext_pre_shared_key},
    {TSC_EXT_EARLY_DATA, C(TSC_CTX_CH) | C(TSC_CTX_EE) | C(TSC_CTX_NST), tsc_ext_early_data},
    {TSC_EXT_SUPPORTED_VERSIONS, C(TSC_CTX_CH) | C(TSC_CTX_SH) | C(TSC_CTX_HRR),
     tsc_ext_supported_versions},
    {TSC_EXT_COOKIE, C(TSC_CTX_CH) | C(TSC_CTX_HRR), tsc_ext_cookie},
    {TSC_EXT_PSK_KEY_EXCHANGE_MODES, C(TSC_CTX_CH), tsc_ext_psk_modes},
    {TSC_EXT_CERTIFICATE_AUTHORITIES, C(TSC_CTX_CH) | C(TSC_CTX_CR), NULL},
    {TSC_EXT_SIGNATURE_ALGORITHMS_CERT, C(TSC_CTX_CH) | C(TSC_CTX_CR), tsc_ext_u16_list},
    {TSC_EXT_KEY_SHARE, C(TSC_CTX_CH) | C(TSC_CTX_SH) | C(TSC_CTX_HRR), tsc_ext_key_share},
    {TSC_EXT_ENCRYPTED_CLIENT_HELLO, C(TSC_CTX_CH) | C(TSC_CTX_EE) | C(TSC_CTX_HRR), tsc_ext_ech},
    {TSC_EXT_RENEGOTIATION_INFO, C(TSC_CTX_CH) | C(TSC_CTX_SH), tsc_ext_renegotiation_info},
};

#define TSC_EXT_TABLE_N (sizeof(tsc_ext_table) / sizeof(tsc_ext_table[0]))

static int tsc_ext_index(uint16_t type)
{
    for (size_t i = 0; i < TSC_EXT_TABLE_N; i++) {
        if (tsc_ext_table[i].type == type) {
            return (int)i;
        }
    }
    return -1;
}

bool tsc_ext_allowed(uint16_t type, enum tsc_ext_ctx ctx)
{
    int i = tsc_ext_index(type);
    if (i < 0) {
        return true;
    }
    return (tsc_ext_table[i].ctx_mask & C(ctx)) != 0;
}

enum tsc_err tsc_ext_parse(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    int i = tsc_ext_index(e->type);
    e->known = false;
    if (i < 0 || tsc_ext_table[i].parse == NULL) {
        return TSC_OK;
    }
    TSC_TRY(tsc_ext_table[i].parse(ctx, e));
    e->known = true;
    return TSC_OK;
}

const struct tsc_ext *tsc_ext_find(const struct tsc_ext_list *l, uint16_t type)
{
    for (uint16_t i = 0; i < l->n_kept; i++) {
        if (l->e[i].type == type) {
            return &l->e[i];
        }
    }
    return NULL;
}

/*
 * RFC 8446 4.2:
 *   struct {
 *       ExtensionType extension_type;
 *       opaque extension_data<0..2^16-1>;
 *   } Extension;
 * The block itself is Extension extensions<0..2^16-1> (the minimum of 8 for a
 * ClientHello is not enforced: TLS 1.2 clients send fewer).
 * "There MUST NOT be more than one extension of the same type in a given
 * extension block": duplicates are flagged, not fatal (RFC 5246 7.4.1.4 has
 * the same rule), so the rest of the handshake is still visible.
 */
enum tsc_err tsc_ext_list_parse(struct tsc_cur *c, enum tsc_ext_ctx ctx, struct tsc_ext_list *out)
{
    struct tsc_cur body;
    memset(out, 0, offsetof(struct tsc_ext_list, e));
    TSC_TRY(tsc_cur_vec(c, 2, 0, 0xffff, &body));
    out->present = true;
    out->raw.p = body.p;
    out->raw.len = body.left;
    /* Each extension takes at least 4 bytes, so at most 16383 iterations. */
    while (body.left > 0) {
        uint16_t type;
        struct tsc_slice data;
        TSC_TRY(tsc_cur_u16(&body, &type));
        TSC_TRY(tsc_cur_vec_slice(&body, 2, 0, 0xffff, &data));
        bool dup = false;
        /* Duplicate check over the kept ones; past the cap only the count is kept. */
        for (uint16_t i = 0; i < out->n_kept; i++) {
            if (out->e[i].type == type) {
                dup = true;
                out->e[i].duplicate = true;
            }
        }
        if (dup) {
            out->has_duplicate = true;
        }
        if (out->n_kept < TSC_MAX_EXTS) {
            struct tsc_ext *e = &out->e[out->n_kept];
            memset(e, 0, sizeof(*e));
            e->type = type;
            e->data = data;
            e->duplicate = dup;
            e->not_allowed = !tsc_ext_allowed(type, ctx);
            out->has_not_allowed = out->has_not_allowed || e->not_allowed;
            if (!e->not_allowed) {
                enum tsc_err err = tsc_ext_parse(ctx, e);
                if (err != TSC_OK) {
                    e->malformed = true;
                    memset(&e->u, 0, sizeof(e->u));
                    if (out->ext_err == TSC_OK) {
                        out->ext_err = err;
                        out->ext_err_type = type;
                    }
                }
            }
            out->n_kept++;
        }
        out->n++;
    }
    return TSC_OK;
}
