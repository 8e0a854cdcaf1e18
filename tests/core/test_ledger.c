/*
 * test_ledger.c: the ledger's parts that need no register: periods (days,
 * ISO weeks at year ends, months, quarters, years, ranges), the query's
 * names refused with the valid ones, CSV lines (BOM, quoting, a formula
 * written as text, numbers left alone), and rows from states held in
 * memory: the org-subtree filter, and an org tree whose parents loop
 * (a damaged register) ending the walk instead of spinning.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "core/ledger.h"
#include "core/state.h"
#include "sctest.h"

static int32_t day_of(const char *text)
{
    int32_t d = 0;
    ck_assert_int_eq(sc_date_parse(text, strlen(text), &d), SC_OK);
    return d;
}

static void period_is(const char *text, const char *from, const char *to)
{
    int32_t a = -1, b = -1;
    ck_assert_msg(sc_period_parse(text, &a, &b) == SC_OK, "%s does not parse", text);
    ck_assert_msg(a == day_of(from) && b == day_of(to), "%s", text);
}

START_TEST(periods)
{
    period_is("2026-03-05", "2026-03-05", "2026-03-05");
    period_is("2026-02", "2026-02-01", "2026-02-28");
    period_is("2024-02", "2024-02-01", "2024-02-29");
    period_is("2026-12", "2026-12-01", "2026-12-31");
    period_is("2026-Q1", "2026-01-01", "2026-03-31");
    period_is("2026-Q4", "2026-10-01", "2026-12-31");
    period_is("2026", "2026-01-01", "2026-12-31");
    /* ISO weeks: 2026-W01 begins on Monday 2025-12-29; 2026 has 53 weeks, 2025 has 52. */
    period_is("2026-W01", "2025-12-29", "2026-01-04");
    period_is("2026-W53", "2026-12-28", "2027-01-03");
    period_is("2021-W01", "2021-01-04", "2021-01-10");
    period_is("2026-03-01..2026-03-15", "2026-03-01", "2026-03-15");
    const char *bad[] = {"", "2026-13", "2026-Q5", "2026-Q0", "2025-W53", "2026-W00", "26-03",
                         "2026-3", "2026-02-30", "2026-03-15..2026-03-01", "2026-03..2026-04",
                         "2026-03-01..", "march", "1969", "2026-W1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t a = 7, b = 7;
        ck_assert_msg(sc_period_parse(bad[i], &a, &b) == SC_ERR_INVALID_ARG, "%s parsed", bad[i]);
    }
}
END_TEST

