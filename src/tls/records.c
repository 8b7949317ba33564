/*
 * Record layer, per direction, over the reassembled TCP stream: record
 * framing across any segmentation, content recognition (TLS, SSLv2 or not
 * TLS), resynchronisation after gaps, keyless encryption state and the
 * connection object itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/session.h"
#include "tls/conn.h"
#include "tls/names.h"
#include "tls/stats.h"
#include "x509/x509.h"

#define TSC_TLS_HDR 5
#define TSC_V2_MAX_RECORD 32767u
#define TSC_MAX_RECORD_DEFAULT (16384u + 2048u)
#define TSC_BAD_MAC_REPORTS 16 /* tls-bad-record-mac diagnostics per direction */
#define TSC_RESYNC_RECORDS 8   /* records tried after a gap before giving up on a direction */

static size_t tsc_scan_window_cap(const struct tsc_tls_config *cfg);

void tsc_tls_config_default(struct tsc_tls_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_handshake_msg = 256u * 1024u;
    cfg->max_record_len = TSC_MAX_RECORD_DEFAULT;
}

size_t tsc_tls_conn_bytes(void)
{
    return sizeof(struct tsc_tls_conn);
}

enum tsc_err tsc_tls_conn_new(struct tsc_tls_conn **out, const struct tsc_tls_config *cfg,
                              uint64_t conn_id)
{
    struct tsc_tls_conn *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return TSC_ERR_NOMEM;
    }
    t->cfg = *cfg;
    if (t->cfg.max_record_len == 0) {
        t->cfg.max_record_len = TSC_MAX_RECORD_DEFAULT;
    }
    if (t->cfg.max_handshake_msg == 0) {
        t->cfg.max_handshake_msg = 256u * 1024u;
    }
    t->id = conn_id;
    t->f.version = -1;
    t->f.cipher_suite = -1;
    t->f.early_data = TSC_TRI_NO; /* until a ClientHello offers it */
    for (int d = 0; d < 2; d++) {
        /* Buffers allocate on first use: an idle connection holds no heap memory. */
        size_t rec_cap =
            t->cfg.max_record_len > TSC_V2_MAX_RECORD ? t->cfg.max_record_len : TSC_V2_MAX_RECORD;
        size_t scan_cap = tsc_scan_window_cap(&t->cfg);
        rec_cap += 2 * TSC_TLS_HDR + 16;
        tsc_buf_init(&t->d[d].rec, rec_cap > scan_cap ? rec_cap : scan_cap);
        tsc_buf_init(&t->d[d].hs, (size_t)t->cfg.max_handshake_msg + 4);
    }
    if (tsc_verify_new(t) != TSC_OK) {
        free(t);
        return TSC_ERR_NOMEM;
    }
    *out = t;
    return TSC_OK;
}

static void tsc_hold_give_up(struct tsc_tls_conn *t);

void tsc_tls_conn_free(struct tsc_tls_conn *t)
{
    if (t == NULL) {
        return;
    }
    for (uint32_t i = 0; i < t->f.n_certs; i++) {
        if (t->cfg.certs != NULL && t->f.certs[i] != NULL) {
            tsc_x509_put(t->cfg.certs, t->f.certs[i]);
        }
    }
    for (int d = 0; d < 2; d++) {
        tsc_buf_free(&t->d[d].rec);
        tsc_buf_free(&t->d[d].hs);
    }
    if (t->cfg.hold != NULL) {
        t->cfg.hold->bytes -= t->held.len;
    }
    tsc_buf_free(&t->held);
    tsc_csess_free(t->cs);
    tsc_verify_free(t);
    free(t);
}

void tsc_tls_conn_close(struct tsc_tls_conn *t)
{
    if (t != NULL && !t->closed) {
        if (t->held.len > 0) {
            tsc_hold_give_up(t);
        }
        tsc_tls_crypto_close(t);
        tsc_verify_close(t);
    }
}

const struct tsc_tls_facts *tsc_tls_conn_facts(const struct tsc_tls_conn *t)
{
    return &t->f;
}

void tsc_tls_fail(struct tsc_tls_conn *t, int dir, int64_t off, enum tsc_diag_kind kind,
                  bool sticky, const char *fmt, ...)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    if (sticky) {
        t->f.malformed = true;
        t->f.dir[dir].malformed = true;
        if (d->err_reported) {
            return;
        }
        d->err_reported = true;
    }
    if (t->cfg.sink == NULL) {
        return;
    }
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct tsc_where w = {t->cfg.file, t->pkt, t->id, dir, off};
    tsc_diag(t->cfg.sink, kind, &w, "%s", msg);
}

void tsc_tls_hs_type_add(struct tsc_tls_conn *t, int dir, uint16_t type)
{
    struct tsc_tls_dir_facts *df = &t->f.dir[dir];
    if (df->n_hs_types < TSC_MAX_HS_TYPES) {
        df->hs_types[df->n_hs_types++] = type;
    } else {
        df->hs_types_dropped++;
    }
}

/* ---- record header recognition ---- */

struct tsc_rec_hdr {
    bool sslv2;
    uint8_t type;
    uint16_t version;
    uint32_t hdr_len;
    uint32_t len; /* body length */
};

static bool tsc_tls_version_ok(uint16_t v)
{
    /* Record versions: SSLv3 (0x0300) .. 0x0304; TLS 1.3 records say 0x0301/0x0303. */
    return (v >> 8) == 3 && (v & 0xff) <= 4;
}

/*
 * RFC 5246 6.2.1:
 *   struct {
 *       ContentType type;
 *       ProtocolVersion version;
 *       uint16 length;
 *       opaque fragment[TLSPlaintext.length];
 *   } TLSPlaintext;
 * 6.2.3: TLSCiphertext length MUST NOT exceed 2^14 + 2048 (cfg->max_record_len).
 * strict: content type must be 20..24 (stream start, scanning).
 * Returns TSC_ERR_TRUNCATED when fewer than 5 bytes are given, TSC_ERR_DECODE
 * when the bytes are not a record header.
 */
