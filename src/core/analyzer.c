/*
 * The analyzer: wires the data flow together.
 *
 *   capture (frames) -> net (TCP segments) -> tcp (in-order bytes per direction)
 *   -> tls (records, messages, facts) -> output (events, connection summaries)
 *
 * It owns one instance of each stage, routes callbacks between them and keeps
 * the run's statistics. It parses nothing itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define TSC_ASAN_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TSC_ASAN_HEAP 1
#endif
#endif
#if defined(TSC_ASAN_HEAP)
/* From the sanitizer runtime (sanitizer/allocator_interface.h, not installed with every compiler). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "capture/capture.h"
#include "core/workq.h"
#include "crypto/session.h"
#include "crypto/sesscache.h"
#include "crypto/suites.h"
#include "crypto/verify.h"
#include "keys/keys.h"
#include "net/net.h"
#include "output/datadir.h"
#include "output/keylog_out.h"
#include "output/report.h"
#include "output/writer.h"
#include "prelude/prelude.h"
#include "tcp/tcp.h"
#include "tls/fingerprint.h"
#include "tls/tls.h"
#include "tlsscope/tlsscope.h"
#include "x509/x509.h"

struct conn_state {
    struct tsc_out_conn out;
    struct tsc_prelude pre;   /* cleartext prelude stage (STARTTLS, tunnels) */
    struct tsc_tls_conn *tls; /* created on the first payload byte */
    struct tsc_report_conn *ladder; /* --report: this connection's messages, or NULL */
    /* On the analyzer's list of connections holding records for late keys. */
    bool on_hold;
    struct conn_state *hold_prev, *hold_next;
    struct tsc_dd_conn dd;    /* --data-dir state */
};

#define TSC_LIVE_BUFFER_DEFAULT (32 << 20) /* live kernel capture buffer (bytes) */
#define TSC_MAX_FOLLOW 64                  /* key logs followed */
#define TSC_HOLD_CONN_BYTES (256u << 10)   /* records held per connection for late keys */
#define TSC_HOLD_BYTES_DEFAULT (64u << 20) /* ... over all connections */
#define TSC_KEYLOG_GEN_DEFAULT 65536u     /* followed key log entries per index generation */
#define TSC_HOLD_TIMEOUT_S 5               /* capture seconds a record waits for its keys */

/* A diagnostic raised before the run record was written (key loading), replayed after it. */
#define TSC_PENDING_DIAGS 64
struct pending_diag {
    enum tsc_diag_kind kind;
    struct tsc_where where;
    char file[256];
    char msg[256];
};

#define TSC_MAX_KEYFILES 64

/* A worker of a threaded run: its analyzer, thread and the stats it last published. */
struct tsc_worker {
    struct tsc_analyzer *a;
    pthread_t thread;
    bool started;
    pthread_mutex_t snap_mu;
    struct tsc_run_stats snap;          /* live: as of the worker's last tick */
    uint64_t snap_diag[TSC_DIAG__COUNT];
    bool snaps;                         /* live with --stats: snapshots published */
    uint64_t snap_accounted;
};

struct tsc_analyzer {
    struct tsc_config cfg;
    struct tsc_keys *keys; /* NULL: no key material */
    uint32_t dsb_blocks;   /* pcapng Decryption Secrets Blocks loaded */
    struct tsc_run_keyfile keyfiles[TSC_MAX_KEYFILES];
    int n_keyfiles;
    char env_keylog[4096];
    bool run_written; /* the run record is out: diagnostics go straight to the writer */
    bool holding;     /* output held until the input hashes (run record) are known */
    struct hash_job *hash_job;
    char **argv_shown;  /* argv for the run record, with secrets masked */
    char masked[16];
    struct pending_diag *pending;
    int n_pending;
    struct tsc_writer *writer;
    struct tsc_net *net;
    struct tsc_tcp_table *tcp;
    struct tsc_x509_cache *certs;
    struct tsc_sess_cache *sessions; /* resumption cache shared by every input; NULL when off */
    struct tsc_keylog_out *keylog_out; /* --export-keylog */
    struct tsc_datadir *datadir;       /* --data-dir */
    /* --verify: parsed certificates, trust anchors, verdict totals */
    struct tsc_vcert_cache *vcerts;
    struct tsc_trust *trust;
    struct tsc_verify_config vcfg;
    struct tsc_vsum vsum;
    struct tsc_report *report; /* --report, or NULL */
    bool report_failed;        /* the report could not be written completely */
    struct tsc_pcapng_out *pcapng_out; /* -w: written at the end of the run */
    struct tsc_keylog_out *pcapng_secrets; /* -w: its secrets until then (temporary file) */
    struct tsc_diag_sink sink;
    struct tsc_tls_config tls_cfg;
    struct tsc_fp_ctx *fp; /* fingerprint digests and sort buffer, shared by every connection */
    struct tsc_prelude_config pre_cfg;
    const char *cur_file;
    uint64_t next_pkt;
    volatile sig_atomic_t stop;
    volatile sig_atomic_t reopen; /* SIGHUP: reopen cfg.out_path */
    const char *live_iface;
    struct tsc_run_stats st;
    uint64_t *suite_counts; /* 65536 (threaded: the sum of suite_shared, for the stats) */
    _Atomic uint64_t *suite_shared; /* threaded: 65536, counted by every worker */
    struct timespec t0;
    struct tsc_capture *live; /* for stop() */
    struct conn_state *cur;   /* connection being fed to the TLS layer */
    /* Followed key logs (live) and the records held for their late keys. */
    struct tsc_keylog_follow *follow[TSC_MAX_FOLLOW];
    int n_follow;
    struct tsc_tls_hold hold;
    struct conn_state *hold_list;
    uint64_t keys_swept; /* key log entries when the held connections were last retried */
    /* --max-memory: the heap budget (the capture ring is outside the heap) and its checks. */
    uint64_t heap_budget;
    double last_memory_check;
    uint64_t memory_evictions;
    /* --threads N > 1 (docs/architecture.md): this analyzer reads and dispatches;
     * each worker is an analyzer of its own (TCP, TLS, output) on its thread. */
    struct tsc_tcp_config tcp_cfg; /* the limits in force, split among the workers */
    int n_workers;
    struct tsc_worker *workers;
    struct tsc_wq *wq;
    atomic_bool run_out;         /* run record written: workers release their held output */
    bool keys_locking;           /* followed key logs: keys_lock guards the key index */
    pthread_rwlock_t keys_lock;  /* read by workers per batch, written by the dispatcher */
    int64_t last_tick_sec;       /* capture second of the last tick sent (offline) */
    uint64_t last_put;           /* packet number of the last item dispatched */
    uint64_t diag_total[TSC_DIAG__COUNT]; /* every thread's diagnostics, for the stats */
    /* In a worker: */
    struct tsc_analyzer *parent;
    int worker_index;
    bool live_worker;
    bool following;    /* the dispatcher follows key logs: held records, sweeps */
    bool final_flush;  /* flushing at the end: waits are for every packet */
    uint64_t cur_pkt;  /* packet being processed (watermark) */
    /* progress */
    struct timespec last_progress;
    uint64_t progress_done_before; /* bytes of earlier files */
    uint64_t progress_total;
    bool progress_shown;
};

const char *tsc_version(void)
{
    return TSC_VERSION_STRING;
}

void tsc_config_default(struct tsc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->format = TSC_FORMAT_TEXT;
    cfg->out = NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- diagnostics: counted by the sink, printed by the writer ---- */

static void on_diag(void *ud, enum tsc_diag_kind kind, const struct tsc_where *where,
                    const char *msg)
{
    struct tsc_analyzer *a = ud;
    if (!a->run_written && !a->holding) {
        /* Before the run record (key loading): kept and written right after it. */
        if (a->pending == NULL) {
            a->pending = calloc(TSC_PENDING_DIAGS, sizeof(*a->pending));
        }
        if (a->pending == NULL || a->n_pending >= TSC_PENDING_DIAGS) {
            return; /* still counted by the sink */
        }
        struct pending_diag *p = &a->pending[a->n_pending++];
        static const struct tsc_where none = {NULL, 0, TSC_NO_CONN, -1, -1};
        p->kind = kind;
        p->where = where != NULL ? *where : none;
        if (p->where.file != NULL) {
            snprintf(p->file, sizeof(p->file), "%s", p->where.file);
            p->where.file = p->file;
        }
        snprintf(p->msg, sizeof(p->msg), "%s", msg);
        return;
    }
    tsc_writer_diag(a->writer, kind, where, msg);
}

/* The run record is out: write the diagnostics kept until now. */
static void run_written(struct tsc_analyzer *a)
{
    a->run_written = true;
    for (int i = 0; i < a->n_pending; i++) {
        tsc_writer_diag(a->writer, a->pending[i].kind, &a->pending[i].where, a->pending[i].msg);
    }
    free(a->pending);
    a->pending = NULL;
    a->n_pending = 0;
}

/* ---- TLS events -> writer ----
 * Calls into the TLS layer are synchronous, so every event it reports belongs
 * to the connection the analyzer is feeding at that moment (a->cur). */

static struct tsc_out_conn *cur_out(struct tsc_analyzer *a, uint64_t conn_id)
{
    (void)conn_id; /* equals a->cur->out.tcp->id */
    return &a->cur->out;
}

/* --report: one more step of the connection's ladder diagram. */
static void ladder_ev(struct tsc_analyzer *a, int dir, enum tsc_report_ev kind, uint8_t code,
                      uint8_t level, uint64_t count, uint64_t pkt, struct tsc_ts ts)
{
    if (a->report == NULL) {
        return;
    }
    if (a->cur->ladder == NULL) {
        a->cur->ladder = tsc_report_conn_new(); /* NULL (out of memory): no diagram */
    }
    tsc_report_event(a->cur->ladder, dir, kind, code, level, count, pkt, ts);
}

static void ev_record(void *ud, uint64_t conn_id, int dir, const struct tsc_tls_record_info *r)
{
    struct tsc_analyzer *a = ud;
    tsc_writer_record(a->writer, cur_out(a, conn_id), dir, r);
    if (r->auth_failed) {
        ladder_ev(a, dir, TSC_REV_BAD_RECORD, 0, 0, 1, r->pkt, r->ts);
    } else if (r->content_type == 23 && (!r->decrypted || r->inner_type == 23)) {
        ladder_ev(a, dir, TSC_REV_APP_DATA, 0, 0, 1, r->pkt, r->ts);
    }
    if (a->datadir != NULL && r->encrypted && !r->decrypted && r->content_type == 23) {
        /* Application data that did not decrypt: a hole in the plaintext file. */
        tsc_datadir_hole(a->datadir, &a->cur->dd, dir, TSC_DD_RECORD_LOST, r->length, r->pkt);
    }
}

static void ev_handshake(void *ud, uint64_t conn_id, int dir, const struct tsc_hs_msg *m,
                         uint64_t pkt, struct tsc_ts ts)
{
    struct tsc_analyzer *a = ud;
    tsc_writer_handshake(a->writer, cur_out(a, conn_id), dir, m, pkt, ts);
    ladder_ev(a, dir, TSC_REV_HANDSHAKE, tsc_hs_msg_type(m), 0, 1, pkt, ts);
}

static void ev_alert(void *ud, uint64_t conn_id, int dir, const struct tsc_tls_alert_info *al)
{
    struct tsc_analyzer *a = ud;
    tsc_writer_alert(a->writer, cur_out(a, conn_id), dir, al);
    ladder_ev(a, dir, TSC_REV_ALERT, al->description, al->encrypted ? 0 : al->level, 1, al->pkt,
              al->ts);
}

static void ev_ccs(void *ud, uint64_t conn_id, int dir, uint64_t pkt, struct tsc_ts ts)
{
    struct tsc_analyzer *a = ud;
    tsc_writer_ccs(a->writer, cur_out(a, conn_id), dir, pkt, ts);
    ladder_ev(a, dir, TSC_REV_CCS, 0, 0, 1, pkt, ts);
}

static void ev_app_data(void *ud, uint64_t conn_id, int dir, const uint8_t *p, size_t n,
                        uint64_t pkt, struct tsc_ts ts)
{
    struct tsc_analyzer *a = ud;
    tsc_writer_app_data(a->writer, cur_out(a, conn_id), dir, p, n, pkt, ts);
    tsc_datadir_data(a->datadir, &a->cur->dd, a->cur->out.tcp, dir, p, n);
}

static void ev_secrets(void *ud, uint64_t conn_id, const struct tsc_tls_secrets *sec)
{
    struct tsc_analyzer *a = ud;
    (void)conn_id;
    tsc_keylog_out_add(a->keylog_out, sec);
    tsc_keylog_out_add(a->pcapng_secrets, sec);
}

static void ev_heartbeat(void *ud, uint64_t conn_id, int dir, uint8_t type,
                         uint16_t payload_length, uint32_t record_len, bool overlong, uint64_t pkt,
                         struct tsc_ts ts)
{
    struct tsc_analyzer *a = ud;
    tsc_writer_heartbeat(a->writer, cur_out(a, conn_id), dir, type, payload_length, record_len,
                         overlong, pkt, ts);
    ladder_ev(a, dir, TSC_REV_HEARTBEAT, type, 0, 1, pkt, ts);
}

/* ---- TCP callbacks -> TLS ---- */

static void tcp_open(void *ud, struct tsc_tcp_conn *c)
{
    struct tsc_analyzer *a = ud;
    (void)c; /* per-connection state waits for the first payload byte */
    a->st.tcp_connections++;
}

/* The connection's analyzer state (prelude stage included), created on its first byte or gap. */
static struct conn_state *conn_state_get(struct tsc_analyzer *a, struct tsc_tcp_conn *c, int dir,
                                         uint64_t pkt)
{
    struct conn_state *cs = c->user;
    if (cs != NULL) {
        return cs;
    }
    cs = calloc(1, sizeof(*cs));
    if (cs == NULL) {
        struct tsc_where w = {a->cur_file, pkt, c->id, dir, -1};
        tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "out of memory: connection not analysed");
        return NULL;
    }
    cs->out.tcp = c;
    a->pre_cfg.file = a->cur_file;
    tsc_prelude_init(&cs->pre, &a->pre_cfg, c->id);
    cs->out.prelude = tsc_prelude_facts(&cs->pre);
    c->user = cs;
    return cs;
}

