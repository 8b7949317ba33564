/* HTML evidence report (report.h). */
#include "output/report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/names.h"

#define TSC_LADDER_EVENTS 64     /* events kept per connection; later ones counted */
#define TSC_REPORT_DIAGRAMS 2000 /* connections drawn in full; failed ones get as many more */
#define TSC_REPORT_SNI 1024      /* distinct server names counted; the rest is "(other)" */
#define TSC_REPORT_TIMES 200000  /* connection start times kept for the timeline */
#define TSC_REPORT_VERSIONS 16
#define TSC_REPORT_KEX 16

struct tsc_rev {
    struct tsc_ts ts;
    uint64_t pkt;
    uint64_t count;
    uint8_t kind;
    uint8_t dir;
    uint8_t code;
    uint8_t level;
};

struct tsc_report_conn {
    struct tsc_rev ev[TSC_LADDER_EVENTS];
    uint32_t n;
    uint32_t dropped;
};

struct tsc_count {
    char name[64];
    uint64_t n;
};

struct tsc_tpoint {
    double t;
    uint8_t kind;
};

struct tsc_report {
    FILE *f;       /* the report */
    FILE *detail;  /* per-connection sections, appended at the end */
    bool write_error;
    /* header */
    char *header; /* escaped HTML of the run header, built at tsc_report_run */
    /* aggregates */
    uint64_t conns;
    uint64_t verdicts[3];
    struct tsc_count versions[TSC_REPORT_VERSIONS];
    struct tsc_count kex[TSC_REPORT_KEX];
    uint32_t *suites; /* 65536 */
    struct tsc_count *sni; /* TSC_REPORT_SNI */
    uint32_t n_sni;
    uint64_t sni_other, sni_none;
    struct tsc_tpoint *times;
    uint32_t n_times;
    uint64_t times_dropped;
    uint64_t diagrams, diagrams_omitted;
};

/* ---- escaping ---- */

static void esc(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                fprintf(f, "&#%u;", c < 0x20 ? 0x2400u + c : 0x2421u); /* control pictures */
            } else {
                fputc(c, f);
            }
        }
    }
}

/* Escaped copy appended to a growing string (the header is built once). */
static void sappend(char **dst, size_t *len, size_t *cap, const char *s, bool escape)
{
    char tmp[16];
    for (; s != NULL && *s != '\0'; s++) {
        const char *piece = NULL;
        char c = *s;
        if (escape) {
            switch (c) {
            case '&': piece = "&amp;"; break;
            case '<': piece = "&lt;"; break;
            case '>': piece = "&gt;"; break;
            case '"': piece = "&quot;"; break;
            case '\'': piece = "&#39;"; break;
            default:
                if ((unsigned char)c < 0x20) {
                    snprintf(tmp, sizeof(tmp), "&#%u;", 0x2400u + (unsigned char)c);
                    piece = tmp;
                }
            }
        }
        size_t n = piece != NULL ? strlen(piece) : 1;
        if (*len + n + 1 > *cap) {
            size_t nc = *cap * 2 + n + 256;
            char *p = realloc(*dst, nc);
            if (p == NULL) {
                return;
            }
            *dst = p;
            *cap = nc;
        }
        if (piece != NULL) {
            memcpy(*dst + *len, piece, n);
        } else {
            (*dst)[*len] = c;
        }
        *len += n;
        (*dst)[*len] = '\0';
    }
}

/* ---- life cycle ---- */