static enum tsc_err tsc_tls_hdr_parse(const struct tsc_tls_conn *t, const uint8_t *p, size_t n,
                                      bool strict, struct tsc_rec_hdr *h)
{
    struct tsc_cur c = tsc_cur_make(p, n);
    uint16_t len;
    memset(h, 0, sizeof(*h));
    TSC_TRY(tsc_cur_u8(&c, &h->type));
    if (strict && (h->type < 20 || h->type > 24)) {
        return TSC_ERR_DECODE;
    }
    if (c.left >= 1 && c.p[0] != 3) {
        return TSC_ERR_DECODE;
    }
    if (c.left >= 2 && c.p[1] > 4) {
        return TSC_ERR_DECODE;
    }
    TSC_TRY(tsc_cur_u16(&c, &h->version));
    TSC_TRY(tsc_cur_u16(&c, &len));
    TSC_ENSURE(tsc_tls_version_ok(h->version), TSC_ERR_DECODE);
    TSC_ENSURE(len <= t->cfg.max_record_len, TSC_ERR_DECODE);
    h->hdr_len = TSC_TLS_HDR;
    h->len = len;
    return TSC_OK;
}

/*
 * SSLv2 record header (draft-hickman 1.2): high bit set: 2-byte header with a
 * 15-bit length; clear: 3-byte header, 14-bit length (bit 6 is the escape
 * bit) and a padding byte. The padding is inside the length.
 */
static enum tsc_err tsc_v2_hdr_parse(const uint8_t *p, size_t n, struct tsc_rec_hdr *h)
{
    struct tsc_cur c = tsc_cur_make(p, n);
    uint8_t b0;
    uint8_t b1;
    memset(h, 0, sizeof(*h));
    TSC_TRY(tsc_cur_u8(&c, &b0));
    TSC_TRY(tsc_cur_u8(&c, &b1));
    h->sslv2 = true;
    h->version = 0x0002;
    if (b0 & 0x80) {
        h->hdr_len = 2;
        h->len = ((uint32_t)(b0 & 0x7f) << 8) | b1;
    } else {
        uint8_t pad;
        TSC_TRY(tsc_cur_u8(&c, &pad));
        h->hdr_len = 3;
        h->len = ((uint32_t)(b0 & 0x3f) << 8) | b1;
        TSC_ENSURE(pad <= h->len, TSC_ERR_DECODE);
    }
    TSC_ENSURE(h->len >= 1 && h->len <= TSC_V2_MAX_RECORD, TSC_ERR_DECODE);
    return TSC_OK;
}

/* Header at a record boundary in RECORDS state. */
static enum tsc_err tsc_any_hdr_parse(const struct tsc_tls_conn *t, int dir, const uint8_t *p,
                                      size_t n, struct tsc_rec_hdr *h)
{
    const struct tsc_tls_dirst *d = &t->d[dir];
    if (d->v2 && (t->f.sslv2 || n < 1 || p[0] < 20 || p[0] > 24)) {
        return tsc_v2_hdr_parse(p, n, h);
    }
    return tsc_tls_hdr_parse(t, p, n, false, h);
}

/* ---- per-record processing ---- */

static void tsc_alert_record(struct tsc_tls_conn *t, int dir, struct tsc_slice body, bool enc,
                             bool decrypted, int64_t off)
{
    struct tsc_tls_alert_info a = {
        .encrypted = enc, .decrypted = decrypted, .pkt = t->pkt, .ts = t->ts};
    if (enc) {
        t->f.dir[dir].encrypted_alerts++;
        if (t->cfg.events.on_alert != NULL) {
            t->cfg.events.on_alert(t->cfg.events.ud, t->id, dir, &a);
        }
        return;
    }
    /*
     * RFC 5246 7.2: struct { AlertLevel level; AlertDescription description; } Alert;
     * Several alerts in one record are read in pairs (bounded by the record length).
     */
    struct tsc_cur c = tsc_cur_from_slice(body);
    while (c.left >= 2) {
        if (tsc_cur_u8(&c, &a.level) != TSC_OK || tsc_cur_u8(&c, &a.description) != TSC_OK) {
            break;
        }
        if (t->f.n_alerts < TSC_MAX_ALERTS) {
            struct tsc_alert_fact *af = &t->f.alerts[t->f.n_alerts++];
            af->from = (uint8_t)dir;
            af->level = a.level;
            af->description = a.description;
        } else {
            t->f.alerts_dropped++;
        }
        if (t->cfg.events.on_alert != NULL) {
            t->cfg.events.on_alert(t->cfg.events.ud, t->id, dir, &a);
        }
    }
    if (c.left != 0) {
        tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_MALFORMED, false,
                     "alert record of %zu bytes: expected a multiple of 2", body.len);
    }
}

/*
 * RFC 6520 4:
 *   struct {
 *       HeartbeatMessageType type;
 *       uint16 payload_length;
 *       opaque payload[HeartbeatMessage.payload_length];
 *       opaque padding[padding_length];        (at least 16 bytes)
 *   } HeartbeatMessage;
 * "The total length of a HeartbeatMessage MUST NOT exceed 2^14": a
 * payload_length with 1 + 2 + payload_length + 16 beyond the record is the
 * Heartbleed pattern (CVE-2014-0160).
 */
static void tsc_heartbeat_record(struct tsc_tls_conn *t, int dir, struct tsc_slice body,
                                 int64_t off)
{
    struct tsc_cur c = tsc_cur_from_slice(body);
    uint8_t type;
    uint16_t plen;
    if (tsc_cur_u8(&c, &type) != TSC_OK || tsc_cur_u16(&c, &plen) != TSC_OK) {
        tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_MALFORMED, false,
                     "heartbeat record of %zu bytes: expected type and payload_length", body.len);
        return;
    }
    bool overlong = (uint64_t)plen + 1 + 2 + 16 > body.len;
    if (overlong) {
        t->f.dir[dir].heartbleed = true;
        tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_HEARTBLEED, false,
                     "heartbeat payload_length %u in a %zu-byte record", plen, body.len);
    }
    if (t->cfg.events.on_heartbeat != NULL) {
        t->cfg.events.on_heartbeat(t->cfg.events.ud, t->id, dir, type, plen, (uint32_t)body.len,
                                   overlong, t->pkt, t->ts);
    }
}

