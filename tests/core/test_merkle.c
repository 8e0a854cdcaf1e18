/*
 * test_merkle.c: the RFC 9162 Merkle tree of core/merkle.c.
 *
 * Known answers come from tests/vectors/rfc6962-merkle.txt (the Certificate
 * Transparency reference vectors).  Everything else is checked against a
 * naive recursive transcription of RFC 9162 §2.1 (MTH, PATH, SUBPROOF) over
 * a test store whose perfect-subtree hashes are the ones the frontier
 * reported while the leaves were appended; the store also checks that the
 * code under test only asks for subtrees inside the size it works on.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/merkle.h"
#include "sctest.h"

#define H SC_HASH_LEN

/* ---- deterministic randomness ---- */

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64: small, good enough to pick sizes and bytes to flip. */
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return rng_next(s) % n;
}

/* ---- the test store ---- */

typedef struct store {
    uint64_t leaves;         /* leaves appended */
    uint8_t (*level[64])[H]; /* level[l][i]: hash of perfect subtree (l, i); owned */
    uint64_t count[64];      /* entries allocated per level */
    uint64_t stored[64];     /* entries written by the done callback (level 0: by us) */
    uint64_t limit;          /* the size being asked about: nodes must lie inside */
    uint64_t calls;          /* node_fn calls since the counter was reset */
    uint64_t fail_at;        /* fail call number fail_at (1-based); 0 never */
    uint64_t violations;     /* node_fn calls outside limit or not stored */
} store;

static sc_status store_node(void *ctx, unsigned level, uint64_t index, uint8_t out[H])
{
    store *s = ctx;
    s->calls++;
    if (s->fail_at && s->calls == s->fail_at) {
        memset(out, 0xee, H); /* garbage, which the caller must not pass on */
        return SC_ERR_STORAGE;
    }
    if (level >= 64 || index >= s->stored[level] || (index + 1) > (s->limit >> level)) {
        s->violations++;
        return SC_ERR_NOT_FOUND;
    }
    memcpy(out, s->level[level][index], H);
    return SC_OK;
}

static void store_done(void *ctx, unsigned level, uint64_t index, const uint8_t hash[H])
{
    store *s = ctx;
    ck_assert_uint_ge(level, 1);
    ck_assert_uint_lt(level, 64);
    /* Perfect subtrees complete in order, so each level fills from index 0 up. */
    ck_assert_uint_eq(index, s->stored[level]);
    ck_assert_uint_lt(index, s->count[level]);
    memcpy(s->level[level][index], hash, H);
    s->stored[level]++;
}

/* The bytes of leaf i of a store built with `seed`: 1 to 24 pseudo-random bytes. */
static size_t leaf_bytes(uint64_t seed, uint64_t i, uint8_t out[24])
{
    uint64_t st = seed ^ (i * UINT64_C(0x2545f4914f6cdd1d));
    size_t len = 1 + (size_t)rng_below(&st, 24);
    for (size_t j = 0; j < len; j++)
        out[j] = (uint8_t)rng_next(&st);
    return len;
}

/*
 * Build a store of n leaves: level 0 from the leaf hashes, every higher
 * level from the frontier's done callback.  Checks on the way that the
 * frontier's root after every append equals sc_merkle_root over the store
 * when check_every is set.
 */
static void store_build(store *s, uint64_t n, uint64_t seed, int check_every)
{
    memset(s, 0, sizeof *s);
    for (unsigned l = 0; l < 64 && (n >> l); l++) {
        s->count[l] = n >> l;
        s->level[l] = calloc(s->count[l], H);
        ck_assert_ptr_nonnull(s->level[l]);
    }
    sc_merkle_frontier f;
    sc_merkle_frontier_init(&f);
    for (uint64_t i = 0; i < n; i++) {
        uint8_t leaf[24];
        size_t len = leaf_bytes(seed, i, leaf);
        sc_merkle_leaf_hash(leaf, len, s->level[0][i]);
        s->stored[0]++;
        sc_merkle_frontier_append(&f, s->level[0][i], store_done, s);
        s->leaves = i + 1;
        ck_assert_uint_eq(f.size, i + 1);
        if (check_every) {
            uint8_t a[H], b[H];
            sc_merkle_frontier_root(&f, a);
            s->limit = i + 1;
            ck_assert_int_eq(sc_merkle_root(store_node, s, i + 1, b), SC_OK);
            ck_assert_mem_eq(a, b, H);
        }
    }
    s->limit = n;
    ck_assert_uint_eq(s->violations, 0);
}

static void store_free(store *s)
{
    for (unsigned l = 0; l < 64; l++)
        free(s->level[l]);
    memset(s, 0, sizeof *s);
}

/* ---- the naive reference: RFC 9162 §2.1 written as recursion ---- */