/* The connection's TLS state, created on its first payload byte or gap. */
static bool conn_tls(struct tsc_analyzer *a, struct conn_state *cs, struct tsc_tcp_conn *c, int dir,
                     uint64_t pkt)
{
    if (cs->tls != NULL) {
        return true;
    }
    a->tls_cfg.file = a->cur_file;
    if (tsc_tls_conn_new(&cs->tls, &a->tls_cfg, c->id) != TSC_OK) {
        struct tsc_where w = {a->cur_file, pkt, c->id, dir, -1};
        tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "out of memory: TLS state not created");
        return false;
    }
    if (!c->saw_syn) {
        tsc_tls_conn_set_midstream(cs->tls);
    }
    return true;
}

/* ---- connections holding records for late keys (followed key logs) ---- */

static void hold_list_add(struct tsc_analyzer *a, struct conn_state *cs)
{
    if (cs->on_hold || !tsc_tls_conn_holding(cs->tls)) {
        return;
    }
    cs->on_hold = true;
    cs->hold_prev = NULL;
    cs->hold_next = a->hold_list;
    if (a->hold_list != NULL) {
        a->hold_list->hold_prev = cs;
    }
    a->hold_list = cs;
}

static void hold_list_del(struct tsc_analyzer *a, struct conn_state *cs)
{
    if (!cs->on_hold) {
        return;
    }
    if (cs->hold_prev != NULL) {
        cs->hold_prev->hold_next = cs->hold_next;
    } else {
        a->hold_list = cs->hold_next;
    }
    if (cs->hold_next != NULL) {
        cs->hold_next->hold_prev = cs->hold_prev;
    }
    cs->on_hold = false;
    cs->hold_prev = cs->hold_next = NULL;
}

/* Read what the followed key logs gained; returns the new entries. */
static uint64_t follow_poll(struct tsc_analyzer *a)
{
    uint64_t total = 0;
    for (int i = 0; i < a->n_follow; i++) {
        uint64_t added = 0;
        if (tsc_keylog_follow_poll(a->follow[i], &added) == TSC_OK) {
            total += added;
        }
    }
    return total;
}

/*
 * Held connections: with new keys (keys_added), retry each; one that waited
 * longer than the hold timeout (capture time `now`) gives up, or every one
 * with force.
 */
static void hold_sweep(struct tsc_analyzer *a, bool keys_added, struct tsc_ts now, bool force)
{
    struct conn_state *cs = a->hold_list;
    /* Each pass moves to the next listed connection: bounded by the list. */
    while (cs != NULL) {
        struct conn_state *next = cs->hold_next;
        struct tsc_ts since = tsc_tls_conn_held_since(cs->tls);
        bool late = force || now.sec - since.sec > (int64_t)a->hold.timeout_s;
        a->cur = cs;
        if (keys_added) {
            (void)tsc_tls_conn_retry_keys(cs->tls, false);
        }
        if (late && tsc_tls_conn_holding(cs->tls)) {
            (void)tsc_tls_conn_retry_keys(cs->tls, true);
        }
        a->cur = NULL;
        if (!tsc_tls_conn_holding(cs->tls)) {
            hold_list_del(a, cs);
        }
        cs = next;
    }
}

/* In-order bytes for the TLS layer; a ClientHello from the presumed server swaps the roles. */
static void tls_feed(struct tsc_analyzer *a, struct conn_state *cs, struct tsc_tcp_conn *c,
                     int dir, const uint8_t *p, size_t n, uint64_t pkt, struct tsc_ts ts)
{
    bool swap = false;
    if (n == 0) {
        return;
    }
    tsc_tls_conn_data(cs->tls, dir, p, n, pkt, ts, &swap);
    if (swap && tsc_tcp_conn_swap_roles(a->tcp, c)) {
        tsc_prelude_swap(&cs->pre);
        tsc_tls_conn_data(cs->tls, 1 - dir, p, n, pkt, ts, NULL);
    } else if (swap) {
        tsc_tls_conn_data(cs->tls, dir, p, n, pkt, ts, NULL);
    }
}

/* Prelude summaries whose outcome became final: written and counted. */
static void prelude_events(struct tsc_analyzer *a, struct conn_state *cs, uint64_t pkt,
                           struct tsc_ts ts)
{
    enum tsc_prelude_event kind;
    const struct tsc_prelude_facts *f = tsc_prelude_facts(&cs->pre);
    while (tsc_prelude_next_event(&cs->pre, &kind)) {
        bool tunnel = kind == TSC_PRELUDE_EV_TUNNEL;
        unsigned idx = tunnel ? f->tunnel_index : f->starttls_index;
        uint8_t outcome = tunnel ? f->tunnel_outcome : f->starttls_outcome;
        if (idx < TSC_PRE__COUNT) {
            a->st.prelude_seen[idx]++;
            a->st.prelude_upgraded[idx] += outcome == TSC_PRELUDE_UPGRADED;
        }
        tsc_writer_prelude(a->writer, &cs->out, kind, pkt, ts);
    }
}

/* Apply a prelude step: prefix bytes, then the bytes that go on to the TLS layer. */
static void prelude_step(struct tsc_analyzer *a, struct conn_state *cs, struct tsc_tcp_conn *c,
                         int dir, const struct tsc_prelude_step *st, const uint8_t *p,
                         size_t n, uint64_t pkt, struct tsc_ts ts)
{
    if (st->prelude_bytes > 0) {
        tsc_tls_conn_prefix(cs->tls, dir, st->prelude_bytes);
    }
    prelude_events(a, cs, pkt, ts);
    tls_feed(a, cs, c, dir, st->held.p, st->held.len, pkt, ts);
    if (st->pass_from < n) {
        tls_feed(a, cs, c, dir, p + st->pass_from, n - st->pass_from, pkt, ts);
    }
}

static void tcp_data(void *ud, struct tsc_tcp_conn *c, int dir, const uint8_t *p, size_t n,
                     uint64_t pkt, struct tsc_ts ts)
{
    struct tsc_analyzer *a = ud;
    struct conn_state *cs = conn_state_get(a, c, dir, pkt);
    if (cs == NULL || !conn_tls(a, cs, c, dir, pkt)) {
        return;
    }
    a->cur = cs;
    if (tsc_prelude_passing(&cs->pre, dir)) {
        tls_feed(a, cs, c, dir, p, n, pkt, ts);
    } else {
        struct tsc_prelude_step st;
        tsc_prelude_data(&cs->pre, dir, p, n, pkt, ts, &st);
        prelude_step(a, cs, c, dir, &st, p, n, pkt, ts);
    }
    a->cur = NULL;
    hold_list_add(a, cs);
}

static void tcp_gap(void *ud, struct tsc_tcp_conn *c, int dir, uint64_t len, uint64_t pkt,
                    struct tsc_ts ts)
{
    struct tsc_analyzer *a = ud;
    /* A gap before any byte still creates the state: the direction is picked up midstream. */
    struct conn_state *cs = conn_state_get(a, c, dir, pkt);
    if (cs == NULL || !conn_tls(a, cs, c, dir, pkt)) {
        return;
    }
    a->cur = cs;
    tsc_writer_gap(a->writer, &cs->out, dir, len, pkt, ts);
    ladder_ev(a, dir, TSC_REV_GAP, 0, 0, len, pkt, ts);
    if (!tsc_prelude_passing(&cs->pre, dir)) {
        struct tsc_prelude_step st;
        tsc_prelude_gap(&cs->pre, dir, pkt, ts, &st);
        prelude_step(a, cs, c, dir, &st, NULL, 0, pkt, ts);
    }
    tsc_datadir_hole(a->datadir, &cs->dd, dir, TSC_DD_TCP_GAP, len, pkt);
    tsc_tls_conn_gap(cs->tls, dir, len, pkt, ts);
    a->cur = NULL;
}

/* A direction ended: what the prelude still holds goes on, then the TLS layer's end. */
static void conn_dir_end(struct tsc_analyzer *a, struct conn_state *cs, struct tsc_tcp_conn *c,
                         int dir)
{
    struct tsc_prelude_step st;
    tsc_prelude_end(&cs->pre, dir, &st);
    prelude_step(a, cs, c, dir, &st, NULL, 0, cs->pre.pkt, cs->pre.ts);
    tsc_tls_conn_end(cs->tls, dir);
}

static void tcp_end(void *ud, struct tsc_tcp_conn *c, int dir, enum tsc_tcp_end_reason why)
{
    struct tsc_analyzer *a = ud;
    struct conn_state *cs = c->user;
    (void)why;
    if (cs == NULL || cs->tls == NULL) {
        return;
    }
    a->cur = cs;
    conn_dir_end(a, cs, c, dir);
    a->cur = NULL;
}

/* A connection per negotiated suite; a worker counts in the dispatcher's shared table. */
static void count_suite(struct tsc_analyzer *a, uint16_t suite)
{
    if (a->parent != NULL) {
        atomic_fetch_add_explicit(&a->parent->suite_shared[suite], 1, memory_order_relaxed);
    } else {
        a->suite_counts[suite]++;
    }
}

