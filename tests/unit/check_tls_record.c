/*
 * The TLS record layer and connection facts (src/tls/records.c, sslv2.c,
 * assembly.c, process.c): record framing across any segmentation, keyless
 * encryption state, SSLv2, resync after gaps, role swap, limits, and a real
 * connection from the shared corpus compared with its expected facts.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/msg.h"
#include "tls/stats.h"
#include "tls/tls.h"
#include "x509/x509.h"
#include "test_util.h"

/* ---- helpers ---- */

#define H8(x) x x x x x x x x
#define H16(x) H8(x) H8(x)
#define H32(x) H16(x) H16(x)
#define HRR_RANDOM "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"


struct ev {
    unsigned records, handshakes, alerts, enc_alerts, ccs, heartbeats, overlong;
    uint8_t hs[2][64];
    unsigned nhs[2];
    struct tsc_diag_sink sink;
};

static void on_record(void *ud, uint64_t id, int dir, const struct tsc_tls_record_info *r)
{
    (void)id;
    (void)dir;
    (void)r;
    ((struct ev *)ud)->records++;
}

static void on_hs(void *ud, uint64_t id, int dir, const struct tsc_hs_msg *m, uint64_t pkt,
                  struct tsc_ts ts)
{
    struct ev *e = ud;
    (void)id;
    (void)pkt;
    (void)ts;
    e->handshakes++;
    if (e->nhs[dir] < 64) {
        e->hs[dir][e->nhs[dir]++] = tsc_hs_msg_type(m);
    }
}

static void on_alert(void *ud, uint64_t id, int dir, const struct tsc_tls_alert_info *a)
{
    struct ev *e = ud;
    (void)id;
    (void)dir;
    e->alerts++;
    e->enc_alerts += a->encrypted;
}

static void on_ccs(void *ud, uint64_t id, int dir, uint64_t pkt, struct tsc_ts ts)
{
    (void)id;
    (void)dir;
    (void)pkt;
    (void)ts;
    ((struct ev *)ud)->ccs++;
}

static void on_hb(void *ud, uint64_t id, int dir, uint8_t type, uint16_t plen, uint32_t rlen,
                  bool overlong, uint64_t pkt, struct tsc_ts ts)
{
    struct ev *e = ud;
    (void)id;
    (void)dir;
    (void)type;
    (void)plen;
    (void)rlen;
    (void)pkt;
    (void)ts;
    e->heartbeats++;
    e->overlong += overlong;
}

static struct tsc_tls_conn *mk(struct ev *e, uint32_t max_hs)
{
    struct tsc_tls_config cfg;
    struct tsc_tls_conn *t = NULL;
    memset(e, 0, sizeof(*e));
    tsc_tls_config_default(&cfg);
    if (max_hs != 0) {
        cfg.max_handshake_msg = max_hs;
    }
    cfg.sink = &e->sink;
    cfg.events.on_record = on_record;
    cfg.events.on_handshake = on_hs;
    cfg.events.on_alert = on_alert;
    cfg.events.on_ccs = on_ccs;
    cfg.events.on_heartbeat = on_hb;
    cfg.events.ud = e;
    ck_assert_int_eq(tsc_tls_conn_new(&t, &cfg, 7), TSC_OK);
    return t;
}

static const struct tsc_ts TS0 = {0, 0};

static void feed_hex(struct tsc_tls_conn *t, int dir, const char *hex)
{
    static uint8_t b[1 << 16];
    size_t n = unhex(hex, b, sizeof(b));
    tsc_tls_conn_data(t, dir, b, n, 1, TS0, NULL);
}

static void assert_hs(const struct tsc_tls_dir_facts *d, const uint16_t *want, uint32_t n)
{
    ck_assert_uint_eq(d->n_hs_types, n);
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_uint_eq(d->hs_types[i], want[i]);
    }
}

/* ---- a TLS 1.2 ECDHE handshake, hand-built ---- */

/* record 16 0301 003e | ClientHello 01 00003a
 *   0303 | random 11*32 | sid 00 | suites 0004 c02f 0035 | comp 01 00 |
 *   ext 000d: server_name 0000 0009 { list 0007 { 00 0004 "test" } } */
#define CH12                                                                                       \
    "16030100"                                                                                     \
    "3e"                                                                                           \
    "0100003a"                                                                                     \
    "0303" H32("11") "00"                                                                          \
                     "0004c02f0035"                                                                \
                     "0100"                                                                        \
                     "000d"                                                                        \
                     "00000009"                                                                    \
                     "0007"                                                                        \
                     "00"                                                                          \
                     "0004"                                                                        \
                     "74657374"
/* record 16 0303 0054:
 *   ServerHello 02 00002d: 0303 | random 22*32 | sid 00 | c02f | 00 | ext 0005 ff01 0001 00
 *   Certificate 0b 000009: list 000006 { 000003 aabbcc }
 *   ServerKeyExchange 0c 00000e: named_curve 03 0017 | point 04 01020304 | 0401 | sig 0002 abcd
 *   ServerHelloDone 0e 000000 */
#define SFLIGHT12                                                                                  \
    "16030300"                                                                                     \
    "54"                                                                                           \
    "0200002d"                                                                                     \
    "0303" H32("22") "00"                                                                          \
                     "c02f"                                                                        \
                     "00"                                                                          \
                     "0005ff01000100"                                                              \
                     "0b000009"                                                                    \
                     "000006"                                                                      \
                     "000003aabbcc"                                                                \
                     "0c00000e"                                                                    \
                     "03"                                                                          \
                     "0017"                                                                        \
                     "0401020304"                                                                  \
                     "0401"                                                                        \
                     "0002abcd"                                                                    \
                     "0e000000"
