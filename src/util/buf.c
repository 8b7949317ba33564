#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tsc_buf_init(struct tsc_buf *b, size_t limit)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void tsc_buf_free(struct tsc_buf *b)
{
    if (b == NULL) {
        return;
    }
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void tsc_buf_reset(struct tsc_buf *b)
{
    b->len = 0;
}

void tsc_buf_shrink(struct tsc_buf *b, size_t keep)
{
    if (b->len == 0 && b->cap > keep) {
        free(b->p);
        b->p = NULL;
        b->cap = 0;
    }
}

enum tsc_err tsc_buf_reserve(struct tsc_buf *b, size_t extra)
{
    TSC_ENSURE(extra <= SIZE_MAX - b->len, TSC_ERR_LIMIT);
    size_t need = b->len + extra;
    if (b->limit != 0 && need > b->limit) {
        return TSC_ERR_LIMIT;
    }
    if (need <= b->cap) {
        return TSC_OK;
    }
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need) {
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    }
    if (b->limit != 0 && ncap > b->limit) {
        ncap = b->limit;
    }
    uint8_t *np = realloc(b->p, ncap);
    TSC_ENSURE(np != NULL, TSC_ERR_NOMEM);
    b->p = np;
    b->cap = ncap;
    return TSC_OK;
}

enum tsc_err tsc_buf_append(struct tsc_buf *b, const void *p, size_t n)
{
    if (n == 0) {
        return TSC_OK;
    }
    TSC_TRY(tsc_buf_reserve(b, n));
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return TSC_OK;
}

void tsc_buf_consume(struct tsc_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

void tsc_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void tsc_vbprintf(struct tsc_buf *b, const char *fmt, va_list ap)
{
    char tmp[1024];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    if (n < 0) {
        va_end(again);
        return;
    }
    if ((size_t)n < sizeof(tmp)) {
        (void)!tsc_buf_append(b, tmp, (size_t)n); /* out of memory: the line is dropped */
    } else if (tsc_buf_reserve(b, (size_t)n + 1) == TSC_OK) {
        vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
}

void tsc_bprintf(struct tsc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tsc_vbprintf(b, fmt, ap);
    va_end(ap);
}
