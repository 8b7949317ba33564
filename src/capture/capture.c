/*
 * Capture front end over libpcap: pcap / pcapng files (plain or gzip), stdin,
 * and live interfaces. Timestamps are kept at nanosecond precision.
 *
 * Gzip input is decompressed through zlib behind a stdio cookie stream
 * (fopencookie), so libpcap reads it like any other FILE*. Standard input is
 * always read through zlib, whose transparent mode passes plain data through,
 * because its first bytes cannot be put back after sniffing the magic.
 */
#define _GNU_SOURCE /* fopencookie */
#include "capture/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#if defined(__GLIBC__)
#include <stdio_ext.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

struct tsc_capture {
    pcap_t *p;
    FILE *fp;       /* stream handed to libpcap (owned by it after a successful open) */
    FILE *raw;      /* the plain file, for progress (NULL for gzip / stdin) */
    gzFile gz;      /* gzip reader behind the cookie stream, or NULL */
    char *iobuf;    /* stdio buffer of fp (freed after fp is closed), or NULL */
    char *name;     /* "-" for stdin, the path, or the interface */
    struct tsc_diag_sink *sink;
    uint64_t next_num;
    uint64_t total; /* file size, 0 if unknown */
    bool live;
    int live_fd;     /* selectable descriptor of a live capture, -1 if none */
    int timeout_ms;  /* live read timeout */
    bool nano;      /* timestamps carry nanoseconds */
    bool warned_snap;
    bool warned_time;
    bool warned_range; /* a timestamp was clamped into range */
    struct tsc_ts last_ts;
};

static void cap_where(const struct tsc_capture *c, uint64_t pkt, struct tsc_where *w)
{
    w->file = c->name;
    w->pkt = pkt;
    w->conn = TSC_NO_CONN;
    w->dir = -1;
    w->offset = -1;
}

static void set_err(char *errbuf, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (errbuf != NULL && errlen > 0) {
        snprintf(errbuf, errlen, fmt, a, b);
    }
}

/* ---- gzip cookie stream ---- */

static ssize_t gz_cookie_read(void *cookie, char *buf, size_t size)
{
    gzFile gz = cookie;
    /* gzread takes an unsigned count: read in chunks that fit. */
    unsigned want = size > (1u << 30) ? (1u << 30) : (unsigned)size;
    int n = gzread(gz, buf, want);
    return n < 0 ? -1 : (ssize_t)n;
}

static int gz_cookie_close(void *cookie)
{
    return gzclose((gzFile)cookie) == Z_OK ? 0 : EOF;
}

static FILE *gz_stream(gzFile gz)
{
    cookie_io_functions_t io = {gz_cookie_read, NULL, NULL, gz_cookie_close};
    return fopencookie(gz, "r", io);
}

/*
 * Stream buffer for libpcap's reads (two freads per packet). glibc's setvbuf
 * ignores the size when it allocates the buffer itself (it uses st_blksize,
 * 4 KiB: a read system call every few packets), so the buffer is ours.
 */
#define TSC_CAPTURE_IOBUF (256u * 1024u)

static void set_iobuf(struct tsc_capture *c, FILE *f)
{
    if (c->iobuf == NULL) {
        c->iobuf = malloc(TSC_CAPTURE_IOBUF);
    }
    if (c->iobuf != NULL) {
        (void)setvbuf(f, c->iobuf, _IOFBF, TSC_CAPTURE_IOBUF);
    }
}

static struct tsc_capture *cap_alloc(const char *name, struct tsc_diag_sink *sink)
{
    struct tsc_capture *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->name = strdup(name);
    if (c->name == NULL) {
        free(c);
        return NULL;
    }
    c->sink = sink;
    c->next_num = 1;
    c->live_fd = -1;
    return c;
}

