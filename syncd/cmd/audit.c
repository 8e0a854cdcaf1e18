/*
 * audit.c: `syncd audit --data DIR` (DESIGN §7).  Everything is checked
 * from the log up, inside one read transaction (a consistent snapshot even
 * while syncd serve runs):
 *
 *  1. The log: every entry goes through the core auditor (core/audit.h:
 *     decoding, signature, the author's enrollment and revocation, the
 *     role policy), its stored op id, entity, author, kind, HLC and leaf
 *     hash are recomputed from the bytes, every stored Merkle node (the
 *     levels tlog.h stores) is recomputed, and every stored checkpoint is verified (signature,
 *     origin, and its root against the entries so far); the latest
 *     checkpoint must cover the whole log.
 *  2. The states: every entity is refolded from its ops with the core
 *     fold; the stored state bytes, hash, op count, last index and the
 *     derived columns (visibility class, target, scope, inspection,
 *     released) must match, and every op must belong to a stored entity.
 *  3. The derived tables: codes, devices (enrollment and first revocation
 *     indexes), assignees, photo references and release events are rebuilt
 *     and compared.
 *  4. The key: DIR/server.key must be the key the register is signed with
 *     (the one in meta, under which step 1 verified every checkpoint and
 *     every server-signed op), so a restore with another register's key is
 *     caught before that key signs anything.
 *  5. The photos: every photo an op names must be stored in DIR/blobs with
 *     bytes that hash to its name.  Each is read and hashed as a stream,
 *     during step 1 as its op goes by; a fixed table of photos already
 *     verified spares most repeats (an inspection's submission lists the
 *     photos attached before it), so memory stays constant.
 *
 * The first problem of steps 1 to 4 stops the audit; its message names the
 * log entry (index and op id) or the key it concerns.  Photo problems are
 * counted to the end, and the first missing and the first damaged photo are
 * named with the op that names them: after a bad restore an operator wants
 * them all, not one per run.  Nothing in the data directory is written.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/keyfile.h"
#include "blobs/blobs.h"
#include "commands.h"
#include "core/audit.h"
#include "core/checkpoint.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/merge.h"
#include "core/merkle.h"
#include "core/names.h"
#include "register/register.h"
#include "register/tlog.h"
#include "store/store.h"

#define T_(x) SCPB__ENTITY_TYPE__ENTITY_##x

/* Bytes read at a time when hashing a photo (the blob store reads the same). */
#define PHOTO_BUF (256 * 1024)
/* Photos remembered as verified (a direct-mapped table, 32 KiB): repeats cost one hash each. */
#define PHOTO_SEEN 1024

typedef struct devrec {
    uint8_t device[SC_ID_LEN];
    uint8_t key[SC_KEY_LEN]; /* the enrolled key */
    uint8_t user[SC_ID_LEN]; /* the user it speaks for */
    uint64_t enrolled;
    bool revoked;
    uint64_t revoked_idx;
} devrec;

/* Where people sit, from the log: a user's org unit, an org unit's parent (the fold's sc_users). */
typedef struct placerec {
    uint8_t id[SC_ID_LEN];    /* the user or org unit */
    uint8_t other[SC_ID_LEN]; /* its org unit, or its parent */
    bool has_other;           /* an org unit without a parent is a root */
} placerec;

typedef struct audit {
    sd_store *s;
    const sc_env *env;
    sc_auditor *aud;
    uint8_t server_key[SC_KEY_LEN];
    char origin[SC_ORIGIN_MAX];
    sd_audit_report *rep;
    sc_err *err;
    sc_status rc;                 /* SC_OK, SC_ERR_REJECTED (a problem) or a storage failure */
    uint64_t fed;                 /* entries fed to the auditor */
    uint64_t size;                /* log size */
    sc_merkle_frontier fr;        /* recomputed from the leaves */
    uint64_t ops_in_entities;
    devrec *dev;
    size_t ndev, capdev;
    placerec *place;              /* users and org units as created, sorted by id once replaying */
    size_t nplace, capplace;
    bool place_sorted;
    uint64_t last_cp;
    bool any_cp;
    sc_replica_hash rh;
    /* photos (SD_AUDIT_PHOTOS) */
    const char *data_dir;
    char blobs[SD_PATH_MAX + 32]; /* the blob store's root (DIR/blobs, or store.conf's) */
    bool photos;                  /* check them */
    const sd_audit_opts *opts;    /* its photo callback */
    uint8_t *buf;                 /* PHOTO_BUF bytes */
    uint8_t (*seen)[SC_HASH_LEN]; /* PHOTO_SEEN photos verified, by their first two bytes */
    bool *seen_used;
    char first_missing[SC_ERR_MSG_MAX];
    char first_bad[SC_ERR_MSG_MAX];
} audit;

