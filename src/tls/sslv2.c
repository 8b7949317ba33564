/*
 * SSLv2: the SSLv2-compatible CLIENT-HELLO (RFC 6101 E.1, RFC 5246 E.2) and
 * whole SSLv2 sessions (draft-hickman-netscape-ssl-00), keyless: after
 * CLIENT-MASTER-KEY (client) / SERVER-HELLO (server) records are encrypted.
 */
#include <string.h>

#include "tls/conn.h"

bool tsc_sslv2_hello_start(const uint8_t *p, size_t n, uint8_t *msg_type)
{
    struct tsc_cur c = tsc_cur_make(p, n);
    uint8_t b0;
    uint8_t b1;
    uint8_t type;
    uint16_t v;
    if (tsc_cur_u8(&c, &b0) != TSC_OK || tsc_cur_u8(&c, &b1) != TSC_OK ||
        tsc_cur_u8(&c, &type) != TSC_OK) {
        return false;
    }
    uint32_t len = ((uint32_t)(b0 & 0x7f) << 8) | b1;
    /* 2-byte header only for hellos; a CLIENT-HELLO body is at least 9 bytes. */
    if ((b0 & 0x80) == 0 || len < 9) {
        return false;
    }
    *msg_type = type;
    if (type == TSC_V2_CLIENT_HELLO) {
        if (tsc_cur_u16(&c, &v) != TSC_OK) {
            return false;
        }
        return v == 0x0002 || (v >> 8) == 3;
    }
    if (type == TSC_V2_SERVER_HELLO) {
        uint8_t hit;
        uint8_t cert_type;
        if (tsc_cur_u8(&c, &hit) != TSC_OK || tsc_cur_u8(&c, &cert_type) != TSC_OK ||
            tsc_cur_u16(&c, &v) != TSC_OK) {
            return false;
        }
        return hit <= 1 && v == 0x0002;
    }
    return false;
}

/*
 * RFC 5246 E.2:
 *   struct {
 *       uint16 msg_length;          (record header, high bit set)
 *       uint8 msg_type;             (1)
 *       Version version;
 *       uint16 cipher_spec_length;  (a multiple of 3)
 *       uint16 session_id_length;   (0, or 16 for SSLv2)
 *       uint16 challenge_length;    (16..32)
 *       V2CipherSpec cipher_specs[V2ClientHello.cipher_spec_length];
 *       opaque session_id[V2ClientHello.session_id_length];
 *       opaque challenge[V2ClientHello.challenge_length;
 *   } V2ClientHello;
 * The cursor starts after msg_type. The challenge bounds (16..32) are a MUST
 * in RFC 6101 E.1 for servers; enforced here (TSC_ERR_DECODE).
 */
enum tsc_err tsc_msg_v2_client_hello_parse(struct tsc_cur *c, struct tsc_v2_client_hello *out)
{
    struct tsc_cur b = *c;
    uint16_t cs_len;
    uint16_t sid_len;
    uint16_t ch_len;
    memset(out, 0, sizeof(*out));
    TSC_TRY(tsc_cur_u16(&b, &out->version));
    TSC_TRY(tsc_cur_u16(&b, &cs_len));
    TSC_TRY(tsc_cur_u16(&b, &sid_len));
    TSC_TRY(tsc_cur_u16(&b, &ch_len));
    TSC_ENSURE(cs_len % 3 == 0 && cs_len > 0, TSC_ERR_DECODE);
    TSC_ENSURE(sid_len == 0 || sid_len == 16 || sid_len == 32, TSC_ERR_DECODE);
    TSC_ENSURE(ch_len >= 16 && ch_len <= 32, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_bytes(&b, cs_len, &out->cipher_specs));
    TSC_TRY(tsc_cur_bytes(&b, sid_len, &out->session_id));
    TSC_TRY(tsc_cur_bytes(&b, ch_len, &out->challenge));
    TSC_TRY(tsc_cur_end(&b));
    out->n_specs = (uint16_t)(cs_len / 3);
    *c = b;
    return TSC_OK;
}

