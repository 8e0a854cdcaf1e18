/*
 * test_metrics.c: the Prometheus registry: names, labels, histogram
 * buckets, the text format line by line, and exact counts under threads.
 */
#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ids.h"

#include "base/metrics.h"
#include "sctest.h"
#include "sctest_server.h"

/* True when text has a line exactly equal to want. */
static bool has_line(const char *text, const char *want)
{
    size_t wl = strlen(want);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n == wl && memcmp(p, want, n) == 0)
            return true;
        p += n + (nl ? 1 : 0);
    }
    return false;
}

static char *render(bool gauges)
{
    sd_metrics_gauges g = {
        .valid = gauges, .log_size = 42, .entities = 7, .devices = 3, .checkpoints = 11};
    size_t len = 0;
    char *text = sd_metrics_render(&g, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(strlen(text), len);
    return text;
}

START_TEST(counters_and_labels)
{
    sd_metrics_reset();
    sd_metrics_op(1, 0);
    sd_metrics_op(1, 0);
    sd_metrics_op(2, 0);
    sd_metrics_op(3, 3);  /* bad_signature */
    sd_metrics_op(3, 17); /* bad_field */
    sd_metrics_op(3, 17);
    sd_metrics_http(200);
    sd_metrics_http(200);
    sd_metrics_http(413);
    sd_metrics_http(42); /* out of range: ignored */
    sd_metrics_blob_stored(1000);
    sd_metrics_blob_stored(24);
    sd_metrics_blob_upload(4096);
    char *t = render(true);
    ck_assert(has_line(t, "# TYPE syncd_ops_accepted_total counter"));
    ck_assert(has_line(t, "syncd_ops_accepted_total 2"));
    ck_assert(has_line(t, "syncd_ops_duplicate_total 1"));
    ck_assert(has_line(t, "syncd_ops_rejected_total{reason=\"bad_signature\"} 1"));
    ck_assert(has_line(t, "syncd_ops_rejected_total{reason=\"bad_field\"} 2"));
    ck_assert(has_line(t, "syncd_ops_rejected_total{reason=\"malformed\"} 0"));
    ck_assert(has_line(t, "syncd_http_requests_total{code=\"200\"} 2"));
    ck_assert(has_line(t, "syncd_http_requests_total{code=\"413\"} 1"));
    ck_assert(strstr(t, "code=\"42\"") == NULL);
    ck_assert(has_line(t, "syncd_blobs_stored_total 2"));
    ck_assert(has_line(t, "syncd_blobs_stored_bytes_total 1024"));
    ck_assert(has_line(t, "syncd_blob_upload_bytes_total 4096"));
    ck_assert(has_line(t, "syncd_log_size 42"));
    ck_assert(has_line(t, "syncd_entities 7"));
    ck_assert(has_line(t, "syncd_devices 3"));
    ck_assert(has_line(t, "syncd_checkpoints 11"));
    free(t);
}
END_TEST

START_TEST(gauges_omitted_when_register_unreadable)
{
    sd_metrics_reset();
    char *t = render(false);
    ck_assert(strstr(t, "syncd_log_size") == NULL);
    ck_assert(strstr(t, "syncd_devices") == NULL);
    ck_assert(has_line(t, "syncd_ops_accepted_total 0"));
    free(t);
}
END_TEST

START_TEST(histograms)
{
    sd_metrics_reset();
    sd_metrics_sync(0.0005); /* le 0.001 */
    sd_metrics_sync(0.003);  /* le 0.005 */
    sd_metrics_sync(0.003);
    sd_metrics_sync(20);     /* only +Inf */
    sd_metrics_commit(1);
    sd_metrics_commit(150);  /* le 200 */
    sd_metrics_commit(99999);
    char *t = render(true);
    ck_assert(has_line(t, "# TYPE syncd_sync_duration_seconds histogram"));
    ck_assert(has_line(t, "syncd_sync_duration_seconds_bucket{le=\"0.001\"} 1"));
    ck_assert(has_line(t, "syncd_sync_duration_seconds_bucket{le=\"0.0025\"} 1"));
    ck_assert(has_line(t, "syncd_sync_duration_seconds_bucket{le=\"0.005\"} 3"));
    ck_assert(has_line(t, "syncd_sync_duration_seconds_bucket{le=\"10\"} 3"));
    ck_assert(has_line(t, "syncd_sync_duration_seconds_bucket{le=\"+Inf\"} 4"));
    ck_assert(has_line(t, "syncd_sync_duration_seconds_count 4"));
    ck_assert(has_line(t, "syncd_sync_duration_seconds_sum 20.006500"));
    ck_assert(has_line(t, "syncd_sync_requests_total 4"));
    ck_assert(has_line(t, "syncd_ingest_commits_total 3"));
    ck_assert(has_line(t, "syncd_commit_ops_bucket{le=\"1\"} 1"));
    ck_assert(has_line(t, "syncd_commit_ops_bucket{le=\"100\"} 1"));
    ck_assert(has_line(t, "syncd_commit_ops_bucket{le=\"200\"} 2"));
    ck_assert(has_line(t, "syncd_commit_ops_bucket{le=\"10000\"} 2"));
    ck_assert(has_line(t, "syncd_commit_ops_bucket{le=\"+Inf\"} 3"));
    ck_assert(has_line(t, "syncd_commit_ops_sum 100150"));
    free(t);
}
END_TEST

/* The write lock's wait and hold, each a histogram in seconds. */
START_TEST(write_lock_histograms)
{
    sd_metrics_reset();
    sd_metrics_write_lock(0.00005, 0.0004); /* wait le 0.0001, hold le 0.0005 */
    sd_metrics_write_lock(0.2, 0.003);      /* wait le 0.25, hold le 0.005 */
    sd_metrics_write_lock(3, 9);            /* both only +Inf */
    char *t = render(true);
    ck_assert(has_line(t, "# TYPE syncd_register_lock_wait_seconds histogram"));
    ck_assert(has_line(t, "syncd_register_lock_wait_seconds_bucket{le=\"0.0001\"} 1"));
    ck_assert(has_line(t, "syncd_register_lock_wait_seconds_bucket{le=\"0.1\"} 1"));
    ck_assert(has_line(t, "syncd_register_lock_wait_seconds_bucket{le=\"0.25\"} 2"));
    ck_assert(has_line(t, "syncd_register_lock_wait_seconds_bucket{le=\"2.5\"} 2"));
    ck_assert(has_line(t, "syncd_register_lock_wait_seconds_bucket{le=\"+Inf\"} 3"));
    ck_assert(has_line(t, "syncd_register_lock_wait_seconds_sum 3.200050"));
    ck_assert(has_line(t, "# TYPE syncd_register_lock_hold_seconds histogram"));
    ck_assert(has_line(t, "syncd_register_lock_hold_seconds_bucket{le=\"0.00025\"} 0"));
    ck_assert(has_line(t, "syncd_register_lock_hold_seconds_bucket{le=\"0.0005\"} 1"));
    ck_assert(has_line(t, "syncd_register_lock_hold_seconds_bucket{le=\"0.005\"} 2"));
    ck_assert(has_line(t, "syncd_register_lock_hold_seconds_bucket{le=\"+Inf\"} 3"));
    ck_assert(has_line(t, "syncd_register_lock_hold_seconds_sum 9.003400"));
    ck_assert(has_line(t, "syncd_register_lock_hold_seconds_count 3"));
    free(t);
}
END_TEST

/* Every line is a HELP/TYPE comment or `name{labels} value` (text format 0.0.4). */
START_TEST(text_format)
{
    sd_metrics_reset();
    sd_metrics_op(3, 12);
    sd_metrics_http(503);
    sd_metrics_sync(0.2);
    char *t = render(true);
    size_t lines = 0;
    for (char *line = t; *line;) {
        char *nl = strchr(line, '\n');
        ck_assert_msg(nl != NULL, "the last line ends with a newline");
        *nl = '\0';
        lines++;
        if (line[0] == '#') {
            ck_assert_msg(strncmp(line, "# HELP syncd_", 13) == 0 ||
                              strncmp(line, "# TYPE syncd_", 13) == 0,
                          "bad comment: %s", line);
            if (strncmp(line, "# TYPE ", 7) == 0) {
                const char *type = strrchr(line, ' ') + 1;
                ck_assert_msg(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
                                  strcmp(type, "histogram") == 0,
                              "bad type: %s", line);
            }
        } else {
            const char *p = line;
            ck_assert_msg(isalpha((unsigned char)*p) || *p == '_', "bad name: %s", line);
            while (isalnum((unsigned char)*p) || *p == '_' || *p == ':')
                p++;
            if (*p == '{') {
                const char *close = strchr(p, '}');
                ck_assert_msg(close != NULL, "unclosed labels: %s", line);
                ck_assert_msg(strstr(p, "=\"") != NULL, "label without a quoted value: %s", line);
                p = close + 1;
            }
            ck_assert_msg(*p == ' ', "no space before the value: %s", line);
            char *end = NULL;
            strtod(p + 1, &end);
            ck_assert_msg(end && *end == '\0' && end != p + 1, "bad value: %s", line);
        }
        line = nl + 1;
    }
    ck_assert_uint_gt(lines, 50);
    free(t);
}
END_TEST

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        sd_metrics_op(1, 0);
        sd_metrics_op(3, 9);
        sd_metrics_http(202);
        sd_metrics_commit(3);
        sd_metrics_sync(0.01);
    }
    return NULL;
}

