/*
 * The util module: cursor readers (valid, truncated, no move on failure),
 * vectors and their bounds, capped buffers, the JSON writer (escaping and
 * nesting checked with a JSON validator), error and diagnostic name tables.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cursor.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/jw.h"

/* ---- a small strict JSON validator (RFC 8259) for the writer's output ---- */

struct jv {
    const char *p;
    const char *end;
    int depth;
};

static bool jv_value(struct jv *v);

static void jv_ws(struct jv *v)
{
    while (v->p < v->end && (*v->p == ' ' || *v->p == '\n' || *v->p == '\t' || *v->p == '\r')) {
        v->p++;
    }
}

static bool jv_lit(struct jv *v, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(v->end - v->p) < n || memcmp(v->p, lit, n) != 0) {
        return false;
    }
    v->p += n;
    return true;
}

static bool jv_string(struct jv *v)
{
    if (v->p >= v->end || *v->p != '"') {
        return false;
    }
    v->p++;
    while (v->p < v->end) {
        unsigned char ch = (unsigned char)*v->p++;
        if (ch == '"') {
            return true;
        }
        if (ch < 0x20 || ch >= 0x80) {
            return false; /* the writer promises ASCII output */
        }
        if (ch == '\\') {
            if (v->p >= v->end) {
                return false;
            }
            char e = *v->p++;
            if (e == 'u') {
                for (int i = 0; i < 4; i++) {
                    if (v->p >= v->end || strchr("0123456789abcdefABCDEF", *v->p) == NULL) {
                        return false;
                    }
                    v->p++;
                }
            } else if (strchr("\"\\/bfnrt", e) == NULL || e == '\0') {
                return false;
            }
        }
    }
    return false;
}

static bool jv_number(struct jv *v)
{
    const char *start = v->p;
    if (v->p < v->end && *v->p == '-') {
        v->p++;
    }
    if (v->p >= v->end || *v->p < '0' || *v->p > '9') {
        return false;
    }
    if (*v->p == '0') {
        v->p++;
    } else {
        while (v->p < v->end && *v->p >= '0' && *v->p <= '9') {
            v->p++;
        }
    }
    if (v->p < v->end && *v->p == '.') {
        v->p++;
        const char *d = v->p;
        while (v->p < v->end && *v->p >= '0' && *v->p <= '9') {
            v->p++;
        }
        if (v->p == d) {
            return false;
        }
    }
    if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
        v->p++;
        if (v->p < v->end && (*v->p == '+' || *v->p == '-')) {
            v->p++;
        }
        const char *d = v->p;
        while (v->p < v->end && *v->p >= '0' && *v->p <= '9') {
            v->p++;
        }
        if (v->p == d) {
            return false;
        }
    }
    return v->p > start;
}

static bool jv_container(struct jv *v, char close, bool object)
{
    v->p++;
    if (++v->depth > 64) {
        return false;
    }
    jv_ws(v);
    if (v->p < v->end && *v->p == close) {
        v->p++;
        v->depth--;
        return true;
    }
    for (;;) {
        jv_ws(v);
        if (object) {
            if (!jv_string(v)) {
                return false;
            }
            jv_ws(v);
            if (v->p >= v->end || *v->p != ':') {
                return false;
            }
            v->p++;
        }
        if (!jv_value(v)) {
            return false;
        }
        jv_ws(v);
        if (v->p < v->end && *v->p == ',') {
            v->p++;
            continue;
        }
        if (v->p < v->end && *v->p == close) {
            v->p++;
            v->depth--;
            return true;
        }
        return false;
    }
}

static bool jv_value(struct jv *v)
{
    jv_ws(v);
    if (v->p >= v->end) {
        return false;
    }
    switch (*v->p) {
    case '{':
        return jv_container(v, '}', true);
    case '[':
        return jv_container(v, ']', false);
    case '"':
        return jv_string(v);
    case 't':
        return jv_lit(v, "true");
    case 'f':
        return jv_lit(v, "false");
    case 'n':
        return jv_lit(v, "null");
    default:
        return jv_number(v);
    }
}

static bool json_valid(const uint8_t *p, size_t n)
{
    struct jv v = {(const char *)p, (const char *)p + n, 0};
    if (!jv_value(&v)) {
        return false;
    }
    jv_ws(&v);
    return v.p == v.end;
}

static bool json_valid_str(const char *s)
{
    return json_valid((const uint8_t *)s, strlen(s));
}

/* Writer output as a NUL-terminated string (copied into a test buffer). */
static const char *jw_text(struct tsc_buf *b, char *out, size_t cap)
{
    ck_assert_uint_lt(b->len, cap);
    if (b->len > 0) {
        memcpy(out, b->p, b->len);
    }
    out[b->len] = '\0';
    return out;
}

/* ---- cursor ---- */

