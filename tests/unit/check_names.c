/*
 * Name tables generated from data/tls-registries (tools/gen_names.py): every
 * CSV row is looked up and must match, every other value must give NULL, and
 * GREASE (RFC 8701) is recognised exactly.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/names.h"

#define MAX_ROWS 1024

struct row {
    long value;
    char name[96];
};

struct table {
    const char *csv;
    const char *(*lookup)(uint32_t v);
    uint32_t max; /* largest value the lookup accepts */
    bool grease;  /* RFC 8701 values named even if absent from the CSV */
    bool drafts;  /* 0x7F00..0x7FFF named as TLS 1.3 drafts */
};

/* Adapters so every lookup has one signature; arguments are range-checked by the caller. */
static const char *l_cipher(uint32_t v)
{
    return tsc_name_cipher_suite((uint16_t)v);
}
static const char *l_ext(uint32_t v)
{
    return tsc_name_extension((uint16_t)v);
}
static const char *l_group(uint32_t v)
{
    return tsc_name_group((uint16_t)v);
}
static const char *l_sig(uint32_t v)
{
    return tsc_name_sigscheme((uint16_t)v);
}
static const char *l_alert_desc(uint32_t v)
{
    return tsc_name_alert_description((uint8_t)v);
}
static const char *l_alert_level(uint32_t v)
{
    return tsc_name_alert_level((uint8_t)v);
}
static const char *l_hs(uint32_t v)
{
    return tsc_name_handshake_type((uint8_t)v);
}
static const char *l_v2(uint32_t v)
{
    return tsc_name_sslv2_message_type((uint8_t)v);
}
static const char *l_ct(uint32_t v)
{
    return tsc_name_content_type((uint8_t)v);
}
static const char *l_ver(uint32_t v)
{
    return tsc_name_version((uint16_t)v);
}
static const char *l_pf(uint32_t v)
{
    return tsc_name_ec_point_format((uint8_t)v);
}

static const struct table tables[] = {
    {"cipher_suites.csv", l_cipher, 0xFFFF, true, false},
    {"extensions.csv", l_ext, 0xFFFF, true, false},
    {"supported_groups.csv", l_group, 0xFFFF, true, false},
    {"signature_schemes.csv", l_sig, 0xFFFF, true, false},
    {"alert_descriptions.csv", l_alert_desc, 0xFF, false, false},
    {"alert_levels.csv", l_alert_level, 0xFF, false, false},
    {"handshake_types.csv", l_hs, 0xFF, false, false},
    {"sslv2_message_types.csv", l_v2, 0xFF, false, false},
    {"content_types.csv", l_ct, 0xFF, false, false},
    {"versions.csv", l_ver, 0xFFFF, true, true},
    {"ec_point_formats.csv", l_pf, 0xFF, false, false},
};
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

static bool ref_grease(uint32_t v)
{
    return (v >> 8) == (v & 0xFF) && (v & 0x0F) == 0x0A;
}

static void csv_path(const char *file, char *out, size_t n)
{
    const char *dir = getenv("TSC_SOURCE_DIR");
    int w = snprintf(out, n, "%s/data/tls-registries/%s", dir ? dir : ".", file);
    ck_assert(w > 0 && (size_t)w < n);
}

/* Reads a registry CSV (header with `value` and `name` columns, no quoting). */
static size_t load_csv(const char *file, struct row *rows)
{
    char path[512];
    char line[512];
    csv_path(file, path, sizeof(path));
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s (set TSC_SOURCE_DIR)", path);
    int col_value = -1;
    int col_name = -1;
    size_t n = 0;
    bool header = true;
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);
        ck_assert_msg(len > 0 && line[len - 1] == '\n', "%s: line too long", path);
        line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r') {
            line[--len] = '\0';
        }
        if (len == 0) {
            continue;
        }
        ck_assert_msg(strchr(line, '"') == NULL, "%s: quoted CSV not expected", path);
        char *save = NULL;
        int col = 0;
        long value = -1;
        const char *name = NULL;
        for (char *tok = strtok_r(line, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (header) {
                if (strcmp(tok, "value") == 0) {
                    col_value = col;
                } else if (strcmp(tok, "name") == 0) {
                    col_name = col;
                }
            } else if (col == col_value) {
                char *end = NULL;
                value = strtol(tok, &end, 10);
                ck_assert_msg(*end == '\0', "%s: bad value %s", path, tok);
            } else if (col == col_name) {
                name = tok;
            }
            col++;
        }
        if (header) {
            ck_assert_msg(col_value >= 0 && col_name >= 0, "%s: header", path);
            header = false;
            continue;
        }
        ck_assert_msg(value >= 0 && name != NULL, "%s: incomplete row", path);
        ck_assert_int_lt(n, MAX_ROWS);
        rows[n].value = value;
        snprintf(rows[n].name, sizeof(rows[n].name), "%s", name);
        n++;
    }
    fclose(f);
    return n;
}

