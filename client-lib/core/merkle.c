/*
 * merkle.c: the RFC 9162 Merkle tree: hashing, the compact-range frontier,
 * roots of any size, and inclusion (single and batched) and consistency
 * proofs with their verifiers.
 *
 * Invariants.  Every subtree the RFC recursion visits in a tree of n leaves
 * is either perfect (2^l leaves starting at a multiple of 2^l) or runs to
 * the right edge n; a right-edge subtree of m leaves starts at a multiple of
 * the power of two at or above m, so it splits into the perfect subtrees of
 * the set bits of m, each aligned.  Hence everything here is computed from
 * sc_merkle_node_fn lookups of perfect subtrees inside the asked-for size:
 * at most 64 per subtree, at most 65 subtrees per proof.  Nothing recurses
 * (the RFC recursions become loops that walk down one level per step) and
 * nothing allocates.  Every output is zeroed when a function fails.
 */
#include "merkle.h"

#include <sodium.h>
#include <stdbool.h>
#include <string.h>

/* Domain-separation prefixes of RFC 9162 §2.1.1. */
#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01

void sc_merkle_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[SC_HASH_LEN])
{
    static const uint8_t prefix = LEAF_PREFIX;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    if (len)
        crypto_hash_sha256_update(&st, leaf, len);
    crypto_hash_sha256_final(&st, out);
}

void sc_merkle_node_hash(const uint8_t left[SC_HASH_LEN], const uint8_t right[SC_HASH_LEN],
                         uint8_t out[SC_HASH_LEN])
{
    /* Copy both children first so out may alias either of them. */
    uint8_t buf[1 + 2 * SC_HASH_LEN];
    buf[0] = NODE_PREFIX;
    memcpy(buf + 1, left, SC_HASH_LEN);
    memcpy(buf + 1 + SC_HASH_LEN, right, SC_HASH_LEN);
    crypto_hash_sha256(out, buf, sizeof buf);
}

void sc_merkle_empty_root(uint8_t out[SC_HASH_LEN])
{
    static const uint8_t nothing[1] = {0};
    crypto_hash_sha256(out, nothing, 0);
}

/* The largest power of two strictly below n (n >= 2): the RFC's split point k. */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

/*
 * The hash of leaves [start, start + count), count >= 1, where start is a
 * multiple of the smallest power of two >= count (so the range is a node of
 * the RFC recursion: perfect, or a right-edge subtree).  The perfect pieces
 * are the set bits of count, largest first from start; the RFC tree over
 * them nests to the right, so folding from the smallest piece upwards as
 * H(piece, acc) gives MTH of the range.
 */
static sc_status subtree_hash(sc_merkle_node_fn node, void *ctx, uint64_t start, uint64_t count,
                              uint8_t out[SC_HASH_LEN])
{
    uint8_t acc[SC_HASH_LEN], piece[SC_HASH_LEN];
    sc_status rc = SC_OK;
    int have = 0;
    for (unsigned l = 0; l < 64; l++) {
        if (!(count >> l & 1))
            continue;
        /* Leaves of count above bit l come first; this piece starts after them. */
        uint64_t before = l == 63 ? 0 : count >> (l + 1) << (l + 1);
        rc = node(ctx, l, (start + before) >> l, have ? piece : acc);
        if (rc != SC_OK)
            goto done;
        if (have)
            sc_merkle_node_hash(piece, acc, acc);
        have = 1;
    }
    memcpy(out, acc, SC_HASH_LEN);
done:
    if (rc != SC_OK)
        memset(out, 0, SC_HASH_LEN);
    return rc;
}

void sc_merkle_frontier_init(sc_merkle_frontier *f)
{
    memset(f, 0, sizeof *f);
}

sc_status sc_merkle_frontier_load(sc_merkle_frontier *f, uint64_t size, sc_merkle_node_fn node,
                                  void *ctx)
{
    if (!f)
        return SC_ERR_INVALID_ARG;
    sc_merkle_frontier_init(f);
    if (!node)
        return SC_ERR_INVALID_ARG;
    sc_status rc = SC_OK;
    for (unsigned l = 0; l < 64; l++) {
        if (!(size >> l & 1))
            continue;
        /* The subtree of bit l ends where the lower bits' leaves begin: index (size >> l) - 1. */
        rc = node(ctx, l, (size >> l) - 1, f->hash[l]);
        if (rc != SC_OK)
            goto done;
    }
    f->size = size;
done:
    if (rc != SC_OK)
        sc_merkle_frontier_init(f);
    return rc;
}

