/*
 * query_sign.c: the inspected unit's sign-offs as `show` gives them
 * (docs/client.md): each sign-off with the representative's name and post,
 * when and where it was signed, and its drawn signature, the photo of the
 * inspection with that hash (its size, time and place, and whether it is
 * in the local store); each countersign with its signer.  In fold order,
 * as the state keeps them.
 */
#include <string.h>

#include "internal.h"

/* A position as query.c gives it: {"lat_e7","lon_e7"}, or null. */
static json_t *jgeo(const Scpb__Geo *g)
{
    if (!g || !g->has_lat_e7 || !g->has_lon_e7)
        return json_null();
    return json_pack("{s:i,s:i}", "lat_e7", g->lat_e7, "lon_e7", g->lon_e7);
}

/* The signature photo: the first attachment with its hash (a photo is its bytes), or null. */
static json_t *signature_json(sc_client *c, const Scpb__EntityState *st,
                              const ProtobufCBinaryData *sha)
{
    if (sha->len != SC_HASH_LEN)
        return json_null();
    json_t *o = json_pack("{s:o,s:b}", "sha256", qr_jhex(sha->data, sha->len), "present",
                          (int)bl_present(c, sha->data));
    for (size_t i = 0; o && i < st->n_photos; i++) {
        const Scpb__Attachment *a = st->photos[i];
        if (a->sha256.len != SC_HASH_LEN || memcmp(a->sha256.data, sha->data, SC_HASH_LEN) != 0)
            continue;
        json_object_set_new(o, "size", json_integer((json_int_t)a->size));
        json_object_set_new(o, "mime", qr_jstr(a->mime));
        json_object_set_new(o, "captured_ms",
                            a->has_captured_ms ? json_integer(a->captured_ms) : json_null());
        json_object_set_new(o, "time_source",
                            !a->has_time_source                              ? json_null()
                            : a->time_source == SCPB__TIME_SOURCE__TIME_EXIF ? json_string("exif")
                                                                             : json_string("file"));
        json_object_set_new(o, "gps", jgeo(a->geo));
        break;
    }
    return o;
}

json_t *qr_sign_offs(sc_client *c, const Scpb__EntityState *st)
{
    json_t *a = json_array();
    const Scpb__InspectionState *in =
        st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION ? st->inspection : NULL;
    for (size_t i = 0; a && in && i < in->n_sign_offs; i++) {
        const Scpb__SignOffEntry *e = in->sign_offs[i];
        json_t *o =
            json_pack("{s:s,s:o,s:o,s:I,s:o}", "kind", e->countersign ? "countersign" : "sign_off",
                      "op", qr_jbin(&e->op, e->has_op), "by", qr_jbin(&e->by, e->has_by), "hlc",
                      (json_int_t)e->hlc, "gps", jgeo(e->geo));
        if (!o)
            continue;
        if (e->countersign) {
            json_object_set_new(o, "signer", qr_jbin(&e->signer, e->has_signer));
            json_object_set_new(o, "signer_login", qr_jref(c, &e->signer, e->has_signer));
            json_object_set_new(o, "note", qr_jstr(e->note));
        } else {
            json_object_set_new(o, "name", qr_jstr(e->name));
            json_object_set_new(o, "role", qr_jstr(e->role));
            json_object_set_new(o, "signed_ms", json_integer(e->signed_ms));
            json_object_set_new(o, "signature", signature_json(c, st, &e->signature));
        }
        json_array_append_new(a, o);
    }
    return a;
}
