/*
 * Rendering of parsed handshake messages: JSON (tsc_jw) and ssldump-like
 * indented text. Lists are re-walked from the validated slices; nothing here
 * changes what was parsed.
 */
#include "output/hs_render.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tls/fingerprint.h"
#include "tls/msg.h"
#include "tls/names.h"

typedef const char *(*tsc_namer16)(uint16_t v);

/* ---- small helpers ---- */

static void tsc_line(struct tsc_buf *out, const char *indent, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void tsc_line(struct tsc_buf *out, const char *indent, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)!tsc_buf_append(out, indent, strlen(indent));
    tsc_vbprintf(out, fmt, ap);
    (void)!tsc_buf_append(out, "\n", 1);
    va_end(ap);
}

/* Printable copy of wire text (SNI, ALPN): non-printable bytes become '.'. */
static void tsc_printable(struct tsc_slice s, char *dst, size_t cap)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s.p[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
    }
    dst[n] = '\0';
}

static void tsc_hex_line(struct tsc_buf *out, const char *indent, const char *label,
                         struct tsc_slice s)
{
    char hex[2 * 64 + 1];
    size_t n = s.len < 64 ? s.len : 64;
    tsc_hex(s.p, n, hex);
    tsc_line(out, indent, "%s[%zu]=%s%s", label, s.len, hex, s.len > 64 ? "..." : "");
}

static const char *tsc_or(const char *s, const char *dflt)
{
    return s != NULL ? s : dflt;
}

static uint16_t tsc_u16_at(struct tsc_slice s, size_t i)
{
    return (uint16_t)(((unsigned)s.p[2 * i] << 8) | s.p[2 * i + 1]);
}

/* ---- JSON ---- */

static void tsc_j_u16_list(struct tsc_jw *w, const char *key, struct tsc_slice s, tsc_namer16 nm,
                           int verbosity)
{
    size_t n = s.len / 2;
    tsc_jw_key(w, key);
    tsc_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        uint16_t v = tsc_u16_at(s, i);
        if (verbosity >= 1 && nm != NULL) {
            tsc_jw_obj_begin(w);
            tsc_jw_kuint(w, "value", v);
            tsc_jw_kstr_or_null(w, "name", nm(v));
            tsc_jw_obj_end(w);
        } else {
            tsc_jw_uint(w, v);
        }
    }
    tsc_jw_arr_end(w);
}

static void tsc_j_opaque(struct tsc_jw *w, const char *key, struct tsc_slice s, int verbosity)
{
    char k[64];
    snprintf(k, sizeof(k), "%s_len", key);
    tsc_jw_kuint(w, k, s.len);
    if (verbosity >= 2) {
        tsc_jw_khex(w, key, s.p, s.len);
    }
}

static void tsc_j_names(struct tsc_jw *w, const char *key, struct tsc_slice list)
{
    struct tsc_cur c = tsc_cur_from_slice(list);
    tsc_jw_key(w, key);
    tsc_jw_arr_begin(w);
    while (c.left > 0) {
        struct tsc_slice name;
        if (tsc_cur_vec_slice(&c, 1, 1, 0xff, &name) != TSC_OK) {
            break;
        }
        tsc_jw_strn(w, name.p, name.len);
    }
    tsc_jw_arr_end(w);
}

