/* Growable byte buffer with a hard cap (every wire-driven size has a cap). */
#ifndef TSC_UTIL_BUF_H
#define TSC_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct tsc_buf {
    uint8_t *p;
    size_t len;
    size_t cap;   /* allocated */
    size_t limit; /* 0 = no limit */
};

void tsc_buf_init(struct tsc_buf *b, size_t limit);
void tsc_buf_free(struct tsc_buf *b);
void tsc_buf_reset(struct tsc_buf *b); /* len = 0, keeps memory */
/* Release memory when a buffer that grew large is empty again. */
void tsc_buf_shrink(struct tsc_buf *b, size_t keep);
TSC_MUST_USE enum tsc_err tsc_buf_reserve(struct tsc_buf *b, size_t extra);
TSC_MUST_USE enum tsc_err tsc_buf_append(struct tsc_buf *b, const void *p, size_t n);
/* Drop the first n bytes. */
void tsc_buf_consume(struct tsc_buf *b, size_t n);

/* Lower-case hex of n bytes into out (needs 2n+1 bytes). */
void tsc_hex(const uint8_t *p, size_t n, char *out);

/* printf onto the end of b, any length (on allocation failure nothing is added). */
void tsc_vbprintf(struct tsc_buf *b, const char *fmt, va_list ap);
void tsc_bprintf(struct tsc_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
