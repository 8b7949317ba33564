/*
 * Handshake message parsers (src/tls/msg_*.c, sslv2.c) through tsc_msg_parse:
 * every message type with its fields, exact errors for malformed bodies, and
 * every truncation of every body.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/msg.h"
#include "tls/tls.h"
#include "test_util.h"

#define H8(x) x x x x x x x x
#define H16(x) H8(x) H8(x)
#define H32(x) H16(x) H16(x)
#define HRR_RANDOM "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"

static uint8_t g_buf[4096];


struct mcase {
    const char *name;
    uint8_t type;
    bool sslv2;
    uint16_t version;
    uint16_t suite; /* 0: no suite known */
    bool tls13;
    const char *hex;
    int ok_cut; /* a shorter length the RFC allows (-1: none) */
};

/* ---- bodies (field layout in comments) ---- */

/* 0303 | random 11*32 | sid 00 | suites 0004 c02f 0035 | comp 01 00 |
 * ext 000d: server_name 0000 0009 { 0007 { 00 0004 "test" } } */
#define B_CH                                                                                       \
    "0303" H32("11") "00"                                                                          \
                     "0004c02f0035"                                                                \
                     "0100"                                                                        \
                     "000d"                                                                        \
                     "00000009"                                                                    \
                     "0007"                                                                        \
                     "00"                                                                          \
                     "0004"                                                                        \
                     "74657374"
/* 0303 | random 22*32 | sid 00 | c02f | comp 00 | ext 0005: renegotiation_info ff01 0001 00 */
#define B_SH12                                                                                     \
    "0303" H32("22") "00"                                                                          \
                     "c02f"                                                                        \
                     "00"                                                                          \
                     "0005ff01000100"
/* ... 1301 | 00 | ext 0012: supported_versions 002b 0002 0304,
 * key_share 0033 0008 { 001d 0004 01020304 } */
#define B_SH13                                                                                     \
    "0303" H32("22") "00"                                                                          \
                     "1301"                                                                        \
                     "00"                                                                          \
                     "0012"                                                                        \
                     "002b00020304"                                                                \
                     "00330008001d000401020304"
/* HRR random | 1301 | ext 000c: supported_versions 0304, key_share selected_group 001d */
#define B_HRR                                                                                      \
    "0303" HRR_RANDOM "00"                                                                         \
    "1301"                                                                                         \
    "00"                                                                                           \
    "000c"                                                                                         \
    "002b00020304"                                                                                 \
    "00330002001d"
/* draft 16 ServerHello: 7f10 | random | 1301 | ext 0000 (no session id, no compression) */
#define B_SHD16                                                                                    \
    "7f10" H32("22") "1301"                                                                        \
                     "0000"
/* certificate_list 000006 { 000003 aabbcc } */
#define B_CERT12                                                                                   \
    "000006"                                                                                       \
    "000003aabbcc"
/* context 00 | list 00000c { cert 000003 aabbcc | ext 0004 { SCT 0012 0000 } } */
#define B_CERT13                                                                                   \
    "00"                                                                                           \
    "00000c"                                                                                       \
    "000003aabbcc"                                                                                 \
    "0004"                                                                                         \
    "00120000"
/* named_curve 03 | secp256r1 0017 | point 04 01020304 | rsa_pkcs1_sha256 0401 | sig 0002 abcd */
#define B_SKE_ECDHE                                                                                \
    "03"                                                                                           \
    "0017"                                                                                         \
    "0401020304"                                                                                   \
    "0401"                                                                                         \
    "0002abcd"
/* dh_p 0001 17 | dh_g 0001 02 | dh_Ys 0002 abcd | signature 0002 1234 (TLS 1.0: no algorithm) */
#define B_SKE_DHE                                                                                  \
    "000117"                                                                                       \
    "000102"                                                                                       \
    "0002abcd"                                                                                     \
    "00021234"
