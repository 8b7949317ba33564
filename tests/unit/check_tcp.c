/* Unit tests for src/tcp: synthetic segment sequences, exact bytes and events. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"

#define CLI_PORT 40000
#define SRV_PORT 443

/* Everything the table told us, as bytes per direction and an event string. */
struct rec {
    struct tsc_tcp_table *t;
    uint8_t data[2][4096];
    size_t len[2];
    char ev[4096];
    int n_open;
    int n_close;
    enum tsc_tcp_end_reason last_close;
    uint64_t swap_on_conn; /* swap roles from on_data of this connection (once) */
    struct tsc_diag_sink sink;
};

static void ev_add(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ev_add(struct rec *r, const char *fmt, ...)
{
    size_t used = strlen(r->ev);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->ev + used, sizeof(r->ev) - used, fmt, ap);
    va_end(ap);
}

static void cb_open(void *ud, struct tsc_tcp_conn *c)
{
    struct rec *r = ud;
    r->n_open++;
    ev_add(r, "O%llu ", (unsigned long long)c->id);
}

static void cb_data(void *ud, struct tsc_tcp_conn *c, int dir, const uint8_t *p, size_t n,
                    uint64_t pkt, struct tsc_ts ts)
{
    (void)pkt;
    (void)ts;
    struct rec *r = ud;
    ck_assert_int_le(r->len[dir] + n, sizeof(r->data[dir]));
    memcpy(r->data[dir] + r->len[dir], p, n);
    r->len[dir] += n;
    ev_add(r, "D%d:%zu ", dir, n);
    if (r->swap_on_conn == c->id) {
        r->swap_on_conn = 0;
        ev_add(r, "S%d ", tsc_tcp_conn_swap_roles(r->t, c) ? 1 : 0);
    }
}

static void cb_gap(void *ud, struct tsc_tcp_conn *c, int dir, uint64_t len, uint64_t pkt,
                   struct tsc_ts ts)
{
    (void)c;
    (void)pkt;
    (void)ts;
    struct rec *r = ud;
    ev_add(r, "G%d:%llu ", dir, (unsigned long long)len);
}

static void cb_end(void *ud, struct tsc_tcp_conn *c, int dir, enum tsc_tcp_end_reason why)
{
    (void)c;
    struct rec *r = ud;
    ev_add(r, "E%d:%s ", dir, tsc_tcp_end_reason_name(why));
}

static void cb_close(void *ud, struct tsc_tcp_conn *c, enum tsc_tcp_end_reason why)
{
    struct rec *r = ud;
    r->n_close++;
    r->last_close = why;
    ev_add(r, "C%llu:%s ", (unsigned long long)c->id, tsc_tcp_end_reason_name(why));
}

