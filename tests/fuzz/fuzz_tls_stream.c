/*
 * Fuzz target: the TLS dissector over a two-direction byte stream.
 *
 * Byte 0 picks the context: bit 0 a small max_handshake_msg (64 bytes), bit 1
 * a small max_record_len (512), bit 2 honour role-swap requests. The rest is
 * split at the marker "SEG": the byte after each marker says where the
 * segment goes (bit 0: direction, bit 1: a 100-byte gap before it, bit 2: end
 * that direction after it). Every handshake message is rendered as JSON and
 * text at verbosity 2, so the renderer sees every parse result.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output/hs_render.h"
#include "tls/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_hs(void *ud, uint64_t id, int dir, const struct tsc_hs_msg *m, uint64_t pkt,
                  struct tsc_ts ts)
{
    struct tsc_buf *b = ud;
    struct tsc_jw w;
    (void)id;
    (void)dir;
    (void)pkt;
    (void)ts;
    tsc_buf_reset(b);
    tsc_jw_init(&w, b);
    tsc_jw_obj_begin(&w);
    tsc_render_hs_json(&w, m, 2);
    tsc_jw_obj_end(&w);
    if (w.depth != 0) {
        abort();
    }
    tsc_buf_reset(b);
    tsc_render_hs_text(b, m, 0, "");
    tsc_render_hs_text(b, m, 2, "    ");
}

static const uint8_t *find_marker(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 3 <= n; i++) {
        if (p[i] == 'S' && p[i + 1] == 'E' && p[i + 2] == 'G') {
            return p + i;
        }
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t ctl = data[0];
    struct tsc_buf out;
    tsc_buf_init(&out, 1u << 20);
    struct tsc_tls_config cfg;
    tsc_tls_config_default(&cfg);
    if (ctl & 1) {
        cfg.max_handshake_msg = 64;
    }
    if (ctl & 2) {
        cfg.max_record_len = 512;
    }
    cfg.events.on_handshake = on_hs;
    cfg.events.ud = &out;
    struct tsc_tls_conn *t = NULL;
    if (tsc_tls_conn_new(&t, &cfg, 1) != TSC_OK) {
        tsc_buf_free(&out);
        return 0;
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    uint8_t op = 0;
    bool swapped = false;
    struct tsc_ts ts = {0, 0};
    uint64_t pkt = 0;
    for (;;) {
        const uint8_t *m = find_marker(p, n);
        size_t seg = m != NULL ? (size_t)(m - p) : n;
        int dir = (op & 1) ^ (swapped ? 1 : 0);
        if (op & 2) {
            tsc_tls_conn_gap(t, dir, 100, pkt, ts);
        }
        bool swap = false;
        tsc_tls_conn_data(t, dir, p, seg, ++pkt, ts, (ctl & 4) ? &swap : NULL);
        if (swap) {
            swapped = !swapped;
            tsc_tls_conn_data(t, dir ^ 1, p, seg, pkt, ts, NULL);
        }
        if (op & 4) {
            tsc_tls_conn_end(t, dir);
        }
        if (m == NULL || (size_t)(m - p) + 4 > n) {
            break;
        }
        op = m[3];
        n -= (size_t)(m - p) + 4;
        p = m + 4;
    }
    tsc_tls_conn_end(t, 0);
    tsc_tls_conn_end(t, 1);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    if (f->dir[0].n_hs_types > TSC_MAX_HS_TYPES || f->n_alerts > TSC_MAX_ALERTS ||
        f->n_hellos > TSC_MAX_HANDSHAKES || memchr(f->sni, 0, sizeof(f->sni)) == NULL ||
        memchr(f->alpn, 0, sizeof(f->alpn)) == NULL) {
        abort();
    }
    tsc_tls_conn_free(t);
    tsc_buf_free(&out);
    return 0;
}