/* ClientKeyExchange 10 000005 { point 04 01020304 } */
#define CKE12                                                                                      \
    "1603030009"                                                                                   \
    "10000005"                                                                                     \
    "0401020304"
#define CCS "140303000101"
#define ENC_FIN "1603030010" H16("ee")
#define APP                                                                                        \
    "1703030005"                                                                                   \
    "dddddddddd"
#define ENC_ALERT "1503030012" H16("cc") "cccc"

#define C2S_12 CH12 CKE12 CCS ENC_FIN APP ENC_ALERT
#define S2C_12 SFLIGHT12 CCS ENC_FIN APP
#define C2S_12_LEN ((sizeof(C2S_12) - 1) / 2)
#define S2C_12_LEN ((sizeof(S2C_12) - 1) / 2)

static void check_tls12_facts(const struct tsc_tls_facts *f)
{
    static const uint16_t c[] = {1, 16};
    static const uint16_t s[] = {2, 11, 12, 14};
    ck_assert(f->is_tls);
    ck_assert_int_eq(f->version, 0x0303);
    ck_assert_int_eq(f->cipher_suite, 0xc02f);
    ck_assert_str_eq(f->sni, "test");
    ck_assert(!f->resumed);
    ck_assert(!f->malformed);
    ck_assert_int_eq(f->extended_master_secret, TSC_TRI_NO);
    ck_assert_uint_eq(f->n_hellos, 1);
    ck_assert_uint_eq(f->hellos[0].client_hello_record_version, 0x0301);
    ck_assert_uint_eq(f->hellos[0].client_random[0], 0x11);
    ck_assert_uint_eq(f->hellos[0].server_random[31], 0x22);
    assert_hs(&f->dir[0], c, 2);
    assert_hs(&f->dir[1], s, 4);
    ck_assert_uint_eq(f->dir[0].records[0], 1);
    ck_assert_uint_eq(f->dir[0].records[1], 1);
    ck_assert_uint_eq(f->dir[0].records[2], 3);
    ck_assert_uint_eq(f->dir[0].records[3], 1);
    ck_assert_uint_eq(f->dir[0].encrypted_handshake_records, 1);
    ck_assert_uint_eq(f->dir[0].encrypted_alerts, 1);
    ck_assert_uint_eq(f->dir[0].app_data_bytes, 5);
    ck_assert_uint_eq(f->dir[1].records[2], 2);
    ck_assert_uint_eq(f->dir[1].encrypted_handshake_records, 1);
    ck_assert_uint_eq(f->dir[1].encrypted_alerts, 0);
    ck_assert_uint_eq(f->n_alerts, 0);
}

START_TEST(test_tls12_handshake)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_hex(t, 0, CH12);
    feed_hex(t, 1, SFLIGHT12);
    feed_hex(t, 0, CKE12 CCS ENC_FIN);
    feed_hex(t, 1, CCS ENC_FIN);
    feed_hex(t, 0, APP);
    feed_hex(t, 1, APP);
    feed_hex(t, 0, ENC_ALERT);
    check_tls12_facts(tsc_tls_conn_facts(t));
    ck_assert_uint_eq(e.records, 10);
    ck_assert_uint_eq(e.handshakes, 6);
    ck_assert_uint_eq(e.ccs, 2);
    ck_assert_uint_eq(e.alerts, 1);
    ck_assert_uint_eq(e.enc_alerts, 1);
    ck_assert_uint_eq(e.hs[1][1], 11);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_MALFORMED], 0);
    tsc_tls_conn_free(t);
}
END_TEST

/* ---- TLS 1.3 with HelloRetryRequest and middlebox-compatibility CCS ---- */

/* ClientHello 01 000038: 0303 | random | sid 00 | 0002 1301 | 0100 |
 *   ext 000d: supported_versions 002b 0003 { 02 0304 } key_share 0033 0002 { 0000 } */
#define CH13                                                                                       \
    "160301003c"                                                                                   \
    "01000038"                                                                                     \
    "0303" H32("11") "00"                                                                          \
                     "00021301"                                                                    \
                     "0100"                                                                        \
                     "000d"                                                                        \
                     "002b0003020304"                                                              \
                     "003300020000"
/* HelloRetryRequest 02 000034: 0303 | HRR random | 00 | 1301 | 00 |
 *   ext 000c: supported_versions 002b 0002 0304, key_share 0033 0002 001d */
#define HRR13                                                                                      \
    "1603030038"                                                                                   \
    "02000034"                                                                                     \
    "0303" HRR_RANDOM "00"                                                                         \
    "1301"                                                                                         \
    "00"                                                                                           \
    "000c"                                                                                         \
    "002b00020304"                                                                                 \
    "00330002001d"
/* ServerHello 02 00003a: ... ext 0012: 002b 0002 0304, key_share 0033 0008 { 001d 0004 01020304 }
 */
#define SH13                                                                                       \
    "160303003e"                                                                                   \
    "0200003a"                                                                                     \
    "0303" H32("22") "00"                                                                          \
                     "1301"                                                                        \
                     "00"                                                                          \
                     "0012"                                                                        \
                     "002b00020304"                                                                \
                     "00330008001d000401020304"

