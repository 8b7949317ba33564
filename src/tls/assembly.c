/*
 * Handshake message reassembly (RFC 5246 6.2.1 / RFC 8446 5.1: messages may
 * be split across records and several may share one). Messages complete in a
 * record are parsed in place; only a partial one is copied, into a buffer
 * capped at max_handshake_msg + 4. Larger messages are skipped and counted.
 */
#include <string.h>

#include "tls/conn.h"
#include "tls/names.h"

#define TSC_HS_HDR 4

void tsc_hs_reset(struct tsc_tls_dirst *d)
{
    tsc_buf_reset(&d->hs);
    /* A large message's memory is not kept once it is done. */
    tsc_buf_shrink(&d->hs, 4096);
    d->skip_left = 0;
}

/*
 * RFC 8446 4:
 *   struct {
 *       HandshakeType msg_type;
 *       uint24 length;
 *       select (Handshake.msg_type) { ... };
 *   } Handshake;
 */
static void tsc_hs_message(struct tsc_tls_conn *t, int dir, uint8_t type, uint32_t length,
                           const uint8_t *raw, struct tsc_slice body, bool skipped, int64_t off)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    struct tsc_hs_msg m;
    memset(&m, 0, offsetof(struct tsc_hs_msg, u));
    m.type = type;
    m.length = length;
    m.body = body;
    m.skipped = skipped;
    m.record_version = d->hs_rec_version;
    m.offset = off;
    tsc_tls_ctx_fill(t, dir, &m.ctx);
    tsc_tls_hs_type_add(t, dir, type);
    enum tsc_err e = tsc_msg_parse(&m);
    if (e != TSC_OK && e != TSC_ERR_UNSUPPORTED && e != TSC_ERR_STATE && e != TSC_ERR_LIMIT) {
        const char *n = tsc_name_handshake_type(type);
        tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_MALFORMED, true,
                     "%s (type %u, %u bytes): expected a well-formed body: %s",
                     n != NULL ? n : "unknown", type, length, tsc_err_name(e));
    }
    const struct tsc_ext_list *el = tsc_msg_ext_list(&m);
    if (el != NULL && el->ext_err != TSC_OK) {
        const char *n = tsc_name_handshake_type(type);
        const char *en = tsc_name_extension(el->ext_err_type);
        tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_MALFORMED, true,
                     "%s: extension %s (%u): expected a well-formed body: %s",
                     n != NULL ? n : "handshake", en != NULL ? en : "unknown", el->ext_err_type,
                     tsc_err_name(el->ext_err));
    }
    if (el != NULL && (el->has_duplicate || el->has_not_allowed)) {
        /* RFC 8446 4.2: one extension per type, only in the messages its table row lists. */
        tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_UNEXPECTED, false, "%s: %s",
                     tsc_name_handshake_type(type) != NULL ? tsc_name_handshake_type(type)
                                                           : "handshake",
                     el->has_duplicate ? "duplicate extension" : "extension not allowed here");
    }
    if ((type == TSC_HS_CLIENT_HELLO && dir == TSC_DIR_S2C) ||
        (type == TSC_HS_SERVER_HELLO && dir == TSC_DIR_C2S)) {
        tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_UNEXPECTED, false, "%s sent by the %s",
                     type == TSC_HS_CLIENT_HELLO ? "client_hello" : "server_hello",
                     dir == TSC_DIR_S2C ? "server" : "client");
    }
    tsc_tls_process(t, dir, &m);
    tsc_verify_message(t, dir, &m);
    if (t->cfg.keys != NULL) {
        /* Transcript for the key schedule and Finished: header and body as on the wire. */
        tsc_tls_crypto_message(t, dir, &m, raw, raw != NULL ? TSC_HS_HDR + (size_t)length : 0);
    }
    if (t->cfg.events.on_handshake != NULL) {
        t->cfg.events.on_handshake(t->cfg.events.ud, t->id, dir, &m, t->pkt, t->ts);
    }
}

/* Header of a message larger than the cap: skip its body (the type is still recorded). */
static void tsc_hs_oversize(struct tsc_tls_conn *t, int dir, uint8_t type, uint32_t len,
                            int64_t off)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_LIMIT, false,
                 "handshake message type %u of %u bytes exceeds max_handshake_msg %u: skipped",
                 type, len, t->cfg.max_handshake_msg);
    struct tsc_slice none = {NULL, 0};
    tsc_hs_message(t, dir, type, len, NULL, none, true, off);
    d->skip_left = len;
}

