/*
 * console.h: `spotcheck console`, the review console: a small web app
 * served on the loopback interface over the user's own replica.  Every
 * action is a signed op made through the public API (spotcheck.h) with the
 * device's key, as the CLI makes them; the browser never holds a key.
 *
 * The parts: server.c (libmicrohttpd, the only file that knows it: the
 * guard on every request, routing, the embedded pages, photos), guard.c
 * (who may ask: the one-time token, the session, CSRF, Host and
 * Origin), api.c (the JSON API over the replica, no HTTP in it), sync.c (a
 * sync on a thread of its own, with its progress), ledger.c (the findings
 * ledger's page and export), dashboard.c (the statistics and their
 * charts), and assets.c, generated
 * from web/ by cmake/ScEmbed.cmake.
 */
#ifndef SC_CONSOLE_H
#define SC_CONSOLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spotcheck.h"

/* ---- assets.c (generated): the pages ---- */

typedef struct cs_asset {
    const char *path; /* "/app.js" */
    const char *type; /* its Content-Type */
    const unsigned char *data;
    size_t len;
} cs_asset;

extern const cs_asset cs_assets[];
extern const size_t cs_nassets;

/* ---- the command ---- */

typedef struct cs_options {
    const char *db;           /* the replica's path (the sync thread opens it again) */
    const char *listen;       /* "127.0.0.1:0" unless given; loopback only */
    const char *pass_env;     /* the variable holding the key's passphrase, or NULL */
    const sc_net_options *net; /* the run's network options, or NULL */
    bool json;                /* print the URL as JSON */
} cs_options;

/*
 * Serve the console over the open handle c until SIGINT or SIGTERM; prints
 * its URL (with the one-time token) first.  Returns the process's exit code.
 */
int cs_run(sc_client *c, const cs_options *o);

/* ---- guard.c: who may ask ---- */

/*
 * The header that carries the session on every API request.  Not a cookie:
 * a browser sends a host's cookies to every port of it, so a page another
 * local user serves on 127.0.0.1 would receive a console cookie.  The page
 * keeps the session in its origin's storage, which is the port's alone.
 */
#define CS_SESSION_HEADER "X-Spotcheck-Session"

/* Why a request is refused, before it reaches the replica. */
typedef enum cs_refusal {
    CS_ALLOWED = 0,
    CS_FOREIGN_HOST,   /* Host is not the address the console listens on */
    CS_NO_SESSION,     /* no session header, or not this console's */
    CS_FOREIGN_ORIGIN, /* a write whose Origin is missing or another site's */
    CS_BAD_CSRF,       /* a write without the session's CSRF token */
    CS_BAD_TOKEN,      /* the one-time token does not match */
    CS_TOKEN_USED,     /* the one-time token was exchanged already */
    CS_NOT_JSON        /* a write whose body is not application/json */
} cs_refusal;

typedef struct cs_guard {
    char hosts[2][64];    /* "127.0.0.1:PORT", "localhost:PORT" */
    char token[65];       /* the one-time token, hex; "" once exchanged */
    uint8_t session[32];  /* the session the page sends in CS_SESSION_HEADER, once exchanged */
    bool has_session;
    char csrf[65];        /* the CSRF token the page sends back on writes, hex */
} cs_guard;

/* A guard for a console on host:port (the loopback address it is bound to), with a fresh token. */
void cs_guard_init(cs_guard *g, const char *host, unsigned port);
/* Wipe its secrets. */
void cs_guard_dispose(cs_guard *g);
/* Host header check (every request). */
cs_refusal cs_guard_host(const cs_guard *g, const char *host);
/* Session check (every API request but the exchange): CS_SESSION_HEADER's value, or NULL. */
cs_refusal cs_guard_session(const cs_guard *g, const char *session);
/*
 * A write: its Origin, its CSRF header and its Content-Type (each may be
 * NULL).  need_csrf is false only for the token's exchange, which has no
 * CSRF token yet: the one-time token stands for it.
 */
cs_refusal cs_guard_write(const cs_guard *g, const char *origin, const char *csrf,
                          const char *content_type, bool need_csrf);
/* Exchange the one-time token for the session: its value (hex) into session_hex. */
cs_refusal cs_guard_exchange(cs_guard *g, const char *token, char session_hex[65]);
/* A refusal's reason name ("foreign_host") and its sentence, for the page. */
const char *cs_refusal_name(cs_refusal r);
const char *cs_refusal_text(cs_refusal r);
/* Its HTTP status. */
unsigned cs_refusal_http(cs_refusal r);

