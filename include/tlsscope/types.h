/*
 * Public value types shared by the library's layers and its callers.
 * Plain data; no allocation. Field names follow the JSON schema
 * (docs/json-schema.md) wherever a field is printed.
 */
#ifndef TLSSCOPE_TYPES_H
#define TLSSCOPE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Capture time, nanosecond resolution. */
struct tsc_ts {
    int64_t sec;
    uint32_t nsec;
};
/* Capture readers keep 0 <= sec <= TSC_TS_MAX_SEC (year 2255) and nsec < 10^9,
 * so that nanosecond arithmetic on int64_t cannot overflow. */
#define TSC_TS_MAX_SEC 9000000000ll

struct tsc_endpoint {
    uint8_t family; /* 4 or 6 */
    uint8_t addr[16];
    uint16_t port;
};

/* Direction of a byte stream inside a connection. */
enum tsc_dir {
    TSC_DIR_C2S = 0, /* client to server */
    TSC_DIR_S2C = 1, /* server to client */
};

/* How the client side of a connection was decided. */
enum tsc_role_source {
    TSC_ROLE_SYN = 0,      /* sender of the SYN */
    TSC_ROLE_SYNACK,       /* receiver of the SYN-ACK */
    TSC_ROLE_CLIENT_HELLO, /* sender of the first ClientHello */
    TSC_ROLE_PORT,         /* port heuristic */
};

/* Tri-state for facts that may be unknown (printed as null). */
enum tsc_tri {
    TSC_TRI_UNKNOWN = 0,
    TSC_TRI_NO = 1,
    TSC_TRI_YES = 2,
};

/* Per-direction TCP statistics (filled by src/tcp). */
struct tsc_tcp_dir_stats {
    uint64_t packets;
    uint64_t bytes;              /* TCP payload bytes seen, retransmissions included */
    uint64_t delivered_bytes;    /* bytes delivered in order to the consumer */
    uint64_t retransmitted_bytes;
    uint64_t conflict_bytes;     /* overlapping bytes that differed from first-seen */
    uint64_t gap_bytes;          /* bytes never seen (lost / not captured) */
    uint64_t ooo_segments;       /* segments that arrived ahead of the expected sequence */
    uint64_t truncated_segments; /* segments cut by the snap length */
};

/* Certificate summary (filled by src/x509). Strings are NUL-terminated, truncated to fit. */
struct tsc_cert_summary {
    uint8_t sha256[32];
    char subject[256];
    char issuer[256];
    char serial[80]; /* hex */
    int64_t not_before; /* unix seconds */
    int64_t not_after;
    char not_before_str[24]; /* "YYYY-MM-DDTHH:MM:SSZ" */
    char not_after_str[24];
    char san[512];        /* comma separated "DNS:x", "IP:y" ... */
    char key_type[16];    /* "RSA", "EC", "Ed25519", "DSA", ... */
    int key_bits;
    char key_curve[32];   /* EC curve name, empty otherwise */
    char sig_alg[48];     /* e.g. "sha256WithRSAEncryption" */
    uint32_t der_len;
    bool parse_ok;        /* false: only sha256 and der_len are meaningful */
};

#define TSC_MAX_HS_TYPES 256 /* handshake types kept per direction */
#define TSC_MAX_ALERTS 32
#define TSC_MAX_CERTS 16
#define TSC_MAX_HANDSHAKES 8 /* ClientHello/ServerHello pairs kept (renegotiation, HRR) */

struct tsc_alert_fact {
    uint8_t from; /* enum tsc_dir of the sender */
    uint8_t level;
    uint8_t description;
};

/* One ClientHello/ServerHello exchange (several with HRR or renegotiation). */
struct tsc_hello_fact {
    bool have_client_hello;
    bool have_server_hello;
    bool sslv2; /* the ClientHello was SSLv2-format */
    bool hello_retry_request;
    uint16_t client_hello_record_version;
    uint16_t client_hello_version;
    uint16_t server_hello_record_version;
    uint16_t server_hello_version;
    uint16_t negotiated_version;
    uint16_t cipher_suite;
    uint8_t client_random[32];
    uint8_t server_random[32];
    uint8_t client_random_len; /* SSLv2 challenge may be 16..32 */
};

/*
 * Cleartext prelude in front of TLS (src/prelude): a STARTTLS dialogue or a
 * proxy tunnel. Strings are printable copies (other bytes as '.').
 */
enum tsc_prelude_outcome {
    TSC_PRELUDE_PENDING = 0,   /* not decided yet */
    TSC_PRELUDE_UPGRADED,      /* STARTTLS accepted / tunnel established */
    TSC_PRELUDE_REFUSED,       /* the server or proxy said no */
    TSC_PRELUDE_NOT_REQUESTED, /* cleartext only: the client never asked */
    TSC_PRELUDE_NO_REPLY,      /* asked; no answer before the connection ended */
    TSC_PRELUDE_MALFORMED,     /* the dialogue stopped parsing */
    TSC_PRELUDE_LIMIT,         /* the prelude cap was hit first */
    TSC_PRELUDE_GAP,           /* bytes of the dialogue were not captured */
};

