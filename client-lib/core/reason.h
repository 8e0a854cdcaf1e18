/*
 * reason.h: the protocol's reason codes (proto/wire.proto, enum Reason), in
 * one list: why an op or a request was refused.  Code says SC_REASON_X,
 * never a number; each number here is checked at compile time against the
 * generated enum, and tests/core/test_names.c checks that every reason of
 * the .proto is in sc_names_reason, which is made from this list: the two
 * cannot drift apart.  X(NAME, number, wire name): the wire name is the one
 * logs, X-Spotcheck-Reason and the CLI show.
 */
#ifndef SC_CORE_REASON_H
#define SC_CORE_REASON_H

#include "wire.pb-c.h"

#define SC_REASONS(X)                                                                              \
    X(NONE, 0, "none")                                                                             \
    X(MALFORMED, 1, "malformed")                                                                   \
    X(TOO_LARGE, 2, "too_large")                                                                   \
    X(BAD_SIGNATURE, 3, "bad_signature")                                                           \
    X(UNKNOWN_DEVICE, 4, "unknown_device")                                                         \
    X(DEVICE_REVOKED, 5, "device_revoked")                                                         \
    X(AUTHOR_MISMATCH, 6, "author_mismatch")                                                       \
    X(FORBIDDEN_ROLE, 7, "forbidden_role")                                                         \
    X(OUT_OF_SCOPE, 8, "out_of_scope")                                                             \
    X(INVALID_TRANSITION, 9, "invalid_transition")                                                 \
    X(UNKNOWN_DEPENDENCY, 10, "unknown_dependency")                                                \
    X(HLC_NOT_AFTER_DEPS, 11, "hlc_not_after_deps")                                                \
    X(CLOCK_AHEAD, 12, "clock_ahead")                                                              \
    X(UNKNOWN_REFERENCE, 13, "unknown_reference")                                                  \
    X(ENTITY_EXISTS, 14, "entity_exists")                                                          \
    X(UNKNOWN_ENTITY, 15, "unknown_entity")                                                        \
    X(ENTITY_FULL, 16, "entity_full")                                                              \
    X(BAD_FIELD, 17, "bad_field")                                                                  \
    X(WRONG_ENTITY_TYPE, 18, "wrong_entity_type")                                                  \
    X(NOT_VISIBLE, 19, "not_visible")                                                              \
    X(DUPLICATE_CODE, 20, "duplicate_code")                                                        \
    X(STORAGE, 21, "storage")                                                                      \
    X(BATCH_LIMIT, 22, "batch_limit")                                                              \
    X(QUOTA, 23, "quota")                                                                          \
    X(RATE_LIMITED, 24, "rate_limited")                                                            \
    X(OVERLOADED, 25, "overloaded")                                                                \
    X(REQUEST_TIME, 26, "request_time")                                                            \
    X(USER_DISABLED, 27, "user_disabled")                                                          \
    X(NONCE_USED, 28, "nonce_used")

enum {
#define SC_REASON_ENUM_(name, number, text) SC_REASON_##name = number,
    SC_REASONS(SC_REASON_ENUM_)
#undef SC_REASON_ENUM_
};

#define SC_REASON_CHECK_(name, number, text)                                                       \
    _Static_assert((int)SC_REASON_##name == (int)SCPB__REASON__REASON_##name,                      \
                   "core/reason.h: REASON_" #name " is not " #number " in proto/wire.proto");
SC_REASONS(SC_REASON_CHECK_)
#undef SC_REASON_CHECK_

#endif
