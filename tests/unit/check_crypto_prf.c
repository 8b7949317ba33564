/*
 * PRFs and Finished for SSLv3 to TLS 1.2 (src/crypto/prf.c) and the cipher
 * suite table (src/crypto/suites.c).
 *
 * Vectors: the TLS 1.2 P_SHA256 and P_SHA384 vectors are the ones published
 * on the IETF TLS WG list and used by many implementations (secret, seed and
 * label "test label" below). The TLS 1.0 PRF, SSLv3 key derivation, master
 * secret, extended master secret, key block and Finished values were computed
 * independently at development time with Python's hmac/hashlib from the RFC
 * formulas (RFC 2246 5, RFC 6101 6.1/5.6.9, RFC 5246 5/8.1, RFC 7627 4).
 */
#include <check.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/kdf.h"
#include "crypto/suites.h"

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;
    ck_assert_uint_le(n, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void ck_hex(const uint8_t *got, const char *want_hex)
{
    uint8_t want[512];
    size_t n = unhex(want_hex, want, sizeof(want));
    ck_assert_mem_eq(got, want, n);
}

static EVP_MAC_CTX *new_mc(void)
{
    EVP_MAC_CTX *mc = tsc_hmac_ctx_new();
    ck_assert_ptr_nonnull(mc);
    return mc;
}

static const char *k_secret = "9bbe436ba940f017b17652849a71db35";
static const char *k_seed = "a0ba9f936cda311827a6f796ffd5198c";

START_TEST(test_p_sha256)
{
    uint8_t sec[16], seed[16], out[100];
    unhex(k_secret, sec, sizeof(sec));
    unhex(k_seed, seed, sizeof(seed));
    struct tsc_chunk ch[1] = {{seed, 16}};
    EVP_MAC_CTX *mc = new_mc();
    ck_assert_int_eq(
        tsc_prf(mc, TSC_PRF_TLS12, TSC_MD_SHA256, sec, 16, "test label", ch, 1, out, 100), TSC_OK);
    ck_hex(out, "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9"
                "c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789ba"
                "a48082d122ee42c5a72e5a5110fff70187347b66");
    /* Splitting the seed into chunks changes nothing. */
    struct tsc_chunk ch2[2] = {{seed, 5}, {seed + 5, 11}};
    uint8_t out2[100];
    ck_assert_int_eq(
        tsc_prf(mc, TSC_PRF_TLS12, TSC_MD_SHA256, sec, 16, "test label", ch2, 2, out2, 100),
        TSC_OK);
    ck_assert_mem_eq(out, out2, 100);
    EVP_MAC_CTX_free(mc);
}
END_TEST

START_TEST(test_p_sha384)
{
    uint8_t sec[16], seed[16], out[148];
    unhex("b80b733d6ceefcdc71566ea48e5567df", sec, sizeof(sec));
    unhex("cd665cf6a8447dd6ff8b27555edb7465", seed, sizeof(seed));
    struct tsc_chunk ch[1] = {{seed, 16}};
    EVP_MAC_CTX *mc = new_mc();
    ck_assert_int_eq(
        tsc_prf(mc, TSC_PRF_TLS12, TSC_MD_SHA384, sec, 16, "test label", ch, 1, out, 148), TSC_OK);
    ck_hex(out, "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe3"
                "4f82b1233c9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3"
                "d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236"
                "a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f");
    EVP_MAC_CTX_free(mc);
}
END_TEST

START_TEST(test_prf_tls10_odd_secret)
{
    /* 47-byte secret: the middle byte belongs to both halves (RFC 2246 5). */
    uint8_t sec[47], seed[16], out[80];
    for (int i = 0; i < 47; i++) {
        sec[i] = (uint8_t)(i + 1);
    }
    unhex(k_seed, seed, sizeof(seed));
    struct tsc_chunk ch[1] = {{seed, 16}};
    EVP_MAC_CTX *mc = new_mc();
    ck_assert_int_eq(tsc_prf(mc, TSC_PRF_TLS10, TSC_MD_NONE, sec, 47, "test label", ch, 1, out, 80),
                     TSC_OK);
    ck_hex(out, "e2473d14d71bcfd175d2f5b3085d5d7b9f5a4c775b76d0b6f0accd11e27161d40a34a625cf26fe68"
                "704c1abd3f8912214adea64b2dd80d4fbdb373909d0960a33112d0c0255ac8e8c9546da65b160abf");
    EVP_MAC_CTX_free(mc);
}
END_TEST

START_TEST(test_prf_ssl3)
{
    uint8_t sec[48], seed[32], out[104];
    for (int i = 0; i < 3; i++) {
        unhex("0102030405060708090a0b0c0d0e0f10", sec + 16 * i, 16);
    }
    unhex(k_seed, seed, 16);
    unhex(k_secret, seed + 16, 16);
    struct tsc_chunk ch[1] = {{seed, 32}};
    ck_assert_int_eq(tsc_prf(NULL, TSC_PRF_SSL3, TSC_MD_NONE, sec, 48, NULL, ch, 1, out, 104),
                     TSC_OK);
    ck_hex(out, "6dcd0bbe9de04304dcafd90e50c038f39c65b8893beeaa4da9d8308b8c17f17958a6288630bb081c"
                "029acd80aac11327dc4b259ec1647a2d74ad71a9aa2f1636b500b0870431588a707d41f530b323e7"
                "727bc78a5a0b4014e3a2b99440a655756aaef411eb950e60");
}
END_TEST

static void fill_pms(uint8_t pms[48], uint8_t cr[32], uint8_t sr[32])
{
    pms[0] = 3;
    pms[1] = 3;
    for (int i = 0; i < 46; i++) {
        pms[2 + i] = (uint8_t)i;
    }
    for (int i = 0; i < 32; i++) {
        cr[i] = (uint8_t)i;
        sr[i] = (uint8_t)(32 + i);
    }
}

START_TEST(test_master_secrets)
{
    uint8_t pms[48], cr[32], sr[32], ms[48];
    fill_pms(pms, cr, sr);
    EVP_MAC_CTX *mc = new_mc();
    ck_assert_int_eq(tsc_master_secret(mc, TSC_PRF_TLS12, TSC_MD_SHA256, pms, 48, cr, sr, ms),
                     TSC_OK);
    ck_hex(ms, "d2c76cb7c4c86a909737874ceccddc57f2c211e2a4c6f44532306227ba5173089e3a96968874bb7e"
               "9ff14f3ed8c6a41a");
    uint8_t sh[32];
    unsigned shl = 0;
    ck_assert_int_eq(EVP_Digest("handshake", 9, sh, &shl, EVP_sha256(), NULL), 1);
    ck_assert_int_eq(tsc_master_secret_ems(mc, TSC_PRF_TLS12, TSC_MD_SHA256, pms, 48, sh, 32, ms),
                     TSC_OK);
    ck_hex(ms, "6d4c452f87f72fa9a3e572147a2cb528af7b698ec87d73e1ca9fc2df87b0ee55d31611cbdd05f697"
               "bfae0be5768465b2");
    ck_assert_int_eq(tsc_master_secret(mc, TSC_PRF_SSL3, TSC_MD_NONE, pms, 48, cr, sr, ms), TSC_OK);
    ck_hex(ms, "611f7474b1f9ef497a73c2b7765520753f3d1dc5026ba21f075cf7bd6234161facae9be911d8b863"
               "a6e3770344a301bd");
    /* RFC 7627 defines no SSLv3 variant. */
    ck_assert_int_eq(tsc_master_secret_ems(mc, TSC_PRF_SSL3, TSC_MD_NONE, pms, 48, sh, 32, ms),
                     TSC_ERR_UNSUPPORTED);
    EVP_MAC_CTX_free(mc);
}
END_TEST

START_TEST(test_key_block_and_finished)
{
    uint8_t ms[48], cr[32], sr[32], pms[48], kb[104], fin[36];
    fill_pms(pms, cr, sr);
    memset(ms, 0xaa, sizeof(ms));
    EVP_MAC_CTX *mc = new_mc();
    ck_assert_int_eq(tsc_key_block(mc, TSC_PRF_TLS10, TSC_MD_NONE, ms, cr, sr, kb, 104), TSC_OK);
    ck_hex(kb, "9d1f8d6f6d687afc8df50f4dbb659864bdf6e62cc39c9292210d5daeafa02dc2b8abff2a7428178f"
               "15bc59146f36970ca029e7effaf97b6a43494e1987f7888703f91df681ece31fa8229efe84fe6850"
               "aef1e7352855b02c5bf4d45cadd2e89530e99e879cb72c4b");
    uint8_t hh[36];
    unsigned l = 0;
    ck_assert_int_eq(EVP_Digest("hs", 2, hh, &l, EVP_md5(), NULL), 1);
    ck_assert_int_eq(EVP_Digest("hs", 2, hh + 16, &l, EVP_sha1(), NULL), 1);
    ck_assert_int_eq(tsc_finished_tls(mc, TSC_PRF_TLS10, TSC_MD_NONE, ms, true, hh, 36, fin),
                     TSC_OK);
    ck_hex(fin, "9cec9b44abc0564fdcc7f670");
    uint8_t h384[48];
    ck_assert_int_eq(EVP_Digest("hs", 2, h384, &l, EVP_sha384(), NULL), 1);
    ck_assert_int_eq(tsc_finished_tls(mc, TSC_PRF_TLS12, TSC_MD_SHA384, ms, false, h384, 48, fin),
                     TSC_OK);
    ck_hex(fin, "1155164bbeaebe72d154308a");
    /* SSLv3 Finished from running transcript contexts (copied, not consumed). */
    EVP_MD_CTX *m5 = EVP_MD_CTX_new();
    EVP_MD_CTX *s1 = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestInit_ex(m5, tsc_alg_md(TSC_MD_MD5), NULL), 1);
    ck_assert_int_eq(EVP_DigestInit_ex(s1, tsc_alg_md(TSC_MD_SHA1), NULL), 1);
    ck_assert_int_eq(EVP_DigestUpdate(m5, "hs", 2), 1);
    ck_assert_int_eq(EVP_DigestUpdate(s1, "hs", 2), 1);
    ck_assert_int_eq(tsc_finished_ssl3(m5, s1, ms, true, fin), TSC_OK);
    ck_hex(fin, "fc0251ef873f8cbc2976709bb11861e85f1a539d8fcadf4619dbc3617321807bcd37c216");
    uint8_t fin2[36];
    ck_assert_int_eq(tsc_finished_ssl3(m5, s1, ms, true, fin2), TSC_OK);
    ck_assert_mem_eq(fin, fin2, 36);
    ck_assert_int_eq(tsc_finished_ssl3(m5, s1, ms, false, fin2), TSC_OK);
    ck_assert_mem_ne(fin, fin2, 36);
    EVP_MD_CTX_free(m5);
    EVP_MD_CTX_free(s1);
    EVP_MAC_CTX_free(mc);
}
END_TEST

