/*
 * Receive-only TLS dissector for one TCP connection (both directions).
 *
 * Bytes arrive in order per direction (from src/tcp). The record layer splits
 * records across any segmentation, reassembles handshake messages across
 * records, parses every message (src/tls/msg_*.c, ext_*.c), keeps the
 * connection's facts (struct tsc_tls_facts) and reports events to a sink.
 * Parsing never depends on what will be printed.
 */
#ifndef TSC_TLS_H
#define TSC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsscope/types.h"

#include "util/diag.h"
#include "util/err.h"

struct tsc_hs_msg;     /* parsed handshake message: src/tls/msg.h */
struct tsc_x509_cache; /* certificate summary cache: src/x509/x509.h */
struct tsc_fp_ctx;     /* fingerprint context: src/tls/fingerprint.h */
struct tsc_keys;       /* key material for decryption: src/keys/keys.h */
struct tsc_sess_cache; /* resumption cache: src/crypto/sesscache.h */
struct tsc_vcert_cache; /* parsed certificates for --verify: src/crypto/verify.h */
struct tsc_trust;       /* trust anchors for --verify: src/crypto/verify.h */

/* --verify: signature, chain, order and record checks per connection (verify.c). */
struct tsc_verify_config {
    struct tsc_vcert_cache *certs;
    struct tsc_trust *trust; /* NULL: chains not checked (results cached inside) */
};

struct tsc_tls_record_info {
    uint8_t content_type;
    uint16_t version;   /* record-layer version; 0x0002 for SSLv2 records */
    uint32_t length;    /* fragment length */
    int64_t offset;     /* stream offset of the record header in this direction */
    bool encrypted;     /* payload is protected (after CCS / TLS 1.3 encrypted records) */
    bool decrypted;     /* protected and decrypted with a verified MAC / tag */
    bool auth_failed;   /* protected, and its MAC / tag / padding check failed */
    uint8_t inner_type; /* decrypted: the real content type (TLS 1.3 inner type) */
    bool sslv2;
    uint64_t pkt;
    struct tsc_ts ts;
};

struct tsc_tls_alert_info {
    uint8_t level;
    uint8_t description;
    bool encrypted; /* level/description unknown */
    bool decrypted; /* came from a decrypted record */
    uint64_t pkt;
    struct tsc_ts ts;
};

/*
 * Secrets of one handshake whose keys were confirmed (a Finished verified, or
 * records decrypted), for export in NSS key log form: TLS <= 1.2 the master
 * secret (label CLIENT_RANDOM); TLS 1.3 the traffic and exporter secrets the
 * key material holds for the client random. Valid only during the call.
 */
#define TSC_TLS_SECRETS_MAX 8
struct tsc_tls_secrets {
    uint8_t client_random[32];
    uint32_t n;
    struct {
        const char *label; /* NSS key log label */
        uint8_t secret[64];
        size_t len;
    } s[TSC_TLS_SECRETS_MAX];
};

/* Events out of the dissector. Any callback may be NULL. dir is enum tsc_dir. */
struct tsc_tls_events {
    void (*on_record)(void *ud, uint64_t conn_id, int dir, const struct tsc_tls_record_info *r);
    /* m is valid only during the call. pkt/ts: packet that completed the message. */
    void (*on_handshake)(void *ud, uint64_t conn_id, int dir, const struct tsc_hs_msg *m,
                         uint64_t pkt, struct tsc_ts ts);
    void (*on_alert)(void *ud, uint64_t conn_id, int dir, const struct tsc_tls_alert_info *a);
    void (*on_ccs)(void *ud, uint64_t conn_id, int dir, uint64_t pkt, struct tsc_ts ts);
    /* Heartbeat message (plaintext); overlong: payload_length larger than the record allows. */
    void (*on_heartbeat)(void *ud, uint64_t conn_id, int dir, uint8_t type, uint16_t payload_length,
                         uint32_t record_len, bool overlong, uint64_t pkt, struct tsc_ts ts);
    /* Decrypted application data of one record (valid only during the call). */
    void (*on_app_data)(void *ud, uint64_t conn_id, int dir, const uint8_t *p, size_t n,
                        uint64_t pkt, struct tsc_ts ts);
    /* Once per handshake whose secrets were confirmed (only with key material). */
    void (*on_secrets)(void *ud, uint64_t conn_id, const struct tsc_tls_secrets *s);
    void *ud;
};

struct tsc_tls_config {
    uint32_t max_handshake_msg;   /* cap on one buffered handshake message, default 256 KiB */
    uint32_t max_record_len;      /* default 16384 + 2048 (RFC 5246 6.2.3 TLSCiphertext bound) */
    struct tsc_x509_cache *certs; /* may be NULL: no certificate summaries */
    struct tsc_fp_ctx *fp;        /* may be NULL: no fingerprints (src/tls/fingerprint.h) */
    struct tsc_diag_sink *sink;
    const char *file;            /* for diagnostics' where->file (current input name) */
    const struct tsc_keys *keys; /* NULL: keyless; else each connection gets a crypto session */
    struct tsc_sess_cache *sessions; /* run-wide resumption cache, or NULL (no resumed_from) */
    /* Threaded runs (src/core/workq.h): a resumption lookup that found nothing, or a
     * TLS <= 1.2 session without its master secret yet, calls this before giving up;
     * true means the connections of every earlier packet are now processed, so the
     * lookup is made once more. NULL: no second look. */
    bool (*sess_wait)(void *ud);
    void *sess_wait_ud;
    const struct tsc_verify_config *verify; /* NULL: no verification state */
    struct tsc_tls_events events;
    /* Live key logs: protected records whose keys may still come are held
     * (bounded) instead of counted as opaque. NULL: never held (offline). */
    struct tsc_tls_hold *hold;
};