START_TEST(exact_under_threads)
{
    sd_metrics_reset();
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *t = render(true);
    ck_assert(has_line(t, "syncd_ops_accepted_total 400000"));
    ck_assert(has_line(t, "syncd_ops_rejected_total{reason=\"invalid_transition\"} 400000"));
    ck_assert(has_line(t, "syncd_http_requests_total{code=\"202\"} 400000"));
    ck_assert(has_line(t, "syncd_ingest_commits_total 400000"));
    ck_assert(has_line(t, "syncd_commit_ops_sum 1200000"));
    ck_assert(has_line(t, "syncd_sync_duration_seconds_count 400000"));
    free(t);
}
END_TEST

/* ---- who may read them ---- */

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

static struct sockaddr_in6 v6(const char *ip)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return a;
}

#define SA(x) ((const struct sockaddr *)(const void *)&(x))

START_TEST(loopback_only_without_a_token)
{
    struct sockaddr_in lo = v4("127.0.0.1"), lo2 = v4("127.3.2.1"), lan = v4("192.168.1.20"),
                       pub = v4("203.0.113.9");
    struct sockaddr_in6 lo6 = v6("::1"), mapped = v6("::ffff:127.0.0.1"),
                        mapped_lan = v6("::ffff:10.0.0.1"), lan6 = v6("fe80::1");
    ck_assert(sd_metrics_allowed(SA(lo), NULL, NULL));
    ck_assert(sd_metrics_allowed(SA(lo2), NULL, NULL));
    ck_assert(sd_metrics_allowed(SA(lo6), NULL, NULL));
    ck_assert(sd_metrics_allowed(SA(mapped), NULL, NULL));
    ck_assert(!sd_metrics_allowed(SA(lan), NULL, NULL));
    ck_assert(!sd_metrics_allowed(SA(pub), NULL, NULL));
    ck_assert(!sd_metrics_allowed(SA(mapped_lan), NULL, NULL));
    ck_assert(!sd_metrics_allowed(SA(lan6), NULL, NULL));
    ck_assert(!sd_metrics_allowed(NULL, NULL, NULL));
    /* Without a token configured, a token opens nothing. */
    ck_assert(!sd_metrics_allowed(SA(lan), "Bearer 0123456789abcdef0123456789abcdef", NULL));
}
END_TEST

