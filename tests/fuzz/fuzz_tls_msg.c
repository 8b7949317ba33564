/*
 * Fuzz target: one handshake message body through tsc_msg_parse, the
 * renderer and, for hellos, the fingerprints (JA3/JA3S/JA4 re-walk the body). Byte 0: handshake type. Byte 1: context: bit 0 SSLv2 message,
 * bit 1 TLS 1.3, bits 2-3 version (0x0300 + index), bits 4-7 index into a
 * small table of cipher suites (one per key exchange family; 0: none). The
 * rest is the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output/hs_render.h"
#include "tls/fingerprint.h"
#include "tls/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t suites[16] = {
    0,      0x002f, 0x0003, 0x0033, 0xc02f, 0x008c, 0x008e, 0xc035,
    0x0092, 0x0018, 0xc017, 0x1301, 0xc00e, 0x0030, 0xc01d, 0xffff,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    static struct tsc_hs_msg m;
    memset(&m, 0, sizeof(m));
    m.type = data[0];
    m.sslv2 = (data[1] & 1) != 0;
    m.ctx.tls13 = (data[1] & 2) != 0;
    m.ctx.version = (uint16_t)(0x0300 + ((data[1] >> 2) & 3));
    m.ctx.cipher_suite = suites[data[1] >> 4];
    m.ctx.have_suite = m.ctx.cipher_suite != 0;
    /* A heap copy of exactly the body, so any overread is caught. */
    uint8_t *body = malloc(size - 2 + 1);
    if (body == NULL) {
        return 0;
    }
    memcpy(body, data + 2, size - 2);
    m.body.p = body;
    m.body.len = size - 2;
    m.length = (uint32_t)(size - 2);
    enum tsc_err e = tsc_msg_parse(&m);
    if ((e == TSC_OK) != m.parsed) {
        abort();
    }
    static struct tsc_fp_ctx *fp; /* one per process, as in the tool */
    if (fp == NULL && tsc_fp_ctx_new(&fp) != TSC_OK) {
        abort();
    }
    struct tsc_buf out, scratch;
    tsc_buf_init(&out, 1u << 20);
    tsc_buf_init(&scratch, 0);
    for (int v = 0; v <= 2; v++) {
        struct tsc_jw w;
        tsc_buf_reset(&out);
        tsc_jw_init(&w, &out);
        tsc_jw_obj_begin(&w);
        tsc_render_hs_json(&w, &m, v);
        tsc_render_fp_json(&w, &m, fp, &scratch);
        tsc_jw_obj_end(&w);
        tsc_buf_reset(&out);
        tsc_render_hs_text(&out, &m, v, "  ");
        tsc_render_fp_text(&out, &m, fp, &scratch, "  ");
    }
    tsc_buf_free(&out);
    tsc_buf_free(&scratch);
    free(body);
    return 0;
}