static void problem(audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(audit *a, const char *fmt, ...)
{
    if (a->rc != SC_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->rep->problem, sizeof a->rep->problem, fmt, ap);
    va_end(ap);
    a->rep->has_problem = true;
    a->rc = SC_ERR_REJECTED;
}

static void storage(audit *a, sc_status rc)
{
    if (a->rc == SC_OK)
        a->rc = rc;
}

static void hex(const uint8_t *b, size_t n, char *out, size_t cap)
{
    if (sc_hex_encode(b, n, out, cap) != SC_OK && cap)
        out[0] = '\0';
}

static devrec *dev_find(audit *a, const uint8_t id[SC_ID_LEN])
{
    for (size_t i = 0; i < a->ndev; i++)
        if (memcmp(a->dev[i].device, id, SC_ID_LEN) == 0)
            return &a->dev[i];
    return NULL;
}

/* The fold's sc_users from the enrollments in the log (never from the devices table). */
static sc_status log_user_of(void *ctx, const uint8_t key[SC_KEY_LEN], uint8_t user[SC_ID_LEN])
{
    const audit *a = ctx;
    for (size_t i = 0; i < a->ndev; i++)
        if (memcmp(a->dev[i].key, key, SC_KEY_LEN) == 0) {
            memcpy(user, a->dev[i].user, SC_ID_LEN);
            return SC_OK;
        }
    return SC_ERR_NOT_FOUND;
}

static int place_cmp(const void *x, const void *y)
{
    return memcmp(((const placerec *)x)->id, ((const placerec *)y)->id, SC_ID_LEN);
}

/* Remember a user's org unit or an org unit's parent as its create op says. */
static void place_add(audit *a, const Scpb__Op *o)
{
    const ProtobufCBinaryData *other = NULL;
    if (o->body_case == SCPB__OP__BODY_USER_CREATE)
        other = o->user_create->has_org ? &o->user_create->org : NULL;
    else if (o->body_case == SCPB__OP__BODY_ORG_CREATE)
        other = o->org_create->has_parent ? &o->org_create->parent : NULL;
    else
        return;
    if (a->nplace == a->capplace) {
        size_t cap = a->capplace ? a->capplace * 2 : 64;
        placerec *v = realloc(a->place, cap * sizeof *v);
        if (!v) {
            storage(a, sc_err_set(a->err, SC_ERR_NOMEM, 0, "audit: out of memory"));
            return;
        }
        a->place = v;
        a->capplace = cap;
    }
    placerec *p = &a->place[a->nplace++];
    memset(p, 0, sizeof *p);
    memcpy(p->id, o->entity.data, SC_ID_LEN);
    p->has_other = other && other->len == SC_ID_LEN;
    if (p->has_other)
        memcpy(p->other, other->data, SC_ID_LEN);
    a->place_sorted = false;
}

static const placerec *place_find(audit *a, const uint8_t id[SC_ID_LEN])
{
    if (!a->place_sorted) {
        if (a->nplace > 1)
            qsort(a->place, a->nplace, sizeof *a->place, place_cmp);
        a->place_sorted = true;
    }
    placerec key;
    memcpy(key.id, id, SC_ID_LEN);
    return a->nplace ? bsearch(&key, a->place, a->nplace, sizeof *a->place, place_cmp) : NULL;
}

static sc_status log_org_of(void *ctx, const uint8_t user[SC_ID_LEN], uint8_t org[SC_ID_LEN])
{
    const placerec *p = place_find(ctx, user);
    if (!p || !p->has_other)
        return SC_ERR_NOT_FOUND;
    memcpy(org, p->other, SC_ID_LEN);
    return SC_OK;
}

static sc_status log_parent_of(void *ctx, const uint8_t org[SC_ID_LEN], uint8_t parent[SC_ID_LEN],
                               bool *has)
{
    const placerec *p = place_find(ctx, org);
    if (!p)
        return SC_ERR_NOT_FOUND;
    *has = p->has_other;
    if (p->has_other)
        memcpy(parent, p->other, SC_ID_LEN);
    return SC_OK;
}

/* ---- 1. the log ---- */

typedef struct node_cmp {
    audit *a;
    uint64_t idx;                 /* the entry being appended */
    const uint8_t *op_id;
} node_cmp;

static void check_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[SC_HASH_LEN])
{
    node_cmp *c = ctx;
    audit *a = c->a;
    /* Only some levels are stored (tlog.h); the others are checked through the roots. */
    if (a->rc != SC_OK || !sd_tlog_level_stored(level))
        return;
    uint8_t stored[SC_HASH_LEN];
    sc_err e;
    sc_err_clear(&e);
    sc_status rc = a->s->vt->node_get(a->s, level, index, stored, &e);
    char oh[SC_HASH_HEX];
    hex(c->op_id, SC_HASH_LEN, oh, sizeof oh);
    if (rc == SC_ERR_NOT_FOUND) {
        problem(a, "entry %llu (op %.16s): the Merkle node (level %u, index %llu) it completes is "
                   "missing",
                (unsigned long long)c->idx, oh, level, (unsigned long long)index);
        return;
    }
    if (rc != SC_OK) {
        *a->err = e;
        storage(a, rc);
        return;
    }
    if (memcmp(stored, hash, SC_HASH_LEN) != 0)
        problem(a, "entry %llu (op %.16s): the stored Merkle node (level %u, index %llu) differs "
                   "from the one recomputed from the leaves",
                (unsigned long long)c->idx, oh, level, (unsigned long long)index);
    a->rep->nodes++;
}

/* ---- 5. the photos (checked as their ops go by in step 1) ---- */

typedef struct photo_ctx {
    audit *a;
    const sd_op_row *row; /* the entry naming the photos */
} photo_ctx;

/* "photo H named by entry N (op O, made by device K)". */
static void photo_where(const photo_ctx *p, const char *name, char *out, size_t cap)
{
    char oh[SC_HASH_HEX], kh[SC_KEY_LEN * 2 + 1];
    hex(p->row->op_id, SC_HASH_LEN, oh, sizeof oh);
    hex(p->row->author, SC_KEY_LEN, kh, sizeof kh);
    snprintf(out, cap, "photo %s named by entry %llu (op %.16s, made by device %.16s)", name,
             (unsigned long long)p->row->idx, oh, kh);
}

static void photos_end(audit *a)
{
    free(a->buf);
    free(a->seen);
    free(a->seen_used);
    a->buf = NULL;
    a->seen = NULL;
    a->seen_used = NULL;
}

/* The photo check's buffers (constant in the register's size); false when out of memory. */
static bool photos_begin(audit *a)
{
    a->buf = malloc(PHOTO_BUF);
    a->seen = calloc(PHOTO_SEEN, sizeof *a->seen);
    a->seen_used = calloc(PHOTO_SEEN, sizeof *a->seen_used);
    a->photos = a->buf && a->seen && a->seen_used;
    if (!a->photos)
        photos_end(a);
    return a->photos;
}

/* Tell the caller of one photo problem, if it asked. */
static void photo_found(const photo_ctx *p, const uint8_t sha[SC_HASH_LEN], bool damaged)
{
    const sd_audit_opts *o = p->a->opts;
    if (!o || !o->photo)
        return;
    sd_audit_photo ph;
    memcpy(ph.sha, sha, SC_HASH_LEN);
    ph.damaged = damaged;
    ph.idx = p->row->idx;
    memcpy(ph.op_id, p->row->op_id, SC_HASH_LEN);
    memcpy(ph.author, p->row->author, SC_KEY_LEN);
    o->photo(o->ctx, &ph);
}

