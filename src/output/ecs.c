/*
 * Connection summaries in Elastic Common Schema field names (--ecs), so that
 * Filebeat can ship them into Elasticsearch/OpenSearch without a mapping.
 * One nested JSON document per TLS connection; nothing else is written in
 * this format. ECS version: TSC_ECS_VERSION. Field choices are documented in
 * docs/json-schema.md ("ECS documents"); tests/e2e/check_ecs.py checks every
 * emitted name against the ECS field reference and the values against -j.
 * Project fields that ECS has no name for live under "tlsscope".
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "output/writer_impl.h"
#include "tls/names.h"

#define TSC_ECS_VERSION "8.12.0"

/* ---- small helpers ---- */

static void ktime(struct tsc_jw *j, const char *k, struct tsc_ts ts)
{
    char tmp[48];
    tsc_fmt_time(ts, tmp, sizeof(tmp));
    tsc_jw_kstr(j, k, tmp);
}

static void kupper_hex(struct tsc_jw *j, const char *k, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    char tmp[2 * 64 + 1];
    if (n > 64) {
        n = 64;
    }
    for (size_t i = 0; i < n; i++) {
        tmp[2 * i] = digits[p[i] >> 4];
        tmp[2 * i + 1] = digits[p[i] & 15];
    }
    tmp[2 * n] = '\0';
    tsc_jw_kstr(j, k, tmp);
}

static void kupper_str(struct tsc_jw *j, const char *k, const char *s)
{
    char tmp[96];
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < sizeof(tmp); i++) {
        tmp[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
    }
    tmp[i] = '\0';
    tsc_jw_kstr(j, k, tmp);
}

/*
 * Values of one attribute ("CN") of an RFC 2253 distinguished name as the
 * x509 summariser prints it ("CN=a,O=b\,c"), as a JSON array. Escaped commas
 * stay inside their value; a value is copied without its escapes.
 */
static void dn_attr_array(struct tsc_jw *j, const char *k, const char *dn, const char *attr)
{
    size_t alen = strlen(attr);
    tsc_jw_key(j, k);
    tsc_jw_arr_begin(j);
    const char *p = dn;
    /* Each pass consumes one RDN (up to an unescaped comma): bounded by the string. */
    while (*p != '\0') {
        const char *start = p;
        char val[256];
        size_t vn = 0;
        bool match = strncmp(start, attr, alen) == 0 && start[alen] == '=';
        const char *q = match ? start + alen + 1 : start;
        while (*q != '\0' && *q != ',') {
            if (*q == '\\' && q[1] != '\0') {
                q++;
            }
            if (match && vn + 1 < sizeof(val)) {
                val[vn++] = *q;
            }
            q++;
        }
        if (match) {
            val[vn] = '\0';
            tsc_jw_str(j, val);
        }
        p = *q == ',' ? q + 1 : q;
    }
    tsc_jw_arr_end(j);
}

/* "DNS:a, IP Address:1.2.3.4" -> ["a", "1.2.3.4"] (the summariser's SAN list). */
static void san_array(struct tsc_jw *j, const char *k, const char *san)
{
    tsc_jw_key(j, k);
    tsc_jw_arr_begin(j);
    const char *p = san;
    /* Each pass consumes one ", "-separated entry. */
    while (*p != '\0') {
        const char *end = strstr(p, ", ");
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        const char *v = colon != NULL ? colon + 1 : p;
        size_t vn = n - (size_t)(v - p);
        if (vn > 0) {
            tsc_jw_strn(j, (const uint8_t *)v, vn);
        }
        p = end != NULL ? end + 2 : p + n;
    }
    tsc_jw_arr_end(j);
}

static const char *ecs_version_protocol(int32_t v)
{
    return v == 2 || v == 0x0300 ? "ssl" : "tls";
}

/* ECS tls.version: the numeric part ("1.2"); TLS 1.3 drafts count as 1.3. */
static const char *ecs_version(int32_t v)
{
    switch (v) {
    case 2:
        return "2.0";
    case 0x0300:
        return "3.0";
    case 0x0301:
        return "1.0";
    case 0x0302:
        return "1.1";
    case 0x0303:
        return "1.2";
    case 0x0304:
        return "1.3";
    default:
        return (v & 0xff00) == 0x7f00 ? "1.3" : NULL;
    }
}

