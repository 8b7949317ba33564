/*
 * The prelude stage (see prelude.h): detection by content, one unit at a
 * time through the protocol's dialogue, hand-over to the TLS layer at the
 * upgrade.
 *
 * Detection looks at the first bytes of whichever direction speaks first:
 * the client's SSLRequest (PostgreSQL), LDAPMessage, SOCKS request, CONNECT
 * line, XMPP stream header or command line; or the server's greeting
 * ("220", "* OK", "+OK"). A first byte no prelude starts with (a TLS record,
 * an SSLv2 hello, most binary protocols) passes the whole connection on at
 * once, with nothing buffered.
 *
 * In a dialogue, a TLS handshake record header at a unit boundary of either
 * direction ends it for that direction (the upgrade happened, even if the
 * answer was not seen); the server's go-ahead ends it for the server's
 * direction. An established tunnel restarts detection on its inside (a
 * STARTTLS protocol or TLS through the proxy).
 */
#include "prelude/prelude.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prelude/parse.h"

enum {
    DS_DETECT = 0,
    DS_ACTIVE,
    DS_PASS
};

/* Short names for the protocols inside this file. */
enum {
    P_NONE = TSC_PRE_NONE,
    P_SMTP = TSC_PRE_SMTP,
    P_IMAP = TSC_PRE_IMAP,
    P_POP3 = TSC_PRE_POP3,
    P_FTP = TSC_PRE_FTP,
    P_XMPP = TSC_PRE_XMPP,
    P_LDAP = TSC_PRE_LDAP,
    P_PG = TSC_PRE_POSTGRES,
    P_CONNECT = TSC_PRE_CONNECT,
    P_SOCKS4 = TSC_PRE_SOCKS4,
    P_SOCKS5 = TSC_PRE_SOCKS5,
};

static const char *const proto_names[TSC_PRE__COUNT] = {
    NULL, "smtp", "imap", "pop3", "ftp", "xmpp", "ldap", "postgres", "connect", "socks4", "socks5",
};

const char *tsc_prelude_proto_name(unsigned proto)
{
    return proto < TSC_PRE__COUNT ? proto_names[proto] : NULL;
}

static bool is_tunnel(uint8_t pr)
{
    return pr >= P_CONNECT;
}

void tsc_prelude_config_default(struct tsc_prelude_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_bytes = 16u * 1024u;
    cfg->max_unit = 4096u;
}

void tsc_prelude_init(struct tsc_prelude *p, const struct tsc_prelude_config *cfg, uint64_t conn_id)
{
    memset(p, 0, sizeof(*p));
    p->cfg = *cfg;
    if (p->cfg.max_unit == 0) {
        p->cfg.max_unit = 4096u;
    }
    if (p->cfg.max_bytes == 0) {
        p->cfg.max_bytes = 16u * 1024u;
    }
    p->conn = conn_id;
    for (int d = 0; d < 2; d++) {
        tsc_buf_init(&p->d[d].unit, p->cfg.max_unit);
    }
}

void tsc_prelude_free(struct tsc_prelude *p)
{
    for (int d = 0; d < 2; d++) {
        tsc_buf_free(&p->d[d].unit);
    }
}

void tsc_prelude_swap(struct tsc_prelude *p)
{
    struct tsc_prelude_dir d0 = p->d[0];
    uint64_t b0 = p->f.bytes[0];
    p->d[0] = p->d[1];
    p->d[1] = d0;
    p->f.bytes[0] = p->f.bytes[1];
    p->f.bytes[1] = b0;
}

bool tsc_prelude_passing(const struct tsc_prelude *p, int dir)
{
    const struct tsc_prelude_dir *d = &p->d[dir & 1];
    return d->state == DS_PASS && (d->unit.len == 0 || d->held_out);
}

const struct tsc_prelude_facts *tsc_prelude_facts(const struct tsc_prelude *p)
{
    return &p->f;
}

const char *tsc_prelude_outcome_name(uint8_t outcome)
{
    static const char *const names[] = {"pending",  "upgraded",  "refused", "not_requested",
                                        "no_reply", "malformed", "limit",   "gap"};
    return outcome < sizeof(names) / sizeof(names[0]) ? names[outcome] : "pending";
}

bool tsc_prelude_next_event(struct tsc_prelude *p, enum tsc_prelude_event *kind)
{
    for (int k = 0; k < 2; k++) {
        if (p->due[k] && !p->done[k]) {
            p->done[k] = true;
            *kind = (enum tsc_prelude_event)k;
            return true;
        }
    }
    return false;
}

/* ---- outcomes and diagnostics ---- */

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void
pre_diag(struct tsc_prelude *p, int dir, enum tsc_diag_kind kind, const char *fmt, ...)
{
    if (p->cfg.sink == NULL) {
        return;
    }
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int64_t off = dir >= 0 ? (int64_t)p->f.bytes[dir] : -1;
    struct tsc_where w = {p->cfg.file, p->pkt, p->conn, dir, off};
    tsc_diag(p->cfg.sink, kind, &w, "%s", msg);
}

