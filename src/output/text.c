/*
 * Text writer, close to ssldump's layout so its users feel at home:
 *
 *   New TCP connection #1: 10.0.0.80(56637) <-> 68.233.76.12(443)
 *   1 1  0.0010 (0.0010)  C>S  Handshake
 *         ClientHello
 *   1 2  0.0702 (0.0692)  S>C  Handshake
 *         ServerHello TLS_RSA_WITH_RC4_128_MD5
 *
 * connection number, record number, seconds since the connection's first
 * packet, (seconds since the previous line of this connection), direction,
 * record type; handshake messages indented below; -v adds their fields.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "output/hs_render.h"
#include "output/writer_impl.h"
#include "tls/names.h"

static void announce(struct tsc_writer *w, struct tsc_out_conn *c)
{
    if (c->announced) {
        return;
    }
    char a[64], b[64];
    tsc_fmt_ip(&c->tcp->client, a, sizeof(a));
    tsc_fmt_ip(&c->tcp->server, b, sizeof(b));
    tsc_bprintf(&w->buf, "New TCP connection #%" PRIu64 ": %s(%u) <-> %s(%u)\n", c->tcp->id, a,
                c->tcp->client.port, b, c->tcp->server.port);
    c->announced = true;
    c->last = c->tcp->first_ts;
}

/* "1 2  0.0702 (0.0692)  S>C  " */
static void line_head(struct tsc_writer *w, struct tsc_out_conn *c, int dir, bool numbered,
                      struct tsc_ts ts)
{
    announce(w, c);
    double since = tsc_ts_diff(ts, c->tcp->first_ts);
    double delta = tsc_ts_diff(ts, c->last);
    c->last = ts;
    if (numbered) {
        c->nrec++;
        tsc_bprintf(&w->buf, "%" PRIu64 " %" PRIu64 "  %.4f (%.4f)  %s  ", c->tcp->id, c->nrec,
                    since, delta, dir == TSC_DIR_C2S ? "C>S" : "S>C");
    } else {
        tsc_bprintf(&w->buf, "%" PRIu64 "    %.4f (%.4f)  %s  ", c->tcp->id, since, delta,
                    dir == TSC_DIR_C2S ? "C>S" : "S>C");
    }
}

void tsc_text_run(struct tsc_writer *w, const struct tsc_run_info *info)
{
    if (w->verbosity < 1) {
        return;
    }
    tsc_bprintf(&w->buf, "# tlsscope %s", tsc_version());
    for (int i = 0; i < info->n_inputs; i++) {
        char hex[65] = "";
        if (info->inputs[i].have_sha256) {
            tsc_hex(info->inputs[i].sha256, 32, hex);
        }
        tsc_bprintf(&w->buf, "%s %s%s%s", i == 0 ? " reading" : ",", info->inputs[i].file,
                    hex[0] ? " sha256:" : "", hex);
    }
    if (info->interface != NULL) {
        tsc_bprintf(&w->buf, " listening on %s", info->interface);
    }
    for (int i = 0; i < info->n_keyfiles; i++) {
        char hex[65] = "";
        if (info->keyfiles[i].have_sha256) {
            tsc_hex(info->keyfiles[i].sha256, 32, hex);
        }
        tsc_bprintf(&w->buf, "%s %s %s%s%s", i == 0 ? "; keys:" : ",", info->keyfiles[i].kind,
                    info->keyfiles[i].file, hex[0] ? " sha256:" : "", hex);
    }
    tsc_bprintf(&w->buf, "\n");
}

void tsc_text_record(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                     const struct tsc_tls_record_info *r)
{
    line_head(w, c, dir, true, r->ts);
    if (r->sslv2) {
        tsc_bprintf(&w->buf, "SSLv2 record%s length %" PRIu32 "\n",
                    r->encrypted ? " (encrypted)" : "", r->length);
        return;
    }
    const char *name = tsc_name_content_type(r->content_type);
    if (name == NULL) {
        tsc_bprintf(&w->buf, "record type %u", r->content_type);
    } else if (strcmp(name, "change_cipher_spec") == 0) {
        tsc_bprintf(&w->buf, "ChangeCipherSpec");
    } else if (strcmp(name, "handshake") == 0) {
        tsc_bprintf(&w->buf, "Handshake");
    } else if (strcmp(name, "alert") == 0) {
        tsc_bprintf(&w->buf, "Alert");
    } else if (strcmp(name, "application_data") == 0) {
        tsc_bprintf(&w->buf, "application_data");
    } else {
        tsc_bprintf(&w->buf, "%s", name);
    }
    if (r->decrypted && r->inner_type != r->content_type) {
        const char *in = tsc_name_content_type(r->inner_type);
        tsc_bprintf(&w->buf, " (decrypted: %s)", in != NULL ? in : "unknown type");
    } else if (r->decrypted) {
        tsc_bprintf(&w->buf, " (decrypted)");
    } else if (r->encrypted && r->content_type == 22) {
        tsc_bprintf(&w->buf, " (encrypted)");
    }
    if (w->verbosity >= 1) {
        const char *vn = tsc_name_version(r->version);
        tsc_bprintf(&w->buf, "  [%s, %" PRIu32 " bytes]", vn != NULL ? vn : "?", r->length);
    }
    tsc_bprintf(&w->buf, "\n");
}

