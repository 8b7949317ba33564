/*
 * Key material for decryption: server RSA private keys, NSS key logs
 * (SSLKEYLOGFILE format), TLS 1.2 pre-shared keys. Loaded once per run into
 * hash indexes (a key log is never rescanned per connection). Secrets are kept
 * in fixed arrays and wiped with OPENSSL_cleanse on free.
 *
 * Diagnostics for malformed files name the file and line; a malformed entry is
 * skipped and never printed back in full.
 */
#ifndef TSC_KEYS_H
#define TSC_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/diag.h"
#include "util/err.h"

#define TSC_MAX_SECRET 64 /* bytes: the longest secret (SHA-384 traffic secret is 48) */
/* PMS_CLIENT_RANDOM premaster: finite-field DHE gives the size of p (RFC 7919 ffdhe8192: 1024). */
#define TSC_MAX_PREMASTER 1024

/* NSS key log labels. */
#define TSC_KEYLOG_LABELS(X)                                                                       \
    X(TSC_KL_CLIENT_RANDOM, "CLIENT_RANDOM")           /* 48-byte master secret */                 \
    X(TSC_KL_PMS_CLIENT_RANDOM, "PMS_CLIENT_RANDOM")   /* premaster secret */                      \
    X(TSC_KL_RSA, "RSA") /* key: first 8 bytes of the encrypted premaster; value: premaster */     \
    X(TSC_KL_CLIENT_EARLY_TRAFFIC_SECRET, "CLIENT_EARLY_TRAFFIC_SECRET")                           \
    X(TSC_KL_CLIENT_HANDSHAKE_TRAFFIC_SECRET, "CLIENT_HANDSHAKE_TRAFFIC_SECRET")                   \
    X(TSC_KL_SERVER_HANDSHAKE_TRAFFIC_SECRET, "SERVER_HANDSHAKE_TRAFFIC_SECRET")                   \
    X(TSC_KL_CLIENT_TRAFFIC_SECRET_0, "CLIENT_TRAFFIC_SECRET_0")                                   \
    X(TSC_KL_SERVER_TRAFFIC_SECRET_0, "SERVER_TRAFFIC_SECRET_0")                                   \
    X(TSC_KL_EXPORTER_SECRET, "EXPORTER_SECRET")                                                   \
    X(TSC_KL_EARLY_EXPORTER_SECRET, "EARLY_EXPORTER_SECRET")

enum tsc_keylog_label {
#define TSC_KL_ENUM(e, s) e,
    TSC_KEYLOG_LABELS(TSC_KL_ENUM)
#undef TSC_KL_ENUM
        TSC_KL__COUNT
};

const char *tsc_keylog_label_name(enum tsc_keylog_label l);

struct tsc_keys;

TSC_MUST_USE enum tsc_err tsc_keys_new(struct tsc_keys **out, struct tsc_diag_sink *sink);
void tsc_keys_free(struct tsc_keys *k);

/*
 * RSA private key file: PEM or DER; PKCS#1, PKCS#8 (encrypted or not), PKCS#12.
 * password may be NULL. A wrong password, a non-RSA key or an unreadable file
 * is a diagnostic and an error; nothing is added then.
 */
TSC_MUST_USE enum tsc_err tsc_keys_load_rsa_file(struct tsc_keys *k, const char *path,
                                                 const char *password);
/* NSS key log file: every line is parsed; bad lines are diagnostics (file:line), skipped. */
TSC_MUST_USE enum tsc_err tsc_keys_load_keylog_file(struct tsc_keys *k, const char *path);
/* One key log line (no newline needed); `origin` and `line_no` for diagnostics. */
TSC_MUST_USE enum tsc_err tsc_keys_add_keylog_line(struct tsc_keys *k, const char *line,
                                                   size_t len, const char *origin,
                                                   uint64_t line_no);
/*
 * Key log text carried by a pcapng Decryption Secrets Block (secrets type TLS
 * key log): its lines are added like a key log file's, and remembered as coming
 * from the capture itself (tsc_keys_keylog_from_dsb).
 */