/* --verify: the connection's verdict, written after its summary and counted. */
static void conn_verdict(struct tsc_analyzer *a, struct conn_state *cs,
                         const struct tsc_tls_facts *f)
{
    const struct tsc_verify_facts *vf = tsc_tls_conn_verify(cs->tls);
    if (vf == NULL) {
        return;
    }
    struct tsc_verdict vd;
    struct tsc_verdict_in in = {f, vf, cs->out.tcp->stats, cs->out.tcp->saw_syn,
                                a->trust != NULL};
    tsc_verdict_compute(&in, &vd);
    tsc_vsum_add(&a->vsum, cs->out.tcp->id, f, &vd);
    tsc_writer_verdict(a->writer, &cs->out, f, vf, &vd);
    if (a->report != NULL) {
        tsc_report_connection(a->report, cs->ladder, cs->out.tcp, f, vf, &vd);
    }
}

static void tcp_close(void *ud, struct tsc_tcp_conn *c, enum tsc_tcp_end_reason why)
{
    struct tsc_analyzer *a = ud;
    struct conn_state *cs = c->user;
    if (cs == NULL) {
        return;
    }
    if (cs->tls != NULL) {
        a->cur = cs;
        if (cs->on_hold) {
            /* A last look for its keys (the key log may have them since the
             * last poll), then whatever still waits goes through without. */
            (void)follow_poll(a);
            (void)tsc_tls_conn_retry_keys(cs->tls, false);
            hold_list_del(a, cs);
        }
        /* Directions that never ended cleanly still get their end (reports
         * a record or message cut short). */
        conn_dir_end(a, cs, c, TSC_DIR_C2S);
        conn_dir_end(a, cs, c, TSC_DIR_S2C);
        tsc_prelude_close(&cs->pre);
        prelude_events(a, cs, cs->pre.pkt, c->last_ts);
        tsc_tls_conn_close(cs->tls);
        const struct tsc_tls_facts *f = tsc_tls_conn_facts(cs->tls);
        if (f->is_tls) {
            a->st.tls_connections++;
            a->st.versions[tsc_version_bucket(f->version)]++;
            if (f->cipher_suite >= 0 && f->cipher_suite <= 0xffff) {
                count_suite(a, (uint16_t)f->cipher_suite);
            }
            if (f->malformed) {
                a->st.malformed_connections++;
            }
            if (f->dir[0].heartbleed || f->dir[1].heartbleed) {
                a->st.heartbleed_connections++;
            }
            if (f->partial) {
                a->st.partial_connections++;
            }
            if (f->dec.decrypted) {
                a->st.decrypted_connections++;
            }
            if (f->resumed) {
                a->st.resumed_connections++;
                a->st.resumed_linked += f->have_resumed_from ? 1 : 0;
            }
            a->st.bad_records += f->dec.bad_records;
            tsc_writer_connection(a->writer, &cs->out, f, why);
            if (a->cfg.verify) {
                conn_verdict(a, cs, f);
            }
        }
        tsc_datadir_conn_end(a->datadir, &cs->dd, c, f);
        a->cur = NULL;
        tsc_tls_conn_free(cs->tls);
    }
    tsc_prelude_free(&cs->pre);
    c->user = NULL;
    tsc_report_conn_free(cs->ladder);
    free(cs);
}

/* ---- key material ---- */

static bool hash_file(const char *path, uint8_t out[32], int64_t *size);

static void keyfile_add(struct tsc_analyzer *a, const char *path, const char *kind)
{
    if (a->n_keyfiles >= TSC_MAX_KEYFILES) {
        return;
    }
    struct tsc_run_keyfile *kf = &a->keyfiles[a->n_keyfiles++];
    int64_t size = 0;
    kf->file = path;
    kf->kind = kind;
    kf->have_sha256 = hash_file(path, kf->sha256, &size);
}

/*
 * A key log followed while it grows (live): what it holds now is read at
 * once, the rest as it comes. Listed in the run record without a hash (the
 * file changes).
 */
static int follow_add(struct tsc_analyzer *a, const char *path, const char *kind)
{
    if (a->n_follow >= TSC_MAX_FOLLOW || a->n_keyfiles >= TSC_MAX_KEYFILES) {
        return -1;
    }
    struct tsc_keylog_follow *f = NULL;
    if (tsc_keylog_follow_new(&f, a->keys, path) != TSC_OK) {
        return -1;
    }
    a->follow[a->n_follow++] = f;
    uint64_t added = 0;
    (void)!tsc_keylog_follow_poll(f, &added);
    struct tsc_run_keyfile *kf = &a->keyfiles[a->n_keyfiles++];
    kf->file = path;
    kf->kind = kind;
    kf->have_sha256 = false;
    return 0;
}

/* The last diagnostic kept while loading keys, for the error message. */
static const char *last_pending(const struct tsc_analyzer *a)
{
    return a->n_pending > 0 ? a->pending[a->n_pending - 1].msg : "";
}

/*
 * Loads -k, -l, $SSLKEYLOGFILE and --psk into one struct tsc_keys. A file that
 * cannot be loaded at all fails the analyzer (exit status 3 in the CLI); bad
 * lines inside a key log are diagnostics from the keys module.
 */
static int load_keys(struct tsc_analyzer *a, char *errbuf, size_t errlen)
{
    const struct tsc_config *cfg = &a->cfg;
    const char *env = NULL;
    if (cfg->env_keylog) {
        env = getenv("SSLKEYLOGFILE");
        if (env != NULL && (env[0] == '\0' || (!cfg->follow_keylogs && access(env, R_OK) != 0))) {
            env = NULL; /* set but not readable: ignored, as the variable is advisory */
        }
        if (env != NULL) {
            snprintf(a->env_keylog, sizeof(a->env_keylog), "%s", env);
            env = a->env_keylog;
        }
    }
    if (cfg->n_rsa_key_files == 0 && cfg->n_keylog_files == 0 && cfg->psk == NULL &&
        env == NULL) {
        return 0;
    }
    if (cfg->n_rsa_key_files + cfg->n_keylog_files + 1 > TSC_MAX_KEYFILES) {
        snprintf(errbuf, errlen, "at most %d key files", TSC_MAX_KEYFILES - 1);
        return -1;
    }
    if (tsc_keys_new(&a->keys, &a->sink) != TSC_OK) {
        snprintf(errbuf, errlen, "out of memory loading key material");
        return -1;
    }
    for (int i = 0; i < cfg->n_rsa_key_files; i++) {
        const char *path = cfg->rsa_key_files[i];
        enum tsc_err e = tsc_keys_load_rsa_file(a->keys, path, cfg->key_password);
        if (e != TSC_OK) {
            const char *why = last_pending(a);
            if (why[0] != '\0') {
                snprintf(errbuf, errlen, "cannot load RSA key file: %s", why);
            } else {
                snprintf(errbuf, errlen, "cannot load RSA key file %s: %s", path, tsc_err_name(e));
            }
            return -1;
        }
        keyfile_add(a, path, "rsa");
    }
    if (cfg->follow_keylogs) {
        for (int i = 0; i <= cfg->n_keylog_files; i++) {
            const char *path = i < cfg->n_keylog_files ? cfg->keylog_files[i] : env;
            if (path != NULL && follow_add(a, path, i < cfg->n_keylog_files ? "keylog"
                                                                              : "keylog-env") != 0) {
                snprintf(errbuf, errlen, "out of memory following key log %s", path);
                return -1;
            }
        }
        env = NULL;
    }
    for (int i = 0; i < cfg->n_keylog_files && !cfg->follow_keylogs; i++) {
        const char *path = cfg->keylog_files[i];
        enum tsc_err e = tsc_keys_load_keylog_file(a->keys, path);
        if (e != TSC_OK) {
            const char *why = last_pending(a);
            if (why[0] != '\0') {
                snprintf(errbuf, errlen, "cannot load key log: %s", why);
            } else {
                snprintf(errbuf, errlen, "cannot load key log %s: %s", path, tsc_err_name(e));
            }
            return -1;
        }
        keyfile_add(a, path, "keylog");
    }
    if (env != NULL) {
        if (tsc_keys_load_keylog_file(a->keys, env) == TSC_OK) {
            keyfile_add(a, env, "keylog-env");
        } else {
            struct tsc_where w = {env, 0, TSC_NO_CONN, -1, -1};
            tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "SSLKEYLOGFILE not loaded");
        }
    }
    tsc_keys_set_trial_max(a->keys, cfg->trial_max);
    if (cfg->psk != NULL &&
        tsc_keys_add_psk(a->keys, cfg->psk, cfg->psk_len, cfg->psk_identity) != TSC_OK) {
        snprintf(errbuf, errlen, "pre-shared key not accepted (%zu bytes)", cfg->psk_len);
        return -1;
    }
    return 0;
}

/* Is argv[i] an option whose value is a secret (-p PASSWORD, --psk HEX)? */
static bool secret_option(const char *arg, bool *value_follows)
{
    *value_follows = strcmp(arg, "-p") == 0 || strcmp(arg, "--psk") == 0;
    if (*value_follows) {
        return true;
    }
    return (strncmp(arg, "-p", 2) == 0 && arg[1] != '-') || strncmp(arg, "--psk=", 6) == 0;
}

/* The argv echoed in the run record: passwords and PSKs replaced by "(secret)". */
static int mask_argv(struct tsc_analyzer *a)
{
    if (a->cfg.argc <= 0 || a->cfg.argv == NULL) {
        return 0;
    }
    a->argv_shown = calloc((size_t)a->cfg.argc + 1, sizeof(char *));
    if (a->argv_shown == NULL) {
        return -1;
    }
    snprintf(a->masked, sizeof(a->masked), "(secret)");
    bool options = true;
    for (int i = 0; i < a->cfg.argc; i++) {
        const char *arg = a->cfg.argv[i];
        bool follows = false;
        if (arg != NULL && strcmp(arg, "--") == 0) {
            options = false;
        }
        if (i > 0 && options && arg != NULL && secret_option(arg, &follows)) {
            a->argv_shown[i] = follows ? a->cfg.argv[i] : a->masked;
            if (follows && i + 1 < a->cfg.argc) {
                a->argv_shown[++i] = a->masked;
            }
            continue;
        }
        a->argv_shown[i] = a->cfg.argv[i];
    }
    a->cfg.argv = a->argv_shown;
    return 0;
}

static struct tsc_run_info run_info(struct tsc_analyzer *a)
{
    struct tsc_run_info info;
    memset(&info, 0, sizeof(info));
    info.cfg = &a->cfg;
    info.keyfiles = a->keyfiles;
    info.n_keyfiles = a->n_keyfiles;
    info.psk = a->cfg.psk != NULL;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    info.start_wall.sec = wall.tv_sec;
    info.start_wall.nsec = (uint32_t)wall.tv_nsec;
    return info;
}

/* ---- memory budget (--max-memory) ---- */

/*
 * Bytes allocated from the C heap now: glibc mallinfo2 (in-use chunks and
 * mmapped blocks), or the sanitizer allocator's count in ASan builds, whose
 * allocations glibc never sees.
 */
static uint64_t heap_in_use(void)
{
#if defined(TSC_ASAN_HEAP)
    return (uint64_t)__sanitizer_get_current_allocated_bytes();
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
#else
    return 0;
#endif
}


#define TSC_MIN_MEMORY (16ull << 20)
#define TSC_FLOW_BUFFER_ALLOWANCE 2048u /* partial record / message buffers of a typical flow */

