/*
 * fuzz_template.c: score-sheet JSON (what `syncd admin template add`
 * reads) through jansson and sd_template_from_json, and whatever it
 * accepts on through the op codec (sealed with a fixed admin key, the
 * structural checks) and the core fold, as the register would.
 *
 * Beyond not crashing or leaking: a refusal always says why; an accepted
 * sheet has 1 to 500 items, each with a code and a text; an op the codec
 * seals re-opens and verifies to the same id, and folds (or is refused by
 * the fold with a reason) in the same way twice.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/template.h"
#include "core/codec.h"
#include "core/limits.h"
#include "core/merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t seed[32] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                                 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};

static bool fold_once(sc_op *op, uint8_t hash[SC_HASH_LEN])
{
    sc_fold_input in = {.id = op->id, .op = op->op};
    sc_fold_out fo;
    sc_err err;
    if (sc_fold(NULL, NULL, &in, 1, &fo, &err) != SC_OK)
        return false;
    sc_state_hash(NULL, fo.state, hash);
    sc_fold_out_dispose(NULL, &fo);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sc_keypair *kp;
    if (!kp && (sc_crypto_init() != SC_OK || sc_keypair_from_seed(seed, &kp) != SC_OK))
        abort();
    if (size > 256 * 1024)
        return 0;
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return 0;
    Scpb__TemplatePublish b = SCPB__TEMPLATE_PUBLISH__INIT;
    Scpb__TemplateItem *items = NULL;
    Scpb__TemplateItem **ptrs = calloc(SC_TEMPLATE_ITEMS_MAX, sizeof *ptrs);
    char msg[SC_ERR_MSG_MAX];
    msg[0] = '\0';
    if (!ptrs)
        abort();
    static sd_template_more more;
    if (!sd_template_from_json(root, &b, &items, ptrs, msg, sizeof msg) ||
        !sd_template_more_from_json(root, &b, &more, msg, sizeof msg)) {
        if (msg[0] == '\0')
            abort(); /* every refusal says why */
    } else {
        if (b.n_items < 1 || b.n_items > SC_TEMPLATE_ITEMS_MAX || !b.code || !b.name ||
            !b.has_version || b.version < 1)
            abort();
        for (size_t i = 0; i < b.n_items; i++)
            if (!b.items[i]->code || !b.items[i]->text)
                abort();
        static const uint8_t entity[SC_ID_LEN] = {0x01, 0x93, 0x5a, 0x00, 0x00, 0x00, 0x70, 0x00,
                                                  0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
        Scpb__Op op = SCPB__OP__INIT;
        op.has_version = true;
        op.version = 1;
        op.has_entity = true;
        op.entity = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)(uintptr_t)entity};
        op.has_entity_type = true;
        op.entity_type = SCPB__ENTITY_TYPE__ENTITY_TEMPLATE;
        op.has_author = true;
        op.author = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)(uintptr_t)sc_keypair_public(kp)};
        op.has_hlc = true;
        op.hlc = (uint64_t)1795392000000 << 16;
        op.has_device_time_ms = true;
        op.device_time_ms = 1795392000000;
        op.body_case = SCPB__OP__BODY_TEMPLATE_PUBLISH;
        op.template_publish = &b;
        sc_op *sealed = NULL;
        sc_err err;
        if (sc_op_seal(NULL, kp, &op, &sealed, &err) == SC_OK) {
            sc_op *again = NULL;
            if (sc_op_open(NULL, sealed->signed_bytes, sealed->signed_len, SC_OP_VERIFY, &again,
                           &err) != SC_OK ||
                memcmp(again->id, sealed->id, SC_HASH_LEN) != 0)
                abort();
            uint8_t h1[SC_HASH_LEN], h2[SC_HASH_LEN];
            bool ok1 = fold_once(sealed, h1), ok2 = fold_once(again, h2);
            if (ok1 != ok2 || (ok1 && memcmp(h1, h2, SC_HASH_LEN) != 0))
                abort();
            sc_op_free(NULL, again);
            sc_op_free(NULL, sealed);
        } else if (err.msg[0] == '\0') {
            abort();
        }
    }
    free(items);
    free(ptrs);
    json_decref(root);
    return 0;
}
