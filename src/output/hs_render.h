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

#endif
