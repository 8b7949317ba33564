/*
 * JA3, JA3S and JA4 from parsed hellos (see fingerprint.h and
 * docs/fingerprints.md). Every value is read again, in wire order, from the
 * bytes the hello struct borrows: the extension block once through the
 * cursor (struct tsc_fp_walk), vectors inside it opened with the cursor and
 * then read by index (they are whole u16 / u8 values by construction).
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/digest.h"
#include "tls/fingerprint.h"
#include "tls/msg.h"
#include "tls/names.h"
#include "util/buf.h"

/*
 * RFC 5246 7.4.1.2: CipherSuite cipher_suites<2..2^16-2> holds at most 32767
 * values; an extension block (each extension at least 4 bytes) at most 16383.
 */
#define TSC_FP_MAX_SUITES 32767
#define TSC_FP_MAX_EXTS 16383

/*
 * Digests of recent fingerprint strings: the same few client and server
 * stacks make most of the hellos of a capture, so the MD5 / SHA-256 of a
 * string seen before is looked up (direct-mapped by a hash of the string,
 * confirmed by comparing the whole string) instead of computed again.
 * Strings longer than TSC_FP_KEEP are hashed every time.
 */
#define TSC_FP_KEEP 512
#define TSC_FP_SLOTS 256

struct tsc_fp_slot {
    bool used;
    uint8_t alg; /* 0 MD5, 1 SHA-256 */
    uint16_t len;
    uint8_t digest[16]; /* all of MD5; more than JA4's 6 bytes of SHA-256 */
    char s[TSC_FP_KEEP];
};

struct tsc_fp_ctx {
    struct tsc_digest *md[2];          /* MD5, SHA-256 */
    uint16_t types[TSC_FP_MAX_EXTS];   /* non-GREASE extension types of the walked block */
    uint16_t sort[TSC_FP_MAX_SUITES];  /* a list being sorted (JA4) */
    char str[TSC_FP_KEEP];             /* the string being fingerprinted */
    struct tsc_fp_slot cache[TSC_FP_SLOTS];
};

enum tsc_err tsc_fp_ctx_new(struct tsc_fp_ctx **out)
{
    *out = NULL;
    struct tsc_fp_ctx *c = calloc(1, sizeof(*c));
    TSC_ENSURE(c != NULL, TSC_ERR_NOMEM);
    enum tsc_err e = tsc_digest_new(&c->md[0], "MD5");
    if (e == TSC_OK) {
        e = tsc_digest_new(&c->md[1], "SHA256");
    }
    if (e != TSC_OK) {
        tsc_fp_ctx_free(c);
        return e;
    }
    *out = c;
    return TSC_OK;
}

void tsc_fp_ctx_free(struct tsc_fp_ctx *c)
{
    if (c == NULL) {
        return;
    }
    tsc_digest_free(c->md[0]);
    tsc_digest_free(c->md[1]);
    free(c);
}

/* ---- output: a fixed buffer, flushed into the sink when full ---- */

struct tsc_fp_w {
    char *b;
    size_t cap;
    size_t n;
    const struct tsc_fp_sink *sink;
};

static void tsc_fw_flush(struct tsc_fp_w *w)
{
    if (w->n > 0) {
        w->sink->write(w->sink->ud, w->b, w->n);
        w->n = 0;
    }
}

/* Makes room for k <= 16 bytes (every piece written is that short). */
static inline void tsc_fw_room(struct tsc_fp_w *w, size_t k)
{
    if (w->n + k > w->cap) {
        tsc_fw_flush(w);
    }
}

static inline void tsc_fw_ch(struct tsc_fp_w *w, char ch)
{
    tsc_fw_room(w, 1);
    w->b[w->n++] = ch;
}

/* A separator before every item but the first. */
static inline void tsc_fw_sep(struct tsc_fp_w *w, bool *first, char sep)
{
    if (!*first) {
        tsc_fw_ch(w, sep);
    }
    *first = false;
}

