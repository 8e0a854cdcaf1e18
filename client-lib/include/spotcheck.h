/*
 * spotcheck.h: the public API of libspotcheck, the Spotcheck client library.
 *
 * This header is the manual.  Every function states what it does, its
 * parameters (outputs marked "out"), its return codes, who owns what, and
 * its thread rules.  Nothing else of the library is public.
 *
 * Status codes.  Every function that can fail returns sc_status; SC_OK is 0.
 * sc_strerror() gives a short fixed text for a code; handles keep a longer
 * message naming what and where (see sc_client_errmsg()).
 */
#ifndef SPOTCHECK_H
#define SPOTCHECK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The one list of status codes.  X(name, value, text).  Values are stable:
 * the CLI maps them to exit codes and scripts depend on them.
 */
#define SC_STATUS_LIST(X)                                                            \
    X(SC_OK, 0, "ok")                                                                \
    X(SC_ERR_NOMEM, 1, "out of memory")                                              \
    X(SC_ERR_INVALID_ARG, 2, "invalid argument")                                     \
    X(SC_ERR_MALFORMED, 3, "malformed encoding")                                     \
    X(SC_ERR_TOO_LARGE, 4, "exceeds a size limit")                                   \
    X(SC_ERR_BAD_SIGNATURE, 5, "signature does not verify")                          \
    X(SC_ERR_CRYPTO, 6, "cryptographic library failure")                             \
    X(SC_ERR_BAD_PASSPHRASE, 7, "wrong passphrase or damaged key")                   \
    X(SC_ERR_IO, 8, "input/output error")                                            \
    X(SC_ERR_NOT_FOUND, 9, "not found")                                              \
    X(SC_ERR_EXISTS, 10, "already exists")                                           \
    X(SC_ERR_INVALID_TRANSITION, 11, "not allowed in the current state")             \
    X(SC_ERR_REJECTED, 12, "rejected by the rules")                                  \
    X(SC_ERR_PROOF, 13, "Merkle proof does not verify")                              \
    X(SC_ERR_CHECKPOINT, 14, "checkpoint does not verify")                           \
    X(SC_ERR_HISTORY_REWRITTEN, 15, "server history is inconsistent with a verified checkpoint") \
    X(SC_ERR_NETWORK, 16, "server unreachable")                                      \
    X(SC_ERR_PROTOCOL, 17, "server answered something that is not the protocol")     \
    X(SC_ERR_SERVER, 18, "server refused the request")                               \
    X(SC_ERR_FORBIDDEN, 19, "not permitted for this role or scope")                  \
    X(SC_ERR_STORAGE, 20, "local storage failure")                                   \
    X(SC_ERR_LIMIT, 21, "a configured limit was reached")                            \
    X(SC_ERR_NOT_ENROLLED, 22, "this replica has no enrolled device")                \
    X(SC_ERR_UNAVAILABLE, 23, "temporarily unavailable, retry later")                \
    X(SC_ERR_INTERNAL, 24, "internal error")

typedef enum sc_status {
#define SC_STATUS_ENUM_(name, value, text) name = value,
    SC_STATUS_LIST(SC_STATUS_ENUM_)
#undef SC_STATUS_ENUM_
} sc_status;

/* A fixed English text for a status code; never NULL, for unknown codes too. */
const char *sc_strerror(sc_status status);

/* The name of a status code ("SC_ERR_NOT_FOUND"); never NULL. */
const char *sc_status_name(sc_status status);

#ifdef __cplusplus
}
#endif

#endif /* SPOTCHECK_H */