static void tsc_ccs_record(struct tsc_tls_conn *t, int dir)
{
    if (t->cfg.events.on_ccs != NULL) {
        t->cfg.events.on_ccs(t->cfg.events.ud, t->id, dir, t->pkt, t->ts);
    }
    tsc_verify_ccs(t, dir);
    tsc_tls_process_ccs(t, dir);
    t->d[dir].ccs = true;
    if (t->cs != NULL && !t->tls13) {
        /* RFC 5246 7.1: the sender's next records use the pending keys. */
        tsc_csess_change_cipher_spec(t->cs, dir);
    }
}

/*
 * Should this record go to the crypto session? TLS 1.3 (RFC 8446 5.2):
 * protected records carry the outer type application_data; a CCS, alert or
 * handshake record is plaintext. TLS <= 1.2 (RFC 5246 7.1): every record
 * after the sender's ChangeCipherSpec is protected, CCS included (renegotiation).
 */
static bool tsc_record_protected(struct tsc_tls_conn *t, int dir, uint8_t type)
{
    if (t->d[dir].dec_lost) {
        return false;
    }
    if (t->tls13 || type == 23) {
        return type == 23;
    }
    return t->d[dir].ccs || tsc_csess_protected(t->cs, dir);
}

/*
 * Decrypt a protected record into t->plain. TSC_ERR_UNSUPPORTED (no keys for
 * it) and TSC_ERR_CRYPTO (MAC / tag failure, counted by the session and
 * reported here) leave the record opaque.
 */
static enum tsc_err tsc_record_decrypt(struct tsc_tls_conn *t, int dir, const struct tsc_rec_hdr *h,
                                       struct tsc_slice body, int64_t off, uint8_t *inner)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    enum tsc_err e;
    if (d->dec_resync) {
        /* First records after missing bytes: records lost ~ bytes between / average size. */
        uint64_t between = off > d->dec_end ? (uint64_t)(off - d->dec_end) : 0;
        uint64_t avg = d->dec_rec_count > 0 ? d->dec_rec_bytes / d->dec_rec_count : 0;
        uint64_t est = avg > 0 ? (between + avg / 2) / avg : 0;
        uint64_t skipped = 0;
        e = tsc_csess_decrypt_resync(t->cs, dir, h->type, h->version, body.p, body.len, est,
                                     t->plain, inner, &skipped);
        if (e == TSC_OK) {
            d->dec_resync = false;
            tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_DECRYPT_RESYNC, false,
                         "decryption resumed after missing bytes: %llu records skipped "
                         "(sequence number found by trial)",
                         (unsigned long long)skipped);
        } else {
            if (++d->resync_fails >= TSC_RESYNC_RECORDS) {
                d->dec_resync = false;
                d->dec_lost = true;
                tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_DECRYPT_LOST, false,
                             "no sequence number within %u of the estimate verified %u records "
                             "after the gap: later records of this direction are not decrypted",
                             TSC_RESYNC_TRIALS, TSC_RESYNC_RECORDS);
            }
            return TSC_ERR_UNSUPPORTED; /* opaque, not a bad record */
        }
    } else {
        e = tsc_csess_decrypt(t->cs, dir, h->type, h->version, body.p, body.len, t->plain, inner);
        if (e == TSC_OK && !t->tls13) {
            tsc_tls_crypto_after_decrypt(t, dir, off);
        }
    }
    if (e != TSC_ERR_UNSUPPORTED) {
        d->dec_started = true;
    }
    if (e == TSC_OK) {
        d->dec_end = off + TSC_TLS_HDR + (int64_t)body.len;
        d->dec_rec_bytes += TSC_TLS_HDR + body.len;
        d->dec_rec_count++;
    }
    /* Every failure is counted (bad_records); the first few per direction are reported. */
    if (e == TSC_ERR_CRYPTO && d->bad_mac_reported < TSC_BAD_MAC_REPORTS) {
        d->bad_mac_reported++;
        tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_BAD_RECORD_MAC, false,
                     "record of type %u, %u bytes: MAC / authentication tag check failed; "
                     "skipped%s",
                     h->type, h->len,
                     d->bad_mac_reported == TSC_BAD_MAC_REPORTS
                         ? " (further failures in this direction are only counted)"
                         : "");
    }
    return e;
}

/* The plaintext of a decrypted record, processed by its real content type. */
static void tsc_plain_record(struct tsc_tls_conn *t, int dir, uint8_t type, uint16_t version,
                             struct tsc_slice pt, int64_t off)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    switch (type) {
    case 20:
        tsc_ccs_record(t, dir);
        break;
    case 21:
        tsc_alert_record(t, dir, pt, false, true, off);
        break;
    case 22:
        if (d->hs_garbage) {
            t->f.dir[dir].encrypted_handshake_records++;
        } else {
            tsc_hs_feed(t, dir, pt, version, off + TSC_TLS_HDR);
        }
        break;
    case 23:
        /* Held or rejected 0-RTT is reported later or not at all (session.h). */
        if (tsc_csess_app_record(t->cs, dir, pt.p, pt.len, t->pkt, t->ts) == TSC_APP_COUNTED &&
            t->cfg.events.on_app_data != NULL) {
            t->cfg.events.on_app_data(t->cfg.events.ud, t->id, dir, pt.p, pt.len, t->pkt, t->ts);
        }
        break;
    case 24:
        tsc_heartbeat_record(t, dir, pt, off);
        break;
    default:
        break;
    }
}

/*
 * Handshake messages tiling a record body: known types (not HelloRequest,
 * whose empty body an explicit nonce of zeros imitates), each within the
 * message cap; the last one may continue in the next record.
 */
static bool tsc_hs_plausible(const struct tsc_tls_conn *t, struct tsc_slice body)
{
    struct tsc_cur c = tsc_cur_from_slice(body);
    while (c.left > 0) {
        uint8_t type;
        uint32_t len;
        if (tsc_cur_u8(&c, &type) != TSC_OK || tsc_cur_u24(&c, &len) != TSC_OK) {
            return false;
        }
        if (type == TSC_HS_HELLO_REQUEST || tsc_name_handshake_type(type) == NULL ||
            len > t->cfg.max_handshake_msg) {
            return false;
        }
        if (tsc_cur_skip(&c, len) != TSC_OK) {
            return true; /* continues in the next record */
        }
    }
    return true;
}

