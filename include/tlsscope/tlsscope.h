/*
 * libtlsscope: passive TLS dissector and traffic analyzer.
 *
 * An analyzer reads captures (files or a live interface), reassembles TCP,
 * dissects TLS in both directions of every connection and writes events
 * (text or JSON Lines, see docs/json-schema.md) to an output stream.
 *
 * Threading: an analyzer has no global mutable state; use one analyzer per
 * thread. tsc_analyzer_stop() may be called from a signal handler.
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
};

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
    /* Live capture. */
    int snaplen;
    bool no_promisc;
    int buffer_size;
    const char *filter;     /* BPF expression or NULL */
    /* Decryption key material (all optional; nothing is decrypted without it). */
    const char *const *rsa_key_files; /* -k: PEM/DER/PKCS#8/PKCS#12 RSA private keys */
    int n_rsa_key_files;
    const char *key_password;         /* for encrypted key files, or NULL */
    const char *const *keylog_files;  /* -l: NSS key logs (SSLKEYLOGFILE format) */
    int n_keylog_files;
    bool env_keylog;                  /* also load $SSLKEYLOGFILE when set and readable */
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
void tsc_analyzer_free(struct tsc_analyzer *a);

#ifdef __cplusplus
}
#endif

#endif
