/*
 * test_clock.c: libspotcheck signs requests with the server's clock
 * (client-lib/src/transport.c, docs/protocol.md §3), against a real syncd.
 * A tablet whose clock is ten minutes behind or ten seconds ahead of the
 * server's, outside what syncd takes, syncs in one sc_sync: a handle that
 * has not heard from the server yet has its first request refused
 * request_time and signs it again at once; every later request is right the
 * first time.  After syncd is killed and restarted, the same handle syncs in
 * one call, and its pushed work is in.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_server.h"
#include "spotcheck.h"

static sct_live L;             /* the register and its syncd, made anew for each test */
static int64_t tablet_skew_ms; /* the tablet's clock minus the real one */

static int64_t tablet_now(void *ctx)
{
    (void)ctx;
    return sct_now_ms() + tablet_skew_ms;
}

/* A handle on the replica `name` with the tablet's clock; enrolled as inspector1 when new. */
static sc_client *tablet(const char *name, bool enroll)
{
    sc_client_options o;
    memset(&o, 0, sizeof o);
    o.now_ms = tablet_now;
    o.backoff_ms = 10;
    char path[700], err[256];
    snprintf(path, sizeof path, "%s/%s.db", L.tmp, name);
    sc_client *c = NULL;
    ck_assert_msg(sc_client_open(path, &o, &c, err, sizeof err) == SC_OK, "%s", err);
    if (enroll) {
        char code[64];
        sct_fixture_code(L.data, "inspector1", code, sizeof code);
        ck_assert_msg(sc_enroll(c, L.srv.url, code, name, NULL, 0, NULL) == SC_OK, "enroll: %s",
                      sc_client_errmsg(c));
        /* The targets and the rest of what the user may see. */
        ck_assert_msg(sc_sync(c, NULL, NULL, NULL) == SC_OK, "first sync: %s",
                      sc_client_errmsg(c));
    }
    return c;
}

/* Lines of syncd's log refusing a request for its time. */
static unsigned time_refusals(void)
{
    FILE *f = fopen(L.srv.log, "r");
    ck_assert_ptr_nonnull(f);
    char line[8192];
    unsigned n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, "\"reason\":\"request_time\"") != NULL;
    fclose(f);
    return n;
}

/* Open an inspection and sync: one call, the op accepted. */
static void record_and_sync(sc_client *c, const char *what)
{
    char id[SC_ID_HEX_LEN];
    sc_check_params p = {.target = "T-JAHY", .kind = "spot", .disclosure = "open"};
    ck_assert_msg(sc_check_open(c, &p, id) == SC_OK, "%s: %s", what, sc_client_errmsg(c));
    char *json = NULL;
    ck_assert_msg(sc_sync(c, NULL, NULL, &json) == SC_OK, "%s: %s", what, sc_client_errmsg(c));
    ck_assert_msg(strstr(json, "\"accepted\":1") != NULL, "%s: %s", what, json);
    sc_json_free(c, json);
}

/* A clock off by skew_ms: enrolled, reopened (a handle that knows nothing), synced twice. */
static void off_by(int64_t skew_ms, const char *name)
{
    tablet_skew_ms = skew_ms;
    sc_client *c = tablet(name, true);
    /* Enrollment is unsigned, and its answer told the handle the server's time. */
    ck_assert_uint_eq(time_refusals(), 0);
    record_and_sync(c, name);
    ck_assert_uint_eq(time_refusals(), 0);
    sc_client_close(c);
    /* A new handle signs its first request with the tablet's clock: refused once, then right. */
    c = tablet(name, false);
    record_and_sync(c, name);
    ck_assert_uint_eq(time_refusals(), 1);
    record_and_sync(c, name);
    record_and_sync(c, name);
    ck_assert_uint_eq(time_refusals(), 1);
    sc_client_close(c);
}

START_TEST(clock_behind_the_server)
{
    off_by(-10 * 60 * 1000, "behind");
}
END_TEST

START_TEST(clock_ahead_of_the_server)
{
    off_by(10 * 1000, "ahead");
}
END_TEST

START_TEST(server_restarted)
{
    tablet_skew_ms = -10 * 60 * 1000;
    sc_client *c = tablet("restart", true);
    record_and_sync(c, "before the restart");
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)L.srv.port);
    const char *extra[] = {"--listen", listen, NULL};
    for (int clean = 0; clean < 2; clean++) {
        if (clean)
            ck_assert_int_eq(sct_server_stop(&L.srv), 0);
        else
            sct_server_kill(&L.srv);
        sct_server_start(&L.srv, L.data, extra);
        record_and_sync(c, clean ? "after a clean restart" : "after kill -9");
    }
    sc_client_close(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("client/clock");
    sct_live_use(&L);
    const sct_case cases[] = {
        {"clock_behind_the_server", clock_behind_the_server},
        {"clock_ahead_of_the_server", clock_ahead_of_the_server},
        {"server_restarted", server_restarted},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = sct_live_setup, .teardown = sct_live_teardown});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
