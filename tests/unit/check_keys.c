/*
 * Key material (src/keys): NSS key log parsing and index, PSKs, RSA private
 * key loading in every format (keys generated at test time with libcrypto and
 * written to a temporary directory), wrong passwords, matching a key to a
 * certificate and premaster decryption with a matching and a foreign key.
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys/keys.h"
#include "keys/keys_int.h"

/* ---- a diagnostic sink that keeps the last message ---- */

struct capture {
    char last[512];
    int n;
};

static void cap_emit(void *ud, enum tsc_diag_kind kind, const struct tsc_where *w, const char *msg)
{
    (void)kind;
    (void)w;
    struct capture *c = ud;
    snprintf(c->last, sizeof(c->last), "%s", msg);
    c->n++;
}

static struct tsc_diag_sink g_sink;
static struct capture g_cap;

static struct tsc_keys *new_keys(void)
{
    memset(&g_sink, 0, sizeof(g_sink));
    memset(&g_cap, 0, sizeof(g_cap));
    g_sink.emit = cap_emit;
    g_sink.ud = &g_cap;
    struct tsc_keys *k = NULL;
    ck_assert_int_eq(tsc_keys_new(&k, &g_sink), TSC_OK);
    return k;
}

static const char *CR = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
static const char *S48 = "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899"
                         "aabbccddeeff00112233445566778899";
static const char *S32 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static enum tsc_err add(struct tsc_keys *k, const char *line, uint64_t no)
{
    return tsc_keys_add_keylog_line(k, line, strlen(line), "test.keylog", no);
}

static void cr_bytes(uint8_t cr[32])
{
    for (int i = 0; i < 32; i++) {
        cr[i] = (uint8_t)(i + 1);
    }
}

START_TEST(test_keylog_every_label)
{
    struct tsc_keys *k = new_keys();
    char line[512];
    uint8_t cr[32], out[TSC_MAX_SECRET];
    size_t n = 0;
    cr_bytes(cr);
    for (int l = 0; l < TSC_KL__COUNT; l++) {
        const char *name = tsc_keylog_label_name((enum tsc_keylog_label)l);
        ck_assert_ptr_nonnull(name);
        const char *sec =
            (l == TSC_KL_CLIENT_RANDOM || l == TSC_KL_RSA || l == TSC_KL_PMS_CLIENT_RANDOM) ? S48
                                                                                            : S32;
        const char *key = l == TSC_KL_RSA ? "0102030405060708" : CR;
        snprintf(line, sizeof(line), "%s %s %s", name, key, sec);
        ck_assert_int_eq(add(k, line, (uint64_t)l + 1), TSC_OK);
    }
    ck_assert_int_eq(g_cap.n, 0);
    for (int l = 0; l < TSC_KL__COUNT; l++) {
        size_t kl = l == TSC_KL_RSA ? 8 : 32;
        ck_assert(tsc_keys_keylog_find(k, (enum tsc_keylog_label)l, cr, kl, out, &n));
        size_t want =
            (l == TSC_KL_CLIENT_RANDOM || l == TSC_KL_RSA || l == TSC_KL_PMS_CLIENT_RANDOM) ? 48
                                                                                            : 32;
        ck_assert_uint_eq(n, want);
        ck_assert_uint_eq(out[0], l < 3 ? 0xaa : 0x00);
    }
    /* Other randoms, other labels: not found. */
    cr[31] ^= 1;
    ck_assert(!tsc_keys_keylog_find(k, TSC_KL_CLIENT_RANDOM, cr, 32, out, &n));
    ck_assert(!tsc_keys_keylog_find(k, TSC_KL__COUNT, cr, 32, out, &n));
    struct tsc_keys_stats st;
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.keylog_entries, TSC_KL__COUNT);
    ck_assert_uint_eq(st.keylog_bad_lines, 0);
    tsc_keys_free(k);
}
END_TEST

START_TEST(test_keylog_formats)
{
    struct tsc_keys *k = new_keys();
    char line[512];
    uint8_t cr[32], out[TSC_MAX_SECRET];
    size_t n;
    cr_bytes(cr);
    ck_assert_int_eq(add(k, "", 1), TSC_OK);
    ck_assert_int_eq(add(k, "   \t ", 2), TSC_OK);
    ck_assert_int_eq(add(k, "# a comment CLIENT_RANDOM x y", 3), TSC_OK);
    ck_assert_int_eq(add(k, "\r\n", 4), TSC_OK);
    /* CRLF, upper-case hex, tabs between fields */
    snprintf(line, sizeof(line), "CLIENT_RANDOM\t%s  %s\r\n", CR,
             "AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899"
             "AABBCCDDEEFF00112233445566778899");
    ck_assert_int_eq(add(k, line, 5), TSC_OK);
    ck_assert(tsc_keys_keylog_find(k, TSC_KL_CLIENT_RANDOM, cr, 32, out, &n));
    ck_assert_uint_eq(n, 48);
    ck_assert_uint_eq(out[0], 0xaa);
    /* The same entry again: still one entry, the later secret wins. */
    snprintf(line, sizeof(line), "CLIENT_RANDOM %s %s", CR,
             "01bbccddeeff00112233445566778899aabbccddeeff00112233445566778899"
             "aabbccddeeff00112233445566778899");
    ck_assert_int_eq(add(k, line, 6), TSC_OK);
    ck_assert(tsc_keys_keylog_find(k, TSC_KL_CLIENT_RANDOM, cr, 32, out, &n));
    ck_assert_uint_eq(out[0], 0x01);
    struct tsc_keys_stats st;
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.keylog_entries, 1);
    ck_assert_int_eq(g_cap.n, 0);
    tsc_keys_free(k);
}
END_TEST

