/*
 * test_threads.c: an app's threads on one replica.  One thread records and
 * syncs through the writer's handle, uploading photos to a real syncd in
 * small chunks, while reader threads, each with its own read-only handle
 * (SC_OPEN_READONLY), ask for the status, the lists, one entity, the
 * outbox and the review queue, over and over.  Every read answers, and
 * answers one committed state: within a reader, counts of what only grows
 * (ops, proven ops, findings) never go back.  A sync is interrupted from a
 * reader thread, too (sc_client_interrupt is the one call safe across
 * threads), and the next sync completes.
 *
 * ctest runs it twice: as reliab/threads in the sanitizer build, and as
 * reliab/threads_tsan in a ThreadSanitizer build of libspotcheck and this
 * test alone (tests/reliab/tsan.sh), which fails on any data race.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "workload.h"

#define READERS 3

static sct_live L;

typedef struct reader {
    const char *db;
    const char *finding; /* an entity every read shows */
    atomic_int *stop;
    unsigned reads; /* queries answered */
    unsigned failures;
    char first[512];                 /* the first failure, for the message */
    long long ops, proven, findings; /* the last counts seen */
} reader;

static void reader_fail(reader *r, const char *what, sc_client *c, sc_status s)
{
    r->failures++;
    if (!r->first[0])
        snprintf(r->first, sizeof r->first, "%s: %s: %s", what, sc_status_name(s),
                 c ? sc_client_errmsg(c) : "no handle");
}

/* A count that only grows must not go back between two reads. */
static void grows(reader *r, const char *what, long long *last, long long now)
{
    if (now < *last) {
        r->failures++;
        if (!r->first[0])
            snprintf(r->first, sizeof r->first, "%s went back from %lld to %lld", what, *last, now);
    }
    *last = now;
}

static json_t *ask(reader *r, sc_client *c, const char *what, sc_status s, char *json)
{
    if (s != SC_OK) {
        reader_fail(r, what, c, s);
        return NULL;
    }
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(c, json);
    if (!o)
        reader_fail(r, what, c, SC_ERR_MALFORMED);
    else
        r->reads++;
    return o;
}

static void read_once(reader *r, sc_client *c)
{
    char *json = NULL;
    json_t *o = ask(r, c, "status", sc_client_status(c, &json), json);
    if (o) {
        grows(r, "ops", &r->ops, (long long)json_integer_value(json_object_get(o, "ops")));
        grows(r, "proven", &r->proven, (long long)json_integer_value(json_object_get(o, "proven")));
    }
    json_decref(o);
    json = NULL;
    o = ask(r, c, "list", sc_list(c, "findings", NULL, &json), json);
    if (o)
        grows(r, "findings", &r->findings, (long long)json_array_size(json_object_get(o, "items")));
    json_decref(o);
    json = NULL;
    o = ask(r, c, "show", sc_show(c, r->finding, &json), json);
    if (o && !json_is_array(json_object_get(o, "history")))
        reader_fail(r, "show without history", c, SC_ERR_MALFORMED);
    json_decref(o);
    json = NULL;
    json_decref(ask(r, c, "outbox", sc_outbox(c, 20, &json), json));
    json = NULL;
    json_decref(ask(r, c, "review", sc_review(c, &json), json));
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    sc_client *c = NULL;
    char err[512];
    sc_status s = sc_client_open_v2(r->db, NULL, SC_OPEN_READONLY, &c, err, sizeof err);
    if (s != SC_OK) {
        r->failures++;
        snprintf(r->first, sizeof r->first, "read-only open: %.400s", err);
        return NULL;
    }
    while (!atomic_load(r->stop))
        read_once(r, c);
    read_once(r, c); /* and once more after the writer's last commit */
    sc_client_close(c);
    return NULL;
}

/* The writer: records (photos among it) and syncs; one sync is interrupted from another thread. */
typedef struct writer {
    wl_client w;
    atomic_int stop;        /* the readers stop when it is set */
    atomic_int uploading;   /* the interrupted sync is inside a photo upload */
    atomic_int interrupted; /* and sc_client_interrupt was called */
    sc_status cancelled;    /* what that sync returned */
    unsigned syncs;
} writer;

/* sc_sync_v2's callback: at the first upload event, wait for the interrupt from the main thread. */
static int hold_for_interrupt(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    (void)done;
    (void)total;
    writer *wr = ctx;
    if (strcmp(phase, "upload") == 0 && !atomic_exchange(&wr->uploading, 1))
        for (int i = 0; i < 10000 && !atomic_load(&wr->interrupted); i++)
            sct_sleep_ms(1);
    return 0;
}

