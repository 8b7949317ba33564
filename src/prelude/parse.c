/* Prelude unit parsers (see parse.h). Every read goes through the cursor. */
#include "prelude/parse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

bool tsc_pre_starts(struct tsc_slice s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (s.len < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower(tsc_pre_byte(s, i)) != lower((unsigned char)prefix[i])) {
            return false;
        }
    }
    return true;
}

bool tsc_pre_contains(struct tsc_slice s, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= s.len && i <= s.len - n; i++) {
        struct tsc_slice t = {s.p + i, s.len - i};
        if (tsc_pre_starts(t, needle)) {
            return true;
        }
    }
    return false;
}

/* Unit ending with byte `end` (included), at most cap bytes. */
static enum tsc_err unit_through(struct tsc_slice in, size_t cap, uint8_t end, size_t *unit_len)
{
    size_t lim = in.len < cap ? in.len : cap;
    const uint8_t *q = memchr(in.p, end, lim);
    if (q == NULL) {
        return in.len >= cap ? TSC_ERR_LIMIT : TSC_ERR_TRUNCATED;
    }
    *unit_len = (size_t)(q - in.p) + 1;
    return TSC_OK;
}

enum tsc_err tsc_pre_line(struct tsc_slice in, size_t cap, struct tsc_slice *line, size_t *unit_len)
{
    size_t n;
    TSC_TRY(unit_through(in, cap, '\n', &n));
    size_t len = n - 1;
    if (len > 0 && tsc_pre_byte(in, len - 1) == '\r') {
        len--;
    }
    line->p = in.p;
    line->len = len;
    *unit_len = n;
    return TSC_OK;
}

enum tsc_err tsc_pre_xml(struct tsc_slice in, size_t cap, struct tsc_slice *unit, size_t *unit_len)
{
    size_t n;
    TSC_TRY(unit_through(in, cap, '>', &n));
    /* The unit without the whitespace between stanzas. */
    size_t skip = 0;
    for (int b = tsc_pre_byte(in, 0); skip < n && (b == ' ' || b == '\r' || b == '\n' || b == '\t');
         b = tsc_pre_byte(in, ++skip)) {
    }
    unit->p = in.p + skip;
    unit->len = n - skip;
    *unit_len = n;
    return TSC_OK;
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

enum tsc_err tsc_pre_reply_code(struct tsc_slice line, unsigned *code, bool *last)
{
    struct tsc_cur c = tsc_cur_from_slice(line);
    uint8_t d[3];
    TSC_ENSURE(tsc_cur_copy(&c, 3, d) == TSC_OK, TSC_ERR_DECODE);
    TSC_ENSURE(is_digit(d[0]) && is_digit(d[1]) && is_digit(d[2]), TSC_ERR_DECODE);
    uint8_t sep = ' ';
    if (c.left > 0) {
        TSC_TRY(tsc_cur_u8(&c, &sep));
        TSC_ENSURE(sep == ' ' || sep == '-', TSC_ERR_DECODE);
    }
    *code = (unsigned)(d[0] - '0') * 100 + (unsigned)(d[1] - '0') * 10 + (unsigned)(d[2] - '0');
    *last = sep == ' ';
    return TSC_OK;
}

/* Next space-separated token of c (leading spaces skipped). */
static struct tsc_slice token(struct tsc_cur *c)
{
    uint8_t b;
    while (tsc_cur_peek_u8(c, 0, &b) == TSC_OK && b == ' ') {
        if (tsc_cur_skip(c, 1) != TSC_OK) {
            break;
        }
    }
    size_t n = 0;
    while (tsc_cur_peek_u8(c, n, &b) == TSC_OK && b != ' ') {
        n++;
    }
    struct tsc_slice s = {c->p, 0};
    if (tsc_cur_bytes(c, n, &s) != TSC_OK) {
        s.len = 0; /* cannot happen: n bytes were peeked */
    }
    return s;
}

enum tsc_err tsc_pre_imap_words(struct tsc_slice line, struct tsc_slice *tag,
                                struct tsc_slice *word)
{
    struct tsc_cur c = tsc_cur_from_slice(line);
    *tag = token(&c);
    *word = token(&c);
    TSC_ENSURE(tag->len > 0 && word->len > 0, TSC_ERR_DECODE);
    return TSC_OK;
}

/* ---- BER (X.690) as used by LDAP (RFC 4511 5.1: definite lengths only) ---- */

static enum tsc_err ber_len(struct tsc_cur *c, size_t *len)
{
    uint8_t b;
    TSC_TRY(tsc_cur_u8(c, &b));
    if (b < 0x80) {
        *len = b;
        return TSC_OK;
    }
    unsigned n = b & 0x7f;
    TSC_ENSURE(n >= 1 && n <= 4, TSC_ERR_DECODE);
    size_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        TSC_TRY(tsc_cur_u8(c, &b));
        v = (v << 8) | b;
    }
    *len = v;
    return TSC_OK;
}

