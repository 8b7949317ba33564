/*
 * Run-wide resumption cache: which connection issued a TLS session ID or a
 * session ticket (TLS 1.2 NewSessionTicket, TLS 1.3 NewSessionTicket = PSK
 * identity), and the master secret of that session when it was recovered.
 * A later connection that resumes the session finds its parent here
 * (`resumed_from`) and, for TLS <= 1.2, the master secret it needs.
 *
 * Keys are the SHA-256 of (kind || identifier), so entries have one size
 * whatever the ticket length. Lookups are O(1): a power-of-two bucket array
 * of chained entry indexes over a fixed entry pool. The pool is bounded
 * (capacity fixed at creation); when it is full the least recently used
 * entry is evicted (a doubly linked list over the pool) and counted.
 *
 * Thread-safety: every call takes the cache's mutex and copies results out
 * (no pointer into the cache is ever returned), so analyzer threads may
 * share one cache.
 */
#ifndef TSC_CRYPTO_SESSCACHE_H
#define TSC_CRYPTO_SESSCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define TSC_SESS_CACHE_DEFAULT 65536u /* entries */
#define TSC_SESS_CACHE_MAX (1u << 24) /* entries: the option's upper bound */

enum tsc_sess_kind {
    TSC_SESS_ID = 1,     /* TLS <= 1.2 session ID (ServerHello of a full handshake) */
    TSC_SESS_TICKET = 2, /* ticket bytes (RFC 5077 / RFC 8446 4.6.1) */
};

struct tsc_sess_key {
    uint8_t h[32];
};

/* What a lookup copies out. */
struct tsc_sess_val {
    uint64_t conn_id;   /* connection that issued the identifier */
    bool have_ms;       /* master secret known (TLS <= 1.2) */
    uint8_t ms[48];
    uint16_t version;   /* of the issuing connection */
    uint16_t suite;
};

struct tsc_sess_cache_stats {
    uint32_t capacity;
    uint32_t entries;
    uint64_t inserts;   /* new entries */
    uint64_t updates;   /* existing entry rewritten (master secret learnt, reissue) */
    uint64_t lookups;
    uint64_t hits;
    uint64_t evictions; /* least recently used entries dropped when full */
    uint64_t memory_bytes;
};

struct tsc_sess_cache;

/* capacity: entries, 1..TSC_SESS_CACHE_MAX. */
TSC_MUST_USE enum tsc_err tsc_sess_cache_new(struct tsc_sess_cache **out, uint32_t capacity);
void tsc_sess_cache_free(struct tsc_sess_cache *c); /* wipes the secrets */

/* Key of an identifier (len 0 is refused by the callers; any length is hashed). */
void tsc_sess_key_make(enum tsc_sess_kind kind, const uint8_t *id, size_t len,
                       struct tsc_sess_key *out);

/* Insert or replace: the entry becomes the most recently used. */
void tsc_sess_cache_put(struct tsc_sess_cache *c, const struct tsc_sess_key *k,
                        const struct tsc_sess_val *v);
/* Lookup: on a hit the entry becomes the most recently used and is copied to *out. */
bool tsc_sess_cache_get(struct tsc_sess_cache *c, const struct tsc_sess_key *k,
                        struct tsc_sess_val *out);

void tsc_sess_cache_get_stats(struct tsc_sess_cache *c, struct tsc_sess_cache_stats *st);

#endif
