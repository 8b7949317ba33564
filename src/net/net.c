/*
 * Link-layer and IP decoding: one captured frame in, at most one TCP segment out.
 *
 * Link layers peel down to an EtherType-like protocol number (or an IP version
 * nibble); IPv4 and IPv6 are then decoded with their options / extension
 * headers; fragments are held in a bounded reassembly table keyed on
 * (src, dst, id, proto) and released as one datagram when complete. All wire
 * reads go through struct tsc_cur.
 */
#include "net/net.h"

#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"

/* EtherTypes (IEEE 802 numbers registry). */
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS_UC 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE_SESS 0x8864

/* Link types (tcpdump.org/linktypes.html). */
#define LT_NULL 0
#define LT_EN10MB 1
#define LT_RAW_LINUX 12
#define LT_RAW_BSD 14
#define LT_RAW 101
#define LT_LOOP 108
#define LT_LINUX_SLL 113
#define LT_IPV4 228
#define LT_IPV6 229
#define LT_LINUX_SLL2 276

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

#define MAX_VLAN_TAGS 8      /* nested 802.1Q / 802.1ad tags accepted */
#define MAX_MPLS_LABELS 16   /* label stack entries before we give up */
#define MAX_V6_EXT_HEADERS 16 /* IPv6 extension headers walked per packet */
#define MAX_DATAGRAM 65535u  /* largest reassembled IP payload */

/*
 * Fixed-size headers are taken as one slice from the cursor (one bounds check);
 * fields are then read at constant offsets below the slice length.
 */
static inline uint16_t rd16(const struct tsc_slice *s, size_t at)
{
    return (uint16_t)(((unsigned)s->p[at] << 8) | s->p[at + 1]);
}

static inline uint32_t rd32(const struct tsc_slice *s, size_t at)
{
    return ((uint32_t)s->p[at] << 24) | ((uint32_t)s->p[at + 1] << 16) |
           ((uint32_t)s->p[at + 2] << 8) | s->p[at + 3];
}

/* What the link layer handed us. */
enum l3_kind {
    L3_OTHER = 0,
    L3_IPV4,
    L3_IPV6,
};

/* One IP datagram under reassembly. */
struct frag_dgram {
    struct frag_dgram *next; /* list in arrival order: head is the oldest */
    uint8_t family;
    uint8_t proto;           /* IPv4 protocol, or IPv6 next header after the fragment header */
    uint32_t id;
    uint8_t src[16];
    uint8_t dst[16];
    struct tsc_ts first_ts;
    uint32_t total;          /* payload length once the last fragment is seen, else 0 */
    bool have_last;
    uint32_t cap;            /* bytes allocated in data (and bits in have) */
    uint32_t filled;         /* bytes present */
    uint8_t *data;
    uint8_t *have;           /* one bit per payload byte */
};

struct tsc_net {
    struct tsc_net_config cfg;
    struct tsc_diag_sink *sink;
    struct tsc_net_stats st;
    struct frag_dgram *frags; /* oldest first */
    struct frag_dgram *frags_tail;
    uint32_t n_frags;
    uint64_t frag_bytes;      /* bytes allocated for reassembly */
    uint8_t *done_buf;        /* last reassembled datagram: valid until the next decode */
    /* Unknown link type: one diagnostic per (file, linktype). */
    const char *lt_file;
    int lt_last;
};

/* Parsed IP layer handed to the transport decoder. */
struct ip_info {
    uint8_t family;
    uint8_t src[16];
    uint8_t dst[16];
    uint8_t proto;
    struct tsc_cur l4;     /* transport bytes present */
    uint32_t l4_wirelen;   /* transport bytes the datagram carried */
};

static void net_where(const struct tsc_frame *f, struct tsc_where *w)
{
    w->file = f->file;
    w->pkt = f->num;
    w->conn = TSC_NO_CONN;
    w->dir = -1;
    w->offset = -1;
}

