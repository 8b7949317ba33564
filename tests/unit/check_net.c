/* Unit tests for src/net: hand-built frames for every link type, IP options, IPv6
 * extension headers, fragments, malformed and truncated frames. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

static const char k_payload[] = "GET-TLS-PAYLOAD-0123456789abcdef"; /* 32 bytes */
#define PLEN 32u

struct fb {
    uint8_t b[2048];
    size_t n;
};

static void u8(struct fb *f, unsigned v)
{
    f->b[f->n++] = (uint8_t)v;
}
static void u16(struct fb *f, unsigned v)
{
    u8(f, (v >> 8) & 0xff);
    u8(f, v & 0xff);
}
static void u32(struct fb *f, uint32_t v)
{
    u16(f, v >> 16);
    u16(f, v & 0xffff);
}
static void raw(struct fb *f, const void *p, size_t n)
{
    memcpy(f->b + f->n, p, n);
    f->n += n;
}
static void zeros(struct fb *f, size_t n)
{
    memset(f->b + f->n, 0, n);
    f->n += n;
}

/* TCP header (20 bytes + 4 bytes of options: MSS) and payload. */
static void tcp_hdr(struct fb *f, const void *pl, size_t n)
{
    u16(f, 51000);
    u16(f, 443);
    u32(f, 0x11223344);
    u32(f, 0x55667788);
    u16(f, (6u << 12) | 0x18); /* data offset 6 words, PSH|ACK */
    u16(f, 8192);
    u16(f, 0);
    u16(f, 0);
    u8(f, 2); /* MSS option */
    u8(f, 4);
    u16(f, 1460);
    raw(f, pl, n);
}

#define TCP_LEN (24 + PLEN)

/* IPv4 header with `optwords` words of NOP options, then TCP. */
static void ipv4(struct fb *f, unsigned optwords, uint8_t proto)
{
    u8(f, 0x40 | (5 + optwords));
    u8(f, 0);
    u16(f, 20 + optwords * 4 + TCP_LEN);
    u16(f, 0x1234);
    u16(f, 0x4000); /* DF */
    u8(f, 64);
    u8(f, proto);
    u16(f, 0);
    u32(f, 0x0a000001);
    u32(f, 0x0a000002);
    for (unsigned i = 0; i < optwords * 4; i++) {
        u8(f, 1);
    }
    tcp_hdr(f, k_payload, PLEN);
}

static void ipv6_fixed(struct fb *f, unsigned plen, uint8_t next)
{
    u32(f, 0x60000000);
    u16(f, plen);
    u8(f, next);
    u8(f, 64);
    uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
    a[15] = 1;
    raw(f, a, 16);
    a[15] = 2;
    raw(f, a, 16);
}

static void ipv6(struct fb *f)
{
    ipv6_fixed(f, TCP_LEN, 6);
    tcp_hdr(f, k_payload, PLEN);
}

static void eth(struct fb *f, unsigned type)
{
    zeros(f, 12);
    u16(f, type);
}

static struct tsc_net *net_new(struct tsc_diag_sink *sink, const struct tsc_net_config *cfg)
{
    struct tsc_net *n = NULL;
    ck_assert_int_eq(tsc_net_new(&n, cfg, sink), TSC_OK);
    return n;
}

static struct tsc_frame frame(const struct fb *f, int lt)
{
    struct tsc_frame fr;
    memset(&fr, 0, sizeof(fr));
    fr.data = f->b;
    fr.caplen = (uint32_t)f->n;
    fr.wirelen = (uint32_t)f->n;
    fr.linktype = lt;
    fr.num = 7;
    fr.file = "test";
    fr.ts.sec = 1000;
    return fr;
}

static void ck_seg(const struct tsc_tcp_seg *s, uint8_t fam)
{
    ck_assert_uint_eq(s->src.family, fam);
    ck_assert_uint_eq(s->src.port, 51000);
    ck_assert_uint_eq(s->dst.port, 443);
    ck_assert_uint_eq(s->seq, 0x11223344);
    ck_assert_uint_eq(s->ack, 0x55667788);
    ck_assert_uint_eq(s->flags, TSC_TCP_PSH | TSC_TCP_ACK);
    ck_assert_uint_eq(s->window, 8192);
    ck_assert_uint_eq(s->payload_len, PLEN);
    ck_assert_uint_eq(s->payload_wirelen, PLEN);
    ck_assert(memcmp(s->payload, k_payload, PLEN) == 0);
    ck_assert_uint_eq(s->pkt, 7);
    if (fam == 4) {
        ck_assert_uint_eq(s->src.addr[0], 10);
        ck_assert_uint_eq(s->dst.addr[3], 2);
    } else {
        ck_assert_uint_eq(s->src.addr[0], 0x20);
        ck_assert_uint_eq(s->dst.addr[15], 2);
    }
}