void tsc_text_handshake(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                        const struct tsc_hs_msg *m, uint64_t pkt, struct tsc_ts ts)
{
    (void)dir;
    (void)pkt;
    (void)ts;
    announce(w, c);
    uint8_t t = tsc_hs_msg_type(m);
    const char *name = tsc_name_handshake_type(t);
    if (name != NULL) {
        tsc_bprintf(&w->buf, "      %s", name);
    } else {
        tsc_bprintf(&w->buf, "      handshake type %u", t);
    }
    size_t before = w->buf.len;
    tsc_render_hs_text(&w->buf, m, 0, "");
    (void)before;
    tsc_bprintf(&w->buf, "\n");
    if (w->verbosity >= 1) {
        tsc_render_hs_text(&w->buf, m, w->verbosity, "        ");
        tsc_render_fp_text(&w->buf, m, w->fp, &w->fp_raw, "        ");
    }
}

void tsc_text_alert(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                    const struct tsc_tls_alert_info *a)
{
    (void)dir;
    announce(w, c);
    if (a->encrypted) {
        tsc_bprintf(&w->buf, "      (encrypted alert)\n");
        return;
    }
    const char *lv = tsc_name_alert_level(a->level);
    const char *ds = tsc_name_alert_description(a->description);
    tsc_bprintf(&w->buf, "      level           %s (%u)\n", lv != NULL ? lv : "unknown", a->level);
    tsc_bprintf(&w->buf, "      value           %s (%u)\n", ds != NULL ? ds : "unknown",
                a->description);
}

void tsc_text_heartbeat(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint8_t type,
                        uint16_t payload_length, uint32_t record_len, bool overlong,
                        uint64_t pkt, struct tsc_ts ts)
{
    (void)dir;
    (void)pkt;
    (void)ts;
    announce(w, c);
    tsc_bprintf(&w->buf, "      heartbeat %s payload_length %u in a %" PRIu32 "-byte record%s\n",
                type == 1 ? "request" : type == 2 ? "response" : "?", payload_length, record_len,
                overlong ? "  ** OVERLONG (Heartbleed-style) **" : "");
}

static bool text_like(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\n' && p[i] != '\r' && p[i] != '\t') {
            return false;
        }
    }
    return true;
}

/* 16 bytes a line: offset, hex, printable characters ('.' for the rest), as ssldump -x. */
static void hex_dump(struct tsc_buf *b, const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n; off += 16) {
        size_t k = n - off < 16 ? n - off : 16;
        char hex[16 * 3 + 1];
        char asc[17];
        for (size_t i = 0; i < 16; i++) {
            if (i < k) {
                snprintf(hex + 3 * i, 4, "%02x ", p[off + i]);
                asc[i] = (p[off + i] >= 0x20 && p[off + i] <= 0x7e) ? (char)p[off + i] : '.';
            } else {
                memcpy(hex + 3 * i, "   ", 4);
                asc[i] = '\0';
            }
        }
        asc[k] = '\0';
        tsc_bprintf(b, "    %04zx  %s %s\n", off, hex, asc);
    }
}

