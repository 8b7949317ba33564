/*
 * Fuzz target: NSS key log lines (tsc_keys_add_keylog_line) and lookups.
 * The input is split at newlines; each piece is one line. Then every label is
 * looked up with the first 32 input bytes as the client random, so the index
 * is exercised on whatever the lines created.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct tsc_keys *k = NULL;
    if (tsc_keys_new(&k, &sink) != TSC_OK) {
        return 0;
    }
    size_t start = 0;
    uint64_t line = 0;
    /* Each iteration consumes at least one byte. */
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == '\n') {
            line++;
            enum tsc_err e =
                tsc_keys_add_keylog_line(k, (const char *)data + start, i - start, "fuzz", line);
            if (e == TSC_ERR_NOMEM) {
                break;
            }
            start = i + 1;
        }
    }
    uint8_t key[32] = {0};
    memcpy(key, data, size < 32 ? size : 32);
    uint8_t out[TSC_MAX_SECRET];
    size_t n = 0;
    for (int l = 0; l < TSC_KL__COUNT; l++) {
        (void)tsc_keys_keylog_find(k, (enum tsc_keylog_label)l, key, l == TSC_KL_RSA ? 8 : 32, out,
                                   &n);
        const uint8_t *sec = NULL;
        if (tsc_keys_keylog_get(k, (enum tsc_keylog_label)l, key, l == TSC_KL_RSA ? 8 : 32, &sec,
                                &n) &&
            n > 0) {
            out[0] ^= sec[n - 1]; /* touch the whole secret's end */
        }
    }
    struct tsc_keys_stats st;
    tsc_keys_get_stats(k, &st);
    tsc_keys_free(k);
    return 0;
}
