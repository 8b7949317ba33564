/* Work queues of threaded runs (src/core/workq.h): sharding, batches, back-pressure, watermark. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/workq.h"

static void ep4(struct tsc_endpoint *e, uint32_t ip, uint16_t port)
{
    memset(e, 0, sizeof(*e));
    e->family = 4;
    e->addr[0] = (uint8_t)(ip >> 24);
    e->addr[1] = (uint8_t)(ip >> 16);
    e->addr[2] = (uint8_t)(ip >> 8);
    e->addr[3] = (uint8_t)ip;
    e->port = port;
}

static void seg_of(struct tsc_tcp_seg *s, uint64_t pkt, const uint8_t *p, uint32_t n)
{
    memset(s, 0, sizeof(*s));
    s->pkt = pkt;
    s->payload = p;
    s->payload_len = n;
    s->seq = (uint32_t)pkt;
}

START_TEST(shard_symmetric_and_spread)
{
    struct tsc_wq *q = NULL;
    ck_assert_int_eq(tsc_wq_new(&q, 3, 4096), TSC_OK);
    int count[3] = {0, 0, 0};
    uint32_t x = 12345;
    for (int i = 0; i < 30000; i++) {
        struct tsc_endpoint a, b;
        x = x * 1103515245u + 12345u;
        ep4(&a, 0x0a000000u | (x & 0xffff), 443);
        x = x * 1103515245u + 12345u;
        ep4(&b, 0xc0a80000u | (x & 0xff), (uint16_t)(1024 + (x >> 16) % 60000));
        if (i % 2 == 1) { /* IPv6 half */
            a.family = b.family = 6;
            a.addr[15] = (uint8_t)i;
        }
        int s = tsc_wq_shard(q, &a, &b);
        ck_assert_int_ge(s, 0);
        ck_assert_int_lt(s, 3);
        ck_assert_int_eq(s, tsc_wq_shard(q, &b, &a));
        count[s]++;
    }
    for (int w = 0; w < 3; w++) {
        ck_assert_int_gt(count[w], 9000); /* 10000 each when even */
        ck_assert_int_lt(count[w], 11000);
    }
    /* Same addresses, other port: another flow, may go elsewhere; the same flow never does. */
    struct tsc_endpoint a, b;
    ep4(&a, 0x7f000001u, 443);
    ep4(&b, 0x7f000001u, 50000);
    ck_assert_int_eq(tsc_wq_shard(q, &a, &b), tsc_wq_shard(q, &b, &a));
    tsc_wq_free(q);
}
END_TEST