/* Is the photo stored with the bytes its name says?  A read failure fails the audit (a->rc). */
static void check_photo(const photo_ctx *p, const uint8_t sha[SC_HASH_LEN])
{
    audit *a = p->a;
    size_t slot = ((size_t)sha[0] | (size_t)sha[1] << 8) % PHOTO_SEEN;
    if (a->seen_used[slot] && memcmp(a->seen[slot], sha, SC_HASH_LEN) == 0)
        return;
    a->rep->photos++;
    char name[SC_HASH_HEX], path[SD_PATH_MAX + 80];
    hex(sha, SC_HASH_LEN, name, sizeof name);
    if (!sd_blob_path_at(a->blobs, name, path, sizeof path)) {
        storage(a,
                sc_err_set(a->err, SC_ERR_INVALID_ARG, 0, "audit: data directory path too long"));
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (a->rep->photos_missing++ == 0)
            photo_where(p, name, a->first_missing, sizeof a->first_missing);
        photo_found(p, sha, false);
        return;
    }
    if (fd < 0) {
        storage(a, sc_err_set(a->err, SC_ERR_IO, 0, "audit: cannot read %s: %s", path,
                              strerror(errno)));
        return;
    }
    sc_sha256_ctx h;
    sc_sha256_init(&h);
    ssize_t n;
    while ((n = read(fd, a->buf, PHOTO_BUF)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) {
            sc_sha256_update(&h, a->buf, (size_t)n);
            a->rep->photo_bytes += (uint64_t)n;
        }
    }
    int e = errno;
    close(fd);
    if (n < 0) {
        storage(a,
                sc_err_set(a->err, SC_ERR_IO, 0, "audit: cannot read %s: %s", path, strerror(e)));
        return;
    }
    uint8_t got[SC_HASH_LEN];
    sc_sha256_final(&h, got);
    if (memcmp(got, sha, SC_HASH_LEN) != 0) {
        if (a->rep->photos_bad++ == 0)
            photo_where(p, name, a->first_bad, sizeof a->first_bad);
        photo_found(p, sha, true);
        return;
    }
    memcpy(a->seen[slot], sha, SC_HASH_LEN);
    a->seen_used[slot] = true;
}

/* After everything else held: one problem naming the first missing and the first damaged photo. */
static void photos_verdict(audit *a)
{
    const sd_audit_report *r = a->rep;
    if (a->rc != SC_OK || (r->photos_missing == 0 && r->photos_bad == 0))
        return;
    char missing[SC_ERR_MSG_MAX + 160] = "", bad[SC_ERR_MSG_MAX + 160] = "";
    if (r->photos_missing)
        snprintf(missing, sizeof missing,
                 "photos not stored in blobs/ (%llu names in ops): the first, %s, is lost or not "
                 "uploaded yet by that device",
                 (unsigned long long)r->photos_missing, a->first_missing);
    if (r->photos_bad)
        snprintf(bad, sizeof bad,
                 "stored photos whose bytes do not match their hash (%llu names in ops): the "
                 "first, %s",
                 (unsigned long long)r->photos_bad, a->first_bad);
    problem(a, "%s%s%s", missing, missing[0] && bad[0] ? "; " : "", bad);
    a->rep->photos_only = r->photos_bad == 0;
}

static bool feed_entry(void *ctx, const sd_op_row *row)
{
    audit *a = ctx;
    char oh[SC_HASH_HEX];
    hex(row->op_id, SC_HASH_LEN, oh, sizeof oh);
    if (row->idx != a->fed) {
        problem(a, "entry %llu is missing from the log (found entry %llu next)",
                (unsigned long long)a->fed, (unsigned long long)row->idx);
        return false;
    }
    sc_op *op = NULL;
    sc_err e;
    sc_err_clear(&e);
    if (sc_auditor_entry(a->aud, row->idx, row->signed_op, row->signed_len, &op, &e) != SC_OK) {
        problem(a, "entry %llu (op %.16s): %s", (unsigned long long)row->idx, oh, e.msg);
        return false;
    }
    uint8_t leaf[SC_HASH_LEN];
    sc_merkle_leaf_hash(row->signed_op, row->signed_len, leaf);
    const Scpb__Op *o = op->op;
    if (memcmp(op->id, row->op_id, SC_HASH_LEN) != 0)
        problem(a, "entry %llu (op %.16s): the stored op id is not the hash of its bytes",
                (unsigned long long)row->idx, oh);
    else if (memcmp(leaf, row->leaf_hash, SC_HASH_LEN) != 0)
        problem(a, "entry %llu (op %.16s): the stored leaf hash differs from the hash of its bytes",
                (unsigned long long)row->idx, oh);
    else if (memcmp(o->entity.data, row->entity, SC_ID_LEN) != 0 ||
             memcmp(o->author.data, row->author, SC_KEY_LEN) != 0 ||
             row->kind != (int)o->body_case || row->hlc != o->hlc)
        problem(a, "entry %llu (op %.16s): the stored entity, author, kind or HLC differs from the "
                   "op's",
                (unsigned long long)row->idx, oh);
    if (a->rc == SC_OK && o->body_case == SCPB__OP__BODY_DEVICE_ENROLL) {
        if (a->ndev == a->capdev) {
            size_t cap = a->capdev ? a->capdev * 2 : 16;
            devrec *v = realloc(a->dev, cap * sizeof *v);
            if (!v) {
                storage(a, sc_err_set(a->err, SC_ERR_NOMEM, 0, "audit: out of memory"));
            } else {
                a->dev = v;
                a->capdev = cap;
            }
        }
        if (a->rc == SC_OK) {
            devrec *d = &a->dev[a->ndev++];
            memset(d, 0, sizeof *d);
            memcpy(d->device, o->entity.data, SC_ID_LEN);
            /* sc_op_check let the op through: key and user have their sizes. */
            memcpy(d->key, o->device_enroll->key.data, SC_KEY_LEN);
            memcpy(d->user, o->device_enroll->user.data, SC_ID_LEN);
            d->enrolled = row->idx;
        }
    } else if (a->rc == SC_OK && (o->body_case == SCPB__OP__BODY_USER_CREATE ||
                                  o->body_case == SCPB__OP__BODY_ORG_CREATE)) {
        place_add(a, o);
    } else if (a->rc == SC_OK && o->body_case == SCPB__OP__BODY_DEVICE_REVOKE) {
        devrec *d = dev_find(a, o->entity.data);
        if (d && !d->revoked) {
            d->revoked = true;
            d->revoked_idx = row->idx;
        }
    }
    if (a->rc == SC_OK && a->photos) {
        photo_ctx pc = {a, row};
        const ProtobufCBinaryData *ph = NULL;
        size_t k = sc_op_photos(o, &ph);
        for (size_t j = 0; j < k && a->rc == SC_OK; j++)
            if (ph[j].len == SC_HASH_LEN)
                check_photo(&pc, ph[j].data);
    }
    sc_op_free(a->env, op);
    if (a->rc != SC_OK)
        return false;
    node_cmp c = {a, row->idx, row->op_id};
    sc_merkle_frontier_append(&a->fr, leaf, check_node, &c);
    a->fed++;
    a->rep->entries++;
    return a->rc == SC_OK;
}

