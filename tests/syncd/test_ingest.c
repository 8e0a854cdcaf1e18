/*
 * test_ingest.c: the group-commit queue (syncd/sync/ingest.c) under load: eight
 * threads submit batches at once, every op is accepted exactly once with a
 * distinct log index, the log and its checkpoint cover them all, each
 * commit is counted in the metrics, and stop drains the queue.  The
 * register runs with the system environment here (the deterministic test
 * clock is not thread-safe).
 */
#include "regfix.h"

#include <pthread.h>

#include "base/metrics.h"
#include "cmd/audit.h"
#include "sync/ingest.h"

#define THREADS 8
#define BATCHES 12
#define PER_BATCH 10

typedef struct worker {
    sd_ingest *q;
    rf_dev *dev;
    sc_op *ops[BATCHES][PER_BATCH];
    sd_result res[BATCHES][PER_BATCH];
    sc_status rc[BATCHES];
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    for (int b = 0; b < BATCHES; b++) {
        sd_batch batch;
        memset(&batch, 0, sizeof batch);
        batch.who = &w->dev->p;
        batch.ops = w->ops[b];
        batch.n = PER_BATCH;
        batch.results = w->res[b];
        batch.received_ms = 0;
        sc_err err;
        w->rc[b] = sd_ingest_submit(w->q, &batch, &err);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The value on the metrics line `name value`; fails the test when there is none. */
static uint64_t metric(const char *name)
{
    sd_metrics_gauges g = {0};
    size_t len = 0;
    char *text = sd_metrics_render(&g, &len);
    ck_assert_ptr_nonnull(text);
    size_t nl = strlen(name);
    const char *p = text;
    while (p && !(strncmp(p, name, nl) == 0 && p[nl] == ' ')) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    ck_assert_msg(p != NULL, "no metric %s", name);
    uint64_t v = strtoull(p + nl + 1, NULL, 10);
    free(text);
    return v;
}

static void load(uint32_t commit_max)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    rf_dev devs[THREADS];
    static worker wk[THREADS];
    for (int t = 0; t < THREADS; t++) {
        char login[16];
        uint8_t u[SC_ID_LEN];
        snprintf(login, sizeof login, "worker%d", t);
        rf_user(f, login, SCPB__ROLE__ROLE_INSPECTOR, w.da, u);
        rf_enroll(f, login, 100 + (uint32_t)t, &devs[t]);
        wk[t].dev = &devs[t];
        for (int b = 0; b < BATCHES; b++) {
            /* A finding and a chain of notes on it, so batches carry in-batch deps. */
            uint8_t fid[SC_ID_LEN];
            wk[t].ops[b][0] = rf_finding(f, &devs[t], fid, w.ta, NULL, "楼道堆物、飞线充电",
                                         SCPB__GRADE__GRADE_GENERAL);
            for (int i = 1; i < PER_BATCH; i++)
                wk[t].ops[b][i] = rf_note(f, &devs[t], fid, SCPB__ENTITY_TYPE__ENTITY_FINDING,
                                          wk[t].ops[b][i - 1]->id, "回头看：易反弹");
        }
    }
    uint64_t start = rf_log_size(f);
    /* serve's view: the system clock, several threads. */
    sd_register_close(f->r);
    f->r = NULL;
    f->cfg.commit_max_ops = commit_max;
    sc_err err;
    ck_assert_int_eq(sd_register_open(&f->cfg, &f->r, &err), SC_OK);
    sd_metrics_reset();
    sd_ingest *q = NULL;
    ck_assert_int_eq(sd_ingest_start(f->r, &f->cfg, &q, &err), SC_OK);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        wk[t].q = q;
        ck_assert_int_eq(pthread_create(&th[t], NULL, run, &wk[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    sd_ingest_stop(q);

    enum { TOTAL = THREADS * BATCHES * PER_BATCH };
    static uint64_t idx[TOTAL];
    size_t k = 0;
    for (int t = 0; t < THREADS; t++)
        for (int b = 0; b < BATCHES; b++) {
            ck_assert_int_eq(wk[t].rc[b], SC_OK);
            for (int i = 0; i < PER_BATCH; i++) {
                rf_accepted(wk[t].res[b][i]);
                if (i)
                    ck_assert_uint_eq(wk[t].res[b][i].log_index, wk[t].res[b][i - 1].log_index + 1);
                idx[k++] = wk[t].res[b][i].log_index;
                sc_op_free(&f->te.env, wk[t].ops[b][i]);
            }
        }
    /* Every op went through exactly one counted commit; a budget below a
     * batch makes one commit per batch, a large one groups batches. */
    uint64_t commits = metric("syncd_ingest_commits_total");
    ck_assert_uint_eq(metric("syncd_commit_ops_sum"), TOTAL);
    ck_assert_uint_eq(metric("syncd_commit_ops_count"), commits);
    if (commit_max < PER_BATCH)
        ck_assert_uint_eq(commits, THREADS * BATCHES);
    else
        ck_assert(commits >= 1 && commits <= THREADS * BATCHES);
    qsort(idx, TOTAL, sizeof idx[0], cmp_u64);
    for (size_t i = 0; i < TOTAL; i++)
        ck_assert_uint_eq(idx[i], start + i);
    sd_register_stats st;
    ck_assert_int_eq(sd_register_stats_get(f->r, &st, &err), SC_OK);
    ck_assert_uint_eq(st.log_size, start + TOTAL);
    Scpb__Checkpoint *cp = NULL;
    ck_assert_int_eq(sd_register_checkpoint(f->r, &cp, &err), SC_OK);
    ck_assert_uint_eq(cp->size, start + TOTAL);
    sd_msg_free(cp);
    sd_audit_report rep;
    ck_assert_msg(sd_audit_run(f->data, NULL, &rep, &err) == SC_OK, "%s %s", rep.problem, err.msg);
    for (int t = 0; t < THREADS; t++)
        rf_dev_free(&devs[t]);
    world_close(&w);
}

START_TEST(eight_threads_group_commit)
{
    load(8192);
}
END_TEST

START_TEST(eight_threads_small_commits)
{
    /* A commit budget smaller than a batch still takes one whole batch at a time. */
    load(5);
}
END_TEST

START_TEST(stop_with_nothing_queued)
{
    world w;
    world_open(&w);
    sd_ingest *q = NULL;
    sc_err err;
    ck_assert_int_eq(sd_ingest_start(w.f.r, &w.f.cfg, &q, &err), SC_OK);
    sd_ingest_stop(q);
    sd_ingest_stop(NULL);
    world_close(&w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/ingest");
    const sct_case cases[] = {
        {"eight threads", eight_threads_group_commit},
        {"small commits", eight_threads_small_commits},
        {"stop", stop_with_nothing_queued},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), &(sct_tcase_opts){.timeout_s = 300});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
