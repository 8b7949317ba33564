/* Streaming digests over a reused EVP_MD_CTX (see digest.h). */
#include <openssl/evp.h>
#include <stdlib.h>

#include "crypto/digest.h"

struct tsc_digest {
    EVP_MD_CTX *ctx;
    EVP_MD *md;
};

enum tsc_err tsc_digest_new(struct tsc_digest **out, const char *name)
{
    *out = NULL;
    struct tsc_digest *d = calloc(1, sizeof(*d));
    TSC_ENSURE(d != NULL, TSC_ERR_NOMEM);
    d->md = EVP_MD_fetch(NULL, name, NULL);
    d->ctx = EVP_MD_CTX_new();
    if (d->md == NULL || d->ctx == NULL) {
        enum tsc_err e = d->md == NULL ? TSC_ERR_UNSUPPORTED : TSC_ERR_NOMEM;
        tsc_digest_free(d);
        return e;
    }
    *out = d;
    return TSC_OK;
}

void tsc_digest_free(struct tsc_digest *d)
{
    if (d == NULL) {
        return;
    }
    EVP_MD_CTX_free(d->ctx);
    EVP_MD_free(d->md);
    free(d);
}

enum tsc_err tsc_digest_begin(struct tsc_digest *d)
{
    TSC_ENSURE(EVP_DigestInit_ex(d->ctx, d->md, NULL) == 1, TSC_ERR_CRYPTO);
    return TSC_OK;
}

enum tsc_err tsc_digest_update(struct tsc_digest *d, const void *p, size_t n)
{
    if (n == 0) {
        return TSC_OK;
    }
    TSC_ENSURE(EVP_DigestUpdate(d->ctx, p, n) == 1, TSC_ERR_CRYPTO);
    return TSC_OK;
}

enum tsc_err tsc_digest_end(struct tsc_digest *d, uint8_t *out)
{
    unsigned int len = 0;
    TSC_ENSURE(EVP_DigestFinal_ex(d->ctx, out, &len) == 1, TSC_ERR_CRYPTO);
    return TSC_OK;
}