static void feed_until(audit *a, uint64_t size)
{
    if (a->rc != SC_OK || a->fed >= size)
        return;
    sc_status rc = a->s->vt->op_scan(a->s, a->fed, size, feed_entry, a, a->err);
    if (rc != SC_OK)
        storage(a, rc);
    else if (a->rc == SC_OK && a->fed < size)
        problem(a, "checkpoint of size %llu: the log has only %llu entries",
                (unsigned long long)size, (unsigned long long)a->fed);
}

static bool feed_checkpoint(void *ctx, const sd_checkpoint_row *row)
{
    audit *a = ctx;
    feed_until(a, row->size);
    if (a->rc != SC_OK)
        return false;
    sc_err e;
    sc_err_clear(&e);
    if (sc_auditor_checkpoint(a->aud, row->note, row->note_len, &e) != SC_OK) {
        problem(a, "checkpoint of size %llu (after entry %lld): %s", (unsigned long long)row->size,
                (long long)row->size - 1, e.msg);
        return false;
    }
    sc_checkpoint cp;
    if (sc_checkpoint_open(row->note, row->note_len, a->server_key, a->origin, &cp, &e) != SC_OK ||
        cp.size != row->size || memcmp(cp.root, row->root, SC_HASH_LEN) != 0 ||
        cp.time_ms != row->time_ms) {
        problem(a, "checkpoint of size %llu (after entry %lld): its stored size, root or time "
                   "differs from its signed note",
                (unsigned long long)row->size, (long long)row->size - 1);
        return false;
    }
    a->last_cp = row->size;
    a->any_cp = true;
    a->rep->checkpoints++;
    return true;
}

/* ---- 2. the states ---- */

typedef struct replay {
    audit *a;
    sc_op **ops;
    uint64_t *idx;
    size_t n, cap;
} replay;

static bool load_op(void *ctx, const sd_op_row *row)
{
    replay *r = ctx;
    audit *a = r->a;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        sc_op **v = realloc(r->ops, cap * sizeof *v);
        uint64_t *w = v ? realloc(r->idx, cap * sizeof *w) : NULL;
        if (v)
            r->ops = v;
        if (!v || !w) {
            storage(a, sc_err_set(a->err, SC_ERR_NOMEM, 0, "audit: out of memory"));
            return false;
        }
        r->idx = w;
        r->cap = cap;
    }
    sc_err e;
    sc_err_clear(&e);
    sc_op *o = NULL;
    if (sc_op_open(a->env, row->signed_op, row->signed_len, 0, &o, &e) != SC_OK) {
        char oh[SC_HASH_HEX];
        hex(row->op_id, SC_HASH_LEN, oh, sizeof oh);
        problem(a, "entry %llu (op %.16s): %s", (unsigned long long)row->idx, oh, e.msg);
        return false;
    }
    r->ops[r->n] = o;
    r->idx[r->n] = row->idx;
    r->n++;
    return true;
}

/* The scope org an entity's row should carry (see store.h). */
static bool expected_scope(audit *a, const Scpb__EntityState *st, uint8_t out[SC_ID_LEN])
{
    const ProtobufCBinaryData *target = NULL;
    switch (st->kind_case) {
    case SCPB__ENTITY_STATE__KIND_ORG:
        if (!st->org->has_parent)
            return false;
        memcpy(out, st->org->parent.data, SC_ID_LEN);
        return true;
    case SCPB__ENTITY_STATE__KIND_TARGET:
        memcpy(out, st->target->org.data, SC_ID_LEN);
        return true;
    case SCPB__ENTITY_STATE__KIND_ASSIGNMENT:
        target = &st->assignment->target;
        break;
    case SCPB__ENTITY_STATE__KIND_INSPECTION:
        target = &st->inspection->target;
        break;
    case SCPB__ENTITY_STATE__KIND_FINDING:
        target = &st->finding->target;
        break;
    default:
        return false;
    }
    if (!target || target->len != SC_ID_LEN)
        return false;
    sd_entity_row tr;
    sc_err e;
    if (a->s->vt->entity_get(a->s, target->data, false, &tr, &e) != SC_OK || !tr.has_scope)
        return false;
    memcpy(out, tr.scope_org, SC_ID_LEN);
    return true;
}

static bool inspection_released(audit *a, const uint8_t id[SC_ID_LEN])
{
    sd_entity_row ir;
    sc_err e;
    return a->s->vt->entity_get(a->s, id, false, &ir, &e) == SC_OK && ir.released;
}

/* The inspection's row says it is a self-check (its own row is checked against its state). */
static bool inspection_self_check(audit *a, const uint8_t id[SC_ID_LEN])
{
    sd_entity_row ir;
    sc_err e;
    return a->s->vt->entity_get(a->s, id, false, &ir, &e) == SC_OK &&
           ir.vis_class == SD_VIS_SELF_CHECK;
}