START_TEST(a_token_is_asked_of_everyone)
{
    static const char token[] = "5f0c2b8e9d1a4763b2e8c0f19a7d3e64";
    uint8_t h[SC_HASH_LEN];
    sc_sha256(token, strlen(token), h);
    struct sockaddr_in lo = v4("127.0.0.1"), lan = v4("192.168.1.20");
    char good[128], lower[128];
    snprintf(good, sizeof good, "Bearer %s", token);
    snprintf(lower, sizeof lower, "bearer  %s ", token);
    ck_assert(sd_metrics_allowed(SA(lan), good, h));
    ck_assert(sd_metrics_allowed(SA(lo), good, h));
    ck_assert(sd_metrics_allowed(SA(lan), lower, h));
    ck_assert(sd_metrics_allowed(NULL, good, h));
    /* Loopback without it, a wrong one, a prefix, another scheme: refused. */
    ck_assert(!sd_metrics_allowed(SA(lo), NULL, h));
    ck_assert(!sd_metrics_allowed(SA(lo), "", h));
    ck_assert(!sd_metrics_allowed(SA(lan), "Bearer 5f0c2b8e9d1a4763b2e8c0f19a7d3e65", h));
    ck_assert(!sd_metrics_allowed(SA(lan), "Bearer 5f0c2b8e9d1a4763b2e8c0f19a7d3e6", h));
    ck_assert(!sd_metrics_allowed(SA(lan), "Bearer 5f0c2b8e9d1a4763b2e8c0f19a7d3e640", h));
    snprintf(good, sizeof good, "Basic %s", token);
    ck_assert(!sd_metrics_allowed(SA(lan), good, h));
    ck_assert(!sd_metrics_allowed(SA(lan), token, h));
}
END_TEST