static void tsc_j_ext(struct tsc_jw *w, const struct tsc_ext *e, int verbosity)
{
    tsc_jw_obj_begin(w);
    tsc_jw_kuint(w, "type", e->type);
    const char *nm = tsc_name_extension(e->type);
    tsc_jw_kstr_or_null(w, "type_name", nm);
    tsc_jw_kuint(w, "length", e->data.len);
    if (e->duplicate) {
        tsc_jw_kbool(w, "duplicate", true);
    }
    if (e->not_allowed) {
        tsc_jw_kbool(w, "not_allowed", true);
    }
    if (e->malformed) {
        tsc_jw_kbool(w, "malformed", true);
    }
    if (tsc_is_grease(e->type)) {
        tsc_jw_kbool(w, "grease", true); /* RFC 8701 */
    }
    if (!e->known) {
        if (verbosity >= 2) {
            tsc_jw_khex(w, "data", e->data.p, e->data.len);
        }
        tsc_jw_obj_end(w);
        return;
    }
    switch (e->type) {
    case TSC_EXT_SERVER_NAME:
        if (e->u.sni.host.len > 0) {
            tsc_jw_key(w, "host_name");
            tsc_jw_strn(w, e->u.sni.host.p, e->u.sni.host.len);
        }
        break;
    case TSC_EXT_ALPN:
        tsc_j_names(w, "protocols", e->u.alpn.list);
        break;
    case TSC_EXT_SUPPORTED_GROUPS:
        tsc_j_u16_list(w, "groups", e->u.u16s.list, tsc_name_group, verbosity);
        break;
    case TSC_EXT_SIGNATURE_ALGORITHMS:
    case TSC_EXT_SIGNATURE_ALGORITHMS_CERT:
        tsc_j_u16_list(w, "schemes", e->u.u16s.list, tsc_name_sigscheme, verbosity);
        break;
    case TSC_EXT_COMPRESS_CERTIFICATE:
        tsc_j_u16_list(w, "algorithms", e->u.u16s.list, NULL, verbosity);
        break;
    case TSC_EXT_EC_POINT_FORMATS:
    case TSC_EXT_PSK_KEY_EXCHANGE_MODES:
        tsc_jw_key(w, e->type == TSC_EXT_EC_POINT_FORMATS ? "formats" : "modes");
        tsc_jw_arr_begin(w);
        for (size_t i = 0; i < e->u.u8s.list.len; i++) {
            tsc_jw_uint(w, e->u.u8s.list.p[i]);
        }
        tsc_jw_arr_end(w);
        break;
    case TSC_EXT_SUPPORTED_VERSIONS:
        if (e->u.u16s.list.p != NULL && e->data.len != 2) {
            tsc_j_u16_list(w, "versions", e->u.u16s.list, tsc_name_version, verbosity);
        } else {
            tsc_jw_kuint(w, "selected_version", e->u.selected_version);
            tsc_jw_kstr_or_null(w, "selected_version_name",
                                tsc_name_version(e->u.selected_version));
        }
        break;
    case TSC_EXT_KEY_SHARE:
        if (e->data.len == 2) {
            tsc_jw_kuint(w, "selected_group", e->u.ks_hrr_group);
            tsc_jw_kstr_or_null(w, "selected_group_name", tsc_name_group(e->u.ks_hrr_group));
        } else if (e->u.ks_server.key_exchange.p != NULL &&
                   e->u.ks_server.key_exchange.len + 4 == e->data.len) {
            tsc_jw_kuint(w, "group", e->u.ks_server.group);
            tsc_jw_kstr_or_null(w, "group_name", tsc_name_group(e->u.ks_server.group));
            tsc_j_opaque(w, "key_exchange", e->u.ks_server.key_exchange, verbosity);
        } else {
            struct tsc_cur c = tsc_cur_from_slice(e->u.ks_client.list);
            tsc_jw_key(w, "client_shares");
            tsc_jw_arr_begin(w);
            while (c.left > 0) {
                uint16_t g;
                struct tsc_slice kx;
                if (tsc_cur_u16(&c, &g) != TSC_OK ||
                    tsc_cur_vec_slice(&c, 2, 1, 0xffff, &kx) != TSC_OK) {
                    break;
                }
                tsc_jw_obj_begin(w);
                tsc_jw_kuint(w, "group", g);
                tsc_jw_kstr_or_null(w, "group_name", tsc_name_group(g));
                tsc_j_opaque(w, "key_exchange", kx, verbosity);
                tsc_jw_obj_end(w);
            }
            tsc_jw_arr_end(w);
        }
        break;
    case TSC_EXT_PRE_SHARED_KEY:
        if (e->data.len == 2) {
            tsc_jw_kuint(w, "selected_identity", e->u.psk_selected);
        } else {
            tsc_jw_kuint(w, "identities", e->u.psk_client.n_identities);
            tsc_jw_kuint(w, "binders", e->u.psk_client.n_binders);
            if (verbosity >= 2) {
                tsc_jw_khex(w, "identities_raw", e->u.psk_client.identities.p,
                            e->u.psk_client.identities.len);
            }
        }
        break;
    case TSC_EXT_EARLY_DATA:
        if (e->u.early_data.has_max) {
            tsc_jw_kuint(w, "max_early_data_size", e->u.early_data.max_early_data_size);
        }
        break;
    case TSC_EXT_COOKIE:
    case TSC_EXT_SESSION_TICKET:
    case TSC_EXT_RENEGOTIATION_INFO:
    case TSC_EXT_SCT:
        tsc_j_opaque(w, "value", e->u.opaque, verbosity);
        break;
    case TSC_EXT_STATUS_REQUEST:
        if (!e->u.status_request.empty) {
            tsc_jw_kuint(w, "status_type", e->u.status_request.status_type);
        }
        break;
    case TSC_EXT_PADDING:
        tsc_jw_kbool(w, "all_zero", e->u.padding.all_zero);
        break;
    case TSC_EXT_RECORD_SIZE_LIMIT:
        tsc_jw_kuint(w, "record_size_limit", e->u.record_size_limit);
        break;
    case TSC_EXT_HEARTBEAT:
        tsc_jw_kuint(w, "mode", e->u.heartbeat_mode);
        break;
    case TSC_EXT_MAX_FRAGMENT_LENGTH:
        tsc_jw_kuint(w, "max_fragment_length", e->u.max_fragment_length);
        break;
    case TSC_EXT_ENCRYPTED_CLIENT_HELLO:
        if (e->u.ech.is_retry) {
            tsc_j_opaque(w, "retry_configs", e->u.ech.retry_configs, verbosity);
        } else {
            tsc_jw_kuint(w, "ech_type", e->u.ech.ech_type);
            if (e->u.ech.ech_type == 0 && e->data.len != 8) {
                tsc_jw_kuint(w, "config_id", e->u.ech.config_id);
                tsc_jw_kuint(w, "kdf_id", e->u.ech.kdf_id);
                tsc_jw_kuint(w, "aead_id", e->u.ech.aead_id);
                tsc_j_opaque(w, "enc", e->u.ech.enc, verbosity);
                tsc_jw_kuint(w, "payload_length", e->u.ech.payload.len);
            }
        }
        break;
    default:
        break;
    }
    tsc_jw_obj_end(w);
}

