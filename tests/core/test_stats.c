/*
 * test_stats.c: the statistics fold over states held in memory, at its
 * edges: no checks at all (no average, no pass rate), a unit with no
 * findings (shown, not ranked), a finding reopened twice (one finding
 * reopened, however often), an extension that makes a late closure on
 * time, roll-up to every unit above, ranks among siblings, the period
 * buckets, and the table's columns lined up under CJK text.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "core/ledger.h"
#include "core/state.h"
#include "core/stats.h"
#include "core/stats_out.h"
#include "sctest.h"

#define MAXST 16
#define DAY_MS INT64_C(86400000)

typedef struct world {
    Scpb__EntityState *st[MAXST];
    size_t n;
    uint8_t ids[MAXST][SC_ID_LEN];
} world;

static world W;

static sc_status w_state(void *ctx, const uint8_t id[SC_ID_LEN], Scpb__EntityState **out)
{
    for (size_t i = 0; i < W.n; i++) {
        if (memcmp(W.ids[i], id, SC_ID_LEN) != 0)
            continue;
        uint8_t *buf;
        size_t len;
        ck_assert_int_eq(sc_state_encode(NULL, W.st[i], &buf, &len), SC_OK);
        sc_status s = sc_state_decode(NULL, buf, len, len, out, NULL);
        sc_free(NULL, buf);
        return s;
    }
    return SC_ERR_NOT_FOUND;
}

static sc_status w_person(void *ctx, const uint8_t key[SC_KEY_LEN], char *out, size_t cap)
{
    out[0] = '\0';
    return SC_OK;
}

static sc_status w_ops(void *ctx, const uint8_t id[SC_ID_LEN], sc_ledger_op_fn fn, void *fctx)
{
    return SC_OK;
}

static uint64_t hlc_of(int32_t day)
{
    return (uint64_t)(day * DAY_MS) << 16;
}

static ProtobufCBinaryData ref(size_t i)
{
    ProtobufCBinaryData b = {SC_ID_LEN, W.ids[i]};
    return b;
}

static size_t entity(Scpb__EntityType type, int32_t day)
{
    size_t i = W.n++;
    ck_assert_uint_lt(i, MAXST);
    Scpb__EntityState *st = sc_calloc(NULL, 1, sizeof *st);
    scpb__entity_state__init(st);
    memset(W.ids[i], 0, SC_ID_LEN);
    W.ids[i][0] = 1;
    W.ids[i][15] = (uint8_t)(i + 1);
    st->has_id = true;
    st->id = ref(i);
    st->has_type = true;
    st->type = type;
    st->has_created_hlc = true;
    st->created_hlc = hlc_of(day);
    W.st[i] = st;
    return i;
}

static size_t org(const char *code, long parent)
{
    size_t i = entity(SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, 0);
    Scpb__OrgState *o = sc_calloc(NULL, 1, sizeof *o);
    scpb__org_state__init(o);
    o->code = (char *)code;
    o->name = (char *)code;
    if (parent >= 0) {
        o->has_parent = true;
        o->parent = ref((size_t)parent);
    }
    W.st[i]->kind_case = SCPB__ENTITY_STATE__KIND_ORG;
    W.st[i]->org = o;
    return i;
}

static size_t target(const char *code, size_t org_i)
{
    size_t i = entity(SCPB__ENTITY_TYPE__ENTITY_TARGET, 0);
    Scpb__TargetState *t = sc_calloc(NULL, 1, sizeof *t);
    scpb__target_state__init(t);
    t->code = (char *)code;
    t->name = (char *)"君安花园小区";
    t->has_org = true;
    t->org = ref(org_i);
    W.st[i]->kind_case = SCPB__ENTITY_STATE__KIND_TARGET;
    W.st[i]->target = t;
    return i;
}

/* A finding of target t, found on day `found`, due `due`; closed on `closed` (0: open). */
static size_t finding(size_t t, Scpb__Grade grade, int32_t found, int32_t due, int32_t closed)
{
    size_t i = entity(SCPB__ENTITY_TYPE__ENTITY_FINDING, found);
    Scpb__FindingState *f = sc_calloc(NULL, 1, sizeof *f);
    scpb__finding_state__init(f);
    f->has_target = true;
    f->target = ref(t);
    f->has_grade = true;
    f->grade = grade;
    f->has_deadline_day = true;
    f->deadline_day = due;
    f->has_status = true;
    f->status = closed ? SCPB__FINDING_STATUS__FINDING_CLOSED : SCPB__FINDING_STATUS__FINDING_OPEN;
    if (closed) {
        f->has_closed_hlc = true;
        f->closed_hlc = hlc_of(closed);
    }
    W.st[i]->kind_case = SCPB__ENTITY_STATE__KIND_FINDING;
    W.st[i]->finding = f;
    return i;
}