static uint64_t ref_split(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

/* MTH(D[0:n]) over leaf hashes. */
static void ref_mth(const uint8_t (*lh)[H], uint64_t n, uint8_t out[H])
{
    if (n == 0) {
        sc_merkle_empty_root(out);
        return;
    }
    if (n == 1) {
        memcpy(out, lh[0], H);
        return;
    }
    uint64_t k = ref_split(n);
    uint8_t l[H], r[H];
    ref_mth(lh, k, l);
    ref_mth(lh + k, n - k, r);
    sc_merkle_node_hash(l, r, out);
}

/*
 * PATH(m, D[0:n]) into out (bottom-up); shape gets one letter per hash
 * saying on which side the sibling is ('l'/'r'), which is all the verifier
 * can see of the tree.  hashing is skipped when lh is NULL.
 */
static void ref_path(const uint8_t (*lh)[H], uint64_t m, uint64_t n, uint8_t (*out)[H], size_t *len,
                     char *shape)
{
    if (n <= 1)
        return;
    uint64_t k = ref_split(n);
    if (m < k) {
        ref_path(lh, m, k, out, len, shape);
        if (lh)
            ref_mth(lh + k, n - k, out[*len]);
        shape[*len] = 'r';
    } else {
        ref_path(lh ? lh + k : NULL, m - k, n - k, out, len, shape);
        if (lh)
            ref_mth(lh, k, out[*len]);
        shape[*len] = 'l';
    }
    (*len)++;
    shape[*len] = '\0';
}

/* SUBPROOF(m, D[0:n], b); shape letters 'l'/'r' for siblings, 't' for the old subtree. */
static void ref_subproof(const uint8_t (*lh)[H], uint64_t m, uint64_t n, int b, uint8_t (*out)[H],
                         size_t *len, char *shape)
{
    if (m == n) {
        if (!b) {
            if (lh)
                ref_mth(lh, n, out[*len]);
            shape[(*len)++] = 't';
            shape[*len] = '\0';
        }
        return;
    }
    uint64_t k = ref_split(n);
    if (m <= k) {
        ref_subproof(lh, m, k, b, out, len, shape);
        if (lh)
            ref_mth(lh + k, n - k, out[*len]);
        shape[*len] = 'r';
    } else {
        ref_subproof(lh ? lh + k : NULL, m - k, n - k, 0, out, len, shape);
        if (lh)
            ref_mth(lh, k, out[*len]);
        shape[*len] = 'l';
    }
    (*len)++;
    shape[*len] = '\0';
}

static void inclusion_shape(uint64_t m, uint64_t n, char shape[80])
{
    uint8_t dummy[1][H];
    size_t len = 0;
    shape[0] = '\0';
    ref_path(NULL, m, n, dummy, &len, shape);
}

static void consistency_shape(uint64_t m, uint64_t n, char shape[80])
{
    uint8_t dummy[1][H];
    size_t len = 0;
    shape[0] = '\0';
    if (m > 0 && m <= n)
        ref_subproof(NULL, m, n, 1, dummy, &len, shape);
}

/* ---- mutation checks ---- */

static void flip(uint8_t h[H], uint64_t *rng)
{
    h[rng_below(rng, H)] ^= (uint8_t)(1u << rng_below(rng, 8));
}

/*
 * A valid inclusion proof must fail under every change: any hash (leaf,
 * root, each proof element) with one bit flipped, another index, the proof
 * truncated, extended or prepended.  A size off by one is refused unless it
 * gives the leaf the same path shape (leaf 0 in sizes 3 and 4, say): the
 * RFC verifier only sees the shape, so there it must accept.
 */
static void check_inclusion_mutations(const uint8_t leaf[H], uint64_t index, uint64_t size,
                                      const uint8_t (*proof)[H], size_t n, const uint8_t root[H],
                                      uint64_t *rng)
{
    uint8_t p[SC_PROOF_HASHES_MAX + 2][H], x[H];
    ck_assert_uint_le(n, SC_PROOF_HASHES_MAX);
    ck_assert_int_eq(sc_merkle_verify_inclusion(leaf, index, size, proof, n, root), SC_OK);

    memcpy(x, leaf, H);
    flip(x, rng);
    ck_assert_int_eq(sc_merkle_verify_inclusion(x, index, size, proof, n, root), SC_ERR_PROOF);
    memcpy(x, root, H);
    flip(x, rng);
    ck_assert_int_eq(sc_merkle_verify_inclusion(leaf, index, size, proof, n, x), SC_ERR_PROOF);
    for (size_t j = 0; j < n; j++) {
        memcpy(p, proof, n * H);
        flip(p[j], rng);
        ck_assert_int_eq(
            sc_merkle_verify_inclusion(leaf, index, size, (const uint8_t(*)[H])p, n, root),
            SC_ERR_PROOF);
    }
    if (index > 0)
        ck_assert_int_eq(sc_merkle_verify_inclusion(leaf, index - 1, size, proof, n, root),
                         SC_ERR_PROOF);
    if (index + 1 < size)
        ck_assert_int_eq(sc_merkle_verify_inclusion(leaf, index + 1, size, proof, n, root),
                         SC_ERR_PROOF);
    char want[80], got[80];
    inclusion_shape(index, size, want);
    for (int d = -1; d <= 1; d += 2) {
        uint64_t other = size + (uint64_t)(int64_t)d;
        if (other <= index)
            continue;
        inclusion_shape(index, other, got);
        sc_status expect = strcmp(want, got) == 0 ? SC_OK : SC_ERR_PROOF;
        ck_assert_msg(sc_merkle_verify_inclusion(leaf, index, other, proof, n, root) == expect,
                      "inclusion %llu in %llu verified as size %llu", (unsigned long long)index,
                      (unsigned long long)size, (unsigned long long)other);
    }
    if (n > 0)
        ck_assert_int_eq(sc_merkle_verify_inclusion(leaf, index, size, proof, n - 1, root),
                         SC_ERR_PROOF);
    memcpy(p, proof, n * H);
    memcpy(p[n], root, H);
    ck_assert_int_eq(
        sc_merkle_verify_inclusion(leaf, index, size, (const uint8_t(*)[H])p, n + 1, root),
        SC_ERR_PROOF);
    for (size_t j = 0; j < H; j++)
        p[n][j] = (uint8_t)rng_next(rng);
    ck_assert_int_eq(
        sc_merkle_verify_inclusion(leaf, index, size, (const uint8_t(*)[H])p, n + 1, root),
        SC_ERR_PROOF);
    memcpy(p[0], leaf, H);
    memcpy(p + 1, proof, n * H);
    ck_assert_int_eq(
        sc_merkle_verify_inclusion(leaf, index, size, (const uint8_t(*)[H])p, n + 1, root),
        SC_ERR_PROOF);
}

/* The same for consistency proofs; both sizes off by one are judged by shape. */
static void check_consistency_mutations(uint64_t old, uint64_t size, const uint8_t old_root[H],
                                        const uint8_t root[H], const uint8_t (*proof)[H], size_t n,
                                        uint64_t *rng)
{
    uint8_t p[SC_PROOF_HASHES_MAX + 2][H], x[H];
    ck_assert_uint_le(n, SC_PROOF_HASHES_MAX);
    ck_assert_int_eq(sc_merkle_verify_consistency(old, size, old_root, root, proof, n), SC_OK);
    if (old == size)
        return; /* nothing to mutate but the roots, which test_equal_sizes covers */

    memcpy(x, old_root, H);
    flip(x, rng);
    ck_assert_int_eq(sc_merkle_verify_consistency(old, size, x, root, proof, n), SC_ERR_PROOF);
    memcpy(x, root, H);
    flip(x, rng);
    ck_assert_int_eq(sc_merkle_verify_consistency(old, size, old_root, x, proof, n), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_consistency(old, size, root, old_root, proof, n),
                     SC_ERR_PROOF);
    for (size_t j = 0; j < n; j++) {
        memcpy(p, proof, n * H);
        flip(p[j], rng);
        ck_assert_int_eq(
            sc_merkle_verify_consistency(old, size, old_root, root, (const uint8_t(*)[H])p, n),
            SC_ERR_PROOF);
    }
    char want[80], got[80];
    consistency_shape(old, size, want);
    const uint64_t olds[2] = {old - 1, old + 1}, news[2] = {size - 1, size + 1};
    for (int i = 0; i < 2; i++) {
        if (olds[i] > 0 && olds[i] <= size) {
            consistency_shape(olds[i], size, got);
            sc_status expect = strcmp(want, got) == 0 ? SC_OK : SC_ERR_PROOF;
            ck_assert_msg(sc_merkle_verify_consistency(olds[i], size, old_root, root, proof, n) ==
                              expect,
                          "consistency %llu..%llu verified from %llu", (unsigned long long)old,
                          (unsigned long long)size, (unsigned long long)olds[i]);
        }
        if (news[i] >= old) {
            consistency_shape(old, news[i], got);
            sc_status expect = strcmp(want, got) == 0 ? SC_OK : SC_ERR_PROOF;
            ck_assert_msg(sc_merkle_verify_consistency(old, news[i], old_root, root, proof, n) ==
                              expect,
                          "consistency %llu..%llu verified to %llu", (unsigned long long)old,
                          (unsigned long long)size, (unsigned long long)news[i]);
        }
    }
    ck_assert_int_eq(sc_merkle_verify_consistency(old, size, old_root, root, proof, n - 1),
                     SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_consistency(old, size, old_root, root, proof, 0),
                     SC_ERR_PROOF);
    memcpy(p, proof, n * H);
    memcpy(p[n], root, H);
    ck_assert_int_eq(
        sc_merkle_verify_consistency(old, size, old_root, root, (const uint8_t(*)[H])p, n + 1),
        SC_ERR_PROOF);
    memcpy(p[n], proof[n - 1], H);
    ck_assert_int_eq(
        sc_merkle_verify_consistency(old, size, old_root, root, (const uint8_t(*)[H])p, n + 1),
        SC_ERR_PROOF);
    memcpy(p[0], proof[0], H);
    memcpy(p + 1, proof, n * H);
    ck_assert_int_eq(
        sc_merkle_verify_consistency(old, size, old_root, root, (const uint8_t(*)[H])p, n + 1),
        SC_ERR_PROOF);
}

/* ---- whole checks over a store ---- */

/* Inclusion proof of (index, size) from the store: equals PATH, verifies, resists mutation. */
static void check_inclusion(store *s, uint64_t index, uint64_t size, int compare_ref, uint64_t *rng)
{
    uint8_t proof[SC_PROOF_HASHES_MAX][H], root[H];
    size_t n = 99;
    s->limit = size;
    s->calls = 0;
    ck_assert_int_eq(
        sc_merkle_inclusion_proof(store_node, s, index, size, proof, SC_PROOF_HASHES_MAX, &n),
        SC_OK);
    /* Each hash is one perfect subtree or a right edge of at most 64 pieces. */
    ck_assert_uint_le(s->calls, 64 * 64);
    ck_assert_int_eq(sc_merkle_root(store_node, s, size, root), SC_OK);
    ck_assert_uint_eq(s->violations, 0);
    if (compare_ref) {
        uint8_t want[SC_PROOF_HASHES_MAX][H];
        char shape[80];
        size_t len = 0;
        ref_path((const uint8_t(*)[H])s->level[0], index, size, want, &len, shape);
        ck_assert_uint_eq(n, len);
        if (n)
            ck_assert_mem_eq(proof, want, n * H);
    }
    check_inclusion_mutations(s->level[0][index], index, size, (const uint8_t(*)[H])proof, n, root,
                              rng);
}

/* Consistency proof of (old, size) from the store: equals PROOF, verifies, resists mutation. */
static void check_consistency(store *s, uint64_t old, uint64_t size, int compare_ref, uint64_t *rng)
{
    uint8_t proof[SC_PROOF_HASHES_MAX][H], old_root[H], root[H];
    size_t n = 99;
    s->limit = size;
    ck_assert_int_eq(
        sc_merkle_consistency_proof(store_node, s, old, size, proof, SC_PROOF_HASHES_MAX, &n),
        SC_OK);
    ck_assert_int_eq(sc_merkle_root(store_node, s, size, root), SC_OK);
    s->limit = old;
    ck_assert_int_eq(sc_merkle_root(store_node, s, old, old_root), SC_OK);
    ck_assert_uint_eq(s->violations, 0);
    if (compare_ref) {
        uint8_t want[SC_PROOF_HASHES_MAX][H];
        char shape[80];
        size_t len = 0;
        ref_subproof((const uint8_t(*)[H])s->level[0], old, size, 1, want, &len, shape);
        ck_assert_uint_eq(n, len);
        if (n)
            ck_assert_mem_eq(proof, want, n * H);
    }
    check_consistency_mutations(old, size, old_root, root, (const uint8_t(*)[H])proof, n, rng);
}

/*
 * MULTI(S, D[lo:hi]): the batched proof, naively.  A range holding no
 * proven leaf gives its MTH; a proven leaf gives nothing; anything else is
 * its two RFC halves, left first.  in[i] marks the proven leaves.
 */
static void ref_multi(const uint8_t (*lh)[H], const bool *in, uint64_t lo, uint64_t hi,
                      uint8_t (*out)[H], size_t *len)
{
    bool any = false;
    for (uint64_t i = lo; i < hi && !any; i++)
        any = in[i];
    if (!any) {
        ref_mth(lh + lo, hi - lo, out[(*len)++]);
        return;
    }
    if (hi - lo == 1)
        return;
    uint64_t k = ref_split(hi - lo);
    ref_multi(lh, in, lo, lo + k, out, len);
    ref_multi(lh, in, lo + k, hi, out, len);
}

/*
 * A valid batched proof must fail under every change: a bit of any proof
 * hash, of any proven leaf's hash or of the root; the proof one hash short
 * or one too long; two adjacent hashes swapped; a proven leaf moved to an
 * index not proven.
 */
static void check_multi_mutations(const uint64_t *idx, const uint8_t (*leaf)[H], size_t k,
                                  uint64_t size, const uint8_t (*proof)[H], size_t n,
                                  const uint8_t root[H], uint64_t *rng)
{
    ck_assert_int_eq(sc_merkle_verify_multi(idx, leaf, k, size, proof, n, root), SC_OK);
    uint8_t(*p)[H] = calloc(n + 2, H);
    uint8_t(*l)[H] = calloc(k, H);
    uint64_t *moved = calloc(k, sizeof *moved);
    uint8_t x[H];
    ck_assert(p && l && moved);
    /* Every hash of a short proof; a sample of 24 of a long one (each try walks it all). */
    for (size_t t = 0; t < n && t < 24; t++) {
        size_t j = n <= 24 ? t : (size_t)rng_below(rng, n);
        memcpy(p, proof, n * H);
        flip(p[j], rng);
        ck_assert_int_eq(
            sc_merkle_verify_multi(idx, leaf, k, size, (const uint8_t(*)[H])p, n, root),
            SC_ERR_PROOF);
    }
    for (size_t t = 0; t < k && t < 24; t++) {
        size_t j = k <= 24 ? t : (size_t)rng_below(rng, k);
        memcpy(l, leaf, k * H);
        flip(l[j], rng);
        ck_assert_int_eq(
            sc_merkle_verify_multi(idx, (const uint8_t(*)[H])l, k, size, proof, n, root),
            SC_ERR_PROOF);
    }
    memcpy(x, root, H);
    flip(x, rng);
    ck_assert_int_eq(sc_merkle_verify_multi(idx, leaf, k, size, proof, n, x), SC_ERR_PROOF);
    if (n > 0)
        ck_assert_int_eq(sc_merkle_verify_multi(idx, leaf, k, size, proof, n - 1, root),
                         SC_ERR_PROOF);
    memcpy(p, proof, n * H);
    memcpy(p[n], root, H);
    ck_assert_int_eq(
        sc_merkle_verify_multi(idx, leaf, k, size, (const uint8_t(*)[H])p, n + 1, root),
        SC_ERR_PROOF);
    if (n > 1) {
        size_t j = (size_t)rng_below(rng, n - 1);
        memcpy(p, proof, n * H);
        memcpy(p[j], proof[j + 1], H);
        memcpy(p[j + 1], proof[j], H);
        ck_assert_int_eq(
            sc_merkle_verify_multi(idx, leaf, k, size, (const uint8_t(*)[H])p, n, root),
            SC_ERR_PROOF);
    }
    /* One proven leaf claimed at a neighbouring index that is not proven. */
    size_t j = (size_t)rng_below(rng, k);
    for (int d = -1; d <= 1; d += 2) {
        uint64_t to = idx[j] + (uint64_t)(int64_t)d;
        if ((d < 0 && idx[j] == 0) || to >= size || (j > 0 && to <= idx[j - 1]) ||
            (j + 1 < k && to >= idx[j + 1]))
            continue;
        memcpy(moved, idx, k * sizeof *moved);
        moved[j] = to;
        ck_assert_int_eq(sc_merkle_verify_multi(moved, leaf, k, size, proof, n, root),
                         SC_ERR_PROOF);
    }
    free(p);
    free(l);
    free(moved);
}

/*
 * The batched proof of idx[0..k) in size from the store: equals MULTI (when
 * compare_ref), has the length sc_merkle_multi_proof_len says and at most
 * 64 k hashes, asks only for subtrees inside size, verifies, and resists
 * mutation.  Returns the hash count.
 */
static size_t check_multi(store *s, const uint64_t *idx, size_t k, uint64_t size, int compare_ref,
                          uint64_t *rng)
{
    size_t cap = k * 64 + 1, n = 99;
    uint8_t(*proof)[H] = calloc(cap, H);
    uint8_t(*leaf)[H] = calloc(k, H);
    uint8_t root[H];
    ck_assert(proof && leaf);
    s->limit = size;
    ck_assert_int_eq(sc_merkle_multi_proof(store_node, s, idx, k, size, proof, cap, &n), SC_OK);
    ck_assert_uint_eq(n, sc_merkle_multi_proof_len(idx, k, size));
    ck_assert_uint_le(n, k * 64);
    ck_assert_int_eq(sc_merkle_root(store_node, s, size, root), SC_OK);
    ck_assert_uint_eq(s->violations, 0);
    if (compare_ref) {
        bool *in = calloc(size, sizeof *in);
        uint8_t(*want)[H] = calloc(cap, H);
        ck_assert(in && want);
        for (size_t j = 0; j < k; j++)
            in[idx[j]] = true;
        size_t len = 0;
        ref_multi((const uint8_t(*)[H])s->level[0], in, 0, size, want, &len);
        ck_assert_uint_eq(n, len);
        if (n)
            ck_assert_mem_eq(proof, want, n * H);
        free(in);
        free(want);
    }
    for (size_t j = 0; j < k; j++)
        memcpy(leaf[j], s->level[0][idx[j]], H);
    check_multi_mutations(idx, (const uint8_t(*)[H])leaf, k, size, (const uint8_t(*)[H])proof, n,
                          root, rng);
    free(proof);
    free(leaf);
    return n;
}

/*
 * A batched proof of one leaf holds the RFC inclusion proof's hashes (PATH,
 * bottom-up) left to right: the left siblings from the top down, then the
 * right siblings from the bottom up.
 */
static void expect_one_leaf(uint64_t index, uint64_t size, const uint8_t (*path)[H],
                            const uint8_t (*multi)[H], size_t n)
{
    char shape[80];
    inclusion_shape(index, size, shape);
    ck_assert_uint_eq(strlen(shape), n);
    size_t at = 0;
    for (size_t j = n; j-- > 0;)
        if (shape[j] == 'l')
            ck_assert_mem_eq(multi[at++], path[j], H);
    for (size_t j = 0; j < n; j++)
        if (shape[j] == 'r')
            ck_assert_mem_eq(multi[at++], path[j], H);
    ck_assert_uint_eq(at, n);
}

/* k distinct random leaves of size, ascending, into idx (k <= size). */
static void random_leaves(uint64_t *rng, uint64_t size, size_t k, uint64_t *idx)
{
    size_t have = 0;
    while (have < k) {
        uint64_t v = rng_below(rng, size), j = have;
        bool dup = false;
        for (size_t i = 0; i < have; i++)
            dup = dup || idx[i] == v;
        if (dup)
            continue;
        while (j > 0 && idx[j - 1] > v) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
        have++;
    }
}

/* ---- the CT vectors ---- */

typedef struct vec_proof {
    uint64_t a, b; /* (index, size) or (old, new) */
    size_t n;
    uint8_t hash[8][H];
} vec_proof;

typedef struct vectors {
    size_t nleaves;
    uint8_t leaf[16][32];
    size_t leaf_len[16];
    size_t nroots;
    uint64_t root_size[16];
    uint8_t root[16][H];
    size_t ninc, ncons;
    vec_proof inc[16], cons[16];
} vectors;

/* Decode one hex token of exactly want bytes (want 0: any length up to cap) into out. */
static size_t hex_token(const char *tok, size_t toklen, uint8_t *out, size_t cap)
{
    char buf[256];
    ck_assert_uint_lt(toklen, sizeof buf);
    memcpy(buf, tok, toklen);
    buf[toklen] = '\0';
    size_t len = 0;
    uint8_t *bin = sct_unhex(buf, &len);
    ck_assert_uint_le(len, cap);
    memcpy(out, bin, len);
    free(bin);
    return len;
}

static uint64_t num_token(const char *tok, size_t toklen)
{
    char buf[32], *end = NULL;
    ck_assert_uint_lt(toklen, sizeof buf);
    memcpy(buf, tok, toklen);
    buf[toklen] = '\0';
    unsigned long long v = strtoull(buf, &end, 10);
    ck_assert_msg(toklen > 0 && *end == '\0', "bad number '%s' in vectors", buf);
    return (uint64_t)v;
}

static void load_vectors(vectors *v)
{
    memset(v, 0, sizeof *v);
    size_t flen = 0;
    uint8_t *file = sct_read_vector("rfc6962-merkle.txt", &flen);
    const char *p = (const char *)file, *end = p + flen;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *hash = memchr(p, '#', (size_t)(eol - p));
        const char *stop = hash ? hash : eol;
        /* Split the line into up to 16 space-separated tokens. */
        const char *tok[16];
        size_t toklen[16], ntok = 0;
        for (const char *q = p; q < stop;) {
            while (q < stop && *q == ' ')
                q++;
            if (q >= stop)
                break;
            const char *t = q;
            while (q < stop && *q != ' ')
                q++;
            ck_assert_uint_lt(ntok, 16);
            tok[ntok] = t;
            toklen[ntok++] = (size_t)(q - t);
        }
        if (ntok == 0) {
            /* blank or comment */
        } else if (toklen[0] == 4 && memcmp(tok[0], "leaf", 4) == 0) {
            ck_assert_uint_eq(ntok, 2);
            ck_assert_uint_lt(v->nleaves, 16);
            size_t i = v->nleaves++;
            if (!(toklen[1] == 1 && tok[1][0] == '-'))
                v->leaf_len[i] = hex_token(tok[1], toklen[1], v->leaf[i], sizeof v->leaf[i]);
        } else if (toklen[0] == 4 && memcmp(tok[0], "root", 4) == 0) {
            ck_assert_uint_eq(ntok, 3);
            ck_assert_uint_lt(v->nroots, 16);
            size_t i = v->nroots++;
            v->root_size[i] = num_token(tok[1], toklen[1]);
            ck_assert_uint_eq(hex_token(tok[2], toklen[2], v->root[i], H), H);
        } else {
            int inc = toklen[0] == 9 && memcmp(tok[0], "inclusion", 9) == 0;
            int cons = toklen[0] == 11 && memcmp(tok[0], "consistency", 11) == 0;
            ck_assert_msg(inc || cons, "unknown record in vectors");
            ck_assert_uint_ge(ntok, 3);
            size_t *count = inc ? &v->ninc : &v->ncons;
            ck_assert_uint_lt(*count, 16);
            vec_proof *vp = inc ? &v->inc[(*count)++] : &v->cons[(*count)++];
            vp->a = num_token(tok[1], toklen[1]);
            vp->b = num_token(tok[2], toklen[2]);
            vp->n = ntok - 3;
            ck_assert_uint_le(vp->n, 8);
            for (size_t j = 0; j < vp->n; j++)
                ck_assert_uint_eq(hex_token(tok[3 + j], toklen[3 + j], vp->hash[j], H), H);
        }
        p = eol + 1;
    }
    free(file);
    ck_assert_uint_eq(v->nleaves, 8);
    ck_assert_uint_eq(v->nroots, 9);
    ck_assert_uint_ge(v->ninc, 5);
    ck_assert_uint_ge(v->ncons, 5);
}

