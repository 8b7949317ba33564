/*
 * Fuzz target: certificate summaries and the certificate cache.
 *
 * The input is one DER certificate. It is summarized directly, then through a
 * small cache twice (the second lookup must hit and return the same summary),
 * and a cut copy exercises eviction of an unreferenced entry.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_summary(const struct tsc_cert_summary *s)
{
    /* Every string is NUL-terminated inside its buffer. */
    if (memchr(s->subject, 0, sizeof(s->subject)) == NULL ||
        memchr(s->issuer, 0, sizeof(s->issuer)) == NULL ||
        memchr(s->serial, 0, sizeof(s->serial)) == NULL ||
        memchr(s->san, 0, sizeof(s->san)) == NULL ||
        memchr(s->key_type, 0, sizeof(s->key_type)) == NULL ||
        memchr(s->key_curve, 0, sizeof(s->key_curve)) == NULL ||
        memchr(s->sig_alg, 0, sizeof(s->sig_alg)) == NULL ||
        memchr(s->not_before_str, 0, sizeof(s->not_before_str)) == NULL ||
        memchr(s->not_after_str, 0, sizeof(s->not_after_str)) == NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tsc_cert_summary direct;
    tsc_x509_summarize(data, size, &direct);
    check_summary(&direct);

    struct tsc_x509_cache *c = NULL;
    if (tsc_x509_cache_new(&c, 1) != TSC_OK) {
        return 0;
    }
    const struct tsc_cert_summary *a = tsc_x509_get(c, data, size);
    const struct tsc_cert_summary *b = tsc_x509_get(c, data, size);
    if (a != NULL && b != NULL) {
        check_summary(a);
        if (a != b || memcmp(a, &direct, sizeof(direct)) != 0) {
            abort();
        }
    }
    tsc_x509_put(c, a);
    tsc_x509_put(c, b);
    if (size > 0) {
        /* A different input evicts the now unreferenced entry. */
        tsc_x509_put(c, tsc_x509_get(c, data, size - 1));
    }
    tsc_x509_cache_free(c);
    return 0;
}