/*
 * Split of --max-memory B (docs/usage.md): the live capture ring takes
 * min(32 MiB, B/8) off the top (a --buffer-size given explicitly comes on
 * top of B instead); of the
 * rest (the heap budget H): 25% out-of-order reassembly bytes, 40% flows (at
 * their fixed cost: TCP flow, TLS dissector state, crypto session when there
 * are keys, a small buffer allowance), 5% records held for late keys, 5%
 * certificate summaries, 5% resumption cache, 20% headroom (buffers of flows
 * in the middle of a record or message, output, libcrypto). Caps given
 * explicitly on the command line win. The heap is also checked (every 200 ms)
 * and the oldest flows are evicted while it is above H.
 */
static void apply_memory_budget(struct tsc_analyzer *a, const struct tsc_config *cfg,
                                struct tsc_tcp_config *tc)
{
    uint64_t b = a->cfg.max_memory;
    uint64_t ring = 0;
    if (a->cfg.buffer_size == 0) {
        ring = b / 8 < (uint64_t)TSC_LIVE_BUFFER_DEFAULT ? b / 8 : TSC_LIVE_BUFFER_DEFAULT;
        a->cfg.buffer_size = (int)ring;
    } /* else: a --buffer-size given explicitly comes on top of the budget */
    uint64_t h = b - ring;
    a->heap_budget = h;
    size_t per_flow = tsc_tcp_flow_bytes() + sizeof(struct conn_state) + tsc_tls_conn_bytes() +
                      TSC_FLOW_BUFFER_ALLOWANCE;
    if (cfg->n_rsa_key_files > 0 || cfg->n_keylog_files > 0 || cfg->psk != NULL ||
        cfg->env_keylog) {
        per_flow += tsc_csess_bytes();
    }
    if (cfg->max_buffered_bytes == 0) {
        tc->max_buffered_bytes = h / 4;
    }
    if (cfg->max_conn_ooo_bytes == 0 && tc->max_conn_ooo_bytes > h / 16) {
        tc->max_conn_ooo_bytes = (uint32_t)(h / 16);
    }
    if (cfg->max_flows == 0) {
        uint64_t n = h * 2 / 5 / per_flow;
        tc->max_flows = (uint32_t)(n < tc->max_flows ? (n > 16 ? n : 16) : tc->max_flows);
    }
    if (cfg->cert_cache_entries == 0) {
        uint64_t n = h / 20 / tsc_x509_entry_bytes();
        a->cfg.cert_cache_entries = (uint32_t)(n < 4096 ? (n > 16 ? n : 16) : 4096);
    }
    a->hold.max_bytes = h / 20;
}

/* The resumption cache within its 5% (its entry size is known once made). */
static enum tsc_err budget_session_cache(struct tsc_analyzer *a, const struct tsc_config *cfg)
{
    if (a->cfg.max_memory == 0 || a->sessions == NULL || cfg->session_cache_entries != 0) {
        return TSC_OK;
    }
    struct tsc_sess_cache_stats ss;
    tsc_sess_cache_get_stats(a->sessions, &ss);
    uint64_t share = a->heap_budget / 20;
    if (ss.memory_bytes <= share || ss.capacity == 0) {
        return TSC_OK;
    }
    uint64_t per = ss.memory_bytes / ss.capacity + 1;
    uint64_t n = share / per;
    a->cfg.session_cache_entries = (uint32_t)(n > 16 ? n : 16);
    tsc_sess_cache_free(a->sessions);
    a->sessions = NULL;
    return tsc_sess_cache_new(&a->sessions, a->cfg.session_cache_entries);
}

/* Hold the heap to the budget: oldest flows out while it is above (bounded per check). */
static void memory_check(struct tsc_analyzer *a)
{
    if (a->heap_budget == 0) {
        return;
    }
    double t = now_s();
    /* Workers check four times as often: each sees only its share of the
     * flows, and data waits in the rings before it reaches them. */
    if (t - a->last_memory_check < (a->parent != NULL ? 0.05 : 0.2)) {
        return;
    }
    a->last_memory_check = t;
    uint64_t heap = heap_in_use();
    /* Batches of 64, measured again after each: at most 4096 evictions per check. */
    for (int round = 0; round < 64 && heap > a->heap_budget; round++) {
        int n = 0;
        while (n < 64 && tsc_tcp_evict_oldest(a->tcp, "memory budget (--max-memory)")) {
            n++;
        }
        a->memory_evictions += (uint64_t)n;
        if (n < 64) {
            break;
        }
        heap = heap_in_use();
    }
}

/* ---- lifecycle ---- */

/* --verify: certificate cache, trust anchors (--ca-file / --ca-path), verdict totals. */
static int verify_setup(struct tsc_analyzer *a, char *errbuf, size_t errlen)
{
    if (tsc_vcert_cache_new(&a->vcerts, 0) != TSC_OK || tsc_vsum_init(&a->vsum) != 0) {
        snprintf(errbuf, errlen, "out of memory creating the verification state");
        return -1;
    }
    if ((a->cfg.ca_file != NULL || a->cfg.ca_path != NULL) &&
        tsc_trust_new(&a->trust, a->cfg.ca_file, a->cfg.ca_path, errbuf, errlen) != 0) {
        return -1;
    }
    if (a->cfg.report_file != NULL &&
        tsc_report_open(&a->report, a->cfg.report_file, errbuf, errlen) != 0) {
        return -1;
    }
    a->vcfg.certs = a->vcerts;
    a->vcfg.trust = a->trust;
    a->tls_cfg.verify = &a->vcfg;
    return 0;
}

/* --report: overview, sections and header go out once every connection is closed. */
static void finish_report(struct tsc_analyzer *a)
{
    if (a->report == NULL) {
        return;
    }
    if (tsc_report_close(a->report, &a->st) != 0) {
        struct tsc_where w = {a->cfg.report_file, 0, TSC_NO_CONN, -1, -1};
        tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "report not completely written");
        a->report_failed = true;
    }
    tsc_report_free(a->report);
    a->report = NULL;
}

int tsc_analyzer_verify_status(const struct tsc_analyzer *a)
{
    if (a->report_failed) {
        return 3;
    }
    return a->vsum.counts[TSC_VERDICT_FAILED] + a->vsum.counts[TSC_VERDICT_INCOMPLETE] > 0 ? 1 : 0;
}

int tsc_analyzer_new(struct tsc_analyzer **out, const struct tsc_config *cfg, char *errbuf,
                     size_t errlen)
{
    struct tsc_analyzer *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    a->cfg = *cfg;
    if (a->cfg.out == NULL) {
        a->cfg.out = stdout;
    }
    struct tsc_tcp_config tc;
    tsc_tcp_config_default(&tc);
    if (cfg->max_flows != 0) {
        tc.max_flows = cfg->max_flows;
    }
    if (cfg->max_buffered_bytes != 0) {
        tc.max_buffered_bytes = cfg->max_buffered_bytes;
    }
    if (cfg->max_conn_ooo_bytes != 0) {
        tc.max_conn_ooo_bytes = cfg->max_conn_ooo_bytes;
    }
    if (cfg->idle_timeout_s != 0) {
        tc.idle_timeout_s = cfg->idle_timeout_s;
    }
    if (a->cfg.max_memory != 0) {
        if (a->cfg.max_memory < TSC_MIN_MEMORY) {
            snprintf(errbuf, errlen, "--max-memory: at least %llu bytes (16 MiB)",
                     (unsigned long long)TSC_MIN_MEMORY);
            free(a);
            return -1;
        }
        apply_memory_budget(a, cfg, &tc);
    }
    a->tcp_cfg = tc;
    /* Echo the limits actually in force into the run record. */
    a->cfg.max_flows = tc.max_flows;
    a->cfg.max_buffered_bytes = tc.max_buffered_bytes;
    a->cfg.max_conn_ooo_bytes = tc.max_conn_ooo_bytes;
    a->cfg.idle_timeout_s = tc.idle_timeout_s;

    tsc_tls_config_default(&a->tls_cfg);
    tsc_prelude_config_default(&a->pre_cfg);
    if (cfg->max_handshake_msg != 0) {
        a->tls_cfg.max_handshake_msg = cfg->max_handshake_msg;
    }
    a->cfg.max_handshake_msg = a->tls_cfg.max_handshake_msg;
    if (a->cfg.cert_cache_entries == 0) {
        a->cfg.cert_cache_entries = 4096;
    }
    if (a->cfg.session_cache_entries == 0) {
        a->cfg.session_cache_entries = TSC_SESS_CACHE_DEFAULT;
    }
    if (a->cfg.session_cache_entries > TSC_SESS_CACHE_MAX) {
        snprintf(errbuf, errlen, "session cache: at most %u entries", TSC_SESS_CACHE_MAX);
        free(a);
        return -1;
    }

    a->sink.emit = on_diag;
    a->sink.ud = a;
    /* Fetch the algorithms (loading OpenSSL's providers) now, before the input
     * hashing thread runs: a provider load on the analysis thread while that
     * thread digests made its EVP_DigestInit fail now and then. */
    (void)tsc_alg_md(TSC_MD_SHA256);
    a->suite_counts = calloc(65536, sizeof(uint64_t));
    struct tsc_net_config nc = {0, 0, 0};
    struct tsc_tcp_callbacks cb = {tcp_open, tcp_data, tcp_gap, tcp_end, tcp_close, a};
    if (a->suite_counts == NULL || tsc_writer_new(&a->writer, &a->cfg) != 0 ||
        tsc_net_new(&a->net, &nc, &a->sink) != TSC_OK ||
        tsc_tcp_table_new(&a->tcp, &tc, &cb, &a->sink) != TSC_OK ||
        tsc_x509_cache_new(&a->certs, a->cfg.cert_cache_entries) != TSC_OK ||
        (!a->cfg.no_session_cache &&
         tsc_sess_cache_new(&a->sessions, a->cfg.session_cache_entries) != TSC_OK) ||
        tsc_fp_ctx_new(&a->fp) != TSC_OK) {
        snprintf(errbuf, errlen, "out of memory creating the analyzer");
        tsc_analyzer_free(a);
        return -1;
    }
    if (budget_session_cache(a, cfg) != TSC_OK || mask_argv(a) != 0) {
        snprintf(errbuf, errlen, "out of memory creating the analyzer");
        tsc_analyzer_free(a);
        return -1;
    }
    if (load_keys(a, errbuf, errlen) != 0) {
        tsc_analyzer_free(a);
        return -1;
    }
    if (cfg->export_keylog != NULL &&
        tsc_keylog_out_open(&a->keylog_out, cfg->export_keylog, errbuf, errlen) != TSC_OK) {
        tsc_analyzer_free(a);
        return -1;
    }
    if (a->cfg.verify && verify_setup(a, errbuf, errlen) != 0) {
        tsc_analyzer_free(a);
        return -1;
    }
    if (cfg->data_dir != NULL &&
        tsc_datadir_open(&a->datadir, cfg->data_dir, errbuf, errlen) != TSC_OK) {
        tsc_analyzer_free(a);
        return -1;
    }
    if (cfg->write_pcapng != NULL &&
        (tsc_pcapng_out_open(&a->pcapng_out, cfg->write_pcapng, errbuf, errlen) != TSC_OK ||
         tsc_keylog_out_open_temp(&a->pcapng_secrets) != TSC_OK)) {
        if (a->pcapng_out != NULL) {
            snprintf(errbuf, errlen, "no temporary file for the secrets of -w");
        }
        tsc_analyzer_free(a);
        return -1;
    }
    if (a->n_follow > 0) {
        /* A followed key log grows for as long as the run: its index keeps the
         * newest one or two generations (8 x 101 bytes an entry at worst). */
        uint64_t gen = TSC_KEYLOG_GEN_DEFAULT;
        if (a->heap_budget > 0) {
            gen = a->heap_budget / 20 / (8 * 101);
            gen = gen < 1024 ? 1024 : gen;
        }
        tsc_keys_keylog_bound(a->keys, gen);
        if (a->hold.max_bytes == 0) {
            a->hold.max_bytes = TSC_HOLD_BYTES_DEFAULT;
        }
        a->hold.max_conn_bytes = TSC_HOLD_CONN_BYTES;
        a->hold.timeout_s = TSC_HOLD_TIMEOUT_S;
        a->tls_cfg.hold = &a->hold;
    }
    a->tls_cfg.keys = a->keys;
    a->tls_cfg.certs = a->certs;
    a->tls_cfg.sessions = a->sessions;
    a->tls_cfg.fp = a->fp;
    a->tls_cfg.sink = &a->sink;
    a->pre_cfg.sink = &a->sink;
    a->tls_cfg.events.on_record = ev_record;
    a->tls_cfg.events.on_handshake = ev_handshake;
    a->tls_cfg.events.on_alert = ev_alert;
    a->tls_cfg.events.on_ccs = ev_ccs;
    a->tls_cfg.events.on_heartbeat = ev_heartbeat;
    a->tls_cfg.events.on_app_data = ev_app_data;
    if (a->keylog_out != NULL || a->pcapng_secrets != NULL) {
        a->tls_cfg.events.on_secrets = ev_secrets;
    }
    a->tls_cfg.events.ud = a;
    a->next_pkt = 1;
    clock_gettime(CLOCK_MONOTONIC, &a->t0);
    *out = a;
    return 0;
}

