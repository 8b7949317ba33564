/* Certificate, CertificateRequest (1.2 and 1.3 forms). */
#include <string.h>

#include "tls/msg.h"

/*
 * RFC 5246 7.4.2:
 *   opaque ASN.1Cert<1..2^24-1>;
 *   struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
 * RFC 8446 4.4.2:
 *   struct {
 *       select (certificate_type) { case X509: opaque cert_data<1..2^24-1>; ... };
 *       Extension extensions<0..2^16-1>;
 *   } CertificateEntry;
 *   struct {
 *       opaque certificate_request_context<0..2^8-1>;
 *       CertificateEntry certificate_list<0..2^24-1>;
 *   } Certificate;
 */
enum tsc_err tsc_msg_certificate_parse(struct tsc_cur *c, bool tls13, struct tsc_certificate *out)
{
    struct tsc_cur b = *c;
    struct tsc_cur list;
    out->tls13 = tls13;
    out->n = 0;
    out->kept = 0;
    out->request_context.p = NULL;
    out->request_context.len = 0;
    if (tls13) {
        TSC_TRY(tsc_cur_vec_slice(&b, 1, 0, 0xff, &out->request_context));
    }
    TSC_TRY(tsc_cur_vec(&b, 3, 0, 0xffffff, &list));
    TSC_TRY(tsc_cur_end(&b));
    while (list.left > 0) { /* >= 4 bytes per entry */
        struct tsc_cert_entry e = {{NULL, 0}, {NULL, 0}};
        TSC_TRY(tsc_cur_vec_slice(&list, 3, 1, 0xffffff, &e.der));
        if (tls13) {
            struct tsc_cur exts;
            TSC_TRY(tsc_cur_vec(&list, 2, 0, 0xffff, &exts));
            e.extensions.p = exts.p;
            e.extensions.len = exts.left;
            /* Validate the entry's extension framing (status_request, SCT). */
            while (exts.left > 0) {
                uint16_t t;
                struct tsc_slice d;
                TSC_TRY(tsc_cur_u16(&exts, &t));
                TSC_TRY(tsc_cur_vec_slice(&exts, 2, 0, 0xffff, &d));
            }
        }
        if (out->kept < TSC_MAX_CERT_ENTRIES) {
            out->c[out->kept++] = e;
        }
        out->n++;
    }
    *c = b;
    return TSC_OK;
}

/*
 * RFC 5246 7.4.4:
 *   struct {
 *       ClientCertificateType certificate_types<1..2^8-1>;
 *       SignatureAndHashAlgorithm supported_signature_algorithms<2^16-1>;   (TLS 1.2 only)
 *       DistinguishedName certificate_authorities<0..2^16-1>;
 *   } CertificateRequest;
 *   opaque DistinguishedName<1..2^16-1>;
 * RFC 8446 4.3.2:
 *   struct {
 *       opaque certificate_request_context<0..2^8-1>;
 *       Extension extensions<2..2^16-1>;
 *   } CertificateRequest;
 */
enum tsc_err tsc_msg_certificate_request_parse(struct tsc_cur *c, bool tls13, uint16_t version,
                                               struct tsc_certificate_request *out)
{
    struct tsc_cur b = *c;
    memset(out, 0, offsetof(struct tsc_certificate_request, ext));
    memset(&out->ext, 0, offsetof(struct tsc_ext_list, e));
    out->tls13 = tls13;
    if (tls13) {
        TSC_TRY(tsc_cur_vec_slice(&b, 1, 0, 0xff, &out->context));
        TSC_TRY(tsc_ext_list_parse(&b, TSC_CTX_CR, &out->ext));
        TSC_TRY(tsc_cur_end(&b));
        /* RFC 8446 4.3.2: "The signature_algorithms extension MUST be specified". */
        TSC_ENSURE(tsc_ext_find(&out->ext, TSC_EXT_SIGNATURE_ALGORITHMS) != NULL, TSC_ERR_ILLEGAL);
        *c = b;
        return TSC_OK;
    }
    TSC_TRY(tsc_cur_vec_slice(&b, 1, 1, 0xff, &out->certificate_types));
    if (version >= 0x0303) {
        TSC_TRY(tsc_cur_vec_slice(&b, 2, 2, 0xfffe, &out->sig_algs));
        TSC_ENSURE(out->sig_algs.len % 2 == 0, TSC_ERR_DECODE);
        out->has_sig_algs = true;
    }
    struct tsc_cur cas;
    TSC_TRY(tsc_cur_vec(&b, 2, 0, 0xffff, &cas));
    TSC_TRY(tsc_cur_end(&b));
    out->ca_names.p = cas.p;
    out->ca_names.len = cas.left;
    while (cas.left > 0) { /* >= 3 bytes per name */
        struct tsc_slice dn;
        TSC_TRY(tsc_cur_vec_slice(&cas, 2, 1, 0xffff, &dn));
        out->n_ca_names++;
    }
    *c = b;
    return TSC_OK;
}
