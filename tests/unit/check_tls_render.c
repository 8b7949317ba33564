/*
 * Rendering of parsed handshake messages (src/output/hs_render.c): JSON is
 * well-formed and carries the fields per verbosity; text lines are indented.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/hs_render.h"
#include "tls/msg.h"
#include "tls/names.h"
#include "test_util.h"

#define H8(x) x x x x x x x x
#define H16(x) H8(x) H8(x)
#define H32(x) H16(x) H16(x)

static uint8_t g_b[1024];
static struct tsc_hs_msg g_m;


static void parse(uint8_t type, uint16_t suite, uint16_t version, const char *hex)
{
    memset(&g_m, 0, sizeof(g_m));
    g_m.type = type;
    g_m.body.p = g_b;
    g_m.body.len = unhex(hex, g_b, sizeof(g_b));
    g_m.length = (uint32_t)g_m.body.len;
    g_m.ctx.cipher_suite = suite;
    g_m.ctx.have_suite = suite != 0;
    g_m.ctx.version = version;
    ck_assert_int_eq(tsc_msg_parse(&g_m), TSC_OK);
}

/* Structural JSON check: balanced braces/brackets outside strings, valid escapes. */
static void assert_json(const char *s)
{
    int depth = 0;
    bool in_str = false;
    for (const char *p = s; *p != '\0'; p++) {
        if (in_str) {
            if (*p == '\\') {
                p++;
                ck_assert(*p != '\0');
            } else if (*p == '"') {
                in_str = false;
            } else {
                ck_assert_uint_ge((unsigned char)*p, 0x20);
            }
            continue;
        }
        if (*p == '"') {
            in_str = true;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            depth--;
            ck_assert_int_ge(depth, 0);
        }
    }
    ck_assert(!in_str);
    ck_assert_int_eq(depth, 0);
}

static char *json(int verbosity)
{
    static char out[16384];
    struct tsc_buf b;
    struct tsc_jw w;
    tsc_buf_init(&b, 0);
    tsc_jw_init(&w, &b);
    tsc_jw_obj_begin(&w);
    tsc_render_hs_json(&w, &g_m, verbosity);
    tsc_jw_obj_end(&w);
    ck_assert(!w.failed);
    ck_assert_uint_lt(b.len, sizeof(out));
    memcpy(out, b.p, b.len);
    out[b.len] = '\0';
    tsc_buf_free(&b);
    assert_json(out);
    return out;
}

static char *text(int verbosity, const char *indent)
{
    static char out[16384];
    struct tsc_buf b;
    tsc_buf_init(&b, 0);
    tsc_render_hs_text(&b, &g_m, verbosity, indent);
    ck_assert_uint_lt(b.len, sizeof(out));
    if (b.len > 0) {
        memcpy(out, b.p, b.len);
    }
    out[b.len] = '\0';
    tsc_buf_free(&b);
    return out;
}

/* ClientHello: suites c02f 0035, SNI "test", ALPN h2, supported_groups 001d */
#define CH                                                                                         \
    "0303" H32("11") "00"                                                                          \
                     "0004c02f0035"                                                                \
                     "0100"                                                                        \
                     "001e"                                                                        \
                     "00000009000700000474657374"                                                  \
                     "001000050003026832"                                                          \
                     "000a00040002001d"