/* One TLV: its tag and a cursor over its contents. */
static enum tsc_err ber_tlv(struct tsc_cur *c, uint8_t *tag, struct tsc_cur *body)
{
    struct tsc_cur t = *c;
    size_t len;
    struct tsc_slice s;
    TSC_TRY(tsc_cur_u8(&t, tag));
    TSC_ENSURE((*tag & 0x1f) != 0x1f, TSC_ERR_DECODE); /* no multi-byte tags in LDAP */
    TSC_TRY(ber_len(&t, &len));
    TSC_TRY(tsc_cur_bytes(&t, len, &s));
    *body = tsc_cur_from_slice(s);
    *c = t;
    return TSC_OK;
}

static enum tsc_err ber_uint(struct tsc_cur *body, uint32_t *out)
{
    TSC_ENSURE(body->left >= 1 && body->left <= 5, TSC_ERR_DECODE);
    uint8_t b;
    uint64_t v = 0;
    TSC_TRY(tsc_cur_peek_u8(body, 0, &b));
    TSC_ENSURE((b & 0x80) == 0, TSC_ERR_DECODE); /* non-negative */
    while (body->left > 0) {
        TSC_TRY(tsc_cur_u8(body, &b));
        v = (v << 8) | b;
    }
    TSC_ENSURE(v <= 0x7fffffffu, TSC_ERR_DECODE);
    *out = (uint32_t)v;
    return TSC_OK;
}

enum tsc_err tsc_pre_ber_unit(struct tsc_slice in, size_t cap, size_t *unit_len)
{
    struct tsc_cur c = tsc_cur_from_slice(in);
    uint8_t tag;
    size_t len;
    TSC_TRY(tsc_cur_u8(&c, &tag));
    TSC_ENSURE(tag == 0x30, TSC_ERR_DECODE);
    TSC_TRY(ber_len(&c, &len));
    size_t hdr = in.len - c.left;
    TSC_ENSURE(len <= cap && hdr + len <= cap, TSC_ERR_LIMIT);
    TSC_ENSURE(len <= c.left, TSC_ERR_TRUNCATED);
    *unit_len = hdr + len;
    return TSC_OK;
}

/*
 * LDAPMessage ::= SEQUENCE { messageID MessageID, protocolOp CHOICE {...},
 *                            controls [0] Controls OPTIONAL }
 * ExtendedRequest ::= [APPLICATION 23] SEQUENCE { requestName [0] LDAPOID,
 *                                                 requestValue [1] OCTET STRING OPTIONAL }
 * LDAPResult ::= SEQUENCE { resultCode ENUMERATED, matchedDN LDAPDN,
 *                           diagnosticMessage LDAPString, referral [3] OPTIONAL }
 * (responses such as ExtendedResponse [APPLICATION 24] start with its components).
 */
enum tsc_err tsc_pre_ldap(struct tsc_slice msg, struct tsc_ldap_msg *out)
{
    struct tsc_cur c = tsc_cur_from_slice(msg);
    struct tsc_cur seq;
    struct tsc_cur f;
    uint8_t tag;
    memset(out, 0, sizeof(*out));
    TSC_TRY(ber_tlv(&c, &tag, &seq));
    TSC_ENSURE(tag == 0x30, TSC_ERR_DECODE);
    TSC_TRY(ber_tlv(&seq, &tag, &f));
    TSC_ENSURE(tag == 0x02, TSC_ERR_DECODE);
    TSC_TRY(ber_uint(&f, &out->msg_id));
    TSC_TRY(ber_tlv(&seq, &out->op, &f));
    /* protocolOp: [APPLICATION 0..25], primitive or constructed. */
    TSC_ENSURE((out->op & 0xc0) == 0x40 && (out->op & 0x1f) <= 25, TSC_ERR_DECODE);
    if (out->op == 0x77) {
        struct tsc_cur name;
        TSC_TRY(ber_tlv(&f, &tag, &name));
        TSC_ENSURE(tag == 0x80, TSC_ERR_DECODE);
        TSC_TRY(tsc_cur_bytes(&name, name.left, &out->req_name));
        return TSC_OK;
    }
    if ((out->op & 0x20) != 0 && f.left > 0) {
        struct tsc_cur code;
        struct tsc_cur dn;
        struct tsc_cur dm;
        if (ber_tlv(&f, &tag, &code) != TSC_OK || tag != 0x0a) {
            return TSC_OK; /* a request or a response without LDAPResult */
        }
        TSC_TRY(ber_uint(&code, &out->result));
        TSC_TRY(ber_tlv(&f, &tag, &dn));
        TSC_ENSURE(tag == 0x04, TSC_ERR_DECODE);
        TSC_TRY(ber_tlv(&f, &tag, &dm));
        TSC_ENSURE(tag == 0x04, TSC_ERR_DECODE);
        TSC_TRY(tsc_cur_bytes(&dm, dm.left, &out->diag));
        out->have_result = true;
    }
    return TSC_OK;
}

