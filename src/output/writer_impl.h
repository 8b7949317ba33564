/* Internal: the writer object shared by writer.c, jsonl.c and text.c. */
#ifndef TSC_OUTPUT_WRITER_IMPL_H
#define TSC_OUTPUT_WRITER_IMPL_H

#include "output/writer.h"
#include "util/buf.h"
#include "util/jw.h"

/* Rendered JSON of recently printed certificate summaries: the same chain
 * repeats across thousands of connections. Keyed by summary and fingerprint. */
#define TSC_CERT_JSON_SLOTS 64
struct tsc_cert_json_slot {
    const struct tsc_cert_summary *s;
    uint8_t sha256[32];
    struct tsc_buf json;
};

struct tsc_writer {
    enum tsc_format format;
    int verbosity;
    bool summary_only;
    bool show_app_data;
    FILE *out;
    struct tsc_buf buf; /* one event at a time, written out on flush threshold */
    bool held;          /* keep everything in buf (see tsc_writer_hold) */
    bool line_mode;     /* live: every event is written and flushed as it is complete */
    bool have_saved;
    struct tsc_buf saved; /* held events set aside while a prefix is written */
    struct tsc_cert_json_slot cert_json[TSC_CERT_JSON_SLOTS];
    /* Embedding callback (cfg.on_event): each wanted event rendered as JSON in cbbuf. */
    tsc_event_fn cb;
    void *cb_ud;
    unsigned cb_mask;
    struct tsc_buf cbbuf;
    struct tsc_fp_ctx *fp; /* fingerprints of hello events; NULL when none are rendered */
    struct tsc_buf fp_raw; /* raw fingerprint string being written */
};

/* Embedding callback (writer.c): whether the event is wanted; its connection; a zeroed
 * event of a type; hand it over with the JSON rendered into cbbuf. */
bool tsc_writer_cb_wants(const struct tsc_writer *w, enum tsc_event_type t);
void tsc_writer_cb_conn(struct tsc_conn_info *ci, const struct tsc_out_conn *c);
void tsc_writer_cb_init(struct tsc_event *ev, enum tsc_event_type type, const char *name,
                        const struct tsc_conn_info *ci, int dir, uint64_t pkt, struct tsc_ts ts);
void tsc_writer_cb_fire(struct tsc_writer *w, struct tsc_event *ev);
/* Render one event with a JSON writer function into cbbuf instead of buf, at
 * verbosity at least 1. */
#define TSC_WRITER_CB_JSON(fn, ...)                                                                \
    do {                                                                                           \
        struct tsc_buf save_ = w->buf;                                                             \
        int verb_ = w->verbosity;                                                                  \
        w->buf = w->cbbuf;                                                                         \
        tsc_buf_reset(&w->buf);                                                                    \
        w->verbosity = verb_ < 1 ? 1 : verb_;                                                      \
        fn(__VA_ARGS__);                                                                           \
        w->cbbuf = w->buf;                                                                         \
        w->buf = save_;                                                                            \
        w->verbosity = verb_;                                                                      \
    } while (0)

/* Append the finished line in w->buf to the stream when it is large enough. */
void tsc_writer_emit(struct tsc_writer *w);

void tsc_jsonl_run(struct tsc_writer *w, const struct tsc_run_info *info);
void tsc_jsonl_record(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                      const struct tsc_tls_record_info *r);
void tsc_jsonl_handshake(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                         const struct tsc_hs_msg *m, uint64_t pkt, struct tsc_ts ts);
void tsc_jsonl_alert(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                     const struct tsc_tls_alert_info *a);
void tsc_jsonl_simple(struct tsc_writer *w, struct tsc_out_conn *c, int dir, const char *type,
                      uint64_t pkt, struct tsc_ts ts);
void tsc_jsonl_heartbeat(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint8_t type,
                         uint16_t payload_length, uint32_t record_len, bool overlong,
                         uint64_t pkt, struct tsc_ts ts);
void tsc_jsonl_app_data(struct tsc_writer *w, struct tsc_out_conn *c, int dir, const uint8_t *p,
                        size_t n, uint64_t pkt, struct tsc_ts ts);
void tsc_jsonl_gap(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint64_t len,
                   uint64_t pkt, struct tsc_ts ts);
void tsc_jsonl_diag(struct tsc_writer *w, enum tsc_diag_kind kind, const struct tsc_where *where,
                    const char *msg);
void tsc_jsonl_prelude(struct tsc_writer *w, struct tsc_out_conn *c, enum tsc_prelude_event kind,
                       uint64_t pkt, struct tsc_ts ts);
void tsc_jsonl_connection(struct tsc_writer *w, struct tsc_out_conn *c,
                          const struct tsc_tls_facts *f, enum tsc_tcp_end_reason why);
void tsc_jsonl_stats(struct tsc_writer *w, const struct tsc_run_stats *st);

/* {"bytes": N, "sha256": HEX} of one direction's decrypted application data, or null (jsonl.c). */
void tsc_jsonl_app_data_obj(struct tsc_jw *j, const struct tsc_decrypt_facts *dec, int dir);

/* Elastic Common Schema document of one connection (ecs.c). */
void tsc_ecs_connection(struct tsc_writer *w, struct tsc_out_conn *c, const struct tsc_tls_facts *f,
                        enum tsc_tcp_end_reason why);

void tsc_text_run(struct tsc_writer *w, const struct tsc_run_info *info);
void tsc_text_record(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                     const struct tsc_tls_record_info *r);
void tsc_text_handshake(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                        const struct tsc_hs_msg *m, uint64_t pkt, struct tsc_ts ts);
void tsc_text_alert(struct tsc_writer *w, struct tsc_out_conn *c, int dir,
                    const struct tsc_tls_alert_info *a);
void tsc_text_heartbeat(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint8_t type,
                        uint16_t payload_length, uint32_t record_len, bool overlong,
                        uint64_t pkt, struct tsc_ts ts);
void tsc_text_app_data(struct tsc_writer *w, struct tsc_out_conn *c, int dir, const uint8_t *p,
                       size_t n, uint64_t pkt, struct tsc_ts ts);
void tsc_text_gap(struct tsc_writer *w, struct tsc_out_conn *c, int dir, uint64_t len,
                  uint64_t pkt, struct tsc_ts ts);
void tsc_text_diag(struct tsc_writer *w, enum tsc_diag_kind kind, const struct tsc_where *where,
                   const char *msg);
void tsc_text_prelude(struct tsc_writer *w, struct tsc_out_conn *c, enum tsc_prelude_event kind,
                      uint64_t pkt, struct tsc_ts ts);
void tsc_text_connection(struct tsc_writer *w, struct tsc_out_conn *c,
                         const struct tsc_tls_facts *f, enum tsc_tcp_end_reason why);
void tsc_text_stats(struct tsc_writer *w, const struct tsc_run_stats *st);


#endif
