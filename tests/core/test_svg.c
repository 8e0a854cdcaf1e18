/*
 * test_svg.c: the charts of report/svg.c.  Every chart is parsed by a real
 * XML parser (python3's xml.etree) and its elements counted there; names
 * carrying < & " ' and bytes that are not UTF-8 come out escaped and
 * still well-formed; no bars, no buckets, one point and 100 units each
 * make a chart; the same input gives the same bytes; and a buffer whose
 * allocator fails reports it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/svg.h"
#include "sctest.h"

/*
 * Parse svg with python3's xml.etree and evaluate the Python expression
 * check on it (root: the <svg> element; q(tag): its descendants of that
 * SVG tag; texts: the text of every <text>, in order): true when both pass.
 */
static bool xml_check(const char *svg, const char *check)
{
    char path[] = "/tmp/sc_svg_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(svg, f);
    ck_assert_int_eq(fclose(f), 0);
    char cmd[4096];
    int n = snprintf(cmd, sizeof cmd,
                     "python3 -c '\n"
                     "import sys, xml.etree.ElementTree as ET\n"
                     "root = ET.parse(sys.argv[1]).getroot()\n"
                     "NS = \"{http://www.w3.org/2000/svg}\"\n"
                     "q = lambda t: root.findall(\".//\" + NS + t)\n"
                     "texts = [\"\".join(e.itertext()) for e in q(\"text\")]\n"
                     "assert root.tag == NS + \"svg\", root.tag\n"
                     "ok = %s\n"
                     "print(texts) if not ok else None\n"
                     "sys.exit(0 if ok else 1)\n' %s",
                     check, path);
    ck_assert_int_lt(n, (int)sizeof cmd);
    int rc = system(cmd);
    unlink(path);
    return rc == 0;
}

static const int64_t found[] = {3, 0, 7, 2, 5};
static const int64_t closed[] = {0, 1, 2, 2, 6};
static const char *const days[] = {"11-01", "11-02", "11-03", "11-04", "11-05"};

START_TEST(bars_well_formed)
{
    sc_svg_buf b = {0};
    const sc_svg_bar bars[] = {{"君安社区", 667}, {"星悦社区", 1000}, {"幸福里", 0}, {"新区", -1}};
    ck_assert_int_eq(sc_svg_bars(&b, "整改率", bars, 4, "无"), 0);
    ck_assert_ptr_nonnull(b.p);
    ck_assert_uint_eq(strlen(b.p), b.len);
    /* Two bars have a length; every bar has a label and a value; the axis 0..100 %. */
    ck_assert(xml_check(b.p, "len(q(\"rect\")) == 2 and texts[0] == \"整改率\" and "
                             "\"66.7%\" in texts and \"100.0%\" in texts and \"0.0%\" in texts and "
                             "\"-\" in texts and \"君安社区\" in texts and \"100%\" in texts and "
                             "root.get(\"height\") == \"152\""));
    ck_assert_int_eq(sc_svg_bars_height(4), 152);
    /* The longest bar spans the axis: 412 pixels from 172. */
    ck_assert_ptr_nonnull(strstr(b.p, "<rect x=\"172\" y=\"76\" width=\"412\""));
    sc_svg_buf_dispose(&b);
    ck_assert_ptr_null(b.p);
}
END_TEST

