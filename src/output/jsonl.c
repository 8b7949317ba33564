/* JSON Lines writer: one object per event (docs/json-schema.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/hs_render.h"
#include "output/writer_impl.h"
#include "tls/names.h"
#include "util/cursor.h"
#include "util/jw.h"

/*
 * Key + value helpers: each is a small inline key write (see tsc_jw_key: a
 * literal key costs a few stores when inlined at its call site) and an
 * out-of-line value writer.
 */
static void ts_value(struct tsc_jw *j, struct tsc_ts ts)
{
    char tmp[48];
    /* Exact decimal: a double cannot hold nanoseconds of an epoch time. */
    size_t n = tsc_fmt_ts(ts, tmp, sizeof(tmp));
    tsc_jw_rawn(j, (const uint8_t *)tmp, n);
}

TSC_JW_INLINE void kts(struct tsc_jw *j, const char *k, struct tsc_ts ts)
{
    tsc_jw_key(j, k);
    ts_value(j, ts);
}

static void time_value(struct tsc_jw *j, struct tsc_ts ts)
{
    char tmp[48];
    tsc_fmt_time(ts, tmp, sizeof(tmp));
    tsc_jw_str(j, tmp);
}

TSC_JW_INLINE void ktime(struct tsc_jw *j, const char *k, struct tsc_ts ts)
{
    tsc_jw_key(j, k);
    time_value(j, ts);
}

static void name_value(struct tsc_jw *j, const char *name)
{
    if (name != NULL) {
        tsc_jw_str(j, name);
    } else {
        tsc_jw_null(j);
    }
}

TSC_JW_INLINE void kname(struct tsc_jw *j, const char *k, const char *name)
{
    tsc_jw_key(j, k);
    name_value(j, name);
}

static void begin(struct tsc_writer *w, struct tsc_jw *j, const char *type)
{
    tsc_jw_init(j, &w->buf);
    tsc_jw_obj_begin(j);
    tsc_jw_kstr(j, "type", type);
}

static void end(struct tsc_jw *j)
{
    tsc_jw_obj_end(j);
    if (tsc_buf_append(j->out, "\n", 1) != TSC_OK) {
        j->failed = true;
    }
}

static void conn_head(struct tsc_jw *j, struct tsc_out_conn *c, int dir, uint64_t pkt,
                      struct tsc_ts ts)
{
    tsc_jw_kuint(j, "conn", c->tcp->id);
    tsc_jw_kstr(j, "dir", tsc_dir_name(dir));
    tsc_jw_kuint(j, "pkt", pkt);
    kts(j, "ts", ts);
}

void tsc_jsonl_run(struct tsc_writer *w, const struct tsc_run_info *info)
{
    struct tsc_jw j;
    const struct tsc_config *cfg = info->cfg;
    begin(w, &j, "run");
    tsc_jw_kstr(&j, "tool", "tlsscope");
    tsc_jw_kstr(&j, "version", tsc_version());
    tsc_jw_key(&j, "capabilities");
    tsc_jw_arr_begin(&j);
    tsc_jw_str(&j, "dissect");
    tsc_jw_str(&j, "decrypt");
    tsc_jw_str(&j, "verify");
    tsc_jw_arr_end(&j);
    tsc_jw_key(&j, "options");
    tsc_jw_obj_begin(&j);
    tsc_jw_kint(&j, "verbose", cfg->verbosity);
    tsc_jw_kbool(&j, "summary_only", cfg->summary_only);
    tsc_jw_kstr_or_null(&j, "filter", cfg->filter);
    tsc_jw_kuint(&j, "max_flows", cfg->max_flows);
    tsc_jw_kuint(&j, "max_buffered_bytes", cfg->max_buffered_bytes);
    tsc_jw_kuint(&j, "max_conn_ooo_bytes", cfg->max_conn_ooo_bytes);
    tsc_jw_kuint(&j, "idle_timeout_s", cfg->idle_timeout_s);
    tsc_jw_kuint(&j, "stats_interval_s", cfg->stats_interval_s);
    tsc_jw_key(&j, "max_memory");
    if (cfg->max_memory > 0) {
        tsc_jw_uint(&j, cfg->max_memory);
    } else {
        tsc_jw_null(&j);
    }
    tsc_jw_kuint(&j, "max_handshake_msg", cfg->max_handshake_msg);
    tsc_jw_kuint(&j, "session_cache_entries", cfg->no_session_cache ? 0 : cfg->session_cache_entries);
    tsc_jw_kbool(&j, "show_app_data", cfg->show_app_data);
    tsc_jw_kstr_or_null(&j, "export_keylog", cfg->export_keylog);
    tsc_jw_kstr_or_null(&j, "write_pcapng", cfg->write_pcapng);
    tsc_jw_kstr_or_null(&j, "data_dir", cfg->data_dir);
    tsc_jw_kbool(&j, "env_keylog", cfg->env_keylog);
    tsc_jw_kbool(&j, "psk", info->psk);
    tsc_jw_kstr_or_null(&j, "psk_identity", cfg->psk_identity);
    tsc_jw_key(&j, "argv");
    tsc_jw_arr_begin(&j);
    for (int i = 0; i < cfg->argc; i++) {
        tsc_jw_str(&j, cfg->argv[i]);
    }
    tsc_jw_arr_end(&j);
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "inputs");
    tsc_jw_arr_begin(&j);
    for (int i = 0; i < info->n_inputs; i++) {
        const struct tsc_run_input *in = &info->inputs[i];
        tsc_jw_obj_begin(&j);
        tsc_jw_kstr(&j, "file", in->file);
        if (in->have_sha256) {
            tsc_jw_khex(&j, "sha256", in->sha256, 32);
        } else {
            tsc_jw_knull(&j, "sha256");
        }
        if (in->size >= 0) {
            tsc_jw_kint(&j, "size", in->size);
        } else {
            tsc_jw_knull(&j, "size");
        }
        tsc_jw_obj_end(&j);
    }
    tsc_jw_arr_end(&j);
    /* Key material: file names and hashes only, never the content. */
    tsc_jw_key(&j, "key_files");
    tsc_jw_arr_begin(&j);
    for (int i = 0; i < info->n_keyfiles; i++) {
        const struct tsc_run_keyfile *kf = &info->keyfiles[i];
        tsc_jw_obj_begin(&j);
        tsc_jw_kstr(&j, "file", kf->file);
        tsc_jw_kstr(&j, "kind", kf->kind);
        if (kf->have_sha256) {
            tsc_jw_khex(&j, "sha256", kf->sha256, 32);
        } else {
            tsc_jw_knull(&j, "sha256");
        }
        tsc_jw_obj_end(&j);
    }
    tsc_jw_arr_end(&j);
    tsc_jw_kstr_or_null(&j, "interface", info->interface);
    ktime(&j, "start_time", info->start_wall);
    end(&j);
}

