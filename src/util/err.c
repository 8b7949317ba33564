#include "util/err.h"

static const char *const err_names[] = {
#define TSC_ERR_NAME(name, text) #name,
    TSC_ERR_LIST(TSC_ERR_NAME)
#undef TSC_ERR_NAME
};

static const char *const err_texts[] = {
#define TSC_ERR_TEXT(name, text) text,
    TSC_ERR_LIST(TSC_ERR_TEXT)
#undef TSC_ERR_TEXT
};

const char *tsc_err_name(enum tsc_err e)
{
    if ((unsigned)e >= TSC_ERR__COUNT) {
        return "TSC_ERR_UNKNOWN";
    }
    return err_names[e];
}

const char *tsc_err_str(enum tsc_err e)
{
    if ((unsigned)e >= TSC_ERR__COUNT) {
        return "unknown error";
    }
    return err_texts[e];
}
