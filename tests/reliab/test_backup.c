/*
 * test_backup.c: `syncd backup` and `syncd restore` (docs/operations.md,
 * "Backup and restore"), with real syncd processes on loopback.
 *
 * while_devices_push: four libspotcheck tablets record inspections,
 * findings and photos and sync while the backup runs.  Every photo stored
 * before the backup began is in it; the backup restores into a new data
 * directory whose audit holds (photos an op names and that no tablet had
 * uploaded when the backup was made are the only thing it may lack, and
 * each is one the tablets uploaded later); syncd serves the restored
 * register, a tablet whose last sync came before the backup syncs on, and
 * the tablets that synced after it refuse the shorter history.
 *
 * backup_killed / restore_killed: each is killed with SIGKILL in the
 * middle (slowed with SD_TEST_COPY_DELAY_MS, the test hook of
 * base/files.h), which leaves nothing that looks like a result: no
 * PATH, no DIR, only PATH.partial or DIR.restoring, which restore refuses
 * and the next run clears away; a second run while the first one writes
 * is refused; the run after the kill succeeds.
 *
 * refusals: a restore refuses a backup with a missing photo, a damaged
 * photo, another register's server key, a register cut short, a trigger
 * added to the register or no manifest, naming what is wrong and leaving no data directory; both
 * refuse a target that is not empty; a backup refuses a data directory
 * whose stored photo is damaged.
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ids.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "sctest_server.h"
#include "workload.h"

#define CREW 4

static sct_live L; /* the register and its syncd, made anew for each test */
static char out[1 << 16];

static bool exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* path + suffix into a static buffer (one call per statement). */
static const char *with(const char *path, const char *suffix)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s%s", path, suffix);
    return buf;
}

static void must_contain(const char *text, const char *needle, const char *what)
{
    ck_assert_msg(strstr(text, needle) != NULL, "%s: \"%s\" not in:\n%s", what, needle, text);
}

/* fn(ctx, name) for each file directly in each blobs/xx of a data directory or a backup. */
static void each_blob(const char *dir, void (*fn)(void *ctx, const char *name), void *ctx)
{
    char blobs[1024];
    snprintf(blobs, sizeof blobs, "%s/blobs", dir);
    DIR *d = opendir(blobs);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char shard[1100];
        if (strlen(e->d_name) != 2 || e->d_name[0] == '.')
            continue;
        snprintf(shard, sizeof shard, "%s/%s", blobs, e->d_name);
        DIR *s = opendir(shard);
        struct dirent *f;
        while (s && (f = readdir(s)) != NULL)
            if (strlen(f->d_name) == 2 * SC_HASH_LEN)
                fn(ctx, f->d_name);
        if (s)
            closedir(s);
    }
    if (d)
        closedir(d);
}

static void count_one(void *ctx, const char *name)
{
    (void)name;
    (*(size_t *)ctx)++;
}

static size_t count_blobs(const char *dir)
{
    size_t n = 0;
    each_blob(dir, count_one, &n);
    return n;
}

typedef struct names {
    char *all;
    size_t used, cap;
} names;

static void name_one(void *ctx, const char *name)
{
    names *n = ctx;
    if (n->used + 2 * SC_HASH_LEN + 2 <= n->cap)
        n->used += (size_t)snprintf(n->all + n->used, n->cap - n->used, "%s\n", name);
}

/* The stored photo names of a data directory, as one string of "name\n" lines (malloc'd). */
static char *blob_names(const char *dir)
{
    names n = {NULL, 0, (count_blobs(dir) + 1) * (2 * SC_HASH_LEN + 1) + 1};
    n.all = calloc(1, n.cap);
    ck_assert_ptr_nonnull(n.all);
    each_blob(dir, name_one, &n);
    return n.all;
}

/* The text of a file (malloc'd, NUL-terminated). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* The checkpoint size a backup's manifest names (read here from the text, independently of syncd).
 */