/* ---- PostgreSQL ---- */

enum tsc_err tsc_pre_pg_startup(struct tsc_slice in, size_t cap, uint32_t *code, size_t *unit_len)
{
    struct tsc_cur c = tsc_cur_from_slice(in);
    uint32_t len;
    TSC_TRY(tsc_cur_u32(&c, &len));
    TSC_ENSURE(len >= 8, TSC_ERR_DECODE);
    TSC_ENSURE(len <= cap, TSC_ERR_LIMIT);
    TSC_TRY(tsc_cur_u32(&c, code));
    TSC_ENSURE(in.len >= len, TSC_ERR_TRUNCATED);
    *unit_len = len;
    return TSC_OK;
}

enum tsc_err tsc_pre_pg_typed(struct tsc_slice in, size_t cap, uint8_t *type, size_t *unit_len)
{
    struct tsc_cur c = tsc_cur_from_slice(in);
    uint32_t len;
    TSC_TRY(tsc_cur_u8(&c, type));
    TSC_ENSURE(*type >= 'A' && *type <= 'z', TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_u32(&c, &len));
    TSC_ENSURE(len >= 4, TSC_ERR_DECODE);
    TSC_ENSURE(len <= cap - 1, TSC_ERR_LIMIT);
    TSC_ENSURE(in.len - 1 >= len, TSC_ERR_TRUNCATED);
    *unit_len = (size_t)len + 1;
    return TSC_OK;
}

/* ---- SOCKS ---- */

static void addr_text(int family, const uint8_t *a, char *out, size_t outlen)
{
    if (inet_ntop(family, a, out, (socklen_t)outlen) == NULL) {
        snprintf(out, outlen, "?");
    }
}

/* NUL-terminated string of at most 255 bytes (SOCKS4 USERID and host name). */
static enum tsc_err cstr(struct tsc_cur *c, struct tsc_slice *out)
{
    size_t lim = c->left < 256 ? c->left : 256;
    const uint8_t *q = memchr(c->p, 0, lim);
    if (q == NULL) {
        return c->left >= 256 ? TSC_ERR_DECODE : TSC_ERR_TRUNCATED;
    }
    size_t n = (size_t)(q - c->p);
    TSC_TRY(tsc_cur_bytes(c, n, out));
    return tsc_cur_skip(c, 1);
}

enum tsc_err tsc_pre_socks4_req(struct tsc_slice in, struct tsc_socks4_req *out, size_t *unit_len)
{
    struct tsc_cur c = tsc_cur_from_slice(in);
    uint8_t vn;
    uint8_t ip[4];
    struct tsc_slice user;
    memset(out, 0, sizeof(*out));
    TSC_TRY(tsc_cur_u8(&c, &vn));
    TSC_ENSURE(vn == 4, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_u8(&c, &out->cmd));
    TSC_ENSURE(out->cmd == 1 || out->cmd == 2, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_u16(&c, &out->target.port));
    TSC_TRY(tsc_cur_copy(&c, 4, ip));
    TSC_TRY(cstr(&c, &user));
    if (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0) {
        /* SOCKS4a: 0.0.0.x (x != 0) says a host name follows the USERID. */
        struct tsc_slice host;
        TSC_TRY(cstr(&c, &host));
        TSC_ENSURE(host.len > 0, TSC_ERR_DECODE);
        out->socks4a = true;
        tsc_pre_copy_text(host, out->target.host, sizeof(out->target.host));
    } else {
        addr_text(AF_INET, ip, out->target.host, sizeof(out->target.host));
    }
    *unit_len = in.len - c.left;
    return TSC_OK;
}

