/*
 * TCP flow table and per-direction stream reassembly.
 *
 * Flows live in a chained hash table keyed symmetrically on the two endpoints,
 * and on one of three LRU lists by class (never established, established,
 * closed), each ordered by last activity so that the heads are the next to time
 * out and the oldest head is the eviction victim. Internally the two directions
 * are "sides" fixed at creation (side 0 = first client guess); the public
 * direction is side ^ swapped, recomputed for every callback so that a role swap
 * from inside on_data is safe.
 *
 * In-order bytes are delivered straight from the packet; only segments ahead of
 * the expected sequence number are copied, into a sorted, non-overlapping list
 * per side (first-seen bytes win), charged against a per-side and a global cap.
 */
#include "tcp/tcp.h"

#include <stdlib.h>
#include <string.h>

#define TCP_HASH_INIT 1024u
#define TCP_HASH_MAX (1u << 24)

/* Side flags. */
#define SIDE_BASE 0x01 /* next_seq is known */
#define SIDE_SYN 0x02  /* a SYN was seen: isn valid */
#define SIDE_FIN 0x04  /* a FIN was seen: fin_seq valid */
#define SIDE_END 0x08  /* on_end was delivered */
#define SIDE_SEEN 0x10 /* any packet from this side */

enum conn_class {
    CLS_NEW = 0, /* never established: short timeout */
    CLS_EST,
    CLS_CLOSED,
    CLS_ZOMBIE, /* closed and reported; kept only to absorb late retransmissions */
    CLS__COUNT,
};

/* One buffered out-of-order piece: [seq, seq + len) present, then `miss` bytes cut by snaplen. */
struct ooo_seg {
    struct ooo_seg *next;
    uint32_t seq;
    uint32_t len;
    uint32_t miss;
    uint64_t pkt;
    struct tsc_ts ts;
    uint8_t data[];
};

struct tcp_side {
    struct ooo_seg *ooo; /* sorted by seq, pieces never overlap, all ahead of next_seq */
    uint64_t off;        /* stream offset of next_seq */
    uint32_t next_seq;
    uint32_t isn;
    uint32_t fin_seq;
    uint32_t ooo_bytes; /* charged bytes (data + piece header) */
    uint8_t flags;
};

/*
 * Per-direction reassembly state and counters, allocated with the first
 * segment that is not a bare SYN or SYN-ACK: a SYN flood's million flows then
 * cost only struct conn each.
 */
struct conn_ext {
    struct tsc_tcp_dir_stats stats[2]; /* indexed by enum tsc_dir */
    struct tcp_side s[2];              /* indexed by side (client side 0 unless swapped) */
};

struct conn {
    struct tsc_tcp_conn pub;
    struct conn *hnext; /* chain of its table (open or remembered flows) */
    uint32_t hash;      /* next to hnext: a chain walk reads one cache line per flow */
    uint8_t swapped;    /* public dir = side ^ swapped */
    uint8_t cls;
    uint8_t end_why;
    bool data_seen;
    struct conn *lprev;
    struct conn *lnext;
    struct conn_ext *x;     /* NULL while only SYN / SYN-ACK segments were seen */
    uint32_t syn_isn[2];    /* without x: per side, the last SYN's sequence number */
    uint32_t early_pkts[2]; /* without x: per dir, SYN / SYN-ACK packets */
    uint8_t syn_flags[2];   /* without x: per side, SIDE_SEEN | SIDE_SYN | SIDE_BASE */
};

/* Chained hash table of flows. */
struct flow_table {
    struct conn **b;
    uint32_t n; /* power of two */
};

struct lru {
    struct conn *head; /* least recently active */
    struct conn *tail;
};

struct tsc_tcp_table {
    struct tsc_tcp_config cfg;
    struct tsc_tcp_callbacks cb;
    struct tsc_diag_sink *sink;
    struct tsc_tcp_stats st;
    /*
     * Open flows and remembered closed ones (CLS_ZOMBIE) in separate tables: a
     * packet of an open flow, the common case, walks chains of open flows only
     * (a small, cache-resident table), and the many remembered flows are looked
     * at only for packets that match no open one.
     */
    struct flow_table open;
    struct flow_table zombie;
    struct lru lru[CLS__COUNT];
    uint64_t next_id;
    uint64_t cur_pkt;      /* packet being processed, for diagnostics */
    const char *cur_file;  /* its input file */
    struct conn *cur_conn; /* never evicted to make room for itself */
    uint64_t zombies;      /* flows in CLS_ZOMBIE */
};

static const struct tsc_tcp_dir_stats tcp_no_stats[2];

const char *tsc_tcp_end_reason_name(enum tsc_tcp_end_reason r)
{
    switch (r) {
    case TSC_TCP_END_FIN:
        return "fin";
    case TSC_TCP_END_RST:
        return "rst";
    case TSC_TCP_END_TIMEOUT:
        return "timeout";
    case TSC_TCP_END_EVICTED:
        return "evicted";
    case TSC_TCP_END_REUSED:
        return "reused";
    case TSC_TCP_END_EOF:
        return "eof";
    }
    return "unknown";
}

void tsc_tcp_config_default(struct tsc_tcp_config *cfg)
{
    cfg->max_flows = 1000000;
    cfg->max_buffered_bytes = 256ull << 20;
    cfg->max_conn_ooo_bytes = 4u << 20;
    cfg->idle_timeout_s = 600;
    cfg->syn_timeout_s = 30;
    cfg->closed_linger_s = 5;
    cfg->time_wait_s = 120;
    cfg->id_first = 1;
    cfg->id_step = 1;
}

/* ------------------------------------------------------------------------- */
/* Small helpers                                                              */

/* Serial number arithmetic (RFC 1982): signed distance a - b modulo 2^32. */
static int64_t seq_diff(uint32_t a, uint32_t b)
{
    uint32_t d = a - b;
    return d < 0x80000000u ? (int64_t)d : (int64_t)d - 0x100000000ll;
}

