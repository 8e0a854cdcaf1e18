/*
 * test_photos.c: photos between devices, attacked, against a real syncd on
 * loopback.  Honest devices are libspotcheck tablets (the public API); the
 * attacking device is a second enrolled device speaking signed HTTP
 * (tests/support/sctest_server.h), as a modified tablet would.  Each TCase
 * runs one attack of docs/security.md's table and asserts the refusal,
 * its status and reason, and that nothing stored was lost or changed:
 *   - a read-only auditor's one-byte PUT under a tablet's photo hash
 *     (taken from a pulled op), across a syncd restart, while the tablet
 *     carries on past a photo the server refuses;
 *   - a junk final chunk, and junk whole photos, from another device while
 *     the owner's upload is half-way; two devices uploading one photo;
 *   - a device exhausting its upload quotas;
 *   - uploads left to expire, swept at start and on the timer, and photos
 *     no op names expiring;
 *   - GET, HEAD, blobs_wanted and PUT by the inspected unit's user on a
 *     photo of a draft unannounced inspection: answered as an absent photo
 *     until the inspection is submitted, then served.
 * It also checks that replicas and photos are private to their user
 * (0600 files, 0700 directories).
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ids.h"
#include "faultproxy.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "sctest_server.h"
#include "spotcheck.h"

#define KIB 1024

static sct_live L; /* the register and its syncd, made anew for each test */
static char conf[700];
/*
 * A tablet keeps the server address it enrolled with; one that must outlive
 * a syncd restart (a new port) enrolls through this proxy, which follows.
 */
static sct_proxy *px;

static void setup(void)
{
    sct_live_open(&L, false);
    snprintf(conf, sizeof conf, "%s/syncd.conf", L.tmp);
    px = NULL;
}

static void teardown(void)
{
    sct_proxy_stop(px);
    px = NULL;
    sct_live_close(&L, false);
}

/* Start syncd with these settings lines (NULL: the defaults). */
static void start(const char *settings)
{
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\n", settings ? settings : "");
    ck_assert_int_eq(fclose(f), 0);
    const char *const extra[] = {"--config", conf, NULL};
    sct_server_start(&L.srv, L.data, extra);
    if (px)
        sct_proxy_set_upstream(px, L.srv.port);
}

static void stop(void)
{
    ck_assert_int_eq(sct_server_stop(&L.srv), 0);
    L.srv.pid = 0;
}

/* ---- devices speaking signed HTTP ---- */

typedef struct device {
    sc_keypair *key;
    sct_client c;
    uint64_t clock;
} device;

static void device_enroll(device *d, int seed, const char *login)
{
    d->key = sct_key(seed);
    d->clock = 0;
    sct_client_init(&d->c, L.srv.url, d->key);
    sct_fixture_enroll(L.data, &d->c, d->key, login, login, NULL);
}

/* The device talks to the server now running (after a restart, on a new port). */
static void device_reconnect(device *d)
{
    sct_client_dispose(&d->c);
    sct_client_init(&d->c, L.srv.url, d->key);
}

static void device_close(device *d)
{
    sct_client_dispose(&d->c);
    sc_keypair_free(d->key);
}

/* n bytes that start like a JPEG, distinct per seed; name gets the hash in hex, sha in bytes. */
static uint8_t *photo(size_t n, uint32_t seed, char name[65], uint8_t sha[SC_HASH_LEN])
{
    uint8_t *b = malloc(n);
    ck_assert_ptr_nonnull(b);
    uint32_t x = seed * 2654435761u + 7;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
    memcpy(b, "\xff\xd8\xff\xe0", 4);
    sc_sha256(b, n, sha);
    sc_hex_encode(sha, SC_HASH_LEN, name, 65);
    return b;
}

static void blob_target(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "/v1/blobs/%s", name);
}

/* PUT bytes [start, start+len) of a photo of total bytes; the answer in r (caller disposes). */
static long put(device *d, const char *name, const uint8_t *bytes, size_t start, size_t len,
                size_t total, sct_resp *r)
{
    char target[128], range[128];
    blob_target(name, target, sizeof target);
    snprintf(range, sizeof range, "Content-Range: bytes %zu-%zu/%zu", start, start + len - 1,
             total);
    const char *const hdr[] = {range, "Content-Type: application/octet-stream", NULL};
    return sct_request(&d->c, "PUT", target, bytes + start, len, hdr, NULL, r);
}

/* PUT and dispose; returns the status, *offset the X-Spotcheck-Offset. */
static long put_status(device *d, const char *name, const uint8_t *bytes, size_t start, size_t len,
                       size_t total, int64_t *offset)
{
    sct_resp r;
    long st = put(d, name, bytes, start, len, total, &r);
    if (offset)
        *offset = r.offset;
    sct_resp_dispose(&r);
    return st;
}

static long head(device *d, const char *name, int64_t *offset)
{
    char target[128];
    blob_target(name, target, sizeof target);
    sct_resp r;
    long st = sct_request(&d->c, "HEAD", target, NULL, 0, NULL, NULL, &r);
    if (offset)
        *offset = r.offset;
    sct_resp_dispose(&r);
    return st;
}

