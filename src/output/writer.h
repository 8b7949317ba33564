/*
 * Event writers: the print pass. The analyzer (src/core) calls these with
 * facts already parsed and processed; nothing here parses wire data.
 * Two formats: text (ssldump-like, text.c) and JSON Lines (jsonl.c).
 */
#ifndef TSC_OUTPUT_WRITER_H
#define TSC_OUTPUT_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/sesscache.h"
#include "keys/keys.h"
#include "prelude/prelude.h"
#include "tcp/tcp.h"
#include "tls/tls.h"
#include "tlsscope/tlsscope.h"
#include "util/buf.h"
#include "util/diag.h"
#include "crypto/verify.h"
#include "verify/verdict.h"

/* Per-connection context the writers need (owned by the analyzer). */
struct tsc_out_conn {
    const struct tsc_tcp_conn *tcp;
    uint64_t nrec;       /* records printed so far (text record numbers) */
    struct tsc_ts last;  /* time of the last printed event (text deltas) */
    bool announced;      /* text: "New TCP connection" line written */
    const struct tsc_prelude_facts *prelude; /* cleartext prelude (STARTTLS, tunnel) or NULL */
};

struct tsc_run_input {
    const char *file;
    bool have_sha256;
    uint8_t sha256[32];
    int64_t size; /* -1 unknown */
};

/* A key file of the run: its name and SHA-256, never its content. */
struct tsc_run_keyfile {
    const char *file;
    const char *kind; /* "rsa", "keylog", "keylog-env" */
    bool have_sha256;
    uint8_t sha256[32];
};

struct tsc_run_info {
    const struct tsc_config *cfg;
    const struct tsc_run_input *inputs;
    int n_inputs;
    const struct tsc_run_keyfile *keyfiles;
    int n_keyfiles;
    bool psk; /* a PSK was given (its value is never printed) */
    const char *interface;
    struct tsc_ts start_wall;
};

/* Counters for the final statistics (filled by the analyzer). */
/* Negotiated versions as counted in the statistics: SSLv2, SSLv3, TLSv1.0,
 * 1.1, 1.2, 1.3, any TLS 1.3 draft, unknown. */
#define TSC_VERSION_BUCKETS 8
int tsc_version_bucket(int32_t version);
const char *tsc_version_bucket_name(int bucket);

struct tsc_run_stats {
    uint64_t packets;
    uint64_t bytes;      /* captured bytes */
    uint64_t wire_bytes; /* original lengths */
    struct tsc_net_stats net;
    struct tsc_tcp_stats tcp;
    uint64_t tcp_connections;
    uint64_t tls_connections;
    uint64_t malformed_connections;
    uint64_t heartbleed_connections;
    uint64_t partial_connections;
    uint64_t decrypted_connections;
    uint64_t bad_records;
    uint64_t keylog_lines_exported; /* --export-keylog */
    /* Discovery: dialogues recognised by protocol, and how many went on to TLS. */
    uint64_t prelude_seen[TSC_PRE__COUNT];
    uint64_t prelude_upgraded[TSC_PRE__COUNT];
    uint64_t pcapng_packets_written; /* -w */
    uint64_t pcapng_secret_lines;    /* -w: key log lines in its Decryption Secrets Blocks */
    uint64_t data_files;             /* --data-dir: plaintext files, bytes, holes recorded */
    uint64_t data_bytes;
    uint64_t data_holes;
    uint64_t rsa_private_ops;       /* RSA premaster decryptions (one per RSA session when the
                                       certificate names the key) */
    uint64_t trial[TSC_TRIAL_COST__COUNT]; /* midstream trial decryption cost (keys.h) */
    uint64_t versions[TSC_VERSION_BUCKETS]; /* connections per tsc_version_bucket() */
    const uint64_t *suite_counts;  /* 65536 entries, connections per negotiated suite */
    const uint64_t *diag_counts;   /* TSC_DIAG__COUNT entries */
    uint64_t cert_lookups;
    uint64_t cert_hits;
    uint64_t cert_evictions; /* certificate summaries dropped from the cache (full) */
    bool have_verify;                  /* --verify: its certificate cache (and chain results) */
    struct tsc_vcert_stats vcerts;
    bool have_chains;                  /* --ca-file / --ca-path given */
    struct tsc_chain_stats chains;
    bool have_sessions;                /* a resumption cache was in use */
    struct tsc_sess_cache_stats sessions;
    uint64_t resumed_connections;      /* TLS connections that resumed a session */
    uint64_t resumed_linked;           /* ... whose parent connection is in the run */
    double elapsed_s;
    bool have_kernel;
    uint64_t kernel_recv;
    uint64_t kernel_drop;
    /* Memory (live runs, and every run with --max-memory). */
    bool have_memory;
    uint64_t heap_bytes;      /* allocated from the C heap now (mallinfo2), 0 unknown */
    uint64_t rss_bytes;       /* resident set size now, 0 unknown */
    uint64_t accounted_bytes; /* what the caps account: flows, out-of-order bytes, caches */
    uint64_t memory_limit;    /* --max-memory, 0 none */
    uint64_t pending_records_dropped; /* early encrypted records given up waiting for keys */
    uint64_t memory_evictions;        /* flows evicted to hold the heap to --max-memory */
    /* Followed key logs (live). */
    bool have_follow;
    uint32_t follow_files;
    uint64_t follow_lines;
    uint64_t follow_entries;
    uint64_t follow_truncations;
    uint64_t follow_reopens;
    uint64_t held_records;    /* records held until their keys arrived (or given up) */
    uint64_t held_bytes_peak;
    uint64_t follow_index_entries; /* key log entries indexed now */
    uint64_t follow_index_dropped; /* dropped with old index generations */
    bool final;                    /* last stats record of the run */
};