void tsc_text_app_data(struct tsc_writer *w, struct tsc_out_conn *c, int dir, const uint8_t *p,
                       size_t n, uint64_t pkt, struct tsc_ts ts)
{
    (void)dir;
    (void)pkt;
    (void)ts;
    announce(w, c);
    static const char rule[] =
        "    ---------------------------------------------------------------\n";
    tsc_bprintf(&w->buf, "%s", rule);
    bool text = text_like(p, n);
    if (text && n > 0) {
        /* Printable text as is, each line indented (ssldump -d). */
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i == n || p[i] == '\n') {
                size_t len = i - start;
                if (len > 0 && p[start + len - 1] == '\r') {
                    len--;
                }
                if (i < n || len > 0) {
                    tsc_bprintf(&w->buf, "    %.*s\n", (int)len, (const char *)p + start);
                }
                start = i + 1;
            }
        }
    }
    if (!text || w->verbosity >= 1) {
        hex_dump(&w->buf, p, n);
    }
    tsc_bprintf(&w->buf, "%s", rule);
}

void tsc_text_gap(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint64_t len,
                  uint64_t pkt, struct tsc_ts ts)
{
    (void)pkt;
    line_head(w, c, dir, false, ts);
    tsc_bprintf(&w->buf, "TCP gap: %" PRIu64 " bytes missing\n", len);
}

void tsc_text_diag(struct tsc_writer *w, enum tsc_diag_kind kind, const struct tsc_where *where,
                   const char *msg)
{
    /* Diagnostics go to the same stream as the events they explain. */
    tsc_bprintf(&w->buf, "!! %s: %s", tsc_diag_name(kind), msg);
    if (where->file != NULL) {
        tsc_bprintf(&w->buf, " [file %s", where->file);
        if (where->pkt != 0) {
            tsc_bprintf(&w->buf, ", packet %" PRIu64, where->pkt);
        }
        tsc_bprintf(&w->buf, "]");
    } else if (where->pkt != 0) {
        tsc_bprintf(&w->buf, " [packet %" PRIu64 "]", where->pkt);
    }
    if (where->conn != TSC_NO_CONN) {
        tsc_bprintf(&w->buf, " [conn %" PRIu64, where->conn);
        if (where->dir == 0 || where->dir == 1) {
            tsc_bprintf(&w->buf, " %s", where->dir == 0 ? "C>S" : "S>C");
        }
        if (where->offset >= 0) {
            tsc_bprintf(&w->buf, " offset %" PRId64, where->offset);
        }
        tsc_bprintf(&w->buf, "]");
    }
    tsc_bprintf(&w->buf, "\n");
}

static void quoted(struct tsc_writer *w, const char *label, const char *s)
{
    if (s != NULL && s[0] != '\0') {
        tsc_bprintf(&w->buf, "; %s \"%s\"", label, s);
    }
}

void tsc_text_prelude(struct tsc_writer *w, struct tsc_out_conn *c, enum tsc_prelude_event kind,
                      uint64_t pkt, struct tsc_ts ts)
{
    const struct tsc_prelude_facts *f = c->prelude;
    (void)pkt;
    announce(w, c);
    double since = tsc_ts_diff(ts, c->tcp->first_ts);
    double delta = tsc_ts_diff(ts, c->last);
    c->last = ts;
    tsc_bprintf(&w->buf, "%" PRIu64 "    %.4f (%.4f)  ", c->tcp->id, since, delta);
    if (kind == TSC_PRELUDE_EV_TUNNEL) {
        tsc_bprintf(&w->buf, "TUNNEL %s", f->tunnel);
        if (f->tunnel_host[0] != '\0') {
            tsc_bprintf(&w->buf, " to %s:%u", f->tunnel_host, f->tunnel_port);
        }
        tsc_bprintf(&w->buf, ": %s", tsc_prelude_outcome_name(f->tunnel_outcome));
        if (f->tunnel_auth != NULL) {
            tsc_bprintf(&w->buf, " (auth %s)", f->tunnel_auth);
        }
        quoted(w, "request", f->command);
        quoted(w, "reply", f->tunnel_reply);
    } else {
        tsc_bprintf(&w->buf, "STARTTLS %s: %s", f->starttls,
                    tsc_prelude_outcome_name(f->starttls_outcome));
        quoted(w, "banner", f->banner);
        quoted(w, "command", f->command);
        quoted(w, "reply", f->reply);
    }
    tsc_bprintf(&w->buf, "; cleartext C>S %" PRIu64 " S>C %" PRIu64 " bytes\n", f->bytes[0],
                f->bytes[1]);
}

