/*
 * restore.c: `syncd restore --from PATH --data DIR` (backup.h).  The
 * manifest is read whole and checked first; then into DIR.restoring go
 * the register (its bytes against the manifest), the key, every photo the
 * manifest lists (each hashed against its name and size as it is copied)
 * and the marks; then the directory is audited with `syncd audit`'s
 * checks (audit.h) and the log's size and root compared with the
 * manifest's checkpoint.  Only a restore that passes all of it is renamed
 * to DIR.  A failure, a kill -9 or a full disk leaves DIR as it was (absent
 * or empty); DIR.restoring is removed on failure, and by the next run
 * after a kill.
 */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "base/files.h"
#include "blobs/blobs.h"
#include "commands.h"
#include "core/ids.h"
#include "core/keys.h"

/* The largest number a manifest may give a size or a time (2^53: exact anywhere). */
#define NUM_MAX ((uint64_t)1 << 53)

/* ---- the manifest ---- */

typedef struct mf {
    FILE *f;
    char path[SD_PATH_MAX + 16];
    unsigned line; /* the line in buf */
    char buf[SC_BACKUP_LINE_MAX + 2];
    sc_err *err;
} mf;

typedef struct mf_item {
    enum { ITEM_PHOTO, ITEM_MARK, ITEM_END } kind;
    char name[SD_BLOB_NAME_LEN + 1]; /* photo: its name */
    char device[2 * SC_KEY_LEN + 1]; /* mark: the device that stored it */
    uint64_t bytes;                  /* photo: its size */
    int64_t mtime;                   /* mark: its time (Unix seconds) */
    uint64_t photos, marks;          /* end: the counts */
} mf_item;

static sc_status mf_bad(mf *m, const char *what)
{
    return sc_err_set(m->err, SC_ERR_MALFORMED, 0, "%s, line %u: %s", m->path, m->line, what);
}

static sc_status mf_open(mf *m, const char *dir, sc_err *err)
{
    memset(m, 0, sizeof *m);
    m->err = err;
    snprintf(m->path, sizeof m->path, "%s/" SD_BACKUP_MANIFEST, dir);
    m->f = fopen(m->path, "r");
    if (!m->f)
        return sc_err_set(err, errno == ENOENT ? SC_ERR_NOT_FOUND : SC_ERR_IO, 0,
                          "%s is not a backup made by `syncd backup`: %s: %s (a backup "
                          "that was interrupted has none)",
                          dir, m->path, strerror(errno));
    return SC_OK;
}

/* The next line into m->buf without its newline; *eof at the end. */
static sc_status mf_next(mf *m, bool *eof)
{
    *eof = false;
    if (!fgets(m->buf, sizeof m->buf, m->f)) {
        if (ferror(m->f))
            return sc_err_set(m->err, SC_ERR_IO, 0, "cannot read %s", m->path);
        *eof = true;
        return SC_OK;
    }
    m->line++;
    size_t n = strlen(m->buf);
    if (n == 0 || m->buf[n - 1] != '\n')
        return mf_bad(m, feof(m->f) ? "the last line is cut short" : "a line too long");
    m->buf[n - 1] = '\0';
    return SC_OK;
}

/* The next word of *s (words are separated by one space), or NULL at the end. */
static const char *next_word(char **s)
{
    if (!*s || !**s)
        return NULL;
    char *w = *s, *sp = strchr(w, ' ');
    if (sp) {
        *sp = '\0';
        *s = sp + 1;
    } else {
        *s = w + strlen(w);
    }
    return w;
}