void sc_merkle_frontier_append(sc_merkle_frontier *f, const uint8_t leaf_hash[SC_HASH_LEN],
                               sc_merkle_done_fn done, void *ctx)
{
    /* 2^64 - 1 leaves fill all 64 slots; one more would need a 65th level. */
    if (f->size == UINT64_MAX)
        return;
    uint8_t carry[SC_HASH_LEN];
    memcpy(carry, leaf_hash, SC_HASH_LEN);
    uint64_t after = f->size + 1;
    unsigned l = 0;
    /* Like binary increment: each set low bit is a left sibling that the carry completes. */
    while (f->size >> l & 1) {
        sc_merkle_node_hash(f->hash[l], carry, carry);
        memset(f->hash[l], 0, SC_HASH_LEN);
        l++;
        if (done)
            done(ctx, l, (after >> l) - 1, carry);
    }
    memcpy(f->hash[l], carry, SC_HASH_LEN);
    f->size = after;
}

void sc_merkle_frontier_root(const sc_merkle_frontier *f, uint8_t out[SC_HASH_LEN])
{
    if (f->size == 0) {
        sc_merkle_empty_root(out);
        return;
    }
    uint8_t acc[SC_HASH_LEN];
    int have = 0;
    for (unsigned l = 0; l < 64; l++) {
        if (!(f->size >> l & 1))
            continue;
        if (have)
            sc_merkle_node_hash(f->hash[l], acc, acc);
        else
            memcpy(acc, f->hash[l], SC_HASH_LEN);
        have = 1;
    }
    memcpy(out, acc, SC_HASH_LEN);
}

sc_status sc_merkle_root(sc_merkle_node_fn node, void *ctx, uint64_t size, uint8_t out[SC_HASH_LEN])
{
    if (!out)
        return SC_ERR_INVALID_ARG;
    if (!node) {
        memset(out, 0, SC_HASH_LEN);
        return SC_ERR_INVALID_ARG;
    }
    if (size == 0) {
        sc_merkle_empty_root(out);
        return SC_OK;
    }
    return subtree_hash(node, ctx, 0, size, out);
}

/*
 * A walk down the RFC recursion, one level per step: the subtree it is in.
 * The range functions below note, at each step, the subtree the proof needs
 * from the other half.  Listing the ranges before hashing anything lets a
 * too-small buffer be refused before any lookup, and the proof is then
 * filled bottom-up, as the RFC orders it.
 */
typedef struct walk {
    uint64_t start, n; /* the current subtree, in leaves */
} walk;

/* Hashes a proof walk emits: at most one per level of a 64-level tree, plus one. */
#define WALK_MAX 65

/*
 * The ranges, top-down, whose hashes make up PATH(index, D[0:size]) of RFC
 * 9162 §2.1.3.1; the proof lists them bottom-up.  Returns the count.
 */
static size_t inclusion_ranges(uint64_t index, uint64_t size, uint64_t starts[WALK_MAX],
                               uint64_t counts[WALK_MAX])
{
    walk w = {0, size};
    uint64_t m = index;
    size_t n = 0;
    while (w.n > 1) {
        uint64_t k = split_point(w.n);
        if (m < k) {
            /* PATH(m, D[0:k]) : MTH(D[k:n]) */
            starts[n] = w.start + k;
            counts[n] = w.n - k;
            w.n = k;
        } else {
            /* PATH(m - k, D[k:n]) : MTH(D[0:k]) */
            starts[n] = w.start;
            counts[n] = k;
            w.start += k;
            w.n -= k;
            m -= k;
        }
        n++;
    }
    return n;
}

/*
 * The ranges, top-down, whose hashes make up PROOF(old, D[0:size]) =
 * SUBPROOF(old, D[0:size], true) of RFC 9162 §2.1.4.1; the proof lists them
 * bottom-up.  0 < old <= size.  Returns the count.
 */
