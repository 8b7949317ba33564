/*
 * Rendering of parsed handshake messages (struct tsc_hs_msg) for the writers.
 * verbosity 0: name and the key facts only; 1 (-v): every field; 2 (-vv): plus
 * raw hex of opaque fields.
 */
#ifndef TSC_OUTPUT_HS_RENDER_H
#define TSC_OUTPUT_HS_RENDER_H

#include "tls/tls.h"
#include "util/buf.h"
#include "util/jw.h"

/* Writes the message's fields as key/value pairs into an object already open. */
void tsc_render_hs_json(struct tsc_jw *w, const struct tsc_hs_msg *m, int verbosity);
/*
 * Appends the message's text form: at verbosity 0 a short suffix for the
 * message line (e.g. " TLS_AES_128_GCM_SHA256"); from 1 on, extra lines, each
 * starting with `indent` and ending with '\n'.
 */
void tsc_render_hs_text(struct tsc_buf *out, const struct tsc_hs_msg *m, int verbosity,
                        const char *indent);

/*
 * Fingerprints of a parsed TLS ClientHello (ja3, ja3_full, ja4, ja4_r, ja4_o,
 * ja4_ro) or ServerHello (ja3s, ja3s_full); nothing for other messages or
 * without a context. scratch is a buffer the caller reuses across events.
 */
struct tsc_fp_ctx;
void tsc_render_fp_json(struct tsc_jw *w, const struct tsc_hs_msg *m, struct tsc_fp_ctx *fp,
                        struct tsc_buf *scratch);
/* The same as "name value" lines, each starting with indent. */
void tsc_render_fp_text(struct tsc_buf *out, const struct tsc_hs_msg *m, struct tsc_fp_ctx *fp,
                        struct tsc_buf *scratch, const char *indent);

#endif