START_TEST(test_tls13_hrr)
{
    static const uint16_t c[] = {1, 1};
    static const uint16_t s[] = {2, 2};
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_hex(t, 0, CH13);
    feed_hex(t, 1, HRR13);
    feed_hex(t, 0, CCS CH13);
    feed_hex(t, 1, SH13 CCS APP APP);
    feed_hex(t, 0, APP);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(f->hello_retry_request);
    ck_assert_int_eq(f->version, 0x0304);
    ck_assert_int_eq(f->cipher_suite, 0x1301);
    /* CH1 + HRR + CH2 + SH are one exchange. */
    ck_assert_uint_eq(f->n_hellos, 1);
    ck_assert(f->hellos[0].hello_retry_request);
    ck_assert(f->hellos[0].have_server_hello);
    ck_assert_uint_eq(f->hellos[0].server_random[0], 0x22);
    ck_assert_int_eq(f->extended_master_secret, TSC_TRI_UNKNOWN);
    assert_hs(&f->dir[0], c, 2);
    assert_hs(&f->dir[1], s, 2);
    ck_assert_uint_eq(f->dir[0].records[0], 1);
    ck_assert_uint_eq(f->dir[0].records[2], 2);
    ck_assert_uint_eq(f->dir[0].records[3], 1);
    ck_assert_uint_eq(f->dir[1].records[3], 2);
    ck_assert_uint_eq(f->dir[0].encrypted_handshake_records, 0);
    ck_assert_uint_eq(f->dir[1].encrypted_handshake_records, 0);
    ck_assert(!f->resumed);
    tsc_tls_conn_free(t);
}
END_TEST

/* ---- SSLv2 ---- */

/* 801c | 01 | 0301 | cipher_spec_length 0003 | session_id_length 0000 | challenge 0010 |
 *   010080 | challenge ab*16 */
#define V2CH                                                                                       \
    "801c"                                                                                         \
    "01"                                                                                           \
    "0301"                                                                                         \
    "0003"                                                                                         \
    "0000"                                                                                         \
    "0010"                                                                                         \
    "010080" H16("ab")

START_TEST(test_sslv2_hello_upgrade)
{
    static const uint16_t c[] = {1, 16};
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_hex(t, 0, V2CH);
    feed_hex(t, 1, SFLIGHT12);
    feed_hex(t, 0, CKE12);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(f->is_tls);
    ck_assert(!f->sslv2);
    ck_assert(f->hellos[0].sslv2);
    ck_assert_uint_eq(f->hellos[0].client_hello_version, 0x0301);
    /* RFC 5246 E.2: the challenge is right-aligned in the 32-byte client random. */
    ck_assert_uint_eq(f->hellos[0].client_random_len, 32);
    ck_assert_uint_eq(f->hellos[0].client_random[31], 0xab);
    ck_assert_uint_eq(f->hellos[0].client_random[0], 0);
    assert_hs(&f->dir[0], c, 2);
    ck_assert_uint_eq(f->dir[0].n_sslv2_types, 1);
    ck_assert_uint_eq(f->dir[0].sslv2_types[0], 1);
    ck_assert_uint_eq(tsc_tls_conn_sslv2_records(t, 0), 1);
    ck_assert_int_eq(f->version, 0x0303);
    tsc_tls_conn_free(t);
}
END_TEST

/* SERVER-HELLO 8021 | 04 | hit 00 | cert type 01 | 0002 | cert 0003 | specs 0003 | cid 0010 |
 *   aabbcc | 010080 | cd*16 */
#define V2SH                                                                                       \
    "8021"                                                                                         \
    "04"                                                                                           \
    "00"                                                                                           \
    "01"                                                                                           \
    "0002"                                                                                         \
    "0003"                                                                                         \
    "0003"                                                                                         \
    "0010"                                                                                         \
    "aabbcc"                                                                                       \
    "010080" H16("cd")
#define V2CH2                                                                                      \
    "801c"                                                                                         \
    "01"                                                                                           \
    "0002"                                                                                         \
    "0003"                                                                                         \
    "0000"                                                                                         \
    "0010"                                                                                         \
    "010080" H16("ab")

START_TEST(test_sslv2_session)
{
    static const uint16_t c[] = {1, 2};
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_hex(t, 0, V2CH2);
    feed_hex(t, 1, V2SH);
    feed_hex(t, 0,
             "8005"
             "02"
             "01008000"
             "8010" H16("99"));
    feed_hex(t, 1,
             "8010" H16("98") "0010"
                              "00" H16("97"));
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(f->sslv2);
    ck_assert_int_eq(f->version, 0x0002);
    assert_hs(&f->dir[0], c, 2);
    ck_assert_uint_eq(f->dir[1].n_sslv2_types, 1);
    ck_assert_uint_eq(f->dir[1].sslv2_types[0], 4);
    ck_assert_uint_eq(tsc_tls_conn_sslv2_records(t, 0), 3);
    ck_assert_uint_eq(tsc_tls_conn_sslv2_records(t, 1), 3);
    ck_assert(!f->malformed);
    tsc_tls_conn_free(t);
}
END_TEST

/* ---- plaintext alert, heartbeat, resumption ---- */

