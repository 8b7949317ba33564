/*
 * Certificate summaries (libcrypto d2i_X509), cached by the DER bytes so
 * a chain repeated across thousands of connections is decoded once. Entries
 * are reference-counted; the cache is bounded (least recently used unreferenced
 * entries are dropped).
 */
#ifndef TSC_X509_H
#define TSC_X509_H

#include <stddef.h>
#include <stdint.h>

#include "tlsscope/types.h"
#include "util/err.h"

struct tsc_x509_cache;

TSC_MUST_USE enum tsc_err tsc_x509_cache_new(struct tsc_x509_cache **out, uint32_t max_entries);
void tsc_x509_cache_free(struct tsc_x509_cache *c);
/*
 * Summary of a DER certificate, with a reference taken. Never NULL unless out
 * of memory: an unparsable certificate gets a summary with parse_ok false.
 */
const struct tsc_cert_summary *tsc_x509_get(struct tsc_x509_cache *c, const uint8_t *der,
                                            size_t len);
void tsc_x509_put(struct tsc_x509_cache *c, const struct tsc_cert_summary *s);
/*
 * Fast, non-cryptographic 64-bit hash of DER bytes (buckets of this cache and
 * of the --verify certificate cache); a hit must be confirmed by the bytes.
 */
uint64_t tsc_x509_der_hash(const uint8_t *p, size_t n);
/* Decode without caching (tests, fuzzing). */
void tsc_x509_summarize(const uint8_t *der, size_t len, struct tsc_cert_summary *out);

struct tsc_x509_stats {
    uint64_t lookups;
    uint64_t hits;
    uint64_t entries;
    uint64_t evictions;    /* least recently used unreferenced summaries dropped (full) */
    uint64_t memory_bytes; /* summaries allocated and the hash table */
};
/* Bytes one cached summary takes (for sizing the cache from a memory budget). */
size_t tsc_x509_entry_bytes(void);
void tsc_x509_get_stats(const struct tsc_x509_cache *c, struct tsc_x509_stats *st);

#endif
