/*
 * Work queues of a threaded run (workq.h): per-worker rings of batch slabs,
 * one mutex, condition variables for "batch ready", "room" and "watermark
 * moved".
 */
#include "core/workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tsc_wq_ring {
    struct tsc_wq_batch slot[TSC_WQ_SLOTS];
    uint64_t head, tail; /* slots [head, tail) are committed; slot[tail] is being filled */
    bool filling;        /* the dispatcher has items in slot[tail % TSC_WQ_SLOTS] */
    bool busy;           /* the worker holds slot[head % TSC_WQ_SLOTS] */
    bool sleeping;       /* the worker waits for a batch */
    uint64_t pos;        /* every packet of this worker up to pos is processed */
    pthread_cond_t ready;
};

struct tsc_wq {
    pthread_mutex_t mu;
    pthread_cond_t room; /* the dispatcher waits for a free slot */
    pthread_cond_t mark; /* waiters of tsc_wq_wait */
    int n;
    size_t slab;
    struct tsc_wq_ring *r;
    uint64_t flushed;    /* every packet up to here is committed to some ring */
    bool closed;
    int waiting;         /* workers in tsc_wq_wait */
    atomic_bool want_flush;
    void (*idle)(void *ud);
    void *idle_ud;
    struct tsc_wq_stats st;
};

enum tsc_err tsc_wq_new(struct tsc_wq **out, int n, size_t slab)
{
    TSC_ENSURE(out != NULL, TSC_ERR_ARG);
    *out = NULL;
    TSC_ENSURE(n >= 1 && n <= TSC_WQ_MAX_WORKERS, TSC_ERR_ARG);
    struct tsc_wq *q = calloc(1, sizeof(*q));
    TSC_ENSURE(q != NULL, TSC_ERR_NOMEM);
    q->n = n;
    q->slab = slab != 0 ? slab : TSC_WQ_SLAB;
    atomic_init(&q->want_flush, false);
    q->r = calloc((size_t)n, sizeof(*q->r));
    bool ok = q->r != NULL && pthread_mutex_init(&q->mu, NULL) == 0;
    if (ok) {
        pthread_cond_init(&q->room, NULL);
        pthread_cond_init(&q->mark, NULL);
        for (int w = 0; w < n; w++) {
            pthread_cond_init(&q->r[w].ready, NULL);
            for (int s = 0; s < TSC_WQ_SLOTS && ok; s++) {
                q->r[w].slot[s].p = malloc(q->slab);
                q->r[w].slot[s].cap = q->slab;
                ok = q->r[w].slot[s].p != NULL;
            }
        }
    }
    if (!ok) {
        if (q->r != NULL) {
            for (int w = 0; w < n; w++) {
                for (int s = 0; s < TSC_WQ_SLOTS; s++) {
                    free(q->r[w].slot[s].p);
                }
            }
        }
        free(q->r);
        free(q);
        return TSC_ERR_NOMEM;
    }
    *out = q;
    return TSC_OK;
}

void tsc_wq_free(struct tsc_wq *q)
{
    if (q == NULL) {
        return;
    }
    for (int w = 0; w < q->n; w++) {
        for (int s = 0; s < TSC_WQ_SLOTS; s++) {
            free(q->r[w].slot[s].p);
        }
        pthread_cond_destroy(&q->r[w].ready);
    }
    pthread_cond_destroy(&q->room);
    pthread_cond_destroy(&q->mark);
    pthread_mutex_destroy(&q->mu);
    free(q->r);
    free(q);
}

int tsc_wq_workers(const struct tsc_wq *q)
{
    return q->n;
}

/* ---- sharding ---- */

static int ep_cmp(const struct tsc_endpoint *a, const struct tsc_endpoint *b)
{
    if (a->family != b->family) {
        return a->family < b->family ? -1 : 1;
    }
    int c = memcmp(a->addr, b->addr, sizeof(a->addr));
    if (c != 0) {
        return c;
    }
    return a->port == b->port ? 0 : (a->port < b->port ? -1 : 1);
}

static uint64_t mix_ep(uint64_t h, const struct tsc_endpoint *e)
{
    /* FNV-1a over family, address (4 or 16 bytes) and port. */
    size_t alen = e->family == 4 ? 4 : 16;
    h = (h ^ e->family) * 0x100000001b3ull;
    for (size_t i = 0; i < alen; i++) {
        h = (h ^ e->addr[i]) * 0x100000001b3ull;
    }
    h = (h ^ (uint8_t)(e->port >> 8)) * 0x100000001b3ull;
    h = (h ^ (uint8_t)e->port) * 0x100000001b3ull;
    return h;
}

int tsc_wq_shard(const struct tsc_wq *q, const struct tsc_endpoint *a, const struct tsc_endpoint *b)
{
    if (q->n == 1) {
        return 0;
    }
    /* The lower endpoint first, so (a, b) and (b, a) hash alike. */
    const struct tsc_endpoint *lo = ep_cmp(a, b) <= 0 ? a : b;
    const struct tsc_endpoint *hi = lo == a ? b : a;
    uint64_t h = mix_ep(mix_ep(0xcbf29ce484222325ull, lo), hi);
    h ^= h >> 29; /* FNV's low bits are weak: fold the high ones in */
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (int)(((h & 0xffffffffull) * (uint64_t)q->n) >> 32);
}

