/*
 * test_crash.c: crash consistency.
 *
 * syncd_kill9: eight devices (libspotcheck, one thread each) record
 * inspections, notes, findings and photos and sync, while syncd is killed
 * with SIGKILL at random moments and restarted on the same port.  After
 * every restart, with the devices held still: every op a device holds as
 * acknowledged is in the log at the index it was told, no op is logged
 * twice, every photo a device holds as uploaded is stored whole, and
 * `syncd audit` passes (every signature, the Merkle log against the signed
 * checkpoints, and replaying the log reproduces the stored states), but
 * for photos named by pushed ops that a device still holds to upload.  At the
 * end the devices finish syncing: nothing lost, nothing twice, and every
 * replica equals the register (wl_check_final).
 *
 * client_kill9: the CLI syncing a replica with a backlog of ops and
 * photos is killed with SIGKILL at random points (through a slow proxy, so
 * kills land in the push, in photo uploads and in the pull).  After each
 * kill the replica opens, verifies, still holds every op it recorded (each
 * either pending or acknowledged and then logged), and the next sync goes
 * on from there; in the end everything is logged once and stored.
 *
 * 50 syncd kills and 20 client kills in CI; SC_SOAK=1 runs 1,000 and 200
 * (docs/operations.md, "Reliability tests").
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "faultproxy.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "sctest_server.h"
#include "workload.h"

#define DEVICES 8

static sct_live L; /* the register and its syncd, made anew for each test */

static uint64_t rng;

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, SC_HASH_LEN);
}

static uint64_t draw(uint64_t n)
{
    rng = rng * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return n ? (rng >> 33) % n : 0;
}

/* Restart syncd on the port the devices know. */
static void restart(uint16_t port)
{
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)port);
    const char *extra[] = {"--listen", listen, NULL};
    sct_server_start(&L.srv, L.data, extra);
    ck_assert_uint_eq(L.srv.port, port);
}

/* Photos a device holds but has not had acknowledged: still to upload. */
typedef struct pending_set {
    uint8_t (*v)[SC_HASH_LEN];
    size_t n;
} pending_set;

static void pending_add(pending_set *p, const sct_replica_view *rep)
{
    for (size_t i = 0; i < rep->n_photos; i++) {
        bool done = false;
        for (size_t j = 0; j < rep->n_done && !done; j++)
            done = memcmp(rep->photos[i], rep->done[j], SC_HASH_LEN) == 0;
        if (done)
            continue;
        p->v = realloc(p->v, (p->n + 1) * sizeof *p->v);
        ck_assert_ptr_nonnull(p->v);
        memcpy(p->v[p->n++], rep->photos[i], SC_HASH_LEN);
    }
}

/*
 * `syncd audit` after a crash: it passes, or (exit 3) its only problem is
 * photos an op names that are not stored yet, each of them one a device
 * still holds to upload: a sync pushes its ops before it uploads their
 * photos, and the devices were stopped anywhere in between.
 */
static void audit_after_crash(unsigned cycle, const pending_set *pending)
{
    char out[65536];
    int st = sct_audit(L.data, out, sizeof out);
    if (st == 0)
        return;
    ck_assert_msg(st == 3, "cycle %u: syncd audit exited %d: %s", cycle, st, out);
    static const char tag[] = "  photo not stored: ";
    size_t listed = 0;
    for (const char *l = strstr(out, tag); l; l = strstr(l + 1, tag)) {
        uint8_t sha[SC_HASH_LEN];
        ck_assert_int_eq(sc_hex_decode(l + strlen(tag), 2 * SC_HASH_LEN, sha, SC_HASH_LEN), SC_OK);
        bool held = false;
        for (size_t i = 0; i < pending->n && !held; i++)
            held = memcmp(pending->v[i], sha, SC_HASH_LEN) == 0;
        ck_assert_msg(held, "cycle %u: photo %.64s is not stored and no device holds it to upload",
                      cycle, l + strlen(tag));
        listed++;
    }
    ck_assert_msg(listed > 0, "cycle %u: audit exited 3 listing no photo: %s", cycle, out);
}