START_TEST(test_prf_limits)
{
    uint8_t sec[16] = {0};
    uint8_t out[TSC_PRF_MAX_OUT + 1];
    struct tsc_chunk ch[1] = {{sec, 16}};
    EVP_MAC_CTX *mc = new_mc();
    ck_assert_int_eq(
        tsc_prf(mc, TSC_PRF_TLS12, TSC_MD_SHA256, sec, 16, "x", ch, 1, out, TSC_PRF_MAX_OUT + 1),
        TSC_ERR_ARG);
    ck_assert_int_eq(tsc_prf(NULL, TSC_PRF_SSL3, TSC_MD_NONE, sec, 16, NULL, ch, 1, out, 417),
                     TSC_ERR_ARG);
    ck_assert_int_eq(tsc_prf(NULL, TSC_PRF_TLS12, TSC_MD_SHA256, sec, 16, "x", ch, 1, out, 16),
                     TSC_ERR_ARG);
    ck_assert_int_eq(tsc_prf(mc, TSC_PRF_TLS12, TSC_MD_NONE, sec, 16, "x", ch, 1, out, 16),
                     TSC_ERR_ARG);
    /* Empty secret is legal HMAC input. */
    ck_assert_int_eq(tsc_prf(mc, TSC_PRF_TLS12, TSC_MD_SHA256, sec, 0, "x", ch, 1, out, 16),
                     TSC_OK);
    EVP_MAC_CTX_free(mc);
}
END_TEST