static void workers_free(struct tsc_analyzer *a);

void tsc_analyzer_stop(struct tsc_analyzer *a)
{
    a->stop = 1;
    if (a->live != NULL) {
        tsc_capture_breakloop(a->live);
    }
}

void tsc_analyzer_reopen_output(struct tsc_analyzer *a)
{
    a->reopen = 1;
}

void tsc_analyzer_free(struct tsc_analyzer *a)
{
    if (a == NULL) {
        return;
    }
    workers_free(a);
    /* The TCP table closes open flows through our callbacks: writer and
     * certificate cache must still exist then. */
    tsc_tcp_table_free(a->tcp);
    a->tcp = NULL;
    for (int i = 0; i < a->n_follow; i++) {
        tsc_keylog_follow_free(a->follow[i]);
    }
    tsc_csess_pool_drain(); /* recycled crypto sessions of this thread */
    tsc_net_free(a->net);
    tsc_x509_cache_free(a->certs);
    tsc_sess_cache_free(a->sessions);
    (void)tsc_keylog_out_close(a->keylog_out);
    tsc_vcert_cache_free(a->vcerts);
    tsc_trust_free(a->trust);
    tsc_vsum_free(&a->vsum);
    tsc_report_free(a->report);
    tsc_fp_ctx_free(a->fp);
    (void)tsc_keylog_out_close(a->pcapng_secrets);
    (void)tsc_pcapng_out_close(a->pcapng_out);
    tsc_datadir_close(a->datadir);
    tsc_writer_free(a->writer);
    tsc_keys_free(a->keys);
    free(a->pending);
    free(a->argv_shown);
    free(a->suite_counts);
    free(a);
}

/* ---- input ---- */

static bool hash_file(const char *path, uint8_t out[32], int64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return false;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    uint8_t buf[1 << 16];
    size_t n;
    int64_t total = 0;
    while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
        ok = EVP_DigestUpdate(ctx, buf, n) == 1;
        total += (int64_t)n;
    }
    if (ferror(f)) {
        ok = false;
    }
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32;
    EVP_MD_CTX_free(ctx);
    fclose(f);
    *size = total;
    return ok;
}

static enum tsc_err dsb_piece(void *ud, const uint8_t *p, size_t n)
{
    return tsc_pcapng_out_dsb(ud, p, n);
}

/*
 * -w: every secret the run confirmed goes into Decryption Secrets Blocks
 * (at most 1 MiB of key log text each) right after the Section Header, then
 * the inputs are read again and every packet (the -r filter applied) is
 * copied. So the secrets precede every packet they decrypt, and nothing is
 * held in memory but one block. Standard input cannot be read twice.
 */
static void write_pcapng(struct tsc_analyzer *a, const char *const *paths, int n)
{
    if (a->pcapng_out == NULL) {
        return;
    }
    struct tsc_where w = {a->cfg.write_pcapng, 0, TSC_NO_CONN, -1, -1};
    a->st.pcapng_secret_lines = tsc_keylog_out_lines(a->pcapng_secrets);
    if (tsc_keylog_out_replay(a->pcapng_secrets, 1u << 20, dsb_piece, a->pcapng_out) != TSC_OK) {
        tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "secrets not written to the pcapng file");
    }
    struct tsc_diag_sink quiet; /* the inputs' problems were reported by the analysis */
    memset(&quiet, 0, sizeof(quiet));
    for (int i = 0; i < n && !a->stop; i++) {
        char err[256] = "";
        struct tsc_capture *cap = NULL;
        if (strcmp(paths[i], "-") == 0) {
            tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "standard input cannot be read twice: its "
                                                 "packets are not in the pcapng file");
            continue;
        }
        if (tsc_capture_open_file(&cap, paths[i], &quiet, err, sizeof(err)) != TSC_OK) {
            continue; /* reported when the analysis could not open it */
        }
        if (a->cfg.filter != NULL &&
            tsc_capture_set_filter(cap, a->cfg.filter, err, sizeof(err)) != TSC_OK) {
            tsc_capture_close(cap);
            continue;
        }
        for (;;) {
            struct tsc_frame f;
            bool eof = false;
            if (tsc_capture_next(cap, &f, &eof) != TSC_OK || eof) {
                break;
            }
            if (f.data != NULL && tsc_pcapng_out_packet(a->pcapng_out, &f) != TSC_OK) {
                tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "packet %" PRIu64 " of %s not written",
                         f.num, paths[i]);
                break;
            }
        }
        tsc_capture_close(cap);
    }
    a->st.pcapng_packets_written = tsc_pcapng_out_packets(a->pcapng_out);
    if (tsc_pcapng_out_close(a->pcapng_out) != TSC_OK) {
        tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "pcapng file incomplete: write failed");
    }
    a->pcapng_out = NULL;
    (void)tsc_keylog_out_close(a->pcapng_secrets);
    a->pcapng_secrets = NULL;
}

/* End of the run: export files complete (write errors are diagnostics). */
static void close_exports(struct tsc_analyzer *a)
{
    if (a->keylog_out != NULL) {
        a->st.keylog_lines_exported = tsc_keylog_out_lines(a->keylog_out);
        if (tsc_keylog_out_close(a->keylog_out) != TSC_OK) {
            struct tsc_where w = {a->cfg.export_keylog, 0, TSC_NO_CONN, -1, -1};
            tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "exported key log incomplete: write failed");
        }
        a->keylog_out = NULL;
    }
    if (a->datadir != NULL) {
        struct tsc_datadir_stats ds;
        tsc_datadir_get_stats(a->datadir, &ds);
        a->st.data_files = ds.files;
        a->st.data_bytes = ds.bytes;
        a->st.data_holes = ds.holes;
        if (ds.write_errors > 0) {
            struct tsc_where w = {a->cfg.data_dir, 0, TSC_NO_CONN, -1, -1};
            tsc_diag(&a->sink, TSC_DIAG_RUN, &w,
                     "%" PRIu64 " writes to the data directory failed: files incomplete",
                     ds.write_errors);
        }
    }
}

/* Resident set size from /proc/self/statm (Linux), 0 when unknown. */
static uint64_t rss_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) {
        return 0;
    }
    unsigned long long size = 0, resident = 0;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return n == 2 && page > 0 ? (uint64_t)resident * (uint64_t)page : 0;
}

/* What the run's caps account for: flow table, out-of-order bytes, caches. */
static uint64_t accounted_bytes(const struct tsc_analyzer *a, const struct tsc_x509_stats *xs)
{
    uint64_t per_conn = sizeof(struct conn_state) + tsc_tls_conn_bytes() +
                        (a->keys != NULL ? tsc_csess_bytes() : 0);
    return a->st.tcp.memory_bytes + a->st.tcp.open_flows * per_conn + a->hold.bytes +
           xs->memory_bytes + (a->st.have_sessions ? a->st.sessions.memory_bytes : 0) +
           a->st.vcerts.memory_bytes + a->st.chains.memory_bytes;
}

/* The certificate cache's counters into a->st (xs: the whole record, for accounting). */
static void cert_stats(struct tsc_analyzer *a, struct tsc_x509_stats *xs)
{
    tsc_x509_get_stats(a->certs, xs);
    a->st.cert_lookups = xs->lookups;
    a->st.cert_hits = xs->hits;
    a->st.cert_evictions = xs->evictions;
}

static void fill_stats(struct tsc_analyzer *a, bool final)
{
    tsc_net_get_stats(a->net, &a->st.net);
    tsc_tcp_get_stats(a->tcp, &a->st.tcp);
    struct tsc_x509_stats xs;
    cert_stats(a, &xs);
    a->st.have_verify = a->vcerts != NULL;
    tsc_vcert_cache_stats(a->vcerts, &a->st.vcerts);
    a->st.have_chains = a->trust != NULL;
    tsc_trust_stats(a->trust, &a->st.chains);
    a->st.pending_records_dropped = a->hold.dropped_records;
    a->st.have_follow = a->n_follow > 0;
    a->st.follow_files = (uint32_t)a->n_follow;
    a->st.follow_lines = a->st.follow_entries = a->st.follow_truncations = 0;
    a->st.follow_reopens = 0;
    for (int i = 0; i < a->n_follow; i++) {
        struct tsc_keylog_follow_stats fs;
        tsc_keylog_follow_get_stats(a->follow[i], &fs);
        a->st.follow_lines += fs.lines;
        a->st.follow_entries += fs.entries_added;
        a->st.follow_truncations += fs.truncations;
        a->st.follow_reopens += fs.reopens;
    }
    a->st.held_records = a->hold.held_records;
    if (a->n_follow > 0) {
        struct tsc_keys_stats ks;
        tsc_keys_get_stats(a->keys, &ks);
        a->st.follow_index_entries = ks.keylog_entries;
        a->st.follow_index_dropped = ks.keylog_dropped;
    }
    a->st.held_bytes_peak = a->hold.peak_bytes;
    a->st.have_sessions = a->sessions != NULL;
    tsc_sess_cache_get_stats(a->sessions, &a->st.sessions);
    struct tsc_keys_stats ks;
    tsc_keys_get_stats(a->keys, &ks);
    a->st.rsa_private_ops = ks.rsa_private_ops;
    memcpy(a->st.trial, ks.trial, sizeof(a->st.trial));
    a->st.suite_counts = a->suite_counts;
    a->st.diag_counts = a->sink.counts;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    a->st.elapsed_s = (double)(t.tv_sec - a->t0.tv_sec) + (double)(t.tv_nsec - a->t0.tv_nsec) / 1e9;
    a->st.final = final;
    if (a->live != NULL) {
        uint64_t recv = 0, drop = 0;
        if (tsc_capture_kernel_stats(a->live, &recv, &drop)) {
            a->st.have_kernel = true;
            a->st.kernel_recv = recv;
            a->st.kernel_drop = drop;
        }
        a->st.have_memory = true;
    }
    a->st.memory_evictions = a->memory_evictions;
    if (a->cfg.max_memory != 0) {
        a->st.have_memory = true;
        a->st.memory_limit = a->cfg.max_memory;
    }
    if (a->st.have_memory) {
        a->st.heap_bytes = heap_in_use();
        a->st.rss_bytes = rss_now();
        a->st.accounted_bytes = accounted_bytes(a, &xs);
    }
}

