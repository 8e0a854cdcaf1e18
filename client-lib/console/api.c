/*
 * api.c: the console's JSON API over the replica, with no HTTP in it
 * (server.c hands it a path, the query's arguments or the body, and sends
 * what it answers).  Queries answer what the library's query calls answer;
 * actions are the library's recording calls, each one signed op made with
 * the device's key, judged by the same fold and role policy as the CLI's.
 * A refusal answers {"error":{"status","reason","message"}}: the status
 * name (SC_ERR_FORBIDDEN), the protocol reason (forbidden_role) and the
 * library's sentence, which the page shows as it is.
 */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "core/limits.h"

void cs_api_error(cs_answer *out, unsigned http, const char *status, const char *reason,
                  const char *message)
{
    json_t *o = json_pack("{s:{s:s,s:s,s:s}}", "error", "status", status, "reason",
                          reason ? reason : "", "message", message ? message : "");
    out->http = http;
    out->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
}

/* The HTTP status a library status is answered with. */
static unsigned http_of(sc_status s)
{
    switch (s) {
    case SC_OK:
        return 200;
    case SC_ERR_INVALID_ARG:
    case SC_ERR_TOO_LARGE:
        return 400;
    case SC_ERR_NOT_FOUND:
        return 404;
    case SC_ERR_FORBIDDEN:
    case SC_ERR_BAD_PASSPHRASE:
    case SC_ERR_NOT_ENROLLED:
    case SC_ERR_READ_ONLY:
        return 403;
    case SC_ERR_INVALID_TRANSITION:
    case SC_ERR_REJECTED:
    case SC_ERR_EXISTS:
    case SC_ERR_UNPROVEN:
    case SC_ERR_PROOF:
        return 409;
    case SC_ERR_UNAVAILABLE:
        return 503;
    case SC_ERR_NETWORK:
    case SC_ERR_SERVER:
    case SC_ERR_PROTOCOL:
    case SC_ERR_TLS:
        return 502;
    default:
        return 500;
    }
}

void cs_api_fail(sc_client *c, sc_status s, cs_answer *out)
{
    const char *msg = sc_client_errmsg(c);
    cs_api_error(out, http_of(s), sc_status_name(s), sc_client_reason(c),
                 msg && *msg ? msg : sc_strerror(s));
}

/* A query's answer: its JSON as it is, or the failure. */
static void answer(sc_client *c, sc_status s, char *json, cs_answer *out)
{
    if (s != SC_OK) {
        sc_json_free(c, json);
        cs_api_fail(c, s, out);
        return;
    }
    out->http = 200;
    out->body = json ? strdup(json) : NULL;
    sc_json_free(c, json);
}

/* An action's answer: {"ok":true} and what it made, or the failure. */
static void acted(sc_client *c, sc_status s, json_t *made, cs_answer *out)
{
    if (s != SC_OK) {
        json_decref(made);
        cs_api_fail(c, s, out);
        return;
    }
    json_t *o = made ? made : json_object();
    json_object_set_new(o, "ok", json_true());
    out->http = 200;
    out->body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
}

/* ---- queries ---- */

