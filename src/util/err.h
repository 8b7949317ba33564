/* Errors as values. Every fallible function returns enum tsc_err. */
#ifndef TSC_UTIL_ERR_H
#define TSC_UTIL_ERR_H

#if defined(__GNUC__)
#define TSC_MUST_USE __attribute__((warn_unused_result))
#else
#define TSC_MUST_USE
#endif

/* X-macro so the name table cannot drift from the enum. */
#define TSC_ERR_LIST(X)                                                                            \
    X(TSC_OK, "ok")                                                                                \
    X(TSC_ERR_TRUNCATED, "truncated: more bytes needed than available")                            \
    X(TSC_ERR_DECODE, "decode error: field does not fit its bounds")                               \
    X(TSC_ERR_ILLEGAL, "illegal value for this context")                                           \
    X(TSC_ERR_LIMIT, "configured limit reached")                                                   \
    X(TSC_ERR_NOMEM, "out of memory")                                                              \
    X(TSC_ERR_IO, "input/output error")                                                            \
    X(TSC_ERR_UNSUPPORTED, "unsupported")                                                          \
    X(TSC_ERR_ARG, "invalid argument")                                                             \
    X(TSC_ERR_STATE, "unexpected in this state")                                                   \
    X(TSC_ERR_CRYPTO, "cryptographic operation failed")

enum tsc_err {
#define TSC_ERR_ENUM(name, text) name,
    TSC_ERR_LIST(TSC_ERR_ENUM)
#undef TSC_ERR_ENUM
        TSC_ERR__COUNT
};

const char *tsc_err_name(enum tsc_err e); /* "TSC_ERR_DECODE" */
const char *tsc_err_str(enum tsc_err e);  /* human text */

#define TSC_TRY(expr)                                                                              \
    do {                                                                                           \
        enum tsc_err tsc_try_e_ = (expr);                                                          \
        if (tsc_try_e_ != TSC_OK) {                                                                \
            return tsc_try_e_;                                                                     \
        }                                                                                          \
    } while (0)

#define TSC_ENSURE(cond, err)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return (err);                                                                          \
        }                                                                                          \
    } while (0)

#endif