struct bad_line {
    const char *fmt; /* %s = client random */
    enum tsc_err err;
};

static const struct bad_line k_bad[] = {
    {"CLIENT_RANDOM %s", TSC_ERR_DECODE},
    {"CLIENT_RANDOM %s aabb extra", TSC_ERR_DECODE},
    {"CLIENT_RANDUM %s "
     "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778"
     "899",
     TSC_ERR_DECODE},
    {"CLIENT_RANDOM %s "
     "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778"
     "8",
     TSC_ERR_DECODE},
    {"CLIENT_RANDOM %s "
     "zzbbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778"
     "899",
     TSC_ERR_DECODE},
    {"CLIENT_RANDOM %s "
     "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778"
     "89",
     TSC_ERR_DECODE},
    {"CLIENT_TRAFFIC_SECRET_0 %s aabbccdd", TSC_ERR_DECODE},
    {"RSA %s "
     "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778"
     "899",
     TSC_ERR_DECODE},
    {"PMS_CLIENT_RANDOM %s", TSC_ERR_DECODE},
    {"SERVER_HANDSHAKE_TRAFFIC_SECRET %sff "
     "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
     TSC_ERR_DECODE},
};

START_TEST(test_keylog_bad_lines)
{
    const struct bad_line *b = &k_bad[_i];
    struct tsc_keys *k = new_keys();
    char line[512];
    snprintf(line, sizeof(line), b->fmt, CR);
    ck_assert_int_eq(add(k, line, 42 + (uint64_t)_i), b->err);
    ck_assert_int_eq(g_cap.n, 1);
    char where[64];
    snprintf(where, sizeof(where), "test.keylog:%d:", 42 + _i);
    ck_assert_msg(strstr(g_cap.last, where) != NULL, "diag '%s' lacks %s", g_cap.last, where);
    /* Never prints the secret back. */
    ck_assert_ptr_null(strstr(g_cap.last, "aabbccddeeff"));
    ck_assert_ptr_null(strstr(g_cap.last, CR));
    struct tsc_keys_stats st;
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.keylog_entries, 0);
    ck_assert_uint_eq(st.keylog_bad_lines, 1);
    /* A good line after a bad one is still taken. */
    snprintf(line, sizeof(line), "CLIENT_RANDOM %s %s", CR, S48);
    ck_assert_int_eq(add(k, line, 99), TSC_OK);
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.keylog_entries, 1);
    tsc_keys_free(k);
}
END_TEST

/* A valid line cut at every length: only the full line (and the empty cut) is accepted. */
START_TEST(test_keylog_truncated)
{
    struct tsc_keys *k = new_keys();
    char line[256];
    int full = snprintf(line, sizeof(line), "CLIENT_RANDOM %s %s", CR, S48);
    size_t cut = (size_t)_i;
    enum tsc_err e = tsc_keys_add_keylog_line(k, line, cut, "t", 1);
    struct tsc_keys_stats st;
    tsc_keys_get_stats(k, &st);
    if (cut == (size_t)full) {
        ck_assert_int_eq(e, TSC_OK);
        ck_assert_uint_eq(st.keylog_entries, 1);
    } else if (cut == 0) {
        ck_assert_int_eq(e, TSC_OK);
        ck_assert_uint_eq(st.keylog_entries, 0);
    } else {
        ck_assert_int_ne(e, TSC_OK);
        ck_assert_uint_eq(st.keylog_entries, 0);
        ck_assert_uint_eq(st.keylog_bad_lines, 1);
    }
    tsc_keys_free(k);
}
END_TEST

static char g_dir[256];

static const char *tmpdir(void)
{
    if (g_dir[0] == '\0') {
        snprintf(g_dir, sizeof(g_dir), "/tmp/tsc_check_keys.XXXXXX");
        if (mkdtemp(g_dir) == NULL) {
            perror("mkdtemp");
            exit(EXIT_FAILURE);
        }
    }
    return g_dir;
}

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir(), name);
}

