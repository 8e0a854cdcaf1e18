/*
 * test_opkind.c: the op-kind table (core/opkinds.def) against the schema.
 * Every member of the Op body oneof in the generated protobuf-c descriptor
 * has exactly one entry, named by its field, and nothing else is in the
 * table, so a kind added to op.proto cannot be forgotten.  Then what each
 * entry holds is checked to be coherent (types, roles, photos), and the
 * photos each kind names are read from real ops.
 */
#include <string.h>

#include "core/opkind.h"
#include "op.pb-c.h"
#include "sctest.h"

/* The types the schema knows, as bits. */
static unsigned known_types(void)
{
    unsigned bits = 0;
    const ProtobufCEnumDescriptor *d = &scpb__entity_type__descriptor;
    for (unsigned i = 0; i < d->n_values; i++)
        if (d->values[i].value > 0 && d->values[i].value < 32)
            bits |= 1u << d->values[i].value;
    return bits;
}

START_TEST(every_oneof_case_has_one_entry)
{
    const ProtobufCMessageDescriptor *d = &scpb__op__descriptor;
    size_t cases = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        cases++;
        size_t found = 0, at = sc_opkinds_n;
        for (size_t k = 0; k < sc_opkinds_n; k++) {
            if ((unsigned)sc_opkinds[k].kind == f->id) {
                found++;
                at = k;
            }
        }
        ck_assert_msg(found == 1, "oneof member %s (%u) has %zu entries in opkinds.def", f->name,
                      f->id, found);
        const sc_opkind *k = &sc_opkinds[at];
        ck_assert_str_eq(k->member, f->name);
        /* Named by the field, except that void_record reads "void" (names.c). */
        ck_assert_str_eq(k->name, strcmp(f->name, "void_record") == 0 ? "void" : f->name);
        ck_assert_uint_eq(sc_opkind_pos(k->kind), at);
        ck_assert_ptr_eq(sc_opkind_of(k->kind), k);
    }
    /* Nothing in the table that the oneof does not have. */
    ck_assert_uint_eq(sc_opkinds_n, cases);
}
END_TEST

START_TEST(names_and_kinds_unique)
{
    for (size_t a = 0; a < sc_opkinds_n; a++) {
        for (size_t b = 0; b < a; b++) {
            ck_assert_int_ne(sc_opkinds[a].kind, sc_opkinds[b].kind);
            ck_assert_str_ne(sc_opkinds[a].name, sc_opkinds[b].name);
            ck_assert_str_ne(sc_opkinds[a].member, sc_opkinds[b].member);
        }
    }
}
END_TEST

START_TEST(no_kind_outside_the_table)
{
    ck_assert_ptr_null(sc_opkind_of(SCPB__OP__BODY__NOT_SET));
    ck_assert_uint_eq(sc_opkind_pos(SCPB__OP__BODY__NOT_SET), sc_opkinds_n);
    ck_assert_ptr_null(sc_opkind_of((Scpb__Op__BodyCase)19));
    ck_assert_ptr_null(sc_opkind_of((Scpb__Op__BodyCase)54));
    ck_assert_ptr_null(sc_opkind_of((Scpb__Op__BodyCase)-1));
    ck_assert(!sc_op_kind_is_create((Scpb__Op__BodyCase)54));
    ck_assert(!sc_op_kind_applies((Scpb__Op__BodyCase)54, SCPB__ENTITY_TYPE__ENTITY_FINDING));
}
END_TEST

START_TEST(entries_are_coherent)
{
    const unsigned known = known_types();
    for (size_t i = 0; i < sc_opkinds_n; i++) {
        const sc_opkind *k = &sc_opkinds[i];
        ck_assert_msg(k->applies != 0 && (k->applies & ~known) == 0, "%s: applies to %#x", k->name,
                      k->applies);
        /* A create op makes one entity of one type: its first op. */
        if (k->creates)
            ck_assert_msg((k->applies & (k->applies - 1)) == 0, "%s creates several types",
                          k->name);
        unsigned anyone = 0;
        for (int r = 0; r < SC_MAY_ROLES; r++) {
            ck_assert_msg((k->may[r] & ~k->applies) == 0, "%s: role %d on types it lacks", k->name,
                          r);
            anyone |= k->may[r];
        }
        ck_assert_msg(anyone != 0, "%s: no role may make it", k->name);
        ck_assert_msg((k->photo_refs == NULL) == (k->photos == SC_PHOTOS_NONE),
                      "%s: photos column and accessor disagree", k->name);
    }
}
END_TEST

/* ---- the photos each kind names ---- */

