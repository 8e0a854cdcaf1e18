/*
 * test_identity.c: the device key at rest: encrypted under a passphrase,
 * refused with a clear message when the passphrase is wrong or missing,
 * plain without one; enrollment refuses a second identity and leaves the
 * replica unenrolled when the server cannot be reached.  A replica made for
 * an enrollment that fails is gone once the handle is closed; one that was
 * there before stays.  The app's name sent with every request must be
 * printable ASCII.
 */
#include "fixture.h"

#include <sys/stat.h>

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

START_TEST(encrypted_key_needs_its_passphrase)
{
    fx f;
    fx_open_pass(&f, SCPB__ROLE__ROLE_INSPECTOR, "正确的口令 horse");
    fx_reopen(&f); /* a new process: the key is not loaded */
    char id[SC_ID_HEX_LEN];
    sc_check_params p = {.target = "T1", .kind = "spot", .disclosure = "open"};
    ck_assert_int_eq(sc_check_open(f.c, &p, id), SC_ERR_BAD_PASSPHRASE);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "passphrase"));
    ck_assert_int_eq(sc_client_unlock(f.c, "wrong", 5), SC_ERR_BAD_PASSPHRASE);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "wrong passphrase"));
    ck_assert_int_eq(sc_client_unlock(f.c, NULL, 0), SC_ERR_BAD_PASSPHRASE);
    ck_assert_int_eq(fx_count(&f, "outbox"), 0);
    const char *pass = "正确的口令 horse";
    ck_assert_int_eq(sc_client_unlock(f.c, pass, strlen(pass)), SC_OK);
    ck_assert_int_eq(sc_check_open(f.c, &p, id), SC_OK);
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(f.c, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert(json_is_true(json_object_get(o, "key_encrypted")));
    ck_assert_str_eq(json_string_value(json_object_get(o, "role")), "inspector");
    ck_assert_str_eq(json_string_value(json_object_get(o, "name")), "李");
    json_decref(o);
    /* The key file in the replica does not hold the seed in the clear. */
    uint8_t kf[SC_KEYFILE_MAX];
    size_t len = 0;
    ck_assert_int_eq(st_meta_get(f.c, "keyfile", kf, sizeof kf, &len), SC_OK);
    ck_assert(sc_keyfile_is_encrypted(kf, len));
    fx_close(&f);
}
END_TEST

START_TEST(plain_key_needs_nothing)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    fx_reopen(&f);
    char id[SC_ID_HEX_LEN];
    sc_check_params p = {.target = "T1", .kind = "spot", .disclosure = "open"};
    ck_assert_int_eq(sc_check_open(f.c, &p, id), SC_OK);
    ck_assert_int_eq(sc_client_unlock(f.c, "anything", 8), SC_OK);
    fx_close(&f);
}
END_TEST

START_TEST(enroll_twice_is_refused)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char *json = NULL;
    ck_assert_int_eq(sc_enroll(f.c, "http://127.0.0.1:9", "code", NULL, NULL, 0, &json),
                     SC_ERR_EXISTS);
    ck_assert_ptr_null(json);
    fx_close(&f);
}
END_TEST

START_TEST(enroll_unreachable_changes_nothing)
{
    fx_dir d;
    fx_dir_open(&d, "r.db");
    sc_client_options opt = {.retries = 1, .backoff_ms = 1, .timeout_ms = 2000};
    sc_client *c = NULL;
    ck_assert_int_eq(sc_client_open(d.db, &opt, &c, NULL, 0), SC_OK);
    char *json = NULL;
    /* Port 9 (discard) on loopback has no listener here: connection refused. */
    ck_assert_int_eq(sc_enroll(c, "http://127.0.0.1:9", "abc", "tab", "pw", 2, &json),
                     SC_ERR_NETWORK);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(c), "unreachable"));
    ck_assert_int_eq(sc_enroll(c, "ftp://x", "abc", NULL, NULL, 0, &json), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_client_status(c, &json), SC_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"enrolled\":false"));
    sc_json_free(c, json);
    sc_client_close(c);
    fx_dir_close(&d);
}
END_TEST

/* The app's name for the User-Agent: printable ASCII within 64 bytes, or none. */
START_TEST(app_name_is_checked)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    ck_assert_int_eq(sc_client_set_app(f.c, "tablet-app/2.3.1 (android 13)"), SC_OK);
    ck_assert_int_eq(sc_client_set_app(f.c, "app/1\r\nX-Spotcheck-Device: forged"),
                     SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "printable ASCII"));
    ck_assert_int_eq(sc_client_set_app(f.c, "检查/1"), SC_ERR_INVALID_ARG);
    char longname[80];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_int_eq(sc_client_set_app(f.c, longname), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "64 bytes"));
    ck_assert_int_eq(sc_client_set_app(f.c, NULL), SC_OK);
    ck_assert_int_eq(sc_client_set_app(NULL, "x/1"), SC_ERR_INVALID_ARG);
    fx_close(&f);
}
END_TEST

