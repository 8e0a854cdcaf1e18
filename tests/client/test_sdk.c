/*
 * test_sdk.c: what an app embedding libspotcheck relies on besides the
 * recording and sync calls: the release it was built against and the one
 * it runs with, the one-time global initialisation, read-only handles
 * beside the writer, and structs that grow (spotcheck.h, "Structs that
 * grow") taken from older and newer headers.
 */
#include "fixture.h"

#include <pthread.h>
#include <sys/stat.h>

#include "sctest_server.h"

START_TEST(version_macros_are_the_library_release)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", SC_VERSION_MAJOR, SC_VERSION_MINOR, SC_VERSION_PATCH);
    ck_assert_str_eq(sc_version(), want);
    ck_assert_uint_eq(sc_version_number(), SC_VERSION_NUMBER);
    ck_assert_uint_eq(SC_VERSION_NUMBER,
                      SC_VERSION_MAJOR * 10000 + SC_VERSION_MINOR * 100 + SC_VERSION_PATCH);
    ck_assert_uint_eq(sc_protocol_version(), SC_PROTOCOL_VERSION);
}
END_TEST

static void *global_init_thread(void *arg)
{
    sc_status *out = arg;
    *out = sc_global_init();
    return NULL;
}

/* Threads racing to the first sc_global_init all get one initialisation's answer. */
START_TEST(global_init_once_from_many_threads)
{
    enum { N = 8 };
    pthread_t th[N];
    sc_status got[N];
    for (int i = 0; i < N; i++) {
        got[i] = SC_ERR_INTERNAL;
        ck_assert_int_eq(pthread_create(&th[i], NULL, global_init_thread, &got[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(got[i], SC_OK);
    }
    ck_assert_int_eq(sc_global_init(), SC_OK);
    /* And a handle opens after it (sc_client_open calls it again: a no-op). */
    sc_client *c = NULL;
    char err[256];
    ck_assert_int_eq(sc_client_open(":memory:", NULL, &c, err, sizeof err), SC_OK);
    sc_client_close(c);
}
END_TEST

/* Files under dir (the photo store), recursively. */
static int files_under(const char *dir)
{
    char cmd[256], out[32] = "";
    snprintf(cmd, sizeof cmd, "find '%s' -type f 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(out, sizeof out, p));
    pclose(p);
    return atoi(out);
}

static sc_client *open_ro(const char *db)
{
    sc_client *r = NULL;
    char err[256];
    sc_status s = sc_client_open_v2(db, NULL, SC_OPEN_READONLY, &r, err, sizeof err);
    ck_assert_msg(s == SC_OK, "read-only open: %s", err);
    return r;
}

/* The handle's message after a refused write: read-only, naming the call. */
static void refused(sc_client *r, sc_status s, const char *what)
{
    ck_assert_int_eq(s, SC_ERR_READ_ONLY);
    ck_assert_msg(strstr(sc_client_errmsg(r), what) && strstr(sc_client_errmsg(r), "read-only"),
                  "%s", sc_client_errmsg(r));
}

/*
 * A read-only handle beside the writer: every query answers, and sees what
 * the writer commits; every call that would change the replica is refused
 * with SC_ERR_READ_ONLY before it does anything (no op, no photo copied,
 * no request sent).
 */
START_TEST(read_only_handle_reads_beside_the_writer)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", "2026-12-01", fid);
    sc_client *r = open_ro(f.db);
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(r, &json), SC_OK);
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(r, json);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "outbox")), 2);
    ck_assert(json_is_true(json_object_get(o, "enrolled")));
    json_decref(o);
    ck_assert_int_eq(sc_list(r, "findings", NULL, &json), SC_OK);
    ck_assert_ptr_nonnull(strstr(json, fid));
    sc_json_free(r, json);
    ck_assert_int_eq(sc_show(r, fid, &json), SC_OK);
    sc_json_free(r, json);
    ck_assert_int_eq(sc_review(r, &json), SC_OK);
    sc_json_free(r, json);
    ck_assert_int_eq(sc_conflicts(r, &json), SC_OK);
    sc_json_free(r, json);
    ck_assert_int_eq(sc_outbox(r, 0, &json), SC_OK);
    sc_json_free(r, json);
    ck_assert_int_eq(sc_verify_replica(r, &json), SC_OK);
    sc_json_free(r, json);

    /* The writer commits; the reader's next query sees it. */
    ck_assert_int_eq(sc_note_add(f.c, fid, "门岗已整改"), SC_OK);
    ck_assert_int_eq(sc_show(r, fid, &json), SC_OK);
    ck_assert_ptr_nonnull(strstr(json, "门岗已整改"));
    sc_json_free(r, json);

    /* Writes are refused, and change nothing. */
    char photo[700], blobs[700], id[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN];
    snprintf(photo, sizeof photo, "%s/p.jpg", f.dir);
    snprintf(blobs, sizeof blobs, "%s.blobs", f.db);
    FILE *fp = fopen(photo, "wb");
    fputs("\xff\xd8\xff\xe0 a photo", fp);
    fclose(fp);
    int stored = files_under(blobs);
    ck_assert_int_eq(sc_client_unlock(r, NULL, 0), SC_OK); /* a plain key loads; it signs nothing */
    refused(r, sc_note_add(r, fid, "x"), "recording");
    refused(r, sc_photo_add(r, fid, photo, NULL, sha), "recording");
    sc_check_params cp = {.target = "T1", .kind = "spot", .disclosure = "open"};
    refused(r, sc_check_open(r, &cp, id), "recording");
    refused(r, sc_close(r, fid, NULL), "recording");
    refused(r, sc_sync(r, NULL, NULL, &json), "sc_sync");
    ck_assert_ptr_null(json);
    refused(r, sc_sync_v2(r, NULL, NULL, NULL), "sc_sync");
    refused(r, sc_server_set_url(r, "http://127.0.0.1:9", NULL), "sc_server_set_url");
    refused(r, sc_enroll(r, "http://127.0.0.1:9", "code", NULL, NULL, 0, NULL), "sc_enroll");
    ck_assert_int_eq(files_under(blobs), stored);
    ck_assert_int_eq(fx_count(&f, "outbox"), 3);
    sc_client_close(r);

    /* The writer goes on as before. */
    ck_assert_int_eq(sc_note_add(f.c, fid, "复查通过"), SC_OK);
    ck_assert_int_eq(fx_count(&f, "outbox"), 4);
    fx_close(&f);
}
END_TEST