int tsc_report_open(struct tsc_report **out, const char *path, char *errbuf, size_t errlen)
{
    struct tsc_report *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        snprintf(errbuf, errlen, "out of memory for the report");
        return -1;
    }
    r->suites = calloc(65536, sizeof(*r->suites));
    r->sni = calloc(TSC_REPORT_SNI, sizeof(*r->sni));
    r->times = calloc(TSC_REPORT_TIMES, sizeof(*r->times));
    r->f = fopen(path, "w");
    r->detail = tmpfile();
    if (r->suites == NULL || r->sni == NULL || r->times == NULL || r->f == NULL ||
        r->detail == NULL) {
        snprintf(errbuf, errlen, "cannot write report %s", path);
        tsc_report_free(r);
        return -1;
    }
    FILE *f = r->f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
          "<title>tlsscope evidence report</title>\n<style>\n"
          "body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:0 24px 24px;color:#222;"
          "display:flex;flex-direction:column}\n"
          "#hdr{order:1}#overview{order:2}#conns{order:3}#details{order:4}\n"
          "h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc}h3{font-size:15px}\n"
          "table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #eee;"
          "text-align:left;vertical-align:top}\n"
          "th[data-k]{cursor:pointer;background:#f3f3f3}th[data-k]:hover{background:#e4e4e4}\n"
          "td.verified,span.verified{color:#17702a;font-weight:600}"
          "td.failed,span.failed{color:#c00;font-weight:600}"
          "td.incomplete,span.incomplete{color:#a66300;font-weight:600}\n"
          "tr.conn td:last-child{max-width:420px}\n"
          ".charts{display:flex;flex-wrap:wrap;gap:24px}.chart{min-width:320px}\n"
          "code,.mono{font-family:ui-monospace,monospace;font-size:12px}\n"
          "svg.ladder text{font:12px system-ui,sans-serif}svg .bad{fill:#c00;stroke:#c00}"
          "svg line.bad{stroke-width:2}\n"
          ".conn{margin:12px 0 28px}.checks td.fail{color:#c00;font-weight:600}"
          ".checks td.pass{color:#17702a}.checks td.not_checked{color:#a66300}\n"
          ".note{color:#666;font-style:italic}\n"
          "</style></head><body>\n"
          "<section id=\"conns\"><h2>Connections</h2>\n"
          "<table id=\"conntable\"><thead><tr><th data-k=\"n\">#</th><th data-k=\"s\">verdict</th>"
          "<th data-k=\"s\">version</th><th data-k=\"s\">cipher suite</th>"
          "<th data-k=\"s\">server name</th><th data-k=\"s\">client</th><th data-k=\"s\">server</th>"
          "<th data-k=\"s\">start (UTC)</th><th data-k=\"n\">duration s</th>"
          "<th data-k=\"s\">first problem</th></tr></thead><tbody>\n",
          f);
    *out = r;
    return 0;
}

void tsc_report_free(struct tsc_report *r)
{
    if (r == NULL) {
        return;
    }
    if (r->f != NULL) {
        fclose(r->f);
    }
    if (r->detail != NULL) {
        fclose(r->detail);
    }
    free(r->header);
    free(r->suites);
    free(r->sni);
    free(r->times);
    free(r);
}

void tsc_report_run(struct tsc_report *r, const struct tsc_run_info *info)
{
    char *h = NULL;
    size_t len = 0, cap = 0;
    char tmp[160];
    char hex[65];
    sappend(&h, &len, &cap, "<section id=\"hdr\"><h1>tlsscope evidence report</h1>\n<table>", false);
    snprintf(tmp, sizeof(tmp), "<tr><th>tool</th><td>tlsscope %s</td></tr>", tsc_version());
    sappend(&h, &len, &cap, tmp, false);
    sappend(&h, &len, &cap, "<tr><th>options</th><td class=\"mono\">", false);
    for (int i = 0; info->cfg != NULL && i < info->cfg->argc; i++) {
        if (i > 0) {
            sappend(&h, &len, &cap, " ", false);
        }
        sappend(&h, &len, &cap, info->cfg->argv[i], true);
    }
    sappend(&h, &len, &cap, "</td></tr>\n", false);
    for (int i = 0; i < info->n_inputs; i++) {
        const struct tsc_run_input *in = &info->inputs[i];
        sappend(&h, &len, &cap, "<tr><th>input</th><td class=\"mono\">", false);
        sappend(&h, &len, &cap, in->file, true);
        if (in->have_sha256) {
            tsc_hex(in->sha256, 32, hex);
            snprintf(tmp, sizeof(tmp), "<br>SHA-256 %s", hex);
            sappend(&h, &len, &cap, tmp, false);
        } else {
            sappend(&h, &len, &cap, "<br>SHA-256 not computed (not a regular file)", false);
        }
        snprintf(tmp, sizeof(tmp), ", %" PRId64 " bytes</td></tr>\n", in->size);
        sappend(&h, &len, &cap, tmp, false);
    }
    for (int i = 0; i < info->n_keyfiles; i++) {
        const struct tsc_run_keyfile *k = &info->keyfiles[i];
        sappend(&h, &len, &cap, "<tr><th>key file (", false);
        sappend(&h, &len, &cap, k->kind, true);
        sappend(&h, &len, &cap, ")</th><td class=\"mono\">", false);
        sappend(&h, &len, &cap, k->file, true);
        if (k->have_sha256) {
            tsc_hex(k->sha256, 32, hex);
            snprintf(tmp, sizeof(tmp), "<br>SHA-256 %s", hex);
            sappend(&h, &len, &cap, tmp, false);
        }
        sappend(&h, &len, &cap, "</td></tr>\n", false);
    }
    if (info->psk) {
        sappend(&h, &len, &cap, "<tr><th>pre-shared key</th><td>given (value not shown)</td></tr>",
                false);
    }
    char t[48];
    tsc_fmt_time(info->start_wall, t, sizeof(t));
    snprintf(tmp, sizeof(tmp), "<tr><th>analysed</th><td>%s</td></tr></table></section>\n", t);
    sappend(&h, &len, &cap, tmp, false);
    free(r->header);
    r->header = h;
}