/*
 * SC_OPEN_ENROLL makes the replica and its photo store; closed without an
 * enrollment (one that failed, or none tried) all of it is removed: the
 * file, -wal, -shm and the store's directories.  A store directory that was
 * there before keeps its files.
 */
START_TEST(failed_enrollment_leaves_nothing)
{
    char dir[] = "/tmp/sc-client-XXXXXX", db[64], wal[80], shm[80], blobs[80], err[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/new.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    snprintf(shm, sizeof shm, "%s-shm", db);
    snprintf(blobs, sizeof blobs, "%s.blobs", db);
    sc_client_options opt = {.retries = UINT32_MAX, .timeout_ms = 2000};
    sc_client *c = NULL;
    ck_assert_int_eq(sc_client_open_v2(db, &opt, SC_OPEN_ENROLL, &c, err, sizeof err), SC_OK);
    ck_assert(exists(db) && exists(wal) && exists(blobs));
    char *json = NULL;
    ck_assert_int_eq(sc_enroll(c, "http://127.0.0.1:9", "abc", "tab", NULL, 0, &json),
                     SC_ERR_NETWORK);
    ck_assert_int_eq(sc_enroll(c, "ftp://x", "abc", NULL, NULL, 0, &json), SC_ERR_INVALID_ARG);
    sc_client_close(c);
    ck_assert(!exists(db) && !exists(wal) && !exists(shm) && !exists(blobs));

    /* Opened and closed with no enrollment tried: gone too. */
    ck_assert_int_eq(sc_client_open_v2(db, &opt, SC_OPEN_ENROLL, &c, err, sizeof err), SC_OK);
    sc_client_close(c);
    ck_assert(!exists(db) && !exists(blobs));

    /* A photo store that was there before keeps what it holds. */
    char photo[128];
    ck_assert_int_eq(mkdir(blobs, 0700), 0);
    snprintf(photo, sizeof photo, "%s/kept.jpg", blobs);
    FILE *fp = fopen(photo, "wb");
    fputs("photo", fp);
    fclose(fp);
    ck_assert_int_eq(sc_client_open_v2(db, &opt, SC_OPEN_ENROLL, &c, err, sizeof err), SC_OK);
    sc_client_close(c);
    ck_assert(!exists(db) && exists(photo));
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%s/tmp", blobs);
    ck_assert(!exists(tmp));
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/*
 * SC_OPEN_ENROLL on a replica that exists: an enrolled one refuses a second
 * enrollment and is kept whole; an unenrolled one (made by other means) is
 * kept too.  Only what the handle made is ever removed.
 */
START_TEST(enrollment_keeps_a_replica_that_existed)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char id[SC_ID_HEX_LEN];
    sc_check_params p = {.target = "T1", .kind = "spot", .disclosure = "open"};
    ck_assert_int_eq(sc_check_open(f.c, &p, id), SC_OK);
    long long ops = fx_count(&f, "ops");
    sc_client_close(f.c);
    char err[256];
    ck_assert_int_eq(sc_client_open_v2(f.db, &f.opt, SC_OPEN_ENROLL, &f.c, err, sizeof err), SC_OK);
    char *json = NULL;
    ck_assert_int_eq(sc_enroll(f.c, "http://127.0.0.1:9", "code", NULL, NULL, 0, &json),
                     SC_ERR_EXISTS);
    sc_client_close(f.c);
    ck_assert_int_eq(sc_client_open_v2(f.db, &f.opt, SC_OPEN_EXISTING, &f.c, err, sizeof err),
                     SC_OK);
    ck_assert_int_eq(fx_count(&f, "ops"), ops);
    ck_assert_int_eq(fx_count(&f, "outbox"), 1);

    char other[640];
    snprintf(other, sizeof other, "%s/unenrolled.db", f.dir);
    sc_client *c = NULL;
    ck_assert_int_eq(sc_client_open_v2(other, NULL, SC_OPEN_CREATE, &c, err, sizeof err), SC_OK);
    sc_client_close(c);
    ck_assert_int_eq(sc_client_open_v2(other, NULL, SC_OPEN_ENROLL, &c, err, sizeof err), SC_OK);
    sc_client_close(c);
    ck_assert(exists(other));
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("identity");
    const sct_case cases[] = {
        {"encrypted_key_needs_its_passphrase", encrypted_key_needs_its_passphrase},
        {"plain_key_needs_nothing", plain_key_needs_nothing},
        {"enroll_twice_is_refused", enroll_twice_is_refused},
        {"enroll_unreachable_changes_nothing", enroll_unreachable_changes_nothing},
        {"app_name_is_checked", app_name_is_checked},
        {"failed_enrollment_leaves_nothing", failed_enrollment_leaves_nothing},
        {"enrollment_keeps_a_replica_that_existed", enrollment_keeps_a_replica_that_existed},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