static size_t consistency_ranges(uint64_t old, uint64_t size, uint64_t starts[WALK_MAX],
                                 uint64_t counts[WALK_MAX])
{
    walk w = {0, size};
    uint64_t m = old;
    int b = 1; /* true while the walk still holds the old root itself */
    size_t n = 0;
    while (m != w.n) {
        uint64_t k = split_point(w.n);
        if (m <= k) {
            /* SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) */
            starts[n] = w.start + k;
            counts[n] = w.n - k;
            w.n = k;
        } else {
            /* SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) */
            starts[n] = w.start;
            counts[n] = k;
            w.start += k;
            w.n -= k;
            m -= k;
            b = 0;
        }
        n++;
    }
    /* SUBPROOF(m, D[m], false) = [MTH(D[m])]: the old tree's last subtree. */
    if (!b) {
        starts[n] = w.start;
        counts[n] = w.n;
        n++;
    }
    return n;
}

/* Hash the ranges into out bottom-up (reversed), or fail closed. */
static sc_status fill_proof(sc_merkle_node_fn node, void *ctx, const uint64_t starts[WALK_MAX],
                            const uint64_t counts[WALK_MAX], size_t len,
                            uint8_t (*out)[SC_HASH_LEN], size_t cap, size_t *n)
{
    sc_status rc = SC_OK;
    if (len > cap) {
        rc = SC_ERR_TOO_LARGE;
        goto done;
    }
    for (size_t i = 0; i < len; i++) {
        rc = subtree_hash(node, ctx, starts[i], counts[i], out[len - 1 - i]);
        if (rc != SC_OK)
            goto done;
    }
    *n = len;
done:
    if (rc != SC_OK && len <= cap && len)
        memset(out, 0, len * SC_HASH_LEN);
    return rc;
}

sc_status sc_merkle_inclusion_proof(sc_merkle_node_fn node, void *ctx, uint64_t index,
                                    uint64_t size, uint8_t (*out)[SC_HASH_LEN], size_t cap,
                                    size_t *n)
{
    if (!n)
        return SC_ERR_INVALID_ARG;
    *n = 0;
    if (!node || (!out && cap) || index >= size)
        return SC_ERR_INVALID_ARG;
    uint64_t starts[WALK_MAX], counts[WALK_MAX];
    size_t len = inclusion_ranges(index, size, starts, counts);
    return fill_proof(node, ctx, starts, counts, len, out, cap, n);
}

sc_status sc_merkle_consistency_proof(sc_merkle_node_fn node, void *ctx, uint64_t old_size,
                                      uint64_t new_size, uint8_t (*out)[SC_HASH_LEN], size_t cap,
                                      size_t *n)
{
    if (!n)
        return SC_ERR_INVALID_ARG;
    *n = 0;
    if (!node || (!out && cap) || old_size == 0 || old_size > new_size)
        return SC_ERR_INVALID_ARG;
    uint64_t starts[WALK_MAX], counts[WALK_MAX];
    size_t len = consistency_ranges(old_size, new_size, starts, counts);
    return fill_proof(node, ctx, starts, counts, len, out, cap, n);
}