static const uint8_t bytes8[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

START_TEST(test_cur_readers)
{
    struct tsc_cur c = tsc_cur_make(bytes8, sizeof(bytes8));
    uint8_t u8 = 0;
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    uint64_t u64 = 0;
    ck_assert_int_eq(tsc_cur_u8(&c, &u8), TSC_OK);
    ck_assert_uint_eq(u8, 0x01);
    ck_assert_int_eq(tsc_cur_u16(&c, &u16), TSC_OK);
    ck_assert_uint_eq(u16, 0x0203);
    ck_assert_int_eq(tsc_cur_u24(&c, &u32), TSC_OK);
    ck_assert_uint_eq(u32, 0x040506);
    ck_assert_uint_eq(c.left, 2);
    ck_assert_ptr_eq(c.p, bytes8 + 6);
    c = tsc_cur_make(bytes8, sizeof(bytes8));
    ck_assert_int_eq(tsc_cur_u32(&c, &u32), TSC_OK);
    ck_assert_uint_eq(u32, 0x01020304);
    ck_assert_int_eq(tsc_cur_u32(&c, &u32), TSC_OK);
    ck_assert_uint_eq(u32, 0x05060708);
    ck_assert_int_eq(tsc_cur_end(&c), TSC_OK);
    c = tsc_cur_make(bytes8, sizeof(bytes8));
    ck_assert_int_eq(tsc_cur_u64(&c, &u64), TSC_OK);
    ck_assert(u64 == 0x0102030405060708ULL);
    ck_assert_uint_eq(c.left, 0);

    struct tsc_slice s;
    uint8_t dst[3] = {0};
    c = tsc_cur_make(bytes8, sizeof(bytes8));
    ck_assert_int_eq(tsc_cur_bytes(&c, 2, &s), TSC_OK);
    ck_assert_ptr_eq(s.p, bytes8);
    ck_assert_uint_eq(s.len, 2);
    ck_assert_int_eq(tsc_cur_copy(&c, 3, dst), TSC_OK);
    ck_assert_mem_eq(dst, bytes8 + 2, 3);
    ck_assert_int_eq(tsc_cur_skip(&c, 1), TSC_OK);
    ck_assert_int_eq(tsc_cur_peek_u8(&c, 0, &u8), TSC_OK);
    ck_assert_uint_eq(u8, 0x07);
    ck_assert_int_eq(tsc_cur_peek_u16(&c, 0, &u16), TSC_OK);
    ck_assert_uint_eq(u16, 0x0708);
    ck_assert_int_eq(tsc_cur_peek_u8(&c, 1, &u8), TSC_OK);
    ck_assert_uint_eq(u8, 0x08);
    ck_assert_uint_eq(c.left, 2); /* peeks do not move */
    ck_assert_int_eq(tsc_cur_end(&c), TSC_ERR_DECODE);
    /* Zero-length reads succeed anywhere, even on an empty cursor. */
    struct tsc_cur e = tsc_cur_make(NULL, 0);
    ck_assert_int_eq(tsc_cur_bytes(&e, 0, &s), TSC_OK);
    ck_assert_uint_eq(s.len, 0);
    ck_assert_int_eq(tsc_cur_copy(&e, 0, dst), TSC_OK);
    ck_assert_int_eq(tsc_cur_skip(&e, 0), TSC_OK);
    ck_assert_int_eq(tsc_cur_end(&e), TSC_OK);
}
END_TEST

START_TEST(test_cur_vec)
{
    /* 1-byte length 3, body 0xaa 0xbb 0xcc, then 2-byte length 1, body 0xdd, then 3-byte 0 */
    static const uint8_t m[] = {0x03, 0xaa, 0xbb, 0xcc, 0x00, 0x01, 0xdd, 0x00, 0x00, 0x00};
    struct tsc_cur c = tsc_cur_make(m, sizeof(m));
    struct tsc_cur child;
    struct tsc_slice s;
    uint8_t u8 = 0;
    ck_assert_int_eq(tsc_cur_vec(&c, 1, 0, 3, &child), TSC_OK);
    ck_assert_uint_eq(child.left, 3);
    ck_assert_ptr_eq(child.p, m + 1);
    ck_assert_int_eq(tsc_cur_u8(&child, &u8), TSC_OK);
    ck_assert_uint_eq(u8, 0xaa);
    ck_assert_int_eq(tsc_cur_end(&child), TSC_ERR_DECODE);
    ck_assert_int_eq(tsc_cur_vec_slice(&c, 2, 1, 1, &s), TSC_OK);
    ck_assert_uint_eq(s.len, 1);
    ck_assert_uint_eq(s.p[0], 0xdd);
    ck_assert_int_eq(tsc_cur_vec(&c, 3, 0, 0, &child), TSC_OK);
    ck_assert_uint_eq(child.left, 0);
    ck_assert_int_eq(tsc_cur_end(&c), TSC_OK);
}
END_TEST

/* Saves a cursor and checks it is unchanged after a failed read. */
#define EXPECT_FAIL_NO_MOVE(call, err)                                                             \
    do {                                                                                           \
        struct tsc_cur before_ = c;                                                                \
        ck_assert_int_eq((call), (err));                                                           \
        ck_assert_ptr_eq(c.p, before_.p);                                                          \
        ck_assert_uint_eq(c.left, before_.left);                                                   \
    } while (0)

START_TEST(test_cur_vec_bounds)
{
    static const uint8_t m[] = {0x03, 0xaa, 0xbb, 0xcc};
    struct tsc_cur c = tsc_cur_make(m, sizeof(m));
    struct tsc_cur child = {NULL, 77};
    struct tsc_slice s = {NULL, 77};
    /* Length outside the RFC bounds is a decode error, not truncation. */
    EXPECT_FAIL_NO_MOVE(tsc_cur_vec(&c, 1, 4, 10, &child), TSC_ERR_DECODE);
    EXPECT_FAIL_NO_MOVE(tsc_cur_vec(&c, 1, 0, 2, &child), TSC_ERR_DECODE);
    EXPECT_FAIL_NO_MOVE(tsc_cur_vec_slice(&c, 1, 0, 2, &s), TSC_ERR_DECODE);
    /* Bad length-field widths. */
    EXPECT_FAIL_NO_MOVE(tsc_cur_vec(&c, 0, 0, 10, &child), TSC_ERR_ARG);
    EXPECT_FAIL_NO_MOVE(tsc_cur_vec(&c, 4, 0, 10, &child), TSC_ERR_ARG);
    ck_assert_uint_eq(child.left, 77);
    ck_assert_uint_eq(s.len, 77);
    /* Length larger than what remains: truncated. */
    static const uint8_t big[] = {0xff, 0xff, 0x01};
    c = tsc_cur_make(big, sizeof(big));
    EXPECT_FAIL_NO_MOVE(tsc_cur_vec(&c, 2, 0, 0xffff, &child), TSC_ERR_TRUNCATED);
    EXPECT_FAIL_NO_MOVE(tsc_cur_vec(&c, 3, 0, 0xffffff, &child), TSC_ERR_TRUNCATED);
    ck_assert_uint_eq(child.left, 77);
}
END_TEST

/*
 * truncated: every reader on every prefix of 8 bytes. A read succeeds exactly
 * when enough bytes remain; on failure it is TSC_ERR_TRUNCATED, the output is
 * untouched and the cursor does not move.
 */
START_TEST(test_cur_truncated)
{
    size_t cut = (size_t)_i;
    uint8_t *p = malloc(cut ? cut : 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, bytes8, cut);
    struct tsc_cur c = tsc_cur_make(p, cut);
    uint8_t u8 = 0xEE;
    uint16_t u16 = 0xEEEE;
    uint32_t u32 = 0xEEEEEEEE;
    uint64_t u64 = 0xEEEEEEEEEEEEEEEEULL;
    uint8_t dst[8];
    struct tsc_slice s = {NULL, 99};
    struct tsc_cur child = {NULL, 99};
    memset(dst, 0xEE, sizeof(dst));

#define READ_CASE(need, call, check_untouched)                                                     \
    do {                                                                                           \
        struct tsc_cur work = c;                                                                   \
        enum tsc_err e = (call);                                                                   \
        if (cut >= (need)) {                                                                       \
            ck_assert_int_eq(e, TSC_OK);                                                           \
            ck_assert_uint_eq(work.left, cut - (need));                                            \
        } else {                                                                                   \
            ck_assert_int_eq(e, TSC_ERR_TRUNCATED);                                                \
            ck_assert_ptr_eq(work.p, c.p);                                                         \
            ck_assert_uint_eq(work.left, c.left);                                                  \
            check_untouched;                                                                       \
        }                                                                                          \
    } while (0)

    READ_CASE(1, tsc_cur_u8(&work, &u8), ck_assert_uint_eq(u8, 0xEE));
    READ_CASE(2, tsc_cur_u16(&work, &u16), ck_assert_uint_eq(u16, 0xEEEE));
    READ_CASE(3, tsc_cur_u24(&work, &u32), ck_assert_uint_eq(u32, 0xEEEEEEEE));
    u32 = 0xEEEEEEEE;
    READ_CASE(4, tsc_cur_u32(&work, &u32), ck_assert_uint_eq(u32, 0xEEEEEEEE));
    READ_CASE(8, tsc_cur_u64(&work, &u64), ck_assert(u64 == 0xEEEEEEEEEEEEEEEEULL));
    READ_CASE(5, tsc_cur_bytes(&work, 5, &s), ck_assert_uint_eq(s.len, 99));
    READ_CASE(6, tsc_cur_copy(&work, 6, dst), ck_assert_uint_eq(dst[0], 0xEE));
    READ_CASE(7, tsc_cur_skip(&work, 7), (void)0);
    /* bytes8[0] = 1: a 1-byte length of 1 needs 2 bytes. */
    READ_CASE(2, tsc_cur_vec(&work, 1, 0, 255, &child), ck_assert_uint_eq(child.left, 99));
    /* 0x0102 with a 2-byte length is 258 bytes: never there. */
    if (cut >= 2) {
        struct tsc_cur work = c;
        ck_assert_int_eq(tsc_cur_vec_slice(&work, 2, 0, 0xffff, &s), TSC_ERR_TRUNCATED);
        ck_assert_uint_eq(work.left, cut);
    }
    uint8_t pk = 0xEE;
    uint16_t pk16 = 0xEEEE;
    for (size_t at = 0; at < 9; at++) {
        enum tsc_err e8 = tsc_cur_peek_u8(&c, at, &pk);
        enum tsc_err e16 = tsc_cur_peek_u16(&c, at, &pk16);
        ck_assert_int_eq(e8, at < cut ? TSC_OK : TSC_ERR_TRUNCATED);
        ck_assert_int_eq(e16, at + 2 <= cut ? TSC_OK : TSC_ERR_TRUNCATED);
        if (e8 == TSC_OK) {
            ck_assert_uint_eq(pk, bytes8[at]);
        }
        if (e16 == TSC_OK) {
            ck_assert_uint_eq(pk16, (uint16_t)((bytes8[at] << 8) | bytes8[at + 1]));
        }
        ck_assert_uint_eq(c.left, cut);
    }
    /* Huge peek offsets must not wrap. */
    ck_assert_int_eq(tsc_cur_peek_u16(&c, SIZE_MAX, &pk16), TSC_ERR_TRUNCATED);
    ck_assert_int_eq(tsc_cur_skip(&c, SIZE_MAX), TSC_ERR_TRUNCATED);
    ck_assert_uint_eq(c.left, cut);
#undef READ_CASE
    free(p);
}
END_TEST

/* ---- buf ---- */

START_TEST(test_buf_valid)
{
    struct tsc_buf b;
    tsc_buf_init(&b, 0);
    ck_assert_int_eq(tsc_buf_append(&b, "hello ", 6), TSC_OK);
    ck_assert_int_eq(tsc_buf_append(&b, "world", 5), TSC_OK);
    ck_assert_int_eq(tsc_buf_append(&b, NULL, 0), TSC_OK);
    ck_assert_uint_eq(b.len, 11);
    ck_assert_mem_eq(b.p, "hello world", 11);
    tsc_buf_consume(&b, 6);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_mem_eq(b.p, "world", 5);
    tsc_buf_consume(&b, 100);
    ck_assert_uint_eq(b.len, 0);
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(tsc_buf_append(&b, "0123456789", 10), TSC_OK);
    }
    ck_assert_uint_eq(b.len, 10000);
    ck_assert_uint_ge(b.cap, 10000);
    ck_assert_mem_eq(b.p + 9990, "0123456789", 10);
    tsc_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_ptr_nonnull(b.p);
    tsc_buf_shrink(&b, 64);
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.cap, 0);
    tsc_buf_free(&b);
    tsc_buf_free(NULL);

    char hex[2 * sizeof(bytes8) + 1];
    tsc_hex(bytes8, sizeof(bytes8), hex);
    ck_assert_str_eq(hex, "0102030405060708");
    static const uint8_t hi[] = {0x00, 0xab, 0xff};
    tsc_hex(hi, 3, hex);
    ck_assert_str_eq(hex, "00abff");
    tsc_hex(hi, 0, hex);
    ck_assert_str_eq(hex, "");
}
END_TEST