/* Held still: every acknowledged op and photo is in the register, nothing twice, audit passes. */
static void check_after_crash(wl_client *cl, size_t n, unsigned cycle, size_t *acked)
{
    sct_reg_view reg;
    sct_reg_read(L.data, &reg);
    ck_assert_msg(reg.duplicates == 0, "cycle %u: %zu ops logged twice", cycle, reg.duplicates);
    ck_assert_msg(reg.contiguous, "cycle %u: log indexes have a gap", cycle);
    char why[256];
    *acked = 0;
    pending_set pending = {NULL, 0};
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(cl[i].errors == 0, "cycle %u: %s", cycle, cl[i].first_error);
        sct_replica_view rep;
        sct_replica_read(cl[i].db, &rep);
        ck_assert_msg(sct_check_acks(&reg, L.data, &rep, why, sizeof why) == 0,
                      "cycle %u, device %zu: %s", cycle, i, why);
        ck_assert_msg(rep.rejected == 0, "cycle %u, device %zu: %zu ops rejected", cycle, i,
                      rep.rejected);
        *acked += rep.n_acked;
        pending_add(&pending, &rep);
        sct_replica_dispose(&rep);
    }
    ck_assert_uint_eq(sct_blobs_bad(L.data, NULL), 0);
    sct_reg_dispose(&reg);
    audit_after_crash(cycle, &pending);
    free(pending.v);
}

START_TEST(syncd_kill9)
{
    unsigned cycles = sct_scale(50, 1000);
    rng = sct_seed("reliab/crash syncd_kill9");
    uint16_t port = L.srv.port;
    wl_client cl[DEVICES];
    for (int i = 0; i < DEVICES; i++) {
        wl_open(&cl[i], i, L.tmp, rng, NULL);
        wl_enroll(&cl[i], L.srv.url, L.data, i < 6 ? "inspector1" : "supervisor1");
    }
    sct_reg_view base;
    sct_reg_read(L.data, &base);
    uint64_t base_log = base.log_size;
    sct_reg_dispose(&base);

    wl_crew crew;
    wl_crew_start(&crew, cl, DEVICES, 2, 0);
    size_t acked = 0;
    for (unsigned cycle = 0; cycle < cycles; cycle++) {
        /* Devices record and sync; syncd dies at a random moment of it. */
        sct_sleep_ms(40 + (unsigned)draw(260));
        sct_server_kill(&L.srv);
        sct_sleep_ms((unsigned)draw(60));
        restart(port);
        wl_crew_park(&crew);
        check_after_crash(cl, DEVICES, cycle, &acked);
        wl_crew_resume(&crew);
    }
    wl_crew_stop(&crew);
    wl_settle(cl, DEVICES, 20);
    size_t total = wl_check_final(L.data, cl, DEVICES, base_log);
    unsigned photos = 0, failed = 0;
    for (int i = 0; i < DEVICES; i++) {
        photos += cl[i].photos;
        failed += cl[i].syncs_failed;
        wl_close(&cl[i]);
    }
    fprintf(stderr,
            "reliab/crash syncd_kill9: %u kill -9 cycles survived; %zu ops and %u photos from %d "
            "devices, all logged once and stored; %u syncs cut by a crash and resumed; "
            "nothing lost\n",
            cycles, total, photos, DEVICES, failed);
}
END_TEST

/* The CLI's `sync` on a replica, started in the background. */
static pid_t cli_sync(const char *db, const char *log)
{
    const char *argv[] = {sct_cli_path(), "--db", db, "--json", "sync", NULL};
    return sct_spawn(argv, log);
}

