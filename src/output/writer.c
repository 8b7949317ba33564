#include "output/writer_impl.h"
#include "tls/msg.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls/fingerprint.h"

#define WRITER_FLUSH_AT (64 * 1024)

int tsc_writer_new(struct tsc_writer **out, const struct tsc_config *cfg)
{
    struct tsc_writer *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return -1;
    }
    w->format = cfg->format;
    w->verbosity = cfg->verbosity;
    w->summary_only = cfg->summary_only;
    w->show_app_data = cfg->show_app_data;
    w->out = cfg->out != NULL ? cfg->out : stdout;
    w->cb = cfg->on_event;
    w->cb_ud = cfg->event_ud;
    w->cb_mask = cfg->event_mask != 0 ? cfg->event_mask : TSC_EV_ALL;
    tsc_buf_init(&w->cbbuf, 0);
    /* Output is produced by us, not the wire; no cap beyond memory. */
    tsc_buf_init(&w->buf, 0);
    tsc_buf_init(&w->fp_raw, 0);
    /* Hello events get fingerprints wherever they are rendered (stream or callback). */
    if ((!w->summary_only || w->cb != NULL) && tsc_fp_ctx_new(&w->fp) != TSC_OK) {
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void tsc_writer_hold(struct tsc_writer *w)
{
    w->held = true;
}

size_t tsc_writer_held_bytes(const struct tsc_writer *w)
{
    return w->held ? w->buf.len : 0;
}

void tsc_writer_prefix_begin(struct tsc_writer *w)
{
    if (!w->held || w->have_saved) {
        return;
    }
    w->saved = w->buf;
    w->have_saved = true;
    tsc_buf_init(&w->buf, 0);
}

void tsc_writer_release(struct tsc_writer *w)
{
    if (w->have_saved) {
        /* The prefix, then the held events: written as they are, no copy. */
        if (w->buf.len > 0) {
            fwrite(w->buf.p, 1, w->buf.len, w->out);
            tsc_buf_reset(&w->buf);
        }
        if (w->saved.len > 0) {
            fwrite(w->saved.p, 1, w->saved.len, w->out);
        }
        tsc_buf_free(&w->saved);
        w->have_saved = false;
    }
    w->held = false;
    tsc_writer_flush(w);
}

void tsc_writer_flush(struct tsc_writer *w)
{
    if (w->held) {
        return;
    }
    if (w->buf.len > 0) {
        fwrite(w->buf.p, 1, w->buf.len, w->out);
        tsc_buf_reset(&w->buf);
    }
    fflush(w->out);
}

void tsc_writer_free(struct tsc_writer *w)
{
    if (w == NULL) {
        return;
    }
    tsc_writer_release(w);
    tsc_buf_free(&w->buf);
    tsc_buf_free(&w->saved);
    tsc_buf_free(&w->cbbuf);
    tsc_buf_free(&w->fp_raw);
    tsc_fp_ctx_free(w->fp);
    for (int i = 0; i < TSC_CERT_JSON_SLOTS; i++) {
        tsc_buf_free(&w->cert_json[i].json);
    }
    free(w);
}

void tsc_writer_set_line_mode(struct tsc_writer *w, bool on)
{
    w->line_mode = on;
    if (on) {
        tsc_writer_flush(w);
    }
}

void tsc_writer_emit(struct tsc_writer *w)
{
    if (w->held) {
        return;
    }
    if (w->line_mode && w->buf.len > 0) {
        tsc_writer_flush(w);
    } else if (w->buf.len >= WRITER_FLUSH_AT) {
        fwrite(w->buf.p, 1, w->buf.len, w->out);
        tsc_buf_reset(&w->buf);
    }
}

/* ---- embedding callback ---- */

bool tsc_writer_cb_wants(const struct tsc_writer *w, enum tsc_event_type t)
{
    return w->cb != NULL && (w->cb_mask & TSC_EV_MASK(t)) != 0;
}


void tsc_writer_cb_conn(struct tsc_conn_info *ci, const struct tsc_out_conn *c)
{
    const struct tsc_tcp_conn *t = c->tcp;
    ci->id = t->id;
    ci->client = t->client;
    ci->server = t->server;
    ci->first_ts = t->first_ts;
    ci->last_ts = t->last_ts;
}

void tsc_writer_cb_init(struct tsc_event *ev, enum tsc_event_type type, const char *name,
                        const struct tsc_conn_info *ci, int dir, uint64_t pkt, struct tsc_ts ts)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->type_name = name;
    ev->conn = ci;
    ev->conn_id = ci != NULL ? ci->id : 0;
    ev->dir = dir;
    ev->pkt = pkt;
    ev->ts = ts;
    ev->level = -1;
    ev->description = -1;
}

