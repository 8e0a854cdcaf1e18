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

/* A page of the findings in status: limit from offset (limit at least 1), parsed; NULL on failure. */
static json_t *findings_page(sc_client *c, const char *status, size_t offset, size_t limit,
                             sc_status *s)
{
    sc_filter_v2 f = {.size = sizeof f, .status = status, .offset = offset, .limit = limit};
    char *json = NULL;
    *s = sc_list_v3(c, "findings", &f, &json);
    json_t *o = *s == SC_OK ? json_loads(json, 0, NULL) : NULL;
    sc_json_free(c, json);
    if (*s == SC_OK && !o)
        *s = SC_ERR_NOMEM;
    return o;
}

/* The whole of a listed item (sc_show: its photos and history for the card), onto page. */
static sc_status shown(sc_client *c, const json_t *item, json_t *page)
{
    char *json = NULL;
    sc_status s = sc_show(c, json_string_value(json_object_get(item, "id")), &json);
    json_t *o = s == SC_OK ? json_loads(json, 0, NULL) : NULL;
    sc_json_free(c, json);
    if (s == SC_OK && (!o || json_array_append_new(page, o) != 0))
        s = SC_ERR_NOMEM;
    return s;
}

/*
 * GET /api/queue: the review queue a page at a time, for the review view:
 * the findings awaiting a revisit, then those awaiting closure (sc_review's
 * order), offset and limit of them (default 20), each whole as sc_show
 * answers it, with how many wait, and the entities with open conflicts.
 * Each list is asked of the library a page at a time, so a queue of
 * thousands costs the twenty findings shown, in one request.
 */
static void get_queue(sc_client *c, cs_arg_fn arg, void *ctx, cs_answer *out)
{
    const char *o = text_arg(arg, ctx, "offset"), *l = text_arg(arg, ctx, "limit");
    size_t from = o ? strtoul(o, NULL, 10) : 0, n = l ? strtoul(l, NULL, 10) : 20;
    n = n < 1 ? 1 : n > SC_CONSOLE_LEDGER_ROWS_MAX ? SC_CONSOLE_LEDGER_ROWS_MAX : n;
    sc_status s;
    json_t *revisit = findings_page(c, "submitted", from, n, &s), *closure = NULL, *conf = NULL;
    size_t nrev = (size_t)json_integer_value(json_object_get(revisit, "total"));
    size_t got = json_array_size(json_object_get(revisit, "items"));
    if (s == SC_OK)
        closure = findings_page(c, "verified", from > nrev ? from - nrev : 0, n - got ? n - got : 1,
                                &s);
    char *json = NULL;
    if (s == SC_OK && (s = sc_conflicts(c, &json)) == SC_OK && !(conf = json_loads(json, 0, NULL)))
        s = SC_ERR_NOMEM;
    sc_json_free(c, json);
    json_t *page = json_array(), *a = NULL;
    for (size_t i = 0; s == SC_OK && i < got; i++)
        s = shown(c, json_array_get(json_object_get(revisit, "items"), i), page);
    for (size_t i = 0; s == SC_OK && got + i < n &&
                       i < json_array_size(json_object_get(closure, "items"));
         i++)
        s = shown(c, json_array_get(json_object_get(closure, "items"), i), page);
    if (s == SC_OK)
        a = json_pack("{s:O,s:I,s:I,s:O}", "waiting", page, "total",
                      (json_int_t)(nrev + (size_t)json_integer_value(json_object_get(closure, "total"))),
                      "offset", (json_int_t)from, "conflicts", json_object_get(conf, "items"));
    json_decref(page);
    json_decref(revisit);
    json_decref(closure);
    json_decref(conf);
    if (s == SC_ERR_NOMEM || (s == SC_OK && !a))
        cs_api_error(out, 500, "SC_ERR_NOMEM", "", "out of memory");
    else if (s != SC_OK)
        cs_api_fail(c, s, out);
    out->http = a ? 200 : out->http;
    out->body = a ? json_dumps(a, JSON_COMPACT) : out->body;
    json_decref(a);
}

/* The identity members of sc_client_status the bar shows, and standing answers with. */
static const char *const who_keys[] = {"enrolled", "user", "login", "name", "role", "org",
                                       "device_id"};

json_t *cs_identity(sc_client *c)
{
    char *json = NULL;
    sc_status s = sc_client_status(c, &json);
    json_t *all = s == SC_OK ? json_loads(json, 0, NULL) : NULL, *who = all ? json_object() : NULL;
    sc_json_free(c, json);
    for (size_t i = 0; who && i < sizeof who_keys / sizeof who_keys[0]; i++) {
        json_t *v = json_object_get(all, who_keys[i]);
        if (v && json_object_set(who, who_keys[i], v) != 0) {
            json_decref(who);
            who = NULL;
        }
    }
    json_decref(all);
    return who;
}

void cs_standing(sc_client *c, json_t *who, cs_answer *out)
{
    sc_standing st = {.size = sizeof st};
    sc_status s = sc_client_standing(c, &st);
    if (s != SC_OK) {
        cs_api_fail(c, s, out);
        return;
    }
    json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:o}", "outbox", (json_int_t)st.outbox, "proven",
                          (json_int_t)st.proven, "rejected", (json_int_t)st.rejected,
                          "photos_pending_upload", (json_int_t)st.photos_pending_upload,
                          "last_sync_ms",
                          st.last_sync_ms < 0 ? json_null()
                                              : json_integer((json_int_t)st.last_sync_ms));
    if (o && (!who || json_object_update(o, who) == 0)) {
        out->http = 200;
        out->body = json_dumps(o, JSON_COMPACT);
    }
    if (!out->body)
        cs_api_error(out, 500, "SC_ERR_NOMEM", "", "out of memory");
    json_decref(o);
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
    } else if (strcmp(path, "/api/queue") == 0) {
        get_queue(c, arg, ctx, out);
        return true;
    } else if (strcmp(path, "/api/dashboard") == 0) {
        cs_dashboard(c, cs_sync_db(sy), arg, ctx, out);
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