/*
 * SSLv2 SERVER-HELLO (after msg_type):
 *   char SESSION-ID-HIT; char CERTIFICATE-TYPE; char SERVER-VERSION-MSB/LSB;
 *   char CERTIFICATE-LENGTH-MSB/LSB; char CIPHER-SPECS-LENGTH-MSB/LSB;
 *   char CONNECTION-ID-LENGTH-MSB/LSB;
 *   char CERTIFICATE-DATA[..]; char CIPHER-SPECS-DATA[..]; char CONNECTION-ID-DATA[..];
 */
enum tsc_err tsc_msg_v2_server_hello_parse(struct tsc_cur *c, struct tsc_v2_server_hello *out)
{
    struct tsc_cur b = *c;
    uint16_t cert_len;
    uint16_t cs_len;
    uint16_t cid_len;
    memset(out, 0, sizeof(*out));
    TSC_TRY(tsc_cur_u8(&b, &out->session_id_hit));
    TSC_TRY(tsc_cur_u8(&b, &out->certificate_type));
    TSC_TRY(tsc_cur_u16(&b, &out->version));
    TSC_TRY(tsc_cur_u16(&b, &cert_len));
    TSC_TRY(tsc_cur_u16(&b, &cs_len));
    TSC_TRY(tsc_cur_u16(&b, &cid_len));
    TSC_ENSURE(cs_len % 3 == 0, TSC_ERR_DECODE);
    /* CONNECTION-ID is 16..32 bytes (draft-hickman, SERVER-HELLO). */
    TSC_ENSURE(cid_len >= 16 && cid_len <= 32, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_bytes(&b, cert_len, &out->certificate));
    TSC_TRY(tsc_cur_bytes(&b, cs_len, &out->cipher_specs));
    TSC_TRY(tsc_cur_bytes(&b, cid_len, &out->connection_id));
    TSC_TRY(tsc_cur_end(&b));
    *c = b;
    return TSC_OK;
}

void tsc_sslv2_record(struct tsc_tls_conn *t, int dir, struct tsc_slice body, int64_t off)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    struct tsc_tls_dir_facts *df = &t->f.dir[dir];
    d->sslv2_records++;
    df->records_sslv2++;
    struct tsc_tls_record_info ri = {.content_type = 0,
                                     .version = 0x0002,
                                     .length = (uint32_t)body.len,
                                     .offset = off,
                                     .encrypted = d->v2_encrypted,
                                     .sslv2 = true,
                                     .pkt = t->pkt,
                                     .ts = t->ts};
    if (t->cfg.events.on_record != NULL) {
        t->cfg.events.on_record(t->cfg.events.ud, t->id, dir, &ri);
    }
    if (d->v2_encrypted || body.len == 0) {
        return;
    }
    struct tsc_hs_msg m;
    memset(&m, 0, offsetof(struct tsc_hs_msg, u));
    m.type = body.p[0];
    m.sslv2 = true;
    m.length = (uint32_t)(body.len - 1);
    m.body.p = body.p + 1;
    m.body.len = body.len - 1;
    m.record_version = 0x0002;
    m.offset = off;
    tsc_tls_ctx_fill(t, dir, &m.ctx);
    tsc_tls_hs_type_add(t, dir, m.type);
    if (df->n_sslv2_types < sizeof(df->sslv2_types)) {
        df->sslv2_types[df->n_sslv2_types++] = m.type;
    }
    enum tsc_err e = tsc_msg_parse(&m);
    if (e != TSC_OK && e != TSC_ERR_UNSUPPORTED) {
        tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_MALFORMED, true, "SSLv2 message %u: %s", m.type,
                     tsc_err_name(e));
    }
    if (dir == TSC_DIR_C2S) {
        tsc_tls_crypto_v2_hello(t, &m, body); /* RFC 5246 E.2: may start a TLS session */
    }
    if (m.type == TSC_V2_CLIENT_MASTER_KEY) {
        d->v2_encrypted = true;
    } else if (m.type == TSC_V2_SERVER_HELLO) {
        t->f.sslv2 = true;
        d->v2 = true;
        d->v2_encrypted = true;
    }
    tsc_tls_process(t, dir, &m);
    if (t->cfg.events.on_handshake != NULL) {
        t->cfg.events.on_handshake(t->cfg.events.ud, t->id, dir, &m, t->pkt, t->ts);
    }
}