/* ---- dispatcher side ---- */

static struct tsc_wq_batch *fill_slot(struct tsc_wq_ring *r)
{
    return &r->slot[r->tail % TSC_WQ_SLOTS];
}

static uint32_t fill_slot_items(struct tsc_wq_ring *r)
{
    return r->slot[(r->tail - 1) % TSC_WQ_SLOTS].items;
}

/* Under mu: the batch being filled for ring r goes to its worker. */
static void commit_locked(struct tsc_wq *q, struct tsc_wq_ring *r)
{
    if (!r->filling) {
        return;
    }
    r->filling = false;
    r->tail++;
    q->st.batches++;
    q->st.items += fill_slot_items(r);
    if (r->sleeping) {
        pthread_cond_signal(&r->ready);
    }
}

static void commit_all_locked(struct tsc_wq *q, uint64_t upto)
{
    for (int w = 0; w < q->n; w++) {
        commit_locked(q, &q->r[w]);
    }
    if (upto > q->flushed || upto == TSC_WQ_NONE) {
        q->flushed = upto;
    }
    atomic_store_explicit(&q->want_flush, false, memory_order_relaxed);
    if (q->waiting > 0) {
        pthread_cond_broadcast(&q->mark);
    }
}

void tsc_wq_set_idle(struct tsc_wq *q, void (*idle)(void *ud), void *idle_ud)
{
    q->idle = idle;
    q->idle_ud = idle_ud;
}

/* A slot for ring r to fill, waiting for room when the ring is full. */
static void open_slot(struct tsc_wq *q, struct tsc_wq_ring *r, uint64_t num)
{
    pthread_mutex_lock(&q->mu);
    if (r->tail - r->head >= TSC_WQ_SLOTS) {
        q->st.full_waits++;
        /* Blocking: everything put so far must be visible to the workers first,
         * or a worker waiting on the watermark could wait on us forever. */
        commit_all_locked(q, num > 0 ? num - 1 : 0);
        while (r->tail - r->head >= TSC_WQ_SLOTS) {
            if (q->idle == NULL) {
                pthread_cond_wait(&q->room, &q->mu);
                continue;
            }
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_nsec += 50 * 1000000L;
            if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
            }
            if (pthread_cond_timedwait(&q->room, &q->mu, &dl) == ETIMEDOUT) {
                pthread_mutex_unlock(&q->mu);
                q->idle(q->idle_ud);
                pthread_mutex_lock(&q->mu);
            }
        }
    }
    pthread_mutex_unlock(&q->mu);
    struct tsc_wq_batch *b = fill_slot(r);
    b->used = 0;
    b->items = 0;
    b->first = num;
    b->last = num;
    r->filling = true;
}

enum tsc_err tsc_wq_put(struct tsc_wq *q, int w, enum tsc_wq_kind kind,
                        const struct tsc_tcp_seg *seg, uint64_t num)
{
    struct tsc_wq_ring *r = &q->r[w];
    size_t plen = kind == TSC_WQ_SEG ? seg->payload_len : 0;
    size_t size = (sizeof(struct tsc_wq_item) + plen + 7) & ~(size_t)7;
    if (r->filling) {
        struct tsc_wq_batch *b = fill_slot(r);
        if (b->items >= TSC_WQ_BATCH_ITEMS || b->used + size > b->cap) {
            pthread_mutex_lock(&q->mu);
            commit_locked(q, r);
            pthread_mutex_unlock(&q->mu);
        }
    }
    if (!r->filling) {
        open_slot(q, r, num);
    }
    struct tsc_wq_batch *b = fill_slot(r);
    if (size > b->cap) {
        /* Larger than a slab (a reassembled datagram or a huge snap length): this
         * one slot grows; it keeps the room for later batches. */
        uint8_t *p = realloc(b->p, size);
        if (p == NULL) {
            return TSC_ERR_NOMEM;
        }
        b->p = p;
        b->cap = size;
    }
    struct tsc_wq_item it;
    memset(&it, 0, sizeof(it));
    it.kind = (uint32_t)kind;
    it.size = (uint32_t)size;
    if (seg != NULL) {
        it.seg = *seg;
    }
    it.seg.payload = NULL;
    if (kind != TSC_WQ_SEG) {
        it.seg.payload_len = 0;
    }
    memcpy(b->p + b->used, &it, sizeof(it));
    if (plen > 0) {
        memcpy(b->p + b->used + sizeof(it), seg->payload, plen);
    }
    b->used += size;
    b->items++;
    b->last = num;
    return TSC_OK;
}

void tsc_wq_flush(struct tsc_wq *q, uint64_t upto)
{
    pthread_mutex_lock(&q->mu);
    commit_all_locked(q, upto);
    pthread_mutex_unlock(&q->mu);
}