static void set_starttls(struct tsc_prelude *p, uint8_t outcome)
{
    if (p->f.starttls != NULL && p->f.starttls_outcome == TSC_PRELUDE_PENDING) {
        p->f.starttls_outcome = outcome;
        p->due[TSC_PRELUDE_EV_STARTTLS] = true;
    }
}

static void set_tunnel(struct tsc_prelude *p, uint8_t outcome)
{
    if (p->f.tunnel != NULL && p->f.tunnel_outcome == TSC_PRELUDE_PENDING) {
        p->f.tunnel_outcome = outcome;
        p->due[TSC_PRELUDE_EV_TUNNEL] = true;
    }
}

/* The outcome of the dialogue being followed (tunnel or STARTTLS). */
static void set_current(struct tsc_prelude *p, uint8_t outcome)
{
    if (is_tunnel(p->proto)) {
        set_tunnel(p, outcome);
    } else {
        set_starttls(p, outcome);
    }
}

static void pass_all(struct tsc_prelude *p)
{
    p->decided = true;
    for (int d = 0; d < 2; d++) {
        p->d[d].state = DS_PASS;
    }
}

/* The dialogue cannot be followed further: everything goes to the TLS layer. */
static void give_up(struct tsc_prelude *p, uint8_t outcome)
{
    set_current(p, outcome);
    pass_all(p);
}

static void refused(struct tsc_prelude *p, int dir, const char *what, const char *reply)
{
    p->refused = true;
    p->cmd_sent = false;
    pre_diag(p, dir, TSC_DIAG_PRELUDE_REFUSED, "%s %s refused: %s", proto_names[p->proto], what,
             reply);
}

static void upgraded(struct tsc_prelude *p, int dir)
{
    set_starttls(p, TSC_PRELUDE_UPGRADED);
    p->d[dir].state = DS_PASS;
}

static void start_proto(struct tsc_prelude *p, uint8_t pr)
{
    p->proto = pr;
    p->decided = true;
    if (is_tunnel(pr)) {
        p->f.tunnel = proto_names[pr];
        p->f.tunnel_index = pr;
    } else {
        p->f.starttls = proto_names[pr];
        p->f.starttls_index = pr;
    }
    for (int d = 0; d < 2; d++) {
        if (p->d[d].state != DS_PASS) {
            p->d[d].state = DS_ACTIVE;
            p->d[d].phase = 0;
        }
    }
}

/* The tunnel is up: what flows inside it is detected afresh (no nested tunnels). */
static void tunnel_inner(struct tsc_prelude *p)
{
    set_tunnel(p, TSC_PRELUDE_UPGRADED);
    p->in_tunnel = true;
    p->proto = P_NONE;
    p->decided = false;
    p->cmd_sent = false;
    p->refused = false;
    for (int d = 0; d < 2; d++) {
        if (p->d[d].state != DS_PASS) {
            p->d[d].state = DS_DETECT;
            p->d[d].phase = 0;
            p->d[d].skip = 0;
        }
    }
}

static void copy_once(char *dst, size_t dstlen, struct tsc_slice s)
{
    if (dst[0] == '\0') {
        tsc_pre_copy_text(s, dst, dstlen);
    }
}

#define COPY(field, s) tsc_pre_copy_text((s), (field), sizeof(field))

/* ---- detection ---- */

/* 1: s starts with lit; 0: it cannot; -1: s is a proper prefix of lit (need more). */
static int lit_match(struct tsc_slice s, const char *lit)
{
    size_t n = strlen(lit);
    struct tsc_slice head = {s.p, s.len < n ? s.len : n};
    char buf[32];
    memcpy(buf, lit, head.len);
    buf[head.len] = '\0';
    if (!tsc_pre_starts(head, buf)) {
        return 0;
    }
    return s.len >= n ? 1 : -1;
}

/* Any of the literals: 1 / 0 / -1 as lit_match. */
static int any_match(struct tsc_slice s, const char *const *lits, size_t n)
{
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        int m = lit_match(s, lits[i]);
        if (m == 1) {
            return 1;
        }
        if (m < 0) {
            r = -1;
        }
    }
    return r;
}

static bool is_alnum(uint8_t b)
{
    return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
}

static bool first_byte_candidate(const struct tsc_prelude *p, int dir, uint8_t b)
{
    if (dir == TSC_DIR_C2S) {
        return b == 0x00 || b == 0x30 || b == '<' || is_alnum(b) ||
               (!p->in_tunnel && (b == 0x04 || b == 0x05));
    }
    return b == '2' || b == '*' || b == '+' || b == '<';
}

static bool word_is(struct tsc_slice line, const char *w)
{
    size_t n = strlen(w);
    if (!tsc_pre_starts(line, w)) {
        return false;
    }
    for (size_t i = n; i < line.len; i++) {
        if (tsc_pre_byte(line, i) != ' ') {
            return false; /* a longer word, or arguments */
        }
    }
    return true;
}