START_TEST(test_alert_and_heartbleed)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_hex(t, 0, CH12);
    /* heartbeat 18 0303 0003 { request 01, payload_length 4000 } */
    feed_hex(t, 0,
             "1803030003"
             "014000");
    /* alert 15 0303 0002 { fatal 02, handshake_failure 28 } */
    feed_hex(t, 1,
             "1503030002"
             "0228");
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(f->dir[0].heartbleed);
    ck_assert_uint_eq(e.overlong, 1);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_HEARTBLEED], 1);
    ck_assert_uint_eq(f->n_alerts, 1);
    ck_assert_uint_eq(f->alerts[0].from, 1);
    ck_assert_uint_eq(f->alerts[0].level, 2);
    ck_assert_uint_eq(f->alerts[0].description, 40);
    ck_assert_uint_eq(f->dir[0].records[4], 1);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_resumed_session_id)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    /* ClientHello with session id 20 * 0x55, ServerHello echoing it, then server CCS. */
    feed_hex(t, 0,
             "160301004f"
             "0100004b"
             "0303" H32("11") "20" H32("55") "0002c02f"
                                             "0100"
                                             "0000");
    feed_hex(t, 1,
             "160303004c"
             "02000048"
             "0303" H32("22") "20" H32("55") "c02f"
                                             "00"
                                             "0000" CCS);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(f->resumed);
    ck_assert_uint_eq(f->session_id_len, 32);
    ck_assert_uint_eq(f->session_id[0], 0x55);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_resumed_ticket)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    /* ClientHello with session_ticket 0023 0004 aabbccdd; ServerHello with empty session id,
     * NewSessionTicket 04 00000a { lifetime 00000e10, ticket 0004 01020304 }, then CCS. */
    feed_hex(t, 0,
             "1603010037"
             "01000033"
             "0303" H32("11") "00"
                              "0002c02f"
                              "0100"
                              "0008"
                              "00230004aabbccdd");
    feed_hex(t, 1,
             "160303003a"
             "02000028"
             "0303" H32("22") "00"
                              "c02f"
                              "00"
                              "0000"
                              "0400000a"
                              "00000e10"
                              "000401020304" CCS);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(!f->malformed);
    ck_assert(f->resumed);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_null_cipher)
{
    static const uint16_t c[] = {1, 16, 20};
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    /* ClientHello offering TLS_RSA_WITH_NULL_SHA (0002); ServerHello selecting it. */
    feed_hex(t, 0,
             "160301002f"
             "0100002b"
             "0303" H32("11") "00"
                              "00020002"
                              "0100"
                              "0000");
    feed_hex(t, 1,
             "160303002c"
             "02000028"
             "0303" H32("22") "00"
                              "0002"
                              "00"
                              "0000");
    /* CKE 10 000006 { 0004 deadbeef } | CCS | Finished 14 00000c + 12 bytes, then a
     * 20-byte MAC | alert close_notify 01 00 + MAC */
    feed_hex(t, 0,
             "160303000a"
             "10000006"
             "0004deadbeef" CCS "1603030024"
             "1400000c"
             "0102030405060708090a0b0c" H16("ff") "ffffffff"
                                                  "1503030016"
                                                  "0100" H16("ee") "eeeeeeee");
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    assert_hs(&f->dir[0], c, 3);
    ck_assert_uint_eq(f->dir[0].encrypted_handshake_records, 0);
    ck_assert_uint_eq(f->dir[0].encrypted_alerts, 0);
    ck_assert_uint_eq(f->n_alerts, 1);
    ck_assert_uint_eq(f->alerts[0].level, 1);
    ck_assert_uint_eq(f->alerts[0].description, 0);
    ck_assert(!f->malformed);
    tsc_tls_conn_free(t);
}
END_TEST

/* ---- content recognition, role swap, resync ---- */

START_TEST(test_role_swap)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    uint8_t b[256];
    size_t n = unhex(CH12, b, sizeof(b));
    bool swap = false;
    tsc_tls_conn_data(t, 1, b, n, 1, TS0, &swap);
    ck_assert(swap);
    ck_assert_uint_eq(e.records, 0);
    tsc_tls_conn_data(t, 0, b, n, 1, TS0, &swap);
    ck_assert(!swap);
    ck_assert_uint_eq(tsc_tls_conn_facts(t)->dir[0].n_hs_types, 1);
    /* Once bytes were parsed no swap is requested. */
    tsc_tls_conn_data(t, 1, b, n, 2, TS0, &swap);
    ck_assert(!swap);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_not_tls_and_starttls)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    /* "220 smtp ready\r\n" (16 bytes) then the server flight. */
    feed_hex(t, 1, "32323020736d74702072656164790d0a");
    feed_hex(t, 1, SFLIGHT12);
    /* An HTTP answer in the other direction is never TLS. */
    feed_hex(t, 0, "485454502f312e3120343030");
    tsc_tls_conn_end(t, 0);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert_uint_eq(f->dir[1].non_tls_prefix_bytes, 16);
    ck_assert_uint_eq(f->dir[1].n_hs_types, 4);
    ck_assert_uint_eq(f->dir[0].non_tls_prefix_bytes, 12);
    ck_assert_uint_eq(f->dir[0].n_hs_types, 0);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_NOT_TLS], 2);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_resync_after_gap)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_hex(t, 1, SFLIGHT12);
    /* 100 bytes lost, then the tail of a record (7 bytes) followed by CCS and an app record. */
    tsc_tls_conn_gap(t, 1, 100, 2, TS0);
    feed_hex(t, 1, "01020304050607" CCS APP APP);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_RESYNC], 1);
    ck_assert_uint_eq(f->dir[1].records[0], 1);
    ck_assert_uint_eq(f->dir[1].records[3], 2);
    ck_assert(!f->dir[1].malformed);
    tsc_tls_conn_free(t);
}
END_TEST

