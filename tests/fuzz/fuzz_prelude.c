/*
 * Fuzz target: the prelude stage (src/prelude) over a two-direction byte
 * stream. Byte 0: bit 0 small caps (64-byte units, 256 bytes per direction).
 * The rest is split at the marker "SEG": the byte after each marker says
 * where the segment goes (bit 0: direction, bit 1: a gap before it, bit 2:
 * end that direction after it). Checked: every byte of a direction is either
 * prelude or handed on, in order (nothing lost or duplicated), and outcomes
 * and events stay consistent.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prelude/prelude.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acct {
    uint64_t in;  /* bytes given */
    uint64_t out; /* prelude + handed on + lost in gaps */
};

static void take(struct tsc_prelude *p, struct acct *a, const struct tsc_prelude_step *st, size_t n)
{
    if (st->pass_from > n) {
        abort();
    }
    a->out += st->prelude_bytes + st->held.len + (n - st->pass_from);
    enum tsc_prelude_event k;
    while (tsc_prelude_next_event(p, &k)) {
        const struct tsc_prelude_facts *f = tsc_prelude_facts(p);
        if ((k == TSC_PRELUDE_EV_TUNNEL && f->tunnel == NULL) ||
            (k == TSC_PRELUDE_EV_STARTTLS && f->starttls == NULL)) {
            abort();
        }
    }
}

static const uint8_t *find_marker(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 3 <= n; i++) {
        if (p[i] == 'S' && p[i + 1] == 'E' && p[i + 2] == 'G') {
            return p + i;
        }
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    struct tsc_prelude_config cfg;
    tsc_prelude_config_default(&cfg);
    if (data[0] & 1) {
        cfg.max_unit = 64;
        cfg.max_bytes = 256;
    }
    struct tsc_prelude p;
    struct acct a[2] = {{0, 0}, {0, 0}};
    struct tsc_ts ts = {0, 0};
    struct tsc_prelude_step st;
    tsc_prelude_init(&p, &cfg, 1);
    const uint8_t *q = data + 1;
    size_t left = size - 1;
    uint8_t ctl = 0;
    while (left > 0) {
        const uint8_t *m = find_marker(q, left);
        size_t n = m != NULL ? (size_t)(m - q) : left;
        int dir = ctl & 1;
        if (ctl & 2) {
            tsc_prelude_gap(&p, dir, 1, ts, &st);
            take(&p, &a[dir], &st, 0);
        }
        if (n > 0) {
            a[dir].in += n;
            if (tsc_prelude_passing(&p, dir)) {
                a[dir].out += n;
            } else {
                tsc_prelude_data(&p, dir, q, n, 1, ts, &st);
                take(&p, &a[dir], &st, n);
            }
        }
        if (ctl & 4) {
            tsc_prelude_end(&p, dir, &st);
            take(&p, &a[dir], &st, 0);
        }
        if (m == NULL) {
            break;
        }
        size_t skip = (size_t)(m - q) + 3;
        ctl = skip < left ? m[3] : 0;
        skip += skip < left ? 1 : 0;
        q += skip;
        left -= skip;
    }
    for (int d = 0; d < 2; d++) {
        tsc_prelude_end(&p, d, &st);
        take(&p, &a[d], &st, 0);
        if (a[d].in != a[d].out) {
            abort();
        }
    }
    tsc_prelude_close(&p);
    enum tsc_prelude_event k;
    while (tsc_prelude_next_event(&p, &k)) {
    }
    tsc_prelude_free(&p);
    return 0;
}