static void tsc_j_exts(struct tsc_jw *w, const struct tsc_ext_list *l, int verbosity)
{
    tsc_jw_kuint(w, "extensions_count", l->n);
    if (verbosity < 1) {
        return;
    }
    tsc_jw_key(w, "extensions");
    tsc_jw_arr_begin(w);
    for (uint16_t i = 0; i < l->n_kept; i++) {
        tsc_j_ext(w, &l->e[i], verbosity);
    }
    tsc_jw_arr_end(w);
}

static void tsc_j_version(struct tsc_jw *w, const char *key, uint16_t v)
{
    char k[64];
    tsc_jw_kuint(w, key, v);
    snprintf(k, sizeof(k), "%s_name", key);
    tsc_jw_kstr_or_null(w, k, tsc_name_version(v));
}

static void tsc_j_suite(struct tsc_jw *w, const char *key, uint16_t v)
{
    char k[64];
    tsc_jw_kuint(w, key, v);
    snprintf(k, sizeof(k), "%s_name", key);
    tsc_jw_kstr_or_null(w, k, tsc_name_cipher_suite(v));
}

static void tsc_j_sni(struct tsc_jw *w, const struct tsc_ext_list *l)
{
    const struct tsc_ext *e = tsc_ext_find(l, TSC_EXT_SERVER_NAME);
    if (e != NULL && e->known && e->u.sni.host.len > 0) {
        tsc_jw_key(w, "sni");
        tsc_jw_strn(w, e->u.sni.host.p, e->u.sni.host.len);
    }
}

