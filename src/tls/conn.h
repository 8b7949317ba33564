/* Connection and per-direction state of the TLS dissector (internal to src/tls). */
#ifndef TSC_TLS_CONN_H
#define TSC_TLS_CONN_H

#include "crypto/sesscache.h"
#include "crypto/session.h"
#include "tls/msg.h"
#include "tls/tls.h"
#include "util/buf.h"

enum tsc_dir_state {
    TSC_DS_START = 0, /* nothing decided yet: waiting for the first header */
    TSC_DS_RECORDS,   /* in record framing */
    TSC_DS_SCAN,      /* looking for a record header (non-TLS prefix or after a gap) */
    TSC_DS_DEAD,      /* hard framing error: bytes ignored until a gap */
};

#define TSC_RESUME_IDS 4 /* PSK identities / issued tickets tracked per connection */

struct tsc_tls_dirst {
    uint8_t state;    /* enum tsc_dir_state */
    bool scan_resync; /* SCAN after a gap (else: non-TLS prefix) */
    bool not_tls_reported;
    bool err_reported; /* the first hard error is sticky */
    bool ccs;          /* ChangeCipherSpec seen (TLS <= 1.2: later records protected) */
    bool v2;           /* direction started with SSLv2 framing */
    bool v2_encrypted; /* SSLv2 session keys in use in this direction */
    bool any_record;
    bool hs_garbage;    /* handshake framing lost: later handshake records not parsed */
    bool midstream;     /* start not captured: SCAN looks for a chain of record headers */
    bool mid_undecided; /* picked up midstream: protection state not known yet */
    int64_t off;        /* stream offset of the next byte */
    int64_t rec_off;    /* offset of the record being buffered */
    struct tsc_buf rec; /* partial record (or scan window); allocated on need */
    struct tsc_buf hs;  /* partial handshake message; allocated on need */
    int64_t hs_off;     /* offset of that message's header */
    uint16_t hs_rec_version;
    uint32_t skip_left;    /* body bytes of an oversized message still to skip */
    uint64_t scan_skipped; /* bytes skipped in the current SCAN */
    uint64_t sslv2_records;
    bool dec_started;          /* a record of this direction went to the crypto session */
    bool dec_lost;             /* a gap after that: record numbers unknown, stays opaque */
    bool dec_resync;           /* a gap after that: the next record's number is searched */
    uint32_t resync_fails;     /* records after the gap that no candidate number verified */
    int64_t dec_end;           /* stream offset after the last decrypted record */
    uint64_t dec_rec_bytes;    /* decrypted records (with headers) and their bytes: the */
    uint64_t dec_rec_count;    /* average record size that estimates records lost */
    uint32_t bad_mac_reported; /* tls-bad-record-mac diagnostics written (capped) */
};

struct tsc_tls_conn {
    struct tsc_tls_config cfg;
    uint64_t id;
    uint64_t pkt; /* packet being processed */
    bool midstream; /* the TCP connection's start (SYN) was not captured */
    struct tsc_ts ts;
    struct tsc_tls_facts f;
    struct tsc_tls_dirst d[2];
    /* Handshake state used for parsing context and facts. */
    bool tls13; /* the last ServerHello/HRR negotiated TLS 1.3 */
    bool have_suite;
    uint16_t suite;
    uint16_t version; /* negotiated, 0 unknown */
    bool sh_seen;     /* a ServerHello of the current handshake was seen */
    bool server_auth; /* Certificate/ServerKeyExchange/ServerHelloDone since it */
    bool ch_ems, ch_etm, ch_ticket;
    uint8_t null_mac_len; /* NULL-cipher suite negotiated: MAC bytes after the plaintext */
    uint8_t ch_sid[32];
    uint8_t ch_sid_len;
    /* Resumption (resume.c): identifiers offered by the ClientHello, the
     * cache entry they matched, and identifiers this connection issued. */
    bool ch_ticket_key_ok;
    struct tsc_sess_key ch_ticket_key;              /* TLS <= 1.2 session_ticket */
    struct tsc_sess_key ch_psk_key[TSC_RESUME_IDS]; /* TLS 1.3 PSK identities */
    uint8_t n_ch_psk;
    bool resume_hit; /* an offered identifier matched: resume_val */
    struct tsc_sess_val resume_val;
    bool iss_sid;
    struct tsc_sess_key iss_sid_key;
    struct tsc_sess_key iss_ticket[TSC_RESUME_IDS];
    uint8_t n_iss_ticket;
    bool fp_client_done; /* the first ClientHello was seen (fingerprinted if TLS format) */
    bool fp_server_done; /* the first ServerHello was seen */
    /* Decryption (only with key material): created on the first TLS record. */
    struct tsc_crypto_sess *cs;
    bool cs_failed;       /* could not be created: the connection stays keyless */
    bool cs_released;     /* reported and released at close: never created again */
    bool closed;          /* tsc_tls_conn_close done */
    bool secrets_out;     /* on_secrets reported for the current handshake */
    bool trial_bound;     /* midstream: keys found by trial (tsc_tls_crypto_after_decrypt) */
    struct tsc_buf *plain; /* plaintext of the record being processed (the crypto session's) */
    struct tsc_tls_verify *v; /* --verify state (verify.c), NULL without cfg.verify */
    /* Records held for late keys (cfg.hold, records.c): entries of a
     * struct tsc_held header then the record body, in arrival order. */
    struct tsc_buf held;
    struct tsc_ts held_since;
    bool releasing;      /* processing held records: do not hold them again */
    bool hold_gave_up;   /* a bound was hit: this connection holds no more */
    bool end_pending[2]; /* a direction ended behind held records */
};

