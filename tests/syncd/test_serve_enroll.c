/*
 * test_serve_enroll.c: enrollment against the real syncd binary: a code
 * enrolls a device once (reuse refused, a second key refused), the answer
 * carries a checkpoint signed by the server key it names, and a device
 * revoked by the admin is refused with 403 on its next request.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/checkpoint.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_server.h"

static sct_live L; /* the register and its syncd, made anew for each test */

START_TEST(enroll_once)
{
    sc_keypair *k1 = sct_key(1), *k2 = sct_key(2);
    sct_client c;
    sct_client_init(&c, L.srv.url, k1);
    char code[64];
    sct_fixture_code(L.data, "resp1", code, sizeof code);
    Scpb__EnrollResponse *er = NULL;
    /* A label is one line of text: admins see it in tables (syncd admin device list, admin
     * log), where a newline would forge a row and an escape sequence reach their terminal.
     * Refused before the code is spent. */
    ck_assert_int_eq(sct_enroll(&c, code, k1, "tab\n9999  2030-01-01 00:00  user role", NULL), 400);
    ck_assert_int_eq(sct_enroll(&c, code, k1, "\x1b]0;title\x07平板", NULL), 400);
    ck_assert_int_eq(sct_enroll(&c, code, k1, "物业平板", &er), 200);
    ck_assert_str_eq(er->login, "resp1");
    ck_assert_int_eq(er->role, SCPB__ROLE__ROLE_RESPONSIBLE);
    ck_assert_uint_eq(er->org.len, SC_ID_LEN);
    ck_assert(memcmp(er->org.data, L.fx.compound, SC_ID_LEN) == 0);
    ck_assert_uint_eq(er->device.len, SC_ID_LEN);
    ck_assert(er->has_server_time_ms);
    /* The checkpoint is signed by the key the answer names. */
    sc_checkpoint cp;
    sc_err err;
    ck_assert_ptr_nonnull(er->checkpoint);
    ck_assert_int_eq(sc_checkpoint_open(er->checkpoint->note, strlen(er->checkpoint->note),
                                        er->server_key.data, er->origin, &cp, &err),
                     SC_OK);
    ck_assert_uint_gt(cp.size, 0);
    scpb__enroll_response__free_unpacked(er, NULL);
    /* The code is spent for another key; the enrolled key is told so whatever the code. */
    ck_assert_int_eq(sct_enroll(&c, code, k2, NULL, NULL), 403);
    ck_assert_int_eq(sct_enroll(&c, code, k1, NULL, NULL), 409);
    /* The device can now make signed requests. */
    sct_resp r;
    ck_assert_int_eq(sct_request(&c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r), 200);
    sct_resp_dispose(&r);
    /* An unknown code reads the same as a used one. */
    ck_assert_int_eq(sct_enroll(&c, "AAAA-BBBB-CCCC-DDDD-EEEE", k2, NULL, NULL), 403);
    sct_client_dispose(&c);
    sc_keypair_free(k1);
    sc_keypair_free(k2);
}
END_TEST

START_TEST(revoked_device_refused)
{
    sc_keypair *k = sct_key(3);
    sct_client c;
    sct_client_init(&c, L.srv.url, k);
    Scpb__EnrollResponse *er = NULL;
    sct_fixture_enroll(L.data, &c, k, "inspector1", NULL, &er);
    uint8_t device[SC_ID_LEN];
    memcpy(device, er->device.data, SC_ID_LEN);
    scpb__enroll_response__free_unpacked(er, NULL);
    sct_resp r;
    ck_assert_int_eq(sct_request(&c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r), 200);
    sct_resp_dispose(&r);
    /* The admin revokes it while syncd runs: refused at once. */
    sct_fixture_revoke(L.data, device);
    sct_request(&c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(r.reason, "device_revoked");
    sct_resp_dispose(&r);
    ck_assert_int_eq(sct_sync(&c, NULL, 0, NULL, 0, 0, NULL), 403);
    sct_client_dispose(&c);
    sc_keypair_free(k);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/serve_enroll");
    sct_live_use(&L);
    const sct_case cases[] = {
        {"enroll_once", enroll_once},
        {"revoked_device_refused", revoked_device_refused},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){
                      .setup = sct_live_setup, .teardown = sct_live_teardown, .timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