void tsc_render_hs_json(struct tsc_jw *w, const struct tsc_hs_msg *m, int verbosity)
{
    /* The caller writes msg_type and length; SSLv2 numbers get their own name. */
    if (m->sslv2) {
        tsc_jw_kbool(w, "sslv2", true);
        tsc_jw_kstr_or_null(w, "sslv2_msg_type_name", tsc_name_sslv2_message_type(m->type));
    }
    if (m->skipped) {
        tsc_jw_kbool(w, "skipped", true);
        return;
    }
    if (!m->parsed) {
        tsc_jw_kstr(w, "parse_error", tsc_err_name(m->err));
        if (verbosity >= 2) {
            tsc_jw_khex(w, "body", m->body.p, m->body.len);
        }
        return;
    }
    if (m->sslv2) {
        if (m->type == TSC_V2_CLIENT_HELLO) {
            tsc_j_version(w, "version", m->u.v2ch.version);
            tsc_jw_kuint(w, "cipher_specs_count", m->u.v2ch.n_specs);
            tsc_j_opaque(w, "session_id", m->u.v2ch.session_id, verbosity);
            tsc_j_opaque(w, "challenge", m->u.v2ch.challenge, verbosity);
        } else if (m->type == TSC_V2_SERVER_HELLO) {
            tsc_j_version(w, "version", m->u.v2sh.version);
            tsc_jw_kuint(w, "session_id_hit", m->u.v2sh.session_id_hit);
            tsc_jw_kuint(w, "certificate_type", m->u.v2sh.certificate_type);
            tsc_jw_kuint(w, "cipher_specs_count", m->u.v2sh.cipher_specs.len / 3);
            tsc_j_opaque(w, "certificate", m->u.v2sh.certificate, verbosity);
        }
        return;
    }
    switch (m->type) {
    case TSC_HS_CLIENT_HELLO: {
        const struct tsc_client_hello *ch = &m->u.ch;
        tsc_j_version(w, "version", ch->legacy_version);
        tsc_j_sni(w, &ch->ext);
        tsc_jw_kuint(w, "cipher_suites_count", ch->n_suites);
        if (verbosity >= 1) {
            tsc_j_opaque(w, "random", ch->random, 2);
            tsc_j_opaque(w, "session_id", ch->session_id, verbosity);
            tsc_j_u16_list(w, "cipher_suites", ch->cipher_suites, tsc_name_cipher_suite, verbosity);
            tsc_jw_key(w, "compression_methods");
            tsc_jw_arr_begin(w);
            for (size_t i = 0; i < ch->compression_methods.len; i++) {
                tsc_jw_uint(w, ch->compression_methods.p[i]);
            }
            tsc_jw_arr_end(w);
        }
        tsc_j_exts(w, &ch->ext, verbosity);
        break;
    }
    case TSC_HS_SERVER_HELLO: {
        const struct tsc_server_hello *sh = &m->u.sh;
        tsc_j_version(w, "version", sh->legacy_version);
        if (sh->selected_version != 0) {
            tsc_j_version(w, "selected_version", sh->selected_version);
        }
        tsc_j_suite(w, "cipher_suite", sh->cipher_suite);
        tsc_jw_kbool(w, "hello_retry_request", sh->hrr);
        if (verbosity >= 1) {
            tsc_j_opaque(w, "random", sh->random, 2);
            tsc_j_opaque(w, "session_id", sh->session_id, verbosity);
            tsc_jw_kuint(w, "compression_method", sh->compression_method);
        }
        tsc_j_exts(w, &sh->ext, verbosity);
        break;
    }
    case TSC_HS_HELLO_VERIFY_REQUEST:
        tsc_j_version(w, "server_version", m->u.hvr.server_version);
        tsc_j_opaque(w, "cookie", m->u.hvr.cookie, verbosity);
        break;
    case TSC_HS_NEW_SESSION_TICKET:
        tsc_jw_kuint(w, "ticket_lifetime", m->u.nst.lifetime);
        tsc_j_opaque(w, "ticket", m->u.nst.ticket, verbosity);
        if (m->u.nst.tls13) {
            tsc_jw_kuint(w, "ticket_age_add", m->u.nst.age_add);
            tsc_j_opaque(w, "ticket_nonce", m->u.nst.nonce, verbosity);
            tsc_j_exts(w, &m->u.nst.ext, verbosity);
        }
        break;
    case TSC_HS_ENCRYPTED_EXTENSIONS:
        tsc_j_exts(w, &m->u.ee, verbosity);
        break;
    case TSC_HS_CERTIFICATE: {
        const struct tsc_certificate *c = &m->u.cert;
        tsc_jw_kuint(w, "certificates_count", c->n);
        if (verbosity >= 1) {
            tsc_jw_key(w, "certificates");
            tsc_jw_arr_begin(w);
            for (uint32_t i = 0; i < c->kept; i++) {
                tsc_jw_obj_begin(w);
                tsc_j_opaque(w, "der", c->c[i].der, verbosity);
                if (c->tls13) {
                    tsc_jw_kuint(w, "extensions_len", c->c[i].extensions.len);
                }
                tsc_jw_obj_end(w);
            }
            tsc_jw_arr_end(w);
        }
        break;
    }
    case TSC_HS_SERVER_KEY_EXCHANGE: {
        const struct tsc_server_key_exchange *s = &m->u.ske;
        tsc_jw_kstr(w, "kex", tsc_kex_name(s->kex));
        if (s->kex == TSC_KEX_ECDHE || s->kex == TSC_KEX_ECDHE_PSK) {
            tsc_jw_kuint(w, "named_curve", s->named_curve);
            tsc_jw_kstr_or_null(w, "named_curve_name", tsc_name_group(s->named_curve));
            tsc_j_opaque(w, "point", s->point, verbosity);
        }
        if (s->kex == TSC_KEX_DHE || s->kex == TSC_KEX_DHE_PSK) {
            tsc_jw_kuint(w, "dh_p_bits", s->dh_p.len * 8);
            if (verbosity >= 1) {
                tsc_j_opaque(w, "dh_p", s->dh_p, verbosity);
                tsc_j_opaque(w, "dh_g", s->dh_g, verbosity);
                tsc_j_opaque(w, "dh_ys", s->dh_ys, verbosity);
            }
        }
        if (s->rsa_modulus.len > 0) {
            tsc_j_opaque(w, "rsa_modulus", s->rsa_modulus, verbosity);
            tsc_j_opaque(w, "rsa_exponent", s->rsa_exponent, verbosity);
        }
        if (s->psk_identity_hint.p != NULL) {
            tsc_j_opaque(w, "psk_identity_hint", s->psk_identity_hint, verbosity);
        }
        if (s->has_sig_alg) {
            tsc_jw_kuint(w, "signature_algorithm", s->sig_alg);
            tsc_jw_kstr_or_null(w, "signature_algorithm_name", tsc_name_sigscheme(s->sig_alg));
        }
        if (s->has_sig && verbosity >= 1) {
            tsc_j_opaque(w, "signature", s->signature, verbosity);
        }
        break;
    }
    case TSC_HS_CERTIFICATE_REQUEST: {
        const struct tsc_certificate_request *r = &m->u.cr;
        if (r->tls13) {
            tsc_j_opaque(w, "context", r->context, verbosity);
            tsc_j_exts(w, &r->ext, verbosity);
        } else {
            tsc_jw_key(w, "certificate_types");
            tsc_jw_arr_begin(w);
            for (size_t i = 0; i < r->certificate_types.len; i++) {
                tsc_jw_uint(w, r->certificate_types.p[i]);
            }
            tsc_jw_arr_end(w);
            if (r->has_sig_algs) {
                tsc_j_u16_list(w, "signature_algorithms", r->sig_algs, tsc_name_sigscheme,
                               verbosity);
            }
            tsc_jw_kuint(w, "certificate_authorities_count", r->n_ca_names);
        }
        break;
    }
    case TSC_HS_CERTIFICATE_VERIFY:
        if (m->u.cv.has_sig_alg) {
            tsc_jw_kuint(w, "signature_algorithm", m->u.cv.sig_alg);
            tsc_jw_kstr_or_null(w, "signature_algorithm_name", tsc_name_sigscheme(m->u.cv.sig_alg));
        }
        tsc_j_opaque(w, "signature", m->u.cv.signature, verbosity);
        break;
    case TSC_HS_CLIENT_KEY_EXCHANGE: {
        const struct tsc_client_key_exchange *k = &m->u.cke;
        tsc_jw_kstr(w, "kex", tsc_kex_name(k->kex));
        if (k->psk_identity.p != NULL) {
            tsc_jw_key(w, "psk_identity");
            tsc_jw_strn(w, k->psk_identity.p, k->psk_identity.len);
        }
        if (k->encrypted_pms.p != NULL) {
            tsc_j_opaque(w, "encrypted_pre_master_secret", k->encrypted_pms, verbosity);
        }
        if (k->dh_yc.p != NULL) {
            tsc_j_opaque(w, "dh_yc", k->dh_yc, verbosity);
        }
        if (k->point.p != NULL) {
            tsc_j_opaque(w, "point", k->point, verbosity);
        }
        break;
    }
    case TSC_HS_FINISHED:
        tsc_j_opaque(w, "verify_data", m->u.finished, verbosity);
        break;
    case TSC_HS_CERTIFICATE_STATUS:
        tsc_jw_kuint(w, "status_type", m->u.cs.status_type);
        tsc_j_opaque(w, "response", m->u.cs.response, verbosity);
        break;
    case TSC_HS_KEY_UPDATE:
        tsc_jw_kuint(w, "request_update", m->u.key_update_request);
        break;
    case TSC_HS_COMPRESSED_CERTIFICATE:
        tsc_jw_kuint(w, "algorithm", m->u.cc.algorithm);
        tsc_jw_kuint(w, "uncompressed_length", m->u.cc.uncompressed_length);
        tsc_j_opaque(w, "compressed", m->u.cc.compressed, verbosity);
        break;
    case TSC_HS_MESSAGE_HASH:
    case TSC_HS_SUPPLEMENTAL_DATA:
        tsc_j_opaque(w, "data", m->u.message_hash, verbosity);
        break;
    default:
        break;
    }
}