static uint64_t manifest_size(const char *backup)
{
    char *m = slurp(with(backup, "/manifest"));
    const char *c = strstr(m, "\ncheckpoint ");
    ck_assert_ptr_nonnull(c);
    uint64_t n = strtoull(c + 12, NULL, 10);
    free(m);
    return n;
}

/* Photos stored in a data directory: n random files of size bytes under blobs/xx/<sha>. */
static void stored_photos(const char *data, unsigned n, size_t size)
{
    uint8_t *buf = malloc(size);
    ck_assert_ptr_nonnull(buf);
    for (unsigned i = 0; i < n; i++) {
        randombytes_buf(buf, size);
        uint8_t sha[SC_HASH_LEN];
        char hex[SC_HASH_HEX], path[1200];
        sc_sha256(buf, size, sha);
        sc_hex_encode(sha, SC_HASH_LEN, hex, sizeof hex);
        snprintf(path, sizeof path, "%s/blobs/%.2s", data, hex);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/blobs/%.2s/%s", data, hex, hex);
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(buf, 1, size, f), size);
        ck_assert_int_eq(fclose(f), 0);
    }
    free(buf);
}

/* syncd ARGS slowed by the copy hook, in the background, its output into log. */
static pid_t slow_syncd(const char *log, const char *a, const char *b, const char *c, const char *d,
                        const char *e)
{
    const char *argv[] = {sct_syncd_path(), a, b, c, d, e, NULL};
    setenv("SD_TEST_COPY_DELAY_MS", "25", 1);
    pid_t pid = sct_spawn(argv, log);
    unsetenv("SD_TEST_COPY_DELAY_MS");
    return pid;
}

/* Wait (10 s at most) until dir holds at least n photos: the copy is well under way. */
static void wait_for_blobs(const char *dir, size_t n, pid_t pid)
{
    for (int i = 0; i < 1000 && count_blobs(dir) < n; i++) {
        ck_assert_msg(sct_wait_pid(pid, 0) == -1, "the command ended before it was killed");
        sct_sleep_ms(10);
    }
    ck_assert_uint_ge(count_blobs(dir), n);
}

/* Restart syncd on the data directory `data` at the port the tablets know. */
static void serve_at(const char *data, uint16_t port)
{
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)port);
    const char *extra[] = {"--listen", listen, NULL};
    sct_server_start(&L.srv, data, extra);
    ck_assert_uint_eq(L.srv.port, port);
}

/*
 * The audit of a restored directory: it holds, or (exit 3) lacks only
 * photos the tablets had not uploaded when the backup was made, each of
 * which is stored in the live data directory now.
 */
static void audit_restored(const char *dir)
{
    int st = sct_audit(dir, out, sizeof out);
    if (st == 0)
        return;
    ck_assert_msg(st == 3, "syncd audit of the restored directory exited %d: %s", st, out);
    static const char tag[] = "  photo not stored: ";
    char *live = blob_names(L.data);
    for (const char *l = strstr(out, tag); l; l = strstr(l + 1, tag)) {
        char name[2 * SC_HASH_LEN + 1];
        snprintf(name, sizeof name, "%.64s", l + strlen(tag));
        ck_assert_msg(strstr(live, name) != NULL, "photo %s is neither restored nor uploaded",
                      name);
    }
    free(live);
}

