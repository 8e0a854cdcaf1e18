/*
 * tlog.c: Merkle nodes and checkpoints in the store (see tlog.h for which
 * nodes are stored and how the others are computed).
 *
 * sc_merkle_frontier_append reports completed subtrees through a callback
 * that cannot fail, so a store error there is kept in the append context
 * and returned once the append finishes; the caller then rolls the whole
 * transaction back, nodes included.
 */
#include "tlog.h"

#include <stdlib.h>
#include <string.h>

bool sd_tlog_level_stored(unsigned level)
{
    return level > 0 && level % SD_TLOG_STRIDE == 0;
}

sc_status sd_tlog_node(void *ctx, unsigned level, uint64_t index, uint8_t out[SC_HASH_LEN])
{
    sd_tlog_reader *r = ctx;
    if (level == 0)
        return r->s->vt->leaf_get(r->s, index, out, r->err);
    if (sd_tlog_level_stored(level))
        return r->s->vt->node_get(r->s, level, index, out, r->err);
    /* Hash it up from the nearest stored level below: 2^up nodes, pairwise, up times. */
    unsigned up = level % SD_TLOG_STRIDE, base = level - up;
    size_t n = (size_t)1 << up;
    uint8_t h[1 << (SD_TLOG_STRIDE - 1)][SC_HASH_LEN];
    uint64_t from = index << up;
    sc_status rc = base == 0 ? r->s->vt->leaf_range(r->s, from, n, h, r->err)
                             : r->s->vt->node_range(r->s, base, from, n, h, r->err);
    if (rc != SC_OK)
        return rc;
    for (; n > 1; n /= 2)
        for (size_t i = 0; i < n / 2; i++)
            sc_merkle_node_hash(h[2 * i], h[2 * i + 1], h[i]);
    memcpy(out, h[0], SC_HASH_LEN);
    return SC_OK;
}

sc_status sd_tlog_frontier_load(sd_store *s, uint64_t size, sc_merkle_frontier *f, sc_err *err)
{
    sd_tlog_reader rd = {s, err};
    sc_merkle_frontier_init(f);
    sc_status rc = sc_merkle_frontier_load(f, size, sd_tlog_node, &rd);
    if (rc != SC_OK && (!err || err->code == SC_OK))
        sc_err_set(err, rc, 0, "register: cannot rebuild the log frontier at size %llu",
                   (unsigned long long)size);
    return rc;
}

typedef struct append_ctx {
    sd_store *s;
    sc_err *err;
    sc_status rc;
} append_ctx;

static void store_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[SC_HASH_LEN])
{
    append_ctx *a = ctx;
    if (a->rc != SC_OK || !sd_tlog_level_stored(level))
        return;
    a->rc = a->s->vt->node_put(a->s, level, index, hash, a->err);
}

sc_status sd_tlog_append(sd_store *s, sc_merkle_frontier *f, const uint8_t leaf[SC_HASH_LEN],
                         sc_err *err)
{
    append_ctx a = {s, err, SC_OK};
    sc_merkle_frontier_append(f, leaf, store_node, &a);
    return a.rc;
}

sc_status sd_tlog_checkpoint(sd_store *s, const sc_env *env, const sc_keypair *kp,
                             const char *origin, const sc_merkle_frontier *f, int64_t now_ms,
                             sc_err *err)
{
    sc_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    size_t olen = strlen(origin);
    if (olen >= sizeof cp.origin)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "register: origin too long");
    memcpy(cp.origin, origin, olen + 1);
    cp.size = f->size;
    sc_merkle_frontier_root(f, cp.root);
    cp.time_ms = now_ms;
    char note[SC_CHECKPOINT_NOTE_MAX];
    size_t len = 0;
    sc_status rc = sc_checkpoint_sign(env, kp, &cp, note, sizeof note, &len, err);
    if (rc != SC_OK)
        return rc;
    sd_checkpoint_row row;
    memset(&row, 0, sizeof row);
    row.size = cp.size;
    memcpy(row.root, cp.root, SC_HASH_LEN);
    row.time_ms = now_ms;
    row.note = note;
    row.note_len = len;
    return s->vt->checkpoint_put(s, &row, err);
}

sc_status sd_tlog_latest(sd_store *s, Scpb__Checkpoint **out, sc_err *err)
{
    *out = NULL;
    sd_checkpoint_row row;
    char *note = NULL;
    sc_status rc = s->vt->checkpoint_latest(s, &row, &note, err);
    if (rc != SC_OK)
        return rc;
    Scpb__Checkpoint *m = malloc(sizeof *m);
    uint8_t *root = malloc(SC_HASH_LEN);
    if (!m || !root) {
        free(m);
        free(root);
        free(note);
        return sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
    }
    scpb__checkpoint__init(m);
    memcpy(root, row.root, SC_HASH_LEN);
    m->note = note;
    m->has_size = true;
    m->size = row.size;
    m->has_root = true;
    m->root.data = root;
    m->root.len = SC_HASH_LEN;
    *out = m;
    return SC_OK;
}
