/* Per-extension body parsers (internal to src/tls). Each reads e->data and fills e->u. */
#ifndef TSC_TLS_EXT_PARSERS_H
#define TSC_TLS_EXT_PARSERS_H

#include "tls/msg.h"

#define TSC_EXT_PARSER(name) TSC_MUST_USE enum tsc_err name(enum tsc_ext_ctx ctx, struct tsc_ext *e)

/* ext_hello.c: extensions of TLS 1.2 and earlier (also used by 1.3) */
TSC_EXT_PARSER(tsc_ext_server_name);
TSC_EXT_PARSER(tsc_ext_max_fragment_length);
TSC_EXT_PARSER(tsc_ext_status_request);
TSC_EXT_PARSER(tsc_ext_u16_list);
TSC_EXT_PARSER(tsc_ext_ec_point_formats);
TSC_EXT_PARSER(tsc_ext_heartbeat);
TSC_EXT_PARSER(tsc_ext_alpn);
TSC_EXT_PARSER(tsc_ext_sct);
TSC_EXT_PARSER(tsc_ext_padding);
TSC_EXT_PARSER(tsc_ext_empty);
TSC_EXT_PARSER(tsc_ext_compress_certificate);
TSC_EXT_PARSER(tsc_ext_record_size_limit);
TSC_EXT_PARSER(tsc_ext_opaque);
TSC_EXT_PARSER(tsc_ext_renegotiation_info);
/* ext_tls13.c: extensions introduced with TLS 1.3 */
TSC_EXT_PARSER(tsc_ext_pre_shared_key);
TSC_EXT_PARSER(tsc_ext_early_data);
TSC_EXT_PARSER(tsc_ext_supported_versions);
TSC_EXT_PARSER(tsc_ext_cookie);
TSC_EXT_PARSER(tsc_ext_psk_modes);
TSC_EXT_PARSER(tsc_ext_key_share);
TSC_EXT_PARSER(tsc_ext_ech);

#endif
