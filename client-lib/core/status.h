/*
 * status.h: status codes and the error record that core functions fill.
 *
 * The status enum itself is the public one from spotcheck.h, so the library,
 * syncd and the CLI speak one vocabulary.  An sc_err carries, besides the
 * code, the protocol reason (scpb Reason numbers, 0 when none applies) and a
 * message that says what failed and where.  Core functions never print.
 */
#ifndef SC_CORE_STATUS_H
#define SC_CORE_STATUS_H

#include <stdarg.h>

#include "limits.h"
#include "platform.h"
#include "spotcheck.h"

typedef struct sc_err {
    sc_status code;                 /* SC_OK when nothing failed */
    int reason;                     /* Scpb__Reason value, 0 if none */
    char msg[SC_ERR_MSG_MAX];       /* NUL-terminated, may be empty */
} sc_err;

/* Reset to SC_OK, no reason, empty message.  err may be NULL. */
void sc_err_clear(sc_err *err);

/*
 * Record a failure and return `code`, so callers can write
 * `return sc_err_set(err, SC_ERR_MALFORMED, REASON, "op %zu: ...", i);`.
 * err may be NULL (then only the code is returned).  The message is
 * truncated to fit.
 */
sc_status sc_err_set(sc_err *err, sc_status code, int reason, const char *fmt, ...)
    SC_PRINTF(4, 5);

/* Prefix the existing message with a context ("op 3 of 40: ").  err may be NULL. */
void sc_err_prefix(sc_err *err, const char *fmt, ...) SC_PRINTF(2, 3);

#endif