/* Give finding i a deadline history: due1 from its notice on day found, due2 from day ext. */
static void extended(size_t i, int32_t found, int32_t due1, int32_t ext, int32_t due2)
{
    Scpb__GovernanceState *g = sc_calloc(NULL, 1, sizeof *g);
    scpb__governance_state__init(g);
    Scpb__DeadlineEntry **d = sc_calloc(NULL, 2, sizeof *d);
    int32_t days[2] = {found, ext}, dues[2] = {due1, due2};
    for (int k = 0; k < 2; k++) {
        d[k] = sc_calloc(NULL, 1, sizeof **d);
        scpb__deadline_entry__init(d[k]);
        d[k]->has_deadline_day = true;
        d[k]->deadline_day = dues[k];
        d[k]->has_hlc = true;
        d[k]->hlc = hlc_of(days[k]);
    }
    g->deadlines = d;
    g->n_deadlines = ext ? 2 : 1;
    W.st[i]->finding->governance = g;
}

static void world_free(void)
{
    for (size_t i = 0; i < W.n; i++) {
        Scpb__EntityState *st = W.st[i];
        if (st->kind_case == SCPB__ENTITY_STATE__KIND_FINDING && st->finding->governance) {
            for (size_t k = 0; k < 2; k++)
                sc_free(NULL, st->finding->governance->deadlines[k]);
            sc_free(NULL, st->finding->governance->deadlines);
            sc_free(NULL, st->finding->governance);
        }
        /* The per-type part is the first pointer of the oneof. */
        sc_free(NULL, st->org);
        sc_free(NULL, st);
    }
    memset(&W, 0, sizeof W);
}

static sc_stats *fold(int by, int period, int32_t as_of)
{
    sc_ledger_src src = {NULL, w_state, w_person, w_ops};
    sc_stats *s;
    sc_err err;
    ck_assert_int_eq(sc_stats_new(NULL, &src, by, period, as_of, &s), SC_OK);
    for (size_t i = 0; i < W.n; i++)
        ck_assert_int_eq(sc_stats_org(s, W.st[i], &err), SC_OK);
    for (size_t i = 0; i < W.n; i++)
        ck_assert_int_eq(sc_stats_add(s, W.st[i], &err), SC_OK);
    return s;
}

static const sc_stats_group *group(const sc_stats_group *g, size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(g[i].code, code) == 0)
            return &g[i];
    ck_abort_msg("no group %s", code);
    return NULL;
}

START_TEST(edges)
{
    /* city <- street <- {a, b}; the target T is a's.  b has no findings. */
    size_t city = org("city", -1), street = org("street", (long)city);
    size_t a = org("a", (long)street);
    org("b", (long)street);
    size_t t = target("T", a);
    /* Day 100 found, due 107, closed 110: 3 days late... */
    size_t late = finding(t, SCPB__GRADE__GRADE_GENERAL, 100, 107, 110);
    extended(late, 100, 107, 0, 0);
    /* ...and the same with an extension to 112 approved on day 105: on time. */
    size_t ext = finding(t, SCPB__GRADE__GRADE_GENERAL, 100, 112, 110);
    extended(ext, 100, 107, 105, 112);
    /* Reopened twice, closed again on day 120 (found 100, due 130). */
    size_t twice = finding(t, SCPB__GRADE__GRADE_MAJOR, 100, 130, 120);
    W.st[twice]->finding->has_reopen_count = true;
    W.st[twice]->finding->reopen_count = 2;
    /* Open, due 105: overdue as of day 108; a voided one is not counted at all. */
    finding(t, SCPB__GRADE__GRADE_MAJOR, 101, 105, 0);
    size_t gone = finding(t, SCPB__GRADE__GRADE_MAJOR, 101, 105, 0);
    W.st[gone]->voided = true;

    sc_stats *s = fold(SC_STATS_ORG, 0, 108);
    const sc_stats_group *g;
    size_t n;
    sc_err err;
    ck_assert_int_eq(sc_stats_groups(s, &g, &n, &err), SC_OK);
    ck_assert_uint_eq(n, 4);
    /* Tree order: city, street, a, b (siblings by code), with depths. */
    ck_assert_str_eq(g[0].code, "city");
    ck_assert_str_eq(g[1].code, "street");
    ck_assert_str_eq(g[2].code, "a");
    ck_assert_str_eq(g[3].code, "b");
    ck_assert_int_eq(g[3].depth, 2);
    for (int k = 0; k < 3; k++) { /* rolled up: city and street count what a counts */
        const sc_stats_figs *f = &g[k].f;
        ck_assert_uint_eq(f->findings, 4);
        ck_assert_uint_eq(f->general, 2);
        ck_assert_uint_eq(f->major, 2);
        ck_assert_uint_eq(f->closed, 3);
        ck_assert_uint_eq(f->late, 1);    /* the one without its extension */
        ck_assert_uint_eq(f->on_time, 2); /* the extended one, and the reopened one */
        ck_assert_uint_eq(f->overdue, 1);
        ck_assert_uint_eq(f->reopened, 1); /* reopened twice is one finding reopened */
        ck_assert_uint_eq(f->ever_closed, 3);
        ck_assert_uint_eq(f->close_days, 10 + 10 + 20);
        ck_assert_uint_eq(f->checks, 0);
        sc_stats_rates r;
        sc_stats_rates_of(f, &r);
        ck_assert_int_eq(r.rect_permille, 750);   /* 3 of 4 closed */
        ck_assert_int_eq(r.close_days_x10, 133);  /* 40 days / 3 */
        ck_assert_int_eq(r.reopen_permille, 333); /* 1 of 3 ever closed */
        ck_assert_int_eq(r.avg_score_x10, -1);    /* no checks: no average, no pass rate */
        ck_assert_int_eq(r.pass_permille, -1);
    }
    /* b: nothing, shown, not ranked; a ranked alone among siblings with findings. */
    ck_assert_uint_eq(g[3].f.findings, 0);
    ck_assert_uint_eq(g[3].rank, 0);
    ck_assert_uint_eq(g[2].rank, 1);
    ck_assert_uint_eq(g[2].siblings, 1);
    ck_assert_uint_eq(g[0].rank, 1); /* the root, among the roots */
    sc_stats_free(s);
    world_free();
}
END_TEST