static uint8_t sha_a[SC_HASH_LEN] = {1}, sha_b[SC_HASH_LEN] = {2};

/* The photos sc_op_photo_refs finds in op, and sc_op_photos agreeing with it. */
static void expect_refs(const Scpb__Op *op, const ProtobufCBinaryData *sha, size_t n, uint64_t size,
                        sc_photo_use use)
{
    sc_photo_refs r;
    const ProtobufCBinaryData *v = (const ProtobufCBinaryData *)1;
    ck_assert(sc_op_photo_refs(op, &r) == (use != SC_PHOTOS_NONE));
    ck_assert_uint_eq(r.n, n);
    ck_assert_ptr_eq(r.n ? r.sha : NULL, sha);
    ck_assert_uint_eq(r.size, size);
    ck_assert_int_eq(r.use, use);
    ck_assert_uint_eq(sc_op_photos(op, &v), n);
    ck_assert_ptr_eq(v, sha);
}

START_TEST(photos_from_ops)
{
    ProtobufCBinaryData two[2] = {{SC_HASH_LEN, sha_a}, {SC_HASH_LEN, sha_b}};
    Scpb__Op op = SCPB__OP__INIT;

    Scpb__PhotoAttach pa = SCPB__PHOTO_ATTACH__INIT;
    pa.has_sha256 = true;
    pa.sha256 = two[0];
    pa.has_size = true;
    pa.size = 12345;
    op.body_case = SCPB__OP__BODY_PHOTO_ATTACH;
    op.photo_attach = &pa;
    expect_refs(&op, &pa.sha256, 1, 12345, SC_PHOTOS_BRINGS);
    pa.has_sha256 = false;
    expect_refs(&op, NULL, 0, 12345, SC_PHOTOS_BRINGS);

    Scpb__Revisit rv = SCPB__REVISIT__INIT;
    rv.n_evidence = 2;
    rv.evidence = two;
    op.body_case = SCPB__OP__BODY_REVISIT;
    op.revisit = &rv;
    expect_refs(&op, two, 2, 0, SC_PHOTOS_BRINGS);

    /* A submission lists the photos its inspection's attachments bring. */
    Scpb__InspectionSubmit sub = SCPB__INSPECTION_SUBMIT__INIT;
    sub.n_photos = 1;
    sub.photos = &two[1];
    op.body_case = SCPB__OP__BODY_INSPECTION_SUBMIT;
    op.inspection_submit = &sub;
    expect_refs(&op, &two[1], 1, 0, SC_PHOTOS_LISTS);

    Scpb__Note note = SCPB__NOTE__INIT;
    op.body_case = SCPB__OP__BODY_NOTE;
    op.note = &note;
    expect_refs(&op, NULL, 0, 0, SC_PHOTOS_NONE);
}
END_TEST

/* Exactly the kinds the data model names as naming photos (docs/data-model.md, photo_refs). */
START_TEST(which_kinds_name_photos)
{
    static const struct {
        Scpb__Op__BodyCase kind;
        sc_photo_use use;
    } want[] = {
        {SCPB__OP__BODY_PHOTO_ATTACH, SC_PHOTOS_BRINGS},
        {SCPB__OP__BODY_FINDING_CREATE, SC_PHOTOS_BRINGS},
        {SCPB__OP__BODY_RECTIFICATION_REPORT, SC_PHOTOS_BRINGS},
        {SCPB__OP__BODY_REVISIT, SC_PHOTOS_BRINGS},
        {SCPB__OP__BODY_INSPECTION_SUBMIT, SC_PHOTOS_LISTS},
        {SCPB__OP__BODY_ESCALATION, SC_PHOTOS_BRINGS},
        {SCPB__OP__BODY_SIGN_OFF, SC_PHOTOS_BRINGS},
    };
    size_t naming = 0;
    for (size_t i = 0; i < sc_opkinds_n; i++)
        naming += sc_opkinds[i].photos != SC_PHOTOS_NONE;
    ck_assert_uint_eq(naming, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_int_eq(sc_opkind_of(want[i].kind)->photos, want[i].use);
}
END_TEST

static Suite *opkind_suite(void)
{
    Suite *s = suite_create("opkind");
    const sct_case cases[] = {
        {"every_oneof_case_has_one_entry", every_oneof_case_has_one_entry},
        {"names_and_kinds_unique", names_and_kinds_unique},
        {"no_kind_outside_the_table", no_kind_outside_the_table},
        {"entries_are_coherent", entries_are_coherent},
        {"photos_from_ops", photos_from_ops},
        {"which_kinds_name_photos", which_kinds_name_photos},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(opkind_suite());
}