/* ---- ladder events ---- */

struct tsc_report_conn *tsc_report_conn_new(void)
{
    return calloc(1, sizeof(struct tsc_report_conn));
}

void tsc_report_conn_free(struct tsc_report_conn *rc)
{
    free(rc);
}

void tsc_report_event(struct tsc_report_conn *rc, int dir, enum tsc_report_ev kind, uint8_t code,
                      uint8_t level, uint64_t count, uint64_t pkt, struct tsc_ts ts)
{
    if (rc == NULL) {
        return;
    }
    if (kind == TSC_REV_APP_DATA && rc->n > 0) {
        struct tsc_rev *last = &rc->ev[rc->n - 1];
        if (last->kind == TSC_REV_APP_DATA && last->dir == dir) {
            last->count += count;
            return;
        }
    }
    if (rc->n >= TSC_LADDER_EVENTS) {
        rc->dropped++;
        return;
    }
    struct tsc_rev *e = &rc->ev[rc->n++];
    e->ts = ts;
    e->pkt = pkt;
    e->count = count;
    e->kind = (uint8_t)kind;
    e->dir = (uint8_t)dir;
    e->code = code;
    e->level = level;
}

/* ---- aggregates ---- */

static void count_name(struct tsc_count *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].name[0] == '\0') {
            snprintf(t[i].name, sizeof(t[i].name), "%.63s", name);
            t[i].n = 1;
            return;
        }
        if (strcmp(t[i].name, name) == 0) {
            t[i].n++;
            return;
        }
    }
    t[n - 1].n++; /* full: the last slot collects the rest */
}

/* Key exchange from the suite name: the part between TLS_ and _WITH_ (TLS 1.3: "TLS 1.3"). */
static void kex_of(const struct tsc_tls_facts *f, char *out, size_t cap)
{
    const char *n = f->cipher_suite >= 0 ? tsc_name_cipher_suite((uint16_t)f->cipher_suite) : NULL;
    if (f->version == 0x0304) {
        snprintf(out, cap, "TLS 1.3 (EC)DHE%s", f->resumed ? " / PSK" : "");
        return;
    }
    const char *w = n != NULL ? strstr(n, "_WITH_") : NULL;
    if (n == NULL || w == NULL || strncmp(n, "TLS_", 4) != 0) {
        snprintf(out, cap, "%s", n != NULL ? n : "unknown");
        return;
    }
    snprintf(out, cap, "%.*s", (int)(w - n - 4), n + 4);
}

static void aggregate(struct tsc_report *r, const struct tsc_tcp_conn *tcp,
                      const struct tsc_tls_facts *f, const struct tsc_verdict *vd)
{
    r->conns++;
    r->verdicts[vd->kind]++;
    const char *vn = f->version >= 0 ? tsc_name_version((uint16_t)f->version) : NULL;
    count_name(r->versions, TSC_REPORT_VERSIONS, vn != NULL ? vn : "unknown");
    char k[64];
    kex_of(f, k, sizeof(k));
    count_name(r->kex, TSC_REPORT_KEX, k);
    if (f->cipher_suite >= 0 && f->cipher_suite <= 0xffff) {
        r->suites[f->cipher_suite]++;
    }
    if (f->sni[0] == '\0') {
        r->sni_none++;
    } else {
        uint32_t i;
        for (i = 0; i < r->n_sni; i++) {
            if (strncmp(r->sni[i].name, f->sni, sizeof(r->sni[i].name) - 1) == 0) {
                r->sni[i].n++;
                break;
            }
        }
        if (i == r->n_sni) {
            if (r->n_sni < TSC_REPORT_SNI) {
                snprintf(r->sni[r->n_sni].name, sizeof(r->sni[0].name), "%.63s", f->sni);
                r->sni[r->n_sni++].n = 1;
            } else {
                r->sni_other++;
            }
        }
    }
    if (r->n_times < TSC_REPORT_TIMES) {
        r->times[r->n_times].t = tsc_ts_to_double(tcp->first_ts);
        r->times[r->n_times++].kind = (uint8_t)vd->kind;
    } else {
        r->times_dropped++;
    }
}

/* ---- one connection ---- */

static const char *verdict_class(enum tsc_verdict_kind k)
{
    return tsc_verdict_name(k); /* the CSS classes are the verdict names */
}

static enum tsc_check check_result(const struct tsc_verdict *vd, const char *name)
{
    for (uint32_t i = 0; i < vd->n_checks; i++) {
        if (strcmp(vd->checks[i].check, name) == 0) {
            return vd->checks[i].result;
        }
    }
    return TSC_CHECK_NOT_CHECKED;
}