/* A store over the vector leaves, built through the frontier. */
static void vector_store(store *s, const vectors *v)
{
    memset(s, 0, sizeof *s);
    for (unsigned l = 0; l < 4; l++) {
        s->count[l] = v->nleaves >> l;
        s->level[l] = calloc(s->count[l] ? s->count[l] : 1, H);
        ck_assert_ptr_nonnull(s->level[l]);
    }
    sc_merkle_frontier f;
    sc_merkle_frontier_init(&f);
    for (size_t i = 0; i < v->nleaves; i++) {
        sc_merkle_leaf_hash(v->leaf[i], v->leaf_len[i], s->level[0][i]);
        s->stored[0]++;
        sc_merkle_frontier_append(&f, s->level[0][i], store_done, s);
    }
    s->leaves = v->nleaves;
    s->limit = v->nleaves;
}

/* ---- tests ---- */

START_TEST(test_hash_vectors)
{
    vectors v;
    load_vectors(&v);
    uint8_t h[H], l[H], r[H];
    /* The empty root is SHA-256 of nothing, and the one-leaf root is the leaf hash. */
    sc_merkle_empty_root(h);
    ck_assert_uint_eq(v.root_size[0], 0);
    ck_assert_mem_eq(h, v.root[0], H);
    sc_merkle_leaf_hash(v.leaf[0], 0, h);
    ck_assert_uint_eq(v.root_size[1], 1);
    ck_assert_mem_eq(h, v.root[1], H);
    /* Two leaves: node hash of the two leaf hashes, also when out aliases an input. */
    sc_merkle_leaf_hash(v.leaf[0], v.leaf_len[0], l);
    sc_merkle_leaf_hash(v.leaf[1], v.leaf_len[1], r);
    sc_merkle_node_hash(l, r, h);
    ck_assert_mem_eq(h, v.root[2], H);
    sc_merkle_node_hash(l, r, l);
    ck_assert_mem_eq(l, v.root[2], H);
    sc_merkle_leaf_hash(v.leaf[0], v.leaf_len[0], l);
    sc_merkle_node_hash(l, r, r);
    ck_assert_mem_eq(r, v.root[2], H);
}
END_TEST