/* A refusal: the status, the reason header, an Error body with the status and `what` said. */
static void refused(sct_resp *r, long status, const char *reason, const char *what)
{
    ck_assert_msg(r->status == status, "got %ld, want %ld", r->status, status);
    ck_assert_str_eq(r->reason, reason);
    Scpb__Error *e = sct_error(r);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->status, (uint32_t)status);
    ck_assert_msg(what == NULL || strstr(e->message, what) != NULL, "message \"%s\" lacks \"%s\"",
                  e->message, what);
    scpb__error__free_unpacked(e, NULL);
}

/* DATA/blobs/partial/<d's key>/<name>.part */
static void partial_path(const device *d, const char *name, char *out, size_t cap)
{
    char dev[2 * SC_KEY_LEN + 1];
    sc_hex_encode(sc_keypair_public(d->key), SC_KEY_LEN, dev, sizeof dev);
    snprintf(out, cap, "%s/blobs/partial/%s/%s.part", L.data, dev, name);
}

/* The SHA-256 of d's partial upload of name: it must exist. */
static void partial_hash(const device *d, const char *name, uint8_t out[SC_HASH_LEN])
{
    char path[1400];
    partial_path(d, name, path, sizeof path);
    ck_assert_msg(sct_file_sha256(path, out), "no partial upload %s", path);
}

/* POST /v1/sync asking which of these photos are stored for d; the answer's names into got. */
static size_t ask(device *d, const uint8_t (*sha)[SC_HASH_LEN], size_t n,
                  uint8_t (*got)[SC_HASH_LEN])
{
    ProtobufCBinaryData wanted[8];
    ck_assert_uint_le(n, 8);
    for (size_t i = 0; i < n; i++)
        wanted[i] = (ProtobufCBinaryData){SC_HASH_LEN, (uint8_t *)(uintptr_t)sha[i]};
    Scpb__SyncRequest req = SCPB__SYNC_REQUEST__INIT;
    req.n_blobs_wanted = n;
    req.blobs_wanted = wanted;
    size_t len = scpb__sync_request__get_packed_size(&req);
    uint8_t *body = malloc(len + 1);
    scpb__sync_request__pack(&req, body);
    static const char *const pb[] = {"Content-Type: application/x-protobuf", NULL};
    sct_resp r;
    ck_assert_int_eq(sct_request(&d->c, "POST", "/v1/sync", body, len, pb, NULL, &r), 200);
    Scpb__SyncResponse *sr = scpb__sync_response__unpack(NULL, r.len, r.body);
    ck_assert_ptr_nonnull(sr);
    ck_assert(sr->has_blobs_checked && sr->blobs_checked);
    size_t k = sr->n_blobs_stored;
    for (size_t i = 0; i < k; i++)
        memcpy(got[i], sr->blobs_stored[i].data, SC_HASH_LEN);
    scpb__sync_response__free_unpacked(sr, NULL);
    sct_resp_dispose(&r);
    free(body);
    return k;
}

/* ---- libspotcheck tablets ---- */

typedef struct tablet {
    sc_client *c;
    char db[700];
} tablet;

static void tablet_open(tablet *t, const char *name, const char *login)
{
    char err[256], code[64], url[64];
    snprintf(t->db, sizeof t->db, "%s/%s.db", L.tmp, name);
    sc_client_options opt = {.retries = 1, .backoff_ms = 50, .timeout_ms = 20000};
    ck_assert_msg(sc_client_open(t->db, &opt, &t->c, err, sizeof err) == SC_OK, "open: %s", err);
    sct_fixture_code(L.data, login, code, sizeof code);
    if (px)
        sct_proxy_url(px, url, sizeof url);
    ck_assert_msg(sc_enroll(t->c, px ? url : L.srv.url, code, name, NULL, 0, NULL) == SC_OK,
                  "enroll: %s", sc_client_errmsg(t->c));
    ck_assert_msg(sc_sync(t->c, NULL, NULL, NULL) == SC_OK, "sync: %s", sc_client_errmsg(t->c));
}

/* sc_sync, which must succeed; its report (json_decref it). */
static json_t *tablet_sync(tablet *t)
{
    char *json = NULL;
    sc_status st = sc_sync(t->c, NULL, NULL, &json);
    ck_assert_msg(st == SC_OK, "sync: %s: %s", sc_status_name(st), sc_client_errmsg(t->c));
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(t->c, json);
    ck_assert_ptr_nonnull(o);
    return o;
}

static long long tablet_status(tablet *t, const char *key)
{
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(t->c, &json), SC_OK);
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(t->c, json);
    long long v = json_integer_value(json_object_get(o, key));
    json_decref(o);
    return v;
}

/* A photo file of size bytes (seed makes it unique) attached to entity; sha gets its hash. */
static void tablet_photo(tablet *t, const char *entity, size_t size, uint32_t seed,
                         char sha[SC_HASH_HEX_LEN])
{
    char name[65], path[800];
    uint8_t h[SC_HASH_LEN];
    uint8_t *b = photo(size, seed, name, h);
    snprintf(path, sizeof path, "%s/photo-%u.jpg", L.tmp, seed);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
    free(b);
    ck_assert_msg(sc_photo_add(t->c, entity, path, NULL, sha) == SC_OK, "photo: %s",
                  sc_client_errmsg(t->c));
    ck_assert_str_eq(sha, name);
}