/* Hand the event over with the JSON in cbbuf (its newline becomes the terminator). */
void tsc_writer_cb_fire(struct tsc_writer *w, struct tsc_event *ev)
{
    static const char empty[] = "";
    struct tsc_buf *b = &w->cbbuf;
    if (b->len > 0 && b->p[b->len - 1] == '\n') {
        b->p[b->len - 1] = '\0';
        ev->json = (const char *)b->p;
        ev->json_len = b->len - 1;
    } else {
        ev->json = empty; /* rendering failed (out of memory) */
        ev->json_len = 0;
    }
    w->cb(w->cb_ud, ev);
    tsc_buf_reset(b);
}

#define DISPATCH(fn, ...)                                                                          \
    do {                                                                                           \
        if (w->format == TSC_FORMAT_JSONL) {                                                       \
            tsc_jsonl_##fn(__VA_ARGS__);                                                           \
        } else if (w->format == TSC_FORMAT_TEXT) {                                                 \
            tsc_text_##fn(__VA_ARGS__);                                                            \
        } /* ECS: connection summaries only (tsc_writer_connection) */                             \
        tsc_writer_emit(w);                                                                        \
    } while (0)

void tsc_writer_run(struct tsc_writer *w, const struct tsc_run_info *info)
{
    DISPATCH(run, w, info);
    if (tsc_writer_cb_wants(w, TSC_EV_RUN)) {
        struct tsc_event ev;
        tsc_writer_cb_init(&ev, TSC_EV_RUN, "run", NULL, -1, 0, (struct tsc_ts){0, 0});
        TSC_WRITER_CB_JSON(tsc_jsonl_run, w, info);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_record(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                       const struct tsc_tls_record_info *r)
{
    if (!w->summary_only) {
        DISPATCH(record, w, c, dir, r);
    }
    if (tsc_writer_cb_wants(w, TSC_EV_RECORD)) {
        struct tsc_conn_info ci;
        struct tsc_event ev;
        tsc_writer_cb_conn(&ci, c);
        tsc_writer_cb_init(&ev, TSC_EV_RECORD, "record", &ci, dir, r->pkt, r->ts);
        ev.content_type = r->content_type;
        ev.sslv2 = r->sslv2;
        TSC_WRITER_CB_JSON(tsc_jsonl_record, w, c, dir, r);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_handshake(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                          const struct tsc_hs_msg *m, uint64_t pkt, struct tsc_ts ts)
{
    if (!w->summary_only) {
        DISPATCH(handshake, w, c, dir, m, pkt, ts);
    }
    if (tsc_writer_cb_wants(w, TSC_EV_HANDSHAKE)) {
        struct tsc_conn_info ci;
        struct tsc_event ev;
        tsc_writer_cb_conn(&ci, c);
        tsc_writer_cb_init(&ev, TSC_EV_HANDSHAKE, "handshake", &ci, dir, pkt, ts);
        ev.msg_type = m->type;
        ev.sslv2 = m->sslv2;
        TSC_WRITER_CB_JSON(tsc_jsonl_handshake, w, c, dir, m, pkt, ts);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_alert(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                      const struct tsc_tls_alert_info *a)
{
    if (!w->summary_only) {
        DISPATCH(alert, w, c, dir, a);
    }
    if (tsc_writer_cb_wants(w, TSC_EV_ALERT)) {
        struct tsc_conn_info ci;
        struct tsc_event ev;
        tsc_writer_cb_conn(&ci, c);
        tsc_writer_cb_init(&ev, TSC_EV_ALERT, "alert", &ci, dir, a->pkt, a->ts);
        if (!a->encrypted) {
            ev.level = a->level;
            ev.description = a->description;
        }
        TSC_WRITER_CB_JSON(tsc_jsonl_alert, w, c, dir, a);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_ccs(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint64_t pkt,
                    struct tsc_ts ts)
{
    /* Text output shows CCS as its record line already. */
    if (!w->summary_only && w->format == TSC_FORMAT_JSONL) {
        tsc_jsonl_simple(w, c, dir, "change_cipher_spec", pkt, ts);
        tsc_writer_emit(w);
    }
    if (tsc_writer_cb_wants(w, TSC_EV_CCS)) {
        struct tsc_conn_info ci;
        struct tsc_event ev;
        tsc_writer_cb_conn(&ci, c);
        tsc_writer_cb_init(&ev, TSC_EV_CCS, "change_cipher_spec", &ci, dir, pkt, ts);
        TSC_WRITER_CB_JSON(tsc_jsonl_simple, w, c, dir, "change_cipher_spec", pkt, ts);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_heartbeat(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint8_t type,
                          uint16_t payload_length, uint32_t record_len, bool overlong,
                          uint64_t pkt, struct tsc_ts ts)
{
    if (!w->summary_only || overlong) {
        DISPATCH(heartbeat, w, c, dir, type, payload_length, record_len, overlong, pkt, ts);
    }
    if (tsc_writer_cb_wants(w, TSC_EV_HEARTBEAT)) {
        struct tsc_conn_info ci;
        struct tsc_event ev;
        tsc_writer_cb_conn(&ci, c);
        tsc_writer_cb_init(&ev, TSC_EV_HEARTBEAT, "heartbeat", &ci, dir, pkt, ts);
        TSC_WRITER_CB_JSON(tsc_jsonl_heartbeat, w, c, dir, type, payload_length, record_len, overlong, pkt, ts);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_app_data(struct tsc_writer *w, struct tsc_out_conn *c, int dir, const uint8_t *p,
                         size_t n, uint64_t pkt, struct tsc_ts ts)
{
    if (!w->show_app_data) {
        return;
    }
    if (!w->summary_only) {
        DISPATCH(app_data, w, c, dir, p, n, pkt, ts);
    }
    if (tsc_writer_cb_wants(w, TSC_EV_APP_DATA)) {
        struct tsc_conn_info ci;
        struct tsc_event ev;
        tsc_writer_cb_conn(&ci, c);
        tsc_writer_cb_init(&ev, TSC_EV_APP_DATA, "app_data", &ci, dir, pkt, ts);
        ev.data = p;
        ev.data_len = n;
        TSC_WRITER_CB_JSON(tsc_jsonl_app_data, w, c, dir, p, n, pkt, ts);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_gap(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint64_t len,
                    uint64_t pkt, struct tsc_ts ts)
{
    if (!w->summary_only) {
        DISPATCH(gap, w, c, dir, len, pkt, ts);
    }
    if (tsc_writer_cb_wants(w, TSC_EV_GAP)) {
        struct tsc_conn_info ci;
        struct tsc_event ev;
        tsc_writer_cb_conn(&ci, c);
        tsc_writer_cb_init(&ev, TSC_EV_GAP, "gap", &ci, dir, pkt, ts);
        ev.data_len = (size_t)len;
        TSC_WRITER_CB_JSON(tsc_jsonl_gap, w, c, dir, len, pkt, ts);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_diag(struct tsc_writer *w, enum tsc_diag_kind kind, const struct tsc_where *where,
                     const char *msg)
{
    DISPATCH(diag, w, kind, where, msg);
    if (tsc_writer_cb_wants(w, TSC_EV_DIAGNOSTIC)) {
        struct tsc_event ev;
        tsc_writer_cb_init(&ev, TSC_EV_DIAGNOSTIC, "diagnostic", NULL,
                      where != NULL ? where->dir : -1, where != NULL ? where->pkt : 0,
                      (struct tsc_ts){0, 0});
        ev.conn_id = where != NULL && where->conn != TSC_NO_CONN ? where->conn : 0;
        ev.diag_kind = tsc_diag_name(kind);
        ev.message = msg;
        TSC_WRITER_CB_JSON(tsc_jsonl_diag, w, kind, where, msg);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_prelude(struct tsc_writer *w, struct tsc_out_conn *c, enum tsc_prelude_event kind,
                        uint64_t pkt, struct tsc_ts ts)
{
    if (c->prelude == NULL) {
        return;
    }
    DISPATCH(prelude, w, c, kind, pkt, ts);
    if (tsc_writer_cb_wants(w, TSC_EV_PRELUDE)) {
        struct tsc_conn_info ci;
        struct tsc_event ev;
        tsc_writer_cb_conn(&ci, c);
        tsc_writer_cb_init(&ev, TSC_EV_PRELUDE,
                           kind == TSC_PRELUDE_EV_TUNNEL ? "tunnel" : "starttls", &ci, -1, pkt,
                           ts);
        ev.prelude = c->prelude;
        TSC_WRITER_CB_JSON(tsc_jsonl_prelude, w, c, kind, pkt, ts);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_connection(struct tsc_writer *w, struct tsc_out_conn *c,
                           const struct tsc_tls_facts *f, enum tsc_tcp_end_reason why)
{
    if (w->format == TSC_FORMAT_ECS) {
        tsc_ecs_connection(w, c, f, why);
        tsc_writer_emit(w);
    } else {
        DISPATCH(connection, w, c, f, why);
    }
    if (tsc_writer_cb_wants(w, TSC_EV_CONNECTION)) {
        struct tsc_conn_info ci;
        struct tsc_event ev;
        tsc_writer_cb_conn(&ci, c);
        tsc_writer_cb_init(&ev, TSC_EV_CONNECTION, "connection", &ci, -1, 0, c->tcp->last_ts);
        ev.facts = f;
        TSC_WRITER_CB_JSON(tsc_jsonl_connection, w, c, f, why);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_stats(struct tsc_writer *w, const struct tsc_run_stats *st)
{
    DISPATCH(stats, w, st);
    tsc_writer_flush(w);
    if (tsc_writer_cb_wants(w, TSC_EV_STATS)) {
        struct tsc_event ev;
        tsc_writer_cb_init(&ev, TSC_EV_STATS, "stats", NULL, -1, 0, (struct tsc_ts){0, 0});
        TSC_WRITER_CB_JSON(tsc_jsonl_stats, w, st);
        tsc_writer_cb_fire(w, &ev);
    }
}

/* ---- formatting helpers ---- */

void tsc_fmt_ip(const struct tsc_endpoint *e, char *out, size_t outlen)
{
    if (e->family == 6) {
        /* RFC 5952 text form through inet_ntop semantics, written by hand to
         * avoid a dependency on <arpa/inet.h> in the output layer. */
        uint16_t g[8];
        for (int i = 0; i < 8; i++) {
            g[i] = (uint16_t)((e->addr[2 * i] << 8) | e->addr[2 * i + 1]);
        }
        int best = -1, bestlen = 0;
        for (int i = 0; i < 8;) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestlen && j - i >= 2) {
                best = i;
                bestlen = j - i;
            }
            i = j;
        }
        size_t pos = 0;
        out[0] = '\0';
        for (int i = 0; i < 8; i++) {
            if (i == best) {
                pos += (size_t)snprintf(out + pos, pos < outlen ? outlen - pos : 0, "::");
                i += bestlen - 1;
                continue;
            }
            bool after_gap = (best >= 0 && i == best + bestlen);
            pos += (size_t)snprintf(out + pos, pos < outlen ? outlen - pos : 0, "%s%x",
                                    (i == 0 || after_gap) ? "" : ":", g[i]);
        }
        return;
    }
    /* Dotted quad by hand (this runs twice for every connection summary),
     * cut to outlen like snprintf would. */
    char tmp[16];
    char *o = tmp;
    for (int i = 0; i < 4; i++) {
        unsigned v = e->addr[i];
        if (v >= 100) {
            *o++ = (char)('0' + v / 100);
            v %= 100;
            *o++ = (char)('0' + v / 10);
        } else if (v >= 10) {
            *o++ = (char)('0' + v / 10);
        }
        *o++ = (char)('0' + v % 10);
        if (i < 3) {
            *o++ = '.';
        }
    }
    if (outlen == 0) {
        return;
    }
    size_t n = (size_t)(o - tmp);
    if (n > outlen - 1) {
        n = outlen - 1;
    }
    memcpy(out, tmp, n);
    out[n] = '\0';
}

/* n decimal digits of v, zero-padded, at out. */
static void put_padded(char *out, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

size_t tsc_fmt_ts(struct tsc_ts ts, char *out, size_t outlen)
{
    if (ts.sec >= 0 && ts.nsec < 1000000000u && outlen >= 31) {
        char tmp[24];
        char *end = tmp + sizeof(tmp);
        char *p = end;
        uint64_t v = (uint64_t)ts.sec;
        do {
            *--p = (char)('0' + v % 10);
            v /= 10;
        } while (v != 0);
        size_t n = (size_t)(end - p);
        memcpy(out, p, n);
        out[n] = '.';
        put_padded(out + n + 1, ts.nsec, 9);
        out[n + 10] = '\0';
        return n + 10;
    }
    int n = snprintf(out, outlen, "%" PRId64 ".%09u", ts.sec, (unsigned)ts.nsec);
    return n < 0 ? 0 : (size_t)n < outlen ? (size_t)n : outlen - 1;
}

/* 9999-12-31T23:59:59Z + 1 s: the last second with a four-digit year. */
#define TSC_TIME_FAST_END 253402300800ll

void tsc_fmt_time(struct tsc_ts ts, char *out, size_t outlen)
{
    if (ts.sec >= 0 && ts.sec < TSC_TIME_FAST_END && ts.nsec < 1000000000u && outlen >= 31) {
        /* Proleptic Gregorian calendar from the day count (the days-to-civil
         * algorithm of H. Hinnant, for days since 1970-01-01 >= 0), as gmtime_r
         * gives it, without its locking. */
        int64_t days = ts.sec / 86400;
        unsigned rem = (unsigned)(ts.sec % 86400);
        int64_t z = days + 719468;
        int64_t era = z / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned day = doy - (153 * mp + 2) / 5 + 1;
        unsigned month = mp < 10 ? mp + 3 : mp - 9;
        unsigned year = (unsigned)(yoe + era * 400) + (month <= 2);
        put_padded(out, year, 4);
        out[4] = '-';
        put_padded(out + 5, month, 2);
        out[7] = '-';
        put_padded(out + 8, day, 2);
        out[10] = 'T';
        put_padded(out + 11, rem / 3600, 2);
        out[13] = ':';
        put_padded(out + 14, rem / 60 % 60, 2);
        out[16] = ':';
        put_padded(out + 17, rem % 60, 2);
        out[19] = '.';
        put_padded(out + 20, ts.nsec, 9);
        out[29] = 'Z';
        out[30] = '\0';
        return;
    }
    time_t t = (time_t)ts.sec;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, outlen, "invalid");
        return;
    }
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)ts.nsec);
}

double tsc_ts_to_double(struct tsc_ts ts)
{
    return (double)ts.sec + (double)ts.nsec / 1e9;
}

double tsc_ts_diff(struct tsc_ts a, struct tsc_ts b)
{
    return (double)(a.sec - b.sec) + ((double)a.nsec - (double)b.nsec) / 1e9;
}

int tsc_version_bucket(int32_t v)
{
    switch (v) {
    case 0x0002:
        return 0;
    case 0x0300:
        return 1;
    case 0x0301:
        return 2;
    case 0x0302:
        return 3;
    case 0x0303:
        return 4;
    case 0x0304:
        return 5;
    default:
        return (v >= 0x7f00 && v <= 0x7fff) ? 6 : 7;
    }
}

const char *tsc_version_bucket_name(int bucket)
{
    static const char *const names[TSC_VERSION_BUCKETS] = {
        "SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3", "TLSv1.3-draft", "unknown"};
    return bucket >= 0 && bucket < TSC_VERSION_BUCKETS ? names[bucket] : "unknown";
}

const char *tsc_dir_name(int dir)
{
    return dir == TSC_DIR_S2C ? "s2c" : "c2s";
}