/* psk_identity_hint 0004 "hint" */
#define B_SKE_PSK "000468696e74"
/* rsa_modulus 0002 c001 | rsa_exponent 0001 03 | signature 0002 5555 (SSLv3) */
#define B_SKE_RSAEXP                                                                               \
    "0002c001"                                                                                     \
    "000103"                                                                                       \
    "00025555"
/* EncryptedPreMasterSecret 0004 deadbeef */
#define B_CKE_RSA "0004deadbeef"
#define B_CKE_ECDHE "0401020304"
#define B_CKE_DHE "0002abcd"
/* psk_identity 0003 "cli" */
#define B_CKE_PSK "0003636c69"
/* types 02 0140 | sig algs 0004 0401 0503 | CAs 0006 { 0004 30023000 } */
#define B_CR12                                                                                     \
    "020140"                                                                                       \
    "000404010503"                                                                                 \
    "0006"                                                                                         \
    "000430023000"
/* context 00 | ext 0008 { signature_algorithms 000d 0004 { 0002 0403 } } */
#define B_CR13                                                                                     \
    "00"                                                                                           \
    "0008"                                                                                         \
    "000d0004"                                                                                     \
    "00020403"
/* lifetime 00000e10 | ticket 0004 01020304 */
#define B_NST12                                                                                    \
    "00000e10"                                                                                     \
    "000401020304"
/* lifetime | age_add 11223344 | nonce 01 00 | ticket 0004 01020304 |
 * ext 0008 { early_data 002a 0004 00004000 } */
#define B_NST13                                                                                    \
    "00000e10"                                                                                     \
    "11223344"                                                                                     \
    "0100"                                                                                         \
    "000401020304"                                                                                 \
    "0008"                                                                                         \
    "002a0004"                                                                                     \
    "00004000"
/* ext 0009 { ALPN 0010 0005 { 0003 { 02 "h2" } } } */
#define B_EE                                                                                       \
    "0009"                                                                                         \
    "00100005"                                                                                     \
    "0003026832"
/* ecdsa_secp256r1_sha256? 0804 rsa_pss_rsae_sha256 | signature 0003 aabbcc */
#define B_CV                                                                                       \
    "0804"                                                                                         \
    "0003aabbcc"
#define B_FIN "0102030405060708090a0b0c"
/* ocsp 01 | response 000003 a1a2a3 */
#define B_CS                                                                                       \
    "01"                                                                                           \
    "000003a1a2a3"
#define B_KU "01"
/* brotli 0002 | uncompressed 000100 | compressed 000003 a1a2a3 */
#define B_CC                                                                                       \
    "0002"                                                                                         \
    "000100"                                                                                       \
    "000003a1a2a3"
/* server_version feff | cookie 02 abcd */
#define B_HVR                                                                                      \
    "feff"                                                                                         \
    "02abcd"
#define B_MH "a1a2"
/* (after msg_type 01) version 0301 | specs len 0003 | sid len 0000 | challenge 0010 |
 * 010080 | challenge ab*16 */
#define B_V2CH                                                                                     \
    "0301"                                                                                         \
    "0003"                                                                                         \
    "0000"                                                                                         \
    "0010"                                                                                         \
    "010080" H16("ab")
/* (after msg_type 04) hit 00 | cert type 01 | 0002 | cert 0003 | specs 0003 | cid 0010 |
 * aabbcc | 010080 | cd*16 */
#define B_V2SH                                                                                     \
    "00"                                                                                           \
    "01"                                                                                           \
    "0002"                                                                                         \
    "0003"                                                                                         \
    "0003"                                                                                         \
    "0010"                                                                                         \
    "aabbcc"                                                                                       \
    "010080" H16("cd")

