/*
 * backup.c: `syncd backup --data DIR --to PATH` (backup.h), while syncd
 * serves or not.  In order: the register, one consistent snapshot; its
 * latest checkpoint, origin and server key, read from the copy; the
 * server key, which must be the one the copy is signed with; every stored
 * photo, hashed as it is copied (a damaged one stops the backup); the
 * marks of photos no op names yet; the manifest, last.  All of it goes
 * into PATH.partial, renamed to PATH once synced, so an interruption at
 * any point leaves no PATH, and the next run clears PATH.partial away.
 *
 * The photos are copied after the register, so every photo an op in the
 * copied log names that was stored then is still stored (the sweep only
 * drops photos no op names) and is copied.
 */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/files.h"
#include "base/keyfile.h"
#include "blobs/blobs.h"
#include "commands.h"
#include "core/ids.h"
#include "core/keys.h"

typedef struct bk {
    const char *data; /* the data directory */
    sd_stage st;      /* PATH.partial */
    FILE *man;        /* its manifest, written as manifest.tmp */
    char man_tmp[SD_PATH_MAX + 32];
    char man_path[SD_PATH_MAX + 32];
    sd_store_progress progress;
    void *ctx;
    sd_backup_report *rep;
    sc_err *err;
} bk;

static sc_status path_fail(bk *b)
{
    return sc_err_set(b->err, SC_ERR_INVALID_ARG, 0, "a path is too long");
}

/* dir/name (and /rest when rest is not NULL) into out; false when it does not fit. */
static bool join(char *out, size_t cap, const char *dir, const char *name, const char *rest)
{
    int n = rest ? snprintf(out, cap, "%s/%s/%s", dir, name, rest)
                 : snprintf(out, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap;
}

static void hex(const uint8_t *b, size_t n, char *out, size_t cap)
{
    if (sc_hex_encode(b, n, out, cap) != SC_OK && cap)
        out[0] = '\0';
}

/* The copy's latest checkpoint, origin and key: what the backup holds, named in the manifest. */
static sc_status read_head(bk *b, const char *copy)
{
    sd_backup_head *h = &b->rep->head;
    sd_store *s = NULL;
    sc_status rc = sd_store_sqlite_open(copy, false, &s, b->err);
    if (rc != SC_OK)
        return rc;
    uint8_t *v = NULL;
    size_t n = 0;
    sd_checkpoint_row cp;
    char *note = NULL;
    uint64_t size = 0;
    rc = s->vt->begin(s, false, b->err);
    if (rc == SC_OK && (rc = s->vt->meta_get(s, "server_key", &v, &n, b->err)) == SC_OK) {
        if (n == SC_KEY_LEN)
            memcpy(h->server_key, v, SC_KEY_LEN);
        else
            rc = sc_err_set(b->err, SC_ERR_MALFORMED, 0, "the register's key is not 32 bytes");
    }
    free(v);
    v = NULL;
    if (rc == SC_OK && (rc = s->vt->meta_get(s, "origin", &v, &n, b->err)) == SC_OK) {
        if (n > 0 && n < sizeof h->origin) {
            memcpy(h->origin, v, n);
            h->origin[n] = '\0';
        } else {
            rc = sc_err_set(b->err, SC_ERR_MALFORMED, 0, "the register's origin is unusable");
        }
    }
    free(v);
    if (rc == SC_OK)
        rc = s->vt->checkpoint_latest(s, &cp, &note, b->err);
    if (rc == SC_OK)
        rc = s->vt->log_size(s, &size, b->err);
    free(note);
    if (rc == SC_OK && cp.size != size)
        rc = sc_err_set(b->err, SC_ERR_MALFORMED, 0,
                        "the register's latest checkpoint covers %llu entries but its log "
                        "has %llu; run `syncd audit`",
                        (unsigned long long)cp.size, (unsigned long long)size);
    if (rc == SC_OK) {
        h->size = cp.size;
        memcpy(h->root, cp.root, SC_HASH_LEN);
    }
    s->vt->rollback(s);
    s->vt->close(s);
    return rc;
}

/* DATA/name and PATH.partial/name, into src and dst (SD_PATH_MAX + 32 bytes each). */
static bool both_paths(bk *b, const char *name, char *src, char *dst)
{
    return join(src, SD_PATH_MAX + 32, b->data, name, NULL) &&
           join(dst, SD_PATH_MAX + 32, b->st.path, name, NULL);
}

/* The register: the snapshot, then what it says of itself, then its bytes' hash. */
static sc_status copy_register(bk *b)
{
    char src[SD_PATH_MAX + 32], dst[SD_PATH_MAX + 32];
    if (!both_paths(b, "register.db", src, dst))
        return path_fail(b);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    b->rep->head.taken_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    sc_status rc = sd_store_sqlite_backup(src, dst, b->progress, b->ctx, b->err);
    if (rc == SC_OK && chmod(dst, 0600) != 0)
        rc = sc_err_set(b->err, SC_ERR_IO, 0, "cannot chmod %s: %s", dst, strerror(errno));
    if (rc == SC_OK)
        rc = read_head(b, dst);
    /* Hashed last: reading the copy above must not have changed a byte (restore checks it). */
    if (rc == SC_OK)
        rc = sd_file_sha256(dst, b->rep->head.register_sha, &b->rep->head.register_bytes, b->err);
    sd_test_copy_delay();
    return rc;
}

/* The server key, which must be the one the copied register is signed with. */
static sc_status copy_key(bk *b)
{
    char src[SD_PATH_MAX + 32], dst[SD_PATH_MAX + 32];
    if (!both_paths(b, "server.key", src, dst))
        return path_fail(b);
    sc_status rc = sd_file_copy(src, dst, 0600, NULL, NULL, b->err);
    sc_keypair *kp = NULL;
    if (rc == SC_OK)
        rc = sd_keyfile_read(dst, &kp, b->err);
    if (rc == SC_OK && sodium_memcmp(sc_keypair_public(kp), b->rep->head.server_key, SC_KEY_LEN))
        rc = sc_err_set(b->err, SC_ERR_REJECTED, 0,
                        "%s is not the key the register is signed with; run `syncd audit "
                        "--data %s`",
                        src, b->data);
    sc_keypair_free(kp);
    return rc;
}

static sc_status write_head(bk *b)
{
    const sd_backup_head *h = &b->rep->head;
    char key[SC_KEY_LEN * 2 + 1], root[SC_HASH_HEX], sha[SC_HASH_HEX];
    hex(h->server_key, SC_KEY_LEN, key, sizeof key);
    hex(h->root, SC_HASH_LEN, root, sizeof root);
    hex(h->register_sha, SC_HASH_LEN, sha, sizeof sha);
    fprintf(b->man, "spotcheck-backup %d\norigin %s\nserver_key %s\ncheckpoint %llu %s\n",
            SD_BACKUP_VERSION, h->origin, key, (unsigned long long)h->size, root);
    fprintf(b->man, "register %llu %s\ntaken %lld\n", (unsigned long long)h->register_bytes, sha,
            (long long)h->taken_ms);
    return ferror(b->man) ? sc_err_set(b->err, SC_ERR_IO, 0, "cannot write the manifest") : SC_OK;
}

/* The stored photos in blobs/: how many, for progress. */
static uint64_t count_photos(const char *blobs)
{
    uint64_t n = 0;
    DIR *d = opendir(blobs);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char shard[SD_PATH_MAX + 8];
        if (!sd_blob_shard_valid(e->d_name) || !join(shard, sizeof shard, blobs, e->d_name, NULL))
            continue;
        DIR *sd = opendir(shard);
        struct dirent *f;
        while (sd && (f = readdir(sd)) != NULL)
            n += sd_blob_name_valid(f->d_name, strlen(f->d_name));
        if (sd)
            closedir(sd);
    }
    if (d)
        closedir(d);
    return n;
}

