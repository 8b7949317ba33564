/*
 * Plaintext export (--data-dir DIR): each connection's decrypted application
 * data, one file per direction, named after the connection id, endpoints and
 * direction:
 *   <id>-<client ip>.<port>-<server ip>.<port>-c2s.bin   (':' of IPv6 as '_')
 * and a sidecar <id>-<client>-<server>.json that says where the plaintext has
 * holes: TCP bytes never captured, application_data records that did not
 * decrypt (MAC failure, keys lost). Files are written as records decrypt,
 * through a small cache of open descriptors (reopened in append mode), so
 * neither memory nor descriptors grow with the number of connections; the
 * hole list is capped per direction (further holes are counted).
 */
#ifndef TSC_OUTPUT_DATADIR_H
#define TSC_OUTPUT_DATADIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp/tcp.h"
#include "tls/tls.h"
#include "util/err.h"

#define TSC_DD_MAX_HOLES 256 /* per direction; more are counted in holes_dropped */

enum tsc_dd_hole_kind {
    TSC_DD_TCP_GAP = 0,      /* bytes of the TCP stream never captured */
    TSC_DD_RECORD_LOST = 1,  /* an application_data record that did not decrypt */
};

struct tsc_dd_hole {
    uint64_t at;    /* plaintext offset in the direction's file where bytes are missing */
    uint64_t bytes; /* TCP bytes lost, or the record's ciphertext length */
    uint64_t pkt;
    uint8_t kind;   /* enum tsc_dd_hole_kind */
};

/* Per connection (embedded in the analyzer's connection state; zeroed). */
struct tsc_dd_conn {
    bool started[2];      /* the direction's file exists (plaintext written) */
    uint64_t bytes[2];
    struct tsc_dd_hole *holes[2]; /* allocated at the first hole */
    uint32_t n_holes[2];
    uint64_t holes_dropped[2];
};

struct tsc_datadir;

TSC_MUST_USE enum tsc_err tsc_datadir_open(struct tsc_datadir **out, const char *dir, char *err,
                                           size_t errlen);
/* Plaintext of one decrypted application_data record. */
void tsc_datadir_data(struct tsc_datadir *d, struct tsc_dd_conn *c, const struct tsc_tcp_conn *tcp,
                      int dir, const uint8_t *p, size_t n);
/* A hole (recorded only after plaintext began in that direction). */
void tsc_datadir_hole(struct tsc_datadir *d, struct tsc_dd_conn *c, int dir,
                      enum tsc_dd_hole_kind kind, uint64_t bytes, uint64_t pkt);
/* Connection over: closes its files, writes the sidecar when any plaintext was
 * written, frees the hole lists. */
void tsc_datadir_conn_end(struct tsc_datadir *d, struct tsc_dd_conn *c,
                          const struct tsc_tcp_conn *tcp, const struct tsc_tls_facts *f);

struct tsc_datadir_stats {
    uint64_t files;  /* plaintext files created */
    uint64_t bytes;  /* plaintext bytes written */
    uint64_t holes;  /* holes recorded (and dropped past the cap) */
    uint64_t write_errors;
};
void tsc_datadir_get_stats(const struct tsc_datadir *d, struct tsc_datadir_stats *st);
void tsc_datadir_close(struct tsc_datadir *d);

#endif