START_TEST(test_client_hello)
{
    parse(1, 0, 0, CH);
    char *j = json(0);
    ck_assert_ptr_nonnull(strstr(j, "\"sni\":\"test\""));
    ck_assert_ptr_nonnull(strstr(j, "\"cipher_suites_count\":2"));
    ck_assert_ptr_nonnull(strstr(j, "\"extensions_count\":3"));
    ck_assert_ptr_null(strstr(j, "\"extensions\":"));
    j = json(1);
    ck_assert_ptr_nonnull(strstr(j, tsc_name_cipher_suite(0xc02f)));
    ck_assert_ptr_nonnull(strstr(j, "\"protocols\":[\"h2\"]"));
    ck_assert_ptr_nonnull(strstr(j, tsc_name_group(0x001d)));
    ck_assert_ptr_nonnull(strstr(j, "\"random\":\"1111"));
    ck_assert_ptr_null(strstr(j, "\"session_id\":\""));
    j = json(2);
    ck_assert_ptr_nonnull(strstr(j, "\"session_id\":\"\""));
    char *t = text(0, "");
    ck_assert_ptr_nonnull(strstr(t, "sni=test"));
    ck_assert_ptr_nonnull(strstr(t, "suites=2"));
    ck_assert_ptr_null(strchr(t, '\n'));
    t = text(1, "    ");
    ck_assert_int_eq(strncmp(t, "    ", 4), 0);
    ck_assert_ptr_nonnull(strstr(t, "host_name: test"));
    ck_assert_ptr_nonnull(strstr(t, tsc_name_cipher_suite(0x0035)));
    ck_assert_int_eq(t[strlen(t) - 1], '\n');
    /* every line is indented */
    for (char *p = t; *p != '\0'; p = strchr(p, '\n') + 1) {
        ck_assert_int_eq(strncmp(p, "    ", 4), 0);
    }
}
END_TEST

START_TEST(test_server_hello_and_kex)
{
    parse(2, 0, 0,
          "0303" H32("22") "00"
                           "1301"
                           "00"
                           "0006"
                           "002b00020304");
    char *j = json(0);
    ck_assert_ptr_nonnull(strstr(j, "\"cipher_suite\":4865"));
    ck_assert_ptr_nonnull(strstr(j, "\"cipher_suite_name\":\""));
    ck_assert_ptr_nonnull(strstr(j, "\"selected_version\":772"));
    char *t = text(0, "");
    ck_assert_ptr_nonnull(strstr(t, tsc_name_cipher_suite(0x1301)));
    ck_assert_ptr_nonnull(strstr(t, tsc_name_version(0x0304)));
    parse(12, 0xc02f, 0x0303,
          "03"
          "0017"
          "0401020304"
          "0401"
          "0002abcd");
    j = json(1);
    ck_assert_ptr_nonnull(strstr(j, "\"kex\":\"ecdhe\""));
    ck_assert_ptr_nonnull(strstr(j, "\"named_curve\":23"));
    ck_assert_ptr_nonnull(strstr(j, "\"signature_algorithm\":1025"));
    ck_assert_ptr_null(strstr(j, "\"point\":\""));
    j = json(2);
    ck_assert_ptr_nonnull(strstr(j, "\"point\":\"0102030"));
}
END_TEST

START_TEST(test_unparsed)
{
    memset(&g_m, 0, sizeof(g_m));
    g_m.type = 1;
    g_m.body.p = g_b;
    g_m.body.len = unhex("0303", g_b, sizeof(g_b));
    ck_assert_int_eq(tsc_msg_parse(&g_m), TSC_ERR_TRUNCATED);
    char *j = json(2);
    ck_assert_ptr_nonnull(strstr(j, "\"parse_error\":\"TSC_ERR_TRUNCATED\""));
    ck_assert_ptr_nonnull(strstr(text(0, ""), "malformed"));
    g_m.skipped = true;
    g_m.length = 300000;
    ck_assert_ptr_nonnull(strstr(json(0), "\"skipped\":true"));
    ck_assert_ptr_nonnull(strstr(text(0, ""), "skipped"));
}
END_TEST

START_TEST(test_hostile_strings)
{
    /* SNI with a quote, a control byte and a non-UTF-8 byte */
    parse(1, 0, 0,
          "0303" H32("11") "00"
                           "0002c02f"
                           "0100"
                           "000c"
                           "0000"
                           "0008"
                           "0006"
                           "00"
                           "0003"
                           "2201ff");
    ck_assert_ptr_nonnull(strstr(text(1, ""), "host_name: \"."));
    /* GREASE extension 0a0a is named and flagged */
    parse(1, 0, 0,
          "0303" H32("11") "00"
                           "0002c02f"
                           "0100"
                           "0004"
                           "0a0a0000");
    ck_assert_ptr_nonnull(strstr(json(1), "\"grease\":true"));
    json(2); /* structure asserted inside */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tls_render");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_client_hello);
    tcase_add_test(tc, test_server_hello_and_kex);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_test(tc, test_unparsed);
    tcase_add_test(tc, test_hostile_strings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