/* Library callers may pass any time: clamp as the capture readers do (no overflow). */
static int64_t ts_ns(struct tsc_ts t)
{
    int64_t sec = t.sec < 0 ? 0 : t.sec > TSC_TS_MAX_SEC ? TSC_TS_MAX_SEC : t.sec;
    return sec * 1000000000ll + (t.nsec < 1000000000u ? t.nsec : 999999999u);
}

static bool ep_eq(const struct tsc_endpoint *a, const struct tsc_endpoint *b)
{
    return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

static uint32_t ep_hash(const struct tsc_endpoint *e)
{
    /* Two 64-bit words of address, folded with port and family (murmur-style finaliser). */
    uint64_t a, b;
    memcpy(&a, e->addr, 8);
    memcpy(&b, e->addr + 8, 8);
    uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + ((uint64_t)e->port << 8 | e->family));
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)h;
}

/* Symmetric: both directions of a flow hash alike. */
static uint32_t flow_hash(const struct tsc_endpoint *a, const struct tsc_endpoint *b)
{
    uint32_t x = ep_hash(a), y = ep_hash(b);
    uint32_t h = (x ^ y) + (x < y ? x : y) * 0x9e3779b1u;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h;
}

static int side_dir(const struct conn *c, int side)
{
    return side ^ c->swapped;
}

static void where_of(struct tsc_tcp_table *t, const struct conn *c, int side, int64_t off,
                     struct tsc_where *w)
{
    w->file = t->cur_file;
    w->pkt = t->cur_pkt;
    w->conn = c->pub.id;
    w->dir = side < 0 ? -1 : side_dir(c, side);
    w->offset = off;
}

static uint32_t cls_timeout(const struct tsc_tcp_table *t, int cls)
{
    return cls == CLS_NEW      ? t->cfg.syn_timeout_s
           : cls == CLS_EST    ? t->cfg.idle_timeout_s
           : cls == CLS_CLOSED ? t->cfg.closed_linger_s
                               : t->cfg.time_wait_s;
}

static void lru_unlink(struct tsc_tcp_table *t, struct conn *c)
{
    struct lru *l = &t->lru[c->cls];
    if (c->lprev != NULL) {
        c->lprev->lnext = c->lnext;
    } else {
        l->head = c->lnext;
    }
    if (c->lnext != NULL) {
        c->lnext->lprev = c->lprev;
    } else {
        l->tail = c->lprev;
    }
    c->lprev = NULL;
    c->lnext = NULL;
}

static void lru_append(struct tsc_tcp_table *t, struct conn *c, int cls)
{
    struct lru *l = &t->lru[cls];
    c->cls = (uint8_t)cls;
    c->lnext = NULL;
    c->lprev = l->tail;
    if (l->tail != NULL) {
        l->tail->lnext = c;
    } else {
        l->head = c;
    }
    l->tail = c;
}

/* ------------------------------------------------------------------------- */
/* Delivery                                                                   */

static void deliver(struct tsc_tcp_table *t, struct conn *c, int side, const uint8_t *p,
                    uint32_t n, uint64_t pkt, struct tsc_ts ts)
{
    if (n == 0) {
        return;
    }
    struct tcp_side *sd = &c->x->s[side];
    sd->next_seq += n;
    sd->off += n;
    c->x->stats[side_dir(c, side)].delivered_bytes += n;
    if (t->cb.on_data != NULL) {
        t->cb.on_data(t->cb.ud, &c->pub, side_dir(c, side), p, n, pkt, ts);
    }
}

static void gap(struct tsc_tcp_table *t, struct conn *c, int side, uint32_t n, uint64_t pkt,
                struct tsc_ts ts)
{
    if (n == 0) {
        return;
    }
    struct tcp_side *sd = &c->x->s[side];
    struct tsc_where w;
    where_of(t, c, side, (int64_t)sd->off, &w);
    tsc_diag(t->sink, TSC_DIAG_TCP_GAP, &w, "%u bytes missing at stream offset %llu", n,
             (unsigned long long)sd->off);
    sd->next_seq += n;
    sd->off += n;
    c->x->stats[side_dir(c, side)].gap_bytes += n;
    t->st.gap_bytes += n;
    if (t->cb.on_gap != NULL) {
        t->cb.on_gap(t->cb.ud, &c->pub, side_dir(c, side), n, pkt, ts);
    }
}

static void ooo_pop(struct tsc_tcp_table *t, struct tcp_side *sd)
{
    struct ooo_seg *o = sd->ooo;
    uint32_t charge = o->len + (uint32_t)sizeof(*o);
    sd->ooo = o->next;
    sd->ooo_bytes -= charge;
    t->st.buffered_bytes -= charge;
    free(o);
}

/* Deliver the queue head, which starts exactly at next_seq. */
static void deliver_head(struct tsc_tcp_table *t, struct conn *c, int side)
{
    struct tcp_side *sd = &c->x->s[side];
    struct ooo_seg *o = sd->ooo;
    /* Detach first: callbacks must see a consistent queue. */
    sd->ooo = o->next;
    uint32_t charge = o->len + (uint32_t)sizeof(*o);
    sd->ooo_bytes -= charge;
    t->st.buffered_bytes -= charge;
    deliver(t, c, side, o->data, o->len, o->pkt, o->ts);
    gap(t, c, side, o->miss, o->pkt, o->ts);
    free(o);
}

static void drain(struct tsc_tcp_table *t, struct conn *c, int side)
{
    struct tcp_side *sd = &c->x->s[side];
    while (sd->ooo != NULL && sd->ooo->seq == sd->next_seq) {
        deliver_head(t, c, side);
    }
}

/* Deliver everything queued, with gaps for the holes (caps, FIN, RST, close). */
static void flush_side(struct tsc_tcp_table *t, struct conn *c, int side, bool count_dropped)
{
    struct tcp_side *sd = &c->x->s[side];
    /* Each pass delivers and frees one piece: bounded by the queue length. */
    while (sd->ooo != NULL) {
        uint32_t hole = (uint32_t)seq_diff(sd->ooo->seq, sd->next_seq);
        if (count_dropped) {
            t->st.ooo_dropped_bytes += hole;
        }
        gap(t, c, side, hole, sd->ooo->pkt, sd->ooo->ts);
        drain(t, c, side);
    }
}