START_TEST(test_root_vectors)
{
    vectors v;
    load_vectors(&v);
    store s;
    vector_store(&s, &v);
    sc_merkle_frontier f;
    sc_merkle_frontier_init(&f);
    for (size_t i = 0; i < v.nroots; i++) {
        uint64_t size = v.root_size[i];
        uint8_t h[H];
        s.limit = size;
        ck_assert_int_eq(sc_merkle_root(store_node, &s, size, h), SC_OK);
        ck_assert_mem_eq(h, v.root[i], H);
        ck_assert_int_eq(sc_merkle_frontier_load(&f, size, store_node, &s), SC_OK);
        sc_merkle_frontier_root(&f, h);
        ck_assert_mem_eq(h, v.root[i], H);
        ref_mth((const uint8_t(*)[H])s.level[0], size, h);
        ck_assert_mem_eq(h, v.root[i], H);
    }
    /* Appending leaf by leaf passes through every vector root. */
    sc_merkle_frontier_init(&f);
    for (size_t i = 0; i < v.nleaves; i++) {
        uint8_t lh[H], h[H];
        sc_merkle_leaf_hash(v.leaf[i], v.leaf_len[i], lh);
        sc_merkle_frontier_append(&f, lh, NULL, NULL);
        sc_merkle_frontier_root(&f, h);
        ck_assert_uint_eq(v.root_size[i + 1], i + 1);
        ck_assert_mem_eq(h, v.root[i + 1], H);
    }
    ck_assert_uint_eq(s.violations, 0);
    store_free(&s);
}
END_TEST