/*
 * After a midstream pickup the direction's protection state is unknown until
 * a record decides it: application data means the handshake is over (the
 * sender's later records are protected, as after its ChangeCipherSpec); a
 * handshake record whose body reads as handshake messages, or a 2-byte
 * alert, is plaintext. Undecided records are counted as opaque.
 */
static bool tsc_midstream_opaque(struct tsc_tls_conn *t, int dir, const struct tsc_rec_hdr *h,
                                 struct tsc_slice body)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    if (!d->mid_undecided) {
        return false;
    }
    switch (h->type) {
    case 20:
        d->mid_undecided = false;
        return false;
    case 21:
        return body.len != 2;
    case 22:
        if (tsc_hs_plausible(t, body)) {
            d->mid_undecided = false;
            return false;
        }
        return true;
    case 23:
        d->mid_undecided = false;
        d->ccs = true;
        return true;
    default:
        return false;
    }
}

static void tsc_record_now(struct tsc_tls_conn *t, int dir, const struct tsc_rec_hdr *h,
                           struct tsc_slice body, int64_t off)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    struct tsc_tls_dir_facts *df = &t->f.dir[dir];
    t->f.is_tls = true;
    d->any_record = true;
    if (h->sslv2) {
        tsc_sslv2_record(t, dir, body, off);
        return;
    }
    /*
     * Keyless protection state: TLS <= 1.2 protects everything after CCS
     * (RFC 5246 7.1); in TLS 1.3 protected records all carry the outer type
     * application_data (RFC 8446 5.2), and CCS is only a compatibility no-op.
     */
    /* (The midstream check first: an application_data record decides the direction.) */
    bool enc = tsc_midstream_opaque(t, dir, h, body) || h->type == 23 || (d->ccs && !t->tls13);
    bool dec = false;
    bool auth_failed = false;
    uint8_t inner = h->type;
    if (tsc_tls_crypto_sess(t) != NULL && tsc_record_protected(t, dir, h->type)) {
        enum tsc_err de = tsc_record_decrypt(t, dir, h, body, off, &inner);
        dec = de == TSC_OK;
        auth_failed = de == TSC_ERR_CRYPTO;
        enc = enc || dec;
    }
    if (!dec && d->ccs && !t->tls13 && t->null_mac_len > 0 && body.len >= t->null_mac_len) {
        /* NULL cipher: the fragment is the plaintext followed by its MAC. */
        body.len -= t->null_mac_len;
        enc = false;
    }
    struct tsc_tls_record_info ri = {.content_type = h->type,
                                     .version = h->version,
                                     .length = h->len,
                                     .offset = off,
                                     .encrypted = enc,
                                     .decrypted = dec,
                                     .auth_failed = auth_failed,
                                     .inner_type = inner,
                                     .pkt = t->pkt,
                                     .ts = t->ts};
    /* Records are counted by their wire (outer) type, decrypted or not. */
    if (h->type >= 20 && h->type <= 24) {
        df->records[h->type - 20]++;
    } else {
        df->records_other++;
    }
    if (h->type == 23) {
        df->app_data_bytes += body.len;
    }
    tsc_verify_record(t, dir, &ri);
    if (t->cfg.events.on_record != NULL) {
        t->cfg.events.on_record(t->cfg.events.ud, t->id, dir, &ri);
    }
    if (dec) {
        struct tsc_slice pt = {t->plain->p, t->plain->len};
        tsc_plain_record(t, dir, inner, h->version, pt, off);
        return;
    }
    switch (h->type) {
    case 20:
        tsc_ccs_record(t, dir);
        break;
    case 21:
        tsc_alert_record(t, dir, body, enc, false, off);
        break;
    case 22:
        /* After lost handshake framing the records cannot be read (counted as opaque). */
        if (enc || d->hs_garbage) {
            df->encrypted_handshake_records++;
        } else {
            tsc_hs_feed(t, dir, body, h->version, off + TSC_TLS_HDR);
        }
        break;
    case 24:
        if (!enc && !t->tls13) {
            tsc_heartbeat_record(t, dir, body, off);
        }
        break;
    default:
        break;
    }
}

/* ---- records held for late keys (cfg.hold) ---- */

/* Header of one held record in t->held; the body follows it. */
struct tsc_held {
    struct tsc_rec_hdr h;
    int64_t off;
    uint64_t pkt;
    struct tsc_ts ts;
    int32_t dir;
};

static bool tsc_awaits_keys(struct tsc_tls_conn *t, int dir, uint8_t type)
{
    return t->cs != NULL && tsc_record_protected(t, dir, type) &&
           tsc_csess_awaiting_keys(t->cs, dir);
}

static void tsc_dir_end(struct tsc_tls_conn *t, int dir);

/*
 * Process held records in order, stopping at one that still waits for keys
 * (unless force). Ends of directions that came behind them follow once the
 * queue is empty.
 */
static void tsc_release_held(struct tsc_tls_conn *t, bool force)
{
    struct tsc_tls_hold *hold = t->cfg.hold;
    uint64_t pkt = t->pkt;
    struct tsc_ts ts = t->ts;
    size_t pos = 0;
    t->releasing = true;
    /* Each pass consumes one entry: bounded by the held bytes. */
    while (pos + sizeof(struct tsc_held) <= t->held.len) {
        struct tsc_held e;
        memcpy(&e, t->held.p + pos, sizeof(e));
        bool waits = tsc_awaits_keys(t, e.dir, e.h.type);
        if (waits && !force && !tsc_csess_retry_keys(t->cs)) {
            break; /* (the retry: keys may be there for the next stage already) */
        }
        if (waits && force) {
            hold->dropped_records++;
        }
        struct tsc_slice body = {t->held.p + pos + sizeof(e), e.h.len};
        t->pkt = e.pkt;
        t->ts = e.ts;
        tsc_record_now(t, e.dir, &e.h, body, e.off);
        pos += sizeof(e) + e.h.len;
    }
    t->releasing = false;
    t->pkt = pkt;
    t->ts = ts;
    hold->bytes -= pos;
    memmove(t->held.p, t->held.p + pos, t->held.len - pos);
    t->held.len -= pos;
    if (t->held.len > 0) {
        struct tsc_held first;
        memcpy(&first, t->held.p, sizeof(first));
        t->held_since = first.ts;
        return;
    }
    tsc_buf_free(&t->held);
    for (int d = 0; d < 2; d++) {
        if (t->end_pending[d]) {
            t->end_pending[d] = false;
            tsc_dir_end(t, d);
        }
    }
}