/* A read-only open never makes anything: a missing path, a file that is not a replica. */
START_TEST(read_only_open_makes_nothing)
{
    char dir[512], db[600], err[256];
    sct_tempdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/typo.db", dir);
    sc_client *r = NULL;
    ck_assert_int_eq(sc_client_open_v2(db, NULL, SC_OPEN_READONLY, &r, err, sizeof err),
                     SC_ERR_NOT_FOUND);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(err, "no replica at"));
    ck_assert_int_eq(files_under(dir), 0);
    FILE *fp = fopen(db, "wb");
    fclose(fp);
    ck_assert_int_eq(sc_client_open_v2(db, NULL, SC_OPEN_READONLY, &r, err, sizeof err),
                     SC_ERR_STORAGE);
    ck_assert_ptr_nonnull(strstr(err, "is not a Spotcheck replica"));
    ck_assert_int_eq(files_under(dir), 1);
    struct stat sb;
    ck_assert_int_eq(stat(db, &sb), 0);
    ck_assert_int_eq(sb.st_size, 0);
    sct_rmtree(dir);
}
END_TEST

/* A struct from a header newer than this library: the same fields, then some it does not know. */
typedef struct newer_check_params {
    sc_check_params_v2 p;
    uint64_t later[3];
} newer_check_params;

/*
 * Structs that grow: a size from an older header takes the defaults for
 * what it lacks, one from a newer header is taken when what the library
 * does not know is zero, and a size that cannot be right is refused with
 * the struct named, before anything is recorded.
 */