START_TEST(while_devices_push)
{
    uint64_t seed = sct_seed("reliab/backup while_devices_push");
    uint16_t port = L.srv.port;
    wl_client quiet, cl[CREW];
    wl_open(&quiet, 0, L.tmp, seed, NULL);
    wl_enroll(&quiet, L.srv.url, L.data, "inspector1");
    for (int i = 0; i < CREW; i++) {
        wl_open(&cl[i], i + 1, L.tmp, seed + (uint64_t)i + 1, NULL);
        wl_enroll(&cl[i], L.srv.url, L.data, i < 3 ? "inspector1" : "supervisor1");
    }
    /* The quiet tablet records and syncs before the backup, then stays offline. */
    for (int i = 0; i < 8; i++)
        wl_action(&quiet);
    wl_settle(&quiet, 1, 10);

    wl_crew crew;
    wl_crew_start(&crew, cl, CREW, 2, 0);
    sct_sleep_ms(1500);
    char *before = blob_names(L.data);
    char bk[700], restored[700];
    snprintf(bk, sizeof bk, "%s/backup", L.tmp);
    snprintf(restored, sizeof restored, "%s/restored", L.tmp);
    int st = sct_syncd_run_all(out, sizeof out, "backup", "--data", L.data, "--to", bk, NULL);
    ck_assert_msg(st == 0, "syncd backup exited %d: %s", st, out);
    must_contain(out, "backed up ", "syncd backup");
    sct_sleep_ms(300);
    wl_crew_stop(&crew);
    for (int i = 0; i < CREW; i++)
        ck_assert_msg(cl[i].errors == 0, "device %d: %s", i + 1, cl[i].first_error);

    /* One checkpoint, and every photo stored before the backup began is in it. */
    ck_assert(!exists(with(bk, ".partial")));
    uint64_t size = manifest_size(bk);
    sct_reg_view reg;
    sct_reg_read(L.data, &reg);
    ck_assert_uint_le(size, reg.log_size);
    sct_reg_dispose(&reg);
    char *man = slurp(with(bk, "/manifest")), *line = before;
    size_t photos_before = 0;
    for (char *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1, photos_before++) {
        char want[2 * SC_HASH_LEN + 16];
        snprintf(want, sizeof want, "\nphoto %.*s ", (int)(nl - line), line);
        ck_assert_msg(strstr(man, want) != NULL, "photo %.*s stored before the backup is not in it",
                      (int)(nl - line), line);
    }
    ck_assert_uint_gt(photos_before, 0);
    free(man);
    free(before);

    /* Restored elsewhere, it audits clean and serves: the quiet tablet syncs on. */
    ck_assert_int_eq(sct_server_stop(&L.srv), 0);
    L.srv.pid = 0;
    st = sct_syncd_run_all(out, sizeof out, "restore", "--from", bk, "--data", restored, NULL);
    ck_assert_msg(st == 0, "syncd restore exited %d: %s", st, out);
    must_contain(out, "the audit holds", "syncd restore");
    audit_restored(restored);
    serve_at(restored, port);
    for (int i = 0; i < 6; i++)
        wl_action(&quiet);
    wl_settle(&quiet, 1, 10);
    ck_assert_uint_eq(quiet.errors, 0);
    sct_reg_read(restored, &reg);
    ck_assert_uint_gt(reg.log_size, size);
    sct_reg_dispose(&reg);
    audit_restored(restored);

    /* Tablets that verified a longer log than the backup's refuse the restored one. */
    unsigned refused = 0;
    for (int i = 0; i < CREW; i++) {
        sc_status s = sc_sync(cl[i].c, NULL, NULL, NULL);
        ck_assert_msg(s == SC_OK || s == SC_ERR_HISTORY_REWRITTEN, "device %d: %s", i + 1,
                      sc_client_errmsg(cl[i].c));
        refused += s == SC_ERR_HISTORY_REWRITTEN;
        wl_close(&cl[i]);
    }
    ck_assert_uint_gt(refused, 0);
    fprintf(stderr,
            "reliab/backup while_devices_push: a backup of %llu log entries and %zu+ photos "
            "taken while %d tablets pushed; restored, audited, served; the quiet tablet synced "
            "on and %u tablets refused the shorter history\n",
            (unsigned long long)size, photos_before, CREW, refused);
    wl_close(&quiet);
}
END_TEST

/*
 * `syncd CMD O1 V1 O2 V2`, slowed, killed with SIGKILL once it has copied 10
 * photos into stage; meanwhile the same command beside it is refused.
 */