START_TEST(test_buf_limits)
{
    struct tsc_buf b;
    tsc_buf_init(&b, 100);
    ck_assert_int_eq(tsc_buf_append(&b, bytes8, 8), TSC_OK);
    for (int i = 0; i < 11; i++) {
        ck_assert_int_eq(tsc_buf_append(&b, bytes8, 8), TSC_OK);
    }
    ck_assert_uint_eq(b.len, 96);
    /* Past the cap: refused, nothing written. */
    ck_assert_int_eq(tsc_buf_append(&b, bytes8, 5), TSC_ERR_LIMIT);
    ck_assert_uint_eq(b.len, 96);
    ck_assert_uint_le(b.cap, 100);
    ck_assert_int_eq(tsc_buf_append(&b, bytes8, 4), TSC_OK);
    ck_assert_uint_eq(b.len, 100);
    ck_assert_int_eq(tsc_buf_append(&b, bytes8, 1), TSC_ERR_LIMIT);
    ck_assert_int_eq(tsc_buf_reserve(&b, 0), TSC_OK);
    /* Overflowing sizes are refused, with or without a limit. */
    ck_assert_int_eq(tsc_buf_reserve(&b, SIZE_MAX), TSC_ERR_LIMIT);
    tsc_buf_free(&b);
    tsc_buf_init(&b, 0);
    ck_assert_int_eq(tsc_buf_append(&b, bytes8, 1), TSC_OK);
    ck_assert_int_eq(tsc_buf_reserve(&b, SIZE_MAX), TSC_ERR_LIMIT);
    ck_assert_uint_eq(b.len, 1);
    tsc_buf_free(&b);
}
END_TEST

