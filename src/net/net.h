/*
 * Link-layer and IP decoding: frame -> TCP segment. Handles Ethernet, 802.1Q/QinQ,
 * MPLS, PPPoE, Linux SLL/SLL2, raw IPv4/IPv6, BSD loopback/NULL; IPv4 options and
 * bounded fragment reassembly; IPv6 extension headers.
 */
#ifndef TSC_NET_H
#define TSC_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "tlsscope/types.h"
#include "util/diag.h"
#include "util/err.h"

#define TSC_TCP_FIN 0x01
#define TSC_TCP_SYN 0x02
#define TSC_TCP_RST 0x04
#define TSC_TCP_PSH 0x08
#define TSC_TCP_ACK 0x10
#define TSC_TCP_URG 0x20

struct tsc_tcp_seg {
    struct tsc_endpoint src;
    struct tsc_endpoint dst;
    uint32_t seq;
    uint32_t ack;
    uint8_t flags;
    uint16_t window;
    const uint8_t *payload; /* borrowed; valid until the next decode call */
    uint32_t payload_len;   /* bytes present */
    uint32_t payload_wirelen; /* bytes the segment carried on the wire (>= payload_len when snaplen-cut) */
    struct tsc_ts ts;
    uint64_t pkt;           /* packet number */
    const char *file;       /* input the frame came from (for diagnostics), may be NULL */
};

struct tsc_net_config {
    uint32_t max_frag_bytes;  /* total bytes buffered for IP reassembly, default 4 MiB */
    uint32_t max_frag_datagrams; /* default 1024 */
    uint32_t frag_timeout_s;  /* default 30 */
};

struct tsc_net;

TSC_MUST_USE enum tsc_err tsc_net_new(struct tsc_net **out, const struct tsc_net_config *cfg,
                                      struct tsc_diag_sink *sink);
void tsc_net_free(struct tsc_net *n);

/*
 * Decode one frame. Returns TSC_OK with *is_tcp true and *seg filled when the
 * frame (or a completed fragment set) carries TCP; TSC_OK with *is_tcp false for
 * frames that are not TCP (counted) or fragments still waiting; an error (and a
 * diagnostic naming the packet) for malformed frames.
 */
TSC_MUST_USE enum tsc_err tsc_net_decode(struct tsc_net *n, const struct tsc_frame *f,
                                         struct tsc_tcp_seg *seg, bool *is_tcp);

struct tsc_net_stats {
    uint64_t frames;
    uint64_t ipv4;
    uint64_t ipv6;
    uint64_t tcp;
    uint64_t udp;
    uint64_t other;
    uint64_t malformed;
    uint64_t fragments;
    uint64_t reassembled;
    uint64_t unknown_linktype;
};
void tsc_net_get_stats(const struct tsc_net *n, struct tsc_net_stats *st);

#endif
