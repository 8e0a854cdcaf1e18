/*
 * test_diskfull.c: syncd on a full disk, end to end over HTTP.
 *
 * The data directory sits on a small tmpfs mounted in a private mount
 * namespace of this test process (it vanishes with the process, so nothing
 * is left mounted whatever happens).  Where the machine does not allow that
 * (no CAP_SYS_ADMIN), the same test runs with an injected write failure
 * instead: syncd starts with SIGXFSZ ignored and prlimit(2) lowers its
 * RLIMIT_FSIZE, so every write that grows a file fails (EFBIG) as a full
 * disk would; raising the limit is the space coming back.  The mode is
 * printed.
 *
 * With the disk full: a sync that pushes ops is answered 503 `storage` and
 * the log, the checkpoint and every state are as before; a photo chunk is
 * answered 503 with the verified offset, HEAD still reports that offset,
 * the partial file holds no unverified byte, and nothing half-written is
 * stored.  Once space returns the same ops and chunks go in, and
 * `syncd audit` passes.
 */
#define _GNU_SOURCE /* unshare, prlimit */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ids.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "sctest_server.h"

static char tmp[512], mnt[600], data[700], filler[700];
static sct_fixture fx;
static sct_server srv;
static bool on_tmpfs;

/* A 24 MiB tmpfs in a mount namespace of our own; false when not allowed. */
static bool mount_small_fs(void)
{
    if (getenv("SC_DISKFULL_FORCE_RLIMIT"))
        return false;
    if (unshare(CLONE_NEWNS) != 0)
        return false;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return false;
    return mount("sctest", mnt, "tmpfs", 0, "size=24m,mode=0700") == 0;
}

/* Fill the disk: a file that grows until the filesystem refuses. */
static void fill_disk(void)
{
    if (!on_tmpfs) {
        /* Every write that grows a file now fails with EFBIG. */
        struct rlimit rl = {0, RLIM_INFINITY};
        ck_assert_int_eq(prlimit(srv.pid, RLIMIT_FSIZE, &rl, NULL), 0);
        return;
    }
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    static uint8_t buf[64 * 1024];
    memset(buf, 0xee, sizeof buf);
    size_t piece = sizeof buf;
    while (piece >= 512) {
        ssize_t n = write(fd, buf, piece);
        if (n < 0 && errno == ENOSPC)
            piece /= 2;
        else
            ck_assert_int_gt(n, 0);
    }
    close(fd);
}

static void free_disk(void)
{
    if (!on_tmpfs) {
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
        ck_assert_int_eq(prlimit(srv.pid, RLIMIT_FSIZE, &rl, NULL), 0);
        return;
    }
    ck_assert_int_eq(unlink(filler), 0);
}

static void setup(void)
{
    sct_tempdir(tmp, sizeof tmp);
    snprintf(mnt, sizeof mnt, "%s/fs", tmp);
    ck_assert_int_eq(mkdir(mnt, 0700), 0);
    on_tmpfs = mount_small_fs();
    snprintf(data, sizeof data, "%s/data", mnt);
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    fprintf(stderr, "reliab/diskfull: %s\n",
            on_tmpfs ? "data on a 24 MiB tmpfs filled to the last block"
                     : "no mount allowed here: RLIMIT_FSIZE on syncd (EFBIG) stands for a full "
                       "disk");
    sct_fixture_make(&fx, data);
    /* Ignored signals stay ignored across exec: syncd gets EFBIG instead of dying. */
    signal(SIGXFSZ, SIG_IGN);
    sct_server_start(&srv, data, NULL);
}

static void teardown(void)
{
    sct_server_kill(&srv);
    if (on_tmpfs)
        umount2(mnt, MNT_DETACH);
    sct_rmtree(tmp);
}

/* Log size, root and replica hash as stored, and the served checkpoint: what must not move. */
typedef struct snapshot {
    uint64_t log_size;
    uint8_t replica[SC_HASH_LEN];
    uint64_t cp_size;
    uint8_t cp_root[SC_HASH_LEN];
} snapshot;

static void snap(sct_client *c, snapshot *s)
{
    sct_reg_view v;
    sct_reg_read(data, &v);
    s->log_size = v.log_size;
    memcpy(s->replica, v.replica_hash, SC_HASH_LEN);
    sct_reg_dispose(&v);
    sct_resp r;
    ck_assert_int_eq(sct_request(c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r), 200);
    Scpb__Checkpoint *cp = scpb__checkpoint__unpack(NULL, r.len, r.body);
    ck_assert_ptr_nonnull(cp);
    s->cp_size = cp->size;
    memcpy(s->cp_root, cp->root.data, SC_HASH_LEN);
    scpb__checkpoint__free_unpacked(cp, NULL);
    sct_resp_dispose(&r);
}