static struct rec *rec_new(const struct tsc_tcp_config *cfg)
{
    struct rec *r = calloc(1, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    struct tsc_tcp_config def;
    tsc_tcp_config_default(&def);
    struct tsc_tcp_callbacks cb = {cb_open, cb_data, cb_gap, cb_end, cb_close, r};
    ck_assert_int_eq(tsc_tcp_table_new(&r->t, cfg != NULL ? cfg : &def, &cb, &r->sink), TSC_OK);
    return r;
}

static void rec_free(struct rec *r)
{
    tsc_tcp_table_free(r->t);
    free(r);
}

static struct tsc_tcp_seg mkseg(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
                                const char *data, int64_t sec)
{
    struct tsc_tcp_seg s;
    memset(&s, 0, sizeof(s));
    s.src.family = 4;
    s.dst.family = 4;
    s.src.addr[0] = 10;
    s.src.addr[3] = sport == SRV_PORT ? 2 : 1;
    s.dst.addr[0] = 10;
    s.dst.addr[3] = dport == SRV_PORT ? 2 : 1;
    s.src.port = sport;
    s.dst.port = dport;
    s.seq = seq;
    s.flags = flags;
    s.window = 1000;
    s.payload = (const uint8_t *)data;
    s.payload_len = data != NULL ? (uint32_t)strlen(data) : 0;
    s.payload_wirelen = s.payload_len;
    s.ts.sec = sec;
    return s;
}

/* Client to server / server to client with ports fixed. */
static void c2s(struct rec *r, uint8_t fl, uint32_t seq, const char *d)
{
    struct tsc_tcp_seg s = mkseg(CLI_PORT, SRV_PORT, fl, seq, d, 100);
    tsc_tcp_process(r->t, &s);
}

static void s2c(struct rec *r, uint8_t fl, uint32_t seq, const char *d)
{
    struct tsc_tcp_seg s = mkseg(SRV_PORT, CLI_PORT, fl, seq, d, 100);
    tsc_tcp_process(r->t, &s);
}

#define A TSC_TCP_ACK
#define ISN_C 1000u
#define ISN_S 5000u

static void handshake(struct rec *r, uint32_t ic, uint32_t is)
{
    c2s(r, TSC_TCP_SYN, ic, NULL);
    s2c(r, TSC_TCP_SYN | A, is, NULL);
    c2s(r, A, ic + 1, NULL);
}

static void ck_bytes(const struct rec *r, int dir, const char *want)
{
    ck_assert_uint_eq(r->len[dir], strlen(want));
    ck_assert(memcmp(r->data[dir], want, r->len[dir]) == 0);
}

/* ---- valid ---- */

START_TEST(t_in_order)
{
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1, "hello");
    s2c(r, A, ISN_S + 1, "world!");
    c2s(r, A | TSC_TCP_FIN, ISN_C + 6, NULL);
    s2c(r, A | TSC_TCP_FIN, ISN_S + 7, NULL);
    /* Both directions ended with nothing missing: reported at once. */
    ck_assert_str_eq(r->ev, "O1 D0:5 D1:6 E0:fin E1:fin C1:fin ");
    ck_bytes(r, 0, "hello");
    ck_bytes(r, 1, "world!");
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.connections, 1);
    ck_assert_uint_eq(st.open_flows, 0);
    /* The final ACK belongs to the closed connection: no new one. */
    c2s(r, A, ISN_C + 7, NULL);
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.connections, 1);
    ck_assert_uint_eq(st.late_segments, 1);
    tsc_tcp_flush_all(r->t, TSC_TCP_END_EOF);
    ck_assert_int_eq(r->last_close, TSC_TCP_END_FIN);
    rec_free(r);
}
END_TEST

START_TEST(t_reorder)
{
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1 + 3, "def");
    c2s(r, A, ISN_C + 1 + 6, "ghi");
    ck_assert_uint_eq(r->len[0], 0);
    c2s(r, A, ISN_C + 1, "abc");
    ck_bytes(r, 0, "abcdefghi");
    ck_assert_str_eq(r->ev, "O1 D0:3 D0:3 D0:3 ");
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.buffered_bytes, 0);
    ck_assert_uint_gt(st.peak_buffered_bytes, 0);
    rec_free(r);
}
END_TEST

static struct tsc_tcp_conn *g_conn;
static void cb_open_keep(void *ud, struct tsc_tcp_conn *c)
{
    g_conn = c;
    cb_open(ud, c);
}

START_TEST(t_duplicates)
{
    struct rec *r = rec_new(NULL);
    struct tsc_tcp_callbacks cb = {cb_open_keep, cb_data, cb_gap, cb_end, cb_close, r};
    tsc_tcp_table_free(r->t);
    ck_assert_int_eq(tsc_tcp_table_new(&r->t, NULL, &cb, &r->sink), TSC_OK);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1, "abc");
    c2s(r, A, ISN_C + 1, "abc");
    c2s(r, A, ISN_C + 4, "def");
    c2s(r, A, ISN_C + 2, "bcde"); /* partial retransmission */
    c2s(r, A, ISN_C + 7, "gh");
    ck_bytes(r, 0, "abcdefgh");
    ck_assert_uint_eq(g_conn->stats[0].retransmitted_bytes, 7);
    ck_assert_uint_eq(g_conn->stats[0].delivered_bytes, 8);
    ck_assert_uint_eq(g_conn->stats[0].bytes, 15);
    ck_assert_uint_eq(g_conn->stats[0].packets, 7);
    rec_free(r);
}
END_TEST