/* The side's FIN is reached (or forced): report the end once. */
static void maybe_end(struct tsc_tcp_table *t, struct conn *c, int side)
{
    struct tcp_side *sd = &c->x->s[side];
    if ((sd->flags & (SIDE_FIN | SIDE_END)) != SIDE_FIN) {
        return;
    }
    if (seq_diff(sd->next_seq, sd->fin_seq) < 0) {
        return;
    }
    sd->flags |= SIDE_END;
    if (t->cb.on_end != NULL) {
        t->cb.on_end(t->cb.ud, &c->pub, side_dir(c, side), TSC_TCP_END_FIN);
    }
}

/* ------------------------------------------------------------------------- */
/* Connection life cycle                                                      */

static void conn_free_queues(struct tsc_tcp_table *t, struct conn *c)
{
    if (c->x == NULL) {
        return;
    }
    for (int s = 0; s < 2; s++) {
        while (c->x->s[s].ooo != NULL) {
            ooo_pop(t, &c->x->s[s]);
        }
    }
}

static struct flow_table *table_of(struct tsc_tcp_table *t, const struct conn *c)
{
    return c->cls == CLS_ZOMBIE ? &t->zombie : &t->open;
}

static void hash_insert(struct flow_table *ft, struct conn *c)
{
    uint32_t b = c->hash & (ft->n - 1);
    c->hnext = ft->b[b];
    ft->b[b] = c;
}

static void hash_grow(struct flow_table *ft)
{
    uint32_t nb = ft->n * 2;
    struct conn **b = calloc(nb, sizeof(*b));
    if (b == NULL) {
        return; /* keep the smaller table: longer chains, still correct */
    }
    for (uint32_t i = 0; i < ft->n; i++) {
        struct conn *c = ft->b[i];
        while (c != NULL) {
            struct conn *nx = c->hnext;
            c->hnext = b[c->hash & (nb - 1)];
            b[c->hash & (nb - 1)] = c;
            c = nx;
        }
    }
    free(ft->b);
    ft->b = b;
    ft->n = nb;
}

/* Unlink from the table its class says it is in. */
static void hash_unlink(struct tsc_tcp_table *t, struct conn *c)
{
    struct flow_table *ft = table_of(t, c);
    struct conn **pp = &ft->b[c->hash & (ft->n - 1)];
    while (*pp != NULL && *pp != c) {
        pp = &(*pp)->hnext;
    }
    if (*pp == c) {
        *pp = c->hnext;
    }
}

static void conn_destroy(struct tsc_tcp_table *t, struct conn *c)
{
    conn_free_queues(t, c);
    hash_unlink(t, c);
    lru_unlink(t, c);
    if (c->cls == CLS_ZOMBIE) {
        t->zombies--;
    } else {
        t->st.open_flows--;
    }
    free(c->x);
    free(c);
}

/* Flush what is buffered and tell the consumer; the flow is then forgotten, or
 * (zombie true) kept without buffers for a while so that late retransmissions
 * of a closed connection do not look like a new one. */
static void conn_finish(struct tsc_tcp_table *t, struct conn *c, enum tsc_tcp_end_reason why,
                        bool zombie);

static void conn_close(struct tsc_tcp_table *t, struct conn *c, enum tsc_tcp_end_reason why)
{
    conn_finish(t, c, why, false);
}

static void conn_finish(struct tsc_tcp_table *t, struct conn *c, enum tsc_tcp_end_reason why,
                        bool zombie)
{
    /* A flow of bare SYNs has no bytes to flush and no direction to end. */
    for (int s = 0; c->x != NULL && s < 2; s++) {
        flush_side(t, c, s, false);
        /* Bytes before a FIN that never arrived are a gap; then the side ends. */
        struct tcp_side *sd = &c->x->s[s];
        if ((sd->flags & (SIDE_FIN | SIDE_END)) == SIDE_FIN) {
            int64_t rest = seq_diff(sd->fin_seq, sd->next_seq);
            if (rest > 0 && rest <= (int64_t)UINT32_MAX) {
                gap(t, c, s, (uint32_t)rest, t->cur_pkt, c->pub.last_ts);
            }
        }
        maybe_end(t, c, s);
    }
    if (t->cb.on_close != NULL) {
        t->cb.on_close(t->cb.ud, &c->pub, why);
    }
    if (!zombie) {
        conn_destroy(t, c);
        return;
    }
    conn_free_queues(t, c);
    c->pub.user = NULL;
    hash_unlink(t, c);
    lru_unlink(t, c);
    lru_append(t, c, CLS_ZOMBIE);
    hash_insert(&t->zombie, c);
    t->st.open_flows--;
    t->zombies++;
    if (t->zombies > t->zombie.n && t->zombie.n < TCP_HASH_MAX) {
        hash_grow(&t->zombie);
    }
    /* Bounded: the oldest remembered flow goes first. */
    uint64_t cap = t->cfg.max_flows / 4 + 1;
    while (t->zombies > cap && t->lru[CLS_ZOMBIE].head != NULL) {
        conn_destroy(t, t->lru[CLS_ZOMBIE].head);
    }
}

/* The reason a flow that timed out or was flushed gets. */
static enum tsc_tcp_end_reason close_reason(const struct conn *c, enum tsc_tcp_end_reason dflt)
{
    return c->cls == CLS_CLOSED ? (enum tsc_tcp_end_reason)c->end_why : dflt;
}

static void conn_evict(struct tsc_tcp_table *t, struct conn *c, const char *why)
{
    struct tsc_where w;
    where_of(t, c, -1, -1, &w);
    tsc_diag(t->sink, TSC_DIAG_TCP_FLOW_EVICTED, &w, "connection %llu evicted: %s",
             (unsigned long long)c->pub.id, why);
    t->st.evicted_flows++;
    conn_close(t, c, close_reason(c, TSC_TCP_END_EVICTED));
}