static void killed_midway(const char *cmd, const char *o1, const char *v1, const char *o2,
                          const char *v2, const char *stage)
{
    char log[700], want[64];
    snprintf(log, sizeof log, "%s/%s.log", L.tmp, cmd);
    pid_t pid = slow_syncd(log, cmd, o1, v1, o2, v2);
    wait_for_blobs(stage, 10, pid);
    int st = sct_syncd_run_all(out, sizeof out, cmd, o1, v1, o2, v2, NULL);
    ck_assert_int_eq(st, 1);
    snprintf(want, sizeof want, "another syncd %s is writing", cmd);
    must_contain(out, want, "a second run beside the first");
    kill(pid, SIGKILL);
    ck_assert_int_eq(sct_wait_pid(pid, 10000), 128 + SIGKILL);
}

START_TEST(backup_killed)
{
    stored_photos(L.data, 120, 2048);
    char bk[700], r1[700];
    snprintf(bk, sizeof bk, "%s/backup", L.tmp);
    snprintf(r1, sizeof r1, "%s/r1", L.tmp);
    killed_midway("backup", "--data", L.data, "--to", bk, with(bk, ".partial"));

    /* Nothing that looks like a backup: no PATH, and PATH.partial has no manifest. */
    ck_assert(!exists(bk));
    ck_assert(exists(with(bk, ".partial")));
    ck_assert(!exists(with(bk, ".partial/manifest")));
    int st = sct_syncd_run_all(out, sizeof out, "restore", "--from", with(bk, ".partial"), "--data",
                               r1, NULL);
    ck_assert_int_eq(st, 1);
    must_contain(out, "is not a backup made by `syncd backup`", "restore of a partial backup");
    ck_assert(!exists(r1) && !exists(with(r1, ".restoring")));

    /* The next run clears the remains away and completes. */
    st = sct_syncd_run_all(out, sizeof out, "backup", "--data", L.data, "--to", bk, NULL);
    ck_assert_msg(st == 0, "the backup after the kill exited %d: %s", st, out);
    must_contain(out, "left by a backup that was interrupted", "the backup after the kill");
    ck_assert(!exists(with(bk, ".partial")));
    ck_assert_uint_eq(count_blobs(bk), count_blobs(L.data));
    ck_assert_uint_ge(count_blobs(bk), 120);
}
END_TEST

START_TEST(restore_killed)
{
    stored_photos(L.data, 120, 2048);
    char bk[700], dir[700];
    snprintf(bk, sizeof bk, "%s/backup", L.tmp);
    snprintf(dir, sizeof dir, "%s/restored", L.tmp);
    int st = sct_syncd_run_all(out, sizeof out, "backup", "--data", L.data, "--to", bk, NULL);
    ck_assert_msg(st == 0, "syncd backup exited %d: %s", st, out);
    /* Into an empty directory made for it, as a service's data directory is. */
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    killed_midway("restore", "--from", bk, "--data", dir, with(dir, ".restoring"));

    /* The data directory is as it was, empty: nothing half-restored for syncd to serve. */
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t entries = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        entries += e->d_name[0] != '.';
    closedir(d);
    ck_assert_uint_eq(entries, 0);
    ck_assert_int_ne(sct_syncd_run_all(out, sizeof out, "audit", "--data", dir, NULL), 0);

    st = sct_syncd_run_all(out, sizeof out, "restore", "--from", bk, "--data", dir, NULL);
    ck_assert_msg(st == 0, "the restore after the kill exited %d: %s", st, out);
    must_contain(out, "left by a restore that was interrupted", "the restore after the kill");
    ck_assert(!exists(with(dir, ".restoring")));
    ck_assert_int_eq(sct_audit(dir, out, sizeof out), 0);
    ck_assert_uint_eq(count_blobs(dir), count_blobs(L.data));
}
END_TEST

/* cp -a from to. */
static void copy_tree(const char *from, const char *to)
{
    const char *argv[] = {"/bin/cp", "-a", from, to, NULL};
    ck_assert_int_eq(sct_wait_pid(sct_spawn(argv, NULL), 30000), 0);
}