static enum tsc_err net_bad(struct tsc_net *n, const struct tsc_frame *f, enum tsc_diag_kind k,
                            enum tsc_err e, const char *what)
{
    struct tsc_where w;
    net_where(f, &w);
    n->st.malformed++;
    tsc_diag(n->sink, k, &w, "%s (%s)", what, tsc_err_name(e));
    return e;
}

enum tsc_err tsc_net_new(struct tsc_net **out, const struct tsc_net_config *cfg,
                         struct tsc_diag_sink *sink)
{
    TSC_ENSURE(out != NULL, TSC_ERR_ARG);
    struct tsc_net *n = calloc(1, sizeof(*n));
    TSC_ENSURE(n != NULL, TSC_ERR_NOMEM);
    if (cfg != NULL) {
        n->cfg = *cfg;
    }
    if (n->cfg.max_frag_bytes == 0) {
        n->cfg.max_frag_bytes = 4u << 20;
    }
    if (n->cfg.max_frag_datagrams == 0) {
        n->cfg.max_frag_datagrams = 1024;
    }
    if (n->cfg.frag_timeout_s == 0) {
        n->cfg.frag_timeout_s = 30;
    }
    n->sink = sink;
    n->lt_last = -1;
    *out = n;
    return TSC_OK;
}

static void dgram_free(struct tsc_net *n, struct frag_dgram *d)
{
    n->frag_bytes -= (uint64_t)d->cap + (d->cap + 7) / 8;
    free(d->data);
    free(d->have);
    free(d);
}

/* Unlink d (prev is its predecessor or NULL). */
static void dgram_unlink(struct tsc_net *n, struct frag_dgram *prev, struct frag_dgram *d)
{
    if (prev == NULL) {
        n->frags = d->next;
    } else {
        prev->next = d->next;
    }
    if (n->frags_tail == d) {
        n->frags_tail = prev;
    }
    n->n_frags--;
}

void tsc_net_free(struct tsc_net *n)
{
    if (n == NULL) {
        return;
    }
    struct frag_dgram *d = n->frags;
    while (d != NULL) {
        struct frag_dgram *nx = d->next;
        dgram_free(n, d);
        d = nx;
    }
    free(n->done_buf);
    free(n);
}

void tsc_net_get_stats(const struct tsc_net *n, struct tsc_net_stats *st)
{
    *st = n->st;
}

/* ------------------------------------------------------------------------- */
/* Link layers                                                                */

/*
 * Walk EtherType-dispatched headers: 802.1Q / 802.1ad tags, MPLS label stacks,
 * PPPoE session. `type` is the EtherType that precedes the cursor.
 */
