/*
 * --verify, dissector side: what one connection proves (docs/forensics.md).
 *
 * Fed by the record layer and the handshake assembly with messages the
 * parsers already filled; the cryptography (signatures, chains) is in
 * src/crypto/verify.c, which gets the certificates' DER and the signed bytes
 * while the message is in hand, so nothing is copied beyond the parsed
 * certificates (cached run-wide). Kept here:
 *   - the certificates of both sides (references into the certificate cache);
 *   - ServerKeyExchange / CertificateVerify signature results;
 *   - chain and name results for the server's leaf;
 *   - a per-direction record ledger;
 *   - handshake order and ChangeCipherSpec placement;
 *   - findings decided from the hellos (downgrade sentinel, fallback SCSV,
 *     renegotiation_info) and, at close, from the facts (suite, alerts,
 *     heartbeats).
 * Signature checks run once per handshake message, never per record.
 *
 * TLS <= 1.2 client CertificateVerify signs the handshake messages with a
 * hash of the client's choosing, not necessarily the PRF's, so the messages
 * themselves are kept (header and body as on the wire, capped at
 * TSC_VERIFY_TX_MAX with a diagnostic) from the ClientHello until that
 * CertificateVerify, or until it is known none will come: TLS 1.3
 * negotiated, ServerHelloDone without a CertificateRequest, a Finished.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/session.h"
#include "crypto/verify.h"
#include "tls/conn.h"
#include "tls/names.h"
#include "util/buf.h"

/* Handshake messages kept for a TLS <= 1.2 client CertificateVerify, per connection. */
#define TSC_VERIFY_TX_MAX (128u * 1024u)

enum tsc_vtx {
    TSC_VTX_OFF = 0, /* not kept: no handshake yet, or no client CertificateVerify to come */
    TSC_VTX_ON,      /* keeping the current handshake's messages */
    TSC_VTX_LOST,    /* a message was missing, skipped or over the cap */
};

/* Handshake progress of one direction, for the order check. */
struct tsc_vdir {
    uint8_t rank;  /* highest position reached in the direction's flight */
    bool ccs;      /* ChangeCipherSpec in the current handshake */
    bool finished; /* Finished of the current handshake */
};

struct tsc_tls_verify {
    struct tsc_verify_facts f;
    struct tsc_vcert *srv[TSC_MAX_CERT_ENTRIES];
    uint32_t n_srv;
    struct tsc_vcert *cli;
    struct tsc_vdir d[2];
    bool cke;         /* ClientKeyExchange in the current handshake */
    bool full;        /* the server sent Certificate / ServerKeyExchange / ServerHelloDone */
    bool hrr;         /* the last server hello was a HelloRetryRequest */
    bool reneg_ok;    /* the ServerHello carried renegotiation_info */
    bool fallback;    /* TLS_FALLBACK_SCSV offered */
    bool hs_done;     /* both Finished of the first handshake seen */
    uint64_t hs_plain_before_fin[2];
    enum tsc_vtx tx_state;
    bool cert_req;    /* CertificateRequest in the current TLS <= 1.2 handshake */
    struct tsc_buf tx; /* the handshake messages so far (tx_state ON) */
};

static const char *tsc_hs_name(uint8_t type)
{
    const char *n = tsc_name_handshake_type(type);
    return n != NULL ? n : "unknown";
}

static void tsc_finding(struct tsc_tls_conn *t, const char *code, const char *severity,
                        uint64_t pkt, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static void tsc_finding(struct tsc_tls_conn *t, const char *code, const char *severity,
                        uint64_t pkt, const char *fmt, ...)
{
    struct tsc_verify_facts *f = &t->v->f;
    for (uint32_t i = 0; i < f->n_findings; i++) {
        if (strcmp(f->findings[i].code, code) == 0) {
            return; /* one of each kind: the first occurrence */
        }
    }
    if (f->n_findings >= TSC_MAX_FINDINGS) {
        f->findings_dropped++;
        return;
    }
    struct tsc_finding *x = &f->findings[f->n_findings++];
    x->code = code;
    x->severity = severity;
    x->pkt = pkt;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->detail, sizeof(x->detail), fmt, ap);
    va_end(ap);
}