/*
 * Holding early encrypted records (keys arriving after the handshake). When a
 * connection's next protected record needs keys that a followed key log may
 * still bring (tsc_csess_awaiting_keys), that record and every later record
 * of the connection, both directions, are copied aside in arrival order.
 * tsc_tls_conn_retry_keys (after new key log entries) processes them as if
 * they had just arrived, up to one that still waits. A direction's end waits
 * behind them. Bounds: per connection and over all connections (bytes), and
 * a wait of timeout_s of capture time; past a bound, or at close, the held
 * records are processed without keys (opaque) and counted in dropped_records.
 */
struct tsc_tls_hold {
    uint64_t max_bytes;      /* over all connections */
    uint32_t max_conn_bytes; /* per connection */
    uint32_t timeout_s;      /* capture time from the first held record */
    uint64_t bytes;          /* held now */
    uint64_t peak_bytes;
    uint64_t held_records;    /* ever held */
    uint64_t dropped_records; /* given up: processed without the keys they waited for */
};

void tsc_tls_config_default(struct tsc_tls_config *cfg);

struct tsc_tls_conn;

/* Bytes one connection's dissector state takes before any buffer grows (budgeting). */
size_t tsc_tls_conn_bytes(void);

TSC_MUST_USE enum tsc_err tsc_tls_conn_new(struct tsc_tls_conn **out,
                                           const struct tsc_tls_config *cfg, uint64_t conn_id);
/* Releases certificate references held in the facts. NULL is fine. */
void tsc_tls_conn_free(struct tsc_tls_conn *t);

/*
 * In-order stream bytes of one direction. If nothing has been parsed yet in
 * either direction and these bytes start a ClientHello in the S2C direction,
 * nothing is consumed and *swap_roles is set: the caller swaps the TCP roles
 * (tsc_tcp_conn_swap_roles) and feeds the same bytes again as C2S.
 * swap_roles may be NULL (no swap requested then).
 */
void tsc_tls_conn_data(struct tsc_tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t pkt,
                       struct tsc_ts ts, bool *swap_roles);
/* Records held for late keys (cfg.hold)? */
bool tsc_tls_conn_holding(const struct tsc_tls_conn *t);
/* Capture time of the oldest held record (valid while holding). */
struct tsc_ts tsc_tls_conn_held_since(const struct tsc_tls_conn *t);
/*
 * New key material may have arrived: look the keys up again and process the
 * held records that can now be decrypted (force: all of them, keys or not).
 * Events of the released records are reported now, with their own packet
 * numbers and times. Returns true while records stay held.
 */
bool tsc_tls_conn_retry_keys(struct tsc_tls_conn *t, bool force);
/*
 * n bytes of this direction were a cleartext prelude recognised upstream
 * (STARTTLS dialogue, proxy tunnel: src/prelude): counted as
 * non_tls_prefix_bytes; stream offsets go on after them.
 */
void tsc_tls_conn_prefix(struct tsc_tls_conn *t, int dir, uint64_t n);
/* len bytes are missing in this direction: resynchronise on the next record header. */
void tsc_tls_conn_gap(struct tsc_tls_conn *t, int dir, uint64_t len, uint64_t pkt,
                      struct tsc_ts ts);
/*
 * The TCP connection's start (SYN) was not captured: call before the first
 * bytes. A direction that does not begin with a hello record (or an SSLv2
 * hello) is then scanned for its first record boundary (a chain of record
 * headers, as after a gap), reported as `tls-midstream`, and the connection
 * is marked partial. A gap before a direction's first byte does the same.
 */
void tsc_tls_conn_set_midstream(struct tsc_tls_conn *t);

/* This direction ended; an incomplete record or message left is reported. */
void tsc_tls_conn_end(struct tsc_tls_conn *t, int dir);

/*
 * The connection is over (after tsc_tls_conn_end of both directions): closes
 * the crypto session and fills the decryption facts (f->dec). Idempotent.
 */
void tsc_tls_conn_close(struct tsc_tls_conn *t);

const struct tsc_tls_facts *tsc_tls_conn_facts(const struct tsc_tls_conn *t);
/* --verify results (complete after tsc_tls_conn_close); NULL without cfg.verify. */
const struct tsc_verify_facts *tsc_tls_conn_verify(const struct tsc_tls_conn *t);

/* Handshake message accessors (the full struct is in src/tls/msg.h). */
uint8_t tsc_hs_msg_type(const struct tsc_hs_msg *m);
uint32_t tsc_hs_msg_length(const struct tsc_hs_msg *m);

#endif
