/* NSS key log export (keylog_out.h). */
#include "output/keylog_out.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"

struct tsc_keylog_out {
    FILE *f;
    bool failed;
    uint64_t lines;
};

size_t tsc_secrets_format(const struct tsc_tls_secrets *s, char *out, size_t cap)
{
    char cr[65], sec[2 * 64 + 1];
    size_t o = 0;
    if (cap == 0) {
        return 0;
    }
    out[0] = '\0';
    tsc_hex(s->client_random, 32, cr);
    for (uint32_t i = 0; i < s->n && i < TSC_TLS_SECRETS_MAX; i++) {
        if (s->s[i].label == NULL || s->s[i].len == 0 || s->s[i].len > sizeof(s->s[i].secret)) {
            continue;
        }
        tsc_hex(s->s[i].secret, s->s[i].len, sec);
        int n = snprintf(out + o, cap - o, "%s %s %s\n", s->s[i].label, cr, sec);
        if (n < 0 || (size_t)n >= cap - o) {
            OPENSSL_cleanse(sec, sizeof(sec));
            out[0] = '\0';
            return 0;
        }
        o += (size_t)n;
    }
    OPENSSL_cleanse(sec, sizeof(sec));
    return o;
}

enum tsc_err tsc_keylog_out_open(struct tsc_keylog_out **out, const char *path, char *err,
                                 size_t errlen)
{
    TSC_ENSURE(out != NULL && path != NULL, TSC_ERR_ARG);
    *out = NULL;
    struct tsc_keylog_out *o = calloc(1, sizeof(*o));
    TSC_ENSURE(o != NULL, TSC_ERR_NOMEM);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        o->f = fdopen(fd, "w");
        if (o->f == NULL) {
            close(fd);
        }
    }
    if (o->f == NULL) {
        snprintf(err, errlen, "cannot write key log %s: %s", path, strerror(errno));
        free(o);
        return TSC_ERR_IO;
    }
    *out = o;
    return TSC_OK;
}

enum tsc_err tsc_keylog_out_open_temp(struct tsc_keylog_out **out)
{
    TSC_ENSURE(out != NULL, TSC_ERR_ARG);
    *out = NULL;
    struct tsc_keylog_out *o = calloc(1, sizeof(*o));
    TSC_ENSURE(o != NULL, TSC_ERR_NOMEM);
    o->f = tmpfile(); /* unlinked at once: mode and lifetime are the process's */
    if (o->f == NULL) {
        free(o);
        return TSC_ERR_IO;
    }
    *out = o;
    return TSC_OK;
}

enum tsc_err tsc_keylog_out_replay(struct tsc_keylog_out *o, size_t max,
                                   enum tsc_err (*fn)(void *ud, const uint8_t *p, size_t n),
                                   void *ud)
{
    TSC_ENSURE(o != NULL && fn != NULL && max >= TSC_KEYLOG_LINE_MAX, TSC_ERR_ARG);
    TSC_ENSURE(!o->failed && fflush(o->f) == 0, TSC_ERR_IO);
    long end = ftell(o->f);
    TSC_ENSURE(end >= 0 && fseek(o->f, 0, SEEK_SET) == 0, TSC_ERR_IO);
    uint8_t *buf = malloc(max);
    TSC_ENSURE(buf != NULL, TSC_ERR_NOMEM);
    enum tsc_err e = TSC_OK;
    size_t have = 0;
    uint64_t left = (uint64_t)end;
    while (e == TSC_OK && (left > 0 || have > 0)) {
        size_t want = max - have;
        if (want > left) {
            want = (size_t)left;
        }
        size_t got = want > 0 ? fread(buf + have, 1, want, o->f) : 0;
        if (got != want) {
            e = TSC_ERR_IO;
            break;
        }
        left -= got;
        have += got;
        size_t cut = have;
        if (left > 0) {
            /* Whole lines only; a line is shorter than max, so one ends in the buffer. */
            while (cut > 0 && buf[cut - 1] != '\n') {
                cut--;
            }
            if (cut == 0) {
                e = TSC_ERR_LIMIT;
                break;
            }
        }
        e = fn(ud, buf, cut);
        memmove(buf, buf + cut, have - cut);
        have -= cut;
    }
    OPENSSL_cleanse(buf, max);
    free(buf);
    if (fseek(o->f, end, SEEK_SET) != 0 && e == TSC_OK) {
        e = TSC_ERR_IO;
    }
    return e;
}

void tsc_keylog_out_add(struct tsc_keylog_out *o, const struct tsc_tls_secrets *s)
{
    char lines[TSC_TLS_SECRETS_MAX * TSC_KEYLOG_LINE_MAX];
    if (o == NULL || s == NULL) {
        return;
    }
    size_t n = tsc_secrets_format(s, lines, sizeof(lines));
    if (n > 0 && fwrite(lines, 1, n, o->f) != n) {
        o->failed = true;
    }
    for (size_t i = 0; i < n; i++) {
        o->lines += lines[i] == '\n';
    }
    OPENSSL_cleanse(lines, n);
}

uint64_t tsc_keylog_out_lines(const struct tsc_keylog_out *o)
{
    return o != NULL ? o->lines : 0;
}

enum tsc_err tsc_keylog_out_close(struct tsc_keylog_out *o)
{
    if (o == NULL) {
        return TSC_OK;
    }
    bool bad = o->failed || fflush(o->f) != 0 || ferror(o->f);
    bad = fclose(o->f) != 0 || bad;
    free(o);
    return bad ? TSC_ERR_IO : TSC_OK;
}