/* One photo of shard directory dir: copied, hashed against its name, and listed. */
static sc_status copy_photo(bk *b, const char *dir, const char *to_dir, const char *name)
{
    char src[SD_PATH_MAX + 80], dst[SD_PATH_MAX + 80];
    if (!join(src, sizeof src, dir, name, NULL) || !join(dst, sizeof dst, to_dir, name, NULL))
        return path_fail(b);
    uint8_t sha[SC_HASH_LEN], want[SC_HASH_LEN];
    uint64_t bytes = 0;
    sc_status rc = sd_file_copy(src, dst, 0600, sha, &bytes, b->err);
    if (rc == SC_ERR_NOT_FOUND) {
        /* Dropped by the sweep since it was listed: no op named it. */
        sc_err_clear(b->err);
        return SC_OK;
    }
    if (rc != SC_OK)
        return rc;
    if (sc_hex_decode(name, SD_BLOB_NAME_LEN, want, sizeof want) != SC_OK ||
        memcmp(sha, want, SC_HASH_LEN) != 0)
        return sc_err_set(b->err, SC_ERR_REJECTED, 0,
                          "the photo %s is damaged: its bytes do not hash to its name; "
                          "nothing was backed up (`syncd audit --data %s` names the op that names "
                          "it)",
                          src, b->data);
    fprintf(b->man, "photo %s %llu\n", name, (unsigned long long)bytes);
    b->rep->photos++;
    b->rep->photo_bytes += bytes;
    return SC_OK;
}