START_TEST(test_inclusion_vectors)
{
    vectors v;
    load_vectors(&v);
    store s;
    vector_store(&s, &v);
    uint64_t rng = 1;
    for (size_t i = 0; i < v.ninc; i++) {
        const vec_proof *vp = &v.inc[i];
        uint8_t proof[SC_PROOF_HASHES_MAX][H];
        size_t n = 99;
        s.limit = vp->b;
        ck_assert_int_eq(
            sc_merkle_inclusion_proof(store_node, &s, vp->a, vp->b, proof, SC_PROOF_HASHES_MAX, &n),
            SC_OK);
        ck_assert_uint_eq(n, vp->n);
        if (n)
            ck_assert_mem_eq(proof, vp->hash, n * H);
        ck_assert_uint_eq(v.root_size[vp->b], vp->b);
        check_inclusion_mutations(s.level[0][vp->a], vp->a, vp->b, (const uint8_t(*)[H])vp->hash,
                                  vp->n, v.root[vp->b], &rng);
    }
    ck_assert_uint_eq(s.violations, 0);
    store_free(&s);
}
END_TEST

START_TEST(test_consistency_vectors)
{
    vectors v;
    load_vectors(&v);
    store s;
    vector_store(&s, &v);
    uint64_t rng = 2;
    for (size_t i = 0; i < v.ncons; i++) {
        const vec_proof *vp = &v.cons[i];
        uint8_t proof[SC_PROOF_HASHES_MAX][H];
        size_t n = 99;
        s.limit = vp->b;
        ck_assert_int_eq(sc_merkle_consistency_proof(store_node, &s, vp->a, vp->b, proof,
                                                     SC_PROOF_HASHES_MAX, &n),
                         SC_OK);
        ck_assert_uint_eq(n, vp->n);
        if (n)
            ck_assert_mem_eq(proof, vp->hash, n * H);
        check_consistency_mutations(vp->a, vp->b, v.root[vp->a], v.root[vp->b],
                                    (const uint8_t(*)[H])vp->hash, vp->n, &rng);
    }
    ck_assert_uint_eq(s.violations, 0);
    store_free(&s);
}
END_TEST

/* Every size 1..300: frontier root == sc_merkle_root == naive MTH; load == append. */
START_TEST(test_roots_small)
{
    store s;
    store_build(&s, 300, 11, 1);
    /* Every node the done callback reported is the MTH of its leaves. */
    for (unsigned l = 1; l < 64 && s.count[l]; l++) {
        ck_assert_uint_eq(s.stored[l], s.count[l]);
        for (uint64_t i = 0; i < s.count[l]; i++) {
            uint8_t h[H];
            ref_mth((const uint8_t(*)[H])s.level[0] + (i << l), UINT64_C(1) << l, h);
            ck_assert_mem_eq(h, s.level[l][i], H);
        }
    }
    sc_merkle_frontier grown, loaded;
    sc_merkle_frontier_init(&grown);
    for (uint64_t size = 1; size <= 300; size++) {
        sc_merkle_frontier_append(&grown, s.level[0][size - 1], NULL, NULL);
        uint8_t a[H], b[H], c[H];
        sc_merkle_frontier_root(&grown, a);
        s.limit = size;
        s.calls = 0;
        ck_assert_int_eq(sc_merkle_root(store_node, &s, size, b), SC_OK);
        ck_assert_uint_eq(s.calls, (uint64_t)__builtin_popcountll(size));
        ref_mth((const uint8_t(*)[H])s.level[0], size, c);
        ck_assert_mem_eq(a, b, H);
        ck_assert_mem_eq(a, c, H);
        s.calls = 0;
        ck_assert_int_eq(sc_merkle_frontier_load(&loaded, size, store_node, &s), SC_OK);
        ck_assert_uint_eq(s.calls, (uint64_t)__builtin_popcountll(size));
        ck_assert_mem_eq(&loaded, &grown, sizeof loaded);
    }
    ck_assert_uint_eq(s.violations, 0);
    store_free(&s);
}
END_TEST

/* Random sizes up to 100k, and appends continuing from a loaded frontier. */
START_TEST(test_roots_large)
{
    store s;
    store_build(&s, 100000, 12, 0);
    uint64_t rng = 12;
    for (int t = 0; t < 12; t++) {
        uint64_t size = 1 + rng_below(&rng, 100000);
        uint8_t a[H], b[H], c[H];
        sc_merkle_frontier f;
        s.limit = size;
        ck_assert_int_eq(sc_merkle_frontier_load(&f, size, store_node, &s), SC_OK);
        sc_merkle_frontier_root(&f, a);
        ck_assert_int_eq(sc_merkle_root(store_node, &s, size, b), SC_OK);
        ref_mth((const uint8_t(*)[H])s.level[0], size, c);
        ck_assert_mem_eq(a, b, H);
        ck_assert_mem_eq(a, c, H);
        /* A loaded frontier keeps growing correctly. */
        uint64_t more = size + rng_below(&rng, 100000 - size + 1);
        for (uint64_t i = size; i < more; i++)
            sc_merkle_frontier_append(&f, s.level[0][i], NULL, NULL);
        sc_merkle_frontier_root(&f, a);
        s.limit = more;
        ck_assert_int_eq(sc_merkle_root(store_node, &s, more, b), SC_OK);
        ck_assert_mem_eq(a, b, H);
    }
    ck_assert_uint_eq(s.violations, 0);
    store_free(&s);
}
END_TEST

START_TEST(test_inclusion_small)
{
    store s;
    store_build(&s, 300, 21, 0);
    uint64_t rng = 21;
    /*
     * Every proof is verified and mutated; the naive reference costs O(size)
     * per proof, so above 128 leaves it is compared on every 8th leaf only.
     */
    for (uint64_t size = 1; size <= 300; size++)
        for (uint64_t index = 0; index < size; index++)
            check_inclusion(&s, index, size, size <= 128 || index % 8 == 0, &rng);
    store_free(&s);
}
END_TEST