/* Does the line start with this command word (followed by a space or the end)? */
static bool verb(struct tsc_slice line, const char *w)
{
    size_t n = strlen(w);
    int next = tsc_pre_byte(line, n);
    return tsc_pre_starts(line, w) && (next < 0 || next == ' ');
}

static int detect_client(struct tsc_prelude *p, struct tsc_slice in, uint8_t *pr)
{
    static const char *const xml[] = {"<?xml", "<stream:stream"};
    int b0 = tsc_pre_byte(in, 0);
    int b1 = tsc_pre_byte(in, 1);
    size_t n;
    *pr = P_NONE;
    if (b0 == 0x00) {
        /* SSLRequest, GSSENCRequest or a protocol 3 StartupMessage (cleartext). */
        uint32_t code = 0;
        enum tsc_err e = tsc_pre_pg_startup(in, p->cfg.max_unit, &code, &n);
        if (e == TSC_ERR_TRUNCATED && in.len < 8) {
            return -1;
        }
        if ((e == TSC_OK || e == TSC_ERR_TRUNCATED) &&
            (code == TSC_PG_SSL_REQUEST || code == TSC_PG_GSSENC_REQUEST || code == 0x00030000u)) {
            *pr = P_PG;
        }
        return 1;
    }
    if ((b0 == 0x04 || b0 == 0x05) && !p->in_tunnel) {
        if (b1 < 0) {
            return -1;
        }
        if (b0 == 0x04 && (b1 == 1 || b1 == 2)) {
            *pr = P_SOCKS4;
        } else if (b0 == 0x05 && b1 >= 1 && b1 <= 32) {
            *pr = P_SOCKS5;
        }
        return 1;
    }
    if (b0 == 0x30) {
        struct tsc_ldap_msg m;
        enum tsc_err e = tsc_pre_ber_unit(in, p->cfg.max_unit, &n);
        if (e == TSC_ERR_TRUNCATED) {
            return -1;
        }
        struct tsc_slice msg = {in.p, n};
        if (e == TSC_OK && tsc_pre_ldap(msg, &m) == TSC_OK) {
            *pr = P_LDAP;
        }
        return 1;
    }
    if (b0 == '<') {
        int m = any_match(in, xml, 2);
        if (m == 1) {
            *pr = P_XMPP;
        }
        return m;
    }
    struct tsc_slice line;
    enum tsc_err e = tsc_pre_line(in, p->cfg.max_unit, &line, &n);
    if (e == TSC_ERR_TRUNCATED) {
        return -1;
    }
    if (e != TSC_OK) {
        return 0;
    }
    struct tsc_slice tag;
    struct tsc_slice word;
    if (!p->in_tunnel && tsc_pre_starts(line, "CONNECT ")) {
        *pr = P_CONNECT;
    } else if (verb(line, "EHLO") || verb(line, "HELO") || word_is(line, "STARTTLS")) {
        *pr = P_SMTP;
    } else if (word_is(line, "STLS") || word_is(line, "CAPA")) {
        *pr = P_POP3;
    } else if (tsc_pre_starts(line, "AUTH TLS") || tsc_pre_starts(line, "AUTH SSL")) {
        *pr = P_FTP;
    } else if (tsc_pre_imap_words(line, &tag, &word) == TSC_OK && !tsc_pre_starts(tag, "*") &&
               (word_is(word, "STARTTLS") || word_is(word, "CAPABILITY") ||
                word_is(word, "LOGIN"))) {
        *pr = P_IMAP;
    }
    return 1;
}

static int detect_server(struct tsc_prelude *p, struct tsc_slice in, uint8_t *pr)
{
    static const char *const imap[] = {"* OK", "* PREAUTH"};
    static const char *const xml[] = {"<?xml", "<stream:stream"};
    int m;
    *pr = P_NONE;
    if ((m = any_match(in, imap, 2)) != 0) {
        *pr = m == 1 ? P_IMAP : P_NONE;
        return m;
    }
    if ((m = lit_match(in, "+OK")) != 0) {
        *pr = m == 1 ? P_POP3 : P_NONE;
        return m;
    }
    if ((m = any_match(in, xml, 2)) != 0) {
        *pr = m == 1 ? P_XMPP : P_NONE;
        return m;
    }
    /* "220" greets in SMTP and in FTP: the banner, then the client's commands, decide. */
    struct tsc_slice line;
    size_t n;
    unsigned code;
    bool last;
    if (lit_match(in, "220") == 0) {
        return 0;
    }
    enum tsc_err e = tsc_pre_line(in, p->cfg.max_unit, &line, &n);
    if (e == TSC_ERR_TRUNCATED) {
        return -1;
    }
    if (e != TSC_OK || tsc_pre_reply_code(line, &code, &last) != TSC_OK || code != 220) {
        return 0;
    }
    if (tsc_pre_contains(line, "FTP")) {
        *pr = P_FTP;
    } else {
        *pr = P_SMTP;
        p->smtp_or_ftp = !tsc_pre_contains(line, "SMTP");
    }
    return 1;
}