/* ---- JSON writer ---- */

START_TEST(test_jw_nesting)
{
    struct tsc_buf b;
    struct tsc_jw w;
    char out[1024];
    tsc_buf_init(&b, 0);
    tsc_jw_init(&w, &b);
    tsc_jw_obj_begin(&w);
    tsc_jw_kstr(&w, "a", "x");
    tsc_jw_kint(&w, "i", -5);
    tsc_jw_kuint(&w, "u", UINT64_MAX);
    tsc_jw_kbool(&w, "t", true);
    tsc_jw_knull(&w, "n");
    tsc_jw_kstr_or_null(&w, "e", "");
    tsc_jw_kstr_or_null(&w, "s", "y");
    tsc_jw_khex(&w, "h", bytes8, 2);
    tsc_jw_key(&w, "arr");
    tsc_jw_arr_begin(&w);
    tsc_jw_int(&w, 1);
    tsc_jw_arr_begin(&w);
    tsc_jw_arr_end(&w);
    tsc_jw_obj_begin(&w);
    tsc_jw_obj_end(&w);
    tsc_jw_double(&w, 0.5);
    tsc_jw_str(&w, NULL);
    tsc_jw_raw(&w, "{\"r\":1}");
    tsc_jw_bool(&w, false);
    tsc_jw_arr_end(&w);
    tsc_jw_key(&w, "o");
    tsc_jw_obj_begin(&w);
    tsc_jw_key(&w, "deep");
    tsc_jw_arr_begin(&w);
    tsc_jw_uint(&w, 7);
    tsc_jw_arr_end(&w);
    tsc_jw_obj_end(&w);
    tsc_jw_obj_end(&w);
    ck_assert(!w.failed);
    ck_assert_int_eq(w.depth, 0);
    const char *got = jw_text(&b, out, sizeof(out));
    ck_assert_str_eq(got, "{\"a\":\"x\",\"i\":-5,\"u\":18446744073709551615,\"t\":true,\"n\":null,"
                          "\"e\":null,\"s\":\"y\",\"h\":\"0102\",\"arr\":[1,[],{},0.5,null,"
                          "{\"r\":1},false],\"o\":{\"deep\":[7]}}");
    ck_assert(json_valid_str(got));
    tsc_buf_free(&b);
}
END_TEST