/* Give up holding on this connection: what is held goes through without keys. */
static void tsc_hold_give_up(struct tsc_tls_conn *t)
{
    t->hold_gave_up = true;
    if (t->held.len > 0) {
        tsc_release_held(t, true);
    }
}

/* Is this record held (copied aside) instead of processed now? */
static bool tsc_hold_record(struct tsc_tls_conn *t, int dir, const struct tsc_rec_hdr *h,
                            struct tsc_slice body, int64_t off)
{
    struct tsc_tls_hold *hold = t->cfg.hold;
    if (hold == NULL || t->releasing || t->hold_gave_up || h->sslv2) {
        return false;
    }
    if (t->held.len == 0) {
        /* Keys added since the handshake looked them up count at once. */
        if (tsc_tls_crypto_sess(t) == NULL || !tsc_awaits_keys(t, dir, h->type) ||
            tsc_csess_retry_keys(t->cs)) {
            return false;
        }
        t->held_since = t->ts;
    } else if (t->ts.sec - t->held_since.sec > (int64_t)hold->timeout_s) {
        tsc_hold_give_up(t);
        return false;
    }
    size_t need = sizeof(struct tsc_held) + body.len;
    if (t->held.len + need > hold->max_conn_bytes || hold->bytes + need > hold->max_bytes) {
        tsc_hold_give_up(t);
        return false;
    }
    if (t->held.limit == 0) {
        tsc_buf_init(&t->held, hold->max_conn_bytes);
    }
    struct tsc_held e;
    memset(&e, 0, sizeof(e));
    e.h = *h;
    e.h.len = (uint32_t)body.len;
    e.off = off;
    e.pkt = t->pkt;
    e.ts = t->ts;
    e.dir = dir;
    /* One reservation for header and body: both appends then succeed. */
    if (tsc_buf_reserve(&t->held, need) != TSC_OK ||
        tsc_buf_append(&t->held, &e, sizeof(e)) != TSC_OK ||
        tsc_buf_append(&t->held, body.p, body.len) != TSC_OK) {
        tsc_hold_give_up(t);
        return false;
    }
    hold->bytes += need;
    if (hold->bytes > hold->peak_bytes) {
        hold->peak_bytes = hold->bytes;
    }
    hold->held_records++;
    return true;
}

static void tsc_record(struct tsc_tls_conn *t, int dir, const struct tsc_rec_hdr *h,
                       struct tsc_slice body, int64_t off)
{
    if (!tsc_hold_record(t, dir, h, body, off)) {
        tsc_record_now(t, dir, h, body, off);
    }
}

bool tsc_tls_conn_holding(const struct tsc_tls_conn *t)
{
    return t != NULL && t->held.len > 0;
}

struct tsc_ts tsc_tls_conn_held_since(const struct tsc_tls_conn *t)
{
    return t->held_since;
}

bool tsc_tls_conn_retry_keys(struct tsc_tls_conn *t, bool force)
{
    if (t == NULL || t->held.len == 0) {
        return false;
    }
    if (force) {
        tsc_hold_give_up(t);
        return false;
    }
    tsc_release_held(t, false);
    return t->held.len > 0;
}

/* ---- framing loop ---- */

static void tsc_framing_error(struct tsc_tls_conn *t, int dir, int64_t off, const uint8_t *p,
                              size_t n)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    char hex[11] = "";
    tsc_hex(p, n < 5 ? n : 5, hex);
    tsc_tls_fail(t, dir, off, TSC_DIAG_TLS_MALFORMED, true, "expected a record header, got %s",
                 hex);
    d->state = TSC_DS_DEAD;
    tsc_buf_reset(&d->rec);
    tsc_hs_reset(d);
}

static void tsc_records_feed(struct tsc_tls_conn *t, int dir, const uint8_t *p, size_t n)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    struct tsc_cur in = tsc_cur_make(p, n);
    struct tsc_rec_hdr h;
    /* Each pass consumes at least one byte or leaves the loop. */
    while (in.left > 0 && d->state == TSC_DS_RECORDS) {
        if (d->rec.len > 0) {
            enum tsc_err e = tsc_any_hdr_parse(t, dir, d->rec.p, d->rec.len, &h);
            size_t want;
            if (e == TSC_ERR_TRUNCATED) {
                want = 1; /* header still incomplete: one byte at a time (at most 4) */
            } else if (e != TSC_OK) {
                tsc_framing_error(t, dir, d->rec_off, d->rec.p, d->rec.len);
                return;
            } else {
                want = h.hdr_len + h.len - d->rec.len;
            }
            size_t take = want < in.left ? want : in.left;
            struct tsc_slice s;
            if (tsc_cur_bytes(&in, take, &s) != TSC_OK ||
                tsc_buf_append(&d->rec, s.p, s.len) != TSC_OK) {
                tsc_tls_fail(t, dir, d->off, TSC_DIAG_TLS_LIMIT, true, "record buffer");
                d->state = TSC_DS_DEAD;
                return;
            }
            d->off += (int64_t)take;
            if (e == TSC_OK && d->rec.len == h.hdr_len + h.len) {
                struct tsc_slice body = {d->rec.p + h.hdr_len, h.len};
                tsc_record(t, dir, &h, body, d->rec_off);
                tsc_buf_reset(&d->rec);
            }
            continue;
        }
        d->rec_off = d->off;
        enum tsc_err e = tsc_any_hdr_parse(t, dir, in.p, in.left, &h);
        if (e == TSC_OK && h.len <= in.left - h.hdr_len) {
            /* Whole record in place: no copy. */
            struct tsc_slice rec;
            if (tsc_cur_bytes(&in, h.hdr_len + h.len, &rec) != TSC_OK) {
                break;
            }
            d->off += (int64_t)rec.len;
            struct tsc_slice body = {rec.p + h.hdr_len, h.len};
            tsc_record(t, dir, &h, body, d->rec_off);
            continue;
        }
        if (e != TSC_OK && e != TSC_ERR_TRUNCATED) {
            tsc_framing_error(t, dir, d->off, in.p, in.left);
            return;
        }
        /* Partial header or record: buffer only this record (bounded by the length cap). */
        if (tsc_buf_append(&d->rec, in.p, in.left) != TSC_OK) {
            tsc_tls_fail(t, dir, d->off, TSC_DIAG_TLS_LIMIT, true, "record buffer");
            d->state = TSC_DS_DEAD;
            return;
        }
        d->off += (int64_t)in.left;
        in.left = 0;
    }
}