START_TEST(test_inclusion_large)
{
    store s;
    store_build(&s, 100000, 22, 0);
    uint64_t rng = 22;
    for (int t = 0; t < 300; t++) {
        uint64_t size = 1 + rng_below(&rng, 100000);
        uint64_t index = rng_below(&rng, size);
        /* The naive reference hashes the whole tree, so compare it on a sample only. */
        check_inclusion(&s, index, size, t < 10, &rng);
    }
    /* The edges: first and last leaf of the whole store. */
    check_inclusion(&s, 0, 100000, 1, &rng);
    check_inclusion(&s, 99999, 100000, 1, &rng);
    store_free(&s);
}
END_TEST

START_TEST(test_consistency_small)
{
    store s;
    store_build(&s, 64, 31, 0);
    uint64_t rng = 31;
    for (uint64_t size = 1; size <= 64; size++)
        for (uint64_t old = 1; old <= size; old++)
            check_consistency(&s, old, size, 1, &rng);
    store_free(&s);
}
END_TEST

START_TEST(test_consistency_large)
{
    store s;
    store_build(&s, 100000, 32, 0);
    uint64_t rng = 32;
    for (int t = 0; t < 300; t++) {
        uint64_t size = 1 + rng_below(&rng, 100000);
        uint64_t old = 1 + rng_below(&rng, size);
        check_consistency(&s, old, size, t < 10, &rng);
    }
    check_consistency(&s, 1, 100000, 1, &rng);
    check_consistency(&s, 65536, 100000, 1, &rng);
    check_consistency(&s, 99999, 100000, 1, &rng);
    store_free(&s);
}
END_TEST