/* ---- every link type ---- */

enum { LT_N = 18 };

/* Builds link-type case i into f; returns the linktype and the IP family. */
static int build_case(int i, struct fb *f, uint8_t *fam)
{
    f->n = 0;
    *fam = 4;
    switch (i) {
    case 0: /* Ethernet */
        eth(f, 0x0800);
        ipv4(f, 0, 6);
        return 1;
    case 1: /* 802.1Q */
        eth(f, 0x8100);
        u16(f, 100);
        u16(f, 0x86dd);
        ipv6(f);
        *fam = 6;
        return 1;
    case 2: /* QinQ 802.1ad + 802.1Q */
        eth(f, 0x88a8);
        u16(f, 10);
        u16(f, 0x8100);
        u16(f, 20);
        u16(f, 0x0800);
        ipv4(f, 0, 6);
        return 1;
    case 3: /* old QinQ 0x9100 */
        eth(f, 0x9100);
        u16(f, 10);
        u16(f, 0x0800);
        ipv4(f, 0, 6);
        return 1;
    case 4: /* MPLS, two labels */
        eth(f, 0x8847);
        u32(f, (16u << 12) | 64);
        u32(f, (17u << 12) | 0x100 | 64);
        ipv4(f, 0, 6);
        return 1;
    case 5: /* MPLS multicast, IPv6 */
        eth(f, 0x8848);
        u32(f, (18u << 12) | 0x100 | 64);
        ipv6(f);
        *fam = 6;
        return 1;
    case 6: /* PPPoE session, IPv4 */
        eth(f, 0x8864);
        u8(f, 0x11);
        u8(f, 0);
        u16(f, 0x0042);
        u16(f, 2 + 20 + TCP_LEN);
        u16(f, 0x0021);
        ipv4(f, 0, 6);
        return 1;
    case 7: /* PPPoE session, IPv6 */
        eth(f, 0x8864);
        u8(f, 0x11);
        u8(f, 0);
        u16(f, 0x0042);
        u16(f, 2 + 40 + TCP_LEN);
        u16(f, 0x0057);
        ipv6(f);
        *fam = 6;
        return 1;
    case 8: /* Linux SLL */
        u16(f, 0);
        u16(f, 1);
        u16(f, 6);
        zeros(f, 8);
        u16(f, 0x0800);
        ipv4(f, 0, 6);
        return 113;
    case 9: /* Linux SLL2 */
        u16(f, 0x86dd);
        u16(f, 0);
        u32(f, 3);
        u16(f, 1);
        u8(f, 0);
        u8(f, 6);
        zeros(f, 8);
        ipv6(f);
        *fam = 6;
        return 276;
    case 10: /* DLT_RAW */
        ipv4(f, 0, 6);
        return 12;
    case 11: /* LINKTYPE_RAW, IPv6 */
        ipv6(f);
        *fam = 6;
        return 101;
    case 12: /* LINKTYPE_IPV4 */
        ipv4(f, 0, 6);
        return 228;
    case 13: /* LINKTYPE_IPV6 */
        ipv6(f);
        *fam = 6;
        return 229;
    case 14: /* NULL, little-endian AF_INET */
        u8(f, 2);
        u8(f, 0);
        u8(f, 0);
        u8(f, 0);
        ipv4(f, 0, 6);
        return 0;
    case 15: /* NULL, big-endian AF 24 (OpenBSD IPv6) */
        u32(f, 24);
        ipv6(f);
        *fam = 6;
        return 0;
    case 16: /* LOOP, AF 30 (Darwin IPv6) little-endian */
        u8(f, 30);
        zeros(f, 3);
        ipv6(f);
        *fam = 6;
        return 108;
    case 17: /* NULL, AF 28 (FreeBSD IPv6) big-endian */
        u32(f, 28);
        ipv6(f);
        *fam = 6;
        return 0;
    default:
        return -1;
    }
}