START_TEST(client_kill9)
{
    unsigned kills_wanted = sct_scale(20, 200);
    rng = sct_seed("reliab/crash client_kill9");
    /* A slow link, so a sync lasts long enough to be killed anywhere in it. */
    sct_proxy_opts slow = {.seed = rng, .rate_bps = 12u * 1024 * 1024, .delay_pct = 20,
                           .delay_max_ms = 20};
    sct_proxy *px = sct_proxy_start(L.srv.port, &slow);
    char url[64], log[700];
    sct_proxy_url(px, url, sizeof url);
    snprintf(log, sizeof log, "%s/cli.log", L.tmp);
    sc_client_options opt = {.timeout_ms = 10000, .retries = 2, .backoff_ms = 20};
    wl_client w;
    wl_open(&w, 0, L.tmp, rng, &opt);
    w.photo_min = 200 * 1024;
    w.photo_max = 900 * 1024;
    wl_enroll(&w, url, L.data, "inspector1");
    sct_reg_view reg;
    sct_reg_read(L.data, &reg);
    uint64_t base_log = reg.log_size;
    sct_reg_dispose(&reg);

    unsigned kills = 0, in_push = 0, in_upload = 0, after = 0, completed = 0;
    char why[256];
    while (kills < kills_wanted) {
        /* Between syncs the inspector goes on recording offline: ops and photos pile up. */
        unsigned actions = 4 + (unsigned)draw(12);
        for (unsigned i = 0; i < actions; i++)
            wl_action(&w);
        ck_assert_msg(w.errors == 0, "%s", w.first_error);
        sct_replica_view rep;
        sct_replica_read(w.db, &rep);
        size_t recorded = rep.local;
        uint8_t(*ids)[SC_HASH_LEN] = malloc(rep.local * SC_HASH_LEN + 1);
        memcpy(ids, rep.local_ids, rep.local * SC_HASH_LEN);
        sct_replica_dispose(&rep);
        wl_close(&w);

        /* A third of the kills early, where the CLI starts and pushes; the rest anywhere. */
        pid_t pid = cli_sync(w.db, log);
        unsigned at = (unsigned)(draw(3) == 0 ? draw(100) : draw(500));
        sct_sleep_ms(at);
        kill(pid, SIGKILL);
        int st = sct_wait_pid(pid, 60000);
        ck_assert_int_ne(st, -1);

        sct_replica_view now;
        sct_replica_read(w.db, &now);
        /* Nothing recorded is lost: every op is still there, pending or acknowledged. */
        ck_assert_uint_eq(now.local, recorded);
        ck_assert_uint_eq(now.pending + now.accepted, recorded);
        qsort(now.local_ids, now.local, SC_HASH_LEN, cmp_id);
        for (size_t i = 0; i < recorded; i++)
            ck_assert(bsearch(ids[i], now.local_ids, now.local, SC_HASH_LEN, cmp_id) != NULL);
        free(ids);
        /* What it holds as acknowledged is logged (once) and stored. */
        sct_reg_read(L.data, &reg);
        ck_assert_uint_eq(reg.duplicates, 0);
        ck_assert_msg(sct_check_acks(&reg, L.data, &now, why, sizeof why) == 0, "%s", why);
        sct_reg_dispose(&reg);
        bool pushing = now.pending > 0, uploading = now.blobs_to_upload > 0;
        sct_replica_dispose(&now);
        /* The replica opens and verifies on its own. */
        wl_reopen(&w);
        char *js = NULL;
        ck_assert_msg(sc_verify_replica(w.c, &js) == SC_OK, "after a kill at %u ms: %s", at,
                      sc_client_errmsg(w.c));
        sc_json_free(w.c, js);
        if (st == 128 + SIGKILL) {
            kills++;
            in_push += pushing;
            in_upload += !pushing && uploading;
            after += !pushing && !uploading;
        } else {
            ck_assert_msg(st == 0, "spotcheck sync exited %d (see %s)", st, log);
            ck_assert(!pushing && !uploading);
            completed++;
        }
    }
    /* Everything that is left goes through. */
    wl_settle(&w, 1, 10);
    size_t total = wl_check_final(L.data, &w, 1, base_log);
    fprintf(stderr,
            "reliab/crash client_kill9: %u kill -9 of the CLI mid-sync (%u in the push, %u in "
            "photo uploads, %u after them; %u syncs ran to the end); %zu ops and %u photos all "
            "logged once and stored; nothing lost\n",
            kills, in_push, in_upload, after, completed, total, w.photos);
    wl_close(&w);
    sct_proxy_stop(px);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("reliab/crash");
    sct_live_use(&L);
    /* Bounded by counts (the kills); the limit only catches a hang, so it leaves room for a
     * loaded machine, where the audits after each restart take twice as long. */
    int timeout = sct_soak() ? 6 * 3600 : 900;
    const sct_case cases[] = {
        {"syncd_kill9", syncd_kill9},
        {"client_kill9", client_kill9},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = sct_live_setup,
                                    .teardown = sct_live_teardown_kill,
                                    .timeout_s = timeout});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
