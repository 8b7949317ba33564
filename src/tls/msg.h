/*
 * Parsed handshake messages and extensions.
 *
 * Parsers (tsc_msg_*_parse, tsc_ext_*) fill these structs with slices that
 * borrow from the message buffer: a struct tsc_hs_msg is valid only while the
 * bytes it was parsed from are (for the on_handshake event: during the call).
 * Parsers never allocate and have no side effects; the process step
 * (src/tls/process.c) updates the connection facts, printing is in
 * src/output/hs_render.c.
 */
#ifndef TSC_TLS_MSG_H
#define TSC_TLS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"
#include "util/err.h"

/* Handshake types (RFC 5246 7.4, RFC 8446 4, RFC 8879, RFC 4680, RFC 6066). */
enum tsc_hs_type {
    TSC_HS_HELLO_REQUEST = 0,
    TSC_HS_CLIENT_HELLO = 1,
    TSC_HS_SERVER_HELLO = 2,
    TSC_HS_HELLO_VERIFY_REQUEST = 3,
    TSC_HS_NEW_SESSION_TICKET = 4,
    TSC_HS_END_OF_EARLY_DATA = 5,
    TSC_HS_ENCRYPTED_EXTENSIONS = 8,
    TSC_HS_CERTIFICATE = 11,
    TSC_HS_SERVER_KEY_EXCHANGE = 12,
    TSC_HS_CERTIFICATE_REQUEST = 13,
    TSC_HS_SERVER_HELLO_DONE = 14,
    TSC_HS_CERTIFICATE_VERIFY = 15,
    TSC_HS_CLIENT_KEY_EXCHANGE = 16,
    TSC_HS_FINISHED = 20,
    TSC_HS_CERTIFICATE_STATUS = 22,
    TSC_HS_SUPPLEMENTAL_DATA = 23,
    TSC_HS_KEY_UPDATE = 24,
    TSC_HS_COMPRESSED_CERTIFICATE = 25,
    TSC_HS_MESSAGE_HASH = 254,
};

/* SSLv2 message numbers (draft-hickman SSL 2.0). */
enum tsc_sslv2_type {
    TSC_V2_ERROR = 0,
    TSC_V2_CLIENT_HELLO = 1,
    TSC_V2_CLIENT_MASTER_KEY = 2,
    TSC_V2_CLIENT_FINISHED = 3,
    TSC_V2_SERVER_HELLO = 4,
    TSC_V2_SERVER_VERIFY = 5,
    TSC_V2_SERVER_FINISHED = 6,
};

/* Extension code points handled by src/tls/ext_*.c. */
enum tsc_ext_type {
    TSC_EXT_SERVER_NAME = 0,
    TSC_EXT_MAX_FRAGMENT_LENGTH = 1,
    TSC_EXT_STATUS_REQUEST = 5,
    TSC_EXT_SUPPORTED_GROUPS = 10,
    TSC_EXT_EC_POINT_FORMATS = 11,
    TSC_EXT_SIGNATURE_ALGORITHMS = 13,
    TSC_EXT_HEARTBEAT = 15,
    TSC_EXT_ALPN = 16,
    TSC_EXT_SCT = 18,
    TSC_EXT_PADDING = 21,
    TSC_EXT_ENCRYPT_THEN_MAC = 22,
    TSC_EXT_EXTENDED_MASTER_SECRET = 23,
    TSC_EXT_COMPRESS_CERTIFICATE = 27,
    TSC_EXT_RECORD_SIZE_LIMIT = 28,
    TSC_EXT_SESSION_TICKET = 35,
    TSC_EXT_PRE_SHARED_KEY = 41,
    TSC_EXT_EARLY_DATA = 42,
    TSC_EXT_SUPPORTED_VERSIONS = 43,
    TSC_EXT_COOKIE = 44,
    TSC_EXT_PSK_KEY_EXCHANGE_MODES = 45,
    TSC_EXT_CERTIFICATE_AUTHORITIES = 47,
    TSC_EXT_SIGNATURE_ALGORITHMS_CERT = 50,
    TSC_EXT_KEY_SHARE = 51,
    TSC_EXT_ENCRYPTED_CLIENT_HELLO = 0xfe0d,
    TSC_EXT_RENEGOTIATION_INFO = 0xff01,
};

/* The message an extension block belongs to (RFC 8446 4.2 table columns). */
enum tsc_ext_ctx {
    TSC_CTX_CH = 0,  /* ClientHello */
    TSC_CTX_SH = 1,  /* ServerHello */
    TSC_CTX_HRR = 2, /* HelloRetryRequest */
    TSC_CTX_EE = 3,  /* EncryptedExtensions */
    TSC_CTX_CT = 4,  /* Certificate entry */
    TSC_CTX_CR = 5,  /* CertificateRequest (1.3) */
    TSC_CTX_NST = 6, /* NewSessionTicket (1.3) */
};