static void tablet_close(tablet *t)
{
    sc_client_close(t->c);
}

/* The file's permission bits. */
static unsigned mode_of(const char *path)
{
    struct stat st;
    ck_assert_msg(stat(path, &st) == 0, "stat %s", path);
    return (unsigned)(st.st_mode & 0777);
}

/* A tablet's replica, its photo store and the photo sha in it are its user's alone. */
static void tablet_private(const tablet *t, const char *sha)
{
    char path[900];
    ck_assert_uint_eq(mode_of(t->db), 0600);
    snprintf(path, sizeof path, "%s.blobs", t->db);
    ck_assert_uint_eq(mode_of(path), 0700);
    snprintf(path, sizeof path, "%s.blobs/%.2s", t->db, sha);
    ck_assert_uint_eq(mode_of(path), 0700);
    snprintf(path, sizeof path, "%s.blobs/%.2s/%s", t->db, sha, sha);
    ck_assert_uint_eq(mode_of(path), 0600);
}

/* ---- a read-only auditor poisons a tablet's upload; the tablet carries on ---- */

START_TEST(auditor_poisoning_refused)
{
    /* syncd first takes photos of at most 150,000 bytes: the tablet's 200 KB one is refused. */
    start("blobs.max_size = 150000");
    const sct_proxy_opts clean = {.seed = 1};
    px = sct_proxy_start(L.srv.port, &clean);
    mode_t old = umask(022);
    tablet t;
    tablet_open(&t, "tablet", "inspector1");
    umask(old);
    char check[SC_ID_HEX_LEN], p1[SC_HASH_HEX_LEN], p2[SC_HASH_HEX_LEN], p3[SC_HASH_HEX_LEN];
    sc_check_params cp = {
        .target = "T-JAHY", .kind = "spot", .disclosure = "open", .relation = "superior"};
    ck_assert_int_eq(sc_check_open(t.c, &cp, check), SC_OK);
    tablet_photo(&t, check, 100 * KIB, 1, p1);
    tablet_photo(&t, check, 200 * KIB, 2, p2);
    tablet_photo(&t, check, 120 * KIB, 3, p3);
    json_t *o = tablet_sync(&t);
    /* The refused photo is reported; the two others went up all the same. */
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 2);
    json_t *rf = json_object_get(o, "photos_refused");
    ck_assert_uint_eq(json_array_size(rf), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rf, 0), "photo")), p2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rf, 0), "status")), 413);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rf, 0), "reason")),
                     "too_large");
    json_decref(o);
    ck_assert_int_eq(tablet_status(&t, "photos_pending_upload"), 1);
    tablet_private(&t, p1);

    /* The auditor pulls the tablet's ops and takes the pending photo's hash from its op. */
    device a;
    device_enroll(&a, 21, "auditor1");
    Scpb__SyncResponse *sr = NULL;
    ck_assert_int_eq(sct_sync(&a.c, NULL, 0, NULL, 0, 0, &sr), 200);
    char taken[65] = "";
    for (size_t i = 0; i < sr->n_ops; i++) {
        sc_op *op = NULL;
        ck_assert_int_eq(
            sc_op_open(NULL, sr->ops[i]->signed_op.data, sr->ops[i]->signed_op.len, 0, &op, NULL),
            SC_OK);
        char h[65];
        if (op->op->body_case == SCPB__OP__BODY_PHOTO_ATTACH &&
            sc_hex_encode(op->op->photo_attach->sha256.data, SC_HASH_LEN, h, sizeof h) == SC_OK &&
            strcmp(h, p2) == 0)
            memcpy(taken, h, sizeof taken);
        sc_op_free(NULL, op);
    }
    scpb__sync_response__free_unpacked(sr, NULL);
    ck_assert_str_eq(taken, p2);

    /* One byte under it, declaring a total of 2: refused before a byte is stored. */
    sct_stored before, after;
    sct_stored_get(L.data, &before);
    sct_resp r;
    put(&a, taken, (const uint8_t *)"x", 0, 1, 2, &r);
    refused(&r, 403, "forbidden_role", "may not attach photos");
    sct_resp_dispose(&r);
    sct_stored_get(L.data, &after);
    sct_stored_same(&before, &after, "an auditor's photo upload");
    ck_assert_uint_eq(after.partial_bytes, 0);

    /* A device that may attach photos does the same: the byte is its own upload, nobody else's. */
    device s;
    device_enroll(&s, 22, "supervisor1");
    int64_t off = -1;
    ck_assert_int_eq(put_status(&s, taken, (const uint8_t *)"x", 0, 1, 2, &off), 202);
    ck_assert_int_eq(off, 1);

    /* syncd restarts, now taking photos of 64 MiB: the tablet's next sync uploads the photo. */
    stop();
    start(NULL);
    o = tablet_sync(&t);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "photos_refused")), 0);
    json_decref(o);
    ck_assert_int_eq(tablet_status(&t, "photos_pending_upload"), 0);
    const char *all[] = {p1, p2, p3};
    for (int i = 0; i < 3; i++) {
        uint8_t h[SC_HASH_LEN];
        sc_hex_decode(all[i], 64, h, sizeof h);
        ck_assert_msg(sct_blob_stored(L.data, h), "photo %d not stored whole", i + 1);
    }
    /* The supervisor's stray byte is still its own, and it reads the tablet's photo whole. */
    device_reconnect(&s);
    ck_assert_int_eq(head(&s, taken, &off), 200);
    char target[128];
    blob_target(p2, target, sizeof target);
    ck_assert_int_eq(sct_request(&s.c, "GET", target, NULL, 0, NULL, NULL, &r), 200);
    ck_assert_uint_eq(r.len, 200 * KIB);
    uint8_t got[SC_HASH_LEN];
    char gh[65];
    sc_sha256(r.body, r.len, got);
    sc_hex_encode(got, SC_HASH_LEN, gh, sizeof gh);
    ck_assert_str_eq(gh, p2);
    sct_resp_dispose(&r);
    char out[8192];
    stop();
    ck_assert_msg(sct_audit(L.data, out, sizeof out) == 0, "audit: %s", out);
    tablet_close(&t);
    device_close(&a);
    device_close(&s);
}
END_TEST