START_TEST(t_linktypes)
{
    struct fb f;
    uint8_t fam;
    int lt = build_case(_i, &f, &fam);
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct tsc_net *n = net_new(&sink, NULL);
    struct tsc_frame fr = frame(&f, lt);
    struct tsc_tcp_seg s;
    bool is_tcp = false;
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
    ck_assert(is_tcp);
    ck_seg(&s, fam);
    /* Ethernet padding after the IP datagram is not payload. */
    zeros(&f, 20);
    fr = frame(&f, lt);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
    ck_assert(is_tcp);
    ck_seg(&s, fam);
    struct tsc_net_stats st;
    tsc_net_get_stats(n, &st);
    ck_assert_uint_eq(st.tcp, 2);
    ck_assert_uint_eq(fam == 4 ? st.ipv4 : st.ipv6, 2);
    tsc_net_free(n);
}
END_TEST

START_TEST(t_ipv4_options)
{
    struct fb f = {.n = 0};
    eth(&f, 0x0800);
    ipv4(&f, 10, 6); /* IHL 15: 40 bytes of options */
    struct tsc_net *n = net_new(NULL, NULL);
    struct tsc_frame fr = frame(&f, 1);
    struct tsc_tcp_seg s;
    bool is_tcp = false;
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
    ck_assert(is_tcp);
    ck_seg(&s, 4);
    tsc_net_free(n);
}
END_TEST

START_TEST(t_ipv6_ext)
{
    struct fb f = {.n = 0};
    eth(&f, 0x86dd);
    /* HBH (8) -> Routing (24) -> Fragment atomic (8) -> AH (16) -> DestOpts (8) -> TCP */
    ipv6_fixed(&f, 8 + 24 + 8 + 16 + 8 + TCP_LEN, 0);
    u8(&f, 43); u8(&f, 0); zeros(&f, 6);               /* HBH */
    u8(&f, 44); u8(&f, 2); u8(&f, 0); u8(&f, 1); zeros(&f, 20); /* routing, 24 bytes */
    u8(&f, 51); u8(&f, 0); u16(&f, 0); u32(&f, 99);     /* atomic fragment */
    u8(&f, 60); u8(&f, 2); zeros(&f, 14);               /* AH: (2 + 2) * 4 = 16 */
    u8(&f, 6); u8(&f, 0); zeros(&f, 6);                 /* destination options */
    tcp_hdr(&f, k_payload, PLEN);
    struct tsc_net *n = net_new(NULL, NULL);
    struct tsc_frame fr = frame(&f, 1);
    struct tsc_tcp_seg s;
    bool is_tcp = false;
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
    ck_assert(is_tcp);
    ck_seg(&s, 6);
    /* ESP stops the walk: not TCP. */
    f.n = 0;
    eth(&f, 0x86dd);
    ipv6_fixed(&f, 16, 50);
    zeros(&f, 16);
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
    ck_assert(!is_tcp);
    tsc_net_free(n);
}
END_TEST

START_TEST(t_snaplen)
{
    struct fb f = {.n = 0};
    eth(&f, 0x0800);
    ipv4(&f, 0, 6);
    struct tsc_net *n = net_new(NULL, NULL);
    struct tsc_frame fr = frame(&f, 1);
    fr.caplen -= 20; /* snaplen kept 12 of 32 payload bytes */
    struct tsc_tcp_seg s;
    bool is_tcp = false;
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
    ck_assert(is_tcp);
    ck_assert_uint_eq(s.payload_len, 12);
    ck_assert_uint_eq(s.payload_wirelen, PLEN);
    /* Same cut without the snaplen excuse: the datagram is malformed. */
    fr.wirelen = fr.caplen;
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_TRUNCATED);
    ck_assert(!is_tcp);
    tsc_net_free(n);
}
END_TEST