static void same(const snapshot *a, const snapshot *b, const char *what)
{
    ck_assert_msg(a->log_size == b->log_size && a->cp_size == b->cp_size,
                  "%s: the log moved from %llu to %llu", what, (unsigned long long)a->log_size,
                  (unsigned long long)b->log_size);
    ck_assert_msg(memcmp(a->replica, b->replica, SC_HASH_LEN) == 0, "%s: a state changed", what);
    ck_assert_msg(memcmp(a->cp_root, b->cp_root, SC_HASH_LEN) == 0, "%s: the root changed", what);
}

static long put_chunk(sct_client *c, const char *target, const uint8_t *d, size_t start,
                      size_t len, size_t total, sct_resp *r)
{
    char range[128];
    snprintf(range, sizeof range, "Content-Range: bytes %zu-%zu/%zu", start, start + len - 1, total);
    const char *const hdr[] = {range, "Content-Type: application/octet-stream", NULL};
    return sct_request(c, "PUT", target, d + start, len, hdr, NULL, r);
}

static int64_t head_offset(sct_client *c, const char *target, long *status)
{
    sct_resp r;
    *status = sct_request(c, "HEAD", target, NULL, 0, NULL, NULL, &r);
    int64_t off = r.offset;
    sct_resp_dispose(&r);
    return off;
}

/* The size of device k's upload of the blob (uploads are kept per device), -1 when none. */
static off_t partial_size(const sc_keypair *k, const char *name)
{
    char path[1200], dev[2 * SC_KEY_LEN + 1];
    struct stat st;
    sc_hex_encode(sc_keypair_public(k), SC_KEY_LEN, dev, sizeof dev);
    snprintf(path, sizeof path, "%s/blobs/partial/%s/%s.part", data, dev, name);
    return stat(path, &st) == 0 ? st.st_size : -1;
}

