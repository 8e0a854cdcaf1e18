/*
 * register_sign.c: what the register checks of the inspected unit's
 * sign-off beyond the fold (docs/data-model.md §2; docs/protocol.md §5):
 *  - a sign-off, made on the inspector's tablet, follows the self-check
 *    rules of every act on an inspection (a self-check is the unit's own:
 *    nobody signs it off for it);
 *  - a countersign names the inspection it is made on, and the user it
 *    names is the one the author device is enrolled for: the
 *    representative signs with their own key, never in another's name;
 *    a self-check has nobody else's record to countersign.
 * Visibility and scope come first (register_judge.c): a representative
 * cannot countersign an inspection they may not see (a draft, an
 * unannounced check not yet released), and is answered as for an id the
 * register does not have.  Like the rest of judging, these only read, and
 * a refusal leaves res rejected and returns the txn's status.
 */
#include <string.h>

#include "register_internal.h"

sc_status sd_refs_sign_off(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                           sd_result *res)
{
    return sd_self_inspection_act(t, a, op, e, res);
}

sc_status sd_refs_countersign(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                              sd_result *res)
{
    const Scpb__Countersign *b = op->countersign;
    if (b->inspection.len != SC_ID_LEN || memcmp(b->inspection.data, e->id, SC_ID_LEN) != 0)
        return sd_reject(res, R_(BAD_FIELD), "a countersign names the inspection it is made on");
    if (a->p.is_server || b->signer.len != SC_ID_LEN ||
        memcmp(b->signer.data, a->p.user, SC_ID_LEN) != 0)
        return sd_reject(res, R_(AUTHOR_MISMATCH),
                         "the countersign's signer is not the user this device is enrolled for: "
                         "a representative countersigns with their own device");
    const Scpb__EntityState *st = sd_ent_state(t, e);
    if (!st)
        return t->rc;
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION && st->inspection->self_check)
        return sd_reject(res, R_(FORBIDDEN_ROLE),
                         "a self-check (自查) is the unit's own record: there is no one else's "
                         "inspection to countersign");
    return SC_OK;
}
