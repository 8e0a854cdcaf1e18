/*
 * date.h: civil dates as days since 1970-01-01 (proleptic Gregorian), the
 * form deadlines and due dates take in ops.  No time zones: a deadline is a
 * calendar day, as in the work plans ("11月上旬", "7月15日前").
 */
#ifndef SC_CORE_DATE_H
#define SC_CORE_DATE_H

#include <stdint.h>

#include "spotcheck.h"

/* Days from a civil date; month 1-12, day 1-31 (validated against the month). */
sc_status sc_date_from_civil(int year, int month, int day, int32_t *out);
/* Civil date of a day number. */
void sc_date_to_civil(int32_t days, int *year, int *month, int *day);
/* Parse exactly "YYYY-MM-DD" (len bytes, no NUL needed); SC_ERR_MALFORMED otherwise. */
sc_status sc_date_parse(const char *text, size_t len, int32_t *out);
/* Format as "YYYY-MM-DD" into out (11 bytes with NUL). */
void sc_date_format(int32_t days, char out[11]);
/* The UTC day of a Unix millisecond time. */
int32_t sc_date_from_ms(int64_t ms);

#endif
