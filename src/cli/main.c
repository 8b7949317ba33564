/* tlsscope command line: a thin client of libtlsscope (include/tlsscope/). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlsscope/tlsscope.h"

#define EXIT_USAGE 2
#define MAX_INPUTS 1024
#define MAX_KEY_FILES 32
#define MAX_PSK 256 /* bytes; RFC 4279 5.3 allows up to 2^16-1, 256 is beyond any deployed PSK */

static struct tsc_analyzer *g_analyzer; /* for the signal handler only */

/* Only flags are set here (async-signal-safe); the capture loop acts on them. */
static void on_signal(int sig)
{
    if (g_analyzer == NULL) {
        return;
    }
    if (sig == SIGHUP) {
        tsc_analyzer_reopen_output(g_analyzer);
    } else {
        tsc_analyzer_stop(g_analyzer);
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: tlsscope [options] -r FILE [-r FILE ...] [BPF filter]\n"
            "       tlsscope [options] -i IFACE [BPF filter]\n"
            "\n"
            "Explains every TLS connection in a capture or on an interface.\n"
            "\n"
            "Input:\n"
            "  -r FILE            read a pcap or pcapng capture (gzip ok); repeat to read\n"
            "                     several files as one time line; '-' reads stdin\n"
            "  -i IFACE           capture live on IFACE ('any' for all interfaces)\n"
            "  -s SNAPLEN         live snap length (default 262144)\n"
            "  --no-promisc       do not put the interface into promiscuous mode\n"
            "  --buffer-size N    live kernel buffer size in bytes (default 32 MiB)\n"
            "  --stats SECONDS    live: a statistics event every SECONDS (packets, bytes,\n"
            "                     kernel drops, open flows, memory, evictions)\n"
            "  [BPF filter]       trailing arguments form a capture filter, as in tcpdump\n"
            "\n"
            "Output:\n"
            "  -j, --json         JSON Lines (one object per event; see docs/json-schema.md)\n"
            "  -v                 more detail: message fields (-v), raw hex too (-vv)\n"
            "  --summary-only     JSON: only run, connection, diagnostic and stats objects\n"
            "  --ecs              connection summaries as Elastic Common Schema 8.12\n"
            "                     documents (one per line, for Filebeat); nothing else\n"
            "  -o FILE            write to FILE instead of standard output (live: SIGHUP\n"
            "                     reopens it, for log rotation)\n"
            "  -n                 no name resolution (tlsscope never resolves; accepted for\n"
            "                     ssldump users)\n"
            "  -q, --quiet        no progress display on standard error\n"
            "  -d                 show decrypted application data (text: printable text, or\n"
            "                     hex with -v; JSON: app_data events with base64 data)\n"
            "\n"
            "Decryption (each connection reports decrypted, finished, bad_records):\n"
            "  -k KEYFILE         server RSA private key (PEM, DER, PKCS#8, PKCS#12);\n"
            "                     repeatable, matched through the server certificate\n"
            "  -p PASSWORD        password of encrypted key files\n"
            "  --password-file F  read that password from the first line of F\n"
            "  -l KEYLOG          NSS key log (SSLKEYLOGFILE format); repeatable. Live, it\n"
            "                     is followed as it grows (waited for if missing, reopened\n"
            "                     when truncated or replaced)\n"
            "  --no-env-keylog    ignore the SSLKEYLOGFILE environment variable (by default\n"
            "                     the file it names is loaded when it is readable)\n"
            "  --psk HEX          TLS 1.2 pre-shared key (RFC 4279 PSK suites)\n"
            "  --psk-identity ID  only for this PSK identity (default: any)\n"
            "\n"
            "Evidence export:\n"
            "  --export-keylog F  write an NSS key log (SSLKEYLOGFILE format) of every\n"
            "                     connection whose secrets were recovered (RSA key, PSK,\n"
            "                     key log, pcapng secrets, resumption); mode 0600\n"
            "  --data-dir DIR     write each connection's decrypted application data to\n"
            "                     DIR, one file per direction (ID-CLIENT-SERVER-DIR.bin), and\n"
            "                     a sidecar ID-CLIENT-SERVER.json listing the holes\n"
            "  -w FILE            write the input packets to FILE as pcapng, with a\n"
            "                     Decryption Secrets Block holding the confirmed secrets of\n"
            "                     its sessions, so Wireshark opens it decrypted (inputs are\n"
            "                     read twice: not for stdin or live capture)\n"
            "\n"
            "Verification (docs/forensics.md):\n"
            "  --verify           a verdict per connection (verified, incomplete, failed):\n"
            "                     handshake, keys, Finished, ServerKeyExchange and\n"
            "                     CertificateVerify signatures, record ledger, TCP evidence,\n"
            "                     findings; a summary table at the end\n"
            "  --ca-file FILE     with --verify: check server chains against these CAs (PEM)\n"
            "                     at the capture's time\n"
            "  --ca-path DIR      with --verify: CA directory (OpenSSL c_rehash layout)\n"
            "  --report FILE      also write a self-contained HTML evidence report (implies\n"
            "                     --verify): run header, charts, connection table, a ladder\n"
            "                     diagram per connection\n"
            "\n"
            "Limits:\n"
            "  --max-flows N           tracked TCP connections (default 1000000)\n"
            "  --max-buffer-bytes N    out-of-order bytes buffered in all (default 256 MiB)\n"
            "  --max-conn-buffer N     out-of-order bytes per connection direction (4 MiB)\n"
            "  --idle-timeout SECONDS  close idle connections (default 600)\n"
            "  --max-handshake N       largest handshake message buffered (default 262144)\n"
            "  --max-memory BYTES      memory budget (K, M, G suffixes): the caps above, the\n"
            "                          certificate and resumption caches and the live buffer\n"
            "                          are derived from it, and the oldest flows are evicted\n"
            "                          while the heap is above it (see docs/usage.md)\n"
            "  --session-cache N       resumption cache entries, session IDs and tickets of\n"
            "                          every input (default 65536, least recently used\n"
            "                          dropped first; 0: off)\n"
            "  --trial-max N           midstream TLS 1.3 connections (no handshake): key log\n"
            "                          secrets tried per connection at most (default 4096)\n"
            "  --threads N|auto        analysis threads (auto: one per core; default auto\n"
            "                          with -i, 1 with -r): one thread reads, N workers\n"
            "                          analyse, flows sharded by address (ids and line\n"
            "                          order differ from one thread, docs/usage.md)\n"
            "\n"
            "  -h, --help         this help\n"
            "  -V, --version      version\n"
            "\n"
            "Live: output is flushed event by event; SIGINT or SIGTERM writes the summaries\n"
            "of the open connections and the final statistics, then exits 0.\n"
            "\n"
            "Exit status: 0 success (with --verify: every connection verified), 1 with\n"
            "--verify: some connection failed or could not be verified, 2 usage error (also\n"
            "a BPF filter that does not compile), 3 an input, interface or key file could\n"
            "not be opened (no such interface, permission denied, ...).\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
        return -1;
    }
    *out = v;
    return 0;
}

