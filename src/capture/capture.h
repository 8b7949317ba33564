/*
 * Capture front end: reads pcap / pcapng (optionally gzip-compressed) files or
 * stdin through libpcap, or a live interface, and yields raw frames.
 * Several files are read in order as one time line; packet numbers run on
 * across files (1-based).
 */
#ifndef TSC_CAPTURE_H
#define TSC_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "tlsscope/types.h"
#include "util/diag.h"
#include "util/err.h"

struct tsc_frame {
    struct tsc_ts ts;
    uint32_t caplen;   /* bytes present in data */
    uint32_t wirelen;  /* original length on the wire */
    int linktype;      /* DLT_* / LINKTYPE_* value */
    const uint8_t *data; /* valid until the next tsc_capture_next() */
    uint64_t num;      /* 1-based packet number across the run */
    const char *file;  /* input name ("-" for stdin, interface name for live) */
};

struct tsc_capture;

struct tsc_capture_live_opts {
    int snaplen;        /* 0 = 262144 */
    bool promisc;
    bool immediate;
    int buffer_size;    /* kernel buffer bytes, 0 = default */
    int timeout_ms;     /* read timeout, 0 = 100 */
};

/* Open a file ("-" = stdin); gzip detected by magic. Diagnostics go to sink. */
TSC_MUST_USE enum tsc_err tsc_capture_open_file(struct tsc_capture **out, const char *path,
                                                struct tsc_diag_sink *sink, char *errbuf,
                                                size_t errlen);
TSC_MUST_USE enum tsc_err tsc_capture_open_live(struct tsc_capture **out, const char *iface,
                                                const struct tsc_capture_live_opts *opts,
                                                struct tsc_diag_sink *sink, char *errbuf,
                                                size_t errlen);
/* Apply a BPF filter expression. */
TSC_MUST_USE enum tsc_err tsc_capture_set_filter(struct tsc_capture *c, const char *expr,
                                                 char *errbuf, size_t errlen);
/* Packet numbers continue from first_num (for several files as one time line). */
void tsc_capture_set_first_num(struct tsc_capture *c, uint64_t first_num);
/*
 * Next frame. Returns TSC_OK and fills *f; TSC_ERR_STATE at end of input
 * (*eof set true); other errors are fatal for this file (diagnostic emitted).
 * A live capture whose read timed out returns TSC_OK with f->data == NULL.
 */
TSC_MUST_USE enum tsc_err tsc_capture_next(struct tsc_capture *c, struct tsc_frame *f, bool *eof);
/* Bytes read so far and total size (0 if unknown) for progress display. */
void tsc_capture_progress(const struct tsc_capture *c, uint64_t *done, uint64_t *total);
/* Kernel statistics for live captures; false if not available. */
bool tsc_capture_kernel_stats(struct tsc_capture *c, uint64_t *recv, uint64_t *drop);
/* Break out of a blocking live read (signal-safe). */
void tsc_capture_breakloop(struct tsc_capture *c);
void tsc_capture_close(struct tsc_capture *c);

/*
 * pcapng Decryption Secrets Blocks of a (non-compressed) capture file: each
 * TLS key log block's text goes to on_keylog; *blocks counts them. A file that
 * is not pcapng yields nothing. Damaged block framing is a diagnostic and ends
 * the scan (the capture itself is still read by tsc_capture_open_file).
 */
TSC_MUST_USE enum tsc_err tsc_capture_scan_dsb(const char *path,
                                               void (*on_keylog)(void *ud, const uint8_t *p,
                                                                 size_t n),
                                               void *ud, struct tsc_diag_sink *sink,
                                               uint32_t *blocks);

/*
 * pcapng writer (-w): a Section Header Block at open, then Decryption Secrets
 * Blocks (TLS key log text) and packets, each written at once (one Interface
 * Description Block per link type, nanosecond timestamps, little-endian).
 */
struct tsc_pcapng_out;
TSC_MUST_USE enum tsc_err tsc_pcapng_out_open(struct tsc_pcapng_out **out, const char *path,
                                              char *err, size_t errlen);
TSC_MUST_USE enum tsc_err tsc_pcapng_out_dsb(struct tsc_pcapng_out *o, const uint8_t *keylog,
                                             size_t n);
TSC_MUST_USE enum tsc_err tsc_pcapng_out_packet(struct tsc_pcapng_out *o,
                                                const struct tsc_frame *f);
uint64_t tsc_pcapng_out_packets(const struct tsc_pcapng_out *o);
/* Flushes and closes; TSC_ERR_IO when any write failed. NULL is fine. */
enum tsc_err tsc_pcapng_out_close(struct tsc_pcapng_out *o);

#endif