START_TEST(t_overlap_conflict)
{
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1 + 2, "XXXX");     /* queued first */
    c2s(r, A, ISN_C + 1 + 4, "YYYYz");    /* overlaps XX at 4..5 (2 differ), adds z.. */
    c2s(r, A, ISN_C + 1, "abcdefghij");   /* in order: c..f conflict with XXXX */
    ck_bytes(r, 0, "abXXXXYYzj");
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    /* YY vs XX: 2; cdef vs XXXX: 4; ghi vs YYz: 3. */
    ck_assert_uint_eq(st.conflict_bytes, 9);
    ck_assert_uint_eq(r->sink.counts[TSC_DIAG_TCP_OVERLAP_CONFLICT], 3);
    rec_free(r);
}
END_TEST

START_TEST(t_gap_fin)
{
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1, "aa");
    c2s(r, A, ISN_C + 1 + 10, "bb");
    c2s(r, A | TSC_TCP_FIN, ISN_C + 1 + 12, NULL);
    /* A FIN ahead of a hole waits: a reordered segment may still fill it. */
    ck_assert_str_eq(r->ev, "O1 D0:2 ");
    /* Nothing came: at close the hole becomes a gap, then data and end. */
    tsc_tcp_flush_all(r->t, TSC_TCP_END_EOF);
    ck_assert_str_eq(r->ev, "O1 D0:2 G0:8 D0:2 E0:fin C1:eof ");
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.gap_bytes, 8);
    ck_assert_uint_eq(r->sink.counts[TSC_DIAG_TCP_GAP], 1);
    rec_free(r);
}
END_TEST

START_TEST(t_fin_before_reordered_data)
{
    /* The FIN overtakes the data before it (seen in real captures): the data
     * still arrives, in order, and the direction ends without a gap. */
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1, "aa");
    c2s(r, A | TSC_TCP_FIN, ISN_C + 1 + 6, NULL);
    ck_assert_str_eq(r->ev, "O1 D0:2 ");
    c2s(r, A, ISN_C + 1 + 2, "bbbb");
    ck_assert_str_eq(r->ev, "O1 D0:2 D0:4 E0:fin ");
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.gap_bytes, 0);
    rec_free(r);
}
END_TEST

START_TEST(t_late_retransmission_after_close)
{
    /* Retransmissions long after a closed connection was reported do not open
     * a new connection; a new SYN on the same ports does. */
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1, "hello");
    s2c(r, A | TSC_TCP_FIN, ISN_S + 1, "bye");
    c2s(r, A | TSC_TCP_FIN, ISN_C + 6, NULL);
    /* Past the close linger (5 s) the connection is reported and forgotten but
     * for its addresses; the server's FIN comes again. */
    struct tsc_tcp_seg late = mkseg(SRV_PORT, CLI_PORT, A | TSC_TCP_FIN, ISN_S + 1, "bye", 110);
    tsc_tcp_process(r->t, &late);
    ck_assert_ptr_nonnull(strstr(r->ev, "C1:fin"));
    ck_assert_ptr_null(strstr(r->ev, "O2"));
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.late_segments, 1);
    ck_assert_uint_eq(st.connections, 1);
    ck_assert_uint_eq(st.open_flows, 0);
    /* Port reuse: a SYN with a new sequence space is a new connection. */
    struct tsc_tcp_seg syn = mkseg(CLI_PORT, SRV_PORT, TSC_TCP_SYN, ISN_C + 900000, NULL, 111);
    tsc_tcp_process(r->t, &syn);
    ck_assert_ptr_nonnull(strstr(r->ev, "O2"));
    /* Past the time-wait period the remembered flow is dropped for good. */
    struct tsc_tcp_seg later = mkseg(SRV_PORT, CLI_PORT, A, ISN_S + 5, NULL, 1000);
    tsc_tcp_process(r->t, &later);
    rec_free(r);
}
END_TEST

START_TEST(t_gap_eof)
{
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1, "aa");
    c2s(r, A, ISN_C + 1 + 5, "bb");
    tsc_tcp_flush_all(r->t, TSC_TCP_END_EOF);
    ck_assert_str_eq(r->ev, "O1 D0:2 G0:3 D0:2 C1:eof ");
    rec_free(r);
}
END_TEST