void tsc_text_connection(struct tsc_writer *w, struct tsc_out_conn *c,
                         const struct tsc_tls_facts *f, enum tsc_tcp_end_reason why)
{
    announce(w, c);
    double since = tsc_ts_diff(c->tcp->last_ts, c->tcp->first_ts);
    double delta = tsc_ts_diff(c->tcp->last_ts, c->last);
    const char *vn = f->version >= 0 ? tsc_name_version((uint16_t)f->version) : NULL;
    const char *cs = f->cipher_suite >= 0 ? tsc_name_cipher_suite((uint16_t)f->cipher_suite)
                                          : NULL;
    tsc_bprintf(&w->buf, "%" PRIu64 "    %.4f (%.4f)  connection end (%s): %s", c->tcp->id,
                since, delta, tsc_tcp_end_reason_name(why), vn != NULL ? vn : "version unknown");
    if (cs != NULL) {
        tsc_bprintf(&w->buf, " %s", cs);
    } else if (f->cipher_suite >= 0) {
        tsc_bprintf(&w->buf, " cipher 0x%04x", (unsigned)f->cipher_suite);
    }
    if (f->sni[0] != '\0') {
        tsc_bprintf(&w->buf, " sni=%s", f->sni);
    }
    if (f->alpn[0] != '\0') {
        tsc_bprintf(&w->buf, " alpn=%s", f->alpn);
    }
    if (f->resumed) {
        tsc_bprintf(&w->buf, " resumed");
    }
    if (f->have_resumed_from) {
        tsc_bprintf(&w->buf, " from=%" PRIu64, f->resumed_from);
    }
    if (w->verbosity >= 1) {
        const char *fps[3][2] = {{"ja3", f->ja3}, {"ja3s", f->ja3s}, {"ja4", f->ja4}};
        for (int i = 0; i < 3; i++) {
            if (fps[i][1][0] != '\0') {
                tsc_bprintf(&w->buf, " %s=%s", fps[i][0], fps[i][1]);
            }
        }
    }
    if (f->n_certs > 0 && f->certs[0] != NULL && f->certs[0]->parse_ok) {
        tsc_bprintf(&w->buf, " cert=\"%s\"", f->certs[0]->subject);
    }
    if (f->partial) {
        tsc_bprintf(&w->buf, " partial (picked up midstream");
        for (int d = 0; d < 2; d++) {
            if (f->dir[d].picked_up) {
                tsc_bprintf(&w->buf, " %s@%" PRIu64, d == 0 ? "C>S" : "S>C",
                            f->dir[d].pickup_offset);
            }
        }
        tsc_bprintf(&w->buf, ")");
    }
    if (f->malformed) {
        tsc_bprintf(&w->buf, " MALFORMED");
    }
    const struct tsc_decrypt_facts *dec = &f->dec;
    if (dec->key_material) {
        if (dec->decrypted) {
            tsc_bprintf(&w->buf, " decrypted (%s%s)",
                        dec->key_source != NULL ? dec->key_source : "?",
                        dec->trial_matched ? ", keys found by trial" : "");
        } else {
            tsc_bprintf(&w->buf, " not decrypted (%s)",
                        dec->undecrypted_reason != NULL ? dec->undecrypted_reason : "?");
        }
        tsc_bprintf(&w->buf, " finished client=%s server=%s",
                    dec->finished[0] != NULL ? dec->finished[0] : "unverified",
                    dec->finished[1] != NULL ? dec->finished[1] : "unverified");
        if (dec->bad_records > 0) {
            tsc_bprintf(&w->buf, " bad_records=%" PRIu64, dec->bad_records);
        }
    }
    tsc_bprintf(&w->buf, "\n");
}

/* Periodic statistics of a live run: one line. */
static void text_stats_line(struct tsc_writer *w, const struct tsc_run_stats *st)
{
    tsc_bprintf(&w->buf,
                "-- stats %.1f s: packets %" PRIu64 ", bytes %" PRIu64 ", kernel drops %" PRIu64
                ", flows open %" PRIu64 ", TLS connections %" PRIu64 ", memory %.1f MiB",
                st->elapsed_s, st->packets, st->bytes, st->have_kernel ? st->kernel_drop : 0,
                st->tcp.open_flows, st->tls_connections, (double)st->heap_bytes / 1048576.0);
    if (st->memory_limit > 0) {
        tsc_bprintf(&w->buf, " (accounted %.1f of %.1f MiB)",
                    (double)st->accounted_bytes / 1048576.0,
                    (double)st->memory_limit / 1048576.0);
    }
    tsc_bprintf(&w->buf,
                ", evictions: flows %" PRIu64 ", session cache %" PRIu64
                ", certificate cache %" PRIu64 ", pending records %" PRIu64 "\n",
                st->tcp.evicted_flows, st->have_sessions ? st->sessions.evictions : 0,
                st->cert_evictions, st->pending_records_dropped);
}

