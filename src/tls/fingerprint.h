/*
 * TLS client and server fingerprints of parsed hellos:
 *   JA3 and JA3S (salesforce/ja3: MD5 of "SSLVersion,Ciphers,Extensions,
 *   EllipticCurves,EllipticCurvePointFormats" / "SSLVersion,Cipher,Extensions"),
 *   JA4 (FoxIO "JA4: TLS Client Fingerprinting", BSD-3-Clause; only JA4 itself:
 *   JA4S, JA4X and the rest of JA4+ are under another licence and not here).
 *
 * Every function re-walks the hello in wire order (the cipher suite vector and
 * the raw extension block the parser kept), so nothing is limited by the
 * parser's per-message caps. Strings are produced through a fixed buffer into
 * a sink (a digest, or the caller's buffer for the raw forms). The only memory
 * is the context, created once per run: digest contexts, list buffers large
 * enough for any hello, and a small cache of the digests of recent strings
 * (most hellos of a capture repeat a few client stacks). GREASE values
 * (RFC 8701) are left out of every list. Choices where the specifications are
 * silent are in docs/fingerprints.md. A context is used by one thread at a time.
 */
#ifndef TSC_TLS_FINGERPRINT_H
#define TSC_TLS_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* src/tls/msg.h; only pointers here, so callers that just own a context
 * (the analyzer) need not include the message structs. */
struct tsc_client_hello;
struct tsc_server_hello;

#define TSC_FP_MD5_HEX_LEN 33 /* JA3 / JA3S: 32 lower-case hex digits and NUL */
#define TSC_FP_JA4_LEN 37     /* "t13d1516h2_8daaf6152771_e5627efa2ab1" and NUL */

struct tsc_fp_ctx;

TSC_MUST_USE enum tsc_err tsc_fp_ctx_new(struct tsc_fp_ctx **out);
void tsc_fp_ctx_free(struct tsc_fp_ctx *c); /* NULL is fine */

/* Receives the raw strings in pieces (not NUL-terminated). */
struct tsc_fp_sink {
    void (*write)(void *ud, const char *p, size_t n);
    void *ud;
};

/* Raw (unhashed) strings. */
void tsc_fp_ja3_raw(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                    const struct tsc_fp_sink *out);
void tsc_fp_ja3s_raw(struct tsc_fp_ctx *c, const struct tsc_server_hello *sh,
                     const struct tsc_fp_sink *out);
/* JA4_r (original false: sorted lists, SNI and ALPN left out of the extensions)
 * or JA4_ro (original true: wire order, SNI and ALPN kept). */
void tsc_fp_ja4_raw(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch, bool original,
                    const struct tsc_fp_sink *out);

/* Hashed fingerprints; out is NUL-terminated (empty on error). */
TSC_MUST_USE enum tsc_err tsc_fp_ja3(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                                     char out[TSC_FP_MD5_HEX_LEN]);
TSC_MUST_USE enum tsc_err tsc_fp_ja3s(struct tsc_fp_ctx *c, const struct tsc_server_hello *sh,
                                      char out[TSC_FP_MD5_HEX_LEN]);
/* JA4 (original false) or JA4_o (original true). */
TSC_MUST_USE enum tsc_err tsc_fp_ja4(struct tsc_fp_ctx *c, const struct tsc_client_hello *ch,
                                     bool original, char out[TSC_FP_JA4_LEN]);
/* JA3 and JA4 of one ClientHello (one walk of its extensions). */
TSC_MUST_USE enum tsc_err tsc_fp_client_hello(struct tsc_fp_ctx *c,
                                              const struct tsc_client_hello *ch,
                                              char ja3[TSC_FP_MD5_HEX_LEN],
                                              char ja4[TSC_FP_JA4_LEN]);

#endif