/*
 * Resynchronisation (after a gap, or a midstream pickup) accepts a position
 * only when TSC_SCAN_CHAIN consecutive record headers chain from it: each one
 * strict (type 20..24, version 3.0..3.4, length <= max_record_len), the
 * first one non-empty, and each next header exactly after the previous
 * record. A single 5-byte position of random ciphertext passes the strict
 * test with a probability of about 5/256 * 1/256 * 5/256 * 0.28 ~ 1e-6, so a
 * 16 KiB record holds a false candidate about once in 60 records; two
 * chained headers bring that to ~1e-8 per record, three to ~1e-14, which
 * is the margin wanted before committing a whole direction to a framing.
 * Three headers need at most two whole records plus a header in the scan
 * window (the window is sized for that).
 */
#define TSC_SCAN_CHAIN 3

enum tsc_scan_res {
    TSC_SCAN_NO = 0, /* not a record start */
    TSC_SCAN_MORE,   /* plausible so far: decide when more bytes are there */
    TSC_SCAN_YES,
};

/*
 * at_end: no more bytes will come (end of stream, or a gap follows): a
 * chain that reaches the end of the bytes is enough when it has at least two
 * headers or its last record ends exactly there.
 */
static enum tsc_scan_res tsc_scan_chain(const struct tsc_tls_conn *t, const uint8_t *p, size_t n,
                                        bool at_end)
{
    struct tsc_cur c = tsc_cur_make(p, n);
    unsigned k = 0;
    while (k < TSC_SCAN_CHAIN) {
        struct tsc_rec_hdr h;
        enum tsc_err e = tsc_tls_hdr_parse(t, c.p, c.left, true, &h);
        if (e == TSC_ERR_TRUNCATED) {
            if (k == 0) {
                return TSC_SCAN_NO;
            }
            if (at_end) {
                return (k >= 2 || c.left == 0) ? TSC_SCAN_YES : TSC_SCAN_NO;
            }
            return TSC_SCAN_MORE;
        }
        if (e != TSC_OK || (k == 0 && h.len == 0)) {
            return TSC_SCAN_NO;
        }
        if (++k == TSC_SCAN_CHAIN) {
            break; /* the last header's record need not be complete */
        }
        if (tsc_cur_skip(&c, TSC_TLS_HDR) != TSC_OK || tsc_cur_skip(&c, h.len) != TSC_OK) {
            /* Record body incomplete. */
            if (at_end) {
                return k >= 2 ? TSC_SCAN_YES : TSC_SCAN_NO;
            }
            return TSC_SCAN_MORE;
        }
    }
    return TSC_SCAN_YES;
}

/*
 * Plausible record start for scanning. In a resync: the header chain above.
 * Outside a resync (non-TLS prefix such as an unrecognised cleartext
 * dialogue) only a handshake record starting a hello or a 2-byte alert is
 * accepted, validated by the next header when its bytes are present.
 */
static enum tsc_scan_res tsc_scan_at(const struct tsc_tls_conn *t, const uint8_t *p, size_t n,
                                     bool resync, bool at_end)
{
    struct tsc_rec_hdr h;
    struct tsc_rec_hdr h2;
    if (resync) {
        return tsc_scan_chain(t, p, n, at_end);
    }
    if (tsc_tls_hdr_parse(t, p, n, true, &h) != TSC_OK) {
        return TSC_SCAN_NO;
    }
    if (h.type == 22) {
        if (h.len < 4 || (n > 5 && p[5] != 1 && p[5] != 2)) {
            return TSC_SCAN_NO;
        }
    } else if (h.type != 21 || h.len != 2) {
        return TSC_SCAN_NO;
    }
    size_t next = TSC_TLS_HDR + h.len;
    if (n >= next + TSC_TLS_HDR && tsc_tls_hdr_parse(t, p + next, n - next, true, &h2) != TSC_OK) {
        return TSC_SCAN_NO;
    }
    return TSC_SCAN_YES;
}

static void tsc_dir_feed(struct tsc_tls_conn *t, int dir, const uint8_t *p, size_t n);

/* Bytes the scan window holds: two whole records and a header (TSC_SCAN_CHAIN). */
static size_t tsc_scan_window_cap(const struct tsc_tls_config *cfg)
{
    return 2 * ((size_t)cfg->max_record_len + TSC_TLS_HDR) + TSC_TLS_HDR;
}

/*
 * Looks for a record start in the scan window (d->rec). Found: the window is
 * handed to the record framing from there and true is returned. Else the
 * bytes that cannot start a record are dropped (counted) and false returned.
 */
