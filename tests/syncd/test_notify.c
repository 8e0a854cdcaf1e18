/*
 * test_notify.c: the webhooks' pieces on their own: the signature against
 * a value Python's hmac module computed, the backoff's bounds, the hooks'
 * settings and what they refuse, and the new metrics' lines.  The
 * deliveries themselves run against real processes in
 * tests/e2e/notify_webhooks.sh and notify_pg.sh.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/metrics.h"
#include "core/keys.h"
#include "notify/notify.h"
#include "sctest.h"

START_TEST(signature)
{
    ck_assert_int_eq(sc_crypto_init(), SC_OK);
    const char *secret = "whsec-0123456789abcdef0123456789abcdef";
    const char *body = "{\"id\":\"8c5f\",\"type\":\"finding.overdue\"}";
    char sig[SD_NOTIFY_SIG_MAX];
    sd_notify_sign(secret, strlen(secret), 1796623842, body, strlen(body), sig);
    /* hmac.new(secret, b"1796623842." + body, hashlib.sha256).hexdigest() */
    ck_assert_str_eq(sig, "t=1796623842,v1=92e758c9a632fdcf735b3903f4713aaf60006066e7ffb21dbaa375dc2308894a");
    /* Another time, another body, another secret: another signature. */
    char other[SD_NOTIFY_SIG_MAX];
    sd_notify_sign(secret, strlen(secret), 1796623843, body, strlen(body), other);
    ck_assert_str_ne(sig + 13, other + 13);
    sd_notify_sign(secret, strlen(secret) - 1, 1796623842, body, strlen(body), other);
    ck_assert_str_ne(sig, other);
    sd_notify_sign(secret, strlen(secret), 1796623842, body, strlen(body) - 1, other);
    ck_assert_str_ne(sig, other);
}
END_TEST

START_TEST(backoff)
{
    sd_config c;
    sd_config_defaults(&c);
    c.notify_retry_base_ms = 2000;
    c.notify_retry_max_s = 3600;
    int64_t d = 2000;
    for (uint32_t failed = 1; failed <= 40; failed++) {
        int64_t lo = d - d / 2, hi = d;
        ck_assert_int_eq(sd_notify_backoff_ms(&c, failed, 0), lo);
        ck_assert_int_eq(sd_notify_backoff_ms(&c, failed, (uint32_t)(d / 2)), hi);
        for (uint32_t r = 1; r < 2000000000u; r = r * 7 + 13) {
            int64_t w = sd_notify_backoff_ms(&c, failed, r);
            ck_assert(w >= lo && w <= hi);
        }
        d = d * 2 > 3600000 ? 3600000 : d * 2;
    }
}
END_TEST

static sc_status set(sd_config *c, const char *key, const char *value, sc_err *err)
{
    sc_err_clear(err);
    return sd_config_set(c, key, value, err);
}

