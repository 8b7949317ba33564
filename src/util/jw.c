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

/* Room for n more bytes at the end of the output (not yet counted), or NULL. */
static uint8_t *room(struct tsc_jw *w, size_t n)
{
    struct tsc_buf *b = w->out;
    if (n > b->cap - b->len && tsc_buf_reserve(b, n) != TSC_OK) {
        w->failed = true;
        return NULL;
    }
    return b->p + b->len;
}

/* Bytes that JSON strings cannot carry as they are (controls, quote, backslash)
 * and bytes outside printable ASCII, which are escaped so output stays valid
 * UTF-8 whatever the wire carried. */
static inline bool needs_escape(uint8_t c)
{
    return c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
}

/* Decimal digits of v into the end of buf, two at a time; returns the start. */
static char *u64_digits(uint64_t v, char *end)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
    char *p = end;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        *--p = pairs[d + 1];
        *--p = pairs[d];
    }
    if (v >= 10) {
        unsigned d = (unsigned)v * 2;
        *--p = pairs[d + 1];
        *--p = pairs[d];
    } else {
        *--p = (char)('0' + v);
    }
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

/* Any byte of the 8 in x that needs_escape() would flag (SWAR tests, exact
 * as "is there one": a borrow only spreads above a byte that really matches). */
static inline bool word_needs_escape(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull;
    const uint64_t highs = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"');
    uint64_t bs = x ^ (ones * '\\');
    uint64_t del = x ^ (ones * 0x7f);
    uint64_t t = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs) |
                 ((del - ones) & ~del) | x;
    return (t & highs) != 0;
}

/*
 * A quoted string, then `tail` (0 for none, ':' after a key). Most strings
 * need no escaping: they are copied eight bytes at a time while the same
 * words are checked, and only a string with a byte to escape takes the
 * byte-wise path.
 */
static void put_string(struct tsc_jw *w, const uint8_t *s, size_t n, char tail)
{
    struct tsc_buf *b = w->out;
    size_t extra = tail != 0 ? 3 : 2;
    if (n <= b->cap - b->len && extra <= b->cap - b->len - n) {
        uint8_t *o = b->p + b->len;
        bool bad = false;
        size_t i = 0;
        o[0] = '"';
        for (; i + 8 <= n; i += 8) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            bad |= word_needs_escape(x);
            memcpy(o + 1 + i, &x, 8);
        }
        for (; i < n; i++) {
            bad |= needs_escape(s[i]);
            o[1 + i] = s[i];
        }
        if (!bad) {
            o[n + 1] = '"';
            if (tail != 0) {
                o[n + 2] = (uint8_t)tail;
            }
            b->len += n + extra;
            return;
        }
    }
    put_escaped(w, s, n);
    if (tail != 0) {
        put(w, &tail, 1);
    }
}

void tsc_jw_keyn(struct tsc_jw *w, const char *k, size_t n)
{
    pre_value(w);
    put_string(w, (const uint8_t *)k, n, ':');
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
    put_string(w, s, n, 0);
}

void tsc_jw_hex(struct tsc_jw *w, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    pre_value(w);
    if (n > (SIZE_MAX - 2) / 2) {
        w->failed = true;
        return;
    }
    uint8_t *o = room(w, 2 * n + 2);
    if (o == NULL) {
        return;
    }
    o[0] = '"';
    for (size_t i = 0; i < n; i++) {
        o[1 + 2 * i] = (uint8_t)digits[p[i] >> 4];
        o[2 + 2 * i] = (uint8_t)digits[p[i] & 15];
    }
    o[2 * n + 1] = '"';
    w->out->len += 2 * n + 2;
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
    if (v) {
        put(w, "true", 4);
    } else {
        put(w, "false", 5);
    }
}

void tsc_jw_null(struct tsc_jw *w)
{
    pre_value(w);
    put(w, "null", 4);
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