#define TSC_MAX_EXTS 64         /* extensions parsed per block; the rest counted */
#define TSC_MAX_CERT_ENTRIES 16 /* certificates kept per Certificate message */
#define TSC_HRR_RANDOM_HEX "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"

/* One extension. Lists are kept as validated raw slices; walk them with a cursor. */
struct tsc_ext {
    uint16_t type;
    struct tsc_slice data; /* extension_data */
    bool known;            /* body parsed by a specific parser */
    bool duplicate;        /* RFC 8446 4.2 / RFC 5246 7.4.1.4: at most one of each type */
    bool not_allowed;      /* not listed for this message (RFC 8446 4.2 table) */
    bool malformed;        /* known type whose body failed to parse (kept raw) */
    union {
        struct {
            struct tsc_slice list; /* ServerNameList body */
            struct tsc_slice host; /* first host_name, empty if none */
            uint16_t n_names;
        } sni; /* empty in ServerHello/EE (RFC 6066 3) */
        struct {
            struct tsc_slice list; /* ProtocolNameList body (u8-prefixed names) */
            uint16_t n;
        } alpn;
        struct {
            struct tsc_slice list; /* u16 values: groups, schemes, versions, algorithms */
            uint16_t n;
        } u16s;
        struct {
            struct tsc_slice list; /* u8 values: point formats, psk modes */
            uint16_t n;
        } u8s;
        uint16_t selected_version; /* supported_versions in SH/HRR */
        struct {
            struct tsc_slice list; /* KeyShareEntry list body */
            uint16_t n;
        } ks_client;
        struct {
            uint16_t group;
            struct tsc_slice key_exchange;
        } ks_server;
        uint16_t ks_hrr_group;
        struct {
            struct tsc_slice identities; /* PskIdentity list body */
            struct tsc_slice binders;    /* PskBinderEntry list body */
            uint16_t n_identities;
            uint16_t n_binders;
        } psk_client;
        uint16_t psk_selected;
        struct {
            bool has_max;
            uint32_t max_early_data_size;
        } early_data;
        struct tsc_slice opaque; /* cookie, session_ticket, renegotiation_info, SCT list */
        struct {
            uint8_t status_type;
            struct tsc_slice responder_ids;
            struct tsc_slice request_extensions;
            bool empty; /* server side: empty body */
        } status_request;
        struct {
            bool all_zero;
        } padding;
        uint16_t record_size_limit;
        uint8_t heartbeat_mode;
        uint8_t max_fragment_length;
        struct {
            uint8_t ech_type; /* 0 outer, 1 inner */
            uint16_t kdf_id;
            uint16_t aead_id;
            uint8_t config_id;
            struct tsc_slice enc;
            struct tsc_slice payload;
            struct tsc_slice retry_configs; /* EncryptedExtensions */
            bool is_retry;
        } ech;
    } u;
};

struct tsc_ext_list {
    struct tsc_slice raw; /* extensions block body, wire order (fingerprints re-walk this) */
    bool present;         /* the block was on the wire (even if empty) */
    uint16_t n;           /* all extensions in the block */
    uint16_t n_kept;      /* min(n, TSC_MAX_EXTS) */
    bool has_duplicate;
    bool has_not_allowed;
    enum tsc_err ext_err;  /* first extension body error (the block itself was well framed) */
    uint16_t ext_err_type; /* its extension type */
    struct tsc_ext e[TSC_MAX_EXTS];
};

/*
 * RFC 8446 4.1.2:
 *   struct {
 *       ProtocolVersion legacy_version = 0x0303;
 *       Random random;
 *       opaque legacy_session_id<0..32>;
 *       CipherSuite cipher_suites<2..2^16-2>;
 *       opaque legacy_compression_methods<1..2^8-1>;
 *       Extension extensions<8..2^16-1>;
 *   } ClientHello;
 */
struct tsc_client_hello {
    uint16_t legacy_version;
    struct tsc_slice random;
    struct tsc_slice session_id;
    struct tsc_slice cipher_suites; /* u16 list */
    uint16_t n_suites;
    struct tsc_slice compression_methods;
    struct tsc_ext_list ext;
};