static void check_row(audit *a, const sd_entity_row *row, const Scpb__EntityState *st,
                      const char *where)
{
    int vis = SD_VIS_ALL;
    bool released = false, has_target = false, has_insp = false;
    const uint8_t *target = NULL, *insp = NULL;
    switch (st->kind_case) {
    case SCPB__ENTITY_STATE__KIND_ASSIGNMENT:
        vis = st->assignment->disclosure == SCPB__DISCLOSURE__DISCLOSURE_OPEN
                  ? SD_VIS_ASSIGNMENT_OPEN
                  : SD_VIS_ASSIGNMENT_SECRET;
        has_target = true;
        target = st->assignment->target.data;
        break;
    case SCPB__ENTITY_STATE__KIND_INSPECTION:
        vis = st->inspection->self_check ? SD_VIS_SELF_CHECK : SD_VIS_INSPECTION;
        has_target = true;
        target = st->inspection->target.data;
        released = st->inspection->status == SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED;
        break;
    case SCPB__ENTITY_STATE__KIND_FINDING:
        has_target = true;
        target = st->finding->target.data;
        vis = SD_VIS_FINDING_FREE;
        if (st->finding->has_inspection) {
            vis = SD_VIS_INSPECTION;
            has_insp = true;
            insp = st->finding->inspection.data;
            released = inspection_released(a, insp);
            if (inspection_self_check(a, insp))
                vis = SD_VIS_SELF_CHECK;
        }
        break;
    default:
        break;
    }
    uint8_t scope[SC_ID_LEN];
    bool has_scope = expected_scope(a, st, scope);
    if (row->vis_class != vis || row->released != released || row->has_target != has_target ||
        (has_target && memcmp(row->target, target, SC_ID_LEN) != 0) ||
        row->has_inspection != has_insp || (has_insp && memcmp(row->inspection, insp, SC_ID_LEN) != 0) ||
        row->has_scope != has_scope || (has_scope && memcmp(row->scope_org, scope, SC_ID_LEN) != 0))
        problem(a, "%s: its visibility columns (class, target, scope, inspection, released) differ "
                   "from those its state implies",
                where);
}

static void check_tables(audit *a, const sd_entity_row *row, const Scpb__EntityState *st,
                         const char *where)
{
    sd_store *s = a->s;
    sc_err e;
    sc_err_clear(&e);
    const char *code = NULL;
    uint32_t version = 0;
    switch (st->kind_case) {
    case SCPB__ENTITY_STATE__KIND_ORG:
        code = st->org->code;
        break;
    case SCPB__ENTITY_STATE__KIND_TARGET:
        code = st->target->code;
        break;
    case SCPB__ENTITY_STATE__KIND_USER:
        code = st->user->login;
        break;
    case SCPB__ENTITY_STATE__KIND_TEMPLATE:
        code = st->template_->code;
        version = st->template_->version;
        break;
    default:
        break;
    }
    if (code) {
        uint8_t id[SC_ID_LEN];
        sc_status rc = s->vt->code_find(s, row->type, code, version, id, &e);
        if (rc != SC_OK && rc != SC_ERR_NOT_FOUND) {
            *a->err = e;
            storage(a, rc);
            return;
        }
        if (rc != SC_OK || memcmp(id, row->id, SC_ID_LEN) != 0) {
            problem(a, "%s: the codes table does not map \"%s\" to it", where, code);
            return;
        }
        a->rep->codes++;
    }
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_DEVICE) {
        sd_device_row d;
        devrec *want = dev_find(a, row->id);
        sc_status rc = s->vt->device_by_entity(s, row->id, &d, &e);
        if (rc != SC_OK && rc != SC_ERR_NOT_FOUND) {
            *a->err = e;
            storage(a, rc);
            return;
        }
        if (rc != SC_OK || !want || st->device->key.len != SC_KEY_LEN ||
            memcmp(d.key, st->device->key.data, SC_KEY_LEN) != 0 ||
            memcmp(d.user, st->device->user.data, SC_ID_LEN) != 0 ||
            d.enrolled_idx != want->enrolled || d.revoked != want->revoked ||
            (d.revoked && d.revoked_idx != want->revoked_idx)) {
            problem(a, "%s: the devices table row differs from its enrollment and revocation", where);
            return;
        }
        a->rep->devices++;
    }
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_ASSIGNMENT) {
        for (size_t i = 0; i < st->assignment->n_inspectors; i++) {
            sc_status rc = s->vt->assignee_has(s, row->id, st->assignment->inspectors[i].data, &e);
            if (rc == SC_ERR_NOT_FOUND) {
                problem(a, "%s: the assignees table lacks one of its inspectors", where);
                return;
            }
            if (rc != SC_OK) {
                *a->err = e;
                storage(a, rc);
                return;
            }
            a->rep->assignees++;
        }
    }
}

/* ---- photo references: each (photo, entity) an op names, at the first op naming it ---- */

typedef struct photo_ref {
    uint8_t sha[SC_HASH_LEN];
    uint64_t idx;
} photo_ref;

static int cmp_ref(const void *x, const void *y)
{
    const photo_ref *a = x, *b = y;
    int c = memcmp(a->sha, b->sha, SC_HASH_LEN);
    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

typedef struct ref_find {
    const uint8_t *entity;
    bool found;
    uint64_t idx;
} ref_find;

static bool ref_of(void *ctx, const uint8_t entity[SC_ID_LEN], uint64_t idx)
{
    ref_find *f = ctx;
    if (memcmp(entity, f->entity, SC_ID_LEN) != 0)
        return true;
    f->found = true;
    f->idx = idx;
    return false;
}

static void check_photo_refs(audit *a, const sd_entity_row *row, const replay *r, const char *where)
{
    size_t n = 0, cap = 0;
    photo_ref *v = NULL;
    for (size_t i = 0; i < r->n; i++) {
        const ProtobufCBinaryData *ph = NULL;
        size_t k = sc_op_photos(r->ops[i]->op, &ph);
        for (size_t j = 0; j < k; j++) {
            if (ph[j].len != SC_HASH_LEN)
                continue;
            if (n == cap) {
                photo_ref *w = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *w);
                if (!w) {
                    storage(a, sc_err_set(a->err, SC_ERR_NOMEM, 0, "audit: out of memory"));
                    free(v);
                    return;
                }
                v = w;
            }
            memcpy(v[n].sha, ph[j].data, SC_HASH_LEN);
            v[n++].idx = r->idx[i];
        }
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_ref);
    for (size_t i = 0; i < n && a->rc == SC_OK; i++) {
        if (i > 0 && memcmp(v[i].sha, v[i - 1].sha, SC_HASH_LEN) == 0)
            continue; /* named again: the row keeps the first op's index */
        ref_find f = {row->id, false, 0};
        sc_status rc = a->s->vt->photo_refs(a->s, v[i].sha, ref_of, &f, a->err);
        if (rc != SC_OK)
            storage(a, rc);
        else if (!f.found || f.idx != v[i].idx)
            problem(a,
                    "%s: the photo_refs table lacks a photo entry %llu names, or has "
                    "another index for it",
                    where, (unsigned long long)v[i].idx);
        else
            a->rep->photo_refs++;
    }
    free(v);
}

