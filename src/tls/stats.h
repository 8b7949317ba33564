/* Counters of the TLS dissector not in struct tsc_tls_facts. */
#ifndef TSC_TLS_STATS_H
#define TSC_TLS_STATS_H

#include <stdint.h>

#include "tls/tls.h"

/* SSLv2 records seen in direction dir (struct tsc_tls_dir_facts has no field for them). */
uint64_t tsc_tls_conn_sslv2_records(const struct tsc_tls_conn *t, int dir);

#endif