START_TEST(t_wraparound)
{
    struct rec *r = rec_new(NULL);
    uint32_t ic = 0xfffffff8u;
    handshake(r, ic, 0xffffffffu);
    c2s(r, A, ic + 1 + 4, "efgh"); /* 0xfffffffd .. 0x00000000 */
    c2s(r, A, ic + 1 + 8, "ijkl"); /* wrapped */
    c2s(r, A, ic + 1, "abcd");
    s2c(r, A, 0, "xyz"); /* server ISN+1 wraps to 0 */
    ck_bytes(r, 0, "abcdefghijkl");
    ck_bytes(r, 1, "xyz");
    rec_free(r);
}
END_TEST

START_TEST(t_rst)
{
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1, "abc");
    s2c(r, TSC_TCP_RST, ISN_S + 1, NULL);
    c2s(r, A, ISN_C + 4, "def"); /* after RST: ignored */
    ck_bytes(r, 0, "abc");
    tsc_tcp_flush_all(r->t, TSC_TCP_END_EOF);
    ck_assert_str_eq(r->ev, "O1 D0:3 E0:rst E1:rst C1:rst ");
    rec_free(r);
}
END_TEST

START_TEST(t_syn_retransmit)
{
    struct rec *r = rec_new(NULL);
    c2s(r, TSC_TCP_SYN, ISN_C, NULL);
    c2s(r, TSC_TCP_SYN, ISN_C, NULL);
    c2s(r, TSC_TCP_SYN, ISN_C, NULL);
    s2c(r, TSC_TCP_SYN | A, ISN_S, NULL);
    c2s(r, A, ISN_C + 1, "x");
    ck_assert_int_eq(r->n_open, 1);
    ck_bytes(r, 0, "x");
    rec_free(r);
}
END_TEST

START_TEST(t_port_reuse_half_closed)
{
    /* Only the client closed; a SYN far from the old sequence space starts a
     * new connection and ends the old one as reused. */
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1, "one");
    c2s(r, A | TSC_TCP_FIN, ISN_C + 4, NULL);
    c2s(r, TSC_TCP_SYN, 900000u, NULL);
    ck_assert_str_eq(r->ev, "O1 D0:3 E0:fin C1:reused O2 ");
    rec_free(r);
}
END_TEST

START_TEST(t_port_reuse)
{
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1, "one");
    c2s(r, A | TSC_TCP_FIN, ISN_C + 4, NULL);
    s2c(r, A | TSC_TCP_FIN, ISN_S + 1, NULL);
    c2s(r, TSC_TCP_SYN, ISN_C, NULL); /* retransmitted old SYN: not a new connection */
    ck_assert_int_eq(r->n_open, 1);
    handshake(r, 900000u, 70000u);
    c2s(r, A, 900001u, "two");
    /* The first connection was over (FIN both ways) before the new SYN. */
    ck_assert_str_eq(r->ev, "O1 D0:3 E0:fin E1:fin C1:fin O2 D0:3 ");
    ck_bytes(r, 0, "onetwo");
    rec_free(r);
}
END_TEST

START_TEST(t_keepalive)
{
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1, "abc");
    c2s(r, A, ISN_C + 3, "\x01");  /* keep-alive: one garbage byte at seq - 1 */
    c2s(r, A, ISN_C + 3, NULL);    /* keep-alive without data */
    c2s(r, A, ISN_C + 4, "def");
    ck_bytes(r, 0, "abcdef");
    ck_assert_uint_eq(r->sink.counts[TSC_DIAG_TCP_OVERLAP_CONFLICT], 0);
    rec_free(r);
}
END_TEST

START_TEST(t_zero_window_probe)
{
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    s2c(r, A, ISN_S + 1, "abc");
    s2c(r, A, ISN_S + 4, "d");     /* probe carries the next byte */
    s2c(r, A, ISN_S + 4, "d");     /* probe repeated */
    s2c(r, A, ISN_S + 4, "defg");  /* window opens: full segment */
    ck_bytes(r, 1, "abcdefg");
    ck_assert_uint_eq(r->sink.counts[TSC_DIAG_TCP_OVERLAP_CONFLICT], 0);
    rec_free(r);
}
END_TEST