START_TEST(token_file)
{
    char dir[512], path[600];
    sct_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/token", dir);
    static const char token[] = "5f0c2b8e9d1a4763b2e8c0f19a7d3e64a1b2";
    uint8_t want[SC_HASH_LEN], got[SC_HASH_LEN];
    sc_sha256(token, strlen(token), want);
    sc_err err;
    struct {
        const char *text;
        mode_t mode;
        sc_status rc;
    } cases[] = {
        {"5f0c2b8e9d1a4763b2e8c0f19a7d3e64a1b2\n", 0600, SC_OK},
        {"5f0c2b8e9d1a4763b2e8c0f19a7d3e64a1b2\r\n", 0400, SC_OK},
        {"5f0c2b8e9d1a4763b2e8c0f19a7d3e64a1b2", 0600, SC_OK},
        {"5f0c2b8e9d1a4763b2e8c0f19a7d3e64a1b2\n", 0640, SC_ERR_FORBIDDEN},
        {"5f0c2b8e9d1a4763b2e8c0f19a7d3e64a1b2\n", 0604, SC_ERR_FORBIDDEN},
        {"short\n", 0600, SC_ERR_INVALID_ARG},
        {"5f0c2b8e9d1a4763 2e8c0f19a7d3e64a1b2\n", 0600, SC_ERR_INVALID_ARG},
        {"5f0c2b8e9d1a4763b2e8c0f19a7d3e64a1b2\nsecond line\n", 0600, SC_ERR_INVALID_ARG},
        {"", 0600, SC_ERR_INVALID_ARG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unlink(path);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(cases[i].text, f);
        fclose(f);
        ck_assert_int_eq(chmod(path, cases[i].mode), 0);
        sc_status rc = sd_metrics_token_load(path, got, &err);
        ck_assert_msg(rc == cases[i].rc, "case %zu: %s (%s)", i, sc_status_name(rc), err.msg);
        if (rc == SC_OK)
            ck_assert_mem_eq(got, want, SC_HASH_LEN);
        else
            ck_assert(strstr(err.msg, path) != NULL);
    }
    unlink(path);
    ck_assert_int_eq(sd_metrics_token_load(path, got, &err), SC_ERR_NOT_FOUND);
    sct_rmtree(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/metrics");
    const sct_case cases[] = {
        {"counters_and_labels", counters_and_labels},
        {"gauges_omitted", gauges_omitted_when_register_unreadable},
        {"histograms", histograms},
        {"write_lock_histograms", write_lock_histograms},
        {"text_format", text_format},
        {"exact_under_threads", exact_under_threads},
        {"loopback_only_without_a_token", loopback_only_without_a_token},
        {"a_token_is_asked_of_everyone", a_token_is_asked_of_everyone},
        {"token_file", token_file},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