void tsc_jsonl_record(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                      const struct tsc_tls_record_info *r)
{
    struct tsc_jw j;
    begin(w, &j, "record");
    conn_head(&j, c, dir, r->pkt, r->ts);
    tsc_jw_kint(&j, "offset", r->offset);
    tsc_jw_kuint(&j, "content_type", r->content_type);
    kname(&j, "content_type_name", tsc_name_content_type(r->content_type));
    tsc_jw_kuint(&j, "version", r->version);
    tsc_jw_kuint(&j, "length", r->length);
    tsc_jw_kbool(&j, "encrypted", r->encrypted);
    tsc_jw_kbool(&j, "decrypted", r->decrypted);
    if (r->decrypted) {
        tsc_jw_kuint(&j, "inner_content_type", r->inner_type);
        kname(&j, "inner_content_type_name", tsc_name_content_type(r->inner_type));
    }
    tsc_jw_kbool(&j, "sslv2", r->sslv2);
    end(&j);
}

void tsc_jsonl_handshake(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                         const struct tsc_hs_msg *m, uint64_t pkt, struct tsc_ts ts)
{
    struct tsc_jw j;
    uint8_t t = tsc_hs_msg_type(m);
    begin(w, &j, "handshake");
    conn_head(&j, c, dir, pkt, ts);
    tsc_jw_kuint(&j, "msg_type", t);
    kname(&j, "msg_type_name", tsc_name_handshake_type(t));
    tsc_jw_kuint(&j, "length", tsc_hs_msg_length(m));
    tsc_render_hs_json(&j, m, w->verbosity);
    tsc_render_fp_json(&j, m, w->fp, &w->fp_raw);
    end(&j);
}

void tsc_jsonl_alert(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                     const struct tsc_tls_alert_info *a)
{
    struct tsc_jw j;
    begin(w, &j, "alert");
    conn_head(&j, c, dir, a->pkt, a->ts);
    tsc_jw_kbool(&j, "encrypted", a->encrypted);
    tsc_jw_kbool(&j, "decrypted", a->decrypted);
    if (a->encrypted) {
        tsc_jw_knull(&j, "level");
        tsc_jw_knull(&j, "description");
    } else {
        tsc_jw_kuint(&j, "level", a->level);
        kname(&j, "level_name", tsc_name_alert_level(a->level));
        tsc_jw_kuint(&j, "description", a->description);
        kname(&j, "description_name", tsc_name_alert_description(a->description));
    }
    end(&j);
}

void tsc_jsonl_simple(struct tsc_writer *w, struct tsc_out_conn *c, int dir, const char *type,
                      uint64_t pkt, struct tsc_ts ts)
{
    struct tsc_jw j;
    begin(w, &j, type);
    conn_head(&j, c, dir, pkt, ts);
    end(&j);
}

void tsc_jsonl_heartbeat(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint8_t type,
                         uint16_t payload_length, uint32_t record_len, bool overlong,
                         uint64_t pkt, struct tsc_ts ts)
{
    struct tsc_jw j;
    begin(w, &j, "heartbeat");
    conn_head(&j, c, dir, pkt, ts);
    tsc_jw_kuint(&j, "heartbeat_type", type);
    tsc_jw_kuint(&j, "payload_length", payload_length);
    tsc_jw_kuint(&j, "record_length", record_len);
    tsc_jw_kbool(&j, "overlong", overlong);
    end(&j);
}

/* RFC 4648 4 base64 of n bytes into out (4 * ceil(n / 3) + 1 bytes, NUL-terminated). */
static void base64(const uint8_t *p, size_t n, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8);
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
}

void tsc_jsonl_app_data(struct tsc_writer *w, struct tsc_out_conn *c, int dir, const uint8_t *p,
                        size_t n, uint64_t pkt, struct tsc_ts ts)
{
    struct tsc_jw j;
    /* One record's plaintext: at most 2^14 + 2048 bytes, so the size cannot overflow. */
    char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (b64 == NULL) {
        return;
    }
    base64(p, n, b64);
    begin(w, &j, "app_data");
    conn_head(&j, c, dir, pkt, ts);
    tsc_jw_kuint(&j, "length", n);
    tsc_jw_kstr(&j, "data_base64", b64);
    end(&j);
    free(b64);
}

void tsc_jsonl_gap(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint64_t len,
                   uint64_t pkt, struct tsc_ts ts)
{
    struct tsc_jw j;
    begin(w, &j, "gap");
    conn_head(&j, c, dir, pkt, ts);
    tsc_jw_kuint(&j, "length", len);
    end(&j);
}

static void kstr_or_null_empty(struct tsc_jw *j, const char *k, const char *s)
{
    tsc_jw_kstr_or_null(j, k, (s != NULL && s[0] != '\0') ? s : NULL);
}

static void endpoints(struct tsc_jw *j, const struct tsc_tcp_conn *t)
{
    char ip[64];
    tsc_fmt_ip(&t->client, ip, sizeof(ip));
    tsc_jw_kstr(j, "client_ip", ip);
    tsc_jw_kuint(j, "client_port", t->client.port);
    tsc_fmt_ip(&t->server, ip, sizeof(ip));
    tsc_jw_kstr(j, "server_ip", ip);
    tsc_jw_kuint(j, "server_port", t->server.port);
}