/* ---- another device's junk final chunk; two devices uploading one photo ---- */

START_TEST(junk_final_chunk_keeps_owners_upload)
{
    start(NULL);
    device o, o2, s;
    device_enroll(&o, 31, "inspector1");
    device_enroll(&o2, 32, "inspector1"); /* the inspector's second tablet */
    device_enroll(&s, 33, "supervisor1");
    const size_t total = 400 * KIB, half = 200 * KIB;
    char name[65], jname[65];
    uint8_t sha[SC_HASH_LEN], jsha[SC_HASH_LEN];
    uint8_t *d = photo(total, 41, name, sha);
    uint8_t *junk = photo(total, 42, jname, jsha);
    sct_name_photo(&o.c, o.key, &o.clock, L.fx.target, sha, total, NULL);
    int64_t off = -1;
    ck_assert_int_eq(put_status(&o, name, d, 0, half, total, &off), 202);
    ck_assert_int_eq(off, (int64_t)half);
    uint8_t before_part[SC_HASH_LEN], after_part[SC_HASH_LEN];
    partial_hash(&o, name, before_part);
    sct_stored before, after;
    sct_stored_get(L.data, &before);

    /* Junk at the owner's offset: the sender has no upload there. */
    sct_resp r;
    put(&s, name, junk, half, total - half, total, &r);
    refused(&r, 409, "bad_field", "no upload of this photo in progress");
    ck_assert_int_eq(r.offset, 0);
    sct_resp_dispose(&r);
    /* Junk whole, and a true first half with a junk final chunk: its own upload, discarded. */
    put(&s, name, junk, 0, total, total, &r);
    refused(&r, 422, "bad_field", "do not match their hash");
    sct_resp_dispose(&r);
    ck_assert_int_eq(put_status(&s, name, d, 0, half, total, &off), 202);
    put(&s, name, junk, half, total - half, total, &r);
    refused(&r, 422, "bad_field", "do not match their hash");
    ck_assert_int_eq(r.offset, 0);
    sct_resp_dispose(&r);
    sct_stored_get(L.data, &after);
    sct_stored_same(&before, &after, "another device's junk chunks");

    /* The owner's upload is where it was, byte for byte. */
    ck_assert_int_eq(head(&o, name, &off), 404);
    ck_assert_int_eq(off, (int64_t)half);
    partial_hash(&o, name, after_part);
    ck_assert_mem_eq(before_part, after_part, SC_HASH_LEN);
    ck_assert_int_eq(head(&s, name, &off), 404);
    ck_assert_int_eq(off, 0);

    /*
     * Two devices upload the photo at once, each its own upload: the first to
     * complete stores it; the second, which may read it, is told it is
     * stored (200) and its own upload is dropped.
     */
    ck_assert_int_eq(put_status(&o2, name, d, 0, half, total, &off), 202);
    ck_assert_int_eq(off, (int64_t)half);
    ck_assert_int_eq(put_status(&o, name, d, half, total - half, total, &off), 201);
    ck_assert_int_eq(put_status(&o2, name, d, half, total - half, total, &off), 200);
    ck_assert_int_eq(head(&o2, name, &off), 200);
    ck_assert(sct_blob_stored(L.data, sha));
    char target[128];
    blob_target(name, target, sizeof target);
    ck_assert_int_eq(sct_request(&o2.c, "GET", target, NULL, 0, NULL, NULL, &r), 200);
    ck_assert(r.len == total && memcmp(r.body, d, total) == 0);
    sct_resp_dispose(&r);
    sct_stored_get(L.data, &after);
    ck_assert_uint_eq(after.partial_bytes, 0);
    free(d);
    free(junk);
    device_close(&o);
    device_close(&o2);
    device_close(&s);
}
END_TEST

/* ---- one device exhausts its quotas; the others are not affected ---- */