/* ---- midstream pickup (start of the connection not captured) ---- */

/* A server stream: hello flight, CCS, encrypted Finished, app records (bodies 0xaa). */
static size_t mid_stream(uint8_t *b, size_t cap, size_t *starts, size_t *n_starts)
{
    size_t n = unhex(SFLIGHT12 CCS ENC_FIN, b, cap);
    static const uint16_t lens[] = {1200, 37, 16384, 5, 900, 2};
    size_t k = 0;
    /* Record starts of the fixed part, from its headers. */
    for (size_t off = 0; off < n; off += 5 + (((size_t)b[off + 3] << 8) | b[off + 4])) {
        starts[k++] = off;
    }
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        starts[k++] = n;
        b[n++] = 23;
        b[n++] = 3;
        b[n++] = 3;
        b[n++] = (uint8_t)(lens[i] >> 8);
        b[n++] = (uint8_t)lens[i];
        memset(b + n, 0xaa, lens[i]);
        n += lens[i];
    }
    *n_starts = k;
    ck_assert_uint_le(n, cap);
    return n;
}

static void check_midstream_cut(size_t cut, size_t seg)
{
    static uint8_t b[1 << 16];
    size_t starts[32];
    size_t n_starts;
    size_t n = mid_stream(b, sizeof(b), starts, &n_starts);
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    tsc_tls_conn_set_midstream(t);
    for (size_t off = cut; off < n; off += seg) {
        size_t take = n - off < seg ? n - off : seg;
        tsc_tls_conn_data(t, 1, b + off, take, 1, TS0, NULL);
    }
    tsc_tls_conn_end(t, 1);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    size_t first = 0;
    while (first < n_starts && starts[first] < cut) {
        first++;
    }
    unsigned want_records = (unsigned)(n_starts - first);
    ck_assert_msg(e.records == want_records, "cut %zu seg %zu: %u records, want %u", cut, seg,
                  e.records, want_records);
    ck_assert_msg(!f->malformed, "cut %zu seg %zu: malformed", cut, seg);
    if (cut == 0) {
        /* The stream starts with a hello: nothing was missed. */
        ck_assert(!f->partial);
        ck_assert(!f->dir[1].picked_up);
        ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_MIDSTREAM], 0);
    } else {
        ck_assert(f->partial);
        ck_assert(f->dir[1].picked_up);
        ck_assert_uint_eq(f->dir[1].pickup_offset, starts[first] - cut);
        ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_MIDSTREAM], 1);
        ck_assert_uint_eq(f->dir[1].non_tls_prefix_bytes, 0);
    }
    tsc_tls_conn_free(t);
}

START_TEST(test_midstream_every_cut)
{
    static uint8_t b[1 << 16];
    size_t starts[32];
    size_t n_starts;
    size_t n = mid_stream(b, sizeof(b), starts, &n_starts);
    /*
     * Every cut point through the handshake records and the first
     * application records, then every 61st, fed in one piece and in
     * 1000-byte segments.
     */
    for (size_t cut = 0; cut < n; cut += cut < starts[n_starts - 4] + 8 ? 1 : 61) {
        check_midstream_cut(cut, n);
        if (cut % 7 == 0) {
            check_midstream_cut(cut, 1000);
        }
    }
}
END_TEST

START_TEST(test_midstream_not_tls)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    tsc_tls_conn_set_midstream(t);
    /* Text, then bytes with a lone plausible header whose successor is not one. */
    feed_hex(t, 0, "485454502f312e3120323030204f4b0d0a");
    feed_hex(t, 0, "1703030002abcd" "ffffffffffffffff");
    tsc_tls_conn_end(t, 0);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(!f->is_tls);
    ck_assert(!f->partial);
    ck_assert_uint_eq(e.records, 0);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_MIDSTREAM], 0);
    /* Not a non-TLS prefix either: nothing says it is not the inside of records. */
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_NOT_TLS], 0);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_midstream_waits_for_chain)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    tsc_tls_conn_set_midstream(t);
    /* Two chained headers are not enough while more bytes may come... */
    feed_hex(t, 1, "aaaa" APP APP);
    ck_assert_uint_eq(e.records, 0);
    /* ...the third one decides. */
    feed_hex(t, 1, "1703030001");
    ck_assert_uint_eq(e.records, 2);
    feed_hex(t, 1, "ee");
    ck_assert_uint_eq(e.records, 3);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_MIDSTREAM], 1);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_midstream_gap_at_start)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    /* SYN captured, the first data segment lost: also a midstream pickup. */
    tsc_tls_conn_gap(t, 1, 300, 2, TS0);
    feed_hex(t, 1, "0102" APP);
    ck_assert_uint_eq(e.records, 0);
    /* One record before the end of the stream: accepted when it ends exactly there. */
    tsc_tls_conn_end(t, 1);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert_uint_eq(e.records, 1);
    ck_assert(f->partial);
    ck_assert_uint_eq(f->dir[1].pickup_offset, 302);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_MIDSTREAM], 1);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_RESYNC], 0);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_midstream_client_hello_first)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    /* No SYN, but the capture starts with the ClientHello: not partial. */
    tsc_tls_conn_set_midstream(t);
    feed_hex(t, 0, CH12);
    ck_assert_uint_eq(e.handshakes, 1);
    feed_hex(t, 1, SFLIGHT12);
    tsc_tls_conn_end(t, 0);
    tsc_tls_conn_end(t, 1);
    ck_assert(!tsc_tls_conn_facts(t)->partial);
    ck_assert_uint_eq(e.handshakes, 5);
    tsc_tls_conn_free(t);
}
END_TEST