/* Bytes with an optional binary suffix: 512K, 64M, 2G. */
static int parse_size(const char *s, uint64_t *out)
{
    char num[32];
    size_t n = strlen(s);
    uint64_t mul = 1;
    if (n > 0 && strchr("kKmMgG", s[n - 1]) != NULL) {
        char u = (char)(s[n - 1] | 0x20);
        mul = u == 'k' ? 1ull << 10 : u == 'm' ? 1ull << 20 : 1ull << 30;
        n--;
    }
    if (n == 0 || n >= sizeof(num)) {
        return -1;
    }
    memcpy(num, s, n);
    num[n] = '\0';
    uint64_t v;
    if (parse_u64(num, &v) != 0 || v > UINT64_MAX / mul) {
        return -1;
    }
    *out = v * mul;
    return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    if (parse_u64(s, &v) != 0 || v > UINT32_MAX) {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

enum {
    OPT_SUMMARY_ONLY = 256,
    OPT_NO_PROMISC,
    OPT_BUFFER_SIZE,
    OPT_MAX_FLOWS,
    OPT_MAX_BUFFER,
    OPT_MAX_CONN_BUFFER,
    OPT_IDLE_TIMEOUT,
    OPT_MAX_HANDSHAKE,
    OPT_PASSWORD_FILE,
    OPT_NO_ENV_KEYLOG,
    OPT_PSK,
    OPT_PSK_IDENTITY,
    OPT_SESSION_CACHE,
    OPT_TRIAL_MAX,
    OPT_EXPORT_KEYLOG,
    OPT_DATA_DIR,
    OPT_VERIFY,
    OPT_CA_FILE,
    OPT_CA_PATH,
    OPT_ECS,
    OPT_REPORT,
    OPT_STATS,
    OPT_MAX_MEMORY,
    OPT_THREADS,
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Hex string (optional 0x) into out; returns the byte count, -1 when not hex or too long. */
static int parse_hex(const char *s, uint8_t *out, size_t cap)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
    }
    size_t n = strlen(s);
    if (n == 0 || n % 2 != 0 || n / 2 > cap) {
        return -1;
    }
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]);
        int lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(n / 2);
}