static const struct mcase cases[] = {
    {"client_hello", 1, false, 0, 0, false, B_CH, 43},
    {"server_hello12", 2, false, 0, 0, false, B_SH12, 38},
    {"server_hello13", 2, false, 0, 0, false, B_SH13, 38},
    {"hello_retry_request", 2, false, 0, 0, false, B_HRR, 38},
    {"server_hello_draft16", 2, false, 0, 0, false, B_SHD16, -1},
    {"certificate12", 11, false, 0x0303, 0xc02f, false, B_CERT12, -1},
    {"certificate13", 11, false, 0x0304, 0x1301, true, B_CERT13, -1},
    {"ske_ecdhe", 12, false, 0x0303, 0xc02f, false, B_SKE_ECDHE, -1},
    {"ske_dhe", 12, false, 0x0301, 0x0033, false, B_SKE_DHE, -1},
    {"ske_psk", 12, false, 0x0303, 0x008c, false, B_SKE_PSK, -1},
    {"ske_rsa_export", 12, false, 0x0300, 0x0003, false, B_SKE_RSAEXP, -1},
    {"cke_rsa", 16, false, 0x0303, 0x002f, false, B_CKE_RSA, -1},
    {"cke_ecdhe", 16, false, 0x0303, 0xc02f, false, B_CKE_ECDHE, -1},
    {"cke_dhe", 16, false, 0x0303, 0x0033, false, B_CKE_DHE, -1},
    {"cke_psk", 16, false, 0x0303, 0x008c, false, B_CKE_PSK, -1},
    {"certificate_request12", 13, false, 0x0303, 0xc02f, false, B_CR12, -1},
    {"certificate_request13", 13, false, 0x0304, 0x1301, true, B_CR13, -1},
    {"new_session_ticket12", 4, false, 0x0303, 0xc02f, false, B_NST12, -1},
    {"new_session_ticket13", 4, false, 0x0304, 0x1301, true, B_NST13, -1},
    {"encrypted_extensions", 8, false, 0x0304, 0x1301, true, B_EE, -1},
    {"certificate_verify", 15, false, 0x0303, 0xc02f, false, B_CV, -1},
    {"certificate_status", 22, false, 0x0303, 0xc02f, false, B_CS, -1},
    {"key_update", 24, false, 0x0304, 0x1301, true, B_KU, -1},
    {"compressed_certificate", 25, false, 0x0304, 0x1301, true, B_CC, -1},
    {"hello_verify_request", 3, false, 0, 0, false, B_HVR, -1},
    {"sslv2_client_hello", 1, true, 0, 0, false, B_V2CH, -1},
    {"sslv2_server_hello", 4, true, 0, 0, false, B_V2SH, -1},
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

static enum tsc_err parse(struct tsc_hs_msg *m, const struct mcase *c, size_t cut)
{
    size_t n = unhex(c->hex, g_buf, sizeof(g_buf));
    if (cut < n) {
        n = cut;
    }
    memset(m, 0, sizeof(*m));
    m->type = c->type;
    m->sslv2 = c->sslv2;
    m->length = (uint32_t)n;
    m->body.p = g_buf;
    m->body.len = n;
    m->ctx.version = c->version;
    m->ctx.cipher_suite = c->suite;
    m->ctx.have_suite = c->suite != 0;
    m->ctx.tls13 = c->tls13;
    return tsc_msg_parse(m);
}

static const struct mcase *find(const char *name)
{
    for (int i = 0; i < N_CASES; i++) {
        if (strcmp(cases[i].name, name) == 0) {
            return &cases[i];
        }
    }
    ck_abort_msg("no case %s", name);
    return NULL;
}

static struct tsc_hs_msg g_m;

static struct tsc_hs_msg *ok(const char *name)
{
    ck_assert_int_eq(parse(&g_m, find(name), SIZE_MAX), TSC_OK);
    ck_assert(g_m.parsed);
    return &g_m;
}

/* ---- valid ---- */

START_TEST(test_all_parse)
{
    const struct mcase *c = &cases[_i];
    enum tsc_err e = parse(&g_m, c, SIZE_MAX);
    ck_assert_msg(e == TSC_OK, "%s: %s", c->name, tsc_err_name(e));
}
END_TEST

START_TEST(test_client_hello_fields)
{
    struct tsc_hs_msg *m = ok("client_hello");
    ck_assert_uint_eq(m->u.ch.legacy_version, 0x0303);
    ck_assert_uint_eq(m->u.ch.random.len, 32);
    ck_assert_uint_eq(m->u.ch.session_id.len, 0);
    ck_assert_uint_eq(m->u.ch.n_suites, 2);
    ck_assert_uint_eq(m->u.ch.compression_methods.len, 1);
    ck_assert_uint_eq(m->u.ch.ext.n, 1);
    const struct tsc_ext *e = tsc_ext_find(&m->u.ch.ext, 0);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->u.sni.host.len, 4);
    ck_assert_int_eq(memcmp(e->u.sni.host.p, "test", 4), 0);
    /* Without extensions (RFC 5246 7.4.1.2 allows it). */
    ck_assert_int_eq(parse(&g_m, find("client_hello"), 43), TSC_OK);
    ck_assert(!g_m.u.ch.ext.present);
}
END_TEST

