/*
 * notify.c: `syncd notify log` (the webhook delivery log) and `syncd notify
 * retry` (dead or dropped deliveries queued again).  Both run beside syncd
 * serve: the log reads one snapshot, a retry is one short write
 * transaction, and the serving syncd's thread picks the rows up on its next
 * round (docs/operations.md, "Webhooks").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "commands.h"
#include "register/register.h"

static const char *const state_names[] = {"pending", "delivered", "dead", "dropped"};

static const char *state_name(int s)
{
    return s >= 0 && s < 4 ? state_names[s] : "?";
}

static void utc(int64_t ms, char out[24])
{
    if (ms <= 0) {
        snprintf(out, 24, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

typedef struct log_ctx {
    bool json;
    uint64_t n;
} log_ctx;

static bool print_row(void *ctx, const sd_notify_row *r)
{
    log_ctx *c = ctx;
    c->n++;
    char made[24], next[24], done[24];
    utc(r->created_ms, made);
    utc(r->state == SD_NOTIFY_PENDING ? r->next_ms : 0, next);
    utc(r->done_ms, done);
    if (c->json) {
        json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:i,s:s}", "id",
                              (json_int_t)r->id, "event", r->event, "hook", r->hook, "type", r->type,
                              "state", state_name(r->state), "created", made, "attempts",
                              (json_int_t)r->attempts, "next", next, "done", done, "last_status",
                              r->last_code, "last_error", r->last_error);
        json_t *body = json_loads(r->body, 0, NULL);
        if (o && body)
            json_object_set_new(o, "payload", body);
        else
            json_decref(body);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(o);
        return true;
    }
    printf("%-6" PRId64 " %-20s %-10s %-22s %-9s %-8u %-20s %s%s%s\n", r->id, made, r->hook,
           r->type, state_name(r->state), (unsigned)r->attempts,
           r->state == SD_NOTIFY_PENDING ? next : done, r->event,
           r->last_error[0] ? "  " : "", r->last_error);
    return true;
}

static int open_reg(const char *cmd, const char *data, sd_register **r)
{
    sd_config cfg;
    sd_config_defaults(&cfg);
    if (!data)
        return sd_cmdline_fail(cmd, "--data DIR is required");
    sc_err err;
    sc_err_clear(&err);
    if (sd_config_set(&cfg, "data", data, &err) != SC_OK)
        return sd_cmdline_fail(cmd, "--data: %s", err.msg);
    if (sd_register_open(&cfg, r, &err) != SC_OK) {
        fprintf(stderr, "syncd %s: %s\n", cmd, err.msg);
        return 1;
    }
    return -1;
}

static int notify_log(sd_register *r, bool json)
{
    log_ctx c = {json, 0};
    if (!json)
        printf("%-6s %-20s %-10s %-22s %-9s %-8s %-20s %s\n", "ID", "QUEUED", "HOOK", "TYPE",
               "STATE", "ATTEMPTS", "NEXT/DONE", "EVENT");
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_notify_list(r, print_row, &c, &err) != SC_OK) {
        fprintf(stderr, "syncd notify log: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int notify_retry(sd_register *r, const char *id_text, bool dead, bool dropped)
{
    if ((id_text != NULL) + dead + dropped != 1)
        return sd_cmdline_fail("notify", "retry takes one of --id N, --dead, --dropped");
    int64_t id = 0;
    if (id_text) {
        char *end = NULL;
        long long v = strtoll(id_text, &end, 10);
        if (!id_text[0] || *end || v <= 0)
            return sd_cmdline_fail("notify", "--id: \"%s\" is not a delivery number", id_text);
        id = v;
    }
    sc_err err;
    sc_err_clear(&err);
    uint64_t n = 0;
    /* One delivery by number: a dead one, or else a dropped one. */
    sc_status rc = sd_register_notify_retry(r, id, dropped ? SD_NOTIFY_DROPPED : SD_NOTIFY_DEAD,
                                            &n, &err);
    if (rc == SC_OK && id && n == 0)
        rc = sd_register_notify_retry(r, id, SD_NOTIFY_DROPPED, &n, &err);
    if (rc != SC_OK) {
        fprintf(stderr, "syncd notify retry: %s\n", err.msg);
        return 1;
    }
    if (id && n == 0) {
        fprintf(stderr, "syncd notify retry: no dead or dropped delivery %" PRId64 "\n", id);
        return 1;
    }
    printf("%" PRIu64 " deliveries queued again\n", n);
    return 0;
}

int sd_cmd_notify(int argc, char **argv)
{
    const char *data = NULL, *id = NULL;
    bool json = false, dead = false, dropped = false;
    const sd_option opts[] = {{"data", &data, NULL},  {"json", NULL, &json},
                              {"id", &id, NULL},      {"dead", NULL, &dead},
                              {"dropped", NULL, &dropped}, {NULL, NULL, NULL}};
    const char *words[2];
    size_t nw = 0;
    int st = sd_cmdline_parse("notify", argc, argv, opts, words, 2, &nw);
    if (st >= 0)
        return st;
    bool is_log = nw == 1 && strcmp(words[0], "log") == 0;
    bool is_retry = nw == 1 && strcmp(words[0], "retry") == 0;
    if (!is_log && !is_retry)
        return sd_cmdline_fail("notify", "expected log or retry");
    if (is_log && (id || dead || dropped))
        return sd_cmdline_fail("notify", "log takes --data and --json only");
    if (is_retry && json)
        return sd_cmdline_fail("notify", "retry does not take --json");
    sd_register *r = NULL;
    if ((st = open_reg("notify", data, &r)) >= 0)
        return st;
    st = is_log ? notify_log(r, json) : notify_retry(r, id, dead, dropped);
    sd_register_close(r);
    return st;
}