/* Oldest idle flow other than the one being processed, or NULL. */
static struct conn *oldest_flow(struct tsc_tcp_table *t)
{
    struct conn *best = NULL;
    for (int k = 0; k < CLS_ZOMBIE; k++) {
        struct conn *c = t->lru[k].head;
        if (c != NULL && c == t->cur_conn) {
            c = c->lnext;
        }
        if (c != NULL && (best == NULL || ts_ns(c->pub.last_ts) < ts_ns(best->pub.last_ts))) {
            best = c;
        }
    }
    return best;
}

static struct conn *table_find(const struct flow_table *ft, const struct tsc_tcp_seg *seg,
                               uint32_t h)
{
    for (struct conn *c = ft->b[h & (ft->n - 1)]; c != NULL; c = c->hnext) {
        if (c->hash != h) {
            continue;
        }
        if ((ep_eq(&c->pub.client, &seg->src) && ep_eq(&c->pub.server, &seg->dst)) ||
            (ep_eq(&c->pub.client, &seg->dst) && ep_eq(&c->pub.server, &seg->src))) {
            return c;
        }
    }
    return NULL;
}

/* A flow is in at most one of the tables: a remembered flow is destroyed
 * before a new connection takes its addresses. */
static struct conn *conn_find(struct tsc_tcp_table *t, const struct tsc_tcp_seg *seg, uint32_t h)
{
    struct conn *c = table_find(&t->open, seg, h);
    return c != NULL ? c : table_find(&t->zombie, seg, h);
}

static bool port_well_known(uint16_t p)
{
    static const uint16_t tls_ports[] = {443, 465, 636, 853, 989, 990, 992,
                                         993, 994, 995, 4433, 5061, 8443};
    if (p < 1024) {
        return true;
    }
    for (size_t i = 0; i < sizeof(tls_ports) / sizeof(tls_ports[0]); i++) {
        if (tls_ports[i] == p) {
            return true;
        }
    }
    return false;
}

/* True if the sender of seg should be the client. */
static bool guess_src_is_client(const struct tsc_tcp_seg *seg, enum tsc_role_source *src)
{
    if ((seg->flags & (TSC_TCP_SYN | TSC_TCP_ACK)) == TSC_TCP_SYN) {
        *src = TSC_ROLE_SYN;
        return true;
    }
    if ((seg->flags & (TSC_TCP_SYN | TSC_TCP_ACK)) == (TSC_TCP_SYN | TSC_TCP_ACK)) {
        *src = TSC_ROLE_SYNACK;
        return false;
    }
    *src = TSC_ROLE_PORT;
    bool swk = port_well_known(seg->src.port), dwk = port_well_known(seg->dst.port);
    if (swk != dwk) {
        return dwk; /* the one well-known port is the server */
    }
    /* Both or neither: the lower port is the server. */
    return seg->src.port > seg->dst.port;
}

static struct conn *conn_new(struct tsc_tcp_table *t, const struct tsc_tcp_seg *seg, uint32_t h)
{
    if (t->st.open_flows >= t->cfg.max_flows) {
        struct conn *old = oldest_flow(t);
        if (old == NULL) {
            return NULL;
        }
        conn_evict(t, old, "flow table full");
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        struct tsc_where w = {seg->file, seg->pkt, TSC_NO_CONN, -1, -1};
        tsc_diag(t->sink, TSC_DIAG_TCP_FLOW_LIMIT, &w, "out of memory: segment not tracked");
        return NULL;
    }
    enum tsc_role_source rs;
    bool src_client = guess_src_is_client(seg, &rs);
    c->pub.id = t->next_id;
    t->next_id += t->cfg.id_step != 0 ? t->cfg.id_step : 1;
    c->pub.client = src_client ? seg->src : seg->dst;
    c->pub.server = src_client ? seg->dst : seg->src;
    c->pub.role_source = rs;
    c->pub.first_ts = seg->ts;
    c->pub.last_ts = seg->ts;
    c->pub.first_pkt = seg->pkt;
    c->pub.stats = tcp_no_stats;
    c->hash = h;
    lru_append(t, c, CLS_NEW);
    hash_insert(&t->open, c);
    t->st.open_flows++;
    t->st.connections++;
    if (t->st.open_flows > t->st.peak_flows) {
        t->st.peak_flows = t->st.open_flows;
    }
    if (t->st.open_flows > t->open.n && t->open.n < TCP_HASH_MAX) {
        hash_grow(&t->open);
    }
    if (t->cb.on_open != NULL) {
        t->cb.on_open(t->cb.ud, &c->pub);
    }
    return c;
}

static void expire_until(struct tsc_tcp_table *t, struct tsc_ts now)
{
    int64_t now_ns = ts_ns(now);
    for (int k = 0; k < CLS__COUNT; k++) {
        int64_t limit = (int64_t)cls_timeout(t, k) * 1000000000ll;
        /* Each pass frees the head: bounded by the number of open flows. */
        while (t->lru[k].head != NULL && t->lru[k].head != t->cur_conn &&
               now_ns - ts_ns(t->lru[k].head->pub.last_ts) > limit) {
            struct conn *c = t->lru[k].head;
            if (k == CLS_ZOMBIE) {
                conn_destroy(t, c);
                continue;
            }
            if (k != CLS_CLOSED) {
                t->st.timed_out_flows++;
            }
            conn_finish(t, c, close_reason(c, TSC_TCP_END_TIMEOUT), k == CLS_CLOSED);
        }
    }
}

/* ------------------------------------------------------------------------- */
/* Reassembly                                                                 */

static struct ooo_seg *piece_new(uint32_t seq, const uint8_t *p, uint32_t len, uint64_t pkt,
                                 struct tsc_ts ts)
{
    struct ooo_seg *o = malloc(sizeof(*o) + len);
    if (o == NULL) {
        return NULL;
    }
    o->next = NULL;
    o->seq = seq;
    o->len = len;
    o->miss = 0;
    o->pkt = pkt;
    o->ts = ts;
    memcpy(o->data, p, len);
    return o;
}