static void tsc_fw_dec(struct tsc_fp_w *w, unsigned v)
{
    char d[5]; /* v <= 65535 */
    size_t k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && k < sizeof(d));
    tsc_fw_room(w, k);
    while (k > 0) {
        w->b[w->n++] = d[--k];
    }
}

static const char tsc_fp_hexd[] = "0123456789abcdef";

static inline void tsc_fw_hex4(struct tsc_fp_w *w, uint16_t v)
{
    tsc_fw_room(w, 4);
    w->b[w->n++] = tsc_fp_hexd[(v >> 12) & 0xf];
    w->b[w->n++] = tsc_fp_hexd[(v >> 8) & 0xf];
    w->b[w->n++] = tsc_fp_hexd[(v >> 4) & 0xf];
    w->b[w->n++] = tsc_fp_hexd[v & 0xf];
}

static void tsc_fw_mem(struct tsc_fp_w *w, const char *s, size_t k)
{
    tsc_fw_room(w, k);
    memcpy(w->b + w->n, s, k);
    w->n += k;
}

/* A sink that feeds a digest; the first failure is kept. */
struct tsc_fp_dsink {
    struct tsc_digest *d;
    enum tsc_err err;
};

static void tsc_fp_dsink_write(void *ud, const char *p, size_t n)
{
    struct tsc_fp_dsink *s = ud;
    if (s->err == TSC_OK) {
        s->err = tsc_digest_update(s->d, p, n);
    }
}

/* ---- reading the hello ---- */

/* Value i of a vector of whole u16 values (i < s.len / 2). */
static inline uint16_t tsc_fp_u16(struct tsc_slice s, size_t i)
{
    return (uint16_t)(((unsigned)s.p[2 * i] << 8) | s.p[2 * i + 1]);
}

