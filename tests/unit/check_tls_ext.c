/*
 * Extension parsers (src/tls/ext_*.c) and the extension block: every
 * extension in its contexts, exact errors, every truncation, duplicates,
 * "not allowed in this message", GREASE and the per-block cap.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/msg.h"
#include "tls/names.h"
#include "test_util.h"


struct xcase {
    const char *name;
    uint16_t type;
    enum tsc_ext_ctx ctx;
    const char *hex; /* extension_data */
    bool any_cut_ok; /* opaque bodies: every cut is still valid */
};

static const struct xcase xcases[] = {
    /* ServerNameList 000e { 00 0004 "test" | 00 0005 "other" } */
    {"sni", 0, TSC_CTX_CH,
     "000f"
     "00000474657374"
     "00000561626364"
     "65",
     false},
    {"sni_sh_empty", 0, TSC_CTX_SH, "", false},
    /* max_fragment_length 2^12 (4) */
    {"mfl", 1, TSC_CTX_CH, "04", false},
    /* status_request: ocsp 01 | responder_id_list 0000 | request_extensions 0000 */
    {"status_request", 5, TSC_CTX_CH,
     "01"
     "0000"
     "0000",
     false},
    /* TLS 1.3 CertificateEntry: ocsp 01 | OCSPResponse 000002 3000 */
    {"status_request_ct", 5, TSC_CTX_CT,
     "01"
     "0000023000",
     false},
    /* named_group_list 0006 { x25519 001d, secp256r1 0017, GREASE 0a0a } */
    {"supported_groups", 10, TSC_CTX_CH,
     "0006"
     "001d"
     "0017"
     "0a0a",
     false},
    /* ec_point_format_list 02 { 00 01 } */
    {"ec_point_formats", 11, TSC_CTX_CH, "020001", false},
    /* supported_signature_algorithms 0004 { 0403 0804 } */
    {"signature_algorithms", 13, TSC_CTX_CH, "000404030804", false},
    {"signature_algorithms_cert", 50, TSC_CTX_CR, "00020401", false},
    /* HeartbeatMode peer_allowed_to_send 01 */
    {"heartbeat", 15, TSC_CTX_CH, "01", false},
    /* ProtocolNameList 000c { 02 "h2" | 08 "http/1.1" } */
    {"alpn", 16, TSC_CTX_CH,
     "000c"
     "026832"
     "08687474702f312e31",
     false},
    {"alpn_sh", 16, TSC_CTX_SH, "0003026832", false},
    {"sct_ch", 18, TSC_CTX_CH, "", false},
    /* SignedCertificateTimestampList 0005 { 0003 aabbcc } */
    {"sct_sh", 18, TSC_CTX_SH,
     "0005"
     "0003aabbcc",
     false},
    {"padding", 21, TSC_CTX_CH, "000000", true},
    {"encrypt_then_mac", 22, TSC_CTX_CH, "", false},
    {"extended_master_secret", 23, TSC_CTX_SH, "", false},
    /* algorithms 02 { brotli 0002 } */
    {"compress_certificate", 27, TSC_CTX_CH, "020002", false},
    {"record_size_limit", 28, TSC_CTX_CH, "4001", false},
    {"session_ticket", 35, TSC_CTX_CH, "aabbccdd", true},
    /* identities 000a { 0004 01020304 | age 00000001 } binders 0021 { 20 ab*32 } */
    {"pre_shared_key", 41, TSC_CTX_CH,
     "000a"
     "000401020304"
     "00000001"
     "0021"
     "20"
     "abababababababababababababababababababababababababababababababab",
     false},
    {"pre_shared_key_sh", 41, TSC_CTX_SH, "0000", false},
    {"early_data_ch", 42, TSC_CTX_CH, "", false},
    {"early_data_nst", 42, TSC_CTX_NST, "00004000", false},
    /* versions 04 { 0304 0303 } */
    {"supported_versions", 43, TSC_CTX_CH, "0403040303", false},
    {"supported_versions_sh", 43, TSC_CTX_SH, "0304", false},
    /* cookie 0003 a1a2a3 */
    {"cookie", 44, TSC_CTX_HRR, "0003a1a2a3", false},
    /* ke_modes 01 { psk_dhe_ke 01 } */
    {"psk_key_exchange_modes", 45, TSC_CTX_CH, "0101", false},
    /* client_shares 000b { 001d 0002 aabb | 0017 0001 cc } */
    {"key_share_ch", 51, TSC_CTX_CH,
     "000b"
     "001d0002aabb"
     "00170001cc",
     false},
    {"key_share_sh", 51, TSC_CTX_SH, "001d0002aabb", false},
    {"key_share_hrr", 51, TSC_CTX_HRR, "0017", false},
    /* outer 00 | kdf 0001 | aead 0001 | config_id 2a | enc 0002 e1e2 | payload 0003 p1p2p3 */
    {"ech_outer", 0xfe0d, TSC_CTX_CH,
     "00"
     "0001"
     "0001"
     "2a"
     "0002e1e2"
     "0003a1a2a3",
     false},
    {"ech_ee", 0xfe0d, TSC_CTX_EE, "0002abcd", false},
    /* renegotiated_connection 00 */
    {"renegotiation_info", 0xff01, TSC_CTX_SH, "00", false},
};

