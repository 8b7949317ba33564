/*
 * Following a key log while it grows (live captures): like `tail -F`.
 *
 * A browser or TLS library with SSLKEYLOGFILE appends one line per secret as
 * it derives it, so the secrets of a live connection appear a few
 * milliseconds after its hello messages. The follower remembers how far the
 * file was read; each poll reads what was appended since (complete lines
 * only; a line still being written waits for its newline), and indexes it
 * with the same line parser as a whole file. A file that does not exist yet is
 * waited for; one that shrinks (truncated) is read again from the start; one
 * whose inode changes (replaced, rotated) is drained and the new one opened.
 * Polls are driven by the capture loop at a bounded rate, never per packet.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/keys_int.h"

#define TSC_FOLLOW_READ_MAX (4u << 20) /* bytes read per poll: a huge backlog is spread out */

struct tsc_keylog_follow {
    struct tsc_keys *keys;
    char *path;
    int fd; /* -1 while the file does not exist */
    dev_t dev;
    ino_t ino;
    uint64_t off;     /* bytes of the current file consumed */
    uint64_t line_no; /* lines of the current file, for diagnostics */
    bool skipping;    /* inside an overlong line: drop up to its newline */
    bool announced_wait;
    size_t part_len; /* a line not yet ended */
    char part[TSC_KEYLOG_MAX_LINE + 2];
    struct tsc_keylog_follow_stats st;
};

static void follow_diag(struct tsc_keylog_follow *f, const char *fmt, const char *a)
{
    if (f->keys->sink != NULL) {
        struct tsc_where w = {f->path, 0, TSC_NO_CONN, -1, -1};
        tsc_diag(f->keys->sink, TSC_DIAG_KEYLOG_FOLLOW, &w, fmt, f->path, a);
    }
}

enum tsc_err tsc_keylog_follow_new(struct tsc_keylog_follow **out, struct tsc_keys *k,
                                   const char *path)
{
    TSC_ENSURE(out != NULL && k != NULL && path != NULL, TSC_ERR_ARG);
    *out = NULL;
    struct tsc_keylog_follow *f = calloc(1, sizeof(*f));
    TSC_ENSURE(f != NULL, TSC_ERR_NOMEM);
    f->path = strdup(path);
    if (f->path == NULL) {
        free(f);
        return TSC_ERR_NOMEM;
    }
    f->keys = k;
    f->fd = -1;
    *out = f;
    return TSC_OK;
}

void tsc_keylog_follow_free(struct tsc_keylog_follow *f)
{
    if (f == NULL) {
        return;
    }
    if (f->fd >= 0) {
        close(f->fd);
    }
    OPENSSL_cleanse(f->part, sizeof(f->part));
    free(f->path);
    free(f);
}

/* One complete line (without its newline) to the index. */
static void follow_line(struct tsc_keylog_follow *f, const char *p, size_t n)
{
    f->line_no++;
    f->st.lines++;
    (void)!tsc_keys_add_keylog_line(f->keys, p, n, f->path, f->line_no);
}

/* Bytes appended to the file: complete lines go to the index, the rest waits. */
static void follow_bytes(struct tsc_keylog_follow *f, const char *p, size_t n)
{
    size_t i = 0;
    /* Each pass consumes at least one byte: bounded by n. */
    while (i < n) {
        const char *nl = memchr(p + i, '\n', n - i);
        size_t end = nl != NULL ? (size_t)(nl - p) : n;
        size_t len = end - i;
        if (f->skipping) {
            if (nl != NULL) {
                f->skipping = false;
            }
        } else if (f->part_len + len > TSC_KEYLOG_MAX_LINE + 1) {
            /* Longer than any valid line: reported once (by the parser), rest dropped. */
            follow_line(f, f->part, TSC_KEYLOG_MAX_LINE + 1);
            f->part_len = 0;
            f->skipping = nl == NULL;
        } else if (nl != NULL && f->part_len == 0) {
            follow_line(f, p + i, len); /* the common case: no copy */
        } else {
            memcpy(f->part + f->part_len, p + i, len);
            f->part_len += len;
            if (nl != NULL) {
                follow_line(f, f->part, f->part_len);
                f->part_len = 0;
            }
        }
        i = nl != NULL ? end + 1 : n;
    }
}

/* Read what the open file has beyond f->off (up to the per-poll budget). */
static void follow_read(struct tsc_keylog_follow *f)
{
    char buf[64 * 1024];
    size_t budget = TSC_FOLLOW_READ_MAX;
    /* Each read either returns bytes (bounded by the budget) or ends the loop. */
    while (budget > 0) {
        ssize_t r = pread(f->fd, buf, sizeof(buf) < budget ? sizeof(buf) : budget, (off_t)f->off);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        f->off += (uint64_t)r;
        f->st.bytes += (uint64_t)r;
        budget -= (size_t)r;
        follow_bytes(f, buf, (size_t)r);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
}

static void follow_reset(struct tsc_keylog_follow *f)
{
    f->off = 0;
    f->line_no = 0;
    f->part_len = 0;
    f->skipping = false;
}

/* The last line of a file that is going away counts even without its newline. */
static void follow_drain(struct tsc_keylog_follow *f)
{
    follow_read(f);
    if (f->part_len > 0 && !f->skipping) {
        follow_line(f, f->part, f->part_len);
    }
    follow_reset(f);
}

enum tsc_err tsc_keylog_follow_poll(struct tsc_keylog_follow *f, uint64_t *added)
{
    TSC_ENSURE(f != NULL, TSC_ERR_ARG);
    uint64_t before = tsc_keys_keylog_added(f->keys);
    struct stat sb;
    bool exists = stat(f->path, &sb) == 0;
    if (f->fd >= 0 && exists && (sb.st_dev != f->dev || sb.st_ino != f->ino)) {
        /* Replaced or rotated: finish the old file, then take the new one. */
        follow_drain(f);
        close(f->fd);
        f->fd = -1;
        f->st.reopens++;
        follow_diag(f, "%s: key log replaced; reading the new file%s", "");
    }
    if (f->fd < 0 && exists) {
        int fd = open(f->path, O_RDONLY | O_CLOEXEC);
        struct stat ob;
        if (fd >= 0 && fstat(fd, &ob) == 0) {
            f->fd = fd;
            f->dev = ob.st_dev;
            f->ino = ob.st_ino;
            follow_reset(f);
            if (f->announced_wait) {
                follow_diag(f, "%s: key log appeared; following it%s", "");
            }
            sb = ob;
        } else if (fd >= 0) {
            close(fd);
        }
    }
    if (f->fd < 0) {
        if (!f->announced_wait) {
            f->announced_wait = true;
            follow_diag(f, "%s: key log does not exist yet (%s); waiting for it",
                        strerror(errno));
        }
        *added = 0;
        return TSC_OK;
    }
    if (exists && (uint64_t)sb.st_size < f->off) {
        /* Truncated (e.g. `: > keylog`): everything in it now is new. */
        follow_reset(f);
        f->st.truncations++;
        follow_diag(f, "%s: key log truncated; reading it again from the start%s", "");
    }
    follow_read(f);
    *added = tsc_keys_keylog_added(f->keys) - before;
    f->st.entries_added += *added;
    return TSC_OK;
}

void tsc_keylog_follow_finish(struct tsc_keylog_follow *f)
{
    if (f != NULL && f->fd >= 0) {
        follow_drain(f);
    }
}

void tsc_keylog_follow_get_stats(const struct tsc_keylog_follow *f,
                                 struct tsc_keylog_follow_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (f != NULL) {
        *st = f->st;
    }
}