static inline bool tsc_fp_grease(uint16_t v)
{
    /* RFC 8701 2: 0x0A0A, 0x1A1A, ..., 0xFAFA (as tsc_is_grease, inline here). */
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/*
 * The vector an extension body starts with (1- or 2-byte length), as whole
 * values of `unit` bytes (a trailing partial value is not one). A body whose
 * vector does not fit gives an empty list: the fingerprint shows it empty
 * rather than guessing.
 */
static struct tsc_slice tsc_fp_inner(struct tsc_slice data, unsigned lenbytes, size_t unit)
{
    struct tsc_cur c = tsc_cur_from_slice(data);
    struct tsc_slice v = {NULL, 0};
    if (data.len == 0 ||
        tsc_cur_vec_slice(&c, lenbytes, 0, lenbytes == 1 ? 0xff : 0xffff, &v) != TSC_OK) {
        v.p = NULL;
        v.len = 0;
    }
    v.len -= v.len % unit;
    return v;
}

/*
 * One pass over an extension block (RFC 8446 4.2: struct { ExtensionType
 * extension_type; opaque extension_data<0..2^16-1>; }, framed by the parser
 * already: a failure only ends the walk): the non-GREASE types in wire order
 * and the first body of each extension the fingerprints read.
 */
struct tsc_fp_walk {
    size_t n; /* types in c->types */
    bool sni;
    struct tsc_slice groups, formats, alpn, versions, sigalgs;
    bool have_groups, have_formats, have_alpn, have_versions, have_sigalgs;
};

static void tsc_fp_walk_block(struct tsc_fp_ctx *c, struct tsc_slice block, struct tsc_fp_walk *w)
{
    memset(w, 0, sizeof(*w));
    struct tsc_cur e = tsc_cur_from_slice(block);
    uint16_t type;
    struct tsc_slice data;
    while (w->n < TSC_FP_MAX_EXTS && tsc_cur_u16(&e, &type) == TSC_OK &&
           tsc_cur_vec_slice(&e, 2, 0, 0xffff, &data) == TSC_OK) {
        if (tsc_fp_grease(type)) {
            continue;
        }
        c->types[w->n++] = type;
        struct tsc_slice *keep = NULL;
        bool *have = NULL;
        switch (type) {
        case TSC_EXT_SERVER_NAME:
            w->sni = true;
            break;
        case TSC_EXT_SUPPORTED_GROUPS:
            keep = &w->groups;
            have = &w->have_groups;
            break;
        case TSC_EXT_EC_POINT_FORMATS:
            keep = &w->formats;
            have = &w->have_formats;
            break;
        case TSC_EXT_ALPN:
            keep = &w->alpn;
            have = &w->have_alpn;
            break;
        case TSC_EXT_SUPPORTED_VERSIONS:
            keep = &w->versions;
            have = &w->have_versions;
            break;
        case TSC_EXT_SIGNATURE_ALGORITHMS:
            keep = &w->sigalgs;
            have = &w->have_sigalgs;
            break;
        default:
            break;
        }
        if (keep != NULL && !*have) {
            *keep = data; /* the first one counts */
            *have = true;
        }
    }
}

/* u16 values, decimal, '-' joined, GREASE left out (JA3). */
static void tsc_fp_dec_list(struct tsc_fp_w *w, struct tsc_slice v)
{
    bool first = true;
    for (size_t i = 0; i < v.len / 2; i++) {
        uint16_t x = tsc_fp_u16(v, i);
        if (!tsc_fp_grease(x)) {
            tsc_fw_sep(w, &first, '-');
            tsc_fw_dec(w, x);
        }
    }
}

/* ---- JA3 / JA3S strings ---- */

static void tsc_fp_ja3_w(const struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                         const struct tsc_fp_walk *wk, struct tsc_fp_w *w)
{
    tsc_fw_dec(w, ch->legacy_version);
    tsc_fw_ch(w, ',');
    tsc_fp_dec_list(w, ch->cipher_suites);
    tsc_fw_ch(w, ',');
    bool first = true;
    for (size_t i = 0; i < wk->n; i++) {
        tsc_fw_sep(w, &first, '-');
        tsc_fw_dec(w, c->types[i]);
    }
    tsc_fw_ch(w, ',');
    /* RFC 8422 5.1.1: NamedCurve named_curve_list<2..2^16-1>; */
    tsc_fp_dec_list(w, tsc_fp_inner(wk->groups, 2, 2));
    tsc_fw_ch(w, ',');
    /* RFC 8422 5.1.2: ECPointFormat ec_point_format_list<1..2^8-1>; (u8: no GREASE) */
    struct tsc_slice pf = tsc_fp_inner(wk->formats, 1, 1);
    first = true;
    for (size_t i = 0; i < pf.len; i++) {
        tsc_fw_sep(w, &first, '-');
        tsc_fw_dec(w, pf.p[i]);
    }
}

static void tsc_fp_ja3s_w(const struct tsc_fp_ctx *c, const struct tsc_server_hello *sh,
                          const struct tsc_fp_walk *wk, struct tsc_fp_w *w)
{
    tsc_fw_dec(w, sh->legacy_version);
    tsc_fw_ch(w, ',');
    tsc_fw_dec(w, sh->cipher_suite);
    tsc_fw_ch(w, ',');
    bool first = true;
    for (size_t i = 0; i < wk->n; i++) {
        tsc_fw_sep(w, &first, '-');
        tsc_fw_dec(w, c->types[i]);
    }
}

/* ---- JA4 ---- */

/* Heap sift-down of v[r] within v[0..n). */
static void tsc_fp_sift(uint16_t *v, size_t r, size_t n)
{
    while (2 * r + 1 < n) {
        size_t k = 2 * r + 1;
        if (k + 1 < n && v[k] < v[k + 1]) {
            k++;
        }
        if (v[r] >= v[k]) {
            return;
        }
        uint16_t t = v[r];
        v[r] = v[k];
        v[k] = t;
        r = k;
    }
}

/* Ascending; insertion sort for the usual short lists, heapsort (O(n log n)) beyond. */
static void tsc_fp_sort(uint16_t *v, size_t n)
{
    if (n <= 32) {
        for (size_t i = 1; i < n; i++) {
            uint16_t x = v[i];
            size_t j = i;
            while (j > 0 && v[j - 1] > x) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
        return;
    }
    for (size_t s = n / 2; s-- > 0;) {
        tsc_fp_sift(v, s, n);
    }
    for (size_t end = n - 1; end > 0; end--) {
        uint16_t t = v[0];
        v[0] = v[end];
        v[end] = t;
        tsc_fp_sift(v, 0, end);
    }
}

/*
 * JA4 "TLS and DTLS Version": the highest non-GREASE value of supported_versions
 * (RFC 8446 4.2.1: ProtocolVersion versions<2..254>, 1-byte length), else the
 * ClientHello's legacy_version (also when the extension holds no usable value).
 */
static const char *tsc_fp_ja4_version(const struct tsc_client_hello *ch,
                                      const struct tsc_fp_walk *wk)
{
    uint16_t v = ch->legacy_version;
    if (wk->have_versions) {
        struct tsc_slice l = tsc_fp_inner(wk->versions, 1, 2);
        bool found = false;
        for (size_t i = 0; i < l.len / 2; i++) {
            uint16_t x = tsc_fp_u16(l, i);
            if (!tsc_fp_grease(x) && (!found || x > v)) {
                v = x;
                found = true;
            }
        }
    }
    switch (v) {
    case 0x0304:
        return "13";
    case 0x0303:
        return "12";
    case 0x0302:
        return "11";
    case 0x0301:
        return "10";
    case 0x0300:
        return "s3";
    case 0x0002:
        return "s2";
    case 0xfeff:
        return "d1";
    case 0xfefd:
        return "d2";
    case 0xfefc:
        return "d3";
    default:
        return "00";
    }
}

static bool tsc_fp_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * JA4 "ALPN Extension Value": first and last characters of the first
 * protocol name (RFC 7301 3.1: ProtocolName protocol_name_list<2..2^16-1>,
 * each opaque ProtocolName<1..2^8-1>); "00" without one or when it is empty;
 * when either end is not alphanumeric, the first hex digit of the first byte
 * and the last hex digit of the last byte.
 */
static void tsc_fp_ja4_alpn(const struct tsc_fp_walk *wk, char out[2])
{
    out[0] = '0';
    out[1] = '0';
    if (!wk->have_alpn) {
        return;
    }
    struct tsc_cur l = tsc_cur_from_slice(tsc_fp_inner(wk->alpn, 2, 1));
    struct tsc_slice name;
    if (tsc_cur_vec_slice(&l, 1, 0, 0xff, &name) != TSC_OK || name.len == 0) {
        return;
    }
    uint8_t first = name.p[0];
    uint8_t last = name.p[name.len - 1];
    if (tsc_fp_alnum(first) && tsc_fp_alnum(last)) {
        out[0] = (char)first;
        out[1] = (char)last;
    } else {
        out[0] = tsc_fp_hexd[first >> 4];
        out[1] = tsc_fp_hexd[last & 0xf];
    }
}

static void tsc_fp_two_digits(char *out, size_t n)
{
    if (n > 99) {
        n = 99;
    }
    out[0] = (char)('0' + n / 10);
    out[1] = (char)('0' + n % 10);
}

/* The non-GREASE cipher suites into c->sort; returns how many. */
static size_t tsc_fp_ja4_suites(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch)
{
    size_t n = 0;
    for (size_t i = 0; i < ch->cipher_suites.len / 2 && n < TSC_FP_MAX_SUITES; i++) {
        uint16_t x = tsc_fp_u16(ch->cipher_suites, i);
        if (!tsc_fp_grease(x)) {
            c->sort[n++] = x;
        }
    }
    return n;
}

/* Section a: "t" version d|i ciphers extensions alpn, 10 characters and NUL. */
static void tsc_fp_ja4_a(const struct tsc_client_hello *ch, const struct tsc_fp_walk *wk,
                         size_t n_suites, char a[11])
{
    const char *ver = tsc_fp_ja4_version(ch, wk);
    a[0] = 't'; /* TLS over TCP (tlsscope reads no QUIC nor DTLS) */
    a[1] = ver[0];
    a[2] = ver[1];
    a[3] = wk->sni ? 'd' : 'i';
    tsc_fp_two_digits(a + 4, n_suites);
    tsc_fp_two_digits(a + 6, wk->n);
    tsc_fp_ja4_alpn(wk, a + 8);
    a[10] = '\0';
}

/* 4-hex values comma joined. */
static void tsc_fp_hex_list(struct tsc_fp_w *w, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            tsc_fw_ch(w, ',');
        }
        tsc_fw_hex4(w, v[i]);
    }
}

