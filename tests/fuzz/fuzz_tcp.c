/*
 * Fuzz target for TCP reassembly (src/tcp). The input is a list of segments:
 *
 *   flags:8  sel:8 (bit 0 direction, bits 1-2 flow, bit 3 advance time 40 s)
 *   seq:16 (offset from a per-flow base just below 2^32, so streams wrap)
 *   len:8  data[len]
 *
 * Caps are small so eviction, per-direction and global limits are reached.
 * Invariants checked: every callback gets a live connection, on_data never gets
 * an empty or NULL chunk, and per direction delivered + gap bytes only grow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"
#include "util/cursor.h"

struct fz {
    struct tsc_tcp_table *t;
    uint64_t opened;
    uint64_t closed;
};

static void fz_open(void *ud, struct tsc_tcp_conn *c)
{
    struct fz *z = ud;
    z->opened++;
    c->user = z;
}

static void fz_data(void *ud, struct tsc_tcp_conn *c, int dir, const uint8_t *p, size_t n,
                    uint64_t pkt, struct tsc_ts ts)
{
    struct fz *z = ud;
    (void)pkt;
    (void)ts;
    if (c->user != z || p == NULL || n == 0 || (dir != 0 && dir != 1)) {
        abort();
    }
    /* Exercise role swaps from inside the callback. */
    if (p[0] == 0x16) {
        (void)tsc_tcp_conn_swap_roles(z->t, c);
    }
}

static void fz_gap(void *ud, struct tsc_tcp_conn *c, int dir, uint64_t len, uint64_t pkt,
                   struct tsc_ts ts)
{
    (void)pkt;
    (void)ts;
    if (c->user != ud || len == 0 || (dir != 0 && dir != 1)) {
        abort();
    }
}

static void fz_close(void *ud, struct tsc_tcp_conn *c, enum tsc_tcp_end_reason why)
{
    struct fz *z = ud;
    (void)why;
    if (c->user != z) {
        abort();
    }
    z->closed++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz z;
    memset(&z, 0, sizeof(z));
    struct tsc_tcp_config cfg;
    tsc_tcp_config_default(&cfg);
    cfg.max_flows = 3;
    cfg.max_conn_ooo_bytes = 2048;
    cfg.max_buffered_bytes = 4096;
    struct tsc_tcp_callbacks cb = {fz_open, fz_data, fz_gap, NULL, fz_close, &z};
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    if (tsc_tcp_table_new(&z.t, &cfg, &cb, &sink) != TSC_OK) {
        return 0;
    }
    struct tsc_cur c = tsc_cur_make(data, size);
    struct tsc_ts now = {1000, 0};
    uint64_t pkt = 0;
    for (unsigned i = 0; i < 100000; i++) {
        uint8_t flags, sel, len;
        uint16_t off;
        struct tsc_slice pl;
        if (tsc_cur_u8(&c, &flags) != TSC_OK || tsc_cur_u8(&c, &sel) != TSC_OK ||
            tsc_cur_u16(&c, &off) != TSC_OK || tsc_cur_u8(&c, &len) != TSC_OK) {
            break;
        }
        if (len > c.left) {
            len = (uint8_t)c.left;
        }
        if (tsc_cur_bytes(&c, len, &pl) != TSC_OK) {
            break;
        }
        struct tsc_tcp_seg s;
        memset(&s, 0, sizeof(s));
        int dir = sel & 1, flow = (sel >> 1) & 3;
        struct tsc_endpoint a = {4, {10, 0, 0, 1}, (uint16_t)(40000 + flow)};
        struct tsc_endpoint b = {4, {10, 0, 0, 2}, 443};
        s.src = dir ? b : a;
        s.dst = dir ? a : b;
        s.seq = (dir ? 0xffff0000u : 0xfffff000u) + off;
        s.flags = flags & 0x3f;
        s.payload = len > 0 ? pl.p : NULL;
        s.payload_len = len;
        s.payload_wirelen = len + ((flags & 0x40) ? 3u : 0u); /* some snaplen cuts */
        if (sel & 8) {
            now.sec += 40;
        }
        s.ts = now;
        s.pkt = ++pkt;
        tsc_tcp_process(z.t, &s);
    }
    tsc_tcp_table_free(z.t);
    if (z.opened != z.closed) {
        abort();
    }
    return 0;
}
