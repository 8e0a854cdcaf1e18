/*
 * workload.c: recording devices and their crew (see workload.h).
 */
#include "workload.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sctest_fixture.h"
#include "sctest_reliab.h"

enum { RUN = 0, PARK = 1, STOP = 2 };

static uint64_t rnd(wl_client *w)
{
    return sct_splitmix(&w->rng);
}

static uint64_t below(wl_client *w, uint64_t n)
{
    return n ? rnd(w) % n : 0;
}

static void note_error(wl_client *w, const char *what, sc_status s)
{
    if (w->errors++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "device %d: %s: %s (%s)", w->n, what,
                 w->c ? sc_client_errmsg(w->c) : "", sc_status_name(s));
}

void wl_open(wl_client *w, int n, const char *dir, uint64_t seed, const sc_client_options *opt)
{
    memset(w, 0, sizeof *w);
    w->n = n;
    w->rng = seed * 7919u + (uint64_t)n;
    snprintf(w->db, sizeof w->db, "%s/dev%d.db", dir, n);
    snprintf(w->photo_dir, sizeof w->photo_dir, "%s/photos%d", dir, n);
    mkdir(w->photo_dir, 0700);
    w->photo_min = 2 * 1024;
    w->photo_max = 160 * 1024;
    if (opt) {
        w->opt = *opt;
    } else {
        w->opt.timeout_ms = 10000;
        w->opt.retries = 2;
        w->opt.backoff_ms = 20;
        w->opt.chunk_bytes = 32 * 1024;
    }
    wl_reopen(w);
}

void wl_reopen(wl_client *w)
{
    char err[256] = "";
    sc_status s = sc_client_open(w->db, &w->opt, &w->c, err, sizeof err);
    ck_assert_msg(s == SC_OK, "open %s: %s", w->db, err);
}

void wl_close(wl_client *w)
{
    sc_client_close(w->c);
    w->c = NULL;
}

void wl_enroll(wl_client *w, const char *url, const char *data_dir, const char *login)
{
    char code[64], label[32];
    sct_fixture_code(data_dir, login, code, sizeof code);
    snprintf(label, sizeof label, "tablet %d", w->n);
    sc_status s = sc_enroll(w->c, url, code, label, NULL, 0, NULL);
    ck_assert_msg(s == SC_OK, "enroll device %d as %s: %s", w->n, login, sc_client_errmsg(w->c));
    /* Targets and users first: recording refers to them. */
    s = sc_sync(w->c, NULL, NULL, NULL);
    ck_assert_msg(s == SC_OK, "first sync of device %d: %s", w->n, sc_client_errmsg(w->c));
}

/* A new photo file: JPEG magic, then random bytes (so every photo is a new blob). */
static void make_photo(wl_client *w, char *path, size_t cap)
{
    snprintf(path, cap, "%s/p%u.jpg", w->photo_dir, w->photos++);
    uint32_t size = w->photo_min + (uint32_t)below(w, w->photo_max - w->photo_min + 1);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    static const uint8_t magic[] = {0xff, 0xd8, 0xff, 0xe0};
    fwrite(magic, 1, sizeof magic, f);
    uint8_t buf[4096];
    for (uint32_t done = sizeof magic; done < size;) {
        for (size_t i = 0; i < sizeof buf; i += 8) {
            uint64_t r = rnd(w);
            memcpy(buf + i, &r, 8);
        }
        size_t n = size - done < sizeof buf ? size - done : sizeof buf;
        fwrite(buf, 1, n, f);
        done += (uint32_t)n;
    }
    ck_assert_int_eq(fclose(f), 0);
}

static void open_check(wl_client *w)
{
    if (w->n_checks == WL_CHECKS_MAX)
        return;
    sc_check_params p = {.target = "T-JAHY", .kind = "spot", .disclosure = "open",
                         .relation = "superior"};
    sc_status s = sc_check_open(w->c, &p, w->checks[w->n_checks]);
    if (s == SC_OK)
        w->n_checks++;
    else
        note_error(w, "check open", s);
}