enum tsc_err tsc_pre_socks4_reply(struct tsc_slice in, uint8_t *cd, size_t *unit_len)
{
    struct tsc_cur c = tsc_cur_from_slice(in);
    uint8_t vn;
    TSC_TRY(tsc_cur_u8(&c, &vn));
    TSC_ENSURE(vn == 0, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_u8(&c, cd));
    TSC_ENSURE(*cd >= 90 && *cd <= 93, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_skip(&c, 6));
    *unit_len = 8;
    return TSC_OK;
}

enum tsc_err tsc_pre_socks5_greeting(struct tsc_slice in, bool *offers_userpass, size_t *unit_len)
{
    struct tsc_cur c = tsc_cur_from_slice(in);
    uint8_t ver;
    uint8_t n;
    struct tsc_slice m;
    TSC_TRY(tsc_cur_u8(&c, &ver));
    TSC_ENSURE(ver == 5, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_u8(&c, &n));
    TSC_ENSURE(n >= 1, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_bytes(&c, n, &m));
    *offers_userpass = memchr(m.p, 2, m.len) != NULL;
    *unit_len = 2 + (size_t)n;
    return TSC_OK;
}

enum tsc_err tsc_pre_socks5_choice(struct tsc_slice in, uint8_t *method, size_t *unit_len)
{
    struct tsc_cur c = tsc_cur_from_slice(in);
    uint8_t ver;
    TSC_TRY(tsc_cur_u8(&c, &ver));
    TSC_ENSURE(ver == 5, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_u8(&c, method));
    *unit_len = 2;
    return TSC_OK;
}

enum tsc_err tsc_pre_socks5_userpass(struct tsc_slice in, size_t *unit_len)
{
    struct tsc_cur c = tsc_cur_from_slice(in);
    uint8_t ver;
    struct tsc_slice s;
    TSC_TRY(tsc_cur_u8(&c, &ver));
    TSC_ENSURE(ver == 1, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_vec_slice(&c, 1, 1, 255, &s)); /* UNAME */
    TSC_TRY(tsc_cur_vec_slice(&c, 1, 0, 255, &s)); /* PASSWD: never kept */
    *unit_len = in.len - c.left;
    return TSC_OK;
}

enum tsc_err tsc_pre_socks5_userpass_reply(struct tsc_slice in, uint8_t *status, size_t *unit_len)
{
    struct tsc_cur c = tsc_cur_from_slice(in);
    uint8_t ver;
    TSC_TRY(tsc_cur_u8(&c, &ver));
    TSC_ENSURE(ver == 1, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_u8(&c, status));
    *unit_len = 2;
    return TSC_OK;
}

enum tsc_err tsc_pre_socks5_msg(struct tsc_slice in, uint8_t *code, struct tsc_pre_target *addr,
                                size_t *unit_len)
{
    struct tsc_cur c = tsc_cur_from_slice(in);
    uint8_t ver;
    uint8_t rsv;
    uint8_t atyp;
    uint8_t a[16];
    memset(addr, 0, sizeof(*addr));
    TSC_TRY(tsc_cur_u8(&c, &ver));
    TSC_ENSURE(ver == 5, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_u8(&c, code));
    TSC_ENSURE(*code <= 8, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_u8(&c, &rsv));
    TSC_ENSURE(rsv == 0, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_u8(&c, &atyp));
    switch (atyp) {
    case 1:
        TSC_TRY(tsc_cur_copy(&c, 4, a));
        addr_text(AF_INET, a, addr->host, sizeof(addr->host));
        break;
    case 3: {
        struct tsc_slice name;
        TSC_TRY(tsc_cur_vec_slice(&c, 1, 1, 255, &name));
        tsc_pre_copy_text(name, addr->host, sizeof(addr->host));
        break;
    }
    case 4:
        TSC_TRY(tsc_cur_copy(&c, 16, a));
        addr_text(AF_INET6, a, addr->host, sizeof(addr->host));
        break;
    default:
        return TSC_ERR_DECODE;
    }
    TSC_TRY(tsc_cur_u16(&c, &addr->port));
    *unit_len = in.len - c.left;
    return TSC_OK;
}

/* ---- HTTP ---- */

