/*
 * The prelude stage (src/prelude): unit parsers (valid, malformed, truncated
 * at every length, caps) and the per-connection engine (STARTTLS dialogues,
 * tunnels, refusals, caps, gaps), fed whole and cut at every byte.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prelude/parse.h"
#include "prelude/prelude.h"
#include "test_util.h"

static struct tsc_slice S(const void *p, size_t n) {
    struct tsc_slice s = {p, n};
    return s;
}

static struct tsc_slice
STR(const char *s) {
    return S(s, strlen(s));
}

/* Every proper prefix of a complete unit is TRUNCATED. */
#define EVERY_CUT(call_with_len, total)                                                            \
    for (size_t cut_ = 0; cut_ < (total); cut_++) {                                                \
        size_t n_ = cut_;                                                                          \
        ck_assert_msg((call_with_len) == TSC_ERR_TRUNCATED, "cut at %zu of %zu", cut_,             \
                      (size_t)(total));                                                            \
    }

/* ---- text units ---- */

START_TEST(test_line)
{
    struct tsc_slice line;
    size_t n;
    ck_assert_int_eq(tsc_pre_line(STR("EHLO a\r\nrest"), 64, &line, &n), TSC_OK);
    ck_assert_uint_eq(n, 8);
    ck_assert_uint_eq(line.len, 6);
    ck_assert_int_eq(tsc_pre_line(STR("a\n"), 64, &line, &n), TSC_OK);
    ck_assert_uint_eq(line.len, 1);
    ck_assert_int_eq(tsc_pre_line(STR("\r\n"), 64, &line, &n), TSC_OK);
    ck_assert_uint_eq(line.len, 0);
    const char *l = "220 ready\r\n";
    EVERY_CUT(tsc_pre_line(S(l, n_), 64, &line, &n), strlen(l));
    /* A line longer than the cap. */
    char big[100];
    memset(big, 'a', sizeof(big));
    ck_assert_int_eq(tsc_pre_line(S(big, sizeof(big)), 64, &line, &n), TSC_ERR_LIMIT);
    ck_assert_int_eq(tsc_pre_line(S(big, 63), 64, &line, &n), TSC_ERR_TRUNCATED);
    struct tsc_slice u;
    ck_assert_int_eq(tsc_pre_xml(STR("\r\n <proceed/>x"), 64, &u, &n), TSC_OK);
    ck_assert_uint_eq(n, 13);
    ck_assert_uint_eq(u.len, 10);
    ck_assert_int_eq(tsc_pre_xml(STR("<stream"), 64, &u, &n), TSC_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_reply_code)
{
    unsigned code;
    bool last;
    ck_assert_int_eq(tsc_pre_reply_code(STR("220 ok"), &code, &last), TSC_OK);
    ck_assert_uint_eq(code, 220);
    ck_assert(last);
    ck_assert_int_eq(tsc_pre_reply_code(STR("250-PIPELINING"), &code, &last), TSC_OK);
    ck_assert(!last);
    ck_assert_int_eq(tsc_pre_reply_code(STR("234"), &code, &last), TSC_OK);
    ck_assert(last);
    ck_assert_int_eq(tsc_pre_reply_code(STR("22x ok"), &code, &last), TSC_ERR_DECODE);
    ck_assert_int_eq(tsc_pre_reply_code(STR("2200"), &code, &last), TSC_ERR_DECODE);
    ck_assert_int_eq(tsc_pre_reply_code(STR("22"), &code, &last), TSC_ERR_DECODE);
    struct tsc_slice tag;
    struct tsc_slice word;
    ck_assert_int_eq(tsc_pre_imap_words(STR("a1  STARTTLS"), &tag, &word), TSC_OK);
    ck_assert_uint_eq(tag.len, 2);
    ck_assert(tsc_pre_starts(word, "starttls"));
    ck_assert_int_eq(tsc_pre_imap_words(STR("a1"), &tag, &word), TSC_ERR_DECODE);
    ck_assert(tsc_pre_contains(STR("220 vsFTPd ready"), "ftp"));
    ck_assert(!tsc_pre_contains(STR("220 ESMTP"), "ftp"));
}
END_TEST

/* ---- LDAP ---- */

/* What `openssl s_client -starttls ldap` sends: messageID 1, [APPLICATION 23] { [0] OID }. */
static const char LDAP_REQ[] = "301d02010177188016312e332e362e312e342e312e313436362e3230303337";
/* ExtendedResponse, messageID 1, resultCode 0, "", "". */
static const char LDAP_OK[] = "300c02010178070a0100040004 00";
static const char LDAP_FAIL[] = "3013020101780e0a0102040004076e6f20746c7321";

static size_t unhex_sp(const char *h, uint8_t *out, size_t cap)
{
    char clean[512];
    size_t k = 0;
    for (; *h != '\0' && k + 1 < sizeof(clean); h++) {
        if (*h != ' ') {
            clean[k++] = *h;
        }
    }
    clean[k] = '\0';
    return unhex(clean, out, cap);
}

START_TEST(test_ldap)
{
    uint8_t b[256];
    size_t n = unhex(LDAP_REQ, b, sizeof(b));
    size_t used;
    struct tsc_ldap_msg m;
    ck_assert_int_eq(tsc_pre_ber_unit(S(b, n), 4096, &used), TSC_OK);
    ck_assert_uint_eq(used, n);
    EVERY_CUT(tsc_pre_ber_unit(S(b, n_), 4096, &used), n);
    ck_assert_int_eq(tsc_pre_ldap(S(b, n), &m), TSC_OK);
    ck_assert_uint_eq(m.msg_id, 1);
    ck_assert_uint_eq(m.op, 0x77);
    ck_assert_uint_eq(m.req_name.len, strlen(TSC_LDAP_STARTTLS_OID));
    ck_assert(memcmp(m.req_name.p, TSC_LDAP_STARTTLS_OID, m.req_name.len) == 0);
    /* Every cut of the message itself is an error, never a read past it. */
    for (size_t cut = 0; cut < n; cut++) {
        ck_assert_int_ne(tsc_pre_ldap(S(b, cut), &m), TSC_OK);
    }
    /* Cap. */
    ck_assert_int_eq(tsc_pre_ber_unit(S(b, n), 16, &used), TSC_ERR_LIMIT);
    /* Not a SEQUENCE; indefinite length; 5-byte length; negative messageID. */
    b[0] = 0x31;
    ck_assert_int_eq(tsc_pre_ber_unit(S(b, n), 4096, &used), TSC_ERR_DECODE);
    uint8_t indef[] = {0x30, 0x80, 0x02, 0x01, 0x01};
    ck_assert_int_eq(tsc_pre_ber_unit(S(indef, sizeof(indef)), 4096, &used), TSC_ERR_DECODE);
    uint8_t huge[] = {0x30, 0x85, 1, 0, 0, 0, 0};
    ck_assert_int_eq(tsc_pre_ber_unit(S(huge, sizeof(huge)), 4096, &used), TSC_ERR_DECODE);
    uint8_t neg[] = {0x30, 0x05, 0x02, 0x01, 0xff, 0x42, 0x00};
    ck_assert_int_eq(tsc_pre_ldap(S(neg, sizeof(neg)), &m), TSC_ERR_DECODE);
    /* Responses. */
    n = unhex_sp(LDAP_OK, b, sizeof(b));
    ck_assert_int_eq(tsc_pre_ldap(S(b, n), &m), TSC_OK);
    ck_assert_uint_eq(m.op, 0x78);
    ck_assert(m.have_result);
    ck_assert_uint_eq(m.result, 0);
    n = unhex_sp(LDAP_FAIL, b, sizeof(b));
    ck_assert_int_eq(tsc_pre_ldap(S(b, n), &m), TSC_OK);
    ck_assert_uint_eq(m.result, 2);
    ck_assert_uint_eq(m.diag.len, 7);
}
END_TEST

/* ---- PostgreSQL ---- */

START_TEST(test_pg)
{
    static const uint8_t ssl[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
    uint32_t code;
    size_t used;
    ck_assert_int_eq(tsc_pre_pg_startup(S(ssl, 8), 4096, &code, &used), TSC_OK);
    ck_assert_uint_eq(code, TSC_PG_SSL_REQUEST);
    ck_assert_uint_eq(used, 8);
    EVERY_CUT(tsc_pre_pg_startup(S(ssl, n_), 4096, &code, &used), 8);
    static const uint8_t short_len[] = {0, 0, 0, 4, 0, 3, 0, 0};
    ck_assert_int_eq(tsc_pre_pg_startup(S(short_len, 8), 4096, &code, &used), TSC_ERR_DECODE);
    static const uint8_t big[] = {0, 1, 0, 0, 0, 3, 0, 0};
    ck_assert_int_eq(tsc_pre_pg_startup(S(big, 8), 4096, &code, &used), TSC_ERR_LIMIT);
    uint8_t type;
    static const uint8_t err[] = {'E', 0, 0, 0, 6, 'S', 0};
    ck_assert_int_eq(tsc_pre_pg_typed(S(err, sizeof(err)), 4096, &type, &used), TSC_OK);
    ck_assert_uint_eq(used, 7);
    EVERY_CUT(tsc_pre_pg_typed(S(err, n_), 4096, &type, &used), sizeof(err));
    static const uint8_t bad[] = {0x01, 0, 0, 0, 4};
    ck_assert_int_eq(tsc_pre_pg_typed(S(bad, sizeof(bad)), 4096, &type, &used), TSC_ERR_DECODE);
}
END_TEST

/* ---- SOCKS ---- */

START_TEST(test_socks4)
{
    static const uint8_t r4[] = {4, 1, 0x01, 0xbb, 10, 0, 0, 1, 'u', 0};
    static const uint8_t r4a[] = {4, 1, 0x01, 0xbb, 0, 0, 0, 1, 0, 'e', 'x', '.', 't', 0};
    struct tsc_socks4_req r;
    size_t used;
    ck_assert_int_eq(tsc_pre_socks4_req(S(r4, sizeof(r4)), &r, &used), TSC_OK);
    ck_assert_uint_eq(used, sizeof(r4));
    ck_assert_str_eq(r.target.host, "10.0.0.1");
    ck_assert_uint_eq(r.target.port, 443);
    ck_assert(!r.socks4a);
    EVERY_CUT(tsc_pre_socks4_req(S(r4, n_), &r, &used), sizeof(r4));
    ck_assert_int_eq(tsc_pre_socks4_req(S(r4a, sizeof(r4a)), &r, &used), TSC_OK);
    ck_assert(r.socks4a);
    ck_assert_str_eq(r.target.host, "ex.t");
    EVERY_CUT(tsc_pre_socks4_req(S(r4a, n_), &r, &used), sizeof(r4a));
    /* A USERID of more than 255 bytes without its NUL. */
    uint8_t longu[300];
    memcpy(longu, r4, 8);
    memset(longu + 8, 'u', sizeof(longu) - 8);
    ck_assert_int_eq(tsc_pre_socks4_req(S(longu, sizeof(longu)), &r, &used), TSC_ERR_DECODE);
    static const uint8_t v5[] = {5, 1, 0, 80, 1, 2, 3, 4, 0};
    ck_assert_int_eq(tsc_pre_socks4_req(S(v5, sizeof(v5)), &r, &used), TSC_ERR_DECODE);
    uint8_t cd;
    static const uint8_t rep[] = {0, 91, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(tsc_pre_socks4_reply(S(rep, 8), &cd, &used), TSC_OK);
    ck_assert_uint_eq(cd, 91);
    EVERY_CUT(tsc_pre_socks4_reply(S(rep, n_), &cd, &used), 8);
    static const uint8_t badrep[] = {0, 17, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(tsc_pre_socks4_reply(S(badrep, 8), &cd, &used), TSC_ERR_DECODE);
}
END_TEST

START_TEST(test_socks5)
{
    bool up;
    size_t used;
    uint8_t code;
    static const uint8_t greet[] = {5, 2, 0, 2};
    ck_assert_int_eq(tsc_pre_socks5_greeting(S(greet, 4), &up, &used), TSC_OK);
    ck_assert(up);
    EVERY_CUT(tsc_pre_socks5_greeting(S(greet, n_), &up, &used), 4);
    static const uint8_t none[] = {5, 0};
    ck_assert_int_eq(tsc_pre_socks5_greeting(S(none, 2), &up, &used), TSC_ERR_DECODE);
    static const uint8_t auth[] = {1, 2, 'u', 'v', 3, 'p', 'w', 'd'};
    ck_assert_int_eq(tsc_pre_socks5_userpass(S(auth, sizeof(auth)), &used), TSC_OK);
    ck_assert_uint_eq(used, sizeof(auth));
    EVERY_CUT(tsc_pre_socks5_userpass(S(auth, n_), &used), sizeof(auth));
    struct tsc_pre_target t;
    static const uint8_t dom[] = {5, 1, 0, 3, 4, 'a', '.', 'b', 'c', 0x01, 0xbb};
    ck_assert_int_eq(tsc_pre_socks5_msg(S(dom, sizeof(dom)), &code, &t, &used), TSC_OK);
    ck_assert_str_eq(t.host, "a.bc");
    ck_assert_uint_eq(t.port, 443);
    EVERY_CUT(tsc_pre_socks5_msg(S(dom, n_), &code, &t, &used), sizeof(dom));
    uint8_t v6[22] = {5, 0, 0, 4};
    v6[19] = 1;
    v6[21] = 80;
    ck_assert_int_eq(tsc_pre_socks5_msg(S(v6, sizeof(v6)), &code, &t, &used), TSC_OK);
    ck_assert_str_eq(t.host, "::1");
    ck_assert_uint_eq(t.port, 80);
    uint8_t bad_atyp[] = {5, 1, 0, 2, 1, 2, 3, 4, 0, 80};
    ck_assert_int_eq(tsc_pre_socks5_msg(S(bad_atyp, sizeof(bad_atyp)), &code, &t, &used),
                     TSC_ERR_DECODE);
    uint8_t bad_rsv[] = {5, 1, 7, 1, 1, 2, 3, 4, 0, 80};
    ck_assert_int_eq(tsc_pre_socks5_msg(S(bad_rsv, sizeof(bad_rsv)), &code, &t, &used),
                     TSC_ERR_DECODE);
}
END_TEST

/* ---- HTTP ---- */

START_TEST(test_http)
{
    struct tsc_pre_target t;
    ck_assert_int_eq(tsc_pre_http_connect(STR("CONNECT example.com:443 HTTP/1.1"), &t), TSC_OK);
    ck_assert_str_eq(t.host, "example.com");
    ck_assert_uint_eq(t.port, 443);
    ck_assert_int_eq(tsc_pre_http_connect(STR("CONNECT [2001:db8::1]:8443 HTTP/1.0"), &t), TSC_OK);
    ck_assert_str_eq(t.host, "2001:db8::1");
    ck_assert_uint_eq(t.port, 8443);
    const char *bad[] = {"CONNECT example.com HTTP/1.1", "CONNECT example.com:70000 HTTP/1.1",
                         "CONNECT :443 HTTP/1.1",        "GET / HTTP/1.1",
                         "CONNECT a:1 HTTP/2.0",         "CONNECT a:1 HTTP/1.1 x",
                         "CONNECT a:1x HTTP/1.1",        "CONNECT a:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(tsc_pre_http_connect(STR(bad[i]), &t) == TSC_ERR_DECODE, "%s", bad[i]);
    }
    unsigned code;
    ck_assert_int_eq(tsc_pre_http_status(STR("HTTP/1.1 200 Connection established"), &code),
                     TSC_OK);
    ck_assert_uint_eq(code, 200);
    ck_assert_int_eq(tsc_pre_http_status(STR("SSH-2.0-OpenSSH"), &code), TSC_ERR_DECODE);
    ck_assert_int_eq(tsc_pre_http_status(STR("HTTP/1.1 20 x"), &code), TSC_ERR_DECODE);
    uint64_t len;
    ck_assert_int_eq(tsc_pre_http_content_length(STR("Content-Length: 13"), &len), TSC_OK);
    ck_assert_uint_eq(len, 13);
    ck_assert_int_eq(tsc_pre_http_content_length(STR("content-length:7 "), &len), TSC_OK);
    ck_assert_int_eq(tsc_pre_http_content_length(STR("Content-Type: x"), &len), TSC_ERR_DECODE);
    ck_assert_int_eq(tsc_pre_http_content_length(STR("Content-Length: 1 2"), &len), TSC_ERR_DECODE);
    char out[8];
    tsc_pre_copy_text(S("a\x01\xffzzzzzzzzz", 12), out, sizeof(out));
    ck_assert_str_eq(out, "a..zzzz");
}
END_TEST

/* ---- the engine ---- */

/* A ClientHello record header and a few bytes (what follows a STARTTLS go-ahead). */
static const uint8_t TLS_CH[] = {0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0};
static const uint8_t TLS_SH[] = {0x16, 3, 3, 0, 5, 2, 0, 0, 1, 0};

struct drive {
    struct tsc_diag_sink sink;
    struct tsc_prelude p;
    uint64_t prelude[2];
    uint8_t tls[2][8192];
    size_t tls_len[2];
    int events;
    enum tsc_prelude_event ev[4];
};

static void take(struct drive *d, int dir, const struct tsc_prelude_step *st, const uint8_t *b,
                 size_t n)
{
    d->prelude[dir] += st->prelude_bytes;
    ck_assert_uint_le(d->tls_len[dir] + st->held.len + (n - st->pass_from), sizeof(d->tls[dir]));
    if (st->held.len > 0) {
        memcpy(d->tls[dir] + d->tls_len[dir], st->held.p, st->held.len);
        d->tls_len[dir] += st->held.len;
    }
    ck_assert_uint_le(st->pass_from, n);
    if (n > st->pass_from) {
        memcpy(d->tls[dir] + d->tls_len[dir], b + st->pass_from, n - st->pass_from);
        d->tls_len[dir] += n - st->pass_from;
    }
    enum tsc_prelude_event k;
    while (tsc_prelude_next_event(&d->p, &k)) {
        ck_assert_int_lt(d->events, 4);
        d->ev[d->events++] = k;
    }
}

static void drive_init(struct drive *d, uint32_t max_unit, uint32_t max_bytes)
{
    struct tsc_prelude_config cfg;
    memset(d, 0, sizeof(*d));
    tsc_prelude_config_default(&cfg);
    if (max_unit != 0) {
        cfg.max_unit = max_unit;
    }
    if (max_bytes != 0) {
        cfg.max_bytes = max_bytes;
    }
    cfg.sink = &d->sink;
    tsc_prelude_init(&d->p, &cfg, 1);
}

static const struct tsc_ts T0 = {0, 0};

static void feed(struct drive *d, int dir, const uint8_t *b, size_t n)
{
    struct tsc_prelude_step st;
    if (tsc_prelude_passing(&d->p, dir)) {
        struct tsc_prelude_step all = {0, {NULL, 0}, 0};
        take(d, dir, &all, b, n);
        return;
    }
    tsc_prelude_data(&d->p, dir, b, n, 1, T0, &st);
    take(d, dir, &st, b, n);
}

static void finish(struct drive *d)
{
    struct tsc_prelude_step st;
    for (int dir = 0; dir < 2; dir++) {
        tsc_prelude_end(&d->p, dir, &st);
        take(d, dir, &st, NULL, 0);
    }
    tsc_prelude_close(&d->p);
    enum tsc_prelude_event k;
    while (tsc_prelude_next_event(&d->p, &k)) {
        d->ev[d->events++] = k;
    }
}

/* A dialogue: steps of (dir, bytes); each step fed in pieces of `seg` bytes. */
struct step {
    int dir;
    const uint8_t *b;
    size_t n;
};

static void run_steps(struct drive *d, const struct step *s, size_t ns, size_t seg)
{
    for (size_t i = 0; i < ns; i++) {
        for (size_t off = 0; off < s[i].n; off += seg) {
            size_t k = s[i].n - off < seg ? s[i].n - off : seg;
            feed(d, s[i].dir, s[i].b + off, k);
        }
    }
    finish(d);
}

#define T(str) (const uint8_t *)(str), sizeof(str) - 1

/* Bytes of each direction are either prelude or handed on, in order, none lost. */
static void check_conservation(const struct drive *d, const struct step *s, size_t ns)
{
    for (int dir = 0; dir < 2; dir++) {
        uint8_t all[8192];
        size_t n = 0;
        for (size_t i = 0; i < ns; i++) {
            if (s[i].dir == dir) {
                memcpy(all + n, s[i].b, s[i].n);
                n += s[i].n;
            }
        }
        ck_assert_uint_eq(d->prelude[dir] + d->tls_len[dir], n);
        ck_assert(memcmp(all + d->prelude[dir], d->tls[dir], d->tls_len[dir]) == 0);
    }
}

static const struct step SMTP[] = {
    {1, T("220 mx.test ESMTP ready\r\n")},
    {0, T("EHLO c.test\r\n")},
    {1, T("250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")},
    {0, T("STARTTLS\r\n")},
    {1, T("220 2.0.0 Ready to start TLS\r\n")},
    {0, TLS_CH, sizeof(TLS_CH)},
    {1, TLS_SH, sizeof(TLS_SH)},
};

START_TEST(test_smtp_every_segmentation)
{
    for (size_t seg = 1; seg <= 64; seg++) {
        struct drive d;
        drive_init(&d, 0, 0);
        run_steps(&d, SMTP, sizeof(SMTP) / sizeof(SMTP[0]), seg);
        check_conservation(&d, SMTP, sizeof(SMTP) / sizeof(SMTP[0]));
        const struct tsc_prelude_facts *f = tsc_prelude_facts(&d.p);
        ck_assert_str_eq(f->starttls, "smtp");
        ck_assert_uint_eq(f->starttls_outcome, TSC_PRELUDE_UPGRADED);
        ck_assert_str_eq(f->banner, "220 mx.test ESMTP ready");
        ck_assert_str_eq(f->command, "STARTTLS");
        ck_assert_str_eq(f->reply, "220 2.0.0 Ready to start TLS");
        ck_assert_uint_eq(d.tls_len[0], sizeof(TLS_CH));
        ck_assert_uint_eq(d.tls_len[1], sizeof(TLS_SH));
        ck_assert_int_eq(d.events, 1);
        ck_assert_int_eq(d.ev[0], TSC_PRELUDE_EV_STARTTLS);
        tsc_prelude_free(&d.p);
    }
}
END_TEST

START_TEST(test_direct_tls_passes_at_once)
{
    struct drive d;
    drive_init(&d, 0, 0);
    feed(&d, 0, TLS_CH, sizeof(TLS_CH));
    ck_assert(tsc_prelude_passing(&d.p, 0));
    ck_assert(tsc_prelude_passing(&d.p, 1));
    ck_assert_uint_eq(d.tls_len[0], sizeof(TLS_CH));
    ck_assert_ptr_null(d.p.d[0].unit.p); /* nothing was buffered */
    finish(&d);
    ck_assert_ptr_null(tsc_prelude_facts(&d.p)->starttls);
    ck_assert_int_eq(d.events, 0);
    tsc_prelude_free(&d.p);
}
END_TEST

START_TEST(test_unknown_protocol_replayed)
{
    /* An HTTP request is held until its line is complete, then handed on whole. */
    static const struct step s[] = {
        {0, T("GET / HTTP/1.1\r\nHost: a\r\n\r\n")},
        {1, T("HTTP/1.1 200 OK\r\n\r\n")},
    };
    for (size_t seg = 1; seg <= 8; seg++) {
        struct drive d;
        drive_init(&d, 0, 0);
        run_steps(&d, s, 2, seg);
        check_conservation(&d, s, 2);
        ck_assert_uint_eq(d.prelude[0] + d.prelude[1], 0);
        ck_assert_int_eq(d.events, 0);
        tsc_prelude_free(&d.p);
    }
}
END_TEST

static void check_dialogue(const struct step *s, size_t ns, const char *proto, uint8_t outcome,
                           const char *command, const char *reply)
{
    for (size_t seg = 1; seg <= 33; seg += 4) {
        struct drive d;
        drive_init(&d, 0, 0);
        run_steps(&d, s, ns, seg);
        check_conservation(&d, s, ns);
        const struct tsc_prelude_facts *f = tsc_prelude_facts(&d.p);
        ck_assert_ptr_nonnull(f->starttls);
        ck_assert_str_eq(f->starttls, proto);
        ck_assert_uint_eq(f->starttls_outcome, outcome);
        if (command != NULL) {
            ck_assert_str_eq(f->command, command);
        }
        if (reply != NULL) {
            ck_assert_str_eq(f->reply, reply);
        }
        ck_assert_int_eq(d.events, 1);
        tsc_prelude_free(&d.p);
    }
}

START_TEST(test_protocols)
{
    static const struct step imap[] = {
        {1, T("* OK IMAP ready\r\n")}, {0, T("a1 STARTTLS\r\n")},   {1, T("a1 OK go\r\n")},
        {0, TLS_CH, sizeof(TLS_CH)},   {1, TLS_SH, sizeof(TLS_SH)},
    };
    check_dialogue(imap, 5, "imap", TSC_PRELUDE_UPGRADED, "a1 STARTTLS", "a1 OK go");
    static const struct step pop3[] = {
        {1, T("+OK ready\r\n")},
        {0, T("STLS\r\n")},
        {1, T("-ERR no\r\n")},
        {0, T("QUIT\r\n")},
    };
    check_dialogue(pop3, 4, "pop3", TSC_PRELUDE_REFUSED, "STLS", "-ERR no");
    static const struct step ftp[] = {
        {1, T("220-Welcome\r\n220 FTP ready\r\n")},
        {0, T("AUTH TLS\r\n")},
        {1, T("234 go\r\n")},
        {0, TLS_CH, sizeof(TLS_CH)},
    };
    check_dialogue(ftp, 4, "ftp", TSC_PRELUDE_UPGRADED, "AUTH TLS", "234 go");
    /* "220" without a hint: SMTP until the client's FTP command says otherwise. */
    static const struct step ftp2[] = {
        {1, T("220 ready\r\n")},
        {0, T("AUTH SSL\r\n")},
        {1, T("334 ok\r\n")},
        {0, TLS_CH, sizeof(TLS_CH)},
    };
    check_dialogue(ftp2, 4, "ftp", TSC_PRELUDE_UPGRADED, "AUTH SSL", "334 ok");
    static const struct step xmpp[] = {
        {0, T("<?xml version='1.0'?><stream:stream to='s'>")},
        {1, T("<stream:stream from='s'><stream:features><starttls/></stream:features>")},
        {0, T("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")},
        {1, T("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")},
        {0, TLS_CH, sizeof(TLS_CH)},
    };
    check_dialogue(xmpp, 5, "xmpp", TSC_PRELUDE_UPGRADED, NULL,
                   "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    static uint8_t req[64];
    static uint8_t fail[64];
    size_t nreq = unhex(LDAP_REQ, req, sizeof(req));
    size_t nfail = unhex_sp(LDAP_FAIL, fail, sizeof(fail));
    const struct step ldap[] = {{0, req, nreq}, {1, fail, nfail}};
    check_dialogue(ldap, 2, "ldap", TSC_PRELUDE_REFUSED, NULL,
                   "ExtendedResponse resultCode 2 no tls!");
    static const uint8_t ssl[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
    const struct step pg[] = {
        {0, ssl, 8}, {1, T("S")}, {0, TLS_CH, sizeof(TLS_CH)}, {1, TLS_SH, sizeof(TLS_SH)}};
    check_dialogue(pg, 4, "postgres", TSC_PRELUDE_UPGRADED, "SSLRequest", "S");
    /* A session that never asks. */
    static const struct step plain[] = {
        {1, T("220 mail ESMTP\r\n")}, {0, T("EHLO x\r\n")},  {1, T("250 ok\r\n")},
        {0, T("QUIT\r\n")},           {1, T("221 bye\r\n")},
    };
    check_dialogue(plain, 5, "smtp", TSC_PRELUDE_NOT_REQUESTED, "", "");
    /* Asked, never answered. */
    static const struct step noreply[] = {{1, T("+OK\r\n")}, {0, T("STLS\r\n")}};
    check_dialogue(noreply, 2, "pop3", TSC_PRELUDE_NO_REPLY, "STLS", "");
}
END_TEST

START_TEST(test_tunnels)
{
    static const uint8_t greet[] = {5, 1, 0};
    static const uint8_t choice[] = {5, 0};
    static const uint8_t req[] = {5, 1, 0, 3, 6, 's', '.', 't', 'e', 's', 't', 0x01, 0xbb};
    static const uint8_t ok[] = {5, 0, 0, 1, 127, 0, 0, 1, 0x01, 0xbb};
    /* SOCKS5, then SMTP STARTTLS inside the tunnel. */
    const struct step s5[] = {
        {0, greet, 3},
        {1, choice, 2},
        {0, req, sizeof(req)},
        {1, ok, sizeof(ok)},
        {1, T("220 inner ESMTP\r\n")},
        {0, T("STARTTLS\r\n")},
        {1, T("220 go\r\n")},
        {0, TLS_CH, sizeof(TLS_CH)},
    };
    for (size_t seg = 1; seg <= 16; seg++) {
        struct drive d;
        drive_init(&d, 0, 0);
        run_steps(&d, s5, 8, seg);
        check_conservation(&d, s5, 8);
        const struct tsc_prelude_facts *f = tsc_prelude_facts(&d.p);
        ck_assert_str_eq(f->tunnel, "socks5");
        ck_assert_uint_eq(f->tunnel_outcome, TSC_PRELUDE_UPGRADED);
        ck_assert_str_eq(f->tunnel_host, "s.test");
        ck_assert_uint_eq(f->tunnel_port, 443);
        ck_assert_str_eq(f->tunnel_auth, "none");
        ck_assert_str_eq(f->starttls, "smtp");
        ck_assert_uint_eq(f->starttls_outcome, TSC_PRELUDE_UPGRADED);
        ck_assert_int_eq(d.events, 2);
        ck_assert_int_eq(d.ev[0], TSC_PRELUDE_EV_TUNNEL);
        ck_assert_int_eq(d.ev[1], TSC_PRELUDE_EV_STARTTLS);
        tsc_prelude_free(&d.p);
    }
    /* CONNECT: 407 with a body, a second request, 200, TLS. */
    static const struct step c[] = {
        {0, T("CONNECT h.test:8443 HTTP/1.1\r\nHost: h.test\r\n\r\n")},
        {1, T("HTTP/1.1 407 Auth\r\nContent-Length: 5\r\n\r\nnope!")},
        {0, T("CONNECT h.test:8443 HTTP/1.1\r\nProxy-Authorization: x\r\n\r\n")},
        {1, T("HTTP/1.1 200 OK\r\n\r\n")},
        {0, TLS_CH, sizeof(TLS_CH)},
        {1, TLS_SH, sizeof(TLS_SH)},
    };
    for (size_t seg = 1; seg <= 16; seg++) {
        struct drive d;
        drive_init(&d, 0, 0);
        run_steps(&d, c, 6, seg);
        check_conservation(&d, c, 6);
        const struct tsc_prelude_facts *f = tsc_prelude_facts(&d.p);
        ck_assert_str_eq(f->tunnel, "connect");
        ck_assert_uint_eq(f->tunnel_outcome, TSC_PRELUDE_UPGRADED);
        ck_assert_str_eq(f->tunnel_host, "h.test");
        ck_assert_uint_eq(f->tunnel_port, 8443);
        ck_assert_uint_eq(d.tls_len[1], sizeof(TLS_SH));
        ck_assert_uint_eq(d.sink.counts[TSC_DIAG_PRELUDE_REFUSED], 1);
        tsc_prelude_free(&d.p);
    }
    /* Garbage from the proxy: malformed, the rest goes on. */
    static const struct step g[] = {
        {0, T("CONNECT h:1 HTTP/1.1\r\n\r\n")},
        {1, T("SSH-2.0-x\r\nmore")},
    };
    struct drive d;
    drive_init(&d, 0, 0);
    run_steps(&d, g, 2, 3);
    check_conservation(&d, g, 2);
    ck_assert_uint_eq(tsc_prelude_facts(&d.p)->tunnel_outcome, TSC_PRELUDE_MALFORMED);
    ck_assert_uint_eq(d.sink.counts[TSC_DIAG_PRELUDE_MALFORMED], 1);
    ck_assert_uint_eq(d.tls_len[1], 15);
    tsc_prelude_free(&d.p);
    /* SOCKS4 rejected. */
    static const uint8_t r4[] = {4, 1, 0x01, 0xbb, 10, 0, 0, 1, 0};
    static const uint8_t rej[] = {0, 91, 0, 0, 0, 0, 0, 0};
    const struct step s4[] = {{0, r4, sizeof(r4)}, {1, rej, 8}};
    drive_init(&d, 0, 0);
    run_steps(&d, s4, 2, 1);
    check_conservation(&d, s4, 2);
    ck_assert_uint_eq(tsc_prelude_facts(&d.p)->tunnel_outcome, TSC_PRELUDE_REFUSED);
    ck_assert_str_eq(tsc_prelude_facts(&d.p)->tunnel_host, "10.0.0.1");
    tsc_prelude_free(&d.p);
}
END_TEST

START_TEST(test_caps)
{
    /* A line longer than the unit cap: prelude-limit, the rest is handed on. */
    static uint8_t longline[300];
    memset(longline, 'x', sizeof(longline));
    const struct step s[] = {{1, T("220 hi\r\n")}, {1, longline, sizeof(longline)}};
    for (size_t seg = 1; seg <= 40; seg += 13) {
        struct drive d;
        drive_init(&d, 128, 0);
        run_steps(&d, s, 2, seg);
        check_conservation(&d, s, 2);
        ck_assert_uint_eq(d.sink.counts[TSC_DIAG_PRELUDE_LIMIT], 1);
        ck_assert_uint_eq(tsc_prelude_facts(&d.p)->starttls_outcome, TSC_PRELUDE_LIMIT);
        ck_assert_uint_le(d.p.d[1].unit.cap, 128);
        tsc_prelude_free(&d.p);
    }
    /* Many short lines beyond the per-direction cap. */
    static uint8_t many[2000];
    for (size_t i = 0; i < sizeof(many); i += 10) {
        memcpy(many + i, "250-line\r\n", 10);
    }
    const struct step s2[] = {{1, T("220 hi\r\n")}, {1, many, sizeof(many)}};
    struct drive d;
    drive_init(&d, 0, 512);
    run_steps(&d, s2, 2, 100);
    check_conservation(&d, s2, 2);
    ck_assert_uint_eq(d.sink.counts[TSC_DIAG_PRELUDE_LIMIT], 1);
    ck_assert_uint_le(d.prelude[1], 512 + 10);
    tsc_prelude_free(&d.p);
}
END_TEST

START_TEST(test_gap_and_swap)
{
    struct drive d;
    struct tsc_prelude_step st;
    drive_init(&d, 0, 0);
    feed(&d, 1, T("220 hi\r\n250-x"));
    tsc_prelude_gap(&d.p, 1, 2, T0, &st);
    take(&d, 1, &st, NULL, 0);
    /* The partial line goes on (before the gap); the outcome says why it stopped. */
    ck_assert_uint_eq(d.tls_len[1], 5);
    ck_assert(tsc_prelude_passing(&d.p, 1));
    ck_assert_uint_eq(tsc_prelude_facts(&d.p)->starttls_outcome, TSC_PRELUDE_GAP);
    tsc_prelude_free(&d.p);
    /* Swapped roles swap the directions' state. */
    drive_init(&d, 0, 0);
    feed(&d, 0, T("EH"));
    tsc_prelude_swap(&d.p);
    ck_assert_uint_eq(d.p.d[1].unit.len, 2);
    ck_assert_uint_eq(d.p.d[0].unit.len, 0);
    tsc_prelude_free(&d.p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("prelude");
    TCase *tc = tcase_create("parsers");
    tcase_add_test(tc, test_line);
    tcase_add_test(tc, test_reply_code);
    tcase_add_test(tc, test_ldap);
    tcase_add_test(tc, test_pg);
    tcase_add_test(tc, test_socks4);
    tcase_add_test(tc, test_socks5);
    tcase_add_test(tc, test_http);
    suite_add_tcase(s, tc);
    tc = tcase_create("engine");
    tcase_add_test(tc, test_smtp_every_segmentation);
    tcase_add_test(tc, test_direct_tls_passes_at_once);
    tcase_add_test(tc, test_unknown_protocol_replayed);
    tcase_add_test(tc, test_protocols);
    tcase_add_test(tc, test_tunnels);
    tcase_add_test(tc, test_caps);
    tcase_add_test(tc, test_gap_and_swap);
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