START_TEST(escaping)
{
    const char *evil = "<script>&\"x\"'</script>";
    sc_svg_buf b = {0};
    sc_svg_bar bar = {evil, 500};
    ck_assert_int_eq(sc_svg_bars(&b, evil, &bar, 1, NULL), 0);
    ck_assert_ptr_null(strstr(b.p, "<script"));
    ck_assert_ptr_nonnull(strstr(b.p, "&lt;script&gt;&amp;&quot;x&quot;&#39;&lt;/script&gt;"));
    /* The parser reads back exactly what was given, in the title and the label. */
    ck_assert(xml_check(b.p, "texts[0] == \"<script>&\\\"x\\\"\\x27</script>\" and "
                             "texts.count(texts[0]) == 2 and "
                             "root.get(\"aria-label\") == texts[0] and "
                             "root.find(NS + \"title\").text == texts[0]"));
    sc_svg_buf_dispose(&b);

    /* Control characters are dropped; a byte that is not UTF-8 becomes U+FFFD. */
    sc_svg_escape(&b, "a\x01"
                      "b\tc\xff"
                      "d\xe4\xb8"
                      "e\xc0\xaf");
    ck_assert_str_eq(b.p, "ab\tc\xEF\xBF\xBD"
                          "d\xEF\xBF\xBD\xEF\xBF\xBD"
                          "e\xEF\xBF\xBD\xEF\xBF\xBD");
    sc_svg_buf_dispose(&b);
    sc_svg_escape(&b, NULL);
    ck_assert_ptr_null(b.p);

    /* A line chart's series names and bucket labels are escaped too. */
    const char *const buckets[] = {"<a>", "&"};
    const int64_t v[] = {1, 2};
    sc_svg_series s = {"found & \"closed\"", v};
    ck_assert_int_eq(sc_svg_lines(&b, "<t>", buckets, 2, &s, 1, NULL), 0);
    ck_assert(xml_check(b.p, "\"<a>\" in texts and \"&\" in texts and "
                             "\"found & \\\"closed\\\"\" in texts and texts[0] == \"<t>\""));
    sc_svg_buf_dispose(&b);
}
END_TEST

START_TEST(lines_well_formed)
{
    sc_svg_buf b = {0};
    const sc_svg_series s[] = {{"发现", found}, {"销号", closed}};
    ck_assert_int_eq(sc_svg_lines(&b, "发现与销号", days, 5, s, 2, NULL), 0);
    /* Two polylines of five points each, a dot per point, both names in the legend; the
     * largest value 7 puts the axis's top at 10, in steps of 2. */
    ck_assert(xml_check(b.p,
                        "len(q(\"polyline\")) == 2 and "
                        "all(len(p.get(\"points\").split()) == 5 for p in q(\"polyline\")) and "
                        "len(q(\"circle\")) == 10 and \"发现\" in texts and \"销号\" in texts and "
                        "\"10\" in texts and \"2\" in texts and \"11-03\" in texts and "
                        "root.get(\"height\") == \"300\""));
    /* 7 of 10 on a plot from 262 up to 56: y = 262 - 7 * 206 / 10 = 118. */
    ck_assert_ptr_nonnull(strstr(b.p, "336,118"));
    /* The second series is dashed: black and white still tell them apart. */
    ck_assert_ptr_nonnull(strstr(b.p, "stroke-dasharray=\"6 3\" points="));
    sc_svg_buf_dispose(&b);
}
END_TEST

START_TEST(empty_and_one_point)
{
    sc_svg_buf b = {0};
    ck_assert_int_eq(sc_svg_bars(&b, NULL, NULL, 0, "暂无数据"), 0);
    ck_assert(xml_check(b.p, "len(q(\"rect\")) == 0 and \"暂无数据\" in texts and "
                             "q(\"title\") == []"));
    ck_assert_int_eq(sc_svg_bars_height(0), sc_svg_bars_height(1));
    sc_svg_buf_dispose(&b);

    const sc_svg_series none[] = {{"a", NULL}, {"b", NULL}};
    ck_assert_int_eq(sc_svg_lines(&b, "t", NULL, 0, none, 2, NULL), 0);
    ck_assert(xml_check(b.p, "len(q(\"polyline\")) == 0 and \"-\" in texts and \"5\" in texts"));
    sc_svg_buf_dispose(&b);

    /* One bucket: each series one dot in the middle; all zero: the axis still 0..5. */
    const int64_t one[] = {0};
    const sc_svg_series s1[] = {{"a", one}, {"b", one}};
    const char *const day[] = {"11-30"};
    ck_assert_int_eq(sc_svg_lines(&b, "t", day, 1, s1, 2, NULL), 0);
    ck_assert(xml_check(b.p, "len(q(\"circle\")) == 2 and "
                             "all(c.get(\"cx\") == \"336\" and c.get(\"cy\") == \"262\" "
                             "for c in q(\"circle\")) and \"11-30\" in texts"));
    sc_svg_buf_dispose(&b);
}
END_TEST