/* ---- a real connection (zeek tls1.2.pcap, payload via tshark follow,tcp,raw) ---- */

static void feed_file(struct tsc_tls_conn *t, const char *name)
{
    const char *src = getenv("TSC_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/tls/%s", src != NULL ? src : ".", name);
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "cannot open %s (set TSC_SOURCE_DIR)", path);
    static char line[1 << 16];
    static uint8_t b[1 << 15];
    uint64_t pkt = 0;
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strlen(line) < 3) {
            continue;
        }
        size_t n = unhex(line + 2, b, sizeof(b));
        tsc_tls_conn_data(t, line[0] == 'C' ? 0 : 1, b, n, ++pkt, TS0, NULL);
    }
    fclose(fp);
}

START_TEST(test_corpus_zeek_tls12)
{
    /* /work/shared/corpus/expected/zeek-tls1.2.json */
    static const uint16_t c[] = {1, 16};
    static const uint16_t s[] = {2, 11, 14};
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_file(t, "zeek-tls1.2.c2s-s2c.txt");
    tsc_tls_conn_end(t, 0);
    tsc_tls_conn_end(t, 1);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert_int_eq(f->version, 771);
    ck_assert_int_eq(f->cipher_suite, 4);
    ck_assert_str_eq(f->sni, "");
    ck_assert(!f->resumed);
    ck_assert_int_eq(f->extended_master_secret, TSC_TRI_NO);
    assert_hs(&f->dir[0], c, 2);
    assert_hs(&f->dir[1], s, 3);
    ck_assert_uint_eq(f->dir[0].records[0], 1);
    ck_assert_uint_eq(f->dir[0].records[1], 1);
    ck_assert_uint_eq(f->dir[0].records[2], 3);
    ck_assert_uint_eq(f->dir[0].records[3], 2);
    ck_assert_uint_eq(f->dir[1].records[0], 1);
    ck_assert_uint_eq(f->dir[1].records[2], 4);
    ck_assert_uint_eq(f->dir[1].records[3], 2);
    ck_assert_uint_eq(f->dir[0].encrypted_alerts, 1);
    ck_assert_uint_eq(f->dir[0].encrypted_handshake_records, 1);
    ck_assert_uint_eq(f->dir[1].encrypted_handshake_records, 1);
    ck_assert_uint_eq(f->n_alerts, 0);
    ck_assert(!f->malformed);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_corpus_certificates)
{
    struct ev e;
    struct tsc_tls_config cfg;
    struct tsc_x509_cache *cache = NULL;
    struct tsc_tls_conn *t = NULL;
    memset(&e, 0, sizeof(e));
    ck_assert_int_eq(tsc_x509_cache_new(&cache, 16), TSC_OK);
    tsc_tls_config_default(&cfg);
    cfg.certs = cache;
    ck_assert_int_eq(tsc_tls_conn_new(&t, &cfg, 1), TSC_OK);
    feed_file(t, "zeek-tls1.2.c2s-s2c.txt");
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    /* The server chain: *.taleo.net, COMODO High-Assurance CA, AddTrust root. */
    ck_assert_uint_eq(f->n_certs, 3);
    ck_assert_uint_eq(f->certs_dropped, 0);
    ck_assert(f->certs[0]->parse_ok);
    ck_assert_ptr_nonnull(strstr(f->certs[0]->subject, "taleo.net"));
    ck_assert_ptr_nonnull(strstr(f->certs[2]->subject, "AddTrust"));
    tsc_tls_conn_free(t); /* releases the references */
    tsc_x509_cache_free(cache);
}
END_TEST

START_TEST(test_corpus_zeek_hrr)
{
    /* /work/shared/corpus/expected/zeek-hrr.json */
    static const uint16_t c[] = {1, 1};
    static const uint16_t s[] = {2, 2};
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_file(t, "zeek-hrr.c2s-s2c.txt");
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert_int_eq(f->version, 772);
    ck_assert_int_eq(f->cipher_suite, 4866);
    ck_assert(f->hello_retry_request);
    assert_hs(&f->dir[0], c, 2);
    assert_hs(&f->dir[1], s, 2);
    for (int d = 0; d < 2; d++) {
        ck_assert_uint_eq(f->dir[d].records[0], 1);
        ck_assert_uint_eq(f->dir[d].records[2], 2);
        ck_assert_uint_eq(f->dir[d].records[3], 2);
        ck_assert_uint_eq(f->dir[d].encrypted_handshake_records, 0);
    }
    tsc_tls_conn_free(t);
}
END_TEST

/* ---- truncated: every split position gives the same facts ---- */

static void feed_split(struct tsc_tls_conn *t, int dir, const char *hex, size_t cut)
{
    static uint8_t b[4096];
    size_t n = unhex(hex, b, sizeof(b));
    ck_assert_uint_le(cut, n);
    tsc_tls_conn_data(t, dir, b, cut, 1, TS0, NULL);
    tsc_tls_conn_data(t, dir, b + cut, n - cut, 2, TS0, NULL);
}

