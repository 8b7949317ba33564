/*
 * --verify output: the `verdict` event per connection and the closing
 * `verify_summary` (JSON, docs/json-schema.md), or a verdict line per
 * connection and a summary table (text).
 */
#include <inttypes.h>
#include <string.h>

#include "output/writer_impl.h"
#include "tls/names.h"

static void kstr_opt(struct tsc_jw *j, const char *k, const char *s)
{
    if (s != NULL) {
        tsc_jw_kstr(j, k, s);
    } else {
        tsc_jw_knull(j, k);
    }
}

static void j_sig(struct tsc_jw *j, const char *k, const struct tsc_sig_fact *s)
{
    tsc_jw_key(j, k);
    if (!s->present) {
        tsc_jw_null(j);
        return;
    }
    tsc_jw_obj_begin(j);
    tsc_jw_kstr(j, "result", tsc_check_name(s->result));
    if (s->has_scheme) {
        tsc_jw_kuint(j, "scheme", s->scheme);
        kstr_opt(j, "scheme_name", tsc_name_sigscheme(s->scheme));
    } else {
        tsc_jw_knull(j, "scheme");
        tsc_jw_knull(j, "scheme_name");
    }
    kstr_opt(j, "error", s->error);
    tsc_jw_kuint(j, "pkt", s->pkt);
    tsc_jw_obj_end(j);
}

static void j_ledger(struct tsc_jw *j, const struct tsc_ledger *l)
{
    tsc_jw_obj_begin(j);
    tsc_jw_kuint(j, "records", l->records);
    tsc_jw_kuint(j, "plaintext", l->plaintext);
    tsc_jw_kuint(j, "protected", l->protected_records);
    tsc_jw_kuint(j, "decrypted", l->decrypted);
    tsc_jw_kuint(j, "authenticated", l->authenticated);
    tsc_jw_kuint(j, "failed", l->failed);
    tsc_jw_kuint(j, "undecryptable", l->undecryptable);
    tsc_jw_key(j, "first_failed");
    if (l->first_failed_record == 0) {
        tsc_jw_null(j);
    } else {
        tsc_jw_obj_begin(j);
        tsc_jw_kuint(j, "record", l->first_failed_record);
        tsc_jw_kuint(j, "pkt", l->first_failed_pkt);
        kstr_opt(j, "reason", l->first_failed_reason);
        tsc_jw_obj_end(j);
    }
    tsc_jw_obj_end(j);
}