static void progress(struct tsc_analyzer *a, struct tsc_capture *cap, bool done)
{
    if (!a->cfg.progress || a->cfg.quiet) {
        return;
    }
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double since = (double)(t.tv_sec - a->last_progress.tv_sec) +
                   (double)(t.tv_nsec - a->last_progress.tv_nsec) / 1e9;
    if (!done && since < 0.5) {
        return;
    }
    a->last_progress = t;
    uint64_t d = 0, total = 0;
    if (cap != NULL) {
        tsc_capture_progress(cap, &d, &total);
    }
    d += a->progress_done_before;
    total = a->progress_total;
    double el = (double)(t.tv_sec - a->t0.tv_sec) + (double)(t.tv_nsec - a->t0.tv_nsec) / 1e9;
    double rate = el > 0 ? (double)d / el / 1e6 : 0;
    /* Threaded: the connections are the workers'; the dispatcher counts packets. */
    uint64_t count = a->wq != NULL ? a->st.packets : a->st.tcp_connections;
    const char *what = a->wq != NULL ? "packets" : "connections";
    if (total > 0) {
        double left = rate > 0 ? ((double)(total > d ? total - d : 0) / 1e6) / rate : 0;
        fprintf(stderr, "\r%6.1f%%  %8.1f MB of %.1f MB  %7.1f MB/s  %" PRIu64
                        " %s  %5.0f s left ",
                100.0 * (double)d / (double)total, (double)d / 1e6, (double)total / 1e6, rate,
                count, what, left);
    } else {
        fprintf(stderr, "\r%8.1f MB  %7.1f MB/s  %" PRIu64 " %s ", (double)d / 1e6, rate, count,
                what);
    }
    a->progress_shown = true;
    if (done) {
        fprintf(stderr, "\n");
    }
}

/* One frame counted and decoded; true when it carries a TCP segment. */
static bool frame_segment(struct tsc_analyzer *a, const struct tsc_frame *f,
                          struct tsc_tcp_seg *seg)
{
    a->st.packets++;
    a->st.bytes += f->caplen;
    a->st.wire_bytes += f->wirelen;
    bool is_tcp = false;
    return tsc_net_decode(a->net, f, seg, &is_tcp) == TSC_OK && is_tcp;
}

static void feed_frame(struct tsc_analyzer *a, const struct tsc_frame *f)
{
    struct tsc_tcp_seg seg;
    if (frame_segment(a, f, &seg)) {
        tsc_tcp_process(a->tcp, &seg);
    }
}

#define TSC_HOLD_MAX (64u << 20)
static void write_run_record(struct tsc_analyzer *a);
static bool hashes_ready(const struct tsc_analyzer *a);
static void dispatch_frame(struct tsc_analyzer *a, const struct tsc_frame *f);
static struct tsc_ts wall_now(void);

/* Read one capture to its end; returns false if it could not be opened. */
static bool run_one(struct tsc_analyzer *a, const char *path)
{
    char err[256] = "";
    struct tsc_capture *cap = NULL;
    a->cur_file = path;
    if (tsc_capture_open_file(&cap, path, &a->sink, err, sizeof(err)) != TSC_OK) {
        struct tsc_where w = {path, 0, TSC_NO_CONN, -1, -1};
        tsc_diag(&a->sink, TSC_DIAG_CAPTURE_OPEN, &w, "cannot read capture: %s", err);
        return false;
    }
    if (a->cfg.filter != NULL &&
        tsc_capture_set_filter(cap, a->cfg.filter, err, sizeof(err)) != TSC_OK) {
        struct tsc_where w = {path, 0, TSC_NO_CONN, -1, -1};
        tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "filter not applied: %s", err);
    }
    tsc_capture_set_first_num(cap, a->next_pkt);
    uint64_t n = 0;
    while (!a->stop) {
        struct tsc_frame f;
        bool eof = false;
        enum tsc_err e = tsc_capture_next(cap, &f, &eof);
        if (eof || e != TSC_OK) {
            break;
        }
        if (f.data == NULL) {
            continue;
        }
        a->next_pkt = f.num + 1;
        if (a->wq != NULL) {
            dispatch_frame(a, &f);
        } else {
            feed_frame(a, &f);
        }
        if ((++n & 0xfff) == 0) {
            progress(a, cap, false);
            memory_check(a);
            if (a->holding &&
                (hashes_ready(a) || tsc_writer_held_bytes(a->writer) > TSC_HOLD_MAX)) {
                write_run_record(a);
            }
        }
    }
    uint64_t d = 0, t = 0;
    tsc_capture_progress(cap, &d, &t);
    a->progress_done_before += d;
    tsc_capture_close(cap);
    return true;
}

/*
 * The inputs' SHA-256 (for the run record) is computed by a second thread
 * while the analysis reads the same files, so provenance costs no time on the
 * analysis thread. Output is held in memory until the hashes are known and the
 * run record can go first: it is released as soon as the hashing thread is
 * done (checked every 4096 packets), and at most TSC_HOLD_MAX is held (past
 * that the analysis waits for the hashes).
 */
struct hash_job {
    struct tsc_run_input *inputs;
    int n;
    pthread_t thread;
    bool started;
    atomic_bool done; /* set by the hashing thread when every input is hashed */
    struct tsc_run_info info;
};

static void *hash_thread(void *arg)
{
    struct hash_job *j = arg;
    for (int i = 0; i < j->n; i++) {
        struct tsc_run_input *in = &j->inputs[i];
        struct stat sb;
        /* Only regular files: a pipe or device read here would steal the
         * capture's bytes from the analysis. */
        if (strcmp(in->file, "-") != 0 && stat(in->file, &sb) == 0 && S_ISREG(sb.st_mode)) {
            int64_t size = -1;
            in->have_sha256 = hash_file(in->file, in->sha256, &size);
        }
    }
    atomic_store_explicit(&j->done, true, memory_order_release);
    return NULL;
}

static bool hashes_ready(const struct tsc_analyzer *a)
{
    const struct hash_job *j = a->hash_job;
    return j != NULL && j->started && atomic_load_explicit(&j->done, memory_order_acquire);
}

/* Wait for the hashes, write the run record (and the diagnostics kept for
 * after it) ahead of everything held, and stop holding. */
static void write_run_record(struct tsc_analyzer *a)
{
    struct hash_job *j = a->hash_job;
    if (j == NULL) {
        return;
    }
    if (j->started) {
        pthread_join(j->thread, NULL);
    } else {
        hash_thread(j);
    }
    tsc_writer_prefix_begin(a->writer);
    tsc_writer_run(a->writer, &j->info);
    if (a->report != NULL) {
        tsc_report_run(a->report, &j->info);
    }
    run_written(a);
    tsc_writer_release(a->writer);
    a->holding = false;
    a->hash_job = NULL;
    atomic_store_explicit(&a->run_out, true, memory_order_release); /* workers may write now */
}

struct dsb_ctx {
    struct tsc_analyzer *a;
    const char *file;
};

static void on_dsb_keylog(void *ud, const uint8_t *p, size_t n)
{
    struct dsb_ctx *x = ud;
    struct tsc_analyzer *a = x->a;
    if (a->keys == NULL) {
        if (tsc_keys_new(&a->keys, &a->sink) != TSC_OK) {
            struct tsc_where w = {x->file, 0, TSC_NO_CONN, -1, -1};
            tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "out of memory: embedded secrets not used");
            return;
        }
        a->tls_cfg.keys = a->keys;
    }
    (void)!tsc_keys_add_dsb_keylog(a->keys, p, n, x->file);
}

/* Secrets embedded in the inputs (pcapng Decryption Secrets Blocks) are
 * loaded before any packet is read, wherever in the file they stand. */
static void load_embedded_secrets(struct tsc_analyzer *a, const char *const *paths, int n)
{
    for (int i = 0; i < n; i++) {
        struct stat sb;
        if (strcmp(paths[i], "-") == 0 || stat(paths[i], &sb) != 0 || !S_ISREG(sb.st_mode)) {
            continue;
        }
        struct dsb_ctx x = {a, paths[i]};
        uint32_t blocks = 0;
        (void)!tsc_capture_scan_dsb(paths[i], on_dsb_keylog, &x, &a->sink, &blocks);
        a->dsb_blocks += blocks;
    }
}

/* ---- threaded runs (--threads N > 1) ----
 *
 * The analyzer the caller made becomes the dispatcher: it reads the input,
 * decodes link, IP and TCP headers (fragments reassembled) and hands each
 * TCP segment to the worker its flow hashes to (src/core/workq.h). A worker
 * is an analyzer of its own with the stages from TCP on: its flow table,
 * TLS and crypto state, certificate cache, fingerprint context, writer and
 * statistics. Shared read-mostly: the configuration, the key material (a
 * read-write lock while key logs are followed), the resumption cache (its
 * own mutex). Each worker writes whole events to the one output stream, so a
 * connection's lines stay in order; connection ids are w + 1, w + 1 + N, ...
 * in worker w (unique, the same on every run of the same input). */

static bool threads_usable(const struct tsc_config *cfg, const char **why)
{
    *why = cfg->verify || cfg->report_file != NULL ? "--verify and --report"
           : cfg->data_dir != NULL                 ? "--data-dir"
           : cfg->export_keylog != NULL            ? "--export-keylog"
           : cfg->write_pcapng != NULL             ? "-w"
           : cfg->on_event != NULL                 ? "an event callback"
                                                   : NULL;
    return *why == NULL;
}

/* Watermark (tls_cfg.sess_wait): a resumption lookup missed; wait until every
 * other worker has processed every packet before this one (at the final
 * flush: every packet, as one thread would have), then look again. */
static bool worker_sess_wait(void *ud)
{
    struct tsc_analyzer *a = ud;
    uint64_t n = a->final_flush ? TSC_WQ_NONE : a->cur_pkt;
    return tsc_wq_wait(a->parent->wq, a->worker_index, n, a->live_worker ? 100 : -1);
}

static void worker_free(struct tsc_analyzer *a)
{
    if (a == NULL) {
        return;
    }
    a->keys = NULL;     /* the dispatcher's */
    a->sessions = NULL; /* the dispatcher's */
    tsc_analyzer_free(a);
}

/* Worker w of n: the stages from TCP on, limits split n ways, shared keys and sessions. */
static int worker_new(struct tsc_analyzer *p, int w, int n, bool live, struct tsc_analyzer **out)
{
    struct tsc_analyzer *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        return -1;
    }
    *out = a;
    a->cfg = p->cfg;
    a->parent = p;
    a->worker_index = w;
    a->live_worker = live;
    a->following = p->n_follow > 0;
    a->heap_budget = p->heap_budget;
    a->t0 = p->t0;
    a->sink.emit = on_diag;
    a->sink.ud = a;
    struct tsc_tcp_config tc = p->tcp_cfg;
    tc.max_flows = tc.max_flows / (uint32_t)n > 16 ? tc.max_flows / (uint32_t)n : 16;
    tc.max_buffered_bytes = tc.max_buffered_bytes / (uint64_t)n;
    tc.id_first = (uint64_t)w + 1;
    tc.id_step = (uint32_t)n;
    uint32_t certs = p->cfg.cert_cache_entries / (uint32_t)n;
    struct tsc_tcp_callbacks cb = {tcp_open, tcp_data, tcp_gap, tcp_end, tcp_close, a};
    if (tsc_writer_new(&a->writer, &a->cfg) != 0 ||
        tsc_tcp_table_new(&a->tcp, &tc, &cb, &a->sink) != TSC_OK ||
        tsc_x509_cache_new(&a->certs, certs > 16 ? certs : 16) != TSC_OK ||
        tsc_fp_ctx_new(&a->fp) != TSC_OK) {
        return -1;
    }
    a->keys = p->keys;
    a->sessions = p->sessions;
    a->hold = p->hold;
    a->hold.max_bytes /= (uint64_t)n;
    a->tls_cfg = p->tls_cfg;
    a->tls_cfg.certs = a->certs;
    a->tls_cfg.fp = a->fp;
    a->tls_cfg.sink = &a->sink;
    a->tls_cfg.hold = p->tls_cfg.hold != NULL ? &a->hold : NULL;
    a->tls_cfg.events.ud = a;
    a->tls_cfg.sess_wait = worker_sess_wait;
    a->tls_cfg.sess_wait_ud = a;
    a->pre_cfg = p->pre_cfg;
    a->pre_cfg.sink = &a->sink;
    if (live) {
        a->run_written = true; /* the dispatcher writes the run record before starting us */
        tsc_writer_set_line_mode(a->writer, true);
    } else {
        a->holding = true; /* until the dispatcher's run record is out */
        tsc_writer_hold(a->writer);
    }
    return 0;
}

