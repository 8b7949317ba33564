/*
 * libtlsscope: passive TLS dissector and traffic analyzer.
 *
 * An analyzer reads captures (files or a live interface), reassembles TCP,
 * dissects TLS in both directions of every connection and writes events
 * (text or JSON Lines, see docs/json-schema.md) to an output stream.
 *
 * Threading: an analyzer has no global mutable state; use one analyzer per
 * thread (cfg.threads > 1 makes the analyzer run worker threads of its own).
 * tsc_analyzer_stop() may be called from a signal handler.
 */
#ifndef TLSSCOPE_TLSSCOPE_H
#define TLSSCOPE_TLSSCOPE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tlsscope/types.h"

#define TSC_VERSION_MAJOR 0
#define TSC_VERSION_MINOR 1
#define TSC_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

/* Run-time version string, e.g. "0.1.0". */
const char *tsc_version(void);

enum tsc_format {
    TSC_FORMAT_TEXT = 0,  /* ssldump-like lines */
    TSC_FORMAT_JSONL = 1, /* one JSON object per line */
    TSC_FORMAT_ECS = 2,   /* connection summaries only, as Elastic Common Schema documents */
    TSC_FORMAT_NONE = 3,  /* nothing written: events go to the callback only */
};

/* ---- Events for programs that embed the analyzer ---------------------------
 * With tsc_config.on_event set, every event the analyzer produces (the same
 * ones -j writes, in the same order) is also handed to the callback, on the
 * thread that runs the analyzer, whatever the output format. Use
 * TSC_FORMAT_NONE to write nothing else. Everything an event points to is
 * valid only during the call. */
enum tsc_event_type {
    TSC_EV_RUN = 0,       /* run record (options, inputs, key files) */
    TSC_EV_RECORD,        /* one TLS record */
    TSC_EV_HANDSHAKE,     /* one handshake message, parsed */
    TSC_EV_ALERT,
    TSC_EV_CCS,           /* change_cipher_spec */
    TSC_EV_HEARTBEAT,
    TSC_EV_APP_DATA,      /* decrypted application data of one record (with show_app_data) */
    TSC_EV_GAP,           /* bytes missing in a direction */
    TSC_EV_DIAGNOSTIC,    /* a problem with the input, with where it was found */
    TSC_EV_CONNECTION,    /* a TLS connection ended: its summary */
    TSC_EV_STATS,         /* statistics (final, or periodic when live) */
    TSC_EV_VERDICT,       /* --verify: the verdict of one connection (after its summary) */
    TSC_EV_PRELUDE,       /* a STARTTLS dialogue or proxy tunnel ("starttls" / "tunnel") */
    TSC_EV__COUNT
};
#define TSC_EV_MASK(t) (1u << (t))
#define TSC_EV_ALL ((1u << TSC_EV__COUNT) - 1u)

/* The connection an event belongs to. */
struct tsc_conn_info {
    uint64_t id; /* 1-based, in order of first packet (as "id"/"conn" in JSON) */
    struct tsc_endpoint client;
    struct tsc_endpoint server;
    struct tsc_ts first_ts;
    struct tsc_ts last_ts;
};

struct tsc_event {
    enum tsc_event_type type;
    const char *type_name;             /* the JSON "type": "handshake", "connection", ... */
    const struct tsc_conn_info *conn;  /* NULL for run, stats and diagnostics */
    uint64_t conn_id;                  /* the connection's id, 0 when none (diagnostics too) */
    int dir;                           /* enum tsc_dir, or -1 */
    uint64_t pkt;                      /* packet number, 0 when none */
    struct tsc_ts ts;                  /* capture time, zero when none */
    /* Typed views (those of other types are zero / NULL). */
    uint8_t content_type;              /* TSC_EV_RECORD */
    uint8_t msg_type;                  /* TSC_EV_HANDSHAKE: handshake type (SSLv2 number if sslv2) */
    bool sslv2;                        /* TSC_EV_RECORD, TSC_EV_HANDSHAKE */
    int level, description;            /* TSC_EV_ALERT: -1 when encrypted and not decrypted */
    const uint8_t *data;               /* TSC_EV_APP_DATA: plaintext */
    size_t data_len;                   /* TSC_EV_APP_DATA; TSC_EV_GAP: bytes missing */
    const char *diag_kind;             /* TSC_EV_DIAGNOSTIC: e.g. "tls-malformed" */
    const char *message;               /* TSC_EV_DIAGNOSTIC */
    const struct tsc_tls_facts *facts; /* TSC_EV_CONNECTION, TSC_EV_VERDICT: the summary's facts */
    const char *verdict;               /* TSC_EV_VERDICT: "verified", "incomplete", "failed" */
    const struct tsc_prelude_facts *prelude; /* TSC_EV_PRELUDE: the dialogue (docs/discovery.md) */
    /* The event as the JSON object -j writes (NUL-terminated, no newline): every
     * parsed field, rendered at verbosity max(1, cfg.verbosity); see
     * docs/json-schema.md. */
    const char *json;
    size_t json_len;
};

typedef void (*tsc_event_fn)(void *ud, const struct tsc_event *ev);

