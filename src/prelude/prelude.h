/*
 * The prelude stage, between TCP and the TLS record layer: per connection,
 * recognises by content a cleartext dialogue in front of TLS (STARTTLS of
 * SMTP, IMAP, POP3, FTP, XMPP, LDAP, PostgreSQL; HTTP CONNECT, SOCKS4/4a and
 * SOCKS5 tunnels, then any of the STARTTLS protocols inside the tunnel),
 * follows it up to the upgrade and summarises it (struct
 * tsc_prelude_facts). Anything else (TLS from the first byte, unknown
 * protocols) is passed on untouched at the first byte.
 *
 * Bounded: per direction at most cfg.max_bytes of cleartext are inspected
 * and one unit (line, XML tag, LDAP or PostgreSQL message) of at most
 * cfg.max_unit bytes is buffered; a cap hit is a `prelude-limit` diagnostic
 * and the rest goes to the TLS layer, which scans it for records.
 */
#ifndef TSC_PRELUDE_H
#define TSC_PRELUDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsscope/types.h"

#include "util/buf.h"
#include "util/cursor.h"
#include "util/diag.h"

/* Protocols recognised (index into tsc_prelude_proto_name). */
enum tsc_prelude_proto {
    TSC_PRE_NONE = 0,
    TSC_PRE_SMTP,
    TSC_PRE_IMAP,
    TSC_PRE_POP3,
    TSC_PRE_FTP,
    TSC_PRE_XMPP,
    TSC_PRE_LDAP,
    TSC_PRE_POSTGRES,
    TSC_PRE_CONNECT, /* tunnels from here on */
    TSC_PRE_SOCKS4,
    TSC_PRE_SOCKS5,
    TSC_PRE__COUNT
};
/* "smtp", ..., "postgres", "connect", "socks4", "socks5"; NULL for TSC_PRE_NONE. */
const char *tsc_prelude_proto_name(unsigned proto);

struct tsc_prelude_config {
    uint32_t max_bytes; /* cleartext bytes inspected per direction, default 16 KiB */
    uint32_t max_unit;  /* one buffered unit, default 4 KiB */
    struct tsc_diag_sink *sink;
    const char *file; /* for diagnostics */
};

void tsc_prelude_config_default(struct tsc_prelude_config *cfg);

struct tsc_prelude_dir {
    uint8_t state;       /* detect, active, pass (prelude.c) */
    bool held_out;       /* the buffer was handed on by the last call: empty it */
    struct tsc_buf unit; /* partial unit; allocated on first need */
    uint64_t skip;       /* body bytes still to skip (HTTP proxy answer) */
    uint8_t phase;       /* protocol phase of this direction */
};

/* Per connection; embed it and tsc_prelude_init it. Fields are internal. */
struct tsc_prelude {
    struct tsc_prelude_config cfg;
    uint64_t conn;
    uint64_t pkt;
    struct tsc_ts ts;
    uint8_t proto;      /* recognised protocol (prelude.c), 0 while detecting */
    bool decided;       /* detection is over for the current stream */
    bool in_tunnel;     /* detection restarted on the inside of a tunnel */
    bool smtp_or_ftp;   /* "220" greeting: the client's commands decide */
    bool cmd_sent;      /* upgrade command seen, answer pending */
    bool refused;       /* an upgrade command was refused */
    bool pg_startup;    /* PostgreSQL: the client's StartupMessage was seen */
    bool pg_reply;      /* PostgreSQL: the one-byte answer to SSLRequest is due */
    uint16_t http_code; /* HTTP proxy: status of the answer being read */
    uint64_t http_len;  /* HTTP proxy: its Content-Length */
    uint32_t ldap_id;   /* messageID of the StartTLS extended request */
    char imap_tag[32];  /* tag of the IMAP STARTTLS command */
    bool due[2];        /* event due: [0] tunnel, [1] starttls */
    bool done[2];       /* event written */
    struct tsc_prelude_facts f;
    struct tsc_prelude_dir d[2];
};

void tsc_prelude_init(struct tsc_prelude *p, const struct tsc_prelude_config *cfg,
                      uint64_t conn_id);
void tsc_prelude_free(struct tsc_prelude *p);

/* The TCP roles were swapped (tsc_tcp_conn_swap_roles): so are the directions here. */
void tsc_prelude_swap(struct tsc_prelude *p);

/* Everything of this direction goes straight to the TLS layer from now on. */
bool tsc_prelude_passing(const struct tsc_prelude *p, int dir);

/*
 * What to do with one call's bytes, in this order: `prelude_bytes` were
 * cleartext prelude (count them as the TLS layer's non-TLS prefix), then
 * `held` (bytes of earlier calls, valid until the next call) and the input
 * from `pass_from` on go to the TLS layer.
 */
struct tsc_prelude_step {
    uint64_t prelude_bytes;
    struct tsc_slice held;
    size_t pass_from;
};

void tsc_prelude_data(struct tsc_prelude *p, int dir, const uint8_t *b, size_t n, uint64_t pkt,
                      struct tsc_ts ts, struct tsc_prelude_step *st);
/* Bytes are missing in dir: the prelude gives up; held bytes go on first. */
void tsc_prelude_gap(struct tsc_prelude *p, int dir, uint64_t pkt, struct tsc_ts ts,
                     struct tsc_prelude_step *st);
/* dir ended: bytes still held were cleartext (st->prelude_bytes). */
void tsc_prelude_end(struct tsc_prelude *p, int dir, struct tsc_prelude_step *st);
/* The connection is over: undecided outcomes become final (refused, no reply, ...). */
void tsc_prelude_close(struct tsc_prelude *p);

enum tsc_prelude_event {
    TSC_PRELUDE_EV_TUNNEL = 0,
    TSC_PRELUDE_EV_STARTTLS = 1,
};
/*
 * Next event due (a tunnel or STARTTLS dialogue whose outcome is final),
 * each written once; false when none.
 */
bool tsc_prelude_next_event(struct tsc_prelude *p, enum tsc_prelude_event *kind);

const struct tsc_prelude_facts *tsc_prelude_facts(const struct tsc_prelude *p);
const char *tsc_prelude_outcome_name(uint8_t outcome); /* "upgraded", "refused", ... */

#endif