START_TEST(t_non_tcp)
{
    struct fb f = {.n = 0};
    eth(&f, 0x0806); /* ARP */
    zeros(&f, 28);
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct tsc_net *n = net_new(&sink, NULL);
    struct tsc_frame fr = frame(&f, 1);
    struct tsc_tcp_seg s;
    bool is_tcp = true;
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
    ck_assert(!is_tcp);
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 0, 17); /* UDP */
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
    ck_assert(!is_tcp);
    /* Unknown link type: three frames, one diagnostic, three counted. */
    for (int i = 0; i < 3; i++) {
        fr = frame(&f, 147);
        ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
        ck_assert(!is_tcp);
    }
    struct tsc_net_stats st;
    tsc_net_get_stats(n, &st);
    ck_assert_uint_eq(st.udp, 1);
    ck_assert_uint_eq(st.other, 1);
    ck_assert_uint_eq(st.unknown_linktype, 3);
    ck_assert_uint_eq(sink.counts[TSC_DIAG_CAPTURE_LINKTYPE], 1);
    ck_assert_uint_eq(st.frames, 5);
    tsc_net_free(n);
}
END_TEST

/* ---- fragments ---- */

/* The IPv4 TCP datagram of ipv4(), split in fragments of 16 payload bytes. */
static size_t v4_frag(struct fb *f, uint16_t id, unsigned off, unsigned len, bool more,
                      const uint8_t *l4)
{
    f->n = 0;
    eth(f, 0x0800);
    u8(f, 0x45);
    u8(f, 0);
    u16(f, 20 + len);
    u16(f, id);
    u16(f, (more ? 0x2000u : 0) | (off / 8));
    u8(f, 64);
    u8(f, 6);
    u16(f, 0);
    u32(f, 0x0a000001);
    u32(f, 0x0a000002);
    raw(f, l4 + off, len);
    return f->n;
}

static void l4_bytes(uint8_t *l4)
{
    struct fb t = {.n = 0};
    tcp_hdr(&t, k_payload, PLEN);
    memcpy(l4, t.b, TCP_LEN);
}

START_TEST(t_frag4)
{
    /* Orders: in order, reversed, and with an overlapping conflicting copy. */
    static const int orders[3][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}};
    uint8_t l4[TCP_LEN];
    l4_bytes(l4);
    struct tsc_net *n = net_new(NULL, NULL);
    for (int o = 0; o < 3; o++) {
        struct tsc_tcp_seg s;
        bool is_tcp = false;
        int got = 0;
        if (o == 2) {
            /*
             * Genuine bytes 16..31 first, then a copy of 8..39 that differs only
             * in 16..31: first-seen wins, so the datagram stays genuine.
             */
            struct fb f;
            v4_frag(&f, (uint16_t)(100 + o), 16, 16, true, l4);
            struct tsc_frame fr = frame(&f, 1);
            ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
            ck_assert(!is_tcp);
            uint8_t evil[TCP_LEN];
            memcpy(evil, l4, TCP_LEN);
            for (int b = 16; b < 32; b++) {
                evil[b] ^= 0x5a;
            }
            v4_frag(&f, (uint16_t)(100 + o), 8, 32, true, evil);
            fr = frame(&f, 1);
            ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
            ck_assert(!is_tcp);
        }
        for (int k = 0; k < 4; k++) {
            int i = orders[o][k];
            unsigned off = (unsigned)i * 16, len = i == 3 ? TCP_LEN - 48 : 16;
            struct fb f;
            v4_frag(&f, (uint16_t)(100 + o), off, len, i != 3, l4);
            struct tsc_frame fr = frame(&f, 1);
            ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
            if (is_tcp) {
                got++;
                ck_assert_int_eq(k, o == 2 ? 2 : 3);
                ck_seg(&s, 4);
            }
        }
        ck_assert_int_eq(got, 1);
    }
    struct tsc_net_stats st;
    tsc_net_get_stats(n, &st);
    ck_assert_uint_eq(st.reassembled, 3);
    ck_assert_uint_eq(st.fragments, 14);
    tsc_net_free(n);
}
END_TEST

START_TEST(t_frag6)
{
    uint8_t l4[TCP_LEN];
    l4_bytes(l4);
    struct tsc_net *n = net_new(NULL, NULL);
    struct tsc_tcp_seg s;
    bool is_tcp = false;
    /* second half first */
    for (int k = 0; k < 2; k++) {
        int i = 1 - k;
        unsigned off = i == 0 ? 0 : 24, len = i == 0 ? 24 : TCP_LEN - 24;
        struct fb f = {.n = 0};
        eth(&f, 0x86dd);
        ipv6_fixed(&f, 8 + len, 44);
        u8(&f, 6);
        u8(&f, 0);
        u16(&f, (off / 8) << 3 | (i == 0 ? 1u : 0u));
        u32(&f, 0xabcdef);
        raw(&f, l4 + off, len);
        struct tsc_frame fr = frame(&f, 1);
        ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
        ck_assert(is_tcp == (k == 1));
    }
    ck_seg(&s, 6);
    tsc_net_free(n);
}
END_TEST

