/*
 * budget.h: how many request-body bytes syncd holds in memory at once, all
 * clients together and per device (docs/operations.md, "Limits").
 *
 * A request reserves the bytes its body may take (its Content-Length,
 * already checked against the route's limit) before any of them is read,
 * and gives them back when it ends, however it ends.  The caps:
 *   - every body together (total_max);
 *   - one device's bodies (device_max), counted only for requests whose
 *     signature already verified, so that nobody but the device itself can
 *     use up its share;
 *   - bodies read before anyone is authenticated (unverified_max, also
 *     part of the total): enrollments;
 *   - once total_max is reached, a verified device with nothing else in
 *     flight may still take up to SC_BODY_RESERVE_BODY_MAX from a reserve
 *     of SC_BODY_RESERVE_MAX, so a few devices sending big bodies do not
 *     stop everyone's small syncs.  Memory stays under total_max plus the
 *     reserve.
 * A reservation that does not fit is refused with SC_ERR_UNAVAILABLE and
 * REASON_RATE_LIMITED (the device's own share: 429) or REASON_OVERLOADED
 * (a shared cap: 503), and nothing is held.
 *
 * Threads: safe from any number of threads (one mutex; a reservation is a
 * few operations, once per request).
 */
#ifndef SD_BUDGET_H
#define SD_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/status.h"

typedef struct sd_budget sd_budget;

typedef struct sd_budget_limits {
    uint64_t total_max;      /* bytes, every body */
    uint64_t device_max;     /* bytes, one device's verified bodies */
    uint64_t unverified_max; /* bytes, bodies of unauthenticated requests */
    size_t devices_max;      /* devices with bodies in flight at once (the connection limit) */
} sd_budget_limits;

/* What one request holds; zero-initialised means nothing. */
typedef struct sd_budget_hold {
    uint64_t bytes;              /* reserved */
    bool verified;               /* counted in the device's share */
    bool reserve;                /* taken from the reserve for small bodies */
    uint8_t device[SC_KEY_LEN];  /* when verified */
} sd_budget_hold;

sc_status sd_budget_new(const sd_budget_limits *lim, sd_budget **out);
/* Free; NULL is a no-op.  Every reservation must have been given back. */
void sd_budget_free(sd_budget *b);

/*
 * Reserve n bytes for a body of device (SC_KEY_LEN bytes; NULL for an
 * unauthenticated request) into *hold.  SC_OK, or SC_ERR_UNAVAILABLE as
 * above with a message naming the cap and its setting (*hold then holds
 * nothing).
 */
sc_status sd_budget_take(sd_budget *b, const uint8_t *device, uint64_t n, sd_budget_hold *hold,
                         sc_err *err);
/* Give back what *hold holds, and clear it; an empty hold is a no-op. */
void sd_budget_give(sd_budget *b, sd_budget_hold *hold);

/* Bytes reserved now, all bodies (tests). */
uint64_t sd_budget_used(sd_budget *b);

#endif