START_TEST(test_split_c2s)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_split(t, 0, CH12 CKE12 CCS ENC_FIN, (size_t)_i);
    feed_hex(t, 1, SFLIGHT12);
    feed_hex(t, 1, CCS ENC_FIN APP);
    feed_hex(t, 0, APP ENC_ALERT);
    check_tls12_facts(tsc_tls_conn_facts(t));
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_split_s2c)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_hex(t, 0, CH12);
    feed_split(t, 1, S2C_12, (size_t)_i);
    feed_hex(t, 0, CKE12 CCS ENC_FIN APP ENC_ALERT);
    check_tls12_facts(tsc_tls_conn_facts(t));
    ck_assert_uint_eq(e.records, 10);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_byte_at_a_time)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    uint8_t b[1024];
    size_t n = unhex(S2C_12, b, sizeof(b));
    feed_hex(t, 0, CH12 CKE12 CCS ENC_FIN APP ENC_ALERT);
    for (size_t i = 0; i < n; i++) {
        tsc_tls_conn_data(t, 1, b + i, 1, i + 1, TS0, NULL);
    }
    check_tls12_facts(tsc_tls_conn_facts(t));
    tsc_tls_conn_free(t);
}
END_TEST

/* A stream cut short: an incomplete record is reported at the end, no crash. */
START_TEST(test_cut_stream)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    uint8_t b[1024];
    size_t n = unhex(S2C_12, b, sizeof(b));
    feed_hex(t, 0, CH12);
    tsc_tls_conn_data(t, 1, b, (size_t)_i, 1, TS0, NULL);
    tsc_tls_conn_end(t, 1);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(!f->dir[1].malformed);
    /* Cuts inside the first record leave no handshake; the full first record gives 4. */
    ck_assert_uint_eq(f->dir[1].n_hs_types, (size_t)_i >= 89 ? 4u : 0u);
    if (_i > 0 && _i < 5) {
        /* Too short to tell what the stream is. */
        ck_assert_uint_eq(f->dir[1].non_tls_prefix_bytes, (uint64_t)_i);
    } else if (_i >= 5 && (size_t)_i < n && _i != 89 && _i != 95 && _i != 116) {
        ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_TRUNCATED], 1);
    } else {
        ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_TRUNCATED], 0);
    }
    tsc_tls_conn_free(t);
}
END_TEST

/* ---- malformed ---- */

START_TEST(test_bad_record_version)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_hex(t, 0, CH12);
    /* 16 0505 ... is not a record header; later bytes are ignored, one diagnostic only. */
    feed_hex(t, 0,
             "1605050004"
             "0e000000");
    feed_hex(t, 0, CKE12);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(f->dir[0].malformed);
    ck_assert(f->malformed);
    ck_assert(!f->dir[1].malformed);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_MALFORMED], 1);
    ck_assert_uint_eq(f->dir[0].n_hs_types, 1);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_record_too_long)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_hex(t, 0, CH12);
    /* length 0x4801 = 2^14 + 2049: beyond the RFC 5246 6.2.3 bound. */
    feed_hex(t, 0,
             "1703034801"
             "00");
    ck_assert(tsc_tls_conn_facts(t)->dir[0].malformed);
    ck_assert_uint_eq(tsc_tls_conn_facts(t)->dir[0].records[3], 0);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_lying_hello_length)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    /* ClientHello whose extensions length (0x00ff) runs past the message end. */
    feed_hex(t, 0,
             "16030100"
             "3e"
             "0100003a"
             "0303" H32("11") "00"
                              "0004c02f0035"
                              "0100"
                              "00ff"
                              "00000009"
                              "0007"
                              "00"
                              "0004"
                              "74657374");
    feed_hex(t, 0,
             "1603010004"
             "0e000000");
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(f->dir[0].malformed);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_MALFORMED], 1);
    /* Framing is intact: both messages are listed and parsing goes on. */
    ck_assert_uint_eq(f->dir[0].n_hs_types, 2);
    ck_assert_str_eq(f->sni, "");
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_malformed_extension)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    /* ClientHello whose cookie extension (002c) has a lying inner length (0803):
     * the hello still counts, SNI is kept, the direction is malformed once. */
    feed_hex(t, 0,
             "1603010049"
             "01000045"
             "0303" H32("11") "00"
                              "0002c02f"
                              "0100"
                              "001a"
                              "00000009000700000474657374"
                              "002c0009080304030303020301");
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(f->dir[0].malformed);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_MALFORMED], 1);
    ck_assert_uint_eq(f->n_hellos, 1);
    ck_assert_str_eq(f->sni, "test");
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_UNEXPECTED], 0);
    /* A ServerHello from the client with a duplicate extension: two notes, not fatal. */
    feed_hex(t, 0,
             "1603030034"
             "02000030"
             "0303" H32("22") "00"
                              "c02f"
                              "00"
                              "0008"
                              "00170000"
                              "00170000");
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_UNEXPECTED], 2);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_MALFORMED], 1);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_garbage_handshake_header)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    /* ServerHelloDone, then an unknown type 38 claiming 0xffffff bytes, then a good record. */
    feed_hex(t, 1,
             "160303000c"
             "0e000000"
             "38ffffff"
             "00000000");
    feed_hex(t, 1,
             "1603030004"
             "0e000000");
    feed_hex(t, 1, APP);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert(f->dir[1].malformed);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_MALFORMED], 1);
    ck_assert_uint_eq(f->dir[1].n_hs_types, 1);
    ck_assert_uint_eq(f->dir[1].records[2], 2);
    ck_assert_uint_eq(f->dir[1].records[3], 1);
    ck_assert_uint_eq(f->dir[1].encrypted_handshake_records, 1);
    tsc_tls_conn_free(t);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_oversized_message)
{
    static const uint16_t s[] = {2, 11, 12, 14};
    struct ev e;
    /* 40 bytes: the 45-byte ServerHello body... is kept under 64; Certificate is fine. */
    struct tsc_tls_conn *t = mk(&e, 46);
    feed_hex(t, 0, CH12);
    /* max 46: ClientHello (58) skipped, server flight (45, 9, 14, 0) parsed. */
    feed_hex(t, 1, SFLIGHT12);
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_LIMIT], 1);
    ck_assert_uint_eq(f->dir[0].n_hs_types, 1);
    ck_assert_uint_eq(f->dir[0].hs_types[0], 1);
    ck_assert_str_eq(f->sni, "");
    assert_hs(&f->dir[1], s, 4);
    ck_assert_int_eq(f->cipher_suite, 0xc02f);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_oversized_across_records)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 16);
    /* Certificate of 0x20 bytes split over two records, then ServerHelloDone. */
    feed_hex(t, 1,
             "1603030014"
             "0b000020" H16("00"));
    feed_hex(t, 1, "1603030014" H16("00") "0e000000");
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert_uint_eq(f->dir[1].n_hs_types, 2);
    ck_assert_uint_eq(f->dir[1].hs_types[1], 14);
    ck_assert_uint_eq(e.sink.counts[TSC_DIAG_TLS_LIMIT], 1);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_alert_cap)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    feed_hex(t, 0, CH12);
    for (int i = 0; i < TSC_MAX_ALERTS + 3; i++) {
        feed_hex(t, 1,
                 "1503030002"
                 "0100");
    }
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert_uint_eq(f->n_alerts, TSC_MAX_ALERTS);
    ck_assert_uint_eq(f->alerts_dropped, 3);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_hs_type_cap)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    /* 300 HelloRequests (00 000000) in 4-byte records. */
    for (int i = 0; i < 300; i++) {
        feed_hex(t, 1,
                 "1603030004"
                 "00000000");
    }
    const struct tsc_tls_facts *f = tsc_tls_conn_facts(t);
    ck_assert_uint_eq(f->dir[1].n_hs_types, TSC_MAX_HS_TYPES);
    ck_assert_uint_eq(f->dir[1].hs_types_dropped, 300 - TSC_MAX_HS_TYPES);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_sslv2_large_record)
{
    struct ev e;
    struct tsc_tls_conn *t = mk(&e, 0);
    static uint8_t big[2 + 20000];
    feed_hex(t, 0, V2CH2);
    feed_hex(t, 1, V2SH);
    /* An encrypted SSLv2 record of 20000 bytes (2-byte header ce20), beyond the TLS
     * record cap but within SSLv2's 32767, split in two segments. */
    big[0] = 0xce;
    big[1] = 0x20;
    tsc_tls_conn_data(t, 1, big, 9000, 3, TS0, NULL);
    tsc_tls_conn_data(t, 1, big + 9000, sizeof(big) - 9000, 4, TS0, NULL);
    ck_assert_uint_eq(tsc_tls_conn_sslv2_records(t, 1), 2);
    ck_assert(!tsc_tls_conn_facts(t)->dir[1].malformed);
    tsc_tls_conn_free(t);
}
END_TEST