/* ---- api.c: the JSON API ---- */

/* A query argument of the request, or NULL. */
typedef const char *(*cs_arg_fn)(void *ctx, const char *name);

typedef struct cs_sync cs_sync;

typedef struct cs_answer {
    unsigned http; /* the HTTP status */
    char *body;    /* JSON text, malloc'd; the caller frees it */
} cs_answer;

/*
 * Answer GET path (a query: args from the query string) or POST path
 * (an action: body the request's JSON, body_len bytes).  False when no
 * such endpoint exists.
 */
bool cs_api_get(sc_client *c, cs_sync *sy, const char *path, cs_arg_fn arg, void *ctx,
                cs_answer *out);
bool cs_api_post(sc_client *c, cs_sync *sy, const char *path, const char *body, size_t body_len,
                 cs_answer *out);
/* {"error":{"status","reason","message"}} with its HTTP status. */
void cs_api_error(cs_answer *out, unsigned http, const char *status, const char *reason,
                  const char *message);
/* A library failure s, as the handle words it, with the HTTP status it maps to. */
void cs_api_fail(sc_client *c, sc_status s, cs_answer *out);

/*
 * Who the console's handle is, read once when it starts (the identity of
 * sc_client_status: "enrolled", and "user","login","name","role","org",
 * "device_id" when enrolled); NULL when the replica cannot be read.  It
 * does not change while the console runs: a sync has its own handle, and
 * the console enrolls no one.
 */
json_t *cs_identity(sc_client *c);
/*
 * GET /api/standing: who (cs_identity's) with sc_client_standing's counts,
 * {"outbox","proven","rejected","photos_pending_upload","last_sync_ms":n|null}:
 * what the bar shows, read from indexes (sc_client_status also hashes
 * every entity of the replica).
 */
void cs_standing(sc_client *c, json_t *who, cs_answer *out);

/* ---- ledger.c: the findings ledger (台账), its page and its export ---- */

/*
 * GET /api/ledger: one page of the findings ledger the arguments ask for
 * (org, target, period, grade, status, kind, source, as_of, lang; offset,
 * limit), {"headers":[text],"rows":[[text]],"offset","limit","totals":
 * {"rows","major","open","closed","overdue","photos"}}, or the refusal.
 */
void cs_ledger_page(sc_client *c, cs_arg_fn arg, void *ctx, cs_answer *out);
/*
 * The whole ledger the same arguments ask for, into the file path, as
 * `spotcheck report ledger` writes it (CSV, or XLSX when xlsx).  False with
 * the refusal in out, and no file, when it fails.
 */
bool cs_ledger_export(sc_client *c, cs_arg_fn arg, void *ctx, bool xlsx, const char *path,
                      cs_answer *out);
/* GET /api/ledger/filters: the names each select takes, {"grade","finding_status","kind","source"}. */
void cs_ledger_filters(cs_answer *out);

/* ---- dashboard.c: the statistics and their charts ---- */

/*
 * GET /api/dashboard: the statistics by org unit of what was found in the
 * window from..to (two days; as_of, lang as sc_report_stats takes them)
 * and two SVG charts drawn by report/svg.c: 整改率 of the child units of
 * org (an org unit's code or id; the root when absent), and findings found
 * against closed in org's subtree per bucket (by: day, week (default),
 * month).  {"stats","org","charts":{"rate","trend"},"trend":{"buckets",
 * "found","closed"}}, or the refusal.  db: the replica's path, which a
 * thread opens read-only to count the trend beside the statistics (NULL:
 * one after the other on c).
 */
void cs_dashboard(sc_client *c, const char *db, cs_arg_fn arg, void *ctx, cs_answer *out);

/* ---- sync.c: a sync on its own thread, with its own handle ---- */

/* Made with the options of the run: it opens the replica again for each sync. */
cs_sync *cs_sync_new(const cs_options *o);
/* Waits for a sync running, then frees. */
void cs_sync_free(cs_sync *sy);
/* Start a sync unless one runs: SC_OK, or SC_ERR_UNAVAILABLE when one runs already. */
sc_status cs_sync_start(cs_sync *sy);
/* {"running":bool,"phase","done","total","last":{"ok","finished_ms","result"|"error"}|null}. */
json_t *cs_sync_state(cs_sync *sy);
/* The replica's path, as the run was given it. */
const char *cs_sync_db(const cs_sync *sy);

#endif