/* Section b list (sorted unless original); returns how many values it has. */
static size_t tsc_fp_ja4_b_w(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                             bool original, struct tsc_fp_w *w)
{
    size_t n = tsc_fp_ja4_suites(c, ch);
    if (!original) {
        tsc_fp_sort(c->sort, n);
    }
    tsc_fp_hex_list(w, c->sort, n);
    return n;
}

/*
 * Section c: the extension list (sorted without SNI and ALPN, or in wire
 * order with them), then "_" and the signature algorithms in wire order when
 * there is at least one. Returns how many extensions the list has.
 */
static size_t tsc_fp_ja4_c_w(struct tsc_fp_ctx *c, const struct tsc_fp_walk *wk, bool original,
                             struct tsc_fp_w *w)
{
    size_t n = 0;
    for (size_t i = 0; i < wk->n; i++) {
        uint16_t t = c->types[i];
        if (original || (t != TSC_EXT_SERVER_NAME && t != TSC_EXT_ALPN)) {
            c->sort[n++] = t;
        }
    }
    if (!original) {
        tsc_fp_sort(c->sort, n);
    }
    tsc_fp_hex_list(w, c->sort, n);
    if (wk->have_sigalgs) {
        /* RFC 8446 4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2>; */
        struct tsc_slice l = tsc_fp_inner(wk->sigalgs, 2, 2);
        bool first = true;
        for (size_t i = 0; i < l.len / 2; i++) {
            uint16_t x = tsc_fp_u16(l, i);
            if (!tsc_fp_grease(x)) {
                tsc_fw_ch(w, first ? '_' : ',');
                tsc_fw_hex4(w, x);
                first = false;
            }
        }
    }
    return n;
}