static enum tsc_err link_ethertype(struct tsc_cur *c, uint16_t type, enum l3_kind *kind)
{
    /* Each pass strips one header, so the loop cap bounds the work per frame. */
    for (unsigned pass = 0; pass <= MAX_VLAN_TAGS + 2; pass++) {
        switch (type) {
        case ETH_IPV4:
            *kind = L3_IPV4;
            return TSC_OK;
        case ETH_IPV6:
            *kind = L3_IPV6;
            return TSC_OK;
        case ETH_VLAN:
        case ETH_QINQ:
        case ETH_QINQ_OLD:
            /* IEEE 802.1Q tag: uint16 TCI (PCP:3 DEI:1 VID:12); uint16 EtherType. */
            TSC_TRY(tsc_cur_skip(c, 2));
            TSC_TRY(tsc_cur_u16(c, &type));
            break;
        case ETH_MPLS_UC:
        case ETH_MPLS_MC: {
            /*
             * RFC 3032 2.1: label stack entry = Label:20 Exp:3 S:1 TTL:8; S=1 marks
             * the bottom of the stack. The payload protocol is not signalled; we
             * guess from the IP version nibble.
             */
            bool bos = false;
            for (unsigned i = 0; i < MAX_MPLS_LABELS && !bos; i++) {
                uint32_t lse;
                TSC_TRY(tsc_cur_u32(c, &lse));
                bos = (lse & 0x100u) != 0;
            }
            TSC_ENSURE(bos, TSC_ERR_LIMIT);
            uint8_t v;
            TSC_TRY(tsc_cur_peek_u8(c, 0, &v));
            *kind = (v >> 4) == 4 ? L3_IPV4 : (v >> 4) == 6 ? L3_IPV6 : L3_OTHER;
            return TSC_OK;
        }
        case ETH_PPPOE_SESS: {
            /*
             * RFC 2516 4: VER:4 TYPE:4 CODE:8 SESSION_ID:16 LENGTH:16, then the PPP
             * protocol field (RFC 1661 2) as the first two payload bytes.
             */
            uint8_t vt, code;
            uint16_t sess, len, proto;
            TSC_TRY(tsc_cur_u8(c, &vt));
            TSC_TRY(tsc_cur_u8(c, &code));
            TSC_TRY(tsc_cur_u16(c, &sess));
            TSC_TRY(tsc_cur_u16(c, &len));
            (void)sess;
            /* RFC 2516 4: VER and TYPE MUST be 1; CODE MUST be 0 for session data. */
            TSC_ENSURE(vt == 0x11 && code == 0, TSC_ERR_ILLEGAL);
            TSC_ENSURE(len >= 2, TSC_ERR_DECODE);
            TSC_TRY(tsc_cur_u16(c, &proto));
            /* LENGTH bounds the PPP payload; trailing bytes (Ethernet padding) go. */
            if (c->left > (size_t)len - 2) {
                c->left = (size_t)len - 2;
            }
            *kind = proto == 0x0021 ? L3_IPV4 : proto == 0x0057 ? L3_IPV6 : L3_OTHER;
            return TSC_OK;
        }
        default:
            *kind = L3_OTHER;
            return TSC_OK;
        }
    }
    return TSC_ERR_LIMIT;
}

static enum l3_kind kind_from_nibble(const struct tsc_cur *c)
{
    uint8_t v;
    if (tsc_cur_peek_u8(c, 0, &v) != TSC_OK) {
        return L3_OTHER;
    }
    return (v >> 4) == 4 ? L3_IPV4 : (v >> 4) == 6 ? L3_IPV6 : L3_OTHER;
}

/* BSD address families seen in DLT_NULL / DLT_LOOP headers. */
static enum l3_kind kind_from_af(uint32_t af)
{
    switch (af) {
    case 2:
        return L3_IPV4;
    case 24: /* NetBSD, OpenBSD, BSD/OS */
    case 28: /* FreeBSD */
    case 30: /* Darwin */
        return L3_IPV6;
    default:
        return L3_OTHER;
    }
}

/* Returns TSC_ERR_UNSUPPORTED for link types we do not know. */
static enum tsc_err link_decode(int linktype, struct tsc_cur *c, enum l3_kind *kind)
{
    switch (linktype) {
    case LT_EN10MB: {
        /* Ethernet II: dst[6] src[6] EtherType/length[2]. */
        uint16_t type;
        TSC_TRY(tsc_cur_skip(c, 12));
        TSC_TRY(tsc_cur_u16(c, &type));
        if (type < 0x0600) {
            *kind = L3_OTHER; /* IEEE 802.3 length field: LLC frame, not IP for us */
            return TSC_OK;
        }
        return link_ethertype(c, type, kind);
    }
    case LT_LINUX_SLL: {
        /* SLL: pkttype[2] ARPHRD[2] addrlen[2] addr[8] protocol[2]. */
        uint16_t proto;
        TSC_TRY(tsc_cur_skip(c, 14));
        TSC_TRY(tsc_cur_u16(c, &proto));
        return link_ethertype(c, proto, kind);
    }
    case LT_LINUX_SLL2: {
        /* SLL2: protocol[2] reserved[2] ifindex[4] ARPHRD[2] pkttype[1] addrlen[1] addr[8]. */
        uint16_t proto;
        TSC_TRY(tsc_cur_u16(c, &proto));
        TSC_TRY(tsc_cur_skip(c, 18));
        return link_ethertype(c, proto, kind);
    }
    case LT_RAW_LINUX:
    case LT_RAW_BSD:
    case LT_RAW: {
        uint8_t v;
        TSC_TRY(tsc_cur_peek_u8(c, 0, &v));
        *kind = kind_from_nibble(c);
        return TSC_OK;
    }
    case LT_IPV4:
        *kind = L3_IPV4;
        return TSC_OK;
    case LT_IPV6:
        *kind = L3_IPV6;
        return TSC_OK;
    case LT_NULL:
    case LT_LOOP: {
        /*
         * 4-byte address family: host order of the capturing machine for DLT_NULL,
         * network order for DLT_LOOP (but writers disagree), so accept either:
         * the families fit in 16 bits, a value above that is the other order.
         */
        uint32_t af;
        TSC_TRY(tsc_cur_u32(c, &af));
        if (af > 0xffffu) {
            af = ((af & 0xffu) << 24) | ((af & 0xff00u) << 8) | ((af >> 8) & 0xff00u) |
                 (af >> 24);
        }
        *kind = kind_from_af(af);
        return TSC_OK;
    }
    default:
        return TSC_ERR_UNSUPPORTED;
    }
}