#define N_X ((int)(sizeof(xcases) / sizeof(xcases[0])))

static struct tsc_ext g_e;
static uint8_t g_b[512];

static enum tsc_err xparse(const struct xcase *c, size_t cut)
{
    size_t n = unhex(c->hex, g_b, sizeof(g_b));
    memset(&g_e, 0, sizeof(g_e));
    g_e.type = c->type;
    g_e.data.p = g_b;
    g_e.data.len = cut < n ? cut : n;
    return tsc_ext_parse(c->ctx, &g_e);
}

static const struct tsc_ext *xok(const char *name)
{
    for (int i = 0; i < N_X; i++) {
        if (strcmp(xcases[i].name, name) == 0) {
            ck_assert_int_eq(xparse(&xcases[i], SIZE_MAX), TSC_OK);
            ck_assert(g_e.known);
            return &g_e;
        }
    }
    ck_abort_msg("no case %s", name);
    return NULL;
}

START_TEST(test_all_valid)
{
    const struct xcase *c = &xcases[_i];
    enum tsc_err e = xparse(c, SIZE_MAX);
    ck_assert_msg(e == TSC_OK, "%s: %s", c->name, tsc_err_name(e));
    ck_assert_msg(g_e.known, "%s", c->name);
    ck_assert_msg(tsc_ext_allowed(c->type, c->ctx), "%s", c->name);
}
END_TEST

START_TEST(test_fields)
{
    const struct tsc_ext *e = xok("sni");
    ck_assert_uint_eq(e->u.sni.n_names, 2);
    ck_assert_int_eq(memcmp(e->u.sni.host.p, "test", 4), 0);
    e = xok("supported_groups");
    ck_assert_uint_eq(e->u.u16s.n, 3);
    ck_assert(tsc_is_grease((uint16_t)((e->u.u16s.list.p[4] << 8) | e->u.u16s.list.p[5])));
    ck_assert(!tsc_is_grease(0x001d));
    e = xok("alpn");
    ck_assert_uint_eq(e->u.alpn.n, 2);
    e = xok("key_share_ch");
    ck_assert_uint_eq(e->u.ks_client.n, 2);
    e = xok("key_share_sh");
    ck_assert_uint_eq(e->u.ks_server.group, 0x001d);
    e = xok("key_share_hrr");
    ck_assert_uint_eq(e->u.ks_hrr_group, 0x0017);
    e = xok("pre_shared_key");
    ck_assert_uint_eq(e->u.psk_client.n_identities, 1);
    ck_assert_uint_eq(e->u.psk_client.n_binders, 1);
    e = xok("pre_shared_key_sh");
    ck_assert_uint_eq(e->u.psk_selected, 0);
    e = xok("supported_versions");
    ck_assert_uint_eq(e->u.u16s.n, 2);
    e = xok("supported_versions_sh");
    ck_assert_uint_eq(e->u.selected_version, 0x0304);
    e = xok("early_data_nst");
    ck_assert_uint_eq(e->u.early_data.max_early_data_size, 0x4000);
    e = xok("ech_outer");
    ck_assert_uint_eq(e->u.ech.config_id, 0x2a);
    ck_assert_uint_eq(e->u.ech.enc.len, 2);
    ck_assert_uint_eq(e->u.ech.payload.len, 3);
    e = xok("record_size_limit");
    ck_assert_uint_eq(e->u.record_size_limit, 0x4001);
    e = xok("padding");
    ck_assert(e->u.padding.all_zero);
    e = xok("status_request");
    ck_assert_uint_eq(e->u.status_request.status_type, 1);
    e = xok("mfl");
    ck_assert_uint_eq(e->u.max_fragment_length, 4);
}
END_TEST

