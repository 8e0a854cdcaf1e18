/*
 * fuzz_op_open.c: libFuzzer target for sc_op_open, the first code that sees
 * op bytes from the network.
 *
 * Each input is opened twice: with SC_OP_VERIFY, as syncd and clients do,
 * and without it, so that inputs whose signature the fuzzer cannot forge
 * still reach the success path.  Whatever opens must pass sc_op_check again
 * and carry the SHA-256 of its op bytes as id; whatever fails must leave no
 * output and say why.  Allocations are counted through the test environment
 * so a leak on any path aborts at once.  The seed corpus
 * (the .op files under corpus/op_open) is written by tests/core/test_codec.c (fuzz_seeds).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/ids.h"
#include "sctest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void open_once(sct_env *t, const uint8_t *data, size_t size, unsigned flags)
{
    sc_op *op = NULL;
    sc_err err;
    sc_status rc = sc_op_open(&t->env, data, size, flags, &op, &err);
    if (rc != SC_OK) {
        if (op != NULL || err.code != rc || err.msg[0] == '\0')
            abort();
    } else {
        uint8_t id[SC_HASH_LEN];
        sc_sha256(op->op_bytes, op->op_len, id);
        if (sc_op_check(op->op, &err) != SC_OK || memcmp(id, op->id, SC_HASH_LEN) != 0 ||
            op->signed_len != size || memcmp(op->signed_bytes, data, size) != 0)
            abort();
        sc_op_free(&t->env, op);
    }
    if (t->live != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libsodium keeps process-wide state; initialising it twice is harmless. */
    if (sc_crypto_init() != SC_OK)
        abort();
    sct_env t;
    sct_env_init(&t, 1);
    open_once(&t, data, size, SC_OP_VERIFY);
    open_once(&t, data, size, 0);
    return 0;
}