/* Every byte value inside a string, and in a key: output stays valid ASCII JSON. */
START_TEST(test_jw_escaping)
{
    struct tsc_buf b;
    struct tsc_jw w;
    uint8_t all[256];
    for (int i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
    }
    tsc_buf_init(&b, 0);
    tsc_jw_init(&w, &b);
    tsc_jw_obj_begin(&w);
    tsc_jw_key(&w, "k\"\\\n\x01\xff");
    tsc_jw_strn(&w, all, sizeof(all));
    tsc_jw_key(&w, "d");
    tsc_jw_double(&w, (double)INFINITY); /* not finite: null */
    tsc_jw_obj_end(&w);
    ck_assert(!w.failed);
    ck_assert(json_valid(b.p, b.len));
    static char out[4096];
    const char *got = jw_text(&b, out, sizeof(out));
    ck_assert_ptr_nonnull(strstr(got, "\"k\\\"\\\\\\n\\u0001\\u00ff\":"));
    ck_assert_ptr_nonnull(strstr(got, "\\u0000\\u0001"));
    ck_assert_ptr_nonnull(strstr(got, "\\t\\n\\u000b\\u000c\\r"));
    ck_assert_ptr_nonnull(strstr(got, " !\\\"#"));
    ck_assert_ptr_nonnull(strstr(got, "[\\\\]"));
    ck_assert_ptr_nonnull(strstr(got, "~\\u007f\\u0080"));
    ck_assert_ptr_nonnull(strstr(got, "\\u00fe\\u00ff\""));
    ck_assert_ptr_nonnull(strstr(got, "\"d\":null}"));
    tsc_buf_free(&b);
}
END_TEST

/* One fixed sequence of values: strings with and without bytes to escape at
 * every position, hex of several lengths, integers at every digit boundary. */
static void jw_sequence(struct tsc_jw *w)
{
    static const char *const strs[] = {"", "a", "plain ascii text", "\"lead", "trail\\",
                                       "mid\ndle", "\x7f", "\xc3\xa9t\xc3\xa9", "tab\there"};
    uint8_t bytes[40];
    for (size_t i = 0; i < sizeof(bytes); i++) {
        bytes[i] = (uint8_t)(i * 37 + 11);
    }
    tsc_jw_obj_begin(w);
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        tsc_jw_kstr(w, strs[i], strs[i]);
    }
    tsc_jw_key(w, "hex");
    tsc_jw_arr_begin(w);
    for (size_t n = 0; n <= sizeof(bytes); n += 7) {
        tsc_jw_hex(w, bytes, n);
    }
    tsc_jw_arr_end(w);
    tsc_jw_key(w, "n");
    tsc_jw_arr_begin(w);
    uint64_t p10 = 1;
    for (int d = 0; d < 20; d++) {
        tsc_jw_uint(w, p10 - 1);
        tsc_jw_uint(w, p10);
        tsc_jw_int(w, -(int64_t)(p10 % INT64_MAX));
        p10 *= 10;
    }
    tsc_jw_uint(w, UINT64_MAX);
    tsc_jw_int(w, INT64_MIN);
    tsc_jw_int(w, INT64_MAX);
    tsc_jw_arr_end(w);
    tsc_jw_kbool(w, "t", true);
    tsc_jw_kbool(w, "f", false);
    tsc_jw_knull(w, "z");
    tsc_jw_obj_end(w);
}