enum tsc_err tsc_verify_new(struct tsc_tls_conn *t)
{
    if (t->cfg.verify == NULL) {
        return TSC_OK;
    }
    t->v = calloc(1, sizeof(*t->v));
    if (t->v == NULL) {
        return TSC_ERR_NOMEM;
    }
    tsc_buf_init(&t->v->tx, TSC_VERIFY_TX_MAX);
    return TSC_OK;
}

static void tsc_verify_drop_certs(struct tsc_tls_verify *v)
{
    for (uint32_t i = 0; i < v->n_srv; i++) {
        tsc_vcert_put(v->srv[i]);
        v->srv[i] = NULL;
    }
    v->n_srv = 0;
}

void tsc_verify_free(struct tsc_tls_conn *t)
{
    if (t->v == NULL) {
        return;
    }
    tsc_verify_drop_certs(t->v);
    tsc_vcert_put(t->v->cli);
    tsc_buf_free(&t->v->tx);
    free(t->v);
    t->v = NULL;
}

const struct tsc_verify_facts *tsc_tls_conn_verify(const struct tsc_tls_conn *t)
{
    return t->v != NULL ? &t->v->f : NULL;
}

/* ---- order ---- */

/*
 * Position of a message in its sender's flight (0: not ordered, e.g.
 * post-handshake or unknown). RFC 5246 7.3 / 7.4, RFC 8446 4 and 2 (figure 1).
 */
static uint8_t tsc_rank(bool tls13, int dir, uint8_t type)
{
    if (dir == TSC_DIR_S2C) {
        switch (type) {
        case TSC_HS_SERVER_HELLO: return 1;
        case TSC_HS_ENCRYPTED_EXTENSIONS: return tls13 ? 2 : 0;
        case TSC_HS_CERTIFICATE_REQUEST: return tls13 ? 3 : 6;
        case TSC_HS_CERTIFICATE:
        case TSC_HS_COMPRESSED_CERTIFICATE: return tls13 ? 4 : 2;
        case TSC_HS_CERTIFICATE_STATUS: return 3;
        case TSC_HS_SERVER_KEY_EXCHANGE: return 5;
        case TSC_HS_CERTIFICATE_VERIFY: return tls13 ? 5 : 0;
        case TSC_HS_SERVER_HELLO_DONE: return 7;
        case TSC_HS_NEW_SESSION_TICKET: return tls13 ? 0 : 8;
        case TSC_HS_FINISHED: return 9;
        default: return 0;
        }
    }
    switch (type) {
    case TSC_HS_CLIENT_HELLO: return 1;
    case TSC_HS_END_OF_EARLY_DATA: return 2;
    case TSC_HS_CERTIFICATE:
    case TSC_HS_COMPRESSED_CERTIFICATE: return 3;
    case TSC_HS_CLIENT_KEY_EXCHANGE: return 4;
    case TSC_HS_CERTIFICATE_VERIFY: return 5;
    case TSC_HS_FINISHED: return 7;
    default: return 0;
    }
}

static void tsc_new_handshake(struct tsc_tls_verify *v)
{
    memset(v->d, 0, sizeof(v->d));
    v->cke = false;
    v->full = false;
}

static void tsc_order(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m)
{
    struct tsc_tls_verify *v = t->v;
    struct tsc_vdir *d = &v->d[dir];
    if (m->type == TSC_HS_CLIENT_HELLO && dir == TSC_DIR_C2S) {
        /* A new handshake: the first, after a HelloRetryRequest, or a renegotiation. */
        if (v->hrr) {
            v->hrr = false;
            d->rank = 0;
            v->d[1].rank = 0;
        } else if (d->rank == 0 || (v->d[0].finished && v->d[1].finished && !t->tls13)) {
            tsc_new_handshake(v);
        }
    }
    if (d->finished && (t->tls13 || m->type != TSC_HS_HELLO_REQUEST)) {
        /* After Finished: TLS 1.3 post-handshake messages; TLS <= 1.2 only HelloRequest. */
        bool post = t->tls13 && (m->type == TSC_HS_NEW_SESSION_TICKET ||
                                 m->type == TSC_HS_KEY_UPDATE ||
                                 m->type == TSC_HS_CERTIFICATE_REQUEST ||
                                 m->type == TSC_HS_CERTIFICATE ||
                                 m->type == TSC_HS_CERTIFICATE_VERIFY ||
                                 m->type == TSC_HS_FINISHED);
        bool nst12 = !t->tls13 && m->type == TSC_HS_NEW_SESSION_TICKET;
        if (!post && !nst12 && !(m->type == TSC_HS_CLIENT_HELLO && dir == TSC_DIR_C2S)) {
            tsc_finding(t, "out_of_order_message", "critical", t->pkt,
                        "%s from the %s after its Finished", tsc_hs_name(m->type),
                        dir == TSC_DIR_C2S ? "client" : "server");
        }
        return;
    }
    uint8_t r = tsc_rank(t->tls13, dir, m->type);
    if (r == 0) {
        return;
    }
    if (r < d->rank || (r == d->rank && m->type != TSC_HS_NEW_SESSION_TICKET)) {
        tsc_finding(t, "out_of_order_message", "critical", t->pkt, "%s from the %s out of order",
                    tsc_hs_name(m->type), dir == TSC_DIR_C2S ? "client" : "server");
    } else {
        d->rank = r;
    }
    if (!t->tls13 && m->type == TSC_HS_FINISHED && !d->ccs) {
        tsc_finding(t, "out_of_order_message", "critical", t->pkt,
                    "finished from the %s without a ChangeCipherSpec before it",
                    dir == TSC_DIR_C2S ? "client" : "server");
    }
}