/* RFC 8446 4.1.3 ServerHello (and HelloRetryRequest, same layout). */
struct tsc_server_hello {
    uint16_t legacy_version;
    struct tsc_slice random;
    struct tsc_slice session_id;
    uint16_t cipher_suite;
    uint8_t compression_method;
    bool hrr;                  /* random is the HelloRetryRequest value */
    uint16_t selected_version; /* supported_versions, 0 if absent */
    struct tsc_ext_list ext;
};

/* SSLv2 CLIENT-HELLO (RFC 6101 E.1 / RFC 5246 E.2). */
struct tsc_v2_client_hello {
    uint16_t version;
    struct tsc_slice cipher_specs; /* 3-byte entries */
    uint16_t n_specs;
    struct tsc_slice session_id;
    struct tsc_slice challenge;
};

/* SSLv2 SERVER-HELLO. */
struct tsc_v2_server_hello {
    uint8_t session_id_hit;
    uint8_t certificate_type;
    uint16_t version;
    struct tsc_slice certificate;
    struct tsc_slice cipher_specs;
    struct tsc_slice connection_id;
};

enum tsc_kex {
    TSC_KEX_UNKNOWN = 0,
    TSC_KEX_NONE, /* TLS 1.3 suites: key exchange is in key_share */
    TSC_KEX_RSA,
    TSC_KEX_RSA_EXPORT,
    TSC_KEX_DH, /* static DH: empty ServerKeyExchange not sent */
    TSC_KEX_DHE,
    TSC_KEX_ECDH,
    TSC_KEX_ECDHE,
    TSC_KEX_PSK,
    TSC_KEX_DHE_PSK,
    TSC_KEX_ECDHE_PSK,
    TSC_KEX_RSA_PSK,
    TSC_KEX_SRP,
};

struct tsc_cert_entry {
    struct tsc_slice der;
    struct tsc_slice extensions; /* TLS 1.3 CertificateEntry extensions body */
};

struct tsc_certificate {
    bool tls13;
    struct tsc_slice request_context;
    uint32_t n;    /* entries in the message */
    uint32_t kept; /* min(n, TSC_MAX_CERT_ENTRIES) */
    struct tsc_cert_entry c[TSC_MAX_CERT_ENTRIES];
};

struct tsc_server_key_exchange {
    enum tsc_kex kex;
    bool anon;
    struct tsc_slice psk_identity_hint;
    struct tsc_slice dh_p, dh_g, dh_ys;
    uint8_t curve_type;
    uint16_t named_curve;
    struct tsc_slice point;
    struct tsc_slice rsa_modulus, rsa_exponent;
    bool has_sig;
    bool has_sig_alg; /* TLS 1.2: SignatureAndHashAlgorithm present */
    uint16_t sig_alg;
    struct tsc_slice signature;
};

struct tsc_client_key_exchange {
    enum tsc_kex kex;
    struct tsc_slice psk_identity;
    struct tsc_slice encrypted_pms;
    struct tsc_slice dh_yc;
    struct tsc_slice point;
};

struct tsc_certificate_request {
    bool tls13;
    struct tsc_slice context;           /* 1.3 */
    struct tsc_slice certificate_types; /* 1.2 */
    struct tsc_slice sig_algs;          /* 1.2 (u16 list) */
    bool has_sig_algs;
    struct tsc_slice ca_names; /* DistinguishedName list body */
    uint16_t n_ca_names;
    struct tsc_ext_list ext; /* 1.3 */
};

struct tsc_new_session_ticket {
    bool tls13;
    uint32_t lifetime;
    uint32_t age_add;
    struct tsc_slice nonce;
    struct tsc_slice ticket;
    struct tsc_ext_list ext;
};

struct tsc_certificate_verify {
    bool has_sig_alg;
    uint16_t sig_alg;
    struct tsc_slice signature;
};

struct tsc_certificate_status {
    uint8_t status_type;
    struct tsc_slice response;
};

struct tsc_compressed_certificate {
    uint16_t algorithm;
    uint32_t uncompressed_length;
    struct tsc_slice compressed;
};

struct tsc_hello_verify_request {
    uint16_t server_version;
    struct tsc_slice cookie;
};

/* Context a message was parsed in (forms depend on the negotiated version and suite). */
struct tsc_hs_ctx {
    uint16_t version;      /* negotiated version so far, 0 unknown */
    uint16_t cipher_suite; /* negotiated suite, meaningful if have_suite */
    bool have_suite;
    bool tls13;
    bool from_server;
};