void tsc_jsonl_prelude(struct tsc_writer *w, struct tsc_out_conn *c, enum tsc_prelude_event kind,
                       uint64_t pkt, struct tsc_ts ts)
{
    const struct tsc_prelude_facts *f = c->prelude;
    struct tsc_jw j;
    bool tunnel = kind == TSC_PRELUDE_EV_TUNNEL;
    uint8_t outcome = tunnel ? f->tunnel_outcome : f->starttls_outcome;
    begin(w, &j, tunnel ? "tunnel" : "starttls");
    tsc_jw_kuint(&j, "conn", c->tcp->id);
    tsc_jw_kuint(&j, "pkt", pkt);
    kts(&j, "ts", ts);
    endpoints(&j, c->tcp);
    if (tunnel) {
        tsc_jw_kstr(&j, "tunnel_type", f->tunnel);
        kstr_or_null_empty(&j, "host", f->tunnel_host);
        if (f->tunnel_host[0] != '\0') {
            tsc_jw_kuint(&j, "port", f->tunnel_port);
        } else {
            tsc_jw_knull(&j, "port");
        }
        tsc_jw_kbool(&j, "established", outcome == TSC_PRELUDE_UPGRADED);
        tsc_jw_kstr(&j, "outcome", tsc_prelude_outcome_name(outcome));
        kstr_or_null_empty(&j, "request", f->command);
        kstr_or_null_empty(&j, "reply", f->tunnel_reply);
        if (f->tunnel_index == TSC_PRE_SOCKS4) {
            tsc_jw_kbool(&j, "socks4a", f->socks4a);
        }
        if (f->tunnel_index == TSC_PRE_SOCKS5) {
            tsc_jw_kstr_or_null(&j, "auth", f->tunnel_auth);
        }
    } else {
        tsc_jw_kstr(&j, "protocol", f->starttls);
        tsc_jw_kbool(&j, "upgraded", outcome == TSC_PRELUDE_UPGRADED);
        tsc_jw_kstr(&j, "outcome", tsc_prelude_outcome_name(outcome));
        kstr_or_null_empty(&j, "banner", f->banner);
        kstr_or_null_empty(&j, "command", f->command);
        kstr_or_null_empty(&j, "reply", f->reply);
    }
    tsc_jw_kuint(&j, "c2s_bytes", f->bytes[0]);
    tsc_jw_kuint(&j, "s2c_bytes", f->bytes[1]);
    end(&j);
}

static const char *severity_name(int s)
{
    return s >= 2 ? "error" : s == 1 ? "warning" : "info";
}

void tsc_jsonl_diag(struct tsc_writer *w, enum tsc_diag_kind kind, const struct tsc_where *where,
                    const char *msg)
{
    struct tsc_jw j;
    begin(w, &j, "diagnostic");
    tsc_jw_kstr(&j, "kind", tsc_diag_name(kind));
    tsc_jw_kstr(&j, "severity", severity_name(tsc_diag_severity(kind)));
    tsc_jw_kstr(&j, "message", msg);
    if (where->file != NULL) {
        tsc_jw_kstr(&j, "file", where->file);
    }
    if (where->pkt != 0) {
        tsc_jw_kuint(&j, "pkt", where->pkt);
    }
    if (where->conn != TSC_NO_CONN) {
        tsc_jw_kuint(&j, "conn", where->conn);
    }
    if (where->dir == 0 || where->dir == 1) {
        tsc_jw_kstr(&j, "dir", tsc_dir_name(where->dir));
    }
    if (where->offset >= 0) {
        tsc_jw_kint(&j, "offset", where->offset);
    }
    end(&j);
}

static const char *role_name(enum tsc_role_source r)
{
    switch (r) {
    case TSC_ROLE_SYN:
        return "syn";
    case TSC_ROLE_SYNACK:
        return "synack";
    case TSC_ROLE_CLIENT_HELLO:
        return "client_hello";
    case TSC_ROLE_PORT:
        return "port";
    }
    return "port";
}

static void tri_value(struct tsc_jw *j, enum tsc_tri t)
{
    if (t == TSC_TRI_UNKNOWN) {
        tsc_jw_null(j);
    } else {
        tsc_jw_bool(j, t == TSC_TRI_YES);
    }
}

TSC_JW_INLINE void ktri(struct tsc_jw *j, const char *k, enum tsc_tri t)
{
    tsc_jw_key(j, k);
    tri_value(j, t);
}

static void ver_value(struct tsc_jw *j, bool have, uint16_t v)
{
    if (have) {
        tsc_jw_uint(j, v);
    } else {
        tsc_jw_null(j);
    }
}

TSC_JW_INLINE void kver(struct tsc_jw *j, const char *k, bool have, uint16_t v)
{
    tsc_jw_key(j, k);
    ver_value(j, have, v);
}

static void hex_or_null_value(struct tsc_jw *j, bool have, const uint8_t *p, size_t n)
{
    if (have) {
        tsc_jw_hex(j, p, n);
    } else {
        tsc_jw_null(j);
    }
}

TSC_JW_INLINE void khex_or_null(struct tsc_jw *j, const char *k, bool have, const uint8_t *p,
                                size_t n)
{
    tsc_jw_key(j, k);
    hex_or_null_value(j, have, p, n);
}

/* The client's ProtocolNameList as kept from the wire (RFC 7301 3.1:
 * opaque ProtocolName<1..2^8-1>), up to the first malformed entry. */
static void alpn_list(struct tsc_jw *j, const uint8_t *p, size_t n)
{
    struct tsc_cur c = tsc_cur_make(p, n);
    struct tsc_slice name;
    tsc_jw_arr_begin(j);
    /* Each pass consumes at least two bytes: bounded by n. */
    while (c.left > 0 && tsc_cur_vec_slice(&c, 1, 1, 255, &name) == TSC_OK) {
        tsc_jw_strn(j, name.p, name.len);
    }
    tsc_jw_arr_end(j);
}