/* ---- malformed ---- */

START_TEST(t_malformed)
{
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct tsc_net *n = net_new(&sink, NULL);
    struct tsc_tcp_seg s;
    bool is_tcp;
    struct fb f;
    struct tsc_frame fr;
    size_t ipo = 14;

    /* IPv4 version 5 in an IPv4 EtherType */
    f.n = 0; eth(&f, 0x0800); ipv4(&f, 0, 6); f.b[ipo] = 0x55;
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_ILLEGAL);
    /* IHL 4 */
    f.n = 0; eth(&f, 0x0800); ipv4(&f, 0, 6); f.b[ipo] = 0x44;
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_DECODE);
    /* total length below the header */
    f.n = 0; eth(&f, 0x0800); ipv4(&f, 0, 6); f.b[ipo + 2] = 0; f.b[ipo + 3] = 10;
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_DECODE);
    /* TCP data offset 4 */
    f.n = 0; eth(&f, 0x0800); ipv4(&f, 0, 6); f.b[ipo + 20 + 12] = 0x40;
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_DECODE);
    /* TCP data offset past the datagram */
    f.n = 0; eth(&f, 0x0800); ipv4(&f, 0, 6); f.b[ipo + 20 + 12] = 0xf0;
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_DECODE);
    /* PPPoE with version 2 */
    f.n = 0; eth(&f, 0x8864); u8(&f, 0x21); u8(&f, 0); u16(&f, 1); u16(&f, 80); u16(&f, 0x21);
    ipv4(&f, 0, 6);
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_ILLEGAL);
    /* MPLS stack without bottom in 16 entries */
    f.n = 0; eth(&f, 0x8847);
    for (int i = 0; i < 20; i++) {
        u32(&f, 64);
    }
    ipv4(&f, 0, 6);
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_LIMIT);
    /* Too many VLAN tags */
    f.n = 0; eth(&f, 0x8100);
    for (int i = 0; i < 20; i++) {
        u16(&f, 1);
        u16(&f, 0x8100);
    }
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_LIMIT);
    /* IPv6 extension chain longer than the cap */
    f.n = 0; eth(&f, 0x86dd); ipv6_fixed(&f, 8 * 20, 60);
    for (int i = 0; i < 20; i++) {
        u8(&f, 60);
        u8(&f, 0);
        zeros(&f, 6);
    }
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_LIMIT);
    /* Non-final fragment not a multiple of 8 */
    uint8_t l4[TCP_LEN];
    l4_bytes(l4);
    v4_frag(&f, 9, 0, 12, true, l4);
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_DECODE);
    /* Fragment past 65535 */
    v4_frag(&f, 9, 0, 16, true, l4);
    f.b[ipo + 6] = 0x3f;
    f.b[ipo + 7] = 0xff;
    fr = frame(&f, 1);
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_ERR_DECODE);
    ck_assert(!is_tcp);
    struct tsc_net_stats st;
    tsc_net_get_stats(n, &st);
    ck_assert_uint_eq(st.malformed, 11);
    ck_assert_uint_eq(st.tcp, 0);
    ck_assert_uint_ge(sink.counts[TSC_DIAG_IP_MALFORMED], 5);
    tsc_net_free(n);
}
END_TEST

/* ---- truncated: every link type cut at every length ---- */