static bool parse_num(const char *w, uint64_t *out)
{
    if (!w || !w[0] || strlen(w) > 16)
        return false;
    uint64_t v = 0;
    for (const char *p = w; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return v <= NUM_MAX;
}

/* 32 bytes (a key or a hash) as 64 lowercase hex digits into out, or false. */
static bool parse_hex(const char *w, size_t len, uint8_t *out)
{
    _Static_assert(SC_KEY_LEN == SC_HASH_LEN && 2 * SC_HASH_LEN == SD_BLOB_NAME_LEN,
                   "keys and hashes are both written as blob names are");
    return w && len == SC_HASH_LEN && strlen(w) == SD_BLOB_NAME_LEN &&
           sd_blob_name_valid(w, SD_BLOB_NAME_LEN) && sc_hex_decode(w, 2 * len, out, len) == SC_OK;
}

/* The next line, which must start with key; *rest is what follows it. */
static sc_status head_line(mf *m, const char *key, char **rest)
{
    bool eof;
    sc_status rc = mf_next(m, &eof);
    if (rc != SC_OK)
        return rc;
    size_t n = strlen(key);
    if (eof || strncmp(m->buf, key, n) != 0 || m->buf[n] != ' ') {
        char what[96];
        snprintf(what, sizeof what, "expected the \"%s\" line", key);
        return mf_bad(m, what);
    }
    *rest = m->buf + n + 1;
    return SC_OK;
}

static sc_status parse_head(mf *m, sd_backup_head *h)
{
    memset(h, 0, sizeof *h);
    char *r;
    uint64_t v = 0, t = 0;
    sc_status rc = head_line(m, "spotcheck-backup", &r);
    if (rc == SC_OK && (!parse_num(next_word(&r), &v) || v != SD_BACKUP_VERSION || *r))
        return mf_bad(m, "not a backup of version 1 (a newer syncd made it?)");
    if (rc == SC_OK && (rc = head_line(m, "origin", &r)) == SC_OK) {
        size_t n = strlen(r);
        if (n == 0 || n >= sizeof h->origin || strchr(r, ' '))
            return mf_bad(m, "the origin is empty, too long or has a space");
        memcpy(h->origin, r, n + 1);
    }
    if (rc == SC_OK && (rc = head_line(m, "server_key", &r)) == SC_OK &&
        (!parse_hex(next_word(&r), SC_KEY_LEN, h->server_key) || *r))
        return mf_bad(m, "the server key is not 64 hex digits");
    if (rc == SC_OK && (rc = head_line(m, "checkpoint", &r)) == SC_OK &&
        (!parse_num(next_word(&r), &h->size) || !parse_hex(next_word(&r), SC_HASH_LEN, h->root) ||
         *r))
        return mf_bad(m, "expected \"checkpoint SIZE ROOT\"");
    if (rc == SC_OK && (rc = head_line(m, "register", &r)) == SC_OK &&
        (!parse_num(next_word(&r), &h->register_bytes) ||
         !parse_hex(next_word(&r), SC_HASH_LEN, h->register_sha) || *r))
        return mf_bad(m, "expected \"register BYTES SHA256\"");
    if (rc == SC_OK && (rc = head_line(m, "taken", &r)) == SC_OK) {
        if (!parse_num(next_word(&r), &t) || *r)
            return mf_bad(m, "expected \"taken MS\"");
        h->taken_ms = (int64_t)t;
    }
    return rc;
}

/* One line after the head: a photo, a mark or the end. */
static sc_status parse_item(mf *m, mf_item *it)
{
    bool eof;
    sc_status rc = mf_next(m, &eof);
    if (rc != SC_OK)
        return rc;
    if (eof)
        return mf_bad(m, "the manifest ends without its \"end\" line: it was cut short");
    memset(it, 0, sizeof *it);
    char *r = m->buf;
    const char *kind = next_word(&r), *a = next_word(&r), *b = next_word(&r), *c = next_word(&r);
    uint8_t bin[SC_HASH_LEN];
    uint64_t t = 0;
    if (kind && strcmp(kind, "photo") == 0 && parse_hex(a, SC_HASH_LEN, bin) &&
        parse_num(b, &it->bytes) && !c) {
        it->kind = ITEM_PHOTO;
        memcpy(it->name, a, SD_BLOB_NAME_LEN + 1);
    } else if (kind && strcmp(kind, "mark") == 0 && parse_hex(a, SC_KEY_LEN, bin) &&
               parse_hex(b, SC_HASH_LEN, bin) && parse_num(c, &t) && !*r) {
        it->kind = ITEM_MARK;
        memcpy(it->device, a, 2 * SC_KEY_LEN + 1);
        memcpy(it->name, b, SD_BLOB_NAME_LEN + 1);
        it->mtime = (int64_t)t;
    } else if (kind && strcmp(kind, "end") == 0 && parse_num(a, &it->photos) &&
               parse_num(b, &it->marks) && !c) {
        it->kind = ITEM_END;
    } else {
        return mf_bad(m, "expected \"photo SHA BYTES\", \"mark DEVICE SHA TIME\" or \"end\"");
    }
    return SC_OK;
}

sc_status sd_backup_read_head(const char *dir, sd_backup_head *head, sc_err *err)
{
    mf m;
    sc_status rc = mf_open(&m, dir, err);
    if (rc != SC_OK)
        return rc;
    rc = parse_head(&m, head);
    fclose(m.f);
    return rc;
}

/* ---- the restore ---- */

typedef struct rs {
    const char *from;
    sd_stage st;
    sd_store_progress progress;
    void *ctx;
    sd_restore_report *rep;
    sc_err *err;
    uint64_t photos_listed;    /* photo lines in the manifest */
    uint64_t missing, damaged; /* photos of the manifest the backup lacks, or holds damaged */
    char first_missing[SD_PATH_MAX + 96];
    char first_damaged[SD_PATH_MAX + 96];
} rs;

static sc_status rs_path(rs *r, char *out, size_t cap, const char *base, const char *rest)
{
    int n = snprintf(out, cap, "%s/%s", base, rest);
    if (n < 0 || (size_t)n >= cap)
        return sc_err_set(r->err, SC_ERR_INVALID_ARG, 0, "a path is too long");
    return SC_OK;
}

/* The whole manifest read once and checked before anything is copied: its form and counts. */
static sc_status check_manifest(rs *r)
{
    mf m;
    sc_status rc = mf_open(&m, r->from, r->err);
    if (rc != SC_OK)
        return rc;
    rc = parse_head(&m, &r->rep->backup.head);
    uint64_t photos = 0, marks = 0;
    mf_item it;
    while (rc == SC_OK && (rc = parse_item(&m, &it)) == SC_OK && it.kind != ITEM_END) {
        photos += it.kind == ITEM_PHOTO;
        marks += it.kind == ITEM_MARK;
    }
    bool eof = false;
    if (rc == SC_OK && (it.photos != photos || it.marks != marks))
        rc = mf_bad(&m, "the counts on the \"end\" line differ from the lines above it");
    if (rc == SC_OK && (rc = mf_next(&m, &eof)) == SC_OK && !eof)
        rc = mf_bad(&m, "a line after the \"end\" line");
    fclose(m.f);
    r->photos_listed = photos;
    return rc;
}

/* The backup's file `name` into the stage (mode 0600); src (cap bytes) gets its path. */
static sc_status restore_file(rs *r, const char *name, uint8_t sha[SC_HASH_LEN], uint64_t *bytes,
                              char *src, size_t cap)
{
    char dst[SD_PATH_MAX + 32];
    sc_status rc = rs_path(r, src, cap, r->from, name);
    if (rc == SC_OK)
        rc = rs_path(r, dst, sizeof dst, r->st.path, name);
    if (rc == SC_OK)
        rc = sd_file_copy(src, dst, 0600, sha, bytes, r->err);
    if (rc == SC_ERR_NOT_FOUND)
        return sc_err_set(r->err, SC_ERR_REJECTED, 0, "the backup has no %s: %s", name, src);
    return rc;
}

/* register.db, whose bytes must be the ones the manifest names. */
static sc_status restore_register(rs *r)
{
    char src[SD_PATH_MAX + 32];
    uint8_t sha[SC_HASH_LEN];
    uint64_t bytes = 0;
    sc_status rc = restore_file(r, "register.db", sha, &bytes, src, sizeof src);
    if (rc != SC_OK)
        return rc;
    const sd_backup_head *h = &r->rep->backup.head;
    if (bytes != h->register_bytes || memcmp(sha, h->register_sha, SC_HASH_LEN) != 0)
        return sc_err_set(r->err, SC_ERR_REJECTED, 0,
                          "the register in the backup is damaged%s: %s is %llu bytes, "
                          "not the %llu bytes its manifest names, or holds other bytes",
                          bytes < h->register_bytes ? " (cut short)" : "", src,
                          (unsigned long long)bytes, (unsigned long long)h->register_bytes);
    sd_test_copy_delay();
    return SC_OK;
}

/* server.key, as it is: the audit decides whether it is this register's. */
static sc_status restore_key(rs *r)
{
    char src[SD_PATH_MAX + 32];
    return restore_file(r, "server.key", NULL, NULL, src, sizeof src);
}

/* mkdir that accepts a directory already there. */
static sc_status make_dir(rs *r, const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return SC_OK;
    return sc_err_set(r->err, SC_ERR_IO, 0, "cannot create %s: %s", path, strerror(errno));
}

/* The stage's path for dir/name into out (cap bytes), the directory made if it is not there. */
static sc_status stage_path(rs *r, const char *dir, const char *name, char *out, size_t cap)
{
    sc_status rc = rs_path(r, out, cap, r->st.path, dir);
    if (rc == SC_OK)
        rc = make_dir(r, out);
    size_t n = strlen(out);
    if (rc == SC_OK && n < cap)
        rc = rs_path(r, out + n, cap - n, "", name); /* "/name" after the directory */
    return rc;
}

/* One photo of the manifest: copied, its hash and size checked; a problem is counted, not fatal. */
static sc_status restore_photo(rs *r, const mf_item *it)
{
    char rel[SD_BLOB_NAME_LEN + 16], src[SD_PATH_MAX + 96], dst[SD_PATH_MAX + 96];
    snprintf(rel, sizeof rel, "blobs/%.2s/%s", it->name, it->name);
    sc_status rc = rs_path(r, src, sizeof src, r->from, rel);
    snprintf(rel, sizeof rel, "blobs/%.2s", it->name);
    if (rc == SC_OK)
        rc = stage_path(r, rel, it->name, dst, sizeof dst);
    if (rc != SC_OK)
        return rc;
    uint8_t sha[SC_HASH_LEN], want[SC_HASH_LEN];
    uint64_t bytes = 0;
    rc = sd_file_copy(src, dst, 0600, sha, &bytes, r->err);
    if (rc == SC_ERR_NOT_FOUND) {
        sc_err_clear(r->err);
        if (r->missing++ == 0)
            snprintf(r->first_missing, sizeof r->first_missing, "%s", src);
        return SC_OK;
    }
    if (rc != SC_OK)
        return rc;
    sc_hex_decode(it->name, SD_BLOB_NAME_LEN, want, sizeof want);
    if (bytes != it->bytes || memcmp(sha, want, SC_HASH_LEN) != 0) {
        if (r->damaged++ == 0)
            snprintf(r->first_damaged, sizeof r->first_damaged, "%s", src);
        unlink(dst);
        return SC_OK;
    }
    r->rep->backup.photos++;
    r->rep->backup.photo_bytes += bytes;
    return SC_OK;
}

/* One mark: an empty file with its time, so the photo it marks expires as it would have. */
static sc_status restore_mark(rs *r, const mf_item *it)
{
    char rel[2 * SC_KEY_LEN + 32], path[SD_PATH_MAX + 160];
    snprintf(rel, sizeof rel, "blobs/unref/%s", it->device);
    sc_status rc = stage_path(r, rel, it->name, path, sizeof path);
    if (rc != SC_OK)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    struct timespec t[2] = {{(time_t)it->mtime, 0}, {(time_t)it->mtime, 0}};
    bool ok = fd >= 0 && futimens(fd, t) == 0 && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (!ok)
        return sc_err_set(r->err, SC_ERR_IO, 0, "cannot create %s: %s", path, strerror(e));
    r->rep->backup.marks++;
    return SC_OK;
}

/* Sync blobs/ and each directory under it that holds what was restored. */
static sc_status sync_blob_dirs(rs *r, const char *blobs)
{
    sc_status rc = SC_OK;
    const char *subs[] = {"unref", NULL};
    DIR *d = opendir(blobs);
    struct dirent *e;
    while (rc == SC_OK && d && (e = readdir(d)) != NULL) {
        char path[SD_PATH_MAX + 96];
        bool shard = sd_blob_shard_valid(e->d_name);
        if ((shard || strcmp(e->d_name, subs[0]) == 0) &&
            (rc = rs_path(r, path, sizeof path, blobs, e->d_name)) == SC_OK)
            rc = sd_fsync_dir(path, r->err);
    }
    if (d)
        closedir(d);
    if (rc == SC_OK)
        rc = sd_fsync_dir(blobs, r->err);
    return rc;
}

/* Every photo and mark of the manifest, then the verdict on the photos the backup lacks. */
static sc_status restore_blobs(rs *r)
{
    char blobs[SD_PATH_MAX + 32], sub[SD_PATH_MAX + 48];
    sc_status rc = rs_path(r, blobs, sizeof blobs, r->st.path, "blobs");
    if (rc == SC_OK)
        rc = make_dir(r, blobs);
    if (rc == SC_OK && (rc = rs_path(r, sub, sizeof sub, blobs, "partial")) == SC_OK)
        rc = make_dir(r, sub);
    if (rc == SC_OK && (rc = rs_path(r, sub, sizeof sub, blobs, "unref")) == SC_OK)
        rc = make_dir(r, sub);
    mf m;
    if (rc == SC_OK)
        rc = mf_open(&m, r->from, r->err);
    if (rc != SC_OK)
        return rc;
    sd_backup_head h;
    rc = parse_head(&m, &h);
    mf_item it;
    uint64_t done = 0;
    while (rc == SC_OK && (rc = parse_item(&m, &it)) == SC_OK && it.kind != ITEM_END) {
        if (it.kind == ITEM_MARK) {
            rc = restore_mark(r, &it);
            continue;
        }
        rc = restore_photo(r, &it);
        if (rc == SC_OK && r->progress)
            r->progress(r->ctx, "copy the photos", ++done, r->photos_listed);
        sd_test_copy_delay();
    }
    fclose(m.f);
    if (rc == SC_OK)
        rc = sync_blob_dirs(r, blobs);
    if (rc != SC_OK || (!r->missing && !r->damaged))
        return rc;
    char lacks[SD_PATH_MAX + 192] = "", holds[SD_PATH_MAX + 192] = "";
    if (r->missing)
        snprintf(lacks, sizeof lacks,
                 "lacks %llu of the photos it held when it was made (the "
                 "first: %s)",
                 (unsigned long long)r->missing, r->first_missing);
    if (r->damaged)
        snprintf(holds, sizeof holds, "holds %llu damaged photos (the first: %s)",
                 (unsigned long long)r->damaged, r->first_damaged);
    return sc_err_set(r->err, SC_ERR_REJECTED, 0,
                      "the backup %s%s%s: restore an intact copy of the backup", lacks,
                      r->missing && r->damaged ? " and " : "", holds);
}

/* The audit's word on each photo an op names that the restored directory lacks or holds damaged. */
static void photo_seen(void *ctx, const sd_audit_photo *p)
{
    rs *r = ctx;
    if (!p->damaged)
        r->rep->photos_not_held++;
}

/* `syncd audit`'s checks on the restored directory, then its log against the manifest's checkpoint.
 */
static sc_status restore_verify(rs *r)
{
    sd_audit_report rep;
    sd_audit_opts o = {SD_AUDIT_ALL, photo_seen, r};
    if (r->progress)
        r->progress(r->ctx, "audit the restored data directory", 0, 1);
    r->rep->photos_not_held = 0;
    sc_status rc = sd_audit_run(r->st.path, &o, &rep, r->err);
    if (rc == SC_ERR_REJECTED && !rep.photos_only) {
        snprintf(r->rep->problem, sizeof r->rep->problem, "%s", rep.problem);
        return sc_err_set(r->err, SC_ERR_REJECTED, 0,
                          "the backup does not verify (syncd audit's checks, run on %s)",
                          r->st.path);
    }
    /* Only photos not stored: the tablets had not uploaded them when the backup was made. */
    if (rc != SC_OK && rc != SC_ERR_REJECTED)
        return rc;
    sc_err_clear(r->err);
    if (r->progress)
        r->progress(r->ctx, "audit the restored data directory", 1, 1);
    r->rep->entries = rep.entries;
    sd_backup_head *h = &r->rep->backup.head;
    /* The manifest is not signed: the key told to the operator is the one the audit checked the
     * register's checkpoints under, and a manifest naming another is another backup's. */
    if (memcmp(rep.server_key, h->server_key, SC_KEY_LEN) != 0) {
        char got[SC_KEY_LEN * 2 + 1], want[SC_KEY_LEN * 2 + 1];
        sc_hex_encode(rep.server_key, SC_KEY_LEN, got, sizeof got);
        sc_hex_encode(h->server_key, SC_KEY_LEN, want, sizeof want);
        return sc_err_set(r->err, SC_ERR_REJECTED, 0,
                          "the backup's register is signed by server key %.16s…, but its manifest "
                          "names %.16s…: the manifest is not this register's",
                          got, want);
    }
    if (rep.entries != h->size || memcmp(rep.root, h->root, SC_HASH_LEN) != 0) {
        char got[SC_HASH_HEX], want[SC_HASH_HEX];
        sc_hex_encode(rep.root, SC_HASH_LEN, got, sizeof got);
        sc_hex_encode(h->root, SC_HASH_LEN, want, sizeof want);
        return sc_err_set(r->err, SC_ERR_REJECTED, 0,
                          "the backup's register holds a log of %llu entries with root "
                          "%.16s…, but its manifest names the checkpoint of %llu entries with root "
                          "%.16s…: the register is not the one this backup was made with",
                          (unsigned long long)rep.entries, got, (unsigned long long)h->size, want);
    }
    return SC_OK;
}

/* Give everything under path to uid:gid (never following a link). */
static sc_status chown_tree(rs *r, const char *path, uid_t uid, gid_t gid, int depth)
{
    if (lchown(path, uid, gid) != 0)
        return sc_err_set(r->err, SC_ERR_IO, 0, "cannot give %s to its owner: %s", path,
                          strerror(errno));
    struct stat sb;
    if (depth > 8 || lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return SC_OK;
    DIR *d = opendir(path);
    sc_status rc = SC_OK;
    struct dirent *e;
    while (rc == SC_OK && d && (e = readdir(d)) != NULL) {
        char sub[SD_PATH_MAX + 160];
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            (rc = rs_path(r, sub, sizeof sub, path, e->d_name)) == SC_OK)
            rc = chown_tree(r, sub, uid, gid, depth + 1);
    }
    if (d)
        closedir(d);
    return rc;
}

sc_status sd_restore_run(const char *from, const char *data_dir, sd_store_progress progress,
                         void *ctx, sd_restore_report *rep, sc_err *err)
{
    memset(rep, 0, sizeof *rep);
    sc_err_clear(err);
    if (sc_crypto_init() != SC_OK)
        return sc_err_set(err, SC_ERR_CRYPTO, 0, "libsodium failed to initialise");
    rs r = {.from = from, .progress = progress, .ctx = ctx, .rep = rep, .err = err};
    r.st.lock = -1;
    sc_status rc = check_manifest(&r);
    if (rc == SC_ERR_MALFORMED)
        rc = SC_ERR_REJECTED;
    if (rc == SC_OK)
        rc = sd_stage_begin(&r.st, data_dir, SD_RESTORE_STAGE, "restore", err);
    rep->backup.stale_removed = r.st.stale_removed;
    if (rc == SC_OK)
        rc = restore_register(&r);
    if (rc == SC_OK)
        rc = restore_key(&r);
    if (rc == SC_OK)
        rc = restore_blobs(&r);
    if (rc == SC_OK)
        rc = restore_verify(&r);
    /* Root restoring into the service's empty directory: the files become the service user's. */
    if (rc == SC_OK && r.st.final_existed && geteuid() == 0 && (r.st.owner || r.st.group))
        rc = chown_tree(&r, r.st.path, r.st.owner, r.st.group, 0);
    if (rc == SC_OK)
        rc = sd_stage_commit(&r.st, err);
    if (rc != SC_OK)
        sd_stage_abort(&r.st);
    return rc;
}

int sd_cmd_restore(int argc, char **argv)
{
    const char *from = NULL, *data = NULL;
    const sd_option opts[] = {{"from", &from, NULL}, {"data", &data, NULL}, {NULL, NULL, NULL}};
    int st = sd_cmdline_parse("restore", argc, argv, opts, NULL, 0, NULL);
    if (st >= 0)
        return st;
    if (!from || !data)
        return sd_cmdline_fail("restore", "--from PATH and --data DIR are needed");
    sd_restore_report rep;
    sc_err err;
    sd_progress_printer pp = {.command = "restore"};
    sc_status rc = sd_restore_run(from, data, sd_backup_progress_print, &pp, &rep, &err);
    if (rep.backup.stale_removed)
        fprintf(stderr, "syncd restore: removed %s%s, left by a restore that was interrupted\n",
                data, SD_RESTORE_STAGE);
    if (rc != SC_OK) {
        fprintf(stderr, "syncd restore: %s%s%s; nothing was restored to %s\n", err.msg,
                rep.problem[0] ? ": " : "", rep.problem, data);
        return 1;
    }
    char root[SC_HASH_HEX], key[SC_KEY_LEN * 2 + 1];
    sc_hex_encode(rep.backup.head.root, SC_HASH_LEN, root, sizeof root);
    sc_hex_encode(rep.backup.head.server_key, SC_KEY_LEN, key, sizeof key);
    printf("restored %s to %s; the audit holds\n", from, data);
    printf("  checkpoint: %llu entries, root %s\n", (unsigned long long)rep.entries, root);
    printf("  server key: %s\n", key);
    printf("  photos:     %llu (%llu bytes)\n", (unsigned long long)rep.backup.photos,
           (unsigned long long)rep.backup.photo_bytes);
    if (rep.photos_not_held)
        printf("  %llu photos ops name were not uploaded yet when the backup was made: "
               "`syncd audit --data %s` lists them\n",
               (unsigned long long)rep.photos_not_held, data);
    return 0;
}