/* RFC 9162 §2.1.4.2's special cases, as the CT and transparency-dev suites test them. */
START_TEST(test_consistency_trivial)
{
    uint8_t a[H], b[H], empty[H];
    memset(a, 1, H);
    memset(b, 2, H);
    sc_merkle_empty_root(empty);
    const uint8_t one[1][H] = {{0}};
    /* Equal sizes need equal roots and an empty proof; size 0 is a prefix of anything. */
    ck_assert_int_eq(sc_merkle_verify_consistency(0, 0, a, a, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_merkle_verify_consistency(0, 0, a, b, NULL, 0), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_consistency(1, 1, b, b, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_merkle_verify_consistency(1, 1, a, b, NULL, 0), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_consistency(0, 1, a, b, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_merkle_verify_consistency(0, 1, empty, empty, one, 1), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_consistency(0, 0, empty, empty, one, 1), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_consistency(1, 1, empty, empty, one, 1), SC_ERR_PROOF);
    /* Time travel to the past, and a real step with no proof. */
    ck_assert_int_eq(sc_merkle_verify_consistency(1, 0, a, b, NULL, 0), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_consistency(2, 1, a, b, NULL, 0), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_consistency(1, 2, a, b, NULL, 0), SC_ERR_PROOF);
    /* Inclusion in an empty tree or past the end never verifies. */
    ck_assert_int_eq(sc_merkle_verify_inclusion(a, 0, 0, NULL, 0, a), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_inclusion(a, 1, 0, NULL, 0, a), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_inclusion(a, 2, 1, NULL, 0, a), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_inclusion(a, 0, 1, NULL, 0, a), SC_OK);
    ck_assert_int_eq(sc_merkle_verify_inclusion(a, 0, 1, NULL, 0, b), SC_ERR_PROOF);
}
END_TEST

START_TEST(test_bounds)
{
    store s;
    store_build(&s, 64, 41, 0);
    uint8_t proof[SC_PROOF_HASHES_MAX + 1][H], root[H];
    size_t n = 99;
    /* Index outside the tree, empty tree, old > new, old == 0. */
    ck_assert_int_eq(sc_merkle_inclusion_proof(store_node, &s, 5, 5, proof, 8, &n),
                     SC_ERR_INVALID_ARG);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(sc_merkle_inclusion_proof(store_node, &s, 0, 0, proof, 8, &n),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_merkle_consistency_proof(store_node, &s, 6, 5, proof, 8, &n),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_merkle_consistency_proof(store_node, &s, 0, 5, proof, 8, &n),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_merkle_inclusion_proof(NULL, &s, 0, 5, proof, 8, &n), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_merkle_inclusion_proof(store_node, &s, 0, 5, proof, 8, NULL),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_merkle_root(NULL, &s, 5, root), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_merkle_frontier_load(NULL, 5, store_node, &s), SC_ERR_INVALID_ARG);
    /* A proof of 6 hashes does not fit 5; nothing is written. */
    memset(proof, 0x5a, sizeof proof);
    s.limit = 64;
    ck_assert_int_eq(sc_merkle_inclusion_proof(store_node, &s, 3, 64, proof, 5, &n),
                     SC_ERR_TOO_LARGE);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(sc_merkle_inclusion_proof(store_node, &s, 3, 64, proof, 6, &n), SC_OK);
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(sc_merkle_consistency_proof(store_node, &s, 3, 64, proof, 2, &n),
                     SC_ERR_TOO_LARGE);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(sc_merkle_inclusion_proof(store_node, &s, 3, 64, NULL, 0, &n),
                     SC_ERR_TOO_LARGE);
    /* A one-leaf tree needs no hashes, so no buffer at all is fine. */
    ck_assert_int_eq(sc_merkle_inclusion_proof(store_node, &s, 0, 1, NULL, 0, &n), SC_OK);
    ck_assert_uint_eq(n, 0);
    /* Verifiers refuse proofs longer than the limit before looking at them. */
    uint8_t leaf[H] = {0};
    ck_assert_int_eq(sc_merkle_verify_inclusion(leaf, 0, 2, (const uint8_t(*)[H])proof,
                                                SC_PROOF_HASHES_MAX + 1, root),
                     SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_consistency(3, 64, root, root, (const uint8_t(*)[H])proof,
                                                  SC_PROOF_HASHES_MAX + 1),
                     SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_inclusion(NULL, 0, 1, NULL, 0, root), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_inclusion(leaf, 0, 2, NULL, 1, root), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_consistency(1, 2, NULL, root, NULL, 0), SC_ERR_PROOF);
    ck_assert_uint_eq(s.violations, 0);
    store_free(&s);
}
END_TEST

/* A failing store: its error comes back and every output is zeroed. */
START_TEST(test_node_errors)
{
    store s;
    store_build(&s, 100, 51, 0);
    /*
     * Root and load of 99 = 64 + 32 + 2 + 1 take 4 lookups; the inclusion
     * proof of 37 takes 9 and the consistency proof from 37 takes 10, so
     * failing any of the first 9 lookups fails them.
     */
    for (uint64_t k = 1; k <= 9; k++) {
        uint8_t proof[SC_PROOF_HASHES_MAX][H], root[H];
        size_t n = 99;
        sc_merkle_frontier f;

        s.calls = 0;
        s.fail_at = k;
        s.limit = 100;
        memset(root, 0x77, H);
        sc_status rc = sc_merkle_root(store_node, &s, 99, root);
        ck_assert_int_eq(rc, k <= 4 ? SC_ERR_STORAGE : SC_OK);
        if (rc != SC_OK)
            ck_assert(sct_all_zero(root, H));

        s.calls = 0;
        memset(&f, 0x77, sizeof f);
        rc = sc_merkle_frontier_load(&f, 99, store_node, &s);
        ck_assert_int_eq(rc, k <= 4 ? SC_ERR_STORAGE : SC_OK);
        if (rc != SC_OK)
            ck_assert(sct_all_zero(&f, sizeof f));

        s.calls = 0;
        memset(proof, 0x77, sizeof proof);
        rc = sc_merkle_inclusion_proof(store_node, &s, 37, 99, proof, SC_PROOF_HASHES_MAX, &n);
        ck_assert_int_eq(rc, SC_ERR_STORAGE);
        ck_assert_uint_eq(n, 0);
        ck_assert(sct_all_zero(proof, 7 * H));

        s.calls = 0;
        memset(proof, 0x77, sizeof proof);
        rc = sc_merkle_consistency_proof(store_node, &s, 37, 99, proof, SC_PROOF_HASHES_MAX, &n);
        ck_assert_int_eq(rc, SC_ERR_STORAGE);
        ck_assert_uint_eq(n, 0);
        ck_assert(sct_all_zero(proof, 8 * H));
    }
    s.fail_at = 0;
    store_free(&s);
}
END_TEST

/*
 * Batched proofs against the CT vectors: for one leaf, the proof is the
 * vector's inclusion proof top-down; for leaves 0 and 5 of 7 it is, by
 * the definition, [leaf 1, MTH(D[2:4]), leaf 4, leaf 6].
 */
START_TEST(test_multi_vectors)
{
    vectors v;
    load_vectors(&v);
    store s;
    vector_store(&s, &v);
    uint64_t rng = 71;
    for (size_t i = 0; i < v.ninc; i++) {
        const vec_proof *vp = &v.inc[i];
        uint8_t proof[SC_PROOF_HASHES_MAX][H];
        size_t n = 99;
        s.limit = vp->b;
        ck_assert_int_eq(
            sc_merkle_multi_proof(store_node, &s, &vp->a, 1, vp->b, proof, SC_PROOF_HASHES_MAX, &n),
            SC_OK);
        ck_assert_uint_eq(n, vp->n);
        expect_one_leaf(vp->a, vp->b, (const uint8_t(*)[H])vp->hash, (const uint8_t(*)[H])proof, n);
        ck_assert_int_eq(sc_merkle_verify_multi(&vp->a, (const uint8_t(*)[H]) & s.level[0][vp->a],
                                                1, vp->b, (const uint8_t(*)[H])proof, n,
                                                v.root[vp->b]),
                         SC_OK);
        check_multi(&s, &vp->a, 1, vp->b, 1, &rng);
    }
    const uint64_t idx[2] = {0, 5};
    uint8_t proof[8][H], want[4][H], leaf[2][H];
    size_t n = 0;
    s.limit = 7;
    ck_assert_int_eq(sc_merkle_multi_proof(store_node, &s, idx, 2, 7, proof, 8, &n), SC_OK);
    ck_assert_uint_eq(n, 4);
    memcpy(want[0], s.level[0][1], H);
    sc_merkle_node_hash(s.level[0][2], s.level[0][3], want[1]);
    memcpy(want[2], s.level[0][4], H);
    memcpy(want[3], s.level[0][6], H);
    ck_assert_mem_eq(proof, want, sizeof want);
    memcpy(leaf[0], s.level[0][0], H);
    memcpy(leaf[1], s.level[0][5], H);
    ck_assert_int_eq(sc_merkle_verify_multi(idx, (const uint8_t(*)[H])leaf, 2, 7,
                                            (const uint8_t(*)[H])proof, n, v.root[7]),
                     SC_OK);
    /* Every leaf of the tree proven: nothing else is needed. */
    const uint64_t all[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    ck_assert_int_eq(sc_merkle_multi_proof(store_node, &s, all, 8, 8, proof, 0, &n), SC_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(
        sc_merkle_verify_multi(all, (const uint8_t(*)[H])s.level[0], 8, 8, NULL, 0, v.root[8]),
        SC_OK);
    ck_assert_uint_eq(s.violations, 0);
    store_free(&s);
}
END_TEST

/* Every subset of the leaves of trees up to 8, and random subsets up to 130, against MULTI. */
START_TEST(test_multi_small)
{
    store s;
    store_build(&s, 130, 72, 0);
    uint64_t rng = 72;
    for (uint64_t size = 1; size <= 8; size++)
        for (uint64_t mask = 1; mask < (UINT64_C(1) << size); mask++) {
            uint64_t idx[8];
            size_t k = 0;
            for (uint64_t i = 0; i < size; i++)
                if (mask >> i & 1)
                    idx[k++] = i;
            check_multi(&s, idx, k, size, 1, &rng);
        }
    for (uint64_t size = 9; size <= 130; size++)
        for (int t = 0; t < 6; t++) {
            uint64_t idx[40];
            size_t k = 1 + (size_t)rng_below(&rng, size < 40 ? size : 40);
            random_leaves(&rng, size, k, idx);
            check_multi(&s, idx, k, size, 1, &rng);
            /* The one-leaf proof is the RFC inclusion proof, top-down. */
            uint8_t a[SC_PROOF_HASHES_MAX][H], b[SC_PROOF_HASHES_MAX][H];
            size_t na = 0, nb = 0;
            ck_assert_int_eq(
                sc_merkle_multi_proof(store_node, &s, idx, 1, size, a, SC_PROOF_HASHES_MAX, &na),
                SC_OK);
            ck_assert_int_eq(sc_merkle_inclusion_proof(store_node, &s, idx[0], size, b,
                                                       SC_PROOF_HASHES_MAX, &nb),
                             SC_OK);
            ck_assert_uint_eq(na, nb);
            expect_one_leaf(idx[0], size, (const uint8_t(*)[H])b, (const uint8_t(*)[H])a, na);
        }
    store_free(&s);
}
END_TEST

/*
 * A big log: what a sync proves.  A run of ops logged together (a push)
 * costs about two hashes per level however long the run; scattered leaves
 * (duplicates from long ago) cost at most a path each.
 */
START_TEST(test_multi_large)
{
    store s;
    store_build(&s, 100000, 73, 0);
    uint64_t rng = 73;
    uint64_t *idx = calloc(1000, sizeof *idx);
    ck_assert_ptr_nonnull(idx);
    for (int t = 0; t < 40; t++) {
        uint64_t size = 1000 + rng_below(&rng, 99000);
        size_t k = 1 + (size_t)rng_below(&rng, 1000);
        uint64_t start = rng_below(&rng, size - k + 1);
        for (size_t j = 0; j < k; j++)
            idx[j] = start + j;
        s.calls = 0;
        size_t n = check_multi(&s, idx, k, size, t < 3, &rng);
        ck_assert_uint_le(n, 2 * 17);
        random_leaves(&rng, size, k, idx);
        check_multi(&s, idx, k, size, 0, &rng);
    }
    /* The newest ops of the whole log, as a push right after its commit sees them. */
    for (size_t j = 0; j < 1000; j++)
        idx[j] = 99000 + j;
    ck_assert_uint_le(check_multi(&s, idx, 1000, 100000, 1, &rng), 17);
    free(idx);
    store_free(&s);
}
END_TEST

START_TEST(test_multi_bounds)
{
    store s;
    store_build(&s, 64, 74, 0);
    uint8_t proof[SC_PROOF_HASHES_MAX][H], root[H];
    uint8_t leaf[3][H] = {{0}};
    size_t n = 99;
    s.limit = 64;
    const uint64_t ok[3] = {3, 9, 40}, unsorted[3] = {9, 3, 40}, twice[3] = {3, 9, 9},
                   beyond[3] = {3, 9, 64};
    /* Invalid leaf sets are refused before any lookup, by the generator and the verifier. */
    const uint64_t *bad[3] = {unsorted, twice, beyond};
    for (int i = 0; i < 3; i++) {
        s.calls = 0;
        ck_assert_int_eq(
            sc_merkle_multi_proof(store_node, &s, bad[i], 3, 64, proof, SC_PROOF_HASHES_MAX, &n),
            SC_ERR_INVALID_ARG);
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_eq(s.calls, 0);
        ck_assert_uint_eq(sc_merkle_multi_proof_len(bad[i], 3, 64), 0);
        ck_assert_int_eq(sc_merkle_verify_multi(bad[i], (const uint8_t(*)[H])leaf, 3, 64,
                                                (const uint8_t(*)[H])proof, 10, root),
                         SC_ERR_PROOF);
    }
    ck_assert_int_eq(sc_merkle_multi_proof(store_node, &s, ok, 0, 64, proof, 8, &n),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_merkle_multi_proof(store_node, &s, ok, 3, 0, proof, 8, &n),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_merkle_multi_proof(NULL, &s, ok, 3, 64, proof, 8, &n), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_merkle_multi_proof(store_node, &s, NULL, 3, 64, proof, 8, &n),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_merkle_multi_proof(store_node, &s, ok, 3, 64, proof, 8, NULL),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_merkle_verify_multi(ok, (const uint8_t(*)[H])leaf, 0, 64, NULL, 0, root),
                     SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_multi(ok, NULL, 3, 64, NULL, 0, root), SC_ERR_PROOF);
    ck_assert_int_eq(sc_merkle_verify_multi(ok, (const uint8_t(*)[H])leaf, 3, 64, NULL, 1, root),
                     SC_ERR_PROOF);
    /* Too small a buffer: refused before any lookup, nothing written. */
    size_t len = sc_merkle_multi_proof_len(ok, 3, 64);
    ck_assert_uint_gt(len, 3);
    memset(proof, 0x5a, sizeof proof);
    s.calls = 0;
    ck_assert_int_eq(sc_merkle_multi_proof(store_node, &s, ok, 3, 64, proof, len - 1, &n),
                     SC_ERR_TOO_LARGE);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(s.calls, 0);
    for (size_t i = 0; i < sizeof proof; i++)
        ck_assert_uint_eq(((uint8_t *)proof)[i], 0x5a);
    ck_assert_int_eq(sc_merkle_multi_proof(store_node, &s, ok, 3, 64, proof, len, &n), SC_OK);
    ck_assert_uint_eq(n, len);
    /* A longer proof than any batch needs is refused before it is looked at. */
    ck_assert_int_eq(sc_merkle_verify_multi(ok, (const uint8_t(*)[H])leaf, 3, 64,
                                            (const uint8_t(*)[H])proof,
                                            SC_MULTIPROOF_HASHES_MAX + 1, root),
                     SC_ERR_PROOF);
    /* A failing store: its error comes back and the output is zeroed. */
    for (uint64_t k = 1; k <= len; k++) {
        s.calls = 0;
        s.fail_at = k;
        memset(proof, 0x77, sizeof proof);
        ck_assert_int_eq(
            sc_merkle_multi_proof(store_node, &s, ok, 3, 64, proof, SC_PROOF_HASHES_MAX, &n),
            SC_ERR_STORAGE);
        ck_assert_uint_eq(n, 0);
        ck_assert(sct_all_zero(proof, len * H));
    }
    s.fail_at = 0;
    ck_assert_uint_eq(s.violations, 0);
    store_free(&s);
}
END_TEST

/*
 * Trees near 2^64 leaves, where every leaf has the same hash: then the
 * perfect subtree of level l has one hash P_l whatever its index, and P
 * is a real tree, so proofs over it must verify.  This reaches the 64th
 * level and the largest sizes without overflow.
 */
static uint8_t same_leaf[64][H];

static sc_status same_node(void *ctx, unsigned level, uint64_t index, uint8_t out[H])
{
    uint64_t limit = *(const uint64_t *)ctx;
    ck_assert_uint_lt(level, 64);
    ck_assert_uint_le(index + 1, limit >> level);
    memcpy(out, same_leaf[level], H);
    return SC_OK;
}

START_TEST(test_huge_trees)
{
    sc_merkle_leaf_hash((const uint8_t *)"x", 1, same_leaf[0]);
    for (unsigned l = 1; l < 64; l++)
        sc_merkle_node_hash(same_leaf[l - 1], same_leaf[l - 1], same_leaf[l]);
    const uint64_t sizes[] = {UINT64_MAX, UINT64_MAX - 1, UINT64_C(1) << 63,
                              (UINT64_C(1) << 63) + 1, UINT64_C(0xaaaaaaaaaaaaaaaa)};
    uint64_t rng = 61;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t size = sizes[i], limit = size;
        uint8_t root[H], proof[SC_PROOF_HASHES_MAX][H];
        size_t n = 0;
        ck_assert_int_eq(sc_merkle_root(same_node, &limit, size, root), SC_OK);
        sc_merkle_frontier f;
        ck_assert_int_eq(sc_merkle_frontier_load(&f, size, same_node, &limit), SC_OK);
        uint8_t froot[H];
        sc_merkle_frontier_root(&f, froot);
        ck_assert_mem_eq(root, froot, H);
        const uint64_t indices[] = {0, size - 1, size / 2, rng_below(&rng, size)};
        for (size_t j = 0; j < 4; j++) {
            ck_assert_int_eq(sc_merkle_inclusion_proof(same_node, &limit, indices[j], size, proof,
                                                       SC_PROOF_HASHES_MAX, &n),
                             SC_OK);
            ck_assert_uint_le(n, 64);
            ck_assert_int_eq(sc_merkle_verify_inclusion(same_leaf[0], indices[j], size,
                                                        (const uint8_t(*)[H])proof, n, root),
                             SC_OK);
        }
        const uint64_t olds[] = {1, size - 1, size / 2 + 1, 1 + rng_below(&rng, size)};
        for (size_t j = 0; j < 4; j++) {
            uint8_t old_root[H];
            uint64_t old_limit = olds[j];
            ck_assert_int_eq(sc_merkle_root(same_node, &old_limit, olds[j], old_root), SC_OK);
            ck_assert_int_eq(sc_merkle_consistency_proof(same_node, &limit, olds[j], size, proof,
                                                         SC_PROOF_HASHES_MAX, &n),
                             SC_OK);
            ck_assert_uint_le(n, SC_PROOF_HASHES_MAX);
            ck_assert_int_eq(sc_merkle_verify_consistency(olds[j], size, old_root, root,
                                                          (const uint8_t(*)[H])proof, n),
                             SC_OK);
        }
    }
    /* Batched proofs reach the 64th level too: the first, middle and last leaves. */
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t size = sizes[i], limit = size, idx[4] = {0, 1, size / 2, size - 1};
        uint8_t root[H], leaf[4][H], proof[4 * 64][H];
        size_t n = 0;
        for (int j = 0; j < 4; j++)
            memcpy(leaf[j], same_leaf[0], H);
        ck_assert_int_eq(sc_merkle_root(same_node, &limit, size, root), SC_OK);
        ck_assert_int_eq(sc_merkle_multi_proof(same_node, &limit, idx, 4, size, proof, 4 * 64, &n),
                         SC_OK);
        ck_assert_uint_le(n, 4 * 64);
        ck_assert_int_eq(sc_merkle_verify_multi(idx, (const uint8_t(*)[H])leaf, 4, size,
                                                (const uint8_t(*)[H])proof, n, root),
                         SC_OK);
    }
    /* A full frontier refuses to grow rather than overflow its 64 levels. */
    sc_merkle_frontier f;
    uint64_t limit = UINT64_MAX;
    ck_assert_int_eq(sc_merkle_frontier_load(&f, UINT64_MAX, same_node, &limit), SC_OK);
    sc_merkle_frontier before = f;
    sc_merkle_frontier_append(&f, same_leaf[0], NULL, NULL);
    ck_assert_mem_eq(&f, &before, sizeof f);
}
END_TEST

static Suite *merkle_suite(void)
{
    Suite *s = suite_create("core/merkle");
    const sct_case cases[] = {
        {"hash_vectors", test_hash_vectors},
        {"root_vectors", test_root_vectors},
        {"inclusion_vectors", test_inclusion_vectors},
        {"consistency_vectors", test_consistency_vectors},
        {"roots_small", test_roots_small},
        {"roots_large", test_roots_large},
        {"inclusion_small", test_inclusion_small},
        {"inclusion_large", test_inclusion_large},
        {"consistency_small", test_consistency_small},
        {"consistency_large", test_consistency_large},
        {"consistency_trivial", test_consistency_trivial},
        {"bounds", test_bounds},
        {"node_errors", test_node_errors},
        {"huge_trees", test_huge_trees},
        {"multi_vectors", test_multi_vectors},
        {"multi_small", test_multi_small},
        {"multi_large", test_multi_large},
        {"multi_bounds", test_multi_bounds},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(merkle_suite());
}