/* ---- raw strings ---- */

void tsc_fp_ja3_raw(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                    const struct tsc_fp_sink *out)
{
    struct tsc_fp_walk wk;
    char b[256];
    struct tsc_fp_w w = {b, sizeof(b), 0, out};
    tsc_fp_walk_block(c, ch->ext.raw, &wk);
    tsc_fp_ja3_w(c, ch, &wk, &w);
    tsc_fw_flush(&w);
}

void tsc_fp_ja3s_raw(struct tsc_fp_ctx *c, const struct tsc_server_hello *sh,
                     const struct tsc_fp_sink *out)
{
    struct tsc_fp_walk wk;
    char b[256];
    struct tsc_fp_w w = {b, sizeof(b), 0, out};
    tsc_fp_walk_block(c, sh->ext.raw, &wk);
    tsc_fp_ja3s_w(c, sh, &wk, &w);
    tsc_fw_flush(&w);
}

void tsc_fp_ja4_raw(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch, bool original,
                    const struct tsc_fp_sink *out)
{
    struct tsc_fp_walk wk;
    char a[11];
    char b[256];
    struct tsc_fp_w w = {b, sizeof(b), 0, out};
    tsc_fp_walk_block(c, ch->ext.raw, &wk);
    tsc_fp_ja4_a(ch, &wk, tsc_fp_ja4_suites(c, ch), a);
    tsc_fw_mem(&w, a, 10);
    tsc_fw_ch(&w, '_');
    (void)tsc_fp_ja4_b_w(c, ch, original, &w);
    tsc_fw_ch(&w, '_');
    (void)tsc_fp_ja4_c_w(c, &wk, original, &w);
    tsc_fw_flush(&w);
}

