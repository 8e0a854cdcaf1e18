/*
 * visibility.h: who may see what (docs/protocol.md §6) and the org-unit
 * tree that scope is decided on.
 *
 * The rule itself is a pure function of the viewer's role and four facts
 * about the entity (its visibility class, whether its org unit lies in the
 * viewer's subtree, whether the viewer is named on it or on its
 * inspection's assignment, whether its inspection is submitted), so pull
 * and ingest judge alike and the matrix is testable without a database.
 * The org tree is loaded from the store and cached per connection; the
 * cache is checked against the database's data_version before each use,
 * so org units created by another process (syncd admin) are seen at once.
 * Org units are never moved or deleted.
 */
#ifndef SD_VISIBILITY_H
#define SD_VISIBILITY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/status.h"
#include "op.pb-c.h"
#include "store/store.h"

typedef struct sd_orgtree sd_orgtree;

/* Load every org unit.  *out is freed with sd_orgtree_free. */
sc_status sd_orgtree_load(sd_store *s, sd_orgtree **out, sc_err *err);
void sd_orgtree_free(sd_orgtree *t);
/* True when org is an org unit of the tree. */
bool sd_orgtree_has(const sd_orgtree *t, const uint8_t org[SC_ID_LEN]);
/* True when org is `top` or lies below it. */
bool sd_orgtree_within(const sd_orgtree *t, const uint8_t org[SC_ID_LEN],
                       const uint8_t top[SC_ID_LEN]);
/* Org units in the tree. */
size_t sd_orgtree_size(const sd_orgtree *t);

/* A per-connection cache of the tree, validated by data_version. */
typedef struct sd_orgcache {
    sd_orgtree *tree;     /* owned; NULL until loaded */
    int64_t version;      /* data_version when loaded */
} sd_orgcache;

/* The current tree (borrowed until the next call on c).  Reloads when stale. */
sc_status sd_orgcache_get(sd_orgcache *c, sd_store *s, const sd_orgtree **out, sc_err *err);
/* Forget the tree: the connection itself wrote an org unit (its own writes leave data_version alone). */
void sd_orgcache_invalidate(sd_orgcache *c);
void sd_orgcache_dispose(sd_orgcache *c);

/*
 * May a user of `role` see an entity of class vis_class (sd_vis_class)?
 * in_scope: the entity's org unit is the user's or below it; named: the
 * user is named on the assignment (for an assignment), or on the
 * assignment the inspection was opened under (for an inspection or a
 * finding made in one: cross-district checks, docs/protocol.md §6);
 * released: the inspection (of the inspection or finding) is submitted.
 */
bool sd_visible(Scpb__Role role, int vis_class, bool in_scope, bool named, bool released);

#endif
