/*
 * JA3, JA3S and JA4 from parsed hellos (see fingerprint.h and
 * docs/fingerprints.md). Every value is read again from the wire bytes the
 * hello struct borrows, in wire order, through the cursor.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/digest.h"
#include "tls/fingerprint.h"
#include "tls/names.h"
#include "util/buf.h"

/*
 * RFC 5246 7.4.1.2: CipherSuite cipher_suites<2..2^16-2> holds at most 32767
 * values; an extension block (each extension at least 4 bytes) at most 16383.
 * One sort buffer of that size serves every list of any hello.
 */
#define TSC_FP_MAX_LIST 32768

struct tsc_fp_ctx {
    struct tsc_digest *md5;
    struct tsc_digest *sha256;
    uint16_t sort[TSC_FP_MAX_LIST];
};

enum tsc_err tsc_fp_ctx_new(struct tsc_fp_ctx **out)
{
    *out = NULL;
    struct tsc_fp_ctx *c = calloc(1, sizeof(*c));
    TSC_ENSURE(c != NULL, TSC_ERR_NOMEM);
    enum tsc_err e = tsc_digest_new(&c->md5, "MD5");
    if (e == TSC_OK) {
        e = tsc_digest_new(&c->sha256, "SHA256");
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
    tsc_digest_free(c->md5);
    tsc_digest_free(c->sha256);
    free(c);
}

/* ---- output: a small fixed buffer flushed into the sink ---- */

struct tsc_fp_w {
    const struct tsc_fp_sink *sink;
    size_t n;
    char b[256];
};

static void tsc_fw_flush(struct tsc_fp_w *w)
{
    if (w->n > 0) {
        w->sink->write(w->sink->ud, w->b, w->n);
        w->n = 0;
    }
}

/* Makes room for k <= sizeof(b) bytes. */
static void tsc_fw_room(struct tsc_fp_w *w, size_t k)
{
    if (w->n + k > sizeof(w->b)) {
        tsc_fw_flush(w);
    }
}

static void tsc_fw_ch(struct tsc_fp_w *w, char ch)
{
    tsc_fw_room(w, 1);
    w->b[w->n++] = ch;
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

static void tsc_fw_hex4(struct tsc_fp_w *w, uint16_t v)
{
    tsc_fw_room(w, 4);
    w->b[w->n++] = tsc_fp_hexd[(v >> 12) & 0xf];
    w->b[w->n++] = tsc_fp_hexd[(v >> 8) & 0xf];
    w->b[w->n++] = tsc_fp_hexd[(v >> 4) & 0xf];
    w->b[w->n++] = tsc_fp_hexd[v & 0xf];
}

static void tsc_fw_str(struct tsc_fp_w *w, const char *s)
{
    size_t k = strlen(s);
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

/* ---- walking the wire bytes ---- */

/*
 * RFC 8446 4.2: struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; }.
 * The block was framed by the parser already; a failure just ends the walk.
 */
static bool tsc_fp_ext_next(struct tsc_cur *c, uint16_t *type, struct tsc_slice *data)
{
    return tsc_cur_u16(c, type) == TSC_OK && tsc_cur_vec_slice(c, 2, 0, 0xffff, data) == TSC_OK;
}

/*
 * The vector an extension body starts with (1- or 2-byte length). A body
 * whose vector does not fit gives an empty list: the fingerprint then shows
 * the list as empty rather than guessing.
 */
static struct tsc_cur tsc_fp_inner(struct tsc_slice data, unsigned lenbytes)
{
    struct tsc_cur c = tsc_cur_from_slice(data);
    struct tsc_cur v;
    if (tsc_cur_vec(&c, lenbytes, 0, lenbytes == 1 ? 0xff : 0xffff, &v) != TSC_OK) {
        return tsc_cur_make(NULL, 0);
    }
    return v;
}

/* u16 values, decimal, '-' joined, GREASE left out (JA3). */
static void tsc_fp_dec_list(struct tsc_fp_w *w, struct tsc_cur v)
{
    bool first = true;
    uint16_t x;
    while (tsc_cur_u16(&v, &x) == TSC_OK) {
        if (tsc_is_grease(x)) {
            continue;
        }
        if (!first) {
            tsc_fw_ch(w, '-');
        }
        tsc_fw_dec(w, x);
        first = false;
    }
}

/* ---- JA3 / JA3S ---- */

void tsc_fp_ja3_raw(const struct tsc_client_hello *ch, const struct tsc_fp_sink *out)
{
    struct tsc_fp_w w = {.sink = out, .n = 0};
    tsc_fw_dec(&w, ch->legacy_version);
    tsc_fw_ch(&w, ',');
    tsc_fp_dec_list(&w, tsc_cur_from_slice(ch->cipher_suites));
    tsc_fw_ch(&w, ',');
    /* Extensions in wire order; the first supported_groups / ec_point_formats count. */
    struct tsc_slice groups = {NULL, 0};
    struct tsc_slice formats = {NULL, 0};
    bool have_groups = false;
    bool have_formats = false;
    bool first = true;
    struct tsc_cur e = tsc_cur_from_slice(ch->ext.raw);
    uint16_t type;
    struct tsc_slice data;
    while (tsc_fp_ext_next(&e, &type, &data)) {
        if (tsc_is_grease(type)) {
            continue;
        }
        if (!first) {
            tsc_fw_ch(&w, '-');
        }
        tsc_fw_dec(&w, type);
        first = false;
        if (type == TSC_EXT_SUPPORTED_GROUPS && !have_groups) {
            groups = data;
            have_groups = true;
        } else if (type == TSC_EXT_EC_POINT_FORMATS && !have_formats) {
            formats = data;
            have_formats = true;
        }
    }
    tsc_fw_ch(&w, ',');
    /* RFC 8422 5.1.1: NamedCurve named_curve_list<2..2^16-1>; */
    tsc_fp_dec_list(&w, tsc_fp_inner(groups, 2));
    tsc_fw_ch(&w, ',');
    /* RFC 8422 5.1.2: ECPointFormat ec_point_format_list<1..2^8-1>; (no GREASE for u8) */
    struct tsc_cur pf = tsc_fp_inner(formats, 1);
    uint8_t f;
    first = true;
    while (tsc_cur_u8(&pf, &f) == TSC_OK) {
        if (!first) {
            tsc_fw_ch(&w, '-');
        }
        tsc_fw_dec(&w, f);
        first = false;
    }
    tsc_fw_flush(&w);
}

void tsc_fp_ja3s_raw(const struct tsc_server_hello *sh, const struct tsc_fp_sink *out)
{
    struct tsc_fp_w w = {.sink = out, .n = 0};
    tsc_fw_dec(&w, sh->legacy_version);
    tsc_fw_ch(&w, ',');
    tsc_fw_dec(&w, sh->cipher_suite);
    tsc_fw_ch(&w, ',');
    bool first = true;
    struct tsc_cur e = tsc_cur_from_slice(sh->ext.raw);
    uint16_t type;
    struct tsc_slice data;
    while (tsc_fp_ext_next(&e, &type, &data)) {
        if (tsc_is_grease(type)) {
            continue;
        }
        if (!first) {
            tsc_fw_ch(&w, '-');
        }
        tsc_fw_dec(&w, type);
        first = false;
    }
    tsc_fw_flush(&w);
}

static enum tsc_err tsc_fp_md5_hex(struct tsc_fp_ctx *c,
                                   void (*raw)(const void *hello, const struct tsc_fp_sink *out),
                                   const void *hello, char out[TSC_FP_MD5_HEX_LEN])
{
    out[0] = '\0';
    struct tsc_fp_dsink ds = {c->md5, TSC_OK};
    struct tsc_fp_sink sink = {tsc_fp_dsink_write, &ds};
    TSC_TRY(tsc_digest_begin(c->md5));
    raw(hello, &sink);
    TSC_TRY(ds.err);
    uint8_t h[TSC_DIGEST_MAX];
    TSC_TRY(tsc_digest_end(c->md5, h));
    tsc_hex(h, 16, out);
    return TSC_OK;
}

static void tsc_fp_ja3_any(const void *hello, const struct tsc_fp_sink *out)
{
    tsc_fp_ja3_raw(hello, out);
}

static void tsc_fp_ja3s_any(const void *hello, const struct tsc_fp_sink *out)
{
    tsc_fp_ja3s_raw(hello, out);
}

enum tsc_err tsc_fp_ja3(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                        char out[TSC_FP_MD5_HEX_LEN])
{
    return tsc_fp_md5_hex(c, tsc_fp_ja3_any, ch, out);
}

enum tsc_err tsc_fp_ja3s(struct tsc_fp_ctx *c, const struct tsc_server_hello *sh,
                         char out[TSC_FP_MD5_HEX_LEN])
{
    return tsc_fp_md5_hex(c, tsc_fp_ja3s_any, sh, out);
}

/* ---- JA4 ---- */

/* Heap sift-down of v[r] within v[0..n). */
static void tsc_fp_sift(uint16_t *v, size_t r, size_t n)
{
    while (2 * r + 1 < n) {
        size_t c = 2 * r + 1;
        if (c + 1 < n && v[c] < v[c + 1]) {
            c++;
        }
        if (v[r] >= v[c]) {
            return;
        }
        uint16_t t = v[r];
        v[r] = v[c];
        v[c] = t;
        r = c;
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

/* What section a and the signature algorithm list need from the extension block. */
struct tsc_fp_ja4_scan {
    unsigned n_ext; /* non-GREASE extensions, SNI and ALPN included */
    bool sni;
    bool have_alpn, have_versions, have_sigalgs;
    struct tsc_slice alpn, versions, sigalgs; /* first of each */
};

static void tsc_fp_ja4_scan(const struct tsc_client_hello *ch, struct tsc_fp_ja4_scan *s)
{
    memset(s, 0, sizeof(*s));
    struct tsc_cur e = tsc_cur_from_slice(ch->ext.raw);
    uint16_t type;
    struct tsc_slice data;
    while (tsc_fp_ext_next(&e, &type, &data)) {
        if (tsc_is_grease(type)) {
            continue;
        }
        s->n_ext++;
        if (type == TSC_EXT_SERVER_NAME) {
            s->sni = true;
        } else if (type == TSC_EXT_ALPN && !s->have_alpn) {
            s->alpn = data;
            s->have_alpn = true;
        } else if (type == TSC_EXT_SUPPORTED_VERSIONS && !s->have_versions) {
            s->versions = data;
            s->have_versions = true;
        } else if (type == TSC_EXT_SIGNATURE_ALGORITHMS && !s->have_sigalgs) {
            s->sigalgs = data;
            s->have_sigalgs = true;
        }
    }
}

/*
 * JA4 "TLS and DTLS Version": the highest non-GREASE value of supported_versions
 * (RFC 8446 4.2.1: ProtocolVersion versions<2..254>, 1-byte length), else the
 * ClientHello's legacy_version (also when the extension holds no usable value).
 */
static const char *tsc_fp_ja4_version(const struct tsc_client_hello *ch,
                                      const struct tsc_fp_ja4_scan *s)
{
    uint16_t v = ch->legacy_version;
    if (s->have_versions) {
        struct tsc_cur l = tsc_fp_inner(s->versions, 1);
        bool found = false;
        uint16_t x;
        while (tsc_cur_u16(&l, &x) == TSC_OK) {
            if (!tsc_is_grease(x) && (!found || x > v)) {
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
static void tsc_fp_ja4_alpn(const struct tsc_fp_ja4_scan *s, char out[2])
{
    out[0] = '0';
    out[1] = '0';
    if (!s->have_alpn) {
        return;
    }
    struct tsc_cur l = tsc_fp_inner(s->alpn, 2);
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

static void tsc_fp_two_digits(char *out, unsigned n)
{
    if (n > 99) {
        n = 99;
    }
    out[0] = (char)('0' + n / 10);
    out[1] = (char)('0' + n % 10);
}

static unsigned tsc_fp_cipher_count(const struct tsc_client_hello *ch)
{
    struct tsc_cur v = tsc_cur_from_slice(ch->cipher_suites);
    unsigned n = 0;
    uint16_t x;
    while (tsc_cur_u16(&v, &x) == TSC_OK) {
        n += tsc_is_grease(x) ? 0 : 1;
    }
    return n;
}

/* Section a: "t" version d|i ciphers extensions alpn, 10 characters and NUL. */
static void tsc_fp_ja4_a(const struct tsc_client_hello *ch, const struct tsc_fp_ja4_scan *s,
                         char a[11])
{
    const char *ver = tsc_fp_ja4_version(ch, s);
    a[0] = 't'; /* TLS over TCP (tlsscope reads no QUIC nor DTLS) */
    a[1] = ver[0];
    a[2] = ver[1];
    a[3] = s->sni ? 'd' : 'i';
    tsc_fp_two_digits(a + 4, tsc_fp_cipher_count(ch));
    tsc_fp_two_digits(a + 6, s->n_ext);
    tsc_fp_ja4_alpn(s, a + 8);
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
static size_t tsc_fp_ja4_ciphers(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                                 bool original, struct tsc_fp_w *w)
{
    struct tsc_cur v = tsc_cur_from_slice(ch->cipher_suites);
    size_t n = 0;
    uint16_t x;
    while (n < TSC_FP_MAX_LIST && tsc_cur_u16(&v, &x) == TSC_OK) {
        if (!tsc_is_grease(x)) {
            c->sort[n++] = x;
        }
    }
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
static size_t tsc_fp_ja4_exts(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                              const struct tsc_fp_ja4_scan *s, bool original, struct tsc_fp_w *w)
{
    struct tsc_cur e = tsc_cur_from_slice(ch->ext.raw);
    size_t n = 0;
    uint16_t type;
    struct tsc_slice data;
    while (n < TSC_FP_MAX_LIST && tsc_fp_ext_next(&e, &type, &data)) {
        if (tsc_is_grease(type)) {
            continue;
        }
        if (!original && (type == TSC_EXT_SERVER_NAME || type == TSC_EXT_ALPN)) {
            continue;
        }
        c->sort[n++] = type;
    }
    if (!original) {
        tsc_fp_sort(c->sort, n);
    }
    tsc_fp_hex_list(w, c->sort, n);
    if (s->have_sigalgs) {
        /* RFC 8446 4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2>; */
        struct tsc_cur l = tsc_fp_inner(s->sigalgs, 2);
        bool first = true;
        uint16_t x;
        while (tsc_cur_u16(&l, &x) == TSC_OK) {
            if (tsc_is_grease(x)) {
                continue;
            }
            tsc_fw_ch(w, first ? '_' : ',');
            tsc_fw_hex4(w, x);
            first = false;
        }
    }
    return n;
}

void tsc_fp_ja4_raw(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch, bool original,
                    const struct tsc_fp_sink *out)
{
    struct tsc_fp_ja4_scan s;
    char a[11];
    tsc_fp_ja4_scan(ch, &s);
    tsc_fp_ja4_a(ch, &s, a);
    struct tsc_fp_w w = {.sink = out, .n = 0};
    tsc_fw_str(&w, a);
    tsc_fw_ch(&w, '_');
    (void)tsc_fp_ja4_ciphers(c, ch, original, &w);
    tsc_fw_ch(&w, '_');
    (void)tsc_fp_ja4_exts(c, ch, &s, original, &w);
    tsc_fw_flush(&w);
}

/* "If there are no ciphers/extensions ... the value is set to 000000000000". */
static const char tsc_fp_ja4_empty[] = "000000000000";

/* Hashes one section into out (12 hex digits and NUL). */
static enum tsc_err tsc_fp_ja4_section(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                                       const struct tsc_fp_ja4_scan *s, bool original, bool exts,
                                       char out[13])
{
    struct tsc_fp_dsink ds = {c->sha256, TSC_OK};
    struct tsc_fp_sink sink = {tsc_fp_dsink_write, &ds};
    struct tsc_fp_w w = {.sink = &sink, .n = 0};
    TSC_TRY(tsc_digest_begin(c->sha256));
    size_t n = exts ? tsc_fp_ja4_exts(c, ch, s, original, &w) : tsc_fp_ja4_ciphers(c, ch, original, &w);
    tsc_fw_flush(&w);
    TSC_TRY(ds.err);
    uint8_t h[TSC_DIGEST_MAX];
    TSC_TRY(tsc_digest_end(c->sha256, h));
    if (n == 0) {
        memcpy(out, tsc_fp_ja4_empty, sizeof(tsc_fp_ja4_empty));
    } else {
        tsc_hex(h, 6, out); /* "truncated to 12 characters" */
    }
    return TSC_OK;
}

enum tsc_err tsc_fp_ja4(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch, bool original,
                        char out[TSC_FP_JA4_LEN])
{
    out[0] = '\0';
    struct tsc_fp_ja4_scan s;
    char a[11];
    char b[13];
    char cc[13];
    tsc_fp_ja4_scan(ch, &s);
    tsc_fp_ja4_a(ch, &s, a);
    TSC_TRY(tsc_fp_ja4_section(c, ch, &s, original, false, b));
    TSC_TRY(tsc_fp_ja4_section(c, ch, &s, original, true, cc));
    memcpy(out, a, 10);
    out[10] = '_';
    memcpy(out + 11, b, 12);
    out[23] = '_';
    memcpy(out + 24, cc, 12);
    out[36] = '\0';
    return TSC_OK;
}