/* ---- suite table ---- */

struct suite_case {
    uint16_t id;
    enum tsc_kex kex;
    enum tsc_bulk bulk;
    enum tsc_md mac;
    enum tsc_md hash;
    uint8_t key, fixed_iv, rec_iv, tag;
};

static const struct suite_case k_suites[] = {
    {0x0001, TSC_KEX_RSA, TSC_BULK_NULL, TSC_MD_MD5, TSC_MD_SHA256, 0, 0, 0, 0},
    {0x0004, TSC_KEX_RSA, TSC_BULK_RC4_128, TSC_MD_MD5, TSC_MD_SHA256, 16, 0, 0, 0},
    {0x0005, TSC_KEX_RSA, TSC_BULK_RC4_128, TSC_MD_SHA1, TSC_MD_SHA256, 16, 0, 0, 0},
    {0x0007, TSC_KEX_RSA, TSC_BULK_IDEA_CBC, TSC_MD_SHA1, TSC_MD_SHA256, 16, 8, 8, 0},
    {0x0009, TSC_KEX_RSA, TSC_BULK_DES_CBC, TSC_MD_SHA1, TSC_MD_SHA256, 8, 8, 8, 0},
    {0x000A, TSC_KEX_RSA, TSC_BULK_3DES_EDE_CBC, TSC_MD_SHA1, TSC_MD_SHA256, 24, 8, 8, 0},
    {0x0016, TSC_KEX_DHE, TSC_BULK_3DES_EDE_CBC, TSC_MD_SHA1, TSC_MD_SHA256, 24, 8, 8, 0},
    {0x002F, TSC_KEX_RSA, TSC_BULK_AES_128_CBC, TSC_MD_SHA1, TSC_MD_SHA256, 16, 16, 16, 0},
    {0x0035, TSC_KEX_RSA, TSC_BULK_AES_256_CBC, TSC_MD_SHA1, TSC_MD_SHA256, 32, 16, 16, 0},
    {0x003B, TSC_KEX_RSA, TSC_BULK_NULL, TSC_MD_SHA256, TSC_MD_SHA256, 0, 0, 0, 0},
    {0x0041, TSC_KEX_RSA, TSC_BULK_CAMELLIA_128_CBC, TSC_MD_SHA1, TSC_MD_SHA256, 16, 16, 16, 0},
    {0x0096, TSC_KEX_RSA, TSC_BULK_SEED_CBC, TSC_MD_SHA1, TSC_MD_SHA256, 16, 16, 16, 0},
    {0x008C, TSC_KEX_PSK, TSC_BULK_AES_128_CBC, TSC_MD_SHA1, TSC_MD_SHA256, 16, 16, 16, 0},
    {0x0094, TSC_KEX_RSA_PSK, TSC_BULK_AES_128_CBC, TSC_MD_SHA1, TSC_MD_SHA256, 16, 16, 16, 0},
    {0x009C, TSC_KEX_RSA, TSC_BULK_AES_128_GCM, TSC_MD_NONE, TSC_MD_SHA256, 16, 4, 8, 16},
    {0x009D, TSC_KEX_RSA, TSC_BULK_AES_256_GCM, TSC_MD_NONE, TSC_MD_SHA384, 32, 4, 8, 16},
    {0x00A9, TSC_KEX_PSK, TSC_BULK_AES_256_GCM, TSC_MD_NONE, TSC_MD_SHA384, 32, 4, 8, 16},
    {0x00AE, TSC_KEX_PSK, TSC_BULK_AES_128_CBC, TSC_MD_SHA256, TSC_MD_SHA256, 16, 16, 16, 0},
    {0xC009, TSC_KEX_ECDHE, TSC_BULK_AES_128_CBC, TSC_MD_SHA1, TSC_MD_SHA256, 16, 16, 16, 0},
    {0xC024, TSC_KEX_ECDHE, TSC_BULK_AES_256_CBC, TSC_MD_SHA384, TSC_MD_SHA384, 32, 16, 16, 0},
    {0xC02F, TSC_KEX_ECDHE, TSC_BULK_AES_128_GCM, TSC_MD_NONE, TSC_MD_SHA256, 16, 4, 8, 16},
    {0xC030, TSC_KEX_ECDHE, TSC_BULK_AES_256_GCM, TSC_MD_NONE, TSC_MD_SHA384, 32, 4, 8, 16},
    {0xC037, TSC_KEX_ECDHE_PSK, TSC_BULK_AES_128_CBC, TSC_MD_SHA256, TSC_MD_SHA256, 16, 16, 16, 0},
    {0xC050, TSC_KEX_RSA, TSC_BULK_ARIA_128_GCM, TSC_MD_NONE, TSC_MD_SHA256, 16, 4, 8, 16},
    {0xC07A, TSC_KEX_RSA, TSC_BULK_CAMELLIA_128_GCM, TSC_MD_NONE, TSC_MD_SHA256, 16, 4, 8, 16},
    {0xC09C, TSC_KEX_RSA, TSC_BULK_AES_128_CCM, TSC_MD_NONE, TSC_MD_SHA256, 16, 4, 8, 16},
    {0xC0A0, TSC_KEX_RSA, TSC_BULK_AES_128_CCM_8, TSC_MD_NONE, TSC_MD_SHA256, 16, 4, 8, 8},
    {0xC0AA, TSC_KEX_DHE_PSK, TSC_BULK_AES_128_CCM_8, TSC_MD_NONE, TSC_MD_SHA256, 16, 4, 8, 8},
    {0xCCA8, TSC_KEX_ECDHE, TSC_BULK_CHACHA20_POLY1305, TSC_MD_NONE, TSC_MD_SHA256, 32, 12, 0, 16},
    {0xCCAB, TSC_KEX_PSK, TSC_BULK_CHACHA20_POLY1305, TSC_MD_NONE, TSC_MD_SHA256, 32, 12, 0, 16},
    {0xD001, TSC_KEX_ECDHE_PSK, TSC_BULK_AES_128_GCM, TSC_MD_NONE, TSC_MD_SHA256, 16, 4, 8, 16},
    {0x1301, TSC_KEX_TLS13, TSC_BULK_AES_128_GCM, TSC_MD_NONE, TSC_MD_SHA256, 16, 12, 0, 16},
    {0x1302, TSC_KEX_TLS13, TSC_BULK_AES_256_GCM, TSC_MD_NONE, TSC_MD_SHA384, 32, 12, 0, 16},
    {0x1303, TSC_KEX_TLS13, TSC_BULK_CHACHA20_POLY1305, TSC_MD_NONE, TSC_MD_SHA256, 32, 12, 0, 16},
    {0x1304, TSC_KEX_TLS13, TSC_BULK_AES_128_CCM, TSC_MD_NONE, TSC_MD_SHA256, 16, 12, 0, 16},
    {0x1305, TSC_KEX_TLS13, TSC_BULK_AES_128_CCM_8, TSC_MD_NONE, TSC_MD_SHA256, 16, 12, 0, 8},
};