/* ---- hashed forms ---- */

/* One string to digest: which fingerprint (or JA4 section) of which hello. */
enum tsc_fp_part { TSC_FP_JA3, TSC_FP_JA3S, TSC_FP_JA4_B, TSC_FP_JA4_C };

struct tsc_fp_job {
    enum tsc_fp_part part;
    const struct tsc_client_hello *ch;
    const struct tsc_server_hello *sh;
    const struct tsc_fp_walk *wk;
    bool original;
};

/* Writes the job's string; returns the number of list values (JA4 sections). */
static size_t tsc_fp_emit(struct tsc_fp_ctx *c, const struct tsc_fp_job *j, struct tsc_fp_w *w)
{
    size_t n = 1;
    switch (j->part) {
    case TSC_FP_JA3:
        tsc_fp_ja3_w(c, j->ch, j->wk, w);
        break;
    case TSC_FP_JA3S:
        tsc_fp_ja3s_w(c, j->sh, j->wk, w);
        break;
    case TSC_FP_JA4_B:
        n = tsc_fp_ja4_b_w(c, j->ch, j->original, w);
        break;
    case TSC_FP_JA4_C:
        n = tsc_fp_ja4_c_w(c, j->wk, j->original, w);
        break;
    }
    return n;
}

/* A sink for strings longer than c->str: only notes that it happened. */
static void tsc_fp_too_long(void *ud, const char *p, size_t n)
{
    (void)p;
    (void)n;
    *(bool *)ud = true;
}

/* Word-at-a-time hash of a string for the cache slot (not cryptographic). */
static uint32_t tsc_fp_key(uint8_t alg, const char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ ((uint64_t)alg << 56) ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        h = (h ^ x) * 0xff51afd7ed558ccdu;
        h ^= h >> 29;
    }
    uint64_t x = 0;
    memcpy(&x, p + i, n - i);
    h = (h ^ x) * 0xc4ceb9fe1a85ec53u;
    return (uint32_t)(h ^ (h >> 32));
}

/*
 * The digest (first 16 bytes) of the job's string with alg (0 MD5, 1
 * SHA-256); *count: what the emitter returned.
 */
static enum tsc_err tsc_fp_digest(struct tsc_fp_ctx *c, uint8_t alg, const struct tsc_fp_job *j,
                                  uint8_t out[16], size_t *count)
{
    bool too_long = false;
    struct tsc_fp_sink ts = {tsc_fp_too_long, &too_long};
    struct tsc_fp_w w = {c->str, sizeof(c->str), 0, &ts};
    *count = tsc_fp_emit(c, j, &w);
    uint8_t h[TSC_DIGEST_MAX];
    struct tsc_digest *d = c->md[alg];
    if (too_long) {
        /* Not remembered: hashed while it is written a second time. */
        struct tsc_fp_dsink ds = {d, TSC_OK};
        struct tsc_fp_sink sink = {tsc_fp_dsink_write, &ds};
        char b[256];
        struct tsc_fp_w dw = {b, sizeof(b), 0, &sink};
        TSC_TRY(tsc_digest_begin(d));
        (void)tsc_fp_emit(c, j, &dw);
        tsc_fw_flush(&dw);
        TSC_TRY(ds.err);
        TSC_TRY(tsc_digest_end(d, h));
        memcpy(out, h, 16);
        return TSC_OK;
    }
    struct tsc_fp_slot *sl = &c->cache[tsc_fp_key(alg, c->str, w.n) % TSC_FP_SLOTS];
    if (sl->used && sl->alg == alg && sl->len == w.n && memcmp(sl->s, c->str, w.n) == 0) {
        memcpy(out, sl->digest, 16);
        return TSC_OK;
    }
    TSC_TRY(tsc_digest_begin(d));
    TSC_TRY(tsc_digest_update(d, c->str, w.n));
    TSC_TRY(tsc_digest_end(d, h));
    memcpy(out, h, 16);
    sl->used = true;
    sl->alg = alg;
    sl->len = (uint16_t)w.n;
    memcpy(sl->digest, h, 16);
    memcpy(sl->s, c->str, w.n);
    return TSC_OK;
}

