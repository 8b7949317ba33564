/*
 * replicate - scale seed TLS captures up into a benchmark workload.
 *
 * Each seed capture holds one TCP connection recorded on loopback (server and
 * client both 127.0.0.1). The output replays the seed sessions many times:
 * every replica gets its own client address 10.a.b.c and client port, so no
 * two replicas share a 4-tuple; the TLS bytes (and therefore the randoms the
 * key log and the server key are bound to) are unchanged. `-c K` keeps K
 * sessions open at once by emitting their packets round-robin, which is how
 * the concurrent-flow variants are made. Timestamps are synthetic and
 * strictly increasing (`-t` nanoseconds per packet).
 *
 *   replicate -o OUT.pcap [-n SESSIONS] [-b BYTES] [-c CONCURRENT] [-t NS]
 *             SEED.pcap[=WEIGHT] ...
 *
 * Stops starting new sessions when SESSIONS were started or BYTES of packet
 * data were written (whichever comes first; at least one of -n/-b is needed).
 * Prints one JSON object with the counts on standard output.
 *
 * Build: gcc -O2 -std=c11 -D_DEFAULT_SOURCE replicate.c -o replicate -lpcap
 * This is a benchmark tool, not part of the library: it reads only our own
 * seed captures, but still checks every offset it uses against the caplen.
 */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TSC_REP_MAX_SEEDS 64
#define TSC_REP_MAX_SEED_PKTS 2000000u
#define TSC_REP_MAX_SLOTS 4000000u
#define TSC_REP_PORTS 64000u

struct tsc_rep_pkt {
    uint32_t caplen;
    uint32_t len;
    size_t off;      /* offset of the packet bytes in seed->data */
    uint32_t ip_off; /* IPv4 header offset inside the packet */
    uint32_t tcp_off;
    bool c2s;
};

struct tsc_rep_seed {
    const char *path;
    unsigned weight;
    int linktype;
    uint8_t *data;
    size_t data_len;
    struct tsc_rep_pkt *pkts;
    size_t npkts;
    uint64_t bytes; /* sum of caplen */
};

struct tsc_rep_slot {
    uint32_t seed;
    uint32_t pkt;
    uint64_t replica;
    bool active;
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') in one's complement arithmetic. */
static uint16_t csum_update(uint16_t hc, uint16_t old, uint16_t neu)
{
    uint32_t s = (uint32_t)(uint16_t)~hc + (uint16_t)~old + neu;
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return (uint16_t)~s;
}

static uint16_t ip_csum(const uint8_t *h, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        if (i == 10) {
            continue; /* the checksum field itself */
        }
        s += rd16(h + i);
    }
    while (s >> 16) {
        s = (s & 0xffffu) + (s >> 16);
    }
    return (uint16_t)~s;
}

static int link_ip_offset(int linktype, const uint8_t *p, uint32_t caplen, uint32_t *ip_off)
{
    switch (linktype) {
    case DLT_EN10MB:
        if (caplen < 14 || rd16(p + 12) != 0x0800) {
            return -1;
        }
        *ip_off = 14;
        return 0;
    case DLT_LINUX_SLL:
        if (caplen < 16 || rd16(p + 14) != 0x0800) {
            return -1;
        }
        *ip_off = 16;
        return 0;
    case DLT_RAW:
    case 228: /* LINKTYPE_IPV4 */
        *ip_off = 0;
        return 0;
    default:
        return -1;
    }
}

