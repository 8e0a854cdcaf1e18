/*
 * config.c: defaults, a strict key = value parser, and range checks.  A bad
 * setting stops syncd at start-up with the key and the accepted range, never
 * later and never silently.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"

void sd_config_defaults(sd_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen_host, sizeof c->listen_host, "%s", "127.0.0.1");
    c->listen_port = 8080;
    c->threads = 4;
    c->connection_limit = SC_HTTP_CONNECTIONS_DEFAULT;
    c->connection_timeout_s = 60;
    c->connections_per_address = SC_HTTP_CONNECTIONS_PER_ADDRESS_DEFAULT;
    c->request_timeout_s = SC_HTTP_REQUEST_TIMEOUT_S_DEFAULT;
    c->body_inflight_max = SC_BODY_INFLIGHT_DEFAULT;
    c->body_inflight_device_max = SC_BODY_INFLIGHT_DEVICE_DEFAULT;
    c->body_inflight_unverified_max = SC_BODY_INFLIGHT_UNVERIFIED_DEFAULT;
    c->nonces_max = SC_AUTH_NONCES_DEFAULT;
    c->device_nonces_max = SC_AUTH_DEVICE_NONCES_DEFAULT;
    c->sync_body_max = SC_SYNC_BODY_MAX;
    c->batch_max = SC_BATCH_OPS_MAX;
    c->pull_max = SC_PULL_OPS_DEFAULT;
    c->commit_max_ops = 8192;
    c->blob_max = SC_BLOB_MAX;
    c->blob_chunk_max = SC_BLOB_CHUNK_MAX;
    c->blob_partial_count = SC_BLOB_PARTIALS_MAX;
    c->blob_partial_bytes = SC_BLOB_PARTIAL_BYTES_MAX;
    c->blob_partial_age_s = SC_BLOB_PARTIAL_AGE_S;
    c->blob_unref_count = SC_BLOB_UNREFERENCED_MAX;
    c->blob_unref_bytes = SC_BLOB_UNREFERENCED_BYTES_MAX;
    c->blob_unref_age_s = SC_BLOB_UNREFERENCED_AGE_S;
    c->blob_sweep_s = SC_BLOB_SWEEP_S;
    c->clock_skew_ms = SC_CLOCK_SKEW_MS_DEFAULT;
    c->log_level = 2;
    c->notify_queue_max = SC_NOTIFY_QUEUE_DEFAULT;
    c->notify_attempts = SC_NOTIFY_ATTEMPTS_DEFAULT;
    c->notify_retry_base_ms = SC_NOTIFY_RETRY_BASE_MS_DEFAULT;
    c->notify_retry_max_s = SC_NOTIFY_RETRY_MAX_S_DEFAULT;
    c->notify_timeout_s = SC_NOTIFY_TIMEOUT_S_DEFAULT;
    c->notify_scan_s = SC_NOTIFY_SCAN_S_DEFAULT;
}

/*
 * The item at the start of a comma-separated list s: its bytes are s[*a, *b)
 * with the blanks around them left out; returns the length up to the comma.
 */
static size_t list_item(const char *s, size_t *a, size_t *b)
{
    size_t n = strcspn(s, ",");
    *a = 0;
    *b = n;
    while (*a < *b && (s[*a] == ' ' || s[*a] == '\t'))
        (*a)++;
    while (*b > *a && (s[*b - 1] == ' ' || s[*b - 1] == '\t'))
        (*b)--;
    return n;
}

static const char *const event_names[] = {"finding.major_hazard", "finding.overdue",
                                          "finding.escalated", "finding.closed",
                                          "conflict.raised"};

const char *sd_event_name(unsigned kind)
{
    for (unsigned i = 0; i < sizeof event_names / sizeof event_names[0]; i++)
        if (kind == 1u << i)
            return event_names[i];
    return NULL;
}

