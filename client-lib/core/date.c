/*
 * date.c: civil dates <-> days since 1970-01-01, proleptic Gregorian.
 *
 * The conversions are Howard Hinnant's days_from_civil / civil_from_days
 * ("chrono-Compatible Low-Level Date Algorithms"), which work on 400-year
 * eras so they need no tables and no loops.  They run in 64-bit arithmetic,
 * so every int32 day number converts without overflow.  Text is exactly
 * "YYYY-MM-DD": four-digit years only, which is why sc_date_format clamps
 * to 0000-01-01 .. 9999-12-31 (ops never carry days outside 1970..9999).
 */
#include "date.h"

#include <stdbool.h>
#include <stdint.h>

#define MS_PER_DAY     INT64_C(86400000)
#define DAY_0000_01_01 INT64_C(-719528)
#define DAY_9999_12_31 INT64_C(2932896)

static bool is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Hinnant's days_from_civil; m and d already validated. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

sc_status sc_date_from_civil(int year, int month, int day, int32_t *out)
{
    *out = 0;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return SC_ERR_INVALID_ARG;
    int64_t days = days_from_civil(year, month, day);
    if (days < INT32_MIN || days > INT32_MAX)
        return SC_ERR_INVALID_ARG;
    *out = (int32_t)days;
    return SC_OK;
}

void sc_date_to_civil(int32_t days, int *year, int *month, int *day)
{
    int64_t z = (int64_t)days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                      /* [0, 11] */
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(y + (m <= 2));
    *month = m;
    *day = d;
}

/* Two or four ASCII digits at s; -1 when one is not a digit. */
static int parse_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

sc_status sc_date_parse(const char *text, size_t len, int32_t *out)
{
    *out = 0;
    if (!text || len != 10 || text[4] != '-' || text[7] != '-')
        return SC_ERR_MALFORMED;
    int y = parse_digits(text, 4);
    int m = parse_digits(text + 5, 2);
    int d = parse_digits(text + 8, 2);
    if (y < 0 || m < 0 || d < 0)
        return SC_ERR_MALFORMED;
    return sc_date_from_civil(y, m, d, out) == SC_OK ? SC_OK : SC_ERR_MALFORMED;
}

static void put_digits(char *s, int v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        s[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void sc_date_format(int32_t days, char out[11])
{
    int y, m, d;
    int64_t clamped = days;
    if (clamped < DAY_0000_01_01)
        clamped = DAY_0000_01_01;
    if (clamped > DAY_9999_12_31)
        clamped = DAY_9999_12_31;
    sc_date_to_civil((int32_t)clamped, &y, &m, &d);
    put_digits(out, y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = '\0';
}

int32_t sc_date_from_ms(int64_t ms)
{
    /* Floor division: -1 ms is 1969-12-31, not 1970-01-01. */
    int64_t q = ms / MS_PER_DAY;
    if (ms % MS_PER_DAY < 0)
        q--;
    /* int64 ms reach ±1.07e11 days; clamp to what an int32 day can say. */
    if (q < INT32_MIN)
        q = INT32_MIN;
    if (q > INT32_MAX)
        q = INT32_MAX;
    return (int32_t)q;
}