static int load_seed(struct tsc_rep_seed *s)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(s->path, errbuf);
    if (pc == NULL) {
        fprintf(stderr, "replicate: %s: %s\n", s->path, errbuf);
        return -1;
    }
    s->linktype = pcap_datalink(pc);
    size_t cap_data = 1u << 20, cap_pkts = 1024;
    s->data = malloc(cap_data);
    s->pkts = malloc(cap_pkts * sizeof(*s->pkts));
    if (s->data == NULL || s->pkts == NULL) {
        pcap_close(pc);
        return -1;
    }
    uint8_t client_ip[4] = {0};
    uint16_t client_port = 0;
    bool have_client = false;
    struct pcap_pkthdr *h;
    const u_char *p;
    int rc;
    while ((rc = pcap_next_ex(pc, &h, &p)) == 1) {
        uint32_t ip_off;
        if (link_ip_offset(s->linktype, p, h->caplen, &ip_off) != 0) {
            continue;
        }
        const uint8_t *ip = p + ip_off;
        uint32_t room = h->caplen - ip_off;
        if (room < 20 || (ip[0] >> 4) != 4 || ip[9] != 6) {
            continue; /* not IPv4/TCP: dropped from the replica */
        }
        uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
        if (ihl < 20 || room < ihl + 20) {
            continue;
        }
        const uint8_t *tcp = ip + ihl;
        uint8_t flags = tcp[13];
        if (!have_client) {
            /* The sender of the first bare SYN is the client. */
            if ((flags & 0x12) != 0x02) {
                continue;
            }
            memcpy(client_ip, ip + 12, 4);
            client_port = rd16(tcp);
            have_client = true;
        }
        if (s->npkts >= TSC_REP_MAX_SEED_PKTS) {
            fprintf(stderr, "replicate: %s: more than %u packets\n", s->path,
                    TSC_REP_MAX_SEED_PKTS);
            pcap_close(pc);
            return -1;
        }
        if (s->npkts == cap_pkts) {
            cap_pkts *= 2;
            struct tsc_rep_pkt *np = realloc(s->pkts, cap_pkts * sizeof(*np));
            if (np == NULL) {
                pcap_close(pc);
                return -1;
            }
            s->pkts = np;
        }
        while (s->data_len + h->caplen > cap_data) {
            cap_data *= 2;
            uint8_t *nd = realloc(s->data, cap_data);
            if (nd == NULL) {
                pcap_close(pc);
                return -1;
            }
            s->data = nd;
        }
        struct tsc_rep_pkt *k = &s->pkts[s->npkts++];
        k->caplen = h->caplen;
        k->len = h->len;
        k->off = s->data_len;
        k->ip_off = ip_off;
        k->tcp_off = ip_off + ihl;
        k->c2s = memcmp(ip + 12, client_ip, 4) == 0 && rd16(tcp) == client_port;
        memcpy(s->data + s->data_len, p, h->caplen);
        s->data_len += h->caplen;
        s->bytes += h->caplen;
    }
    if (rc == -1) {
        fprintf(stderr, "replicate: %s: %s\n", s->path, pcap_geterr(pc));
    }
    pcap_close(pc);
    if (!have_client || s->npkts == 0) {
        fprintf(stderr, "replicate: %s: no TCP connection with a SYN\n", s->path);
        return -1;
    }
    return 0;
}

/* Rewrite the client side of one packet to the replica's address and port. */
static void rewrite(uint8_t *pkt, const struct tsc_rep_pkt *k, uint64_t replica)
{
    uint8_t *ip = pkt + k->ip_off;
    uint8_t *tcp = pkt + k->tcp_off;
    uint32_t host = (uint32_t)(replica / TSC_REP_PORTS) + 1;
    uint8_t addr[4] = {10, (uint8_t)(host >> 16), (uint8_t)(host >> 8), (uint8_t)host};
    uint16_t port = (uint16_t)(1024 + replica % TSC_REP_PORTS);
    uint8_t *a = k->c2s ? ip + 12 : ip + 16;
    uint8_t *pt = k->c2s ? tcp : tcp + 2;
    uint16_t sum = rd16(tcp + 16);
    /* TCP checksum covers the pseudo-header addresses and the port. */
    sum = csum_update(sum, rd16(a), rd16(addr));
    sum = csum_update(sum, rd16(a + 2), rd16(addr + 2));
    sum = csum_update(sum, rd16(pt), port);
    memcpy(a, addr, 4);
    wr16(pt, port);
    wr16(tcp + 16, sum);
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    wr16(ip + 10, ip_csum(ip, ihl));
}