START_TEST(t_midstream)
{
    struct rec *r = rec_new(NULL);
    struct tsc_tcp_callbacks cb = {cb_open_keep, cb_data, cb_gap, cb_end, cb_close, r};
    tsc_tcp_table_free(r->t);
    ck_assert_int_eq(tsc_tcp_table_new(&r->t, NULL, &cb, &r->sink), TSC_OK);
    s2c(r, A, 777, "srv");  /* first packet from the server port */
    c2s(r, A, 333, "cli");
    s2c(r, A, 780, "more");
    ck_assert_int_eq(g_conn->role_source, TSC_ROLE_PORT);
    ck_assert_uint_eq(g_conn->client.port, CLI_PORT);
    ck_assert(!g_conn->saw_syn);
    ck_bytes(r, 1, "srvmore");
    ck_bytes(r, 0, "cli");
    rec_free(r);
}
END_TEST

START_TEST(t_role_synack)
{
    struct rec *r = rec_new(NULL);
    struct tsc_tcp_callbacks cb = {cb_open_keep, cb_data, cb_gap, cb_end, cb_close, r};
    tsc_tcp_table_free(r->t);
    ck_assert_int_eq(tsc_tcp_table_new(&r->t, NULL, &cb, &r->sink), TSC_OK);
    /* Odd ports: the heuristic alone would pick 2000 as the server. */
    struct tsc_tcp_seg s = mkseg(3000, 2000, TSC_TCP_SYN | A, 1, NULL, 1);
    tsc_tcp_process(r->t, &s);
    ck_assert_int_eq(g_conn->role_source, TSC_ROLE_SYNACK);
    ck_assert_uint_eq(g_conn->client.port, 2000);
    ck_assert_uint_eq(g_conn->server.port, 3000);
    ck_assert(!tsc_tcp_conn_swap_roles(r->t, g_conn));
    rec_free(r);
}
END_TEST

START_TEST(t_role_swap)
{
    struct rec *r = rec_new(NULL);
    struct tsc_tcp_callbacks cb = {cb_open_keep, cb_data, cb_gap, cb_end, cb_close, r};
    tsc_tcp_table_free(r->t);
    ck_assert_int_eq(tsc_tcp_table_new(&r->t, NULL, &cb, &r->sink), TSC_OK);
    /* Ports 5000 -> 6000: the lower port (5000) is taken as the server, wrongly. */
    struct tsc_tcp_seg s = mkseg(5000, 6000, A, 10, "hello", 1);
    r->swap_on_conn = 1;
    tsc_tcp_process(r->t, &s);
    ck_assert_int_eq(g_conn->role_source, TSC_ROLE_CLIENT_HELLO);
    ck_assert_uint_eq(g_conn->client.port, 5000);
    ck_assert_uint_eq(g_conn->stats[TSC_DIR_C2S].packets, 1);
    ck_assert_uint_eq(g_conn->stats[TSC_DIR_C2S].delivered_bytes, 5);
    struct tsc_tcp_seg s2 = mkseg(5000, 6000, A, 15, "again", 1);
    tsc_tcp_process(r->t, &s2);
    struct tsc_tcp_seg s3 = mkseg(6000, 5000, A, 99, "back", 1);
    tsc_tcp_process(r->t, &s3);
    ck_assert_str_eq(r->ev, "O1 D1:5 S1 D0:5 D1:4 ");
    ck_assert(!tsc_tcp_conn_swap_roles(r->t, g_conn) || g_conn->role_source ==
              TSC_ROLE_CLIENT_HELLO);
    rec_free(r);
}
END_TEST

START_TEST(t_truncated_segment)
{
    struct rec *r = rec_new(NULL);
    handshake(r, ISN_C, ISN_S);
    struct tsc_tcp_seg s = mkseg(CLI_PORT, SRV_PORT, A, ISN_C + 1, "abcd", 100);
    s.payload_len = 2; /* snaplen kept "ab" of 4 */
    tsc_tcp_process(r->t, &s);
    c2s(r, A, ISN_C + 5, "ef");
    ck_assert_str_eq(r->ev, "O1 D0:2 G0:2 D0:2 ");
    ck_bytes(r, 0, "abef");
    rec_free(r);
}
END_TEST