/* Count bytes that differ between an earlier copy and a later one of the same range. */
static void overlap_check(struct tsc_tcp_table *t, struct conn *c, int side, uint32_t seq,
                          const uint8_t *first, const uint8_t *later, uint32_t n)
{
    uint32_t diff = 0;
    for (uint32_t i = 0; i < n; i++) {
        diff += first[i] != later[i];
    }
    int dir = side_dir(c, side);
    c->x->stats[dir].retransmitted_bytes += n;
    if (diff == 0) {
        return;
    }
    struct tcp_side *sd = &c->x->s[side];
    int64_t off = (int64_t)sd->off + seq_diff(seq, sd->next_seq);
    c->x->stats[dir].conflict_bytes += diff;
    t->st.conflict_bytes += diff;
    struct tsc_where w;
    where_of(t, c, side, off, &w);
    tsc_diag(t->sink, TSC_DIAG_TCP_OVERLAP_CONFLICT, &w,
             "overlapping segment differs in %u of %u bytes at stream offset %lld, length %u "
             "(first copy kept)",
             diff, n, (long long)off, n);
}

/* Make room for `charge` more buffered bytes on this side; false if impossible. */
static bool make_room(struct tsc_tcp_table *t, struct conn *c, int side, uint64_t charge)
{
    struct tcp_side *sd = &c->x->s[side];
    if (sd->ooo_bytes + charge > t->cfg.max_conn_ooo_bytes) {
        return false;
    }
    /* Global cap: evict the oldest other flows (each frees what it buffered). */
    for (uint32_t i = 0; i < 64 && t->st.buffered_bytes + charge > t->cfg.max_buffered_bytes;
         i++) {
        struct conn *old = oldest_flow(t);
        if (old == NULL) {
            return false;
        }
        conn_evict(t, old, "global reassembly buffer cap");
    }
    return t->st.buffered_bytes + charge <= t->cfg.max_buffered_bytes;
}

/*
 * Queue the bytes of a segment that starts ahead of next_seq. Bytes already
 * queued win (first seen); only the uncovered parts are copied.
 */
static bool ooo_insert(struct tsc_tcp_table *t, struct conn *c, int side, uint32_t seq,
                       const uint8_t *p, uint32_t plen, uint32_t wlen, uint64_t pkt,
                       struct tsc_ts ts)
{
    struct tcp_side *sd = &c->x->s[side];
    if (!make_room(t, c, side, (uint64_t)plen + sizeof(struct ooo_seg))) {
        return false;
    }
    struct ooo_seg **pp = &sd->ooo;
    uint32_t a = seq;             /* first byte not yet placed */
    uint32_t b = seq + plen;      /* end of the present bytes */
    /* Walk the sorted list once; every step advances pp or a. */
    while (seq_diff(b, a) > 0) {
        struct ooo_seg *e = *pp;
        if (e == NULL || seq_diff(e->seq, a) > 0) {
            /* [a, min(b, e->seq)) is not covered: insert it before e. */
            uint32_t end = e == NULL || seq_diff(b, e->seq) <= 0 ? b : e->seq;
            uint32_t n = end - a;
            struct ooo_seg *o = piece_new(a, p + (a - seq), n, pkt, ts);
            if (o == NULL) {
                t->st.ooo_dropped_bytes += n;
                return true;
            }
            o->next = e;
            *pp = o;
            uint32_t charge = n + (uint32_t)sizeof(*o);
            sd->ooo_bytes += charge;
            t->st.buffered_bytes += charge;
            if (t->st.buffered_bytes > t->st.peak_buffered_bytes) {
                t->st.peak_buffered_bytes = t->st.buffered_bytes;
            }
            pp = &o->next;
            a = end;
            continue;
        }
        uint32_t e_end = e->seq + e->len;
        if (seq_diff(e_end, a) <= 0) {
            pp = &e->next; /* entirely before a */
            continue;
        }
        /* e covers [a, min(b, e_end)): compare, keep e. */
        uint32_t end = seq_diff(b, e_end) < 0 ? b : e_end;
        overlap_check(t, c, side, a, e->data + (a - e->seq), p + (a - seq), end - a);
        a = end;
        pp = &e->next;
    }
    /* Bytes cut by the snap length: remember them on the last piece if it ends the segment. */
    if (wlen > plen) {
        struct ooo_seg *last = NULL;
        for (struct ooo_seg *e = sd->ooo; e != NULL && seq_diff(e->seq, b) < 0; e = e->next) {
            last = e;
        }
        struct ooo_seg *nx = last != NULL ? last->next : NULL;
        if (last != NULL && last->seq + last->len == b && last->miss == 0 &&
            (nx == NULL || seq_diff(nx->seq, seq + wlen) >= 0)) {
            last->miss = wlen - plen;
        }
    }
    return true;
}

/*
 * Bytes [seq, seq + wlen) from one side, of which the first plen are present.
 * Loops are bounded: every pass of the delivery loop consumes segment bytes or
 * frees a queued piece.
 */