void tsc_verify_ccs(struct tsc_tls_conn *t, int dir)
{
    struct tsc_tls_verify *v = t->v;
    if (v == NULL) {
        return;
    }
    struct tsc_vdir *d = &v->d[dir];
    const char *who = dir == TSC_DIR_C2S ? "client" : "server";
    const char *why = NULL;
    if (t->tls13) {
        /* RFC 8446 D.4 / 5: a compatibility CCS only before the sender's Finished. */
        if (d->finished) {
            why = "after its Finished (TLS 1.3 allows one before it only)";
        }
    } else if (!t->sh_seen || v->d[1].rank == 0) {
        /* RFC 8446 D.4: a TLS 1.3 client may send it right after its ClientHello (0-RTT). */
        if (!(dir == TSC_DIR_C2S && v->f.client_offered_tls13 && !d->ccs)) {
            why = "before the ServerHello";
        }
    } else if (d->ccs) {
        why = "twice in one handshake";
    } else if (dir == TSC_DIR_C2S && v->full && !v->cke) {
        why = "before its ClientKeyExchange (early CCS, CVE-2014-0224)";
    } else if (dir == TSC_DIR_S2C && v->full && !v->d[0].ccs) {
        why = "before the client's in a full handshake";
    }
    if (why != NULL) {
        tsc_finding(t, "unexpected_ccs", "critical", t->pkt, "ChangeCipherSpec from the %s %s",
                    who, why);
    }
    d->ccs = true;
}

/* ---- TLS <= 1.2 transcript for the client CertificateVerify ---- */

static void tsc_tx_stop(struct tsc_tls_verify *v, enum tsc_vtx state)
{
    v->tx_state = state;
    tsc_buf_reset(&v->tx);
    tsc_buf_shrink(&v->tx, 0);
}

/*
 * RFC 5246 7.4.8: handshake_messages from ClientHello up to, not including,
 * CertificateVerify; HelloRequest is not part of it (7.4.1.1). Runs before
 * the message's own checks, so a CertificateVerify sees the messages before it.
 */
static void tsc_tx_message(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m)
{
    struct tsc_tls_verify *v = t->v;
    if (m->type == TSC_HS_CLIENT_HELLO && dir == TSC_DIR_C2S) {
        tsc_tx_stop(v, TSC_VTX_ON); /* a new handshake (first, or renegotiation) */
        v->cert_req = false;
    }
    if (v->tx_state != TSC_VTX_ON || m->type == TSC_HS_HELLO_REQUEST ||
        (m->type == TSC_HS_CERTIFICATE_VERIFY && dir == TSC_DIR_C2S)) {
        return;
    }
    if (m->skipped || m->body.len != m->length) {
        tsc_tx_stop(v, TSC_VTX_LOST);
        return;
    }
    const uint8_t hdr[4] = {m->type, (uint8_t)(m->length >> 16), (uint8_t)(m->length >> 8),
                            (uint8_t)m->length};
    if (v->tx.len + sizeof(hdr) + m->body.len > TSC_VERIFY_TX_MAX) {
        tsc_tls_fail(t, dir, m->offset, TSC_DIAG_TLS_LIMIT, false,
                     "--verify: handshake messages exceed %u bytes: the client "
                     "CertificateVerify cannot be checked",
                     TSC_VERIFY_TX_MAX);
        tsc_tx_stop(v, TSC_VTX_LOST);
        return;
    }
    if (tsc_buf_append(&v->tx, hdr, sizeof(hdr)) != TSC_OK ||
        tsc_buf_append(&v->tx, m->body.p, m->body.len) != TSC_OK) {
        tsc_tx_stop(v, TSC_VTX_LOST);
    }
}

