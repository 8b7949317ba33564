/*
 * pcapng writer for -w (capture.h): Section Header, one Interface Description
 * per link type met (nanosecond timestamps), Decryption Secrets Blocks (TLS
 * key log) and Enhanced Packet Blocks, little-endian
 * (draft-ietf-opsawg-pcapng 4.1, 4.2, 4.3, 4.7). Packets are written as they
 * are read: nothing is held beyond one block.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "tlsscope/tlsscope.h"

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_DSB 0x0000000Au
#define DSB_TLS_KEYLOG 0x544c534bu
#define OUT_MAX_LINKTYPES 16
#define OUT_SNAPLEN 262144u

struct tsc_pcapng_out {
    FILE *f;
    bool failed;
    int linktype[OUT_MAX_LINKTYPES];
    uint32_t n_if;
    uint64_t packets;
    uint64_t dsb_bytes;
};

static void out_bytes(struct tsc_pcapng_out *o, const void *p, size_t n)
{
    if (n > 0 && fwrite(p, 1, n, o->f) != n) {
        o->failed = true;
    }
}

static void out_u16(struct tsc_pcapng_out *o, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    out_bytes(o, b, 2);
}

static void out_u32(struct tsc_pcapng_out *o, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    out_bytes(o, b, 4);
}

static void out_pad(struct tsc_pcapng_out *o, size_t n)
{
    static const uint8_t zero[4];
    out_bytes(o, zero, (4 - (n & 3)) & 3);
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

enum tsc_err tsc_pcapng_out_open(struct tsc_pcapng_out **out, const char *path, char *err,
                                 size_t errlen)
{
    TSC_ENSURE(out != NULL && path != NULL, TSC_ERR_ARG);
    *out = NULL;
    struct tsc_pcapng_out *o = calloc(1, sizeof(*o));
    TSC_ENSURE(o != NULL, TSC_ERR_NOMEM);
    o->f = fopen(path, "wb");
    if (o->f == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        free(o);
        return TSC_ERR_IO;
    }
    /* SHB: magic, version 1.0, section length unknown (-1), option shb_userappl (4). */
    char appl[64];
    int al = snprintf(appl, sizeof(appl), "tlsscope %s", tsc_version());
    size_t alen = al > 0 && (size_t)al < sizeof(appl) ? (size_t)al : 0;
    uint32_t total = (uint32_t)(28 + 4 + pad4(alen) + 4);
    out_u32(o, PCAPNG_SHB);
    out_u32(o, total);
    out_u32(o, 0x1A2B3C4Du);
    out_u16(o, 1);
    out_u16(o, 0);
    out_u32(o, 0xffffffffu);
    out_u32(o, 0xffffffffu);
    out_u16(o, 4);
    out_u16(o, (uint16_t)alen);
    out_bytes(o, appl, alen);
    out_pad(o, alen);
    out_u32(o, 0); /* opt_endofopt */
    out_u32(o, total);
    *out = o;
    return o->failed ? TSC_ERR_IO : TSC_OK;
}

enum tsc_err tsc_pcapng_out_dsb(struct tsc_pcapng_out *o, const uint8_t *keylog, size_t n)
{
    TSC_ENSURE(o != NULL && (keylog != NULL || n == 0), TSC_ERR_ARG);
    TSC_ENSURE(n <= 0xffff0000u - 32, TSC_ERR_LIMIT);
    uint32_t total = (uint32_t)(16 + pad4(n) + 4);
    out_u32(o, PCAPNG_DSB);
    out_u32(o, total);
    out_u32(o, DSB_TLS_KEYLOG);
    out_u32(o, (uint32_t)n);
    out_bytes(o, keylog, n);
    out_pad(o, n);
    out_u32(o, total);
    o->dsb_bytes += n;
    return o->failed ? TSC_ERR_IO : TSC_OK;
}

/* Interface index for a link type; a new Interface Description Block on first use. */
static int out_interface(struct tsc_pcapng_out *o, int linktype)
{
    for (uint32_t i = 0; i < o->n_if; i++) {
        if (o->linktype[i] == linktype) {
            return (int)i;
        }
    }
    if (o->n_if >= OUT_MAX_LINKTYPES) {
        return -1;
    }
    /* IDB: linktype, reserved, snaplen, option if_tsresol (9) = 9 (nanoseconds). */
    uint32_t total = 20 + 8 + 4;
    out_u32(o, PCAPNG_IDB);
    out_u32(o, total);
    out_u16(o, (uint16_t)linktype);
    out_u16(o, 0);
    out_u32(o, OUT_SNAPLEN);
    out_u16(o, 9);
    out_u16(o, 1);
    const uint8_t resol[4] = {9, 0, 0, 0};
    out_bytes(o, resol, 4);
    out_u32(o, 0);
    out_u32(o, total);
    o->linktype[o->n_if] = linktype;
    return (int)o->n_if++;
}

enum tsc_err tsc_pcapng_out_packet(struct tsc_pcapng_out *o, const struct tsc_frame *f)
{
    TSC_ENSURE(o != NULL && f != NULL && f->data != NULL, TSC_ERR_ARG);
    int ifx = out_interface(o, f->linktype);
    TSC_ENSURE(ifx >= 0, TSC_ERR_LIMIT);
    uint64_t ns = (uint64_t)f->ts.sec * 1000000000u + f->ts.nsec;
    uint32_t total = (uint32_t)(28 + pad4(f->caplen) + 4);
    out_u32(o, PCAPNG_EPB);
    out_u32(o, total);
    out_u32(o, (uint32_t)ifx);
    out_u32(o, (uint32_t)(ns >> 32));
    out_u32(o, (uint32_t)ns);
    out_u32(o, f->caplen);
    out_u32(o, f->wirelen);
    out_bytes(o, f->data, f->caplen);
    out_pad(o, f->caplen);
    out_u32(o, total);
    o->packets++;
    return o->failed ? TSC_ERR_IO : TSC_OK;
}

uint64_t tsc_pcapng_out_packets(const struct tsc_pcapng_out *o)
{
    return o != NULL ? o->packets : 0;
}

enum tsc_err tsc_pcapng_out_close(struct tsc_pcapng_out *o)
{
    if (o == NULL) {
        return TSC_OK;
    }
    bool bad = o->failed || fflush(o->f) != 0 || ferror(o->f);
    bad = fclose(o->f) != 0 || bad;
    free(o);
    return bad ? TSC_ERR_IO : TSC_OK;
}
