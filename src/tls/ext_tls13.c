/* Extension parsers for the extensions introduced with TLS 1.3 and ECH. */
#include "tls/ext_parsers.h"

/*
 * RFC 8446 4.2.11:
 *   struct { opaque identity<1..2^16-1>; uint32 obfuscated_ticket_age; } PskIdentity;
 *   opaque PskBinderEntry<32..255>;
 *   struct { PskIdentity identities<7..2^16-1>; PskBinderEntry binders<33..2^16-1>; }
 *       OfferedPsks;
 *   select (Handshake.msg_type) {
 *       case client_hello: OfferedPsks;
 *       case server_hello: uint16 selected_identity;
 *   };
 */
enum tsc_err tsc_ext_pre_shared_key(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    if (ctx != TSC_CTX_CH) {
        TSC_TRY(tsc_cur_u16(&c, &e->u.psk_selected));
        return tsc_cur_end(&c);
    }
    struct tsc_cur ids;
    struct tsc_cur binders;
    TSC_TRY(tsc_cur_vec(&c, 2, 7, 0xffff, &ids));
    TSC_TRY(tsc_cur_vec(&c, 2, 33, 0xffff, &binders));
    TSC_TRY(tsc_cur_end(&c));
    e->u.psk_client.identities.p = ids.p;
    e->u.psk_client.identities.len = ids.left;
    e->u.psk_client.binders.p = binders.p;
    e->u.psk_client.binders.len = binders.left;
    while (ids.left > 0) { /* >= 7 bytes each */
        struct tsc_slice id;
        uint32_t age;
        TSC_TRY(tsc_cur_vec_slice(&ids, 2, 1, 0xffff, &id));
        TSC_TRY(tsc_cur_u32(&ids, &age));
        e->u.psk_client.n_identities++;
    }
    while (binders.left > 0) { /* >= 33 bytes each */
        struct tsc_slice b;
        TSC_TRY(tsc_cur_vec_slice(&binders, 1, 32, 0xff, &b));
        e->u.psk_client.n_binders++;
    }
    /* RFC 8446 4.2.11: one binder per identity (checked by the server): illegal otherwise. */
    TSC_ENSURE(e->u.psk_client.n_binders == e->u.psk_client.n_identities, TSC_ERR_ILLEGAL);
    return TSC_OK;
}

/*
 * RFC 8446 4.2.10:
 *   struct {} Empty;
 *   struct {
 *       select (Handshake.msg_type) {
 *           case new_session_ticket:   uint32 max_early_data_size;
 *           case client_hello:         Empty;
 *           case encrypted_extensions: Empty;
 *       };
 *   } EarlyDataIndication;
 */
enum tsc_err tsc_ext_early_data(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    if (ctx == TSC_CTX_NST) {
        TSC_TRY(tsc_cur_u32(&c, &e->u.early_data.max_early_data_size));
        e->u.early_data.has_max = true;
    }
    return tsc_cur_end(&c);
}

/*
 * RFC 8446 4.2.1:
 *   struct {
 *       select (Handshake.msg_type) {
 *           case client_hello: ProtocolVersion versions<2..254>;
 *           case server_hello: (and HelloRetryRequest) ProtocolVersion selected_version;
 *       };
 *   } SupportedVersions;
 */
enum tsc_err tsc_ext_supported_versions(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    if (ctx != TSC_CTX_CH) {
        TSC_TRY(tsc_cur_u16(&c, &e->u.selected_version));
        return tsc_cur_end(&c);
    }
    TSC_TRY(tsc_cur_vec_slice(&c, 1, 2, 254, &e->u.u16s.list));
    TSC_TRY(tsc_cur_end(&c));
    TSC_ENSURE(e->u.u16s.list.len % 2 == 0, TSC_ERR_DECODE);
    e->u.u16s.n = (uint16_t)(e->u.u16s.list.len / 2);
    return TSC_OK;
}

/* RFC 8446 4.2.2: struct { opaque cookie<1..2^16-1>; } Cookie; */
enum tsc_err tsc_ext_cookie(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    TSC_TRY(tsc_cur_vec_slice(&c, 2, 1, 0xffff, &e->u.opaque));
    return tsc_cur_end(&c);
}

