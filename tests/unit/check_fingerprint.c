/*
 * JA3 / JA3S / JA4 (src/tls/fingerprint.c).
 *
 * Hellos are built field by field (struct spec below), parsed with the real
 * parser, then fingerprinted. Expected values:
 *   - published examples: FoxIO JA4 technical details (JA4.md, the example
 *     ClientHello with its JA4, JA4_r, JA4_ro and JA4_o), salesforce/ja3
 *     README (two JA3 strings and their MD5), and a Chrome ClientHello as
 *     published by a fingerprinting service (ja3_text/ja3_hash, ja4, ja4_o);
 *   - hand-computed strings for the corner cases, hashed here with libcrypto
 *     independently of the code under test.
 */
#include <check.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/fingerprint.h"
#include "tls/msg.h"
#include "tls/tls.h"

/* ---- building hellos ---- */

struct ext_spec {
    uint16_t type;
    const uint8_t *data;
    size_t len;
};

struct hello_spec {
    uint16_t version;
    const uint16_t *ciphers;
    size_t n_ciphers;
    const struct ext_spec *exts;
    size_t n_exts;
    bool no_ext_block; /* SSLv3-style: no extensions block at all */
};

static uint8_t g_msg[1 << 18];

static size_t put16(uint8_t *p, size_t at, uint16_t v)
{
    p[at] = (uint8_t)(v >> 8);
    p[at + 1] = (uint8_t)v;
    return at + 2;
}

/* ClientHello body (no handshake header). */
static size_t build_ch(const struct hello_spec *h, uint8_t *out)
{
    size_t n = put16(out, 0, h->version);
    memset(out + n, 0x11, 32); /* random */
    n += 32;
    out[n++] = 0; /* session id */
    n = put16(out, n, (uint16_t)(2 * h->n_ciphers));
    for (size_t i = 0; i < h->n_ciphers; i++) {
        n = put16(out, n, h->ciphers[i]);
    }
    out[n++] = 1; /* compression methods: null */
    out[n++] = 0;
    if (h->no_ext_block) {
        return n;
    }
    size_t len_at = n;
    n += 2;
    for (size_t i = 0; i < h->n_exts; i++) {
        n = put16(out, n, h->exts[i].type);
        n = put16(out, n, (uint16_t)h->exts[i].len);
        if (h->exts[i].len > 0) {
            memcpy(out + n, h->exts[i].data, h->exts[i].len);
        }
        n += h->exts[i].len;
    }
    put16(out, len_at, (uint16_t)(n - len_at - 2));
    return n;
}

static void parse_ch(const uint8_t *p, size_t n, struct tsc_client_hello *ch)
{
    struct tsc_cur c = tsc_cur_make(p, n);
    ck_assert_int_eq(tsc_msg_client_hello_parse(&c, ch), TSC_OK);
}

static struct tsc_client_hello g_ch;
static struct tsc_server_hello g_sh;
static struct tsc_fp_ctx *g_fp;

static void setup(void)
{
    ck_assert_int_eq(tsc_fp_ctx_new(&g_fp), TSC_OK);
}

static void teardown(void)
{
    tsc_fp_ctx_free(g_fp);
    g_fp = NULL;
}

/* ---- collecting raw strings ---- */

static char g_raw[1 << 20];
static size_t g_raw_len;

static void to_raw(void *ud, const char *p, size_t n)
{
    (void)ud;
    ck_assert_uint_le(g_raw_len + n, sizeof(g_raw) - 1);
    memcpy(g_raw + g_raw_len, p, n);
    g_raw_len += n;
    g_raw[g_raw_len] = '\0';
}

static const struct tsc_fp_sink g_sink = {to_raw, NULL};

static const char *ja3_raw(const struct tsc_client_hello *ch)
{
    g_raw_len = 0;
    g_raw[0] = '\0';
    tsc_fp_ja3_raw(g_fp, ch, &g_sink);
    return g_raw;
}

static const char *ja4_raw(const struct tsc_client_hello *ch, bool original)
{
    g_raw_len = 0;
    g_raw[0] = '\0';
    tsc_fp_ja4_raw(g_fp, ch, original, &g_sink);
    return g_raw;
}

static const char *ja3s_raw(const struct tsc_server_hello *sh)
{
    g_raw_len = 0;
    g_raw[0] = '\0';
    tsc_fp_ja3s_raw(g_fp, sh, &g_sink);
    return g_raw;
}

static void ck_ja3(const struct tsc_client_hello *ch, const char *want)
{
    char h[TSC_FP_MD5_HEX_LEN];
    ck_assert_int_eq(tsc_fp_ja3(g_fp, ch, h), TSC_OK);
    ck_assert_str_eq(h, want);
}