START_TEST(hundred_units)
{
    sc_svg_bar bars[100];
    char names[100][48];
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof names[i], "第%d网格", i + 1);
        bars[i].label = names[i];
        bars[i].permille = i * 10;
    }
    sc_svg_buf b = {0};
    ck_assert_int_eq(sc_svg_bars(&b, "整改率", bars, 100, NULL), 0);
    ck_assert_int_eq(sc_svg_bars_height(100), 48 + 100 * 24 + 8);
    ck_assert(xml_check(b.p, "len(root.findall(NS + \"g\")) == 100 and len(q(\"rect\")) == 99 and "
                             "\"第100网格\" in texts and \"99.0%\" in texts and "
                             "root.get(\"viewBox\") == \"0 0 640 2456\""));
    /* The same input, the same bytes. */
    sc_svg_buf again = {0};
    ck_assert_int_eq(sc_svg_bars(&again, "整改率", bars, 100, NULL), 0);
    ck_assert_uint_eq(again.len, b.len);
    ck_assert_int_eq(memcmp(again.p, b.p, b.len), 0);
    sc_svg_buf_dispose(&again);
    sc_svg_buf_dispose(&b);
}
END_TEST

START_TEST(long_labels_cut)
{
    /* 30 CJK characters are 60 cells: cut to 23 cells (11 characters) and "…". */
    char name[128];
    for (int i = 0; i < 30; i++)
        memcpy(name + 3 * i, "区", 3);
    name[90] = '\0';
    sc_svg_bar bar = {name, 100};
    sc_svg_buf b = {0};
    ck_assert_int_eq(sc_svg_bars(&b, NULL, &bar, 1, NULL), 0);
    ck_assert(xml_check(b.p, "\"区\" * 11 + \"\\u2026\" in texts"));
    sc_svg_buf_dispose(&b);
    /* Exactly 24 cells stay whole. */
    sc_svg_bar ascii = {"abcdefghijklmnopqrstuvwx", 100};
    ck_assert_int_eq(sc_svg_bars(&b, NULL, &ascii, 1, NULL), 0);
    ck_assert(xml_check(b.p, "\"abcdefghijklmnopqrstuvwx\" in texts"));
    sc_svg_buf_dispose(&b);
}
END_TEST

static int fail_after;
static void *failing_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return fail_after-- > 0 ? realloc(p, n) : NULL;
}

static void plain_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

START_TEST(allocation_fails)
{
    for (fail_after = 0; fail_after < 3; fail_after++) {
        int budget = fail_after;
        sc_svg_buf b = {.realloc_fn = failing_realloc, .free_fn = plain_free};
        const sc_svg_series s[] = {{"a", found}, {"b", closed}};
        ck_assert_int_eq(sc_svg_lines(&b, "t", days, 5, s, 2, NULL), -1);
        ck_assert(b.failed);
        sc_svg_buf_dispose(&b);
        ck_assert(!b.failed);
        fail_after = budget;
    }
    /* A formatted piece longer than the stack buffer goes through the allocator too. */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sc_svg_buf b = {.realloc_fn = failing_realloc, .free_fn = plain_free};
    fail_after = 100;
    sc_svg_printf(&b, "<%s>", big);
    ck_assert(!b.failed);
    ck_assert_uint_eq(b.len, sizeof big + 1);
    ck_assert_int_eq(b.p[0], '<');
    ck_assert_int_eq(b.p[b.len - 1], '>');
    sc_svg_buf_dispose(&b);
}
END_TEST

static Suite *svg_suite(void)
{
    Suite *s = suite_create("svg");
    const sct_case cases[] = {
        {"bars_well_formed", bars_well_formed},   {"escaping", escaping},
        {"lines_well_formed", lines_well_formed}, {"empty_and_one_point", empty_and_one_point},
        {"hundred_units", hundred_units},         {"long_labels_cut", long_labels_cut},
        {"allocation_fails", allocation_fails},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(svg_suite());
}