/* RFC 8446 4.2.9: struct { PskKeyExchangeMode ke_modes<1..255>; } PskKeyExchangeModes; */
enum tsc_err tsc_ext_psk_modes(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    (void)ctx;
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    TSC_TRY(tsc_cur_vec_slice(&c, 1, 1, 255, &e->u.u8s.list));
    TSC_TRY(tsc_cur_end(&c));
    e->u.u8s.n = (uint16_t)e->u.u8s.list.len;
    return TSC_OK;
}

/*
 * RFC 8446 4.2.8:
 *   struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry;
 *   struct { KeyShareEntry client_shares<0..2^16-1>; } KeyShareClientHello;
 *   struct { NamedGroup selected_group; } KeyShareHelloRetryRequest;
 *   struct { KeyShareEntry server_share; } KeyShareServerHello;
 */
enum tsc_err tsc_ext_key_share(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    if (ctx == TSC_CTX_HRR) {
        TSC_TRY(tsc_cur_u16(&c, &e->u.ks_hrr_group));
        return tsc_cur_end(&c);
    }
    if (ctx == TSC_CTX_SH) {
        TSC_TRY(tsc_cur_u16(&c, &e->u.ks_server.group));
        TSC_TRY(tsc_cur_vec_slice(&c, 2, 1, 0xffff, &e->u.ks_server.key_exchange));
        return tsc_cur_end(&c);
    }
    struct tsc_cur list;
    TSC_TRY(tsc_cur_vec(&c, 2, 0, 0xffff, &list));
    TSC_TRY(tsc_cur_end(&c));
    e->u.ks_client.list.p = list.p;
    e->u.ks_client.list.len = list.left;
    while (list.left > 0) { /* >= 5 bytes per entry */
        uint16_t group;
        struct tsc_slice kx;
        TSC_TRY(tsc_cur_u16(&list, &group));
        TSC_TRY(tsc_cur_vec_slice(&list, 2, 1, 0xffff, &kx));
        e->u.ks_client.n++;
    }
    return TSC_OK;
}

/*
 * draft-ietf-tls-esni-22 5:
 *   enum { outer(0), inner(1) } ECHClientHelloType;
 *   struct {
 *       ECHClientHelloType type;
 *       select (ECHClientHello.type) {
 *           case outer:
 *               HpkeSymmetricCipherSuite cipher_suite;   (uint16 kdf_id, uint16 aead_id)
 *               uint8 config_id;
 *               opaque enc<0..2^16-1>;
 *               opaque payload<1..2^16-1>;
 *           case inner:
 *               Empty;
 *       };
 *   } ECHClientHello;
 * EncryptedExtensions: ECHConfigList retry_configs (ECHConfig list<1..2^16-1>);
 * HelloRetryRequest: opaque confirmation[8].
 */
enum tsc_err tsc_ext_ech(enum tsc_ext_ctx ctx, struct tsc_ext *e)
{
    struct tsc_cur c = tsc_cur_from_slice(e->data);
    if (ctx == TSC_CTX_EE) {
        TSC_TRY(tsc_cur_vec_slice(&c, 2, 1, 0xffff, &e->u.ech.retry_configs));
        e->u.ech.is_retry = true;
        return tsc_cur_end(&c);
    }
    if (ctx == TSC_CTX_HRR) {
        TSC_TRY(tsc_cur_bytes(&c, 8, &e->u.ech.payload));
        return tsc_cur_end(&c);
    }
    TSC_TRY(tsc_cur_u8(&c, &e->u.ech.ech_type));
    if (e->u.ech.ech_type == 1) {
        return tsc_cur_end(&c);
    }
    TSC_ENSURE(e->u.ech.ech_type == 0, TSC_ERR_ILLEGAL);
    TSC_TRY(tsc_cur_u16(&c, &e->u.ech.kdf_id));
    TSC_TRY(tsc_cur_u16(&c, &e->u.ech.aead_id));
    TSC_TRY(tsc_cur_u8(&c, &e->u.ech.config_id));
    TSC_TRY(tsc_cur_vec_slice(&c, 2, 0, 0xffff, &e->u.ech.enc));
    TSC_TRY(tsc_cur_vec_slice(&c, 2, 1, 0xffff, &e->u.ech.payload));
    return tsc_cur_end(&c);
}