static void endpoint(struct tsc_jw *j, const char *k, const struct tsc_endpoint *e,
                     const struct tsc_tcp_dir_stats *sent)
{
    char ip[64];
    tsc_fmt_ip(e, ip, sizeof(ip));
    tsc_jw_key(j, k);
    tsc_jw_obj_begin(j);
    tsc_jw_kstr(j, "ip", ip);
    tsc_jw_kstr(j, "address", ip);
    tsc_jw_kuint(j, "port", e->port);
    tsc_jw_kuint(j, "bytes", sent->bytes);
    tsc_jw_kuint(j, "packets", sent->packets);
    tsc_jw_obj_end(j);
}

static void x509_obj(struct tsc_jw *j, const struct tsc_cert_summary *s)
{
    tsc_jw_key(j, "x509");
    tsc_jw_obj_begin(j);
    tsc_jw_key(j, "subject");
    tsc_jw_obj_begin(j);
    dn_attr_array(j, "common_name", s->subject, "CN");
    tsc_jw_kstr(j, "distinguished_name", s->subject);
    tsc_jw_obj_end(j);
    tsc_jw_key(j, "issuer");
    tsc_jw_obj_begin(j);
    dn_attr_array(j, "common_name", s->issuer, "CN");
    tsc_jw_kstr(j, "distinguished_name", s->issuer);
    tsc_jw_obj_end(j);
    kupper_str(j, "serial_number", s->serial);
    tsc_jw_kstr(j, "signature_algorithm", s->sig_alg);
    tsc_jw_kstr(j, "public_key_algorithm", s->key_type);
    if (s->key_bits > 0) {
        tsc_jw_kint(j, "public_key_size", s->key_bits);
    }
    if (s->key_curve[0] != '\0') {
        tsc_jw_kstr(j, "public_key_curve", s->key_curve);
    }
    tsc_jw_kstr(j, "not_before", s->not_before_str);
    tsc_jw_kstr(j, "not_after", s->not_after_str);
    if (s->san[0] != '\0') {
        san_array(j, "alternative_names", s->san);
    }
    tsc_jw_obj_end(j);
}

/*
 * Established: a version was negotiated and both directions carried
 * application_data records (in TLS 1.3 every protected record has that outer
 * type), with no fatal alert seen in the clear.
 */
static bool established(const struct tsc_tls_facts *f)
{
    if (f->version < 0 || f->dir[0].records[3] == 0 || f->dir[1].records[3] == 0) {
        return false;
    }
    for (uint32_t i = 0; i < f->n_alerts && i < TSC_MAX_ALERTS; i++) {
        if (f->alerts[i].level == 2) {
            return false;
        }
    }
    return true;
}

static void hs_array(struct tsc_jw *j, const char *k, const struct tsc_tls_dir_facts *d)
{
    tsc_jw_key(j, k);
    tsc_jw_arr_begin(j);
    for (uint32_t i = 0; i < d->n_hs_types && i < TSC_MAX_HS_TYPES; i++) {
        tsc_jw_uint(j, d->hs_types[i]);
    }
    tsc_jw_arr_end(j);
}

void tsc_ecs_connection(struct tsc_writer *w, struct tsc_out_conn *c, const struct tsc_tls_facts *f,
                        enum tsc_tcp_end_reason why)
{
    const struct tsc_tcp_conn *t = c->tcp;
    const struct tsc_tcp_dir_stats *st = t->stats;
    const struct tsc_cert_summary *leaf = f->n_certs > 0 ? f->certs[0] : NULL;
    const char *suite =
        f->cipher_suite >= 0 ? tsc_name_cipher_suite((uint16_t)f->cipher_suite) : NULL;
    const char *ver = f->version >= 0 ? ecs_version(f->version) : NULL;
    bool est = established(f);
    char cip[64], sip[64];
    tsc_fmt_ip(&t->client, cip, sizeof(cip));
    tsc_fmt_ip(&t->server, sip, sizeof(sip));

    struct tsc_jw j;
    tsc_jw_init(&j, &w->buf);
    tsc_jw_obj_begin(&j);
    ktime(&j, "@timestamp", t->first_ts);
    tsc_jw_key(&j, "ecs");
    tsc_jw_obj_begin(&j);
    tsc_jw_kstr(&j, "version", TSC_ECS_VERSION);
    tsc_jw_obj_end(&j);

