#include "util/diag.h"

#include <stdio.h>

static const char *const diag_names[] = {
#define TSC_DIAG_NAME(name, s, sev) s,
    TSC_DIAG_LIST(TSC_DIAG_NAME)
#undef TSC_DIAG_NAME
};

static const int diag_sev[] = {
#define TSC_DIAG_SEV(name, s, sev) sev,
    TSC_DIAG_LIST(TSC_DIAG_SEV)
#undef TSC_DIAG_SEV
};

const char *tsc_diag_name(enum tsc_diag_kind k)
{
    if ((unsigned)k >= TSC_DIAG__COUNT) {
        return "unknown";
    }
    return diag_names[k];
}

int tsc_diag_severity(enum tsc_diag_kind k)
{
    if ((unsigned)k >= TSC_DIAG__COUNT) {
        return 2;
    }
    return diag_sev[k];
}

void tsc_diag(struct tsc_diag_sink *sink, enum tsc_diag_kind kind, const struct tsc_where *where,
              const char *fmt, ...)
{
    if (sink == NULL || (unsigned)kind >= TSC_DIAG__COUNT) {
        return;
    }
    sink->counts[kind]++;
    if (sink->emit == NULL) {
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    static const struct tsc_where none = {NULL, 0, TSC_NO_CONN, -1, -1};
    sink->emit(sink->ud, kind, where != NULL ? where : &none, msg);
}