/* ------------------------------------------------------------------------- */
/* Fragment reassembly                                                        */

static bool ts_older(struct tsc_ts a, struct tsc_ts now, uint32_t secs)
{
    /* a + secs < now */
    return a.sec + (int64_t)secs < now.sec ||
           (a.sec + (int64_t)secs == now.sec && a.nsec < now.nsec);
}

static void frag_expire(struct tsc_net *n, const struct tsc_frame *f)
{
    /* The list is in arrival order, so only the head can be the oldest. */
    while (n->frags != NULL && ts_older(n->frags->first_ts, f->ts, n->cfg.frag_timeout_s)) {
        struct frag_dgram *d = n->frags;
        struct tsc_where w;
        net_where(f, &w);
        tsc_diag(n->sink, TSC_DIAG_IP_FRAG_TIMEOUT, &w,
                 "IPv%u datagram id %u incomplete after %u s: %u bytes dropped", d->family,
                 d->id, n->cfg.frag_timeout_s, d->filled);
        dgram_unlink(n, NULL, d);
        dgram_free(n, d);
    }
}

static bool bit_get(const uint8_t *b, uint32_t i)
{
    return (b[i / 8] >> (i % 8)) & 1u;
}

/* Grow d to hold `end` bytes, under the global byte cap. */
static enum tsc_err dgram_grow(struct tsc_net *n, struct frag_dgram *d, uint32_t end)
{
    if (end <= d->cap) {
        return TSC_OK;
    }
    uint32_t ncap = end < 2048 ? 2048 : end;
    if (ncap < d->cap * 2) {
        ncap = d->cap * 2;
    }
    if (ncap > MAX_DATAGRAM) {
        ncap = MAX_DATAGRAM;
    }
    uint64_t extra = (uint64_t)(ncap - d->cap) + ((ncap + 7) / 8 - (d->cap + 7) / 8);
    TSC_ENSURE(n->frag_bytes + extra <= n->cfg.max_frag_bytes, TSC_ERR_LIMIT);
    uint8_t *nd = realloc(d->data, ncap);
    TSC_ENSURE(nd != NULL, TSC_ERR_NOMEM);
    d->data = nd;
    uint8_t *nh = realloc(d->have, (ncap + 7) / 8);
    TSC_ENSURE(nh != NULL, TSC_ERR_NOMEM);
    memset(nh + (d->cap + 7) / 8, 0, (ncap + 7) / 8 - (d->cap + 7) / 8);
    /* Bits past the old cap in the old last byte were never set: nothing to clear. */
    d->have = nh;
    n->frag_bytes += extra;
    d->cap = ncap;
    return TSC_OK;
}

/*
 * Add one fragment. On completion returns TSC_OK with *done set and the whole
 * payload in n->done_buf (length *done_len). Overlaps: the first copy of a byte
 * wins (the later one is ignored), like most end systems after RFC 5722 made
 * overlaps illegal for IPv6.
 */