static enum tsc_err dec_number(struct tsc_slice s, uint64_t max, uint64_t *out)
{
    TSC_ENSURE(s.len >= 1 && s.len <= 19, TSC_ERR_DECODE);
    uint64_t v = 0;
    struct tsc_cur c = tsc_cur_from_slice(s);
    uint8_t b;
    while (tsc_cur_u8(&c, &b) == TSC_OK) {
        TSC_ENSURE(is_digit(b), TSC_ERR_DECODE);
        v = v * 10 + (uint64_t)(b - '0');
    }
    TSC_ENSURE(v <= max, TSC_ERR_DECODE);
    *out = v;
    return TSC_OK;
}

enum tsc_err tsc_pre_http_connect(struct tsc_slice line, struct tsc_pre_target *out)
{
    struct tsc_cur c = tsc_cur_from_slice(line);
    struct tsc_slice method = token(&c);
    struct tsc_slice auth = token(&c);
    struct tsc_slice ver = token(&c);
    memset(out, 0, sizeof(*out));
    TSC_ENSURE(method.len == 7 && tsc_pre_starts(method, "CONNECT"), TSC_ERR_DECODE);
    TSC_ENSURE(ver.len == 8 && tsc_pre_starts(ver, "HTTP/1.") && is_digit(tsc_pre_byte(ver, 7)),
               TSC_ERR_DECODE);
    TSC_ENSURE(c.left == 0 && auth.len >= 3, TSC_ERR_DECODE);
    /* authority-form: host ":" port, host possibly an IP-literal "[...]". */
    size_t colon = auth.len;
    while (colon > 0 && tsc_pre_byte(auth, colon - 1) != ':') {
        colon--;
    }
    TSC_ENSURE(colon >= 2 && colon < auth.len, TSC_ERR_DECODE);
    struct tsc_slice host = {auth.p, colon - 1};
    struct tsc_slice port = {auth.p + colon, auth.len - colon};
    if (host.len >= 2 && tsc_pre_byte(host, 0) == '[' && tsc_pre_byte(host, host.len - 1) == ']') {
        host.p++;
        host.len -= 2;
    }
    uint64_t pv;
    TSC_TRY(dec_number(port, 65535, &pv));
    TSC_ENSURE(host.len > 0 && host.len < sizeof(out->host), TSC_ERR_DECODE);
    for (size_t i = 0; i < host.len; i++) {
        int b = tsc_pre_byte(host, i);
        TSC_ENSURE(b > 0x20 && b < 0x7f, TSC_ERR_DECODE);
    }
    tsc_pre_copy_text(host, out->host, sizeof(out->host));
    out->port = (uint16_t)pv;
    return TSC_OK;
}

enum tsc_err tsc_pre_http_status(struct tsc_slice line, unsigned *code)
{
    struct tsc_cur c = tsc_cur_from_slice(line);
    struct tsc_slice ver = token(&c);
    struct tsc_slice num = token(&c);
    uint64_t v;
    TSC_ENSURE(ver.len == 8 && tsc_pre_starts(ver, "HTTP/1.") && is_digit(tsc_pre_byte(ver, 7)),
               TSC_ERR_DECODE);
    TSC_ENSURE(num.len == 3, TSC_ERR_DECODE);
    TSC_TRY(dec_number(num, 999, &v));
    TSC_ENSURE(v >= 100, TSC_ERR_DECODE);
    *code = (unsigned)v;
    return TSC_OK;
}

enum tsc_err tsc_pre_http_content_length(struct tsc_slice line, uint64_t *len)
{
    static const char name[] = "content-length:";
    TSC_ENSURE(tsc_pre_starts(line, name), TSC_ERR_DECODE);
    struct tsc_cur c = tsc_cur_make(line.p + sizeof(name) - 1, line.len - (sizeof(name) - 1));
    struct tsc_slice v = token(&c);
    TSC_ENSURE(c.left == 0 || token(&c).len == 0, TSC_ERR_DECODE);
    return dec_number(v, UINT64_C(1) << 40, len);
}

void tsc_pre_copy_text(struct tsc_slice s, char *out, size_t outlen)
{
    if (outlen == 0) {
        return;
    }
    size_t n = s.len < outlen - 1 ? s.len : outlen - 1;
    for (size_t i = 0; i < n; i++) {
        int b = tsc_pre_byte(s, i);
        out[i] = (b >= 0x20 && b < 0x7f) ? (char)b : '.';
    }
    out[n] = '\0';
}
