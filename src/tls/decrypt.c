/*
 * Bridge from the dissector to the per-connection crypto session
 * (src/crypto/session.h). Only active when the run has key material
 * (cfg.keys): the session is created on the connection's first TLS record,
 * hears the hello parameters, the server's leaf certificate, the
 * ClientKeyExchange body, early_data acceptance and every handshake message
 * in wire order, and decrypts protected records, whose plaintext goes back
 * through the record processing in records.c. Nothing here parses messages:
 * it reads fields the parsers already filled.
 */
#include <openssl/crypto.h>
#include <string.h>

#include "crypto/session.h"
#include "tls/conn.h"
#include "tls/names.h"

/* Room for one plaintext fragment: RFC 5246 6.2.3 bounds a fragment by 2^14 + 2048. */
#define TSC_PLAIN_EXTRA 4096u

struct tsc_crypto_sess *tsc_tls_crypto_sess(struct tsc_tls_conn *t)
{
    if (t->cs != NULL || t->cfg.keys == NULL || t->cs_failed || t->cs_released) {
        return t->cs;
    }
    if (tsc_csess_new(&t->cs, t->cfg.keys) != TSC_OK) {
        t->cs = NULL;
        t->cs_failed = true;
        if (t->cfg.sink != NULL) {
            struct tsc_where w = {t->cfg.file, t->pkt, t->id, -1, -1};
            tsc_diag(t->cfg.sink, TSC_DIAG_TLS_LIMIT, &w,
                     "crypto session not created (out of memory): connection stays keyless");
        }
        return NULL;
    }
    t->plain = tsc_csess_plain(t->cs, (size_t)t->cfg.max_record_len + TSC_PLAIN_EXTRA);
    return t->cs;
}

/*
 * The server accepted 0-RTT: the early records the session held back become
 * application data now; their app_data events go out with the packet and time
 * each record had.
 */
static void tsc_tls_crypto_early_accepted(struct tsc_tls_conn *t, struct tsc_crypto_sess *cs)
{
    tsc_csess_early_data_accepted(cs);
    const uint8_t *p = NULL;
    size_t n = 0;
    uint64_t pkt = 0;
    struct tsc_ts ts;
    /* Bounded by the session's held-record cap. */
    for (size_t i = 0; t->cfg.events.on_app_data != NULL &&
                       tsc_csess_early_released(cs, i, &p, &n, &pkt, &ts);
         i++) {
        t->cfg.events.on_app_data(t->cfg.events.ud, t->id, TSC_DIR_C2S, p, n, pkt, ts);
    }
    tsc_csess_early_release_done(cs);
}

/*
 * RFC 8446 4.2.11:
 *   struct {
 *       opaque identity<1..2^16-1>;
 *       uint32 obfuscated_ticket_age;
 *   } PskIdentity;
 * The first offered identity (the one a key log or --psk-identity names).
 */
static struct tsc_slice tsc_first_psk_identity(const struct tsc_client_hello *ch)
{
    struct tsc_slice id = {NULL, 0};
    const struct tsc_ext *e = tsc_ext_find(&ch->ext, TSC_EXT_PRE_SHARED_KEY);
    if (e == NULL || !e->known) {
        return id;
    }
    struct tsc_cur c = tsc_cur_from_slice(e->u.psk_client.identities);
    struct tsc_slice got;
    if (tsc_cur_vec_slice(&c, 2, 1, 0xffff, &got) == TSC_OK) {
        id = got;
    }
    return id;
}

/*
 * The secrets of the current handshake, once its keys are confirmed, to the
 * on_secrets event: TLS <= 1.2 the master secret (whatever its source); TLS
 * 1.3 every traffic/exporter secret the key material holds for this client
 * random (a key log cannot yield others).
 */
static const enum tsc_keylog_label tsc_tls13_labels[] = {
    TSC_KL_CLIENT_EARLY_TRAFFIC_SECRET, TSC_KL_CLIENT_HANDSHAKE_TRAFFIC_SECRET,
    TSC_KL_SERVER_HANDSHAKE_TRAFFIC_SECRET, TSC_KL_CLIENT_TRAFFIC_SECRET_0,
    TSC_KL_SERVER_TRAFFIC_SECRET_0, TSC_KL_EXPORTER_SECRET, TSC_KL_EARLY_EXPORTER_SECRET,
};