static enum tsc_err frag_add(struct tsc_net *n, const struct tsc_frame *f, uint8_t family,
                             const uint8_t *src, const uint8_t *dst, uint32_t id, uint8_t proto,
                             uint32_t off, bool more, struct tsc_cur payload, bool *done,
                             uint32_t *done_len)
{
    struct tsc_where w;
    net_where(f, &w);
    *done = false;
    size_t alen = family == 4 ? 4 : 16;
    uint32_t len = (uint32_t)payload.left;
    TSC_ENSURE((uint64_t)off + len <= MAX_DATAGRAM, TSC_ERR_DECODE);
    /* A non-final fragment must carry a multiple of 8 bytes (RFC 791 3.2, RFC 8200 4.5). */
    TSC_ENSURE(!more || (len % 8 == 0 && len > 0), TSC_ERR_DECODE);

    struct frag_dgram *prev = NULL, *d = n->frags;
    for (; d != NULL; prev = d, d = d->next) {
        if (d->family == family && d->id == id && d->proto == proto &&
            memcmp(d->src, src, alen) == 0 && memcmp(d->dst, dst, alen) == 0) {
            break;
        }
    }
    if (d == NULL) {
        if (n->n_frags >= n->cfg.max_frag_datagrams) {
            struct frag_dgram *old = n->frags;
            tsc_diag(n->sink, TSC_DIAG_IP_FRAG_LIMIT, &w,
                     "fragment table full (%u datagrams): oldest (id %u) dropped",
                     n->cfg.max_frag_datagrams, old->id);
            dgram_unlink(n, NULL, old);
            dgram_free(n, old);
        }
        d = calloc(1, sizeof(*d));
        TSC_ENSURE(d != NULL, TSC_ERR_NOMEM);
        d->family = family;
        d->proto = proto;
        d->id = id;
        memcpy(d->src, src, alen);
        memcpy(d->dst, dst, alen);
        d->first_ts = f->ts;
        /* Appended at the tail: its predecessor is the old tail. */
        prev = n->frags_tail;
        if (prev == NULL) {
            n->frags = d;
        } else {
            prev->next = d;
        }
        n->frags_tail = d;
        n->n_frags++;
    }
    uint32_t end = off + len;
    if (!more) {
        /* A second, different end is a conflict: keep the first. */
        if (!d->have_last) {
            d->have_last = true;
            d->total = end;
        }
    }
    if (d->have_last && end > d->total) {
        end = d->total; /* bytes past the known end are ignored */
    }
    enum tsc_err e = TSC_OK;
    if (end > off) {
        e = dgram_grow(n, d, end);
    }
    if (e != TSC_OK) {
        tsc_diag(n->sink, TSC_DIAG_IP_FRAG_LIMIT, &w,
                 "fragment reassembly buffer limit (%u bytes): datagram id %u dropped",
                 n->cfg.max_frag_bytes, id);
        dgram_unlink(n, prev, d);
        dgram_free(n, d);
        return e;
    }
    for (uint32_t i = off; i < end; i++) {
        if (!bit_get(d->have, i)) {
            d->data[i] = payload.p[i - off];
            d->have[i / 8] = (uint8_t)(d->have[i / 8] | (1u << (i % 8)));
            d->filled++;
        }
    }
    if (!d->have_last || d->filled < d->total) {
        return TSC_OK;
    }
    /* Complete: hand the buffer over as done_buf (valid until the next decode). */
    free(n->done_buf);
    n->done_buf = d->data;
    d->data = NULL;
    *done_len = d->total;
    *done = true;
    dgram_unlink(n, prev, d);
    dgram_free(n, d);
    n->st.reassembled++;
    return TSC_OK;
}

/* ------------------------------------------------------------------------- */
/* IP                                                                         */