START_TEST(test_free_null)
{
    tsc_tls_conn_free(NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tls_record");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_tls12_handshake);
    tcase_add_test(tc, test_tls13_hrr);
    tcase_add_test(tc, test_sslv2_hello_upgrade);
    tcase_add_test(tc, test_sslv2_session);
    tcase_add_test(tc, test_alert_and_heartbleed);
    tcase_add_test(tc, test_resumed_session_id);
    tcase_add_test(tc, test_resumed_ticket);
    tcase_add_test(tc, test_null_cipher);
    tcase_add_test(tc, test_role_swap);
    tcase_add_test(tc, test_not_tls_and_starttls);
    tcase_add_test(tc, test_resync_after_gap);
    tcase_add_test(tc, test_midstream_every_cut);
    tcase_add_test(tc, test_midstream_not_tls);
    tcase_add_test(tc, test_midstream_waits_for_chain);
    tcase_add_test(tc, test_midstream_gap_at_start);
    tcase_add_test(tc, test_midstream_client_hello_first);
    tcase_add_test(tc, test_corpus_zeek_tls12);
    tcase_add_test(tc, test_corpus_zeek_hrr);
    tcase_add_test(tc, test_corpus_certificates);
    tcase_add_test(tc, test_free_null);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_loop_test(tc, test_split_c2s, 0, (int)((sizeof(CH12 CKE12 CCS ENC_FIN) - 1) / 2) + 1);
    tcase_add_loop_test(tc, test_split_s2c, 0, (int)S2C_12_LEN + 1);
    tcase_add_test(tc, test_byte_at_a_time);
    tcase_add_loop_test(tc, test_cut_stream, 0, (int)S2C_12_LEN + 1);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_test(tc, test_bad_record_version);
    tcase_add_test(tc, test_record_too_long);
    tcase_add_test(tc, test_lying_hello_length);
    tcase_add_test(tc, test_garbage_handshake_header);
    tcase_add_test(tc, test_malformed_extension);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, test_oversized_message);
    tcase_add_test(tc, test_oversized_across_records);
    tcase_add_test(tc, test_alert_cap);
    tcase_add_test(tc, test_hs_type_cap);
    tcase_add_test(tc, test_sslv2_large_record);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