static void hs_list(struct tsc_jw *j, const uint16_t *types, uint32_t n)
{
    tsc_jw_arr_begin(j);
    for (uint32_t i = 0; i < n && i < TSC_MAX_HS_TYPES; i++) {
        tsc_jw_uint(j, types[i]);
    }
    tsc_jw_arr_end(j);
}

static void cert_json_render(struct tsc_jw *j, const struct tsc_cert_summary *s);

/* A certificate summary, from the writer's cache of rendered summaries. */
static void cert_json(struct tsc_writer *w, struct tsc_jw *j, const struct tsc_cert_summary *s)
{
    struct tsc_cert_json_slot *slot =
        &w->cert_json[(s->sha256[0] | (unsigned)s->sha256[1] << 8) % TSC_CERT_JSON_SLOTS];
    if (slot->s != s || memcmp(slot->sha256, s->sha256, 32) != 0) {
        struct tsc_jw tmp;
        tsc_buf_reset(&slot->json);
        tsc_jw_init(&tmp, &slot->json);
        cert_json_render(&tmp, s);
        if (tmp.failed) {
            slot->s = NULL;
            cert_json_render(j, s);
            return;
        }
        slot->s = s;
        memcpy(slot->sha256, s->sha256, 32);
    }
    tsc_jw_rawn(j, slot->json.p, slot->json.len);
}

static void cert_json_render(struct tsc_jw *j, const struct tsc_cert_summary *s)
{
    tsc_jw_obj_begin(j);
    tsc_jw_khex(j, "sha256", s->sha256, 32);
    tsc_jw_kuint(j, "der_length", s->der_len);
    if (!s->parse_ok) {
        tsc_jw_kbool(j, "parse_error", true);
        tsc_jw_obj_end(j);
        return;
    }
    tsc_jw_kstr(j, "subject", s->subject);
    tsc_jw_kstr(j, "issuer", s->issuer);
    tsc_jw_kstr(j, "serial", s->serial);
    tsc_jw_kstr(j, "not_before", s->not_before_str);
    tsc_jw_kstr(j, "not_after", s->not_after_str);
    tsc_jw_kstr(j, "san", s->san);
    tsc_jw_kstr(j, "key_type", s->key_type);
    tsc_jw_kint(j, "key_bits", s->key_bits);
    tsc_jw_kstr_or_null(j, "key_curve", s->key_curve);
    tsc_jw_kstr(j, "signature_algorithm", s->sig_alg);
    tsc_jw_obj_end(j);
}

/* {"bytes": N, "sha256": HEX} of one direction's decrypted application data, or null. */
void tsc_jsonl_app_data_obj(struct tsc_jw *j, const struct tsc_decrypt_facts *dec, int dir)
{
    if (!dec->have_app_data[dir]) {
        tsc_jw_null(j);
        return;
    }
    tsc_jw_obj_begin(j);
    tsc_jw_kuint(j, "bytes", dec->app_bytes[dir]);
    tsc_jw_khex(j, "sha256", dec->app_sha256[dir], 32);
    tsc_jw_obj_end(j);
}

/* The midstream trial (docs/json-schema.md), or null when none ran. */
static void trial_json(struct tsc_jw *j, const struct tsc_decrypt_facts *dec)
{
    if (!dec->trial) {
        tsc_jw_null(j);
        return;
    }
    tsc_jw_obj_begin(j);
    tsc_jw_kbool(j, "matched", dec->trial_matched);
    khex_or_null(j, "client_random", dec->trial_matched, dec->trial_client_random, 32);
    tsc_jw_key(j, "cipher_suite");
    if (dec->trial_matched) {
        tsc_jw_uint(j, dec->trial_cipher_suite);
    } else {
        tsc_jw_null(j);
    }
    kname(j, "cipher_suite_name",
          dec->trial_matched ? tsc_name_cipher_suite(dec->trial_cipher_suite) : NULL);
    tsc_jw_kuint(j, "secrets_tried", dec->trial_secrets_tried);
    tsc_jw_kuint(j, "window", dec->trial_window);
    tsc_jw_kbool(j, "cap_hit", dec->trial_cap_hit);
    tsc_jw_kbool(j, "roles_swapped", dec->trial_roles_swapped);
    static const char *const dirs[2] = {"c2s", "s2c"};
    for (int k = 0; k < 2; k++) {
        tsc_jw_key(j, k == 0 ? "first_sequence" : "generation");
        tsc_jw_obj_begin(j);
        for (int d = 0; d < 2; d++) {
            tsc_jw_key(j, dirs[d]);
            if (!dec->trial_synced[d]) {
                tsc_jw_null(j);
            } else {
                tsc_jw_uint(j, k == 0 ? dec->trial_first_seq[d] : dec->trial_generation[d]);
            }
        }
        tsc_jw_obj_end(j);
    }
    tsc_jw_obj_end(j);
}

static void decrypt_json(struct tsc_jw *j, const struct tsc_decrypt_facts *dec)
{
    tsc_jw_kbool(j, "decrypted", dec->decrypted);
    kname(j, "key_source", dec->key_source);
    tsc_jw_key(j, "finished");
    tsc_jw_obj_begin(j);
    tsc_jw_kstr(j, "client", dec->finished[0] != NULL ? dec->finished[0] : "unverified");
    tsc_jw_kstr(j, "server", dec->finished[1] != NULL ? dec->finished[1] : "unverified");
    tsc_jw_obj_end(j);
    tsc_jw_kuint(j, "bad_records", dec->bad_records);
    tsc_jw_kuint(j, "early_data_bytes", dec->early_data_bytes);
    tsc_jw_kuint(j, "early_data_rejected_bytes", dec->early_data_rejected_bytes);
    kname(j, "undecrypted_reason", dec->undecrypted_reason);
    kname(j, "matched_by", dec->matched_by);
    tsc_jw_key(j, "trial");
    trial_json(j, dec);
    tsc_jw_key(j, "app_data");
    if (dec->have_app_data[0] || dec->have_app_data[1]) {
        tsc_jw_obj_begin(j);
        tsc_jw_key(j, "c2s");
        tsc_jsonl_app_data_obj(j, dec, 0);
        tsc_jw_key(j, "s2c");
        tsc_jsonl_app_data_obj(j, dec, 1);
        tsc_jw_obj_end(j);
    } else {
        tsc_jw_null(j);
    }
    khex_or_null(j, "master_secret", dec->have_master_secret, dec->master_secret, 48);
}

