/*
 * notify_send.c: one webhook delivery attempt over libcurl, its signature
 * and the backoff between attempts (notify.h).
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/secretfile.h"
#include "notify.h"
#include "spotcheck.h"

void sd_notify_sign(const char *secret, size_t secret_len, int64_t t_s, const char *body,
                    size_t body_len, char out[SD_NOTIFY_SIG_MAX])
{
    char ts[24];
    int n = snprintf(ts, sizeof ts, "%" PRId64, t_s);
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, secret_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (unsigned long long)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[2 * sizeof mac + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, SD_NOTIFY_SIG_MAX, "t=%s,v1=%s", ts, hex);
    sodium_memzero(&st, sizeof st);
}

int64_t sd_notify_backoff_ms(const sd_config *cfg, uint32_t failed, uint32_t r)
{
    int64_t cap = (int64_t)cfg->notify_retry_max_s * 1000;
    int64_t d = (int64_t)cfg->notify_retry_base_ms;
    for (uint32_t i = 1; i < failed && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    int64_t half = d / 2;
    return d - half + (half > 0 ? (int64_t)(r % (uint64_t)(half + 1)) : 0);
}

sc_status sd_notify_hook_load(const sd_hook *cfg, sd_notify_hook *out, sc_err *err)
{
    memset(out, 0, sizeof *out);
    out->cfg = cfg;
    char what[SC_NOTIFY_HOOK_NAME_MAX + 48];
    snprintf(what, sizeof what, "notify.hook.%s.secret_file", cfg->name);
    return sd_secret_read(cfg->secret_file, what, SC_NOTIFY_SECRET_MIN, SC_NOTIFY_SECRET_MAX,
                          out->secret, sizeof out->secret, &out->secret_len, err);
}

/* The answer's body is not read: a receiver says all it needs with its status. */
static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* libcurl asks about once a second, and more often while bytes move: give up once syncd stops. */
static int still(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                 curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return atomic_load((const atomic_bool *)ctx) ? 1 : 0;
}

static void fail(sd_notify_try *out, const char *why)
{
    out->delivered = false;
    snprintf(out->error, sizeof out->error, "%s", why);
}

static struct curl_slist *headers_of(const sd_notify_hook *h, const sd_notify_row *row,
                                     int64_t now_ms)
{
    char sig[SD_NOTIFY_SIG_MAX], line[SD_NOTIFY_SIG_MAX + 64];
    sd_notify_sign(h->secret, h->secret_len, now_ms / 1000, row->body, strlen(row->body), sig);
    struct curl_slist *l = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(line, sizeof line, "X-Spotcheck-Event: %s", row->event);
    struct curl_slist *m = l ? curl_slist_append(l, line) : NULL;
    snprintf(line, sizeof line, "X-Spotcheck-Event-Type: %s", row->type);
    m = m ? curl_slist_append(m, line) : NULL;
    snprintf(line, sizeof line, "X-Spotcheck-Signature: %s", sig);
    m = m ? curl_slist_append(m, line) : NULL;
    /* Expect: 100-continue would cost a round trip for every small body. */
    m = m ? curl_slist_append(m, "Expect:") : NULL;
    if (!m)
        curl_slist_free_all(l);
    return m;
}

void sd_notify_post(const sd_notify_hook *h, const sd_notify_row *row, int64_t now_ms,
                    unsigned timeout_s, sd_notify_try *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = c ? headers_of(h, row, now_ms) : NULL;
    if (!hdr) {
        fail(out, "out of memory");
        curl_easy_cleanup(c);
        return;
    }
    char agent[64], cerr[CURL_ERROR_SIZE] = "";
    snprintf(agent, sizeof agent, "syncd/%s", sc_version());
    curl_easy_setopt(c, CURLOPT_URL, h->cfg->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, row->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(row->body));
    curl_easy_setopt(c, CURLOPT_USERAGENT, agent);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    if (h->stop) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, still);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)h->stop);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        out->stopped = true;
        fail(out, "given up: syncd is stopping");
    } else if (rc != CURLE_OK) {
        fail(out, cerr[0] ? cerr : curl_easy_strerror(rc));
    } else {
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        out->code = (int)code;
        out->delivered = code >= 200 && code < 300;
        if (code >= 300 && code < 400)
            snprintf(out->error, sizeof out->error, "HTTP %ld: a redirect, not followed", code);
        else if (!out->delivered)
            snprintf(out->error, sizeof out->error, "HTTP %ld", code);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
}