START_TEST(quota_exhaustion_is_per_device)
{
    start("blobs.partial_max_count = 2\nblobs.unreferenced_max_count = 1");
    device x, y;
    device_enroll(&x, 51, "inspector1");
    device_enroll(&y, 52, "supervisor1");
    const size_t total = 100 * KIB, half = 50 * KIB;
    char n[5][65];
    uint8_t sha[5][SC_HASH_LEN];
    uint8_t *b[5];
    for (int i = 0; i < 5; i++)
        b[i] = photo(total, 61 + (uint32_t)i, n[i], sha[i]);
    for (int i = 0; i < 3; i++)
        sct_name_photo(&x.c, x.key, &x.clock, L.fx.target, sha[i], total, NULL);
    /* Two uploads in progress fill x's count. */
    ck_assert_int_eq(put_status(&x, n[0], b[0], 0, half, total, NULL), 202);
    ck_assert_int_eq(put_status(&x, n[1], b[1], 0, half, total, NULL), 202);
    uint8_t h0[SC_HASH_LEN], h1[SC_HASH_LEN], g[SC_HASH_LEN];
    partial_hash(&x, n[0], h0);
    partial_hash(&x, n[1], h1);
    sct_stored before, after;
    sct_stored_get(L.data, &before);
    sct_resp r;
    put(&x, n[2], b[2], 0, half, total, &r);
    refused(&r, 507, "quota", "blobs.partial_max_count");
    sct_resp_dispose(&r);
    sct_stored_get(L.data, &after);
    sct_stored_same(&before, &after, "an upload over the device's quota");
    ck_assert_uint_eq(after.partial_bytes, before.partial_bytes);
    char path[1400];
    struct stat st;
    partial_path(&x, n[2], path, sizeof path);
    ck_assert_int_ne(stat(path, &st), 0);
    partial_hash(&x, n[0], g);
    ck_assert_mem_eq(g, h0, SC_HASH_LEN);
    partial_hash(&x, n[1], g);
    ck_assert_mem_eq(g, h1, SC_HASH_LEN);
    /* Another device uploads the same photo meanwhile. */
    ck_assert_int_eq(put_status(&y, n[2], b[2], 0, total, total, NULL), 201);
    /* x's uploads go on; once one is done x may start another. */
    ck_assert_int_eq(put_status(&x, n[0], b[0], half, total - half, total, NULL), 201);
    ck_assert_int_eq(put_status(&x, n[1], b[1], half, total - half, total, NULL), 201);
    ck_assert_int_eq(put_status(&x, n[2], b[2], 0, total, total, NULL), 200); /* x sees it stored */

    /* Photos no op names: x may park one; the second is refused, and y is not affected. */
    ck_assert_int_eq(put_status(&x, n[3], b[3], 0, total, total, NULL), 201);
    sct_stored_get(L.data, &before);
    put(&x, n[4], b[4], 0, total, total, &r);
    refused(&r, 507, "quota", "blobs.unreferenced_max_count");
    sct_resp_dispose(&r);
    sct_stored_get(L.data, &after);
    sct_stored_same(&before, &after, "an unreferenced photo over the device's quota");
    ck_assert(!sct_blob_stored(L.data, sha[4]));
    ck_assert_int_eq(put_status(&y, n[4], b[4], 0, total, total, NULL), 201);
    ck_assert(sct_blob_stored(L.data, sha[4]));
    for (int i = 0; i < 5; i++)
        free(b[i]);
    device_close(&x);
    device_close(&y);
}
END_TEST

/* ---- uploads expire: swept at start and on the timer; photos no op names too ---- */

/* Wait (10 s at most) until what() holds. */
static bool eventually(bool (*what)(void *), void *ctx)
{
    for (int i = 0; i < 100; i++) {
        if (what(ctx))
            return true;
        sct_sleep_ms(100);
    }
    return false;
}

typedef struct gone_ctx {
    const char *path;
} gone_ctx;

static bool file_gone(void *ctx)
{
    struct stat st;
    return stat(((gone_ctx *)ctx)->path, &st) != 0;
}