static int flag(cs_arg_fn arg, void *ctx, const char *name)
{
    const char *v = arg(ctx, name);
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

static sc_status get_list(sc_client *c, cs_arg_fn arg, void *ctx, char **json)
{
    const char *what = arg(ctx, "what");
    sc_filter_v2 f = {.size = sizeof f,
                      .status = arg(ctx, "status"),
                      .overdue = flag(arg, ctx, "overdue"),
                      .target = arg(ctx, "target"),
                      .assignment = arg(ctx, "assignment"),
                      .flags = flag(arg, ctx, "with_voided") ? SC_LIST_WITH_VOIDED : 0u,
                      .stop_work = flag(arg, ctx, "stop_work"),
                      .self_reported = flag(arg, ctx, "self_reported"),
                      .needs_escalation = flag(arg, ctx, "needs_escalation")};
    if (f.status && !*f.status)
        f.status = NULL;
    if (f.target && !*f.target)
        f.target = NULL;
    return sc_list_v3(c, what ? what : "findings", &f, json);
}

/* A text argument, or NULL when absent or empty. */
static const char *text_arg(cs_arg_fn arg, void *ctx, const char *name)
{
    const char *v = arg(ctx, name);
    return v && *v ? v : NULL;
}

/* The statistics (JSON) the arguments ask for: by, period, as_of, lang. */
static sc_status get_stats(sc_client *c, cs_arg_fn arg, void *ctx, char **json)
{
    sc_stats_query q = {.size = sizeof q,
                        .by = text_arg(arg, ctx, "by"),
                        .format = "json",
                        .lang = text_arg(arg, ctx, "lang"),
                        .period = text_arg(arg, ctx, "period"),
                        .as_of = text_arg(arg, ctx, "as_of")};
    return sc_report_stats(c, &q, json);
}

bool cs_api_get(sc_client *c, cs_sync *sy, const char *path, cs_arg_fn arg, void *ctx,
                cs_answer *out)
{
    char *json = NULL;
    sc_status s;
    if (strcmp(path, "/api/status") == 0)
        s = sc_client_status(c, &json);
    else if (strcmp(path, "/api/review") == 0)
        s = sc_review(c, &json);
    else if (strcmp(path, "/api/conflicts") == 0)
        s = sc_conflicts(c, &json);
    else if (strcmp(path, "/api/list") == 0)
        s = get_list(c, arg, ctx, &json);
    else if (strcmp(path, "/api/show") == 0)
        s = sc_show(c, arg(ctx, "id"), &json);
    else if (strcmp(path, "/api/stats") == 0)
        s = get_stats(c, arg, ctx, &json);
    else if (strcmp(path, "/api/prove") == 0)
        s = sc_op_prove(c, arg(ctx, "op"), &json);
    else if (strcmp(path, "/api/outbox") == 0)
        s = sc_outbox(c, SC_CONSOLE_PROVEN_SHOWN, &json);
    else if (strcmp(path, "/api/verify") == 0) {
        /* A replica that does not verify still answers what it found: the page shows both. */
        s = sc_verify_replica(c, &json);
        if (s != SC_OK && json) {
            out->http = 200;
            out->body = strdup(json);
            sc_json_free(c, json);
            return true;
        }
    } else if (strcmp(path, "/api/ledger") == 0) {
        cs_ledger_page(c, arg, ctx, out);
        return true;
    } else if (strcmp(path, "/api/dashboard") == 0) {
        cs_dashboard(c, arg, ctx, out);
        return true;
    } else if (strcmp(path, "/api/ledger/filters") == 0) {
        cs_ledger_filters(out);
        return true;
    } else if (strcmp(path, "/api/sync") == 0) {
        json_t *o = cs_sync_state(sy);
        out->http = o ? 200 : 500;
        out->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        return true;
    } else
        return false;
    answer(c, s, json, out);
    return true;
}

/* ---- actions ---- */

/* A string member of the body, or NULL when absent or empty. */
static const char *str(const json_t *body, const char *name)
{
    const char *v = json_string_value(json_object_get(body, name));
    return v && *v ? v : NULL;
}

static bool truth(const json_t *body, const char *name)
{
    return json_is_true(json_object_get(body, name));
}

static sc_status do_revisit(sc_client *c, const json_t *b)
{
    unsigned flags = (truth(b, "acceptance") ? SC_REVISIT_ACCEPTANCE : 0u) |
                     (truth(b, "look_back") ? SC_REVISIT_LOOK_BACK : 0u) |
                     (truth(b, "lift_stop_work") ? SC_REVISIT_LIFT_STOP_WORK : 0u);
    sc_revisit_params p = {.size = sizeof p,
                           .result = str(b, "result"),
                           .note = str(b, "note"),
                           .flags = flags,
                           .look_back_of = str(b, "look_back_of")};
    return sc_revisit_v3(c, str(b, "finding"), &p);
}

static sc_status do_escalate(sc_client *c, const json_t *b, json_t **made)
{
    sc_escalation_params p = {.size = sizeof p,
                              .step = str(b, "step"),
                              .level = str(b, "level"),
                              .reason = str(b, "reason")};
    char op[SC_HASH_HEX_LEN];
    sc_status s = sc_escalate(c, str(b, "finding"), &p, op);
    if (s == SC_OK)
        *made = json_pack("{s:s}", "op", op);
    return s;
}

static sc_status do_stop_work(sc_client *c, const json_t *b, json_t **made)
{
    char op[SC_HASH_HEX_LEN];
    sc_status s = sc_stop_work(c, str(b, "finding"), str(b, "reason"), op);
    if (s == SC_OK)
        *made = json_pack("{s:s}", "op", op);
    return s;
}

/* A plan (assignment): the inspectors are a JSON array of logins. */
static sc_status do_assign(sc_client *c, const json_t *b, json_t **made, const char **why)
{
    const json_t *who = json_object_get(b, "inspectors");
    const char *names[SC_CONSOLE_INSPECTORS_MAX];
    size_t n = 0;
    for (size_t i = 0; json_is_array(who) && i < json_array_size(who); i++) {
        const char *v = json_string_value(json_array_get(who, i));
        if (!v || n == SC_CONSOLE_INSPECTORS_MAX) {
            *why = "inspectors: a list of at most 32 logins";
            return SC_ERR_INVALID_ARG;
        }
        names[n++] = v;
    }
    sc_assign_params_v2 p = {.size = sizeof p,
                             .target = str(b, "target"),
                             .inspectors = names,
                             .ninspectors = n,
                             .kind = str(b, "kind"),
                             .disclosure = str(b, "disclosure"),
                             .due = str(b, "due"),
                             .template_ = str(b, "template"),
                             .note = str(b, "note")};
    char id[SC_ID_HEX_LEN];
    sc_status s = sc_assign_v2(c, &p, id);
    if (s == SC_OK)
        *made = json_pack("{s:s}", "id", id);
    return s;
}

/* Run the action path names with body b; false when there is none. */
static bool act(sc_client *c, const char *path, const json_t *b, sc_status *s, json_t **made,
                const char **why)
{
    if (strcmp(path, "/api/close") == 0)
        *s = sc_close(c, str(b, "finding"), str(b, "note"));
    else if (strcmp(path, "/api/revisit") == 0)
        *s = do_revisit(c, b);
    else if (strcmp(path, "/api/reopen") == 0)
        *s = sc_reopen(c, str(b, "finding"), str(b, "reason"));
    else if (strcmp(path, "/api/resolve") == 0)
        *s = sc_resolve(c, str(b, "entity"), str(b, "field"), str(b, "value"), str(b, "item"));
    else if (strcmp(path, "/api/escalate") == 0)
        *s = do_escalate(c, b, made);
    else if (strcmp(path, "/api/stop-work") == 0)
        *s = do_stop_work(c, b, made);
    else if (strcmp(path, "/api/note") == 0)
        *s = sc_note_add(c, str(b, "entity"), str(b, "text"));
    else if (strcmp(path, "/api/sign-for") == 0)
        *s = sc_sign_for(c, str(b, "finding"), str(b, "note"));
    else if (strcmp(path, "/api/assign") == 0)
        *s = do_assign(c, b, made, why);
    else
        return false;
    return true;
}

bool cs_api_post(sc_client *c, cs_sync *sy, const char *path, const char *body, size_t body_len,
                 cs_answer *out)
{
    if (strcmp(path, "/api/sync") == 0) {
        sc_status s = cs_sync_start(sy);
        if (s != SC_OK)
            cs_api_error(out, 409, sc_status_name(s), "", "a sync is running already");
        else
            acted(c, SC_OK, NULL, out);
        return true;
    }
    json_error_t jerr;
    json_t *b = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(b)) {
        json_decref(b);
        if (strncmp(path, "/api/", 5) != 0)
            return false;
        cs_api_error(out, 400, "SC_ERR_INVALID_ARG", "bad_field",
                     "the request's body is not a JSON object");
        return true;
    }
    sc_status s = SC_OK;
    json_t *made = NULL;
    const char *why = NULL;
    bool known = act(c, path, b, &s, &made, &why);
    json_decref(b);
    if (known && why)
        cs_api_error(out, 400, sc_status_name(s), "bad_field", why);
    else if (known)
        acted(c, s, made, out);
    return known;
}