static void jsonl_verdict(struct tsc_writer *w, struct tsc_out_conn *c,
                          const struct tsc_tls_facts *f, const struct tsc_verify_facts *vf,
                          const struct tsc_verdict *vd)
{
    struct tsc_jw j;
    tsc_jw_init(&j, &w->buf);
    tsc_jw_obj_begin(&j);
    tsc_jw_kstr(&j, "type", "verdict");
    tsc_jw_kuint(&j, "conn", c->tcp->id);
    tsc_jw_kstr(&j, "verdict", tsc_verdict_name(vd->kind));
    tsc_jw_key(&j, "reasons");
    tsc_jw_arr_begin(&j);
    char tmp[256];
    for (uint32_t i = 0; i < vd->n_checks; i++) {
        const struct tsc_vcheck *k = &vd->checks[i];
        bool optional = strcmp(k->check, "certificate_chain") == 0 ||
                        strcmp(k->check, "server_name") == 0;
        if (k->result == TSC_CHECK_FAIL || (k->result == TSC_CHECK_NOT_CHECKED && !optional)) {
            snprintf(tmp, sizeof(tmp), "%s: %s", k->check, k->detail);
            tsc_jw_str(&j, tmp);
        }
    }
    tsc_jw_arr_end(&j);
    tsc_jw_key(&j, "handshake");
    tsc_jw_obj_begin(&j);
    tsc_jw_kbool(&j, "complete", vd->handshake_complete);
    kstr_opt(&j, "stopped_after", vd->stopped_after);
    kstr_opt(&j, "stopped_from", vd->stopped_from);
    tsc_jw_obj_end(&j);
    kstr_opt(&j, "key_source", f->dec.key_source);
    kstr_opt(&j, "undecrypted_reason", f->dec.undecrypted_reason);
    kstr_opt(&j, "master_secret", vd->master_secret);
    kstr_opt(&j, "server_auth", vd->server_auth);
    tsc_jw_key(&j, "checks");
    tsc_jw_arr_begin(&j);
    for (uint32_t i = 0; i < vd->n_checks; i++) {
        tsc_jw_obj_begin(&j);
        tsc_jw_kstr(&j, "check", vd->checks[i].check);
        tsc_jw_kstr(&j, "result", tsc_check_name(vd->checks[i].result));
        tsc_jw_kstr(&j, "detail", vd->checks[i].detail);
        tsc_jw_obj_end(&j);
    }
    tsc_jw_arr_end(&j);
    tsc_jw_key(&j, "signatures");
    tsc_jw_obj_begin(&j);
    j_sig(&j, "server_key_exchange", &vf->ske);
    j_sig(&j, "server_certificate_verify", &vf->server_cv);
    j_sig(&j, "client_certificate_verify", &vf->client_cv);
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "certificates");
    tsc_jw_obj_begin(&j);
    tsc_jw_kbool(&j, "server_certificate", vf->server_cert);
    tsc_jw_kbool(&j, "client_certificate", vf->client_cert);
    tsc_jw_kstr(&j, "chain", tsc_check_name(vf->chain));
    if (vf->chain_error[0] != '\0') {
        tsc_jw_kstr(&j, "chain_error", vf->chain_error);
    } else {
        tsc_jw_knull(&j, "chain_error");
    }
    tsc_jw_kstr(&j, "name", tsc_check_name(vf->name));
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "ledger");
    tsc_jw_obj_begin(&j);
    tsc_jw_key(&j, "c2s");
    j_ledger(&j, &vf->ledger[0]);
    tsc_jw_key(&j, "s2c");
    j_ledger(&j, &vf->ledger[1]);
    tsc_jw_obj_end(&j);
    const struct tsc_tcp_dir_stats *st = c->tcp->stats;
    tsc_jw_key(&j, "tcp");
    tsc_jw_obj_begin(&j);
    tsc_jw_kbool(&j, "start_captured", c->tcp->saw_syn);
    tsc_jw_kuint(&j, "gap_bytes", st[0].gap_bytes + st[1].gap_bytes);
    tsc_jw_kuint(&j, "conflict_bytes", st[0].conflict_bytes + st[1].conflict_bytes);
    tsc_jw_kuint(&j, "truncated_segments", st[0].truncated_segments + st[1].truncated_segments);
    tsc_jw_kuint(&j, "retransmitted_bytes", st[0].retransmitted_bytes + st[1].retransmitted_bytes);
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "findings");
    tsc_jw_arr_begin(&j);
    for (uint32_t i = 0; i < vf->n_findings; i++) {
        const struct tsc_finding *x = &vf->findings[i];
        tsc_jw_obj_begin(&j);
        tsc_jw_kstr(&j, "finding", x->code);
        tsc_jw_kstr(&j, "severity", x->severity);
        tsc_jw_kstr(&j, "detail", x->detail);
        if (x->pkt != 0) {
            tsc_jw_kuint(&j, "pkt", x->pkt);
        } else {
            tsc_jw_knull(&j, "pkt");
        }
        tsc_jw_obj_end(&j);
    }
    tsc_jw_arr_end(&j);
    tsc_jw_kuint(&j, "findings_dropped", vf->findings_dropped);
    tsc_jw_obj_end(&j);
    if (tsc_buf_append(&w->buf, "\n", 1) != TSC_OK) {
        return; /* out of memory: the event is cut */
    }
}

static void text_verdict(struct tsc_writer *w, struct tsc_out_conn *c,
                         const struct tsc_verify_facts *vf, const struct tsc_verdict *vd)
{
    tsc_bprintf(&w->buf, "%" PRIu64 "    verdict: %s\n", c->tcp->id, tsc_verdict_name(vd->kind));
    for (uint32_t i = 0; i < vd->n_checks; i++) {
        const struct tsc_vcheck *k = &vd->checks[i];
        if (w->verbosity == 0 && k->result == TSC_CHECK_PASS) {
            continue;
        }
        tsc_bprintf(&w->buf, "        %-11s %-30s %s\n", tsc_check_name(k->result), k->check,
                    k->detail);
    }
    for (uint32_t i = 0; i < vf->n_findings; i++) {
        const struct tsc_finding *x = &vf->findings[i];
        tsc_bprintf(&w->buf, "        finding %-8s %-26s %s\n", x->severity, x->code, x->detail);
    }
}

