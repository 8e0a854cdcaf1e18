/*
 * test_convergence.c: (g) twenty devices doing random offline work against a
 * real syncd end with the same state everywhere.
 *
 * A register made by `syncd init` and `syncd admin` (tests/support's
 * fixture plus the 100-point score sheet and more users), a real `syncd
 * serve` on 127.0.0.1, and twenty sc_client handles driven through the
 * public API only (spotcheck.h): thirteen inspectors' tablets (one inspector
 * has two), six supervisors' and an auditor's.  They all see the same
 * things (the target is in every recorder's scope, there are no
 * assignments, and an auditor sees everything), so once everyone has pushed
 * and pulled, every replica and the register must hold the same ops and so
 * have the same replica hash.
 *
 * Each round, every device records random work offline: inspections opened,
 * scored, submitted and amended; findings raised (from an inspection or a
 * complaint), edited, reported, revisited (also as look-backs), closed,
 * reopened, resolved and now and then voided; photos (from a small pool, so
 * some repeat) and notes on both.  A device acts only on entities it has
 * seen; actions the rules refuse locally are counted and skipped.  Then a
 * random half of the devices sync in a random order.  At the end every
 * device syncs twice in a random order (push everything, then pull
 * everything).  Every sync must succeed with no op rejected: a rejection
 * would mean the client and syncd judged an op differently.
 *
 * Checked at the end: every outbox is empty, every device's replica hash
 * (sc_client_status) equals the register's (`syncd audit`, which also
 * re-verifies the log and refolds every entity), the auditor's replica
 * verifies, conflicts arose along the way, and the ops number in the
 * thousands.  On a mismatch the entities whose state hashes differ are
 * listed (read from the replica files and register.db, for the diagnosis
 * only).
 *
 * Seeded and reproducible: the seed is printed; SC_SEED=N repeats a run's
 * actions and sync orders (ids and clocks differ, the story does not).
 */
#include <check.h>
#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_server.h"
#include "spotcheck.h"

#define DEVICES 20
#define ROUNDS 15
#define ACTIONS_PER_ROUND 14
#define PHOTOS 12
#define MAX_ENTITIES 4096