struct tsc_writer;

int tsc_writer_new(struct tsc_writer **out, const struct tsc_config *cfg);
void tsc_writer_free(struct tsc_writer *w);
void tsc_writer_flush(struct tsc_writer *w);
/* Live output: each event goes to the stream and is flushed once complete. */
void tsc_writer_set_line_mode(struct tsc_writer *w, bool on);

/*
 * Holding: events are kept in memory instead of written, so that an event
 * produced later (the run record, which waits for the input hashes) can still
 * go first. tsc_writer_prefix_begin sets the held events aside; what is written
 * until tsc_writer_release goes before them; release writes it all out and
 * ends holding.
 */
void tsc_writer_hold(struct tsc_writer *w);
size_t tsc_writer_held_bytes(const struct tsc_writer *w);
void tsc_writer_prefix_begin(struct tsc_writer *w);
void tsc_writer_release(struct tsc_writer *w);

void tsc_writer_run(struct tsc_writer *w, const struct tsc_run_info *info);
void tsc_writer_record(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                       const struct tsc_tls_record_info *r);
void tsc_writer_handshake(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                          const struct tsc_hs_msg *m, uint64_t pkt, struct tsc_ts ts);
void tsc_writer_alert(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                      const struct tsc_tls_alert_info *a);
void tsc_writer_ccs(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint64_t pkt,
                    struct tsc_ts ts);
void tsc_writer_heartbeat(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint8_t type,
                          uint16_t payload_length, uint32_t record_len, bool overlong,
                          uint64_t pkt, struct tsc_ts ts);
/* Decrypted application data of one record (only written with cfg->show_app_data). */
void tsc_writer_app_data(struct tsc_writer *w, struct tsc_out_conn *c, int dir, const uint8_t *p,
                         size_t n, uint64_t pkt, struct tsc_ts ts);
void tsc_writer_gap(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint64_t len,
                    uint64_t pkt, struct tsc_ts ts);
void tsc_writer_diag(struct tsc_writer *w, enum tsc_diag_kind kind, const struct tsc_where *where,
                     const char *msg);
/*
 * A STARTTLS dialogue or proxy tunnel whose outcome is final (written even
 * with --summary-only: for a dialogue that never reached TLS it is the only
 * report of the connection).
 */
void tsc_writer_prelude(struct tsc_writer *w, struct tsc_out_conn *c, enum tsc_prelude_event kind,
                        uint64_t pkt, struct tsc_ts ts);
void tsc_writer_connection(struct tsc_writer *w, struct tsc_out_conn *c,
                           const struct tsc_tls_facts *f, enum tsc_tcp_end_reason why);
void tsc_writer_stats(struct tsc_writer *w, const struct tsc_run_stats *st);
/* --verify (verdict_out.c): one verdict per TLS connection, after its summary; the run's totals. */
void tsc_writer_verdict(struct tsc_writer *w, struct tsc_out_conn *c, const struct tsc_tls_facts *f,
                        const struct tsc_verify_facts *vf, const struct tsc_verdict *vd);
void tsc_writer_verify_summary(struct tsc_writer *w, const struct tsc_vsum *s);

/* Shared helpers (writer.c). */
void tsc_fmt_ip(const struct tsc_endpoint *e, char *out, size_t outlen);
/* "SECONDS.nnnnnnnnn" (exact decimal); returns its length. */
size_t tsc_fmt_ts(struct tsc_ts ts, char *out, size_t outlen);
/* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" */
void tsc_fmt_time(struct tsc_ts ts, char *out, size_t outlen);
double tsc_ts_to_double(struct tsc_ts ts);
/* a - b in seconds */
double tsc_ts_diff(struct tsc_ts a, struct tsc_ts b);
const char *tsc_dir_name(int dir); /* "c2s" / "s2c" */

#endif