/* A photo of size bytes on the writer's open inspection. */
static void writer_photo(writer *wr, size_t size)
{
    wl_client *w = &wr->w;
    if (w->n_checks == 0)
        wl_action(w); /* with no draft, an action opens one */
    ck_assert_uint_gt(w->n_checks, 0);
    char path[700];
    snprintf(path, sizeof path, "%s/big.jpg", w->photo_dir);
    uint8_t *b = malloc(size);
    ck_assert_ptr_nonnull(b);
    uint64_t x = 0x5eed;
    for (size_t i = 0; i < size; i++)
        b[i] = (uint8_t)(sct_splitmix(&x) >> 7);
    memcpy(b, "\xff\xd8\xff\xe0", 4);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, size, f), size);
    fclose(f);
    free(b);
    sc_status s = sc_photo_add(w->c, w->checks[0], path, "大图", NULL);
    ck_assert_msg(s == SC_OK, "photo: %s", sc_client_errmsg(w->c));
}

static void *writer_main(void *arg)
{
    writer *wr = arg;
    wl_client *w = &wr->w;
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < 3; i++)
            wl_action(w);
        if (round == 2) {
            writer_photo(wr, 512 * 1024);
            wr->cancelled = sc_sync_v2(w->c, hold_for_interrupt, wr, NULL);
        } else if (wl_sync(w) == SC_OK) {
            wr->syncs++;
        }
    }
    if (wl_sync(w) == SC_OK) /* the last one brings what the interrupted one left */
        wr->syncs++;
    atomic_store(&wr->stop, 1);
    return NULL;
}

static void setup(void)
{
    sct_live_open(&L, true);
}

static void teardown(void)
{
    sct_live_close(&L, false);
}

START_TEST(readers_read_while_the_writer_syncs_photos)
{
    static writer wr; /* big: keep it off the thread's stack */
    memset(&wr, 0, sizeof wr);
    sc_client_options opt = {
        .timeout_ms = 20000, .retries = 2, .backoff_ms = 20, .chunk_bytes = 32 * 1024};
    wl_open(&wr.w, 1, L.tmp, 18, &opt);
    wr.w.photo_min = 64 * 1024;
    wr.w.photo_max = 256 * 1024;
    wl_enroll(&wr.w, L.srv.url, L.data, "inspector1");
    while (wr.w.n_findings == 0)
        wl_action(&wr.w);
    ck_assert_int_eq(wl_sync(&wr.w), SC_OK);

    reader rd[READERS];
    pthread_t rt[READERS], wt;
    for (int i = 0; i < READERS; i++) {
        rd[i] = (reader){.db = wr.w.db, .finding = wr.w.findings[0], .stop = &wr.stop};
        ck_assert_int_eq(pthread_create(&rt[i], NULL, reader_main, &rd[i]), 0);
    }
    ck_assert_int_eq(pthread_create(&wt, NULL, writer_main, &wr), 0);
    /* The interrupt comes from this thread while the writer's sync is in its upload. */
    for (int i = 0; i < 60000 && !atomic_load(&wr.uploading) && !atomic_load(&wr.stop); i++)
        sct_sleep_ms(1);
    sc_client_interrupt(wr.w.c);
    atomic_store(&wr.interrupted, 1);
    ck_assert_int_eq(pthread_join(wt, NULL), 0);
    for (int i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_join(rt[i], NULL), 0);

    ck_assert_msg(wr.w.errors == 0, "the writer failed: %s", wr.w.first_error);
    ck_assert_int_eq(wr.cancelled, SC_ERR_CANCELLED);
    ck_assert_uint_eq(wr.syncs, 6);
    unsigned reads = 0;
    for (int i = 0; i < READERS; i++) {
        ck_assert_msg(rd[i].failures == 0, "reader %d: %u failures; first: %s", i, rd[i].failures,
                      rd[i].first);
        ck_assert_uint_ge(rd[i].reads, 5);
        reads += rd[i].reads;
    }
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(wr.w.c, &json), SC_OK);
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(wr.w.c, json);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "outbox")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_pending_upload")), 0);
    fprintf(stderr, "%d readers answered %u queries beside %u syncs of %u photos\n", READERS, reads,
            wr.syncs, wr.w.photos + 1);
    json_decref(o);
    wl_close(&wr.w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("threads");
    const sct_case cases[] = {
        {"readers_read_while_the_writer_syncs_photos", readers_read_while_the_writer_syncs_photos},
    };
    const sct_tcase_opts o = {.setup = setup, .teardown = teardown, .timeout_s = 300};
    sct_suite_add(s, cases, SCT_COUNT(cases), &o);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
