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
void tsc_jw_key(struct tsc_jw *w, const char *k);
void tsc_jw_str(struct tsc_jw *w, const char *s);
void tsc_jw_strn(struct tsc_jw *w, const uint8_t *s, size_t n);
void tsc_jw_hex(struct tsc_jw *w, const uint8_t *p, size_t n);
void tsc_jw_int(struct tsc_jw *w, int64_t v);
void tsc_jw_uint(struct tsc_jw *w, uint64_t v);
void tsc_jw_double(struct tsc_jw *w, double v);
void tsc_jw_bool(struct tsc_jw *w, bool v);
void tsc_jw_null(struct tsc_jw *w);
/* Raw already-valid JSON value. */
void tsc_jw_raw(struct tsc_jw *w, const char *json);
void tsc_jw_rawn(struct tsc_jw *w, const uint8_t *json, size_t n);

/* Shorthands: key + value. */
void tsc_jw_kstr(struct tsc_jw *w, const char *k, const char *s);
void tsc_jw_kstr_or_null(struct tsc_jw *w, const char *k, const char *s);
void tsc_jw_kint(struct tsc_jw *w, const char *k, int64_t v);
void tsc_jw_kuint(struct tsc_jw *w, const char *k, uint64_t v);
void tsc_jw_kbool(struct tsc_jw *w, const char *k, bool v);
void tsc_jw_knull(struct tsc_jw *w, const char *k);
void tsc_jw_khex(struct tsc_jw *w, const char *k, const uint8_t *p, size_t n);

#endif