void wl_action(wl_client *w)
{
    w->actions++;
    if (w->n_checks == 0) {
        open_check(w);
        return;
    }
    const char *check = w->checks[below(w, w->n_checks)];
    char text[96], path[700];
    snprintf(text, sizeof text, "设备%d 第%u次记录: 门岗未测温", w->n, w->actions);
    uint64_t roll = below(w, 100);
    sc_status s = SC_OK;
    const char *what = "";
    if (roll < 20) {
        open_check(w);
        return;
    } else if (roll < 45) {
        what = "note on a check";
        s = sc_note_add(w->c, check, text);
    } else if (roll < 60 && w->n_findings > 0) {
        what = "note on a finding";
        s = sc_note_add(w->c, w->findings[below(w, w->n_findings)], text);
    } else if (roll < 75 && w->n_findings < WL_FINDINGS_MAX) {
        make_photo(w, path, sizeof path);
        const char *photos[1] = {path};
        sc_finding_params fp = {.check = check, .description = text, .grade = "general",
                                .deadline = "2026-12-31", .photos = photos, .n_photos = 1};
        what = "finding with a photo";
        s = sc_finding_add(w->c, &fp, w->findings[w->n_findings]);
        if (s == SC_OK)
            w->n_findings++;
    } else if (roll < 90) {
        make_photo(w, path, sizeof path);
        what = "photo";
        s = sc_photo_add(w->c, check, path, "现场照片", NULL);
    } else {
        /* Submit: the draft is signed as a whole and leaves the list of drafts. */
        what = "submit";
        size_t i = (size_t)(check - w->checks[0]) / SC_ID_HEX_LEN;
        s = sc_check_submit(w->c, check, "检查完毕");
        if (s == SC_OK) {
            w->submits++;
            memmove(w->checks[i], w->checks[i + 1], (w->n_checks - i - 1) * SC_ID_HEX_LEN);
            w->n_checks--;
        }
    }
    if (s != SC_OK)
        note_error(w, what, s);
}

sc_status wl_sync(wl_client *w)
{
    sc_status s = sc_sync(w->c, NULL, NULL, NULL);
    switch (s) {
    case SC_OK:
        w->syncs_ok++;
        break;
    case SC_ERR_NETWORK:
    case SC_ERR_UNAVAILABLE:
    case SC_ERR_PROTOCOL: /* a response cut mid-way by a dying server or a bad network */
        w->syncs_failed++;
        break;
    default:
        note_error(w, "sync", s);
        break;
    }
    return s;
}

/* ---- the crew ---- */

typedef struct seat {
    wl_crew *k;
    wl_client *w;
} seat;

static seat seats[32];

static void *crew_main(void *arg)
{
    seat *st = arg;
    wl_crew *k = st->k;
    wl_client *w = st->w;
    unsigned since_sync = 0;
    for (;;) {
        int ph = atomic_load(&k->phase);
        if (ph == STOP)
            break;
        if (ph == PARK) {
            atomic_fetch_add(&k->parked, 1);
            while (atomic_load(&k->phase) == PARK)
                sct_sleep_ms(2);
            atomic_fetch_sub(&k->parked, 1);
            continue;
        }
        if (k->max_actions && w->actions >= k->max_actions) {
            sct_sleep_ms(5);
            continue;
        }
        wl_action(w);
        if (++since_sync >= k->sync_every) {
            since_sync = 0;
            wl_sync(w);
        }
    }
    return NULL;
}

void wl_crew_start(wl_crew *k, wl_client *cl, size_t n, unsigned sync_every, unsigned max_actions)
{
    ck_assert_uint_le(n, 32);
    k->cl = cl;
    k->n = n;
    k->sync_every = sync_every ? sync_every : 1;
    k->max_actions = max_actions;
    atomic_store(&k->phase, RUN);
    atomic_store(&k->parked, 0);
    for (size_t i = 0; i < n; i++) {
        seats[i] = (seat){k, &cl[i]};
        ck_assert_int_eq(pthread_create(&k->th[i], NULL, crew_main, &seats[i]), 0);
    }
}

void wl_crew_park(wl_crew *k)
{
    atomic_store(&k->phase, PARK);
    while ((size_t)atomic_load(&k->parked) < k->n)
        sct_sleep_ms(2);
}

void wl_crew_resume(wl_crew *k)
{
    atomic_store(&k->phase, RUN);
    while (atomic_load(&k->parked) > 0)
        sct_sleep_ms(1);
}