/* ---- text ---- */

static void tsc_t_u16_list(struct tsc_buf *out, const char *indent, const char *label,
                           struct tsc_slice s, tsc_namer16 nm)
{
    tsc_line(out, indent, "%s[%zu]", label, s.len / 2);
    for (size_t i = 0; i < s.len / 2; i++) {
        uint16_t v = tsc_u16_at(s, i);
        const char *n = nm != NULL ? nm(v) : NULL;
        tsc_line(out, indent, "    %s (0x%04x)", tsc_or(n, "unknown"), v);
    }
}

static void tsc_t_ext(struct tsc_buf *out, const char *indent, const struct tsc_ext *e,
                      int verbosity)
{
    const char *nm = tsc_name_extension(e->type);
    tsc_line(out, indent, "  extension %s (%u) len=%zu%s%s%s", tsc_or(nm, "unknown"), e->type,
             e->data.len, e->duplicate ? " DUPLICATE" : "", e->not_allowed ? " NOT-ALLOWED" : "",
             e->malformed ? " MALFORMED" : "");
    char ind[64];
    snprintf(ind, sizeof(ind), "%s    ", indent);
    if (!e->known) {
        if (verbosity >= 2 && e->data.len > 0) {
            tsc_hex_line(out, ind, "data", e->data);
        }
        return;
    }
    char txt[300];
    switch (e->type) {
    case TSC_EXT_SERVER_NAME:
        if (e->u.sni.host.len > 0) {
            tsc_printable(e->u.sni.host, txt, sizeof(txt));
            tsc_line(out, ind, "host_name: %s", txt);
        }
        break;
    case TSC_EXT_ALPN: {
        struct tsc_cur c = tsc_cur_from_slice(e->u.alpn.list);
        while (c.left > 0) {
            struct tsc_slice name;
            if (tsc_cur_vec_slice(&c, 1, 1, 0xff, &name) != TSC_OK) {
                break;
            }
            tsc_printable(name, txt, sizeof(txt));
            tsc_line(out, ind, "protocol: %s", txt);
        }
        break;
    }
    case TSC_EXT_SUPPORTED_GROUPS:
        tsc_t_u16_list(out, ind, "groups", e->u.u16s.list, tsc_name_group);
        break;
    case TSC_EXT_SIGNATURE_ALGORITHMS:
    case TSC_EXT_SIGNATURE_ALGORITHMS_CERT:
        tsc_t_u16_list(out, ind, "schemes", e->u.u16s.list, tsc_name_sigscheme);
        break;
    case TSC_EXT_SUPPORTED_VERSIONS:
        if (e->data.len == 2) {
            tsc_line(out, ind, "selected_version: %s (0x%04x)",
                     tsc_or(tsc_name_version(e->u.selected_version), "unknown"),
                     e->u.selected_version);
        } else {
            tsc_t_u16_list(out, ind, "versions", e->u.u16s.list, tsc_name_version);
        }
        break;
    case TSC_EXT_KEY_SHARE:
        if (e->data.len == 2) {
            tsc_line(out, ind, "selected_group: %s (0x%04x)",
                     tsc_or(tsc_name_group(e->u.ks_hrr_group), "unknown"), e->u.ks_hrr_group);
        } else if (e->u.ks_server.key_exchange.p != NULL &&
                   e->u.ks_server.key_exchange.len + 4 == e->data.len) {
            tsc_line(out, ind, "server_share: %s (0x%04x) key_exchange[%zu]",
                     tsc_or(tsc_name_group(e->u.ks_server.group), "unknown"), e->u.ks_server.group,
                     e->u.ks_server.key_exchange.len);
        } else {
            struct tsc_cur c = tsc_cur_from_slice(e->u.ks_client.list);
            while (c.left > 0) {
                uint16_t g;
                struct tsc_slice kx;
                if (tsc_cur_u16(&c, &g) != TSC_OK ||
                    tsc_cur_vec_slice(&c, 2, 1, 0xffff, &kx) != TSC_OK) {
                    break;
                }
                tsc_line(out, ind, "client_share: %s (0x%04x) key_exchange[%zu]",
                         tsc_or(tsc_name_group(g), "unknown"), g, kx.len);
                if (verbosity >= 2) {
                    tsc_hex_line(out, ind, "  key_exchange", kx);
                }
            }
        }
        break;
    case TSC_EXT_PRE_SHARED_KEY:
        if (e->data.len == 2) {
            tsc_line(out, ind, "selected_identity: %u", e->u.psk_selected);
        } else {
            tsc_line(out, ind, "identities: %u binders: %u", e->u.psk_client.n_identities,
                     e->u.psk_client.n_binders);
        }
        break;
    case TSC_EXT_EARLY_DATA:
        if (e->u.early_data.has_max) {
            tsc_line(out, ind, "max_early_data_size: %u", e->u.early_data.max_early_data_size);
        }
        break;
    case TSC_EXT_EC_POINT_FORMATS:
        for (size_t i = 0; i < e->u.u8s.list.len; i++) {
            uint8_t f = e->u.u8s.list.p[i];
            tsc_line(out, ind, "format: %s (%u)", tsc_or(tsc_name_ec_point_format(f), "unknown"),
                     f);
        }
        break;
    case TSC_EXT_RECORD_SIZE_LIMIT:
        tsc_line(out, ind, "record_size_limit: %u", e->u.record_size_limit);
        break;
    case TSC_EXT_ENCRYPTED_CLIENT_HELLO:
        if (!e->u.ech.is_retry && e->u.ech.ech_type == 0 && e->data.len != 8) {
            tsc_line(out, ind, "outer: config_id=%u kdf=0x%04x aead=0x%04x enc[%zu] payload[%zu]",
                     e->u.ech.config_id, e->u.ech.kdf_id, e->u.ech.aead_id, e->u.ech.enc.len,
                     e->u.ech.payload.len);
        }
        break;
    default:
        if (verbosity >= 2 && e->data.len > 0) {
            tsc_hex_line(out, ind, "data", e->data);
        }
        break;
    }
}