/* Output does not depend on how much room the buffer had: the in-place fast
 * paths (room reserved up front) write exactly what the growing path writes. */
START_TEST(test_jw_room)
{
    struct tsc_buf grow;
    struct tsc_buf roomy;
    struct tsc_jw w;
    tsc_buf_init(&grow, 0);
    tsc_jw_init(&w, &grow);
    jw_sequence(&w);
    ck_assert(!w.failed);
    tsc_buf_init(&roomy, 0);
    ck_assert_int_eq(tsc_buf_reserve(&roomy, 1 << 16), TSC_OK);
    tsc_jw_init(&w, &roomy);
    jw_sequence(&w);
    ck_assert(!w.failed);
    ck_assert_uint_eq(grow.len, roomy.len);
    ck_assert(memcmp(grow.p, roomy.p, grow.len) == 0);
    ck_assert(json_valid(grow.p, grow.len));
    static char out[8192];
    const char *got = jw_text(&grow, out, sizeof(out));
    ck_assert_ptr_nonnull(strstr(got, "{\"\":\"\",\"a\":\"a\","));
    ck_assert_ptr_nonnull(strstr(got, "\"\\\"lead\":\"\\\"lead\""));
    ck_assert_ptr_nonnull(strstr(got, "\"\\u00c3\\u00a9t\\u00c3\\u00a9\":"));
    ck_assert_ptr_nonnull(strstr(got, "[\"\",\"0b30557a9fc4e9\","));
    ck_assert_ptr_nonnull(strstr(got, "[0,1,-1,9,10,-10,99,100,-100,"));
    ck_assert_ptr_nonnull(strstr(got, "18446744073709551615,-9223372036854775808,"
                                      "9223372036854775807],\"t\":true,\"f\":false,\"z\":null}"));
    /* Every byte value at every position of a string that spans two 8-byte
     * words and a tail, with room (checked word-wise) and without. */
    for (unsigned c = 0; c < 256; c++) {
        for (size_t pos = 0; pos < 19; pos++) {
            uint8_t str[19];
            memset(str, 'a', sizeof(str));
            str[pos] = (uint8_t)c;
            struct tsc_buf b1;
            struct tsc_buf b2;
            tsc_buf_init(&b1, 0);
            tsc_buf_init(&b2, 0);
            ck_assert_int_eq(tsc_buf_reserve(&b2, 256), TSC_OK);
            tsc_jw_init(&w, &b1);
            tsc_jw_strn(&w, str, sizeof(str));
            tsc_jw_init(&w, &b2);
            tsc_jw_strn(&w, str, sizeof(str));
            ck_assert_uint_eq(b1.len, b2.len);
            ck_assert(memcmp(b1.p, b2.p, b1.len) == 0);
            bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
            ck_assert_uint_eq(b1.len, plain ? sizeof(str) + 2 : sizeof(str) + 2 + (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' ? 1 : 5));
            tsc_buf_free(&b1);
            tsc_buf_free(&b2);
        }
    }
    /* Room for exactly the value, and one byte short of it. */
    for (size_t cap = 1; cap < 24; cap++) {
        struct tsc_buf b;
        tsc_buf_init(&b, cap);
        tsc_jw_init(&w, &b);
        tsc_jw_key(&w, "key");
        tsc_jw_str(&w, "value");
        tsc_jw_hex(&w, (const uint8_t *)"\x01\x02", 2);
        ck_assert_uint_le(b.len, cap);
        ck_assert(w.failed == (cap < strlen("\"key\":\"value\"\"0102\"")));
        tsc_buf_free(&b);
    }
    tsc_buf_free(&grow);
    tsc_buf_free(&roomy);
}
END_TEST

static void check_double(double v)
{
    struct tsc_buf b;
    struct tsc_jw w;
    char want[64];
    char got[64];
    tsc_buf_init(&b, 0);
    tsc_jw_init(&w, &b);
    tsc_jw_double(&w, v);
    ck_assert(!w.failed);
    ck_assert_uint_lt(b.len, sizeof(got));
    memcpy(got, b.p, b.len);
    got[b.len] = '\0';
    if (isfinite(v)) {
        snprintf(want, sizeof(want), "%.9g", v);
    } else {
        snprintf(want, sizeof(want), "null");
    }
    ck_assert_msg(strcmp(got, want) == 0, "%a: got %s want %s", v, got, want);
    tsc_buf_free(&b);
}

/* Doubles print exactly as printf("%.9g") does: random values over the whole
 * range (fast path and fallbacks), ties at the ninth digit, values that round
 * up to the next power of ten, the ends of the range and specials. */
START_TEST(test_jw_double)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 40000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* Log-uniform in [1e-6, 1e10), and raw bit patterns. */
        double u = (double)(x >> 11) / 9007199254740992.0;
        check_double(pow(10.0, -6.0 + 16.0 * u));
        check_double(-pow(10.0, -6.0 + 16.0 * u));
        double raw;
        memcpy(&raw, &x, sizeof(raw));
        check_double(raw);
        /* Durations as the summary computes them: seconds + nanoseconds / 1e9. */
        check_double((double)(x % 100000) + (double)((x >> 20) % 1000000000) / 1e9);
    }
    for (int i = 0; i < 4000; i++) {
        /* Exact binary ties at the ninth significant digit, and their neighbours. */
        double t = 100000000.5 + (double)i * 37.0;
        check_double(t);
        check_double(nextafter(t, 0));
        check_double(nextafter(t, 1e300));
        double t2 = 12345678.25 + (double)i * 0.5;
        check_double(t2);
        check_double(t2 + 0.125);
    }
    static const double specials[] = {0.0,      -0.0,          1e-4,       9.9999999999e-5,
                                      0.0001,   0.00009999999995, 999999999.4, 999999999.5,
                                      999999999.6, 1e9,        99999999.95, 9.999999995,
                                      0.99999999951, 1.0,      0.016,       123.456,
                                      1e-300,   5e-324,        1.7976931348623157e308};
    for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
        check_double(specials[i]);
        check_double(-specials[i]);
        check_double(nextafter(specials[i], 0));
        check_double(nextafter(specials[i], 1e300));
    }
    check_double((double)INFINITY);
    check_double((double)NAN);
}
END_TEST