bool tsc_wq_flush_wanted(struct tsc_wq *q)
{
    return atomic_load_explicit(&q->want_flush, memory_order_relaxed);
}

void tsc_wq_close(struct tsc_wq *q)
{
    pthread_mutex_lock(&q->mu);
    commit_all_locked(q, TSC_WQ_NONE);
    q->closed = true;
    for (int w = 0; w < q->n; w++) {
        pthread_cond_signal(&q->r[w].ready);
    }
    pthread_cond_broadcast(&q->mark);
    pthread_mutex_unlock(&q->mu);
}

/* ---- worker side ---- */

const struct tsc_wq_batch *tsc_wq_pop(struct tsc_wq *q, int w)
{
    struct tsc_wq_ring *r = &q->r[w];
    pthread_mutex_lock(&q->mu);
    while (r->head == r->tail && !q->closed) {
        r->sleeping = true;
        if (q->waiting > 0) {
            pthread_cond_broadcast(&q->mark); /* idle now: at the flushed mark */
        }
        pthread_cond_wait(&r->ready, &q->mu);
        r->sleeping = false;
    }
    if (r->head == r->tail) {
        pthread_mutex_unlock(&q->mu);
        return NULL;
    }
    struct tsc_wq_batch *b = &r->slot[r->head % TSC_WQ_SLOTS];
    r->busy = true;
    /* Batches of a worker hold its packets in order: everything before this
     * batch's first packet is done. */
    if (b->first > 0 && b->first - 1 > r->pos) {
        r->pos = b->first - 1;
    }
    pthread_mutex_unlock(&q->mu);
    return b;
}

bool tsc_wq_next(const struct tsc_wq_batch *b, size_t *off, struct tsc_wq_item *out)
{
    if (*off + sizeof(*out) > b->used) {
        return false;
    }
    memcpy(out, b->p + *off, sizeof(*out));
    out->seg.payload = out->kind == TSC_WQ_SEG ? b->p + *off + sizeof(*out) : NULL;
    *off += out->size;
    return true;
}

void tsc_wq_done(struct tsc_wq *q, int w)
{
    struct tsc_wq_ring *r = &q->r[w];
    pthread_mutex_lock(&q->mu);
    struct tsc_wq_batch *b = &r->slot[r->head % TSC_WQ_SLOTS];
    if (b->last > r->pos) {
        r->pos = b->last;
    }
    r->head++;
    r->busy = false;
    pthread_cond_signal(&q->room);
    if (q->waiting > 0) {
        pthread_cond_broadcast(&q->mark);
    }
    pthread_mutex_unlock(&q->mu);
}

/* Under mu: how far worker v is (idle: at the flushed mark). */
static uint64_t reached_locked(const struct tsc_wq *q, int v)
{
    const struct tsc_wq_ring *r = &q->r[v];
    if (!r->busy && r->head == r->tail) {
        return q->flushed > r->pos ? q->flushed : r->pos;
    }
    return r->pos;
}

static bool others_past_locked(const struct tsc_wq *q, int w, uint64_t n)
{
    for (int v = 0; v < q->n; v++) {
        if (v != w && reached_locked(q, v) < n - 1) {
            return false;
        }
    }
    return true;
}

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

bool tsc_wq_wait(struct tsc_wq *q, int w, uint64_t n, int timeout_ms)
{
    if (q->n == 1 || n == 0) {
        return true;
    }
    struct tsc_wq_ring *r = &q->r[w];
    pthread_mutex_lock(&q->mu);
    /* We are at packet n: our own packets before it are done. Published
     * first, so a worker waiting on us at a later packet can go on. */
    if (n - 1 > r->pos) {
        r->pos = n - 1;
    }
    bool ok = others_past_locked(q, w, n);
    if (!ok) {
        int64_t t0 = mono_ns();
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        if (timeout_ms >= 0) {
            dl.tv_sec += timeout_ms / 1000;
            dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
            if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
            }
        }
        q->waiting++;
        q->st.wm_waits++;
        pthread_cond_broadcast(&q->mark);
        atomic_store_explicit(&q->want_flush, true, memory_order_relaxed);
        while (!(ok = others_past_locked(q, w, n))) {
            if (timeout_ms < 0) {
                pthread_cond_wait(&q->mark, &q->mu);
            } else if (pthread_cond_timedwait(&q->mark, &q->mu, &dl) == ETIMEDOUT) {
                ok = others_past_locked(q, w, n);
                break;
            }
        }
        q->waiting--;
        q->st.wm_wait_ns += (uint64_t)(mono_ns() - t0);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

void tsc_wq_get_stats(struct tsc_wq *q, struct tsc_wq_stats *st)
{
    pthread_mutex_lock(&q->mu);
    *st = q->st;
    pthread_mutex_unlock(&q->mu);
}

uint64_t tsc_wq_memory_bytes(const struct tsc_wq *q)
{
    uint64_t n = 0;
    for (int w = 0; w < q->n; w++) {
        for (int s = 0; s < TSC_WQ_SLOTS; s++) {
            n += q->r[w].slot[s].cap;
        }
    }
    return n;
}
