/* Plaintext export to a directory (datadir.h). */
#include "output/datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/writer.h"
#include "util/jw.h"

#define TSC_DD_SLOTS 16 /* open descriptors kept */

struct tsc_dd_slot {
    uint64_t conn;
    int dir;
    int fd; /* -1: free */
    uint64_t used; /* tick of the last write */
};

struct tsc_datadir {
    int dirfd;
    struct tsc_dd_slot slot[TSC_DD_SLOTS];
    uint64_t tick;
    struct tsc_datadir_stats st;
    struct tsc_buf json;
};

enum tsc_err tsc_datadir_open(struct tsc_datadir **out, const char *dir, char *err, size_t errlen)
{
    TSC_ENSURE(out != NULL && dir != NULL, TSC_ERR_ARG);
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return TSC_ERR_IO;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot use %s as the data directory: %s", dir, strerror(errno));
        return TSC_ERR_IO;
    }
    struct tsc_datadir *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        close(fd);
        return TSC_ERR_NOMEM;
    }
    d->dirfd = fd;
    for (int i = 0; i < TSC_DD_SLOTS; i++) {
        d->slot[i].fd = -1;
    }
    tsc_buf_init(&d->json, 1u << 20);
    *out = d;
    return TSC_OK;
}

/* "<ip>.<port>" with IPv6 colons as '_' (file-name safe, no '-' inside). */
static void tsc_dd_endpoint(const struct tsc_endpoint *e, char *out, size_t cap)
{
    char ip[64];
    tsc_fmt_ip(e, ip, sizeof(ip));
    for (char *c = ip; *c != '\0'; c++) {
        if (*c == ':') {
            *c = '_';
        }
    }
    snprintf(out, cap, "%s.%u", ip, e->port);
}

/* dir 0/1: the direction's data file; -1: the sidecar. */
static void tsc_dd_name(const struct tsc_tcp_conn *tcp, int dir, char *out, size_t cap)
{
    char cl[80], sv[80];
    tsc_dd_endpoint(&tcp->client, cl, sizeof(cl));
    tsc_dd_endpoint(&tcp->server, sv, sizeof(sv));
    if (dir < 0) {
        snprintf(out, cap, "%llu-%s-%s.json", (unsigned long long)tcp->id, cl, sv);
    } else {
        snprintf(out, cap, "%llu-%s-%s-%s.bin", (unsigned long long)tcp->id, cl, sv,
                 tsc_dir_name(dir));
    }
}

static void tsc_dd_release(struct tsc_dd_slot *s)
{
    if (s->fd >= 0) {
        close(s->fd);
    }
    s->fd = -1;
}

static bool tsc_dd_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

void tsc_datadir_data(struct tsc_datadir *d, struct tsc_dd_conn *c, const struct tsc_tcp_conn *tcp,
                      int dir, const uint8_t *p, size_t n)
{
    if (d == NULL || c == NULL || tcp == NULL || (dir != 0 && dir != 1) || n == 0) {
        return;
    }
    struct tsc_dd_slot *s = NULL, *lru = &d->slot[0];
    for (int i = 0; i < TSC_DD_SLOTS; i++) {
        struct tsc_dd_slot *x = &d->slot[i];
        if (x->fd >= 0 && x->conn == tcp->id && x->dir == dir) {
            s = x;
            break;
        }
        if (x->fd < 0 || (lru->fd >= 0 && x->used < lru->used)) {
            lru = x;
        }
    }
    if (s == NULL) {
        char name[256];
        tsc_dd_name(tcp, dir, name, sizeof(name));
        tsc_dd_release(lru);
        int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (c->started[dir] ? 0 : O_TRUNC);
        lru->fd = openat(d->dirfd, name, flags, 0600);
        if (lru->fd < 0) {
            d->st.write_errors++;
            return;
        }
        lru->conn = tcp->id;
        lru->dir = dir;
        s = lru;
        if (!c->started[dir]) {
            c->started[dir] = true;
            d->st.files++;
        }
    }
    s->used = ++d->tick;
    if (!tsc_dd_write_all(s->fd, p, n)) {
        d->st.write_errors++;
        return;
    }
    c->bytes[dir] += n;
    d->st.bytes += n;
}

void tsc_datadir_hole(struct tsc_datadir *d, struct tsc_dd_conn *c, int dir,
                      enum tsc_dd_hole_kind kind, uint64_t bytes, uint64_t pkt)
{
    if (d == NULL || c == NULL || (dir != 0 && dir != 1) || !c->started[dir]) {
        return;
    }
    d->st.holes++;
    if (c->holes[dir] == NULL) {
        c->holes[dir] = calloc(TSC_DD_MAX_HOLES, sizeof(struct tsc_dd_hole));
    }
    if (c->holes[dir] == NULL || c->n_holes[dir] >= TSC_DD_MAX_HOLES) {
        c->holes_dropped[dir]++;
        return;
    }
    struct tsc_dd_hole *h = &c->holes[dir][c->n_holes[dir]++];
    h->at = c->bytes[dir];
    h->bytes = bytes;
    h->pkt = pkt;
    h->kind = (uint8_t)kind;
}

