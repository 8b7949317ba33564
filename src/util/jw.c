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
    /* Both digits of a byte with one 2-byte copy. */
    static const char pairs[513] =
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
        "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
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
        memcpy(o + 1 + 2 * i, pairs + 2 * (size_t)p[i], 2);
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

void tsc_jw__uint(struct tsc_jw *w, uint64_t v)
{
    char tmp[24];
    char *end = tmp + sizeof(tmp);
    pre_value(w);
    char *p = u64_digits(v, end);
    put(w, p, (size_t)(end - p));
}

#if defined(__SIZEOF_INT128__)
/*
 * printf("%.9g", v) for finite v with 1e-4 <= |v| < 1e9 whose 9-digit
 * rounding stays below 1e9 (C11 7.21.6.1: %g with precision 9 uses the %f
 * style for decimal exponents -4 <= X < 9, then drops trailing zeros), and
 * for zero; returns 0 for anything else (the caller uses snprintf). The
 * double is m * 2^-s exactly; the 9 significant digits are m * 10^k / 2^s
 * rounded to nearest, ties to even, on the exact value as glibc does, in
 * 128-bit integers (m * 10^k < 2^53 * 10^12 < 2^93, s <= 66).
 */
static size_t g9_fixed(double v, char *out)
{
    static const uint64_t pow10[13] = {1ull,          10ull,          100ull,
                                       1000ull,       10000ull,       100000ull,
                                       1000000ull,    10000000ull,    100000000ull,
                                       1000000000ull, 10000000000ull, 100000000000ull,
                                       1000000000000ull};
    size_t o = 0;
    if (signbit(v)) {
        out[o++] = '-';
        v = -v;
    }
    if (v == 0) {
        out[o++] = '0';
        return o;
    }
    if (!(v >= 1e-4 && v < 1e9)) {
        return 0;
    }
    int exp2;
    double f = frexp(v, &exp2); /* v = f * 2^exp2, 0.5 <= f < 1 */
    uint64_t m = (uint64_t)ldexp(f, 53);
    int s = 53 - exp2; /* v = m * 2^-s; 23 <= s <= 66 in this range */
    /* Decimal exponent X: the largest x with v >= 10^x, -4 <= x <= 8. */
    int x = 8;
    for (; x > -4; x--) {
        unsigned __int128 lhs = (unsigned __int128)m;
        unsigned __int128 rhs = (unsigned __int128)1 << s;
        if (x >= 0) {
            rhs *= pow10[x];
        } else {
            lhs *= pow10[-x];
        }
        if (lhs >= rhs) {
            break;
        }
    }
    int k = 8 - x; /* digits after the point for 9 significant ones */
    unsigned __int128 num = (unsigned __int128)m * pow10[k];
    unsigned __int128 q = num >> s;
    unsigned __int128 rem = num - (q << s);
    unsigned __int128 half = (unsigned __int128)1 << (s - 1);
    if (rem > half || (rem == half && (q & 1) != 0)) {
        q++;
    }
    if (q == pow10[9]) {
        /* Rounded up to ten digits: one more decimal exponent. */
        x++;
        q = pow10[8];
        if (x >= 9) {
            return 0; /* %e style */
        }
    }
    char d[9];
    uint64_t qq = (uint64_t)q;
    for (int i = 8; i >= 0; i--) {
        d[i] = (char)('0' + qq % 10);
        qq /= 10;
    }
    int last = 8; /* last digit kept: trailing zeros of the fraction go */
    int int_digits = x >= 0 ? x + 1 : 0;
    while (last >= int_digits && d[last] == '0') {
        last--;
    }
    if (x >= 0) {
        memcpy(out + o, d, (size_t)int_digits);
        o += (size_t)int_digits;
        if (last >= int_digits) {
            out[o++] = '.';
            memcpy(out + o, d + int_digits, (size_t)(last - int_digits + 1));
            o += (size_t)(last - int_digits + 1);
        }
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -x - 1; i++) {
            out[o++] = '0';
        }
        memcpy(out + o, d, (size_t)last + 1);
        o += (size_t)last + 1;
    }
    return o;
}
#else
static size_t g9_fixed(double v, char *out)
{
    (void)v;
    (void)out;
    return 0;
}
#endif

void tsc_jw_double(struct tsc_jw *w, double v)
{
    char tmp[48];
    if (!isfinite(v)) {
        tsc_jw_null(w);
        return;
    }
    pre_value(w);
    size_t n = g9_fixed(v, tmp);
    if (n == 0) {
        int r = snprintf(tmp, sizeof(tmp), "%.9g", v);
        n = r > 0 ? (size_t)r : 0;
    }
    put(w, tmp, n);
}

void tsc_jw__bool(struct tsc_jw *w, bool v)
{
    pre_value(w);
    if (v) {
        put(w, "true", 4);
    } else {
        put(w, "false", 5);
    }
}

void tsc_jw__null(struct tsc_jw *w)
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