START_TEST(test_keylog_file)
{
    char p[512];
    path_of(p, sizeof(p), "k.log");
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "# SSL/TLS secrets log file\n");
    fprintf(f, "CLIENT_RANDOM %s %s\r\n", CR, S48);
    for (unsigned i = 0; i < TSC_KEYLOG_MAX_LINE + 100; i++) {
        fputc('A', f); /* line 3: overlong */
    }
    fputc('\n', f);
    fprintf(f, "BOGUS %s %s\n", CR, S48);
    fprintf(f, "\n");
    /* many entries: the index grows */
    for (int i = 0; i < 3000; i++) {
        fprintf(f, "CLIENT_TRAFFIC_SECRET_0 %056x%08x %s\n", 0, i, S32);
    }
    fprintf(f, "SERVER_TRAFFIC_SECRET_0 %s %s", CR, S32); /* no final newline */
    fclose(f);
    struct tsc_keys *k = new_keys();
    ck_assert_int_eq(tsc_keys_load_keylog_file(k, p), TSC_OK);
    struct tsc_keys_stats st;
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.keylog_entries, 3002);
    ck_assert_uint_eq(st.keylog_bad_lines, 2);
    ck_assert_int_eq(g_cap.n, 2);
    char want[600];
    snprintf(want, sizeof(want), "%s:4:", p); /* the last diagnostic: BOGUS on line 4 */
    ck_assert_msg(strstr(g_cap.last, want) != NULL, "%s", g_cap.last);
    uint8_t key[32] = {0}, out[TSC_MAX_SECRET];
    size_t n;
    for (int i = 0; i < 3000; i += 97) {
        key[28] = (uint8_t)(i >> 24);
        key[29] = (uint8_t)(i >> 16);
        key[30] = (uint8_t)(i >> 8);
        key[31] = (uint8_t)i;
        ck_assert(tsc_keys_keylog_find(k, TSC_KL_CLIENT_TRAFFIC_SECRET_0, key, 32, out, &n));
    }
    uint8_t cr[32];
    cr_bytes(cr);
    ck_assert(tsc_keys_keylog_find(k, TSC_KL_SERVER_TRAFFIC_SECRET_0, cr, 32, out, &n));
    tsc_keys_free(k);
    unlink(p);
    /* A missing file is an I/O error with a diagnostic. */
    k = new_keys();
    ck_assert_int_eq(tsc_keys_load_keylog_file(k, "/nonexistent/k.log"), TSC_ERR_IO);
    ck_assert_int_eq(g_cap.n, 1);
    tsc_keys_free(k);
}
END_TEST

START_TEST(test_keylog_limits)
{
    struct tsc_keys *k = new_keys();
    char line[TSC_KEYLOG_MAX_LINE + 16];
    memset(line, 'A', sizeof(line));
    ck_assert_int_eq(tsc_keys_add_keylog_line(k, line, TSC_KEYLOG_MAX_LINE + 1, "t", 7),
                     TSC_ERR_LIMIT);
    ck_assert_ptr_nonnull(strstr(g_cap.last, "t:7:"));
    ck_assert_ptr_nonnull(strstr(g_cap.last, "longer than " TSC_KEYLOG_MAX_LINE_STR));
    /* TSC_KEYLOG_MAX_LINE characters is still a line (here a bad one, one field). */
    ck_assert_int_eq(tsc_keys_add_keylog_line(k, line, TSC_KEYLOG_MAX_LINE, "t", 8),
                     TSC_ERR_DECODE);
    tsc_keys_free(k);
}
END_TEST

/* "PMS_CLIENT_RANDOM <cr> <n bytes: byte i = (i * 7 + seed) & 0xff>" */
static size_t pms_line(char *out, size_t cap, const uint8_t cr[32], size_t n, unsigned seed)
{
    size_t o = (size_t)snprintf(out, cap, "PMS_CLIENT_RANDOM ");
    for (int i = 0; i < 32; i++) {
        o += (size_t)snprintf(out + o, cap - o, "%02x", cr[i]);
    }
    out[o++] = ' ';
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(out + o, cap - o, "%02x", (unsigned)((i * 7 + seed) & 0xff));
    }
    return o;
}

static void check_pms(struct tsc_keys *k, const uint8_t cr[32], size_t n, unsigned seed)
{
    const uint8_t *sec = NULL;
    size_t len = 0;
    ck_assert(tsc_keys_keylog_get(k, TSC_KL_PMS_CLIENT_RANDOM, cr, 32, &sec, &len));
    ck_assert_uint_eq(len, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(sec[i], (i * 7 + seed) & 0xff);
    }
}