/* Offline: output held until the run record is out; past the worker's share of
 * TSC_HOLD_MAX (or at the end) the worker waits for it. */
static void worker_release(struct tsc_analyzer *a, bool wait)
{
    if (!a->holding) {
        return;
    }
    struct tsc_analyzer *p = a->parent;
    wait = wait || tsc_writer_held_bytes(a->writer) > TSC_HOLD_MAX / (size_t)p->n_workers;
    while (!atomic_load_explicit(&p->run_out, memory_order_acquire)) {
        if (!wait) {
            return;
        }
        struct timespec ms = {0, 1000000L};
        nanosleep(&ms, NULL);
    }
    tsc_writer_release(a->writer);
    a->holding = false;
    run_written(a);
}

/* Per-flow counters of a worker into its st (the dispatcher sums them). */
static uint64_t worker_fill(struct tsc_analyzer *a)
{
    tsc_tcp_get_stats(a->tcp, &a->st.tcp);
    struct tsc_x509_stats xs;
    cert_stats(a, &xs);
    a->st.pending_records_dropped = a->hold.dropped_records;
    a->st.held_records = a->hold.held_records;
    a->st.held_bytes_peak = a->hold.peak_bytes;
    a->st.memory_evictions = a->memory_evictions;
    a->st.have_sessions = false; /* accounted once, by the dispatcher */
    return accounted_bytes(a, &xs);
}

/* Live: what the worker publishes at each tick for the periodic statistics. */
static void worker_publish(struct tsc_worker *wk)
{
    struct tsc_analyzer *a = wk->a;
    uint64_t acc = worker_fill(a);
    pthread_mutex_lock(&wk->snap_mu);
    wk->snap = a->st;
    memcpy(wk->snap_diag, a->sink.counts, sizeof(wk->snap_diag));
    wk->snap_accounted = acc;
    pthread_mutex_unlock(&wk->snap_mu);
}

static void stats_add(struct tsc_run_stats *d, const struct tsc_run_stats *s)
{
    d->tcp.segments += s->tcp.segments;
    d->tcp.connections += s->tcp.connections;
    d->tcp.open_flows += s->tcp.open_flows;
    d->tcp.peak_flows += s->tcp.peak_flows; /* sum of the workers' peaks: an upper bound */
    d->tcp.evicted_flows += s->tcp.evicted_flows;
    d->tcp.timed_out_flows += s->tcp.timed_out_flows;
    d->tcp.buffered_bytes += s->tcp.buffered_bytes;
    d->tcp.peak_buffered_bytes += s->tcp.peak_buffered_bytes;
    d->tcp.gap_bytes += s->tcp.gap_bytes;
    d->tcp.conflict_bytes += s->tcp.conflict_bytes;
    d->tcp.ooo_dropped_bytes += s->tcp.ooo_dropped_bytes;
    d->tcp.late_segments += s->tcp.late_segments;
    d->tcp.memory_bytes += s->tcp.memory_bytes;
    d->tcp_connections += s->tcp_connections;
    d->tls_connections += s->tls_connections;
    d->malformed_connections += s->malformed_connections;
    d->heartbleed_connections += s->heartbleed_connections;
    d->partial_connections += s->partial_connections;
    d->decrypted_connections += s->decrypted_connections;
    d->bad_records += s->bad_records;
    for (int i = 0; i < TSC_PRE__COUNT; i++) {
        d->prelude_seen[i] += s->prelude_seen[i];
        d->prelude_upgraded[i] += s->prelude_upgraded[i];
    }
    for (int i = 0; i < TSC_VERSION_BUCKETS; i++) {
        d->versions[i] += s->versions[i];
    }
    d->cert_lookups += s->cert_lookups;
    d->cert_hits += s->cert_hits;
    d->cert_evictions += s->cert_evictions;
    d->resumed_connections += s->resumed_connections;
    d->resumed_linked += s->resumed_linked;
    d->pending_records_dropped += s->pending_records_dropped;
    d->memory_evictions += s->memory_evictions;
    d->held_records += s->held_records;
    d->held_bytes_peak += s->held_bytes_peak;
}

/* The dispatcher's statistics plus every worker's (final: read directly, the
 * workers have ended; periodic: their last published snapshot). */
static void merge_workers(struct tsc_analyzer *a, bool final, struct tsc_run_stats *out)
{
    *out = a->st;
    memcpy(a->diag_total, a->sink.counts, sizeof(a->diag_total));
    for (int i = 0; i < 65536; i++) {
        a->suite_counts[i] = atomic_load_explicit(&a->suite_shared[i], memory_order_relaxed);
    }
    uint64_t accounted = (out->have_sessions ? a->st.sessions.memory_bytes : 0) +
                         tsc_wq_memory_bytes(a->wq);
    for (int w = 0; w < a->n_workers; w++) {
        struct tsc_worker *wk = &a->workers[w];
        const struct tsc_run_stats *s;
        const uint64_t *diag;
        if (final) {
            accounted += worker_fill(wk->a);
            s = &wk->a->st;
            diag = wk->a->sink.counts;
        } else {
            pthread_mutex_lock(&wk->snap_mu);
            accounted += wk->snap_accounted;
            s = &wk->snap;
            diag = wk->snap_diag;
        }
        stats_add(out, s);
        for (int i = 0; i < TSC_DIAG__COUNT; i++) {
            a->diag_total[i] += diag[i];
        }
        if (!final) {
            pthread_mutex_unlock(&wk->snap_mu);
        }
    }
    out->diag_counts = a->diag_total;
    out->suite_counts = a->suite_counts;
    if (out->have_memory) {
        out->accounted_bytes = accounted;
    }
}

static void worker_tick(struct tsc_worker *wk, struct tsc_ts now)
{
    struct tsc_analyzer *a = wk->a;
    if (a->following) {
        uint64_t n = tsc_keys_keylog_added(a->keys);
        bool added = n != a->keys_swept;
        a->keys_swept = n;
        hold_sweep(a, added, now, false);
    }
    tsc_tcp_expire(a->tcp, now);
    if (a->live_worker) {
        memory_check(a);
        if (wk->snaps) {
            worker_publish(wk);
        }
    }
}

static void *worker_main(void *arg)
{
    struct tsc_worker *wk = arg;
    struct tsc_analyzer *a = wk->a;
    struct tsc_analyzer *p = a->parent;
    const struct tsc_wq_batch *b;
    while ((b = tsc_wq_pop(p->wq, a->worker_index)) != NULL) {
        if (a->following) {
            pthread_rwlock_rdlock(&p->keys_lock);
        }
        size_t off = 0;
        struct tsc_wq_item it;
        while (tsc_wq_next(b, &off, &it)) {
            if (it.kind == TSC_WQ_SEG) {
                a->cur_file = it.seg.file;
                a->cur_pkt = it.seg.pkt;
                tsc_tcp_process(a->tcp, &it.seg);
            } else {
                worker_tick(wk, it.seg.ts);
            }
        }
        if (a->following) {
            pthread_rwlock_unlock(&p->keys_lock);
        }
        tsc_wq_done(p->wq, a->worker_index);
        memory_check(a); /* at most every 200 ms; not only at ticks, which queue behind data */
        if (!a->live_worker) {
            worker_release(a, false);
        }
    }
    /* End of input: held records, then every open flow, then our output. */
    a->final_flush = true;
    if (a->following) {
        hold_sweep(a, true, wall_now(), true);
    }
    tsc_tcp_flush_all(a->tcp, TSC_TCP_END_EOF);
    worker_release(a, true);
    tsc_writer_flush(a->writer);
    tsc_csess_pool_drain(); /* this thread's recycled crypto sessions */
    return NULL;
}

/* Blocked on a full ring: the run record may be written meanwhile. */
static void dispatch_idle(void *ud)
{
    struct tsc_analyzer *a = ud;
    /* No hashing thread (it could not start): hashed here, or a worker over its
     * share of held output would wait for the run record forever. */
    if (a->holding && (hashes_ready(a) || (a->hash_job != NULL && !a->hash_job->started))) {
        write_run_record(a);
    }
}

static void workers_stop(struct tsc_analyzer *a)
{
    if (a->wq == NULL) {
        return;
    }
    tsc_wq_close(a->wq);
    for (int w = 0; w < a->n_workers; w++) {
        if (a->workers[w].started) {
            pthread_join(a->workers[w].thread, NULL);
            a->workers[w].started = false;
        }
    }
}

static void workers_free(struct tsc_analyzer *a)
{
    if (a->workers == NULL) {
        return;
    }
    workers_stop(a);
    for (int w = 0; w < a->n_workers; w++) {
        worker_free(a->workers[w].a);
        pthread_mutex_destroy(&a->workers[w].snap_mu);
    }
    free(a->workers);
    a->workers = NULL;
    a->n_workers = 0;
    free(a->suite_shared);
    a->suite_shared = NULL;
    tsc_wq_free(a->wq);
    a->wq = NULL;
    if (a->keys_locking) {
        pthread_rwlock_destroy(&a->keys_lock);
        a->keys_locking = false;
    }
}

/* Start cfg.threads workers; false (and one thread) when not possible. */
static bool workers_start(struct tsc_analyzer *a, bool live)
{
    int n = a->cfg.threads;
    const char *why = NULL;
    if (n <= 1) {
        return false;
    }
    if (!threads_usable(&a->cfg, &why)) {
        struct tsc_where w = {NULL, 0, TSC_NO_CONN, -1, -1};
        tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "--threads %d: %s run on one thread", n, why);
        return false;
    }
    n = n > TSC_WQ_MAX_WORKERS ? TSC_WQ_MAX_WORKERS : n;
    /* Slabs: 8 per worker, 256 KiB each, less under a small --max-memory (they are heap). */
    size_t slab = TSC_WQ_SLAB;
    if (a->heap_budget > 0) {
        uint64_t share = a->heap_budget / 32 / (uint64_t)n / TSC_WQ_SLOTS;
        slab = share < (32u << 10) ? (32u << 10) : (share < TSC_WQ_SLAB ? (size_t)share : slab);
    }
    a->workers = calloc((size_t)n, sizeof(*a->workers));
    a->suite_shared = calloc(65536, sizeof(*a->suite_shared));
    if (a->workers == NULL || a->suite_shared == NULL ||
        tsc_wq_new(&a->wq, n, slab) != TSC_OK) {
        free(a->workers);
        a->workers = NULL;
        free(a->suite_shared);
        a->suite_shared = NULL;
        return false;
    }
    a->n_workers = n;
    atomic_init(&a->run_out, false);
    if (a->n_follow > 0) {
        pthread_rwlockattr_t at;
        pthread_rwlockattr_init(&at);
        /* The dispatcher's rare writes must not starve behind the workers' reads. */
        pthread_rwlockattr_setkind_np(&at, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        a->keys_locking = pthread_rwlock_init(&a->keys_lock, &at) == 0;
        pthread_rwlockattr_destroy(&at);
    }
    tsc_wq_set_idle(a->wq, live ? NULL : dispatch_idle, a);
    bool ok = !(a->n_follow > 0 && !a->keys_locking);
    for (int w = 0; w < n; w++) {
        pthread_mutex_init(&a->workers[w].snap_mu, NULL);
    }
    for (int w = 0; w < n && ok; w++) {
        struct tsc_worker *wk = &a->workers[w];
        wk->snaps = live && a->cfg.stats_interval_s > 0; /* for periodic statistics */
        ok = worker_new(a, w, n, live, &wk->a) == 0;
    }
    for (int w = 0; w < n && ok; w++) {
        ok = pthread_create(&a->workers[w].thread, NULL, worker_main, &a->workers[w]) == 0;
        a->workers[w].started = ok;
    }
    if (!ok) {
        struct tsc_where w = {NULL, 0, TSC_NO_CONN, -1, -1};
        tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "--threads %d: workers not started; one thread", n);
        workers_free(a);
        return false;
    }
    return true;
}