struct tsc_hs_msg {
    uint8_t type;    /* handshake type, or SSLv2 message number if sslv2 */
    bool sslv2;      /* SSLv2 record */
    uint32_t length; /* body length from the header */
    struct tsc_slice body;
    bool skipped;            /* larger than max_handshake_msg: not buffered, body empty */
    bool parsed;             /* body parsed into u */
    enum tsc_err err;        /* parse result when not parsed and not skipped */
    uint16_t record_version; /* of the record that carried the first byte */
    int64_t offset;          /* stream offset of the message header */
    struct tsc_hs_ctx ctx;
    union {
        struct tsc_client_hello ch;
        struct tsc_server_hello sh;
        struct tsc_v2_client_hello v2ch;
        struct tsc_v2_server_hello v2sh;
        struct tsc_hello_verify_request hvr;
        struct tsc_new_session_ticket nst;
        struct tsc_ext_list ee;
        struct tsc_certificate cert;
        struct tsc_server_key_exchange ske;
        struct tsc_certificate_request cr;
        struct tsc_certificate_verify cv;
        struct tsc_client_key_exchange cke;
        struct tsc_slice finished;
        struct tsc_certificate_status cs;
        uint8_t key_update_request;
        struct tsc_compressed_certificate cc;
        struct tsc_slice message_hash;
    } u;
};

/* ---- parsers (no side effects; on error *m's union is unspecified) ---- */

/*
 * Extensions block of message context ctx; also flags duplicates and not-allowed
 * ones. A bad block framing fails; a known extension whose body does not parse
 * is kept raw with e->malformed and the first such error in out->ext_err, so the
 * rest of the message (and its facts) is still available.
 */
TSC_MUST_USE enum tsc_err tsc_ext_list_parse(struct tsc_cur *c, enum tsc_ext_ctx ctx,
                                             struct tsc_ext_list *out);
/* One extension body (type and data set in e). */
TSC_MUST_USE enum tsc_err tsc_ext_parse(enum tsc_ext_ctx ctx, struct tsc_ext *e);
bool tsc_ext_allowed(uint16_t type, enum tsc_ext_ctx ctx);
const struct tsc_ext *tsc_ext_find(const struct tsc_ext_list *l, uint16_t type);

/* The message's extension block, if its type has one (NULL otherwise or when unparsed). */
const struct tsc_ext_list *tsc_msg_ext_list(const struct tsc_hs_msg *m);

/* Body parse dispatch by m->type using m->ctx; sets m->parsed / m->err. */
TSC_MUST_USE enum tsc_err tsc_msg_parse(struct tsc_hs_msg *m);

TSC_MUST_USE enum tsc_err tsc_msg_client_hello_parse(struct tsc_cur *c,
                                                     struct tsc_client_hello *out);
TSC_MUST_USE enum tsc_err tsc_msg_server_hello_parse(struct tsc_cur *c,
                                                     struct tsc_server_hello *out);
TSC_MUST_USE enum tsc_err tsc_msg_certificate_parse(struct tsc_cur *c, bool tls13,
                                                    struct tsc_certificate *out);
TSC_MUST_USE enum tsc_err tsc_msg_server_key_exchange_parse(struct tsc_cur *c,
                                                            const struct tsc_hs_ctx *ctx,
                                                            struct tsc_server_key_exchange *out);
TSC_MUST_USE enum tsc_err tsc_msg_client_key_exchange_parse(struct tsc_cur *c,
                                                            const struct tsc_hs_ctx *ctx,
                                                            struct tsc_client_key_exchange *out);
TSC_MUST_USE enum tsc_err tsc_msg_certificate_request_parse(struct tsc_cur *c, bool tls13,
                                                            uint16_t version,
                                                            struct tsc_certificate_request *out);
TSC_MUST_USE enum tsc_err tsc_msg_new_session_ticket_parse(struct tsc_cur *c, bool tls13,
                                                           struct tsc_new_session_ticket *out);
TSC_MUST_USE enum tsc_err tsc_msg_v2_client_hello_parse(struct tsc_cur *c,
                                                        struct tsc_v2_client_hello *out);
TSC_MUST_USE enum tsc_err tsc_msg_v2_server_hello_parse(struct tsc_cur *c,
                                                        struct tsc_v2_server_hello *out);

/* Key exchange family of a cipher suite (classified from its registry name). */
enum tsc_kex tsc_suite_kex(uint16_t suite, bool *anon);
const char *tsc_kex_name(enum tsc_kex k);
/* MAC length of a NULL-cipher suite (records readable after CCS), 0 otherwise. */
size_t tsc_suite_null_mac_len(uint16_t suite);
/* TLS 1.3 final or draft (0x7fXX) version. */
bool tsc_version_is_tls13(uint16_t v);
bool tsc_random_is_hrr(struct tsc_slice random);

#endif
