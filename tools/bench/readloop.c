/*
 * readloop - the floor for capture processing: a bare libpcap read loop.
 *
 * Reads every packet of a capture with pcap_next_ex and counts packets and
 * captured bytes, nothing else. Whatever tlsscope does on top (link, IP, TCP
 * reassembly, TLS) is measured against this. Prints one JSON object.
 *
 * Build: gcc -O2 -std=c11 -D_DEFAULT_SOURCE readloop.c -o readloop -lpcap
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: readloop CAPTURE\n");
        return 2;
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(argv[1], errbuf);
    if (pc == NULL) {
        fprintf(stderr, "readloop: %s: %s\n", argv[1], errbuf);
        return 1;
    }
    uint64_t packets = 0, bytes = 0, wire = 0;
    struct pcap_pkthdr *h;
    const u_char *p;
    int rc;
    while ((rc = pcap_next_ex(pc, &h, &p)) == 1) {
        packets++;
        bytes += h->caplen;
        wire += h->len;
    }
    if (rc == -1) {
        fprintf(stderr, "readloop: %s: %s\n", argv[1], pcap_geterr(pc));
        pcap_close(pc);
        return 1;
    }
    pcap_close(pc);
    printf("{\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"wire_bytes\": %" PRIu64 "}\n",
           packets, bytes, wire);
    return 0;
}
