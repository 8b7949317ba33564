/*
 * Diagnostics: what went wrong, and where (file, packet number, connection,
 * direction, stream offset). Every diagnostic is counted by kind for the final
 * statistics and forwarded to the output as an event; analysis then goes on.
 *
 * The kind list is an X-macro. Each module owns its own section: add kinds
 * only inside your section.
 */
#ifndef TSC_UTIL_DIAG_H
#define TSC_UTIL_DIAG_H

#include <stdarg.h>
#include <stdint.h>

/* X(enum name, "short-name", severity) severity: 0 info, 1 warning, 2 error */
#define TSC_DIAG_LIST(X)                                                                           \
    /* ---- capture (src/capture) ---- */                                                          \
    X(TSC_DIAG_CAPTURE_OPEN, "capture-open", 2)                                                    \
    X(TSC_DIAG_CAPTURE_TRUNCATED_FILE, "capture-truncated-file", 1)                                \
    X(TSC_DIAG_CAPTURE_CORRUPT, "capture-corrupt", 2)                                              \
    X(TSC_DIAG_CAPTURE_SNAPLEN, "snaplen-cut", 1)                                                  \
    X(TSC_DIAG_CAPTURE_LINKTYPE, "unknown-linktype", 1)                                            \
    X(TSC_DIAG_CAPTURE_TIME, "time-went-backwards", 0)                                             \
    /* ---- link/IP (src/net) ---- */                                                              \
    X(TSC_DIAG_LINK_MALFORMED, "link-malformed", 1)                                                \
    X(TSC_DIAG_IP_MALFORMED, "ip-malformed", 1)                                                    \
    X(TSC_DIAG_IP_FRAG_LIMIT, "ip-fragment-limit", 1)                                              \
    X(TSC_DIAG_IP_FRAG_TIMEOUT, "ip-fragment-timeout", 0)                                          \
    /* ---- TCP (src/tcp) ---- */                                                                  \
    X(TSC_DIAG_TCP_MALFORMED, "tcp-malformed", 1)                                                  \
    X(TSC_DIAG_TCP_GAP, "tcp-gap", 1)                                                              \
    X(TSC_DIAG_TCP_OVERLAP_CONFLICT, "tcp-overlap-conflict", 1)                                    \
    X(TSC_DIAG_TCP_OOO_LIMIT, "tcp-ooo-limit", 1)                                                  \
    X(TSC_DIAG_TCP_FLOW_EVICTED, "tcp-flow-evicted", 1)                                            \
    X(TSC_DIAG_TCP_FLOW_LIMIT, "tcp-flow-limit", 1)                                                \
    /* ---- TLS (src/tls, src/x509) ---- */                                                        \
    X(TSC_DIAG_TLS_MALFORMED, "tls-malformed", 1)                                                  \
    X(TSC_DIAG_TLS_NOT_TLS, "not-tls", 0)                                                          \
    X(TSC_DIAG_TLS_RESYNC, "tls-resync", 1)                                                        \
    X(TSC_DIAG_TLS_LIMIT, "tls-limit", 1)                                                          \
    X(TSC_DIAG_TLS_UNEXPECTED, "tls-unexpected-message", 1)                                        \
    X(TSC_DIAG_TLS_HEARTBLEED, "heartbeat-overlong", 2)                                            \
    X(TSC_DIAG_TLS_TRUNCATED, "tls-truncated", 0)                                                  \
    X(TSC_DIAG_TLS_BAD_RECORD_MAC, "tls-bad-record-mac", 1)                                        \
    X(TSC_DIAG_TLS_DECRYPT_LOST, "tls-decrypt-lost", 1)                                            \
    X(TSC_DIAG_TLS_DECRYPT_RESYNC, "tls-decrypt-resync", 0)                                        \
    X(TSC_DIAG_TLS_MIDSTREAM, "tls-midstream", 0)                                                  \
    X(TSC_DIAG_TLS_TRIAL_MATCH, "tls-trial-match", 0)                                              \
    X(TSC_DIAG_TLS_TRIAL_FAILED, "tls-trial-failed", 1)                                            \
    X(TSC_DIAG_X509_MALFORMED, "x509-malformed", 1)                                                \
    /* ---- cleartext preludes: STARTTLS, proxy tunnels (src/prelude) ---- */                      \
    X(TSC_DIAG_PRELUDE_LIMIT, "prelude-limit", 1)                                                  \
    X(TSC_DIAG_PRELUDE_MALFORMED, "prelude-malformed", 1)                                          \
    X(TSC_DIAG_PRELUDE_REFUSED, "prelude-refused", 0)                                              \
    X(TSC_DIAG_PRELUDE_NO_UPGRADE, "prelude-no-upgrade", 0)                                        \
    /* ---- key material and decryption (src/keys, src/crypto) ---- */                             \
    X(TSC_DIAG_KEY_FILE, "key-file", 2)                                                            \
    X(TSC_DIAG_KEYLOG_BAD_LINE, "keylog-bad-line", 1)                                              \
    X(TSC_DIAG_KEY_LIMIT, "key-limit", 1)                                                          \
    X(TSC_DIAG_KEYLOG_FOLLOW, "keylog-follow", 0)                                                  \
    /* ---- run (src/core, src/cli) ---- */                                                        \
    X(TSC_DIAG_RUN, "run", 2)

enum tsc_diag_kind {
#define TSC_DIAG_ENUM(name, s, sev) name,
    TSC_DIAG_LIST(TSC_DIAG_ENUM)
#undef TSC_DIAG_ENUM
        TSC_DIAG__COUNT
};

const char *tsc_diag_name(enum tsc_diag_kind k);
int tsc_diag_severity(enum tsc_diag_kind k);

#define TSC_NO_CONN UINT64_MAX

/* Where a diagnostic applies. Fields not known are 0 / NULL / TSC_NO_CONN / -1. */
struct tsc_where {
    const char *file; /* input file name, NULL for live */
    uint64_t pkt;     /* 1-based packet number across the run, 0 = none */
    uint64_t conn;    /* connection id or TSC_NO_CONN */
    int dir;          /* 0 client->server, 1 server->client, -1 none */
    int64_t offset;   /* byte offset in that direction's stream, -1 none */
};

struct tsc_diag_sink {
    /* Called for every diagnostic; msg is a formatted, NUL-terminated line. */
    void (*emit)(void *ud, enum tsc_diag_kind kind, const struct tsc_where *where,
                 const char *msg);
    void *ud;
    uint64_t counts[TSC_DIAG__COUNT];
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void tsc_diag(struct tsc_diag_sink *sink, enum tsc_diag_kind kind, const struct tsc_where *where,
              const char *fmt, ...);

#endif