enum tsc_err tsc_capture_open_file(struct tsc_capture **out, const char *path,
                                   struct tsc_diag_sink *sink, char *errbuf, size_t errlen)
{
    TSC_ENSURE(out != NULL && path != NULL, TSC_ERR_ARG);
    *out = NULL;
    struct tsc_capture *c = cap_alloc(path, sink);
    TSC_ENSURE(c != NULL, TSC_ERR_NOMEM);
    enum tsc_err e = TSC_ERR_IO;
    bool is_stdin = strcmp(path, "-") == 0;
    struct stat psb;
    /* A pipe or device named by path (e.g. a shell's <(zcat ...)) cannot be
     * rewound after the magic is sniffed: read it the way standard input is. */
    bool is_stream = !is_stdin && stat(path, &psb) == 0 && !S_ISREG(psb.st_mode) &&
                     !S_ISDIR(psb.st_mode);
    if (is_stdin || is_stream) {
        int fd = is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY);
        c->gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
        if (c->gz == NULL) {
            if (fd >= 0) {
                close(fd);
            }
            set_err(errbuf, errlen, "%s: cannot read %s", path,
                    is_stdin ? "standard input" : strerror(errno));
            goto out;
        }
    } else {
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            set_err(errbuf, errlen, "%s: %s", path, strerror(errno));
            goto out;
        }
        /* Large reads: fewer system calls than the default stdio buffer (set before any I/O). */
        set_iobuf(c, f);
        struct stat sb;
        if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)) {
            c->total = (uint64_t)sb.st_size;
        }
        /* RFC 1952 2.3.1: a gzip member starts with ID1 = 0x1f, ID2 = 0x8b. */
        unsigned char magic[2] = {0, 0};
        size_t got = fread(magic, 1, 2, f);
        if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
            fclose(f);
            c->gz = gzopen(path, "rb");
            if (c->gz == NULL) {
                set_err(errbuf, errlen, "%s: cannot open gzip stream%s", path, "");
                goto out;
            }
            (void)gzbuffer(c->gz, 128 * 1024);
        } else {
            if (fseek(f, 0, SEEK_SET) != 0) {
                set_err(errbuf, errlen, "%s: cannot seek: %s", path, strerror(errno));
                fclose(f);
                goto out;
            }
            c->fp = f;
            c->raw = f;
        }
    }
    if (c->gz != NULL) {
        c->fp = gz_stream(c->gz);
        if (c->fp == NULL) {
            gzclose(c->gz);
            c->gz = NULL;
            set_err(errbuf, errlen, "%s: cannot create stream%s", path, "");
            e = TSC_ERR_NOMEM;
            goto out;
        }
        set_iobuf(c, c->fp);
    }
#if defined(__GLIBC__)
    /* Only this thread reads the stream: libpcap's two freads per packet
     * need not take the stream lock. */
    (void)__fsetlocking(c->fp, FSETLOCKING_BYCALLER);
#endif
    char perr[PCAP_ERRBUF_SIZE] = "";
    c->p = pcap_fopen_offline_with_tstamp_precision(c->fp, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (c->p == NULL) {
        set_err(errbuf, errlen, "%s: %s", path, perr);
        fclose(c->fp); /* also closes the gzip reader through the cookie */
        c->fp = NULL;
        c->raw = NULL;
        c->gz = NULL;
        e = TSC_ERR_DECODE;
        goto out;
    }
    c->nano = pcap_get_tstamp_precision(c->p) == PCAP_TSTAMP_PRECISION_NANO;
    *out = c;
    return TSC_OK;
out:
    free(c->iobuf); /* its stream is closed by now */
    free(c->name);
    free(c);
    return e;
}

