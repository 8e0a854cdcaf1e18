/*
 * merkle.h: the RFC 9162 (Certificate Transparency v2) Merkle tree.
 *
 *   leaf hash  = SHA-256(0x00 || leaf bytes)     (leaf bytes = the SignedOp encoding)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH of n > 1 leaves splits at k, the largest power of two below n.
 *
 * Storage stays outside: the log keeps the hashes of complete ("perfect")
 * subtrees and answers sc_merkle_node_fn; everything else (roots of any
 * size, inclusion and consistency proofs) is computed here from at most
 * O(log n) such lookups per level.  Appending uses a compact range (the
 * frontier of perfect subtrees), so the root of the growing log costs
 * O(log n) hashes and no I/O.
 */
#ifndef SC_CORE_MERKLE_H
#define SC_CORE_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "spotcheck.h"

void sc_merkle_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[SC_HASH_LEN]);
void sc_merkle_node_hash(const uint8_t left[SC_HASH_LEN], const uint8_t right[SC_HASH_LEN],
                         uint8_t out[SC_HASH_LEN]);
/* The root of the empty tree: SHA-256 of no bytes. */
void sc_merkle_empty_root(uint8_t out[SC_HASH_LEN]);

/*
 * The hash of the perfect subtree of 2^level leaves that starts at leaf
 * index * 2^level.  Level 0 is the leaf hash.  Called only for subtrees that
 * lie wholly inside the tree size being asked about.
 */
typedef sc_status (*sc_merkle_node_fn)(void *ctx, unsigned level, uint64_t index,
                                       uint8_t out[SC_HASH_LEN]);

/* Compact range: the perfect subtrees covering [0, size), largest first. */
typedef struct sc_merkle_frontier {
    uint64_t size;                        /* leaves appended */
    uint8_t hash[64][SC_HASH_LEN];        /* hash[l] valid when bit l of size is set */
} sc_merkle_frontier;

void sc_merkle_frontier_init(sc_merkle_frontier *f);
/*
 * Rebuild the frontier of a tree of `size` leaves from stored perfect
 * subtrees (one node_fn call per set bit of size).
 */
sc_status sc_merkle_frontier_load(sc_merkle_frontier *f, uint64_t size, sc_merkle_node_fn node,
                                  void *ctx);
/*
 * Append one leaf hash.  For every perfect subtree the append completes
 * (level >= 1), `done` is called with its level, index and hash, so the
 * caller can store it; done may be NULL.  A frontier of 2^64 - 1 leaves is
 * full: appending leaves it unchanged.
 */
typedef void (*sc_merkle_done_fn)(void *ctx, unsigned level, uint64_t index,
                                  const uint8_t hash[SC_HASH_LEN]);
void sc_merkle_frontier_append(sc_merkle_frontier *f, const uint8_t leaf_hash[SC_HASH_LEN],
                               sc_merkle_done_fn done, void *ctx);
/* The root of the tree the frontier covers (the empty root for size 0). */
void sc_merkle_frontier_root(const sc_merkle_frontier *f, uint8_t out[SC_HASH_LEN]);

/* The root of the first `size` leaves. */
sc_status sc_merkle_root(sc_merkle_node_fn node, void *ctx, uint64_t size, uint8_t out[SC_HASH_LEN]);

/*
 * RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in a tree of `size`
 * leaves.  out holds cap hashes; *n gets the count.  SC_ERR_INVALID_ARG if
 * index >= size, SC_ERR_TOO_LARGE if cap is too small.
 */
sc_status sc_merkle_inclusion_proof(sc_merkle_node_fn node, void *ctx, uint64_t index,
                                    uint64_t size, uint8_t (*out)[SC_HASH_LEN], size_t cap,
                                    size_t *n);
/* RFC 9162 §2.1.4.1 consistency proof from old_size to new_size (0 < old <= new). */
sc_status sc_merkle_consistency_proof(sc_merkle_node_fn node, void *ctx, uint64_t old_size,
                                      uint64_t new_size, uint8_t (*out)[SC_HASH_LEN], size_t cap,
                                      size_t *n);

/* RFC 9162 §2.1.3.2: SC_OK when the proof leads from leaf_hash to root, else SC_ERR_PROOF. */
sc_status sc_merkle_verify_inclusion(const uint8_t leaf_hash[SC_HASH_LEN], uint64_t index,
                                     uint64_t size, const uint8_t (*proof)[SC_HASH_LEN],
                                     size_t n, const uint8_t root[SC_HASH_LEN]);
/*
 * RFC 9162 §2.1.4.2: SC_OK when the proof shows the tree of old_size with
 * old_root is a prefix of the tree of new_size with new_root, else
 * SC_ERR_PROOF.  old_size == new_size needs an empty proof and equal roots;
 * old_size == 0 is consistent with anything (empty proof).
 */
sc_status sc_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                       const uint8_t old_root[SC_HASH_LEN],
                                       const uint8_t new_root[SC_HASH_LEN],
                                       const uint8_t (*proof)[SC_HASH_LEN], size_t n);

/*
 * Inclusion of several leaves at once, in one proof (a batched receipt):
 * the hashes of the maximal subtrees of the RFC 9162 recursion over
 * D[0:size] that hold none of the proven leaves, left to right.  The
 * verifier recomputes MTH(D[0:size]) with the RFC split, taking a proven
 * leaf's hash where the recursion reaches it and the next proof hash where
 * a subtree holds no proven leaf (docs/protocol.md §7.1).  For one leaf it
 * holds the RFC inclusion proof's hashes, left to right instead of
 * bottom-up.
 *
 * idx: the leaf indexes, strictly ascending, each below size; k >= 1.
 * A proof has at most k * 64 hashes (every hash is the sibling of a node
 * on some proven leaf's path).
 */
/* The number of hashes the proof of idx[0..k) in size has; 0 when the arguments are invalid. */
size_t sc_merkle_multi_proof_len(const uint64_t *idx, size_t k, uint64_t size);
/*
 * The proof into out (cap hashes; *n gets the count).  SC_ERR_INVALID_ARG
 * for invalid indexes, SC_ERR_TOO_LARGE when cap is too small (both before
 * any lookup); a lookup's failure is returned as is.
 */
sc_status sc_merkle_multi_proof(sc_merkle_node_fn node, void *ctx, const uint64_t *idx, size_t k,
                                uint64_t size, uint8_t (*out)[SC_HASH_LEN], size_t cap, size_t *n);
/*
 * SC_OK when leaf_hash[j] at idx[j] (j < k) and the n proof hashes give
 * root as MTH(D[0:size]), every hash used once; else SC_ERR_PROOF (also
 * for indexes that are not strictly ascending or not below size, k == 0,
 * or n over SC_MULTIPROOF_HASHES_MAX).
 */
sc_status sc_merkle_verify_multi(const uint64_t *idx, const uint8_t (*leaf_hash)[SC_HASH_LEN],
                                 size_t k, uint64_t size, const uint8_t (*proof)[SC_HASH_LEN],
                                 size_t n, const uint8_t root[SC_HASH_LEN]);

#endif