static enum tsc_err tsc_fp_md5_hex(struct tsc_fp_ctx *c, const struct tsc_fp_job *j,
                                   char out[TSC_FP_MD5_HEX_LEN])
{
    out[0] = '\0';
    uint8_t h[16];
    size_t n;
    TSC_TRY(tsc_fp_digest(c, 0, j, h, &n));
    tsc_hex(h, 16, out);
    return TSC_OK;
}

/* "If there are no ciphers/extensions ... the value is set to 000000000000". */
static const char tsc_fp_ja4_empty[] = "000000000000";

/* One JA4 section hashed into out (12 hex digits and NUL). */
static enum tsc_err tsc_fp_ja4_section(struct tsc_fp_ctx *c, const struct tsc_fp_job *j,
                                       char out[13])
{
    uint8_t h[16];
    size_t n;
    TSC_TRY(tsc_fp_digest(c, 1, j, h, &n));
    if (n == 0) {
        memcpy(out, tsc_fp_ja4_empty, sizeof(tsc_fp_ja4_empty));
    } else {
        tsc_hex(h, 6, out); /* "truncated to 12 characters" */
    }
    return TSC_OK;
}

static enum tsc_err tsc_fp_ja4_w(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                                 const struct tsc_fp_walk *wk, bool original,
                                 char out[TSC_FP_JA4_LEN])
{
    out[0] = '\0';
    char a[11];
    char b[13];
    char cc[13];
    tsc_fp_ja4_a(ch, wk, tsc_fp_ja4_suites(c, ch), a);
    struct tsc_fp_job j = {.part = TSC_FP_JA4_B, .ch = ch, .wk = wk, .original = original};
    TSC_TRY(tsc_fp_ja4_section(c, &j, b));
    j.part = TSC_FP_JA4_C;
    TSC_TRY(tsc_fp_ja4_section(c, &j, cc));
    memcpy(out, a, 10);
    out[10] = '_';
    memcpy(out + 11, b, 12);
    out[23] = '_';
    memcpy(out + 24, cc, 12);
    out[36] = '\0';
    return TSC_OK;
}

enum tsc_err tsc_fp_ja3(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                        char out[TSC_FP_MD5_HEX_LEN])
{
    struct tsc_fp_walk wk;
    tsc_fp_walk_block(c, ch->ext.raw, &wk);
    struct tsc_fp_job j = {.part = TSC_FP_JA3, .ch = ch, .wk = &wk};
    return tsc_fp_md5_hex(c, &j, out);
}

enum tsc_err tsc_fp_ja3s(struct tsc_fp_ctx *c, const struct tsc_server_hello *sh,
                         char out[TSC_FP_MD5_HEX_LEN])
{
    struct tsc_fp_walk wk;
    tsc_fp_walk_block(c, sh->ext.raw, &wk);
    struct tsc_fp_job j = {.part = TSC_FP_JA3S, .sh = sh, .wk = &wk};
    return tsc_fp_md5_hex(c, &j, out);
}

enum tsc_err tsc_fp_ja4(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch, bool original,
                        char out[TSC_FP_JA4_LEN])
{
    struct tsc_fp_walk wk;
    tsc_fp_walk_block(c, ch->ext.raw, &wk);
    return tsc_fp_ja4_w(c, ch, &wk, original, out);
}

enum tsc_err tsc_fp_client_hello(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                                 char ja3[TSC_FP_MD5_HEX_LEN], char ja4[TSC_FP_JA4_LEN])
{
    struct tsc_fp_walk wk;
    tsc_fp_walk_block(c, ch->ext.raw, &wk);
    struct tsc_fp_job j = {.part = TSC_FP_JA3, .ch = ch, .wk = &wk};
    ja4[0] = '\0';
    TSC_TRY(tsc_fp_md5_hex(c, &j, ja3));
    return tsc_fp_ja4_w(c, ch, &wk, false, ja4);
}