START_TEST(sized_structs_take_older_and_newer_headers)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char id[SC_ID_HEX_LEN], *json = NULL;
    sc_check_params_v2 cp = {.size = sizeof cp, .target = "T1", .kind = "spot",
                             .disclosure = "open", .template_ = "SHEET"};
    ck_assert_msg(sc_check_open_v2(f.c, &cp, id) == SC_OK, "%s", sc_client_errmsg(f.c));
    long long ops = fx_count(&f, "ops");

    cp.size = 0;
    ck_assert_int_eq(sc_check_open_v2(f.c, &cp, id), SC_ERR_INVALID_ARG);
    ck_assert_str_eq(id, "");
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "sc_check_params_v2.size is 0: set it to "
                                                        "sizeof(sc_check_params_v2)"));
    cp.size = offsetof(sc_check_params_v2, assignment); /* shorter than its first release */
    ck_assert_int_eq(sc_check_open_v2(f.c, &cp, id), SC_ERR_INVALID_ARG);
    cp.size = SC_CL_STRUCT_MAX + 1;
    ck_assert_int_eq(sc_check_open_v2(f.c, &cp, id), SC_ERR_INVALID_ARG);

    newer_check_params n = {.p = cp};
    n.p.size = sizeof n;
    ck_assert_msg(sc_check_open_v2(f.c, &n.p, id) == SC_OK, "%s", sc_client_errmsg(f.c));
    ck_assert_int_eq(fx_count(&f, "ops"), ops + 1);
    n.later[1] = 7; /* a field this library does not know, set */
    ck_assert_int_eq(sc_check_open_v2(f.c, &n.p, id), SC_ERR_INVALID_ARG);
    ck_assert_msg(strstr(sc_client_errmsg(f.c), "sets fields past the") &&
                      strstr(sc_client_errmsg(f.c), sc_version()) &&
                      strstr(sc_client_errmsg(f.c), "newer spotcheck.h"),
                  "%s", sc_client_errmsg(f.c));
    ck_assert_int_eq(fx_count(&f, "ops"), ops + 1);

    /* The calls of 0.1 and their sized twins make the same records. */
    const char *who[] = {"li"};
    sc_assign_params_v2 ap = {.size = sizeof ap, .target = "T1", .inspectors = who,
                              .ninspectors = 1, .kind = "spot", .disclosure = "unannounced",
                              .due = "2026-12-01"};
    char asg[SC_ID_HEX_LEN], asg1[SC_ID_HEX_LEN];
    ck_assert_msg(sc_assign_v2(f.c, &ap, asg) == SC_OK, "%s", sc_client_errmsg(f.c));
    sc_assign_params ap1 = {.target = "T1", .inspectors = who, .ninspectors = 1, .kind = "spot",
                            .disclosure = "unannounced", .due = "2026-12-01"};
    ck_assert_int_eq(sc_assign(f.c, &ap1, asg1), SC_OK);
    sc_check_params_v2 from = {.size = sizeof from, .assignment = asg};
    ck_assert_msg(sc_check_open_v2(f.c, &from, id) == SC_OK, "%s", sc_client_errmsg(f.c));
    sc_finding_params_v2 fp = {.size = sizeof fp, .check = id, .description = "消防通道堵塞",
                               .grade = "general", .deadline = "2026-11-01"};
    char fid[SC_ID_HEX_LEN];
    ck_assert_msg(sc_finding_add_v2(f.c, &fp, fid) == SC_OK, "%s", sc_client_errmsg(f.c));
    sc_filter_v2 fl = {.size = sizeof fl, .overdue = 1, .flags = SC_LIST_WITH_VOIDED};
    ck_assert_int_eq(sc_list_v3(f.c, "findings", &fl, &json), SC_OK);
    sc_filter old = {.overdue = 1};
    char *json1 = NULL;
    ck_assert_int_eq(sc_list_v2(f.c, "findings", &old, SC_LIST_WITH_VOIDED, &json1), SC_OK);
    ck_assert_ptr_nonnull(strstr(json, fid));
    ck_assert_str_eq(json, json1);
    sc_json_free(f.c, json);
    sc_json_free(f.c, json1);
    ck_assert_int_eq(sc_list_v3(f.c, "assignments", NULL, &json), SC_OK);
    ck_assert(strstr(json, asg) && strstr(json, asg1));
    sc_json_free(f.c, json);
    fl.flags = 8;
    ck_assert_int_eq(sc_list_v3(f.c, "findings", &fl, &json), SC_ERR_INVALID_ARG);
    fl.size = 3;
    ck_assert_int_eq(sc_list_v3(f.c, "findings", &fl, &json), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "sc_filter_v2.size is 3"));
    fx_close(&f);
}
END_TEST

/* sc_client_open_v3: NULL options open what exists; bad options say why, with no handle. */
START_TEST(open_v3_options)
{
    char dir[512], db[600], err[256];
    sct_tempdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    sc_client *c = NULL;
    ck_assert_int_eq(sc_client_open_v3(db, NULL, &c, err, sizeof err), SC_ERR_NOT_FOUND);
    ck_assert_int_eq(files_under(dir), 0);
    sc_open_options o = {.size = sizeof o, .mode = SC_OPEN_CREATE, .busy_ms = 3600001};
    ck_assert_int_eq(sc_client_open_v3(db, &o, &c, err, sizeof err), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(err, "busy_ms"));
    o.size = 1;
    ck_assert_int_eq(sc_client_open_v3(db, &o, &c, err, sizeof err), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(err, "sc_open_options.size is 1"));
    ck_assert_ptr_null(c);
    o.size = sizeof o;
    o.busy_ms = 250;
    o.client.timeout_ms = 1000;
    ck_assert_int_eq(sc_client_open_v3(db, &o, &c, err, sizeof err), SC_OK);
    sc_client_close(c);
    o.mode = SC_OPEN_READONLY;
    ck_assert_int_eq(sc_client_open_v3(db, &o, &c, err, sizeof err), SC_OK);
    ck_assert_int_eq(sc_note_add(c, "00000000000000000000000000000000", "x"), SC_ERR_READ_ONLY);
    sc_client_close(c);
    sct_rmtree(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sdk");
    const sct_case cases[] = {
        {"version_macros_are_the_library_release", version_macros_are_the_library_release},
        {"global_init_once_from_many_threads", global_init_once_from_many_threads},
        {"read_only_handle_reads_beside_the_writer", read_only_handle_reads_beside_the_writer},
        {"read_only_open_makes_nothing", read_only_open_makes_nothing},
        {"sized_structs_take_older_and_newer_headers", sized_structs_take_older_and_newer_headers},
        {"open_v3_options", open_v3_options},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