/* The photos of one shard directory (blobs/xx) into the stage, which is synced after them. */
static sc_status copy_shard(bk *b, const char *blobs, const char *to_blobs, const char *xx,
                            uint64_t total)
{
    char dir[SD_PATH_MAX + 8], to_dir[SD_PATH_MAX + 8];
    if (!join(dir, sizeof dir, blobs, xx, NULL) || !join(to_dir, sizeof to_dir, to_blobs, xx, NULL))
        return path_fail(b);
    DIR *d = opendir(dir);
    if (!d)
        return sc_err_set(b->err, SC_ERR_IO, 0, "cannot read %s: %s", dir, strerror(errno));
    sc_status rc = SC_OK;
    if (mkdir(to_dir, 0700) != 0)
        rc = sc_err_set(b->err, SC_ERR_IO, 0, "cannot create %s: %s", to_dir, strerror(errno));
    struct dirent *e;
    while (rc == SC_OK && (e = readdir(d)) != NULL) {
        if (!sd_blob_name_valid(e->d_name, strlen(e->d_name)) || strncmp(e->d_name, xx, 2) != 0)
            continue;
        rc = copy_photo(b, dir, to_dir, e->d_name);
        if (rc == SC_OK && b->progress)
            b->progress(b->ctx, "copy the photos", b->rep->photos, total);
        sd_test_copy_delay();
    }
    closedir(d);
    if (rc == SC_OK)
        rc = sd_fsync_dir(to_dir, b->err);
    return rc;
}

static sc_status copy_photos(bk *b)
{
    char blobs[SD_PATH_MAX + 8], to_blobs[SD_PATH_MAX + 8];
    if (!join(blobs, sizeof blobs, b->data, "blobs", NULL) ||
        !join(to_blobs, sizeof to_blobs, b->st.path, "blobs", NULL))
        return path_fail(b);
    if (mkdir(to_blobs, 0700) != 0)
        return sc_err_set(b->err, SC_ERR_IO, 0, "cannot create %s: %s", to_blobs, strerror(errno));
    uint64_t total = count_photos(blobs);
    DIR *d = opendir(blobs);
    if (!d)
        return sc_err_set(b->err, SC_ERR_IO, 0, "cannot read %s: %s", blobs, strerror(errno));
    sc_status rc = SC_OK;
    struct dirent *e;
    while (rc == SC_OK && (e = readdir(d)) != NULL)
        if (sd_blob_shard_valid(e->d_name))
            rc = copy_shard(b, blobs, to_blobs, e->d_name, total);
    closedir(d);
    if (rc == SC_OK)
        rc = sd_fsync_dir(to_blobs, b->err);
    return rc;
}

/* The marks of photos no op names yet (blobs/unref/DEV/SHA), with their times, as lines. */
static sc_status list_marks(bk *b)
{
    char unref[SD_PATH_MAX + 16];
    if (!join(unref, sizeof unref, b->data, "blobs", "unref"))
        return path_fail(b);
    DIR *d = opendir(unref);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char dev[SD_PATH_MAX + 80];
        if (strlen(e->d_name) != 2 * SC_KEY_LEN || !sd_blob_name_valid(e->d_name, 2 * SC_KEY_LEN) ||
            !join(dev, sizeof dev, unref, e->d_name, NULL))
            continue;
        DIR *dd = opendir(dev);
        struct dirent *m;
        while (dd && (m = readdir(dd)) != NULL) {
            char path[SD_PATH_MAX + 160];
            struct stat sb;
            if (!sd_blob_name_valid(m->d_name, strlen(m->d_name)) ||
                !join(path, sizeof path, dev, m->d_name, NULL) || lstat(path, &sb) != 0)
                continue;
            fprintf(b->man, "mark %s %s %lld\n", e->d_name, m->d_name, (long long)sb.st_mtime);
            b->rep->marks++;
        }
        if (dd)
            closedir(dd);
    }
    if (d)
        closedir(d);
    return SC_OK;
}

/*
 * The end line, the manifest synced and given its name: until then the
 * stage has no manifest, so even a copy of PATH.partial is no backup.
 */
static sc_status finish_manifest(bk *b)
{
    fprintf(b->man, "end %llu %llu\n", (unsigned long long)b->rep->photos,
            (unsigned long long)b->rep->marks);
    bool ok = fflush(b->man) == 0 && !ferror(b->man) && fsync(fileno(b->man)) == 0;
    ok = fclose(b->man) == 0 && ok;
    b->man = NULL;
    if (!ok || rename(b->man_tmp, b->man_path) != 0)
        return sc_err_set(b->err, SC_ERR_IO, 0, "cannot write %s", b->man_path);
    return SC_OK;
}

