/*
 * Resumption across connections: links a resumed handshake to the earlier
 * connection that issued its session (resumed_from) through the run-wide
 * cache (src/crypto/sesscache.h), and hands a TLS <= 1.2 crypto session the
 * master secret recovered in that connection.
 *
 * Identifiers (RFC 5246 7.4.1.2-3, RFC 5077 3, RFC 8446 4.2.11 / 4.6.1):
 *   - session ID: issued in the ServerHello of a full handshake, resumed
 *     when a later ServerHello echoes the ClientHello's session_id;
 *   - TLS 1.2 ticket: issued in NewSessionTicket, offered in the ClientHello's
 *     session_ticket extension, resumed when the handshake is abbreviated
 *     (ServerHello straight to ChangeCipherSpec, RFC 5077 3.1);
 *   - TLS 1.3 ticket: issued in a (decrypted) NewSessionTicket, offered as a
 *     PskIdentity, resumed when ServerHello's pre_shared_key selects it.
 * Lookups only read the parsed messages; nothing here parses wire bytes.
 */
#include <openssl/crypto.h>
#include <string.h>

#include "tls/conn.h"

static void tsc_resume_link(struct tsc_tls_conn *t)
{
    if (t->resume_hit && !t->f.have_resumed_from && t->resume_val.conn_id != t->id) {
        t->f.have_resumed_from = true;
        t->f.resumed_from = t->resume_val.conn_id;
    }
}

/*
 * One lookup. In a threaded run the issuing connection may sit in another
 * worker that has not reached this packet yet: on a miss (or a TLS <= 1.2
 * entry still without its master secret) the lookup is made again once every
 * earlier packet is processed, so the answer is the one a single thread gives.
 */
static bool tsc_resume_get(struct tsc_tls_conn *t, const struct tsc_sess_key *k)
{
    bool hit = tsc_sess_cache_get(t->cfg.sessions, k, &t->resume_val);
    if ((!hit || (!t->tls13 && !t->resume_val.have_ms)) && t->cfg.sess_wait != NULL &&
        t->cfg.sess_wait(t->cfg.sess_wait_ud)) {
        struct tsc_sess_val again;
        if (tsc_sess_cache_get(t->cfg.sessions, k, &again)) {
            t->resume_val = again;
            hit = true;
        }
    }
    return hit;
}

void tsc_resume_client_hello(struct tsc_tls_conn *t, const struct tsc_hs_msg *m)
{
    const struct tsc_client_hello *ch = &m->u.ch;
    t->ch_ticket_key_ok = false;
    t->n_ch_psk = 0;
    t->resume_hit = false;
    if (t->cfg.sessions == NULL) {
        return;
    }
    const struct tsc_ext *e = tsc_ext_find(&ch->ext, TSC_EXT_SESSION_TICKET);
    if (e != NULL && e->data.len > 0) {
        tsc_sess_key_make(TSC_SESS_TICKET, e->data.p, e->data.len, &t->ch_ticket_key);
        t->ch_ticket_key_ok = true;
    }
    e = tsc_ext_find(&ch->ext, TSC_EXT_PRE_SHARED_KEY);
    if (e == NULL || !e->known) {
        return;
    }
    /* struct { opaque identity<1..2^16-1>; uint32 obfuscated_ticket_age; } PskIdentity; */
    struct tsc_cur c = tsc_cur_from_slice(e->u.psk_client.identities);
    while (t->n_ch_psk < TSC_RESUME_IDS && c.left > 0) {
        struct tsc_slice id;
        uint32_t age = 0;
        if (tsc_cur_vec_slice(&c, 2, 1, 0xffff, &id) != TSC_OK || tsc_cur_u32(&c, &age) != TSC_OK) {
            break;
        }
        tsc_sess_key_make(TSC_SESS_TICKET, id.p, id.len, &t->ch_psk_key[t->n_ch_psk++]);
    }
}