START_TEST(t_timeout)
{
    struct rec *r = rec_new(NULL);
    c2s(r, TSC_TCP_SYN, ISN_C, NULL); /* ts 100, never answered */
    struct tsc_tcp_seg s = mkseg(CLI_PORT + 1, SRV_PORT, TSC_TCP_SYN, 1, NULL, 100 + 31);
    s.src.addr[3] = 9;
    tsc_tcp_process(r->t, &s);
    ck_assert_str_eq(r->ev, "O1 C1:timeout O2 ");
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.timed_out_flows, 1);
    ck_assert_uint_eq(st.open_flows, 1);
    struct tsc_ts later = {100 + 31 + 31, 0};
    tsc_tcp_expire(r->t, later);
    ck_assert_uint_eq(r->n_close, 2);
    rec_free(r);
}
END_TEST

/* ---- malformed: odd inputs never corrupt the stream or crash ---- */

START_TEST(t_odd_flags)
{
    struct rec *r = rec_new(NULL);
    c2s(r, TSC_TCP_SYN | TSC_TCP_FIN | TSC_TCP_RST | TSC_TCP_URG, 1, "zz");
    c2s(r, 0, 0x80000000u, "far");
    s2c(r, TSC_TCP_FIN, 0, NULL);
    s2c(r, A, 0xffffffffu, "after-fin");
    tsc_tcp_flush_all(r->t, TSC_TCP_END_EOF);
    ck_assert_int_eq(r->n_open, r->n_close);
    rec_free(r);
}
END_TEST

START_TEST(t_data_before_syn)
{
    /* Retransmitted SYN arriving after a pure ACK: the SYN defines offset 0. */
    struct rec *r = rec_new(NULL);
    c2s(r, A, ISN_C + 1, NULL);
    c2s(r, TSC_TCP_SYN, ISN_C, NULL);
    c2s(r, A, ISN_C + 1, "ok");
    ck_bytes(r, 0, "ok");
    rec_free(r);
}
END_TEST

/* ---- truncated: a stream split at every point, second half first ---- */

static const char k_stream[] = "The quick brown fox jumps over the lazy dog 0123456789";

START_TEST(t_split_every)
{
    size_t n = strlen(k_stream);
    size_t cut = (size_t)_i;
    if (cut == 0 || cut >= n) {
        return;
    }
    struct rec *r = rec_new(NULL);
    handshake(r, 0xffffffe0u, ISN_S);
    char a[128], b[128];
    memcpy(a, k_stream, cut);
    a[cut] = 0;
    memcpy(b, k_stream + cut, n - cut);
    b[n - cut] = 0;
    c2s(r, A, 0xffffffe1u + (uint32_t)cut, b);
    c2s(r, A, 0xffffffe1u, a);
    c2s(r, A, 0xffffffe1u, a);
    ck_bytes(r, 0, k_stream);
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.conflict_bytes, 0);
    ck_assert_uint_eq(st.buffered_bytes, 0);
    rec_free(r);
}
END_TEST

/* ---- limits ---- */

START_TEST(t_flow_cap)
{
    struct tsc_tcp_config cfg;
    tsc_tcp_config_default(&cfg);
    cfg.max_flows = 2;
    struct rec *r = rec_new(&cfg);
    for (int i = 0; i < 3; i++) {
        struct tsc_tcp_seg s = mkseg((uint16_t)(CLI_PORT + i), SRV_PORT, TSC_TCP_SYN, 1, NULL,
                                     100 + i);
        tsc_tcp_process(r->t, &s);
    }
    ck_assert_str_eq(r->ev, "O1 O2 C1:evicted O3 ");
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.evicted_flows, 1);
    ck_assert_uint_eq(st.open_flows, 2);
    ck_assert_uint_eq(st.peak_flows, 2);
    ck_assert_uint_eq(r->sink.counts[TSC_DIAG_TCP_FLOW_EVICTED], 1);
    rec_free(r);
}
END_TEST