START_TEST(full_disk_is_503_and_recovers)
{
    sc_keypair *k = sct_key(1);
    sct_client c;
    sct_client_init(&c, srv.url, k);
    sct_fixture_enroll(data, &c, k, "inspector1", NULL, NULL);

    /* An inspection, and the first chunk of a photo, while there is room. */
    uint64_t clock = 0;
    uint8_t insp[SC_ID_LEN];
    sc_op *open = sct_op_open_inspection(k, &clock, insp, fx.target);
    Scpb__SyncResponse *resp = NULL;
    ck_assert_int_eq(sct_sync(&c, &open, 1, NULL, 0, 0, &resp), 200);
    ck_assert_int_eq(resp->results[0]->status, SCPB__OP_STATUS__OP_ACCEPTED);
    scpb__sync_response__free_unpacked(resp, NULL);
    enum { TOTAL = 3 * 256 * 1024, CHUNK = 256 * 1024 };
    uint8_t *photo = malloc(TOTAL);
    for (size_t i = 0; i < TOTAL; i++)
        photo[i] = (uint8_t)(i * 2654435761u >> 13);
    uint8_t h[SC_HASH_LEN];
    char name[65], target[128];
    sc_sha256(photo, TOTAL, h);
    sc_hex_encode(h, sizeof h, name, sizeof name);
    snprintf(target, sizeof target, "/v1/blobs/%s", name);
    sct_resp r;
    ck_assert_int_eq(put_chunk(&c, target, photo, 0, CHUNK, TOTAL, &r), 202);
    sct_resp_dispose(&r);

    /* 200 notes of 8 KB: more than any slack the database files still have. */
    enum { N = 200 };
    char text[8001];
    memset(text, 'n', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    sc_op *notes[N];
    for (int i = 0; i < N; i++) {
        text[0] = (char)('a' + i % 26);
        notes[i] = sct_op_note(k, &clock, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                               (const uint8_t(*)[SC_HASH_LEN])open->id, 1, text);
    }
    snapshot before, after;
    snap(&c, &before);

    fill_disk();
    unsigned refusals = 0;
    /* A sync that pushes: 503 storage, and nothing from it stored. */
    for (int attempt = 0; attempt < 3; attempt++) {
        Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
        ProtobufCBinaryData enc[N];
        for (int i = 0; i < N; i++)
            enc[i] = (ProtobufCBinaryData){notes[i]->signed_len, notes[i]->signed_bytes};
        sr.n_ops = N;
        sr.ops = enc;
        size_t n = scpb__sync_request__get_packed_size(&sr);
        uint8_t *body = malloc(n);
        scpb__sync_request__pack(&sr, body);
        sct_request(&c, "POST", "/v1/sync", body, n, NULL, NULL, &r);
        free(body);
        ck_assert_msg(r.status == 503, "push on a full disk: got %ld", r.status);
        ck_assert_str_eq(r.reason, "storage");
        Scpb__Error *e = sct_error(&r);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_gt(strlen(e->message), 0);
        scpb__error__free_unpacked(e, NULL);
        sct_resp_dispose(&r);
        refusals++;
        snap(&c, &after);
        same(&before, &after, "after a refused push");
    }
    /* A photo chunk: 503 storage with the verified offset; no unverified byte kept. */
    for (int attempt = 0; attempt < 3; attempt++) {
        put_chunk(&c, target, photo, CHUNK, CHUNK, TOTAL, &r);
        ck_assert_msg(r.status == 503, "chunk on a full disk: got %ld", r.status);
        ck_assert_str_eq(r.reason, "storage");
        ck_assert_int_eq(r.offset, CHUNK);
        sct_resp_dispose(&r);
        refusals++;
        long st = 0;
        ck_assert_int_eq(head_offset(&c, target, &st), CHUNK);
        ck_assert_int_eq(st, 404);
        ck_assert_int_eq(partial_size(k, name), CHUNK);
    }
    /* A new photo altogether: refused, and not stored half-way either. */
    {
        uint8_t small[64 * 1024];
        memset(small, 0x3c, sizeof small);
        char sname[65], starget[128];
        uint8_t sh[SC_HASH_LEN];
        sc_sha256(small, sizeof small, sh);
        sc_hex_encode(sh, sizeof sh, sname, sizeof sname);
        snprintf(starget, sizeof starget, "/v1/blobs/%s", sname);
        put_chunk(&c, starget, small, 0, sizeof small, sizeof small, &r);
        ck_assert_msg(r.status == 503, "a new photo on a full disk: got %ld", r.status);
        sct_resp_dispose(&r);
        refusals++;
        ck_assert(!sct_blob_stored(data, sh));
        ck_assert_int_le(partial_size(k, sname), 0);
    }
    size_t stored = 0;
    ck_assert_uint_eq(sct_blobs_bad(data, &stored), 0);
    ck_assert_uint_eq(stored, 0);

    /* Space comes back: the same ops and chunks go in, nothing restarted. */
    free_disk();
    ck_assert_int_eq(sct_sync(&c, notes, N, NULL, 0, 0, &resp), 200);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(resp->results[i]->status, SCPB__OP_STATUS__OP_ACCEPTED);
    ck_assert_uint_eq(resp->checkpoint->size, before.cp_size + N);
    scpb__sync_response__free_unpacked(resp, NULL);
    ck_assert_int_eq(put_chunk(&c, target, photo, CHUNK, CHUNK, TOTAL, &r), 202);
    sct_resp_dispose(&r);
    ck_assert_int_eq(put_chunk(&c, target, photo, 2 * CHUNK, CHUNK, TOTAL, &r), 201);
    sct_resp_dispose(&r);
    ck_assert(sct_blob_stored(data, h));
    ck_assert_int_eq(sct_server_stop(&srv), 0);
    char out[8192];
    int st = sct_audit(data, out, sizeof out);
    ck_assert_msg(st == 0, "syncd audit exited %d: %s", st, out);
    fprintf(stderr,
            "reliab/diskfull: %u requests refused 503 on the full disk (%s), nothing stored "
            "half-way; after space returned %d ops and a 3-chunk photo went in and audit "
            "passes\n",
            refusals, on_tmpfs ? "tmpfs" : "RLIMIT_FSIZE", N);

    for (int i = 0; i < N; i++)
        sc_op_free(sct_sys_env(), notes[i]);
    sc_op_free(sct_sys_env(), open);
    free(photo);
    sct_client_dispose(&c);
    sc_keypair_free(k);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("reliab/diskfull");
    const sct_case cases[] = {
        {"full_disk_is_503_and_recovers", full_disk_is_503_and_recovers},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown, .timeout_s = 240});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