/* After the message's checks: stop keeping when no client CertificateVerify can follow. */
static void tsc_tx_after(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m)
{
    struct tsc_tls_verify *v = t->v;
    if (v->tx_state == TSC_VTX_OFF) {
        return;
    }
    if (t->tls13 || m->type == TSC_HS_FINISHED ||
        (m->type == TSC_HS_CERTIFICATE_VERIFY && dir == TSC_DIR_C2S) ||
        (m->type == TSC_HS_SERVER_HELLO_DONE && dir == TSC_DIR_S2C && !v->cert_req)) {
        tsc_tx_stop(v, TSC_VTX_OFF);
    } else if (m->type == TSC_HS_CERTIFICATE_REQUEST && dir == TSC_DIR_S2C) {
        v->cert_req = true;
    }
}

/* ---- signatures and certificates ---- */

static void tsc_sig_result(struct tsc_sig_fact *s, enum tsc_sigerr e)
{
    s->error = tsc_sigerr_name(e);
    if (e == TSC_SIGERR_NONE) {
        s->result = TSC_CHECK_PASS;
    } else if (e == TSC_SIGERR_BAD_SIGNATURE || e == TSC_SIGERR_KEY_TYPE ||
               e == TSC_SIGERR_SCHEME_NOT_ALLOWED || e == TSC_SIGERR_TRUNCATED) {
        s->result = TSC_CHECK_FAIL;
    } else {
        s->result = TSC_CHECK_NOT_CHECKED;
    }
}

static void tsc_server_certs(struct tsc_tls_conn *t, const struct tsc_certificate *c)
{
    struct tsc_tls_verify *v = t->v;
    struct tsc_verify_facts *f = &v->f;
    tsc_verify_drop_certs(v);
    f->server_cert = true;
    f->server_cert_parsed = false;
    f->chain = TSC_CHECK_NOT_CHECKED;
    f->name = TSC_CHECK_NOT_CHECKED;
    f->chain_error[0] = '\0';
    for (uint32_t i = 0; i < c->kept; i++) {
        v->srv[v->n_srv] = tsc_vcert_get(t->cfg.verify->certs, c->c[i].der.p, c->c[i].der.len);
        if (v->srv[v->n_srv] == NULL) {
            if (i == 0) {
                snprintf(f->chain_error, sizeof(f->chain_error), "leaf certificate unparseable");
                f->chain = TSC_CHECK_FAIL;
                return;
            }
            continue; /* an unparseable intermediate: the chain check will miss it */
        }
        v->n_srv++;
    }
    if (v->n_srv == 0) {
        return;
    }
    f->server_cert_parsed = true;
    if (t->cfg.verify->trust != NULL) {
        f->chain = tsc_trust_verify(t->cfg.verify->trust, v->srv, v->n_srv, t->ts.sec,
                                    f->chain_error, sizeof(f->chain_error));
    }
    if (t->f.sni[0] != '\0') {
        f->name = tsc_vcert_matches_host(v->srv[0], t->f.sni) ? TSC_CHECK_PASS : TSC_CHECK_FAIL;
    }
}

/*
 * RFC 5246 7.4.3: ServerKeyExchange = params || [SignatureAndHashAlgorithm]
 * || signature<0..2^16-1>; the params are the body before the signature part.
 */
