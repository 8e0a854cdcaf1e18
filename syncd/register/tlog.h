/*
 * tlog.h: the register's RFC 9162 log on top of the store: node lookups
 * for the core Merkle math, appending leaves while storing the perfect
 * subtrees proofs start from, and signing, storing and reading
 * checkpoints.
 *
 * Storage: level 0 nodes are the ops' leaf hashes (ops.leaf_hash); of the
 * levels above, only every SD_TLOG_STRIDE-th is stored (the merkle table,
 * one row per completed perfect subtree of such a level: about one row
 * per 15 leaves).  A node of a level in between is hashed from the at most
 * 2^(SD_TLOG_STRIDE - 1) stored nodes (or leaves) below it, read in one
 * range query.  Any root or proof then costs O(log n) range reads of at
 * most 8 hashes (merkle.h), and appending costs a node write per 15
 * leaves instead of one per leaf.  The frontier of the growing log stays
 * in memory, so appending never reads.
 */
#ifndef SD_TLOG_H
#define SD_TLOG_H

#include <stdbool.h>

#include "core/checkpoint.h"
#include "core/merkle.h"
#include "store/store.h"
#include "wire.pb-c.h"

/*
 * Levels stored: the multiples of 4.  Larger strides (C2SP tiles use 8)
 * store even less, but a node between stored levels would then hash up to
 * 128 leaves, for every step of every proof.
 */
#define SD_TLOG_STRIDE 4

/* Is level (>= 1) one the merkle table holds? */
bool sd_tlog_level_stored(unsigned level);

/* Context for sd_tlog_node: the store to read and where to put its error. */
typedef struct sd_tlog_reader {
    sd_store *s;
    sc_err *err;
} sd_tlog_reader;

/* An sc_merkle_node_fn over a store (ctx is an sd_tlog_reader). */
sc_status sd_tlog_node(void *ctx, unsigned level, uint64_t index, uint8_t out[SC_HASH_LEN]);

/* The frontier of the first `size` leaves. */
sc_status sd_tlog_frontier_load(sd_store *s, uint64_t size, sc_merkle_frontier *f, sc_err *err);

/* Append a leaf hash to f, storing the perfect subtrees it completes at stored levels. */
sc_status sd_tlog_append(sd_store *s, sc_merkle_frontier *f, const uint8_t leaf[SC_HASH_LEN],
                         sc_err *err);

/* Sign a checkpoint of the tree f covers, timed now_ms, and store it. */
sc_status sd_tlog_checkpoint(sd_store *s, const sc_env *env, const sc_keypair *kp,
                             const char *origin, const sc_merkle_frontier *f, int64_t now_ms,
                             sc_err *err);

/* The latest stored checkpoint as a message (malloc'd; free with protobuf_c_message_free_unpacked). */
sc_status sd_tlog_latest(sd_store *s, Scpb__Checkpoint **out, sc_err *err);

#endif