/* TLSPlaintext handshake header: 0x16 0x03 0x00..0x04. 1 yes, 0 no, -1 need more. */
static int tls_start(struct tsc_slice in)
{
    if (tsc_pre_byte(in, 0) != 0x16) {
        return 0;
    }
    int minor = tsc_pre_byte(in, 2);
    if (minor < 0) {
        return -1;
    }
    return (tsc_pre_byte(in, 1) == 3 && minor <= 4) ? 1 : 0;
}

/* ---- the dialogues ---- */

static void smtp_ftp_line(struct tsc_prelude *p, int dir, struct tsc_slice line)
{
    if (dir == TSC_DIR_C2S) {
        if (p->smtp_or_ftp) {
            if (verb(line, "USER") || verb(line, "FEAT") || verb(line, "AUTH")) {
                p->proto = P_FTP;
                p->f.starttls = proto_names[P_FTP];
                p->f.starttls_index = P_FTP;
                p->smtp_or_ftp = false;
            } else if (verb(line, "EHLO") || verb(line, "HELO") || verb(line, "MAIL") ||
                       word_is(line, "STARTTLS")) {
                p->smtp_or_ftp = false;
            }
        }
        if (p->proto == P_SMTP
                ? word_is(line, "STARTTLS")
                : (tsc_pre_starts(line, "AUTH TLS") || tsc_pre_starts(line, "AUTH SSL"))) {
            p->cmd_sent = true;
            COPY(p->f.command, line);
        }
        return;
    }
    unsigned code;
    bool last;
    if (tsc_pre_reply_code(line, &code, &last) != TSC_OK) {
        return; /* not a reply line: still cleartext */
    }
    copy_once(p->f.banner, sizeof(p->f.banner), line);
    if (!p->cmd_sent || !last) {
        return;
    }
    COPY(p->f.reply, line);
    /* RFC 3207 4: 220 to STARTTLS; RFC 4217 4: 234 to AUTH TLS (334 from old servers). */
    bool go = p->proto == P_SMTP ? code == 220 : (code == 234 || code == 334);
    if (go) {
        upgraded(p, dir);
    } else {
        refused(p, dir, p->f.command, p->f.reply);
    }
}

static void imap_line(struct tsc_prelude *p, int dir, struct tsc_slice line)
{
    struct tsc_slice tag;
    struct tsc_slice word;
    if (tsc_pre_imap_words(line, &tag, &word) != TSC_OK) {
        return;
    }
    if (dir == TSC_DIR_C2S) {
        if (word_is(word, "STARTTLS")) {
            p->cmd_sent = true;
            COPY(p->f.command, line);
            COPY(p->imap_tag, tag);
        }
        return;
    }
    copy_once(p->f.banner, sizeof(p->f.banner), line);
    char t[sizeof(p->imap_tag)];
    COPY(t, tag);
    if (!p->cmd_sent || strcmp(t, p->imap_tag) != 0) {
        return;
    }
    COPY(p->f.reply, line);
    /* RFC 3501 6.2.1: "tag OK" to STARTTLS, then the TLS negotiation. */
    if (word_is(word, "OK")) {
        upgraded(p, dir);
    } else {
        refused(p, dir, "STARTTLS", p->f.reply);
    }
}

static void pop3_line(struct tsc_prelude *p, int dir, struct tsc_slice line)
{
    if (dir == TSC_DIR_C2S) {
        if (word_is(line, "STLS")) {
            p->cmd_sent = true;
            COPY(p->f.command, line);
        }
        return;
    }
    bool ok = tsc_pre_starts(line, "+OK");
    if (!ok && !tsc_pre_starts(line, "-ERR")) {
        return; /* a line of a multi-line answer */
    }
    copy_once(p->f.banner, sizeof(p->f.banner), line);
    if (!p->cmd_sent) {
        return;
    }
    COPY(p->f.reply, line);
    /* RFC 2595 4: "+OK" to STLS. */
    if (ok) {
        upgraded(p, dir);
    } else {
        refused(p, dir, "STLS", p->f.reply);
    }
}

static void xmpp_unit(struct tsc_prelude *p, int dir, struct tsc_slice u)
{
    if (dir == TSC_DIR_C2S) {
        if (tsc_pre_starts(u, "<starttls")) {
            p->cmd_sent = true;
            COPY(p->f.command, u);
        }
        return;
    }
    if (tsc_pre_starts(u, "<stream:stream")) {
        copy_once(p->f.banner, sizeof(p->f.banner), u);
    }
    if (!p->cmd_sent) {
        return;
    }
    /* RFC 6120 5.4.2.3: <proceed/>, or <failure/> and the stream closes. */
    if (tsc_pre_starts(u, "<proceed")) {
        COPY(p->f.reply, u);
        upgraded(p, dir);
    } else if (tsc_pre_starts(u, "<failure")) {
        COPY(p->f.reply, u);
        refused(p, dir, "<starttls/>", p->f.reply);
    }
}