/* ---- malformed ---- */

static enum tsc_err xhex(uint16_t type, enum tsc_ext_ctx ctx, const char *hex)
{
    struct xcase c = {"x", type, ctx, hex, false};
    return xparse(&c, SIZE_MAX);
}

START_TEST(test_malformed)
{
    ck_assert_int_eq(xhex(1, TSC_CTX_CH, "05"), TSC_ERR_ILLEGAL);                /* RFC 6066 4 */
    ck_assert_int_eq(xhex(15, TSC_CTX_CH, "03"), TSC_ERR_ILLEGAL);               /* RFC 6520 2 */
    ck_assert_int_eq(xhex(28, TSC_CTX_CH, "003f"), TSC_ERR_ILLEGAL);             /* RFC 8449 4 */
    ck_assert_int_eq(xhex(10, TSC_CTX_CH, "0003001d00"), TSC_ERR_DECODE);        /* odd list */
    ck_assert_int_eq(xhex(10, TSC_CTX_CH, "0000"), TSC_ERR_DECODE);              /* <2..> */
    ck_assert_int_eq(xhex(0, TSC_CTX_SH, "00"), TSC_ERR_DECODE);                 /* SH: empty */
    ck_assert_int_eq(xhex(22, TSC_CTX_CH, "00"), TSC_ERR_DECODE);                /* RFC 7366 */
    ck_assert_int_eq(xhex(16, TSC_CTX_SH, "0006026832026831"), TSC_ERR_ILLEGAL); /* 2 names */
    ck_assert_int_eq(xhex(16, TSC_CTX_CH, "0003006832"), TSC_ERR_DECODE);        /* empty name */
    ck_assert_int_eq(xhex(43, TSC_CTX_CH, "03030403"), TSC_ERR_DECODE);          /* odd */
    ck_assert_int_eq(xhex(43, TSC_CTX_SH, "030403"), TSC_ERR_DECODE);            /* trailing */
    ck_assert_int_eq(xhex(45, TSC_CTX_CH, "00"), TSC_ERR_DECODE);                /* <1..255> */
    ck_assert_int_eq(xhex(44, TSC_CTX_HRR, "0000"), TSC_ERR_DECODE);             /* <1..> */
    ck_assert_int_eq(xhex(42, TSC_CTX_EE, "00"), TSC_ERR_DECODE);                /* Empty */
    /* two identities, one binder */
    ck_assert_int_eq(xhex(41, TSC_CTX_CH,
                          "0010"
                          "0002aaaa00000001"
                          "0002bbbb00000002"
                          "0021"
                          "20"
                          "abababababababababababababababababababababababababababababababab"),
                     TSC_ERR_ILLEGAL);
    /* binder of 31 bytes (PskBinderEntry<32..255>) */
    ck_assert_int_eq(xhex(41, TSC_CTX_CH,
                          "0008"
                          "0002aaaa00000001"
                          "0020"
                          "1f"
                          "ababababababababababababababababababababababababababababababab"),
                     TSC_ERR_DECODE);
    ck_assert_int_eq(xhex(0xfe0d, TSC_CTX_CH, "02"), TSC_ERR_ILLEGAL);      /* ECH type */
    ck_assert_int_eq(xhex(51, TSC_CTX_CH, "0004001d0000"), TSC_ERR_DECODE); /* empty share */
}
END_TEST

/* ---- truncated: every cut of every body ---- */

START_TEST(test_truncated)
{
    for (int i = 0; i < N_X; i++) {
        const struct xcase *c = &xcases[i];
        size_t n = unhex(c->hex, g_b, sizeof(g_b));
        if ((size_t)_i >= n) {
            continue;
        }
        enum tsc_err e = xparse(c, (size_t)_i);
        if (c->any_cut_ok) {
            ck_assert_msg(e == TSC_OK, "%s cut %d: %s", c->name, _i, tsc_err_name(e));
        } else {
            ck_assert_msg(e == TSC_ERR_TRUNCATED || e == TSC_ERR_DECODE, "%s cut %d: %s", c->name,
                          _i, tsc_err_name(e));
        }
    }
}
END_TEST

/* ---- extension blocks ---- */

