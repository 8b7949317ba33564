/*
 * Internals of struct tsc_keys shared by the src/keys sources (not part of the
 * interface in keys.h).
 */
#ifndef TSC_KEYS_INT_H
#define TSC_KEYS_INT_H

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "keys/keys.h"

#define TSC_KEYLOG_MAX_ENTRIES 10000000u /* memory bound: ~1 GiB of entries */
/* characters, line ending excluded: room for PMS_CLIENT_RANDOM with a 1024-byte premaster */
#define TSC_KEYLOG_MAX_LINE 2200u
#define TSC_KEYLOG_MAX_LINE_STR "2200"
/* Premaster secrets longer than TSC_MAX_SECRET (finite-field DHE, RFC 7919: ffdhe8192 gives
 * 1024 bytes) live in a side arena, so ordinary entries stay small; the arena is capped. */
#define TSC_KEYLOG_LONG_ARENA_MAX (64u << 20)
#define TSC_RSA_MAX_KEYS 64u
#define TSC_PSK_MAX 64u
#define TSC_PSK_ID_MAX 128u
#define TSC_KEYFILE_MAX (1u << 20) /* bytes read from one key file */
#define TSC_CERT_CACHE_SLOTS 4096u /* certificate -> key matches remembered */

struct tsc_kl_entry {
    uint8_t used;
    uint8_t label;
    uint8_t keylen;
    uint8_t dsb;     /* came from a pcapng Decryption Secrets Block */
    /* TLS 1.3 application secret that a connection found (handshake seen or
     * trial matched): trial decryption skips it. Set through const pointers. */
    _Atomic uint8_t bound;
    uint16_t seclen; /* > TSC_MAX_SECRET: the secret is in the long arena at long_off */
    uint32_t long_off;
    uint8_t key[32];
    uint8_t secret[TSC_MAX_SECRET];
};

/*
 * Candidates for trial decryption (midstream pickup): the client randoms of
 * one TLS 1.3 application secret label, in the order they were added.
 * Positions are absolute and only grow; a list ages with the index
 * generation it belongs to, so positions below the old list's base are gone.
 */
struct tsc_kl_list {
    uint8_t (*cr)[32];
    uint64_t n;
    uint64_t cap;
    uint64_t base; /* position of cr[0] */
};

/* Default cap on candidate secrets tried per connection (tsc_keys_set_trial_max). */
#define TSC_TRIAL_MAX_DEFAULT 4096u

struct tsc_psk_entry {
    bool any_identity;
    uint8_t idlen;
    uint8_t identity[TSC_PSK_ID_MAX];
    uint8_t len;
    uint8_t psk[TSC_MAX_SECRET];
};

struct tsc_cert_match {
    bool used;
    uint8_t sha256[32];
    int key_index; /* -1: no loaded key matches */
};

struct tsc_keys {
    struct tsc_diag_sink *sink;
    uint64_t seed; /* hash seed */
    /* key log: open addressing, power-of-two capacity, load <= 1/2 */
    struct tsc_kl_entry *kl;
    uint64_t kl_cap;
    uint64_t kl_count;
    uint64_t kl_bad;
    bool kl_limit_reported;
    bool adding_dsb; /* lines being added come from a Decryption Secrets Block */
    uint64_t kl_dsb;  /* entries from Decryption Secrets Blocks */
    /* Bounded index (followed key logs, tsc_keys_keylog_bound): the previous
     * generation, still searched; dropped when the current one fills again. */
    struct tsc_kl_entry *kl_old;
    uint64_t kl_old_cap;
    uint64_t kl_old_count;
    uint64_t kl_gen_max; /* 0: one unbounded generation */
    uint64_t kl_added;   /* new entries ever (monotonic) */
    uint64_t kl_dropped; /* entries dropped with an old generation */
    /* Trial candidates: [0] CLIENT_TRAFFIC_SECRET_0, [1] SERVER_TRAFFIC_SECRET_0,
     * for the current and the previous generation. */
    struct tsc_kl_list tl[2];
    struct tsc_kl_list tl_old[2];
    uint32_t trial_max;
    _Atomic uint64_t trial_cost[TSC_TRIAL_COST__COUNT];
    uint8_t *kl_long; /* secrets longer than TSC_MAX_SECRET, appended */
    size_t kl_long_len;
    size_t kl_long_cap;
    bool kl_long_limit_reported;
    EVP_PKEY *rsa[TSC_RSA_MAX_KEYS];
    uint32_t n_rsa;
    /* RSA private-key operations so far; counted through a const struct tsc_keys *. */
    _Atomic uint64_t rsa_ops;
    struct tsc_psk_entry psk[TSC_PSK_MAX];
    uint32_t n_psk;
    /*
     * Certificate match cache: filled lazily from lookups made through a
     * const struct tsc_keys *, so it is guarded by its own mutex.
     */
    pthread_mutex_t cache_mu;
    struct tsc_cert_match cache[TSC_CERT_CACHE_SLOTS];
};

/* Load an RSA private key from memory (the fuzz target and tests use this). */
TSC_MUST_USE enum tsc_err tsc_keys_load_rsa_mem(struct tsc_keys *k, const uint8_t *data, size_t len,
                                                const char *origin, const char *password);

#endif