void tsc_text_stats(struct tsc_writer *w, const struct tsc_run_stats *st)
{
    if (!st->final) {
        text_stats_line(w, st);
        return;
    }
    tsc_bprintf(&w->buf,
                "\n== tlsscope statistics ==\npackets %" PRIu64 ", bytes %" PRIu64
                ", TCP connections %" PRIu64 ", TLS connections %" PRIu64 ", %.3f s\n",
                st->packets, st->bytes, st->tcp_connections, st->tls_connections,
                st->elapsed_s);
    tsc_bprintf(&w->buf, "versions:");
    for (int i = 0; i < TSC_VERSION_BUCKETS; i++) {
        if (st->versions[i] != 0) {
            tsc_bprintf(&w->buf, " %s=%" PRIu64, tsc_version_bucket_name(i), st->versions[i]);
        }
    }
    tsc_bprintf(&w->buf, "\ncipher suites:");
    if (st->suite_counts != NULL) {
        for (uint32_t s = 0; s < 65536; s++) {
            if (st->suite_counts[s] != 0) {
                const char *n = tsc_name_cipher_suite((uint16_t)s);
                if (n != NULL) {
                    tsc_bprintf(&w->buf, " %s=%" PRIu64, n, st->suite_counts[s]);
                } else {
                    tsc_bprintf(&w->buf, " 0x%04x=%" PRIu64, s, st->suite_counts[s]);
                }
            }
        }
    }
    tsc_bprintf(&w->buf,
                "\nanomalies: malformed=%" PRIu64 " heartbleed=%" PRIu64 " partial=%" PRIu64
                "; TCP gaps %" PRIu64 " bytes, conflicting overlaps %" PRIu64
                " bytes, evicted flows %" PRIu64 "\n",
                st->malformed_connections, st->heartbleed_connections, st->partial_connections,
                st->tcp.gap_bytes, st->tcp.conflict_bytes, st->tcp.evicted_flows);
    bool seen = false;
    for (unsigned i = 1; i < TSC_PRE__COUNT; i++) {
        if (st->prelude_seen[i] != 0) {
            tsc_bprintf(&w->buf, "%s %s=%" PRIu64 "/%" PRIu64,
                        seen ? "," : "discovery (upgraded/seen):", tsc_prelude_proto_name(i),
                        st->prelude_upgraded[i], st->prelude_seen[i]);
            seen = true;
        }
    }
    if (seen) {
        tsc_bprintf(&w->buf, "\n");
    }
    if (st->decrypted_connections > 0 || st->bad_records > 0) {
        tsc_bprintf(&w->buf, "decryption: %" PRIu64 " connections decrypted, %" PRIu64
                             " bad records\n",
                    st->decrypted_connections, st->bad_records);
    }
    bool any = false;
    if (st->diag_counts != NULL) {
        for (int k = 0; k < TSC_DIAG__COUNT; k++) {
            if (st->diag_counts[k] != 0) {
                tsc_bprintf(&w->buf, "%s %s=%" PRIu64, any ? "" : "diagnostics:",
                            tsc_diag_name((enum tsc_diag_kind)k), st->diag_counts[k]);
                any = true;
            }
        }
    }
    if (any) {
        tsc_bprintf(&w->buf, "\n");
    }
    if (st->have_kernel) {
        tsc_bprintf(&w->buf, "kernel: received %" PRIu64 ", dropped %" PRIu64 "\n",
                    st->kernel_recv, st->kernel_drop);
    }
    if (st->have_memory) {
        tsc_bprintf(&w->buf, "memory: heap %.1f MiB, resident %.1f MiB",
                    (double)st->heap_bytes / 1048576.0, (double)st->rss_bytes / 1048576.0);
        if (st->memory_limit > 0) {
            tsc_bprintf(&w->buf, ", accounted %.1f of %.1f MiB",
                        (double)st->accounted_bytes / 1048576.0,
                        (double)st->memory_limit / 1048576.0);
        }
        tsc_bprintf(&w->buf,
                    "; evictions: flows %" PRIu64 ", session cache %" PRIu64
                    ", certificate cache %" PRIu64 ", pending records %" PRIu64 "\n",
                    st->tcp.evicted_flows, st->have_sessions ? st->sessions.evictions : 0,
                    st->cert_evictions, st->pending_records_dropped);
    }
}