START_TEST(t_ooo_cap)
{
    struct tsc_tcp_config cfg;
    tsc_tcp_config_default(&cfg);
    cfg.max_conn_ooo_bytes = 90; /* room for one small piece (data + piece header) */
    struct rec *r = rec_new(&cfg);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1, "aa");
    c2s(r, A, ISN_C + 1 + 10, "bb");
    c2s(r, A, ISN_C + 1 + 20, "cc"); /* over the cap: holes before it are given up */
    ck_assert_str_eq(r->ev, "O1 D0:2 G0:8 D0:2 G0:8 D0:2 ");
    ck_assert_uint_eq(r->sink.counts[TSC_DIAG_TCP_OOO_LIMIT], 1);
    c2s(r, A, ISN_C + 1 + 30, "dd");       /* queued again */
    c2s(r, A, ISN_C + 1 + 2, "xxxxxxxx");  /* late fill of a hole already skipped: old */
    c2s(r, A, ISN_C + 1 + 22, "yyyyyyyy"); /* fills the hole before dd */
    ck_assert_str_eq(r->ev, "O1 D0:2 G0:8 D0:2 G0:8 D0:2 D0:8 D0:2 ");
    ck_bytes(r, 0, "aabbccyyyyyyyydd");
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.gap_bytes, 16);
    ck_assert_uint_eq(st.ooo_dropped_bytes, 16);
    ck_assert_uint_eq(st.buffered_bytes, 0);
    rec_free(r);
}
END_TEST

START_TEST(t_global_cap)
{
    struct tsc_tcp_config cfg;
    tsc_tcp_config_default(&cfg);
    cfg.max_buffered_bytes = 150;
    struct rec *r = rec_new(&cfg);
    handshake(r, ISN_C, ISN_S);
    c2s(r, A, ISN_C + 1 + 10, "first-flow-buffered");
    /* A second flow needs buffer space: the first (older) flow is evicted. */
    struct tsc_tcp_seg s = mkseg(CLI_PORT + 1, SRV_PORT, A, 50, "x", 101);
    tsc_tcp_process(r->t, &s);
    struct tsc_tcp_seg s2 =
        mkseg(CLI_PORT + 1, SRV_PORT, A, 60, "second-flow-buffered-data-xx", 102);
    tsc_tcp_process(r->t, &s2);
    struct tsc_tcp_seg s3 =
        mkseg(CLI_PORT + 1, SRV_PORT, A, 100, "more-more-more-more-more-more-more", 103);
    tsc_tcp_process(r->t, &s3);
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_le(st.peak_buffered_bytes, 150);
    ck_assert_uint_eq(st.evicted_flows, 1);
    ck_assert(strstr(r->ev, "C1:evicted") != NULL);
    rec_free(r);
}
END_TEST

START_TEST(t_many_flows)
{
    /* Hash growth and symmetric lookup with many flows. */
    struct rec *r = rec_new(NULL);
    for (uint32_t i = 0; i < 5000; i++) {
        struct tsc_tcp_seg s = mkseg(CLI_PORT, SRV_PORT, TSC_TCP_SYN, i, NULL, 100);
        s.src.addr[1] = (uint8_t)(i >> 8);
        s.src.addr[2] = (uint8_t)i;
        tsc_tcp_process(r->t, &s);
        struct tsc_tcp_seg b = mkseg(SRV_PORT, CLI_PORT, TSC_TCP_SYN | A, i, NULL, 100);
        b.dst.addr[1] = (uint8_t)(i >> 8);
        b.dst.addr[2] = (uint8_t)i;
        tsc_tcp_process(r->t, &b);
    }
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.connections, 5000);
    ck_assert_uint_eq(st.open_flows, 5000);
    rec_free(r);
}
END_TEST

START_TEST(t_bare_syn_state)
{
    /* Flows of bare SYN / SYN-ACK segments keep no reassembly state; when data
     * comes, their packets are counted and the last SYN's ISN defines offset 0. */
    struct rec *r = rec_new(NULL);
    struct tsc_tcp_callbacks cb = {cb_open_keep, cb_data, cb_gap, cb_end, cb_close, r};
    tsc_tcp_table_free(r->t);
    ck_assert_int_eq(tsc_tcp_table_new(&r->t, NULL, &cb, &r->sink), TSC_OK);
    c2s(r, TSC_TCP_SYN, ISN_C, NULL);
    ck_assert_uint_eq(g_conn->stats[TSC_DIR_C2S].packets, 0); /* shared zeros until data */
    c2s(r, TSC_TCP_SYN, ISN_C + 77, NULL); /* a new SYN before any byte: new ISN */
    s2c(r, TSC_TCP_SYN | A, ISN_S, NULL);
    c2s(r, A, ISN_C + 78, NULL);
    ck_assert_uint_eq(g_conn->stats[TSC_DIR_C2S].packets, 3);
    ck_assert_uint_eq(g_conn->stats[TSC_DIR_S2C].packets, 1);
    c2s(r, A, ISN_C + 78, "abc");
    s2c(r, A, ISN_S + 1, "de");
    ck_bytes(r, 0, "abc");
    ck_bytes(r, 1, "de");
    ck_assert_uint_eq(g_conn->stats[TSC_DIR_C2S].delivered_bytes, 3);
    ck_assert_str_eq(r->ev, "O1 D0:3 D1:2 ");
    rec_free(r);
}
END_TEST

