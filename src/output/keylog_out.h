/*
 * Secrets export in NSS key log form (SSLKEYLOGFILE format, the labels of
 * src/keys/keys.h): one line "LABEL <client random hex> <secret hex>" per
 * secret. Written as connections confirm their keys, so memory stays bounded
 * whatever the capture size. The file is created with mode 0600 (it holds
 * secrets).
 */
#ifndef TSC_OUTPUT_KEYLOG_OUT_H
#define TSC_OUTPUT_KEYLOG_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "tls/tls.h"
#include "util/err.h"

/* Longest line: label, 64 hex, up to 128 hex, two spaces, newline. */
#define TSC_KEYLOG_LINE_MAX 256

/* Lines for every secret of s into out (NUL-terminated); returns the length,
 * or 0 when they do not fit. */
size_t tsc_secrets_format(const struct tsc_tls_secrets *s, char *out, size_t cap);

struct tsc_keylog_out;

TSC_MUST_USE enum tsc_err tsc_keylog_out_open(struct tsc_keylog_out **out, const char *path,
                                              char *err, size_t errlen);
/* The same, into an anonymous temporary file (for secrets written elsewhere later). */
TSC_MUST_USE enum tsc_err tsc_keylog_out_open_temp(struct tsc_keylog_out **out);
/*
 * Reads everything written so far back, in pieces of at most max bytes that
 * end at a line end (max >= TSC_KEYLOG_LINE_MAX), each given to fn. Writing
 * may go on afterwards.
 */
TSC_MUST_USE enum tsc_err tsc_keylog_out_replay(struct tsc_keylog_out *o, size_t max,
                                                enum tsc_err (*fn)(void *ud, const uint8_t *p,
                                                                   size_t n),
                                                void *ud);
void tsc_keylog_out_add(struct tsc_keylog_out *o, const struct tsc_tls_secrets *s);
uint64_t tsc_keylog_out_lines(const struct tsc_keylog_out *o);
/* Flushes and closes; TSC_ERR_IO when a write failed at any point. NULL is fine. */
enum tsc_err tsc_keylog_out_close(struct tsc_keylog_out *o);

#endif