struct tsc_prelude_facts {
    const char *starttls; /* "smtp", "imap", "pop3", "ftp", "xmpp", "ldap", "postgres"; NULL none */
    uint8_t starttls_outcome;        /* enum tsc_prelude_outcome */
    char command[80];                /* the client's upgrade command */
    char banner[160];                /* the server's greeting (first reply / stream header) */
    char reply[160];                 /* the server's answer to the upgrade command */
    const char *tunnel;              /* "connect", "socks4", "socks5"; NULL none */
    uint8_t tunnel_outcome;          /* enum tsc_prelude_outcome */
    bool socks4a;                    /* SOCKS4 request with a host name (4a) */
    const char *tunnel_auth;         /* SOCKS5 method: "none", "username"; NULL */
    char tunnel_host[256];           /* requested target */
    uint16_t tunnel_port;
    char tunnel_reply[160];          /* proxy answer (status line, reply code) */
    uint64_t bytes[2];               /* cleartext prelude bytes by direction */
    uint8_t starttls_index;          /* enum tsc_prelude_proto of starttls, 0 none */
    uint8_t tunnel_index;            /* enum tsc_prelude_proto of tunnel, 0 none */
};

/* Per-direction TLS record statistics. */
struct tsc_tls_dir_facts {
    uint64_t records[5];     /* count by content type 20..24 (index = type - 20) */
    uint64_t records_other;  /* records with another content type (after a valid header) */
    uint64_t records_sslv2;  /* SSLv2-format records (hello or whole SSLv2 session) */
    uint64_t encrypted_alerts;
    uint64_t encrypted_handshake_records;
    uint64_t app_data_bytes; /* application_data record payload bytes (ciphertext) */
    uint64_t non_tls_prefix_bytes;
    bool picked_up;          /* start not captured: first record found by a midstream scan */
    uint64_t pickup_offset;  /* stream offset of that record */
    uint16_t hs_types[TSC_MAX_HS_TYPES]; /* handshake types in wire order (SSLv2 numbers for SSLv2) */
    uint32_t n_hs_types;
    uint32_t hs_types_dropped; /* past the cap */
    uint8_t sslv2_types[32];
    uint32_t n_sslv2_types;
    bool malformed;
    bool heartbleed;
};

/*
 * What decryption established for one connection (filled by src/tls from its
 * crypto session when the connection closes). Strings are static names.
 */
struct tsc_decrypt_facts {
    bool key_material;              /* the run had key material (else nothing was tried) */
    bool decrypted;                 /* application-data keys known and records decrypted */
    const char *key_source;         /* "rsa", "keylog", "psk", "dsb", "session-cache" or NULL */
    const char *finished[2];        /* by sender: "verified", "mismatch", "unverified" */
    uint64_t bad_records;           /* records whose MAC / tag failed */
    uint64_t decrypted_records[2];
    uint64_t records_skipped[2];    /* sequence numbers passed over to resume after a gap */
    uint32_t resyncs[2];            /* times decryption resumed after a gap */
    const char *undecrypted_reason; /* NULL or a short code */
    bool have_app_data[2];          /* any decrypted application data in that direction */
    uint64_t app_bytes[2];          /* decrypted application_data plaintext, accepted 0-RTT included */
    uint8_t app_sha256[2][32];
    uint64_t early_data_bytes;          /* accepted 0-RTT plaintext (part of app_bytes[0]) */
    uint64_t early_data_rejected_bytes; /* decrypted 0-RTT the server did not accept (not in it) */
    bool have_master_secret;        /* TLS <= 1.2 */
    uint8_t master_secret[48];
    /* How the keys were found: "handshake" (by the hellos' client random, RSA, PSK,
     * cache), "trial" (midstream: key log secrets tried on the first records), NULL. */
    const char *matched_by;
    bool trial;                     /* a midstream trial ran (the fields below) */
    bool trial_matched;
    bool trial_cap_hit;             /* stopped at --trial-max candidates */
    bool trial_roles_swapped;       /* the presumed client sent with the server's secret */
    uint8_t trial_client_random[32];
    uint16_t trial_cipher_suite;
    uint32_t trial_secrets_tried;
    uint64_t trial_window;          /* sequence numbers tried per candidate (widest scan) */
    bool trial_synced[2];           /* direction decrypted from trial_first_seq on */
    uint64_t trial_first_seq[2];
    uint32_t trial_generation[2];   /* KeyUpdate generation of that record */
};

/*
 * Facts about one connection's TLS, maintained by the dissector (src/tls) and
 * printed by the writers (src/output).
 */