/* "all", or a comma-separated list of event names. */
static sc_status parse_events(const char *key, const char *value, unsigned *out, sc_err *err)
{
    unsigned bits = 0;
    for (const char *s = value; *s;) {
        size_t a, b, n = list_item(s, &a, &b);
        unsigned bit = 0;
        if (b - a == 3 && memcmp(s + a, "all", 3) == 0)
            bit = SD_EVENT_ALL_;
        for (unsigned i = 0; !bit && i < sizeof event_names / sizeof event_names[0]; i++)
            if (strlen(event_names[i]) == b - a && memcmp(s + a, event_names[i], b - a) == 0)
                bit = 1u << i;
        if (!bit && a < b)
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                              "%s: unknown event \"%.*s\" (all, finding.major_hazard, "
                              "finding.overdue, finding.escalated, finding.closed, conflict.raised)",
                              key, (int)(b - a > 64 ? 64 : b - a), s + a);
        bits |= bit;
        s += n + (s[n] == ',');
    }
    if (!bits)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "%s: no event named", key);
    *out = bits;
    return SC_OK;
}

/*
 * notify.hook.NAME.url, .secret_file, .events.  Hooks come from the
 * settings file alone: no op and no request names a URL syncd sends to
 * (docs/security.md, "Webhooks").
 */
static sc_status set_hook(sd_config *c, const char *key, const char *value, sc_err *err)
{
    const char *name = key + strlen("notify.hook.");
    const char *dot = strrchr(name, '.');
    size_t nl = dot ? (size_t)(dot - name) : 0;
    if (!dot || nl == 0 || nl > SC_NOTIFY_HOOK_NAME_MAX)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "%s: expected notify.hook.NAME.url, .secret_file or .events, NAME of 1 "
                          "to %d letters, digits, '-' or '_'",
                          key, SC_NOTIFY_HOOK_NAME_MAX);
    for (size_t i = 0; i < nl; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                              "%s: a hook's name is letters, digits, '-' or '_'", key);
    }
    sd_hook *h = NULL;
    for (unsigned i = 0; i < c->n_hooks && !h; i++)
        if (strlen(c->hooks[i].name) == nl && memcmp(c->hooks[i].name, name, nl) == 0)
            h = &c->hooks[i];
    if (!h) {
        if (c->n_hooks == SC_NOTIFY_HOOKS_MAX)
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "%s: more than %d hooks", key,
                              SC_NOTIFY_HOOKS_MAX);
        h = &c->hooks[c->n_hooks++];
        memset(h, 0, sizeof *h);
        memcpy(h->name, name, nl);
        h->events = SD_EVENT_ALL_;
    }
    const char *field = dot + 1;
    if (strcmp(field, "url") == 0) {
        bool scheme = strncmp(value, "http://", 7) == 0 || strncmp(value, "https://", 8) == 0;
        if (!scheme || strlen(value) > SC_NOTIFY_URL_MAX || strpbrk(value, " \t\r\n"))
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                              "%s: \"%.64s\" is not an http:// or https:// URL of at most %d "
                              "bytes",
                              key, value, SC_NOTIFY_URL_MAX);
        snprintf(h->url, sizeof h->url, "%s", value);
        return SC_OK;
    }
    if (strcmp(field, "secret_file") == 0) {
        if (strlen(value) >= sizeof h->secret_file || !value[0])
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "%s: path empty or too long", key);
        snprintf(h->secret_file, sizeof h->secret_file, "%s", value);
        return SC_OK;
    }
    if (strcmp(field, "events") == 0)
        return parse_events(key, value, &h->events, err);
    return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                      "%s: a hook has url, secret_file and events", key);
}

static sc_status parse_u64(const char *key, const char *v, uint64_t lo, uint64_t hi, uint64_t *out,
                           sc_err *err)
{
    char *end = NULL;
    errno = 0;
    if (!v[0] || v[0] == '-')
        goto bad;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x < lo || x > hi)
        goto bad;
    *out = x;
    return SC_OK;
bad:
    return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "%s: \"%s\" is not a number in [%llu, %llu]", key,
                      v, (unsigned long long)lo, (unsigned long long)hi);
}

sc_status sd_config_set_listen(sd_config *c, const char *hostport, sc_err *err)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof c->listen_host)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "listen: \"%s\" is not HOST:PORT", hostport);
    uint64_t port = 0;
    sc_status rc = parse_u64("listen port", colon + 1, 0, 65535, &port, err);
    if (rc != SC_OK)
        return rc;
    memcpy(c->listen_host, hostport, (size_t)(colon - hostport));
    c->listen_host[colon - hostport] = '\0';
    c->listen_port = (uint16_t)port;
    return SC_OK;
}

