/*
 * Per-connection decryption state: key schedule, record protection and
 * Finished verification, SSLv3 to TLS 1.3. Every primitive comes from OpenSSL
 * libcrypto (EVP); the legacy provider is loaded for RC4, DES, IDEA and SEED.
 *
 * The TLS dissector (src/tls) drives it: it reports hello parameters and every
 * handshake message in wire order (the transcript), ChangeCipherSpec, and
 * hands it each protected record; decrypted handshake records go back into
 * the same dissector. The session never parses TLS messages itself beyond the
 * fields passed in.
 */
#ifndef TSC_CRYPTO_SESSION_H
#define TSC_CRYPTO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/keys.h"
#include "tlsscope/types.h"
#include "util/buf.h"
#include "util/err.h"

enum tsc_key_source {
    TSC_KEYSRC_NONE = 0,
    TSC_KEYSRC_RSA,
    TSC_KEYSRC_KEYLOG,
    TSC_KEYSRC_PSK,
    TSC_KEYSRC_DSB,           /* pcapng Decryption Secrets Block */
    TSC_KEYSRC_SESSION_CACHE, /* resumed: master secret from an earlier connection */
};
const char *tsc_key_source_name(enum tsc_key_source s); /* "rsa", "keylog", ... or NULL */

enum tsc_finished_state {
    TSC_FIN_UNVERIFIED = 0,
    TSC_FIN_VERIFIED,
    TSC_FIN_MISMATCH,
};
const char *tsc_finished_state_name(enum tsc_finished_state s); /* "unverified" ... */

/* Why a connection was not (fully) decrypted: short stable codes for JSON. */
#define TSC_UNDECRYPTED_LIST(X)                                                                    \
    X(TSC_UNDEC_NONE, NULL)                                                                        \
    X(TSC_UNDEC_NO_KEY_MATERIAL, "no_key_material")                                                \
    X(TSC_UNDEC_NO_MATCHING_KEY, "no_matching_key")                                                \
    X(TSC_UNDEC_KEY_MISMATCH, "key_mismatch")                                                      \
    X(TSC_UNDEC_UNSUPPORTED_SUITE, "unsupported_suite")                                            \
    X(TSC_UNDEC_KEX_NOT_RSA, "key_exchange_not_rsa")                                               \
    X(TSC_UNDEC_HANDSHAKE_NOT_CAPTURED, "handshake_not_captured")                                  \
    X(TSC_UNDEC_RESUMED_PARENT_MISSING, "resumed_parent_missing")                                  \
    X(TSC_UNDEC_RESUMED_PARENT_UNDECRYPTED, "resumed_parent_undecrypted")                          \
    X(TSC_UNDEC_DECRYPT_FAILED, "decrypt_failed")                                                  \
    X(TSC_UNDEC_SSLV2, "sslv2_not_supported")                                                      \
    X(TSC_UNDEC_COMPRESSION, "unsupported_compression")                                            \
    X(TSC_UNDEC_MIDSTREAM_NO_MATCH, "midstream_no_matching_secret")                                \
    X(TSC_UNDEC_MIDSTREAM_TRIAL_CAP, "midstream_trial_cap")                                        \
    X(TSC_UNDEC_MIDSTREAM_TLS12, "midstream_tls12")

enum tsc_undecrypted {
#define TSC_UNDEC_ENUM(e, s) e,
    TSC_UNDECRYPTED_LIST(TSC_UNDEC_ENUM)
#undef TSC_UNDEC_ENUM
        TSC_UNDEC__COUNT
};
const char *tsc_undecrypted_name(enum tsc_undecrypted u); /* NULL for NONE */