static void tsc_tls_report_secrets(struct tsc_tls_conn *t)
{
    if (t->cfg.events.on_secrets == NULL || t->cs == NULL || t->secrets_out) {
        return;
    }
    const struct tsc_crypto_facts *cf = tsc_csess_facts(t->cs);
    struct tsc_tls_secrets out;
    memset(&out, 0, sizeof(out));
    if (t->f.n_hellos > 0) {
        const struct tsc_hello_fact *h = &t->f.hellos[t->f.n_hellos - 1];
        if (!h->have_client_hello || h->sslv2) {
            return;
        }
        memcpy(out.client_random, h->client_random, 32);
    } else if (!t->trial_bound || !tsc_csess_client_random(t->cs, out.client_random)) {
        return; /* no hello: only a trial match names the client random */
    }
    if (!t->tls13) {
        if (!cf->have_master_secret) {
            return;
        }
        out.s[0].label = tsc_keylog_label_name(TSC_KL_CLIENT_RANDOM);
        memcpy(out.s[0].secret, cf->master_secret, 48);
        out.s[0].len = 48;
        out.n = 1;
    } else {
        for (size_t i = 0; i < sizeof(tsc_tls13_labels) / sizeof(tsc_tls13_labels[0]); i++) {
            size_t len = 0;
            if (tsc_keys_keylog_find(t->cfg.keys, tsc_tls13_labels[i], out.client_random, 32,
                                     out.s[out.n].secret, &len)) {
                out.s[out.n].label = tsc_keylog_label_name(tsc_tls13_labels[i]);
                out.s[out.n].len = len;
                out.n++;
            }
        }
    }
    if (out.n > 0) {
        t->secrets_out = true;
        t->cfg.events.on_secrets(t->cfg.events.ud, t->id, &out);
    }
    OPENSSL_cleanse(&out, sizeof(out));
}

void tsc_tls_crypto_message(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m,
                            const uint8_t *raw, size_t raw_len)
{
    if (m->sslv2) {
        /* An SSLv2-compatible hello goes through tsc_tls_crypto_v2_hello; SSLv2
         * sessions themselves are not decrypted (see tsc_tls_crypto_close). */
        return;
    }
    struct tsc_crypto_sess *cs = tsc_tls_crypto_sess(t);
    if (cs == NULL) {
        return;
    }
    if (m->type == TSC_HS_END_OF_EARLY_DATA && dir == TSC_DIR_C2S) {
        /* RFC 8446 4.5: the client sends it only after the server accepted 0-RTT. */
        tsc_tls_crypto_early_accepted(t, cs);
    }
    if (m->type == TSC_HS_CLIENT_KEY_EXCHANGE && dir == TSC_DIR_C2S && !m->skipped) {
        /* The session reads the body by the negotiated key exchange (RFC 5246 7.4.7). */
        tsc_csess_client_key_exchange(cs, m->body.p, m->body.len);
    }
    if (m->parsed) {
        switch (m->type) {
        case TSC_HS_CLIENT_HELLO: {
            const struct tsc_client_hello *ch = &m->u.ch;
            struct tsc_slice id = tsc_first_psk_identity(ch);
            bool early = tsc_ext_find(&ch->ext, TSC_EXT_EARLY_DATA) != NULL;
            tsc_csess_client_hello(cs, ch->random.p, early, id.p, id.len);
            t->secrets_out = false; /* a new handshake (renegotiation): its own secrets */
            break;
        }
        case TSC_HS_SERVER_HELLO: {
            const struct tsc_server_hello *sh = &m->u.sh;
            /* The process step already set t->version from supported_versions. */
            bool ems = t->ch_ems && tsc_ext_find(&sh->ext, TSC_EXT_EXTENDED_MASTER_SECRET) != NULL;
            bool etm = t->ch_etm && tsc_ext_find(&sh->ext, TSC_EXT_ENCRYPT_THEN_MAC) != NULL;
            bool psk = tsc_ext_find(&sh->ext, TSC_EXT_PRE_SHARED_KEY) != NULL;
            tsc_csess_server_hello(cs, t->version, sh->cipher_suite, sh->random.p,
                                   sh->compression_method, ems, etm, sh->hrr, psk);
            if (t->resume_hit && !sh->hrr) {
                /* The offered session ID or ticket came from an earlier connection. */
                tsc_csess_resume_candidate(cs, t->resume_val.have_ms ? t->resume_val.ms : NULL);
            }
            break;
        }
        case TSC_HS_ENCRYPTED_EXTENSIONS:
            /* RFC 8446 4.2.10: early_data in EncryptedExtensions accepts the 0-RTT data,
             * its absence rejects it. */
            if (dir == TSC_DIR_S2C) {
                if (tsc_ext_find(&m->u.ee, TSC_EXT_EARLY_DATA) != NULL) {
                    tsc_tls_crypto_early_accepted(t, cs);
                } else {
                    tsc_csess_early_data_rejected(cs);
                }
            }
            break;
        case TSC_HS_CERTIFICATE:
            if (dir == TSC_DIR_S2C && m->u.cert.kept > 0) {
                const struct tsc_slice *der = &m->u.cert.c[0].der;
                tsc_csess_server_certificate(cs, der->p, der->len);
            }
            break;
        default:
            break;
        }
    }
    if (!m->skipped && raw != NULL) {
        tsc_csess_handshake(cs, dir, raw, raw_len);
        if (m->type == TSC_HS_FINISHED) {
            /* The master secret is settled by now (RSA candidates included). */
            tsc_resume_publish(t);
            if (tsc_csess_facts(cs)->finished[dir] == TSC_FIN_VERIFIED) {
                tsc_tls_report_secrets(t);
            }
        }
    }
}