sc_status sd_backup_run(const char *data_dir, const char *to, sd_store_progress progress, void *ctx,
                        sd_backup_report *rep, sc_err *err)
{
    memset(rep, 0, sizeof *rep);
    sc_err_clear(err);
    if (sc_crypto_init() != SC_OK)
        return sc_err_set(err, SC_ERR_CRYPTO, 0, "libsodium failed to initialise");
    sd_store_loc loc;
    sc_status lrc = sd_store_locate(data_dir, &loc, err);
    sodium_memzero(loc.target, sizeof loc.target);
    if (lrc != SC_OK)
        return lrc;
    if (loc.pg)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "backup: the register of %s is in PostgreSQL (%s): back it up with "
                          "pg_dump or a base backup, and the blob directory %s beside it "
                          "(docs/operations.md, \"Several syncd on PostgreSQL\")",
                          data_dir, loc.shown, loc.blobs);
    bk b = {.data = data_dir, .progress = progress, .ctx = ctx, .rep = rep, .err = err};
    sc_status rc = sd_stage_begin(&b.st, to, SD_BACKUP_STAGE, "backup", err);
    if (rc != SC_OK)
        return rc;
    rep->stale_removed = b.st.stale_removed;
    if (!join(b.man_path, sizeof b.man_path, b.st.path, SD_BACKUP_MANIFEST, NULL) ||
        !join(b.man_tmp, sizeof b.man_tmp, b.st.path, SD_BACKUP_MANIFEST ".tmp", NULL))
        rc = path_fail(&b);
    if (rc == SC_OK)
        rc = copy_register(&b);
    if (rc == SC_OK)
        rc = copy_key(&b);
    if (rc == SC_OK && (b.man = fopen(b.man_tmp, "wx")) == NULL)
        rc = sc_err_set(err, SC_ERR_IO, 0, "cannot create %s: %s", b.man_tmp, strerror(errno));
    if (rc == SC_OK)
        rc = write_head(&b);
    if (rc == SC_OK)
        rc = copy_photos(&b);
    if (rc == SC_OK)
        rc = list_marks(&b);
    if (rc == SC_OK)
        rc = finish_manifest(&b);
    if (rc == SC_OK)
        rc = sd_stage_commit(&b.st, err);
    if (b.man)
        fclose(b.man);
    if (rc != SC_OK)
        sd_stage_abort(&b.st);
    return rc;
}

/* ---- the command ---- */

void sd_backup_progress_print(void *ctx, const char *step, uint64_t done, uint64_t total)
{
    sd_progress_printer *p = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    bool changed = strcmp(step, p->step) != 0;
    /* A line when a step starts or ends, and at most one a second between. */
    if (!changed && done != total && ms - p->last_ms < 1000)
        return;
    if (!changed && done == total && p->done_said)
        return;
    if (changed) {
        snprintf(p->step, sizeof p->step, "%s", step);
        p->done_said = false;
    }
    p->done_said = done == total;
    p->last_ms = ms;
    if (total != 1)
        fprintf(stderr, "syncd %s: %s: %llu of %llu\n", p->command, step, (unsigned long long)done,
                (unsigned long long)total);
    else if (done == 0) /* a step in one go: said as it starts */
        fprintf(stderr, "syncd %s: %s\n", p->command, step);
}

int sd_cmd_backup(int argc, char **argv)
{
    const char *data = NULL, *to = NULL;
    const sd_option opts[] = {{"data", &data, NULL}, {"to", &to, NULL}, {NULL, NULL, NULL}};
    int st = sd_cmdline_parse("backup", argc, argv, opts, NULL, 0, NULL);
    if (st >= 0)
        return st;
    if (!data || !to)
        return sd_cmdline_fail("backup", "--data DIR and --to PATH are needed");
    sd_backup_report rep;
    sc_err err;
    sd_progress_printer pp = {.command = "backup"};
    sc_status rc = sd_backup_run(data, to, sd_backup_progress_print, &pp, &rep, &err);
    if (rep.stale_removed)
        fprintf(stderr, "syncd backup: removed %s%s, left by a backup that was interrupted\n", to,
                SD_BACKUP_STAGE);
    if (rc != SC_OK) {
        fprintf(stderr, "syncd backup: %s\n", err.msg);
        return 1;
    }
    char root[SC_HASH_HEX];
    hex(rep.head.root, SC_HASH_LEN, root, sizeof root);
    printf("backed up %s to %s\n", data, to);
    printf("  checkpoint: %llu entries, root %s\n", (unsigned long long)rep.head.size, root);
    printf("  register:   %llu bytes\n", (unsigned long long)rep.head.register_bytes);
    printf("  photos:     %llu (%llu bytes)\n", (unsigned long long)rep.photos,
           (unsigned long long)rep.photo_bytes);
    return 0;
}