/* valid: every CSV row is found under its name. */
START_TEST(test_every_row)
{
    static struct row rows[MAX_ROWS];
    const struct table *t = &tables[_i];
    size_t n = load_csv(t->csv, rows);
    ck_assert_uint_gt(n, 0);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].value > (long)t->max) {
            /* Only SSLv2 3-byte CIPHER-KINDs may be wider than the lookup. */
            ck_assert_str_eq(t->csv, "cipher_suites.csv");
            ck_assert_msg(strncmp(rows[i].name, "SSLv20_CK_", 10) == 0, "%s", rows[i].name);
            continue;
        }
        const char *got = t->lookup((uint32_t)rows[i].value);
        ck_assert_msg(got != NULL, "%s: %ld unnamed", t->csv, rows[i].value);
        ck_assert_msg(strcmp(got, rows[i].name) == 0, "%s: %ld is %s, want %s", t->csv,
                      rows[i].value, got, rows[i].name);
        checked++;
    }
    ck_assert_uint_gt(checked, 0);
}
END_TEST

/* malformed: every value not in the CSV (nor GREASE, nor a draft) gives NULL. */
START_TEST(test_unknown_null)
{
    static struct row rows[MAX_ROWS];
    static bool known[0x10000];
    const struct table *t = &tables[_i];
    size_t n = load_csv(t->csv, rows);
    memset(known, 0, sizeof(known));
    for (size_t i = 0; i < n; i++) {
        if (rows[i].value <= (long)t->max) {
            known[rows[i].value] = true;
        }
    }
    uint32_t unknown = 0;
    for (uint32_t v = 0; v <= t->max; v++) {
        bool expect =
            known[v] || (t->grease && ref_grease(v)) || (t->drafts && (v & 0xFF00) == 0x7F00);
        const char *got = t->lookup(v);
        if (expect) {
            ck_assert_msg(got != NULL && got[0] != '\0', "%s: 0x%04x unnamed", t->csv, v);
        } else {
            ck_assert_msg(got == NULL, "%s: 0x%04x named %s", t->csv, v, got);
            unknown++;
        }
    }
    ck_assert_uint_gt(unknown, 0);
}
END_TEST

START_TEST(test_grease)
{
    uint32_t count = 0;
    for (uint32_t v = 0; v <= 0xFFFF; v++) {
        bool g = tsc_is_grease((uint16_t)v);
        ck_assert_msg(g == ref_grease(v), "0x%04x", v);
        if (g) {
            char want[16];
            snprintf(want, sizeof(want), "grease_0x%04X", v);
            ck_assert_str_eq(tsc_name_cipher_suite((uint16_t)v), want);
            ck_assert_str_eq(tsc_name_extension((uint16_t)v), want);
            ck_assert_str_eq(tsc_name_group((uint16_t)v), want);
            ck_assert_str_eq(tsc_name_sigscheme((uint16_t)v), want);
            ck_assert_str_eq(tsc_name_version((uint16_t)v), want);
            count++;
        }
    }
    /* RFC 8701 section 2: 0x0A0A, 0x1A1A, ..., 0xFAFA. */
    ck_assert_uint_eq(count, 16);
    ck_assert(tsc_is_grease(0x0A0A));
    ck_assert(tsc_is_grease(0xFAFA));
    ck_assert(!tsc_is_grease(0x0A1A));
    ck_assert(!tsc_is_grease(0x0B0B));
    ck_assert(!tsc_is_grease(0x0000));
}
END_TEST