static void dir_json(struct tsc_jw *j, const struct tsc_tcp_dir_stats *ts,
                     const struct tsc_tls_dir_facts *d, const struct tsc_decrypt_facts *dec,
                     int dir)
{
    tsc_jw_obj_begin(j);
    tsc_jw_kuint(j, "packets", ts->packets);
    tsc_jw_kuint(j, "bytes", ts->bytes);
    tsc_jw_kuint(j, "delivered_bytes", ts->delivered_bytes);
    tsc_jw_kuint(j, "retransmitted_bytes", ts->retransmitted_bytes);
    tsc_jw_kuint(j, "conflict_bytes", ts->conflict_bytes);
    tsc_jw_kuint(j, "gap_bytes", ts->gap_bytes);
    tsc_jw_kuint(j, "ooo_segments", ts->ooo_segments);
    tsc_jw_kuint(j, "truncated_segments", ts->truncated_segments);
    tsc_jw_key(j, "records");
    tsc_jw_obj_begin(j);
    static const char *const type_keys[5] = {"20", "21", "22", "23", "24"};
    for (int t = 0; t < 5; t++) {
        if (d->records[t] != 0) {
            tsc_jw_kuint(j, type_keys[t], d->records[t]);
        }
    }
    if (d->records_other != 0) {
        tsc_jw_kuint(j, "other", d->records_other);
    }
    if (d->records_sslv2 != 0) {
        tsc_jw_kuint(j, "sslv2", d->records_sslv2);
    }
    tsc_jw_obj_end(j);
    tsc_jw_key(j, "handshake_types");
    hs_list(j, d->hs_types, d->n_hs_types);
    if (d->hs_types_dropped != 0) {
        tsc_jw_kuint(j, "handshake_types_dropped", d->hs_types_dropped);
    }
    tsc_jw_key(j, "sslv2_message_types");
    tsc_jw_arr_begin(j);
    for (uint32_t i = 0; i < d->n_sslv2_types && i < 32; i++) {
        tsc_jw_uint(j, d->sslv2_types[i]);
    }
    tsc_jw_arr_end(j);
    tsc_jw_kuint(j, "encrypted_handshake_records", d->encrypted_handshake_records);
    tsc_jw_kuint(j, "encrypted_alerts", d->encrypted_alerts);
    tsc_jw_kuint(j, "app_data_bytes", d->app_data_bytes);
    tsc_jw_kuint(j, "non_tls_prefix_bytes", d->non_tls_prefix_bytes);
    if (d->picked_up) {
        tsc_jw_kuint(j, "pickup_offset", d->pickup_offset);
    } else {
        tsc_jw_knull(j, "pickup_offset");
    }
    tsc_jw_kbool(j, "malformed", d->malformed);
    tsc_jw_kbool(j, "heartbleed", d->heartbleed);
    tsc_jw_kuint(j, "decrypted_records", dec->decrypted_records[dir]);
    tsc_jw_kuint(j, "records_skipped", dec->records_skipped[dir]);
    tsc_jw_kuint(j, "resyncs", dec->resyncs[dir]);
    tsc_jw_key(j, "app_data");
    tsc_jsonl_app_data_obj(j, dec, dir);
    tsc_jw_obj_end(j);
}