/* First line of a password file (without its line end). */
static int read_password_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    if (fgets(out, (int)cap, f) == NULL) {
        out[0] = '\0';
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

/* --threads auto: one analysis thread per online core (1 to 64). */
static int cores(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    return ncpu < 1 ? 1 : (ncpu > 64 ? 64 : (int)ncpu);
}

int main(int argc, char **argv)
{
#if defined(__GLIBC__)
    /*
     * Connections are created and freed by the thousand per second. By
     * default glibc hands the top of the heap back to the kernel once 128 KiB
     * of it is free and faults it in again for the next connections (a page
     * fault per 4 KiB); keeping up to 64 MiB of freed heap avoids that churn.
     * Peak memory is unchanged: only memory already used is kept.
     */
    (void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"ecs", no_argument, NULL, OPT_ECS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"summary-only", no_argument, NULL, OPT_SUMMARY_ONLY},
        {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
        {"buffer-size", required_argument, NULL, OPT_BUFFER_SIZE},
        {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
        {"max-buffer-bytes", required_argument, NULL, OPT_MAX_BUFFER},
        {"max-conn-buffer", required_argument, NULL, OPT_MAX_CONN_BUFFER},
        {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
        {"max-handshake", required_argument, NULL, OPT_MAX_HANDSHAKE},
        {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
        {"no-env-keylog", no_argument, NULL, OPT_NO_ENV_KEYLOG},
        {"psk", required_argument, NULL, OPT_PSK},
        {"psk-identity", required_argument, NULL, OPT_PSK_IDENTITY},
        {"session-cache", required_argument, NULL, OPT_SESSION_CACHE},
        {"trial-max", required_argument, NULL, OPT_TRIAL_MAX},
        {"export-keylog", required_argument, NULL, OPT_EXPORT_KEYLOG},
        {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"ca-file", required_argument, NULL, OPT_CA_FILE},
        {"ca-path", required_argument, NULL, OPT_CA_PATH},
        {"report", required_argument, NULL, OPT_REPORT},
        {"stats", required_argument, NULL, OPT_STATS},
        {"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
        {"threads", required_argument, NULL, OPT_THREADS},
        {NULL, 0, NULL, 0},
    };
    struct tsc_config cfg;
    tsc_config_default(&cfg);
    const char *inputs[MAX_INPUTS];
    int n_inputs = 0;
    const char *iface = NULL;
    bool threads_given = false;
    const char *outpath = NULL;
    int opt;
    uint32_t u32;
    uint64_t u64;
    const char *rsa_keys[MAX_KEY_FILES];
    const char *keylogs[MAX_KEY_FILES];
    static char password[1024];
    static uint8_t psk[MAX_PSK];
    int psk_len = -1;
    cfg.env_keylog = true;

    while ((opt = getopt_long(argc, argv, "+r:i:s:o:w:jvnqhVdk:p:l:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'k':
            if (cfg.n_rsa_key_files >= MAX_KEY_FILES) {
                fprintf(stderr, "tlsscope: at most %d -k key files\n", MAX_KEY_FILES);
                return EXIT_USAGE;
            }
            rsa_keys[cfg.n_rsa_key_files++] = optarg;
            break;
        case 'l':
            if (cfg.n_keylog_files >= MAX_KEY_FILES) {
                fprintf(stderr, "tlsscope: at most %d -l key logs\n", MAX_KEY_FILES);
                return EXIT_USAGE;
            }
            keylogs[cfg.n_keylog_files++] = optarg;
            break;
        case 'p':
            snprintf(password, sizeof(password), "%s", optarg);
            cfg.key_password = password;
            break;
        case OPT_PASSWORD_FILE:
            if (read_password_file(optarg, password, sizeof(password)) != 0) {
                fprintf(stderr, "tlsscope: cannot read password file %s: %s\n", optarg,
                        strerror(errno));
                return 3;
            }
            cfg.key_password = password;
            break;
        case OPT_NO_ENV_KEYLOG:
            cfg.env_keylog = false;
            break;
        case OPT_PSK:
            psk_len = parse_hex(optarg, psk, sizeof(psk));
            if (psk_len <= 0) {
                fprintf(stderr, "tlsscope: --psk wants an even number of hex digits (at most %d "
                                "bytes)\n",
                        MAX_PSK);
                return EXIT_USAGE;
            }
            cfg.psk = psk;
            cfg.psk_len = (size_t)psk_len;
            break;
        case OPT_PSK_IDENTITY:
            cfg.psk_identity = optarg;
            break;
        case 'd':
            cfg.show_app_data = true;
            break;
        case OPT_VERIFY:
            cfg.verify = true;
            break;
        case OPT_CA_FILE:
            cfg.ca_file = optarg;
            break;
        case OPT_CA_PATH:
            cfg.ca_path = optarg;
            break;
        case OPT_REPORT:
            cfg.report_file = optarg;
            cfg.verify = true; /* the report shows the verdicts */
            break;
        case 'r':
            if (n_inputs >= MAX_INPUTS) {
                fprintf(stderr, "tlsscope: at most %d -r inputs\n", MAX_INPUTS);
                return EXIT_USAGE;
            }
            inputs[n_inputs++] = optarg;
            break;
        case 'i':
            iface = optarg;
            break;
        case 's':
            if (parse_u32(optarg, &u32) != 0 || u32 == 0 || u32 > 262144) {
                fprintf(stderr, "tlsscope: -s wants a snap length from 1 to 262144\n");
                return EXIT_USAGE;
            }
            cfg.snaplen = (int)u32;
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'j':
            cfg.format = TSC_FORMAT_JSONL;
            break;
        case OPT_ECS:
            cfg.format = TSC_FORMAT_ECS;
            break;
        case 'v':
            cfg.verbosity++;
            break;
        case 'n':
            cfg.numeric = true;
            break;
        case 'q':
            cfg.quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("tlsscope %s\n", tsc_version());
            return 0;
        case OPT_SUMMARY_ONLY:
            cfg.summary_only = true;
            break;
        case OPT_NO_PROMISC:
            cfg.no_promisc = true;
            break;
        case OPT_BUFFER_SIZE:
            if (parse_u32(optarg, &u32) != 0 || u32 > INT32_MAX) {
                fprintf(stderr, "tlsscope: --buffer-size wants a number of bytes\n");
                return EXIT_USAGE;
            }
            cfg.buffer_size = (int)u32;
            break;
        case OPT_MAX_FLOWS:
            if (parse_u32(optarg, &u32) != 0 || u32 == 0) {
                fprintf(stderr, "tlsscope: --max-flows wants a positive number\n");
                return EXIT_USAGE;
            }
            cfg.max_flows = u32;
            break;
        case OPT_MAX_BUFFER:
            if (parse_u64(optarg, &u64) != 0 || u64 == 0) {
                fprintf(stderr, "tlsscope: --max-buffer-bytes wants a positive number\n");
                return EXIT_USAGE;
            }
            cfg.max_buffered_bytes = u64;
            break;
        case OPT_MAX_CONN_BUFFER:
            if (parse_u32(optarg, &u32) != 0 || u32 == 0) {
                fprintf(stderr, "tlsscope: --max-conn-buffer wants a positive number\n");
                return EXIT_USAGE;
            }
            cfg.max_conn_ooo_bytes = u32;
            break;
        case 'w':
            cfg.write_pcapng = optarg;
            break;
        case OPT_DATA_DIR:
            cfg.data_dir = optarg;
            break;
        case OPT_EXPORT_KEYLOG:
            cfg.export_keylog = optarg;
            break;
        case OPT_SESSION_CACHE:
            if (parse_u32(optarg, &u32) != 0 || u32 > (1u << 24)) {
                fprintf(stderr, "tlsscope: --session-cache wants a number of entries from 0 (off) "
                                "to 16777216\n");
                return EXIT_USAGE;
            }
            cfg.session_cache_entries = u32;
            cfg.no_session_cache = u32 == 0;
            break;
        case OPT_TRIAL_MAX:
            if (parse_u32(optarg, &u32) != 0 || u32 == 0) {
                fprintf(stderr, "tlsscope: --trial-max wants a positive number of secrets\n");
                return EXIT_USAGE;
            }
            cfg.trial_max = u32;
            break;
        case OPT_MAX_MEMORY:
            if (parse_size(optarg, &u64) != 0 || u64 == 0) {
                fprintf(stderr, "tlsscope: --max-memory wants bytes, optionally with K, M or G "
                                "(binary), e.g. 512M\n");
                return EXIT_USAGE;
            }
            cfg.max_memory = u64;
            break;
        case OPT_THREADS:
            threads_given = true;
            if (strcmp(optarg, "auto") == 0) {
                cfg.threads = cores();
            } else if (parse_u32(optarg, &u32) != 0 || u32 == 0 || u32 > 64) {
                fprintf(stderr, "tlsscope: --threads wants 1 to 64, or auto (the number of cores)\n");
                return EXIT_USAGE;
            } else {
                cfg.threads = (int)u32;
            }
            break;
        case OPT_STATS:
            if (parse_u32(optarg, &u32) != 0 || u32 == 0 || u32 > 86400) {
                fprintf(stderr, "tlsscope: --stats wants 1 to 86400 seconds\n");
                return EXIT_USAGE;
            }
            cfg.stats_interval_s = u32;
            break;
        case OPT_IDLE_TIMEOUT:
            if (parse_u32(optarg, &u32) != 0 || u32 == 0) {
                fprintf(stderr, "tlsscope: --idle-timeout wants a positive number of seconds\n");
                return EXIT_USAGE;
            }
            cfg.idle_timeout_s = u32;
            break;
        case OPT_MAX_HANDSHAKE:
            if (parse_u32(optarg, &u32) != 0 || u32 < 1024 || u32 > (1u << 24)) {
                fprintf(stderr, "tlsscope: --max-handshake wants 1024 to 16777216 bytes\n");
                return EXIT_USAGE;
            }
            cfg.max_handshake_msg = u32;
            break;
        default:
            fprintf(stderr, "Try 'tlsscope --help'.\n");
            return EXIT_USAGE;
        }
    }
    if ((n_inputs == 0) == (iface == NULL)) {
        fprintf(stderr, "tlsscope: give either -r FILE (one or more) or -i IFACE\n"
                        "Try 'tlsscope --help'.\n");
        return EXIT_USAGE;
    }
    /* Live capture uses every core unless told otherwise (and unless an option
     * that runs on one thread is given: then quietly one thread). Offline the
     * default stays one thread, so the same file gives the same output, byte
     * for byte, run after run (docs/usage.md, "Threads"). */
    if (iface != NULL && !threads_given && !cfg.verify && cfg.data_dir == NULL &&
        cfg.export_keylog == NULL && cfg.write_pcapng == NULL) {
        cfg.threads = cores();
    }
    if (cfg.write_pcapng != NULL) {
        /* -w reads the inputs a second time once every secret is known. */
        bool piped = iface != NULL;
        for (int i = 0; i < n_inputs; i++) {
            piped = piped || strcmp(inputs[i], "-") == 0;
        }
        if (piped) {
            fprintf(stderr, "tlsscope: -w needs capture files (not stdin or -i)\n");
            return EXIT_USAGE;
        }
    }
    /* Trailing arguments are a BPF filter expression, joined by spaces. */
    static char filter[4096];
    size_t flen = 0;
    for (int i = optind; i < argc; i++) {
        size_t l = strlen(argv[i]);
        if (flen + l + 2 > sizeof(filter)) {
            fprintf(stderr, "tlsscope: filter expression too long\n");
            return EXIT_USAGE;
        }
        if (flen > 0) {
            filter[flen++] = ' ';
        }
        memcpy(filter + flen, argv[i], l);
        flen += l;
        filter[flen] = '\0';
    }
    if (flen > 0) {
        cfg.filter = filter;
    }
    FILE *out = stdout;
    if (outpath != NULL) {
        out = fopen(outpath, "w");
        if (out == NULL) {
            fprintf(stderr, "tlsscope: cannot write %s: %s\n", outpath, strerror(errno));
            return 3;
        }
    }
    if ((cfg.ca_file != NULL || cfg.ca_path != NULL) && !cfg.verify) {
        fprintf(stderr, "tlsscope: --ca-file and --ca-path need --verify\n");
        return EXIT_USAGE;
    }
    if (cfg.psk_identity != NULL && cfg.psk == NULL) {
        fprintf(stderr, "tlsscope: --psk-identity needs --psk\n");
        return EXIT_USAGE;
    }
    /* Live: key logs are followed while they grow (waited for when missing). */
    cfg.follow_keylogs = iface != NULL;
    cfg.rsa_key_files = rsa_keys;
    cfg.keylog_files = keylogs;
    cfg.out = out;
    cfg.out_path = outpath;
    cfg.progress = isatty(STDERR_FILENO) && !cfg.quiet;
    cfg.argc = argc; /* echoed into the run record, secrets masked (-p, --psk) */
    cfg.argv = argv;

    char err[512] = "";
    struct tsc_analyzer *a = NULL;
    if (tsc_analyzer_new(&a, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "tlsscope: %s\n", err);
        memset(password, 0, sizeof(password));
        memset(psk, 0, sizeof(psk));
        return 3;
    }
    g_analyzer = a;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    int rc;
    if (iface != NULL) {
        rc = tsc_analyzer_run_live(a, iface, err, sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "tlsscope: %s\n", err);
        }
    } else {
        rc = tsc_analyzer_run_files(a, inputs, n_inputs);
    }
    if (rc == 0 && cfg.verify) {
        rc = tsc_analyzer_verify_status(a); /* 1: some connection not verified */
    }
    g_analyzer = NULL;
    tsc_analyzer_free(a);
    memset(password, 0, sizeof(password));
    memset(psk, 0, sizeof(psk));
    if (out != stdout) {
        fclose(out);
    }
    return rc;
}
