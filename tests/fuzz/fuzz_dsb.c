/*
 * Fuzz target: the pcapng Decryption Secrets Block scanner
 * (tsc_capture_scan_dsb) and the key store it feeds.
 *
 * The input is a whole file (written to a memfd, since the scanner reads a
 * path). Every TLS key log block found is added to a key store the way the
 * analyzer does (tsc_keys_add_dsb_keylog), then each label is looked up with
 * the first 32 input bytes as a client random. The block count must not exceed
 * what the file could hold (one block takes at least 20 bytes).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/capture.h"
#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
    struct tsc_keys *keys;
    uint32_t seen;
};

static void on_keylog(void *ud, const uint8_t *p, size_t n)
{
    struct ctx *c = ud;
    c->seen++;
    (void)!tsc_keys_add_dsb_keylog(c->keys, p, n, "fuzz.pcapng");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-dsb", 0);
    if (fd < 0) {
        return 0;
    }
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return 0;
        }
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct ctx c = {NULL, 0};
    if (tsc_keys_new(&c.keys, &sink) != TSC_OK) {
        close(fd);
        return 0;
    }
    uint32_t blocks = 0;
    (void)!tsc_capture_scan_dsb(path, on_keylog, &c, &sink, &blocks);
    if (blocks != c.seen || (size_t)blocks * 20 > size) {
        abort();
    }
    uint8_t key[32] = {0};
    memcpy(key, data, size < 32 ? size : 32);
    for (int l = 0; l < TSC_KL__COUNT; l++) {
        (void)tsc_keys_keylog_from_dsb(c.keys, (enum tsc_keylog_label)l, key,
                                       l == TSC_KL_RSA ? 8 : 32);
    }
    tsc_keys_free(c.keys);
    close(fd);
    return 0;
}