/* Finite-field DHE premasters (RFC 7919: 256 bytes for ffdhe2048 up to 1024 for ffdhe8192). */
START_TEST(test_keylog_long_pms)
{
    struct tsc_keys *k = new_keys();
    static char line[TSC_KEYLOG_MAX_LINE + 64];
    uint8_t cr[32], out[TSC_MAX_SECRET];
    size_t n = 0;
    const size_t sizes[] = {1, 48, 64, 65, 256, 384, 512, 768, 1024};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        cr_bytes(cr);
        cr[0] = (uint8_t)(0x80 + i);
        size_t ll = pms_line(line, sizeof(line), cr, sizes[i], (unsigned)i);
        ck_assert_int_eq(tsc_keys_add_keylog_line(k, line, ll, "t", i + 1), TSC_OK);
    }
    ck_assert_int_eq(g_cap.n, 0);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        cr_bytes(cr);
        cr[0] = (uint8_t)(0x80 + i);
        check_pms(k, cr, sizes[i], (unsigned)i);
        /* The copying lookup serves only secrets that fit TSC_MAX_SECRET. */
        ck_assert(tsc_keys_keylog_find(k, TSC_KL_PMS_CLIENT_RANDOM, cr, 32, out, &n) ==
                  (sizes[i] <= TSC_MAX_SECRET));
    }
    /* The same client random with another long secret: the later one wins. */
    cr_bytes(cr);
    cr[0] = 0x80 + 6;
    size_t ll = pms_line(line, sizeof(line), cr, 300, 99);
    ck_assert_int_eq(tsc_keys_add_keylog_line(k, line, ll, "t", 20), TSC_OK);
    check_pms(k, cr, 300, 99);
    /* One byte over the cap is a bad line that names file and line, without the secret. */
    cr[0] = 0x01;
    ll = pms_line(line, sizeof(line), cr, TSC_MAX_PREMASTER + 1, 3);
    ck_assert_uint_le(ll, TSC_KEYLOG_MAX_LINE);
    ck_assert_int_eq(tsc_keys_add_keylog_line(k, line, ll, "t", 21), TSC_ERR_DECODE);
    ck_assert_int_eq(g_cap.n, 1);
    ck_assert_ptr_nonnull(strstr(g_cap.last, "t:21:"));
    ck_assert_ptr_null(strstr(g_cap.last, "030a11"));
    const uint8_t *sec = NULL;
    ck_assert(!tsc_keys_keylog_get(k, TSC_KL_PMS_CLIENT_RANDOM, cr, 32, &sec, &n));
    /* Cut inside the secret: odd hex. */
    ll = pms_line(line, sizeof(line), cr, 700, 3);
    ck_assert_int_eq(tsc_keys_add_keylog_line(k, line, ll - 1, "t", 22), TSC_ERR_DECODE);
    /* Index growth moves entries, not the long secrets they point to. */
    for (int i = 0; i < 5000; i++) {
        char l2[256];
        snprintf(l2, sizeof(l2), "CLIENT_RANDOM %056x%08x %s", 1, i, S48);
        ck_assert_int_eq(add(k, l2, 100 + (uint64_t)i), TSC_OK);
    }
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        cr_bytes(cr);
        cr[0] = (uint8_t)(0x80 + i);
        if (i != 6) {
            check_pms(k, cr, sizes[i], (unsigned)i);
        }
    }
    tsc_keys_free(k);
}
END_TEST

/* The long-secret arena is capped: beyond it, one key-limit diagnostic and the lines are skipped. */
START_TEST(test_keylog_long_pms_cap)
{
    struct tsc_keys *k = new_keys();
    static char line[TSC_KEYLOG_MAX_LINE + 64];
    uint8_t cr[32];
    cr_bytes(cr);
    uint32_t fit = TSC_KEYLOG_LONG_ARENA_MAX / TSC_MAX_PREMASTER;
    /* One line, its client random's first 4 bytes rewritten per entry (hex at offset 18). */
    size_t ll = pms_line(line, sizeof(line), cr, TSC_MAX_PREMASTER, 5);
    for (uint32_t i = 0; i < fit + 3; i++) {
        char hx[9];
        snprintf(hx, sizeof(hx), "%08x", i);
        memcpy(line + 18, hx, 8);
        enum tsc_err e = tsc_keys_add_keylog_line(k, line, ll, "big.log", i + 1);
        ck_assert_int_eq(e, i < fit ? TSC_OK : TSC_ERR_LIMIT);
    }
    ck_assert_int_eq(g_cap.n, 1);
    ck_assert_ptr_nonnull(strstr(g_cap.last, "big.log:"));
    struct tsc_keys_stats st;
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.keylog_entries, fit);
    ck_assert_uint_eq(st.keylog_bad_lines, 3);
    uint32_t last = fit - 1;
    cr[0] = (uint8_t)(last >> 24);
    cr[1] = (uint8_t)(last >> 16);
    cr[2] = (uint8_t)(last >> 8);
    cr[3] = (uint8_t)last;
    check_pms(k, cr, TSC_MAX_PREMASTER, 5);
    /* Short secrets still go in. */
    char l2[256];
    snprintf(l2, sizeof(l2), "CLIENT_RANDOM %s %s", CR, S48);
    ck_assert_int_eq(add(k, l2, 1), TSC_OK);
    tsc_keys_free(k);
}
END_TEST

