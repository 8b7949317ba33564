/*
 * Process step: connection facts (struct tsc_tls_facts) and parsing context
 * from parsed messages. No parsing and no printing here.
 */
#include <string.h>

#include "tls/conn.h"
#include "tls/fingerprint.h"
#include "x509/x509.h"

void tsc_tls_ctx_fill(const struct tsc_tls_conn *t, int dir, struct tsc_hs_ctx *ctx)
{
    ctx->version = t->version;
    ctx->cipher_suite = t->suite;
    ctx->have_suite = t->have_suite;
    ctx->tls13 = t->tls13;
    ctx->from_server = dir == TSC_DIR_S2C;
}

static void tsc_copy_str(char *dst, size_t cap, struct tsc_slice s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n > 0) {
        memcpy(dst, s.p, n);
    }
    dst[n] = '\0';
}

static struct tsc_hello_fact *tsc_hello_new(struct tsc_tls_conn *t)
{
    if (t->f.n_hellos >= TSC_MAX_HANDSHAKES) {
        return NULL;
    }
    struct tsc_hello_fact *h = &t->f.hellos[t->f.n_hellos++];
    memset(h, 0, sizeof(*h));
    return h;
}

/* The exchange a ServerHello answers: the last one without a server hello yet. */
static struct tsc_hello_fact *tsc_hello_for_server(struct tsc_tls_conn *t)
{
    if (t->f.n_hellos > 0) {
        struct tsc_hello_fact *h = &t->f.hellos[t->f.n_hellos - 1];
        if (!h->have_server_hello) {
            return h;
        }
    }
    return tsc_hello_new(t);
}

/* ALPN offered: the raw ProtocolNameList, truncated at a name boundary to fit. */
static void tsc_alpn_offered(struct tsc_tls_conn *t, struct tsc_slice list)
{
    struct tsc_cur c = tsc_cur_from_slice(list);
    size_t keep = 0;
    while (c.left > 0) {
        struct tsc_slice name;
        if (tsc_cur_vec_slice(&c, 1, 1, 0xff, &name) != TSC_OK) {
            break;
        }
        size_t end = (size_t)(name.p + name.len - list.p);
        if (end > sizeof(t->f.alpn_offered)) {
            break;
        }
        keep = end;
    }
    if (keep > 0) {
        memcpy(t->f.alpn_offered, list.p, keep);
    }
    t->f.alpn_offered_len = (uint16_t)keep;
}

static void tsc_process_client_hello(struct tsc_tls_conn *t, const struct tsc_hs_msg *m)
{
    const struct tsc_client_hello *ch = &m->u.ch;
    struct tsc_hello_fact *h = NULL;
    if (!t->fp_client_done) {
        /* The first ClientHello only (also with HelloRetryRequest, as FoxIO's JA4 does). */
        t->fp_client_done = true;
        if (t->cfg.fp != NULL && tsc_fp_client_hello(t->cfg.fp, ch, t->f.ja3, t->f.ja4) != TSC_OK) {
            /* Only a libcrypto failure gets here: both stay null. */
            t->f.ja3[0] = '\0';
            t->f.ja4[0] = '\0';
        }
    }
    if (t->f.n_hellos > 0) {
        struct tsc_hello_fact *last = &t->f.hellos[t->f.n_hellos - 1];
        if (last->hello_retry_request && !last->have_server_hello) {
            /*
             * RFC 8446 4.1.2: the ClientHello answering a HelloRetryRequest
             * belongs to the same exchange (same random); the ServerHello
             * completes it.
             */
            h = last;
        }
    }
    if (h == NULL) {
        h = tsc_hello_new(t);
    }
    if (h != NULL && !h->have_client_hello) {
        h->have_client_hello = true;
        h->client_hello_record_version = m->record_version;
        h->client_hello_version = ch->legacy_version;
        memcpy(h->client_random, ch->random.p, 32);
        h->client_random_len = 32;
    }
    if (ch->session_id.len > 0) {
        memcpy(t->ch_sid, ch->session_id.p, ch->session_id.len);
    }
    t->ch_sid_len = (uint8_t)ch->session_id.len;
    const struct tsc_ext *e = tsc_ext_find(&ch->ext, TSC_EXT_SERVER_NAME);
    if (e != NULL && e->known && e->u.sni.host.len > 0) {
        tsc_copy_str(t->f.sni, sizeof(t->f.sni), e->u.sni.host);
    }
    e = tsc_ext_find(&ch->ext, TSC_EXT_ALPN);
    if (e != NULL && e->known) {
        tsc_alpn_offered(t, e->u.alpn.list);
    }
    if (tsc_ext_find(&ch->ext, TSC_EXT_EARLY_DATA) != NULL) {
        /* Offered: accepted or not is said in EncryptedExtensions (RFC 8446 4.2.10). */
        t->f.early_data_offered = true;
        t->f.early_data = TSC_TRI_UNKNOWN;
    }
    t->ch_ems = tsc_ext_find(&ch->ext, TSC_EXT_EXTENDED_MASTER_SECRET) != NULL;
    t->ch_etm = tsc_ext_find(&ch->ext, TSC_EXT_ENCRYPT_THEN_MAC) != NULL;
    e = tsc_ext_find(&ch->ext, TSC_EXT_SESSION_TICKET);
    t->ch_ticket = e != NULL && e->data.len > 0;
    t->sh_seen = false;
    t->server_auth = false;
    tsc_resume_client_hello(t, m);
}