START_TEST(ranks_and_buckets)
{
    size_t top = org("top", -1);
    size_t x = org("x", (long)top), y = org("y", (long)top), z = org("z", (long)top);
    size_t tx = target("TX", x), ty = target("TY", y), tz = target("TZ", z);
    /* x: 1 of 2 closed (50%); y: 2 of 2 (100%); z: 1 of 2 (50%): y first, x and z tie second. */
    int32_t d0;
    sc_date_from_civil(2026, 3, 31, &d0); /* a Tuesday, the quarter's last day */
    finding(tx, SCPB__GRADE__GRADE_GENERAL, d0, d0 + 7, d0 + 1);
    finding(tx, SCPB__GRADE__GRADE_GENERAL, d0 + 1, d0 + 7, 0);
    finding(ty, SCPB__GRADE__GRADE_GENERAL, d0, d0 + 7, d0 + 2);
    finding(ty, SCPB__GRADE__GRADE_GENERAL, d0, d0 + 7, d0 + 2);
    finding(tz, SCPB__GRADE__GRADE_GENERAL, d0, d0 + 7, d0 + 3);
    finding(tz, SCPB__GRADE__GRADE_GENERAL, d0 + 6, d0 + 7, 0);
    sc_stats *s = fold(SC_STATS_ORG, 0, d0);
    const sc_stats_group *g;
    size_t n;
    sc_err err;
    ck_assert_int_eq(sc_stats_groups(s, &g, &n, &err), SC_OK);
    ck_assert_uint_eq(group(g, n, "y")->rank, 1);
    ck_assert_uint_eq(group(g, n, "x")->rank, 2);
    ck_assert_uint_eq(group(g, n, "z")->rank, 2);
    ck_assert_uint_eq(group(g, n, "z")->siblings, 3);
    /* The table lines its columns up under the CJK header (two cells a character). */
    sc_stats_view v = {SC_STATS_ORG, 0, SC_STATS_TABLE, false, d0};
    char *text;
    size_t len;
    ck_assert_int_eq(sc_stats_render(NULL, g, n, &v, &text, &len), SC_OK);
    ck_assert_uint_eq(sc_text_width("单位"), 4);
    ck_assert_uint_eq(sc_text_width("a单b"), 4);
    /* Every line (header and rows) is as wide as the first. */
    size_t first = 0;
    for (char *line = text, *end; (end = strchr(line, '\n')); line = end + 1) {
        *end = '\0';
        size_t w = sc_text_width(line);
        if (!first)
            first = w;
        ck_assert_msg(w == first, "line \"%s\" is %zu cells, the header %zu", line, w, first);
    }
    sc_free(NULL, text);
    sc_stats_free(s);

    /* By quarter: d0 (Q1) and d0 + 1.. (Q2); by week: Monday buckets. */
    s = fold(SC_STATS_PERIOD, SC_PERIOD_QUARTER, d0);
    ck_assert_int_eq(sc_stats_groups(s, &g, &n, &err), SC_OK);
    ck_assert_uint_eq(n, 2);
    int32_t q1, q2;
    sc_date_from_civil(2026, 1, 1, &q1);
    sc_date_from_civil(2026, 4, 1, &q2);
    ck_assert_int_eq(g[0].day, q1);
    ck_assert_uint_eq(g[0].f.findings, 4);
    ck_assert_int_eq(g[1].day, q2);
    ck_assert_uint_eq(g[1].f.findings, 2);
    sc_stats_free(s);
    ck_assert_int_eq(sc_stats_bucket(SC_PERIOD_WEEK, d0), d0 - 1);     /* Monday 03-30 */
    ck_assert_int_eq(sc_stats_bucket(SC_PERIOD_WEEK, d0 + 5), d0 + 6 - 7); /* Sunday 04-05 */
    ck_assert_int_eq(sc_stats_bucket(SC_PERIOD_MONTH, d0 + 1), q2);
    world_free();
}
END_TEST

static Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    const sct_case cases[] = {{"edges", edges}, {"ranks_and_buckets", ranks_and_buckets}};
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(stats_suite());
}