void tsc_jsonl_connection(struct tsc_writer *w, struct tsc_out_conn *c,
                          const struct tsc_tls_facts *f, enum tsc_tcp_end_reason why)
{
    struct tsc_jw j;
    const struct tsc_tcp_conn *t = c->tcp;
    begin(w, &j, "connection");
    tsc_jw_kuint(&j, "id", t->id);
    endpoints(&j, t);
    tsc_jw_kstr(&j, "client_identified_by", role_name(t->role_source));
    tsc_jw_kuint(&j, "first_packet", t->first_pkt);
    kts(&j, "start_ts", t->first_ts);
    kts(&j, "end_ts", t->last_ts);
    ktime(&j, "start_time", t->first_ts);
    ktime(&j, "end_time", t->last_ts);
    tsc_jw_key(&j, "duration");
    tsc_jw_double(&j, tsc_ts_diff(t->last_ts, t->first_ts));
    tsc_jw_kstr(&j, "end_reason", tsc_tcp_end_reason_name(why));

    tsc_jw_key(&j, "version");
    if (f->version >= 0) {
        tsc_jw_int(&j, f->version);
    } else {
        tsc_jw_null(&j);
    }
    kname(&j, "version_name", f->version >= 0 ? tsc_name_version((uint16_t)f->version) : NULL);
    tsc_jw_key(&j, "cipher_suite");
    if (f->cipher_suite >= 0) {
        tsc_jw_int(&j, f->cipher_suite);
    } else {
        tsc_jw_null(&j);
    }
    kname(&j, "cipher_suite_name",
          f->cipher_suite >= 0 ? tsc_name_cipher_suite((uint16_t)f->cipher_suite) : NULL);
    tsc_jw_kstr_or_null(&j, "sni", f->sni);
    tsc_jw_kstr_or_null(&j, "alpn", f->alpn);
    tsc_jw_key(&j, "alpn_offered");
    alpn_list(&j, f->alpn_offered, f->alpn_offered_len);
    tsc_jw_kstr_or_null(&j, "ja3", f->ja3);
    tsc_jw_kstr_or_null(&j, "ja3s", f->ja3s);
    tsc_jw_kstr_or_null(&j, "ja4", f->ja4);
    tsc_jw_kbool(&j, "resumed", f->resumed);
    if (f->have_resumed_from) {
        tsc_jw_kuint(&j, "resumed_from", f->resumed_from);
    } else {
        tsc_jw_knull(&j, "resumed_from");
    }
    tsc_jw_kbool(&j, "hello_retry_request", f->hello_retry_request);
    ktri(&j, "extended_master_secret", f->extended_master_secret);
    ktri(&j, "encrypt_then_mac", f->encrypt_then_mac);
    tsc_jw_kbool(&j, "early_data_offered", f->early_data_offered);
    ktri(&j, "early_data", f->early_data);
    tsc_jw_kbool(&j, "sslv2", f->sslv2);
    const struct tsc_hello_fact *h0 = f->n_hellos > 0 ? &f->hellos[0] : NULL;
    tsc_jw_kbool(&j, "sslv2_client_hello", h0 != NULL && h0->sslv2);
    bool ch = h0 != NULL && h0->have_client_hello;
    bool sh = h0 != NULL && h0->have_server_hello;
    kver(&j, "client_hello_version", ch, ch ? h0->client_hello_version : 0);
    kver(&j, "client_hello_record_version", ch, ch ? h0->client_hello_record_version : 0);
    kver(&j, "server_hello_version", sh, sh ? h0->server_hello_version : 0);
    kver(&j, "server_hello_record_version", sh, sh ? h0->server_hello_record_version : 0);
    khex_or_null(&j, "client_random", ch, ch ? h0->client_random : NULL,
                 ch ? h0->client_random_len : 0);
    khex_or_null(&j, "server_random", sh, sh ? h0->server_random : NULL, 32);
    khex_or_null(&j, "session_id", f->session_id_len > 0, f->session_id, f->session_id_len);

    tsc_jw_key(&j, "handshakes");
    tsc_jw_arr_begin(&j);
    for (uint32_t i = 0; i < f->n_hellos && i < TSC_MAX_HANDSHAKES; i++) {
        const struct tsc_hello_fact *h = &f->hellos[i];
        tsc_jw_obj_begin(&j);
        tsc_jw_kbool(&j, "sslv2", h->sslv2);
        khex_or_null(&j, "client_random", h->have_client_hello, h->client_random,
                     h->client_random_len);
        kver(&j, "client_hello_version", h->have_client_hello, h->client_hello_version);
        kver(&j, "client_hello_record_version", h->have_client_hello,
             h->client_hello_record_version);
        khex_or_null(&j, "server_random", h->have_server_hello, h->server_random, 32);
        kver(&j, "server_hello_version", h->have_server_hello, h->server_hello_version);
        kver(&j, "server_hello_record_version", h->have_server_hello,
             h->server_hello_record_version);
        kver(&j, "negotiated_version", h->have_server_hello, h->negotiated_version);
        kver(&j, "cipher_suite", h->have_server_hello, h->cipher_suite);
        tsc_jw_kbool(&j, "hello_retry_request", h->hello_retry_request);
        tsc_jw_obj_end(&j);
    }
    tsc_jw_arr_end(&j);

    tsc_jw_key(&j, "client_handshake");
    hs_list(&j, f->dir[TSC_DIR_C2S].hs_types, f->dir[TSC_DIR_C2S].n_hs_types);
    tsc_jw_key(&j, "server_handshake");
    hs_list(&j, f->dir[TSC_DIR_S2C].hs_types, f->dir[TSC_DIR_S2C].n_hs_types);

    tsc_jw_key(&j, "alerts");
    tsc_jw_arr_begin(&j);
    for (uint32_t i = 0; i < f->n_alerts && i < TSC_MAX_ALERTS; i++) {
        const struct tsc_alert_fact *a = &f->alerts[i];
        tsc_jw_obj_begin(&j);
        tsc_jw_kstr(&j, "from", a->from == TSC_DIR_C2S ? "client" : "server");
        tsc_jw_kuint(&j, "level", a->level);
        tsc_jw_kuint(&j, "description", a->description);
        kname(&j, "level_name", tsc_name_alert_level(a->level));
        kname(&j, "description_name", tsc_name_alert_description(a->description));
        tsc_jw_obj_end(&j);
    }
    tsc_jw_arr_end(&j);
    tsc_jw_key(&j, "encrypted_alerts");
    tsc_jw_obj_begin(&j);
    tsc_jw_kuint(&j, "c2s", f->dir[0].encrypted_alerts);
    tsc_jw_kuint(&j, "s2c", f->dir[1].encrypted_alerts);
    tsc_jw_obj_end(&j);

    tsc_jw_key(&j, "certificates");
    tsc_jw_arr_begin(&j);
    for (uint32_t i = 0; i < f->n_certs && i < TSC_MAX_CERTS; i++) {
        if (f->certs[i] != NULL) {
            cert_json(w, &j, f->certs[i]);
        }
    }
    tsc_jw_arr_end(&j);
    if (f->certs_dropped != 0) {
        tsc_jw_kuint(&j, "certificates_dropped", f->certs_dropped);
    }
    tsc_jw_kbool(&j, "partial", f->partial);
    const struct tsc_prelude_facts *pf = c->prelude;
    bool via_starttls = pf != NULL && pf->starttls != NULL &&
                        pf->starttls_outcome == TSC_PRELUDE_UPGRADED;
    tsc_jw_kstr_or_null(&j, "starttls", via_starttls ? pf->starttls : NULL);
    tsc_jw_key(&j, "tunnel");
    if (pf != NULL && pf->tunnel != NULL && pf->tunnel_outcome == TSC_PRELUDE_UPGRADED) {
        tsc_jw_obj_begin(&j);
        tsc_jw_kstr(&j, "type", pf->tunnel);
        tsc_jw_kstr(&j, "host", pf->tunnel_host);
        tsc_jw_kuint(&j, "port", pf->tunnel_port);
        tsc_jw_obj_end(&j);
    } else {
        tsc_jw_null(&j);
    }
    tsc_jw_kbool(&j, "malformed", f->malformed);
    decrypt_json(&j, &f->dec);
    tsc_jw_key(&j, "c2s");
    dir_json(&j, &t->stats[0], &f->dir[0], &f->dec, 0);
    tsc_jw_key(&j, "s2c");
    dir_json(&j, &t->stats[1], &f->dir[1], &f->dec, 1);
    end(&j);
}