static void tsc_process_v2_client_hello(struct tsc_tls_conn *t, const struct tsc_hs_msg *m)
{
    const struct tsc_v2_client_hello *ch = &m->u.v2ch;
    struct tsc_hello_fact *h = tsc_hello_new(t);
    /* No JA3/JA4 for an SSLv2-format hello (as tshark): t->f.ja3 and ja4 stay null. */
    t->fp_client_done = true;
    if (h != NULL) {
        h->have_client_hello = true;
        h->sslv2 = true;
        h->client_hello_record_version = 0x0002;
        h->client_hello_version = ch->version;
        /* RFC 5246 E.2: the challenge is the client random, right-aligned in 32 bytes. */
        memset(h->client_random, 0, 32);
        memcpy(h->client_random + (32 - ch->challenge.len), ch->challenge.p, ch->challenge.len);
        h->client_random_len = 32;
    }
    t->ch_sid_len = 0;
    t->ch_ems = false;
    t->ch_etm = false;
    t->ch_ticket = false;
    t->sh_seen = false;
    t->server_auth = false;
}

static enum tsc_tri tsc_both(bool client, bool server)
{
    return client && server ? TSC_TRI_YES : TSC_TRI_NO;
}

static void tsc_process_server_hello(struct tsc_tls_conn *t, const struct tsc_hs_msg *m)
{
    const struct tsc_server_hello *sh = &m->u.sh;
    struct tsc_hello_fact *h = tsc_hello_for_server(t);
    if (!t->fp_server_done) {
        t->fp_server_done = true;
        if (t->cfg.fp != NULL && tsc_fp_ja3s(t->cfg.fp, sh, t->f.ja3s) != TSC_OK) {
            t->f.ja3s[0] = '\0';
        }
    }
    uint16_t v = sh->selected_version != 0 ? sh->selected_version : sh->legacy_version;
    if (sh->hrr && sh->selected_version == 0) {
        v = 0x0304;
    }
    if (h != NULL && sh->hrr) {
        /* The exchange goes on with a second ClientHello; the ServerHello fills it. */
        h->hello_retry_request = true;
        h->negotiated_version = v;
        h->cipher_suite = sh->cipher_suite;
    } else if (h != NULL) {
        h->have_server_hello = true;
        h->server_hello_record_version = m->record_version;
        h->server_hello_version = sh->legacy_version;
        h->negotiated_version = v;
        h->cipher_suite = sh->cipher_suite;
        memcpy(h->server_random, sh->random.p, 32);
    }
    t->version = v;
    t->suite = sh->cipher_suite;
    t->have_suite = true;
    t->tls13 = tsc_version_is_tls13(v);
    t->null_mac_len = t->tls13 ? 0 : (uint8_t)tsc_suite_null_mac_len(sh->cipher_suite);
    t->f.version = v;
    t->f.cipher_suite = sh->cipher_suite;
    t->server_auth = false;
    if (sh->hrr) {
        t->f.hello_retry_request = true;
        return;
    }
    t->sh_seen = true;
    if (sh->session_id.len > 0) {
        memcpy(t->f.session_id, sh->session_id.p, sh->session_id.len);
    }
    t->f.session_id_len = (uint8_t)sh->session_id.len;
    if (t->tls13) {
        /* RFC 8446 4.2.11: a selected pre_shared_key means resumption (or external PSK). */
        t->f.resumed = tsc_ext_find(&sh->ext, TSC_EXT_PRE_SHARED_KEY) != NULL;
        t->f.extended_master_secret = TSC_TRI_UNKNOWN;
        t->f.encrypt_then_mac = TSC_TRI_UNKNOWN;
    } else {
        /* RFC 5246 7.4.1.3: an echoed non-empty session id resumes that session. */
        t->f.resumed = sh->session_id.len > 0 && sh->session_id.len == t->ch_sid_len &&
                       memcmp(sh->session_id.p, t->ch_sid, t->ch_sid_len) == 0;
        t->f.extended_master_secret =
            tsc_both(t->ch_ems, tsc_ext_find(&sh->ext, TSC_EXT_EXTENDED_MASTER_SECRET) != NULL);
        t->f.encrypt_then_mac =
            tsc_both(t->ch_etm, tsc_ext_find(&sh->ext, TSC_EXT_ENCRYPT_THEN_MAC) != NULL);
        t->f.early_data = TSC_TRI_NO; /* 0-RTT exists only in TLS 1.3 */
    }
    const struct tsc_ext *e = tsc_ext_find(&sh->ext, TSC_EXT_ALPN);
    if (e != NULL && e->known && e->u.alpn.list.len > 1) {
        struct tsc_slice name = {e->u.alpn.list.p + 1, e->u.alpn.list.len - 1};
        tsc_copy_str(t->f.alpn, sizeof(t->f.alpn), name);
    }
    tsc_resume_server_hello(t, m);
}