static bool tsc_scan_window(struct tsc_tls_conn *t, int dir, bool at_end)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    size_t len = d->rec.len;
    size_t found = len;
    size_t keep = len > TSC_TLS_HDR - 1 ? len - (TSC_TLS_HDR - 1) : 0; /* a header may start there */
    for (size_t i = 0; i + TSC_TLS_HDR <= len; i++) {
        enum tsc_scan_res r = tsc_scan_at(t, d->rec.p + i, len - i, d->scan_resync, at_end);
        if (r == TSC_SCAN_YES) {
            found = i;
            break;
        }
        if (r == TSC_SCAN_MORE) {
            keep = i;
            break;
        }
    }
    if (found == len) {
        size_t drop = at_end ? len : keep;
        d->scan_skipped += drop;
        if (!d->scan_resync) {
            t->f.dir[dir].non_tls_prefix_bytes += drop;
        }
        tsc_buf_consume(&d->rec, drop);
        return false;
    }
    d->scan_skipped += found;
    int64_t at = d->off - (int64_t)(len - found);
    if (d->scan_resync && d->midstream) {
        t->f.partial = true;
        t->f.dir[dir].picked_up = true;
        d->mid_undecided = true;
        t->f.dir[dir].pickup_offset = (uint64_t)at;
        tsc_tls_fail(t, dir, at, TSC_DIAG_TLS_MIDSTREAM, false,
                     "start of the stream not captured: picked up at offset %lld after "
                     "skipping %llu bytes (%s)",
                     (long long)at, (unsigned long long)d->scan_skipped,
                     at_end ? "record headers chained to the end of the data"
                            : "3 consecutive record headers");
    } else if (d->scan_resync) {
        tsc_tls_fail(t, dir, at, TSC_DIAG_TLS_RESYNC, false,
                     "resynchronised on a record header at offset %lld after skipping %llu "
                     "bytes",
                     (long long)at, (unsigned long long)d->scan_skipped);
    } else {
        t->f.dir[dir].non_tls_prefix_bytes += found;
    }
    d->midstream = false;
    /* Re-feed the window from the header on through the record framing. */
    struct tsc_buf w = d->rec;
    tsc_buf_init(&d->rec, w.limit);
    d->state = TSC_DS_RECORDS;
    d->off = at;
    d->scan_skipped = 0;
    tsc_records_feed(t, dir, w.p + found, len - found);
    tsc_buf_free(&w);
    return true;
}

static void tsc_scan_feed(struct tsc_tls_conn *t, int dir, const uint8_t *p, size_t n)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    size_t window = tsc_scan_window_cap(&t->cfg);
    while (n > 0 && d->state == TSC_DS_SCAN) {
        size_t room = window - d->rec.len;
        if (room == 0) {
            /* Cannot happen (a full window always decides); never loop without progress. */
            tsc_buf_consume(&d->rec, 1);
            d->scan_skipped++;
            continue;
        }
        size_t take = n < room ? n : room;
        if (tsc_buf_append(&d->rec, p, take) != TSC_OK) {
            tsc_tls_fail(t, dir, d->off, TSC_DIAG_TLS_LIMIT, true, "scan buffer");
            d->state = TSC_DS_DEAD;
            return;
        }
        p += take;
        n -= take;
        d->off += (int64_t)take;
        if (tsc_scan_window(t, dir, false)) {
            if (n > 0) {
                tsc_dir_feed(t, dir, p, n);
            }
            return;
        }
    }
}

/* A handshake record starting a ClientHello or ServerHello/HRR (needs 6 bytes). */
static bool tsc_hello_record_start(const uint8_t *p, size_t n)
{
    return n >= 6 && p[0] == 22 && (p[5] == TSC_HS_CLIENT_HELLO || p[5] == TSC_HS_SERVER_HELLO);
}

/*
 * First bytes of a direction: TLS record, SSLv2 hello, or not TLS. When the
 * connection's start was not captured (midstream), only a hello record or an
 * SSLv2 hello starts the framing at once; anything else is scanned for a
 * chain of record headers (TSC_SCAN_CHAIN), the resync used after gaps.
 */
static void tsc_start_feed(struct tsc_tls_conn *t, int dir, const uint8_t *p, size_t n)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    const uint8_t *q = p;
    size_t qn = n;
    size_t need = t->midstream ? TSC_TLS_HDR + 1 : TSC_TLS_HDR;
    uint8_t head[TSC_TLS_HDR + 1];
    if (d->rec.len > 0) {
        /* Fewer than `need` bytes were held back: decide on them plus the new ones. */
        size_t have = d->rec.len;
        size_t add = need - have < n ? need - have : n;
        memcpy(head, d->rec.p, have);
        memcpy(head + have, p, add);
        q = head;
        qn = have + add;
    }
    if (qn < need) {
        if (tsc_buf_append(&d->rec, p, n) == TSC_OK) {
            d->off += (int64_t)n;
        }
        return;
    }
    struct tsc_rec_hdr h;
    uint8_t v2type;
    enum tsc_dir_state next;
    if (tsc_tls_hdr_parse(t, q, qn, true, &h) == TSC_OK &&
        (!t->midstream || tsc_hello_record_start(q, qn))) {
        next = TSC_DS_RECORDS;
    } else if (tsc_sslv2_hello_start(q, qn, &v2type)) {
        next = TSC_DS_RECORDS;
        d->v2 = true;
    } else if (t->midstream) {
        next = TSC_DS_SCAN;
        d->scan_resync = true;
        d->midstream = true;
        d->scan_skipped = 0;
    } else {
        next = TSC_DS_SCAN;
        d->scan_resync = false;
        if (!d->not_tls_reported) {
            d->not_tls_reported = true;
            char hex[11];
            tsc_hex(q, TSC_TLS_HDR, hex);
            tsc_tls_fail(t, dir, 0, TSC_DIAG_TLS_NOT_TLS, false,
                         "expected a TLS record header or SSLv2 hello, got %s", hex);
        }
    }
    /* Replay the held-back bytes with the new ones through the chosen state. */
    struct tsc_buf held = d->rec;
    tsc_buf_init(&d->rec, held.limit);
    d->off -= (int64_t)held.len;
    d->state = (uint8_t)next;
    if (held.len > 0) {
        tsc_dir_feed(t, dir, held.p, held.len);
    }
    tsc_buf_free(&held);
    tsc_dir_feed(t, dir, p, n);
}

static void tsc_dir_feed(struct tsc_tls_conn *t, int dir, const uint8_t *p, size_t n)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    switch (d->state) {
    case TSC_DS_START:
        tsc_start_feed(t, dir, p, n);
        break;
    case TSC_DS_RECORDS:
        tsc_records_feed(t, dir, p, n);
        break;
    case TSC_DS_SCAN:
        tsc_scan_feed(t, dir, p, n);
        break;
    default:
        d->off += (int64_t)n;
        break;
    }
}