START_TEST(hook_settings)
{
    sd_config c;
    sd_config_defaults(&c);
    sc_err err;
    ck_assert_int_eq(set(&c, "notify.hook.ops.url", "https://example.org/hook", &err), SC_OK);
    ck_assert_int_eq(set(&c, "notify.hook.ops.secret_file", "/etc/s", &err), SC_OK);
    ck_assert_int_eq(set(&c, "notify.hook.ops.events", " finding.closed , conflict.raised", &err),
                     SC_OK);
    ck_assert_uint_eq(c.n_hooks, 1);
    ck_assert_uint_eq(c.hooks[0].events, SD_EVENT_CLOSED | SD_EVENT_CONFLICT);
    ck_assert_int_eq(sd_config_check(&c, &err), SC_OK);
    /* A second hook with its URL only is refused once all settings are read. */
    ck_assert_int_eq(set(&c, "notify.hook.b-2.url", "http://127.0.0.1:9/", &err), SC_OK);
    ck_assert_uint_eq(c.hooks[1].events, SD_EVENT_ALL_);
    ck_assert_int_eq(sd_config_check(&c, &err), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "notify.hook.b-2 needs both url and secret_file"));

    const struct {
        const char *key, *value, *says;
    } bad[] = {
        {"notify.hook.x.url", "ftp://example.org/", "is not an http:// or https:// URL"},
        {"notify.hook.x.url", "file:///etc/passwd", "is not an http:// or https:// URL"},
        {"notify.hook.x.url", "http://a b/", "is not an http:// or https:// URL"},
        {"notify.hook.x.events", "finding.lost", "unknown event \"finding.lost\""},
        {"notify.hook.x.events", " , ", "no event named"},
        {"notify.hook.x.colour", "red", "a hook has url, secret_file and events"},
        {"notify.hook.bad/name.url", "http://x/", "a hook's name is letters, digits"},
        {"notify.hook.url", "http://x/", "expected notify.hook.NAME.url"},
        {"notify.queue_max", "0", "notify.queue_max: \"0\" is not a number in [1, 100000000]"},
        {"notify.timeout_s", "301", "is not a number in [1, 300]"},
    };
    for (size_t i = 0; i < SCT_COUNT(bad); i++) {
        sd_config d;
        sd_config_defaults(&d);
        ck_assert_int_eq(set(&d, bad[i].key, bad[i].value, &err), SC_ERR_INVALID_ARG);
        ck_assert_msg(strstr(err.msg, bad[i].says), "%s = %s: %s", bad[i].key, bad[i].value,
                      err.msg);
    }
    /* At most SC_NOTIFY_HOOKS_MAX hooks. */
    sd_config d;
    sd_config_defaults(&d);
    char key[64];
    for (int i = 0; i < SC_NOTIFY_HOOKS_MAX; i++) {
        snprintf(key, sizeof key, "notify.hook.h%d.url", i);
        ck_assert_int_eq(set(&d, key, "http://127.0.0.1/", &err), SC_OK);
    }
    ck_assert_int_eq(set(&d, "notify.hook.one-more.url", "http://127.0.0.1/", &err),
                     SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "more than 8 hooks"));
}
END_TEST

START_TEST(metric_lines)
{
    sd_metrics_reset();
    sd_metrics_gauges g = {.valid = true, .webhook_pending = 4};
    size_t len = 0;
    char *text = sd_metrics_render(&g, &len);
    ck_assert_ptr_nonnull(text);
    /* The findings' gauges wait for the first overdue scan. */
    ck_assert_ptr_null(strstr(text, "syncd_findings_open"));
    ck_assert_ptr_nonnull(strstr(text, "\nsyncd_webhook_queue_depth 4\n"));
    ck_assert_ptr_nonnull(strstr(text, "syncd_build_info{version=\""));
    free(text);
    sd_metrics_findings f = {.open_general = 5, .open_major = 2, .overdue = 3,
                             .oldest_overdue_s = 86400, .escalations = 1};
    sd_metrics_findings_set(&f);
    sd_metrics_webhook_queued(3, 1);
    sd_metrics_webhook_attempt(false, false);
    sd_metrics_webhook_attempt(false, true);
    sd_metrics_webhook_attempt(true, false);
    text = sd_metrics_render(&g, &len);
    const char *want[] = {
        "\nsyncd_findings_open{grade=\"general\"} 5\n", "\nsyncd_findings_open{grade=\"major\"} 2\n",
        "\nsyncd_findings_overdue 3\n", "\nsyncd_findings_oldest_overdue_seconds 86400\n",
        "\nsyncd_finding_escalations 1\n", "\nsyncd_webhook_queued_total 3\n",
        "\nsyncd_webhook_dropped_total 1\n", "\nsyncd_webhook_deliveries_total 1\n",
        "\nsyncd_webhook_failures_total 2\n", "\nsyncd_webhook_dead_total 1\n",
    };
    for (size_t i = 0; i < SCT_COUNT(want); i++)
        ck_assert_msg(strstr(text, want[i]), "missing %s", want[i]);
    free(text);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/notify");
    const sct_case cases[] = {
        {"signature", signature},
        {"backoff", backoff},
        {"hook_settings", hook_settings},
        {"metric_lines", metric_lines},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
