/*
 * Streaming message digests for callers outside src/crypto (fingerprints).
 * One context is created once and reused for any number of digests, so a
 * digest allocates nothing after tsc_digest_new (which fetches the algorithm
 * once). This header does not include libcrypto's.
 */
#ifndef TSC_CRYPTO_DIGEST_H
#define TSC_CRYPTO_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define TSC_DIGEST_MAX 64 /* bytes: EVP_MAX_MD_SIZE */

struct tsc_digest;

/* name: a libcrypto digest name, e.g. "MD5", "SHA256". */
TSC_MUST_USE enum tsc_err tsc_digest_new(struct tsc_digest **out, const char *name);
void tsc_digest_free(struct tsc_digest *d); /* NULL is fine */
/* Starts a new digest (discarding any unfinished one). */
TSC_MUST_USE enum tsc_err tsc_digest_begin(struct tsc_digest *d);
TSC_MUST_USE enum tsc_err tsc_digest_update(struct tsc_digest *d, const void *p, size_t n);
/* Writes the digest (its length, at most TSC_DIGEST_MAX bytes) into out. */
TSC_MUST_USE enum tsc_err tsc_digest_end(struct tsc_digest *d, uint8_t *out);

#endif