START_TEST(test_psk)
{
    struct tsc_keys *k = new_keys();
    uint8_t a[4] = {1, 2, 3, 4}, b[2] = {9, 9}, out[TSC_MAX_SECRET];
    size_t n = 0;
    ck_assert(!tsc_keys_psk_find(k, (const uint8_t *)"x", 1, out, &n));
    ck_assert_int_eq(tsc_keys_add_psk(k, a, 4, "client1"), TSC_OK);
    ck_assert(!tsc_keys_psk_find(k, (const uint8_t *)"other", 5, out, &n));
    ck_assert_int_eq(tsc_keys_add_psk(k, b, 2, NULL), TSC_OK);
    ck_assert(tsc_keys_psk_find(k, (const uint8_t *)"client1", 7, out, &n));
    ck_assert_uint_eq(n, 4);
    ck_assert_mem_eq(out, a, 4);
    ck_assert(tsc_keys_psk_find(k, (const uint8_t *)"other", 5, out, &n));
    ck_assert_uint_eq(n, 2);
    uint8_t big[TSC_MAX_SECRET + 1] = {0};
    ck_assert_int_eq(tsc_keys_add_psk(k, big, sizeof(big), NULL), TSC_ERR_LIMIT);
    ck_assert_int_eq(tsc_keys_add_psk(k, big, 0, NULL), TSC_ERR_LIMIT);
    struct tsc_keys_stats st;
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.psks, 2);
    tsc_keys_free(k);
}
END_TEST

/* ---- RSA ---- */

static EVP_PKEY *gen_rsa(void)
{
    EVP_PKEY *pk = EVP_RSA_gen(1024);
    ck_assert_ptr_nonnull(pk);
    return pk;
}

static X509 *self_signed(EVP_PKEY *pk)
{
    X509 *x = X509_new();
    ck_assert_ptr_nonnull(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pk);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, nm);
    ck_assert_int_gt(X509_sign(x, pk, EVP_sha256()), 0);
    return x;
}

static size_t cert_der(X509 *x, uint8_t **der)
{
    *der = NULL;
    int n = i2d_X509(x, der);
    ck_assert_int_gt(n, 0);
    return (size_t)n;
}

enum kfmt {
    F_PKCS1_PEM,
    F_PKCS8_PEM,
    F_PKCS8_PEM_ENC,
    F_PKCS1_DER,
    F_PKCS8_DER,
    F_PKCS8_DER_ENC,
    F_P12,
    F__COUNT
};

static void write_key(EVP_PKEY *pk, enum kfmt f, const char *path, const char *pw)
{
    BIO *b = BIO_new_file(path, "wb");
    ck_assert_ptr_nonnull(b);
    const EVP_CIPHER *aes = EVP_aes_256_cbc();
    int ok = 0;
    switch (f) {
    case F_PKCS1_PEM:
        ok = PEM_write_bio_PrivateKey_traditional(b, pk, NULL, NULL, 0, NULL, NULL);
        break;
    case F_PKCS8_PEM:
        ok = PEM_write_bio_PKCS8PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
        break;
    case F_PKCS8_PEM_ENC:
        ok = PEM_write_bio_PKCS8PrivateKey(b, pk, aes, NULL, 0, NULL, (void *)pw);
        break;
    case F_PKCS1_DER:
        ok = i2d_PrivateKey_bio(b, pk);
        break;
    case F_PKCS8_DER:
        ok = i2d_PKCS8PrivateKey_bio(b, pk, NULL, NULL, 0, NULL, NULL);
        break;
    case F_PKCS8_DER_ENC:
        ok = i2d_PKCS8PrivateKey_bio(b, pk, aes, NULL, 0, NULL, (void *)pw);
        break;
    case F_P12: {
        X509 *x = self_signed(pk);
        PKCS12 *p12 = PKCS12_create(pw, "k", pk, x, NULL, 0, 0, 0, 0, 0);
        ck_assert_ptr_nonnull(p12);
        ok = i2d_PKCS12_bio(b, p12);
        PKCS12_free(p12);
        X509_free(x);
        break;
    }
    default:
        break;
    }
    ck_assert_int_eq(ok, 1);
    BIO_free(b);
}

static bool fmt_encrypted(enum kfmt f)
{
    return f == F_PKCS8_PEM_ENC || f == F_PKCS8_DER_ENC || f == F_P12;
}

static EVP_PKEY *g_key;

static EVP_PKEY *shared_key(void)
{
    if (g_key == NULL) {
        g_key = gen_rsa();
    }
    return g_key;
}