START_TEST(test_server_hello_fields)
{
    struct tsc_hs_msg *m = ok("server_hello12");
    ck_assert_uint_eq(m->u.sh.cipher_suite, 0xc02f);
    ck_assert(!m->u.sh.hrr);
    ck_assert_uint_eq(m->u.sh.selected_version, 0);
    m = ok("server_hello13");
    ck_assert_uint_eq(m->u.sh.selected_version, 0x0304);
    const struct tsc_ext *ks = tsc_ext_find(&m->u.sh.ext, TSC_EXT_KEY_SHARE);
    ck_assert_uint_eq(ks->u.ks_server.group, 0x001d);
    ck_assert_uint_eq(ks->u.ks_server.key_exchange.len, 4);
    m = ok("hello_retry_request");
    ck_assert(m->u.sh.hrr);
    ks = tsc_ext_find(&m->u.sh.ext, TSC_EXT_KEY_SHARE);
    ck_assert_uint_eq(ks->u.ks_hrr_group, 0x001d);
    m = ok("server_hello_draft16");
    ck_assert_uint_eq(m->u.sh.legacy_version, 0x7f10);
    ck_assert_uint_eq(m->u.sh.cipher_suite, 0x1301);
    ck_assert(tsc_version_is_tls13(0x7f10));
    ck_assert(!tsc_version_is_tls13(0x0303));
}
END_TEST

START_TEST(test_certificate_fields)
{
    struct tsc_hs_msg *m = ok("certificate12");
    ck_assert_uint_eq(m->u.cert.n, 1);
    ck_assert_uint_eq(m->u.cert.c[0].der.len, 3);
    ck_assert_uint_eq(m->u.cert.c[0].der.p[2], 0xcc);
    m = ok("certificate13");
    ck_assert(m->u.cert.tls13);
    ck_assert_uint_eq(m->u.cert.n, 1);
    ck_assert_uint_eq(m->u.cert.c[0].extensions.len, 4);
}
END_TEST