void tsc_jsonl_stats(struct tsc_writer *w, const struct tsc_run_stats *st)
{
    struct tsc_jw j;
    begin(w, &j, "stats");
    tsc_jw_kbool(&j, "final", st->final);
    tsc_jw_kuint(&j, "packets", st->packets);
    tsc_jw_kuint(&j, "bytes", st->bytes);
    tsc_jw_kuint(&j, "wire_bytes", st->wire_bytes);
    tsc_jw_key(&j, "frames");
    tsc_jw_obj_begin(&j);
    tsc_jw_kuint(&j, "ipv4", st->net.ipv4);
    tsc_jw_kuint(&j, "ipv6", st->net.ipv6);
    tsc_jw_kuint(&j, "tcp", st->net.tcp);
    tsc_jw_kuint(&j, "udp", st->net.udp);
    tsc_jw_kuint(&j, "other", st->net.other);
    tsc_jw_kuint(&j, "malformed", st->net.malformed);
    tsc_jw_kuint(&j, "fragments", st->net.fragments);
    tsc_jw_kuint(&j, "reassembled", st->net.reassembled);
    tsc_jw_kuint(&j, "unknown_linktype", st->net.unknown_linktype);
    tsc_jw_obj_end(&j);
    tsc_jw_kuint(&j, "tcp_connections", st->tcp_connections);
    tsc_jw_kuint(&j, "tls_connections", st->tls_connections);
    tsc_jw_kuint(&j, "open_flows", st->tcp.open_flows);
    tsc_jw_kuint(&j, "open_flows_peak", st->tcp.peak_flows);
    tsc_jw_kuint(&j, "evicted_flows", st->tcp.evicted_flows);
    tsc_jw_kuint(&j, "timed_out_flows", st->tcp.timed_out_flows);
    tsc_jw_kuint(&j, "gap_bytes", st->tcp.gap_bytes);
    tsc_jw_kuint(&j, "conflict_bytes", st->tcp.conflict_bytes);
    tsc_jw_kuint(&j, "buffered_bytes_peak", st->tcp.peak_buffered_bytes);
    tsc_jw_kuint(&j, "ooo_dropped_bytes", st->tcp.ooo_dropped_bytes);
    tsc_jw_key(&j, "versions");
    tsc_jw_obj_begin(&j);
    for (int i = 0; i < TSC_VERSION_BUCKETS; i++) {
        if (st->versions[i] != 0) {
            tsc_jw_kuint(&j, tsc_version_bucket_name(i), st->versions[i]);
        }
    }
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "cipher_suites");
    tsc_jw_obj_begin(&j);
    if (st->suite_counts != NULL) {
        for (uint32_t s = 0; s < 65536; s++) {
            if (st->suite_counts[s] != 0) {
                const char *n = tsc_name_cipher_suite((uint16_t)s);
                char tmp[16];
                if (n == NULL) {
                    snprintf(tmp, sizeof(tmp), "0x%04x", s);
                    n = tmp;
                }
                tsc_jw_kuint(&j, n, st->suite_counts[s]);
            }
        }
    }
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "anomalies");
    tsc_jw_obj_begin(&j);
    tsc_jw_kuint(&j, "malformed", st->malformed_connections);
    tsc_jw_kuint(&j, "heartbleed", st->heartbleed_connections);
    tsc_jw_kuint(&j, "partial", st->partial_connections);
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "discovery");
    tsc_jw_obj_begin(&j);
    for (int tunnels = 0; tunnels < 2; tunnels++) {
        tsc_jw_key(&j, tunnels ? "tunnels" : "starttls");
        tsc_jw_obj_begin(&j);
        for (unsigned i = 1; i < TSC_PRE__COUNT; i++) {
            if ((i >= TSC_PRE_CONNECT) != (tunnels != 0) || st->prelude_seen[i] == 0) {
                continue;
            }
            tsc_jw_key(&j, tsc_prelude_proto_name(i));
            tsc_jw_obj_begin(&j);
            tsc_jw_kuint(&j, "seen", st->prelude_seen[i]);
            tsc_jw_kuint(&j, tunnels ? "established" : "upgraded", st->prelude_upgraded[i]);
            tsc_jw_obj_end(&j);
        }
        tsc_jw_obj_end(&j);
    }
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "decryption");
    tsc_jw_obj_begin(&j);
    tsc_jw_kuint(&j, "decrypted_connections", st->decrypted_connections);
    tsc_jw_kuint(&j, "bad_records", st->bad_records);
    tsc_jw_kuint(&j, "keylog_lines_exported", st->keylog_lines_exported);
    tsc_jw_kuint(&j, "rsa_private_ops", st->rsa_private_ops);
    tsc_jw_key(&j, "trial");
    tsc_jw_obj_begin(&j);
    for (int i = 0; i < TSC_TRIAL_COST__COUNT; i++) {
        tsc_jw_kuint(&j, tsc_trial_cost_name((enum tsc_trial_cost_kind)i), st->trial[i]);
    }
    tsc_jw_obj_end(&j);
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "export");
    tsc_jw_obj_begin(&j);
    tsc_jw_kuint(&j, "pcapng_packets", st->pcapng_packets_written);
    tsc_jw_kuint(&j, "pcapng_secret_lines", st->pcapng_secret_lines);
    tsc_jw_kuint(&j, "data_files", st->data_files);
    tsc_jw_kuint(&j, "data_bytes", st->data_bytes);
    tsc_jw_kuint(&j, "data_holes", st->data_holes);
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "diagnostics");
    tsc_jw_obj_begin(&j);
    if (st->diag_counts != NULL) {
        for (int k = 0; k < TSC_DIAG__COUNT; k++) {
            if (st->diag_counts[k] != 0) {
                tsc_jw_kuint(&j, tsc_diag_name((enum tsc_diag_kind)k), st->diag_counts[k]);
            }
        }
    }
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "certificate_cache");
    tsc_jw_obj_begin(&j);
    tsc_jw_kuint(&j, "lookups", st->cert_lookups);
    tsc_jw_kuint(&j, "hits", st->cert_hits);
    tsc_jw_obj_end(&j);
    if (st->have_verify) {
        const struct tsc_vcert_stats *vs = &st->vcerts;
        tsc_jw_key(&j, "verify_cache");
        tsc_jw_obj_begin(&j);
        tsc_jw_key(&j, "certificates");
        tsc_jw_obj_begin(&j);
        tsc_jw_kuint(&j, "capacity", vs->capacity);
        tsc_jw_kuint(&j, "entries", vs->entries);
        tsc_jw_kuint(&j, "lookups", vs->lookups);
        tsc_jw_kuint(&j, "hits", vs->hits);
        tsc_jw_kuint(&j, "evictions", vs->evictions);
        tsc_jw_kuint(&j, "uncached", vs->uncached);
        tsc_jw_kuint(&j, "contexts", vs->contexts);
        tsc_jw_kuint(&j, "context_hits", vs->context_hits);
        tsc_jw_kuint(&j, "name_hits", vs->name_hits);
        tsc_jw_kuint(&j, "memory_bytes", vs->memory_bytes);
        tsc_jw_obj_end(&j);
        tsc_jw_key(&j, "chains");
        if (st->have_chains) {
            const struct tsc_chain_stats *cs = &st->chains;
            tsc_jw_obj_begin(&j);
            tsc_jw_kuint(&j, "capacity", cs->capacity);
            tsc_jw_kuint(&j, "entries", cs->entries);
            tsc_jw_kuint(&j, "lookups", cs->lookups);
            tsc_jw_kuint(&j, "hits", cs->hits);
            tsc_jw_kuint(&j, "evictions", cs->evictions);
            tsc_jw_kuint(&j, "memory_bytes", cs->memory_bytes);
            tsc_jw_obj_end(&j);
        } else {
            tsc_jw_null(&j);
        }
        tsc_jw_obj_end(&j);
    }
    tsc_jw_key(&j, "session_cache");
    if (st->have_sessions) {
        const struct tsc_sess_cache_stats *ss = &st->sessions;
        tsc_jw_obj_begin(&j);
        tsc_jw_kuint(&j, "capacity", ss->capacity);
        tsc_jw_kuint(&j, "entries", ss->entries);
        tsc_jw_kuint(&j, "inserts", ss->inserts);
        tsc_jw_kuint(&j, "updates", ss->updates);
        tsc_jw_kuint(&j, "lookups", ss->lookups);
        tsc_jw_kuint(&j, "hits", ss->hits);
        tsc_jw_kuint(&j, "evictions", ss->evictions);
        tsc_jw_kuint(&j, "memory_bytes", ss->memory_bytes);
        tsc_jw_kuint(&j, "resumed_connections", st->resumed_connections);
        tsc_jw_kuint(&j, "resumed_linked", st->resumed_linked);
        tsc_jw_obj_end(&j);
    } else {
        tsc_jw_null(&j);
    }
    tsc_jw_key(&j, "elapsed_s");
    tsc_jw_double(&j, st->elapsed_s);
    if (st->have_kernel) {
        tsc_jw_key(&j, "kernel");
        tsc_jw_obj_begin(&j);
        tsc_jw_kuint(&j, "received", st->kernel_recv);
        tsc_jw_kuint(&j, "dropped", st->kernel_drop);
        tsc_jw_obj_end(&j);
    }
    if (st->have_memory) {
        tsc_jw_key(&j, "memory");
        tsc_jw_obj_begin(&j);
        tsc_jw_kuint(&j, "heap_bytes", st->heap_bytes);
        tsc_jw_kuint(&j, "rss_bytes", st->rss_bytes);
        tsc_jw_kuint(&j, "accounted_bytes", st->accounted_bytes);
        tsc_jw_key(&j, "limit_bytes");
        if (st->memory_limit > 0) {
            tsc_jw_uint(&j, st->memory_limit);
        } else {
            tsc_jw_null(&j);
        }
        tsc_jw_obj_end(&j);
        tsc_jw_key(&j, "evictions");
        tsc_jw_obj_begin(&j);
        tsc_jw_kuint(&j, "flows", st->tcp.evicted_flows);
        tsc_jw_kuint(&j, "memory", st->memory_evictions);
        tsc_jw_kuint(&j, "ooo_dropped_bytes", st->tcp.ooo_dropped_bytes);
        tsc_jw_kuint(&j, "session_cache", st->have_sessions ? st->sessions.evictions : 0);
        tsc_jw_kuint(&j, "certificate_cache", st->cert_evictions);
        tsc_jw_kuint(&j, "pending_records", st->pending_records_dropped);
        tsc_jw_obj_end(&j);
    }
    if (st->have_follow) {
        tsc_jw_key(&j, "keylog_follow");
        tsc_jw_obj_begin(&j);
        tsc_jw_kuint(&j, "files", st->follow_files);
        tsc_jw_kuint(&j, "lines", st->follow_lines);
        tsc_jw_kuint(&j, "entries_added", st->follow_entries);
        tsc_jw_kuint(&j, "truncations", st->follow_truncations);
        tsc_jw_kuint(&j, "reopens", st->follow_reopens);
        tsc_jw_kuint(&j, "held_records", st->held_records);
        tsc_jw_kuint(&j, "held_bytes_peak", st->held_bytes_peak);
        tsc_jw_kuint(&j, "released_without_keys", st->pending_records_dropped);
        tsc_jw_kuint(&j, "index_entries", st->follow_index_entries);
        tsc_jw_kuint(&j, "index_dropped", st->follow_index_dropped);
        tsc_jw_obj_end(&j);
    }
    end(&j);
}