void wl_crew_stop(wl_crew *k)
{
    atomic_store(&k->phase, STOP);
    for (size_t i = 0; i < k->n; i++)
        pthread_join(k->th[i], NULL);
}

/* outbox and photos still to upload, from sc_client_status. */
static void backlog(wl_client *w, long long *outbox, long long *photos)
{
    char *js = NULL;
    ck_assert_int_eq(sc_client_status(w->c, &js), SC_OK);
    json_error_t je;
    json_t *o = json_loads(js, 0, &je);
    ck_assert_ptr_nonnull(o);
    *outbox = json_integer_value(json_object_get(o, "outbox"));
    *photos = json_integer_value(json_object_get(o, "photos_pending_upload"));
    json_decref(o);
    sc_json_free(w->c, js);
}

void wl_settle(wl_client *cl, size_t n, unsigned rounds)
{
    bool done = false;
    char why[600] = "";
    for (unsigned r = 0; r < rounds && !done; r++) {
        done = true;
        for (size_t i = 0; i < n; i++) {
            sc_status s = wl_sync(&cl[i]);
            char msg[300];
            snprintf(msg, sizeof msg, "%s", s == SC_OK ? "" : sc_client_errmsg(cl[i].c));
            long long ob = 0, ph = 0;
            backlog(&cl[i], &ob, &ph);
            if (s != SC_OK || ob != 0 || ph != 0) {
                done = false;
                snprintf(why, sizeof why, "device %zu: %s (%s), outbox %lld, photos %lld", i,
                         sc_status_name(s), msg, ob, ph);
            }
        }
    }
    ck_assert_msg(done, "clients did not finish syncing in %u rounds: %s", rounds, why);
    /* Everyone pulls everyone's last ops. */
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(wl_sync(&cl[i]) == SC_OK, "last pull of device %zu: %s", i,
                      sc_client_errmsg(cl[i].c));
}

size_t wl_check_final(const char *data_dir, wl_client *cl, size_t n, uint64_t base_log)
{
    sct_reg_view reg;
    sct_reg_read(data_dir, &reg);
    ck_assert_msg(reg.duplicates == 0, "%zu ops logged twice", reg.duplicates);
    ck_assert(reg.contiguous);
    size_t total = 0;
    char why[256];
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(cl[i].errors == 0, "%s", cl[i].first_error);
        sct_replica_view rep;
        sct_replica_read(cl[i].db, &rep);
        ck_assert_msg(rep.pending == 0 && rep.rejected == 0,
                      "device %zu: %zu ops pending, %zu rejected", i, rep.pending, rep.rejected);
        ck_assert_uint_eq(rep.n_acked, rep.local);
        ck_assert_msg(sct_check_acks(&reg, data_dir, &rep, why, sizeof why) == 0, "device %zu: %s",
                      i, why);
        for (size_t j = 0; j < rep.n_photos; j++)
            ck_assert_msg(sct_blob_stored(data_dir, rep.photos[j]), "device %zu: photo %s lost",
                          i, sct_hex8(rep.photos[j]));
        ck_assert_uint_eq(rep.blobs_to_upload, 0);
        ck_assert_msg(memcmp(rep.replica_hash, reg.replica_hash, SC_HASH_LEN) == 0,
                      "device %zu holds %zu entities, the register %zu: states differ", i,
                      rep.n_ent, reg.n_ent);
        total += rep.local;
        sct_replica_dispose(&rep);
        char *js = NULL;
        sc_status s = sc_verify_replica(cl[i].c, &js);
        ck_assert_msg(s == SC_OK, "device %zu: replica does not verify: %s", i,
                      sc_client_errmsg(cl[i].c));
        sc_json_free(cl[i].c, js);
    }
    ck_assert_msg(reg.log_size == base_log + total,
                  "log holds %llu ops; expected %llu before the clients and %zu from them",
                  (unsigned long long)reg.log_size, (unsigned long long)base_log, total);
    size_t stored = 0;
    ck_assert_uint_eq(sct_blobs_bad(data_dir, &stored), 0);
    sct_reg_dispose(&reg);
    char out[8192];
    int st = sct_audit(data_dir, out, sizeof out);
    ck_assert_msg(st == 0, "syncd audit exited %d: %s", st, out);
    return total;
}