static enum tsc_err ldap_unit(struct tsc_prelude *p, int dir, struct tsc_slice msg)
{
    struct tsc_ldap_msg m;
    TSC_TRY(tsc_pre_ldap(msg, &m));
    static const char oid[] = TSC_LDAP_STARTTLS_OID;
    if (dir == TSC_DIR_C2S) {
        if (m.op == 0x77 && m.req_name.len == sizeof(oid) - 1 &&
            memcmp(m.req_name.p, oid, sizeof(oid) - 1) == 0) {
            p->cmd_sent = true;
            p->ldap_id = m.msg_id;
            snprintf(p->f.command, sizeof(p->f.command), "ExtendedRequest %s (messageID %u)", oid,
                     m.msg_id);
        }
        return TSC_OK;
    }
    /* RFC 4511 4.14.2: the ExtendedResponse with the request's messageID. */
    if (m.op != 0x78 || !p->cmd_sent || m.msg_id != p->ldap_id || !m.have_result) {
        return TSC_OK;
    }
    char diag[64];
    COPY(diag, m.diag);
    snprintf(p->f.reply, sizeof(p->f.reply), "ExtendedResponse resultCode %u%s%s", m.result,
             diag[0] != '\0' ? " " : "", diag);
    if (m.result == 0) {
        upgraded(p, dir);
    } else {
        refused(p, dir, "StartTLS", p->f.reply);
    }
    return TSC_OK;
}

static enum tsc_err pg_unit(struct tsc_prelude *p, int dir, struct tsc_slice in, size_t *used)
{
    uint8_t type;
    if (dir == TSC_DIR_C2S && !p->pg_startup) {
        uint32_t code;
        TSC_TRY(tsc_pre_pg_startup(in, p->cfg.max_unit, &code, used));
        if (code == TSC_PG_SSL_REQUEST) {
            p->cmd_sent = true;
            p->pg_reply = true;
            snprintf(p->f.command, sizeof(p->f.command), "SSLRequest");
        } else if (code == TSC_PG_GSSENC_REQUEST) {
            p->pg_reply = true;
        } else if (code >> 16 == 3) {
            p->pg_startup = true; /* StartupMessage, protocol 3.x: typed messages follow */
        }
        return TSC_OK;
    }
    if (dir == TSC_DIR_S2C && p->pg_reply) {
        /* One byte: 'S' go ahead, 'N' no; or an ErrorResponse ('E', typed). */
        int answer = tsc_pre_byte(in, 0);
        TSC_ENSURE(answer >= 0, TSC_ERR_TRUNCATED);
        if (answer == 'S' || answer == 'N' || answer == 'G') {
            *used = 1;
            p->pg_reply = false;
            if (!p->cmd_sent) {
                return TSC_OK;
            }
            snprintf(p->f.reply, sizeof(p->f.reply), "%c", answer);
            if (answer == 'S') {
                upgraded(p, dir);
            } else {
                refused(p, dir, "SSLRequest", p->f.reply);
            }
            return TSC_OK;
        }
        TSC_ENSURE(answer == 'E', TSC_ERR_DECODE);
        p->pg_reply = false;
        if (p->cmd_sent) {
            snprintf(p->f.reply, sizeof(p->f.reply), "ErrorResponse");
            refused(p, dir, "SSLRequest", p->f.reply);
        }
    }
    return tsc_pre_pg_typed(in, p->cfg.max_unit, &type, used);
}

static enum tsc_err connect_line(struct tsc_prelude *p, int dir, struct tsc_slice line)
{
    struct tsc_prelude_dir *d = &p->d[dir];
    if (dir == TSC_DIR_C2S) {
        if (d->phase == 1) {
            if (line.len == 0) {
                d->phase = 2; /* request complete (Proxy-Authorization is not kept) */
            }
            return TSC_OK;
        }
        if (line.len == 0) {
            return TSC_OK; /* a blank line between requests */
        }
        struct tsc_pre_target t;
        if (tsc_pre_http_connect(line, &t) != TSC_OK) {
            pre_diag(p, dir, TSC_DIAG_PRELUDE_MALFORMED,
                     "proxy tunnel: expected a CONNECT request line");
            return TSC_ERR_DECODE;
        }
        memcpy(p->f.tunnel_host, t.host, sizeof(t.host));
        p->f.tunnel_port = t.port;
        COPY(p->f.command, line);
        p->cmd_sent = true;
        d->phase = 1;
        return TSC_OK;
    }
    if (d->phase == 0) {
        unsigned code;
        if (tsc_pre_http_status(line, &code) != TSC_OK) {
            pre_diag(p, dir, TSC_DIAG_PRELUDE_MALFORMED,
                     "proxy tunnel: expected an HTTP status line from the proxy");
            return TSC_ERR_DECODE;
        }
        p->http_code = (uint16_t)code;
        p->http_len = 0;
        COPY(p->f.tunnel_reply, line);
        d->phase = 1;
        return TSC_OK;
    }
    uint64_t len;
    if (line.len > 0) {
        if (tsc_pre_http_content_length(line, &len) == TSC_OK) {
            p->http_len = len;
        }
        return TSC_OK;
    }
    /* End of the proxy's answer. RFC 9110 9.3.6: any 2xx establishes the tunnel. */
    d->phase = 0;
    if (p->http_code >= 200 && p->http_code < 300) {
        tunnel_inner(p);
        return TSC_OK;
    }
    if (p->http_code >= 100 && p->http_code < 200) {
        return TSC_OK; /* interim answer */
    }
    d->skip = p->http_len;
    p->d[TSC_DIR_C2S].phase = 0; /* the client may try again (407 with credentials) */
    refused(p, dir, "CONNECT", p->f.tunnel_reply);
    return TSC_OK;
}