START_TEST(partials_and_unreferenced_photos_expire)
{
    start("blobs.partial_max_age_s = 2\nblobs.sweep_interval_s = 3600");
    device x;
    device_enroll(&x, 71, "inspector1");
    const size_t total = 100 * KIB, half = 50 * KIB;
    char n1[65], n2[65], n3[65], n4[65];
    uint8_t s1[SC_HASH_LEN], s2[SC_HASH_LEN], s3[SC_HASH_LEN], s4[SC_HASH_LEN];
    uint8_t *b1 = photo(total, 81, n1, s1), *b2 = photo(total, 82, n2, s2);
    uint8_t *b3 = photo(total, 83, n3, s3), *b4 = photo(total, 84, n4, s4);
    sct_name_photo(&x.c, x.key, &x.clock, L.fx.target, s1, total, NULL);
    sct_name_photo(&x.c, x.key, &x.clock, L.fx.target, s2, total, NULL);
    int64_t off = -1;
    ck_assert_int_eq(put_status(&x, n1, b1, 0, half, total, &off), 202);
    char p1[1400];
    partial_path(&x, n1, p1, sizeof p1);

    /* Left while syncd is down for longer than the age: gone at the next start. */
    stop();
    sct_sleep_ms(3000);
    start("blobs.partial_max_age_s = 2\nblobs.sweep_interval_s = 3600");
    device_reconnect(&x);
    ck_assert_int_eq(head(&x, n1, &off), 404);
    ck_assert_int_eq(off, 0);
    struct stat st;
    ck_assert_int_ne(stat(p1, &st), 0);
    ck_assert(sct_server_log_has(&L.srv, "\"msg\":\"blob sweep\""));

    /* On the timer: an upload left alone goes; the photo starts over from 0 and completes. */
    stop();
    start("blobs.partial_max_age_s = 2\nblobs.sweep_interval_s = 1\n"
          "blobs.unreferenced_max_age_s = 2");
    device_reconnect(&x);
    ck_assert_int_eq(put_status(&x, n2, b2, 0, half, total, &off), 202);
    char p2[1400];
    partial_path(&x, n2, p2, sizeof p2);
    gone_ctx g = {p2};
    ck_assert_msg(eventually(file_gone, &g), "an old upload was not swept");
    ck_assert_int_eq(head(&x, n2, &off), 404);
    ck_assert_int_eq(off, 0);
    ck_assert_int_eq(put_status(&x, n2, b2, 0, total, total, &off), 201);

    /* A photo no op names goes after its age; named ones stay. */
    ck_assert_int_eq(put_status(&x, n3, b3, 0, total, total, &off), 201);
    char blob3[1400];
    snprintf(blob3, sizeof blob3, "%s/blobs/%.2s/%s", L.data, n3, n3);
    gone_ctx g3 = {blob3};
    ck_assert_msg(eventually(file_gone, &g3), "a photo no op names was not swept");
    sct_sleep_ms(2500);
    ck_assert(sct_blob_stored(L.data, s2));
    ck_assert(!sct_blob_stored(L.data, s3));
    /* It can be uploaded again (and named now, it stays). */
    sct_name_photo(&x.c, x.key, &x.clock, L.fx.target, s4, total, NULL);
    ck_assert_int_eq(put_status(&x, n4, b4, 0, total, total, &off), 201);
    sct_sleep_ms(3000);
    ck_assert(sct_blob_stored(L.data, s4));
    free(b1);
    free(b2);
    free(b3);
    free(b4);
    device_close(&x);
}
END_TEST

/* ---- a downloaded photo is on disk before it counts as stored ---- */

/* The "= N" result of an strace line, or -1. */
static int trace_result(const char *line)
{
    const char *eq = strrchr(line, '=');
    return eq ? atoi(eq + 1) : -1;
}

/* The fd of an strace "NAME(N)" call line, or -1. */
static int trace_call_fd(const char *call, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(call, name, n) != 0 || call[n] != '(')
        return -1;
    int fd = atoi(call + n + 1);
    return fd >= 0 && call[n + 1] >= '0' && call[n + 1] <= '9' ? fd : -1;
}

/* The fd of a successful strace "fsync(N)" call line, or -1. */
static int trace_fsync(const char *call)
{
    return trace_result(call) == 0 ? trace_call_fd(call, "fsync") : -1;
}

/*
 * In an strace log (strace -f -o FILE) of a sync that downloaded photo sha
 * into the photo store `store`: the temporary file was fsynced (before it
 * was closed) before it was renamed to its name, and the photo's directory
 * was fsynced after.
 */
static void download_synced(const char *trace, const char *store, const char *sha)
{
    FILE *f = fopen(trace, "r");
    ck_assert_ptr_nonnull(f);
    char line[4096], tmpdir[900], dir[900], final[1000], tmp_path[1000] = "";
    snprintf(tmpdir, sizeof tmpdir, "\"%s/tmp/", store);
    snprintf(dir, sizeof dir, "\"%s/%.2s\"", store, sha);
    snprintf(final, sizeof final, "\"%s/%.2s/%s\"", store, sha, sha);
    int stage = 0, tmp_fd = -1, dir_fd = -1;
    while (stage < 4 && fgets(line, sizeof line, f)) {
        const char *call = line + strspn(line, "0123456789 "); /* after the pid */
        const char *q = strstr(call, tmpdir);
        if (stage == 0 && strncmp(call, "openat(", 7) == 0 && q && strstr(call, "O_CREAT")) {
            tmp_fd = trace_result(call);
            snprintf(tmp_path, sizeof tmp_path, "%.*s", (int)strcspn(q + 1, "\"") + 2, q);
            stage = 1;
        } else if (stage == 1 && tmp_fd >= 0 && trace_call_fd(call, "close") == tmp_fd) {
            tmp_fd = -1; /* closed unsynced: a later fsync of that number is another file's */
        } else if (stage == 1 && tmp_fd >= 0 && trace_fsync(call) == tmp_fd) {
            stage = 2; /* the bytes, before the rename */
        } else if (stage == 2 && strncmp(call, "rename", 6) == 0 && strstr(call, tmp_path) &&
                   strstr(call, final) && trace_result(call) == 0) {
            stage = 3;
        } else if (stage == 3 && strncmp(call, "openat(", 7) == 0 && strstr(call, dir) &&
                   strstr(call, "O_DIRECTORY")) {
            dir_fd = trace_result(call);
        } else if (stage == 3 && dir_fd >= 0 && trace_call_fd(call, "close") == dir_fd) {
            dir_fd = -1;
        } else if (stage == 3 && dir_fd >= 0 && trace_fsync(call) == dir_fd) {
            stage = 4; /* the directory, after the rename */
        }
    }
    fclose(f);
    ck_assert_msg(stage == 4,
                  "the download of %.8s was not synced in order (stage %d of 4: opened, file "
                  "fsynced, renamed, directory fsynced); see %s",
                  sha, stage, trace);
}

