/*
 * Resumption cache (sesscache.h): fixed entry pool, chained buckets of
 * 32-bit indexes (0 = none, entry i is stored at pool[i - 1]), LRU list.
 */
#include "crypto/sesscache.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/suites.h"

struct tsc_sess_ent {
    struct tsc_sess_key k;
    struct tsc_sess_val v;
    uint32_t chain;      /* next in the bucket */
    uint32_t prev, next; /* LRU list: prev is more recent */
};

struct tsc_sess_cache {
    pthread_mutex_t mu;
    struct tsc_sess_ent *pool;
    uint32_t cap;
    uint32_t used;  /* pool slots handed out so far (never shrinks: evicted slots are reused) */
    uint32_t *bucket;
    uint32_t mask;
    uint32_t head, tail; /* most / least recently used */
    struct tsc_sess_cache_stats st;
};

enum tsc_err tsc_sess_cache_new(struct tsc_sess_cache **out, uint32_t capacity)
{
    TSC_ENSURE(out != NULL, TSC_ERR_ARG);
    *out = NULL;
    TSC_ENSURE(capacity >= 1 && capacity <= TSC_SESS_CACHE_MAX, TSC_ERR_ARG);
    struct tsc_sess_cache *c = calloc(1, sizeof(*c));
    TSC_ENSURE(c != NULL, TSC_ERR_NOMEM);
    uint32_t nb = 2;
    while (nb < 2 * capacity) {
        nb <<= 1; /* load factor <= 1/2 */
    }
    c->pool = calloc(capacity, sizeof(*c->pool));
    c->bucket = calloc(nb, sizeof(*c->bucket));
    if (c->pool == NULL || c->bucket == NULL || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->pool);
        free(c->bucket);
        free(c);
        return TSC_ERR_NOMEM;
    }
    c->cap = capacity;
    c->mask = nb - 1;
    c->st.capacity = capacity;
    c->st.memory_bytes = (uint64_t)capacity * sizeof(*c->pool) + (uint64_t)nb * sizeof(uint32_t);
    *out = c;
    return TSC_OK;
}

void tsc_sess_cache_free(struct tsc_sess_cache *c)
{
    if (c == NULL) {
        return;
    }
    OPENSSL_cleanse(c->pool, (size_t)c->cap * sizeof(*c->pool));
    free(c->pool);
    free(c->bucket);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void tsc_sess_key_make(enum tsc_sess_kind kind, const uint8_t *id, size_t len,
                       struct tsc_sess_key *out)
{
    uint8_t k = (uint8_t)kind;
    unsigned int n = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    bool ok = m != NULL && EVP_DigestInit_ex(m, tsc_alg_md(TSC_MD_SHA256), NULL) == 1 &&
              EVP_DigestUpdate(m, &k, 1) == 1 && (len == 0 || EVP_DigestUpdate(m, id, len) == 1) &&
              EVP_DigestFinal_ex(m, out->h, &n) == 1 && n == 32;
    EVP_MD_CTX_free(m);
    if (!ok) {
        /* No digest (out of memory): a key that no identifier produces in practice,
         * still distinct per kind, so a lookup misses instead of matching. */
        memset(out->h, 0xff, sizeof(out->h));
        out->h[0] = k;
    }
}

static uint32_t tsc_bucket_of(const struct tsc_sess_cache *c, const struct tsc_sess_key *k)
{
    uint32_t v;
    memcpy(&v, k->h, sizeof(v)); /* the key is a digest: its bytes are already uniform */
    return v & c->mask;
}

static struct tsc_sess_ent *tsc_ent(struct tsc_sess_cache *c, uint32_t i)
{
    return &c->pool[i - 1];
}

static uint32_t tsc_find(struct tsc_sess_cache *c, const struct tsc_sess_key *k)
{
    for (uint32_t i = c->bucket[tsc_bucket_of(c, k)]; i != 0; i = tsc_ent(c, i)->chain) {
        if (memcmp(tsc_ent(c, i)->k.h, k->h, sizeof(k->h)) == 0) {
            return i;
        }
    }
    return 0;
}

static void tsc_lru_unlink(struct tsc_sess_cache *c, uint32_t i)
{
    struct tsc_sess_ent *e = tsc_ent(c, i);
    if (e->prev != 0) {
        tsc_ent(c, e->prev)->next = e->next;
    } else {
        c->head = e->next;
    }
    if (e->next != 0) {
        tsc_ent(c, e->next)->prev = e->prev;
    } else {
        c->tail = e->prev;
    }
    e->prev = e->next = 0;
}

static void tsc_lru_front(struct tsc_sess_cache *c, uint32_t i)
{
    struct tsc_sess_ent *e = tsc_ent(c, i);
    e->prev = 0;
    e->next = c->head;
    if (c->head != 0) {
        tsc_ent(c, c->head)->prev = i;
    }
    c->head = i;
    if (c->tail == 0) {
        c->tail = i;
    }
}

static void tsc_chain_remove(struct tsc_sess_cache *c, uint32_t i)
{
    uint32_t *p = &c->bucket[tsc_bucket_of(c, &tsc_ent(c, i)->k)];
    while (*p != 0 && *p != i) {
        p = &tsc_ent(c, *p)->chain;
    }
    if (*p == i) {
        *p = tsc_ent(c, i)->chain;
    }
    tsc_ent(c, i)->chain = 0;
}

void tsc_sess_cache_put(struct tsc_sess_cache *c, const struct tsc_sess_key *k,
                        const struct tsc_sess_val *v)
{
    if (c == NULL || k == NULL || v == NULL) {
        return;
    }
    pthread_mutex_lock(&c->mu);
    uint32_t i = tsc_find(c, k);
    if (i != 0) {
        tsc_ent(c, i)->v = *v;
        tsc_lru_unlink(c, i);
        tsc_lru_front(c, i);
        c->st.updates++;
        pthread_mutex_unlock(&c->mu);
        return;
    }
    if (c->used < c->cap) {
        i = ++c->used;
    } else {
        /* Full: the least recently used entry makes room. */
        i = c->tail;
        tsc_lru_unlink(c, i);
        tsc_chain_remove(c, i);
        OPENSSL_cleanse(&tsc_ent(c, i)->v, sizeof(tsc_ent(c, i)->v));
        c->st.evictions++;
        c->st.entries--;
    }
    struct tsc_sess_ent *e = tsc_ent(c, i);
    e->k = *k;
    e->v = *v;
    uint32_t b = tsc_bucket_of(c, k);
    e->chain = c->bucket[b];
    c->bucket[b] = i;
    tsc_lru_front(c, i);
    c->st.inserts++;
    c->st.entries++;
    pthread_mutex_unlock(&c->mu);
}

bool tsc_sess_cache_get(struct tsc_sess_cache *c, const struct tsc_sess_key *k,
                        struct tsc_sess_val *out)
{
    if (c == NULL || k == NULL || out == NULL) {
        return false;
    }
    pthread_mutex_lock(&c->mu);
    c->st.lookups++;
    uint32_t i = tsc_find(c, k);
    if (i != 0) {
        c->st.hits++;
        *out = tsc_ent(c, i)->v;
        tsc_lru_unlink(c, i);
        tsc_lru_front(c, i);
    }
    pthread_mutex_unlock(&c->mu);
    return i != 0;
}

void tsc_sess_cache_get_stats(struct tsc_sess_cache *c, struct tsc_sess_cache_stats *st)
{
    if (c == NULL) {
        memset(st, 0, sizeof(*st));
        return;
    }
    pthread_mutex_lock(&c->mu);
    *st = c->st;
    pthread_mutex_unlock(&c->mu);
}