/* What the session established, for the connection summary. */
struct tsc_crypto_facts {
    bool keys_known;   /* application-data keys were derived */
    bool decrypted;    /* at least one record was decrypted with verified MAC/tag */
    enum tsc_key_source key_source;
    enum tsc_finished_state finished[2]; /* by enum tsc_dir of the sender */
    uint64_t bad_records;                /* MAC / tag failures */
    uint64_t decrypted_records[2];
    enum tsc_undecrypted undecrypted_reason;
    bool have_master_secret;
    uint8_t master_secret[48]; /* TLS <= 1.2 */
    /* SHA-256 and length of all decrypted application_data plaintext per
     * direction, in order, early data included. */
    uint64_t app_bytes[2];
    uint8_t app_sha256[2][32];
    uint64_t early_data_bytes; /* accepted 0-RTT plaintext, part of app_bytes[0] */
    /* 0-RTT plaintext the server rejected (or whose acceptance was never seen):
     * decrypted, but not application data of the connection, so not in app_bytes. */
    uint64_t early_data_rejected_bytes;
    /* Sequence numbers skipped when decryption picked up again after missing
     * bytes (tsc_csess_decrypt_resync), per direction, and how often. */
    uint64_t records_skipped[2];
    uint32_t resyncs[2];
    /* Midstream trial: no hello was seen, so the keys were searched by trying
     * the key log's TLS 1.3 application secrets on the first records. */
    bool trial;               /* a trial ran */
    bool trial_matched;       /* ... and a secret verified */
    bool trial_cap_hit;       /* stopped at tsc_keys_trial_max candidates */
    bool trial_tls12;         /* records show TLS <= 1.2 (no trial possible) */
    bool trial_roles_swapped; /* the presumed client's records carry the server's secret */
    uint8_t trial_client_random[32];
    uint16_t trial_cipher_suite;
    uint32_t trial_secrets_tried;
    uint64_t trial_window;        /* sequence numbers tried per candidate (the widest scan) */
    bool trial_synced[2];         /* this direction decrypts */
    uint64_t trial_first_seq[2];  /* sequence number of its first decrypted record */
    uint32_t trial_generation[2]; /* KeyUpdate generation of it (0: _TRAFFIC_SECRET_0) */
};

struct tsc_crypto_sess;

/* keys may be NULL (then nothing is decrypted: reason no_key_material). */
TSC_MUST_USE enum tsc_err tsc_csess_new(struct tsc_crypto_sess **out, const struct tsc_keys *keys);
/*
 * Freed sessions keep their libcrypto contexts and buffers (secrets wiped) in
 * a small per-thread pool that tsc_csess_new takes from; tsc_csess_pool_drain
 * releases the calling thread's pool (end of a run).
 */
void tsc_csess_free(struct tsc_crypto_sess *s);
void tsc_csess_pool_drain(void);
/* Bytes one session takes (for sizing caps from a memory budget). */
size_t tsc_csess_bytes(void);

/* A buffer for decrypted records (tsc_csess_decrypt's out), capped at limit: one per
 * thread, shared by its sessions (one record is processed at a time); valid until the
 * thread's next tsc_csess_plain call or tsc_csess_pool_drain. */
struct tsc_buf *tsc_csess_plain(struct tsc_crypto_sess *s, size_t limit);

/* ---- handshake inputs, in wire order ---- */

/*
 * Every handshake message, plaintext or decrypted, header included
 * (type, 24-bit length, body), in the order the dissector completes them,
 * with its direction. This is the transcript for EMS, Finished and the TLS 1.3
 * schedule; the session also reacts to types (Finished, KeyUpdate,
 * EndOfEarlyData, HRR) from it. Call AFTER the fields below were reported for
 * the same message.
 */
void tsc_csess_handshake(struct tsc_crypto_sess *s, int dir, const uint8_t *msg, size_t len);

void tsc_csess_client_hello(struct tsc_crypto_sess *s, const uint8_t random[32],
                            bool offers_early_data, const uint8_t *psk_identity, size_t psk_id_len);
/*
 * An SSLv2-format CLIENT-HELLO that starts a TLS session (RFC 5246 E.2, RFC 6101
 * E.1): the challenge (16..32 bytes) becomes the client random, and msg, the
 * message as sent (msg_type through challenge, no record header), opens the
 * transcript. Used instead of tsc_csess_client_hello + tsc_csess_handshake.
 */
void tsc_csess_client_hello_v2(struct tsc_crypto_sess *s, const uint8_t *challenge, size_t clen,
                               const uint8_t *msg, size_t len);
void tsc_csess_server_hello(struct tsc_crypto_sess *s, uint16_t version, uint16_t cipher_suite,
                            const uint8_t random[32], uint8_t compression, bool ems, bool etm,
                            bool hrr, bool psk_selected);
/*
 * TLS 1.3 EncryptedExtensions with early_data (the server accepted 0-RTT) or
 * without (rejected, RFC 8446 4.2.10). Decrypted early data is held until one
 * of these (or the client's EndOfEarlyData, RFC 8446 4.5, which only follows an
 * acceptance) is known; a HelloRetryRequest or a TLS <= 1.2 ServerHello rejects.
 */
