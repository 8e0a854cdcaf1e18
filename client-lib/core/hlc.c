/*
 * hlc.c: the hybrid logical clock (see hlc.h).
 *
 * The packed form (48 bits of ms, 16 of counter) is an ordinary unsigned
 * integer, so "the next HLC" is +1 (a counter overflow carries into the
 * milliseconds by itself) and "the later of two" is max.  The one edge is the
 * top of the range, where the clock saturates instead of wrapping to zero:
 * a clock that went backwards would break the fold order.
 */
#include "hlc.h"

sc_hlc sc_hlc_make(int64_t ms, uint16_t counter)
{
    if (ms < 0)
        ms = 0;
    if (ms > SC_HLC_MS_MAX)
        ms = SC_HLC_MS_MAX;
    return ((uint64_t)ms << 16) | counter;
}

sc_hlc sc_hlc_tick(sc_hlc *clock, int64_t now_ms)
{
    sc_hlc next = *clock == UINT64_MAX ? UINT64_MAX : *clock + 1;
    sc_hlc physical = sc_hlc_make(now_ms, 0);
    *clock = next > physical ? next : physical;
    return *clock;
}

void sc_hlc_observe(sc_hlc *clock, sc_hlc remote)
{
    if (remote > *clock)
        *clock = remote;
}

bool sc_hlc_is_ahead(sc_hlc h, int64_t now_ms, int64_t skew_ms)
{
    /* Compare against now + skew, saturated, so no operand can overflow. */
    int64_t limit;
    if (skew_ms >= 0)
        limit = now_ms > INT64_MAX - skew_ms ? INT64_MAX : now_ms + skew_ms;
    else
        limit = now_ms < INT64_MIN - skew_ms ? INT64_MIN : now_ms + skew_ms;
    return SC_HLC_MS(h) > limit;
}