static void tsc_ske(struct tsc_tls_conn *t, const struct tsc_hs_msg *m)
{
    const struct tsc_server_key_exchange *ske = &m->u.ske;
    struct tsc_sig_fact *s = &t->v->f.ske;
    if (!ske->has_sig || ske->anon) {
        return; /* anonymous or PSK: nothing signed (a finding for anon) */
    }
    memset(s, 0, sizeof(*s));
    s->present = true;
    s->pkt = t->pkt;
    s->has_scheme = ske->has_sig_alg;
    s->scheme = ske->sig_alg;
    size_t tail = 2 + ske->signature.len + (ske->has_sig_alg ? 2 : 0);
    const struct tsc_hello_fact *h = t->f.n_hellos > 0 ? &t->f.hellos[t->f.n_hellos - 1] : NULL;
    if (m->body.len <= tail || h == NULL || !h->have_client_hello || !h->have_server_hello ||
        h->client_random_len != 32) {
        tsc_sig_result(s, TSC_SIGERR_TRUNCATED);
        return;
    }
    struct tsc_sig_in in = {t->version, ske->has_sig_alg, ske->sig_alg, ske->signature.p,
                            ske->signature.len};
    struct tsc_vcert *leaf = t->v->n_srv > 0 ? t->v->srv[0] : NULL;
    tsc_sig_result(s, tsc_verify_ske(leaf, &in, h->client_random, h->server_random, m->body.p,
                                     m->body.len - tail));
}

static void tsc_cv(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m)
{
    const struct tsc_certificate_verify *cv = &m->u.cv;
    bool server = dir == TSC_DIR_S2C;
    struct tsc_sig_fact *s = server ? &t->v->f.server_cv : &t->v->f.client_cv;
    memset(s, 0, sizeof(*s));
    s->present = true;
    s->pkt = t->pkt;
    s->has_scheme = cv->has_sig_alg;
    s->scheme = cv->sig_alg;
    struct tsc_vcert *cert = server ? (t->v->n_srv > 0 ? t->v->srv[0] : NULL) : t->v->cli;
    struct tsc_sig_in in = {t->version, cv->has_sig_alg, cv->sig_alg, cv->signature.p,
                            cv->signature.len};
    if (cert == NULL) {
        tsc_sig_result(s, TSC_SIGERR_NO_CERTIFICATE);
    } else if (t->tls13) {
        uint8_t h[2 * 64];
        size_t hl = 0;
        const char *md = NULL;
        if (tsc_csess_transcript_hash(t->cs, h, sizeof(h), &hl, &md)) {
            tsc_sig_result(s, tsc_verify_cv13(cert, &in, server, h, hl));
        } else {
            tsc_sig_result(s, TSC_SIGERR_NO_TRANSCRIPT);
        }
    } else if (server || t->v->tx_state != TSC_VTX_ON) {
        tsc_sig_result(s, TSC_SIGERR_NO_TRANSCRIPT); /* a server one does not exist before 1.3 */
    } else {
        tsc_sig_result(s, tsc_verify_cv12(cert, &in, t->v->tx.p, t->v->tx.len));
    }
}

/* RFC 8446 4.1.3: the last 8 bytes of ServerHello.random when a TLS 1.3 server negotiates less. */
static void tsc_downgrade(struct tsc_tls_conn *t, const struct tsc_server_hello *sh)
{
    static const uint8_t sentinel[7] = {'D', 'O', 'W', 'N', 'G', 'R', 'D'};
    if (sh->random.len != 32 || t->tls13 || memcmp(sh->random.p + 24, sentinel, 7) != 0 ||
        (sh->random.p[31] != 0 && sh->random.p[31] != 1)) {
        return;
    }
    const char *to = sh->random.p[31] == 1 ? "TLS 1.2" : "TLS 1.1 or below";
    if (t->v->f.client_offered_tls13) {
        tsc_finding(t, "downgrade_sentinel", "critical", t->pkt,
                    "ServerHello.random says the server downgraded to %s although the client "
                    "offered TLS 1.3",
                    to);
    } else {
        tsc_finding(t, "downgrade_sentinel", "info", t->pkt,
                    "ServerHello.random carries the %s downgrade sentinel (client did not offer "
                    "TLS 1.3)",
                    to);
    }
}

static bool tsc_u16_list_has(struct tsc_slice list, uint16_t want)
{
    struct tsc_cur c = tsc_cur_from_slice(list);
    uint16_t v;
    while (tsc_cur_u16(&c, &v) == TSC_OK) {
        if (v == want) {
            return true;
        }
    }
    return false;
}