TSC_MUST_USE enum tsc_err tsc_keys_add_dsb_keylog(struct tsc_keys *k, const uint8_t *data,
                                                  size_t len, const char *origin);
bool tsc_keys_keylog_from_dsb(const struct tsc_keys *k, enum tsc_keylog_label label,
                              const uint8_t *key, size_t keylen);

/*
 * A key log followed while it grows (live captures; src/keys/keylog_follow.c).
 * The path need not exist yet. Each poll indexes the complete lines appended
 * since the last one into k (a truncated file is read again from the start, a
 * replaced one, new inode, is drained and the new file opened) and says how
 * many new (label, key) entries that gave. Events (waiting, appeared,
 * truncated, replaced) are `keylog-follow` diagnostics.
 */
/*
 * Bound the key log index for a run that lasts (followed key logs): once
 * gen_entries entries are in the current generation, it becomes the previous
 * one, still searched, and the one before it is dropped. A secret is needed
 * only while its handshake is analysed, so the newest 1..2 generations are
 * enough. tsc_keys_keylog_added counts new entries ever (monotonic).
 */
void tsc_keys_keylog_bound(struct tsc_keys *k, uint64_t gen_entries);
uint64_t tsc_keys_keylog_added(const struct tsc_keys *k);

struct tsc_keylog_follow;
struct tsc_keylog_follow_stats {
    uint64_t bytes;         /* read */
    uint64_t lines;         /* complete lines parsed */
    uint64_t entries_added; /* new (label, key) entries indexed */
    uint64_t truncations;
    uint64_t reopens;       /* replaced by another file */
};
TSC_MUST_USE enum tsc_err tsc_keylog_follow_new(struct tsc_keylog_follow **out,
                                                struct tsc_keys *k, const char *path);
TSC_MUST_USE enum tsc_err tsc_keylog_follow_poll(struct tsc_keylog_follow *f, uint64_t *added);
/* End of the run: a last line without its newline is taken too. */
void tsc_keylog_follow_finish(struct tsc_keylog_follow *f);
void tsc_keylog_follow_get_stats(const struct tsc_keylog_follow *f,
                                 struct tsc_keylog_follow_stats *st);
void tsc_keylog_follow_free(struct tsc_keylog_follow *f);

/* TLS 1.2 PSK (RFC 4279): identity NULL means "any identity". */
TSC_MUST_USE enum tsc_err tsc_keys_add_psk(struct tsc_keys *k, const uint8_t *psk, size_t len,
                                           const char *identity);

/*
 * Trial decryption (midstream pickup, src/crypto/trial.c): the TLS 1.3
 * application traffic secrets of the key log are candidates, kept per label
 * (CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0) in the order added, so a
 * trial scans those and not the whole log. Positions are absolute: a
 * connection remembers where it stopped and later scans (a followed key log
 * grew) start there. tsc_keys_trial_span: positions [*first, *end) exist now.
 */
void tsc_keys_trial_span(const struct tsc_keys *k, enum tsc_keylog_label label, uint64_t *first,
                         uint64_t *end);
/*
 * The candidate at pos: client random, secret (TSC_MAX_SECRET bytes of room)
 * and whether a connection already found it (*bound). false when pos is out
 * of range or the entry is gone (an aged index generation).
 */
bool tsc_keys_trial_get(const struct tsc_keys *k, enum tsc_keylog_label label, uint64_t pos,
                        uint8_t cr[32], uint8_t *secret, size_t *len, bool *bound);
/* A connection found the TLS 1.3 application secrets of this client random (its
 * handshake was seen, or a trial matched them): later trials skip them. */
void tsc_keys_keylog_bind(const struct tsc_keys *k, const uint8_t cr[32]);
/* Candidate secrets a connection tries at most (0: the default, 4096). */
void tsc_keys_set_trial_max(struct tsc_keys *k, uint32_t n);
uint32_t tsc_keys_trial_max(const struct tsc_keys *k);