static void tsc_t_exts(struct tsc_buf *out, const char *indent, const struct tsc_ext_list *l,
                       int verbosity)
{
    if (!l->present) {
        return;
    }
    tsc_line(out, indent, "extensions[%u]", l->n);
    for (uint16_t i = 0; i < l->n_kept; i++) {
        tsc_t_ext(out, indent, &l->e[i], verbosity);
    }
}

static void tsc_t_short(struct tsc_buf *out, const struct tsc_hs_msg *m)
{
    if (m->skipped) {
        tsc_bprintf(out, " (skipped: %u bytes)", m->length);
        return;
    }
    if (!m->parsed) {
        if (m->err != TSC_ERR_UNSUPPORTED && m->err != TSC_ERR_STATE) {
            tsc_bprintf(out, " (malformed: %s)", tsc_err_name(m->err));
        }
        return;
    }
    if (m->sslv2) {
        if (m->type == TSC_V2_CLIENT_HELLO) {
            tsc_bprintf(out, " %s specs=%u", tsc_or(tsc_name_version(m->u.v2ch.version), "unknown"),
                        m->u.v2ch.n_specs);
        }
        return;
    }
    if (m->type == TSC_HS_CLIENT_HELLO) {
        const struct tsc_client_hello *ch = &m->u.ch;
        char sni[260] = "";
        const struct tsc_ext *e = tsc_ext_find(&ch->ext, TSC_EXT_SERVER_NAME);
        if (e != NULL && e->known && e->u.sni.host.len > 0) {
            tsc_printable(e->u.sni.host, sni, sizeof(sni));
        }
        tsc_bprintf(out, " %s%s%s suites=%u extensions=%u",
                    tsc_or(tsc_name_version(ch->legacy_version), "unknown"),
                    sni[0] != '\0' ? " sni=" : "", sni, ch->n_suites, ch->ext.n);
    } else if (m->type == TSC_HS_SERVER_HELLO) {
        const struct tsc_server_hello *sh = &m->u.sh;
        uint16_t v = sh->selected_version != 0 ? sh->selected_version : sh->legacy_version;
        tsc_bprintf(out, "%s %s %s", sh->hrr ? " HelloRetryRequest" : "",
                    tsc_or(tsc_name_version(v), "unknown"),
                    tsc_or(tsc_name_cipher_suite(sh->cipher_suite), "unknown"));
    } else if (m->type == TSC_HS_CERTIFICATE) {
        tsc_bprintf(out, " certificates=%u", m->u.cert.n);
    } else if (m->type == TSC_HS_SERVER_KEY_EXCHANGE || m->type == TSC_HS_CLIENT_KEY_EXCHANGE) {
        tsc_bprintf(
            out, " %s",
            tsc_kex_name(m->type == TSC_HS_SERVER_KEY_EXCHANGE ? m->u.ske.kex : m->u.cke.kex));
    }
}