static bool replay_entity(void *ctx, const sd_entity_row *row)
{
    audit *a = ctx;
    replay r = {a, NULL, NULL, 0, 0};
    char ih[SC_ID_HEX];
    hex(row->id, SC_ID_LEN, ih, sizeof ih);
    sc_status rc = a->s->vt->entity_ops(a->s, row->id, load_op, &r, a->err);
    if (rc != SC_OK)
        storage(a, rc);
    char where[SC_ERR_MSG_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    sc_fold_out fo;
    memset(&fo, 0, sizeof fo);
    if (a->rc != SC_OK)
        goto done;
    if (r.n == 0) {
        problem(a, "entity %s has no ops in the log", ih);
        goto done;
    }
    {
        char oh[SC_HASH_HEX];
        hex(r.ops[r.n - 1]->id, SC_HASH_LEN, oh, sizeof oh);
        snprintf(where, sizeof where, "entry %llu (op %.16s), the latest of %s %s",
                 (unsigned long long)r.idx[r.n - 1], oh,
                 sc_name_of(&sc_names_entity_type, row->type) ? sc_name_of(&sc_names_entity_type,
                                                                           row->type)
                                                              : "entity",
                 ih);
    }
    a->ops_in_entities += r.n;
    sc_fold_input *in = calloc(r.n, sizeof *in);
    if (!in) {
        storage(a, sc_err_set(a->err, SC_ERR_NOMEM, 0, "audit: out of memory"));
        goto done;
    }
    for (size_t i = 0; i < r.n; i++) {
        in[i].id = r.ops[i]->id;
        in[i].op = r.ops[i]->op;
    }
    sc_err e;
    sc_err_clear(&e);
    sc_users users = {.user_of = log_user_of,
                      .ctx = a,
                      .org_of = log_org_of,
                      .parent_of = log_parent_of};
    rc = sc_fold(a->env, &users, in, r.n, &fo, &e);
    free(in);
    if (rc != SC_OK) {
        problem(a, "%s: its ops do not fold: %s", where, e.msg);
        goto done;
    }
    for (size_t i = 0; i < r.n; i++) {
        if (fo.why[i]) {
            char oh[SC_HASH_HEX];
            hex(r.ops[i]->id, SC_HASH_LEN, oh, sizeof oh);
            problem(a, "entry %llu (op %.16s): not valid against its causal past: %s",
                    (unsigned long long)r.idx[i], oh, fo.why[i]);
            goto done;
        }
    }
    if (sc_state_encode(a->env, fo.state, &buf, &len) != SC_OK) {
        storage(a, sc_err_set(a->err, SC_ERR_NOMEM, 0, "audit: out of memory"));
        goto done;
    }
    uint8_t h[SC_HASH_LEN];
    sc_sha256(buf, len, h);
    if (len != row->state_len || memcmp(buf, row->state, len) != 0) {
        problem(a, "%s: the stored state differs from replaying its %zu ops", where, r.n);
        goto done;
    }
    if (memcmp(h, row->state_hash, SC_HASH_LEN) != 0) {
        problem(a, "%s: the stored state hash is not the hash of its state", where);
        goto done;
    }
    if (row->op_count != r.n || row->last_idx != r.idx[r.n - 1] ||
        row->type != (int)fo.state->type) {
        problem(a, "%s: the stored type, op count or last index differs from the log", where);
        goto done;
    }
    check_row(a, row, fo.state, where);
    if (a->rc == SC_OK)
        check_tables(a, row, fo.state, where);
    if (a->rc == SC_OK)
        check_photo_refs(a, row, &r, where);
    if (a->rc == SC_OK && sc_replica_hash_add(&a->rh, row->id, h) != SC_OK)
        problem(a, "%s: entities are not in ascending id order", where);
    if (a->rc == SC_OK)
        a->rep->entities++;
done:
    sc_free(a->env, buf);
    sc_fold_out_dispose(a->env, &fo);
    for (size_t i = 0; i < r.n; i++)
        sc_op_free(a->env, r.ops[i]);
    free(r.ops);
    free(r.idx);
    return a->rc == SC_OK;
}

/* ---- 3. tables' row counts and release events ---- */

static bool count_code(void *ctx, int kind, const char *code, uint32_t version,
                       const uint8_t entity[SC_ID_LEN])
{
    (void)kind, (void)code, (void)version, (void)entity;
    (*(uint64_t *)ctx)++;
    return true;
}

static bool count_dev(void *ctx, const sd_device_row *d)
{
    (void)d;
    (*(uint64_t *)ctx)++;
    return true;
}

static bool count_pair(void *ctx, const uint8_t x[SC_ID_LEN], const uint8_t y[SC_ID_LEN])
{
    (void)x, (void)y;
    (*(uint64_t *)ctx)++;
    return true;
}

typedef struct rel_check {
    audit *a;
    uint64_t expect_seq;
} rel_check;

static bool rel_one_op(void *ctx, const sd_op_row *row)
{
    *(sd_op_row *)ctx = *row;
    ((sd_op_row *)ctx)->signed_op = NULL;
    return false;
}

static bool check_release(void *ctx, uint64_t seq, const uint8_t entity[SC_ID_LEN], uint64_t idx)
{
    rel_check *c = ctx;
    audit *a = c->a;
    if (seq != c->expect_seq) {
        problem(a, "release event %llu is missing", (unsigned long long)c->expect_seq);
        return false;
    }
    c->expect_seq++;
    sd_op_row op;
    memset(&op, 0, sizeof op);
    op.idx = UINT64_MAX;
    sc_status rc = a->s->vt->op_scan(a->s, idx, idx + 1, rel_one_op, &op, a->err);
    if (rc != SC_OK) {
        storage(a, rc);
        return false;
    }
    if (op.idx != idx || memcmp(op.entity, entity, SC_ID_LEN) != 0) {
        problem(a, "release event %llu names log entry %llu, which is not an op of its entity",
                (unsigned long long)seq, (unsigned long long)idx);
        return false;
    }
    sd_entity_row er;
    sc_err e;
    if (a->s->vt->entity_get(a->s, entity, false, &er, &e) != SC_OK || !er.released ||
        (er.vis_class != SD_VIS_INSPECTION && er.vis_class != SD_VIS_SELF_CHECK)) {
        char oh[SC_HASH_HEX];
        hex(op.op_id, SC_HASH_LEN, oh, sizeof oh);
        problem(a, "entry %llu (op %.16s): release event %llu for an entity that is not a released "
                   "inspection or finding",
                (unsigned long long)idx, oh, (unsigned long long)seq);
        return false;
    }
    a->rep->releases++;
    return true;
}

static sc_status meta_copy(sd_store *s, const char *key, void *out, size_t cap, size_t *len,
                           sc_err *err)
{
    uint8_t *v = NULL;
    size_t n = 0;
    sc_status rc = s->vt->meta_get(s, key, &v, &n, err);
    if (rc == SC_OK && n > cap)
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "audit: meta value %s is too long", key);
    if (rc == SC_OK) {
        memcpy(out, v, n);
        *len = n;
    }
    free(v);
    return rc;
}