static void usage(void)
{
    fprintf(stderr, "usage: replicate -o OUT [-n SESSIONS] [-b BYTES] [-c CONCURRENT] [-t NS] "
                    "SEED.pcap[=WEIGHT] ...\n");
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    uint64_t max_sessions = 0, max_bytes = 0, step_ns = 1000;
    uint64_t concurrent = 1;
    int opt;
    while ((opt = getopt(argc, argv, "o:n:b:c:t:")) != -1) {
        switch (opt) {
        case 'o':
            out = optarg;
            break;
        case 'n':
            max_sessions = strtoull(optarg, NULL, 10);
            break;
        case 'b':
            max_bytes = strtoull(optarg, NULL, 10);
            break;
        case 'c':
            concurrent = strtoull(optarg, NULL, 10);
            break;
        case 't':
            step_ns = strtoull(optarg, NULL, 10);
            break;
        default:
            usage();
            return 2;
        }
    }
    int nseeds = argc - optind;
    if (out == NULL || nseeds < 1 || nseeds > TSC_REP_MAX_SEEDS ||
        (max_sessions == 0 && max_bytes == 0) || concurrent < 1 || concurrent > TSC_REP_MAX_SLOTS) {
        usage();
        return 2;
    }
    if (max_sessions == 0) {
        max_sessions = UINT64_MAX;
    }
    if (max_bytes == 0) {
        max_bytes = UINT64_MAX;
    }
    static struct tsc_rep_seed seeds[TSC_REP_MAX_SEEDS];
    /* The weighted schedule: seed i appears weight(i) times. */
    uint32_t *sched = NULL;
    size_t nsched = 0;
    int linktype = -1;
    for (int i = 0; i < nseeds; i++) {
        char *arg = argv[optind + i];
        char *eq = strrchr(arg, '=');
        seeds[i].weight = 1;
        if (eq != NULL) {
            *eq = '\0';
            seeds[i].weight = (unsigned)strtoul(eq + 1, NULL, 10);
            if (seeds[i].weight < 1 || seeds[i].weight > 1000) {
                fprintf(stderr, "replicate: weight must be 1..1000\n");
                return 2;
            }
        }
        seeds[i].path = arg;
        if (load_seed(&seeds[i]) != 0) {
            return 1;
        }
        if (linktype == -1) {
            linktype = seeds[i].linktype;
        } else if (linktype != seeds[i].linktype) {
            fprintf(stderr, "replicate: %s: link type differs from the first seed\n", arg);
            return 1;
        }
        uint32_t *ns = realloc(sched, (nsched + seeds[i].weight) * sizeof(*ns));
        if (ns == NULL) {
            return 1;
        }
        sched = ns;
        for (unsigned w = 0; w < seeds[i].weight; w++) {
            sched[nsched++] = (uint32_t)i;
        }
    }

    pcap_t *dead =
        pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_NANO);
    FILE *fp = fopen(out, "wb");
    if (dead == NULL || fp == NULL) {
        fprintf(stderr, "replicate: %s: %s\n", out, strerror(errno));
        return 1;
    }
    static char iobuf[1 << 22];
    setvbuf(fp, iobuf, _IOFBF, sizeof(iobuf));
    pcap_dumper_t *d = pcap_dump_fopen(dead, fp);
    if (d == NULL) {
        fprintf(stderr, "replicate: %s\n", pcap_geterr(dead));
        return 1;
    }

    struct tsc_rep_slot *slots = calloc(concurrent, sizeof(*slots));
    uint8_t *scratch = malloc(262144);
    if (slots == NULL || scratch == NULL) {
        return 1;
    }
    uint64_t started = 0, packets = 0, bytes = 0, ts_ns = 1700000000ull * 1000000000ull;
    uint64_t per_seed[TSC_REP_MAX_SEEDS] = {0};
    uint64_t active = 0, peak_active = 0;
    bool starting = true;
    /* Fill the slots, then go round-robin until every slot has drained. */
    for (;;) {
        uint64_t progressed = 0;
        for (uint64_t i = 0; i < concurrent; i++) {
            struct tsc_rep_slot *sl = &slots[i];
            if (!sl->active) {
                if (!starting) {
                    continue;
                }
                if (started >= max_sessions || bytes >= max_bytes) {
                    starting = false;
                    continue;
                }
                sl->seed = sched[started % nsched];
                sl->pkt = 0;
                sl->replica = started++;
                sl->active = true;
                per_seed[sl->seed]++;
                active++;
                if (active > peak_active) {
                    peak_active = active;
                }
            }
            const struct tsc_rep_seed *s = &seeds[sl->seed];
            const struct tsc_rep_pkt *k = &s->pkts[sl->pkt];
            memcpy(scratch, s->data + k->off, k->caplen);
            rewrite(scratch, k, sl->replica);
            struct pcap_pkthdr h;
            h.caplen = k->caplen;
            h.len = k->len;
            /* With nanosecond precision, tv_usec carries nanoseconds. */
            h.ts.tv_sec = (time_t)(ts_ns / 1000000000ull);
            h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000ull);
            ts_ns += step_ns;
            pcap_dump((u_char *)d, &h, scratch);
            packets++;
            bytes += k->caplen;
            progressed++;
            if (++sl->pkt == s->npkts) {
                sl->active = false;
                active--;
            }
        }
        if (progressed == 0) {
            break;
        }
    }
    if (pcap_dump_flush(d) != 0 || ferror(fp)) {
        fprintf(stderr, "replicate: %s: write error\n", out);
        return 1;
    }
    pcap_dump_close(d);
    pcap_close(dead);
    printf("{\"sessions\": %" PRIu64 ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64
           ", \"peak_open\": %" PRIu64 ", \"per_seed\": [",
           started, packets, bytes, peak_active);
    for (int i = 0; i < nseeds; i++) {
        printf("%s%" PRIu64, i ? ", " : "", per_seed[i]);
    }
    printf("]}\n");
    for (int i = 0; i < nseeds; i++) {
        free(seeds[i].data);
        free(seeds[i].pkts);
    }
    free(sched);
    free(slots);
    free(scratch);
    return 0;
}
