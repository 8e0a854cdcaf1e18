/*
 * test_sdk.c: what an app embedding libspotcheck relies on besides the
 * recording and sync calls: the release it was built against and the one
 * it runs with, and the one-time global initialisation.
 */
#include "fixture.h"

#include <pthread.h>

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

static Suite *suite(void)
{
    Suite *s = suite_create("sdk");
    const sct_case cases[] = {
        {"version_macros_are_the_library_release", version_macros_are_the_library_release},
        {"global_init_once_from_many_threads", global_init_once_from_many_threads},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
