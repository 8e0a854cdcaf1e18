/*
 * status.c: texts of the status codes, and the error record.
 */
#include "status.h"

#include <stdio.h>
#include <string.h>

#include "reason.h"

const char *sc_strerror(sc_status status)
{
    switch (status) {
#define SC_STATUS_TEXT_(name, value, text)                                                       \
    case name:                                                                                   \
        return text;
        SC_STATUS_LIST(SC_STATUS_TEXT_)
#undef SC_STATUS_TEXT_
    }
    return "unknown status";
}

const char *sc_status_name(sc_status status)
{
    switch (status) {
#define SC_STATUS_NAME_(name, value, text)                                                       \
    case name:                                                                                   \
        return #name;
        SC_STATUS_LIST(SC_STATUS_NAME_)
#undef SC_STATUS_NAME_
    }
    return "SC_UNKNOWN";
}

void sc_err_clear(sc_err *err)
{
    if (!err)
        return;
    err->code = SC_OK;
    err->reason = SC_REASON_NONE;
    err->msg[0] = '\0';
}

sc_status sc_err_set(sc_err *err, sc_status code, int reason, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->reason = reason;
    err->msg[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void sc_err_prefix(sc_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[SC_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    size_t plen = strlen(prefix);
    size_t mlen = strlen(err->msg);
    /* Keep the prefix whole and cut the old message's tail if it must. */
    if (plen + mlen >= sizeof err->msg)
        mlen = sizeof err->msg - 1 - plen;
    memmove(err->msg + plen, err->msg, mlen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + mlen] = '\0';
}