static void socks_refused(struct tsc_prelude *p, int dir, const char *fmt, unsigned code)
{
    snprintf(p->f.tunnel_reply, sizeof(p->f.tunnel_reply), fmt, code);
    refused(p, dir, "request", p->f.tunnel_reply);
    give_up(p, TSC_PRELUDE_REFUSED); /* the proxy closes the connection */
}

static enum tsc_err socks4_unit(struct tsc_prelude *p, int dir, struct tsc_slice in, size_t *used)
{
    struct tsc_prelude_dir *d = &p->d[dir];
    TSC_ENSURE(d->phase == 0, TSC_ERR_DECODE); /* nothing but TLS after the request */
    if (dir == TSC_DIR_C2S) {
        struct tsc_socks4_req r;
        TSC_TRY(tsc_pre_socks4_req(in, &r, used));
        d->phase = 1;
        memcpy(p->f.tunnel_host, r.target.host, sizeof(r.target.host));
        p->f.tunnel_port = r.target.port;
        p->f.socks4a = r.socks4a;
        snprintf(p->f.command, sizeof(p->f.command), "%s%s", r.cmd == 1 ? "CONNECT" : "BIND",
                 r.socks4a ? " (4a)" : "");
        p->cmd_sent = true;
        return TSC_OK;
    }
    uint8_t cd;
    TSC_TRY(tsc_pre_socks4_reply(in, &cd, used));
    d->phase = 1;
    if (cd == 90) {
        snprintf(p->f.tunnel_reply, sizeof(p->f.tunnel_reply), "request granted (90)");
        tunnel_inner(p);
    } else {
        socks_refused(p, dir, "request rejected (%u)", cd);
    }
    return TSC_OK;
}

static const char *socks5_rep(uint8_t rep)
{
    static const char *const names[] = {"succeeded",
                                        "general SOCKS server failure",
                                        "connection not allowed by ruleset",
                                        "network unreachable",
                                        "host unreachable",
                                        "connection refused",
                                        "TTL expired",
                                        "command not supported",
                                        "address type not supported"};
    return rep < sizeof(names) / sizeof(names[0]) ? names[rep] : "unassigned";
}

/* RFC 1928: greeting / method choice, RFC 1929 sub-negotiation, request / reply. */
static enum tsc_err socks5_unit(struct tsc_prelude *p, int dir, struct tsc_slice in, size_t *used)
{
    struct tsc_prelude_dir *d = &p->d[dir];
    struct tsc_pre_target t;
    uint8_t code;
    if (d->phase == 0) {
        if (dir == TSC_DIR_C2S) {
            bool userpass;
            TSC_TRY(tsc_pre_socks5_greeting(in, &userpass, used));
            d->phase = 1;
            return TSC_OK;
        }
        TSC_TRY(tsc_pre_socks5_choice(in, &code, used));
        d->phase = 1;
        if (code == 0 || code == 2) {
            p->f.tunnel_auth = code == 0 ? "none" : "username";
            return TSC_OK;
        }
        if (code == 0xff) {
            socks_refused(p, dir, "no acceptable authentication method (%u)", code);
            return TSC_OK;
        }
        pre_diag(p, dir, TSC_DIAG_PRELUDE_MALFORMED,
                 "SOCKS5 authentication method %u is not followed", code);
        give_up(p, TSC_PRELUDE_MALFORMED);
        return TSC_OK;
    }
    int ver = tsc_pre_byte(in, 0);
    TSC_ENSURE(ver >= 0, TSC_ERR_TRUNCATED);
    TSC_ENSURE(d->phase == 1, TSC_ERR_DECODE); /* nothing but TLS after the request */
    if (ver == 1) {
        /* Username/password sub-negotiation (the password is never kept). */
        if (dir == TSC_DIR_C2S) {
            return tsc_pre_socks5_userpass(in, used);
        }
        TSC_TRY(tsc_pre_socks5_userpass_reply(in, &code, used));
        if (code != 0) {
            socks_refused(p, dir, "username/password rejected (%u)", code);
        }
        return TSC_OK;
    }
    TSC_TRY(tsc_pre_socks5_msg(in, &code, &t, used));
    d->phase = 2;
    if (dir == TSC_DIR_C2S) {
        TSC_ENSURE(code >= 1 && code <= 3, TSC_ERR_DECODE);
        memcpy(p->f.tunnel_host, t.host, sizeof(t.host));
        p->f.tunnel_port = t.port;
        snprintf(p->f.command, sizeof(p->f.command), "%s",
                 code == 1   ? "CONNECT"
                 : code == 2 ? "BIND"
                             : "UDP ASSOCIATE");
        p->cmd_sent = true;
        return TSC_OK;
    }
    if (code == 0) {
        snprintf(p->f.tunnel_reply, sizeof(p->f.tunnel_reply), "%s (0)", socks5_rep(code));
        tunnel_inner(p);
    } else {
        char fmt[96];
        snprintf(fmt, sizeof(fmt), "%s (%%u)", socks5_rep(code));
        socks_refused(p, dir, fmt, code);
    }
    return TSC_OK;
}

