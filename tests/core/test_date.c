/*
 * test_date.c: civil dates and day numbers: known dates, leap years,
 * strict "YYYY-MM-DD" parsing, formatting and its clamping, floor division
 * of negative milliseconds, and a round trip over every day of 0000..9999.
 */
#include <stdbool.h>
#include <string.h>

#include "core/date.h"
#include "sctest.h"

START_TEST(known_dates)
{
    struct {
        int y, m, d;
        int32_t days;
        const char *text;
    } known[] = {
        {1970, 1, 1, 0, "1970-01-01"},         {1969, 12, 31, -1, "1969-12-31"},
        {2000, 2, 29, 11016, "2000-02-29"},    {2000, 3, 1, 11017, "2000-03-01"},
        {2026, 11, 23, 20780, "2026-11-23"},   {2024, 12, 31, 20088, "2024-12-31"},
        {1900, 3, 1, -25508, "1900-03-01"},    {0, 1, 1, -719528, "0000-01-01"},
        {9999, 12, 31, 2932896, "9999-12-31"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        int32_t days = 99;
        ck_assert_int_eq(sc_date_from_civil(known[i].y, known[i].m, known[i].d, &days), SC_OK);
        ck_assert_int_eq(days, known[i].days);
        int y, m, d;
        sc_date_to_civil(known[i].days, &y, &m, &d);
        ck_assert_int_eq(y, known[i].y);
        ck_assert_int_eq(m, known[i].m);
        ck_assert_int_eq(d, known[i].d);
        char text[11];
        sc_date_format(known[i].days, text);
        ck_assert_str_eq(text, known[i].text);
        ck_assert_int_eq(sc_date_parse(known[i].text, 10, &days), SC_OK);
        ck_assert_int_eq(days, known[i].days);
    }
}
END_TEST

START_TEST(invalid_dates)
{
    const char *bad[] = {
        "2001-02-29", /* not a leap year */
        "1900-02-29", /* century, not a leap year */
        "2026-04-31", "2026-13-01",     "2026-00-10",  "2026-01-00",
        "2026-01-32", "2026-1-01", /* short */
        "2026/01/01", "2026-01-01x",    " 2026-01-01", "+026-01-01",
        "-026-01-01", "2026-01-0a",     "20260101",    "",
        "2026-01-1 ", "２０２６-01-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t days = 99;
        ck_assert_msg(sc_date_parse(bad[i], strlen(bad[i]), &days) == SC_ERR_MALFORMED,
                      "accepted '%s'", bad[i]);
        ck_assert_int_eq(days, 0); /* fail closed */
    }
    /* The length is the caller's: a valid date followed by more text, or a
     * valid prefix, is not a date. */
    int32_t days;
    ck_assert_int_eq(sc_date_parse("2026-11-23", 9, &days), SC_ERR_MALFORMED);
    ck_assert_int_eq(sc_date_parse("2026-11-23Z", 11, &days), SC_ERR_MALFORMED);
    ck_assert_int_eq(sc_date_parse("2026-11-23Z", 10, &days), SC_OK);
    ck_assert_int_eq(sc_date_parse("2026-11\0-23", 10, &days), SC_ERR_MALFORMED);
    ck_assert_int_eq(sc_date_parse(NULL, 10, &days), SC_ERR_MALFORMED);
    /* Leap days that exist. */
    ck_assert_int_eq(sc_date_parse("2024-02-29", 10, &days), SC_OK);
    ck_assert_int_eq(sc_date_parse("2000-02-29", 10, &days), SC_OK);
    /* from_civil validates too. */
    ck_assert_int_eq(sc_date_from_civil(2026, 2, 29, &days), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(days, 0);
    ck_assert_int_eq(sc_date_from_civil(2026, 0, 1, &days), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_date_from_civil(2026, 13, 1, &days), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_date_from_civil(2026, 6, 0, &days), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_date_from_civil(2026, 6, 31, &days), SC_ERR_INVALID_ARG);
    /* A year whose days do not fit an int32. */
    ck_assert_int_eq(sc_date_from_civil(2000000000, 1, 1, &days), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_date_from_civil(-2000000000, 1, 1, &days), SC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(round_trip)
{
    /* Every day from 0000-01-01 to 9999-12-31: the conversions invert each
     * other, text round trips, and consecutive days are consecutive dates. */
    /* ck_assert marks a point (a write to Check's pipe) even when it
     * passes, so the hot loop tests plainly and aborts only on failure. */
    int py = 0, pm = 0, pd = 0;
    for (int32_t days = -719528; days <= 2932896; days++) {
        int y, m, d;
        sc_date_to_civil(days, &y, &m, &d);
        int32_t back = 0;
        if (sc_date_from_civil(y, m, d, &back) != SC_OK || back != days)
            ck_abort_msg("day %d -> %04d-%02d-%02d -> %d", days, y, m, d, back);
        if (days > -719528) {
            bool next_day = y == py && m == pm && d == pd + 1;
            bool next_month = y == py && m == pm + 1 && d == 1;
            bool next_year = y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31;
            if (!next_day && !next_month && !next_year)
                ck_abort_msg("day %d follows %d-%d-%d badly", days, py, pm, pd);
        }
        py = y;
        pm = m;
        pd = d;
        char text[11];
        sc_date_format(days, text);
        if (sc_date_parse(text, 10, &back) != SC_OK || back != days)
            ck_abort_msg("day %d -> '%s' -> %d", days, text, back);
    }
    /* The extremes of int32 convert without overflow and invert. */
    int32_t extremes[] = {INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1};
    for (size_t i = 0; i < 4; i++) {
        int y, m, d;
        int32_t back;
        sc_date_to_civil(extremes[i], &y, &m, &d);
        ck_assert_int_eq(sc_date_from_civil(y, m, d, &back), SC_OK);
        ck_assert_int_eq(back, extremes[i]);
    }
}
END_TEST

START_TEST(format_clamps)
{
    /* Years outside 0000..9999 cannot be written as YYYY-MM-DD. */
    char text[11];
    sc_date_format(INT32_MIN, text);
    ck_assert_str_eq(text, "0000-01-01");
    sc_date_format(-719529, text);
    ck_assert_str_eq(text, "0000-01-01");
    sc_date_format(2932897, text);
    ck_assert_str_eq(text, "9999-12-31");
    sc_date_format(INT32_MAX, text);
    ck_assert_str_eq(text, "9999-12-31");
}
END_TEST

START_TEST(from_ms)
{
    const int64_t day = INT64_C(86400000);
    ck_assert_int_eq(sc_date_from_ms(0), 0);
    ck_assert_int_eq(sc_date_from_ms(day - 1), 0);
    ck_assert_int_eq(sc_date_from_ms(day), 1);
    /* Floor, not truncation: the last millisecond of 1969 is in 1969. */
    ck_assert_int_eq(sc_date_from_ms(-1), -1);
    ck_assert_int_eq(sc_date_from_ms(-day), -1);
    ck_assert_int_eq(sc_date_from_ms(-day - 1), -2);
    ck_assert_int_eq(sc_date_from_ms(INT64_C(1795392000000)), 20780);
    ck_assert_int_eq(sc_date_from_ms(INT64_C(1795392000000) - 1), 20779);
    /* Milliseconds beyond what an int32 day holds clamp. */
    ck_assert_int_eq(sc_date_from_ms(INT64_MAX), INT32_MAX);
    ck_assert_int_eq(sc_date_from_ms(INT64_MIN), INT32_MIN);
}
END_TEST

static Suite *date_suite(void)
{
    Suite *s = suite_create("date");
    const sct_case cases[] = {
        {"known_dates", known_dates}, {"invalid_dates", invalid_dates},
        {"round_trip", round_trip},   {"format_clamps", format_clamps},
        {"from_ms", from_ms},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(date_suite());
}