/* The validator itself must reject broken JSON, or the tests above prove nothing. */
START_TEST(test_json_validator)
{
    ck_assert(json_valid_str("{\"a\":[1,2,{\"b\":null}],\"c\":\"\\u00ff\"}"));
    ck_assert(json_valid_str("-0.5e+3"));
    ck_assert(!json_valid_str("{\"a\":1,}"));
    ck_assert(!json_valid_str("[1,,2]"));
    ck_assert(!json_valid_str("{\"a\" 1}"));
    ck_assert(!json_valid_str("\"\x01\""));
    ck_assert(!json_valid_str("\"\\x41\""));
    ck_assert(!json_valid_str("[1]]"));
    ck_assert(!json_valid_str("{\"a\":1"));
    ck_assert(!json_valid_str("01"));
    ck_assert(!json_valid_str(""));
}
END_TEST

START_TEST(test_jw_limits)
{
    struct tsc_buf b;
    struct tsc_jw w;
    /* Deeper than TSC_JW_MAX_DEPTH: flagged as failed, never out of bounds. */
    tsc_buf_init(&b, 0);
    tsc_jw_init(&w, &b);
    for (int i = 0; i < TSC_JW_MAX_DEPTH + 8; i++) {
        tsc_jw_arr_begin(&w);
        tsc_jw_int(&w, i);
    }
    ck_assert(w.failed);
    for (int i = 0; i < TSC_JW_MAX_DEPTH + 8; i++) {
        tsc_jw_arr_end(&w);
    }
    ck_assert_int_eq(w.depth, 0);
    tsc_jw_arr_end(&w); /* unbalanced close: depth stays 0 */
    ck_assert_int_eq(w.depth, 0);
    tsc_buf_free(&b);
    /* Exactly TSC_JW_MAX_DEPTH is fine and valid. */
    tsc_buf_init(&b, 0);
    tsc_jw_init(&w, &b);
    for (int i = 0; i < TSC_JW_MAX_DEPTH; i++) {
        tsc_jw_arr_begin(&w);
        tsc_jw_int(&w, i);
    }
    for (int i = 0; i < TSC_JW_MAX_DEPTH; i++) {
        tsc_jw_arr_end(&w);
    }
    ck_assert(!w.failed);
    ck_assert(json_valid(b.p, b.len));
    tsc_buf_free(&b);
    /* A capped buffer: the writer reports failure instead of overrunning. */
    tsc_buf_init(&b, 16);
    tsc_jw_init(&w, &b);
    tsc_jw_obj_begin(&w);
    tsc_jw_kstr(&w, "key", "a value that does not fit");
    tsc_jw_obj_end(&w);
    ck_assert(w.failed);
    ck_assert_uint_le(b.len, 16);
    tsc_buf_free(&b);
}
END_TEST

/* ---- err / diag ---- */