static bool tsc_starts_client_hello(const uint8_t *p, size_t n)
{
    uint8_t v2type;
    if (n >= 6 && p[0] == 22 && p[1] == 3 && p[2] <= 4 && p[5] == TSC_HS_CLIENT_HELLO) {
        return true;
    }
    return tsc_sslv2_hello_start(p, n, &v2type) && v2type == TSC_V2_CLIENT_HELLO;
}

void tsc_tls_conn_data(struct tsc_tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t pkt,
                       struct tsc_ts ts, bool *swap_roles)
{
    if (swap_roles != NULL) {
        *swap_roles = false;
    }
    if (t == NULL || dir < 0 || dir > 1 || n == 0) {
        return;
    }
    t->pkt = pkt;
    t->ts = ts;
    if (swap_roles != NULL && dir == TSC_DIR_S2C && t->d[0].off == 0 && t->d[1].off == 0 &&
        tsc_starts_client_hello(p, n)) {
        *swap_roles = true;
        return;
    }
    tsc_dir_feed(t, dir, p, n);
}

void tsc_tls_conn_prefix(struct tsc_tls_conn *t, int dir, uint64_t n)
{
    if (t == NULL || dir < 0 || dir > 1) {
        return;
    }
    t->f.dir[dir].non_tls_prefix_bytes += n;
    t->d[dir].off += (int64_t)n;
}

void tsc_tls_conn_gap(struct tsc_tls_conn *t, int dir, uint64_t len, uint64_t pkt, struct tsc_ts ts)
{
    if (t == NULL || dir < 0 || dir > 1) {
        return;
    }
    if (t->held.len > 0) {
        /* Held records cannot wait across lost bytes: they go through now. */
        tsc_hold_give_up(t);
    }
    struct tsc_tls_dirst *d = &t->d[dir];
    t->pkt = pkt;
    t->ts = ts;
    if (d->state == TSC_DS_START && d->off == 0) {
        /* The direction's first bytes are missing: a midstream pickup. */
        d->midstream = true;
    }
    if (d->state == TSC_DS_SCAN && !d->scan_resync) {
        /* Still in a non-TLS prefix: the gap is part of it. */
        t->f.dir[dir].non_tls_prefix_bytes += len;
        d->off += (int64_t)len;
        return;
    }
    if (d->state == TSC_DS_SCAN && d->scan_resync && d->rec.len > 0) {
        /* The bytes before the gap are all there will be of this chain. */
        (void)tsc_scan_window(t, dir, true);
    }
    d->off += (int64_t)len;
    if (d->dec_started && !d->dec_lost && !d->dec_resync && t->cs != NULL &&
        tsc_csess_can_resync(t->cs, dir)) {
        /*
         * RFC 5246 6.1, RFC 8446 5.3: the sequence number is not on the wire, but
         * with AEAD (or an explicit IV) it is all a record's protection depends
         * on: the next whole record's number is found by trial.
         */
        d->dec_resync = true;
        d->resync_fails = 0;
        tsc_tls_fail(t, dir, d->off, TSC_DIAG_TLS_DECRYPT_RESYNC, false,
                     "%llu bytes missing after decryption started: the next record's sequence "
                     "number is searched",
                     (unsigned long long)len);
    } else if (d->dec_started && !d->dec_lost && !d->dec_resync) {
        /*
         * RC4 key stream, chained CBC IV, DEFLATE state cannot be recovered
         * across missing bytes: this direction's later records stay opaque
         * instead of all failing.
         */
        d->dec_lost = true;
        tsc_tls_fail(t, dir, d->off, TSC_DIAG_TLS_DECRYPT_LOST, false,
                     "%llu bytes missing after decryption started: later records of this "
                     "direction are not decrypted",
                     (unsigned long long)len);
    }
    tsc_buf_reset(&d->rec);
    tsc_hs_reset(d);
    d->hs_garbage = false;
    d->state = TSC_DS_SCAN;
    d->scan_resync = true;
    d->scan_skipped = len;
}

void tsc_tls_conn_end(struct tsc_tls_conn *t, int dir)
{
    if (t == NULL || dir < 0 || dir > 1) {
        return;
    }
    if (t->held.len > 0) {
        t->end_pending[dir] = true; /* after the held records */
        return;
    }
    tsc_dir_end(t, dir);
}

static void tsc_dir_end(struct tsc_tls_conn *t, int dir)
{
    struct tsc_tls_dirst *d = &t->d[dir];
    if (d->state == TSC_DS_SCAN && d->scan_resync && d->rec.len > 0) {
        (void)tsc_scan_window(t, dir, true);
    }
    if (d->state == TSC_DS_RECORDS && d->rec.len > 0) {
        tsc_tls_fail(t, dir, d->rec_off, TSC_DIAG_TLS_TRUNCATED, false,
                     "stream ended inside a record (%zu bytes buffered)", d->rec.len);
    } else if (d->state == TSC_DS_START && d->rec.len > 0) {
        t->f.dir[dir].non_tls_prefix_bytes += d->rec.len;
    } else if (d->state == TSC_DS_SCAN && !d->scan_resync) {
        t->f.dir[dir].non_tls_prefix_bytes += d->rec.len;
    }
    if (d->hs.len > 0 || d->skip_left > 0) {
        tsc_tls_fail(t, dir, d->hs_off, TSC_DIAG_TLS_TRUNCATED, false,
                     "stream ended inside a handshake message");
    }
    tsc_buf_free(&d->rec);
    tsc_hs_reset(d);
    tsc_buf_free(&d->hs);
    d->state = TSC_DS_DEAD;
}

void tsc_tls_conn_set_midstream(struct tsc_tls_conn *t)
{
    if (t != NULL) {
        t->midstream = true;
    }
}

uint64_t tsc_tls_conn_sslv2_records(const struct tsc_tls_conn *t, int dir)
{
    return t->d[dir & 1].sslv2_records;
}
