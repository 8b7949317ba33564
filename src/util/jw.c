#include "util/jw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void put(struct tsc_jw *w, const char *s, size_t n)
{
    struct tsc_buf *b = w->out;
    /* Fast path: room already there (the output buffer is reused per event). */
    if (n <= b->cap - b->len) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
        return;
    }
    if (tsc_buf_append(b, s, n) != TSC_OK) {
        w->failed = true;
    }
}

/* Bytes that JSON strings cannot carry as they are (controls, quote, backslash)
 * and bytes outside printable ASCII, which are escaped so output stays valid
 * UTF-8 whatever the wire carried. */
static inline bool needs_escape(uint8_t c)
{
    return c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
}

/* Decimal digits of v into the end of buf; returns the start. */
static char *u64_digits(uint64_t v, char *end)
{
    char *p = end;
    do {
        *--p = (char)('0' + (v % 10));
        v /= 10;
    } while (v != 0);
    return p;
}

static void puts_(struct tsc_jw *w, const char *s)
{
    put(w, s, strlen(s));
}

/* Emit the separator before a value or key at the current depth. */
static void pre_value(struct tsc_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0 && w->depth <= TSC_JW_MAX_DEPTH) {
        if (w->need_comma[w->depth - 1]) {
            put(w, ",", 1);
        }
        w->need_comma[w->depth - 1] = true;
    }
}

void tsc_jw_init(struct tsc_jw *w, struct tsc_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

static void open_(struct tsc_jw *w, const char *c)
{
    pre_value(w);
    put(w, c, 1);
    if (w->depth < TSC_JW_MAX_DEPTH) {
        w->need_comma[w->depth] = false;
    } else {
        w->failed = true;
    }
    w->depth++;
}

static void close_(struct tsc_jw *w, const char *c)
{
    put(w, c, 1);
    if (w->depth > 0) {
        w->depth--;
    }
}

void tsc_jw_obj_begin(struct tsc_jw *w)
{
    open_(w, "{");
}
void tsc_jw_obj_end(struct tsc_jw *w)
{
    close_(w, "}");
}
void tsc_jw_arr_begin(struct tsc_jw *w)
{
    open_(w, "[");
}
void tsc_jw_arr_end(struct tsc_jw *w)
{
    close_(w, "]");
}

static void put_escaped(struct tsc_jw *w, const uint8_t *s, size_t n)
{
    put(w, "\"", 1);
    size_t run = 0; /* start of a run of plain bytes */
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        if (!needs_escape(ch)) {
            continue;
        }
        const char *esc = NULL;
        char tmp[8];
        if (ch == '"') {
            esc = "\\\"";
        } else if (ch == '\\') {
            esc = "\\\\";
        } else if (ch == '\n') {
            esc = "\\n";
        } else if (ch == '\r') {
            esc = "\\r";
        } else if (ch == '\t') {
            esc = "\\t";
        } else if (ch < 0x20 || ch >= 0x7f) {
            /* Bytes outside printable ASCII are escaped individually so the
             * output stays valid UTF-8 whatever the wire carried. */
            snprintf(tmp, sizeof(tmp), "\\u%04x", ch);
            esc = tmp;
        }
        if (esc != NULL) {
            put(w, (const char *)s + run, i - run);
            puts_(w, esc);
            run = i + 1;
        }
    }
    put(w, (const char *)s + run, n - run);
    put(w, "\"", 1);
}

void tsc_jw_key(struct tsc_jw *w, const char *k)
{
    pre_value(w);
    put_escaped(w, (const uint8_t *)k, strlen(k));
    put(w, ":", 1);
    w->after_key = true;
}

void tsc_jw_str(struct tsc_jw *w, const char *s)
{
    if (s == NULL) {
        tsc_jw_null(w);
        return;
    }
    tsc_jw_strn(w, (const uint8_t *)s, strlen(s));
}

void tsc_jw_strn(struct tsc_jw *w, const uint8_t *s, size_t n)
{
    pre_value(w);
    put_escaped(w, s, n);
}

void tsc_jw_hex(struct tsc_jw *w, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    pre_value(w);
    put(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char two[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        put(w, two, 2);
    }
    put(w, "\"", 1);
}

void tsc_jw_int(struct tsc_jw *w, int64_t v)
{
    char tmp[24];
    char *end = tmp + sizeof(tmp);
    pre_value(w);
    /* Magnitude as unsigned so INT64_MIN is exact. */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = u64_digits(mag, end);
    if (v < 0) {
        *--p = '-';
    }
    put(w, p, (size_t)(end - p));
}

void tsc_jw_uint(struct tsc_jw *w, uint64_t v)
{
    char tmp[24];
    char *end = tmp + sizeof(tmp);
    pre_value(w);
    char *p = u64_digits(v, end);
    put(w, p, (size_t)(end - p));
}

void tsc_jw_double(struct tsc_jw *w, double v)
{
    char tmp[48];
    if (!isfinite(v)) {
        tsc_jw_null(w);
        return;
    }
    pre_value(w);
    int n = snprintf(tmp, sizeof(tmp), "%.9g", v);
    put(w, tmp, (size_t)n);
}

void tsc_jw_bool(struct tsc_jw *w, bool v)
{
    pre_value(w);
    puts_(w, v ? "true" : "false");
}

void tsc_jw_null(struct tsc_jw *w)
{
    pre_value(w);
    puts_(w, "null");
}

void tsc_jw_raw(struct tsc_jw *w, const char *json)
{
    tsc_jw_rawn(w, (const uint8_t *)json, strlen(json));
}

void tsc_jw_rawn(struct tsc_jw *w, const uint8_t *json, size_t n)
{
    pre_value(w);
    put(w, (const char *)json, n);
}

void tsc_jw_kstr(struct tsc_jw *w, const char *k, const char *s)
{
    tsc_jw_key(w, k);
    tsc_jw_str(w, s);
}

void tsc_jw_kstr_or_null(struct tsc_jw *w, const char *k, const char *s)
{
    tsc_jw_key(w, k);
    if (s == NULL || s[0] == '\0') {
        tsc_jw_null(w);
    } else {
        tsc_jw_str(w, s);
    }
}

void tsc_jw_kint(struct tsc_jw *w, const char *k, int64_t v)
{
    tsc_jw_key(w, k);
    tsc_jw_int(w, v);
}

void tsc_jw_kuint(struct tsc_jw *w, const char *k, uint64_t v)
{
    tsc_jw_key(w, k);
    tsc_jw_uint(w, v);
}

void tsc_jw_kbool(struct tsc_jw *w, const char *k, bool v)
{
    tsc_jw_key(w, k);
    tsc_jw_bool(w, v);
}

void tsc_jw_knull(struct tsc_jw *w, const char *k)
{
    tsc_jw_key(w, k);
    tsc_jw_null(w);
}

void tsc_jw_khex(struct tsc_jw *w, const char *k, const uint8_t *p, size_t n)
{
    tsc_jw_key(w, k);
    tsc_jw_hex(w, p, n);
}
