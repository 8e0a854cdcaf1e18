/*
 * register_photos.c: who may read a photo (docs/protocol.md §4.3).  A photo
 * is read (GET, HEAD, blobs_wanted) only by a principal that can see an op
 * naming it; the photo_refs table (register_accept.c writes it with the
 * op) says which entities name a photo, and each entity's visibility is
 * decided by sd_visible_to, the rule pull and ingest use, so a photo is
 * visible exactly when the pull would return an op naming it.
 *
 * Invariants:
 *  - One answer is one read transaction (one snapshot) on a pooled
 *    connection; an entity's visibility is decided once per answer.
 *  - A photo no op names is visible to nobody, its uploader included.
 */
#include <string.h>

#include "register_internal.h"

typedef struct photo_look {
    sd_store *s;
    const sd_viewer *v; /* NULL: only whether any op names the photo */
    sd_idmap *memo;     /* entity -> (void *)1 visible, (void *)2 not */
    bool named;         /* some op names the photo */
    bool visible;       /* an op the viewer can see names it */
    sc_status rc;
    sc_err *err;
} photo_look;

static bool entity_visible(photo_look *l, const uint8_t entity[SC_ID_LEN], bool *vis)
{
    void **slot = sd_idmap_find(l->memo, entity);
    if (slot) {
        *vis = *slot == (void *)1;
        return true;
    }
    sd_entity_row row;
    sc_status rc = l->s->vt->entity_get(l->s, entity, false, &row, l->err);
    *vis = false;
    if (rc == SC_OK) {
        const uint8_t *insp = row.type == T_(INSPECTION) ? row.id
                              : row.has_inspection       ? row.inspection
                                                         : NULL;
        sd_vis_facts f = {row.id, row.vis_class, row.released, row.has_scope ? row.scope_org : NULL,
                          insp};
        rc = sd_visible_to(l->v, &f, vis, l->err);
    } else if (rc == SC_ERR_NOT_FOUND) {
        rc = SC_OK; /* cannot happen in a register that audits clean: nobody sees it */
    }
    if (rc != SC_OK) {
        l->rc = rc;
        return false;
    }
    if (!sd_idmap_put(l->memo, entity, *vis ? (void *)1 : (void *)2)) {
        l->rc = sc_err_set(l->err, SC_ERR_NOMEM, 0, "register: out of memory");
        return false;
    }
    return true;
}

static bool on_ref(void *ctx, const uint8_t entity[SC_ID_LEN], uint64_t idx)
{
    (void)idx;
    photo_look *l = ctx;
    l->named = true;
    if (!l->v)
        return false;
    bool vis = false;
    if (!entity_visible(l, entity, &vis))
        return false;
    l->visible = vis;
    return !vis;
}

/* One photo on an open read transaction: named at all, and visible to l->v (when given). */
static sc_status look(photo_look *l, const uint8_t sha[SC_HASH_LEN])
{
    l->named = l->visible = false;
    sc_status rc = l->s->vt->photo_refs(l->s, sha, on_ref, l, l->err);
    return rc != SC_OK ? rc : l->rc;
}

/*
 * The answer for n photos on one snapshot.  With a viewer (who, or the
 * principal of the device key `device`): visible to it; with neither: named
 * by any op.  A key no device has sees nothing.  On failure every out[i] is
 * false.
 */
static sc_status answer(sd_register *r, const sd_principal *who, const uint8_t *device,
                        const uint8_t (*sha)[SC_HASH_LEN], size_t n, bool *out, sc_err *err)
{
    memset(out, 0, n * sizeof *out);
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    sd_idmap memo = {0}, named = {0};
    sd_principal p;
    sd_viewer v = {.s = c->s, .env = &r->env, .named = &named};
    photo_look l = {c->s, NULL, &memo, false, false, SC_OK, err};
    bool known = true;
    rc = c->s->vt->begin(c->s, false, err);
    if (rc == SC_OK && device) {
        rc = sd_principal_load(r, c->s, device, &p, err);
        known = rc != SC_ERR_NOT_FOUND;
        rc = known ? rc : SC_OK;
        who = &p;
    }
    if (rc == SC_OK && who && known) {
        v.p = who;
        rc = sd_orgcache_get(&c->orgs, c->s, &v.tree, err);
        l.v = &v;
    }
    for (size_t i = 0; rc == SC_OK && known && i < n; i++) {
        rc = look(&l, sha[i]);
        out[i] = rc == SC_OK && (l.v ? l.visible : l.named);
    }
    if (rc == SC_OK)
        rc = c->s->vt->commit(c->s, err);
    if (rc != SC_OK)
        memset(out, 0, n * sizeof *out);
    sd_idmap_dispose(&memo);
    sd_idmap_dispose(&named);
    sd_pool_put(r, c);
    return rc;
}

sc_status sd_register_photos_visible(sd_register *r, const sd_principal *who,
                                     const uint8_t (*sha)[SC_HASH_LEN], size_t n, bool *visible,
                                     sc_err *err)
{
    return answer(r, who, NULL, sha, n, visible, err);
}

sc_status sd_register_photo_seen(void *reg, const uint8_t *device, const uint8_t sha[SC_HASH_LEN],
                                 bool *out, sc_err *err)
{
    return answer(reg, NULL, device, (const uint8_t(*)[SC_HASH_LEN])sha, 1, out, err);
}