static void side_data(struct tsc_tcp_table *t, struct conn *c, int side, uint32_t seq,
                      const uint8_t *p, uint32_t plen, uint32_t wlen, uint64_t pkt,
                      struct tsc_ts ts)
{
    struct tcp_side *sd = &c->x->s[side];
    if ((sd->flags & SIDE_END) != 0 || wlen == 0) {
        return;
    }
    if ((sd->flags & SIDE_FIN) != 0 && seq_diff(seq + wlen, sd->fin_seq) > 0) {
        /* Nothing follows the FIN: drop bytes past it. */
        int64_t keep = seq_diff(sd->fin_seq, seq);
        if (keep <= 0) {
            return;
        }
        wlen = (uint32_t)keep;
        plen = plen < wlen ? plen : wlen;
    }
    int64_t rel = seq_diff(seq, sd->next_seq);
    if (rel < 0) {
        /* Old bytes (retransmission, keep-alive): already delivered, cannot be compared. */
        uint64_t old = (uint64_t)-rel;
        int dir = side_dir(c, side);
        if (old >= wlen) {
            c->x->stats[dir].retransmitted_bytes += wlen;
            return;
        }
        c->x->stats[dir].retransmitted_bytes += old;
        uint32_t o32 = (uint32_t)old;
        seq += o32;
        wlen -= o32;
        if (o32 >= plen) {
            plen = 0;
        } else {
            p += o32;
            plen -= o32;
        }
        rel = 0;
    }
    if (rel > 0) {
        c->x->stats[side_dir(c, side)].ooo_segments++;
        if (ooo_insert(t, c, side, seq, p, plen, wlen, pkt, ts)) {
            return;
        }
        /* Over the cap: give up on the holes before this segment and go on. */
        struct tsc_where w;
        where_of(t, c, side, (int64_t)sd->off, &w);
        tsc_diag(t->sink, TSC_DIAG_TCP_OOO_LIMIT, &w,
                 "out-of-order buffer cap (%u bytes per direction) reached: holes skipped",
                 t->cfg.max_conn_ooo_bytes);
        /* Deliver queued pieces that come before this segment, with gaps. */
        while (sd->ooo != NULL && seq_diff(sd->ooo->seq, seq) < 0) {
            uint32_t hole = (uint32_t)seq_diff(sd->ooo->seq, sd->next_seq);
            t->st.ooo_dropped_bytes += hole;
            gap(t, c, side, hole, sd->ooo->pkt, sd->ooo->ts);
            deliver_head(t, c, side);
        }
        rel = seq_diff(seq, sd->next_seq);
        if (rel > 0) {
            t->st.ooo_dropped_bytes += (uint64_t)rel;
            gap(t, c, side, (uint32_t)rel, pkt, ts);
        } else if (rel < 0) {
            side_data(t, c, side, seq, p, plen, wlen, pkt, ts); /* trims; rel >= 0 next time */
            return;
        }
    }
    /* In order: seq == next_seq. */
    uint32_t cur = 0;
    while (cur < wlen) {
        struct ooo_seg *h = sd->ooo;
        if (h != NULL && h->seq == sd->next_seq) {
            /* A queued piece was seen first for these bytes: it wins. */
            uint32_t hend = h->len + h->miss;
            uint32_t n = hend < wlen - cur ? hend : wlen - cur;
            /* Compare where both copies have bytes: the piece's and the segment's present part. */
            uint32_t seg_have = cur < plen ? plen - cur : 0;
            uint32_t cmp = n < h->len ? n : h->len;
            cmp = cmp < seg_have ? cmp : seg_have;
            /* p is NULL when the snap length cut the whole payload (then cmp is 0). */
            overlap_check(t, c, side, h->seq, h->data, cmp > 0 ? p + cur : NULL, cmp);
            deliver_head(t, c, side);
            cur += n;
            continue;
        }
        if (h != NULL && seq_diff(h->seq, sd->next_seq) < 0) {
            ooo_pop(t, sd); /* stale piece behind next_seq (cannot happen; be safe) */
            continue;
        }
        uint32_t lim = wlen;
        if (h != NULL) {
            uint32_t to_h = (uint32_t)seq_diff(h->seq, sd->next_seq);
            lim = cur + to_h < wlen ? cur + to_h : wlen;
        }
        uint32_t have_end = lim < plen ? lim : plen;
        if (cur < have_end) {
            deliver(t, c, side, p + cur, have_end - cur, pkt, ts);
        }
        uint32_t from = cur > have_end ? cur : have_end;
        if (lim > from) {
            gap(t, c, side, lim - from, pkt, ts); /* cut by the snap length */
        }
        cur = lim;
    }
    drain(t, c, side);
}

/* ------------------------------------------------------------------------- */
/* Segment processing                                                         */

static void side_base(struct tcp_side *sd, const struct tsc_tcp_seg *seg)
{
    if ((seg->flags & TSC_TCP_SYN) != 0) {
        sd->isn = seg->seq;
        sd->next_seq = seg->seq + 1;
        sd->flags |= SIDE_SYN | SIDE_BASE;
    } else {
        /* Midstream pickup: the first byte seen is stream offset 0. */
        sd->next_seq = seg->seq;
        sd->flags |= SIDE_BASE;
    }
}

static void conn_rst(struct tsc_tcp_table *t, struct conn *c)
{
    for (int s = 0; s < 2; s++) {
        flush_side(t, c, s, false);
        maybe_end(t, c, s);
        if ((c->x->s[s].flags & SIDE_END) == 0) {
            c->x->s[s].flags |= SIDE_END;
            if (t->cb.on_end != NULL) {
                t->cb.on_end(t->cb.ud, &c->pub, side_dir(c, s), TSC_TCP_END_RST);
            }
        }
    }
    c->end_why = TSC_TCP_END_RST;
}

/* A SYN on a known flow: port reuse if the old connection is over. */
static bool is_reuse(const struct conn *c, int side, const struct tsc_tcp_seg *seg)
{
    if ((seg->flags & (TSC_TCP_SYN | TSC_TCP_ACK)) != TSC_TCP_SYN || c->x == NULL) {
        return false; /* without x, no side has ended */
    }
    const struct tcp_side *sd = &c->x->s[side];
    bool any_end = ((c->x->s[0].flags | c->x->s[1].flags) & (SIDE_END | SIDE_FIN)) != 0;
    if (!any_end) {
        return false;
    }
    if (c->cls == CLS_CLOSED || c->cls == CLS_ZOMBIE) {
        /* Both sides over: a retransmitted SYN of the old connection carries its ISN. */
        return (sd->flags & SIDE_SYN) == 0 || sd->isn != seg->seq;
    }
    /* Half closed: only a SYN far from the old sequence space starts anew. */
    int64_t d = seq_diff(seg->seq, sd->next_seq);
    return ((sd->flags & SIDE_SYN) == 0 || sd->isn != seg->seq) && (d > 65535 || d < -65535);
}