/* One unit of the current dialogue at the front of `in`. */
static enum tsc_err dialogue_unit(struct tsc_prelude *p, int dir, struct tsc_slice in, size_t *used)
{
    struct tsc_slice u;
    switch (p->proto) {
    case P_SMTP:
    case P_FTP:
    case P_IMAP:
    case P_POP3:
    case P_CONNECT:
        TSC_TRY(tsc_pre_line(in, p->cfg.max_unit, &u, used));
        if (p->proto == P_CONNECT) {
            return connect_line(p, dir, u);
        }
        if (p->proto == P_IMAP) {
            imap_line(p, dir, u);
        } else if (p->proto == P_POP3) {
            pop3_line(p, dir, u);
        } else {
            smtp_ftp_line(p, dir, u);
        }
        return TSC_OK;
    case P_XMPP:
        TSC_TRY(tsc_pre_xml(in, p->cfg.max_unit, &u, used));
        xmpp_unit(p, dir, u);
        return TSC_OK;
    case P_LDAP: {
        TSC_TRY(tsc_pre_ber_unit(in, p->cfg.max_unit, used));
        struct tsc_slice msg = {in.p, *used};
        return ldap_unit(p, dir, msg);
    }
    case P_PG:
        return pg_unit(p, dir, in, used);
    case P_SOCKS4:
        return socks4_unit(p, dir, in, used);
    case P_SOCKS5:
        return socks5_unit(p, dir, in, used);
    default:
        return TSC_ERR_STATE;
    }
}

static void consume(struct tsc_prelude *p, int dir, size_t n, struct tsc_prelude_step *st)
{
    tsc_buf_consume(&p->d[dir].unit, n);
    p->f.bytes[dir] += n;
    st->prelude_bytes += n;
}

/* Units buffered in dir, one at a time, until one is incomplete or the direction passes. */
static void run_units(struct tsc_prelude *p, int dir, struct tsc_prelude_step *st)
{
    struct tsc_prelude_dir *d = &p->d[dir];
    while (d->state != DS_PASS && d->unit.len > 0) {
        struct tsc_slice in = {d->unit.p, d->unit.len};
        if (d->skip > 0) {
            size_t n = d->skip < in.len ? (size_t)d->skip : in.len;
            d->skip -= n;
            consume(p, dir, n, st);
            continue;
        }
        if (d->state == DS_DETECT) {
            uint8_t pr;
            int r = dir == TSC_DIR_C2S ? detect_client(p, in, &pr) : detect_server(p, in, &pr);
            if (r < 0) {
                return;
            }
            if (pr == P_NONE) {
                pass_all(p);
            } else {
                start_proto(p, pr);
            }
            continue;
        }
        int tls = tls_start(in);
        if (tls < 0) {
            return;
        }
        if (tls > 0) {
            /* TLS at a unit boundary: the dialogue is over for this direction. */
            if (!is_tunnel(p->proto)) {
                set_starttls(p, TSC_PRELUDE_UPGRADED);
            }
            d->state = DS_PASS;
            return;
        }
        size_t used = 0;
        enum tsc_err e = dialogue_unit(p, dir, in, &used);
        if (e == TSC_ERR_TRUNCATED) {
            return;
        }
        if (e == TSC_ERR_LIMIT) {
            pre_diag(p, dir, TSC_DIAG_PRELUDE_LIMIT,
                     "%s dialogue: a unit longer than %u bytes; the rest is scanned for TLS",
                     proto_names[p->proto], p->cfg.max_unit);
            give_up(p, TSC_PRELUDE_LIMIT);
            return;
        }
        if (e != TSC_OK) {
            if (p->proto != P_CONNECT) {
                pre_diag(p, dir, TSC_DIAG_PRELUDE_MALFORMED,
                         "%s dialogue: malformed %s; the rest is scanned for TLS",
                         proto_names[p->proto], is_tunnel(p->proto) ? "proxy message" : "message");
            }
            give_up(p, TSC_PRELUDE_MALFORMED);
            return;
        }
        consume(p, dir, used, st);
        if (p->f.bytes[dir] > p->cfg.max_bytes && d->state != DS_PASS) {
            pre_diag(p, dir, TSC_DIAG_PRELUDE_LIMIT,
                     "%s dialogue: no upgrade within %u bytes; the rest is scanned for TLS",
                     proto_names[p->proto], p->cfg.max_bytes);
            give_up(p, TSC_PRELUDE_LIMIT);
        }
    }
}