/*
 * RFC 791 3.1:
 *   Version:4 IHL:4 TOS:8 TotalLength:16 Identification:16 Flags:3 FragOffset:13
 *   TTL:8 Protocol:8 HeaderChecksum:16 Source:32 Destination:32 Options... Padding
 * Returns TSC_OK with *ready false while a fragment set is incomplete.
 */
static enum tsc_err ipv4_decode(struct tsc_net *n, const struct tsc_frame *f, struct tsc_cur c,
                                struct ip_info *ip, bool *ready)
{
    *ready = false;
    size_t avail = c.left;
    struct tsc_slice h;
    TSC_TRY(tsc_cur_bytes(&c, 20, &h));
    uint8_t vihl = h.p[0];
    TSC_ENSURE((vihl >> 4) == 4, TSC_ERR_ILLEGAL);
    /* RFC 791 3.1: the minimum value for a correct header is 5 words. */
    size_t hlen = (size_t)(vihl & 0x0f) * 4;
    TSC_ENSURE(hlen >= 20, TSC_ERR_DECODE);
    uint16_t totlen = rd16(&h, 2);
    uint16_t id = rd16(&h, 4);
    uint16_t frag = rd16(&h, 6);
    uint8_t proto = h.p[9];
    /* TOS, TTL and the checksum are not used: offload makes captured checksums unreliable. */
    ip->family = 4;
    memset(ip->src, 0, sizeof(ip->src));
    memset(ip->dst, 0, sizeof(ip->dst));
    memcpy(ip->src, h.p + 12, 4);
    memcpy(ip->dst, h.p + 16, 4);
    TSC_TRY(tsc_cur_skip(&c, hlen - 20)); /* options: not interpreted */
    /* Total length covers the header; TSO captures may show 0 (not supported). */
    TSC_ENSURE(totlen >= hlen, TSC_ERR_DECODE);
    size_t body_wire = (size_t)totlen - hlen;
    size_t body_have = c.left;
    if (totlen > avail) {
        /* Fewer bytes than the header claims: acceptable only when the snap length cut it. */
        TSC_ENSURE(f->caplen < f->wirelen, TSC_ERR_TRUNCATED);
    } else {
        body_have = body_wire; /* drop link-layer padding */
    }
    c.left = body_have;
    n->st.ipv4++;
    ip->proto = proto;
    bool more = (frag & 0x2000u) != 0;
    uint32_t off = (uint32_t)(frag & 0x1fffu) * 8;
    if (!more && off == 0) {
        ip->l4 = c;
        ip->l4_wirelen = (uint32_t)body_wire;
        *ready = true;
        return TSC_OK;
    }
    n->st.fragments++;
    if (body_have < body_wire) {
        return TSC_OK; /* a snaplen-cut fragment cannot be reassembled */
    }
    bool done = false;
    uint32_t dlen = 0;
    enum tsc_err fe = frag_add(n, f, 4, ip->src, ip->dst, id, proto, off, more, c, &done, &dlen);
    if (fe == TSC_ERR_LIMIT) {
        return TSC_OK; /* dropped, already reported */
    }
    TSC_TRY(fe);
    if (done) {
        ip->l4 = tsc_cur_make(n->done_buf, dlen);
        ip->l4_wirelen = dlen;
        *ready = true;
    }
    return TSC_OK;
}

/*
 * RFC 8200 3:
 *   Version:4 TrafficClass:8 FlowLabel:20 PayloadLength:16 NextHeader:8 HopLimit:8
 *   SourceAddress:128 DestinationAddress:128
 * then extension headers (RFC 8200 4), walked with a count cap.
 */
