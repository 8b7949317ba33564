/* Verdict of one connection from its facts (verdict.h). */
#include "verify/verdict.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/names.h"

const char *tsc_verdict_name(enum tsc_verdict_kind k)
{
    switch (k) {
    case TSC_VERDICT_VERIFIED:
        return "verified";
    case TSC_VERDICT_FAILED:
        return "failed";
    default:
        return "incomplete";
    }
}

const char *tsc_check_name(enum tsc_check r)
{
    switch (r) {
    case TSC_CHECK_PASS:
        return "pass";
    case TSC_CHECK_FAIL:
        return "fail";
    default:
        return "not_checked";
    }
}

void tsc_verdict_scheme(uint16_t scheme, bool has_scheme, char *out, size_t cap)
{
    const char *n = has_scheme ? tsc_name_sigscheme(scheme) : NULL;
    if (!has_scheme) {
        snprintf(out, cap, "legacy (MD5+SHA-1 / SHA-1)");
    } else if (n != NULL) {
        snprintf(out, cap, "%s", n);
    } else {
        snprintf(out, cap, "0x%04x", scheme);
    }
}

static struct tsc_vcheck *tsc_add(struct tsc_verdict *v, const char *name, enum tsc_check r,
                                  const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static struct tsc_vcheck *tsc_add(struct tsc_verdict *v, const char *name, enum tsc_check r,
                                  const char *fmt, ...)
{
    if (v->n_checks >= TSC_MAX_VCHECKS) {
        return NULL;
    }
    struct tsc_vcheck *c = &v->checks[v->n_checks++];
    c->check = name;
    c->result = r;
    va_list ap;
    va_start(ap, fmt);
    /* A constant detail or a lone "%s" is copied as vsnprintf would (cut to fit): most
     * details of a clean connection are constants, and this runs per connection. */
    const char *lit = strchr(fmt, '%') == NULL ? fmt : NULL;
    if (lit == NULL && strcmp(fmt, "%s") == 0) {
        lit = va_arg(ap, const char *);
    }
    if (lit != NULL) {
        size_t n = strlen(lit);
        n = n < sizeof(c->detail) - 1 ? n : sizeof(c->detail) - 1;
        memcpy(c->detail, lit, n);
        c->detail[n] = '\0';
    } else {
        vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    }
    va_end(ap);
    return c;
}

static bool tsc_has_type(const struct tsc_tls_dir_facts *d, uint16_t type)
{
    for (uint32_t i = 0; i < d->n_hs_types; i++) {
        if (d->hs_types[i] == type) {
            return true;
        }
    }
    return false;
}

static bool tsc_streq(const char *a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

/* Did the handshake reach both Finished messages (seen, or implied by protected traffic)? */
static void tsc_handshake(const struct tsc_verdict_in *in, struct tsc_verdict *out)
{
    const struct tsc_tls_facts *f = in->f;
    bool fin[2];
    for (int d = 0; d < 2; d++) {
        const struct tsc_tls_dir_facts *df = &f->dir[d];
        bool tls13 = f->version == 0x0304;
        /* Keyless: TLS <= 1.2 Finished is the first protected handshake record after CCS;
         * TLS 1.3 application data follows the sender's Finished. */
        bool implied = tls13 ? df->records[3] > 0 && !tsc_has_type(df, 20) && f->is_tls
                             : df->records[0] > 0 && df->encrypted_handshake_records > 0;
        fin[d] = tsc_has_type(df, 20) || (implied && !f->dec.decrypted);
    }
    out->handshake_complete = fin[0] && fin[1] && !f->sslv2;
    if (out->handshake_complete) {
        tsc_add(out, "handshake", TSC_CHECK_PASS, "complete: Finished %s in both directions",
                f->dec.decrypted ? "seen" : "implied by protected records");
        return;
    }
    /* Where it stopped: the last message of the side that spoke last. */
    const char *last = NULL;
    const char *from = NULL;
    for (int d = 0; d < 2; d++) {
        const struct tsc_tls_dir_facts *df = &f->dir[d];
        if (df->n_hs_types > 0) {
            const char *n = tsc_name_handshake_type((uint8_t)df->hs_types[df->n_hs_types - 1]);
            if (last == NULL || d == TSC_DIR_S2C) {
                last = n != NULL ? n : "unknown";
                from = d == TSC_DIR_C2S ? "client" : "server";
            }
        }
    }
    out->stopped_after = last;
    out->stopped_from = from;
    if (f->sslv2) {
        tsc_add(out, "handshake", TSC_CHECK_NOT_CHECKED, "SSL 2.0 session: not verified");
    } else if (last == NULL) {
        tsc_add(out, "handshake", TSC_CHECK_NOT_CHECKED, "no handshake message captured");
    } else {
        tsc_add(out, "handshake", TSC_CHECK_NOT_CHECKED, "incomplete: stopped after %s from the %s",
                last, from);
    }
}

static void tsc_keys(const struct tsc_verdict_in *in, struct tsc_verdict *out)
{
    const struct tsc_decrypt_facts *d = &in->f->dec;
    bool tls13 = in->f->version == 0x0304;
    if (d->key_source != NULL && d->decrypted) {
        const char *how = "matched by client random";
        if (tsc_streq(d->key_source, "rsa")) {
            how = "server RSA key matched to the certificate, premaster decrypted";
        } else if (tsc_streq(d->key_source, "psk")) {
            how = "pre-shared key";
        } else if (tsc_streq(d->key_source, "session-cache")) {
            how = "master secret of the resumed session's earlier connection";
        } else if (tsc_streq(d->key_source, "dsb")) {
            how = "secrets embedded in the capture, matched by client random";
        }
        tsc_add(out, "key_material", TSC_CHECK_PASS, "%s: %s", d->key_source, how);
    } else if (!d->key_material) {
        tsc_add(out, "key_material", TSC_CHECK_NOT_CHECKED, "no key material given (-k, -l, --psk)");
    } else {
        tsc_add(out, "key_material", TSC_CHECK_NOT_CHECKED, "%s",
                d->undecrypted_reason != NULL ? d->undecrypted_reason : "not decrypted");
    }
    bool fin_ok = tsc_streq(d->finished[0], "verified") && tsc_streq(d->finished[1], "verified");
    if (tls13) {
        out->master_secret = "not_applicable";
        if (d->decrypted) {
            tsc_add(out, "key_schedule", fin_ok ? TSC_CHECK_PASS : TSC_CHECK_NOT_CHECKED,
                    "TLS 1.3 traffic secrets%s", fin_ok ? " confirmed by both Finished" : "");
        }
    } else if (d->have_master_secret) {
        out->master_secret = "recomputed";
        tsc_add(out, "master_secret", fin_ok ? TSC_CHECK_PASS : TSC_CHECK_NOT_CHECKED,
                "recomputed%s", fin_ok ? ", confirmed by both Finished" : ", not confirmed");
    } else {
        out->master_secret = "not_recovered";
    }
    static const char *const names[2] = {"client_finished", "server_finished"};
    for (int s = 0; s < 2; s++) {
        const char *st = d->finished[s];
        if (tsc_streq(st, "verified")) {
            tsc_add(out, names[s], TSC_CHECK_PASS, "verify_data recomputed and equal");
        } else if (tsc_streq(st, "mismatch")) {
            tsc_add(out, names[s], TSC_CHECK_FAIL,
                    "verify_data differs: the transcript was altered or the keys are wrong");
        } else {
            tsc_add(out, names[s], TSC_CHECK_NOT_CHECKED, "not verified%s",
                    d->decrypted ? " (Finished not decrypted)" : " (no keys)");
        }
    }
}

static void tsc_sig(struct tsc_verdict *out, const char *name, const struct tsc_sig_fact *s,
                    const char *what)
{
    if (!s->present) {
        return;
    }
    char sch[64];
    tsc_verdict_scheme(s->scheme, s->has_scheme, sch, sizeof(sch));
    if (s->result == TSC_CHECK_PASS) {
        tsc_add(out, name, TSC_CHECK_PASS, "%s signature valid (%s) against the %s certificate",
                what, sch, strstr(name, "client") != NULL ? "client" : "server");
    } else {
        tsc_add(out, name, s->result, "%s signature %s (%s, packet %" PRIu64 ")", what,
                s->error != NULL ? s->error : "not checked", sch, s->pkt);
    }
}

static void tsc_certs(const struct tsc_verdict_in *in, struct tsc_verdict *out)
{
    const struct tsc_verify_facts *v = in->v;
    if (!v->server_cert) {
        return;
    }
    if (v->chain == TSC_CHECK_PASS) {
        tsc_add(out, "certificate_chain", TSC_CHECK_PASS,
                "chains to a trusted CA, valid at the capture's time");
    } else if (v->chain == TSC_CHECK_FAIL) {
        tsc_add(out, "certificate_chain", TSC_CHECK_FAIL, "%s", v->chain_error);
    } else {
        tsc_add(out, "certificate_chain", TSC_CHECK_NOT_CHECKED, "%s",
                in->have_ca ? "no parseable certificate" : "no --ca-file / --ca-path given");
    }
    if (v->name == TSC_CHECK_PASS) {
        tsc_add(out, "server_name", TSC_CHECK_PASS, "leaf certificate names %s", in->f->sni);
    } else if (v->name == TSC_CHECK_FAIL) {
        tsc_add(out, "server_name", TSC_CHECK_FAIL, "leaf certificate does not name %s",
                in->f->sni);
    } else {
        tsc_add(out, "server_name", TSC_CHECK_NOT_CHECKED, "%s",
                in->f->sni[0] == '\0' ? "no SNI in the ClientHello" : "no parseable leaf");
    }
}

static void tsc_ledger(const struct tsc_verdict_in *in, struct tsc_verdict *out)
{
    static const char *const names[2] = {"records_c2s", "records_s2c"};
    for (int d = 0; d < 2; d++) {
        const struct tsc_ledger *l = &in->v->ledger[d];
        if (l->failed > 0) {
            tsc_add(out, names[d], TSC_CHECK_FAIL,
                    "%" PRIu64 " of %" PRIu64 " protected records failed; first: record %" PRIu64
                    " (packet %" PRIu64 "): %s",
                    l->failed, l->protected_records, l->first_failed_record, l->first_failed_pkt,
                    l->first_failed_reason != NULL ? l->first_failed_reason : "failed");
        } else if (l->protected_records == 0) {
            tsc_add(out, names[d], TSC_CHECK_NOT_CHECKED, "no protected records");
        } else if (l->undecryptable > 0) {
            tsc_add(out, names[d], TSC_CHECK_NOT_CHECKED,
                    "%" PRIu64 " of %" PRIu64 " protected records not decryptable",
                    l->undecryptable, l->protected_records);
        } else {
            tsc_add(out, names[d], TSC_CHECK_PASS, "all %" PRIu64 " protected records authenticated",
                    l->decrypted);
        }
    }
}

static void tsc_tcp(const struct tsc_verdict_in *in, struct tsc_verdict *out)
{
    uint64_t gap = 0, conflict = 0, trunc = 0;
    for (int d = 0; d < 2; d++) {
        gap += in->tcp[d].gap_bytes;
        conflict += in->tcp[d].conflict_bytes;
        trunc += in->tcp[d].truncated_segments;
    }
    if (gap == 0 && conflict == 0 && trunc == 0 && in->start_captured) {
        tsc_add(out, "tcp_evidence", TSC_CHECK_PASS, "both streams complete from the SYN");
        return;
    }
    char why[160] = "";
    size_t n = 0;
    if (!in->start_captured) {
        n += (size_t)snprintf(why + n, sizeof(why) - n, "start not captured; ");
    }
    if (gap > 0 && n < sizeof(why)) {
        n += (size_t)snprintf(why + n, sizeof(why) - n, "%" PRIu64 " bytes missing; ", gap);
    }
    if (conflict > 0 && n < sizeof(why)) {
        n += (size_t)snprintf(why + n, sizeof(why) - n,
                              "%" PRIu64 " bytes retransmitted with different content; ", conflict);
    }
    if (trunc > 0 && n < sizeof(why)) {
        n += (size_t)snprintf(why + n, sizeof(why) - n, "%" PRIu64 " packets cut by the snap length; ",
                              trunc);
    }
    if (n >= 2 && n < sizeof(why)) {
        why[n - 2] = '\0';
    }
    tsc_add(out, "tcp_evidence", TSC_CHECK_NOT_CHECKED, "%s", why);
}

static const char *tsc_server_auth(const struct tsc_verdict_in *in, const struct tsc_verdict *out,
                                   bool *needed_sig)
{
    const struct tsc_tls_facts *f = in->f;
    const struct tsc_verify_facts *v = in->v;
    *needed_sig = false;
    if (f->resumed) {
        return "resumed";
    }
    if (v->ske.present || v->server_cv.present) {
        *needed_sig = true;
        return "signature";
    }
    if (f->version == 0x0304) {
        if (!v->server_cert && tsc_streq(f->dec.key_source, "keylog") && f->dec.decrypted) {
            return "psk";
        }
        *needed_sig = true; /* full TLS 1.3 handshake: CertificateVerify must be seen */
        return "signature";
    }
    const char *n = f->cipher_suite >= 0 ? tsc_name_cipher_suite((uint16_t)f->cipher_suite) : NULL;
    if (n == NULL) {
        return "unknown";
    }
    if (strstr(n, "_anon_") != NULL) {
        return "anonymous";
    }
    if (strstr(n, "PSK") != NULL) {
        return "psk";
    }
    if (strncmp(n, "TLS_RSA_", 4 + 4) == 0 || strncmp(n, "SSL_RSA_", 8) == 0) {
        return "rsa_key_transport";
    }
    (void)out;
    *needed_sig = out->handshake_complete; /* (EC)DHE: a ServerKeyExchange signature */
    return "signature";
}

void tsc_verdict_compute(const struct tsc_verdict_in *in, struct tsc_verdict *out)
{
    memset(out, 0, sizeof(*out));
    tsc_handshake(in, out);
    tsc_keys(in, out);
    bool needed = false;
    out->server_auth = tsc_server_auth(in, out, &needed);
    const struct tsc_verify_facts *v = in->v;
    tsc_sig(out, "server_key_exchange_signature", &v->ske, "ServerKeyExchange");
    tsc_sig(out, "server_certificate_verify", &v->server_cv, "server CertificateVerify");
    tsc_sig(out, "client_certificate_verify", &v->client_cv, "client CertificateVerify");
    if (needed && !v->ske.present && !v->server_cv.present) {
        tsc_add(out, "server_signature", TSC_CHECK_NOT_CHECKED,
                "the signed handshake message was not seen (encrypted without keys, or lost)");
    }
    if (v->client_cert && !v->client_cv.present) {
        tsc_add(out, "client_certificate_verify", TSC_CHECK_NOT_CHECKED,
                "client certificate without a CertificateVerify seen");
    }
    tsc_certs(in, out);
    tsc_ledger(in, out);
    tsc_tcp(in, out);
    uint32_t critical = 0;
    const char *first = NULL;
    for (uint32_t i = 0; i < v->n_findings; i++) {
        if (tsc_streq(v->findings[i].severity, "critical")) {
            critical++;
            first = first != NULL ? first : v->findings[i].code;
        }
    }
    if (critical > 0) {
        tsc_add(out, "findings", TSC_CHECK_FAIL, "%u critical finding%s (first: %s)", critical,
                critical == 1 ? "" : "s", first);
    }
    bool fail = false, open = !out->handshake_complete;
    for (uint32_t i = 0; i < out->n_checks; i++) {
        fail = fail || out->checks[i].result == TSC_CHECK_FAIL;
        /* Not checked: open, except a chain without anchors (optional). */
        if (out->checks[i].result == TSC_CHECK_NOT_CHECKED &&
            !(strcmp(out->checks[i].check, "certificate_chain") == 0 && !in->have_ca) &&
            strcmp(out->checks[i].check, "server_name") != 0) {
            open = true;
        }
    }
    out->kind = fail ? TSC_VERDICT_FAILED : open ? TSC_VERDICT_INCOMPLETE : TSC_VERDICT_VERIFIED;
}

const struct tsc_vcheck *tsc_verdict_first_problem(const struct tsc_verdict *v)
{
    for (uint32_t i = 0; i < v->n_checks; i++) {
        if (v->checks[i].result == TSC_CHECK_FAIL) {
            return &v->checks[i];
        }
    }
    for (uint32_t i = 0; i < v->n_checks; i++) {
        if (v->checks[i].result == TSC_CHECK_NOT_CHECKED &&
            strcmp(v->checks[i].check, "certificate_chain") != 0 &&
            strcmp(v->checks[i].check, "server_name") != 0) {
            return &v->checks[i];
        }
    }
    return NULL;
}

int tsc_vsum_init(struct tsc_vsum *s)
{
    memset(s, 0, sizeof(*s));
    s->rows = calloc(TSC_VSUM_ROWS, sizeof(*s->rows));
    return s->rows != NULL ? 0 : -1;
}

void tsc_vsum_free(struct tsc_vsum *s)
{
    free(s->rows);
    s->rows = NULL;
}

void tsc_vsum_add(struct tsc_vsum *s, uint64_t conn, const struct tsc_tls_facts *f,
                  const struct tsc_verdict *v)
{
    s->counts[v->kind]++;
    if (s->rows == NULL || s->n_rows >= TSC_VSUM_ROWS) {
        s->rows_dropped++;
        return;
    }
    struct tsc_vsum_row *r = &s->rows[s->n_rows++];
    r->conn = conn;
    r->kind = v->kind;
    r->version = f->version;
    r->cipher_suite = f->cipher_suite;
    snprintf(r->sni, sizeof(r->sni), "%.63s", f->sni);
    const struct tsc_vcheck *c = tsc_verdict_first_problem(v);
    if (c != NULL) {
        snprintf(r->problem, sizeof(r->problem), "%.40s: %.68s", c->check, c->detail);
    } else {
        r->problem[0] = '\0';
    }
}
