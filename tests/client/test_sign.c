/*
 * test_sign.c: the inspected unit's sign-off through the API
 * (client-lib/src/signoff.c): the sized structs (absent, of no size, of a
 * newer header than the library knows), the fields a sign-off needs, a
 * draft refused before the signature is copied, coordinates off the globe,
 * the role that may countersign; then a sign-off on the submitted check,
 * its signature a photo of the check waiting for upload, and `show` with
 * its name, post, time, place and signature.  Every refusal records
 * nothing.
 */
#include "fixture.h"

/* A small PNG-looking file (its magic) in the fixture's dir; its path into path. */
static void signature_file(fx *f, char *path, size_t cap)
{
    snprintf(path, cap, "%s/signature.png", f->dir);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs("\x89PNG\r\n\x1a\n 王建国", fp);
    ck_assert_int_eq(fclose(fp), 0);
}

START_TEST(a_sign_off_through_the_api)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], op[SC_HASH_HEX_LEN], path[700];
    fx_check(&f, check);
    signature_file(&f, path, sizeof path);
    long long before = fx_count(&f, "outbox");
    sc_sign_off_params p = {
        .size = sizeof p, .name = "王建国", .role = "物业经理", .signature = path};

    ck_assert_int_eq(sc_check_sign_off(f.c, check, NULL, op), SC_ERR_INVALID_ARG);
    ck_assert_str_eq(op, "");
    sc_sign_off_params none = {.size = 0};
    ck_assert_int_eq(sc_check_sign_off(f.c, check, &none, op), SC_ERR_INVALID_ARG);
    sc_sign_off_params unnamed = p;
    unnamed.name = "";
    ck_assert_int_eq(sc_check_sign_off(f.c, check, &unnamed, op), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "the representative's name"));
    ck_assert_int_eq(sc_check_sign_off(f.c, check, &p, op), SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "is a draft: its unit signs it off"));
    ck_assert_int_eq(sc_check_countersign(f.c, check, NULL, op), SC_ERR_FORBIDDEN);
    ck_assert_int_eq(fx_count(&f, "outbox"), before);
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 0);

    ck_assert_msg(sc_check_submit(f.c, check, NULL) == SC_OK, "%s", sc_client_errmsg(f.c));
    before = fx_count(&f, "outbox");
    sc_sign_off_params off = p;
    off.has_gps = 1;
    off.lat_e7 = 950000000;
    ck_assert_int_eq(sc_check_sign_off(f.c, check, &off, op), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "off the globe"));
    ck_assert_int_eq(fx_count(&f, "outbox"), before);
    off.lat_e7 = 322049000;
    off.lon_e7 = 1187851000;
    ck_assert_msg(sc_check_sign_off(f.c, check, &off, op) == SC_OK, "%s", sc_client_errmsg(f.c));
    ck_assert_uint_eq(strlen(op), 64);
    /* The signature's photo and the sign-off: two ops; the photo waits for the sync. */
    ck_assert_int_eq(fx_count(&f, "outbox"), before + 2);
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 1);

    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    json_t *so = json_object_get(o, "sign_offs");
    ck_assert_uint_eq(json_array_size(so), 1);
    json_t *e = json_array_get(so, 0);
    ck_assert_str_eq(json_string_value(json_object_get(e, "kind")), "sign_off");
    ck_assert_str_eq(json_string_value(json_object_get(e, "op")), op);
    ck_assert_str_eq(json_string_value(json_object_get(e, "name")), "王建国");
    ck_assert_str_eq(json_string_value(json_object_get(e, "role")), "物业经理");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(e, "gps"), "lat_e7")),
                     322049000);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "signed_ms")), f.t.now_ms);
    json_t *sig = json_object_get(e, "signature");
    ck_assert(json_is_true(json_object_get(sig, "present")));
    ck_assert_str_eq(json_string_value(json_object_get(sig, "time_source")), "file");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(sig, "gps"), "lon_e7")),
                     1187851000);
    json_decref(o);
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sign");
    const sct_case cases[] = {
        {"sign_off", a_sign_off_through_the_api},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