void tsc_render_hs_text(struct tsc_buf *out, const struct tsc_hs_msg *m, int verbosity,
                        const char *indent)
{
    if (verbosity <= 0) {
        tsc_t_short(out, m);
        return;
    }
    if (!m->parsed) {
        if (verbosity >= 2 && m->body.len > 0) {
            tsc_hex_line(out, indent, "body", m->body);
        }
        return;
    }
    if (m->sslv2) {
        if (m->type == TSC_V2_CLIENT_HELLO) {
            const struct tsc_v2_client_hello *ch = &m->u.v2ch;
            tsc_line(out, indent, "version %s (0x%04x)",
                     tsc_or(tsc_name_version(ch->version), "unknown"), ch->version);
            for (uint16_t i = 0; i < ch->n_specs; i++) {
                const uint8_t *s = ch->cipher_specs.p + 3 * i;
                tsc_line(out, indent, "  cipher spec 0x%02x%02x%02x", s[0], s[1], s[2]);
            }
            tsc_hex_line(out, indent, "challenge", ch->challenge);
        }
        return;
    }
    switch (m->type) {
    case TSC_HS_CLIENT_HELLO: {
        const struct tsc_client_hello *ch = &m->u.ch;
        tsc_line(out, indent, "Version %u.%u", ch->legacy_version >> 8, ch->legacy_version & 0xff);
        tsc_hex_line(out, indent, "random", ch->random);
        tsc_hex_line(out, indent, "session_id", ch->session_id);
        tsc_line(out, indent, "cipher Suites");
        for (uint16_t i = 0; i < ch->n_suites; i++) {
            uint16_t v = tsc_u16_at(ch->cipher_suites, i);
            tsc_line(out, indent, "  %s (0x%04x)", tsc_or(tsc_name_cipher_suite(v), "unknown"), v);
        }
        tsc_line(out, indent, "compression methods[%zu]", ch->compression_methods.len);
        tsc_t_exts(out, indent, &ch->ext, verbosity);
        break;
    }
    case TSC_HS_SERVER_HELLO: {
        const struct tsc_server_hello *sh = &m->u.sh;
        tsc_line(out, indent, "Version %u.%u", sh->legacy_version >> 8, sh->legacy_version & 0xff);
        tsc_hex_line(out, indent, "random", sh->random);
        tsc_hex_line(out, indent, "session_id", sh->session_id);
        tsc_line(out, indent, "cipherSuite %s (0x%04x)",
                 tsc_or(tsc_name_cipher_suite(sh->cipher_suite), "unknown"), sh->cipher_suite);
        tsc_line(out, indent, "compressionMethod %u", sh->compression_method);
        tsc_t_exts(out, indent, &sh->ext, verbosity);
        break;
    }
    case TSC_HS_CERTIFICATE:
        for (uint32_t i = 0; i < m->u.cert.kept; i++) {
            tsc_line(out, indent, "certificate[%u] %zu bytes", i, m->u.cert.c[i].der.len);
            if (verbosity >= 2) {
                tsc_hex_line(out, indent, "  der", m->u.cert.c[i].der);
            }
        }
        break;
    case TSC_HS_SERVER_KEY_EXCHANGE: {
        const struct tsc_server_key_exchange *s = &m->u.ske;
        if (s->kex == TSC_KEX_ECDHE || s->kex == TSC_KEX_ECDHE_PSK) {
            tsc_line(out, indent, "named_curve %s (0x%04x) point[%zu]",
                     tsc_or(tsc_name_group(s->named_curve), "unknown"), s->named_curve,
                     s->point.len);
        }
        if (s->kex == TSC_KEX_DHE || s->kex == TSC_KEX_DHE_PSK) {
            tsc_line(out, indent, "dh_p[%zu] dh_g[%zu] dh_Ys[%zu]", s->dh_p.len, s->dh_g.len,
                     s->dh_ys.len);
        }
        if (s->has_sig_alg) {
            tsc_line(out, indent, "signature_algorithm %s (0x%04x)",
                     tsc_or(tsc_name_sigscheme(s->sig_alg), "unknown"), s->sig_alg);
        }
        if (s->has_sig && verbosity >= 2) {
            tsc_hex_line(out, indent, "signature", s->signature);
        }
        break;
    }
    case TSC_HS_CLIENT_KEY_EXCHANGE: {
        const struct tsc_client_key_exchange *k = &m->u.cke;
        struct tsc_slice v = k->encrypted_pms.p != NULL ? k->encrypted_pms
                             : k->dh_yc.p != NULL       ? k->dh_yc
                                                        : k->point;
        tsc_line(out, indent, "exchange_keys[%zu]", v.len);
        if (verbosity >= 2) {
            tsc_hex_line(out, indent, "exchange_keys", v);
        }
        break;
    }
    case TSC_HS_NEW_SESSION_TICKET:
        tsc_line(out, indent, "ticket_lifetime %u ticket[%zu]", m->u.nst.lifetime,
                 m->u.nst.ticket.len);
        break;
    case TSC_HS_CERTIFICATE_VERIFY:
        if (m->u.cv.has_sig_alg) {
            tsc_line(out, indent, "signature_algorithm %s (0x%04x)",
                     tsc_or(tsc_name_sigscheme(m->u.cv.sig_alg), "unknown"), m->u.cv.sig_alg);
        }
        break;
    case TSC_HS_ENCRYPTED_EXTENSIONS:
        tsc_t_exts(out, indent, &m->u.ee, verbosity);
        break;
    case TSC_HS_FINISHED:
        tsc_hex_line(out, indent, "verify_data", m->u.finished);
        break;
    case TSC_HS_KEY_UPDATE:
        tsc_line(out, indent, "request_update %u", m->u.key_update_request);
        break;
    default:
        if (verbosity >= 2 && m->body.len > 0) {
            tsc_hex_line(out, indent, "body", m->body);
        }
        break;
    }
}