static enum tsc_err ipv6_decode(struct tsc_net *n, const struct tsc_frame *f, struct tsc_cur c,
                                struct ip_info *ip, bool *ready)
{
    *ready = false;
    struct tsc_slice h;
    TSC_TRY(tsc_cur_bytes(&c, 40, &h));
    TSC_ENSURE((h.p[0] >> 4) == 6, TSC_ERR_ILLEGAL);
    uint16_t plen = rd16(&h, 4);
    uint8_t next = h.p[6];
    ip->family = 6;
    memcpy(ip->src, h.p + 8, 16);
    memcpy(ip->dst, h.p + 24, 16);
    /* PayloadLength 0 means a jumbogram (RFC 2675): not supported. */
    TSC_ENSURE(plen > 0, TSC_ERR_UNSUPPORTED);
    if (plen > c.left) {
        TSC_ENSURE(f->caplen < f->wirelen, TSC_ERR_TRUNCATED);
    } else {
        c.left = plen;
    }
    n->st.ipv6++;
    size_t wire_left = plen; /* payload bytes on the wire not yet consumed */
    bool in_frag = false;
    for (unsigned i = 0; i < MAX_V6_EXT_HEADERS; i++) {
        switch (next) {
        case 0:  /* Hop-by-Hop Options */
        case 43: /* Routing */
        case 60: /* Destination Options */
        case 51: /* AH (RFC 4302 2: length in 4-octet units minus 2) */ {
            uint8_t nh, hl;
            TSC_TRY(tsc_cur_u8(&c, &nh));
            TSC_TRY(tsc_cur_u8(&c, &hl));
            size_t len = next == 51 ? ((size_t)hl + 2) * 4 : ((size_t)hl + 1) * 8;
            TSC_TRY(tsc_cur_skip(&c, len - 2));
            TSC_ENSURE(len <= wire_left, TSC_ERR_DECODE);
            wire_left -= len;
            next = nh;
            break;
        }
        case 44: { /* Fragment: NextHeader:8 Reserved:8 FragOffset:13 Res:2 M:1 Identification:32 */
            uint8_t nh, res;
            uint16_t offm;
            uint32_t id;
            TSC_TRY(tsc_cur_u8(&c, &nh));
            TSC_TRY(tsc_cur_u8(&c, &res));
            TSC_TRY(tsc_cur_u16(&c, &offm));
            TSC_TRY(tsc_cur_u32(&c, &id));
            (void)res;
            TSC_ENSURE(wire_left >= 8, TSC_ERR_DECODE);
            wire_left -= 8;
            /* RFC 8200 4.5: only one fragment header; a second one after reassembly is odd. */
            TSC_ENSURE(!in_frag, TSC_ERR_ILLEGAL);
            uint32_t off = (uint32_t)(offm >> 3) * 8;
            bool more = (offm & 1u) != 0;
            next = nh;
            if (off == 0 && !more) {
                break; /* atomic fragment (RFC 6946): just go on */
            }
            n->st.fragments++;
            if (c.left < wire_left) {
                return TSC_OK; /* snaplen-cut fragment */
            }
            bool done = false;
            uint32_t dlen = 0;
            enum tsc_err fe =
                frag_add(n, f, 6, ip->src, ip->dst, id, nh, off, more, c, &done, &dlen);
            if (fe == TSC_ERR_LIMIT) {
                return TSC_OK; /* dropped, already reported */
            }
            TSC_TRY(fe);
            if (!done) {
                return TSC_OK;
            }
            c = tsc_cur_make(n->done_buf, dlen);
            wire_left = dlen;
            in_frag = true;
            break;
        }
        default:
            /* Upper layer, ESP (50) or No Next Header (59): stop walking. */
            ip->proto = next;
            ip->l4 = c;
            ip->l4_wirelen = (uint32_t)wire_left;
            *ready = true;
            return TSC_OK;
        }
    }
    return TSC_ERR_LIMIT;
}

/*
 * RFC 9293 3.1:
 *   SourcePort:16 DestinationPort:16 SequenceNumber:32 AcknowledgmentNumber:32
 *   DOffset:4 Rsrvd:4 Flags:8 Window:16 Checksum:16 UrgentPointer:16 Options...
 */