static size_t encrypt_pms(EVP_PKEY *pk, const uint8_t pms[48], uint8_t *out, size_t cap)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
    size_t ol = cap;
    ck_assert_int_eq(EVP_PKEY_encrypt_init(c), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING), 1);
    ck_assert_int_eq(EVP_PKEY_encrypt(c, out, &ol, pms, 48), 1);
    EVP_PKEY_CTX_free(c);
    return ol;
}

START_TEST(test_rsa_formats)
{
    enum kfmt f = (enum kfmt)_i;
    char p[512];
    char name[32];
    snprintf(name, sizeof(name), "key%d", (int)f);
    path_of(p, sizeof(p), name);
    EVP_PKEY *pk = shared_key();
    write_key(pk, f, p, "s3cret");
    struct tsc_keys *k = new_keys();
    ck_assert_int_eq(tsc_keys_load_rsa_file(k, p, fmt_encrypted(f) ? "s3cret" : NULL), TSC_OK);
    ck_assert_uint_eq(tsc_keys_rsa_count(k), 1);
    ck_assert_int_eq(g_cap.n, 0);
    /* The loaded key decrypts a premaster encrypted to the generated key. */
    uint8_t pms[48], enc[256], got[48];
    for (int i = 0; i < 48; i++) {
        pms[i] = (uint8_t)(i * 7);
    }
    pms[0] = 3;
    pms[1] = 3;
    size_t el = encrypt_pms(pk, pms, enc, sizeof(enc));
    ck_assert(tsc_keys_rsa_decrypt_pms_with(k, 0, enc, el, got));
    ck_assert_mem_eq(got, pms, 48);
    tsc_keys_free(k);
    if (fmt_encrypted(f)) {
        /* Wrong password: a clear diagnostic naming the file, nothing loaded. */
        k = new_keys();
        ck_assert_int_ne(tsc_keys_load_rsa_file(k, p, "wrong"), TSC_OK);
        ck_assert_uint_eq(tsc_keys_rsa_count(k), 0);
        char want[600];
        snprintf(want, sizeof(want), "wrong password for %s", p);
        ck_assert_msg(strstr(g_cap.last, want) != NULL, "diag: %s", g_cap.last);
        tsc_keys_free(k);
        /* No password: an error, no prompt on a terminal. */
        k = new_keys();
        ck_assert_int_ne(tsc_keys_load_rsa_file(k, p, NULL), TSC_OK);
        ck_assert_int_eq(g_cap.n, 1);
        tsc_keys_free(k);
    }
    unlink(p);
}
END_TEST

START_TEST(test_rsa_bad_files)
{
    char p[512];
    path_of(p, sizeof(p), "bad.pem");
    FILE *f = fopen(p, "wb");
    fprintf(f, "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n");
    fclose(f);
    struct tsc_keys *k = new_keys();
    ck_assert_int_eq(tsc_keys_load_rsa_file(k, p, NULL), TSC_ERR_DECODE);
    ck_assert_ptr_nonnull(strstr(g_cap.last, p));
    ck_assert_int_eq(tsc_keys_load_rsa_file(k, "/nonexistent.pem", NULL), TSC_ERR_IO);
    /* An EC key is not an RSA key. */
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(ec);
    BIO *b = BIO_new_file(p, "wb");
    ck_assert_int_eq(PEM_write_bio_PrivateKey(b, ec, NULL, NULL, 0, NULL, NULL), 1);
    BIO_free(b);
    ck_assert_int_eq(tsc_keys_load_rsa_file(k, p, NULL), TSC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(g_cap.last, "not an RSA"));
    EVP_PKEY_free(ec);
    /* Empty file. */
    f = fopen(p, "wb");
    fclose(f);
    ck_assert_int_eq(tsc_keys_load_rsa_file(k, p, NULL), TSC_ERR_DECODE);
    ck_assert_uint_eq(tsc_keys_rsa_count(k), 0);
    tsc_keys_free(k);
    unlink(p);
}
END_TEST

