/*
 * fuzz_proof.c: the Merkle proof verifiers on arbitrary sizes, indices and
 * hashes, and the proof generators on arbitrary sizes.
 *
 * Input: flags (1 byte), a and b (8 bytes each, little-endian), then 32-byte
 * hashes: the leaf hash or old root, the root or new root, then the proof.
 * The three verifiers run on every input and may only answer SC_OK or
 * SC_ERR_PROOF; the batched one proves 1 to 8 leaves (flags bits 1-3) at a,
 * a + s, a + 2s, ... (s from a's high bits), all with the first hash.
 * Then (a, b) pick an index, two sizes and such a leaf set of a tree of up
 * to 2^64 - 1 identical leaves, where the perfect subtree of each level has
 * one hash: its proofs must be generated within the limits and must
 * verify.
 * Seeds (tests/fuzz/corpus/proof/) are the CT reference proofs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/merkle.h"

#define H SC_HASH_LEN

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* P[l]: the hash of a perfect subtree of 2^l identical leaves. */
static uint8_t perfect[64][H];

static sc_status same_node(void *ctx, unsigned level, uint64_t index, uint8_t out[H])
{
    uint64_t limit = *(const uint64_t *)ctx;
    /* The generators promise to ask only for subtrees inside the size. */
    if (level >= 64 || index >= (limit >> level))
        abort();
    memcpy(out, perfect[level], H);
    return SC_OK;
}

#define MULTI_LEAVES_MAX 8

/* k leaves from a: a, a + step, ... (step from a's high bits), unsorted or out of range. */
static size_t leaf_set(uint8_t flags, uint64_t a, uint64_t idx[MULTI_LEAVES_MAX])
{
    size_t k = 1 + (size_t)(flags >> 1 & 7);
    uint64_t step = 1 + (a >> 40) % 1000;
    for (size_t j = 0; j < k; j++)
        idx[j] = a + j * step;
    return k;
}

/* The same set inside a tree of size leaves, sorted, without repeats. */
static size_t leaf_set_in(uint8_t flags, uint64_t a, uint64_t size, uint64_t idx[MULTI_LEAVES_MAX])
{
    uint64_t raw[MULTI_LEAVES_MAX];
    size_t k = leaf_set(flags, a, raw), n = 0;
    for (size_t j = 0; j < k; j++) {
        uint64_t v = raw[j] % size;
        size_t at = 0;
        while (at < n && idx[at] < v)
            at++;
        if (at < n && idx[at] == v)
            continue;
        memmove(idx + at + 1, idx + at, (n - at) * sizeof *idx);
        idx[at] = v;
        n++;
    }
    return n;
}

static void check_generated_multi(uint8_t flags, uint64_t a, uint64_t size, const uint8_t root[H])
{
    uint64_t idx[MULTI_LEAVES_MAX];
    uint8_t leaf[MULTI_LEAVES_MAX][H], proof[MULTI_LEAVES_MAX * 64][H];
    size_t k = leaf_set_in(flags, a, size, idx), n = 0;
    for (size_t j = 0; j < k; j++)
        memcpy(leaf[j], perfect[0], H);
    if (sc_merkle_multi_proof(same_node, &size, idx, k, size, proof, MULTI_LEAVES_MAX * 64, &n) !=
            SC_OK ||
        n > k * 64 || n != sc_merkle_multi_proof_len(idx, k, size) ||
        sc_merkle_verify_multi(idx, (const uint8_t(*)[H])leaf, k, size, (const uint8_t(*)[H])proof,
                               n, root) != SC_OK)
        abort();
}

static void check_generated(uint8_t flags, uint64_t a, uint64_t b)
{
    if (b == 0)
        return;
    uint64_t size = b, index = a % size, old = a % size + 1;
    uint8_t root[H], old_root[H], proof[SC_PROOF_HASHES_MAX][H];
    size_t n = 0;
    if (sc_merkle_root(same_node, &size, size, root) != SC_OK)
        abort();
    if (sc_merkle_inclusion_proof(same_node, &size, index, size, proof, SC_PROOF_HASHES_MAX, &n) !=
            SC_OK ||
        n > 64 ||
        sc_merkle_verify_inclusion(perfect[0], index, size, (const uint8_t(*)[H])proof, n, root) !=
            SC_OK)
        abort();
    if (sc_merkle_root(same_node, &old, old, old_root) != SC_OK ||
        sc_merkle_consistency_proof(same_node, &size, old, size, proof, SC_PROOF_HASHES_MAX, &n) !=
            SC_OK ||
        sc_merkle_verify_consistency(old, size, old_root, root, (const uint8_t(*)[H])proof, n) !=
            SC_OK)
        abort();
    /* A frontier loaded at this size has the same root. */
    sc_merkle_frontier f;
    uint8_t froot[H];
    if (sc_merkle_frontier_load(&f, size, same_node, &size) != SC_OK)
        abort();
    sc_merkle_frontier_root(&f, froot);
    if (memcmp(froot, root, H) != 0)
        abort();
    check_generated_multi(flags, a, size, root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        sc_merkle_leaf_hash((const uint8_t *)"fuzz", 4, perfect[0]);
        for (unsigned l = 1; l < 64; l++)
            sc_merkle_node_hash(perfect[l - 1], perfect[l - 1], perfect[l]);
        ready = 1;
    }
    if (size < 17 + 2 * H)
        return 0;
    uint8_t flags = data[0];
    uint64_t a = le64(data + 1), b = le64(data + 9);
    /* Small sizes reach the interesting shapes more often than random 64-bit ones. */
    if (flags & 1) {
        a %= 4096;
        b %= 4096;
    }
    const uint8_t *first = data + 17, *second = first + H;
    size_t n = (size - 17 - 2 * H) / H;
    /* Copy the proof to its own exact allocation so any over-read is caught. */
    uint8_t(*proof)[H] = n ? malloc(n * H) : NULL;
    if (n && !proof)
        return 0;
    if (n)
        memcpy(proof, second + H, n * H);

    sc_status rc = sc_merkle_verify_inclusion(first, a, b, (const uint8_t(*)[H])proof, n, second);
    if (rc != SC_OK && rc != SC_ERR_PROOF)
        abort();
    rc = sc_merkle_verify_consistency(a, b, first, second, (const uint8_t(*)[H])proof, n);
    if (rc != SC_OK && rc != SC_ERR_PROOF)
        abort();
    uint64_t idx[MULTI_LEAVES_MAX];
    uint8_t leaves[MULTI_LEAVES_MAX][H];
    size_t k = leaf_set(flags, a, idx);
    for (size_t j = 0; j < k; j++)
        memcpy(leaves[j], first, H);
    rc = sc_merkle_verify_multi(idx, (const uint8_t(*)[H])leaves, k, b, (const uint8_t(*)[H])proof,
                                n, second);
    if (rc != SC_OK && rc != SC_ERR_PROOF)
        abort();
    free(proof);

    check_generated(flags, a, b);
    return 0;
}
