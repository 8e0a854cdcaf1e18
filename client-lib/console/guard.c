/*
 * guard.c: who may ask the console anything.  The console serves one user,
 * the one at this machine who started it, and every other program that can
 * reach 127.0.0.1 (another user's, a web page in the same browser, a DNS
 * name rebound to 127.0.0.1) is kept out:
 *  - The URL printed at start carries a random one-time token in its
 *    fragment (never sent to a server, never in a log).  The page exchanges
 *    it once for a session and a CSRF token, given in the answer's body,
 *    which it keeps in its origin's storage; after that the token is spent.
 *    No cookie: a browser sends a host's cookies to all its ports, so a
 *    page another local user serves on 127.0.0.1 would be given it.
 *  - Every request must name the console's own address in Host, so a
 *    rebound name is refused before anything else.
 *  - Every API request must carry the session in X-Spotcheck-Session
 *    (CS_SESSION_HEADER), which no other origin's page can read or send.
 *  - Every write must come from the console's own Origin, carry the CSRF
 *    token in X-Spotcheck-CSRF, and be application/json: a form on another
 *    site can send none of these three.
 * Secrets are compared in constant time and wiped when the console stops.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "console.h"

static void random_hex(char out[65])
{
    uint8_t r[32];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(out, 65, r, sizeof r);
    sodium_memzero(r, sizeof r);
}

void cs_guard_init(cs_guard *g, const char *host, unsigned port)
{
    memset(g, 0, sizeof *g);
    snprintf(g->hosts[0], sizeof g->hosts[0], "%s:%u", host, port);
    snprintf(g->hosts[1], sizeof g->hosts[1], "localhost:%u", port);
    random_hex(g->token);
    random_hex(g->csrf);
}

void cs_guard_dispose(cs_guard *g)
{
    sodium_memzero(g, sizeof *g);
}

cs_refusal cs_guard_host(const cs_guard *g, const char *host)
{
    if (host && (strcmp(host, g->hosts[0]) == 0 || strcmp(host, g->hosts[1]) == 0))
        return CS_ALLOWED;
    return CS_FOREIGN_HOST;
}

/* Equal secrets given as hex, in time independent of where they differ. */
static bool same_hex(const char *given, const char *want)
{
    size_t n = strlen(want);
    return given && n > 0 && strlen(given) == n && sodium_memcmp(given, want, n) == 0;
}

cs_refusal cs_guard_session(const cs_guard *g, const char *session)
{
    if (!g->has_session || !session)
        return CS_NO_SESSION;
    char want[65];
    sodium_bin2hex(want, sizeof want, g->session, sizeof g->session);
    bool ok = same_hex(session, want);
    sodium_memzero(want, sizeof want);
    return ok ? CS_ALLOWED : CS_NO_SESSION;
}

/* The Origin of a page the console served: "http://" and one of its hosts. */
static bool own_origin(const cs_guard *g, const char *origin)
{
    if (!origin || strncmp(origin, "http://", 7) != 0)
        return false;
    return strcmp(origin + 7, g->hosts[0]) == 0 || strcmp(origin + 7, g->hosts[1]) == 0;
}

static bool is_json(const char *type)
{
    static const char want[] = "application/json";
    if (!type || strncmp(type, want, sizeof want - 1) != 0)
        return false;
    char next = type[sizeof want - 1];
    return next == '\0' || next == ';' || next == ' ';
}

cs_refusal cs_guard_write(const cs_guard *g, const char *origin, const char *csrf,
                          const char *content_type, bool need_csrf)
{
    if (!own_origin(g, origin))
        return CS_FOREIGN_ORIGIN;
    if (!is_json(content_type))
        return CS_NOT_JSON;
    if (need_csrf && !same_hex(csrf, g->csrf))
        return CS_BAD_CSRF;
    return CS_ALLOWED;
}

cs_refusal cs_guard_exchange(cs_guard *g, const char *token, char session_hex[65])
{
    session_hex[0] = '\0';
    if (!g->token[0])
        return CS_TOKEN_USED;
    if (!same_hex(token, g->token))
        return CS_BAD_TOKEN;
    sodium_memzero(g->token, sizeof g->token);
    randombytes_buf(g->session, sizeof g->session);
    g->has_session = true;
    sodium_bin2hex(session_hex, 65, g->session, sizeof g->session);
    return CS_ALLOWED;
}

static const struct {
    const char *name, *text;
    unsigned http;
} refusals[] = {
    [CS_ALLOWED] = {"", "", 200},
    [CS_FOREIGN_HOST] = {"foreign_host",
                         "refused: the request names another host than this console's address",
                         421},
    [CS_NO_SESSION] = {"no_session",
                       "refused: no session of this console (open the link spotcheck console "
                       "printed, in this browser)",
                       401},
    [CS_FOREIGN_ORIGIN] = {"foreign_origin",
                           "refused: a change must come from a page of this console (Origin)",
                           403},
    [CS_BAD_CSRF] = {"bad_csrf",
                     "refused: the change lacks this session's CSRF token (reload the page)", 403},
    [CS_BAD_TOKEN] = {"bad_token", "refused: this is not the console's one-time token", 403},
    [CS_TOKEN_USED] = {"token_used",
                       "refused: the console's link was used already; start spotcheck console "
                       "again for a new one",
                       403},
    [CS_NOT_JSON] = {"not_json", "refused: a change is sent as application/json", 415},
};

const char *cs_refusal_name(cs_refusal r)
{
    return refusals[r].name;
}

const char *cs_refusal_text(cs_refusal r)
{
    return refusals[r].text;
}

unsigned cs_refusal_http(cs_refusal r)
{
    return refusals[r].http;
}
