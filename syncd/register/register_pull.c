/*
 * register_pull.c: what a user may see since their cursor
 * (docs/protocol.md §6).  One pull is one read transaction on a pooled
 * connection: first, for a responsible user, the release events since the
 * cursor (ops that became visible to them after they were logged), then
 * the log from the cursor's index, each op filtered by the visibility of
 * its entity, then the latest checkpoint of that snapshot.
 *
 * Invariants:
 *  - The cursor is Cursor{log_index, release_seq}, opaque to the client;
 *    one this server did not make (or one past the log) is refused, never
 *    guessed at.
 *  - A pull's work is bounded: at most `max` ops out and PULL_SCAN_MAX log
 *    rows looked at; a pull that stops early says `more`, and its cursor
 *    resumes exactly where it stopped.
 *  - Visibility is decided once per entity per pull (memo), by the same
 *    sd_visible_to that ingest uses, so what a user may push and what they
 *    pull agree.
 */
#include <stdlib.h>
#include <string.h>

#include "register_internal.h"
#include "tlog.h"

/* Log rows one pull examines before it answers with `more` (bounds a request's work). */
#define PULL_SCAN_MAX 200000
/* A cursor is two varints; anything longer is not one of ours. */
#define CURSOR_MAX 32

typedef struct pull_ctx {
    sd_register *r;
    sd_conn *c;
    const sd_pull *req;
    const sd_orgtree *tree;
    sd_idmap memo;                   /* entity -> (void *)1 visible, (void *)2 not */
    sd_idmap named;                  /* inspection -> named on its assignment (sd_viewer) */
    uint8_t (*exclude)[SC_HASH_LEN]; /* sorted */
    size_t nexclude;
    Scpb__LoggedOp **ops;
    uint8_t (*leaves)[SC_HASH_LEN]; /* each op's leaf hash, for the answer's seal */
    size_t n, max;
    uint64_t before; /* release rows: only ops logged before the cursor */
    uint64_t scanned;
    uint64_t next_idx; /* the first log row not looked at yet */
    uint64_t next_seq; /* the first release event not looked at yet */
    bool full;         /* stopped at max */
    bool budget;       /* stopped at the scan budget */
    sc_status rc;
    sc_err *err;
} pull_ctx;

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, SC_HASH_LEN);
}

static bool excluded(const pull_ctx *p, const uint8_t id[SC_HASH_LEN])
{
    return p->nexclude && bsearch(id, p->exclude, p->nexclude, SC_HASH_LEN, cmp_hash) != NULL;
}

static bool pull_add(pull_ctx *p, const sd_pull_row *row)
{
    Scpb__LoggedOp *m = sd_logged_op_new(&row->op);
    if (!m) {
        p->rc = sc_err_set(p->err, SC_ERR_NOMEM, 0, "pull: out of memory");
        return false;
    }
    memcpy(p->leaves[p->n], row->op.leaf_hash, SC_HASH_LEN);
    p->ops[p->n++] = m;
    return true;
}

static bool row_visible(pull_ctx *p, const sd_pull_row *row)
{
    const sd_principal *who = p->req->who;
    if (row->vis_class == SD_VIS_ALL || sd_is_admin(who) || who->role == SCPB__ROLE__ROLE_AUDITOR)
        return true;
    void **slot = sd_idmap_find(&p->memo, row->op.entity);
    if (slot)
        return *slot == (void *)1;
    const uint8_t *insp = row->type == T_(INSPECTION) ? row->op.entity
                          : row->has_inspection       ? row->inspection
                                                      : NULL;
    sd_vis_facts f = {row->op.entity, row->vis_class, row->released,
                      row->has_scope ? row->scope_org : NULL, insp};
    sd_viewer v = {who, p->c->s, &p->r->env, p->tree, &p->named};
    bool vis = false;
    sc_status rc = sd_visible_to(&v, &f, &vis, p->err);
    if (rc != SC_OK)
        p->rc = rc;
    else if (!sd_idmap_put(&p->memo, row->op.entity, vis ? (void *)1 : (void *)2))
        p->rc = sc_err_set(p->err, SC_ERR_NOMEM, 0, "pull: out of memory");
    return vis;
}

static bool pull_release_row(void *ctx, const sd_pull_row *row)
{
    pull_ctx *p = ctx;
    if (p->n == p->max) {
        p->full = true;
        return false;
    }
    if (row->op.idx < p->before && !excluded(p, row->op.op_id)) {
        const sd_principal *who = p->req->who;
        bool in_scope = row->has_scope && sd_orgtree_within(p->tree, row->scope_org, who->org);
        if (sd_visible(who->role, row->vis_class, in_scope, false, row->released) &&
            !pull_add(p, row))
            return false;
    }
    p->next_seq = row->seq + 1;
    return p->rc == SC_OK;
}

static bool pull_log_row(void *ctx, const sd_pull_row *row)
{
    pull_ctx *p = ctx;
    if (p->n == p->max) {
        p->full = true;
        return false;
    }
    if (p->scanned == PULL_SCAN_MAX) {
        p->budget = true;
        return false;
    }
    p->scanned++;
    if (!excluded(p, row->op.op_id) && row_visible(p, row) && p->rc == SC_OK && !pull_add(p, row))
        return false;
    p->next_idx = row->op.idx + 1;
    return p->rc == SC_OK;
}