static bool finding_at(const struct tsc_verify_facts *vf, const char *code, uint64_t pkt)
{
    for (uint32_t i = 0; i < vf->n_findings; i++) {
        if (strcmp(vf->findings[i].code, code) == 0 && vf->findings[i].pkt == pkt) {
            return true;
        }
    }
    return false;
}

/* Is this ladder event where a check failed? */
static bool event_bad(const struct tsc_rev *e, const struct tsc_verify_facts *vf,
                      const struct tsc_verdict *vd)
{
    bool c2s = e->dir == TSC_DIR_C2S;
    switch (e->kind) {
    case TSC_REV_BAD_RECORD:
        return true;
    case TSC_REV_CCS:
        return finding_at(vf, "unexpected_ccs", e->pkt);
    case TSC_REV_ALERT:
        return e->level == 2;
    case TSC_REV_HEARTBEAT:
        return finding_at(vf, "heartbleed", 0);
    case TSC_REV_HANDSHAKE:
        if (finding_at(vf, "out_of_order_message", e->pkt)) {
            return true;
        }
        switch (e->code) {
        case 20:
            return check_result(vd, c2s ? "client_finished" : "server_finished") == TSC_CHECK_FAIL;
        case 12:
            return vf->ske.result == TSC_CHECK_FAIL;
        case 15:
            return (c2s ? vf->client_cv.result : vf->server_cv.result) == TSC_CHECK_FAIL;
        case 11:
            return !c2s && (vf->chain == TSC_CHECK_FAIL || vf->name == TSC_CHECK_FAIL ||
                            (vf->ske.error != NULL &&
                             strcmp(vf->ske.error, "scheme_does_not_match_key") == 0));
        case 2:
            return finding_at(vf, "downgrade_sentinel", e->pkt) &&
                   vf->client_offered_tls13;
        default:
            return false;
        }
    default:
        return false;
    }
}

static void event_label(const struct tsc_rev *e, char *out, size_t cap)
{
    const char *n;
    switch (e->kind) {
    case TSC_REV_HANDSHAKE:
        n = tsc_name_handshake_type(e->code);
        if (n != NULL) {
            snprintf(out, cap, "%s", n);
        } else {
            snprintf(out, cap, "handshake type %u", e->code);
        }
        break;
    case TSC_REV_CCS:
        snprintf(out, cap, "change_cipher_spec");
        break;
    case TSC_REV_ALERT:
        n = e->level == 0 ? NULL : tsc_name_alert_description(e->code);
        snprintf(out, cap, "alert %s%s", e->level == 2 ? "fatal " : "",
                 e->level == 0 ? "(encrypted)" : n != NULL ? n : "unknown");
        break;
    case TSC_REV_APP_DATA:
        snprintf(out, cap, "application_data \xc3\x97%" PRIu64, e->count);
        break;
    case TSC_REV_BAD_RECORD:
        snprintf(out, cap, "record failed: bad_record_mac");
        break;
    case TSC_REV_GAP:
        snprintf(out, cap, "%" PRIu64 " bytes missing (TCP)", e->count);
        break;
    case TSC_REV_HEARTBEAT:
        snprintf(out, cap, "heartbeat");
        break;
    default:
        snprintf(out, cap, "?");
    }
}