/*
 * 4. DIR/server.key holds the key the register is signed with.  A missing,
 * unreadable or foreign key is a problem naming the file and both keys.
 */
static void check_key(audit *a, const char *data_dir)
{
    char path[SD_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/server.key", data_dir);
    sc_keypair *kp = NULL;
    sc_err e;
    sc_err_clear(&e);
    sc_status rc = sd_keyfile_read(path, &kp, &e);
    char want[SC_KEY_LEN * 2 + 1], got[SC_KEY_LEN * 2 + 1];
    hex(a->server_key, SC_KEY_LEN, want, sizeof want);
    if (rc != SC_OK) {
        problem(a, "the server key: %s (this register is signed with key %s)", e.msg, want);
        return;
    }
    if (sodium_memcmp(sc_keypair_public(kp), a->server_key, SC_KEY_LEN) != 0) {
        hex(sc_keypair_public(kp), SC_KEY_LEN, got, sizeof got);
        problem(a,
                "the server key in %s is %s, another register's: this register's checkpoints "
                "and server-signed ops are signed with %s (restore the server.key backed up "
                "with this register)",
                path, got, want);
    } else {
        a->rep->key_checked = true;
    }
    sc_keypair_free(kp);
}

/* 3. no rows beyond those the log implies: codes, devices, assignees, photo references. */
static void check_row_counts(audit *a, sc_err *err)
{
    if (a->rc != SC_OK)
        return;
    const sd_audit_report *rep = a->rep;
    uint64_t codes = 0, devices = 0, pairs = 0, refs = 0;
    sc_status rc = a->s->vt->code_scan(a->s, count_code, &codes, err);
    if (rc == SC_OK)
        rc = a->s->vt->device_scan(a->s, count_dev, &devices, err);
    if (rc == SC_OK)
        rc = a->s->vt->assignee_scan(a->s, count_pair, &pairs, err);
    if (rc == SC_OK)
        rc = a->s->vt->photo_ref_count(a->s, &refs, err);
    if (rc != SC_OK)
        storage(a, rc);
    else if (codes != rep->codes)
        problem(a, "the codes table has %llu rows; the log implies %llu",
                (unsigned long long)codes, (unsigned long long)rep->codes);
    else if (devices != rep->devices || devices != a->ndev)
        problem(a, "the devices table has %llu rows; the log enrolls %zu",
                (unsigned long long)devices, a->ndev);
    else if (pairs != rep->assignees)
        problem(a, "the assignees table has %llu rows; the log implies %llu",
                (unsigned long long)pairs, (unsigned long long)rep->assignees);
    else if (refs != rep->photo_refs)
        problem(a, "the photo_refs table has %llu rows; the log implies %llu",
                (unsigned long long)refs, (unsigned long long)rep->photo_refs);
}

sc_status sd_audit_run(const char *data_dir, const sd_audit_opts *opts, sd_audit_report *rep,
                       sc_err *err)
{
    unsigned checks = opts ? opts->checks : SD_AUDIT_ALL;
    memset(rep, 0, sizeof *rep);
    sc_err_clear(err);
    if (sc_crypto_init() != SC_OK)
        return sc_err_set(err, SC_ERR_CRYPTO, 0, "libsodium failed to initialise");
    audit a;
    memset(&a, 0, sizeof a);
    a.env = sd_env_system();
    a.rep = rep;
    a.err = err;
    a.data_dir = data_dir;
    a.opts = opts;
    sc_merkle_frontier_init(&a.fr);
    sc_replica_hash_init(&a.rh);
    sd_store_loc loc;
    sc_status rc = sd_store_locate(data_dir, &loc, err);
    if (rc != SC_OK)
        return rc;
    snprintf(a.blobs, sizeof a.blobs, "%s", loc.blobs);
    rc = sd_store_open_at(&loc, false, &a.s, err);
    sodium_memzero(loc.target, sizeof loc.target);
    if (rc != SC_OK)
        return rc;
    size_t n = 0;
    rc = a.s->vt->begin(a.s, false, err);
    if (rc == SC_OK)
        rc = meta_copy(a.s, "server_key", a.server_key, SC_KEY_LEN, &n, err);
    if (rc == SC_OK && n != SC_KEY_LEN)
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "audit: the stored server key is not 32 bytes");
    if (rc == SC_OK)
        rc = meta_copy(a.s, "origin", a.origin, sizeof a.origin - 1, &n, err);
    if (rc == SC_OK)
        a.origin[n] = '\0';
    if (rc == SC_OK)
        rc = a.s->vt->log_size(a.s, &a.size, err);
    if (rc == SC_OK && sc_auditor_new(a.env, a.server_key, a.origin, &a.aud) != SC_OK)
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "audit: out of memory");
    if (rc == SC_OK && (checks & SD_AUDIT_PHOTOS) && !photos_begin(&a))
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "audit: out of memory");
    if (rc != SC_OK)
        goto out;

    /* 0. the schema is syncd's own: a restored register runs no SQL of anyone else's */
    char schema[SC_ERR_MSG_MAX];
    rc = a.s->vt->schema_check(a.s, schema, sizeof schema, err);
    if (rc != SC_OK)
        storage(&a, rc);
    else if (schema[0])
        problem(&a, "%s", schema);

    /* 4. first, as it needs nothing else: the key */
    if (checks & SD_AUDIT_KEY)
        check_key(&a, data_dir);

    /* 1. entries interleaved with the checkpoints they complete (and 5. their photos) */
    rc = a.s->vt->checkpoint_scan(a.s, feed_checkpoint, &a, err);
    if (rc != SC_OK)
        storage(&a, rc);
    feed_until(&a, a.size);
    if (a.rc == SC_OK && (!a.any_cp || a.last_cp != a.size))
        problem(&a, "the latest checkpoint covers %llu entries but the log has %llu",
                (unsigned long long)a.last_cp, (unsigned long long)a.size);
    uint64_t stored_nodes = 0;
    if (a.rc == SC_OK) {
        rc = a.s->vt->node_count(a.s, &stored_nodes, err);
        if (rc != SC_OK)
            storage(&a, rc);
        else if (stored_nodes != rep->nodes)
            problem(&a, "the merkle table holds %llu nodes; the log completes %llu",
                    (unsigned long long)stored_nodes, (unsigned long long)rep->nodes);
    }
    sc_merkle_frontier_root(&a.fr, rep->root);
    memcpy(rep->server_key, a.server_key, SC_KEY_LEN);

    /* 2. every entity refolded */
    if (a.rc == SC_OK) {
        rc = a.s->vt->entity_scan(a.s, replay_entity, &a, err);
        if (rc != SC_OK)
            storage(&a, rc);
    }
    if (a.rc == SC_OK && a.ops_in_entities != a.size)
        problem(&a, "the entities account for %llu ops but the log has %llu",
                (unsigned long long)a.ops_in_entities, (unsigned long long)a.size);

    /* 3. no rows beyond those the log implies */
    check_row_counts(&a, err);
    if (a.rc == SC_OK) {
        rel_check c = {&a, 0};
        rc = a.s->vt->release_scan(a.s, check_release, &c, err);
        if (rc != SC_OK)
            storage(&a, rc);
    }
    photos_verdict(&a);
    sc_replica_hash_final(&a.rh, rep->replica_hash);
    rc = a.rc;