/* What trials cost, summed over the run (any thread may add). */
#define TSC_TRIAL_COSTS(X)                                                                         \
    X(TSC_TRIAL_CONNECTIONS, "connections") /* connections whose keys were searched by trial */    \
    X(TSC_TRIAL_MATCHED, "matched")         /* ... and found */                                    \
    X(TSC_TRIAL_SECRETS, "secrets_tried")   /* candidate secrets tried on a record */              \
    X(TSC_TRIAL_DERIVATIONS, "key_derivations") /* HKDF-Expand-Label calls */                      \
    X(TSC_TRIAL_PROBES, "probes") /* (key, sequence number) pairs tested on one keystream block */ \
    X(TSC_TRIAL_TAG_CHECKS, "tag_checks") /* full AEAD decryptions (probes that passed) */         \
    X(TSC_TRIAL_CAP_HITS, "cap_hits")     /* connections that stopped at the cap */

enum tsc_trial_cost_kind {
#define TSC_TC_ENUM(e, s) e,
    TSC_TRIAL_COSTS(TSC_TC_ENUM)
#undef TSC_TC_ENUM
        TSC_TRIAL_COST__COUNT
};
const char *tsc_trial_cost_name(enum tsc_trial_cost_kind c);
void tsc_keys_trial_account(const struct tsc_keys *k, const uint64_t cost[TSC_TRIAL_COST__COUNT]);

/* Counts for the run record and statistics. */
struct tsc_keys_stats {
    uint32_t rsa_keys;
    uint64_t keylog_entries; /* distinct (label, client random) entries */
    uint64_t keylog_bad_lines;
    uint64_t keylog_dropped; /* entries dropped with an old generation (bounded index) */
    uint32_t psks;
    uint64_t rsa_private_ops; /* RSA private-key operations done (premaster decryptions) */
    uint64_t trial[TSC_TRIAL_COST__COUNT]; /* trial decryption cost (above) */
    uint64_t trial_candidates;             /* TLS 1.3 application secrets indexed as candidates */
};
void tsc_keys_get_stats(const struct tsc_keys *k, struct tsc_keys_stats *st);

/*
 * Key log lookup by label and 32-byte client random (for TSC_KL_RSA the key is
 * the first 8 bytes of the encrypted premaster, passed in client_random[0..7]).
 * Copies the secret into out (TSC_MAX_SECRET bytes) and sets *len; an entry
 * longer than that (only PMS_CLIENT_RANDOM can be) is not copied: false.
 */
bool tsc_keys_keylog_find(const struct tsc_keys *k, enum tsc_keylog_label label,
                          const uint8_t *key, size_t keylen, uint8_t *out, size_t *len);
/*
 * The same lookup without a copy, for secrets of any length (up to
 * TSC_MAX_PREMASTER): *secret points into the index and stays valid until the
 * next key log line is added.
 */
bool tsc_keys_keylog_get(const struct tsc_keys *k, enum tsc_keylog_label label,
                         const uint8_t *key, size_t keylen, const uint8_t **secret, size_t *len);
/* PSK by identity (exact match first, then an identity-less PSK). */
bool tsc_keys_psk_find(const struct tsc_keys *k, const uint8_t *identity, size_t idlen,
                       uint8_t *out, size_t *len);

/*
 * RSA key exchange: decrypt an encrypted premaster (RFC 5246 7.4.7.1).
 * With a server certificate (DER) the key whose public key matches is used and
 * only that one (*cert_matched true); without, the first loaded key that yields
 * a well-formed 48-byte premaster is taken (callers that must confirm with
 * Finished try each key with tsc_keys_rsa_decrypt_pms_with). Returns true with
 * pms filled when a key produced one; *key_index says which key (0-based in
 * load order).
 */
bool tsc_keys_rsa_decrypt_pms(const struct tsc_keys *k, const uint8_t *cert_der, size_t cert_len,
                              const uint8_t *enc, size_t enc_len, uint8_t pms[48],
                              int *key_index, bool *cert_matched);
/* How many RSA keys are loaded (for trying each in turn). */
uint32_t tsc_keys_rsa_count(const struct tsc_keys *k);
/* Decrypt with key number i only. */
bool tsc_keys_rsa_decrypt_pms_with(const struct tsc_keys *k, uint32_t i, const uint8_t *enc,
                                   size_t enc_len, uint8_t pms[48]);

#endif