START_TEST(test_rsa_match_and_decrypt)
{
    EVP_PKEY *a = shared_key();
    EVP_PKEY *b = gen_rsa();
    EVP_PKEY *c = gen_rsa();
    char pa[512], pb[512];
    path_of(pa, sizeof(pa), "a.pem");
    path_of(pb, sizeof(pb), "b.pem");
    write_key(b, F_PKCS8_PEM, pa, NULL);
    write_key(a, F_PKCS8_PEM, pb, NULL);
    struct tsc_keys *k = new_keys();
    ck_assert_int_eq(tsc_keys_load_rsa_file(k, pa, NULL), TSC_OK); /* index 0: b */
    ck_assert_int_eq(tsc_keys_load_rsa_file(k, pb, NULL), TSC_OK); /* index 1: a */
    X509 *xa = self_signed(a);
    X509 *xc = self_signed(c);
    uint8_t *da = NULL, *dc = NULL;
    size_t la = cert_der(xa, &da), lc = cert_der(xc, &dc);
    uint8_t pms[48], enc[256], got[48];
    memset(pms, 0x5a, 48);
    pms[0] = 3;
    pms[1] = 1; /* a client_version mismatch is tolerated (RFC 5246 7.4.7.1) */
    size_t el = encrypt_pms(a, pms, enc, sizeof(enc));
    int idx = -5;
    bool matched = false;
    /* Certificate of a: exactly key 1, matched, decrypted. Twice: the cache answers. */
    for (int round = 0; round < 2; round++) {
        ck_assert(tsc_keys_rsa_decrypt_pms(k, da, la, enc, el, got, &idx, &matched));
        ck_assert_int_eq(idx, 1);
        ck_assert(matched);
        ck_assert_mem_eq(got, pms, 48);
    }
    /* The certificate named the key: one private operation per premaster. */
    struct tsc_keys_stats st;
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.rsa_private_ops, 2);
    /* Certificate of an unknown key: no key is used. */
    ck_assert(!tsc_keys_rsa_decrypt_pms(k, dc, lc, enc, el, got, &idx, &matched));
    ck_assert(!matched);
    ck_assert_int_eq(idx, -1);
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.rsa_private_ops, 2);
    /* No certificate: every key is tried, the one that decrypts wins. */
    ck_assert(tsc_keys_rsa_decrypt_pms(k, NULL, 0, enc, el, got, &idx, &matched));
    ck_assert_int_eq(idx, 1);
    ck_assert(!matched);
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.rsa_private_ops, 4); /* key 0 (fails), then key 1 */
    /* The foreign key alone fails; so do bad lengths and garbage certificates. */
    ck_assert(!tsc_keys_rsa_decrypt_pms_with(k, 0, enc, el, got));
    ck_assert(!tsc_keys_rsa_decrypt_pms_with(k, 1, enc, el - 1, got));
    ck_assert(!tsc_keys_rsa_decrypt_pms_with(k, 2, enc, el, got));
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.rsa_private_ops, 5); /* a wrong length is refused before any */
    uint8_t junk[40] = {0x30, 0x82};
    ck_assert(!tsc_keys_rsa_decrypt_pms(k, junk, sizeof(junk), enc, el, got, &idx, &matched));
    /* A 47-byte plaintext is not a premaster. */
    uint8_t short_enc[256];
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(a, NULL);
    size_t sl = sizeof(short_enc);
    ck_assert_int_eq(EVP_PKEY_encrypt_init(pc), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING), 1);
    ck_assert_int_eq(EVP_PKEY_encrypt(pc, short_enc, &sl, pms, 47), 1);
    EVP_PKEY_CTX_free(pc);
    ck_assert(!tsc_keys_rsa_decrypt_pms_with(k, 1, short_enc, sl, got));
    OPENSSL_free(da);
    OPENSSL_free(dc);
    X509_free(xa);
    X509_free(xc);
    EVP_PKEY_free(b);
    EVP_PKEY_free(c);
    tsc_keys_free(k);
    unlink(pa);
    unlink(pb);
}
END_TEST

/* Trial candidates: per label, in the order added, repeats not listed twice, bound skipped,
 * positions kept across an aged index generation. */
