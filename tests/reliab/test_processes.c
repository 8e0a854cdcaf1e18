/*
 * test_processes.c: several processes on one replica at once, as on a
 * tablet where the app reads in one process while its sync service writes
 * in another, against a real syncd on loopback:
 *   - four `spotcheck show` processes at once, forty times over (once, 2 of
 *     these 160 failed with "create schema ...: database is locked": the
 *     open ran a deferred transaction that read, then wrote, and SQLite
 *     answers such a late writer BUSY without waiting);
 *   - readers (`show`, `status`, `list`) while this process records and
 *     syncs photos through libspotcheck, the one writer.
 * None may fail for another's locks, and what the readers print must be
 * whole: every answer parses and names the entity asked for.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "workload.h"

static sct_live L;

/* One CLI process on the replica, its stdout and stderr into out. */
typedef struct proc {
    pid_t pid;
    char out[700];
} proc;

static void proc_start(proc *p, int n, const char *db, const char *a, const char *b, const char *c)
{
    snprintf(p->out, sizeof p->out, "%s/proc%d.out", L.tmp, n);
    remove(p->out);
    const char *argv[] = {sct_cli_path(), "--db", db, "--json", a, b, c, NULL};
    p->pid = sct_spawn(argv, p->out);
}

/* Wait for it; its output into text (cap bytes).  Returns the exit status. */
static int proc_end(proc *p, char *text, size_t cap)
{
    int st = sct_wait_pid(p->pid, 120000);
    text[0] = '\0';
    FILE *f = fopen(p->out, "rb");
    if (f) {
        size_t got = fread(text, 1, cap - 1, f);
        text[got] = '\0';
        fclose(f);
    }
    return st;
}

/* Failures among the processes of a test: how many, and the first one's words. */
typedef struct tally {
    unsigned runs, failed, locked;
    char first[1024];
} tally;

/* Wait for p and count it; a run that succeeded must have printed a JSON object with `key`. */
static void proc_count(proc *p, const char *key, tally *t)
{
    char text[65536];
    int st = proc_end(p, text, sizeof text);
    t->runs++;
    json_error_t e;
    json_t *o = st == 0 ? json_loads(text, 0, &e) : NULL;
    if (st == 0 && o && json_object_get(o, key)) {
        json_decref(o);
        return;
    }
    json_decref(o);
    t->failed++;
    if (strstr(text, "locked") || strstr(text, "busy"))
        t->locked++;
    if (!t->first[0])
        snprintf(t->first, sizeof t->first, "exit %d: %.900s", st, text);
}

/* An enrolled replica with inspections, findings and photos, synced; its handle closed. */
static void replica_make(wl_client *w)
{
    wl_open(w, 1, L.tmp, 18, NULL);
    wl_enroll(w, L.srv.url, L.data, "inspector1");
    for (int i = 0; i < 10 || w->n_findings == 0; i++)
        wl_action(w);
    ck_assert_int_eq(wl_sync(w), SC_OK);
    ck_assert_uint_eq(w->errors, 0);
    ck_assert_uint_gt(w->n_checks + w->n_findings, 0);
}

static void setup(void)
{
    sct_live_open(&L, true);
}

static void teardown(void)
{
    sct_live_close(&L, false);
}

START_TEST(concurrent_shows_never_fail_for_a_lock)
{
    wl_client w;
    replica_make(&w);
    const char *id = w.n_checks ? w.checks[0] : w.findings[0];
    wl_close(&w);
    tally t = {0};
    for (int round = 0; round < 40; round++) {
        proc p[4];
        for (int i = 0; i < 4; i++)
            proc_start(&p[i], i, w.db, "show", id, NULL);
        for (int i = 0; i < 4; i++)
            proc_count(&p[i], "history", &t);
    }
    fprintf(stderr, "concurrent shows: %u runs, %u failed (%u for a lock)\n", t.runs, t.failed,
            t.locked);
    ck_assert_msg(t.failed == 0, "%u of %u concurrent `spotcheck show` failed (%u for a lock); %s",
                  t.failed, t.runs, t.locked, t.first);
}
END_TEST

START_TEST(readers_while_the_writer_records_and_syncs)
{
    wl_client w;
    replica_make(&w);
    char finding[SC_ID_HEX_LEN];
    memcpy(finding, w.findings[0], sizeof finding);
    tally t = {0};
    unsigned synced = 0;
    for (int round = 0; round < 15; round++) {
        proc p[3];
        proc_start(&p[0], 0, w.db, "show", finding, NULL);
        proc_start(&p[1], 1, w.db, "status", NULL, NULL);
        proc_start(&p[2], 2, w.db, "list", "findings", NULL);
        /* The writer: a few ops, photos among them, then a sync that uploads them. */
        for (int i = 0; i < 3; i++)
            wl_action(&w);
        if (wl_sync(&w) == SC_OK)
            synced++;
        proc_count(&p[0], "history", &t);
        proc_count(&p[1], "outbox", &t);
        proc_count(&p[2], "items", &t);
    }
    ck_assert_msg(w.errors == 0, "the writer failed: %s", w.first_error);
    ck_assert_uint_eq(synced, 15);
    wl_close(&w);
    fprintf(stderr, "readers beside the writer: %u runs, %u failed\n", t.runs, t.failed);
    ck_assert_msg(t.failed == 0, "%u of %u readers failed beside the writer (%u for a lock); %s",
                  t.failed, t.runs, t.locked, t.first);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("processes");
    const sct_case cases[] = {
        {"concurrent_shows_never_fail_for_a_lock", concurrent_shows_never_fail_for_a_lock},
        {"readers_while_the_writer_records_and_syncs", readers_while_the_writer_records_and_syncs},
    };
    const sct_tcase_opts o = {.setup = setup, .teardown = teardown, .timeout_s = 300};
    sct_suite_add(s, cases, SCT_COUNT(cases), &o);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