/* "ADDRESS[/BITS], ..." (may be empty: no proxy is trusted). */
static sc_status set_trusted_proxies(sd_config *c, const char *value, sc_err *err)
{
    sd_netaddr list[SC_TRUSTED_PROXIES_MAX];
    unsigned n_list = 0;
    for (const char *s = value; *s;) {
        size_t a, b, n = list_item(s, &a, &b);
        if (a < b) {
            if (n_list == SC_TRUSTED_PROXIES_MAX)
                return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                                  "http.trusted_proxies: more than %d entries",
                                  SC_TRUSTED_PROXIES_MAX);
            if (!sd_netaddr_parse(s + a, b - a, true, &list[n_list++]))
                return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                                  "http.trusted_proxies: \"%.*s\" is not an IP address or "
                                  "ADDRESS/BITS (a prefix such as 10.0.0.0/8)",
                                  (int)(b - a > 64 ? 64 : b - a), s + a);
        }
        s += n + (s[n] == ',');
    }
    memcpy(c->trusted_proxies, list, n_list * sizeof list[0]);
    c->n_trusted_proxies = n_list;
    return SC_OK;
}

sc_status sd_config_set(sd_config *c, const char *key, const char *value, sc_err *err)
{
    uint64_t x = 0;
    sc_status rc = SC_OK;
    if (strcmp(key, "listen") == 0)
        return sd_config_set_listen(c, value, err);
    if (strcmp(key, "data") == 0) {
        if (strlen(value) >= sizeof c->data_dir || !value[0])
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "data: path empty or too long");
        snprintf(c->data_dir, sizeof c->data_dir, "%s", value);
        return SC_OK;
    }
    if (strcmp(key, "http.trusted_proxies") == 0)
        return set_trusted_proxies(c, value, err);
    if (strncmp(key, "notify.hook.", 12) == 0)
        return set_hook(c, key, value, err);
    if (strcmp(key, "metrics.token_file") == 0) {
        if (strlen(value) >= sizeof c->metrics_token_file || !value[0])
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                              "metrics.token_file: path empty or too long");
        snprintf(c->metrics_token_file, sizeof c->metrics_token_file, "%s", value);
        return SC_OK;
    }
