/*
 * tls_summary: one line per TLS connection of a capture, through libtlsscope.
 *
 *   cc -o tls_summary tls_summary.c $(pkg-config --cflags --libs tlsscope)
 *   ./tls_summary capture.pcap [keylog]
 *
 * Prints the connection id, ports, SNI, JA4 and the --verify verdict
 * ("verified", "incomplete" or "failed"; docs/forensics.md).
 */
#include <stdio.h>
#include <string.h>
#include <tlsscope/tlsscope.h>

/* --verify gives each TLS connection a verdict event, right after its summary; the
 * event carries the connection's facts too. */
static void on_event(void *ud, const struct tsc_event *ev)
{
    (void)ud;
    const struct tsc_tls_facts *f = ev->facts;
    printf("#%llu %u -> %u sni=%s ja4=%s verdict=%s\n", (unsigned long long)ev->conn->id,
           ev->conn->client.port, ev->conn->server.port, f->sni[0] ? f->sni : "-",
           f->ja4[0] ? f->ja4 : "-", ev->verdict);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CAPTURE [KEYLOG]\n", argv[0]);
        return 2;
    }
    struct tsc_config cfg;
    tsc_config_default(&cfg);
    cfg.format = TSC_FORMAT_NONE; /* nothing written: events come to on_event */
    cfg.quiet = true;
    cfg.verify = true;
    cfg.on_event = on_event;
    cfg.event_mask = TSC_EV_MASK(TSC_EV_VERDICT);
    const char *logs[1] = {argc > 2 ? argv[2] : NULL};
    cfg.keylog_files = logs;
    cfg.n_keylog_files = argc > 2 ? 1 : 0;
    struct tsc_analyzer *a = NULL;
    char err[256];
    if (tsc_analyzer_new(&a, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "tls_summary: %s\n", err);
        return 3;
    }
    const char *paths[1] = {argv[1]};
    int rc = tsc_analyzer_run_files(a, paths, 1);
    tsc_analyzer_free(a);
    return rc;
}