START_TEST(batches_keep_order_and_bytes)
{
    struct tsc_wq *q = NULL;
    ck_assert_int_eq(tsc_wq_new(&q, 2, 4096), TSC_OK);
    uint8_t data[300];
    for (int i = 0; i < 300; i++) {
        data[i] = (uint8_t)(i * 7);
    }
    /* 40 items of 100..139 bytes for worker 1 (several batches, fewer than the ring holds). */
    for (uint64_t n = 1; n <= 40; n++) {
        struct tsc_tcp_seg s;
        seg_of(&s, n, data, (uint32_t)(99 + n));
        ck_assert_int_eq(tsc_wq_put(q, 1, TSC_WQ_SEG, &s, n), TSC_OK);
    }
    struct tsc_tcp_seg tick;
    seg_of(&tick, 41, NULL, 0);
    tick.ts.sec = 77;
    ck_assert_int_eq(tsc_wq_put(q, 1, TSC_WQ_TICK, &tick, 41), TSC_OK);
    /* A segment larger than a slab gets room of its own. */
    uint8_t *big = malloc(10000);
    memset(big, 0xab, 10000);
    struct tsc_tcp_seg s;
    seg_of(&s, 42, big, 10000);
    ck_assert_int_eq(tsc_wq_put(q, 1, TSC_WQ_SEG, &s, 42), TSC_OK);
    tsc_wq_close(q);
    uint64_t want = 1;
    const struct tsc_wq_batch *b;
    int batches = 0;
    while ((b = tsc_wq_pop(q, 1)) != NULL) {
        batches++;
        ck_assert_uint_eq(b->first, want);
        size_t off = 0;
        struct tsc_wq_item it;
        while (tsc_wq_next(b, &off, &it)) {
            ck_assert_uint_eq(it.seg.pkt, want);
            if (want <= 40) {
                ck_assert_uint_eq(it.kind, TSC_WQ_SEG);
                ck_assert_uint_eq(it.seg.payload_len, 99 + want);
                ck_assert_int_eq(memcmp(it.seg.payload, data, 99 + want), 0);
                ck_assert_uint_eq(it.seg.seq, (uint32_t)want);
            } else if (want == 41) {
                ck_assert_uint_eq(it.kind, TSC_WQ_TICK);
                ck_assert_int_eq((int)it.seg.ts.sec, 77);
                ck_assert_ptr_null(it.seg.payload);
            } else {
                ck_assert_uint_eq(it.seg.payload_len, 10000);
                ck_assert_int_eq(memcmp(it.seg.payload, big, 10000), 0);
            }
            want++;
        }
        ck_assert_uint_eq(b->last, want - 1);
        tsc_wq_done(q, 1);
    }
    ck_assert_uint_eq(want, 43);
    ck_assert_int_gt(batches, 1);
    ck_assert_ptr_null(tsc_wq_pop(q, 0)); /* closed and empty */
    struct tsc_wq_stats st;
    tsc_wq_get_stats(q, &st);
    ck_assert_uint_eq(st.items, 42);
    free(big);
    tsc_wq_free(q);
}
END_TEST

/* ---- threads: a producer, three consumers, back-pressure ---- */

struct consumer {
    struct tsc_wq *q;
    int w;
    uint64_t items, last;
    bool ok;
};

static void *consume(void *arg)
{
    struct consumer *c = arg;
    const struct tsc_wq_batch *b;
    c->ok = true;
    while ((b = tsc_wq_pop(c->q, c->w)) != NULL) {
        size_t off = 0;
        struct tsc_wq_item it;
        while (tsc_wq_next(b, &off, &it)) {
            uint64_t n;
            memcpy(&n, it.seg.payload, sizeof(n));
            if (n != it.seg.pkt || n <= c->last || it.seg.payload_len != 8 + n % 64) {
                c->ok = false;
            }
            c->last = n;
            c->items++;
        }
        struct timespec t = {0, 200000L}; /* slower than the producer: its rings fill */
        nanosleep(&t, NULL);
        tsc_wq_done(c->q, c->w);
    }
    return NULL;
}

START_TEST(threads_back_pressure)
{
    struct tsc_wq *q = NULL;
    ck_assert_int_eq(tsc_wq_new(&q, 3, 2048), TSC_OK); /* small slabs: the rings fill */
    struct consumer c[3];
    pthread_t th[3];
    for (int w = 0; w < 3; w++) {
        memset(&c[w], 0, sizeof(c[w]));
        c[w].q = q;
        c[w].w = w;
        ck_assert_int_eq(pthread_create(&th[w], NULL, consume, &c[w]), 0);
    }
    uint8_t buf[128];
    memset(buf, 0, sizeof(buf));
    const uint64_t total = 20000;
    for (uint64_t n = 1; n <= total; n++) {
        memcpy(buf, &n, sizeof(n));
        struct tsc_tcp_seg s;
        seg_of(&s, n, buf, (uint32_t)(8 + n % 64));
        ck_assert_int_eq(tsc_wq_put(q, (int)((n * 2654435761u) % 3), TSC_WQ_SEG, &s, n), TSC_OK);
        if (n % 5000 == 0) {
            tsc_wq_flush(q, n);
        }
    }
    tsc_wq_close(q);
    uint64_t sum = 0;
    for (int w = 0; w < 3; w++) {
        pthread_join(th[w], NULL);
        ck_assert(c[w].ok);
        sum += c[w].items;
    }
    ck_assert_uint_eq(sum, total);
    struct tsc_wq_stats st;
    tsc_wq_get_stats(q, &st);
    ck_assert_uint_eq(st.items, total);
    ck_assert_uint_gt(st.full_waits, 0); /* the consumers pause after each batch */
    tsc_wq_free(q);
}
END_TEST