static void tsc_process_certificate(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m)
{
    const struct tsc_certificate *c = &m->u.cert;
    if (dir != TSC_DIR_S2C) {
        return;
    }
    t->server_auth = true;
    if (t->f.n_certs > 0 || t->f.certs_dropped > 0) {
        return; /* the first server chain only */
    }
    for (uint32_t i = 0; i < c->kept; i++) {
        if (t->f.n_certs >= TSC_MAX_CERTS || t->cfg.certs == NULL) {
            t->f.certs_dropped++;
            continue;
        }
        const struct tsc_cert_summary *s =
            tsc_x509_get(t->cfg.certs, c->c[i].der.p, c->c[i].der.len);
        if (s == NULL) {
            t->f.certs_dropped++;
            continue;
        }
        if (!s->parse_ok) {
            tsc_tls_fail(t, dir, m->offset, TSC_DIAG_X509_MALFORMED, false,
                         "server certificate %u of %u (%zu bytes) is not a decodable X.509 "
                         "certificate: only its SHA-256 and length are reported",
                         i + 1, c->n, c->c[i].der.len);
        }
        t->f.certs[t->f.n_certs++] = s;
    }
    t->f.certs_dropped += c->n - c->kept;
}

void tsc_tls_process(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m)
{
    if (m->sslv2) {
        if (m->type == TSC_V2_CLIENT_HELLO && m->parsed) {
            tsc_process_v2_client_hello(t, m);
        } else if (m->type == TSC_V2_SERVER_HELLO && m->parsed) {
            /* No server random nor TLS ServerHello: only the version is a fact. */
            t->f.version = m->u.v2sh.version;
            t->version = m->u.v2sh.version;
        }
        return;
    }
    if (m->type == TSC_HS_CERTIFICATE || m->type == TSC_HS_SERVER_KEY_EXCHANGE ||
        m->type == TSC_HS_SERVER_HELLO_DONE) {
        if (dir == TSC_DIR_S2C) {
            t->server_auth = true;
        }
    }
    if (!m->parsed) {
        return;
    }
    switch (m->type) {
    case TSC_HS_CLIENT_HELLO:
        tsc_process_client_hello(t, m);
        break;
    case TSC_HS_SERVER_HELLO:
        tsc_process_server_hello(t, m);
        break;
    case TSC_HS_CERTIFICATE:
        tsc_process_certificate(t, dir, m);
        break;
    case TSC_HS_ENCRYPTED_EXTENSIONS: {
        /* RFC 8446 4.2.10: the server accepts early data with an empty early_data here. */
        t->f.early_data =
            tsc_ext_find(&m->u.ee, TSC_EXT_EARLY_DATA) != NULL ? TSC_TRI_YES : TSC_TRI_NO;
        const struct tsc_ext *e = tsc_ext_find(&m->u.ee, TSC_EXT_ALPN);
        if (e != NULL && e->known && e->u.alpn.list.len > 1) {
            struct tsc_slice name = {e->u.alpn.list.p + 1, e->u.alpn.list.len - 1};
            tsc_copy_str(t->f.alpn, sizeof(t->f.alpn), name);
        }
        break;
    }
    case TSC_HS_NEW_SESSION_TICKET:
        if (dir == TSC_DIR_S2C) {
            tsc_resume_ticket(t, m);
        }
        break;
    default:
        break;
    }
}

/*
 * RFC 5077 3.1 / RFC 5246 7.3 abbreviated handshake: the server goes from
 * ServerHello (and possibly NewSessionTicket) straight to ChangeCipherSpec.
 */
void tsc_tls_process_ccs(struct tsc_tls_conn *t, int dir)
{
    if (dir == TSC_DIR_S2C && t->sh_seen && !t->server_auth && !t->tls13 && !t->d[dir].ccs) {
        t->f.resumed = true;
        tsc_resume_abbreviated(t);
    }
}