/* Move to the tail of its (maybe new) list: most recently active. */
static void lru_touch(struct tsc_tcp_table *t, struct conn *c, int cls)
{
    lru_unlink(t, c);
    lru_append(t, c, cls);
}

/* A bare SYN or SYN-ACK on a flow without reassembly state: remembered in struct conn. */
static void syn_only(struct tsc_tcp_table *t, struct conn *c, int side, int dir,
                     const struct tsc_tcp_seg *seg)
{
    if (c->early_pkts[dir] < UINT32_MAX) {
        c->early_pkts[dir]++;
    }
    c->syn_isn[side] = seg->seq;
    c->syn_flags[side] |= SIDE_SEEN | SIDE_SYN | SIDE_BASE;
    /* Both sides heard from: established, as for a flow with state. */
    int cls = (c->syn_flags[0] & c->syn_flags[1] & SIDE_SEEN) != 0 ? CLS_EST : c->cls;
    lru_touch(t, c, cls);
    t->cur_conn = NULL;
}

/* Reassembly state for a flow that so far had only bare SYNs; false when out of memory. */
static bool conn_ext_new(struct tsc_tcp_table *t, struct conn *c)
{
    struct conn_ext *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        struct tsc_where w;
        where_of(t, c, -1, -1, &w);
        tsc_diag(t->sink, TSC_DIAG_TCP_FLOW_LIMIT, &w, "out of memory: segment not tracked");
        t->cur_conn = NULL;
        return false;
    }
    for (int side = 0; side < 2; side++) {
        if ((c->syn_flags[side] & SIDE_SYN) != 0) {
            x->s[side].isn = c->syn_isn[side];
            x->s[side].next_seq = c->syn_isn[side] + 1;
        }
        x->s[side].flags = c->syn_flags[side];
    }
    for (int dir = 0; dir < 2; dir++) {
        x->stats[dir].packets = c->early_pkts[dir];
    }
    c->x = x;
    c->pub.stats = x->stats;
    return true;
}

void tsc_tcp_process(struct tsc_tcp_table *t, const struct tsc_tcp_seg *seg)
{
    t->st.segments++;
    t->cur_pkt = seg->pkt;
    t->cur_file = seg->file;
    t->cur_conn = NULL;
    expire_until(t, seg->ts);
    uint32_t h = flow_hash(&seg->src, &seg->dst);
    struct conn *c = conn_find(t, seg, h);
    if (c != NULL) {
        int side0 = ep_eq(&seg->src, &c->pub.client) ? 0 : 1;
        if (is_reuse(c, side0 ^ c->swapped, seg)) {
            if (c->cls == CLS_ZOMBIE) {
                conn_destroy(t, c);
            } else {
                conn_close(t, c, TSC_TCP_END_REUSED);
            }
            c = NULL;
        } else if (c->cls == CLS_ZOMBIE) {
            /* A late retransmission or ACK of a connection already reported. */
            t->st.late_segments++;
            return;
        }
    }
    if (c == NULL) {
        c = conn_new(t, seg, h);
        if (c == NULL) {
            return;
        }
    }
    t->cur_conn = c;
    int dir = ep_eq(&seg->src, &c->pub.client) ? TSC_DIR_C2S : TSC_DIR_S2C;
    int side = dir ^ c->swapped;

    /* Roles guessed from ports give way to a handshake seen before any data. */
    if (c->pub.role_source == TSC_ROLE_PORT && !c->data_seen &&
        (seg->flags & TSC_TCP_SYN) != 0) {
        bool want_client = (seg->flags & TSC_TCP_ACK) == 0; /* SYN: sender is the client */
        if (want_client != (dir == TSC_DIR_C2S)) {
            (void)tsc_tcp_conn_swap_roles(t, &c->pub);
            dir = 1 - dir;
        }
        c->pub.role_source = want_client ? TSC_ROLE_SYN : TSC_ROLE_SYNACK;
    }
    if (seg->flags & TSC_TCP_SYN) {
        c->pub.saw_syn = true;
    }
    c->pub.last_ts = seg->ts;
    if (c->x == NULL) {
        bool bare_syn = (seg->flags & (TSC_TCP_SYN | TSC_TCP_FIN | TSC_TCP_RST)) == TSC_TCP_SYN &&
                        seg->payload_wirelen == 0;
        if (bare_syn) {
            syn_only(t, c, side, dir, seg);
            return;
        }
        if (!conn_ext_new(t, c)) {
            return;
        }
    }
    struct tcp_side *sd = &c->x->s[side];

    struct tsc_tcp_dir_stats *st = &c->x->stats[dir];
    st->packets++;
    st->bytes += seg->payload_wirelen;
    if (seg->payload_len < seg->payload_wirelen) {
        st->truncated_segments++;
    }
    sd->flags |= SIDE_SEEN;

    if ((sd->flags & SIDE_BASE) == 0) {
        side_base(sd, seg);
    } else if ((seg->flags & TSC_TCP_SYN) != 0 && sd->off == 0 && sd->ooo == NULL &&
               ((sd->flags & SIDE_SYN) == 0 || sd->isn != seg->seq)) {
        /* A (new) SYN before any byte of this side: it defines offset 0. */
        side_base(sd, seg);
    }

    uint32_t dseq = seg->seq + ((seg->flags & TSC_TCP_SYN) != 0 ? 1u : 0u);
    if (seg->payload_wirelen > 0) {
        c->data_seen = true;
        side_data(t, c, side, dseq, seg->payload, seg->payload_len, seg->payload_wirelen,
                  seg->pkt, seg->ts);
        /* Late data may complete the bytes before an earlier out-of-order FIN. */
        maybe_end(t, c, side);
    }
    if ((seg->flags & TSC_TCP_FIN) != 0 && (sd->flags & (SIDE_FIN | SIDE_END)) == 0) {
        sd->flags |= SIDE_FIN;
        sd->fin_seq = dseq + seg->payload_wirelen;
        /* A FIN ahead of holes waits: reordered segments may still fill them (the
         * side ends when they do, or with a gap when the connection closes). */
        maybe_end(t, c, side);
    }
    if ((seg->flags & TSC_TCP_RST) != 0) {
        conn_rst(t, c);
    }

    int cls = c->cls;
    /* Both sides sent FIN (or were reset): the connection is closing, even if a
     * reordered segment before a FIN is still missing. */
    bool both_end = (c->x->s[0].flags & (SIDE_FIN | SIDE_END)) != 0 &&
                    (c->x->s[1].flags & (SIDE_FIN | SIDE_END)) != 0;
    if (both_end) {
        if (cls != CLS_CLOSED && (seg->flags & TSC_TCP_RST) == 0) {
            c->end_why = TSC_TCP_END_FIN;
        }
        cls = CLS_CLOSED;
    } else if (c->data_seen || (c->x->s[0].flags & c->x->s[1].flags & SIDE_SEEN) != 0) {
        cls = CLS_EST;
    }
    if ((c->x->s[0].flags & c->x->s[1].flags & SIDE_END) != 0) {
        /* Both directions ended with nothing missing: report the connection now
         * and keep only its small remembered state, so memory follows the
         * connections that are open, not those a busy capture closed lately. */
        t->cur_conn = NULL;
        conn_finish(t, c, (enum tsc_tcp_end_reason)c->end_why, true);
        return;
    }
    lru_touch(t, c, cls);
    t->cur_conn = NULL;
}