struct tsc_tls_facts {
    bool is_tls;          /* at least one well-formed TLS/SSL record or SSLv2 hello seen */
    bool sslv2;           /* SSLv2 session (not just an SSLv2-compatible hello) */
    bool partial;         /* picked up midstream */
    bool malformed;       /* either direction hit a hard parse error */
    int32_t version;      /* negotiated (from supported_versions for 1.3), -1 unknown */
    int32_t cipher_suite; /* -1 unknown */
    char sni[256];        /* empty: none */
    char alpn[256];       /* server's choice; empty: none */
    uint8_t alpn_offered[512]; /* the client's ProtocolNameList, raw wire form (len-prefixed names) */
    uint16_t alpn_offered_len;
    bool resumed;
    bool have_resumed_from; /* the session resumed was issued by an earlier connection of the run */
    uint64_t resumed_from;  /* that connection's id */
    bool hello_retry_request;
    enum tsc_tri extended_master_secret; /* both sides sent it */
    enum tsc_tri encrypt_then_mac;       /* both sides sent it (meaningless for 1.3: unknown) */
    bool early_data_offered;             /* a ClientHello carried early_data (RFC 8446 4.2.10) */
    enum tsc_tri early_data;             /* the server accepted 0-RTT (TLS 1.3 EncryptedExtensions) */
    uint8_t session_id[32];
    uint8_t session_id_len;
    struct tsc_hello_fact hellos[TSC_MAX_HANDSHAKES];
    uint32_t n_hellos;
    struct tsc_alert_fact alerts[TSC_MAX_ALERTS];
    uint32_t n_alerts;
    uint32_t alerts_dropped;
    const struct tsc_cert_summary *certs[TSC_MAX_CERTS]; /* server chain, borrowed from x509 cache */
    uint32_t n_certs;
    uint32_t certs_dropped;
    /*
     * Fingerprints (docs/fingerprints.md), NUL-terminated, empty when not
     * computed: JA3 and JA4 of the first ClientHello (TLS format), JA3S of
     * the first ServerHello (a HelloRetryRequest if the server sent one).
     */
    char ja3[33];
    char ja3s[33];
    char ja4[37];
    struct tsc_tls_dir_facts dir[2];
    struct tsc_decrypt_facts dec;
};


/* ---- forensic verification (--verify, docs/forensics.md) ---- */

/* Outcome of one check. */
enum tsc_check {
    TSC_CHECK_NOT_CHECKED = 0,
    TSC_CHECK_PASS = 1,
    TSC_CHECK_FAIL = 2,
};

/* One signature check (ServerKeyExchange or a CertificateVerify). */
struct tsc_sig_fact {
    bool present;        /* the signed message was seen (plaintext or decrypted) */
    enum tsc_check result;
    bool has_scheme;
    uint16_t scheme;     /* SignatureScheme / SignatureAndHashAlgorithm */
    const char *error;   /* static code when not passed ("bad_signature", ...), or NULL */
    uint64_t pkt;        /* packet that completed the message */
};

/* Record integrity of one direction. */
struct tsc_ledger {
    uint64_t records;       /* every record of the direction */
    uint64_t plaintext;     /* not protected (hello flight, CCS, TLS 1.3 plaintext records) */
    uint64_t protected_records;
    uint64_t decrypted;     /* protected records whose MAC / tag verified */
    uint64_t authenticated; /* decrypted + plaintext handshake records covered by verified Finished */
    uint64_t failed;        /* MAC / tag / padding check failed */
    uint64_t undecryptable; /* protected, no keys for it (or after lost bytes) */
    uint64_t first_failed_record; /* 1-based record number in the direction, 0 none */
    uint64_t first_failed_pkt;
    const char *first_failed_reason;
    uint64_t hs_plain;      /* plaintext handshake records (internal for authenticated) */
};

#define TSC_MAX_FINDINGS 16
struct tsc_finding {
    const char *code;     /* "weak_cipher_suite", "downgrade_sentinel", ... */
    const char *severity; /* "critical", "warning", "info" */
    char detail[112];
    uint64_t pkt;         /* 0: the connection as a whole */
};

/* What --verify established for one connection (filled by src/tls/verify.c at close). */
struct tsc_verify_facts {
    struct tsc_sig_fact ske;       /* TLS <= 1.2 ServerKeyExchange */
    struct tsc_sig_fact server_cv; /* TLS 1.3 server CertificateVerify */
    struct tsc_sig_fact client_cv; /* client CertificateVerify (client authentication) */
    bool server_cert;              /* the server's Certificate was seen */
    bool client_cert;              /* the client sent a non-empty Certificate */
    bool server_cert_parsed;       /* its leaf parsed */
    enum tsc_check chain;          /* against --ca-file / --ca-path; not_checked without */
    char chain_error[128];
    enum tsc_check name;           /* leaf names against the SNI; not_checked without SNI */
    struct tsc_ledger ledger[2];
    bool client_offered_tls13;     /* supported_versions of the ClientHello lists 0x0304 */
    struct tsc_finding findings[TSC_MAX_FINDINGS];
    uint32_t n_findings;
    uint32_t findings_dropped;
};

#endif