START_TEST(test_err_names)
{
    for (int i = 0; i < TSC_ERR__COUNT; i++) {
        const char *n = tsc_err_name((enum tsc_err)i);
        const char *t = tsc_err_str((enum tsc_err)i);
        ck_assert_ptr_nonnull(n);
        ck_assert_ptr_nonnull(t);
        ck_assert_uint_gt(strlen(t), 0);
        ck_assert_msg(strncmp(n, "TSC_", 4) == 0, "%s", n);
        ck_assert_str_ne(n, "TSC_ERR_UNKNOWN");
        for (int j = 0; j < i; j++) {
            ck_assert_str_ne(n, tsc_err_name((enum tsc_err)j));
            ck_assert_str_ne(t, tsc_err_str((enum tsc_err)j));
        }
    }
    ck_assert_str_eq(tsc_err_name(TSC_OK), "TSC_OK");
    ck_assert_str_eq(tsc_err_name(TSC_ERR_TRUNCATED), "TSC_ERR_TRUNCATED");
    ck_assert_str_eq(tsc_err_name(TSC_ERR__COUNT), "TSC_ERR_UNKNOWN");
    ck_assert_str_eq(tsc_err_name((enum tsc_err) - 1), "TSC_ERR_UNKNOWN");
    ck_assert_str_eq(tsc_err_str(TSC_ERR__COUNT), "unknown error");
}
END_TEST

START_TEST(test_diag_names)
{
    for (int i = 0; i < TSC_DIAG__COUNT; i++) {
        const char *n = tsc_diag_name((enum tsc_diag_kind)i);
        ck_assert_ptr_nonnull(n);
        ck_assert_uint_gt(strlen(n), 0);
        ck_assert_str_ne(n, "unknown");
        int sev = tsc_diag_severity((enum tsc_diag_kind)i);
        ck_assert_int_ge(sev, 0);
        ck_assert_int_le(sev, 2);
        for (int j = 0; j < i; j++) {
            ck_assert_str_ne(n, tsc_diag_name((enum tsc_diag_kind)j));
        }
    }
    ck_assert_str_eq(tsc_diag_name(TSC_DIAG__COUNT), "unknown");
    ck_assert_int_eq(tsc_diag_severity(TSC_DIAG__COUNT), 2);
}
END_TEST

struct diag_seen {
    int calls;
    enum tsc_diag_kind kind;
    char msg[600];
    int dir;
    uint64_t conn;
};

static void diag_emit(void *ud, enum tsc_diag_kind kind, const struct tsc_where *where,
                      const char *msg)
{
    struct diag_seen *d = ud;
    d->calls++;
    d->kind = kind;
    d->dir = where->dir;
    d->conn = where->conn;
    snprintf(d->msg, sizeof(d->msg), "%s", msg);
}

START_TEST(test_diag_sink)
{
    struct diag_seen seen;
    memset(&seen, 0, sizeof(seen));
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    sink.emit = diag_emit;
    sink.ud = &seen;
    struct tsc_where w = {"f.pcap", 3, 42, 1, 100};
    tsc_diag(&sink, TSC_DIAG_X509_MALFORMED, &w, "bad cert %d", 7);
    ck_assert_int_eq(seen.calls, 1);
    ck_assert_int_eq(seen.kind, TSC_DIAG_X509_MALFORMED);
    ck_assert_str_eq(seen.msg, "bad cert 7");
    ck_assert_int_eq(seen.dir, 1);
    ck_assert_uint_eq(seen.conn, 42);
    tsc_diag(&sink, TSC_DIAG_RUN, NULL, "no where");
    ck_assert_int_eq(seen.dir, -1);
    ck_assert_uint_eq(seen.conn, TSC_NO_CONN);
    ck_assert_uint_eq(sink.counts[TSC_DIAG_X509_MALFORMED], 1);
    ck_assert_uint_eq(sink.counts[TSC_DIAG_RUN], 1);
    /* Out-of-range kinds and NULL sinks are ignored. */
    tsc_diag(&sink, TSC_DIAG__COUNT, NULL, "x");
    tsc_diag(NULL, TSC_DIAG_RUN, NULL, "x");
    ck_assert_int_eq(seen.calls, 2);
    /* Long messages are cut, not overrun. */
    char longmsg[2000];
    memset(longmsg, 'm', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    tsc_diag(&sink, TSC_DIAG_RUN, NULL, "%s", longmsg);
    ck_assert_uint_lt(strlen(seen.msg), sizeof(longmsg) - 1);
    /* Without emit, still counted. */
    sink.emit = NULL;
    tsc_diag(&sink, TSC_DIAG_RUN, NULL, "counted");
    ck_assert_uint_eq(sink.counts[TSC_DIAG_RUN], 3);
}
END_TEST

static Suite *util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_cur_readers);
    tcase_add_test(tc, test_cur_vec);
    tcase_add_test(tc, test_buf_valid);
    tcase_add_test(tc, test_jw_nesting);
    tcase_add_test(tc, test_jw_escaping);
    tcase_add_test(tc, test_jw_room);
    tcase_add_test(tc, test_jw_double);
    tcase_add_test(tc, test_json_validator);
    tcase_add_test(tc, test_err_names);
    tcase_add_test(tc, test_diag_names);
    tcase_add_test(tc, test_diag_sink);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_test(tc, test_cur_vec_bounds);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_loop_test(tc, test_cur_truncated, 0, (int)sizeof(bytes8) + 1);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, test_buf_limits);
    tcase_add_test(tc, test_jw_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(util_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