START_TEST(test_kex_fields)
{
    struct tsc_hs_msg *m = ok("ske_ecdhe");
    ck_assert_int_eq(m->u.ske.kex, TSC_KEX_ECDHE);
    ck_assert_uint_eq(m->u.ske.named_curve, 0x0017);
    ck_assert_uint_eq(m->u.ske.point.len, 4);
    ck_assert(m->u.ske.has_sig_alg);
    ck_assert_uint_eq(m->u.ske.sig_alg, 0x0401);
    m = ok("ske_dhe");
    ck_assert_int_eq(m->u.ske.kex, TSC_KEX_DHE);
    ck_assert(!m->u.ske.has_sig_alg);
    ck_assert_uint_eq(m->u.ske.dh_ys.len, 2);
    m = ok("ske_psk");
    ck_assert_int_eq(m->u.ske.kex, TSC_KEX_PSK);
    ck_assert_uint_eq(m->u.ske.psk_identity_hint.len, 4);
    ck_assert(!m->u.ske.has_sig);
    m = ok("ske_rsa_export");
    ck_assert_int_eq(m->u.ske.kex, TSC_KEX_RSA_EXPORT);
    ck_assert_uint_eq(m->u.ske.rsa_modulus.len, 2);
    m = ok("cke_rsa");
    ck_assert_uint_eq(m->u.cke.encrypted_pms.len, 4);
    m = ok("cke_ecdhe");
    ck_assert_uint_eq(m->u.cke.point.len, 4);
    m = ok("cke_dhe");
    ck_assert_uint_eq(m->u.cke.dh_yc.len, 2);
    m = ok("cke_psk");
    ck_assert_uint_eq(m->u.cke.psk_identity.len, 3);
    bool anon;
    ck_assert_int_eq(tsc_suite_kex(0x1301, &anon), TSC_KEX_NONE);
    ck_assert_int_eq(tsc_suite_kex(0xc0a8, &anon), TSC_KEX_PSK); /* TLS_PSK_WITH_AES_128_CCM_8 */
    ck_assert_int_eq(tsc_suite_kex(0x0018, &anon), TSC_KEX_DHE); /* TLS_DH_anon_WITH_RC4_128 */
    ck_assert(anon);
    ck_assert_int_eq(tsc_suite_kex(0xc035, &anon), TSC_KEX_ECDHE_PSK);
    ck_assert_int_eq(tsc_suite_kex(0x0004, &anon), TSC_KEX_RSA);
}
END_TEST

START_TEST(test_other_fields)
{
    struct tsc_hs_msg *m = ok("certificate_request12");
    ck_assert(m->u.cr.has_sig_algs);
    ck_assert_uint_eq(m->u.cr.n_ca_names, 1);
    m = ok("certificate_request13");
    ck_assert_ptr_nonnull(tsc_ext_find(&m->u.cr.ext, TSC_EXT_SIGNATURE_ALGORITHMS));
    m = ok("new_session_ticket12");
    ck_assert_uint_eq(m->u.nst.lifetime, 3600);
    ck_assert_uint_eq(m->u.nst.ticket.len, 4);
    m = ok("new_session_ticket13");
    ck_assert_uint_eq(m->u.nst.age_add, 0x11223344);
    const struct tsc_ext *ed = tsc_ext_find(&m->u.nst.ext, TSC_EXT_EARLY_DATA);
    ck_assert(ed->u.early_data.has_max);
    ck_assert_uint_eq(ed->u.early_data.max_early_data_size, 0x4000);
    m = ok("encrypted_extensions");
    ck_assert_uint_eq(tsc_ext_find(&m->u.ee, TSC_EXT_ALPN)->u.alpn.n, 1);
    m = ok("certificate_verify");
    ck_assert_uint_eq(m->u.cv.sig_alg, 0x0804);
    m = ok("certificate_status");
    ck_assert_uint_eq(m->u.cs.response.len, 3);
    m = ok("key_update");
    ck_assert_uint_eq(m->u.key_update_request, 1);
    m = ok("compressed_certificate");
    ck_assert_uint_eq(m->u.cc.uncompressed_length, 256);
    m = ok("hello_verify_request");
    ck_assert_uint_eq(m->u.hvr.cookie.len, 2);
    m = ok("sslv2_client_hello");
    ck_assert_uint_eq(m->u.v2ch.version, 0x0301);
    ck_assert_uint_eq(m->u.v2ch.n_specs, 1);
    ck_assert_uint_eq(m->u.v2ch.challenge.len, 16);
    m = ok("sslv2_server_hello");
    ck_assert_uint_eq(m->u.v2sh.connection_id.len, 16);
    ck_assert_uint_eq(m->u.v2sh.certificate.len, 3);
}
END_TEST