static void ladder(FILE *f, const struct tsc_report_conn *rc, const struct tsc_tcp_conn *tcp,
                   const struct tsc_verify_facts *vf, const struct tsc_verdict *vd)
{
    const int W = 720, xc = 170, xs = 620, top = 46, step = 24;
    uint32_t n = rc != NULL ? rc->n : 0;
    int h = top + (int)n * step + 30;
    char cip[64], sip[64];
    tsc_fmt_ip(&tcp->client, cip, sizeof(cip));
    tsc_fmt_ip(&tcp->server, sip, sizeof(sip));
    fprintf(f,
            "<svg class=\"ladder\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n"
            "<defs><marker id=\"a%" PRIu64 "\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
            "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
            "<path d=\"M0,0L10,5L0,10z\" fill=\"#555\"/></marker>"
            "<marker id=\"b%" PRIu64 "\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
            "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
            "<path d=\"M0,0L10,5L0,10z\" fill=\"#c00\"/></marker></defs>\n",
            W, h, W, h, tcp->id, tcp->id);
    fprintf(f, "<text x=\"%d\" y=\"16\" text-anchor=\"middle\" font-weight=\"600\">client ", xc);
    esc(f, cip);
    fprintf(f, ":%u</text>\n", tcp->client.port);
    fprintf(f, "<text x=\"%d\" y=\"16\" text-anchor=\"middle\" font-weight=\"600\">server ", xs);
    esc(f, sip);
    fprintf(f, ":%u</text>\n", tcp->server.port);
    fprintf(f,
            "<line x1=\"%d\" y1=\"26\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>"
            "<line x1=\"%d\" y1=\"26\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n",
            xc, xc, h - 10, xs, xs, h - 10);
    char label[96];
    for (uint32_t i = 0; i < n; i++) {
        const struct tsc_rev *e = &rc->ev[i];
        int y = top + (int)i * step;
        bool bad = event_bad(e, vf, vd);
        int x1 = e->dir == TSC_DIR_C2S ? xc : xs, x2 = e->dir == TSC_DIR_C2S ? xs : xc;
        event_label(e, label, sizeof(label));
        double off = tsc_ts_diff(e->ts, tcp->first_ts);
        fprintf(f, "<text x=\"4\" y=\"%d\" fill=\"#666\">+%.6f s</text>", y + 4, off);
        fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#888\" font-size=\"10\">#%" PRIu64 "</text>",
                xc - 60, y + 4, e->pkt);
        if (e->kind == TSC_REV_GAP) {
            fprintf(f,
                    "<line class=\"bad\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                    "stroke-dasharray=\"4 3\" stroke=\"#a66300\"/>",
                    x1, y, x2, y);
        } else {
            fprintf(f,
                    "<line%s x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                    "marker-end=\"url(#%c%" PRIu64 ")\"/>",
                    bad ? " class=\"bad\"" : "", x1, y, x2, y, bad ? "#c00" : "#555", bad ? 'b' : 'a',
                    tcp->id);
        }
        fprintf(f, "<text%s x=\"%d\" y=\"%d\" text-anchor=\"middle\"%s>", bad ? " class=\"bad\"" : "",
                (xc + xs) / 2, y - 4, bad ? " font-weight=\"600\"" : "");
        esc(f, label);
        fputs(bad ? " \xe2\x9c\x97</text>\n" : "</text>\n", f);
    }
    if (rc != NULL && rc->dropped > 0) {
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#666\">%u more events not "
                   "drawn</text>\n",
                (xc + xs) / 2, h - 14, rc->dropped);
    }
    fputs("</svg>\n", f);
}

static void cert_details(FILE *f, const struct tsc_tls_facts *f2)
{
    if (f2->n_certs == 0) {
        return;
    }
    fputs("<h4>Server certificates</h4><table class=\"certs\">\n", f);
    for (uint32_t i = 0; i < f2->n_certs; i++) {
        const struct tsc_cert_summary *c = f2->certs[i];
        if (c == NULL) {
            continue;
        }
        char hex[65];
        tsc_hex(c->sha256, 32, hex);
        fprintf(f, "<tr><th>%u</th><td>", i);
        if (c->parse_ok) {
            fputs("subject <b>", f);
            esc(f, c->subject);
            fputs("</b><br>issuer ", f);
            esc(f, c->issuer);
            fputs("<br>valid ", f);
            esc(f, c->not_before_str);
            fputs(" .. ", f);
            esc(f, c->not_after_str);
            fputs("<br>names ", f);
            esc(f, c->san[0] != '\0' ? c->san : "(no SAN)");
            fputs("<br>key ", f);
            esc(f, c->key_type);
            fprintf(f, " %d bits ", c->key_bits);
            esc(f, c->key_curve);
            fputs(", signed with ", f);
            esc(f, c->sig_alg);
            fputs("<br>serial <span class=\"mono\">", f);
            esc(f, c->serial);
            fputs("</span><br>", f);
        } else {
            fputs("(does not parse)<br>", f);
        }
        fprintf(f, "SHA-256 <span class=\"mono\">%s</span>, %u bytes</td></tr>\n", hex, c->der_len);
    }
    fputs("</table>\n", f);
}

