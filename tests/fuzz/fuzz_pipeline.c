/*
 * Fuzz target: the whole pipeline from capture bytes, through the public API.
 *
 * Byte 0 picks the context:
 *   bit 0  JSON Lines (else text)
 *   bit 1  verbosity 2 (else 0)
 *   bit 2  small limits: 64 flows, 4 KiB out-of-order per direction, 16 KiB in
 *          all, 512-byte handshake messages, 2 cached certificates, 1 s idle
 *   bit 3  decrypt with the fixed TLS 1.2 PSK below and show app_data (-d)
 *   bit 4  a second input: the same bytes read again as one time line
 * The rest is a capture file (pcap, pcapng, or gzip of either), handed to
 * tsc_analyzer_run_files() through a memfd, so the capture reader, the
 * pcapng secrets scanner, link/IP/TCP decoding, reassembly, the TLS dissector,
 * decryption and both writers all see the input. Output goes to /dev/null.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tlsscope/tlsscope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_psk[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                     0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

static FILE *devnull(void)
{
    static FILE *f;
    if (f == NULL) {
        f = fopen("/dev/null", "w");
    }
    return f;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || devnull() == NULL) {
        return 0;
    }
    uint8_t ctl = data[0];
    int fd = memfd_create("fuzz-capture", 0);
    if (fd < 0) {
        return 0;
    }
    if (write_all(fd, data + 1, size - 1) != 0) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    struct tsc_config cfg;
    tsc_config_default(&cfg);
    cfg.format = (ctl & 1) ? TSC_FORMAT_JSONL : TSC_FORMAT_TEXT;
    cfg.verbosity = (ctl & 2) ? 2 : 0;
    cfg.quiet = true;
    cfg.progress = false;
    cfg.env_keylog = false;
    cfg.out = devnull();
    if (ctl & 4) {
        cfg.max_flows = 64;
        cfg.max_buffered_bytes = 16384;
        cfg.max_conn_ooo_bytes = 4096;
        cfg.max_handshake_msg = 512;
        cfg.cert_cache_entries = 2;
        cfg.idle_timeout_s = 1;
    }
    if (ctl & 8) {
        cfg.psk = fuzz_psk;
        cfg.psk_len = sizeof(fuzz_psk);
        cfg.show_app_data = true;
    }
    struct tsc_analyzer *a = NULL;
    char err[256];
    if (tsc_analyzer_new(&a, &cfg, err, sizeof(err)) == 0) {
        const char *paths[2] = {path, path};
        (void)tsc_analyzer_run_files(a, paths, (ctl & 16) ? 2 : 1);
        tsc_analyzer_free(a);
    }
    close(fd);
    return 0;
}
