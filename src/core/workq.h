/*
 * Work queues of a threaded run (--threads N, docs/architecture.md).
 *
 * One dispatching thread reads the capture, decodes link, IP (fragments
 * reassembled) and TCP headers, and hands each TCP segment to one of N
 * workers, chosen by a symmetric hash of the two endpoints so both directions
 * of a flow reach the same worker. Each worker has a bounded ring of
 * TSC_WQ_SLOTS batches; a batch is a preallocated slab the dispatcher copies
 * segments into (header + payload bytes), so nothing is allocated per packet.
 * A full ring blocks the dispatcher (back-pressure); an empty one puts its
 * worker to sleep. Batches go to a worker when full, when the dispatcher
 * flushes (ticks, a waiting worker, the end of input) or before it blocks.
 *
 * Packet-number watermark: items carry the run's packet numbers. A worker's
 * position says "all my packets up to here are processed"; an idle worker
 * (ring empty, no batch in hand) counts as being at the dispatcher's flushed
 * mark (every packet up to it is in some ring). tsc_wq_wait lets a worker
 * wait until every other worker has passed a packet number, so a lookup in a
 * run-wide table (the resumption cache) sees what a single thread would have.
 * Deadlock-free: a waiter publishes its own position first, and the
 * dispatcher commits every partial batch before it blocks, so the waiter with
 * the smallest packet number can always go on (docs/architecture.md).
 *
 * Threads: tsc_wq_put/flush/close from the dispatcher only; pop/done/wait
 * from worker w only. One mutex guards the rings' indexes and positions;
 * slab contents are written and read outside it (a slot belongs to one side
 * at a time).
 */
#ifndef TSC_CORE_WORKQ_H
#define TSC_CORE_WORKQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "tlsscope/types.h"
#include "util/err.h"

#define TSC_WQ_MAX_WORKERS 64
#define TSC_WQ_SLOTS 8               /* batches per worker ring */
#define TSC_WQ_SLAB (256u << 10)     /* bytes of one batch's slab */
#define TSC_WQ_BATCH_ITEMS 512       /* items in one batch at most */
#define TSC_WQ_NONE UINT64_MAX       /* "past every packet" */

enum tsc_wq_kind {
    TSC_WQ_SEG = 1,  /* a TCP segment; payload bytes follow the item */
    TSC_WQ_TICK = 2, /* time moved on: seg.ts is the time (capture time, or wall clock live) */
};

/* One item in a slab: this header, then seg.payload_len bytes, padded to 8. */
struct tsc_wq_item {
    uint32_t kind;
    uint32_t size; /* of the whole item, header included */
    struct tsc_tcp_seg seg; /* seg.payload points into the slab once read back */
};

struct tsc_wq_batch {
    uint8_t *p;
    size_t cap, used;
    uint32_t items;
    uint64_t first, last; /* packet numbers of the first and last item */
};

struct tsc_wq_stats {
    uint64_t items;
    uint64_t batches;
    uint64_t full_waits; /* dispatcher blocked on a full ring */
    uint64_t wm_waits;   /* tsc_wq_wait calls that had to wait */
    uint64_t wm_wait_ns; /* time spent in them */
};

struct tsc_wq;

/* n workers (1..TSC_WQ_MAX_WORKERS); slab bytes per batch (0 = TSC_WQ_SLAB). */
TSC_MUST_USE enum tsc_err tsc_wq_new(struct tsc_wq **out, int n, size_t slab);
void tsc_wq_free(struct tsc_wq *q);
int tsc_wq_workers(const struct tsc_wq *q);

/* Worker of a flow: the same for both directions (a symmetric hash of the endpoints). */
int tsc_wq_shard(const struct tsc_wq *q, const struct tsc_endpoint *a, const struct tsc_endpoint *b);

/*
 * Dispatcher: copy one item (seg and its payload, or a tick) for worker w;
 * num is the packet number (non-decreasing over calls). Blocks while w's
 * ring is full, committing the other workers' partial batches first; while
 * blocked, idle(idle_ud) is called every 50 ms (NULL: none). Returns
 * TSC_ERR_NOMEM only for an item larger than a slab that cannot be given room.
 */
TSC_MUST_USE enum tsc_err tsc_wq_put(struct tsc_wq *q, int w, enum tsc_wq_kind kind,
                                     const struct tsc_tcp_seg *seg, uint64_t num);
void tsc_wq_set_idle(struct tsc_wq *q, void (*idle)(void *ud), void *idle_ud);
/* Commit every partial batch; every packet up to `upto` has been put. */
void tsc_wq_flush(struct tsc_wq *q, uint64_t upto);
/* A worker waits for a flush (tsc_wq_wait): the dispatcher should call tsc_wq_flush soon. */
bool tsc_wq_flush_wanted(struct tsc_wq *q);
/* End of input: commit everything; workers drain their rings, then pop returns NULL. */
void tsc_wq_close(struct tsc_wq *q);

/* Worker w: the next batch (blocks while none), NULL once closed and drained. */
const struct tsc_wq_batch *tsc_wq_pop(struct tsc_wq *q, int w);
/* Walk a batch: *off starts at 0; false at its end. The item's seg.payload is set. */
bool tsc_wq_next(const struct tsc_wq_batch *b, size_t *off, struct tsc_wq_item *out);
/* Worker w is done with the batch pop gave it. */
void tsc_wq_done(struct tsc_wq *q, int w);
/*
 * Worker w, at packet n: wait until every other worker has processed all its
 * packets before n. timeout_ms < 0 waits as long as it takes (offline); live
 * runs bound it. Returns true when the condition holds.
 */
bool tsc_wq_wait(struct tsc_wq *q, int w, uint64_t n, int timeout_ms);

void tsc_wq_get_stats(struct tsc_wq *q, struct tsc_wq_stats *st);
/* Bytes of the slabs (outside the --max-memory heap accounting of the workers). */
uint64_t tsc_wq_memory_bytes(const struct tsc_wq *q);

#endif