sc_status sc_merkle_verify_inclusion(const uint8_t leaf_hash[SC_HASH_LEN], uint64_t index,
                                     uint64_t size, const uint8_t (*proof)[SC_HASH_LEN], size_t n,
                                     const uint8_t root[SC_HASH_LEN])
{
    if (!leaf_hash || !root || (!proof && n) || n > SC_PROOF_HASHES_MAX || index >= size)
        return SC_ERR_PROOF;
    /* RFC 9162 §2.1.3.2, steps 2 to 5. */
    uint64_t fn = index, sn = size - 1;
    uint8_t r[SC_HASH_LEN];
    memcpy(r, leaf_hash, SC_HASH_LEN);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return SC_ERR_PROOF;
        if ((fn & 1) || fn == sn) {
            sc_merkle_node_hash(proof[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            sc_merkle_node_hash(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || memcmp(r, root, SC_HASH_LEN) != 0)
        return SC_ERR_PROOF;
    return SC_OK;
}

/* Element i of the consistency path: `lead` (when not NULL) followed by the proof. */
static const uint8_t *path_at(const uint8_t *lead, const uint8_t (*proof)[SC_HASH_LEN], size_t i)
{
    if (!lead)
        return proof[i];
    return i == 0 ? lead : proof[i - 1];
}

sc_status sc_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                       const uint8_t old_root[SC_HASH_LEN],
                                       const uint8_t new_root[SC_HASH_LEN],
                                       const uint8_t (*proof)[SC_HASH_LEN], size_t n)
{
    if (!old_root || !new_root || (!proof && n) || n > SC_PROOF_HASHES_MAX || old_size > new_size)
        return SC_ERR_PROOF;
    if (old_size == new_size) {
        /* Equal sizes: nothing to prove, the roots must simply agree. */
        if (n != 0 || memcmp(old_root, new_root, SC_HASH_LEN) != 0)
            return SC_ERR_PROOF;
        return SC_OK;
    }
    if (old_size == 0)
        return n == 0 ? SC_OK : SC_ERR_PROOF;
    /* RFC 9162 §2.1.4.2, steps 1 to 7. */
    if (n == 0)
        return SC_ERR_PROOF;
    /*
     * Step 2: when old_size is a power of two the old root is itself a node
     * of the new tree and the proof omits it; read it as element 0 of the
     * path instead of copying the path.
     */
    const uint8_t *lead = (old_size & (old_size - 1)) == 0 ? old_root : NULL;
    size_t total = n + (lead != NULL);
    uint64_t fn = old_size - 1, sn = new_size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[SC_HASH_LEN], sr[SC_HASH_LEN];
    memcpy(fr, path_at(lead, proof, 0), SC_HASH_LEN);
    memcpy(sr, fr, SC_HASH_LEN);
    for (size_t i = 1; i < total; i++) {
        const uint8_t *c = path_at(lead, proof, i);
        if (sn == 0)
            return SC_ERR_PROOF;
        if ((fn & 1) || fn == sn) {
            sc_merkle_node_hash(c, fr, fr);
            sc_merkle_node_hash(c, sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            sc_merkle_node_hash(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || memcmp(fr, old_root, SC_HASH_LEN) != 0 || memcmp(sr, new_root, SC_HASH_LEN) != 0)
        return SC_ERR_PROOF;
    return SC_OK;
}

/* ---- batched inclusion (merkle.h, sc_merkle_multi_proof) ---- */

/*
 * The RFC recursion over D[0:size] walked depth-first, left to right, with
 * an explicit stack (one frame per level, so WALK_MAX frames), entering
 * only the subtrees that hold a proven leaf.  Every subtree reached that
 * holds none, and every proven leaf, is handed to `visit` for its hash;
 * with `combine` each entered subtree is then hashed from its two halves,
 * so the walk ends with the root.  Leaves are met in index order, so
 * `next` (the first proven leaf not yet met) tells in O(1) whether a
 * subtree holds one: all leaves before the subtree's start have been met.
 */
#define MULTI_NO_LEAF SIZE_MAX

/* out = MTH(D[start:start + count]); leaf: the proven leaf's position, or MULTI_NO_LEAF. */
typedef sc_status (*multi_visit_fn)(void *ctx, uint64_t start, uint64_t count, size_t leaf,
                                    uint8_t out[SC_HASH_LEN]);

typedef struct multi_frame {
    uint64_t start, n; /* the subtree, in leaves */
    uint64_t k;        /* its split point */
    bool right;        /* its left half is done and hashed into left */
    uint8_t left[SC_HASH_LEN];
} multi_frame;

static bool multi_valid(const uint64_t *idx, size_t k, uint64_t size)
{
    if (!idx || k == 0)
        return false;
    for (size_t i = 0; i < k; i++)
        if (idx[i] >= size || (i > 0 && idx[i] <= idx[i - 1]))
            return false;
    return true;
}

static sc_status multi_walk(const uint64_t *idx, size_t k, uint64_t size, multi_visit_fn visit,
                            void *ctx, bool combine, uint8_t root[SC_HASH_LEN])
{
    multi_frame st[WALK_MAX];
    size_t sp = 0, next = 0;
    uint8_t h[SC_HASH_LEN];
    bool have = false; /* h holds the hash of the subtree just left */
    sc_status rc = SC_OK;
    memset(h, 0, sizeof h);
    st[sp++] = (multi_frame){.start = 0, .n = size};
    while (sp > 0) {
        multi_frame *f = &st[sp - 1];
        if (!have) {
            /* Entering f. */
            if (next == k || idx[next] - f->start >= f->n) {
                rc = visit(ctx, f->start, f->n, MULTI_NO_LEAF, h);
                have = true;
                sp--;
            } else if (f->n == 1) {
                rc = visit(ctx, f->start, 1, next++, h);
                have = true;
                sp--;
            } else {
                f->k = split_point(f->n);
                f->right = false;
                st[sp++] = (multi_frame){.start = f->start, .n = f->k};
            }
            if (rc != SC_OK)
                break;
        } else if (!f->right) {
            /* Its left half is done: on to the right half. */
            memcpy(f->left, h, SC_HASH_LEN);
            f->right = true;
            have = false;
            st[sp++] = (multi_frame){.start = f->start + f->k, .n = f->n - f->k};
        } else {
            if (combine)
                sc_merkle_node_hash(f->left, h, h);
            sp--;
        }
    }
    if (root)
        memcpy(root, h, SC_HASH_LEN);
    return rc;
}

static sc_status count_visit(void *ctx, uint64_t start, uint64_t count, size_t leaf,
                             uint8_t out[SC_HASH_LEN])
{
    (void)start;
    (void)count;
    (void)out;
    if (leaf == MULTI_NO_LEAF)
        (*(size_t *)ctx)++;
    return SC_OK;
}

size_t sc_merkle_multi_proof_len(const uint64_t *idx, size_t k, uint64_t size)
{
    size_t n = 0;
    if (!multi_valid(idx, k, size))
        return 0;
    multi_walk(idx, k, size, count_visit, &n, false, NULL);
    return n;
}

typedef struct multi_fill {
    sc_merkle_node_fn node;
    void *ctx;
    uint8_t (*out)[SC_HASH_LEN];
    size_t used;
} multi_fill;

static sc_status fill_visit(void *ctx, uint64_t start, uint64_t count, size_t leaf,
                            uint8_t out[SC_HASH_LEN])
{
    multi_fill *m = ctx;
    (void)out;
    if (leaf != MULTI_NO_LEAF)
        return SC_OK;
    /* Each subtree the recursion visits is perfect or a right edge, as subtree_hash needs. */
    return subtree_hash(m->node, m->ctx, start, count, m->out[m->used++]);
}

sc_status sc_merkle_multi_proof(sc_merkle_node_fn node, void *ctx, const uint64_t *idx, size_t k,
                                uint64_t size, uint8_t (*out)[SC_HASH_LEN], size_t cap, size_t *n)
{
    if (!n)
        return SC_ERR_INVALID_ARG;
    *n = 0;
    if (!node || (!out && cap) || !multi_valid(idx, k, size))
        return SC_ERR_INVALID_ARG;
    size_t len = sc_merkle_multi_proof_len(idx, k, size);
    if (len > cap)
        return SC_ERR_TOO_LARGE;
    multi_fill m = {node, ctx, out, 0};
    sc_status rc = multi_walk(idx, k, size, fill_visit, &m, false, NULL);
    if (rc != SC_OK) {
        if (len)
            memset(out, 0, len * SC_HASH_LEN);
        return rc;
    }
    *n = len;
    return SC_OK;
}

typedef struct multi_check {
    const uint8_t (*leaf)[SC_HASH_LEN];
    const uint8_t (*proof)[SC_HASH_LEN];
    size_t n, used;
} multi_check;

static sc_status check_visit(void *ctx, uint64_t start, uint64_t count, size_t leaf,
                             uint8_t out[SC_HASH_LEN])
{
    multi_check *m = ctx;
    (void)start;
    (void)count;
    if (leaf != MULTI_NO_LEAF) {
        memcpy(out, m->leaf[leaf], SC_HASH_LEN);
        return SC_OK;
    }
    if (m->used == m->n)
        return SC_ERR_PROOF;
    memcpy(out, m->proof[m->used++], SC_HASH_LEN);
    return SC_OK;
}

sc_status sc_merkle_verify_multi(const uint64_t *idx, const uint8_t (*leaf_hash)[SC_HASH_LEN],
                                 size_t k, uint64_t size, const uint8_t (*proof)[SC_HASH_LEN],
                                 size_t n, const uint8_t root[SC_HASH_LEN])
{
    if (!leaf_hash || !root || (!proof && n) || n > SC_MULTIPROOF_HASHES_MAX ||
        !multi_valid(idx, k, size))
        return SC_ERR_PROOF;
    multi_check m = {leaf_hash, proof, n, 0};
    uint8_t got[SC_HASH_LEN];
    if (multi_walk(idx, k, size, check_visit, &m, true, got) != SC_OK || m.used != n ||
        memcmp(got, root, SC_HASH_LEN) != 0)
        return SC_ERR_PROOF;
    return SC_OK;
}
