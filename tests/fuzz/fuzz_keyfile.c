/*
 * Fuzz target: RSA private key files (PEM, DER, PKCS#8, PKCS#12) through
 * tsc_keys_load_rsa_mem. The first byte picks the password (none, "pw",
 * empty); the rest is the file. A loaded key then decrypts a fixed block
 * (it must fail cleanly or produce 48 bytes).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "keys/keys.h"
#include "keys/keys_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    static const char *const pw[3] = {NULL, "pw", ""};
    struct tsc_diag_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct tsc_keys *k = NULL;
    if (tsc_keys_new(&k, &sink) != TSC_OK) {
        return 0;
    }
    if (tsc_keys_load_rsa_mem(k, data + 1, size - 1, "fuzz", pw[data[0] % 3]) == TSC_OK) {
        uint8_t enc[256];
        uint8_t pms[48];
        memset(enc, 0x5a, sizeof(enc));
        (void)tsc_keys_rsa_decrypt_pms_with(k, 0, enc, sizeof(enc), pms);
    }
    tsc_keys_free(k);
    return 0;
}