START_TEST(query_names)
{
    sc_ledger_spec sp;
    sc_err err;
    sc_ledger_query q = {.size = sizeof q};
    ck_assert_int_eq(sc_ledger_spec_parse(&q, 100, &sp, &err), SC_OK);
    ck_assert(!sp.checks && !sp.en && !sp.has_period && sp.as_of == 100);
    ck_assert(sp.grade == -1 && sp.status == -1 && sp.kind == -1 && sp.source == -1);
    q.grade = "major";
    q.status = "verified";
    q.lang = "en";
    q.as_of = "2026-03-05";
    q.period = "2026-Q1";
    ck_assert_int_eq(sc_ledger_spec_parse(&q, 100, &sp, &err), SC_OK);
    ck_assert(sp.en && sp.has_period && sp.as_of == day_of("2026-03-05"));
    ck_assert_int_eq(sp.grade, 2);
    ck_assert_int_eq(sp.status, 3);
    struct {
        sc_ledger_query q;
        const char *msg;
    } refused[] = {
        {{.size = sizeof q, .grade = "huge"}, "grade \"huge\" is not valid: one of general, major"},
        {{.size = sizeof q, .ledger = "people"}, "ledger \"people\" is not valid: one of findings, checks"},
        {{.size = sizeof q, .lang = "fr"}, "lang \"fr\" is not valid: one of zh, en"},
        {{.size = sizeof q, .ledger = "checks", .status = "closed"},
         "inspection status \"closed\" is not valid: one of draft, submitted"},
        {{.size = sizeof q, .ledger = "checks", .source = "hotline"},
         "the checks ledger has no grade or source"},
        {{.size = sizeof q, .source = "rumour"}, "source \"rumour\" is not valid: one of inspection"},
        {{.size = sizeof q, .period = "soon"}, "period \"soon\" is not valid"},
        {{.size = sizeof q, .as_of = "2026-02-30"}, "as-of \"2026-02-30\" is not a day"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sc_err_clear(&err);
        ck_assert_int_eq(sc_ledger_spec_parse(&refused[i].q, 100, &sp, &err), SC_ERR_INVALID_ARG);
        ck_assert_msg(strstr(err.msg, refused[i].msg), "%s", err.msg);
    }
}
END_TEST

START_TEST(csv_lines)
{
    const sc_env *env = NULL;
    sc_ledger_cell cells[] = {
        {SC_CELL_TEXT, "plain", 0},
        {SC_CELL_TEXT, "a, b", 0},
        {SC_CELL_TEXT, "say \"hi\"", 0},
        {SC_CELL_TEXT, "two\nlines", 0},
        {SC_CELL_TEXT, "=SUM(A1:A9)", 0},
        {SC_CELL_TEXT, "-1+1", 0},
        {SC_CELL_TEXT, "\t=HYPERLINK(1)", 0},
        {SC_CELL_TEXT, "\r=1", 0},
        {SC_CELL_INT, "-3", -3},
        {SC_CELL_EMPTY, "", 0},
        {SC_CELL_DATE, "2026-03-05", 0},
        {SC_CELL_TEXT, "君安花园", 0},
    };
    char *buf = NULL;
    size_t cap = 0, len = 0;
    ck_assert_int_eq(sc_csv_line(env, cells, SCT_COUNT(cells), true, &buf, &cap, &len), SC_OK);
    const char want[] = "\xEF\xBB\xBFplain,\"a, b\",\"say \"\"hi\"\"\",\"two\nlines\",'=SUM(A1:A9),"
                        "'-1+1,'\t=HYPERLINK(1),\"'\r=1\",-3,,2026-03-05,君安花园\r\n";
    ck_assert_uint_eq(len, sizeof want - 1);
    ck_assert(memcmp(buf, want, len) == 0);
    ck_assert_int_eq(sc_csv_line(env, cells, 1, false, &buf, &cap, &len), SC_OK);
    ck_assert_uint_eq(len, 7);
    ck_assert(memcmp(buf, "plain\r\n", 7) == 0);
    sc_free(env, buf);
}
END_TEST

/* ---- rows from states in memory ---- */

#define NSTATES 8

typedef struct mem_src {
    const sc_env *env;
    Scpb__EntityState *st[NSTATES];
    size_t n;
    unsigned lookups;
} mem_src;

static sc_status mem_state(void *ctx, const uint8_t id[SC_ID_LEN], Scpb__EntityState **out)
{
    mem_src *m = ctx;
    m->lookups++;
    for (size_t i = 0; i < m->n; i++) {
        if (memcmp(m->st[i]->id.data, id, SC_ID_LEN) != 0)
            continue;
        /* The ledger frees what it is given: a copy, through the state codec. */
        uint8_t *buf;
        size_t len;
        ck_assert_int_eq(sc_state_encode(m->env, m->st[i], &buf, &len), SC_OK);
        sc_status s = sc_state_decode(m->env, buf, len, len, out, NULL);
        sc_free(m->env, buf);
        return s;
    }
    return SC_ERR_NOT_FOUND;
}

static sc_status mem_person(void *ctx, const uint8_t key[SC_KEY_LEN], char *out, size_t cap)
{
    snprintf(out, cap, "someone");
    return SC_OK;
}

static sc_status mem_ops(void *ctx, const uint8_t id[SC_ID_LEN], sc_ledger_op_fn fn, void *fctx)
{
    return SC_OK;
}

static uint8_t ids[NSTATES][SC_ID_LEN];

static Scpb__EntityState *mem_entity(mem_src *m, int type)
{
    Scpb__EntityState *st = sc_calloc(m->env, 1, sizeof *st);
    scpb__entity_state__init(st);
    size_t i = m->n++;
    memset(ids[i], 0, SC_ID_LEN);
    ids[i][15] = (uint8_t)(i + 1);
    st->has_id = true;
    st->id.data = ids[i];
    st->id.len = SC_ID_LEN;
    st->has_type = true;
    st->type = (Scpb__EntityType)type;
    m->st[i] = st;
    return st;
}

static ProtobufCBinaryData ref(size_t i)
{
    ProtobufCBinaryData b = {SC_ID_LEN, ids[i]};
    return b;
}

static int count_rows(void *ctx, const sc_ledger_row *row)
{
    unsigned *n = ctx;
    *n += !row->header;
    return 0;
}

START_TEST(org_subtree)
{
    mem_src m = {.env = NULL};
    Scpb__OrgState orgs[3];
    for (int i = 0; i < 3; i++) { /* 0 city <- 1 street <- 2 community */
        Scpb__EntityState *o = mem_entity(&m, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT);
        scpb__org_state__init(&orgs[i]);
        orgs[i].name = (char *)"org";
        if (i > 0) {
            orgs[i].has_parent = true;
            orgs[i].parent = ref((size_t)i - 1);
        }
        o->kind_case = SCPB__ENTITY_STATE__KIND_ORG;
        o->org = &orgs[i];
    }
    Scpb__TargetState tgt = SCPB__TARGET_STATE__INIT;
    tgt.code = (char *)"T-1";
    tgt.has_org = true;
    tgt.org = ref(2);
    Scpb__EntityState *t = mem_entity(&m, SCPB__ENTITY_TYPE__ENTITY_TARGET);
    t->kind_case = SCPB__ENTITY_STATE__KIND_TARGET;
    t->target = &tgt;
    Scpb__FindingState fs = SCPB__FINDING_STATE__INIT;
    fs.has_target = true;
    fs.target = ref(3);
    fs.has_grade = true;
    fs.grade = SCPB__GRADE__GRADE_MAJOR;
    fs.has_status = true;
    fs.status = SCPB__FINDING_STATUS__FINDING_OPEN;
    Scpb__EntityState *f = mem_entity(&m, SCPB__ENTITY_TYPE__ENTITY_FINDING);
    f->kind_case = SCPB__ENTITY_STATE__KIND_FINDING;
    f->finding = &fs;

    sc_ledger_src src = {&m, mem_state, mem_person, mem_ops};
    sc_err err;
    for (size_t org = 0; org < 4; org++) {
        sc_ledger_spec sp;
        sc_ledger_query q = {.size = sizeof q};
        ck_assert_int_eq(sc_ledger_spec_parse(&q, 0, &sp, &err), SC_OK);
        sp.has_org = true;
        memcpy(sp.org, ids[org], SC_ID_LEN); /* 3 is the target: no org unit */
        sc_ledger *lg;
        ck_assert_int_eq(sc_ledger_new(m.env, &src, &sp, &lg), SC_OK);
        unsigned rows = 0;
        ck_assert_int_eq(sc_ledger_add(lg, f, count_rows, &rows, &err), SC_OK);
        ck_assert_uint_eq(rows, org < 3 ? 1 : 0);
        sc_ledger_totals tot = {.size = sizeof tot};
        sc_ledger_totals_get(lg, &tot);
        ck_assert_uint_eq(tot.rows, rows);
        ck_assert_uint_eq(tot.major, rows);
        sc_ledger_free(lg);
    }

    /* A damaged tree: the city's parent is the community.  A filter on an org unit outside the
     * loop walks at most SC_ORG_DEPTH_MAX steps, each looked up once, and keeps nothing. */
    orgs[0].has_parent = true;
    orgs[0].parent = ref(2);
    sc_ledger_spec sp;
    sc_ledger_query q = {.size = sizeof q};
    ck_assert_int_eq(sc_ledger_spec_parse(&q, 0, &sp, &err), SC_OK);
    sp.has_org = true;
    memset(sp.org, 0xee, SC_ID_LEN);
    sc_ledger *lg;
    ck_assert_int_eq(sc_ledger_new(m.env, &src, &sp, &lg), SC_OK);
    unsigned rows = 0;
    m.lookups = 0;
    ck_assert_int_eq(sc_ledger_add(lg, f, count_rows, &rows, &err), SC_OK);
    ck_assert_uint_eq(rows, 0);
    ck_assert_uint_le(m.lookups, 4); /* the target and three org units, cached */
    sc_ledger_free(lg);
    for (size_t i = 0; i < m.n; i++)
        sc_free(m.env, m.st[i]);
}
END_TEST

static int refuse_rows(void *ctx, const sc_ledger_row *row)
{
    return row->header ? 0 : -1;
}

START_TEST(writer_stops)
{
    mem_src m = {.env = NULL};
    Scpb__FindingState fs = SCPB__FINDING_STATE__INIT;
    Scpb__EntityState *f = mem_entity(&m, SCPB__ENTITY_TYPE__ENTITY_FINDING);
    f->kind_case = SCPB__ENTITY_STATE__KIND_FINDING;
    f->finding = &fs;
    sc_ledger_src src = {&m, mem_state, mem_person, mem_ops};
    sc_ledger_spec sp;
    sc_err err;
    sc_ledger_query q = {.size = sizeof q};
    ck_assert_int_eq(sc_ledger_spec_parse(&q, 0, &sp, &err), SC_OK);
    sc_ledger *lg;
    ck_assert_int_eq(sc_ledger_new(m.env, &src, &sp, &lg), SC_OK);
    ck_assert_int_eq(sc_ledger_header(lg, refuse_rows, NULL, &err), SC_OK);
    ck_assert_int_eq(sc_ledger_add(lg, f, refuse_rows, NULL, &err), SC_ERR_IO);
    ck_assert_str_eq(err.msg, "ledger: writing a row failed");
    /* A voided finding is no row at all. */
    f->voided = true;
    ck_assert_int_eq(sc_ledger_add(lg, f, refuse_rows, NULL, &err), SC_OK);
    sc_ledger_free(lg);
    sc_free(m.env, f);
}
END_TEST

static Suite *ledger_suite(void)
{
    Suite *s = suite_create("ledger");
    const sct_case cases[] = {
        {"periods", periods},           {"query_names", query_names},
        {"csv_lines", csv_lines},       {"org_subtree", org_subtree},
        {"writer_stops", writer_stops},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(ledger_suite());
}