/*
 * Sync the replica db with the CLI under strace, which must then show the
 * photo sha downloaded durably.  strace is installed by
 * scripts/install-deps.sh; where the kernel forbids tracing, the check is
 * skipped and says so.
 */
static void cli_sync_traced(const char *db, const char *sha)
{
    char trace[800], out[800], cmd[4096];
    snprintf(trace, sizeof trace, "%s/sync.trace", L.tmp);
    snprintf(out, sizeof out, "%s/sync.out", L.tmp);
    ck_assert_msg(system("command -v strace >/dev/null") == 0,
                  "strace is required (scripts/install-deps.sh installs it)");
    if (system("strace -o /dev/null true 2>/dev/null") != 0) {
        fprintf(stderr, "e2e/photos: strace cannot trace here; download durability not checked\n");
        snprintf(cmd, sizeof cmd, "'%s' --db '%s' --json sync > '%s' 2>&1", sct_cli_path(), db,
                 out);
        ck_assert_int_eq(system(cmd), 0);
        return;
    }
    /* LeakSanitizer cannot run under a tracer; the sanitizer build checks leaks everywhere else. */
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=detect_leaks=0 strace -f -e "
             "trace=openat,close,fsync,rename,renameat,renameat2 "
             "-o '%s' '%s' --db '%s' --json sync > '%s' 2>&1",
             trace, sct_cli_path(), db, out);
    ck_assert_msg(system(cmd) == 0, "spotcheck sync under strace failed; see %s", out);
    char store[800];
    snprintf(store, sizeof store, "%s.blobs", db);
    download_synced(trace, store, sha);
}

/* ---- photos of a draft unannounced inspection, asked for by the inspected unit ---- */

/* Two answers are the same but for the request id. */
static void same_answer(const sct_resp *a, const sct_resp *b, const char *what)
{
    ck_assert_msg(a->status == b->status, "%s: %ld vs %ld", what, a->status, b->status);
    ck_assert_msg(strcmp(a->reason, b->reason) == 0, "%s: reason", what);
    ck_assert_msg(a->offset == b->offset, "%s: offset %lld vs %lld", what, (long long)a->offset,
                  (long long)b->offset);
    ck_assert_msg(a->content_length == b->content_length, "%s: length", what);
    ck_assert_msg(strcmp(a->content_type, b->content_type) == 0, "%s: type", what);
    ck_assert_msg(strcmp(a->header_names, b->header_names) == 0, "%s: headers %s vs %s", what,
                  a->header_names, b->header_names);
    ck_assert_msg(a->len == b->len, "%s: body of %zu vs %zu bytes", what, a->len, b->len);
    Scpb__Error *ea = sct_error(a), *eb = sct_error(b);
    ck_assert_msg((ea == NULL) == (eb == NULL), "%s: bodies", what);
    if (ea) {
        ck_assert_uint_eq(ea->status, eb->status);
        ck_assert_int_eq(ea->reason, eb->reason);
        ck_assert((ea->message == NULL) == (eb->message == NULL)); /* HEAD: no body at all */
        if (ea->message)
            ck_assert_str_eq(ea->message, eb->message);
        scpb__error__free_unpacked(ea, NULL);
        scpb__error__free_unpacked(eb, NULL);
    }
}

/* method on photos `hidden` and `absent` by d: the same answer; its status is returned. */
static long as_absent(device *d, const char *method, const char *hidden, const char *absent)
{
    char t1[128], t2[128];
    blob_target(hidden, t1, sizeof t1);
    blob_target(absent, t2, sizeof t2);
    sct_resp a, b;
    sct_request(&d->c, method, t1, NULL, 0, NULL, NULL, &a);
    sct_request(&d->c, method, t2, NULL, 0, NULL, NULL, &b);
    same_answer(&a, &b, method);
    long st = a.status;
    sct_resp_dispose(&a);
    sct_resp_dispose(&b);
    return st;
}

