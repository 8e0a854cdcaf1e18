/*
 * test_serve_config.c: the syncd command line and its settings: usage
 * errors exit 2, deploy/syncd.conf.example loads as shipped, a bad setting
 * stops start-up with the line that is wrong, and a running server answers
 * /healthz and /metrics.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_server.h"

static char tmp[512], data[600];

static void setup(void)
{
    sct_tempdir(tmp, sizeof tmp);
    snprintf(data, sizeof data, "%s/data", tmp);
}

static void teardown(void)
{
    sct_rmtree(tmp);
}

START_TEST(usage)
{
    char out[4096];
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, NULL, NULL), 2);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "frobnicate", NULL), 2);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "--help", NULL), 0);
    ck_assert(strstr(out, "serve") != NULL && strstr(out, "audit") != NULL);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "serve", NULL), 2);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "serve", "--data", data, "extra", NULL), 2);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "serve", "--bogus", NULL), 2);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "serve", "--help", NULL), 0);
    ck_assert(strstr(out, "--listen") != NULL);
    ck_assert_int_eq(
        sct_syncd_run(out, sizeof out, "serve", "--data", data, "--listen", "nonsense", NULL), 2);
    /* A data directory that was never made: refused, exit 1. */
    ck_assert_int_eq(
        sct_syncd_run(out, sizeof out, "serve", "--data", data, "--listen", "127.0.0.1:0", NULL), 1);
}
END_TEST

START_TEST(example_config_loads)
{
    sct_fixture fx;
    sct_fixture_make(&fx, data);
    char conf[1024];
    snprintf(conf, sizeof conf, "%s/deploy/syncd.conf.example", SC_SOURCE_DIR);
    const char *const extra[] = {"--config", conf, NULL};
    sct_server srv;
    /* --listen 127.0.0.1:0 from the helper overrides the file's 8080. */
    sct_server_start(&srv, data, extra);
    sct_client c;
    sct_client_init(&c, srv.url, NULL);
    sct_resp r;
    ck_assert_int_eq(sct_request(&c, "GET", "/healthz", NULL, 0, NULL, NULL, &r), 200);
    ck_assert_str_eq((char *)r.body, "ok\n");
    sct_resp_dispose(&r);
    ck_assert_int_eq(sct_request(&c, "GET", "/metrics", NULL, 0, NULL, NULL, &r), 200);
    ck_assert(strstr((char *)r.body, "\nsyncd_log_size ") != NULL);
    ck_assert(strstr((char *)r.body, "syncd_http_requests_total{code=\"200\"} 1") != NULL);
    sct_resp_dispose(&r);
    sct_client_dispose(&c);
    ck_assert_int_eq(sct_server_stop(&srv), 0);
    /* The log is JSON lines with the listening event. */
    ck_assert(sct_server_log_has(&srv, "\"msg\":\"listening\""));
}
END_TEST

/* syncd serve with the settings text: refused at start-up, exit 2. */
static void refused_settings(const char *text)
{
    char conf[700], out[4096];
    snprintf(conf, sizeof conf, "%s/bad.conf", tmp);
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "serve", "--data", data, "--listen",
                                   "127.0.0.1:0", "--config", conf, NULL),
                     2);
}

START_TEST(bad_setting_stops_startup)
{
    sct_fixture fx;
    sct_fixture_make(&fx, data);
    refused_settings("# fine\nhttp.threads = 2\nsync.batch_max = 0\n");
    refused_settings("htp.threads = 2\n");
    /* Settings that contradict each other: a largest photo that no device could ever upload. */
    refused_settings("blobs.max_size = 1048576\nblobs.partial_max_bytes = 1048575\n");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/serve_config");
    const sct_case cases[] = {
        {"usage", usage},
        {"example_config_loads", example_config_loads},
        {"bad_setting_stops_startup", bad_setting_stops_startup},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown, .timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
