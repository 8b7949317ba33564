/*
 * pcapng Decryption Secrets Blocks. libpcap does not expose them, so the
 * file's blocks are walked here, before the analysis, reading only block
 * headers and seeking over everything else.
 *
 * pcapng (draft-ietf-opsawg-pcapng), 4.7 Decryption Secrets Block:
 *   Block Type = 0x0000000A | Block Total Length | Secrets Type | Secrets Length |
 *   Secrets Data (padded to 32 bits) | Options | Block Total Length
 * Secrets Type 0x544c534b ("TLSK") carries an NSS key log.
 * Byte order is set by each Section Header Block's byte-order magic 0x1A2B3C4D.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "util/cursor.h"

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_DSB 0x0000000Au
#define DSB_TLS_KEYLOG 0x544c534bu
#define DSB_MAX_DATA (16u << 20) /* one block's secrets, bytes */
#define DSB_MAX_BLOCKS (1u << 26) /* blocks walked in one file */

static uint32_t rd32(const uint8_t *p, bool le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                    (uint32_t)p[3] << 24
              : (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 |
                    (uint32_t)p[0] << 24;
}

enum tsc_err tsc_capture_scan_dsb(const char *path,
                                  void (*on_keylog)(void *ud, const uint8_t *p, size_t n),
                                  void *ud, struct tsc_diag_sink *sink, uint32_t *blocks)
{
    *blocks = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return TSC_ERR_IO;
    }
    uint8_t hdr[12];
    bool le = true;
    enum tsc_err e = TSC_OK;
    struct tsc_where w = {path, 0, TSC_NO_CONN, -1, -1};
    /* Not pcapng (or too short): nothing to scan. */
    if (fread(hdr, 1, 12, f) != 12 || rd32(hdr, true) != PCAPNG_SHB) {
        fclose(f);
        return TSC_OK;
    }
    if (fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return TSC_ERR_IO;
    }
    uint8_t *data = NULL;
    for (uint32_t n = 0; n < DSB_MAX_BLOCKS; n++) {
        long at = ftell(f);
        size_t got = fread(hdr, 1, 8, f);
        if (got == 0) {
            break; /* end of file */
        }
        if (got != 8) {
            break; /* a cut last block: the capture reader reports it */
        }
        uint32_t type = rd32(hdr, le);
        if (type == PCAPNG_SHB) {
            /* The byte-order magic follows the length. */
            uint8_t bom[4];
            if (fread(bom, 1, 4, f) != 4) {
                break;
            }
            if (rd32(bom, true) == 0x1A2B3C4Du) {
                le = true;
            } else if (rd32(bom, false) == 0x1A2B3C4Du) {
                le = false;
            } else {
                tsc_diag(sink, TSC_DIAG_CAPTURE_CORRUPT, &w,
                         "pcapng section header at byte %ld has no byte-order magic", at);
                e = TSC_ERR_DECODE;
                break;
            }
            type = rd32(hdr, le);
        }
        uint32_t total = rd32(hdr + 4, le);
        if (total < 12 || total % 4 != 0) {
            tsc_diag(sink, TSC_DIAG_CAPTURE_CORRUPT, &w,
                     "pcapng block at byte %ld has an impossible length %u; secrets after it "
                     "not read",
                     at, total);
            e = TSC_ERR_DECODE;
            break;
        }
        if (type == PCAPNG_DSB) {
            uint32_t body = total - 12;
            if (body < 8 || body - 8 > DSB_MAX_DATA) {
                tsc_diag(sink, TSC_DIAG_CAPTURE_CORRUPT, &w,
                         "decryption secrets block at byte %ld: length %u out of bounds", at,
                         total);
            } else {
                uint8_t *nd = realloc(data, body);
                if (nd == NULL) {
                    e = TSC_ERR_NOMEM;
                    break;
                }
                data = nd;
                if (fread(data, 1, body, f) != body) {
                    break;
                }
                struct tsc_cur c = tsc_cur_make(data, body);
                struct tsc_slice st, sl, sec;
                uint32_t stype = 0, slen = 0;
                if (tsc_cur_bytes(&c, 4, &st) == TSC_OK && tsc_cur_bytes(&c, 4, &sl) == TSC_OK) {
                    stype = rd32(st.p, le);
                    slen = rd32(sl.p, le);
                }
                if (tsc_cur_bytes(&c, slen, &sec) != TSC_OK) {
                    tsc_diag(sink, TSC_DIAG_CAPTURE_CORRUPT, &w,
                             "decryption secrets block at byte %ld: secrets length %u larger "
                             "than the block",
                             at, slen);
                } else if (stype == DSB_TLS_KEYLOG) {
                    (*blocks)++;
                    on_keylog(ud, sec.p, sec.len);
                }
            }
        }
        if (fseek(f, at + (long)total, SEEK_SET) != 0) {
            break;
        }
    }
    free(data);
    fclose(f);
    return e;
}