void tsc_report_connection(struct tsc_report *r, const struct tsc_report_conn *rc,
                           const struct tsc_tcp_conn *tcp, const struct tsc_tls_facts *f,
                           const struct tsc_verify_facts *vf, const struct tsc_verdict *vd)
{
    aggregate(r, tcp, f, vd);
    char cip[64], sip[64], t[48];
    tsc_fmt_ip(&tcp->client, cip, sizeof(cip));
    tsc_fmt_ip(&tcp->server, sip, sizeof(sip));
    tsc_fmt_time(tcp->first_ts, t, sizeof(t));
    const char *vn = f->version >= 0 ? tsc_name_version((uint16_t)f->version) : NULL;
    const char *cs = f->cipher_suite >= 0 ? tsc_name_cipher_suite((uint16_t)f->cipher_suite) : NULL;
    const struct tsc_vcheck *p = tsc_verdict_first_problem(vd);
    bool draw = r->diagrams < TSC_REPORT_DIAGRAMS ||
                (vd->kind == TSC_VERDICT_FAILED && r->diagrams < 2 * TSC_REPORT_DIAGRAMS);
    FILE *o = r->f;
    fprintf(o, "<tr class=\"conn %s\"><td data-v=\"%" PRIu64 "\">", verdict_class(vd->kind), tcp->id);
    if (draw) {
        fprintf(o, "<a href=\"#c%" PRIu64 "\">%" PRIu64 "</a>", tcp->id, tcp->id);
    } else {
        fprintf(o, "%" PRIu64, tcp->id);
    }
    fprintf(o, "</td><td class=\"%s\">%s</td><td>", verdict_class(vd->kind),
            tsc_verdict_name(vd->kind));
    esc(o, vn != NULL ? vn : "-");
    fputs("</td><td>", o);
    esc(o, cs != NULL ? cs : "-");
    fputs("</td><td>", o);
    esc(o, f->sni[0] != '\0' ? f->sni : "-");
    fputs("</td><td class=\"mono\">", o);
    esc(o, cip);
    fprintf(o, ":%u</td><td class=\"mono\">", tcp->client.port);
    esc(o, sip);
    fprintf(o, ":%u</td><td>%s</td><td data-v=\"%.6f\">%.3f</td><td>", tcp->server.port, t,
            tsc_ts_diff(tcp->last_ts, tcp->first_ts), tsc_ts_diff(tcp->last_ts, tcp->first_ts));
    if (p != NULL) {
        esc(o, p->check);
        fputs(": ", o);
        esc(o, p->detail);
    } else {
        fputs("-", o);
    }
    fputs("</td></tr>\n", o);
    if (!draw) {
        r->diagrams_omitted++;
        return;
    }
    r->diagrams++;
    FILE *d = r->detail;
    fprintf(d, "<div class=\"conn\" id=\"c%" PRIu64 "\"><h3>Connection %" PRIu64 ": <span class=\"%s\">%s</span></h3>\n",
            tcp->id, tcp->id, verdict_class(vd->kind), tsc_verdict_name(vd->kind));
    fputs("<p>", d);
    esc(d, vn != NULL ? vn : "version unknown");
    fputs(" ", d);
    esc(d, cs != NULL ? cs : "");
    if (f->sni[0] != '\0') {
        fputs(", server name <b>", d);
        esc(d, f->sni);
        fputs("</b>", d);
    }
    fprintf(d, ", key material %s, server authentication %s</p>\n",
            f->dec.key_source != NULL ? f->dec.key_source : "none",
            vd->server_auth != NULL ? vd->server_auth : "unknown");
    ladder(d, rc, tcp, vf, vd);
    fputs("<table class=\"checks\">\n", d);
    for (uint32_t i = 0; i < vd->n_checks; i++) {
        const struct tsc_vcheck *k = &vd->checks[i];
        const char *rn = tsc_check_name(k->result);
        fprintf(d, "<tr><td>%s</td><td class=\"%s\">%s</td><td>", k->check, rn, rn);
        esc(d, k->detail);
        fputs("</td></tr>\n", d);
    }
    for (uint32_t i = 0; i < vf->n_findings; i++) {
        const struct tsc_finding *x = &vf->findings[i];
        fprintf(d, "<tr><td>finding %s</td><td class=\"%s\">%s</td><td>", x->code,
                strcmp(x->severity, "critical") == 0 ? "fail" : "not_checked", x->severity);
        esc(d, x->detail);
        fputs("</td></tr>\n", d);
    }
    fputs("</table>\n", d);
    for (int k = 0; k < 2; k++) {
        const struct tsc_ledger *l = &vf->ledger[k];
        fprintf(d,
                "<p class=\"mono\">records %s: %" PRIu64 " seen, %" PRIu64 " plaintext, %" PRIu64
                " protected, %" PRIu64 " decrypted, %" PRIu64 " authenticated, %" PRIu64
                " failed, %" PRIu64 " undecryptable</p>\n",
                k == 0 ? "client to server" : "server to client", l->records, l->plaintext,
                l->protected_records, l->decrypted, l->authenticated, l->failed, l->undecryptable);
    }
    cert_details(d, f);
    fputs("</div>\n", d);
}

/* ---- charts ---- */

static int cmp_count(const void *a, const void *b)
{
    const struct tsc_count *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->name, y->name);
}