enum tsc_err tsc_capture_open_live(struct tsc_capture **out, const char *iface,
                                   const struct tsc_capture_live_opts *opts,
                                   struct tsc_diag_sink *sink, char *errbuf, size_t errlen)
{
    TSC_ENSURE(out != NULL && iface != NULL, TSC_ERR_ARG);
    *out = NULL;
    struct tsc_capture_live_opts o = {0, false, false, 0, 0};
    if (opts != NULL) {
        o = *opts;
    }
    struct tsc_capture *c = cap_alloc(iface, sink);
    TSC_ENSURE(c != NULL, TSC_ERR_NOMEM);
    c->live = true;
    char perr[PCAP_ERRBUF_SIZE] = "";
    c->p = pcap_create(iface, perr);
    if (c->p == NULL) {
        set_err(errbuf, errlen, "%s: %s", iface, perr);
        free(c->name);
        free(c);
        return TSC_ERR_IO;
    }
    (void)pcap_set_snaplen(c->p, o.snaplen > 0 ? o.snaplen : 262144);
    (void)pcap_set_promisc(c->p, o.promisc ? 1 : 0);
    (void)pcap_set_immediate_mode(c->p, o.immediate ? 1 : 0);
    if (o.buffer_size > 0) {
        (void)pcap_set_buffer_size(c->p, o.buffer_size);
    }
    (void)pcap_set_timeout(c->p, o.timeout_ms > 0 ? o.timeout_ms : 100);
    /* Nanoseconds where the platform offers them; microseconds otherwise. */
    (void)pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(c->p);
    if (rc < 0) {
        const char *why;
        switch (rc) {
        case PCAP_ERROR_NO_SUCH_DEVICE:
            why = "no such interface";
            break;
        case PCAP_ERROR_PERM_DENIED:
            why = "permission denied (need root or CAP_NET_RAW)";
            break;
        case PCAP_ERROR_PROMISC_PERM_DENIED:
            why = "permission denied for promiscuous mode";
            break;
        case PCAP_ERROR_IFACE_NOT_UP:
            why = "interface is not up";
            break;
        case PCAP_ERROR_RFMON_NOTSUP:
            why = "monitor mode not supported";
            break;
        default:
            why = pcap_geterr(c->p);
            break;
        }
        set_err(errbuf, errlen, "%s: %s", iface, why);
        pcap_close(c->p);
        free(c->name);
        free(c);
        return rc == PCAP_ERROR_NO_SUCH_DEVICE ? TSC_ERR_ARG : TSC_ERR_IO;
    }
    if (rc > 0) {
        struct tsc_where w;
        cap_where(c, 0, &w);
        tsc_diag(sink, TSC_DIAG_CAPTURE_OPEN, &w, "%s: warning from capture setup: %s", iface,
                 pcap_statustostr(rc));
    }
    c->nano = pcap_get_tstamp_precision(c->p) == PCAP_TSTAMP_PRECISION_NANO;
    /*
     * Reads are non-blocking and we wait with poll() ourselves (in immediate mode
     * the kernel timeout is not applied on every platform): an idle link still
     * returns every timeout_ms for flow expiry and breakloop.
     */
    c->timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : 100;
    c->live_fd = pcap_get_selectable_fd(c->p);
    if (c->live_fd >= 0 && pcap_setnonblock(c->p, 1, perr) != 0) {
        c->live_fd = -1;
    }
    *out = c;
    return TSC_OK;
}

