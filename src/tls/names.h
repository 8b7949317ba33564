/*
 * Name tables for TLS registry values, generated at build time from
 * the CSV files in data/tls-registries (tools/gen_names.py). Each returns NULL for an
 * unknown value. GREASE values are named "grease_0xNNNN".
 */
#ifndef TSC_TLS_NAMES_H
#define TSC_TLS_NAMES_H

#include <stdbool.h>
#include <stdint.h>

const char *tsc_name_cipher_suite(uint16_t v);
const char *tsc_name_extension(uint16_t v);
const char *tsc_name_group(uint16_t v);
const char *tsc_name_sigscheme(uint16_t v);
const char *tsc_name_alert_description(uint8_t v);
const char *tsc_name_alert_level(uint8_t v);
const char *tsc_name_handshake_type(uint8_t v);
const char *tsc_name_sslv2_message_type(uint8_t v);
const char *tsc_name_content_type(uint8_t v);
const char *tsc_name_version(uint16_t v); /* "TLSv1.2", "SSLv3", "TLSv1.3-draft23", ... */
const char *tsc_name_ec_point_format(uint8_t v);
bool tsc_is_grease(uint16_t v); /* RFC 8701 */

#endif
