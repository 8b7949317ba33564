/*
 * The verdict of one connection under --verify (docs/forensics.md): combines
 * the dissector's facts, the decryption facts, the signature / chain / order
 * checks (struct tsc_verify_facts) and the TCP evidence quality into a list
 * of checks and one overall verdict. Pure logic: no I/O, no libcrypto.
 */
#ifndef TSC_VERIFY_VERDICT_H
#define TSC_VERIFY_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "tlsscope/types.h"

enum tsc_verdict_kind {
    TSC_VERDICT_VERIFIED = 0, /* every applicable check passed, evidence complete */
    TSC_VERDICT_INCOMPLETE,   /* nothing contradicts it, but something could not be checked */
    TSC_VERDICT_FAILED,       /* some check failed: tampering, forgery or a protocol attack */
};
const char *tsc_verdict_name(enum tsc_verdict_kind k); /* "verified", "incomplete", "failed" */
const char *tsc_check_name(enum tsc_check r);          /* "pass", "fail", "not_checked" */

#define TSC_MAX_VCHECKS 16

/* One named check: pass, fail or not_checked, with a short explanation. */
struct tsc_vcheck {
    const char *check; /* stable name: "client_finished", "records_s2c", ... */
    enum tsc_check result;
    char detail[160];
};

/* Inputs: everything is borrowed for the call. */
struct tsc_verdict_in {
    const struct tsc_tls_facts *f;
    const struct tsc_verify_facts *v;
    const struct tsc_tcp_dir_stats *tcp; /* [2], by enum tsc_dir */
    bool start_captured;                 /* the TCP handshake (SYN) was in the capture */
    bool have_ca;                        /* --ca-file / --ca-path given */
};

struct tsc_verdict {
    enum tsc_verdict_kind kind;
    bool handshake_complete;
    const char *stopped_after;  /* last handshake message when incomplete, or NULL */
    const char *stopped_from;   /* "client" / "server" */
    const char *master_secret;  /* "recomputed", "not_recovered", "not_applicable" */
    const char *server_auth;    /* "signature", "rsa_key_transport", "psk", "resumed", ... */
    struct tsc_vcheck checks[TSC_MAX_VCHECKS];
    uint32_t n_checks;
};

void tsc_verdict_compute(const struct tsc_verdict_in *in, struct tsc_verdict *out);

/* Name of a signature scheme for details ("ecdsa_secp256r1_sha256", else hex). */
void tsc_verdict_scheme(uint16_t scheme, bool has_scheme, char *out, size_t cap);


/* Run-wide verdict counts and a bounded table of rows for the closing summary. */
#define TSC_VSUM_ROWS 1000
struct tsc_vsum_row {
    uint64_t conn;
    enum tsc_verdict_kind kind;
    int32_t version;
    int32_t cipher_suite;
    char sni[64];
    char problem[112]; /* first failed (else first open) check: "name: detail" */
};
struct tsc_vsum {
    uint64_t counts[3]; /* by enum tsc_verdict_kind */
    struct tsc_vsum_row *rows; /* TSC_VSUM_ROWS, allocated by tsc_vsum_init */
    uint32_t n_rows;
    uint64_t rows_dropped;
};
int tsc_vsum_init(struct tsc_vsum *s);
void tsc_vsum_free(struct tsc_vsum *s);
void tsc_vsum_add(struct tsc_vsum *s, uint64_t conn, const struct tsc_tls_facts *f,
                  const struct tsc_verdict *v);
/* The check that explains a verdict (first failed, else first not checked), or NULL. */
const struct tsc_vcheck *tsc_verdict_first_problem(const struct tsc_verdict *v);

#endif