/* records.c */
void tsc_tls_fail(struct tsc_tls_conn *t, int dir, int64_t off, enum tsc_diag_kind kind,
                  bool sticky, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
void tsc_tls_hs_type_add(struct tsc_tls_conn *t, int dir, uint16_t type);

/* assembly.c: fragment of a plaintext handshake record. */
void tsc_hs_feed(struct tsc_tls_conn *t, int dir, struct tsc_slice frag, uint16_t rec_version,
                 int64_t frag_off);
void tsc_hs_reset(struct tsc_tls_dirst *d);

/* process.c: facts from one parsed message. */
void tsc_tls_process(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m);
void tsc_tls_process_ccs(struct tsc_tls_conn *t, int dir);
void tsc_tls_ctx_fill(const struct tsc_tls_conn *t, int dir, struct tsc_hs_ctx *ctx);

/*
 * decrypt.c: the bridge to the crypto session. Reports a parsed handshake
 * message (raw: header and body, contiguous) after the process step.
 */
void tsc_tls_crypto_message(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m,
                            const uint8_t *raw, size_t raw_len);
/* Session of the connection, created on first use; NULL when keyless. */
struct tsc_crypto_sess *tsc_tls_crypto_sess(struct tsc_tls_conn *t);
/* An SSLv2-format CLIENT-HELLO (raw: the record body as sent) that may start a TLS session. */
void tsc_tls_crypto_v2_hello(struct tsc_tls_conn *t, const struct tsc_hs_msg *m,
                             struct tsc_slice raw);
void tsc_tls_crypto_close(struct tsc_tls_conn *t);
/* After a record decrypted: a midstream trial that just matched makes the connection TLS 1.3. */
void tsc_tls_crypto_after_decrypt(struct tsc_tls_conn *t, int dir, int64_t off);

/* resume.c: resumption cache links (cfg.sessions); each is a no-op without a cache. */
void tsc_resume_client_hello(struct tsc_tls_conn *t, const struct tsc_hs_msg *m);
void tsc_resume_server_hello(struct tsc_tls_conn *t, const struct tsc_hs_msg *m);
void tsc_resume_ticket(struct tsc_tls_conn *t, const struct tsc_hs_msg *m);
/* The handshake turned out abbreviated (ChangeCipherSpec right after ServerHello). */
void tsc_resume_abbreviated(struct tsc_tls_conn *t);
/* Writes this connection's identifiers with the master secret known so far. */
void tsc_resume_publish(struct tsc_tls_conn *t);

/*
 * verify.c (--verify; each a no-op when t->v is NULL). tsc_verify_message runs
 * before the message reaches the crypto session (the transcript hash then
 * covers the messages before it); tsc_verify_record for every record.
 */
enum tsc_err tsc_verify_new(struct tsc_tls_conn *t);
void tsc_verify_free(struct tsc_tls_conn *t);
void tsc_verify_message(struct tsc_tls_conn *t, int dir, const struct tsc_hs_msg *m);
void tsc_verify_record(struct tsc_tls_conn *t, int dir, const struct tsc_tls_record_info *r);
void tsc_verify_ccs(struct tsc_tls_conn *t, int dir);
void tsc_verify_close(struct tsc_tls_conn *t);

/* sslv2.c: one SSLv2 record body (after its 2- or 3-byte header). */
void tsc_sslv2_record(struct tsc_tls_conn *t, int dir, struct tsc_slice body, int64_t off);
/* First bytes look like an SSLv2 CLIENT-HELLO (1) or SERVER-HELLO (4); needs 5 bytes. */
bool tsc_sslv2_hello_start(const uint8_t *p, size_t n, uint8_t *msg_type);

#endif