void tsc_writer_verdict(struct tsc_writer *w, struct tsc_out_conn *c, const struct tsc_tls_facts *f,
                        const struct tsc_verify_facts *vf, const struct tsc_verdict *vd)
{
    if (w->format == TSC_FORMAT_JSONL) {
        jsonl_verdict(w, c, f, vf, vd);
    } else if (w->format == TSC_FORMAT_TEXT) {
        text_verdict(w, c, vf, vd);
    } /* ECS and NONE: not in the stream */
    tsc_writer_emit(w);
    if (tsc_writer_cb_wants(w, TSC_EV_VERDICT)) {
        struct tsc_conn_info ci;
        struct tsc_event ev;
        tsc_writer_cb_conn(&ci, c);
        tsc_writer_cb_init(&ev, TSC_EV_VERDICT, "verdict", &ci, -1, 0, c->tcp->last_ts);
        ev.facts = f;
        ev.verdict = tsc_verdict_name(vd->kind);
        TSC_WRITER_CB_JSON(jsonl_verdict, w, c, f, vf, vd);
        tsc_writer_cb_fire(w, &ev);
    }
}

void tsc_writer_verify_summary(struct tsc_writer *w, const struct tsc_vsum *s)
{
    if (w->format == TSC_FORMAT_ECS || w->format == TSC_FORMAT_NONE) {
        return;
    }
    if (w->format == TSC_FORMAT_JSONL) {
        struct tsc_jw j;
        tsc_jw_init(&j, &w->buf);
        tsc_jw_obj_begin(&j);
        tsc_jw_kstr(&j, "type", "verify_summary");
        tsc_jw_kuint(&j, "connections", s->counts[0] + s->counts[1] + s->counts[2]);
        tsc_jw_kuint(&j, "verified", s->counts[TSC_VERDICT_VERIFIED]);
        tsc_jw_kuint(&j, "incomplete", s->counts[TSC_VERDICT_INCOMPLETE]);
        tsc_jw_kuint(&j, "failed", s->counts[TSC_VERDICT_FAILED]);
        tsc_jw_obj_end(&j);
        if (tsc_buf_append(&w->buf, "\n", 1) != TSC_OK) {
        return; /* out of memory: the event is cut */
    }
        tsc_writer_emit(w);
        return;
    }
    tsc_bprintf(&w->buf,
                "\nVerification: %" PRIu64 " TLS connections: %" PRIu64 " verified, %" PRIu64
                " incomplete, %" PRIu64 " failed\n",
                s->counts[0] + s->counts[1] + s->counts[2], s->counts[TSC_VERDICT_VERIFIED],
                s->counts[TSC_VERDICT_INCOMPLETE], s->counts[TSC_VERDICT_FAILED]);
    tsc_bprintf(&w->buf, "%-6s %-10s %-8s %-40s %-24s %s\n", "conn", "verdict", "version",
                "cipher suite", "server name", "first problem");
    for (uint32_t i = 0; i < s->n_rows; i++) {
        const struct tsc_vsum_row *r = &s->rows[i];
        const char *vn = r->version >= 0 ? tsc_name_version((uint16_t)r->version) : NULL;
        const char *cs =
            r->cipher_suite >= 0 ? tsc_name_cipher_suite((uint16_t)r->cipher_suite) : NULL;
        tsc_bprintf(&w->buf, "%-6" PRIu64 " %-10s %-8s %-40.40s %-24.24s %s\n", r->conn,
                    tsc_verdict_name(r->kind), vn != NULL ? vn : "-", cs != NULL ? cs : "-",
                    r->sni[0] != '\0' ? r->sni : "-", r->problem[0] != '\0' ? r->problem : "-");
    }
    if (s->rows_dropped > 0) {
        tsc_bprintf(&w->buf, "(%" PRIu64 " more connections not listed; counts above are complete)\n",
                    s->rows_dropped);
    }
    tsc_writer_emit(w);
}