START_TEST(unannounced_photo_hidden_from_the_unit)
{
    start(NULL);
    /* A target inside the unit's own compound: its inspections reach the unit once submitted. */
    char out[512];
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "admin", "--data", L.data, "target", "add",
                                   "T-GDN", "--name", "君安花园小区二期", "--org", "junan-garden",
                                   "--type", "compound", NULL),
                     0);
    tablet sv, in;
    tablet_open(&sv, "supervisor", "supervisor1");
    tablet_open(&in, "inspector", "inspector1");
    const char *who[] = {"inspector1"};
    sc_assign_params ap = {.target = "T-GDN",
                           .inspectors = who,
                           .ninspectors = 1,
                           .kind = "spot",
                           .disclosure = "unannounced"};
    char asg[SC_ID_HEX_LEN], check[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN];
    ck_assert_msg(sc_assign(sv.c, &ap, asg) == SC_OK, "%s", sc_client_errmsg(sv.c));
    json_decref(tablet_sync(&sv));
    json_decref(tablet_sync(&in));
    sc_check_params cp = {.assignment = asg};
    ck_assert_msg(sc_check_open(in.c, &cp, check) == SC_OK, "%s", sc_client_errmsg(in.c));
    tablet_photo(&in, check, 150 * KIB, 91, sha);
    json_t *o = tablet_sync(&in);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    uint8_t hidden[SC_HASH_LEN];
    sc_hex_decode(sha, 64, hidden, sizeof hidden);
    ck_assert(sct_blob_stored(L.data, hidden));

    /* The unit's user, who knows the hash: every answer is an absent photo's. */
    device r;
    device_enroll(&r, 92, "resp1");
    char absent[65];
    uint8_t asha[SC_HASH_LEN];
    uint8_t *ab = photo(150 * KIB, 93, absent, asha);
    sct_stored before, after;
    sct_stored_get(L.data, &before);
    ck_assert_int_eq(as_absent(&r, "GET", sha, absent), 404);
    ck_assert_int_eq(as_absent(&r, "HEAD", sha, absent), 404);
    uint8_t asked[2][SC_HASH_LEN], got[2][SC_HASH_LEN];
    memcpy(asked[0], hidden, SC_HASH_LEN);
    memcpy(asked[1], asha, SC_HASH_LEN);
    ck_assert_uint_eq(ask(&r, (const uint8_t(*)[SC_HASH_LEN])asked, 2, got), 0);
    sct_stored_get(L.data, &after);
    sct_stored_same(&before, &after, "reads of a hidden photo");
    /* An upload tells it nothing either: one byte, then the whole photo, as for a new one. */
    uint8_t *hb = malloc(150 * KIB);
    char hp[800];
    snprintf(hp, sizeof hp, "%s/photo-91.jpg", L.tmp);
    FILE *f = fopen(hp, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(hb, 1, 150 * KIB, f), 150 * KIB);
    fclose(f);
    int64_t o1 = -1, o2 = -1;
    ck_assert_int_eq(put_status(&r, sha, hb, 0, 1, 150 * KIB, &o1), 202);
    ck_assert_int_eq(put_status(&r, absent, ab, 0, 1, 150 * KIB, &o2), 202);
    ck_assert_int_eq(o1, o2);
    ck_assert_int_eq(as_absent(&r, "HEAD", sha, absent), 404);
    ck_assert_int_eq(put_status(&r, sha, hb, 1, 150 * KIB - 1, 150 * KIB, &o1), 201);
    ck_assert_int_eq(put_status(&r, absent, ab, 1, 150 * KIB - 1, 150 * KIB, &o2), 201);
    ck_assert_int_eq(o1, o2);
    ck_assert_int_eq(as_absent(&r, "GET", sha, absent), 404);
    ck_assert_int_eq(as_absent(&r, "HEAD", sha, absent), 404);
    ck_assert_uint_eq(ask(&r, (const uint8_t(*)[SC_HASH_LEN])asked, 2, got), 0);

    /*
     * Those who see the inspection read it: the supervisor in scope downloads
     * it (with the CLI, traced: on disk before it counts as stored).
     */
    tablet_close(&sv);
    cli_sync_traced(sv.db, sha);
    tablet_private(&sv, sha);
    tablet_private(&in, sha);
    char stored[900];
    snprintf(stored, sizeof stored, "%s.blobs/%.2s/%s", sv.db, sha, sha);
    uint8_t dl[SC_HASH_LEN];
    ck_assert(sct_file_sha256(stored, dl));
    ck_assert_mem_eq(dl, hidden, SC_HASH_LEN);

    /* Submitted: released to the unit, which now reads it whole. */
    ck_assert_msg(sc_check_submit(in.c, check, NULL) == SC_OK, "%s", sc_client_errmsg(in.c));
    json_decref(tablet_sync(&in));
    ck_assert_uint_eq(ask(&r, (const uint8_t(*)[SC_HASH_LEN])asked, 2, got), 1);
    ck_assert_mem_eq(got[0], hidden, SC_HASH_LEN);
    char target[128];
    blob_target(sha, target, sizeof target);
    sct_resp rs;
    ck_assert_int_eq(sct_request(&r.c, "GET", target, NULL, 0, NULL, NULL, &rs), 200);
    ck_assert(rs.len == 150 * KIB && memcmp(rs.body, hb, rs.len) == 0);
    sct_resp_dispose(&rs);
    ck_assert_int_eq(head(&r, sha, NULL), 200);
    /* The other photo no op names stays unread. */
    ck_assert_int_eq(head(&r, absent, NULL), 404);
    free(ab);
    free(hb);
    device_close(&r);
    tablet_close(&in);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("e2e/photos");
    const sct_case cases[] = {
        {"auditor_poisoning_refused", auditor_poisoning_refused},
        {"junk_final_chunk_keeps_owners_upload", junk_final_chunk_keeps_owners_upload},
        {"quota_exhaustion_is_per_device", quota_exhaustion_is_per_device},
        {"partials_and_unreferenced_photos_expire", partials_and_unreferenced_photos_expire},
        {"unannounced_photo_hidden_from_the_unit", unannounced_photo_hidden_from_the_unit},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown, .timeout_s = 180});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
