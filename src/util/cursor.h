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

TSC_MUST_USE enum tsc_err tsc_cur_u8(struct tsc_cur *c, uint8_t *out);
TSC_MUST_USE enum tsc_err tsc_cur_u16(struct tsc_cur *c, uint16_t *out);
TSC_MUST_USE enum tsc_err tsc_cur_u24(struct tsc_cur *c, uint32_t *out);
TSC_MUST_USE enum tsc_err tsc_cur_u32(struct tsc_cur *c, uint32_t *out);
TSC_MUST_USE enum tsc_err tsc_cur_u64(struct tsc_cur *c, uint64_t *out);
/* Borrow n bytes as a slice. */
TSC_MUST_USE enum tsc_err tsc_cur_bytes(struct tsc_cur *c, size_t n, struct tsc_slice *out);
/* Copy exactly n bytes into dst. */
TSC_MUST_USE enum tsc_err tsc_cur_copy(struct tsc_cur *c, size_t n, uint8_t *dst);
TSC_MUST_USE enum tsc_err tsc_cur_skip(struct tsc_cur *c, size_t n);
/* Peek without moving. */
TSC_MUST_USE enum tsc_err tsc_cur_peek_u8(const struct tsc_cur *c, size_t at, uint8_t *out);
TSC_MUST_USE enum tsc_err tsc_cur_peek_u16(const struct tsc_cur *c, size_t at, uint16_t *out);

/*
 * Length-prefixed vector: reads a big-endian length of `lenbytes` (1..3) and
 * checks min <= length <= max and length <= left, then returns a child cursor
 * over the vector body. Truncation (length > left) is TSC_ERR_TRUNCATED; a
 * length outside the RFC bounds is TSC_ERR_DECODE.
 */
TSC_MUST_USE enum tsc_err tsc_cur_vec(struct tsc_cur *c, unsigned lenbytes, size_t min,
                                      size_t max, struct tsc_cur *child);
/* Same, returning the body as a slice. */
TSC_MUST_USE enum tsc_err tsc_cur_vec_slice(struct tsc_cur *c, unsigned lenbytes, size_t min,
                                            size_t max, struct tsc_slice *out);
/* Fails with TSC_ERR_DECODE if bytes remain. */
TSC_MUST_USE enum tsc_err tsc_cur_end(const struct tsc_cur *c);

#endif