START_TEST(test_suite_table)
{
    const struct suite_case *c = &k_suites[_i];
    const struct tsc_suite *s = tsc_suite_find(c->id);
    ck_assert_msg(s != NULL, "suite 0x%04x missing", c->id);
    ck_assert_int_eq(s->kex, c->kex);
    ck_assert_int_eq(s->bulk, c->bulk);
    ck_assert_int_eq(s->mac, c->mac);
    ck_assert_int_eq(s->hash, c->hash);
    ck_assert_uint_eq(s->key_len, c->key);
    ck_assert_uint_eq(s->fixed_iv_len, c->fixed_iv);
    ck_assert_uint_eq(s->record_iv_len, c->rec_iv);
    ck_assert_uint_eq(s->tag_len, c->tag);
    ck_assert_uint_eq(s->mac_len, tsc_md_len(c->mac));
    ck_assert(s->tls13 == (c->kex == TSC_KEX_TLS13));
}
END_TEST

START_TEST(test_suite_unparsed)
{
    /* Export, SRP, GOST, the null suite and unassigned values have no entry. */
    ck_assert_ptr_null(tsc_suite_find(0x0000));
    ck_assert_ptr_null(tsc_suite_find(0x0003)); /* RSA_EXPORT_WITH_RC4_40_MD5 */
    ck_assert_ptr_null(tsc_suite_find(0x0006)); /* RC2_CBC_40 */
    ck_assert_ptr_null(tsc_suite_find(0x00FF)); /* renegotiation SCSV */
    ck_assert_ptr_null(tsc_suite_find(0x5600)); /* fallback SCSV */
    ck_assert_ptr_null(tsc_suite_find(0x0A0A)); /* GREASE */
    ck_assert_ptr_null(tsc_suite_find(0x1234));
    /* Hundreds of suites parse (the registry has ~340 with _WITH_ or TLS 1.3 names). */
    ck_assert_uint_gt(tsc_suite_count(), 250);
    /* Every entry is self-consistent. */
    unsigned seen = 0;
    for (uint32_t id = 0; id <= 0xffff; id++) {
        const struct tsc_suite *s = tsc_suite_find((uint16_t)id);
        if (s == NULL) {
            continue;
        }
        seen++;
        ck_assert_uint_eq(s->id, id);
        bool aead =
            s->family == TSC_FAM_GCM || s->family == TSC_FAM_CCM || s->family == TSC_FAM_CHACHA;
        ck_assert(aead == (s->mac == TSC_MD_NONE));
        ck_assert(aead == (s->tag_len > 0));
        ck_assert(s->hash == TSC_MD_SHA256 || s->hash == TSC_MD_SHA384);
        ck_assert_uint_le(s->key_len, 32);
    }
    ck_assert_uint_eq(seen, tsc_suite_count());
}
END_TEST