out:
    if (a.s) {
        a.s->vt->rollback(a.s);
        a.s->vt->close(a.s);
    }
    sc_auditor_free(a.aud);
    free(a.dev);
    free(a.place);
    photos_end(&a);
    return rc;
}

/* Print one photo problem as the audit finds it. */
static void print_photo(void *ctx, const sd_audit_photo *p)
{
    (void)ctx;
    char sh[SC_HASH_HEX], oh[SC_HASH_HEX], kh[SC_KEY_LEN * 2 + 1];
    hex(p->sha, SC_HASH_LEN, sh, sizeof sh);
    hex(p->op_id, SC_HASH_LEN, oh, sizeof oh);
    hex(p->author, SC_KEY_LEN, kh, sizeof kh);
    printf("  photo %s: %s, named by entry %llu (op %.16s, made by device %.16s)\n",
           p->damaged ? "damaged" : "not stored", sh, (unsigned long long)p->idx, oh, kh);
}

int sd_cmd_audit(int argc, char **argv)
{
    const char *data = NULL;
    const sd_option options[] = {{"data", &data, NULL}, {NULL, NULL, NULL}};
    int st = sd_cmdline_parse("audit", argc, argv, options, NULL, 0, NULL);
    if (st >= 0)
        return st;
    if (!data)
        return sd_cmdline_fail("audit", "--data DIR is needed");
    sd_audit_report rep;
    sc_err err;
    printf("audit of %s\n", data);
    sd_audit_opts opts = {SD_AUDIT_ALL, print_photo, NULL};
    sc_status rc = sd_audit_run(data, &opts, &rep, &err);
    if (rc != SC_OK && rc != SC_ERR_REJECTED) {
        fprintf(stderr, "syncd audit: %s\n", err.msg);
        return 1;
    }
    char root[SC_HASH_HEX], rh[SC_HASH_HEX];
    hex(rep.root, SC_HASH_LEN, root, sizeof root);
    hex(rep.replica_hash, SC_HASH_LEN, rh, sizeof rh);
    printf("  log entries checked:   %llu (decoding, signature, enrollment, revocation, role, leaf "
           "hash)\n",
           (unsigned long long)rep.entries);
    printf("  checkpoints checked:   %llu (signature, origin, root)\n",
           (unsigned long long)rep.checkpoints);
    printf("  Merkle nodes checked:  %llu\n", (unsigned long long)rep.nodes);
    printf("  entities replayed:     %llu (state, hash, counts, visibility columns)\n",
           (unsigned long long)rep.entities);
    printf("  derived rows checked:  %llu codes, %llu devices, %llu assignees, %llu release "
           "events\n",
           (unsigned long long)rep.codes, (unsigned long long)rep.devices,
           (unsigned long long)rep.assignees, (unsigned long long)rep.releases);
    printf("  photo references:      %llu (the photos ops name, for who may read them)\n",
           (unsigned long long)rep.photo_refs);
    printf("  photos checked:        %llu (%llu bytes hashed; %llu not stored, %llu not matching "
           "their hash)\n",
           (unsigned long long)rep.photos, (unsigned long long)rep.photo_bytes,
           (unsigned long long)rep.photos_missing, (unsigned long long)rep.photos_bad);
    printf("  server key:            %s\n",
           rep.key_checked ? "DIR/server.key signs this register" : "not confirmed");
    if (rc == SC_OK) {
        printf("  root %s\n  replica hash %s\nOK: everything holds\n", root, rh);
        return 0;
    }
    printf("FAILED: %s\n", rep.problem);
    fprintf(stderr, "syncd audit: %s\n", rep.problem);
    /* Only photos not stored: told apart, as tablets may still be uploading them. */
    return rep.photos_only ? 3 : 1;
}