bool tsc_tcp_conn_swap_roles(struct tsc_tcp_table *t, struct tsc_tcp_conn *pc)
{
    (void)t;
    if (pc == NULL || pc->role_source == TSC_ROLE_SYN || pc->role_source == TSC_ROLE_SYNACK) {
        return false;
    }
    /* pub is the first member of struct conn. */
    struct conn *c = (struct conn *)(void *)pc;
    struct tsc_endpoint e = pc->client;
    pc->client = pc->server;
    pc->server = e;
    if (c->x != NULL) {
        struct tsc_tcp_dir_stats s = c->x->stats[0];
        c->x->stats[0] = c->x->stats[1];
        c->x->stats[1] = s;
    }
    uint32_t e0 = c->early_pkts[0];
    c->early_pkts[0] = c->early_pkts[1];
    c->early_pkts[1] = e0;
    c->swapped ^= 1u;
    pc->role_source = TSC_ROLE_CLIENT_HELLO;
    return true;
}

/* ------------------------------------------------------------------------- */
/* Table                                                                      */

enum tsc_err tsc_tcp_table_new(struct tsc_tcp_table **out, const struct tsc_tcp_config *cfg,
                               const struct tsc_tcp_callbacks *cb, struct tsc_diag_sink *sink)
{
    TSC_ENSURE(out != NULL, TSC_ERR_ARG);
    struct tsc_tcp_table *t = calloc(1, sizeof(*t));
    TSC_ENSURE(t != NULL, TSC_ERR_NOMEM);
    if (cfg != NULL) {
        t->cfg = *cfg;
    } else {
        tsc_tcp_config_default(&t->cfg);
    }
    if (t->cfg.max_flows == 0) {
        t->cfg.max_flows = 1;
    }
    if (cb != NULL) {
        t->cb = *cb;
    }
    t->sink = sink;
    t->open.n = TCP_HASH_INIT;
    t->open.b = calloc(t->open.n, sizeof(*t->open.b));
    t->zombie.n = TCP_HASH_INIT;
    t->zombie.b = calloc(t->zombie.n, sizeof(*t->zombie.b));
    if (t->open.b == NULL || t->zombie.b == NULL) {
        free(t->open.b);
        free(t->zombie.b);
        free(t);
        return TSC_ERR_NOMEM;
    }
    t->next_id = t->cfg.id_first != 0 ? t->cfg.id_first : 1;
    *out = t;
    return TSC_OK;
}

void tsc_tcp_expire(struct tsc_tcp_table *t, struct tsc_ts now)
{
    t->cur_conn = NULL;
    t->cur_pkt = 0;
    t->cur_file = NULL;
    expire_until(t, now);
}

void tsc_tcp_flush_all(struct tsc_tcp_table *t, enum tsc_tcp_end_reason why)
{
    t->cur_conn = NULL;
    t->cur_pkt = 0;
    t->cur_file = NULL;
    /* Take list heads, lowest id first among them; each pass frees one flow. */
    for (;;) {
        struct conn *best = NULL;
        for (int k = 0; k < CLS__COUNT; k++) {
            struct conn *c = t->lru[k].head;
            if (c != NULL && (best == NULL || c->pub.id < best->pub.id)) {
                best = c;
            }
        }
        if (best == NULL) {
            break;
        }
        if (best->cls == CLS_ZOMBIE) {
            conn_destroy(t, best);
            continue;
        }
        conn_close(t, best, close_reason(best, why));
    }
}

void tsc_tcp_table_free(struct tsc_tcp_table *t)
{
    if (t == NULL) {
        return;
    }
    tsc_tcp_flush_all(t, TSC_TCP_END_EOF);
    free(t->open.b);
    free(t->zombie.b);
    free(t);
}

void tsc_tcp_get_stats(const struct tsc_tcp_table *t, struct tsc_tcp_stats *st)
{
    *st = t->st;
    /* Flows (live and remembered closed ones), the bucket array, queued pieces. */
    st->memory_bytes = (t->st.open_flows + t->zombies) * sizeof(struct conn) +
                       ((uint64_t)t->open.n + t->zombie.n) * sizeof(struct conn *) +
                       t->st.buffered_bytes;
}

size_t tsc_tcp_flow_bytes(void)
{
    return sizeof(struct conn) + sizeof(struct conn *);
}

bool tsc_tcp_evict_oldest(struct tsc_tcp_table *t, const char *why)
{
    struct conn *old = oldest_flow(t);
    if (old == NULL) {
        return false;
    }
    conn_evict(t, old, why);
    return true;
}