START_TEST(test_algorithms_fetched)
{
    /* Default provider algorithms must be present; legacy ones are optional. */
    ck_assert_ptr_nonnull(tsc_alg_cipher(TSC_BULK_AES_128_GCM));
    ck_assert_ptr_nonnull(tsc_alg_cipher(TSC_BULK_AES_256_CBC));
    ck_assert_ptr_nonnull(tsc_alg_cipher(TSC_BULK_CHACHA20_POLY1305));
    ck_assert_ptr_nonnull(tsc_alg_cipher(TSC_BULK_AES_128_CCM));
    ck_assert_ptr_nonnull(tsc_alg_cipher(TSC_BULK_ARIA_128_GCM));
    ck_assert_ptr_null(tsc_alg_cipher(TSC_BULK_NULL));
    ck_assert_ptr_null(tsc_alg_cipher(TSC_BULK__COUNT));
    ck_assert_ptr_nonnull(tsc_alg_md(TSC_MD_SHA384));
    ck_assert_ptr_null(tsc_alg_md(TSC_MD_NONE));
    ck_assert_ptr_nonnull(tsc_alg_hmac());
    /* Fetched once: the same object every time. */
    ck_assert_ptr_eq(tsc_alg_cipher(TSC_BULK_AES_128_GCM), tsc_alg_cipher(TSC_BULK_AES_128_GCM));
}
END_TEST

static Suite *prf_suite(void)
{
    Suite *s = suite_create("crypto_prf");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_p_sha256);
    tcase_add_test(tc, test_p_sha384);
    tcase_add_test(tc, test_prf_tls10_odd_secret);
    tcase_add_test(tc, test_prf_ssl3);
    tcase_add_test(tc, test_master_secrets);
    tcase_add_test(tc, test_key_block_and_finished);
    tcase_add_loop_test(tc, test_suite_table, 0, (int)(sizeof(k_suites) / sizeof(k_suites[0])));
    tcase_add_test(tc, test_suite_unparsed);
    tcase_add_test(tc, test_algorithms_fetched);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, test_prf_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(prf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