/* ---- fingerprints of hellos (JA3, JA3S, JA4) ---- */

static void tsc_fp_to_buf(void *ud, const char *p, size_t n)
{
    (void)!tsc_buf_append(ud, p, n);
}

/* The raw string of one fingerprint into scratch (reset first). */
static void tsc_fp_raw_into(struct tsc_buf *scratch, const struct tsc_hs_msg *m,
                            struct tsc_fp_ctx *fp, int which)
{
    struct tsc_fp_sink sink = {tsc_fp_to_buf, scratch};
    tsc_buf_reset(scratch);
    if (which == 0) {
        tsc_fp_ja3_raw(fp, &m->u.ch, &sink);
    } else if (which == 1) {
        tsc_fp_ja4_raw(fp, &m->u.ch, false, &sink);
    } else if (which == 2) {
        tsc_fp_ja4_raw(fp, &m->u.ch, true, &sink);
    } else {
        tsc_fp_ja3s_raw(fp, &m->u.sh, &sink);
    }
}

/* A parsed TLS-format hello: the only messages with fingerprints. */
static bool tsc_fp_hello(const struct tsc_hs_msg *m)
{
    return m->parsed && !m->sslv2 &&
           (m->type == TSC_HS_CLIENT_HELLO || m->type == TSC_HS_SERVER_HELLO);
}

/* The hashed value of one fingerprint (0 ja3, 1 ja4, 2 ja4_o, 3 ja3s); empty on failure. */
static void tsc_fp_hash(const struct tsc_hs_msg *m, struct tsc_fp_ctx *fp, int which,
                        char out[TSC_FP_JA4_LEN])
{
    enum tsc_err e;
    if (which == 0) {
        e = tsc_fp_ja3(fp, &m->u.ch, out);
    } else if (which == 3) {
        e = tsc_fp_ja3s(fp, &m->u.sh, out);
    } else {
        e = tsc_fp_ja4(fp, &m->u.ch, which == 2, out);
    }
    if (e != TSC_OK) {
        out[0] = '\0';
    }
}

/* JSON names: hashed, raw. */
static const char *const tsc_fp_names[4][2] = {
    {"ja3", "ja3_full"},
    {"ja4", "ja4_r"},
    {"ja4_o", "ja4_ro"},
    {"ja3s", "ja3s_full"},
};

void tsc_render_fp_json(struct tsc_jw *w, const struct tsc_hs_msg *m, struct tsc_fp_ctx *fp,
                        struct tsc_buf *scratch)
{
    if (fp == NULL || !tsc_fp_hello(m)) {
        return;
    }
    int from = m->type == TSC_HS_CLIENT_HELLO ? 0 : 3;
    int to = m->type == TSC_HS_CLIENT_HELLO ? 2 : 3;
    for (int i = from; i <= to; i++) {
        char h[TSC_FP_JA4_LEN];
        tsc_fp_hash(m, fp, i, h);
        tsc_jw_kstr_or_null(w, tsc_fp_names[i][0], h);
        tsc_fp_raw_into(scratch, m, fp, i);
        tsc_jw_key(w, tsc_fp_names[i][1]);
        tsc_jw_strn(w, scratch->p, scratch->len);
    }
}

void tsc_render_fp_text(struct tsc_buf *out, const struct tsc_hs_msg *m, struct tsc_fp_ctx *fp,
                        struct tsc_buf *scratch, const char *indent)
{
    if (fp == NULL || !tsc_fp_hello(m)) {
        return;
    }
    int from = m->type == TSC_HS_CLIENT_HELLO ? 0 : 3;
    int to = m->type == TSC_HS_CLIENT_HELLO ? 2 : 3;
    for (int i = from; i <= to; i++) {
        char h[TSC_FP_JA4_LEN];
        tsc_fp_hash(m, fp, i, h);
        tsc_line(out, indent, "%s %s", tsc_fp_names[i][0], h[0] != '\0' ? h : "-");
        /* The raw string can be longer than one formatted line: appended as is. */
        tsc_fp_raw_into(scratch, m, fp, i);
        (void)!tsc_buf_append(out, indent, strlen(indent));
        (void)!tsc_buf_append(out, tsc_fp_names[i][1], strlen(tsc_fp_names[i][1]));
        (void)!tsc_buf_append(out, " ", 1);
        (void)!tsc_buf_append(out, scratch->p, scratch->len);
        (void)!tsc_buf_append(out, "\n", 1);
    }
}