/* Horizontal bars, at most 10, in count order. */
static void bars(FILE *f, const char *title, struct tsc_count *items, size_t n, const char *color)
{
    qsort(items, n, sizeof(*items), cmp_count);
    size_t shown = 0;
    uint64_t max = 1;
    for (size_t i = 0; i < n && shown < 10; i++) {
        if (items[i].n > 0) {
            max = items[i].n > max ? items[i].n : max;
            shown++;
        }
    }
    int h = 28 + (int)shown * 20;
    fprintf(f, "<div class=\"chart\"><h3>");
    esc(f, title);
    fprintf(f, "</h3><svg class=\"bars\" width=\"600\" height=\"%d\" viewBox=\"0 0 600 %d\" "
               "xmlns=\"http://www.w3.org/2000/svg\">\n",
            h, h);
    for (size_t i = 0, row = 0; i < n && row < shown; i++) {
        if (items[i].n == 0) {
            continue;
        }
        int y = 8 + (int)row * 20;
        int w = (int)(200.0 * (double)items[i].n / (double)max);
        const char *c = color;
        if (strcmp(items[i].name, "failed") == 0) {
            c = "#c00";
        } else if (strcmp(items[i].name, "verified") == 0) {
            c = "#17702a";
        } else if (strcmp(items[i].name, "incomplete") == 0) {
            c = "#d08a1c";
        }
        fprintf(f, "<text x=\"0\" y=\"%d\" font-size=\"11\">", y + 12);
        esc(f, items[i].name);
        fprintf(f,
                "</text><rect x=\"330\" y=\"%d\" width=\"%d\" height=\"14\" fill=\"%s\"/>"
                "<text x=\"%d\" y=\"%d\" font-size=\"11\">%" PRIu64 "</text>\n",
                y, w > 0 ? w : 1, c, 334 + w, y + 12, items[i].n);
        row++;
    }
    if (shown == 0) {
        fputs("<text x=\"0\" y=\"20\" fill=\"#666\">none</text>", f);
    }
    fputs("</svg></div>\n", f);
}

static void timeline(FILE *f, const struct tsc_report *r)
{
    enum { BINS = 60 };
    uint64_t bins[BINS][3];
    memset(bins, 0, sizeof(bins));
    double lo = 0, hi = 0;
    for (uint32_t i = 0; i < r->n_times; i++) {
        double t = r->times[i].t;
        lo = i == 0 || t < lo ? t : lo;
        hi = i == 0 || t > hi ? t : hi;
    }
    double span = hi - lo > 0 ? hi - lo : 1;
    uint64_t max = 1;
    for (uint32_t i = 0; i < r->n_times; i++) {
        int b = (int)((r->times[i].t - lo) / span * (BINS - 1));
        b = b < 0 ? 0 : b >= BINS ? BINS - 1 : b;
        bins[b][r->times[i].kind]++;
    }
    for (int b = 0; b < BINS; b++) {
        uint64_t s = bins[b][0] + bins[b][1] + bins[b][2];
        max = s > max ? s : max;
    }
    fputs("<div class=\"chart\"><h3>Timeline of connection starts</h3>"
          "<svg class=\"timeline\" width=\"660\" height=\"170\" viewBox=\"0 0 660 170\" "
          "xmlns=\"http://www.w3.org/2000/svg\">\n",
          f);
    static const char *const colors[3] = {"#17702a", "#d08a1c", "#c00"};
    for (int b = 0; b < BINS; b++) {
        double y = 140;
        for (int k = 0; k < 3; k++) {
            if (bins[b][k] == 0) {
                continue;
            }
            double hh = 120.0 * (double)bins[b][k] / (double)max;
            y -= hh;
            fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"9\" height=\"%.1f\" fill=\"%s\"/>",
                    30 + b * 10, y, hh, colors[k]);
        }
    }
    char a[48], z[48];
    struct tsc_ts t0 = {(int64_t)lo, (uint32_t)((lo - (double)(int64_t)lo) * 1e9)};
    struct tsc_ts t1 = {(int64_t)hi, (uint32_t)((hi - (double)(int64_t)hi) * 1e9)};
    tsc_fmt_time(t0, a, sizeof(a));
    tsc_fmt_time(t1, z, sizeof(z));
    fprintf(f,
            "<line x1=\"30\" y1=\"140\" x2=\"630\" y2=\"140\" stroke=\"#888\"/>"
            "<text x=\"30\" y=\"158\" font-size=\"11\">%s</text>"
            "<text x=\"630\" y=\"158\" font-size=\"11\" text-anchor=\"end\">%s</text>"
            "<text x=\"0\" y=\"24\" font-size=\"11\">%" PRIu64 "</text></svg>",
            r->n_times > 0 ? a : "", r->n_times > 0 ? z : "", max);
    if (r->times_dropped > 0) {
        fprintf(f, "<p class=\"note\">%" PRIu64 " later connections not plotted</p>", r->times_dropped);
    }
    fputs("</div>\n", f);
}