START_TEST(test_simple_messages)
{
    static const uint8_t types[] = {0, 5, 14};
    struct tsc_hs_msg m;
    for (size_t i = 0; i < sizeof(types); i++) {
        memset(&m, 0, sizeof(m));
        m.type = types[i];
        ck_assert_int_eq(tsc_msg_parse(&m), TSC_OK);
    }
    memset(&m, 0, sizeof(m));
    uint8_t b[12];
    m.type = 20;
    m.body.p = b;
    m.body.len = unhex(B_FIN, b, sizeof(b));
    ck_assert_int_eq(tsc_msg_parse(&m), TSC_OK);
    ck_assert_uint_eq(m.u.finished.len, 12);
    m.type = 254;
    ck_assert_int_eq(tsc_msg_parse(&m), TSC_OK);
    /* Unknown types are reported, not errors. */
    m.type = 99;
    ck_assert_int_eq(tsc_msg_parse(&m), TSC_ERR_UNSUPPORTED);
    ck_assert_uint_eq(tsc_hs_msg_type(&m), 99);
}
END_TEST

/* ---- malformed: exact errors ---- */

static enum tsc_err parse_hex(uint8_t type, uint16_t suite, uint16_t version, bool tls13,
                              const char *hex)
{
    struct mcase c = {"x", type, false, version, suite, tls13, hex, -1};
    return parse(&g_m, &c, SIZE_MAX);
}

START_TEST(test_malformed)
{
    /* legacy_session_id<0..32> of 33 bytes */
    ck_assert_int_eq(parse_hex(1, 0, 0, false,
                               "0303" H32("11") "21" H32("00") "00"
                                                               "0002c02f0100"),
                     TSC_ERR_DECODE);
    /* odd cipher_suites length */
    ck_assert_int_eq(parse_hex(1, 0, 0, false,
                               "0303" H32("11") "00"
                                                "0003c02f00"
                                                "0100"),
                     TSC_ERR_DECODE);
    /* empty cipher_suites (RFC: <2..2^16-2>) */
    ck_assert_int_eq(parse_hex(1, 0, 0, false,
                               "0303" H32("11") "00"
                                                "0000"
                                                "0100"),
                     TSC_ERR_DECODE);
    /* bytes after the extensions */
    ck_assert_int_eq(parse_hex(1, 0, 0, false, B_CH "00"), TSC_ERR_DECODE);
    /* ServerHelloDone with a body */
    ck_assert_int_eq(parse_hex(14, 0, 0, false, "00"), TSC_ERR_DECODE);
    /* KeyUpdateRequest 2 (RFC 8446 4.6.3) */
    ck_assert_int_eq(parse_hex(24, 0, 0x0304, true, "02"), TSC_ERR_ILLEGAL);
    /* ServerKeyExchange without a negotiated suite */
    ck_assert_int_eq(parse_hex(12, 0, 0, false, B_SKE_ECDHE), TSC_ERR_STATE);
    /* explicit_prime curve type (RFC 8422 5.4) */
    ck_assert_int_eq(parse_hex(12, 0xc02f, 0x0303, false,
                               "01"
                               "0017"
                               "0401020304"),
                     TSC_ERR_UNSUPPORTED);
    /* TLS 1.3 CertificateRequest without signature_algorithms */
    ck_assert_int_eq(parse_hex(13, 0x1301, 0x0304, true,
                               "00"
                               "0004"
                               "00170000"),
                     TSC_ERR_ILLEGAL);
    /* certificate entry of length 0 (ASN.1Cert<1..2^24-1>) */
    ck_assert_int_eq(parse_hex(11, 0xc02f, 0x0303, false,
                               "000003"
                               "000000"),
                     TSC_ERR_DECODE);
    /* certificate_list length larger than the message */
    ck_assert_int_eq(parse_hex(11, 0xc02f, 0x0303, false,
                               "000009"
                               "000003aabbcc"),
                     TSC_ERR_TRUNCATED);
    /* ServerHello with a malformed key_share (empty key_exchange): the message parses,
     * the extension is flagged and its error kept. */
    ck_assert_int_eq(parse_hex(2, 0, 0, false,
                               "0303" H32("22") "00"
                                                "1301"
                                                "00"
                                                "0008"
                                                "00330004"
                                                "001d0000"),
                     TSC_OK);
    ck_assert_int_eq(g_m.u.sh.ext.ext_err, TSC_ERR_DECODE);
    ck_assert(g_m.u.sh.ext.e[0].malformed);
    ck_assert_ptr_eq(tsc_msg_ext_list(&g_m), &g_m.u.sh.ext);
}
END_TEST