static sc_status cursor_encode(uint64_t log_index, uint64_t seq, sd_pulled *out, sc_err *err)
{
    Scpb__Cursor cur = SCPB__CURSOR__INIT;
    cur.has_log_index = true;
    cur.log_index = log_index;
    cur.has_release_seq = true;
    cur.release_seq = seq;
    size_t len = scpb__cursor__get_packed_size(&cur);
    out->cursor = malloc(len ? len : 1);
    if (!out->cursor)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "pull: out of memory");
    out->cursor_len = scpb__cursor__pack(&cur, out->cursor);
    return SC_OK;
}

void sd_pulled_dispose(sd_pulled *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        sd_msg_free(p->ops[i]);
    free(p->ops);
    free(p->leaves);
    free(p->cursor);
    sd_msg_free(p->checkpoint);
    memset(p, 0, sizeof *p);
}

sc_status sd_register_pull(sd_register *r, const sd_pull *req, sd_pulled *out, sc_err *err)
{
    sc_err_clear(err);
    memset(out, 0, sizeof *out);
    uint64_t L = 0, R = 0;
    if (req->cursor && req->cursor_len) {
        Scpb__Cursor *cur = req->cursor_len <= CURSOR_MAX
                                ? scpb__cursor__unpack(NULL, req->cursor_len, req->cursor)
                                : NULL;
        bool ok =
            cur && cur->has_log_index && cur->has_release_seq && cur->base.n_unknown_fields == 0;
        if (ok) {
            L = cur->log_index;
            R = cur->release_seq;
        }
        if (cur)
            scpb__cursor__free_unpacked(cur, NULL);
        if (!ok)
            return sc_err_set(err, SC_ERR_MALFORMED, R_(MALFORMED),
                              "the cursor is not one this server made");
    }
    size_t max = req->max ? req->max : r->cfg.pull_max;
    if (max > r->cfg.pull_max)
        max = r->cfg.pull_max;
    if (max > SC_PULL_OPS_MAX)
        max = SC_PULL_OPS_MAX;

    pull_ctx p;
    memset(&p, 0, sizeof p);
    p.r = r;
    p.req = req;
    p.err = err;
    p.max = max;
    p.before = L;
    sc_status rc = SC_OK;
    if (req->nexclude) {
        p.exclude = malloc(req->nexclude * sizeof *p.exclude);
        if (!p.exclude)
            return sc_err_set(err, SC_ERR_NOMEM, 0, "pull: out of memory");
        memcpy(p.exclude, req->exclude, req->nexclude * sizeof *p.exclude);
        qsort(p.exclude, req->nexclude, SC_HASH_LEN, cmp_hash);
        p.nexclude = req->nexclude;
    }
    p.ops = calloc(max ? max : 1, sizeof *p.ops);
    p.leaves = malloc((max ? max : 1) * sizeof *p.leaves);
    if (!p.ops || !p.leaves) {
        free(p.ops);
        free(p.leaves);
        free(p.exclude);
        return sc_err_set(err, SC_ERR_NOMEM, 0, "pull: out of memory");
    }
    rc = sd_pool_get(r, &p.c, err);
    if (rc != SC_OK)
        goto done;
    sd_store *s = p.c->s;
    uint64_t size = 0, next_seq = 0;
    rc = s->vt->begin(s, false, err);
    if (rc == SC_OK)
        rc = s->vt->log_size(s, &size, err);
    if (rc == SC_OK)
        rc = s->vt->release_next_seq(s, &next_seq, err);
    if (rc == SC_OK && (L > size || R > next_seq))
        rc = sc_err_set(err, SC_ERR_MALFORMED, R_(MALFORMED),
                        "the cursor is not one this server made (it is past the log)");
    if (rc == SC_OK)
        rc = sd_orgcache_get(&p.c->orgs, s, &p.tree, err);
    if (rc != SC_OK)
        goto done;

    uint64_t newR = next_seq, newL = size;
    bool more = false;
    if (req->who->role == SCPB__ROLE__ROLE_RESPONSIBLE && R < next_seq && L > 0) {
        p.next_seq = R;
        rc = s->vt->pull_releases(s, R, pull_release_row, &p, err);
        if (rc == SC_OK)
            rc = p.rc;
        if (rc != SC_OK)
            goto done;
        if (p.full) {
            newR = p.next_seq;
            newL = L;
            more = true;
        }
    }
    if (!more && L < size) {
        p.next_idx = L;
        rc = s->vt->pull_log(s, L, pull_log_row, &p, err);
        if (rc == SC_OK)
            rc = p.rc;
        if (rc != SC_OK)
            goto done;
        if (p.full || p.budget) {
            newL = p.next_idx;
            more = newL < size;
        }
    }
    /* In the same snapshot: one read transaction per sync, not two. */
    Scpb__Checkpoint *cp = NULL;
    rc = sd_tlog_latest(s, &cp, err);
    if (rc == SC_OK)
        rc = s->vt->commit(s, err);
    if (rc == SC_OK)
        rc = cursor_encode(newL, newR, out, err);
    if (rc == SC_OK) {
        out->checkpoint = cp;
        cp = NULL;
    }
    sd_msg_free(cp);
    if (rc == SC_OK) {
        out->ops = p.ops;
        out->leaves = p.leaves;
        out->n = p.n;
        out->more = more;
        p.ops = NULL;
        p.leaves = NULL;
        p.n = 0;
    }
done:
    for (size_t i = 0; i < p.n; i++)
        sd_msg_free(p.ops[i]);
    free(p.ops);
    free(p.leaves);
    free(p.exclude);
    sd_idmap_dispose(&p.memo);
    sd_idmap_dispose(&p.named);
    if (p.c)
        sd_pool_put(r, p.c);
    if (rc != SC_OK) {
        free(out->cursor);
        memset(out, 0, sizeof *out);
    }
    return rc;
}