void tsc_csess_early_data_accepted(struct tsc_crypto_sess *s);
void tsc_csess_early_data_rejected(struct tsc_crypto_sess *s);
/*
 * After an acceptance: the held early records, in order (i = 0, 1, ...), for
 * the caller's app_data events; false past the last. tsc_csess_early_release_done
 * frees them. The hashing was already done.
 */
bool tsc_csess_early_released(const struct tsc_crypto_sess *s, size_t i, const uint8_t **p,
                              size_t *len, uint64_t *pkt, struct tsc_ts *ts);
void tsc_csess_early_release_done(struct tsc_crypto_sess *s);
/* Leaf certificate of the server (DER), to match an RSA key. */
void tsc_csess_server_certificate(struct tsc_crypto_sess *s, const uint8_t *der, size_t len);
/* ClientKeyExchange body (RFC 5246 7.4.7 / RFC 4279 for PSK). */
void tsc_csess_client_key_exchange(struct tsc_crypto_sess *s, const uint8_t *body, size_t len);
/* ServerKeyExchange PSK identity hint is not needed; PSK identity comes in CKE. */

/*
 * TLS <= 1.2 resumption: the session ID or ticket this handshake may resume
 * was issued by an earlier connection of the run (src/crypto/sesscache.h).
 * ms: that session's master secret, or NULL when the earlier connection's
 * secret was not recovered. Used only if the handshake turns out abbreviated
 * (ChangeCipherSpec with no key exchange) and the key log has no
 * CLIENT_RANDOM for it; the keys come from it with key_source
 * "session-cache". A wrong secret (poisoned entry) fails the Finished/MAC
 * checks: reason key_mismatch, nothing decrypted. Call after ServerHello.
 */
void tsc_csess_resume_candidate(struct tsc_crypto_sess *s, const uint8_t *ms);

/* TLS <= 1.2: ChangeCipherSpec from dir: records of dir are protected from now on. */
void tsc_csess_change_cipher_spec(struct tsc_crypto_sess *s, int dir);

/*
 * Late keys (a key log followed while it grows): the keys for dir's next
 * protected record were not in the key log when the handshake needed them,
 * and may still come. tsc_csess_retry_keys looks them up again (after new key
 * log entries arrived) and sets the record protection up as it would have
 * been; true when keys were found. Only valid while none of those records has
 * been passed to tsc_csess_decrypt (the dissector holds them meanwhile).
 */
bool tsc_csess_awaiting_keys(const struct tsc_crypto_sess *s, int dir);
/*
 * Midstream (protected records and no hello seen): the keys are searched by
 * trial on the first record of each direction (src/crypto/trial.h): every
 * unbound CLIENT_/SERVER_TRAFFIC_SECRET_0 of the key log (the direction's own
 * label first, then the other in case the roles were guessed wrong), at most
 * tsc_keys_trial_max per connection; the tag decides. A match binds the
 * client random's secret pair to the connection, the other direction's first
 * records are searched with its paired secret over a wider window, and
 * decryption goes on as after a handshake. While undecided, a direction
 * awaits keys (its records are held, live) once it has tried every candidate
 * there is, and stops waiting when a followed key log brings new ones; the
 * record that then goes through is scanned (tsc_csess_retry_keys stays false
 * for trials). tsc_csess_trial_take_match: true once, when the trial has just
 * matched (the dissector then treats the connection as TLS 1.3).
 */
/*
 * Sequence numbers tried per (secret, suite, generation) when scanning
 * candidates: a probe budget per connection shared by the candidates left, so
 * a key log of a few connections is searched deep into a stream and a large
 * one at least the first TSC_TRIAL_WINDOW records of each key generation
 * (there the cap on secrets bounds the work).
 */
#define TSC_TRIAL_WINDOW 16u
#define TSC_TRIAL_WINDOW_MAX 2048u
#define TSC_TRIAL_PROBE_BUDGET (1u << 14)
/* KeyUpdate generations tried: application_traffic_secret_0 and _1. */
#define TSC_TRIAL_GENERATIONS 2u
bool tsc_csess_trial_take_match(struct tsc_crypto_sess *s, uint16_t *cipher_suite);
/* The client random of the current keys (handshake or trial): false when unknown. */
bool tsc_csess_client_random(const struct tsc_crypto_sess *s, uint8_t out[32]);
bool tsc_csess_retry_keys(struct tsc_crypto_sess *s);

