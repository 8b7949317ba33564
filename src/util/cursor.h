/*
 * The one bounds-checked reader for all wire parsing.
 *
 * A cursor is a view (p, left) of borrowed bytes. Every read checks `n <= left`
 * (never pointer arithmetic past the end). On failure nothing is written to the
 * output and the cursor does not move. Message parsers work on a copy and commit
 * it on success.
 */
#ifndef TSC_UTIL_CURSOR_H
#define TSC_UTIL_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/err.h"

struct tsc_slice {
    const uint8_t *p;
    size_t len;
};

struct tsc_cur {
    const uint8_t *p;
    size_t left;
};

static inline struct tsc_cur tsc_cur_make(const uint8_t *p, size_t n)
{
    struct tsc_cur c = {p, n};
    return c;
}

static inline struct tsc_cur tsc_cur_from_slice(struct tsc_slice s)
{
    return tsc_cur_make(s.p, s.len);
}

/*
 * The readers are inline: they run for every field of every packet and
 * message, and a call costs more than the check itself.
 */
TSC_MUST_USE static inline enum tsc_err tsc_cur_u8(struct tsc_cur *c, uint8_t *out)
{
    TSC_ENSURE(c->left >= 1, TSC_ERR_TRUNCATED);
    *out = c->p[0];
    c->p += 1;
    c->left -= 1;
    return TSC_OK;
}

TSC_MUST_USE static inline enum tsc_err tsc_cur_u16(struct tsc_cur *c, uint16_t *out)
{
    TSC_ENSURE(c->left >= 2, TSC_ERR_TRUNCATED);
    *out = (uint16_t)(((unsigned)c->p[0] << 8) | c->p[1]);
    c->p += 2;
    c->left -= 2;
    return TSC_OK;
}

TSC_MUST_USE static inline enum tsc_err tsc_cur_u24(struct tsc_cur *c, uint32_t *out)
{
    TSC_ENSURE(c->left >= 3, TSC_ERR_TRUNCATED);
    *out = ((uint32_t)c->p[0] << 16) | ((uint32_t)c->p[1] << 8) | c->p[2];
    c->p += 3;
    c->left -= 3;
    return TSC_OK;
}

TSC_MUST_USE static inline enum tsc_err tsc_cur_u32(struct tsc_cur *c, uint32_t *out)
{
    TSC_ENSURE(c->left >= 4, TSC_ERR_TRUNCATED);
    *out = ((uint32_t)c->p[0] << 24) | ((uint32_t)c->p[1] << 16) | ((uint32_t)c->p[2] << 8) |
           c->p[3];
    c->p += 4;
    c->left -= 4;
    return TSC_OK;
}

TSC_MUST_USE static inline enum tsc_err tsc_cur_u64(struct tsc_cur *c, uint64_t *out)
{
    TSC_ENSURE(c->left >= 8, TSC_ERR_TRUNCATED);
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) {
        v = (v << 8) | c->p[i];
    }
    *out = v;
    c->p += 8;
    c->left -= 8;
    return TSC_OK;
}

/* Borrow n bytes as a slice. */
TSC_MUST_USE static inline enum tsc_err tsc_cur_bytes(struct tsc_cur *c, size_t n,
                                                      struct tsc_slice *out)
{
    TSC_ENSURE(n <= c->left, TSC_ERR_TRUNCATED);
    out->p = c->p;
    out->len = n;
    c->p += n;
    c->left -= n;
    return TSC_OK;
}

/* Copy exactly n bytes into dst. */
TSC_MUST_USE static inline enum tsc_err tsc_cur_copy(struct tsc_cur *c, size_t n, uint8_t *dst)
{
    TSC_ENSURE(n <= c->left, TSC_ERR_TRUNCATED);
    if (n > 0) {
        memcpy(dst, c->p, n);
    }
    c->p += n;
    c->left -= n;
    return TSC_OK;
}

TSC_MUST_USE static inline enum tsc_err tsc_cur_skip(struct tsc_cur *c, size_t n)
{
    TSC_ENSURE(n <= c->left, TSC_ERR_TRUNCATED);
    c->p += n;
    c->left -= n;
    return TSC_OK;
}

/* Peek without moving. */
TSC_MUST_USE static inline enum tsc_err tsc_cur_peek_u8(const struct tsc_cur *c, size_t at,
                                                        uint8_t *out)
{
    TSC_ENSURE(at < c->left, TSC_ERR_TRUNCATED);
    *out = c->p[at];
    return TSC_OK;
}

TSC_MUST_USE static inline enum tsc_err tsc_cur_peek_u16(const struct tsc_cur *c, size_t at,
                                                         uint16_t *out)
{
    TSC_ENSURE(at < c->left && c->left - at >= 2, TSC_ERR_TRUNCATED);
    *out = (uint16_t)(((unsigned)c->p[at] << 8) | c->p[at + 1]);
    return TSC_OK;
}

/*
 * Length-prefixed vector, returning the body as a slice: reads a big-endian
 * length of `lenbytes` (1..3) and checks min <= length <= max and length <=
 * left. Truncation (length > left) is TSC_ERR_TRUNCATED; a length outside the
 * RFC bounds is TSC_ERR_DECODE.
 */
TSC_MUST_USE static inline enum tsc_err tsc_cur_vec_slice(struct tsc_cur *c, unsigned lenbytes,
                                                          size_t min, size_t max,
                                                          struct tsc_slice *out)
{
    TSC_ENSURE(lenbytes >= 1 && lenbytes <= 3, TSC_ERR_ARG);
    TSC_ENSURE(c->left >= lenbytes, TSC_ERR_TRUNCATED);
    size_t n = 0;
    for (unsigned i = 0; i < lenbytes; i++) {
        n = (n << 8) | c->p[i];
    }
    TSC_ENSURE(n >= min && n <= max, TSC_ERR_DECODE);
    /* Compare against what remains after the length field, never p + n. */
    TSC_ENSURE(n <= c->left - lenbytes, TSC_ERR_TRUNCATED);
    out->p = c->p + lenbytes;
    out->len = n;
    c->p += lenbytes + n;
    c->left -= lenbytes + n;
    return TSC_OK;
}

/* Same, as a child cursor over the vector body. */
TSC_MUST_USE static inline enum tsc_err tsc_cur_vec(struct tsc_cur *c, unsigned lenbytes,
                                                    size_t min, size_t max, struct tsc_cur *child)
{
    struct tsc_slice s;
    TSC_TRY(tsc_cur_vec_slice(c, lenbytes, min, max, &s));
    *child = tsc_cur_from_slice(s);
    return TSC_OK;
}

/* Fails with TSC_ERR_DECODE if bytes remain. */
TSC_MUST_USE static inline enum tsc_err tsc_cur_end(const struct tsc_cur *c)
{
    TSC_ENSURE(c->left == 0, TSC_ERR_DECODE);
    return TSC_OK;
}

#endif