/* ---- watermark ---- */

struct slow_worker {
    struct tsc_wq *q;
    atomic_int processed; /* packets done, set before tsc_wq_done */
};

static void sleep_ms(int ms)
{
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

static void *slow_consume(void *arg)
{
    struct slow_worker *s = arg;
    const struct tsc_wq_batch *b;
    while ((b = tsc_wq_pop(s->q, 0)) != NULL) {
        sleep_ms(100); /* the other worker waits on us meanwhile */
        atomic_store(&s->processed, (int)b->last);
        tsc_wq_done(s->q, 0);
    }
    return NULL;
}

START_TEST(wait_for_the_other_worker)
{
    struct tsc_wq *q = NULL;
    ck_assert_int_eq(tsc_wq_new(&q, 2, 4096), TSC_OK);
    struct slow_worker s = {q, 0};
    uint8_t b[16] = {0};
    struct tsc_tcp_seg seg;
    for (uint64_t n = 1; n <= 10; n++) {
        seg_of(&seg, n, b, sizeof(b));
        ck_assert_int_eq(tsc_wq_put(q, 0, TSC_WQ_SEG, &seg, n), TSC_OK);
    }
    seg_of(&seg, 11, b, sizeof(b));
    ck_assert_int_eq(tsc_wq_put(q, 1, TSC_WQ_SEG, &seg, 11), TSC_OK);
    tsc_wq_flush(q, 11);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, slow_consume, &s), 0);
    const struct tsc_wq_batch *mine = tsc_wq_pop(q, 1);
    ck_assert_ptr_nonnull(mine);
    ck_assert_uint_eq(mine->first, 11);
    /* At packet 11 with worker 0 still on 1..10: a bounded wait gives up... */
    ck_assert(!tsc_wq_wait(q, 1, 11, 10));
    /* ...an unbounded one returns once worker 0 is past 10. */
    ck_assert(tsc_wq_wait(q, 1, 11, -1));
    ck_assert_int_eq(atomic_load(&s.processed), 10);
    /* Packets before worker 0's first one need no wait at all. */
    ck_assert(tsc_wq_wait(q, 1, 1, 0));
    tsc_wq_done(q, 1);
    tsc_wq_close(q);
    pthread_join(th, NULL);
    struct tsc_wq_stats st;
    tsc_wq_get_stats(q, &st);
    ck_assert_uint_ge(st.wm_waits, 2);
    tsc_wq_free(q);
}
END_TEST

/* An idle worker (nothing in its ring) counts as caught up once the dispatcher flushed. */
struct waiter {
    struct tsc_wq *q;
    int w;
    uint64_t n;
    atomic_bool done;
};

static void *wait_thread(void *arg)
{
    struct waiter *x = arg;
    const struct tsc_wq_batch *b = tsc_wq_pop(x->q, x->w);
    if (b != NULL) {
        (void)tsc_wq_wait(x->q, x->w, x->n, -1);
        atomic_store(&x->done, true);
        tsc_wq_done(x->q, x->w);
    }
    return NULL;
}