START_TEST(t_cut_every)
{
    int c = _i / 200, cut = _i % 200;
    struct fb f;
    uint8_t fam;
    int lt = build_case(c, &f, &fam);
    if ((size_t)cut >= f.n) {
        return;
    }
    struct tsc_net *n = net_new(NULL, NULL);
    for (int snap = 0; snap < 2; snap++) {
        struct tsc_frame fr = frame(&f, lt);
        fr.caplen = (uint32_t)cut;
        fr.wirelen = snap ? (uint32_t)f.n : (uint32_t)cut;
        struct tsc_tcp_seg s;
        bool is_tcp = false;
        enum tsc_err e = tsc_net_decode(n, &fr, &s, &is_tcp);
        if (e != TSC_OK || !is_tcp) {
            ck_assert(!is_tcp);
            continue;
        }
        /* A snaplen cut may yield a segment, but only a true prefix of the payload. */
        ck_assert(snap);
        ck_assert_uint_lt(s.payload_len, PLEN);
        ck_assert_uint_eq(s.payload_wirelen, PLEN);
        ck_assert(s.payload_len == 0 || memcmp(s.payload, k_payload, s.payload_len) == 0);
        ck_assert_uint_eq(s.seq, 0x11223344);
    }
    tsc_net_free(n);
}
END_TEST

/* ---- limits ---- */

START_TEST(t_frag_limits)
{
    uint8_t l4[TCP_LEN];
    l4_bytes(l4);
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct tsc_net_config cfg = {0, 2, 30};
    struct tsc_net *n = net_new(&sink, &cfg);
    struct tsc_tcp_seg s;
    bool is_tcp;
    struct fb f;
    /* Three incomplete datagrams with a cap of two: the oldest goes. */
    for (uint16_t id = 1; id <= 3; id++) {
        v4_frag(&f, id, 0, 16, true, l4);
        struct tsc_frame fr = frame(&f, 1);
        ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
    }
    ck_assert_uint_eq(sink.counts[TSC_DIAG_IP_FRAG_LIMIT], 1);
    /*
     * Completing datagram 1 now fails (its first part was dropped; its later parts
     * start a new entry, which pushes out datagram 2); 3 completes.
     */
    for (uint16_t id = 1; id <= 3; id += 2) {
        bool done = false;
        for (int i = 1; i < 4; i++) {
            unsigned off = (unsigned)i * 16, len = i == 3 ? TCP_LEN - 48 : 16;
            v4_frag(&f, id, off, len, i != 3, l4);
            struct tsc_frame fr = frame(&f, 1);
            ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
            done = done || is_tcp;
        }
        ck_assert(done == (id == 3));
    }
    ck_assert_uint_eq(sink.counts[TSC_DIAG_IP_FRAG_LIMIT], 2);
    /* Timeout: the leftover of datagram 1 expires 31 s later. */
    v4_frag(&f, 50, 0, 16, true, l4);
    struct tsc_frame fr = frame(&f, 1);
    fr.ts.sec += 31;
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
    ck_assert_uint_eq(sink.counts[TSC_DIAG_IP_FRAG_TIMEOUT], 1);
    tsc_net_free(n);

    /* Byte cap: 4 KiB cannot hold a datagram that would need more. */
    struct tsc_net_config small = {4096, 16, 30};
    n = net_new(&sink, &small);
    v4_frag(&f, 77, 0, 16, true, l4);
    f.b[14 + 6] = 0x03; /* offset 0x300 * 8 = 6144: needs a 6 KiB buffer */
    f.b[14 + 7] = 0x00;
    fr = frame(&f, 1);
    uint64_t before = sink.counts[TSC_DIAG_IP_FRAG_LIMIT];
    ck_assert_int_eq(tsc_net_decode(n, &fr, &s, &is_tcp), TSC_OK);
    ck_assert(!is_tcp);
    ck_assert_uint_eq(sink.counts[TSC_DIAG_IP_FRAG_LIMIT], before + 1);
    tsc_net_free(n);
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *v = tcase_create("valid");
    tcase_add_loop_test(v, t_linktypes, 0, LT_N);
    tcase_add_test(v, t_ipv4_options);
    tcase_add_test(v, t_ipv6_ext);
    tcase_add_test(v, t_snaplen);
    tcase_add_test(v, t_non_tcp);
    tcase_add_test(v, t_frag4);
    tcase_add_test(v, t_frag6);
    suite_add_tcase(s, v);
    TCase *m = tcase_create("malformed");
    tcase_add_test(m, t_malformed);
    suite_add_tcase(s, m);
    TCase *t = tcase_create("truncated");
    tcase_add_loop_test(t, t_cut_every, 0, LT_N * 200);
    suite_add_tcase(s, t);
    TCase *l = tcase_create("limits");
    tcase_add_test(l, t_frag_limits);
    suite_add_tcase(s, l);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(net_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