static enum tsc_err block(const char *hex, enum tsc_ext_ctx ctx, struct tsc_ext_list *l)
{
    size_t n = unhex(hex, g_b, sizeof(g_b));
    struct tsc_cur c = tsc_cur_make(g_b, n);
    enum tsc_err e = tsc_ext_list_parse(&c, ctx, l);
    if (e == TSC_OK) {
        ck_assert_uint_eq(c.left, 0);
    }
    return e;
}

static struct tsc_ext_list g_l;

START_TEST(test_block_duplicate_and_context)
{
    /* 0017 0000 (EMS) twice, GREASE 1a1a 0000, unknown 7777 0001 00,
     * padding (ClientHello only) in a ServerHello */
    ck_assert_int_eq(block("0015"
                           "00170000"
                           "00170000"
                           "1a1a0000"
                           "7777000100"
                           "00150000",
                           TSC_CTX_SH, &g_l),
                     TSC_OK);
    ck_assert_uint_eq(g_l.n, 5);
    ck_assert(g_l.has_duplicate);
    ck_assert(g_l.e[0].duplicate);
    ck_assert(g_l.e[1].duplicate);
    ck_assert(!g_l.e[2].known);
    ck_assert(!g_l.e[3].known);
    ck_assert_uint_eq(g_l.e[3].data.len, 1);
    ck_assert(g_l.has_not_allowed);
    ck_assert(g_l.e[4].not_allowed);
    ck_assert(!g_l.e[0].not_allowed);
    ck_assert(!tsc_ext_allowed(TSC_EXT_KEY_SHARE, TSC_CTX_EE));
    ck_assert(tsc_ext_allowed(0x7777, TSC_CTX_EE));
}
END_TEST

START_TEST(test_block_malformed)
{
    /* block length larger than the data */
    ck_assert_int_eq(block("0010"
                           "00170000",
                           TSC_CTX_CH, &g_l),
                     TSC_ERR_TRUNCATED);
    /* extension length runs past the block */
    ck_assert_int_eq(block("0004"
                           "00170004",
                           TSC_CTX_CH, &g_l),
                     TSC_ERR_TRUNCATED);
    /* a known extension with a bad body is kept raw and flagged; the block parses */
    ck_assert_int_eq(block("0009"
                           "0016000100"
                           "00170000",
                           TSC_CTX_CH, &g_l),
                     TSC_OK);
    ck_assert(g_l.e[0].malformed);
    ck_assert(!g_l.e[0].known);
    ck_assert(!g_l.e[1].malformed);
    ck_assert_int_eq(g_l.ext_err, TSC_ERR_DECODE);
    ck_assert_uint_eq(g_l.ext_err_type, TSC_EXT_ENCRYPT_THEN_MAC);
}
END_TEST

START_TEST(test_block_truncated)
{
    const char *hex = "0013"
                      "00170000"
                      "000a0004"
                      "0002001d"
                      "0010000502"
                      "6832"
                      "00";
    size_t n = unhex(hex, g_b, sizeof(g_b));
    ck_assert_uint_gt((size_t)n, (size_t)_i);
    struct tsc_cur c = tsc_cur_make(g_b, (size_t)_i);
    enum tsc_err e = tsc_ext_list_parse(&c, TSC_CTX_CH, &g_l);
    ck_assert_msg(e == TSC_ERR_TRUNCATED || e == TSC_ERR_DECODE, "cut %d: %s", _i, tsc_err_name(e));
}
END_TEST

START_TEST(test_block_cap)
{
    /* 80 empty unknown extensions 0100..014f: 64 kept, 80 counted, no duplicate. */
    char hex[1024];
    strcpy(hex, "0140");
    for (int i = 0; i < 80; i++) {
        char one[16];
        snprintf(one, sizeof(one), "01%02x0000", i);
        strcat(hex, one);
    }
    ck_assert_int_eq(block(hex, TSC_CTX_CH, &g_l), TSC_OK);
    ck_assert_uint_eq(g_l.n, 80);
    ck_assert_uint_eq(g_l.n_kept, TSC_MAX_EXTS);
    ck_assert(!g_l.has_duplicate);
    ck_assert_uint_eq(g_l.raw.len, 320);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tls_ext");
    TCase *tc = tcase_create("valid");
    tcase_add_loop_test(tc, test_all_valid, 0, N_X);
    tcase_add_test(tc, test_fields);
    tcase_add_test(tc, test_block_duplicate_and_context);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_block_malformed);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_loop_test(tc, test_truncated, 0, 48);
    tcase_add_loop_test(tc, test_block_truncated, 0, 21);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, test_block_cap);
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