    tsc_jw_key(&j, "event");
    tsc_jw_obj_begin(&j);
    tsc_jw_kstr(&j, "kind", "event");
    tsc_jw_key(&j, "category");
    tsc_jw_arr_begin(&j);
    tsc_jw_str(&j, "network");
    tsc_jw_arr_end(&j);
    tsc_jw_key(&j, "type");
    tsc_jw_arr_begin(&j);
    tsc_jw_str(&j, "connection");
    tsc_jw_str(&j, "protocol");
    tsc_jw_arr_end(&j);
    tsc_jw_kstr(&j, "module", "tlsscope");
    tsc_jw_kstr(&j, "dataset", "tlsscope.connection");
    tsc_jw_kstr(&j, "outcome", est ? "success" : "failure");
    ktime(&j, "start", t->first_ts);
    ktime(&j, "end", t->last_ts);
    int64_t dur = (t->last_ts.sec - t->first_ts.sec) * 1000000000ll +
                  ((int64_t)t->last_ts.nsec - (int64_t)t->first_ts.nsec);
    tsc_jw_kint(&j, "duration", dur > 0 ? dur : 0);
    tsc_jw_obj_end(&j);

    endpoint(&j, "source", &t->client, &st[TSC_DIR_C2S]);
    endpoint(&j, "destination", &t->server, &st[TSC_DIR_S2C]);
    endpoint(&j, "client", &t->client, &st[TSC_DIR_C2S]);
    endpoint(&j, "server", &t->server, &st[TSC_DIR_S2C]);

    tsc_jw_key(&j, "network");
    tsc_jw_obj_begin(&j);
    tsc_jw_kstr(&j, "transport", "tcp");
    tsc_jw_kstr(&j, "iana_number", "6");
    tsc_jw_kstr(&j, "type", t->client.family == 6 ? "ipv6" : "ipv4");
    tsc_jw_kstr(&j, "protocol", f->version >= 0 ? ecs_version_protocol(f->version) : "tls");
    tsc_jw_kuint(&j, "bytes", st[0].bytes + st[1].bytes);
    tsc_jw_kuint(&j, "packets", st[0].packets + st[1].packets);
    tsc_jw_obj_end(&j);

    tsc_jw_key(&j, "related");
    tsc_jw_obj_begin(&j);
    tsc_jw_key(&j, "ip");
    tsc_jw_arr_begin(&j);
    tsc_jw_str(&j, cip);
    if (strcmp(cip, sip) != 0) {
        tsc_jw_str(&j, sip);
    }
    tsc_jw_arr_end(&j);
    if (f->sni[0] != '\0') {
        tsc_jw_key(&j, "hosts");
        tsc_jw_arr_begin(&j);
        tsc_jw_str(&j, f->sni);
        tsc_jw_arr_end(&j);
    }
    if (leaf != NULL) {
        tsc_jw_key(&j, "hash");
        tsc_jw_arr_begin(&j);
        tsc_jw_hex(&j, leaf->sha256, 32);
        tsc_jw_arr_end(&j);
    }
    tsc_jw_obj_end(&j);

    tsc_jw_key(&j, "tls");
    tsc_jw_obj_begin(&j);
    if (ver != NULL) {
        tsc_jw_kstr(&j, "version", ver);
        tsc_jw_kstr(&j, "version_protocol", ecs_version_protocol(f->version));
    }
    if (suite != NULL) {
        tsc_jw_kstr(&j, "cipher", suite);
    }
    tsc_jw_kbool(&j, "established", est);
    tsc_jw_kbool(&j, "resumed", f->resumed);
    if (f->alpn[0] != '\0') {
        tsc_jw_kstr(&j, "next_protocol", f->alpn);
    }
    tsc_jw_key(&j, "client");
    tsc_jw_obj_begin(&j);
    if (f->sni[0] != '\0') {
        tsc_jw_kstr(&j, "server_name", f->sni);
    }
    if (f->ja3[0] != '\0') {
        tsc_jw_kstr(&j, "ja3", f->ja3);
    }
    tsc_jw_obj_end(&j);
    tsc_jw_key(&j, "server");
    tsc_jw_obj_begin(&j);
    if (f->ja3s[0] != '\0') {
        tsc_jw_kstr(&j, "ja3s", f->ja3s);
    }
    if (leaf != NULL) {
        tsc_jw_key(&j, "hash");
        tsc_jw_obj_begin(&j);
        kupper_hex(&j, "sha256", leaf->sha256, 32);
        tsc_jw_obj_end(&j);
        if (leaf->parse_ok) {
            tsc_jw_kstr(&j, "subject", leaf->subject);
            tsc_jw_kstr(&j, "issuer", leaf->issuer);
            tsc_jw_kstr(&j, "not_before", leaf->not_before_str);
            tsc_jw_kstr(&j, "not_after", leaf->not_after_str);
            x509_obj(&j, leaf);
        }
    }
    tsc_jw_obj_end(&j);
    tsc_jw_obj_end(&j);