void tsc_tls_crypto_after_decrypt(struct tsc_tls_conn *t, int dir, int64_t off)
{
    uint16_t suite = 0;
    if (t->cs == NULL || !tsc_csess_trial_take_match(t->cs, &suite)) {
        return;
    }
    /* The tag verified under the TLS 1.3 key schedule: the connection is TLS 1.3 with
     * this suite (its records and post-handshake messages are read as such from now). */
    t->trial_bound = true;
    t->tls13 = true;
    t->version = 0x0304;
    t->f.version = 0x0304;
    t->f.cipher_suite = suite;
    const struct tsc_crypto_facts *cf = tsc_csess_facts(t->cs);
    if (t->cfg.sink != NULL) {
        uint8_t cr[32];
        char hex[17];
        if (!tsc_csess_client_random(t->cs, cr)) {
            memset(cr, 0, sizeof(cr));
        }
        for (int i = 0; i < 8; i++) {
            snprintf(hex + 2 * i, 3, "%02x", cr[i]);
        }
        const char *name = tsc_name_cipher_suite(suite);
        struct tsc_where w = {t->cfg.file, t->pkt, t->id, dir, off};
        tsc_diag(t->cfg.sink, TSC_DIAG_TLS_TRIAL_MATCH, &w,
                 "midstream: keys found by trial: the key log's secrets for client random "
                 "%s... verify this record as %s at sequence number %llu "
                 "(%u candidate secrets tried)",
                 hex, name != NULL ? name : "a TLS 1.3 suite",
                 (unsigned long long)cf->trial_first_seq[dir], cf->trial_secrets_tried);
    }
}

void tsc_tls_crypto_v2_hello(struct tsc_tls_conn *t, const struct tsc_hs_msg *m,
                             struct tsc_slice raw)
{
    if (!m->sslv2 || m->type != TSC_V2_CLIENT_HELLO || !m->parsed) {
        return;
    }
    struct tsc_crypto_sess *cs = tsc_tls_crypto_sess(t);
    if (cs != NULL) {
        const struct tsc_v2_client_hello *ch = &m->u.v2ch;
        tsc_csess_client_hello_v2(cs, ch->challenge.p, ch->challenge.len, raw.p, raw.len);
    }
}