static void tsc_client_hello(struct tsc_tls_conn *t, const struct tsc_client_hello *ch)
{
    struct tsc_tls_verify *v = t->v;
    const struct tsc_ext *sv = tsc_ext_find(&ch->ext, TSC_EXT_SUPPORTED_VERSIONS);
    if (sv != NULL && sv->known && tsc_u16_list_has(sv->u.u16s.list, 0x0304)) {
        v->f.client_offered_tls13 = true;
    }
    /* RFC 7507: TLS_FALLBACK_SCSV (0x5600) in a retried, lower-version hello. */
    if (tsc_u16_list_has(ch->cipher_suites, 0x5600)) {
        v->fallback = true;
        tsc_finding(t, "fallback_scsv", "info", t->pkt,
                    "ClientHello carries TLS_FALLBACK_SCSV: a retry after a failed handshake");
    }
}

static void tsc_server_hello(struct tsc_tls_conn *t, const struct tsc_server_hello *sh)
{
    struct tsc_tls_verify *v = t->v;
    v->hrr = sh->hrr;
    if (sh->hrr) {
        return;
    }
    tsc_downgrade(t, sh);
    /* RFC 5746 3.6: a server that supports secure renegotiation answers renegotiation_info. */
    v->reneg_ok = tsc_ext_find(&sh->ext, TSC_EXT_RENEGOTIATION_INFO) != NULL;
    if (!t->tls13 && !v->reneg_ok && t->version >= 0x0300) {
        tsc_finding(t, "insecure_renegotiation", "warning", t->pkt,
                    "ServerHello without renegotiation_info (RFC 5746)");
    }
}

/* The checks of a parsed message. */
static void tsc_verify_parsed(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m)
{
    struct tsc_tls_verify *v = t->v;
    switch (m->type) {
    case TSC_HS_CLIENT_HELLO:
        if (dir == TSC_DIR_C2S) {
            tsc_client_hello(t, &m->u.ch);
        }
        break;
    case TSC_HS_SERVER_HELLO:
        if (dir == TSC_DIR_S2C) {
            tsc_server_hello(t, &m->u.sh);
        }
        break;
    case TSC_HS_CERTIFICATE:
        if (dir == TSC_DIR_S2C) {
            tsc_server_certs(t, &m->u.cert);
        } else if (m->u.cert.kept > 0) {
            tsc_vcert_put(v->cli);
            v->cli = tsc_vcert_get(t->cfg.verify->certs, m->u.cert.c[0].der.p,
                                   m->u.cert.c[0].der.len);
            v->f.client_cert = true;
        }
        break;
    case TSC_HS_SERVER_KEY_EXCHANGE:
        if (dir == TSC_DIR_S2C && !t->tls13) {
            tsc_ske(t, m);
        }
        break;
    case TSC_HS_CERTIFICATE_VERIFY:
        tsc_cv(t, dir, m);
        break;
    default:
        break;
    }
}


void tsc_verify_message(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m)
{
    struct tsc_tls_verify *v = t->v;
    if (v == NULL) {
        return;
    }
    if (m->sslv2) {
        /* An SSL 2.0 compatible hello: its transcript form is not kept here. */
        tsc_tx_stop(v, TSC_VTX_LOST);
        return;
    }
    tsc_tx_message(t, dir, m);
    if (m->skipped) {
        return;
    }
    tsc_order(t, dir, m);
    if (dir == TSC_DIR_S2C && (m->type == TSC_HS_CERTIFICATE ||
                               m->type == TSC_HS_SERVER_KEY_EXCHANGE ||
                               m->type == TSC_HS_SERVER_HELLO_DONE)) {
        v->full = true;
    }
    if (m->type == TSC_HS_CLIENT_KEY_EXCHANGE && dir == TSC_DIR_C2S) {
        v->cke = true;
    }
    if (m->type == TSC_HS_FINISHED) {
        v->d[dir].finished = true;
    }
    if (m->parsed) {
        tsc_verify_parsed(t, dir, m);
    }
    tsc_tx_after(t, dir, m);
}

/* ---- records ---- */

void tsc_verify_record(struct tsc_tls_conn *t, int dir, const struct tsc_tls_record_info *r)
{
    if (t->v == NULL) {
        return;
    }
    struct tsc_ledger *l = &t->v->f.ledger[dir];
    l->records++;
    if (r->decrypted) {
        l->protected_records++;
        l->decrypted++;
    } else if (r->auth_failed) {
        l->protected_records++;
        l->failed++;
        if (l->first_failed_record == 0) {
            l->first_failed_record = l->records;
            l->first_failed_pkt = r->pkt;
            l->first_failed_reason = "bad_record_mac";
        }
    } else if (r->encrypted) {
        l->protected_records++;
        l->undecryptable++;
    } else {
        l->plaintext++;
        if (r->content_type == 22 && !t->v->d[dir].finished) {
            l->hs_plain++;
        }
    }
}