/* Is the next record of dir protected (keys or not)? Lets the dissector count opaque records. */
bool tsc_csess_protected(const struct tsc_crypto_sess *s, int dir);

/*
 * Decrypt one protected record (TLSCiphertext fragment) of dir.
 * TSC_OK: *out holds the plaintext (reset first), *inner_type the real content
 *   type (TLS 1.3 inner type; else the outer type).
 * TSC_ERR_UNSUPPORTED: no keys for this record (stays opaque, not an error).
 * TSC_ERR_CRYPTO: MAC/tag/padding check failed (counted in bad_records; the
 *   record is reported and skipped; decryption continues with the next one).
 * TLS 1.3 early data that the server rejected is skipped by trial decryption.
 */
TSC_MUST_USE enum tsc_err tsc_csess_decrypt(struct tsc_crypto_sess *s, int dir,
                                            uint8_t content_type, uint16_t record_version,
                                            const uint8_t *in, size_t len, struct tsc_buf *out,
                                            uint8_t *inner_type);

/*
 * After missing bytes in dir (a TCP gap): can decryption go on from a later
 * record? Yes when a record's protection depends only on its sequence number:
 * AEAD (GCM, CCM, ChaCha20-Poly1305; TLS 1.2 and 1.3), NULL, CBC with an
 * explicit IV (TLS 1.1+); not for RC4, the SSLv3 / TLS 1.0 chained CBC IV,
 * DEFLATE or TLS 1.3 early data.
 */
bool tsc_csess_can_resync(const struct tsc_crypto_sess *s, int dir);
/*
 * Decrypt the first whole record after missing bytes: the sequence number is
 * searched in a bounded window (the TLS 1.2 explicit nonce first, when it
 * carries the sequence number as OpenSSL and most stacks do; then candidates
 * ordered by distance from `estimate`, the number of records the caller
 * thinks were lost, up to TSC_RESYNC_TRIALS), each checked against the tag /
 * MAC. TSC_OK: as tsc_csess_decrypt, *skipped = sequence numbers passed over,
 * and decryption goes on from there. TSC_ERR_CRYPTO: no candidate verified
 * (the sequence number stays; not counted in bad_records).
 */
#define TSC_RESYNC_TRIALS 512u
TSC_MUST_USE enum tsc_err tsc_csess_decrypt_resync(struct tsc_crypto_sess *s, int dir,
                                                   uint8_t content_type, uint16_t record_version,
                                                   const uint8_t *in, size_t len,
                                                   uint64_t estimate, struct tsc_buf *out,
                                                   uint8_t *inner_type, uint64_t *skipped);

/* What happened to a decrypted application_data record's plaintext. */
enum tsc_app_verdict {
    TSC_APP_COUNTED = 0, /* hashed into app_data now: report it (events, -d) */
    TSC_APP_HELD,        /* 0-RTT whose acceptance is not known yet: held (see above) */
    TSC_APP_DROPPED,     /* rejected 0-RTT: not application data of this connection */
};
/*
 * Decrypted application data of dir (for the app_data hash and -d output). Called by the
 * dissector for each decrypted application_data record, in order; pkt and ts say where
 * the record was (kept for held early data).
 */
enum tsc_app_verdict tsc_csess_app_record(struct tsc_crypto_sess *s, int dir, const uint8_t *p,
                                          size_t len, uint64_t pkt, struct tsc_ts ts);
/* The same without a position (held records then report packet 0). */
enum tsc_app_verdict tsc_csess_app_data(struct tsc_crypto_sess *s, int dir, const uint8_t *p,
                                        size_t len);

const struct tsc_crypto_facts *tsc_csess_facts(const struct tsc_crypto_sess *s);
/*
 * --verify: the transcript hash over the messages reported so far (call
 * before reporting the message it is needed for, e.g. CertificateVerify).
 * md_name: "SHA256", "SHA384", or "MD5-SHA1" for the 36-byte MD5 || SHA-1
 * of SSLv3 to TLS 1.1. false while the hash is not known or was lost.
 */
bool tsc_csess_transcript_hash(struct tsc_crypto_sess *s, uint8_t *out, size_t cap,
                               size_t *len, const char **md_name);


/* Close out: computes final reasons (e.g. no key found) and hashes. Idempotent. */
void tsc_csess_finish(struct tsc_crypto_sess *s);

#endif