void tsc_hs_feed(struct tsc_tls_conn *t, int dir, struct tsc_slice frag, uint16_t rec_version,
                 int64_t frag_off)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    struct tsc_cur in = tsc_cur_from_slice(frag);
    /* Every pass consumes at least one byte (or ends the loop). */
    while (in.left > 0) {
        int64_t here = frag_off + (int64_t)(frag.len - in.left);
        if (d->skip_left > 0) {
            size_t s = d->skip_left < in.left ? d->skip_left : in.left;
            if (tsc_cur_skip(&in, s) != TSC_OK) {
                break;
            }
            d->skip_left -= (uint32_t)s;
            continue;
        }
        if (d->hs.len == 0) {
            uint8_t type;
            uint32_t len;
            struct tsc_cur h = in;
            d->hs_off = here;
            d->hs_rec_version = rec_version;
            if (tsc_cur_u8(&h, &type) == TSC_OK && tsc_cur_u24(&h, &len) == TSC_OK) {
                if (len > t->cfg.max_handshake_msg && tsc_name_handshake_type(type) == NULL) {
                    /*
                     * An unknown type with an impossible length is not a message
                     * (e.g. a lying length earlier in the record): the rest of the
                     * record is dropped instead of swallowing later records.
                     */
                    tsc_tls_fail(t, dir, here, TSC_DIAG_TLS_MALFORMED, true,
                                 "expected a handshake header, got type %u length %u", type, len);
                    d->hs_garbage = true;
                    break;
                }
                if (len > t->cfg.max_handshake_msg) {
                    in = h;
                    tsc_hs_oversize(t, dir, type, len, here);
                    continue;
                }
                if (len <= h.left) {
                    struct tsc_slice body;
                    const uint8_t *raw = in.p; /* header and body are contiguous here */
                    if (tsc_cur_bytes(&h, len, &body) != TSC_OK) {
                        break;
                    }
                    in = h;
                    tsc_hs_message(t, dir, type, len, raw, body, false, here);
                    continue;
                }
            }
            /* Partial message: buffer it (header may itself be partial). */
        }
        size_t want;
        if (d->hs.len < TSC_HS_HDR) {
            want = TSC_HS_HDR - d->hs.len;
        } else {
            uint32_t len = ((uint32_t)d->hs.p[1] << 16) | ((uint32_t)d->hs.p[2] << 8) | d->hs.p[3];
            want = TSC_HS_HDR + (size_t)len - d->hs.len;
        }
        size_t take = want < in.left ? want : in.left;
        struct tsc_slice s;
        if (tsc_cur_bytes(&in, take, &s) != TSC_OK) {
            break;
        }
        if (tsc_buf_append(&d->hs, s.p, s.len) != TSC_OK) {
            tsc_tls_fail(t, dir, d->hs_off, TSC_DIAG_TLS_LIMIT, true,
                         "handshake buffer: cannot grow");
            tsc_hs_reset(d);
            continue;
        }
        if (d->hs.len == TSC_HS_HDR) {
            uint8_t type = d->hs.p[0];
            uint32_t len = ((uint32_t)d->hs.p[1] << 16) | ((uint32_t)d->hs.p[2] << 8) | d->hs.p[3];
            if (len > t->cfg.max_handshake_msg) {
                tsc_buf_reset(&d->hs);
                tsc_hs_oversize(t, dir, type, len, d->hs_off);
                continue;
            }
        }
        if (d->hs.len >= TSC_HS_HDR) {
            uint32_t len = ((uint32_t)d->hs.p[1] << 16) | ((uint32_t)d->hs.p[2] << 8) | d->hs.p[3];
            if (d->hs.len == TSC_HS_HDR + (size_t)len) {
                struct tsc_slice body = {d->hs.p + TSC_HS_HDR, len};
                tsc_hs_message(t, dir, d->hs.p[0], len, d->hs.p, body, false, d->hs_off);
                tsc_hs_reset(d);
            }
        }
    }
}
