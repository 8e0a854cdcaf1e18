/*
 * test_report.c: sc_report_period over a replica (the fixture's: city →
 * unit-a, target T1 of the city, a fixed clock on 2026-11-23): what it
 * refuses and how, the page it makes in both languages, and every
 * allocation of it failing in turn (nothing handed out, nothing leaked).
 * tests/e2e/report_period runs it against a real register and prints it.
 */
#include "fixture.h"

/* A check on T1 with two open findings: a major hazard, overdue since 2026-11-20, and a general
 * one. */
static void seed_findings(fx *f)
{
    char check[SC_ID_HEX_LEN], gas[SC_ID_HEX_LEN], lane[SC_ID_HEX_LEN];
    fx_check(f, check);
    sc_finding_params major = {.check = check,
                               .description = "燃气管道<老化>",
                               .grade = "major",
                               .deadline = "2026-11-20",
                               .responsible = "unit-a"};
    ck_assert_msg(sc_finding_add(f->c, &major, gas) == SC_OK, "%s", sc_client_errmsg(f->c));
    fx_finding(f, check, "general", "2026-12-20", lane);
}

static char *period(fx *f, const char *org, const char *p, const char *lang, sc_status want)
{
    sc_period_query q = {sizeof q, org, p, lang, "2026-11-30"};
    char *html = (char *)1;
    sc_status s = sc_report_period(f->c, &q, &html);
    ck_assert_msg(s == want, "%s %s: %s (%s)", org ? org : "-", p ? p : "-", sc_status_name(s),
                  sc_client_errmsg(f->c));
    if (want != SC_OK)
        ck_assert_ptr_null(html);
    return html;
}

START_TEST(refusals)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char *html = (char *)1;
    sc_period_query q = {sizeof q, "city", "2026-11", NULL, NULL};
    ck_assert_int_eq(sc_report_period(NULL, &q, &html), SC_ERR_INVALID_ARG);
    ck_assert_ptr_null(html);
    ck_assert_int_eq(sc_report_period(f.c, NULL, &html), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_report_period(f.c, &q, NULL), SC_ERR_INVALID_ARG);
    period(&f, "city", NULL, NULL, SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "needs a period"));
    period(&f, "city", "2026-13", NULL, SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "period \"2026-13\" is not valid"));
    period(&f, "city", "2026-11", "fr", SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "lang \"fr\" is not valid"));
    period(&f, NULL, "2026-11", NULL, SC_ERR_INVALID_ARG);
    period(&f, "nowhere", "2026-11", NULL, SC_ERR_NOT_FOUND);
    /* A target's code is not an org unit's. */
    period(&f, "T1", "2026-11", NULL, SC_ERR_NOT_FOUND);
    /* A struct smaller than its first release is refused. */
    q.size = sizeof(size_t);
    ck_assert_int_eq(sc_report_period(f.c, &q, &html), SC_ERR_INVALID_ARG);
    ck_assert_ptr_null(html);
    fx_close(&f);
}
END_TEST

START_TEST(the_page)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    seed_findings(&f);
    char *html = period(&f, "city", "2026-11", NULL, SC_OK);
    const char *want[] = {
        "<!DOCTYPE html>", "<html lang=\"zh-CN\">", "@page { size: A4", "@media print",
        ("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'\">"),
        "2026-11-01 至 2026-11-30", "生成时间: 2026-11-23 00:00 UTC",
        /* the unit and its child, the statistics' cells: 2 findings, 1 major, 1 overdue */
        "<tr class=\"self\" data-code=\"city\"><td>city</td><td class=\"n\">1</td>",
        "data-code=\"unit-a\"",
        /* user text escaped, in the plans and the overdue list */
        "燃气管道&lt;老化&gt;", "未报整改方案", "<td class=\"n late\">10</td>",
        "三、未销号重大隐患及整改方案", "五、督办与问责", "<svg xmlns="};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(html, want[i]), "the page lacks %s", want[i]);
    ck_assert_ptr_null(strstr(html, "燃气管道<老化>"));
    ck_assert_ptr_null(strstr(html, "<script"));
    sc_json_free(f.c, html);
    html = period(&f, "city", "2026-11", "en", SC_OK);
    ck_assert_ptr_nonnull(strstr(html, "<html lang=\"en\">"));
    ck_assert_ptr_nonnull(strstr(html, "3. Open major hazards and their rectification plans"));
    ck_assert_ptr_nonnull(strstr(html, "No plan filed"));
    ck_assert_ptr_null(strstr(html, "未报整改方案"));
    sc_json_free(f.c, html);
    fx_close(&f);
}
END_TEST

/* Fail every allocation of a report in turn: each failure hands out nothing and leaks nothing. */
START_TEST(allocation_failures)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    seed_findings(&f);
    int failures = 0;
    for (uint64_t n = 1; n < 20000; n++) {
        sc_period_query q = {sizeof q, "city", "2026-11", NULL, "2026-11-30"};
        char *html = (char *)1;
        sct_env_fail_at(&f.t, n, 1);
        sc_status s = sc_report_period(f.c, &q, &html);
        sct_env_fail_at(&f.t, 0, 0);
        if (s == SC_OK) {
            ck_assert_ptr_nonnull(strstr(html, "</html>"));
            sc_json_free(f.c, html);
            break;
        }
        failures++;
        ck_assert_msg(s == SC_ERR_NOMEM || s == SC_ERR_STORAGE, "allocation %llu: %s",
                      (unsigned long long)n, sc_status_name(s));
        ck_assert_ptr_null(html);
    }
    ck_assert_int_gt(failures, 20);
    fx_close(&f);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    const sct_case cases[] = {
        {"refusals", refusals},
        {"the_page", the_page},
        {"allocation_failures", allocation_failures},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(report_suite());
}