START_TEST(test_versions)
{
    ck_assert_str_eq(tsc_name_version(0x0002), "SSLv2");
    ck_assert_str_eq(tsc_name_version(0x0300), "SSLv3");
    ck_assert_str_eq(tsc_name_version(0x0301), "TLSv1.0");
    ck_assert_str_eq(tsc_name_version(0x0302), "TLSv1.1");
    ck_assert_str_eq(tsc_name_version(0x0303), "TLSv1.2");
    ck_assert_str_eq(tsc_name_version(0x0304), "TLSv1.3");
    ck_assert_str_eq(tsc_name_version(0x7F12), "TLSv1.3-draft18");
    ck_assert_str_eq(tsc_name_version(0x7F17), "TLSv1.3-draft23");
    ck_assert_str_eq(tsc_name_version(0x7F1C), "TLSv1.3-draft28");
    ck_assert_str_eq(tsc_name_version(0x7F00), "TLSv1.3-draft00");
    ck_assert_str_eq(tsc_name_version(0x7FFF), "TLSv1.3-draft255");
    ck_assert_str_eq(tsc_name_version(0xFEFF), "DTLSv1.0");
    ck_assert_str_eq(tsc_name_version(0xFEFD), "DTLSv1.2");
    ck_assert_ptr_null(tsc_name_version(0x0305));
    ck_assert_ptr_null(tsc_name_version(0x7E17));
    ck_assert_ptr_null(tsc_name_version(0x0000));
}
END_TEST

START_TEST(test_well_known)
{
    ck_assert_str_eq(tsc_name_sslv2_message_type(0), "error");
    ck_assert_str_eq(tsc_name_sslv2_message_type(1), "client-hello");
    ck_assert_str_eq(tsc_name_sslv2_message_type(2), "client-master-key");
    ck_assert_str_eq(tsc_name_sslv2_message_type(3), "client-finished");
    ck_assert_str_eq(tsc_name_sslv2_message_type(4), "server-hello");
    ck_assert_str_eq(tsc_name_sslv2_message_type(5), "server-verify");
    ck_assert_str_eq(tsc_name_sslv2_message_type(6), "server-finished");
    ck_assert_str_eq(tsc_name_sslv2_message_type(7), "request-certificate");
    ck_assert_str_eq(tsc_name_sslv2_message_type(8), "client-certificate");
    ck_assert_ptr_null(tsc_name_sslv2_message_type(9));
    ck_assert_str_eq(tsc_name_cipher_suite(0x1301), "TLS_AES_128_GCM_SHA256");
    ck_assert_str_eq(tsc_name_cipher_suite(0xC02F), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    ck_assert_str_eq(tsc_name_group(0x11EC), "X25519MLKEM768");
    ck_assert_str_eq(tsc_name_group(0x001D), "x25519");
    ck_assert_str_eq(tsc_name_sigscheme(0x0904), "mldsa44");
    ck_assert_str_eq(tsc_name_extension(0xFE0D), "encrypted_client_hello");
    ck_assert_str_eq(tsc_name_content_type(27), "return_routability_check");
    ck_assert_str_eq(tsc_name_alert_level(2), "fatal");
    ck_assert_str_eq(tsc_name_handshake_type(1), "client_hello");
    ck_assert_str_eq(tsc_name_ec_point_format(0), "uncompressed");
}
END_TEST

/* limits: the extremes of each argument type. */
START_TEST(test_limits)
{
    ck_assert_ptr_null(tsc_name_cipher_suite(0xFFFF));
    ck_assert_ptr_null(tsc_name_extension(0xFFFF));
    ck_assert_ptr_null(tsc_name_alert_description(0xFF));
    ck_assert_ptr_null(tsc_name_handshake_type(0xFF));
    ck_assert_ptr_null(tsc_name_content_type(0));
    ck_assert_ptr_null(tsc_name_content_type(0xFF));
    ck_assert_ptr_null(tsc_name_sslv2_message_type(0xFF));
    ck_assert_ptr_null(tsc_name_ec_point_format(0xFF));
    ck_assert_str_eq(tsc_name_cipher_suite(0x0000), "TLS_NULL_WITH_NULL_NULL");
}
END_TEST

static Suite *names_suite(void)
{
    Suite *s = suite_create("names");
    TCase *tc = tcase_create("valid");
    tcase_add_loop_test(tc, test_every_row, 0, (int)N_TABLES);
    tcase_add_test(tc, test_grease);
    tcase_add_test(tc, test_versions);
    tcase_add_test(tc, test_well_known);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, test_unknown_null, 0, (int)N_TABLES);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, test_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(names_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