static void tsc_dd_dir_json(struct tsc_jw *j, const struct tsc_dd_conn *c,
                            const struct tsc_tcp_conn *tcp, const struct tsc_tls_facts *f, int dir)
{
    char name[256];
    tsc_jw_key(j, tsc_dir_name(dir));
    tsc_jw_obj_begin(j);
    if (c->started[dir]) {
        tsc_dd_name(tcp, dir, name, sizeof(name));
        tsc_jw_kstr(j, "file", name);
    } else {
        tsc_jw_knull(j, "file");
    }
    tsc_jw_kuint(j, "bytes", c->bytes[dir]);
    if (f != NULL && f->dec.app_bytes[dir] == c->bytes[dir] && c->bytes[dir] > 0) {
        tsc_jw_khex(j, "sha256", f->dec.app_sha256[dir], 32);
    } else {
        tsc_jw_knull(j, "sha256");
    }
    tsc_jw_key(j, "holes");
    tsc_jw_arr_begin(j);
    for (uint32_t i = 0; i < c->n_holes[dir]; i++) {
        const struct tsc_dd_hole *h = &c->holes[dir][i];
        tsc_jw_obj_begin(j);
        tsc_jw_kuint(j, "at", h->at);
        tsc_jw_kstr(j, "kind", h->kind == TSC_DD_TCP_GAP ? "tcp-gap" : "record-not-decrypted");
        tsc_jw_kuint(j, "bytes", h->bytes);
        tsc_jw_kuint(j, "pkt", h->pkt);
        tsc_jw_obj_end(j);
    }
    tsc_jw_arr_end(j);
    tsc_jw_kuint(j, "holes_dropped", c->holes_dropped[dir]);
    tsc_jw_obj_end(j);
}

void tsc_datadir_conn_end(struct tsc_datadir *d, struct tsc_dd_conn *c,
                          const struct tsc_tcp_conn *tcp, const struct tsc_tls_facts *f)
{
    if (d == NULL || c == NULL || tcp == NULL) {
        return;
    }
    for (int i = 0; i < TSC_DD_SLOTS; i++) {
        if (d->slot[i].fd >= 0 && d->slot[i].conn == tcp->id) {
            tsc_dd_release(&d->slot[i]);
        }
    }
    if (c->started[0] || c->started[1]) {
        char ip[64], name[256];
        struct tsc_jw j;
        tsc_buf_reset(&d->json);
        tsc_jw_init(&j, &d->json);
        tsc_jw_obj_begin(&j);
        tsc_jw_kuint(&j, "conn", tcp->id);
        tsc_fmt_ip(&tcp->client, ip, sizeof(ip));
        tsc_jw_kstr(&j, "client_ip", ip);
        tsc_jw_kuint(&j, "client_port", tcp->client.port);
        tsc_fmt_ip(&tcp->server, ip, sizeof(ip));
        tsc_jw_kstr(&j, "server_ip", ip);
        tsc_jw_kuint(&j, "server_port", tcp->server.port);
        tsc_dd_dir_json(&j, c, tcp, f, 0);
        tsc_dd_dir_json(&j, c, tcp, f, 1);
        tsc_jw_obj_end(&j);
        bool ok = !j.failed && tsc_buf_append(&d->json, "\n", 1) == TSC_OK;
        tsc_dd_name(tcp, -1, name, sizeof(name));
        int fd = ok ? openat(d->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
        if (fd < 0 || !tsc_dd_write_all(fd, d->json.p, d->json.len)) {
            d->st.write_errors++;
        }
        if (fd >= 0 && close(fd) != 0) {
            d->st.write_errors++;
        }
    }
    for (int dir = 0; dir < 2; dir++) {
        free(c->holes[dir]);
        c->holes[dir] = NULL;
    }
}

void tsc_datadir_get_stats(const struct tsc_datadir *d, struct tsc_datadir_stats *st)
{
    if (d == NULL) {
        memset(st, 0, sizeof(*st));
        return;
    }
    *st = d->st;
}

void tsc_datadir_close(struct tsc_datadir *d)
{
    if (d == NULL) {
        return;
    }
    for (int i = 0; i < TSC_DD_SLOTS; i++) {
        tsc_dd_release(&d->slot[i]);
    }
    close(d->dirfd);
    tsc_buf_free(&d->json);
    free(d);
}