static void ck_ja4(const struct tsc_client_hello *ch, bool original, const char *want)
{
    char h[TSC_FP_JA4_LEN];
    ck_assert_int_eq(tsc_fp_ja4(g_fp, ch, original, h), TSC_OK);
    ck_assert_str_eq(h, want);
}

/* Independent hashes of hand-written strings. */
static void md5_hex(const char *s, char out[33])
{
    uint8_t d[16];
    unsigned int n = 0;
    ck_assert_int_eq(EVP_Digest(s, strlen(s), d, &n, EVP_md5(), NULL), 1);
    for (int i = 0; i < 16; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

static void sha12(const char *s, size_t len, char out[13])
{
    uint8_t d[32];
    unsigned int n = 0;
    ck_assert_int_eq(EVP_Digest(s, len, d, &n, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 6; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

/* JA4 from its raw form: a_b_c[_sigs] -> a_hash(b)_hash(c[_sigs]); empty lists give zeros. */
static void ja4_from_raw(const char *raw, char out[TSC_FP_JA4_LEN])
{
    const char *u1 = strchr(raw, '_');
    ck_assert_ptr_nonnull(u1);
    const char *u2 = strchr(u1 + 1, '_');
    ck_assert_ptr_nonnull(u2);
    char b[13], c[13];
    if (u2 == u1 + 1) {
        strcpy(b, "000000000000");
    } else {
        sha12(u1 + 1, (size_t)(u2 - u1 - 1), b);
    }
    if (u2[1] == '\0' || u2[1] == '_') {
        strcpy(c, "000000000000");
    } else {
        sha12(u2 + 1, strlen(u2 + 1), c);
    }
    snprintf(out, TSC_FP_JA4_LEN, "%.10s_%s_%s", raw, b, c);
}

/* ---- extension bodies ---- */

/* SNI "example.com" (RFC 6066 3). */
static const uint8_t x_sni[] = {0x00, 0x0e, 0x00, 0x00, 0x0b, 'e', 'x', 'a', 'm', 'p',
                                'l',  'e',  '.',  'c',  'o',  'm'};
/* ALPN h2, http/1.1 (RFC 7301 3.1). */
static const uint8_t x_alpn_h2[] = {0x00, 0x0c, 0x02, 'h', '2', 0x08, 'h', 't',
                                    't',  'p',  '/',  '1', '.', '1'};
/* supported_versions (ClientHello): GREASE, TLS 1.3, TLS 1.2. */
static const uint8_t x_versions[] = {0x06, 0x7a, 0x7a, 0x03, 0x04, 0x03, 0x03};
/* signature_algorithms from the JA4 example. */
static const uint8_t x_sigalgs[] = {0x00, 0x10, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05,
                                    0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01};
/* supported_groups: GREASE, x25519, secp256r1, secp384r1. */
static const uint8_t x_groups[] = {0x00, 0x08, 0x2a, 0x2a, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18};
/* supported_groups of the Chrome example: GREASE, X25519MLKEM768, x25519, secp256r1, secp384r1. */
static const uint8_t x_groups_chrome[] = {0x00, 0x0a, 0x6a, 0x6a, 0x11, 0xec, 0x00,
                                          0x1d, 0x00, 0x17, 0x00, 0x18};
/* ec_point_formats: uncompressed. */
static const uint8_t x_formats[] = {0x01, 0x00};
static const uint8_t x_formats3[] = {0x03, 0x00, 0x01, 0x02};

#define EXT(t, d) {t, d, sizeof(d)}
#define EMPTY(t) {t, NULL, 0}
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- published examples ---- */

/*
 * FoxIO JA4.md "Example": ciphers 1301,1302,1303,c02b,c02f,c02c,c030,cca9,
 * cca8,c013,c014,009c,009d,002f,0035, extensions in the order 001b,0000,0033,
 * 0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015, the
 * signature algorithms above; GREASE added in front of ciphers and extensions
 * and at the end of the extensions (as Chrome sends them) must not change it.
 */
static const uint16_t foxio_ciphers[] = {0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
                                         0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
                                         0x009c, 0x009d, 0x002f, 0x0035};
static const struct ext_spec foxio_exts[] = {
    EMPTY(0x1a1a),  EMPTY(0x001b),         EXT(0x0000, x_sni),      EMPTY(0x0033),
    EXT(0x0010, x_alpn_h2), EMPTY(0x4469), EMPTY(0x0017),          EMPTY(0x002d),
    EXT(0x000d, x_sigalgs), EMPTY(0x0005), EMPTY(0x0023),           EMPTY(0x0012),
    EXT(0x002b, x_versions), EMPTY(0xff01), EXT(0x000b, x_formats), EXT(0x000a, x_groups),
    EMPTY(0x0015),  EMPTY(0xfafa),
};

static void build_foxio(void)
{
    struct hello_spec h = {0x0303, foxio_ciphers, N(foxio_ciphers), foxio_exts, N(foxio_exts),
                           false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
}

START_TEST(test_ja4_foxio_example)
{
    build_foxio();
    ck_ja4(&g_ch, false, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    ck_ja4(&g_ch, true, "t13d1516h2_acb858a92679_18f69afefd3d");
    ck_assert_str_eq(ja4_raw(&g_ch, false),
                     "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,"
                     "cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,"
                     "ff01_0403,0804,0401,0503,0805,0501,0806,0601");
    ck_assert_str_eq(ja4_raw(&g_ch, true),
                     "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,"
                     "002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,"
                     "000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601");
}
END_TEST

START_TEST(test_ja4_foxio_no_sigalgs)
{
    /* JA4.md: without signature algorithms the extension string is hashed
     * without the underscore: ... = 6d807ffa2a79. */
    struct ext_spec e[N(foxio_exts)];
    size_t n = 0;
    for (size_t i = 0; i < N(foxio_exts); i++) {
        if (foxio_exts[i].type == 0x000d) {
            e[n++] = (struct ext_spec)EMPTY(0x000d); /* extension kept, no algorithms */
        } else {
            e[n++] = foxio_exts[i];
        }
    }
    struct hello_spec h = {0x0303, foxio_ciphers, N(foxio_ciphers), e, n, false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    ck_ja4(&g_ch, false, "t13d1516h2_8daaf6152771_6d807ffa2a79");
}
END_TEST

/*
 * A Chrome 143 ClientHello as a fingerprinting service published it
 * (ja3_text, ja3_hash, ja4, ja4_r, ja4_o, ja4_ro of one hello): extension
 * order 45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27, groups
 * 4588-29-23-24, point format 0; GREASE added as Chrome sends it.
 */
START_TEST(test_chrome_published)
{
    static const uint16_t ciphers[] = {0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
                                       0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
                                       0x009c, 0x009d, 0x002f, 0x0035};
    static const struct ext_spec exts[] = {
        EMPTY(0x8a8a),           EMPTY(0x002d),         EMPTY(0x0033),
        EXT(0x0010, x_alpn_h2),  EMPTY(0xfe0d),         EMPTY(0x0017),
        EMPTY(0x44cd),           EXT(0x0000, x_sni),    EXT(0x000b, x_formats),
        EXT(0x000a, x_groups_chrome), EXT(0x002b, x_versions), EMPTY(0xff01),
        EMPTY(0x0023),           EMPTY(0x0012),         EMPTY(0x0005),
        EXT(0x000d, x_sigalgs),  EMPTY(0x001b),         EMPTY(0x9a9a),
    };
    struct hello_spec h = {0x0303, ciphers, N(ciphers), exts, N(exts), false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    ck_assert_str_eq(ja3_raw(&g_ch),
                     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-"
                     "47-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0");
    ck_ja3(&g_ch, "98487aa16281980e7d1120d399efb6a4");
    ck_ja4(&g_ch, false, "t13d1516h2_8daaf6152771_d8a2da3f94cd");
    ck_ja4(&g_ch, true, "t13d1516h2_acb858a92679_f96a17c57971");
}
END_TEST

/* salesforce/ja3 README: "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0". */
START_TEST(test_ja3_readme_examples)
{
    static const uint16_t ciphers[] = {47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4};
    static const uint8_t groups[] = {0x00, 0x06, 0x00, 23, 0x00, 24, 0x00, 25};
    static const struct ext_spec exts[] = {EXT(0x0000, x_sni), EXT(10, groups),
                                           EXT(11, x_formats)};
    struct hello_spec h = {0x0301, ciphers, N(ciphers), exts, N(exts), false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    ck_assert_str_eq(ja3_raw(&g_ch), "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,"
                                     "23-24-25,0");
    ck_ja3(&g_ch, "ada70206e40642a3e4461f35503241d5");

    /* "769,4-5-10-9-100-98-3-6-19-18-99,,," (a hello without extensions). */
    static const uint16_t c2[] = {4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99};
    struct hello_spec h2 = {0x0301, c2, N(c2), NULL, 0, true};
    parse_ch(g_msg, build_ch(&h2, g_msg), &g_ch);
    ck_assert_str_eq(ja3_raw(&g_ch), "769,4-5-10-9-100-98-3-6-19-18-99,,,");
    ck_ja3(&g_ch, "de350869b8c85de67a350c8d186f11e6");
}
END_TEST

/* ---- hand-computed corner cases ---- */

START_TEST(test_grease_everywhere)
{
    /* GREASE in ciphers, extensions, groups, versions and signature algorithms. */
    static const uint16_t ciphers[] = {0xdada, 0x1301, 0x5a5a, 0x00ff};
    static const uint8_t sig[] = {0x00, 0x06, 0x0a, 0x0a, 0x04, 0x03, 0xba, 0xba};
    static const struct ext_spec exts[] = {EMPTY(0x2a2a),        EXT(0x000a, x_groups),
                                           EXT(0x000b, x_formats3), EXT(0x000d, sig),
                                           EXT(0x002b, x_versions), EMPTY(0x4a4a)};
    struct hello_spec h = {0x0303, ciphers, N(ciphers), exts, N(exts), false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    const char *want3 = "771,4865-255,10-11-13-43,29-23-24,0-1-2";
    ck_assert_str_eq(ja3_raw(&g_ch), want3);
    char m[33];
    md5_hex(want3, m);
    ck_ja3(&g_ch, m);
    const char *want4r = "t13i020400_00ff,1301_000a,000b,000d,002b_0403";
    ck_assert_str_eq(ja4_raw(&g_ch, false), want4r);
    char j[TSC_FP_JA4_LEN];
    ja4_from_raw(want4r, j);
    ck_ja4(&g_ch, false, j);
}
END_TEST

START_TEST(test_no_extensions)
{
    /* SSLv3 hello without an extensions block: empty JA3 fields, JA4_c zeros. */
    static const uint16_t ciphers[] = {0x0005, 0x0004};
    struct hello_spec h = {0x0300, ciphers, N(ciphers), NULL, 0, true};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    ck_assert(!g_ch.ext.present);
    ck_assert_str_eq(ja3_raw(&g_ch), "768,5-4,,,");
    ck_assert_str_eq(ja4_raw(&g_ch, false), "ts3i020000_0004,0005_");
    ck_assert_str_eq(ja4_raw(&g_ch, true), "ts3i020000_0005,0004_");
    char b[13];
    sha12("0004,0005", 9, b);
    char want[TSC_FP_JA4_LEN];
    snprintf(want, sizeof(want), "ts3i020000_%s_000000000000", b);
    ck_ja4(&g_ch, false, want);

    /* An empty extensions block (present, zero length) is the same. */
    struct hello_spec h2 = {0x0301, ciphers, N(ciphers), NULL, 0, false};
    parse_ch(g_msg, build_ch(&h2, g_msg), &g_ch);
    ck_assert(g_ch.ext.present);
    ck_assert_str_eq(ja3_raw(&g_ch), "769,5-4,,,");
    snprintf(want, sizeof(want), "t10i020000_%s_000000000000", b);
    ck_ja4(&g_ch, false, want);
}
END_TEST

START_TEST(test_empty_lists)
{
    /* Only GREASE ciphers: JA3 field empty, JA4 count 00 and b zeros. Only SNI
     * and ALPN: the sorted extension list is empty (c zeros), JA4_o is not. */
    static const uint16_t ciphers[] = {0x0a0a, 0xfafa};
    static const struct ext_spec exts[] = {EXT(0x0000, x_sni), EXT(0x0010, x_alpn_h2)};
    struct hello_spec h = {0x0303, ciphers, N(ciphers), exts, N(exts), false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    ck_assert_str_eq(ja3_raw(&g_ch), "771,,0-16,,");
    ck_assert_str_eq(ja4_raw(&g_ch, false), "t12d0002h2__");
    ck_ja4(&g_ch, false, "t12d0002h2_000000000000_000000000000");
    char c[13], want[TSC_FP_JA4_LEN];
    sha12("0000,0010", 9, c);
    snprintf(want, sizeof(want), "t12d0002h2_000000000000_%s", c);
    ck_ja4(&g_ch, true, want);
}
END_TEST

START_TEST(test_caps_and_long_lists)
{
    /* 5000 distinct ciphers in descending order and 120 extensions: counts
     * capped at 99, every value still in the lists (sorted by the heapsort path). */
    static uint16_t ciphers[5000];
    for (size_t i = 0; i < N(ciphers); i++) {
        ciphers[i] = (uint16_t)(0xf000 - 3 * i);
    }
    static struct ext_spec exts[120];
    for (size_t i = 0; i < N(exts); i++) {
        exts[i] = (struct ext_spec)EMPTY((uint16_t)(0x9000 - 7 * i));
    }
    struct hello_spec h = {0x0303, ciphers, N(ciphers), exts, N(exts), false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    /* Expected raw string written independently: ascending is reverse order here. */
    static char want[64 * 1024];
    size_t n = (size_t)snprintf(want, sizeof(want), "t12i9999%s_", "00");
    for (size_t i = N(ciphers); i-- > 0;) {
        uint16_t v = ciphers[i];
        if ((v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff)) {
            continue; /* 0xbaba .. 0xeaea are in the range: GREASE */
        }
        n += (size_t)snprintf(want + n, sizeof(want) - n, "%04x,", v);
    }
    n--; /* the last comma */
    n += (size_t)snprintf(want + n, sizeof(want) - n, "_");
    for (size_t i = N(exts); i-- > 0;) {
        n += (size_t)snprintf(want + n, sizeof(want) - n, "%04x%s", exts[i].type, i > 0 ? "," : "");
    }
    /* strcmp: a failure message of 30 KB would not fit Check's buffer. */
    ck_assert(strcmp(ja4_raw(&g_ch, false), want) == 0);
    char j[TSC_FP_JA4_LEN];
    ja4_from_raw(want, j);
    ck_ja4(&g_ch, false, j);
    /* Exactly 99 and 100: "99" both times; 9 gives "09". */
    for (size_t k = 0; k < 3; k++) {
        size_t cnt = k == 0 ? 9 : (k == 1 ? 99 : 100);
        struct hello_spec hk = {0x0303, ciphers, cnt, exts, cnt, false};
        parse_ch(g_msg, build_ch(&hk, g_msg), &g_ch);
        const char *r = ja4_raw(&g_ch, true);
        ck_assert_int_eq(strncmp(r, k == 0 ? "t12i090900_" : "t12i999900_", 11), 0);
    }
}
END_TEST

START_TEST(test_duplicates_sorted_kept)
{
    /* Duplicate values stay in the sorted list (the spec sorts, it does not dedupe). */
    static const uint16_t ciphers[] = {0x0035, 0x002f, 0x0035};
    static const struct ext_spec exts[] = {EMPTY(0x0017), EMPTY(0x0005), EMPTY(0x0017)};
    struct hello_spec h = {0x0303, ciphers, N(ciphers), exts, N(exts), false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    ck_assert_str_eq(ja4_raw(&g_ch, false), "t12i030300_002f,0035,0035_0005,0017,0017");
    ck_assert_str_eq(ja3_raw(&g_ch), "771,53-47-53,23-5-23,,");
}
END_TEST

/* ALPN rules of JA4.md, with its examples. */
static const char *alpn_of(const uint8_t *name, size_t len, bool present)
{
    static uint8_t body[300];
    static const uint16_t ciphers[] = {0x1301};
    body[0] = 0;
    body[1] = (uint8_t)(len + 1);
    body[2] = (uint8_t)len;
    if (len > 0) {
        memcpy(body + 3, name, len);
    }
    struct ext_spec e = {0x0010, body, len + 3};
    struct hello_spec h = {0x0303, ciphers, 1, &e, present ? 1 : 0, false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    const char *r = ja4_raw(&g_ch, false);
    static char two[3];
    memcpy(two, r + 8, 2);
    two[2] = '\0';
    return two;
}

START_TEST(test_ja4_alpn)
{
    ck_assert_str_eq(alpn_of((const uint8_t *)"h2", 2, true), "h2");
    ck_assert_str_eq(alpn_of((const uint8_t *)"http/1.1", 8, true), "h1");
    ck_assert_str_eq(alpn_of((const uint8_t *)"h", 1, true), "hh");
    ck_assert_str_eq(alpn_of((const uint8_t *)"", 0, true), "00"); /* empty first value */
    ck_assert_str_eq(alpn_of(NULL, 0, false), "00");                 /* no extension */
    static const uint8_t a1[] = {0xab};
    static const uint8_t a2[] = {0xab, 0xcd};
    static const uint8_t a3[] = {0x30, 0xab};
    static const uint8_t a4[] = {0x30, 0x31, 0xab, 0xcd};
    static const uint8_t a5[] = {0x30, 0xab, 0xcd, 0x31};
    ck_assert_str_eq(alpn_of(a1, 1, true), "ab");
    ck_assert_str_eq(alpn_of(a2, 2, true), "ad");
    ck_assert_str_eq(alpn_of(a3, 2, true), "3b");
    ck_assert_str_eq(alpn_of(a4, 4, true), "3d");
    ck_assert_str_eq(alpn_of(a5, 4, true), "01");
}
END_TEST

static const char *version_of(uint16_t legacy, const uint8_t *sv, size_t len)
{
    static const uint16_t ciphers[] = {0x1301};
    struct ext_spec e = {0x002b, sv, len};
    struct hello_spec h = {legacy, ciphers, 1, &e, sv != NULL ? 1 : 0, false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    static char two[3];
    memcpy(two, ja4_raw(&g_ch, false) + 1, 2);
    two[2] = '\0';
    return two;
}

START_TEST(test_ja4_version)
{
    static const uint8_t v13[] = {0x04, 0x03, 0x03, 0x03, 0x04}; /* not highest first */
    static const uint8_t only_grease[] = {0x02, 0x1a, 0x1a};
    static const uint8_t draft[] = {0x02, 0x7f, 0x1c};
    ck_assert_str_eq(version_of(0x0303, v13, sizeof(v13)), "13");
    ck_assert_str_eq(version_of(0x0303, x_versions, sizeof(x_versions)), "13");
    ck_assert_str_eq(version_of(0x0303, only_grease, sizeof(only_grease)), "12");
    ck_assert_str_eq(version_of(0x0303, draft, sizeof(draft)), "00");
    ck_assert_str_eq(version_of(0x0303, NULL, 0), "12");
    ck_assert_str_eq(version_of(0x0302, NULL, 0), "11");
    ck_assert_str_eq(version_of(0x0301, NULL, 0), "10");
    ck_assert_str_eq(version_of(0x0300, NULL, 0), "s3");
    ck_assert_str_eq(version_of(0x0305, NULL, 0), "00");
}
END_TEST

START_TEST(test_inner_lists_malformed)
{
    /* Known extensions whose vectors do not fit: the hello still parses (kept
     * raw), their lists are empty in the fingerprints, the types still count. */
    static const uint8_t bad_groups[] = {0x00, 0x08, 0x00, 0x1d};
    static const uint8_t bad_formats[] = {0x05, 0x00};
    static const uint8_t bad_sig[] = {0x00, 0x04, 0x04, 0x03};
    static const uint16_t ciphers[] = {0x1301};
    static const struct ext_spec exts[] = {EXT(0x000a, bad_groups), EXT(0x000b, bad_formats),
                                           EXT(0x000d, bad_sig)};
    struct hello_spec h = {0x0303, ciphers, 1, exts, N(exts), false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    ck_assert_str_eq(ja3_raw(&g_ch), "771,4865,10-11-13,,");
    ck_assert_str_eq(ja4_raw(&g_ch, false), "t12i010300_1301_000a,000b,000d");
}
END_TEST

START_TEST(test_first_of_duplicate_list_extensions)
{
    /* Two supported_groups: the first one's list is used (documented choice). */
    static const uint8_t g2[] = {0x00, 0x02, 0x00, 0x19};
    static const uint16_t ciphers[] = {0x1301};
    static const struct ext_spec exts[] = {EXT(0x000a, x_groups), EXT(0x000a, g2)};
    struct hello_spec h = {0x0303, ciphers, 1, exts, N(exts), false};
    parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
    ck_assert_str_eq(ja3_raw(&g_ch), "771,4865,10-10,29-23-24,");
}
END_TEST

START_TEST(test_truncated_hellos)
{
    /* The FoxIO example cut at every length: only complete forms parse. The
     * one legal cut (right after compression_methods, RFC 5246 7.4.1.2: no
     * extensions block) fingerprints as a hello without extensions. */
    build_foxio();
    struct hello_spec h = {0x0303, foxio_ciphers, N(foxio_ciphers), foxio_exts, N(foxio_exts),
                           false};
    size_t full = build_ch(&h, g_msg);
    size_t no_ext = 2 + 32 + 1 + 2 + 2 * N(foxio_ciphers) + 2;
    int parsed = 0;
    for (size_t cut = 0; cut < full; cut++) {
        struct tsc_cur c = tsc_cur_make(g_msg, cut);
        if (tsc_msg_client_hello_parse(&c, &g_ch) != TSC_OK) {
            continue;
        }
        parsed++;
        ck_assert_uint_eq(cut, no_ext);
        ck_assert_str_eq(ja3_raw(&g_ch), "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-"
                                         "49171-49172-156-157-47-53,,,");
        char j[TSC_FP_JA4_LEN];
        ck_assert_int_eq(tsc_fp_ja4(g_fp, &g_ch, false, j), TSC_OK);
        ck_assert_str_eq(j, "t12i150000_8daaf6152771_000000000000");
    }
    ck_assert_int_eq(parsed, 1);
}
END_TEST

START_TEST(test_ja3s)
{
    /* ServerHello: legacy_version, suite, extension types in wire order, GREASE out. */
    uint8_t b[128];
    size_t n = put16(b, 0, 0x0303);
    memset(b + n, 0x22, 32);
    n += 32;
    b[n++] = 0;
    n = put16(b, n, 0x1302);
    b[n++] = 0;
    n = put16(b, n, 16); /* extensions: 002b (4+2), 0a0a (4+0), 0033 (4+2) */
    n = put16(b, n, 0x002b);
    n = put16(b, n, 2);
    n = put16(b, n, 0x0304);
    n = put16(b, n, 0x0a0a);
    n = put16(b, n, 0);
    n = put16(b, n, 0x0033);
    n = put16(b, n, 2);
    n = put16(b, n, 0x001d);
    struct tsc_cur c = tsc_cur_make(b, n);
    ck_assert_int_eq(tsc_msg_server_hello_parse(&c, &g_sh), TSC_OK);
    ck_assert_str_eq(ja3s_raw(&g_sh), "771,4866,43-51");
    char h[TSC_FP_MD5_HEX_LEN];
    ck_assert_int_eq(tsc_fp_ja3s(g_fp, &g_sh, h), TSC_OK);
    /* The same value tshark 4.0 prints for pcaps/tls13-hello-retry-request.pcap frame 9. */
    ck_assert_str_eq(h, "15af977ce25de452b96affa2addb1036");

    /* No extensions block: the list is empty (tshark: "769,57,"). */
    n = put16(b, 0, 0x0301);
    memset(b + n, 0x22, 32);
    n += 32;
    b[n++] = 0;
    n = put16(b, n, 57);
    b[n++] = 0;
    c = tsc_cur_make(b, n);
    ck_assert_int_eq(tsc_msg_server_hello_parse(&c, &g_sh), TSC_OK);
    ck_assert_str_eq(ja3s_raw(&g_sh), "769,57,");
    ck_assert_int_eq(tsc_fp_ja3s(g_fp, &g_sh, h), TSC_OK);
    ck_assert_str_eq(h, "9a2c6bfd476184689a786457f33ece3a"); /* tshark, sslv2-tls-upgrade-01 */
}
END_TEST

START_TEST(test_digest_cache)
{
    /* 2000 different hellos, each fingerprinted twice, through 256 cache
     * slots: every answer equals an independent MD5 of the expected string,
     * whether it came from the cache or not (collisions replace slots). */
    for (unsigned round = 0; round < 2; round++) {
        for (unsigned i = 0; i < 2000; i++) {
            uint16_t ciphers[2] = {(uint16_t)(i + 1), 0x00ff};
            struct hello_spec h = {0x0303, ciphers, 2, NULL, 0, true};
            parse_ch(g_msg, build_ch(&h, g_msg), &g_ch);
            char want_s[64], want[33];
            snprintf(want_s, sizeof(want_s), "771,%u-255,,,", i + 1);
            md5_hex(want_s, want);
            ck_ja3(&g_ch, want);
        }
    }
}
END_TEST

/* ---- through the dissector: which hellos make the connection facts ---- */

static void feed(struct tsc_tls_conn *t, int dir, const uint8_t *p, size_t n)
{
    struct tsc_ts ts = {0, 0};
    tsc_tls_conn_data(t, dir, p, n, 1, ts, NULL);
}

/* One handshake record around a message body. */
static size_t record(uint8_t type, const uint8_t *body, size_t n, uint8_t *out)
{
    out[0] = 22;
    put16(out, 1, 0x0301);
    put16(out, 3, (uint16_t)(n + 4));
    out[5] = type;
    out[6] = 0;
    put16(out, 7, (uint16_t)n);
    memcpy(out + 9, body, n);
    return n + 9;
}

START_TEST(test_facts_first_hello_only)
{
    struct tsc_tls_config cfg;
    tsc_tls_config_default(&cfg);
    cfg.fp = g_fp;
    struct tsc_tls_conn *t = NULL;
    ck_assert_int_eq(tsc_tls_conn_new(&t, &cfg, 1), TSC_OK);
    static uint8_t body[4096], rec[4200];
    struct hello_spec h = {0x0303, foxio_ciphers, N(foxio_ciphers), foxio_exts, N(foxio_exts),
                           false};
    size_t n = build_ch(&h, body);
    feed(t, TSC_DIR_C2S, rec, record(1, body, n, rec));
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert_str_eq(f->ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    char ja3[33];
    parse_ch(body, n, &g_ch);
    ck_assert_int_eq(tsc_fp_ja3(g_fp, &g_ch, ja3), TSC_OK);
    ck_assert_str_eq(f->ja3, ja3);
    ck_assert_str_eq(f->ja3s, "");
    /* A second ClientHello (as after a HelloRetryRequest) does not replace them. */
    static const uint16_t c2[] = {0x002f};
    struct hello_spec h2 = {0x0303, c2, 1, NULL, 0, true};
    n = build_ch(&h2, body);
    feed(t, TSC_DIR_C2S, rec, record(1, body, n, rec));
    ck_assert_str_eq(f->ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    ck_assert_str_eq(f->ja3, ja3);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_facts_sslv2_hello_null)
{
    /* An SSLv2-compatible CLIENT-HELLO (RFC 5246 E.2) gets no JA3 / JA4, as in tshark. */
    struct tsc_tls_config cfg;
    tsc_tls_config_default(&cfg);
    cfg.fp = g_fp;
    struct tsc_tls_conn *t = NULL;
    ck_assert_int_eq(tsc_tls_conn_new(&t, &cfg, 1), TSC_OK);
    static const uint8_t v2[] = {
        0x80, 0x1f,       /* 2-byte header, length 31 */
        0x01,             /* CLIENT-HELLO */
        0x03, 0x01,       /* version TLS 1.0 */
        0x00, 0x06,       /* cipher_spec_length */
        0x00, 0x00,       /* session_id_length */
        0x00, 0x10,       /* challenge_length */
        0x00, 0x00, 0x2f, /* TLS_RSA_WITH_AES_128_CBC_SHA */
        0x00, 0x00, 0x35, /* TLS_RSA_WITH_AES_256_CBC_SHA */
        1,    2,    3,    4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    };
    feed(t, TSC_DIR_C2S, v2, sizeof(v2));
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert_uint_eq(f->n_hellos, 1);
    ck_assert(f->hellos[0].sslv2);
    ck_assert_str_eq(f->ja3, "");
    ck_assert_str_eq(f->ja4, "");
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_facts_without_context)
{
    /* cfg.fp NULL (library users that do not want them): nothing computed. */
    struct tsc_tls_config cfg;
    tsc_tls_config_default(&cfg);
    struct tsc_tls_conn *t = NULL;
    ck_assert_int_eq(tsc_tls_conn_new(&t, &cfg, 1), TSC_OK);
    static uint8_t body[4096], rec[4200];
    struct hello_spec h = {0x0303, foxio_ciphers, N(foxio_ciphers), foxio_exts, N(foxio_exts),
                           false};
    size_t n = build_ch(&h, body);
    feed(t, TSC_DIR_C2S, rec, record(1, body, n, rec));
    ck_assert_str_eq(tsc_tls_conn_facts(t)->ja3, "");
    tsc_tls_conn_free(t);
}
END_TEST

static Suite *fp_suite(void)
{
    Suite *s = suite_create("fingerprint");
    TCase *valid = tcase_create("valid");
    tcase_add_checked_fixture(valid, setup, teardown);
    tcase_add_test(valid, test_ja4_foxio_example);
    tcase_add_test(valid, test_ja4_foxio_no_sigalgs);
    tcase_add_test(valid, test_chrome_published);
    tcase_add_test(valid, test_ja3_readme_examples);
    tcase_add_test(valid, test_grease_everywhere);
    tcase_add_test(valid, test_ja4_alpn);
    tcase_add_test(valid, test_ja4_version);
    tcase_add_test(valid, test_ja3s);
    tcase_add_test(valid, test_facts_first_hello_only);
    tcase_add_test(valid, test_facts_sslv2_hello_null);
    tcase_add_test(valid, test_facts_without_context);
    suite_add_tcase(s, valid);
    TCase *limits = tcase_create("limits");
    tcase_add_checked_fixture(limits, setup, teardown);
    tcase_add_test(limits, test_no_extensions);
    tcase_add_test(limits, test_empty_lists);
    tcase_add_test(limits, test_caps_and_long_lists);
    tcase_add_test(limits, test_duplicates_sorted_kept);
    tcase_add_test(limits, test_digest_cache);
    suite_add_tcase(s, limits);
    TCase *malformed = tcase_create("malformed");
    tcase_add_checked_fixture(malformed, setup, teardown);
    tcase_add_test(malformed, test_inner_lists_malformed);
    tcase_add_test(malformed, test_first_of_duplicate_list_extensions);
    tcase_add_test(malformed, test_truncated_hellos);
    suite_add_tcase(s, malformed);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(fp_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