    /* Project fields ECS has no name for. */
    tsc_jw_key(&j, "tlsscope");
    tsc_jw_obj_begin(&j);
    tsc_jw_kuint(&j, "id", t->id);
    if (f->ja4[0] != '\0') {
        tsc_jw_kstr(&j, "ja4", f->ja4); /* ECS 8.12 has no JA4 field */
    }
    tsc_jw_kstr(&j, "end_reason", tsc_tcp_end_reason_name(why));
    tsc_jw_key(&j, "version");
    if (f->version >= 0) {
        tsc_jw_int(&j, f->version);
    } else {
        tsc_jw_null(&j);
    }
    tsc_jw_key(&j, "cipher_suite");
    if (f->cipher_suite >= 0) {
        tsc_jw_int(&j, f->cipher_suite);
    } else {
        tsc_jw_null(&j);
    }
    hs_array(&j, "client_handshake", &f->dir[TSC_DIR_C2S]);
    hs_array(&j, "server_handshake", &f->dir[TSC_DIR_S2C]);
    tsc_jw_key(&j, "alerts");
    tsc_jw_arr_begin(&j);
    for (uint32_t i = 0; i < f->n_alerts && i < TSC_MAX_ALERTS; i++) {
        const struct tsc_alert_fact *a = &f->alerts[i];
        const char *dn = tsc_name_alert_description(a->description);
        char tmp[96];
        snprintf(tmp, sizeof(tmp), "%s %s %s", a->from == TSC_DIR_C2S ? "client" : "server",
                 a->level == 2 ? "fatal" : a->level == 1 ? "warning" : "unknown",
                 dn != NULL ? dn : "unknown");
        tsc_jw_str(&j, tmp);
    }
    tsc_jw_arr_end(&j);
    if (f->have_resumed_from) {
        tsc_jw_kuint(&j, "resumed_from", f->resumed_from);
    }
    tsc_jw_kbool(&j, "partial", f->partial);
    tsc_jw_kbool(&j, "malformed", f->malformed);
    const struct tsc_decrypt_facts *d = &f->dec;
    tsc_jw_kbool(&j, "decrypted", d->decrypted);
    if (d->key_source != NULL) {
        tsc_jw_kstr(&j, "key_source", d->key_source);
    }
    tsc_jw_key(&j, "finished");
    tsc_jw_obj_begin(&j);
    tsc_jw_kstr(&j, "client", d->finished[0] != NULL ? d->finished[0] : "unverified");
    tsc_jw_kstr(&j, "server", d->finished[1] != NULL ? d->finished[1] : "unverified");
    tsc_jw_obj_end(&j);
    tsc_jw_kuint(&j, "bad_records", d->bad_records);
    if (d->undecrypted_reason != NULL) {
        tsc_jw_kstr(&j, "undecrypted_reason", d->undecrypted_reason);
    }
    tsc_jw_key(&j, "app_data");
    tsc_jw_obj_begin(&j);
    tsc_jw_key(&j, "c2s");
    tsc_jsonl_app_data_obj(&j, d, 0);
    tsc_jw_key(&j, "s2c");
    tsc_jsonl_app_data_obj(&j, d, 1);
    tsc_jw_obj_end(&j);
    tsc_jw_obj_end(&j);

    tsc_jw_obj_end(&j);
    if (tsc_buf_append(j.out, "\n", 1) != TSC_OK) {
        j.failed = true;
    }
}