enum tsc_err tsc_capture_set_filter(struct tsc_capture *c, const char *expr, char *errbuf,
                                    size_t errlen)
{
    TSC_ENSURE(c != NULL && expr != NULL, TSC_ERR_ARG);
    struct bpf_program prog;
    if (pcap_compile(c->p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        set_err(errbuf, errlen, "filter \"%s\": %s", expr, pcap_geterr(c->p));
        return TSC_ERR_ARG;
    }
    int rc = pcap_setfilter(c->p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        set_err(errbuf, errlen, "filter \"%s\": %s", expr, pcap_geterr(c->p));
        return TSC_ERR_IO;
    }
    return TSC_OK;
}

void tsc_capture_set_first_num(struct tsc_capture *c, uint64_t first_num)
{
    c->next_num = first_num > 0 ? first_num : 1;
}

enum tsc_err tsc_capture_next(struct tsc_capture *c, struct tsc_frame *f, bool *eof)
{
    struct pcap_pkthdr *h = NULL;
    const u_char *data = NULL;
    *eof = false;
    memset(f, 0, sizeof(*f));
    f->file = c->name;
    int rc = pcap_next_ex(c->p, &h, &data);
    if (rc == 0 && c->live && c->live_fd >= 0) {
        struct pollfd pfd = {c->live_fd, POLLIN, 0};
        if (poll(&pfd, 1, c->timeout_ms) > 0) {
            rc = pcap_next_ex(c->p, &h, &data);
        }
    }
    if (rc == 0) {
        return TSC_OK; /* live read timeout: no frame */
    }
    if (rc == PCAP_ERROR_BREAK) {
        *eof = true;
        return TSC_ERR_STATE;
    }
    if (rc < 0) {
        struct tsc_where w;
        cap_where(c, c->next_num, &w);
        const char *msg = pcap_geterr(c->p);
        *eof = true;
        /* libpcap reports a partial last record as "truncated dump file". */
        if (strstr(msg, "truncated") != NULL) {
            tsc_diag(c->sink, TSC_DIAG_CAPTURE_TRUNCATED_FILE, &w,
                     "capture ends inside packet %llu: %s", (unsigned long long)c->next_num, msg);
            return TSC_ERR_TRUNCATED;
        }
        tsc_diag(c->sink, TSC_DIAG_CAPTURE_CORRUPT, &w, "cannot read packet %llu: %s",
                 (unsigned long long)c->next_num, msg);
        return TSC_ERR_IO;
    }
    f->ts.sec = (int64_t)h->ts.tv_sec;
    uint64_t frac = c->nano ? (uint64_t)h->ts.tv_usec : (uint64_t)h->ts.tv_usec * 1000u;
    f->ts.nsec = frac < 1000000000u ? (uint32_t)frac : 999999999u;
    if (f->ts.sec < 0 || f->ts.sec > TSC_TS_MAX_SEC || frac >= 1000000000u) {
        /* A corrupt record, or a pcapng time unit that overflows: clamp, say so once. */
        int64_t was = f->ts.sec;
        f->ts.sec = f->ts.sec < 0 ? 0 : f->ts.sec > TSC_TS_MAX_SEC ? TSC_TS_MAX_SEC : f->ts.sec;
        if (!c->warned_range) {
            c->warned_range = true;
            struct tsc_where w;
            cap_where(c, c->next_num, &w);
            tsc_diag(c->sink, TSC_DIAG_CAPTURE_TIME, &w,
                     "timestamp out of range (%lld s, fraction %llu) clamped; later cases not "
                     "reported",
                     (long long)was, (unsigned long long)frac);
        }
    }
    f->caplen = h->caplen;
    f->wirelen = h->len;
    f->linktype = pcap_datalink(c->p);
    f->data = data;
    f->num = c->next_num++;
    if (f->caplen < f->wirelen && !c->warned_snap) {
        c->warned_snap = true;
        struct tsc_where w;
        cap_where(c, f->num, &w);
        tsc_diag(c->sink, TSC_DIAG_CAPTURE_SNAPLEN, &w,
                 "packet cut by the snap length (%u of %u bytes); later cuts not reported",
                 f->caplen, f->wirelen);
    }
    if (!c->warned_time && (f->ts.sec < c->last_ts.sec ||
                            (f->ts.sec == c->last_ts.sec && f->ts.nsec < c->last_ts.nsec))) {
        c->warned_time = true;
        struct tsc_where w;
        cap_where(c, f->num, &w);
        tsc_diag(c->sink, TSC_DIAG_CAPTURE_TIME, &w,
                 "timestamp earlier than the previous packet's; later cases not reported");
    }
    c->last_ts = f->ts;
    return TSC_OK;
}

void tsc_capture_progress(const struct tsc_capture *c, uint64_t *done, uint64_t *total)
{
    *done = 0;
    *total = c->total;
    if (c->gz != NULL) {
        z_off_t off = gzoffset(c->gz); /* compressed bytes consumed */
        *done = off > 0 ? (uint64_t)off : 0;
    } else if (c->raw != NULL) {
        long off = ftell(c->raw);
        *done = off > 0 ? (uint64_t)off : 0;
    }
    if (*total > 0 && *done > *total) {
        *done = *total;
    }
}

bool tsc_capture_kernel_stats(struct tsc_capture *c, uint64_t *recv, uint64_t *drop)
{
    struct pcap_stat ps;
    if (!c->live || pcap_stats(c->p, &ps) != 0) {
        return false;
    }
    *recv = ps.ps_recv;
    *drop = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
    return true;
}

void tsc_capture_breakloop(struct tsc_capture *c)
{
    if (c != NULL && c->p != NULL) {
        pcap_breakloop(c->p);
    }
}

void tsc_capture_close(struct tsc_capture *c)
{
    if (c == NULL) {
        return;
    }
    /* pcap_close closes the FILE* it was given (and so the gzip cookie). */
    pcap_close(c->p);
    free(c->iobuf);
    free(c->name);
    free(c);
}