START_TEST(t_bare_syn_flood)
{
    /* SYN-only flows: counted, timed out after the SYN timeout, nothing delivered. */
    struct rec *r = rec_new(NULL);
    for (uint32_t i = 0; i < 3000; i++) {
        struct tsc_tcp_seg s = mkseg(CLI_PORT, SRV_PORT, TSC_TCP_SYN, i * 7, NULL, 100);
        s.src.addr[1] = (uint8_t)(i >> 8);
        s.src.addr[2] = (uint8_t)i;
        tsc_tcp_process(r->t, &s);
    }
    struct tsc_tcp_stats st;
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.connections, 3000);
    ck_assert_uint_eq(st.open_flows, 3000);
    /* A SYN-ACK for one of them, then data: that flow gets state and delivers. */
    struct tsc_tcp_seg b = mkseg(SRV_PORT, CLI_PORT, TSC_TCP_SYN | A, 9000, NULL, 101);
    b.dst.addr[1] = 0;
    b.dst.addr[2] = 5;
    tsc_tcp_process(r->t, &b);
    struct tsc_tcp_seg d = mkseg(CLI_PORT, SRV_PORT, A, 5 * 7 + 1, "hi", 101);
    d.src.addr[1] = 0;
    d.src.addr[2] = 5;
    tsc_tcp_process(r->t, &d);
    ck_bytes(r, 0, "hi");
    tsc_tcp_expire(r->t, (struct tsc_ts){100 + 31, 0});
    tsc_tcp_get_stats(r->t, &st);
    ck_assert_uint_eq(st.open_flows, 1); /* the established one stays */
    ck_assert_uint_eq(st.timed_out_flows, 2999);
    ck_assert_int_eq(r->n_close, 2999);
    rec_free(r);
}
END_TEST

static Suite *tcp_suite(void)
{
    Suite *s = suite_create("tcp");
    TCase *v = tcase_create("valid");
    tcase_add_test(v, t_in_order);
    tcase_add_test(v, t_reorder);
    tcase_add_test(v, t_duplicates);
    tcase_add_test(v, t_overlap_conflict);
    tcase_add_test(v, t_gap_fin);
    tcase_add_test(v, t_fin_before_reordered_data);
    tcase_add_test(v, t_late_retransmission_after_close);
    tcase_add_test(v, t_gap_eof);
    tcase_add_test(v, t_wraparound);
    tcase_add_test(v, t_rst);
    tcase_add_test(v, t_syn_retransmit);
    tcase_add_test(v, t_port_reuse);
    tcase_add_test(v, t_port_reuse_half_closed);
    tcase_add_test(v, t_keepalive);
    tcase_add_test(v, t_zero_window_probe);
    tcase_add_test(v, t_midstream);
    tcase_add_test(v, t_role_synack);
    tcase_add_test(v, t_role_swap);
    tcase_add_test(v, t_truncated_segment);
    tcase_add_test(v, t_timeout);
    tcase_add_test(v, t_bare_syn_state);
    suite_add_tcase(s, v);
    TCase *m = tcase_create("malformed");
    tcase_add_test(m, t_odd_flags);
    tcase_add_test(m, t_data_before_syn);
    suite_add_tcase(s, m);
    TCase *tr = tcase_create("truncated");
    tcase_add_loop_test(tr, t_split_every, 0, (int)sizeof(k_stream));
    suite_add_tcase(s, tr);
    TCase *l = tcase_create("limits");
    tcase_add_test(l, t_flow_cap);
    tcase_add_test(l, t_ooo_cap);
    tcase_add_test(l, t_global_cap);
    tcase_add_test(l, t_many_flows);
    tcase_add_test(l, t_bare_syn_flood);
    suite_add_tcase(s, l);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tcp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
