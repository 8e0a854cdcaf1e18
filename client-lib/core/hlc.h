/*
 * hlc.h: the hybrid logical clock (DESIGN §3).
 *
 * An HLC is 64 bits: the upper 48 are Unix milliseconds, the lower 16 a
 * counter.  It never goes backwards and stays close to physical time.  A
 * device ticks it for every op it makes and merges in the HLC of every op it
 * receives.  If the counter overflows within one millisecond it carries into
 * the millisecond field, which keeps the clock monotonic at the cost of
 * running a millisecond ahead.
 */
#ifndef SC_CORE_HLC_H
#define SC_CORE_HLC_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t sc_hlc;

#define SC_HLC_MS(h) ((int64_t)((h) >> 16))
#define SC_HLC_COUNTER(h) ((uint16_t)((h)&0xffffu))
#define SC_HLC_MS_MAX ((int64_t)0xffffffffffff)

/* Pack ms (clamped to [0, SC_HLC_MS_MAX]) and a counter. */
sc_hlc sc_hlc_make(int64_t ms, uint16_t counter);

/* A local event at physical time now_ms: *clock becomes max(*clock + 1, now_ms:0). */
sc_hlc sc_hlc_tick(sc_hlc *clock, int64_t now_ms);

/* A received HLC: *clock becomes max(*clock, remote); no tick. */
void sc_hlc_observe(sc_hlc *clock, sc_hlc remote);

/* True when h's physical part is more than skew_ms ahead of now_ms. */
bool sc_hlc_is_ahead(sc_hlc h, int64_t now_ms, int64_t skew_ms);

#endif
