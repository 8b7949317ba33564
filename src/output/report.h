/*
 * --report FILE.html: one self-contained HTML evidence report (no external
 * assets, no network): run header (version, options, SHA-256 of every input
 * and key file), overview charts in inline SVG (versions, cipher suites, key
 * exchanges, verdicts, top server names, a timeline), a sortable connection
 * table and, per connection, a ladder diagram of the handshake (inline SVG,
 * failed checks in red) with certificate details.
 *
 * Streamed: table rows go to the file as connections close and the
 * per-connection sections to a temporary file appended at the end, so memory
 * stays bounded whatever the capture: only the aggregates for the charts,
 * a bounded ladder per open connection, and capped diagram counts (a note
 * says how many were left out). Every string from the wire is HTML-escaped.
 */
#ifndef TSC_OUTPUT_REPORT_H
#define TSC_OUTPUT_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "output/writer.h"

struct tsc_report;

/* Opens the file (and a temporary one); errbuf explains a failure. */
int tsc_report_open(struct tsc_report **out, const char *path, char *errbuf, size_t errlen);

/* The run's header (copied: inputs, key files and their hashes, options). */
void tsc_report_run(struct tsc_report *r, const struct tsc_run_info *info);

/* Bounded ladder of one connection's messages, kept while it is open. */
struct tsc_report_conn;
struct tsc_report_conn *tsc_report_conn_new(void);
void tsc_report_conn_free(struct tsc_report_conn *rc);

enum tsc_report_ev {
    TSC_REV_HANDSHAKE = 0, /* code: handshake type */
    TSC_REV_CCS,
    TSC_REV_ALERT,         /* code: description, level: 1 warning, 2 fatal, 0 encrypted */
    TSC_REV_APP_DATA,      /* consecutive records of one direction are merged */
    TSC_REV_BAD_RECORD,    /* a record whose MAC / tag failed */
    TSC_REV_GAP,           /* TCP bytes missing (code unused, count: bytes) */
    TSC_REV_HEARTBEAT,
};
void tsc_report_event(struct tsc_report_conn *rc, int dir, enum tsc_report_ev kind, uint8_t code,
                      uint8_t level, uint64_t count, uint64_t pkt, struct tsc_ts ts);

/* A closed TLS connection with its verdict: its table row and section. */
void tsc_report_connection(struct tsc_report *r, const struct tsc_report_conn *rc,
                           const struct tsc_tcp_conn *tcp, const struct tsc_tls_facts *f,
                           const struct tsc_verify_facts *vf, const struct tsc_verdict *vd);

/* Writes overview, sections and header; closes the file. Returns 0, -1 on a write error. */
int tsc_report_close(struct tsc_report *r, const struct tsc_run_stats *st);
void tsc_report_free(struct tsc_report *r); /* after close, or to abandon */

#endif