/* Dispatcher: one frame decoded up to TCP and handed to its flow's worker. */
static void dispatch_frame(struct tsc_analyzer *a, const struct tsc_frame *f)
{
    struct tsc_tcp_seg seg;
    if (!frame_segment(a, f, &seg)) {
        return;
    }
    if (a->cur_file != NULL) {
        seg.file = a->cur_file; /* the caller's string outlives the capture (and its copy) */
    }
    if (a->live == NULL && seg.ts.sec != a->last_tick_sec) {
        /* Capture time moved to a new second: every worker expires its idle
         * flows (a worker may see no packet of its own for a long time). */
        a->last_tick_sec = seg.ts.sec;
        for (int w = 0; w < a->n_workers; w++) {
            (void)!tsc_wq_put(a->wq, w, TSC_WQ_TICK, &seg, seg.pkt);
        }
    }
    int w = tsc_wq_shard(a->wq, &seg.src, &seg.dst);
    if (tsc_wq_put(a->wq, w, TSC_WQ_SEG, &seg, seg.pkt) != TSC_OK) {
        struct tsc_where wh = {seg.file, seg.pkt, TSC_NO_CONN, -1, -1};
        tsc_diag(&a->sink, TSC_DIAG_RUN, &wh, "out of memory: segment of %u bytes not analysed",
                 seg.payload_len);
    }
    a->last_put = seg.pkt;
    if (tsc_wq_flush_wanted(a->wq)) {
        tsc_wq_flush(a->wq, a->last_put);
    }
}

/* Live: a tick for every worker (wall clock), and what was put goes out. */
static void dispatch_tick(struct tsc_analyzer *a, struct tsc_ts now)
{
    struct tsc_tcp_seg seg;
    memset(&seg, 0, sizeof(seg));
    seg.ts = now;
    for (int w = 0; w < a->n_workers; w++) {
        (void)!tsc_wq_put(a->wq, w, TSC_WQ_TICK, &seg, a->last_put);
    }
    tsc_wq_flush(a->wq, a->last_put);
}

/* Dispatcher: read what the followed key logs gained, workers kept out meanwhile. */
static void dispatch_follow(struct tsc_analyzer *a, bool finish)
{
    if (a->n_follow == 0) {
        return;
    }
    pthread_rwlock_wrlock(&a->keys_lock);
    if (finish) {
        for (int i = 0; i < a->n_follow; i++) {
            tsc_keylog_follow_finish(a->follow[i]);
        }
    } else {
        (void)follow_poll(a);
    }
    pthread_rwlock_unlock(&a->keys_lock);
}

int tsc_analyzer_run_files(struct tsc_analyzer *a, const char *const *paths, int n)
{
    load_embedded_secrets(a, paths, n);
    struct tsc_run_input *inputs = calloc((size_t)(n > 0 ? n : 1), sizeof(*inputs));
    if (inputs == NULL) {
        return 3;
    }
    for (int i = 0; i < n; i++) {
        inputs[i].file = paths[i];
        inputs[i].size = -1;
        struct stat sb;
        if (strcmp(paths[i], "-") != 0 && stat(paths[i], &sb) == 0 && S_ISREG(sb.st_mode)) {
            inputs[i].size = (int64_t)sb.st_size;
            a->progress_total += (uint64_t)sb.st_size;
        }
    }
    struct hash_job job;
    memset(&job, 0, sizeof(job));
    atomic_init(&job.done, false);
    job.inputs = inputs;
    job.n = n;
    job.info = run_info(a);
    job.info.inputs = inputs;
    job.info.n_inputs = n;
    job.started = pthread_create(&job.thread, NULL, hash_thread, &job) == 0;
    a->hash_job = &job;
    a->holding = true;
    tsc_writer_hold(a->writer);
    bool threaded = workers_start(a, false);
    int rc = 0;
    for (int i = 0; i < n && !a->stop; i++) {
        if (!run_one(a, paths[i])) {
            rc = 3;
        }
    }
    a->cur_file = NULL;
    if (threaded) {
        tsc_wq_close(a->wq); /* the workers drain their rings and flush */
    }
    write_run_record(a);
    workers_stop(a);
    tsc_tcp_flush_all(a->tcp, TSC_TCP_END_EOF);
    close_exports(a);
    write_pcapng(a, paths, n);
    progress(a, NULL, true);
    if (a->cfg.verify) {
        tsc_writer_verify_summary(a->writer, &a->vsum);
    }
    fill_stats(a, true);
    finish_report(a);
    struct tsc_run_stats all;
    if (threaded) {
        merge_workers(a, true, &all);
    }
    tsc_writer_stats(a->writer, threaded ? &all : &a->st);
    free(inputs);
    return rc;
}

/* SIGHUP: the output file opened again under the same stream (log rotation). */
static void reopen_output(struct tsc_analyzer *a, const struct tsc_run_info *info)
{
    a->reopen = 0;
    if (a->cfg.out_path == NULL) {
        return;
    }
    tsc_writer_flush(a->writer);
    int fd = open(a->cfg.out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int err = errno;
    if (fd >= 0 && dup2(fd, fileno(a->cfg.out)) < 0) {
        err = errno;
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        struct tsc_where w = {a->cfg.out_path, 0, TSC_NO_CONN, -1, -1};
        tsc_diag(&a->sink, TSC_DIAG_RUN, &w, "cannot reopen output %s: %s; still writing to the old file",
                 a->cfg.out_path, strerror(err));
        return;
    }
    close(fd);
    /* Every rotated file starts with the run record. */
    tsc_writer_run(a->writer, info);
    tsc_writer_flush(a->writer);
}

/* Wall clock as a capture time: live packets carry the same clock. */
static struct tsc_ts wall_now(void)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    struct tsc_ts ts = {wall.tv_sec, (uint32_t)wall.tv_nsec};
    return ts;
}

#define TSC_LIVE_TICK_S 0.2 /* housekeeping period: expiry, key logs, memory budget */

/* Housekeeping of a live run, at most every TSC_LIVE_TICK_S (never per packet). */
static void live_tick(struct tsc_analyzer *a)
{
    struct tsc_ts now = wall_now();
    if (a->n_follow > 0) {
        (void)follow_poll(a);
        uint64_t n = tsc_keys_keylog_added(a->keys);
        bool added = n != a->keys_swept;
        a->keys_swept = n;
        hold_sweep(a, added, now, false);
    }
    /* Idle flows end on time even when no packet comes to move capture time. */
    tsc_tcp_expire(a->tcp, now);
    memory_check(a);
}

int tsc_analyzer_run_live(struct tsc_analyzer *a, const char *iface, char *errbuf, size_t errlen)
{
    /*
     * Not immediate mode: on Linux that means TPACKET_V2, whose ring has one
     * slot of the snap length per packet (a 2 MiB buffer held 8 packets at
     * 262144 and dropped most of a busy loopback). TPACKET_V3 packs packets
     * into blocks handed over when full or after the 100 ms timeout, which
     * is all the latency live output has.
     */
    struct tsc_capture_live_opts lo = {a->cfg.snaplen, !a->cfg.no_promisc, false,
                                       a->cfg.buffer_size > 0 ? a->cfg.buffer_size
                                                              : TSC_LIVE_BUFFER_DEFAULT,
                                       100};
    struct tsc_capture *cap = NULL;
    if (tsc_capture_open_live(&cap, iface, &lo, &a->sink, errbuf, errlen) != TSC_OK) {
        return 3;
    }
    if (a->cfg.filter != NULL &&
        tsc_capture_set_filter(cap, a->cfg.filter, errbuf, errlen) != TSC_OK) {
        tsc_capture_close(cap);
        return 2;
    }
    a->live = cap;
    a->cur_file = NULL;
    struct tsc_run_info info = run_info(a);
    info.interface = iface;
    tsc_writer_run(a->writer, &info);
    if (a->report != NULL) {
        tsc_report_run(a->report, &info);
    }
    run_written(a);
    tsc_writer_set_line_mode(a->writer, true);
    bool threaded = workers_start(a, true);
    double t = now_s();
    double next_tick = t + TSC_LIVE_TICK_S;
    double interval = (double)a->cfg.stats_interval_s;
    double next_stats = t + interval;
    while (!a->stop) {
        struct tsc_frame f;
        bool eof = false;
        enum tsc_err e = tsc_capture_next(cap, &f, &eof);
        if (eof || (e != TSC_OK && e != TSC_ERR_STATE)) {
            break;
        }
        if (f.data != NULL && threaded) {
            dispatch_frame(a, &f);
        } else if (f.data != NULL) {
            feed_frame(a, &f);
        } else if (threaded) {
            tsc_wq_flush(a->wq, a->last_put); /* a quiet moment: what was put goes out */
        }
        t = now_s();
        if (t >= next_tick) {
            next_tick = t + TSC_LIVE_TICK_S;
            if (threaded) {
                dispatch_follow(a, false);
                dispatch_tick(a, wall_now());
            } else {
                live_tick(a);
            }
        }
        if (a->reopen) {
            if (threaded) {
                flockfile(a->cfg.out); /* no worker writes while the file is swapped */
            }
            reopen_output(a, &info);
            if (threaded) {
                funlockfile(a->cfg.out);
            }
        }
        if (interval > 0 && t >= next_stats) {
            /* Late (a long stall): the next one is a whole interval away, no burst. */
            next_stats = next_stats + interval > t ? next_stats + interval : t + interval;
            fill_stats(a, false);
            struct tsc_run_stats all;
            if (threaded) {
                merge_workers(a, false, &all);
            }
            tsc_writer_stats(a->writer, threaded ? &all : &a->st);
        }
    }
    if (threaded) {
        /* Stopping: the key logs' last lines, then the workers drain and flush. */
        dispatch_follow(a, true);
        workers_stop(a);
    } else if (a->n_follow > 0) {
        /* Stopping: the key logs' last lines (an unterminated one too) for
         * the records still held, then the rest goes through. */
        for (int i = 0; i < a->n_follow; i++) {
            tsc_keylog_follow_finish(a->follow[i]);
        }
        hold_sweep(a, true, wall_now(), true);
    }
    tsc_tcp_flush_all(a->tcp, TSC_TCP_END_EOF);
    close_exports(a);
    if (a->cfg.verify) {
        tsc_writer_verify_summary(a->writer, &a->vsum);
    }
    fill_stats(a, true);
    finish_report(a);
    struct tsc_run_stats all;
    if (threaded) {
        merge_workers(a, true, &all);
    }
    tsc_writer_stats(a->writer, threaded ? &all : &a->st);
    a->live = NULL;
    tsc_capture_close(cap);
    return 0;
}