static void overview(struct tsc_report *r, const struct tsc_run_stats *st)
{
    FILE *f = r->f;
    fprintf(f, "<section id=\"overview\"><h2>Overview</h2>\n<p>%" PRIu64
               " TLS connections: <span class=\"verified\">%" PRIu64
               " verified</span>, <span class=\"incomplete\">%" PRIu64
               " incomplete</span>, <span class=\"failed\">%" PRIu64 " failed</span>",
            r->conns, r->verdicts[0], r->verdicts[1], r->verdicts[2]);
    if (st != NULL) {
        fprintf(f, "; %" PRIu64 " packets, %" PRIu64 " TCP connections", st->packets,
                st->tcp_connections);
    }
    fputs(".</p><div class=\"charts\">\n", f);
    struct tsc_count v[3];
    for (int k = 0; k < 3; k++) {
        snprintf(v[k].name, sizeof(v[k].name), "%s", tsc_verdict_name((enum tsc_verdict_kind)k));
        v[k].n = r->verdicts[k];
    }
    bars(f, "Verdicts", v, 3, "#555");
    bars(f, "Protocol versions", r->versions, TSC_REPORT_VERSIONS, "#3465a4");
    bars(f, "Key exchanges", r->kex, TSC_REPORT_KEX, "#75507b");
    /* Top suites: the ten largest counts of the 65536. */
    struct tsc_count top[10];
    memset(top, 0, sizeof(top));
    for (uint32_t s = 0; s < 65536; s++) {
        if (r->suites[s] == 0) {
            continue;
        }
        int min = 0;
        for (int i = 1; i < 10; i++) {
            min = top[i].n < top[min].n ? i : min;
        }
        if (r->suites[s] > top[min].n) {
            const char *n = tsc_name_cipher_suite((uint16_t)s);
            if (n != NULL) {
                snprintf(top[min].name, sizeof(top[min].name), "%.63s", n);
            } else {
                snprintf(top[min].name, sizeof(top[min].name), "0x%04x", s);
            }
            top[min].n = r->suites[s];
        }
    }
    bars(f, "Cipher suites", top, 10, "#4e9a06");
    qsort(r->sni, r->n_sni, sizeof(*r->sni), cmp_count);
    struct tsc_count names[12];
    size_t nn = 0;
    for (uint32_t i = 0; i < r->n_sni && nn < 10; i++) {
        names[nn++] = r->sni[i];
    }
    if (r->sni_none > 0) {
        snprintf(names[nn].name, sizeof(names[nn].name), "(no SNI)");
        names[nn++].n = r->sni_none;
    }
    bars(f, "Top server names", names, nn, "#c4a000");
    timeline(f, r);
    fputs("</div>", f);
    if (r->n_sni >= TSC_REPORT_SNI) {
        fprintf(f, "<p class=\"note\">More than %d distinct server names: %" PRIu64
                   " connections to further names not ranked.</p>",
                TSC_REPORT_SNI, r->sni_other);
    }
    fputs("</section>\n", f);
}

int tsc_report_close(struct tsc_report *r, const struct tsc_run_stats *st)
{
    FILE *f = r->f;
    fputs("</tbody></table>\n", f);
    if (r->diagrams_omitted > 0) {
        fprintf(f, "<p class=\"note\">Diagrams drawn for %" PRIu64 " connections; %" PRIu64
                   " further connections are only listed in the table (diagrams for the first "
                   "%d connections, then for failed ones only, up to %d in all).</p>\n",
                r->diagrams, r->diagrams_omitted, TSC_REPORT_DIAGRAMS, 2 * TSC_REPORT_DIAGRAMS);
    }
    fputs("</section>\n", f);
    overview(r, st);
    fputs("<section id=\"details\"><h2>Handshakes</h2>\n", f);
    rewind(r->detail);
    char buf[1 << 15];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), r->detail)) > 0) {
        if (fwrite(buf, 1, n, f) != n) {
            r->write_error = true;
            break;
        }
    }
    fputs("</section>\n", f);
    if (r->header != NULL) {
        fputs(r->header, f);
    }
    fputs("<script>\n"
          "document.querySelectorAll('#conntable th[data-k]').forEach(function(th){\n"
          " th.addEventListener('click',function(){\n"
          "  var tb=document.querySelector('#conntable tbody'),i=th.cellIndex,num=th.dataset.k==='n';\n"
          "  var d=th.dataset.d==='1'?-1:1;th.dataset.d=d===1?'1':'-1';\n"
          "  var rows=Array.prototype.slice.call(tb.rows);\n"
          "  rows.sort(function(a,b){var x=a.cells[i].dataset.v||a.cells[i].textContent,"
          "y=b.cells[i].dataset.v||b.cells[i].textContent;\n"
          "   if(num){return (parseFloat(x)-parseFloat(y))*d;}return x<y?-d:x>y?d:0;});\n"
          "  rows.forEach(function(r){tb.appendChild(r);});});});\n"
          "</script>\n</body></html>\n",
          f);
    bool err = r->write_error || ferror(f) != 0;
    if (fclose(f) != 0) {
        err = true;
    }
    r->f = NULL;
    return err ? -1 : 0;
}
