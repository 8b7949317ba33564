/*
 * Parsers for the cleartext preludes in front of TLS: STARTTLS dialogues
 * (SMTP, IMAP, POP3, FTP, XMPP, LDAP, PostgreSQL) and proxy tunnels (HTTP
 * CONNECT, SOCKS4/4a, SOCKS5). Pure functions over struct tsc_cur; results
 * borrow from the input. Each one reads one protocol unit from the front of
 * the bytes it is given: TSC_ERR_TRUNCATED means "not complete yet" (more
 * bytes may complete it), TSC_ERR_DECODE "not this unit", TSC_ERR_LIMIT "a
 * unit larger than the cap".
 */
#ifndef TSC_PRELUDE_PARSE_H
#define TSC_PRELUDE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"

/* Byte i of s through the cursor, or -1 past its end. */
static inline int tsc_pre_byte(struct tsc_slice s, size_t i)
{
    struct tsc_cur c = tsc_cur_from_slice(s);
    uint8_t b;
    return tsc_cur_peek_u8(&c, i, &b) == TSC_OK ? b : -1;
}

/* One text line (SMTP, IMAP, POP3, FTP, HTTP): through LF; `line` without CR LF. */
TSC_MUST_USE enum tsc_err tsc_pre_line(struct tsc_slice in, size_t cap, struct tsc_slice *line,
                                       size_t *unit_len);
/* One XML unit (XMPP): text up to and including the next '>'. */
TSC_MUST_USE enum tsc_err tsc_pre_xml(struct tsc_slice in, size_t cap, struct tsc_slice *unit,
                                      size_t *unit_len);
/* Whether `s` starts with `prefix`, ASCII case-insensitively. */
bool tsc_pre_starts(struct tsc_slice s, const char *prefix);
/* Whether `s` contains `needle` (case-insensitive). */
bool tsc_pre_contains(struct tsc_slice s, const char *needle);

/*
 * SMTP/FTP reply line (RFC 5321 4.2, RFC 959 4.2): three digits, then ' '
 * (last line) or '-' (more lines follow), or nothing.
 */
TSC_MUST_USE enum tsc_err tsc_pre_reply_code(struct tsc_slice line, unsigned *code, bool *last);
/* IMAP tagged or untagged line: the tag (or "*") and the word after it. */
TSC_MUST_USE enum tsc_err tsc_pre_imap_words(struct tsc_slice line, struct tsc_slice *tag,
                                             struct tsc_slice *word);

/* LDAPMessage (RFC 4511 4.1.1) of the two kinds that matter here. */
struct tsc_ldap_msg {
    uint32_t msg_id;
    uint8_t op; /* protocolOp tag, e.g. 0x77 ExtendedRequest, 0x78 ExtendedResponse */
    struct tsc_slice req_name; /* ExtendedRequest requestName (LDAPOID) */
    bool have_result;
    uint32_t result;       /* LDAPResult resultCode of a response */
    struct tsc_slice diag; /* LDAPResult diagnosticMessage */
};
/* BER length of one LDAPMessage at the front: SEQUENCE header plus contents. */
TSC_MUST_USE enum tsc_err tsc_pre_ber_unit(struct tsc_slice in, size_t cap, size_t *unit_len);
TSC_MUST_USE enum tsc_err tsc_pre_ldap(struct tsc_slice msg, struct tsc_ldap_msg *out);
#define TSC_LDAP_STARTTLS_OID "1.3.6.1.4.1.1466.20037"

/* PostgreSQL (protocol 3, "Message Formats"). */
#define TSC_PG_SSL_REQUEST 80877103u    /* 1234 << 16 | 5679 */
#define TSC_PG_GSSENC_REQUEST 80877104u /* 1234 << 16 | 5680 */
/* Untyped startup-phase message: Int32 length (itself included), Int32 code. */
TSC_MUST_USE enum tsc_err tsc_pre_pg_startup(struct tsc_slice in, size_t cap, uint32_t *code,
                                             size_t *unit_len);
/* Typed message: Byte1 type, Int32 length (itself included). */
TSC_MUST_USE enum tsc_err tsc_pre_pg_typed(struct tsc_slice in, size_t cap, uint8_t *type,
                                           size_t *unit_len);

/* A proxy target: a host name or an address, and a port. */
struct tsc_pre_target {
    char host[256]; /* name, dotted IPv4 or IPv6 text */
    uint16_t port;
};

/* SOCKS4 / 4a request: VN=4, CD, DSTPORT, DSTIP, USERID NUL [, host NUL when DSTIP is 0.0.0.x]. */
struct tsc_socks4_req {
    uint8_t cmd; /* 1 CONNECT, 2 BIND */
    bool socks4a;
    struct tsc_pre_target target;
};
TSC_MUST_USE enum tsc_err tsc_pre_socks4_req(struct tsc_slice in, struct tsc_socks4_req *out,
                                             size_t *unit_len);
/* SOCKS4 reply: VN=0, CD (90 granted, 91..93 refused), 6 bytes. */
TSC_MUST_USE enum tsc_err tsc_pre_socks4_reply(struct tsc_slice in, uint8_t *cd, size_t *unit_len);

/* SOCKS5 (RFC 1928, RFC 1929). */
TSC_MUST_USE enum tsc_err tsc_pre_socks5_greeting(struct tsc_slice in, bool *offers_userpass,
                                                  size_t *unit_len);
TSC_MUST_USE enum tsc_err tsc_pre_socks5_choice(struct tsc_slice in, uint8_t *method,
                                                size_t *unit_len);
/* RFC 1929 request: VER=1, ULEN, UNAME, PLEN, PASSWD (nothing kept). */
TSC_MUST_USE enum tsc_err tsc_pre_socks5_userpass(struct tsc_slice in, size_t *unit_len);
TSC_MUST_USE enum tsc_err tsc_pre_socks5_userpass_reply(struct tsc_slice in, uint8_t *status,
                                                        size_t *unit_len);
/* Request VER=5 CMD RSV ATYP DST.ADDR DST.PORT; reply VER=5 REP RSV ATYP BND.ADDR BND.PORT. */
TSC_MUST_USE enum tsc_err tsc_pre_socks5_msg(struct tsc_slice in, uint8_t *code,
                                             struct tsc_pre_target *addr, size_t *unit_len);

/* "CONNECT host:port HTTP/1.x" (RFC 9110 9.3.6: authority-form). */
TSC_MUST_USE enum tsc_err tsc_pre_http_connect(struct tsc_slice line, struct tsc_pre_target *out);
/* "HTTP/1.x NNN reason". */
TSC_MUST_USE enum tsc_err tsc_pre_http_status(struct tsc_slice line, unsigned *code);
/* "Content-Length: N" header line (case-insensitive name); DECODE for other lines. */
TSC_MUST_USE enum tsc_err tsc_pre_http_content_length(struct tsc_slice line, uint64_t *len);

/* Printable copy of s into out (NUL-terminated, at most outlen - 1 bytes; others -> '.'). */
void tsc_pre_copy_text(struct tsc_slice s, char *out, size_t outlen);

#endif