/* ---- seeded randomness (splitmix64) ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A uniform integer in [0, n). */
static uint32_t pick(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

static void shuffle(int *v, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)pick((uint32_t)i + 1), t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* ---- the devices and what each has seen ---- */

typedef struct device {
    sc_client *c;
    char login[32];
    bool supervisor;      /* may report, close and resolve */
    bool auditor;         /* records nothing */
    uint64_t synced_at;   /* the epoch of its last sync */
} device;

typedef struct entity {
    char id[SC_ID_HEX_LEN];
    bool inspection;      /* else a finding */
    int creator;          /* device index */
    uint64_t pushed_at;   /* the epoch of its creator's first sync after making it; UINT64_MAX: not yet */
} entity;

typedef struct world {
    device dev[DEVICES];
    entity ent[MAX_ENTITIES];
    size_t nent;
    uint64_t epoch;       /* counts syncs */
    char photos[PHOTOS][600];
    /* statistics */
    uint64_t recorded, refused, accepted, pulled, photos_up, photos_down, syncs;
    int64_t max_conflicts;
} world;

static bool sees(const world *w, int d, const entity *e)
{
    return e->creator == d || e->pushed_at < w->dev[d].synced_at;
}

/* A random entity of the kind that device d has seen, or NULL. */
static const entity *seen(const world *w, int d, bool inspection)
{
    if (w->nent == 0)
        return NULL;
    for (int tries = 0; tries < 16; tries++) {
        const entity *e = &w->ent[pick((uint32_t)w->nent)];
        if (e->inspection == inspection && sees(w, d, e))
            return e;
    }
    return NULL;
}

static void remember(world *w, int d, const char *id, bool inspection)
{
    ck_assert_uint_lt(w->nent, MAX_ENTITIES);
    entity *e = &w->ent[w->nent++];
    snprintf(e->id, sizeof e->id, "%s", id);
    e->inspection = inspection;
    e->creator = d;
    e->pushed_at = UINT64_MAX;
}

/* ---- actions ---- */

static const char *const ITEMS[] = {"org-leadership",        "no-confirmed", "no-suspected",
                                    "no-close-contacts",     "publicity",    "sanitation",
                                    "no-missed-key-persons", "records",      "effect",
                                    "duty"};
static const int32_t ITEM_MAX[] = {5, 20, 15, 15, 10, 10, 10, 5, 5, 5};
/* Findings of DOMAIN.md §11. */
static const char *const FINDINGS[] = {
    "小区消防通道被车辆占用",           "燃气管道老化未按期检验",
    "电梯、健身器材未张贴使用说明和注意事项", "楼道堆物、飞线充电",
    "小区出入口未落实测温、验码、戴口罩",   "进出人员登记缺少籍贯、来去方向、交通方式",
    "电梯公共区域未按每2小时消毒并记录",    "垃圾箱外溢、雨停1小时后主干道仍积水"};
static const char *const CATEGORIES[] = {"FIRE_LANE", "GAS", "SIGNAGE", "FIRE",
                                         "ENTRY_CONTROL", "LEDGER_INCOMPLETE", "DISINFECTION",
                                         "SANITATION"};
static const char *const KINDS[] = {"spot", "supervisory", "patrol", "daily", "follow_up"};
static const char *const DISCLOSURES[] = {"open", "unannounced", "experiential"};

#define ONE_OF(a) (a)[pick(sizeof(a) / sizeof((a)[0]))]

static void random_date(char out[11])
{
    snprintf(out, 11, "2026-%02u-%02u", 1 + pick(12), 1 + pick(28));
}

/* Record one random action on device d; returns its status. */
static sc_status act(world *w, int d)
{
    sc_client *c = w->dev[d].c;
    bool sup = w->dev[d].supervisor;
    const entity *in = seen(w, d, true), *f = seen(w, d, false);
    char id[SC_ID_HEX_LEN], date[11], text[96];
    uint32_t what = pick(100);
    if (what < 8 || (!in && what < 40)) {
        sc_check_params p = {.target = "T-JAHY", .kind = ONE_OF(KINDS),
                             .disclosure = ONE_OF(DISCLOSURES),
                             .template_ = pick(4) ? "no-epidemic-100" : NULL};
        sc_status s = sc_check_open(c, &p, id);
        if (s == SC_OK)
            remember(w, d, id, true);
        return s;
    }
    if (what < 30 && in) {
        uint32_t i = pick(10);
        uint32_t st = pick(8);
        const char *status = st < 5 ? "met" : st < 7 ? "not_met" : pick(2) ? "unknown" : "na";
        int32_t pts = (int32_t)pick((uint32_t)ITEM_MAX[i] + 1);
        return sc_check_score(c, in->id, ITEMS[i], status, strcmp(status, "not_met") == 0 || pick(2),
                              strcmp(status, "met") == 0 ? ITEM_MAX[i] : pts,
                              pick(3) ? NULL : "抽查记录");
    }
    if (what < 35 && in)
        return sc_check_submit(c, in->id, pick(2) ? NULL : "检查结束");
    if (what < 38 && in) {
        uint32_t i = pick(10);
        return sc_check_amend(c, in->id, "复核更正", ITEMS[i], pick(2) ? "met" : "not_met", 1,
                              (int32_t)pick((uint32_t)ITEM_MAX[i] + 1), NULL);
    }
    if (what < 50) {
        uint32_t k = pick(8);
        random_date(date);
        sc_finding_params p = {.check = in && pick(4) ? in->id : NULL,
                               .target = "T-JAHY",
                               .description = FINDINGS[k],
                               .grade = k == 1 ? "major" : "general",
                               .category = CATEGORIES[k],
                               .deadline = pick(3) ? date : NULL,
                               .responsible = "junan-garden",
                               .source = NULL};
        if (!p.check)
            p.source = pick(2) ? "complaint" : "hotline";
        sc_status s = sc_finding_add(c, &p, id);
        if (s == SC_OK)
            remember(w, d, id, false);
        return s;
    }
    if (!f)
        return SC_ERR_NOT_FOUND;
    if (what < 60) {
        static const char *const FIELDS[] = {"deadline", "description", "grade", "location",
                                             "category"};
        const char *field = ONE_OF(FIELDS);
        random_date(date);
        snprintf(text, sizeof text, "%u号楼", 1 + pick(6));
        const char *value = strcmp(field, "deadline") == 0      ? date
                            : strcmp(field, "description") == 0 ? ONE_OF(FINDINGS)
                            : strcmp(field, "grade") == 0       ? (pick(2) ? "major" : "general")
                            : strcmp(field, "location") == 0    ? text
                                                                : ONE_OF(CATEGORIES);
        return sc_finding_set(c, f->id, field, value);
    }
    if (what < 66 && sup)
        return sc_rectify(c, f->id, "已整改", pick(2) ? "清理并设置标识" : NULL, NULL, 0);
    if (what < 76)
        return sc_revisit(c, f->id, pick(3) ? "rectified" : "not_rectified",
                          pick(2) ? "复查" : NULL, (int)pick(4) == 0, NULL, 0);
    if (what < 80 && sup)
        return sc_close(c, f->id, "销号");
    if (what < 82)
        return sc_reopen(c, f->id, "回头看发现反弹");
    if (what < 85 && sup)
        return sc_resolve(c, f->id, pick(2) ? "status" : "deadline", pick(2) ? NULL : "2026-12-31",
                          NULL);
    if (what < 92) {
        const entity *e = pick(3) || !in ? f : in;
        return sc_photo_add(c, e->id, w->photos[pick(PHOTOS)], pick(2) ? NULL : "现场照片", NULL);
    }
    if (what < 99) {
        const entity *e = pick(3) || !in ? f : in;
        snprintf(text, sizeof text, "备注 %u", pick(1000));
        return sc_note_add(c, e->id, text);
    }
    return sc_void(c, pick(2) || !in ? f->id : in->id, "录入错误");
}

/* ---- sync ---- */

static int64_t jint(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static void sync_device(world *w, int d)
{
    device *dv = &w->dev[d];
    char *json = NULL;
    sc_status s = sc_sync(dv->c, NULL, NULL, &json);
    ck_assert_msg(s == SC_OK, "sync of %s (device %d): %s: %s", dv->login, d, sc_status_name(s),
                  sc_client_errmsg(dv->c));
    json_t *o = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(o);
    json_t *rej = json_object_get(o, "rejected");
    if (json_array_size(rej) > 0) {
        json_t *r0 = json_array_get(rej, 0);
        ck_abort_msg("sync of %s rejected %zu ops, the first %s on %s: %s: %s", dv->login,
                     json_array_size(rej), json_string_value(json_object_get(r0, "op")),
                     json_string_value(json_object_get(r0, "entity")),
                     json_string_value(json_object_get(r0, "reason")),
                     json_string_value(json_object_get(r0, "message")));
    }
    ck_assert_int_eq(jint(o, "deferred"), 0);
    w->accepted += (uint64_t)jint(o, "accepted");
    w->pulled += (uint64_t)jint(o, "pulled");
    w->photos_up += (uint64_t)jint(o, "photos_uploaded");
    w->photos_down += (uint64_t)jint(o, "photos_downloaded");
    if (jint(o, "conflicts") > w->max_conflicts)
        w->max_conflicts = jint(o, "conflicts");
    json_decref(o);
    sc_json_free(dv->c, json);
    /* What it made is on the server now. */
    for (size_t i = 0; i < w->nent; i++)
        if (w->ent[i].creator == d && w->ent[i].pushed_at == UINT64_MAX)
            w->ent[i].pushed_at = w->epoch;
    dv->synced_at = ++w->epoch;
    w->syncs++;
}

static void sync_in_order(world *w, bool everyone)
{
    int order[DEVICES];
    for (int i = 0; i < DEVICES; i++)
        order[i] = i;
    shuffle(order, DEVICES);
    for (int i = 0; i < DEVICES; i++)
        if (everyone || pick(2))
            sync_device(w, order[i]);
}

/* ---- the end state ---- */

static void status_of(sc_client *c, char hash[SC_HASH_HEX_LEN], int64_t *outbox, int64_t *entities)
{
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(c, &json), SC_OK);
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(c, json);
    ck_assert_ptr_nonnull(o);
    const char *h = json_string_value(json_object_get(o, "replica_hash"));
    ck_assert_ptr_nonnull(h);
    snprintf(hash, SC_HASH_HEX_LEN, "%s", h);
    *outbox = jint(o, "outbox");
    *entities = jint(o, "entities");
    json_decref(o);
}

/* The register's replica hash, from `syncd audit` (which must pass). */
static void register_hash(const char *data, char hash[SC_HASH_HEX_LEN])
{
    static char out[8192];
    int st = sct_syncd_run(out, sizeof out, "audit", "--data", data, NULL);
    ck_assert_msg(st == 0, "syncd audit exited %d:\n%s", st, out);
    ck_assert_msg(strstr(out, "OK: everything holds") != NULL, "syncd audit:\n%s", out);
    const char *at = strstr(out, "replica hash ");
    ck_assert_ptr_nonnull(at);
    at += strlen("replica hash ");
    ck_assert_msg(strspn(at, "0123456789abcdef") >= 64, "audit: %s", out);
    memcpy(hash, at, 64);
    hash[64] = '\0';
}

/*
 * Diagnosis only: list the entities whose state hash differs between a
 * replica file and the register (the test reads the files directly here,
 * not through the API, to say where replicas diverged).
 */
static void diff_entities(const char *replica, const char *register_db)
{
    sqlite3 *db;
    if (sqlite3_open_v2(replica, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return;
    char sql[1200];
    snprintf(sql, sizeof sql,
             "ATTACH '%s' AS reg;"
             "SELECT lower(hex(coalesce(r.id, s.id))), lower(hex(r.hash)), lower(hex(s.state_hash)) "
             "FROM entities r LEFT JOIN reg.entities s ON s.id = r.id WHERE s.id IS NULL "
             "OR r.hash <> s.state_hash UNION ALL "
             "SELECT lower(hex(s.id)), NULL, lower(hex(s.state_hash)) FROM reg.entities s "
             "WHERE s.id NOT IN (SELECT id FROM entities) LIMIT 20",
             register_db);
    char *attach_end = strchr(sql, ';');
    *attach_end = '\0';
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, attach_end + 1, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            fprintf(stderr, "  entity %s: replica %s, register %s\n", sqlite3_column_text(st, 0),
                    sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "-",
                    sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "-");
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
}

/* ---- the test ---- */

static uint64_t seed_of_run(void)
{
    const char *e = getenv("SC_SEED");
    if (e && *e)
        return strtoull(e, NULL, 10);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
}

static void admin_user(const char *data, const char *login, const char *role, const char *org)
{
    char out[512];
    int st = sct_syncd_run(out, sizeof out, "admin", "--data", data, "user", "add", login, "--role",
                           role, "--org", org, NULL);
    ck_assert_msg(st == 0, "syncd admin user add %s exited %d", login, st);
}

START_TEST(twenty_devices_converge)
{
    static world w; /* large; one per process */
    memset(&w, 0, sizeof w);
    uint64_t seed = seed_of_run();
    rng_state = seed;
    fprintf(stderr, "convergence: seed %" PRIu64 " (SC_SEED=%" PRIu64 " repeats this run)\n", seed,
            seed);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    char dir[512], data[600], path[700];
    sct_tempdir(dir, sizeof dir);
    snprintf(data, sizeof data, "%s/data", dir);
    sct_fixture fx;
    sct_fixture_make(&fx, data);
    char out[512];
    snprintf(path, sizeof path, "%s/templates/no-epidemic-100.json", SC_VECTORS_DIR);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "admin", "--data", data, "template", "add", path,
                                   NULL),
                     0);

    /* Twenty tablets: inspector1 has two; twelve more inspectors, six supervisors, an auditor. */
    for (int d = 0; d < DEVICES; d++) {
        device *dv = &w.dev[d];
        if (d <= 1)
            snprintf(dv->login, sizeof dv->login, "inspector1");
        else if (d < 14)
            snprintf(dv->login, sizeof dv->login, "insp%02d", d);
        else if (d == 14)
            snprintf(dv->login, sizeof dv->login, "supervisor1");
        else if (d < 19)
            snprintf(dv->login, sizeof dv->login, "sup%02d", d);
        else
            snprintf(dv->login, sizeof dv->login, "auditor1");
        dv->supervisor = d >= 14 && d < 19;
        dv->auditor = d == 19;
        if (d >= 2 && d < 14)
            admin_user(data, dv->login, "inspector", "street");
        else if (d >= 15 && d < 19)
            admin_user(data, dv->login, "supervisor", "county");
    }
    sct_server srv;
    sct_server_start(&srv, data, NULL);

    for (int d = 0; d < DEVICES; d++) {
        device *dv = &w.dev[d];
        char code[128], err[256];
        sct_fixture_code(data, dv->login, code, sizeof code);
        snprintf(path, sizeof path, "%s/device%02d.db", dir, d);
        ck_assert_msg(sc_client_open(path, NULL, &dv->c, err, sizeof err) == SC_OK, "%s", err);
        char label[32];
        snprintf(label, sizeof label, "tablet %d", d);
        sc_status s = sc_enroll(dv->c, srv.url, code, label, NULL, 0, NULL);
        ck_assert_msg(s == SC_OK, "enroll %s: %s", dv->login, sc_client_errmsg(dv->c));
        sync_device(&w, d);
    }
    /* The photo pool: small files with JPEG magic and random bytes. */
    for (int i = 0; i < PHOTOS; i++) {
        snprintf(w.photos[i], sizeof w.photos[i], "%s/photo%02d.jpg", dir, i);
        FILE *fp = fopen(w.photos[i], "wb");
        ck_assert_ptr_nonnull(fp);
        fwrite("\xff\xd8\xff\xe0", 1, 4, fp);
        size_t n = 512 + pick(4096);
        for (size_t k = 0; k < n; k++)
            fputc((int)(rnd() & 0xff), fp);
        fclose(fp);
    }

    for (int round = 0; round < ROUNDS; round++) {
        for (int d = 0; d < DEVICES; d++) {
            if (w.dev[d].auditor)
                continue;
            for (int a = 0; a < ACTIONS_PER_ROUND; a++) {
                sc_status s = act(&w, d);
                if (s == SC_OK) {
                    w.recorded++;
                    continue;
                }
                /* The rules may refuse; the library must not fail otherwise. */
                ck_assert_msg(s == SC_ERR_INVALID_TRANSITION || s == SC_ERR_FORBIDDEN ||
                                  s == SC_ERR_NOT_FOUND || s == SC_ERR_INVALID_ARG ||
                                  s == SC_ERR_LIMIT,
                              "device %d (%s): %s: %s", d, w.dev[d].login, sc_status_name(s),
                              sc_client_errmsg(w.dev[d].c));
                w.refused++;
            }
        }
        sync_in_order(&w, false);
    }
    /* Everyone pushes, then everyone pulls. */
    sync_in_order(&w, true);
    sync_in_order(&w, true);

    char want[SC_HASH_HEX_LEN];
    register_hash(data, want);
    snprintf(path, sizeof path, "%s/register.db", data);
    int64_t entities = 0;
    int differ = 0;
    for (int d = 0; d < DEVICES; d++) {
        char got[SC_HASH_HEX_LEN];
        int64_t outbox, n;
        status_of(w.dev[d].c, got, &outbox, &n);
        ck_assert_msg(outbox == 0, "device %d still has %lld ops to push", d, (long long)outbox);
        entities = n;
        if (strcmp(got, want) != 0) {
            char replica[700];
            snprintf(replica, sizeof replica, "%s/device%02d.db", dir, d);
            fprintf(stderr, "device %d (%s): replica hash %s, register %s; differing entities:\n", d,
                    w.dev[d].login, got, want);
            diff_entities(replica, path);
            differ++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr,
            "convergence: %d devices, %d rounds, %" PRIu64 " actions recorded (%" PRIu64
            " refused by the rules), %" PRIu64 " ops accepted, %" PRIu64 " pulled, %" PRIu64
            " photos up, %" PRIu64 " down, %" PRIu64 " syncs, %lld entities, at most %lld in "
            "conflict, %.1f s\n",
            DEVICES, ROUNDS, w.recorded, w.refused, w.accepted, w.pulled, w.photos_up,
            w.photos_down, w.syncs, (long long)entities, (long long)w.max_conflicts,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    ck_assert_msg(differ == 0, "%d of %d replicas differ from the register (seed %" PRIu64 ")",
                  differ, DEVICES, seed);
    ck_assert_uint_ge(w.accepted, 2000);
    ck_assert_int_gt(w.max_conflicts, 0);
    ck_assert_uint_gt(w.photos_up, 0);

    /* The auditor's replica, which holds everything, verifies on its own. */
    char *json = NULL;
    sc_status s = sc_verify_replica(w.dev[DEVICES - 1].c, &json);
    ck_assert_msg(s == SC_OK, "auditor's replica: %s", sc_client_errmsg(w.dev[DEVICES - 1].c));
    sc_json_free(w.dev[DEVICES - 1].c, json);

    for (int d = 0; d < DEVICES; d++)
        sc_client_close(w.dev[d].c);
    ck_assert_int_eq(sct_server_stop(&srv), 0);
    sct_rmtree(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("convergence");
    const sct_case cases[] = {
        {"twenty_devices_converge", twenty_devices_converge},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), &(sct_tcase_opts){.timeout_s = 600});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
