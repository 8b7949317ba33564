/*
 * TCP flow table and stream reassembly.
 *
 * Segments go in (tsc_tcp_process); per-direction in-order bytes, gaps and ends
 * come out through callbacks. No whole-stream buffering: only out-of-order
 * segments are held, under per-connection and global caps. Flows are keyed on
 * both directions; idle flows expire on capture time; caps evict the oldest
 * idle flow (counted, reported).
 */
#ifndef TSC_TCP_H
#define TSC_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "net/net.h"
#include "tlsscope/types.h"
#include "util/diag.h"
#include "util/err.h"

enum tsc_tcp_end_reason {
    TSC_TCP_END_FIN = 0,   /* orderly close seen */
    TSC_TCP_END_RST,       /* reset */
    TSC_TCP_END_TIMEOUT,   /* idle timeout on capture time */
    TSC_TCP_END_EVICTED,   /* evicted by a memory / flow cap */
    TSC_TCP_END_REUSED,    /* port reuse: a new SYN after close */
    TSC_TCP_END_EOF,       /* end of input (flush) */
};

const char *tsc_tcp_end_reason_name(enum tsc_tcp_end_reason r);

/* Public view of a connection, owned by the table. */
struct tsc_tcp_conn {
    uint64_t id;                  /* 1-based, in order of first packet */
    struct tsc_endpoint client;
    struct tsc_endpoint server;
    enum tsc_role_source role_source;
    bool saw_syn;                 /* handshake start was captured */
    struct tsc_ts first_ts;
    struct tsc_ts last_ts;
    uint64_t first_pkt;
    /* Two entries indexed by enum tsc_dir; never NULL. Flows that have seen only
     * SYN / SYN-ACK segments point at shared zeros (their state is kept small). */
    const struct tsc_tcp_dir_stats *stats;
    void *user;                   /* consumer's per-connection state */
};

/*
 * Consumer callbacks. `dir` is enum tsc_dir. Any callback may be NULL.
 * on_open is called once before any data of the connection. The connection
 * pointer stays valid until on_close returns.
 */
struct tsc_tcp_callbacks {
    void (*on_open)(void *ud, struct tsc_tcp_conn *c);
    /* In-order bytes. `pkt` and `ts` are those of the segment that completed them. */
    void (*on_data)(void *ud, struct tsc_tcp_conn *c, int dir, const uint8_t *p, size_t n,
                    uint64_t pkt, struct tsc_ts ts);
    /* `len` bytes are missing before the next delivered byte. */
    void (*on_gap)(void *ud, struct tsc_tcp_conn *c, int dir, uint64_t len, uint64_t pkt,
                   struct tsc_ts ts);
    /* This direction ended (FIN reached in order, or RST). */
    void (*on_end)(void *ud, struct tsc_tcp_conn *c, int dir, enum tsc_tcp_end_reason why);
    /* The connection is gone; summaries are written here. Free c->user here. */
    void (*on_close)(void *ud, struct tsc_tcp_conn *c, enum tsc_tcp_end_reason why);
    void *ud;
};

struct tsc_tcp_config {
    uint32_t max_flows;           /* tracked flows, default 1,000,000 */
    uint64_t max_buffered_bytes;  /* global out-of-order bytes, default 256 MiB */
    uint32_t max_conn_ooo_bytes;  /* per connection direction, default 4 MiB */
    uint32_t idle_timeout_s;      /* established flows, default 600 */
    uint32_t syn_timeout_s;       /* never-established flows, default 30 */
    uint32_t closed_linger_s;     /* after FIN/RST both ways, default 5 */
    uint32_t time_wait_s;         /* a closed flow is remembered this long so late
                                     retransmissions do not open a new one, default 120 */
    /* Connection ids: id_first, id_first + id_step, ... (0 = 1 and 1). Threaded runs give
     * worker w of N first w + 1 and step N, so ids stay unique and repeatable. */
    uint64_t id_first;
    uint32_t id_step;
};

void tsc_tcp_config_default(struct tsc_tcp_config *cfg);

struct tsc_tcp_table;

TSC_MUST_USE enum tsc_err tsc_tcp_table_new(struct tsc_tcp_table **out,
                                            const struct tsc_tcp_config *cfg,
                                            const struct tsc_tcp_callbacks *cb,
                                            struct tsc_diag_sink *sink);
/* Closes (on_close with TSC_TCP_END_EOF) every open flow, then frees. */
void tsc_tcp_table_free(struct tsc_tcp_table *t);

/* Feed one TCP segment (from tsc_net_decode). Also expires idle flows by seg->ts. */
void tsc_tcp_process(struct tsc_tcp_table *t, const struct tsc_tcp_seg *seg);
/* Expire flows idle since before `now` (for live captures with no traffic). */
void tsc_tcp_expire(struct tsc_tcp_table *t, struct tsc_ts now);
/* Close every open flow (end of input): flushes buffered segments as gaps+data. */
void tsc_tcp_flush_all(struct tsc_tcp_table *t, enum tsc_tcp_end_reason why);

/*
 * The consumer found that roles were guessed wrong (e.g. a ClientHello arrived
 * in the S2C direction of a flow whose SYN was not captured). Swaps client and
 * server, stats, and the direction of all further callbacks. Allowed only when
 * role_source is not TSC_ROLE_SYN/SYNACK; sets role_source to CLIENT_HELLO.
 * Returns false if not allowed.
 */
bool tsc_tcp_conn_swap_roles(struct tsc_tcp_table *t, struct tsc_tcp_conn *c);

struct tsc_tcp_stats {
    uint64_t segments;
    uint64_t connections;      /* flows ever opened */
    uint64_t open_flows;       /* now */
    uint64_t peak_flows;
    uint64_t evicted_flows;
    uint64_t timed_out_flows;
    uint64_t buffered_bytes;   /* now */
    uint64_t peak_buffered_bytes;
    uint64_t gap_bytes;
    uint64_t conflict_bytes;
    uint64_t ooo_dropped_bytes; /* dropped because of caps */
    uint64_t late_segments;     /* segments of an already closed connection (ignored) */
    uint64_t memory_bytes;      /* flow structures, hash buckets and queued bytes now */
};
void tsc_tcp_get_stats(const struct tsc_tcp_table *t, struct tsc_tcp_stats *st);
/* Bytes one tracked flow costs in the table (for sizing caps from a memory budget). */
size_t tsc_tcp_flow_bytes(void);
/*
 * Close the least recently active flow (not the one being processed) as
 * evicted: `why` goes into its tcp-flow-evicted diagnostic. False when no
 * flow is open. For a consumer enforcing a memory budget of its own.
 */
bool tsc_tcp_evict_oldest(struct tsc_tcp_table *t, const char *why);

#endif
