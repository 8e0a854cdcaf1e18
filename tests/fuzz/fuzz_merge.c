/*
 * fuzz_merge.c: decode -> verify -> merge.
 *
 * Input: one mode byte, then records of a 2-byte big-endian length and a
 * SignedOp encoding.  Mode bit 0 verifies signatures (mutated ops then
 * rarely survive, which exercises the verifier); without it only the
 * structure is checked, so mutated ops reach the fold.  Every op of the
 * first op's entity is folded; the state is encoded, hashed, decoded, and
 * scored when it is an inspection.  Nothing may crash, leak or trip a
 * sanitizer, and the fold must give the same hash for the ops reversed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/merge.h"
#include "core/score.h"
#include "sctest.h"

#define MAX_OPS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool present_odd(void *ctx, const uint8_t sha[SC_HASH_LEN])
{
    (void)ctx;
    return sha[0] & 1;
}

/* Keys fall into four users by their first byte, so rules that compare people see both answers. */
static sc_status user_of(void *ctx, const uint8_t key[SC_KEY_LEN], uint8_t user[SC_ID_LEN])
{
    (void)ctx;
    memset(user, 0, SC_ID_LEN);
    user[0] = key[0] & 3;
    return (key[1] & 7) == 0 ? SC_ERR_NOT_FOUND : SC_OK;
}

static void fold_hash(const sc_env *env, sc_fold_input *in, size_t n, uint8_t out[SC_HASH_LEN],
                      bool *ok)
{
    sc_fold_out fo;
    sc_err err;
    static const sc_users users = {.user_of = user_of, .ctx = NULL};
    *ok = sc_fold(env, &users, in, n, &fo, &err) == SC_OK;
    if (!*ok)
        return;
    sc_state_hash(env, fo.state, out);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (sc_state_encode(env, fo.state, &buf, &len) == SC_OK) {
        Scpb__EntityState *back = NULL;
        if (sc_state_decode(env, buf, len, len, &back, NULL) == SC_OK)
            sc_state_free(env, back);
        sc_free(env, buf);
    }
    sc_finding_overdue(fo.state, 20000);
    sc_evidence_pending(fo.state, present_odd, NULL);
    if (fo.state->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION) {
        Scpb__TemplateState tpl = SCPB__TEMPLATE_STATE__INIT;
        sc_score sc;
        sc_score_inspection(&tpl, fo.state->inspection, &sc);
    }
    sc_fold_out_dispose(env, &fo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        if (sc_crypto_init() != SC_OK)
            abort();
        init = 1;
    }
    if (size < 1)
        return 0;
    unsigned flags = (data[0] & 1) ? SC_OP_VERIFY : 0;
    size_t pos = 1;
    sc_op *ops[MAX_OPS];
    size_t n = 0;
    while (pos + 2 <= size && n < MAX_OPS) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        pos += 2;
        if (len > size - pos)
            break;
        sc_op *op = NULL;
        if (sc_op_open(NULL, data + pos, len, flags, &op, NULL) == SC_OK)
            ops[n++] = op;
        pos += len;
    }
    if (n > 0) {
        sc_fold_input in[MAX_OPS], rev[MAX_OPS];
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (memcmp(ops[i]->op->entity.data, ops[0]->op->entity.data, SC_ID_LEN) != 0 ||
                ops[i]->op->entity_type != ops[0]->op->entity_type)
                continue;
            bool dup = false;
            for (size_t j = 0; j < m && !dup; j++)
                dup = memcmp(in[j].id, ops[i]->id, SC_HASH_LEN) == 0;
            if (dup)
                continue;
            in[m].id = ops[i]->id;
            in[m].op = ops[i]->op;
            m++;
        }
        for (size_t i = 0; i < m; i++)
            rev[i] = in[m - 1 - i];
        uint8_t h1[SC_HASH_LEN], h2[SC_HASH_LEN];
        bool ok1, ok2;
        fold_hash(NULL, in, m, h1, &ok1);
        fold_hash(NULL, rev, m, h2, &ok2);
        /* The merge is order independent, whatever the input. */
        if (ok1 != ok2 || (ok1 && memcmp(h1, h2, SC_HASH_LEN) != 0))
            abort();
    }
    for (size_t i = 0; i < n; i++)
        sc_op_free(NULL, ops[i]);
    return 0;
}