START_TEST(test_malformed_sslv2)
{
    struct tsc_hs_msg m;
    uint8_t b[128];
    memset(&m, 0, sizeof(m));
    m.sslv2 = true;
    m.type = 1;
    m.body.p = b;
    /* challenge of 15 bytes (RFC 6101 E.1: 16..32) */
    m.body.len = unhex("0301"
                       "0003"
                       "0000"
                       "000f"
                       "010080" H8("ab") "ababababababab",
                       b, sizeof(b));
    ck_assert_int_eq(tsc_msg_parse(&m), TSC_ERR_DECODE);
    /* cipher_spec_length not a multiple of 3 */
    m.body.len = unhex("0301"
                       "0002"
                       "0000"
                       "0010"
                       "0100" H16("ab"),
                       b, sizeof(b));
    ck_assert_int_eq(tsc_msg_parse(&m), TSC_ERR_DECODE);
}
END_TEST

/* ---- truncated: every cut of every body fails unless the RFC allows it ---- */

START_TEST(test_truncated)
{
    for (int i = 0; i < N_CASES; i++) {
        const struct mcase *c = &cases[i];
        size_t n = unhex(c->hex, g_buf, sizeof(g_buf));
        if ((size_t)_i >= n) {
            continue;
        }
        enum tsc_err e = parse(&g_m, c, (size_t)_i);
        if (_i == c->ok_cut) {
            ck_assert_msg(e == TSC_OK, "%s cut %d: %s", c->name, _i, tsc_err_name(e));
        } else {
            ck_assert_msg(e == TSC_ERR_TRUNCATED || e == TSC_ERR_DECODE, "%s cut at %d: %s",
                          c->name, _i, tsc_err_name(e));
        }
    }
}
END_TEST

/* ---- limits ---- */

START_TEST(test_cert_entry_cap)
{
    /* 20 certificates of 1 byte: 16 kept, 20 counted. */
    char hex[512];
    strcpy(hex, "000050");
    for (int i = 0; i < 20; i++) {
        strcat(hex, "00000141");
    }
    ck_assert_int_eq(parse_hex(11, 0xc02f, 0x0303, false, hex), TSC_OK);
    ck_assert_uint_eq(g_m.u.cert.n, 20);
    ck_assert_uint_eq(g_m.u.cert.kept, TSC_MAX_CERT_ENTRIES);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tls_msg");
    TCase *tc = tcase_create("valid");
    tcase_add_loop_test(tc, test_all_parse, 0, N_CASES);
    tcase_add_test(tc, test_client_hello_fields);
    tcase_add_test(tc, test_server_hello_fields);
    tcase_add_test(tc, test_certificate_fields);
    tcase_add_test(tc, test_kex_fields);
    tcase_add_test(tc, test_other_fields);
    tcase_add_test(tc, test_simple_messages);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_malformed_sslv2);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_loop_test(tc, test_truncated, 0, (int)((sizeof(B_CH) - 1) / 2));
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, test_cert_entry_cap);
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