/* A copy of the backup made bad by the caller is refused, naming what is wrong, leaving nothing. */
static void refused(const char *bad, const char *what, const char *needle)
{
    char dir[700];
    snprintf(dir, sizeof dir, "%s/refused", L.tmp);
    int st = sct_syncd_run_all(out, sizeof out, "restore", "--from", bad, "--data", dir, NULL);
    ck_assert_msg(st == 1, "restore of a backup with %s exited %d: %s", what, st, out);
    must_contain(out, needle, what);
    must_contain(out, "nothing was restored", what);
    ck_assert_msg(!exists(dir) && !exists(with(dir, ".restoring")), "%s left a directory", what);
}

/*
 * Add a trigger to a backup's register, and write its new size and SHA-256
 * into the manifest (which is not signed), as someone holding the backup can.
 */
static void add_trigger(const char *backup)
{
    char db[800], cmd[2000], path[800];
    snprintf(db, sizeof db, "%s/register.db", backup);
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s' \"CREATE TRIGGER undo_revoke AFTER UPDATE OF revoked_idx ON devices "
             "BEGIN UPDATE devices SET revoked_idx = NULL WHERE key = new.key; END;\"",
             db);
    ck_assert_int_eq(system(cmd), 0);
    char *bytes = slurp(db);
    struct stat sb;
    ck_assert_int_eq(stat(db, &sb), 0);
    uint8_t sha[SC_HASH_LEN];
    crypto_hash_sha256(sha, (const uint8_t *)bytes, (unsigned long long)sb.st_size);
    free(bytes);
    char hex[2 * SC_HASH_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, sha, SC_HASH_LEN);
    snprintf(path, sizeof path, "%s/manifest", backup);
    char *man = slurp(path), *line = strstr(man, "\nregister ");
    ck_assert_ptr_nonnull(line);
    char *end = strchr(line + 1, '\n');
    ck_assert_ptr_nonnull(end);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%.*s\nregister %lld %s%s", (int)(line - man), man, (long long)sb.st_size, hex, end);
    ck_assert_int_eq(fclose(f), 0);
    free(man);
}

/* The first photo line of a backup's manifest: its name into name (65 bytes). */
static void first_photo(const char *backup, char *name)
{
    char *m = slurp(with(backup, "/manifest"));
    const char *p = strstr(m, "\nphoto ");
    ck_assert_ptr_nonnull(p);
    snprintf(name, 2 * SC_HASH_LEN + 1, "%.64s", p + 7);
    free(m);
}