void tsc_resume_server_hello(struct tsc_tls_conn *t, const struct tsc_hs_msg *m)
{
    const struct tsc_server_hello *sh = &m->u.sh;
    struct tsc_sess_cache *sc = t->cfg.sessions;
    if (sc == NULL || sh->hrr) {
        return;
    }
    t->resume_hit = false;
    if (t->tls13) {
        /* RFC 8446 4.2.11: selected_identity indexes the ClientHello's identities. */
        const struct tsc_ext *e = tsc_ext_find(&sh->ext, TSC_EXT_PRE_SHARED_KEY);
        if (e != NULL && e->known && e->u.psk_selected < t->n_ch_psk) {
            t->resume_hit = tsc_resume_get(t, &t->ch_psk_key[e->u.psk_selected]);
            tsc_resume_link(t);
        }
        return;
    }
    bool echoed = sh->session_id.len > 0 && sh->session_id.len == t->ch_sid_len &&
                  memcmp(sh->session_id.p, t->ch_sid, t->ch_sid_len) == 0;
    struct tsc_sess_key sid;
    if (sh->session_id.len > 0) {
        tsc_sess_key_make(TSC_SESS_ID, sh->session_id.p, sh->session_id.len, &sid);
    }
    /* A ticket first: with RFC 5077 the server also echoes the client's session ID. */
    if (t->ch_ticket_key_ok) {
        t->resume_hit = tsc_resume_get(t, &t->ch_ticket_key);
    }
    if (!t->resume_hit && echoed) {
        t->resume_hit = tsc_resume_get(t, &sid);
    }
    if (echoed) {
        tsc_resume_link(t); /* an echoed session ID is a resumption (RFC 5246 7.4.1.3) */
    } else if (sh->session_id.len > 0) {
        /* A new session ID: a full handshake issues it. */
        t->iss_sid = true;
        t->iss_sid_key = sid;
        tsc_resume_publish(t);
    }
}

void tsc_resume_abbreviated(struct tsc_tls_conn *t)
{
    tsc_resume_link(t); /* a ticket offered and the handshake abbreviated: resumed by it */
}

void tsc_resume_ticket(struct tsc_tls_conn *t, const struct tsc_hs_msg *m)
{
    const struct tsc_new_session_ticket *nst = &m->u.nst;
    if (t->cfg.sessions == NULL || nst->ticket.len == 0) {
        return; /* RFC 5077 3.3: an empty ticket means "no new ticket" */
    }
    struct tsc_sess_key k;
    tsc_sess_key_make(TSC_SESS_TICKET, nst->ticket.p, nst->ticket.len, &k);
    if (t->n_iss_ticket < TSC_RESUME_IDS) {
        t->iss_ticket[t->n_iss_ticket++] = k;
        tsc_resume_publish(t);
        return;
    }
    /* Past the per-connection list: entered now, not updated later. */
    struct tsc_sess_val v;
    memset(&v, 0, sizeof(v));
    v.conn_id = t->id;
    v.version = t->version;
    v.suite = t->suite;
    tsc_sess_cache_put(t->cfg.sessions, &k, &v);
}

void tsc_resume_publish(struct tsc_tls_conn *t)
{
    if (t->cfg.sessions == NULL || (!t->iss_sid && t->n_iss_ticket == 0)) {
        return;
    }
    struct tsc_sess_val v;
    memset(&v, 0, sizeof(v));
    v.conn_id = t->id;
    v.version = t->version;
    v.suite = t->suite;
    if (t->cs != NULL && !t->tls13) {
        const struct tsc_crypto_facts *cf = tsc_csess_facts(t->cs);
        /* A secret this connection's own records refuted (a Finished mismatch, or
         * records that failed while none verified) is not handed on. */
        bool refuted = cf->finished[0] == TSC_FIN_MISMATCH || cf->finished[1] == TSC_FIN_MISMATCH ||
                       (cf->bad_records > 0 && !cf->decrypted);
        if (cf->have_master_secret && !refuted) {
            v.have_ms = true;
            memcpy(v.ms, cf->master_secret, 48);
        }
    }
    if (t->iss_sid) {
        tsc_sess_cache_put(t->cfg.sessions, &t->iss_sid_key, &v);
    }
    for (uint8_t i = 0; i < t->n_iss_ticket; i++) {
        tsc_sess_cache_put(t->cfg.sessions, &t->iss_ticket[i], &v);
    }
    OPENSSL_cleanse(&v, sizeof(v));
}