/* ---- close ---- */

static void tsc_suite_findings(struct tsc_tls_conn *t)
{
    if (t->f.cipher_suite < 0) {
        return;
    }
    const char *n = tsc_name_cipher_suite((uint16_t)t->f.cipher_suite);
    if (n == NULL) {
        return;
    }
    static const struct {
        const char *token;
        const char *what;
        const char *severity;
    } weak[] = {
        {"EXPORT", "export-grade", "warning"}, {"_anon_", "anonymous", "warning"},
        {"WITH_NULL", "NULL cipher", "warning"}, {"_NULL_WITH", "NULL key exchange", "warning"},
        {"RC4", "RC4", "warning"},             {"3DES", "3DES", "warning"},
        {"_DES_", "single DES", "warning"},    {"DES40", "export DES", "warning"},
    };
    for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
        if (strstr(n, weak[i].token) != NULL) {
            tsc_finding(t, "weak_cipher_suite", weak[i].severity, 0, "%s (%s)", n, weak[i].what);
            return;
        }
    }
}

void tsc_verify_close(struct tsc_tls_conn *t)
{
    struct tsc_tls_verify *v = t->v;
    if (v == NULL) {
        return;
    }
    const struct tsc_tls_facts *f = &t->f;
    tsc_suite_findings(t);
    if (f->sslv2) {
        tsc_finding(t, "obsolete_version", "critical", 0, "SSL 2.0 session");
    } else if (f->version == 0x0300 || f->version == 0x0301 || f->version == 0x0302) {
        tsc_finding(t, "obsolete_version", "warning", 0, "%s (deprecated, RFC 8996)",
                    tsc_name_version((uint16_t)f->version));
    }
    if (f->n_hellos > 1 && !t->tls13) {
        uint32_t sh = 0;
        for (uint32_t i = 0; i < f->n_hellos; i++) {
            sh += f->hellos[i].have_server_hello ? 1 : 0;
        }
        if (sh > 1) {
            tsc_finding(t, "renegotiation", v->reneg_ok ? "info" : "warning", 0,
                        "%u handshakes on this connection%s", sh,
                        v->reneg_ok ? "" : " without renegotiation_info");
        }
    }
    for (int d = 0; d < 2; d++) {
        if (f->dir[d].heartbleed) {
            tsc_finding(t, "heartbleed", "critical", 0,
                        "heartbeat from the %s with payload_length beyond its record",
                        d == TSC_DIR_C2S ? "client" : "server");
        }
    }
    if (f->dir[0].records[4] + f->dir[1].records[4] > 0) {
        tsc_finding(t, "heartbeat", "info", 0, "%llu heartbeat records",
                    (unsigned long long)(f->dir[0].records[4] + f->dir[1].records[4]));
    }
    for (uint32_t i = 0; i < f->n_alerts; i++) {
        const struct tsc_alert_fact *a = &f->alerts[i];
        const char *dn = tsc_name_alert_description(a->description);
        const char *who = a->from == TSC_DIR_C2S ? "client" : "server";
        if (a->description == 86 && v->fallback) {
            tsc_finding(t, "inappropriate_fallback", "warning", 0,
                        "the server refused a fallback hello (RFC 7507)");
        }
        if (a->level == 2) {
            tsc_finding(t, "fatal_alert", "warning", 0, "%s from the %s",
                        dn != NULL ? dn : "unknown", who);
        } else if (a->description != 0) {
            tsc_finding(t, "warning_alert", "info", 0, "%s from the %s",
                        dn != NULL ? dn : "unknown", who);
        }
    }
    /* Plaintext handshake records are authenticated by a verified Finished of each side. */
    bool fin = f->dec.finished[0] != NULL && f->dec.finished[1] != NULL &&
               strcmp(f->dec.finished[0], "verified") == 0 &&
               strcmp(f->dec.finished[1], "verified") == 0;
    for (int d = 0; d < 2; d++) {
        struct tsc_ledger *l = &v->f.ledger[d];
        l->authenticated = l->decrypted + (fin ? l->hs_plain : 0);
    }
}