static void flip_byte(const char *path, long at)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x01, f);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(refusals)
{
    /* A register whose ops name photos, uploaded by a tablet. */
    wl_client w;
    wl_open(&w, 0, L.tmp, sct_seed("reliab/backup refusals"), NULL);
    wl_enroll(&w, L.srv.url, L.data, "inspector1");
    for (int i = 0; i < 40 && w.photos < 2; i++)
        wl_action(&w);
    wl_settle(&w, 1, 10);
    ck_assert_uint_ge(w.photos, 2);
    char bk[700], bad[700], good[700], other[700], name[2 * SC_HASH_LEN + 1], path[1400];
    snprintf(bk, sizeof bk, "%s/backup", L.tmp);
    snprintf(bad, sizeof bad, "%s/bad", L.tmp);
    snprintf(good, sizeof good, "%s/good", L.tmp);
    snprintf(other, sizeof other, "%s/other", L.tmp);
    int st = sct_syncd_run_all(out, sizeof out, "backup", "--data", L.data, "--to", bk, NULL);
    ck_assert_msg(st == 0, "syncd backup exited %d: %s", st, out);
    first_photo(bk, name);

    /* The backup as made restores; a target that is not empty is refused, and left alone. */
    st = sct_syncd_run_all(out, sizeof out, "restore", "--from", bk, "--data", good, NULL);
    ck_assert_msg(st == 0, "syncd restore exited %d: %s", st, out);
    ck_assert_int_eq(
        sct_syncd_run_all(out, sizeof out, "restore", "--from", bk, "--data", good, NULL), 1);
    must_contain(out, "exists and is not an empty directory", "a restore over a data directory");
    ck_assert_int_eq(sct_audit(good, out, sizeof out), 0);
    ck_assert_int_eq(
        sct_syncd_run_all(out, sizeof out, "backup", "--data", L.data, "--to", good, NULL), 1);
    must_contain(out, "exists and is not an empty directory", "a backup over a directory");

    /* A photo missing. */
    copy_tree(bk, bad);
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", bad, name, name);
    ck_assert_int_eq(unlink(path), 0);
    refused(bad, "a photo missing", "lacks 1 of the photos it held when it was made");
    refused(bad, "a photo missing", path);
    sct_rmtree(bad);
    /* A FIFO in a photo's place: refused as not a regular file, without waiting on it. */
    copy_tree(bk, bad);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    refused(bad, "a FIFO for a photo", "is not a regular file");
    sct_rmtree(bad);
    /* A photo damaged: one byte flipped, the size unchanged. */
    copy_tree(bk, bad);
    flip_byte(path, 10);
    refused(bad, "a damaged photo", "holds 1 damaged photos (the first: ");
    sct_rmtree(bad);
    /* Another register's server key. */
    copy_tree(bk, bad);
    ck_assert_int_eq(sct_syncd_run(NULL, 0, "init", "--data", other, NULL), 0);
    snprintf(path, sizeof path, "%s/server.key", bad);
    unlink(path);
    copy_tree(with(other, "/server.key"), path);
    refused(bad, "another register's key", "another register's");
    sct_rmtree(bad);
    /* A manifest naming another server key (it is not signed): the key told is the one the
     * register's checkpoints verify under, so this is refused, not printed as the key. */
    copy_tree(bk, bad);
    snprintf(path, sizeof path, "%s/manifest", bad);
    char *man = slurp(path), *key = strstr(man, "\nserver_key ");
    ck_assert_ptr_nonnull(key);
    memset(key + strlen("\nserver_key "), '1', 2 * SC_KEY_LEN);
    FILE *mf = fopen(path, "w");
    ck_assert_ptr_nonnull(mf);
    ck_assert_int_eq(fputs(man, mf) >= 0, 1);
    ck_assert_int_eq(fclose(mf), 0);
    free(man);
    refused(bad, "a manifest naming another key", "the manifest is not this register's");
    sct_rmtree(bad);
    /* The register cut short. */
    copy_tree(bk, bad);
    snprintf(path, sizeof path, "%s/register.db", bad);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(truncate(path, sb.st_size / 2), 0);
    refused(bad, "a register cut short", "the register in the backup is damaged (cut short)");
    sct_rmtree(bad);
    /* A trigger added to the register (the manifest made to match its bytes): it would run
     * inside syncd on every later write, undoing revocations without an op. */
    copy_tree(bk, bad);
    add_trigger(bad);
    refused(bad, "a register with a trigger added",
            "the register's schema holds what syncd never makes (trigger undo_revoke on devices)");
    sct_rmtree(bad);
    /* No manifest. */
    copy_tree(bk, bad);
    snprintf(path, sizeof path, "%s/manifest", bad);
    ck_assert_int_eq(unlink(path), 0);
    refused(bad, "no manifest", "is not a backup made by `syncd backup`");
    sct_rmtree(bad);

    /* A stored photo damaged in the data directory: no backup is made of it. */
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", L.data, name, name);
    flip_byte(path, 10);
    st = sct_syncd_run_all(out, sizeof out, "backup", "--data", L.data, "--to", bad, NULL);
    ck_assert_int_eq(st, 1);
    must_contain(out, "is damaged", "a backup of a damaged photo");
    must_contain(out, name, "a backup of a damaged photo");
    ck_assert(!exists(bad) && !exists(with(bad, ".partial")));
    wl_close(&w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("reliab/backup");
    sct_live_use(&L);
    const sct_case cases[] = {
        {"while_devices_push", while_devices_push},
        {"backup_killed", backup_killed},
        {"restore_killed", restore_killed},
        {"refusals", refusals},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){
                      .setup = sct_live_setup, .teardown = sct_live_teardown, .timeout_s = 300});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
