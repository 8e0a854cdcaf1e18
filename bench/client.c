/*
 * client.c: `sc-bench-client`, the client library's timings, through the
 * public API only (spotcheck.h), as a tablet app calls it.
 *
 *   record --url URL --code CODE --dir DIR --world FILE [--count N]
 *       Enroll a fresh replica, sync the register's fixture down, then time
 *       N inspections recorded offline: sc_check_open on the 100-point
 *       sheet, 10 sc_check_score, 3 sc_finding_add (one fixed on the spot
 *       with a photo as evidence), 2 sc_photo_add (3 photos of 4 MiB in
 *       all, copied into the photo store and hashed), sc_check_submit.
 *
 *   photos --url URL --code CODE --dir DIR --world FILE [--count N] [--size BYTES]
 *          [--chunk BYTES] [--key KEY]
 *       Enroll a fresh replica (an inspector), sync the register's fixture
 *       down, open an inspection and attach N photos of BYTES each (copied
 *       into the photo store and hashed: not timed), then time the one
 *       sc_sync that pushes those ops and uploads the photos: HEAD and signed
 *       PUT chunks, hashed on both sides, fsynced by syncd.  --chunk sets
 *       chunk_bytes (default 0: the library's adaptive chunks up to 8 MiB;
 *       1048576 is the fixed 1 MiB chunk of earlier versions).  The result
 *       line is client_photos_KEY (KEY default "adaptive").
 *
 *   outbox --url URL --code CODE --dir DIR --world FILE --count N --key NAME
 *       What a tablet brings back from the field, for run.sh to time the
 *       `spotcheck sync` that pushes it: enroll a replica at DIR/NAME.db
 *       (an inspector), sync the register's fixture down, then record N
 *       findings offline, 100 to an inspection (opened on the 100-point
 *       sheet, its 10 items scored, submitted).  Prints outbox_NAME, the
 *       ops queued.
 *
 *   pull --url URL --code CODE --dir DIR --key KEY [--noop N]
 *       Enroll a fresh replica (an auditor: it sees everything) and time
 *       one sc_sync that pulls the whole register: every op verified
 *       (signature, author enrollment), folded and stored, the checkpoint
 *       and its consistency checked.  Then time N no-op sc_sync calls and
 *       count their round trips (progress callbacks).  KEY names the
 *       result lines (pull_client_KEY, noop_client_KEY_p50, ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "opgen.h"
#include "spotcheck.h"

#define PHOTO_SIZE (4u << 20)

typedef struct copts {
    const char *mode, *url, *code, *dir, *world, *key;
    long long count, noop, size, chunk;
} copts;

static void parse(int argc, char **argv, copts *o)
{
    memset(o, 0, sizeof *o);
    o->count = 20;
    o->noop = 50;
    o->size = 4000000;
    o->key = NULL;
    if (argc < 2)
        bn_die("usage: sc-bench-client record|photos|outbox|pull --url URL --code CODE --dir DIR ...");
    o->mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--url") == 0)
            o->url = v;
        else if (strcmp(k, "--code") == 0)
            o->code = v;
        else if (strcmp(k, "--dir") == 0)
            o->dir = v;
        else if (strcmp(k, "--world") == 0)
            o->world = v;
        else if (strcmp(k, "--key") == 0)
            o->key = v;
        else if (strcmp(k, "--count") == 0)
            o->count = bn_arg_int(v, 1, 1000000, k);
        else if (strcmp(k, "--noop") == 0)
            o->noop = bn_arg_int(v, 0, 100000, k);
        else if (strcmp(k, "--size") == 0)
            o->size = bn_arg_int(v, 1, 64 << 20, k);
        else if (strcmp(k, "--chunk") == 0)
            o->chunk = bn_arg_int(v, 0, 8 << 20, k);
        else
            bn_die("client: unknown option %s", k);
    }
    if (!o->key)
        o->key = strcmp(o->mode, "photos") == 0 ? "adaptive" : "reg";
    if (!o->url || !o->code || !o->dir)
        bn_die("client: --url, --code and --dir are required");
}

static void check(sc_client *c, sc_status s, const char *what)
{
    if (s != SC_OK)
        bn_die("client: %s: %s (%s)", what, sc_strerror(s), sc_client_errmsg(c));
}

static sc_client *fresh(const copts *o, const char *name)
{
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/%s.db", o->dir, name);
    sc_client *c = NULL;
    sc_client_options opt;
    memset(&opt, 0, sizeof opt);
    opt.retries = 1;
    opt.timeout_ms = 600000;
    opt.chunk_bytes = (uint32_t)o->chunk;
    if (sc_client_open(path, &opt, &c, err, sizeof err) != SC_OK)
        bn_die("client: cannot open %s: %s", path, err);
    check(c, sc_enroll(c, o->url, o->code, "bench tablet", NULL, 0, NULL), "enroll");
    return c;
}

typedef struct rounds {
    uint64_t n;
} rounds;

static void on_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    (void)done;
    (void)total;
    if (strcmp(phase, "push") == 0)
        ((rounds *)ctx)->n++;
}

/* The value of "key": n in a flat JSON object (enough for sc_sync's report). */
static long long json_int(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = json ? strstr(json, pat) : NULL;
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* A photo of size bytes whose content depends on seed. */
static void write_photo(const char *path, uint64_t seed, uint64_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        bn_die("client: cannot write %s", path);
    uint8_t buf[65536];
    for (uint64_t off = 0; off < size; off += sizeof buf) {
        for (size_t i = 0; i < sizeof buf; i += 8) {
            uint64_t v = bn_mix64(seed * 0x100000001ull + off + i);
            memcpy(buf + i, &v, 8);
        }
        if (off == 0) {
            buf[0] = 0xff; /* a JPEG start, so the MIME sniffing sees a photo */
            buf[1] = 0xd8;
            buf[2] = 0xff;
        }
        size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
        if (fwrite(buf, 1, n, f) != n)
            bn_die("client: cannot write %s", path);
    }
    if (fclose(f) != 0)
        bn_die("client: cannot write %s", path);
}

static int mode_record(const copts *o)
{
    og_world w;
    if (!o->world || !og_world_load(o->world, &w))
        bn_die("client: record needs --world");
    sc_client *c = fresh(o, "record");
    char *json = NULL;
    check(c, sc_sync(c, NULL, NULL, &json), "first sync");
    sc_json_free(c, json);
    char target[SC_ID_HEX_LEN], tpl[SC_ID_HEX_LEN];
    bn_hex(w.targets[0], SC_ID_LEN, target, sizeof target);
    bn_hex(w.tpl, SC_ID_LEN, tpl, sizeof tpl);
    static const char *const items[10] = {"org-leadership", "no-confirmed", "no-suspected",
                                          "no-close-contacts", "no-missed-key-persons",
                                          "publicity", "sanitation", "records", "effect", "duty"};
    static const int maxp[10] = {5, 20, 15, 15, 10, 10, 10, 5, 5, 5};
    double *ms = calloc((size_t)o->count, sizeof *ms);
    if (!ms)
        bn_die("client: out of memory");
    for (long long k = 0; k < o->count; k++) {
        char ph[3][4200];
        for (int i = 0; i < 3; i++) {
            snprintf(ph[i], sizeof ph[i], "%s/photo-%lld-%d.jpg", o->dir, k, i);
            write_photo(ph[i], (uint64_t)bn_wall_ms() * 16 + (uint64_t)(k * 3 + i), PHOTO_SIZE);
        }
        double t0 = bn_now();
        sc_check_params cp = {target, "spot", "open", "superior", tpl, NULL};
        char check_id[SC_ID_HEX_LEN], f[3][SC_ID_HEX_LEN];
        check(c, sc_check_open(c, &cp, check_id), "check open");
        for (int i = 0; i < 10; i++) {
            bool met = (k + i) % 4 != 0;
            check(c, sc_check_score(c, check_id, items[i], met ? "met" : "not_met", 1,
                                    met ? maxp[i] : maxp[i] / 2,
                                    met ? NULL : "小区出入口未落实测温、验码、戴口罩"),
                  "score");
        }
        const char *evidence[1] = {ph[0]};
        sc_finding_params fp[3] = {
            {check_id, NULL, "小区消防通道被车辆占用", "general", "FIRE_LANE", "sanitation",
             "3号楼北侧消防通道", NULL, NULL, NULL, 1, evidence, 1},
            {check_id, NULL, "楼道堆物、飞线充电", "general", "FIRE", "publicity",
             "2号楼1单元楼道", "2030-01-31", NULL, NULL, 0, NULL, 0},
            {check_id, NULL, "燃气管道老化未按期检验", "major", "GAS", "records", "地下车库入口",
             "2030-01-15", "street", NULL, 0, NULL, 0},
        };
        for (int i = 0; i < 3; i++)
            check(c, sc_finding_add(c, &fp[i], f[i]), "finding add");
        check(c, sc_photo_add(c, check_id, ph[1], "小区东门出入口全景", NULL), "photo add");
        check(c, sc_photo_add(c, f[1], ph[2], "问题点位近景", NULL), "photo add");
        check(c, sc_check_submit(c, check_id, "本次抽查发现问题3处"), "submit");
        ms[k] = (bn_now() - t0) * 1e3;
        for (int i = 0; i < 3; i++)
            remove(ph[i]);
    }
    char desc[300];
    snprintf(desc, sizeof desc,
             "record one inspection offline: open, 10 item results, 3 findings, 3 photos of 4 "
             "MiB (copied and hashed), 2 notices, submit: %lld ops signed and folded into the "
             "replica; median of %lld",
             (long long)19, o->count);
    bn_emit("client_record_p50", bn_percentile(ms, (size_t)o->count, 50), "ms", desc);
    bn_emit("client_record_p90", bn_percentile(ms, (size_t)o->count, 90), "ms", "the same, p90");
    free(ms);
    sc_client_close(c);
    return 0;
}

#define OUTBOX_PER_CHECK 100

static int mode_outbox(const copts *o)
{
    og_world w;
    if (!o->world || !og_world_load(o->world, &w))
        bn_die("client: outbox needs --world");
    sc_client *c = fresh(o, o->key);
    char *json = NULL;
    check(c, sc_sync(c, NULL, NULL, &json), "first sync");
    sc_json_free(c, json);
    char tpl[SC_ID_HEX_LEN];
    bn_hex(w.tpl, SC_ID_LEN, tpl, sizeof tpl);
    static const char *const items[10] = {"org-leadership", "no-confirmed", "no-suspected",
                                          "no-close-contacts", "no-missed-key-persons",
                                          "publicity", "sanitation", "records", "effect", "duty"};
    static const int maxp[10] = {5, 20, 15, 15, 10, 10, 10, 5, 5, 5};
    for (long long done = 0, k = 0; done < o->count; k++) {
        char target[SC_ID_HEX_LEN], check_id[SC_ID_HEX_LEN], f[SC_ID_HEX_LEN];
        bn_hex(w.targets[(size_t)k % w.ntargets], SC_ID_LEN, target, sizeof target);
        sc_check_params cp = {target, "spot", "open", "superior", tpl, NULL};
        check(c, sc_check_open(c, &cp, check_id), "check open");
        for (int i = 0; i < 10; i++)
            check(c, sc_check_score(c, check_id, items[i], "met", 1, maxp[i], NULL), "score");
        for (int i = 0; i < OUTBOX_PER_CHECK && done < o->count; i++, done++) {
            char place[64];
            snprintf(place, sizeof place, "%lld号楼%d单元楼道", k + 1, i + 1);
            sc_finding_params fp = {check_id, NULL, "楼道堆物、飞线充电", "general", "FIRE",
                                    "publicity", place, NULL, NULL, NULL, 0, NULL, 0};
            check(c, sc_finding_add(c, &fp, f), "finding add");
        }
        check(c, sc_check_submit(c, check_id, "楼道堆物集中整治"), "submit");
    }
    check(c, sc_client_status(c, &json), "status");
    char key[96], desc[200];
    snprintf(key, sizeof key, "outbox_%s", o->key);
    snprintf(desc, sizeof desc, "ops queued offline for %lld findings, %d to an inspection",
             o->count, OUTBOX_PER_CHECK);
    bn_emit(key, (double)json_int(json, "outbox"), "ops", desc);
    sc_json_free(c, json);
    sc_client_close(c);
    return 0;
}

typedef struct chunks {
    uint64_t n;                   /* chunks answered 202 (the last of each photo is not counted) */
} chunks;

static void on_upload(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    (void)done;
    (void)total;
    if (strcmp(phase, "upload") == 0)
        ((chunks *)ctx)->n++;
}

static int mode_photos(const copts *o)
{
    og_world w;
    if (!o->world || !og_world_load(o->world, &w))
        bn_die("client: photos needs --world");
    char name[128];
    snprintf(name, sizeof name, "photos-%s", o->key);
    sc_client *c = fresh(o, name);
    char *json = NULL;
    check(c, sc_sync(c, NULL, NULL, &json), "first sync");
    sc_json_free(c, json);
    char target[SC_ID_HEX_LEN], tpl[SC_ID_HEX_LEN], check_id[SC_ID_HEX_LEN], path[4200];
    bn_hex(w.targets[0], SC_ID_LEN, target, sizeof target);
    bn_hex(w.tpl, SC_ID_LEN, tpl, sizeof tpl);
    sc_check_params cp = {target, "spot", "open", "superior", tpl, NULL};
    check(c, sc_check_open(c, &cp, check_id), "check open");
    snprintf(path, sizeof path, "%s/photo-%s.jpg", o->dir, o->key);
    for (long long k = 0; k < o->count; k++) {
        write_photo(path, (uint64_t)bn_wall_ms() * 1024 + (uint64_t)k, (uint64_t)o->size);
        check(c, sc_photo_add(c, check_id, path, NULL, NULL), "photo add");
    }
    remove(path);
    chunks ch = {0};
    double t0 = bn_now();
    check(c, sc_sync(c, on_upload, &ch, &json), "sync");
    double el = bn_now() - t0;
    long long up = json_int(json, "photos_uploaded");
    sc_json_free(c, json);
    if (up != o->count)
        bn_die("client: %lld photos uploaded of %lld", up, o->count);
    double mb = (double)o->count * (double)o->size / 1e6;
    char key[96], desc[400], how[64];
    if (o->chunk)
        snprintf(how, sizeof how, "chunk_bytes %lld KiB, fixed", o->chunk / 1024);
    else
        snprintf(how, sizeof how, "adaptive chunks up to 8 MiB");
    snprintf(key, sizeof key, "client_photos_%s", o->key);
    snprintf(desc, sizeof desc,
             "%lld photos of %.1f MB uploaded by one sc_sync through the client library (%s): "
             "%llu PUT requests, %.1f MB in %.2f s (the sync's push of the %lld photo ops "
             "included)",
             o->count, (double)o->size / 1e6, how, (unsigned long long)(ch.n + (uint64_t)up), mb,
             el, o->count);
    bn_emit(key, mb / el, "MB/s", desc);
    sc_client_close(c);
    return 0;
}

static int mode_pull(const copts *o)
{
    char name[128];
    snprintf(name, sizeof name, "pull-%s", o->key);
    sc_client *c = fresh(o, name);
    rounds r = {0};
    char *json = NULL;
    double t0 = bn_now();
    check(c, sc_sync(c, on_progress, &r, &json), "sync");
    double el = bn_now() - t0;
    long long pulled = json_int(json, "pulled");
    sc_json_free(c, json);
    char key[96], desc[300];
    snprintf(key, sizeof key, "pull_client_%s", o->key);
    snprintf(desc, sizeof desc,
             "fresh client (auditor) pulls and materializes the whole register with sc_sync: "
             "%lld ops verified (signature, author), folded and stored in %.1f s, %llu round trips",
             pulled, el, (unsigned long long)r.n);
    bn_emit(key, (double)pulled / el, "ops/s", desc);
    snprintf(key, sizeof key, "pull_client_%s_s", o->key);
    bn_emit(key, el, "s", "the same, seconds");
    if (o->noop > 0) {
        double *lat = calloc((size_t)o->noop, sizeof *lat);
        uint64_t total_rounds = 0;
        for (long long i = 0; i < o->noop; i++) {
            rounds nr = {0};
            double s = bn_now();
            check(c, sc_sync(c, on_progress, &nr, &json), "no-op sync");
            lat[i] = (bn_now() - s) * 1e3;
            if (json_int(json, "pulled") != 0)
                bn_die("client: a no-op sync pulled ops");
            sc_json_free(c, json);
            total_rounds += nr.n;
        }
        snprintf(key, sizeof key, "noop_client_%s_p50", o->key);
        bn_emit(key, bn_percentile(lat, (size_t)o->noop, 50), "ms",
                "no-op sc_sync (client library: request, checkpoint verify, replica "
                "transaction), p50");
        snprintf(key, sizeof key, "noop_client_%s_p99", o->key);
        bn_emit(key, bn_percentile(lat, (size_t)o->noop, 99), "ms", "the same, p99");
        snprintf(key, sizeof key, "noop_client_%s_rounds", o->key);
        bn_emit(key, (double)total_rounds / (double)o->noop, "round trips",
                "round trips per no-op sc_sync");
        free(lat);
    }
    sc_client_close(c);
    return 0;
}

int main(int argc, char **argv)
{
    copts o;
    parse(argc, argv, &o);
    mkdir(o.dir, 0700);
    if (strcmp(o.mode, "record") == 0)
        return mode_record(&o);
    if (strcmp(o.mode, "outbox") == 0)
        return mode_outbox(&o);
    if (strcmp(o.mode, "pull") == 0)
        return mode_pull(&o);
    if (strcmp(o.mode, "photos") == 0)
        return mode_photos(&o);
    bn_die("client: unknown mode %s", o.mode);
}