struct tsc_config {
    enum tsc_format format;
    int verbosity;          /* 0, 1 (-v), 2 (-vv) */
    bool summary_only;      /* JSON: only run, connection, diagnostic, stats */
    bool numeric;           /* -n: no name resolution (tlsscope never resolves; kept for ssldump users) */
    bool quiet;             /* no progress display */
    bool progress;          /* progress on stderr (the CLI sets it when stderr is a terminal) */
    FILE *out;              /* output stream, default stdout */
    /* Limits (0 = default). */
    uint32_t max_flows;             /* tracked TCP flows */
    uint64_t max_buffered_bytes;    /* global out-of-order bytes */
    uint32_t max_conn_ooo_bytes;    /* per connection direction */
    uint32_t idle_timeout_s;
    uint32_t max_handshake_msg;     /* one buffered handshake message */
    uint32_t cert_cache_entries;
    uint32_t session_cache_entries; /* resumption cache (session IDs, tickets); 0 = default 65536 */
    bool no_session_cache;          /* no resumption cache: no resumed_from, no session-cache keys */
    uint32_t trial_max;             /* midstream trial: key log secrets tried per connection;
                                       0 = default 4096 */
    uint64_t max_memory;            /* --max-memory: budget the caps are derived from and the heap
                                       is held to (oldest flows evicted); 0 = none */
    int threads;                    /* --threads: analysis threads; 0 or 1 = the calling thread
                                       alone. N > 1: the calling thread reads and dispatches,
                                       N workers analyse (flows sharded by address; see
                                       docs/architecture.md); not with verify, report_file,
                                       data_dir, export_keylog, write_pcapng or on_event */
    /* Live capture. */
    int snaplen;
    bool no_promisc;
    int buffer_size;
    const char *filter;     /* BPF expression or NULL */
    uint32_t stats_interval_s; /* live: periodic stats event every N seconds (0: none) */
    const char *out_path;   /* the file behind `out`, reopened by tsc_analyzer_reopen_output */
    /* Decryption key material (all optional; nothing is decrypted without it). */
    const char *const *rsa_key_files; /* -k: PEM/DER/PKCS#8/PKCS#12 RSA private keys */
    int n_rsa_key_files;
    const char *key_password;         /* for encrypted key files, or NULL */
    const char *const *keylog_files;  /* -l: NSS key logs (SSLKEYLOGFILE format) */
    int n_keylog_files;
    bool env_keylog;                  /* also load $SSLKEYLOGFILE when set and readable */
    bool follow_keylogs;              /* live: key logs (-l, $SSLKEYLOGFILE) are followed while
                                         they grow, waited for when missing; records whose keys
                                         come late are held (bounded) until they do */
    const uint8_t *psk;               /* --psk: TLS 1.2 pre-shared key bytes, or NULL */
    size_t psk_len;
    const char *psk_identity;         /* NULL: any identity */
    bool show_app_data;               /* -d: decrypted application data as events */
    /* Evidence export (each NULL = off). */
    const char *export_keylog;        /* NSS key log of every session whose secrets were found */
    /* Forensic verification (docs/forensics.md). */
    bool verify;                      /* --verify: a verdict per connection */
    const char *ca_file;              /* --ca-file: trust anchors (PEM), or NULL */
    const char *ca_path;              /* --ca-path: hashed CA directory, or NULL */
    const char *report_file;          /* --report: HTML evidence report (implies verify) */
    /* Embedding: events to a callback (see struct tsc_event). */
    tsc_event_fn on_event;            /* NULL: none */
    void *event_ud;
    unsigned event_mask;              /* TSC_EV_MASK() bits wanted; 0 = TSC_EV_ALL */
    const char *data_dir;             /* --data-dir: decrypted application data per connection/direction */
    const char *write_pcapng;         /* -w: the input packets as pcapng with their secrets (files only) */
    /* Options echoed into the run record (argv as given). */
    int argc;
    char **argv;
};

void tsc_config_default(struct tsc_config *cfg);

struct tsc_analyzer;

/*
 * Returns 0 on success, -1 on failure (message in errbuf), including a key
 * file or key log that cannot be loaded at all (the CLI exits with 3 then).
 */
int tsc_analyzer_new(struct tsc_analyzer **out, const struct tsc_config *cfg, char *errbuf,
                     size_t errlen);
/*
 * Read capture files in order as one time line ("-" = stdin), then flush all
 * connections and write the final statistics. Unreadable inputs are reported
 * as diagnostics and skipped. Returns 0 when every input was read, 3 when some
 * input could not be opened at all.
 */
int tsc_analyzer_run_files(struct tsc_analyzer *a, const char *const *paths, int n);
/* Capture live until stopped; returns 0, or 3 when the interface cannot be opened. */
int tsc_analyzer_run_live(struct tsc_analyzer *a, const char *iface, char *errbuf,
                          size_t errlen);
/*
 * After a run with cfg.verify: 0 when every TLS connection was verified, 1
 * when some verification failed or could not be completed.
 */
int tsc_analyzer_verify_status(const struct tsc_analyzer *a);
/* Ask a running analyzer to stop soon (async-signal-safe). */
void tsc_analyzer_stop(struct tsc_analyzer *a);
/*
 * Ask a running live analyzer to reopen cfg.out_path (log rotation, SIGHUP;
 * async-signal-safe: it only sets a flag). The capture loop flushes, opens
 * the path again (append, created if missing), moves it under cfg.out's
 * descriptor and writes the run record again, so each rotated file starts
 * with one. If the path cannot be opened, output stays on the old file and a
 * `run` diagnostic says why.
 */
void tsc_analyzer_reopen_output(struct tsc_analyzer *a);
void tsc_analyzer_free(struct tsc_analyzer *a);

#ifdef __cplusplus
}
#endif

#endif