/* Bytes still buffered go to the TLS layer (valid until the next call). */
static void hand_held(struct tsc_prelude_dir *d, struct tsc_prelude_step *st)
{
    if (d->unit.len > 0 && !d->held_out) {
        st->held.p = d->unit.p;
        st->held.len = d->unit.len;
        d->held_out = true;
    }
}

static void step_init(struct tsc_prelude *p, int dir, struct tsc_prelude_step *st, size_t n)
{
    struct tsc_prelude_dir *d = &p->d[dir];
    memset(st, 0, sizeof(*st));
    st->pass_from = n;
    if (d->held_out) {
        tsc_buf_reset(&d->unit);
        d->held_out = false;
    }
}

void tsc_prelude_data(struct tsc_prelude *p, int dir, const uint8_t *b, size_t n, uint64_t pkt,
                      struct tsc_ts ts, struct tsc_prelude_step *st)
{
    dir &= 1;
    struct tsc_prelude_dir *d = &p->d[dir];
    step_init(p, dir, st, n);
    p->pkt = pkt;
    p->ts = ts;
    struct tsc_slice in = {b, n};
    if (d->state == DS_DETECT && d->unit.len == 0 && n > 0 &&
        !first_byte_candidate(p, dir, (uint8_t)tsc_pre_byte(in, 0))) {
        /* TLS or no known prelude: nothing buffered, nothing more to look at. */
        if (p->in_tunnel) {
            d->state = DS_PASS;
        } else {
            pass_all(p);
        }
    }
    size_t off = 0;
    while (d->state != DS_PASS && off < n) {
        size_t room = p->cfg.max_unit - d->unit.len;
        size_t take = n - off < room ? n - off : room;
        if (take == 0 || tsc_buf_append(&d->unit, b + off, take) != TSC_OK) {
            pre_diag(p, dir, TSC_DIAG_PRELUDE_LIMIT, "prelude buffer (%u bytes)", p->cfg.max_unit);
            give_up(p, TSC_PRELUDE_LIMIT);
            break;
        }
        off += take;
        run_units(p, dir, st);
        if (d->state != DS_PASS && d->unit.len >= p->cfg.max_unit) {
            if (d->state == DS_DETECT) {
                pass_all(p); /* no prelude starts with this much undecided text */
                break;
            }
            pre_diag(p, dir, TSC_DIAG_PRELUDE_LIMIT,
                     "%s dialogue: a unit longer than %u bytes; the rest is scanned for TLS",
                     proto_names[p->proto], p->cfg.max_unit);
            give_up(p, TSC_PRELUDE_LIMIT);
        }
    }
    if (d->state == DS_PASS) {
        hand_held(d, st);
        st->pass_from = off;
    }
}

void tsc_prelude_gap(struct tsc_prelude *p, int dir, uint64_t pkt, struct tsc_ts ts,
                     struct tsc_prelude_step *st)
{
    dir &= 1;
    step_init(p, dir, st, 0);
    p->pkt = pkt;
    p->ts = ts;
    if (p->d[dir].state != DS_PASS) {
        if (p->decided) {
            give_up(p, TSC_PRELUDE_GAP);
        } else {
            pass_all(p);
        }
    }
    hand_held(&p->d[dir], st);
}

void tsc_prelude_end(struct tsc_prelude *p, int dir, struct tsc_prelude_step *st)
{
    dir &= 1;
    struct tsc_prelude_dir *d = &p->d[dir];
    step_init(p, dir, st, 0);
    if (d->state != DS_PASS && d->unit.len > 0) {
        consume(p, dir, d->unit.len, st); /* an incomplete unit of the dialogue */
    }
    if (d->state == DS_PASS) {
        hand_held(d, st);
    }
    d->state = DS_PASS;
}

void tsc_prelude_close(struct tsc_prelude *p)
{
    uint8_t why = p->refused    ? TSC_PRELUDE_REFUSED
                  : p->cmd_sent ? TSC_PRELUDE_NO_REPLY
                                : TSC_PRELUDE_NOT_REQUESTED;
    bool open_tunnel = p->f.tunnel != NULL && p->f.tunnel_outcome == TSC_PRELUDE_PENDING;
    bool open_starttls = p->f.starttls != NULL && p->f.starttls_outcome == TSC_PRELUDE_PENDING;
    if (open_tunnel) {
        set_tunnel(p, why);
    } else if (open_starttls) {
        set_starttls(p, why);
    }
    if ((open_tunnel || open_starttls) && why != TSC_PRELUDE_REFUSED) {
        pre_diag(p, -1, TSC_DIAG_PRELUDE_NO_UPGRADE, "%s dialogue ended without %s (%s)",
                 open_tunnel ? p->f.tunnel : p->f.starttls,
                 open_tunnel ? "a tunnel" : "an upgrade to TLS", tsc_prelude_outcome_name(why));
    }
}