START_TEST(idle_worker_is_caught_up)
{
    struct tsc_wq *q = NULL;
    ck_assert_int_eq(tsc_wq_new(&q, 2, 4096), TSC_OK);
    uint8_t b[8] = {0};
    struct tsc_tcp_seg seg;
    seg_of(&seg, 5, b, sizeof(b));
    ck_assert_int_eq(tsc_wq_put(q, 1, TSC_WQ_SEG, &seg, 5), TSC_OK);
    seg_of(&seg, 6, b, sizeof(b));
    struct waiter x = {q, 1, 5, false};
    pthread_t th;
    tsc_wq_flush(q, 5);
    /* Worker 0 gets packet 6, after the mark, in a batch not handed over yet. */
    ck_assert_int_eq(tsc_wq_put(q, 0, TSC_WQ_SEG, &seg, 6), TSC_OK);
    ck_assert_int_eq(pthread_create(&th, NULL, wait_thread, &x), 0);
    sleep_ms(50);
    /* Worker 0 is idle and the mark is 5: worker 1 at packet 5 needs nobody. */
    ck_assert(atomic_load(&x.done));
    pthread_join(th, NULL);
    tsc_wq_close(q);
    const struct tsc_wq_batch *bb;
    while ((bb = tsc_wq_pop(q, 0)) != NULL) {
        tsc_wq_done(q, 0);
    }
    tsc_wq_free(q);
}
END_TEST

/* Two workers waiting on each other: the one at the smaller packet goes on. */
START_TEST(crossed_waits_do_not_deadlock)
{
    struct tsc_wq *q = NULL;
    ck_assert_int_eq(tsc_wq_new(&q, 2, 4096), TSC_OK);
    uint8_t b[8] = {0};
    struct tsc_tcp_seg seg;
    seg_of(&seg, 5, b, sizeof(b));
    ck_assert_int_eq(tsc_wq_put(q, 0, TSC_WQ_SEG, &seg, 5), TSC_OK);
    seg_of(&seg, 7, b, sizeof(b));
    ck_assert_int_eq(tsc_wq_put(q, 1, TSC_WQ_SEG, &seg, 7), TSC_OK);
    tsc_wq_flush(q, 7);
    struct waiter x0 = {q, 0, 5, false}, x1 = {q, 1, 7, false};
    pthread_t t0, t1;
    ck_assert_int_eq(pthread_create(&t1, NULL, wait_thread, &x1), 0);
    sleep_ms(20);
    ck_assert(!atomic_load(&x1.done)); /* worker 0 has not passed 6 yet */
    ck_assert_int_eq(pthread_create(&t0, NULL, wait_thread, &x0), 0);
    pthread_join(t0, NULL);
    pthread_join(t1, NULL);
    ck_assert(atomic_load(&x0.done));
    ck_assert(atomic_load(&x1.done));
    tsc_wq_close(q);
    tsc_wq_free(q);
}
END_TEST

START_TEST(bad_arguments)
{
    struct tsc_wq *q = NULL;
    ck_assert_int_eq(tsc_wq_new(&q, 0, 0), TSC_ERR_ARG);
    ck_assert_int_eq(tsc_wq_new(&q, TSC_WQ_MAX_WORKERS + 1, 0), TSC_ERR_ARG);
    ck_assert_ptr_null(q);
    ck_assert_int_eq(tsc_wq_new(&q, 1, 0), TSC_OK);
    struct tsc_endpoint a, b;
    ep4(&a, 1, 1);
    ep4(&b, 2, 2);
    ck_assert_int_eq(tsc_wq_shard(q, &a, &b), 0);
    ck_assert(tsc_wq_wait(q, 0, 100, -1)); /* alone: nobody to wait for */
    ck_assert_uint_eq(tsc_wq_memory_bytes(q), (uint64_t)TSC_WQ_SLOTS * TSC_WQ_SLAB);
    tsc_wq_free(q);
}
END_TEST

static Suite *workq_suite(void)
{
    Suite *s = suite_create("workq");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, shard_symmetric_and_spread);
    tcase_add_test(tc, batches_keep_order_and_bytes);
    tcase_add_test(tc, threads_back_pressure);
    tcase_add_test(tc, wait_for_the_other_worker);
    tcase_add_test(tc, idle_worker_is_caught_up);
    tcase_add_test(tc, crossed_waits_do_not_deadlock);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(workq_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
