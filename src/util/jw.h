/*
 * Minimal streaming JSON writer into a tsc_buf. Handles commas and string
 * escaping; strings from the wire are escaped byte-wise (non-UTF-8 and control
 * bytes become \u00XX, so output is always valid JSON).
 */
#ifndef TSC_UTIL_JW_H
#define TSC_UTIL_JW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/buf.h"

#define TSC_JW_MAX_DEPTH 32

struct tsc_jw {
    struct tsc_buf *out;
    int depth;
    bool need_comma[TSC_JW_MAX_DEPTH];
    bool after_key;
    bool failed; /* sticky: an append failed */
};

void tsc_jw_init(struct tsc_jw *w, struct tsc_buf *out);
void tsc_jw_obj_begin(struct tsc_jw *w);
void tsc_jw_obj_end(struct tsc_jw *w);
void tsc_jw_arr_begin(struct tsc_jw *w);
void tsc_jw_arr_end(struct tsc_jw *w);
/* Any key of n bytes (escaped as needed). */
void tsc_jw_keyn(struct tsc_jw *w, const char *k, size_t n);
void tsc_jw_str(struct tsc_jw *w, const char *s);
void tsc_jw_strn(struct tsc_jw *w, const uint8_t *s, size_t n);
void tsc_jw_hex(struct tsc_jw *w, const uint8_t *p, size_t n);
void tsc_jw_int(struct tsc_jw *w, int64_t v);
void tsc_jw_double(struct tsc_jw *w, double v);
/* Out-of-line forms of tsc_jw_uint, tsc_jw_bool and tsc_jw_null (below). */
void tsc_jw__uint(struct tsc_jw *w, uint64_t v);
void tsc_jw__bool(struct tsc_jw *w, bool v);
void tsc_jw__null(struct tsc_jw *w);
/* Raw already-valid JSON value. */
void tsc_jw_raw(struct tsc_jw *w, const char *json);
void tsc_jw_rawn(struct tsc_jw *w, const uint8_t *json, size_t n);

/*
 * Keys. Almost every key is a string literal, and writing keys is most of the
 * work of a connection summary (over a hundred per connection). When the
 * compiler sees the literal (optimised builds), its length and the check that
 * no byte needs escaping are worked out at compile time and the key becomes a
 * few stores; any other key, or any key in an unoptimised build, goes through
 * tsc_jw_keyn with the same result.
 */
#if defined(__GNUC__)
#define TSC_JW_INLINE static inline __attribute__((always_inline))
#else
#define TSC_JW_INLINE static inline
#endif

TSC_JW_INLINE bool tsc_jw__plain(const char *k, size_t n)
{
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 64
#endif
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)k[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}

TSC_JW_INLINE void tsc_jw_key(struct tsc_jw *w, const char *k)
{
    size_t n = strlen(k);
#if defined(__GNUC__)
    struct tsc_buf *b = w->out;
    if (__builtin_constant_p(n) && n <= 64 && tsc_jw__plain(k, n) && !w->after_key &&
        w->depth > 0 && w->depth <= TSC_JW_MAX_DEPTH && n + 4 <= b->cap - b->len) {
        /* Separator, then "k": written in place (room checked above). */
        uint8_t *o = b->p + b->len;
        size_t c = w->need_comma[w->depth - 1] ? 1 : 0;
        w->need_comma[w->depth - 1] = true;
        o[0] = ',';
        o[c] = '"';
        memcpy(o + c + 1, k, n);
        o[c + n + 1] = '"';
        o[c + n + 2] = ':';
        b->len += c + n + 3;
        w->after_key = true;
        return;
    }
#endif
    tsc_jw_keyn(w, k, n);
}

/*
 * Values right after a key (no separator to decide) that fit the buffer are
 * written in place: single-digit numbers (most counters of a summary are 0),
 * booleans and null. Everything else goes out of line.
 */
TSC_JW_INLINE void tsc_jw_uint(struct tsc_jw *w, uint64_t v)
{
    struct tsc_buf *b = w->out;
    if (w->after_key && v < 10 && b->len < b->cap) {
        b->p[b->len++] = (uint8_t)('0' + v);
        w->after_key = false;
        return;
    }
    tsc_jw__uint(w, v);
}

TSC_JW_INLINE void tsc_jw_bool(struct tsc_jw *w, bool v)
{
    struct tsc_buf *b = w->out;
    if (w->after_key && b->cap - b->len >= 5) {
        if (v) {
            memcpy(b->p + b->len, "true", 4);
            b->len += 4;
        } else {
            memcpy(b->p + b->len, "false", 5);
            b->len += 5;
        }
        w->after_key = false;
        return;
    }
    tsc_jw__bool(w, v);
}

TSC_JW_INLINE void tsc_jw_null(struct tsc_jw *w)
{
    struct tsc_buf *b = w->out;
    if (w->after_key && b->cap - b->len >= 4) {
        memcpy(b->p + b->len, "null", 4);
        b->len += 4;
        w->after_key = false;
        return;
    }
    tsc_jw__null(w);
}

/* Shorthands: key + value. */
TSC_JW_INLINE void tsc_jw_kstr(struct tsc_jw *w, const char *k, const char *s)
{
    tsc_jw_key(w, k);
    tsc_jw_str(w, s);
}

TSC_JW_INLINE void tsc_jw_kstr_or_null(struct tsc_jw *w, const char *k, const char *s)
{
    tsc_jw_key(w, k);
    if (s == NULL || s[0] == '\0') {
        tsc_jw_null(w);
    } else {
        tsc_jw_str(w, s);
    }
}

TSC_JW_INLINE void tsc_jw_kint(struct tsc_jw *w, const char *k, int64_t v)
{
    tsc_jw_key(w, k);
    tsc_jw_int(w, v);
}

TSC_JW_INLINE void tsc_jw_kuint(struct tsc_jw *w, const char *k, uint64_t v)
{
    tsc_jw_key(w, k);
    tsc_jw_uint(w, v);
}

TSC_JW_INLINE void tsc_jw_kbool(struct tsc_jw *w, const char *k, bool v)
{
    tsc_jw_key(w, k);
    tsc_jw_bool(w, v);
}

TSC_JW_INLINE void tsc_jw_knull(struct tsc_jw *w, const char *k)
{
    tsc_jw_key(w, k);
    tsc_jw_null(w);
}

TSC_JW_INLINE void tsc_jw_khex(struct tsc_jw *w, const char *k, const uint8_t *p, size_t n)
{
    tsc_jw_key(w, k);
    tsc_jw_hex(w, p, n);
}

#endif