/* The midstream trial's facts for the summary, and a diagnostic when it found nothing. */
static void tsc_tls_crypto_trial_facts(struct tsc_tls_conn *t, const struct tsc_crypto_facts *cf,
                                       struct tsc_decrypt_facts *df)
{
    df->matched_by = cf->trial_matched ? "trial" : cf->keys_known ? "handshake" : NULL;
    df->trial = cf->trial;
    if (!cf->trial) {
        return;
    }
    df->trial_matched = cf->trial_matched;
    df->trial_cap_hit = cf->trial_cap_hit;
    df->trial_roles_swapped = cf->trial_roles_swapped;
    df->trial_secrets_tried = cf->trial_secrets_tried;
    df->trial_window = cf->trial_window;
    df->trial_cipher_suite = cf->trial_cipher_suite;
    memcpy(df->trial_client_random, cf->trial_client_random, 32);
    for (int d = 0; d < 2; d++) {
        df->trial_synced[d] = cf->trial_synced[d];
        df->trial_first_seq[d] = cf->trial_first_seq[d];
        df->trial_generation[d] = cf->trial_generation[d];
    }
    if (cf->trial_matched || t->cfg.sink == NULL) {
        return;
    }
    struct tsc_where w = {t->cfg.file, t->pkt, t->id, -1, -1};
    if (cf->trial_tls12) {
        tsc_diag(t->cfg.sink, TSC_DIAG_TLS_TRIAL_FAILED, &w,
                 "midstream TLS <= 1.2 connection: not decryptable without its handshake (the "
                 "key block needs the server random, which no key log line carries)");
    } else if (cf->trial_cap_hit) {
        tsc_diag(t->cfg.sink, TSC_DIAG_TLS_TRIAL_FAILED, &w,
                 "midstream: stopped after %u candidate secrets (--trial-max) without a match; "
                 "the key log has more",
                 cf->trial_secrets_tried);
    } else {
        tsc_diag(t->cfg.sink, TSC_DIAG_TLS_TRIAL_FAILED, &w,
                 "midstream: no unbound TLS 1.3 application secret of the key log verifies the "
                 "first records of either direction (%u tried; sequence numbers 0..%u, "
                 "%u key generations)",
                 cf->trial_secrets_tried,
                 (unsigned)(cf->trial_window > 0 ? cf->trial_window - 1 : 0),
                 TSC_TRIAL_GENERATIONS);
    }
}

void tsc_tls_crypto_close(struct tsc_tls_conn *t)
{
    struct tsc_decrypt_facts *df = &t->f.dec;
    if (t->closed) {
        return;
    }
    t->closed = true;
    memset(df, 0, sizeof(*df));
    df->key_material = t->cfg.keys != NULL;
    df->finished[0] = tsc_finished_state_name(TSC_FIN_UNVERIFIED);
    df->finished[1] = tsc_finished_state_name(TSC_FIN_UNVERIFIED);
    if (t->cs == NULL) {
        enum tsc_undecrypted why = TSC_UNDEC_NO_KEY_MATERIAL;
        if (t->cfg.keys != NULL) {
            why = t->f.sslv2 ? TSC_UNDEC_SSLV2 : TSC_UNDEC_HANDSHAKE_NOT_CAPTURED;
        }
        df->undecrypted_reason = tsc_undecrypted_name(why);
        return;
    }
    if (t->f.sslv2) {
        df->undecrypted_reason = tsc_undecrypted_name(TSC_UNDEC_SSLV2);
        return;
    }
    tsc_csess_finish(t->cs);
    tsc_resume_publish(t);
    if (tsc_csess_facts(t->cs)->decrypted) {
        tsc_tls_report_secrets(t);
    }
    const struct tsc_crypto_facts *cf = tsc_csess_facts(t->cs);
    df->decrypted = cf->decrypted;
    df->key_source = tsc_key_source_name(cf->key_source);
    for (int d = 0; d < 2; d++) {
        df->finished[d] = tsc_finished_state_name(cf->finished[d]);
        df->decrypted_records[d] = cf->decrypted_records[d];
        df->records_skipped[d] = cf->records_skipped[d];
        df->resyncs[d] = cf->resyncs[d];
        df->app_bytes[d] = cf->app_bytes[d];
        df->have_app_data[d] = cf->app_bytes[d] > 0;
        memcpy(df->app_sha256[d], cf->app_sha256[d], 32);
    }
    df->bad_records = cf->bad_records;
    df->undecrypted_reason = tsc_undecrypted_name(cf->undecrypted_reason);
    df->early_data_bytes = cf->early_data_bytes;
    df->early_data_rejected_bytes = cf->early_data_rejected_bytes;
    df->have_master_secret = cf->have_master_secret;
    if (cf->have_master_secret) {
        memcpy(df->master_secret, cf->master_secret, 48);
    }
    tsc_tls_crypto_trial_facts(t, cf, df);
    /*
     * The facts are copied: the session (its contexts, buffers, secrets) goes
     * back to the pool now rather than when the connection's state is freed,
     * which for closed flows waits for the time-wait sweep: released there in
     * batches, sessions would miss the pool.
     */
    tsc_csess_free(t->cs);
    t->cs = NULL;
    t->plain = NULL;
    t->cs_released = true;
}