static enum tsc_err tcp_decode(const struct ip_info *ip, const struct tsc_frame *f,
                               struct tsc_tcp_seg *seg)
{
    struct tsc_cur c = ip->l4;
    struct tsc_slice h;
    TSC_TRY(tsc_cur_bytes(&c, 20, &h));
    uint16_t sport = rd16(&h, 0);
    uint16_t dport = rd16(&h, 2);
    uint32_t seq = rd32(&h, 4);
    uint32_t ack = rd32(&h, 8);
    uint16_t offfl = rd16(&h, 12);
    uint16_t win = rd16(&h, 14);
    /* Checksum and urgent pointer (offsets 16, 18) are not used. */
    size_t doff = (size_t)(offfl >> 12) * 4;
    /* RFC 9293 3.1: Data Offset is at least 5 words. */
    TSC_ENSURE(doff >= 20, TSC_ERR_DECODE);
    TSC_ENSURE(doff <= ip->l4_wirelen, TSC_ERR_DECODE);
    TSC_TRY(tsc_cur_skip(&c, doff - 20)); /* options are skipped, not interpreted */
    memset(seg, 0, sizeof(*seg));
    seg->src.family = ip->family;
    seg->dst.family = ip->family;
    memcpy(seg->src.addr, ip->src, 16);
    memcpy(seg->dst.addr, ip->dst, 16);
    seg->src.port = sport;
    seg->dst.port = dport;
    seg->seq = seq;
    seg->ack = ack;
    seg->flags = (uint8_t)(offfl & 0x3fu);
    seg->window = win;
    seg->payload = c.left > 0 ? c.p : NULL;
    seg->payload_len = (uint32_t)c.left;
    seg->payload_wirelen = ip->l4_wirelen - (uint32_t)doff;
    seg->ts = f->ts;
    seg->pkt = f->num;
    seg->file = f->file;
    return TSC_OK;
}

enum tsc_err tsc_net_decode(struct tsc_net *n, const struct tsc_frame *f, struct tsc_tcp_seg *seg,
                            bool *is_tcp)
{
    *is_tcp = false;
    n->st.frames++;
    if (n->frags != NULL) {
        frag_expire(n, f);
    }
    if (f->data == NULL) {
        n->st.other++;
        return TSC_OK;
    }
    struct tsc_cur c = tsc_cur_make(f->data, f->caplen);
    enum l3_kind kind = L3_OTHER;
    enum tsc_err e = link_decode(f->linktype, &c, &kind);
    if (e == TSC_ERR_UNSUPPORTED) {
        n->st.unknown_linktype++;
        if (n->lt_last != f->linktype || n->lt_file != f->file) {
            struct tsc_where w;
            net_where(f, &w);
            tsc_diag(n->sink, TSC_DIAG_CAPTURE_LINKTYPE, &w,
                     "link type %d not supported: its frames are skipped", f->linktype);
            n->lt_last = f->linktype;
            n->lt_file = f->file;
        }
        return TSC_OK;
    }
    if (e != TSC_OK) {
        return net_bad(n, f, TSC_DIAG_LINK_MALFORMED, e, "link header");
    }
    struct ip_info ip;
    bool ready = false;
    if (kind == L3_IPV4) {
        e = ipv4_decode(n, f, c, &ip, &ready);
    } else if (kind == L3_IPV6) {
        e = ipv6_decode(n, f, c, &ip, &ready);
    } else {
        n->st.other++;
        return TSC_OK;
    }
    if (e == TSC_ERR_UNSUPPORTED) {
        n->st.other++;
        return TSC_OK;
    }
    if (e != TSC_OK) {
        return net_bad(n, f, TSC_DIAG_IP_MALFORMED, e, kind == L3_IPV4 ? "IPv4" : "IPv6");
    }
    if (!ready) {
        return TSC_OK;
    }
    if (ip.proto == IPPROTO_UDP_) {
        n->st.udp++;
        return TSC_OK;
    }
    if (ip.proto != IPPROTO_TCP_) {
        n->st.other++;
        return TSC_OK;
    }
    e = tcp_decode(&ip, f, seg);
    if (e != TSC_OK) {
        return net_bad(n, f, TSC_DIAG_TCP_MALFORMED, e, "TCP header");
    }
    n->st.tcp++;
    *is_tcp = true;
    return TSC_OK;
}