START_TEST(test_trial_candidates)
{
    struct tsc_keys *k = new_keys();
    char line[256];
    uint64_t first = 0, end = 0;
    uint8_t cr[32], want[32], sec[TSC_MAX_SECRET];
    size_t n = 0;
    bool bound = true;
    tsc_keys_trial_span(k, TSC_KL_CLIENT_TRAFFIC_SECRET_0, &first, &end);
    ck_assert_uint_eq(end - first, 0);
    for (int i = 0; i < 3; i++) {
        snprintf(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0 %02x%s %s", 0xa0 + i, CR + 2, S32);
        ck_assert_int_eq(add(k, line, (uint64_t)i + 1), TSC_OK);
    }
    /* A repeated line and other labels do not add candidates to this list. */
    snprintf(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0 a1%s %s", CR + 2, S48);
    ck_assert_int_eq(add(k, line, 4), TSC_OK);
    snprintf(line, sizeof(line), "SERVER_TRAFFIC_SECRET_0 a1%s %s", CR + 2, S32);
    ck_assert_int_eq(add(k, line, 5), TSC_OK);
    snprintf(line, sizeof(line), "CLIENT_HANDSHAKE_TRAFFIC_SECRET a1%s %s", CR + 2, S32);
    ck_assert_int_eq(add(k, line, 6), TSC_OK);
    tsc_keys_trial_span(k, TSC_KL_CLIENT_TRAFFIC_SECRET_0, &first, &end);
    ck_assert_uint_eq(first, 0);
    ck_assert_uint_eq(end, 3);
    tsc_keys_trial_span(k, TSC_KL_SERVER_TRAFFIC_SECRET_0, &first, &end);
    ck_assert_uint_eq(end - first, 1);
    tsc_keys_trial_span(k, TSC_KL_CLIENT_HANDSHAKE_TRAFFIC_SECRET, &first, &end);
    ck_assert_uint_eq(end - first, 0);
    cr_bytes(want);
    want[0] = 0xa1;
    ck_assert(tsc_keys_trial_get(k, TSC_KL_CLIENT_TRAFFIC_SECRET_0, 1, cr, sec, &n, &bound));
    ck_assert_mem_eq(cr, want, 32);
    ck_assert_uint_eq(n, 48); /* the last line wins */
    ck_assert(!bound);
    ck_assert(!tsc_keys_trial_get(k, TSC_KL_CLIENT_TRAFFIC_SECRET_0, 3, cr, sec, &n, &bound));
    tsc_keys_keylog_bind(k, want);
    ck_assert(tsc_keys_trial_get(k, TSC_KL_CLIENT_TRAFFIC_SECRET_0, 1, cr, sec, &n, &bound));
    ck_assert(bound);
    ck_assert(tsc_keys_trial_get(k, TSC_KL_SERVER_TRAFFIC_SECRET_0, 0, cr, sec, &n, &bound));
    ck_assert(bound); /* both halves of the pair */
    ck_assert(tsc_keys_trial_get(k, TSC_KL_CLIENT_TRAFFIC_SECRET_0, 0, cr, sec, &n, &bound));
    ck_assert(!bound);
    /* Bounded index: generations of 4 entries; positions go on, the oldest go away. */
    struct tsc_keys *b = new_keys();
    tsc_keys_keylog_bound(b, 4);
    for (int i = 0; i < 10; i++) {
        snprintf(line, sizeof(line), "SERVER_TRAFFIC_SECRET_0 %02x%s %s", i, CR + 2, S32);
        ck_assert_int_eq(add(b, line, (uint64_t)i + 1), TSC_OK);
    }
    tsc_keys_trial_span(b, TSC_KL_SERVER_TRAFFIC_SECRET_0, &first, &end);
    ck_assert_uint_eq(first, 4);
    ck_assert_uint_eq(end, 10);
    ck_assert(!tsc_keys_trial_get(b, TSC_KL_SERVER_TRAFFIC_SECRET_0, 3, cr, sec, &n, &bound));
    ck_assert(tsc_keys_trial_get(b, TSC_KL_SERVER_TRAFFIC_SECRET_0, 4, cr, sec, &n, &bound));
    ck_assert_uint_eq(cr[0], 4);
    ck_assert(tsc_keys_trial_get(b, TSC_KL_SERVER_TRAFFIC_SECRET_0, 9, cr, sec, &n, &bound));
    ck_assert_uint_eq(cr[0], 9);
    /* The cap and the cost counters. */
    ck_assert_uint_eq(tsc_keys_trial_max(k), 4096);
    tsc_keys_set_trial_max(k, 7);
    ck_assert_uint_eq(tsc_keys_trial_max(k), 7);
    tsc_keys_set_trial_max(k, 0);
    ck_assert_uint_eq(tsc_keys_trial_max(k), 4096);
    uint64_t cost[TSC_TRIAL_COST__COUNT] = {0};
    cost[TSC_TRIAL_PROBES] = 5;
    tsc_keys_trial_account(k, cost);
    tsc_keys_trial_account(k, cost);
    struct tsc_keys_stats st;
    tsc_keys_get_stats(k, &st);
    ck_assert_uint_eq(st.trial[TSC_TRIAL_PROBES], 10);
    ck_assert_uint_eq(st.trial_candidates, 4);
    ck_assert_str_eq(tsc_trial_cost_name(TSC_TRIAL_TAG_CHECKS), "tag_checks");
    tsc_keys_free(b);
    tsc_keys_free(k);
}
END_TEST

static Suite *keys_suite(void)
{
    Suite *s = suite_create("keys");
    TCase *tc = tcase_create("valid");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_keylog_every_label);
    tcase_add_test(tc, test_keylog_formats);
    tcase_add_test(tc, test_keylog_file);
    tcase_add_test(tc, test_psk);
    tcase_add_test(tc, test_trial_candidates);
    tcase_add_loop_test(tc, test_rsa_formats, 0, F__COUNT);
    tcase_add_test(tc, test_rsa_match_and_decrypt);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, test_keylog_bad_lines, 0, (int)(sizeof(k_bad) / sizeof(k_bad[0])));
    tcase_add_test(tc, test_rsa_bad_files);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_loop_test(tc, test_keylog_truncated, 0, 14 + 64 + 1 + 96 + 1);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, test_keylog_limits);
    tcase_add_test(tc, test_keylog_long_pms);
    tcase_add_test(tc, test_keylog_long_pms_cap);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    (void)tmpdir(); /* created before the forks, removed at the end */
    SRunner *sr = srunner_create(keys_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (g_dir[0] != '\0') {
        rmdir(g_dir);
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