#define SD_NUM_(name, field, lo, hi, type)                                                         \
    if (strcmp(key, name) == 0) {                                                              \
        rc = parse_u64(key, value, lo, hi, &x, err);                                           \
        if (rc == SC_OK)                                                                       \
            c->field = (type)x;                                                                \
        return rc;                                                                             \
    }
    SD_NUM_("http.threads", threads, 1, 256, unsigned)
    SD_NUM_("http.connection_limit", connection_limit, 16, 1000000, unsigned)
    SD_NUM_("http.connection_timeout_s", connection_timeout_s, 1, 3600, unsigned)
    SD_NUM_("http.connections_per_address", connections_per_address, 0, 1000000, unsigned)
    SD_NUM_("http.request_timeout_s", request_timeout_s, 1, 3600, unsigned)
    SD_NUM_("http.body_inflight_max", body_inflight_max, 1024 * 1024, (uint64_t)1 << 40, uint64_t)
    SD_NUM_("http.body_inflight_device_max", body_inflight_device_max, 64 * 1024,
            (uint64_t)1 << 40, uint64_t)
    SD_NUM_("http.body_inflight_unverified_max", body_inflight_unverified_max, SC_SMALL_BODY_MAX,
            (uint64_t)1 << 40, uint64_t)
    SD_NUM_("auth.nonces_max", nonces_max, 1024, (uint64_t)1 << 32, uint64_t)
    SD_NUM_("auth.device_nonces_max", device_nonces_max, 16, (uint64_t)1 << 32, uint64_t)
    SD_NUM_("sync.body_max", sync_body_max, 1024, (uint64_t)SC_SYNC_BODY_MAX * 8, uint64_t)
    SD_NUM_("sync.batch_max", batch_max, 1, SC_BATCH_OPS_MAX * 10, uint32_t)
    SD_NUM_("sync.pull_max", pull_max, 1, SC_PULL_OPS_MAX, uint32_t)
    SD_NUM_("sync.commit_max_ops", commit_max_ops, 1, 1000000, uint32_t)
    SD_NUM_("blobs.max_size", blob_max, 1, (uint64_t)1 << 40, uint64_t)
    SD_NUM_("blobs.chunk_max", blob_chunk_max, 4096, (uint64_t)1 << 30, uint64_t)
    SD_NUM_("blobs.partial_max_count", blob_partial_count, 1, 1000000, uint32_t)
    SD_NUM_("blobs.partial_max_bytes", blob_partial_bytes, 1, (uint64_t)1 << 44, uint64_t)
    SD_NUM_("blobs.partial_max_age_s", blob_partial_age_s, 1, (uint64_t)366 * 86400, uint64_t)
    SD_NUM_("blobs.unreferenced_max_count", blob_unref_count, 0, 1000000, uint32_t)
    SD_NUM_("blobs.unreferenced_max_bytes", blob_unref_bytes, 0, (uint64_t)1 << 44, uint64_t)
    SD_NUM_("blobs.unreferenced_max_age_s", blob_unref_age_s, 1, (uint64_t)366 * 86400, uint64_t)
    SD_NUM_("blobs.sweep_interval_s", blob_sweep_s, 1, 86400, unsigned)
    SD_NUM_("clock.skew_ms", clock_skew_ms, 1000, (uint64_t)24 * 3600 * 1000, int64_t)
    SD_NUM_("log.level", log_level, 0, 3, int)
    SD_NUM_("notify.queue_max", notify_queue_max, 1, 100000000, uint64_t)
    SD_NUM_("notify.max_attempts", notify_attempts, 1, 1000, uint32_t)
    SD_NUM_("notify.retry_base_ms", notify_retry_base_ms, 10, 3600 * 1000, uint64_t)
    SD_NUM_("notify.retry_max_s", notify_retry_max_s, 1, 7 * 86400, uint64_t)
    SD_NUM_("notify.timeout_s", notify_timeout_s, 1, 300, unsigned)
    SD_NUM_("notify.scan_interval_s", notify_scan_s, 1, 86400, unsigned)
#undef SD_NUM_
    return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "unknown setting \"%s\"", key);
}

sc_status sd_config_check(const sd_config *c, sc_err *err)
{
    if (c->blob_partial_bytes < c->blob_max)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "blobs.partial_max_bytes (%llu) is below blobs.max_size (%llu): a photo "
                          "of the largest size could never be uploaded",
                          (unsigned long long)c->blob_partial_bytes,
                          (unsigned long long)c->blob_max);
    if (c->body_inflight_device_max < c->sync_body_max)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "http.body_inflight_device_max (%llu) must be at least sync.body_max "
                          "(%llu), or a full sync body could never be read",
                          (unsigned long long)c->body_inflight_device_max,
                          (unsigned long long)c->sync_body_max);
    if (c->body_inflight_max < c->body_inflight_device_max)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "http.body_inflight_max (%llu) must be at least "
                          "http.body_inflight_device_max (%llu)",
                          (unsigned long long)c->body_inflight_max,
                          (unsigned long long)c->body_inflight_device_max);
    if (c->device_nonces_max > c->nonces_max)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "auth.device_nonces_max (%llu) must not exceed auth.nonces_max (%llu)",
                          (unsigned long long)c->device_nonces_max,
                          (unsigned long long)c->nonces_max);
    for (unsigned i = 0; i < c->n_hooks; i++)
        if (!c->hooks[i].url[0] || !c->hooks[i].secret_file[0])
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                              "notify.hook.%s needs both url and secret_file", c->hooks[i].name);
    return SC_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

sc_status sd_config_load(sd_config *c, const char *path, sc_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sc_err_set(err, SC_ERR_IO, 0, "cannot open config %s: %s", path, strerror(errno));
    char line[SD_PATH_MAX + 256]; /* a key and a path or URL */
    unsigned lineno = 0;
    sc_status rc = SC_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "%s:%u: expected key = value", path, lineno);
            break;
        }
        *eq = '\0';
        rc = sd_config_set(c, trim(s), trim(eq + 1), err);
        if (rc != SC_OK) {
            sc_err_prefix(err, "%s:%u: ", path, lineno);
            break;
        }
    }
    fclose(f);
    return rc;
}
