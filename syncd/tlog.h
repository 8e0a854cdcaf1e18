/*
 * tlog.h: the register's RFC 9162 log on top of the store: node lookups
 * for the core Merkle math, appending leaves while storing every perfect
 * subtree the append completes, and signing, storing and reading
 * checkpoints.
 *
 * Storage: level 0 nodes are the ops' leaf hashes (ops.leaf_hash); levels
 * >= 1 are the merkle table, one row per completed perfect subtree, so
 * about one row per leaf in all.  Any root or proof then costs O(log n)
 * lookups (merkle.h), and appending costs O(1) amortized writes.
 */
#ifndef SD_TLOG_H
#define SD_TLOG_H

#include "core/checkpoint.h"
#include "core/merkle.h"
#include "store.h"
#include "wire.pb-c.h"

/* Context for sd_tlog_node: the store to read and where to put its error. */
typedef struct sd_tlog_reader {
    sd_store *s;
    sc_err *err;
} sd_tlog_reader;

/* An sc_merkle_node_fn over a store (ctx is an sd_tlog_reader). */
sc_status sd_tlog_node(void *ctx, unsigned level, uint64_t index, uint8_t out[SC_HASH_LEN]);

/* The frontier of the first `size` leaves. */
sc_status sd_tlog_frontier_load(sd_store *s, uint64_t size, sc_merkle_frontier *f, sc_err *err);

/* Append a leaf hash to f, storing every perfect subtree it completes. */
sc_status sd_tlog_append(sd_store *s, sc_merkle_frontier *f, const uint8_t leaf[SC_HASH_LEN],
                         sc_err *err);

/* Sign a checkpoint of the tree f covers, timed now_ms, and store it. */
sc_status sd_tlog_checkpoint(sd_store *s, const sc_env *env, const sc_keypair *kp,
                             const char *origin, const sc_merkle_frontier *f, int64_t now_ms,
                             sc_err *err);

/* The latest stored checkpoint as a message (malloc'd; free with protobuf_c_message_free_unpacked). */
sc_status sd_tlog_latest(sd_store *s, Scpb__Checkpoint **out, sc_err *err);

#endif
