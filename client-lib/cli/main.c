/*
 * main.c: `spotcheck`, the reference client.  It uses nothing but the
 * public header spotcheck.h (and jansson to print what the library
 * returns), which shows the API is enough to build a client on.
 *
 * Output: with --json exactly one JSON document on stdout (also for errors:
 * {"error":{...}}); without it, text for people.  Errors always go to
 * stderr.  Exit codes (docs/client.md):
 *   0 success
 *   1 refused or invalid (invalid transition, role, bad value, wrong passphrase, not enrolled)
 *   2 usage
 *   3 not found (unknown id or code)
 *   4 network (unreachable, refused by the server, an answer that is not the protocol, a
 *     TLS identity that does not verify, a sync cancelled by a signal)
 *   5 verification failure (signature, checkpoint, proof, rewritten history, bad bundle)
 *   6 local failure (storage, file I/O, memory)
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "console.h"
#include "core/text.h"
#include "spotcheck.h"

/* Proven ops `spotcheck outbox` lists without --all: the latest sync's, for most tablets. */
#define OUTBOX_PROVEN_SHOWN 20

static const char usage_text[] =
    "usage: spotcheck [--db FILE] [--json] [--passphrase-env VAR] [--cacert FILE] [--capath DIR]\n"
    "                 [--pin sha256//BASE64] [--proxy URL] COMMAND ...\n"
    "       spotcheck --version | --help\n"
    "\n"
    "  enroll --server URL --code CODE [--label TEXT] [--no-sync] [--plain-key]\n"
    "  key protect --new-passphrase-env VAR\n"
    "  server set-url URL\n"
    "  status | sync | outbox [--all | --last N] | verify | verify-bundle FILE | prove OP\n"
    "  assign --target CODE --inspector LOGIN... --kind KIND --disclosure D [--due YYYY-MM-DD]\n"
    "         [--template ID|CODE] [--note T] [--recheck FINDING[,FINDING...]]\n"
    "         [--verifies CHECK[,CHECK...]]\n"
    "  check open --target CODE --kind KIND --disclosure open|unannounced|experiential\n"
    "             [--template ID|CODE] [--assignment ID] [--relation R]\n"
    "  check score CHECK --item CODE --status met|not_met|unknown|na [--points N] [--note T]\n"
    "  check submit CHECK [--remarks T]\n"
    "  check amend CHECK --reason T --item CODE --status S [--points N] [--note T]\n"
    "  check sign-off CHECK --name N --role POST --signature FILE [--gps LAT,LON]\n"
    "  check sign-off CHECK --countersign [--note T] [--gps LAT,LON]\n"
    "  finding add --check CHECK|--target CODE --desc T --grade major|general [--category C]\n"
    "              [--item CODE] [--location T] [--deadline YYYY-MM-DD] [--responsible ORG]\n"
    "              [--source S] [--fixed-on-spot] [--photo FILE]...\n"
    "  finding set FINDING [--deadline D] [--desc T] [--grade G] [--responsible ORG]\n"
    "              [--category C] [--location T]\n"
    "  photo add ENTITY FILE [--caption T] | photo get SHA256 FILE\n"
    "  rectify FINDING --note T [--measures T] [--photo FILE]...\n"
    "  revisit FINDING --result rectified|not_rectified [--note T] [--look-back] [--acceptance]\n"
    "          [--look-back-of ASSIGNMENT] [--lift-stop-work] [--photo FILE]...\n"
    "  close FINDING [--note T] | reopen FINDING --reason T | void ID --reason T\n"
    "  note ENTITY --text T\n"
    "  show ID|CODE | list checks|findings|assignments|targets|templates|orgs [--status S]\n"
    "       [--overdue] [--target CODE] [--assignment ID] [--include-voided] [--stop-work]\n"
    "       [--needs-escalation] [--self-reported]\n"
    "  review | conflicts | resolve ID --field F [--value V] [--item CODE]\n"
    "  campaign --template ID|CODE --org ORG\n"
    "  report ledger [--findings|--checks] --format csv|xlsx --out FILE [--lang zh|en]\n"
    "         [--org ORG] [--target CODE] [--period P] [--grade G] [--status S] [--kind K]\n"
    "         [--source S] [--as-of YYYY-MM-DD]\n"
    "  report stats [--by org|target|day|week|month|quarter] [--format table|json|csv]\n"
    "         [--lang zh|en] [--period P] [--as-of YYYY-MM-DD]\n"
    "  console [--listen 127.0.0.1:PORT]   the review console, in a browser on this machine\n"
    "rectification governance (spotcheck COMMAND --help says more):\n"
    "  notice FINDING [--responsible ORG] [--deadline D] | sign-for FINDING [--note T]\n"
    "  plan FINDING --measures T (--person LOGIN | --person-name N --person-phone P)\n"
    "       [--funds AMOUNT --funds-source T --interim T --lead-official NAME]\n"
    "  plan-return FINDING --reason T | deadline FINDING --deadline D --reason T\n"
    "  extension request FINDING --deadline D --reason T | extension approve|reject FINDING\n"
    "  escalate FINDING --step S --level L --reason T [--photo FILE]...\n"
    "  stop-work FINDING --reason T\n"
    "\n"
    "spotcheck COMMAND [SUBCOMMAND] --help: its options and the values they take.\n"
    "enroll keeps the device key encrypted under the passphrase in --passphrase-env VAR;\n"
    "--plain-key keeps it unencrypted in the replica instead (anyone who can read the file\n"
    "can then sign as the device).  `key protect` encrypts a plain one.\n"
    "--db defaults to $SPOTCHECK_DB.  --cacert, --capath and --pin given to enroll or\n"
    "server set-url are remembered by the replica; given to other commands they apply to\n"
    "that run.  Exit codes: 0 ok, 1 refused/invalid, 2 usage, 3 not found, 4 network,\n"
    "5 verification failure, 6 local storage or file.\n";

/* ---- argument parsing ---- */

/*
 * Whether --json was given, for usage errors found before the command runs.
 * A program's own flag, set once in main: the library itself keeps no state.
 */
static int json_mode;

/* fmt is always a literal with one %s; the attribute lets the compiler check the callers. */
int usage_error(const char *fmt, const char *arg)
{
    char msg[512], line[1024];
    snprintf(msg, sizeof msg, "%s", fmt);
    char *at = strstr(msg, "%s");
    if (at)
        snprintf(line, sizeof line, "%.*s%s%s", (int)(at - msg), msg, arg, at + 2);
    else
        snprintf(line, sizeof line, "%s", msg);
    fprintf(stderr, "spotcheck: %s\n(spotcheck --help for usage)\n", line);
    if (json_mode) {
        json_t *o = json_pack("{s:{s:s,s:s,s:s,s:i}}", "error", "status", "usage", "reason", "",
                              "message", line, "exit", EXIT_USAGE);
        if (o) {
            json_dumpf(o, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            json_decref(o);
        }
    }
    return EXIT_USAGE;
}

/* The edit distance of a and b, up to 3 (enough to tell a typo from another word). */
static int near(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return 3;
    int d[33][33];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb] < 3 ? d[la][lb] : 3;
}

/*
 * An option no one knows (the global ones, or the command's spec): say so,
 * and which one was likely meant.
 */
static int unknown_option(const char *arg, const optspec *spec, int nspec)
{
    static const char *const globals[] = {"--db",  "--json",  "--passphrase-env", "--cacert",
                                          "--capath", "--pin", "--proxy", "--version", "--help"};
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
    const char *best = NULL;
    int dist = 3;
    int nglobal = (int)(sizeof globals / sizeof globals[0]);
    for (int i = 0; i < nglobal + nspec; i++) {
        const char *cand = i < nglobal ? globals[i] : spec[i - nglobal].name;
        int d = near(name, cand);
        if (d < dist) {
            dist = d;
            best = cand;
        }
    }
    char msg[256];
    snprintf(msg, sizeof msg, "unknown option \"%.64s\"%s%s%s", arg, best ? " (did you mean " : "",
             best ? best : "", best ? "?)" : "");
    return usage_error("%s", msg);
}

bool help_wanted;

int parse(int argc, char **argv, const optspec *spec, int nspec, int maxpos, parsed *p)
{
    memset(p, 0, sizeof *p);
    if (help_wanted) {
        help_options(spec, nspec);
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0) {
            if (p->npos >= maxpos)
                return usage_error("unexpected argument \"%s\"", a);
            p->pos[p->npos++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        int k = -1;
        for (int s = 0; s < nspec; s++)
            if (strlen(spec[s].name) == nl && strncmp(spec[s].name, a, nl) == 0)
                k = s;
        if (k < 0)
            return unknown_option(a, spec, nspec);
        const char *v = NULL;
        if (spec[k].kind > 0) {
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return usage_error("option %s needs a value", spec[k].name);
        } else if (eq) {
            return usage_error("option %s takes no value", spec[k].name);
        }
        p->set[k] = 1;
        p->val[k] = v;
        if (spec[k].kind == 2) {
            if (p->nrep >= MAX_REPEAT)
                return usage_error("too many %s options", spec[k].name);
            p->rep[p->nrep++] = v;
        }
    }
    return 0;
}

const char *opt(const parsed *p, const optspec *spec, int nspec, const char *name)
{
    for (int s = 0; s < nspec; s++)
        if (strcmp(spec[s].name, name) == 0)
            return p->set[s] ? (p->val[s] ? p->val[s] : "") : NULL;
    return NULL;
}

int need(const char *v, const char *what)
{
    if (!v || !*v)
        return usage_error("%s is required", what);
    return 0;
}

static int parse_points(const char *what, const char *text, int32_t *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    char msg[160];
    snprintf(msg, sizeof msg, "%s \"%.64s\" is not a whole number", what, text);
    if (errno || end == text || *end || v < INT32_MIN || v > INT32_MAX)
        return usage_error("%s", msg);
    *out = (int32_t)v;
    return 0;
}

/*
 * One coordinate in decimal degrees ("31.2304", "-121.47") as degrees x 1e7,
 * read digit by digit (no floating point): at most 7 decimals.
 */
static bool parse_degrees(const char *s, size_t n, int32_t *out)
{
    size_t i = 0;
    bool neg = n > 0 && (s[0] == '-' || s[0] == '+');
    if (neg)
        neg = s[i++] == '-';
    int64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9' && digits < 4; i++, digits++)
        whole = whole * 10 + (s[i] - '0');
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9' && fdigits < 7; i++, fdigits++)
            frac = frac * 10 + (s[i] - '0');
    if (i != n || digits == 0)
        return false;
    for (; fdigits < 7; fdigits++)
        frac *= 10;
    int64_t v = whole * 10000000 + frac;
    if (v > INT32_MAX)
        return false;
    *out = (int32_t)(neg ? -v : v);
    return true;
}

int parse_gps(const char *text, int32_t *lat_e7, int32_t *lon_e7)
{
    const char *comma = strchr(text, ',');
    if (!comma || !parse_degrees(text, (size_t)(comma - text), lat_e7) ||
        !parse_degrees(comma + 1, strlen(comma + 1), lon_e7))
        return usage_error("--gps \"%s\" is not LAT,LON in decimal degrees (31.2304,121.4737)",
                           text);
    return 0;
}

/* ---- output ---- */

static int exit_code(sc_status s)
{
    switch (s) {
    case SC_OK:
        return 0;
    case SC_ERR_NOT_FOUND:
        return EXIT_NOTFOUND;
    case SC_ERR_NETWORK:
    case SC_ERR_PROTOCOL:
    case SC_ERR_SERVER:
    case SC_ERR_UNAVAILABLE:
    case SC_ERR_TLS:
    case SC_ERR_CANCELLED:
        return EXIT_NETWORK;
    case SC_ERR_BAD_SIGNATURE:
    case SC_ERR_PROOF:
    case SC_ERR_CHECKPOINT:
    case SC_ERR_HISTORY_REWRITTEN:
    case SC_ERR_UNPROVEN:
    case SC_ERR_MALFORMED:
        return EXIT_VERIFY;
    case SC_ERR_IO:
    case SC_ERR_STORAGE:
    case SC_ERR_NOMEM:
    case SC_ERR_CRYPTO:
    case SC_ERR_INTERNAL:
        return EXIT_LOCAL;
    default:
        return EXIT_REFUSED;
    }
}

/*
 * Report a failure: the message on stderr, and with --json the error
 * document, with `extra` (may be NULL; its reference is taken) beside it
 * under the name `what`.  Returns the exit code.
 */
static int report_error(cli *k, sc_status s, const char *msg, const char *reason, const char *what,
                        json_t *extra)
{
    fprintf(stderr, "spotcheck: %s (%s)\n", msg, sc_status_name(s));
    if (k->json) {
        json_t *o = json_pack("{s:{s:s,s:s,s:s,s:i}}", "error", "status", sc_status_name(s),
                              "reason", reason, "message", msg, "exit", exit_code(s));
        if (o && extra)
            json_object_set(o, what, extra);
        if (o) {
            json_dumpf(o, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            json_decref(o);
        }
    }
    json_decref(extra);
    return exit_code(s);
}

/* A failure as the handle tells it (fallback when it has no message). */
int fail(cli *k, sc_status s, const char *fallback)
{
    const char *msg = k->c ? sc_client_errmsg(k->c) : "";
    if (!msg || !*msg)
        msg = fallback && *fallback ? fallback : sc_strerror(s);
    int rc = report_error(k, s, msg, k->c ? sc_client_reason(k->c) : "", NULL, NULL);
    /* A locked key: how this command is given the passphrase. */
    if (s == SC_ERR_BAD_PASSPHRASE && !k->pass_env && !k->json)
        fprintf(stderr, "spotcheck: give the passphrase with --passphrase-env VAR (VAR holds it)\n");
    return rc;
}

static void print_value(const json_t *v, int indent);

static void print_scalar(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        fputs(json_string_value(v), stdout);
        break;
    case JSON_INTEGER:
        printf("%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        printf("%g", json_real_value(v));
        break;
    case JSON_TRUE:
        fputs("yes", stdout);
        break;
    case JSON_FALSE:
        fputs("no", stdout);
        break;
    case JSON_NULL:
        fputs("-", stdout);
        break;
    default:
        break;
    }
}

static bool is_scalar(const json_t *v)
{
    return !json_is_object(v) && !json_is_array(v);
}

/* A readable rendering of any JSON: "key: value" lines, nested blocks indented. */
static void print_value(const json_t *v, int indent)
{
    if (json_is_object(v)) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)(uintptr_t)v, key, val)
        {
            printf("%*s%s:", indent, "", key);
            if (is_scalar(val)) {
                putchar(' ');
                print_scalar(val);
                putchar('\n');
            } else if (json_is_array(val) && json_array_size(val) == 0) {
                puts(" (none)");
            } else {
                putchar('\n');
                print_value(val, indent + 2);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *val;
        bool all_scalar = true;
        json_array_foreach((json_t *)(uintptr_t)v, i, val) all_scalar = all_scalar && is_scalar(val);
        json_array_foreach((json_t *)(uintptr_t)v, i, val)
        {
            if (all_scalar) {
                printf("%*s", indent, "");
                print_scalar(val);
                putchar('\n');
            } else {
                printf("%*s[%zu]\n", indent, "", i + 1);
                print_value(val, indent + 2);
            }
        }
    } else {
        printf("%*s", indent, "");
        print_scalar(v);
        putchar('\n');
    }
}

/* One line per list item, the fields people scan first. */
static void print_list(const json_t *items, const char *what)
{
    size_t i;
    json_t *it;
    if (json_array_size(items) == 0) {
        printf("no %s\n", what);
        return;
    }
    json_array_foreach((json_t *)(uintptr_t)items, i, it)
    {
        const char *id = json_string_value(json_object_get(it, "id"));
        const char *status = json_string_value(json_object_get(it, "status"));
        const char *target = json_string_value(json_object_get(it, "target"));
        printf("%s  %-9s  %s", id ? id : "?", status ? status : "", target ? target : "");
        if (strcmp(what, "findings") == 0) {
            const char *grade = json_string_value(json_object_get(it, "grade"));
            const char *dl = json_string_value(json_object_get(it, "deadline"));
            const char *desc = json_string_value(json_object_get(it, "description"));
            printf("  %s  due %s%s%s  %s", grade ? grade : "", dl ? dl : "-",
                   json_is_true(json_object_get(it, "overdue")) ? " OVERDUE" : "",
                   json_is_true(json_object_get(it, "evidence_pending")) ? " (photos pending)" : "",
                   desc ? desc : "");
        } else if (strcmp(what, "checks") == 0) {
            json_t *score = json_object_get(it, "score");
            const char *kind = json_string_value(json_object_get(it, "kind"));
            printf("  %s", kind ? kind : "");
            if (json_is_integer(score))
                printf("  %lld/%lld %s", (long long)json_integer_value(score),
                       (long long)json_integer_value(json_object_get(it, "max")),
                       json_is_true(json_object_get(it, "passed")) ? "passed" : "not passed");
        } else {
            const char *due = json_string_value(json_object_get(it, "due"));
            const char *kind = json_string_value(json_object_get(it, "kind"));
            printf("  %s  due %s%s", kind ? kind : "", due ? due : "-",
                   json_is_true(json_object_get(it, "overdue")) ? " OVERDUE" : "");
        }
        if (json_is_true(json_object_get(it, "voided"))) {
            const char *why = json_string_value(json_object_get(it, "void_reason"));
            printf("  VOIDED%s%s", why ? ": " : "", why ? why : "");
        }
        putchar('\n');
    }
}

/* ---- show, for people ---- */

/* A byte count for people: "812 B", "3.4 KiB", "12.0 MiB". */
static void human_bytes(uint64_t n, char *out, size_t cap)
{
    if (n < 1024)
        snprintf(out, cap, "%llu B", (unsigned long long)n);
    else if (n < 1024 * 1024)
        snprintf(out, cap, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(out, cap, "%.1f MiB", (double)n / (1024.0 * 1024.0));
}


/* Milliseconds since the epoch as local "YYYY-MM-DD HH:MM". */
void local_time(json_int_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M", &tm))
        snprintf(out, cap, "?");
}

/* A device key as people know it: "login (name, device label)"; hex when the replica cannot say. */
static void who(const json_t *people, const char *hex, char *out, size_t cap)
{
    const json_t *p = json_object_get(people, hex);
    const char *login = json_string_value(json_object_get(p, "login"));
    const char *name = json_string_value(json_object_get(p, "name"));
    const char *device = json_string_value(json_object_get(p, "device"));
    if (!p)
        snprintf(out, cap, "%s", hex);
    else if (json_is_true(json_object_get(p, "server")))
        snprintf(out, cap, "syncd (the register)");
    else
        snprintf(out, cap, "%s (%s%s%s)", login ? login : "?", name ? name : "",
                 name && device ? ", " : "", device ? device : "");
}

/* Every string in v that is a device key people names becomes that person. */
static void name_people(json_t *v, const json_t *people)
{
    char line[512];
    if (json_is_object(v)) {
        const char *key;
        json_t *val;
        void *tmp;
        json_object_foreach_safe(v, tmp, key, val)
        {
            if (json_is_string(val) && json_object_get(people, json_string_value(val))) {
                who(people, json_string_value(val), line, sizeof line);
                json_object_set_new(v, key, json_string(line));
            } else {
                name_people(val, people);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *val;
        json_array_foreach(v, i, val)
        {
            if (json_is_string(val) && json_object_get(people, json_string_value(val))) {
                who(people, json_string_value(val), line, sizeof line);
                json_array_set_new(v, i, json_string(line));
            } else {
                name_people(val, people);
            }
        }
    }
}

/* One line per op: when, what, by whom, where it stands, and why it does not count. */
static void print_history(const json_t *history, const json_t *people)
{
    size_t i;
    json_t *e;
    printf("history:%s\n", json_array_size(history) ? "" : " (none)");
    json_array_foreach((json_t *)(uintptr_t)history, i, e)
    {
        char when[32], by[512];
        local_time(json_integer_value(json_object_get(e, "time_ms")), when, sizeof when);
        who(people, json_string_value(json_object_get(e, "author")), by, sizeof by);
        const char *state = json_string_value(json_object_get(e, "state"));
        const json_t *index = json_object_get(e, "log_index");
        printf("  [%zu] %s  %s  by %s  ", i + 1, when,
               json_string_value(json_object_get(e, "kind")), by);
        if (json_is_integer(index))
            printf("log %lld", (long long)json_integer_value(index));
        else
            printf("%s", state && strcmp(state, "pending") == 0 ? "not synced yet" : state);
        const char *validity = json_string_value(json_object_get(e, "validity"));
        const char *why = json_string_value(json_object_get(e, "why"));
        const char *reason = json_string_value(json_object_get(e, "reason"));
        if (validity && strcmp(validity, "valid") != 0)
            printf("  %s%s%s%s%s%s", strcmp(validity, "voided") == 0    ? "VOIDED"
                                     : strcmp(validity, "invalid") == 0 ? "INVALID"
                                                                        : "REJECTED",
                   reason ? " (" : "", reason ? reason : "", reason ? ")" : "", why ? ": " : "",
                   why ? why : "");
        printf("\n      op %s\n", json_string_value(json_object_get(e, "op")));
    }
}

/* One line per photo: its hash, size, type, when it was taken, caption, and whether it is here. */
static void print_photos(const json_t *photos)
{
    size_t i;
    json_t *p;
    printf("photos:%s\n", json_array_size(photos) ? "" : " (none)");
    json_array_foreach((json_t *)(uintptr_t)photos, i, p)
    {
        char size[32], when[32];
        human_bytes((uint64_t)json_integer_value(json_object_get(p, "size")), size, sizeof size);
        local_time(json_integer_value(json_object_get(p, "captured_ms")), when, sizeof when);
        const char *mime = json_string_value(json_object_get(p, "mime"));
        const char *caption = json_string_value(json_object_get(p, "caption"));
        const char *source = json_string_value(json_object_get(p, "time_source"));
        const char *item = json_string_value(json_object_get(p, "item"));
        const json_t *gps = json_object_get(p, "gps");
        printf("  %s  %s  %s  taken %s", json_string_value(json_object_get(p, "sha256")), size,
               mime ? mime : "?", when);
        if (source)
            printf(" (%s time)", strcmp(source, "exif") == 0 ? "EXIF" : "file");
        if (json_is_object(gps))
            printf(" at %lld,%lld (%s)", (long long)json_integer_value(json_object_get(gps, "lat_e7")),
                   (long long)json_integer_value(json_object_get(gps, "lon_e7")),
                   json_string_value(json_object_get(gps, "source")));
        if (item)
            printf("  item %s", item);
        if (caption)
            printf("  \"%s\"", caption);
        putchar('\n');
        if (!json_is_true(json_object_get(p, "present")))
            printf("      not on this tablet yet (the next sync fetches it)\n");
    }
}

/* `show` for people: device keys named, photos and the history one to a line. */
static void human_show(const json_t *shown)
{
    json_t *o = json_deep_copy(shown);
    if (!o)
        return;
    json_t *people = json_incref(json_object_get(o, "people"));
    json_t *history = json_incref(json_object_get(o, "history"));
    json_t *photos = json_incref(json_object_get(o, "photos"));
    json_t *sign_offs = json_incref(json_object_get(o, "sign_offs"));
    json_object_del(o, "people");
    json_object_del(o, "history");
    json_object_del(o, "photos");
    json_object_del(o, "sign_offs");
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(o, "notes"), i, n)
    {
        json_object_del(n, "author_login");
        json_object_del(n, "author_device");
    }
    if (json_array_size(json_object_get(o, "conflicts_closed_by_void")) == 0)
        json_object_del(o, "conflicts_closed_by_void");
    name_people(o, people);
    print_value(o, 0);
    print_photos(photos);
    if (sign_offs) {
        name_people(sign_offs, people);
        print_sign_offs(sign_offs);
    }
    print_history(history, people);
    json_decref(sign_offs);
    json_decref(photos);
    json_decref(history);
    json_decref(people);
    json_decref(o);
}

static void term_safe(json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (sc_text_has_control(s, json_string_length(v)) || !sc_utf8_valid(s, json_string_length(v))) {
            char *shown = sc_text_for_terminal(s);
            if (shown)
                json_string_set(v, shown);
            free(shown);
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) term_safe(val);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *val;
        json_array_foreach(v, i, val) term_safe(val);
    }
}

/*
 * A library result as people read it: every string as a terminal may show
 * it (sc_text_for_terminal), since a finding's description, a note or a
 * name typed on another tablet could otherwise forge lines or send this
 * terminal escape sequences.  --json keeps the text as it is, escaped.
 */
json_t *cli_loads_for_people(const char *text)
{
    json_t *o = json_loads(text, 0, NULL);
    if (o)
        term_safe(o);
    return o;
}

/* Print a library result: as is with --json, else through `human`. */
static int emit(cli *k, char *text, void (*human)(const json_t *))
{
    if (k->json) {
        puts(text);
    } else {
        json_t *o = cli_loads_for_people(text);
        if (o && human)
            human(o);
        else if (o)
            print_value(o, 0);
        else
            puts(text);
        json_decref(o);
    }
    sc_json_free(k->c, text);
    return 0;
}

/* A small JSON result made here. */
int emit_pack(cli *k, json_t *o, const char *human_line)
{
    if (!o)
        return fail(k, SC_ERR_NOMEM, "out of memory");
    if (k->json) {
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
    } else {
        puts(human_line);
    }
    json_decref(o);
    return 0;
}

int done_id(cli *k, sc_status s, const char *id, const char *what)
{
    if (s != SC_OK)
        return fail(k, s, NULL);
    char line[256];
    snprintf(line, sizeof line, "%s %s", what, id);
    return emit_pack(k, json_pack("{s:b,s:s}", "ok", 1, "id", id), line);
}

/* ---- commands ---- */

/*
 * The progress line a sync draws on a terminal: each phase with its totals
 * (ops pushed of the outbox, photos and bytes downloaded of all to fetch,
 * bytes of the photo going up).  The library reports photos and bytes of a
 * download as two phases; the line shows both.
 */
typedef struct meter {
    uint64_t photos, photos_total; /* "download" */
    uint64_t bytes, bytes_total;   /* "download_bytes" */
    bool have_photos, have_bytes;  /* the line needs both before it is drawn */
    char last[128];                /* the line drawn last: the same one is not drawn again */
    bool draw;                     /* a progress line on the terminal */
    /* sync --timings: when the last push and pull round trips ended, and their counts */
    double t_push, t_pull;
    uint64_t pushed, pulled, push_rounds, pull_rounds;
    bool in_round;     /* a round's "push" event came, its "pull" event not yet */
    bool round_pushed; /* that round pushed ops: a push round trip, else a pull one */
    bool uploaded;     /* photos went up: later rounds (confirming them) are "after" */
} meter;

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int progress(void *ctx, const char *phase, uint64_t done, uint64_t total);

/*
 * Ctrl-C or SIGTERM during a network call stops it cleanly: the handler
 * only interrupts the handle (one atomic store, which is safe in a signal
 * handler), the call returns SC_ERR_CANCELLED, and the replica is as after
 * a failed sync.  Outside network calls the signals do what they always do.
 */
static sc_client *volatile net_client;

static void on_signal(int sig)
{
    (void)sig;
    sc_client_interrupt(net_client);
}

static void net_begin(cli *k)
{
    net_client = k->c;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void net_end(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    net_client = NULL;
}

/*
 * The device key's keeper, chosen on the command line: a passphrase
 * (--passphrase-env VAR) or, asked for by name, none (--plain-key).
 */
static int enroll_key_choice(const char *pass, bool plain)
{
    if (pass && *pass && plain)
        return usage_error("%s", "enroll: --passphrase-env and --plain-key exclude each other: "
                                 "the key is either encrypted under the passphrase or plain");
    if (pass && !*pass)
        return usage_error("%s", "enroll: the passphrase in --passphrase-env is empty");
    if (!pass && !plain)
        return usage_error("%s", "enroll: the device key needs a passphrase: give "
                                 "--passphrase-env VAR (VAR holds it), or --plain-key to keep "
                                 "the key unencrypted in the replica");
    return 0;
}

/* `key protect`: encrypt the device key in the replica under a new passphrase. */
static int cmd_key(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--new-passphrase-env", 1, "VAR", NULL, "the variable holding the new passphrase"}};
    parsed p;
    PARSE(1);
    if (p.npos != 1 || strcmp(p.pos[0], "protect") != 0)
        return usage_error("%s", "usage: spotcheck [--passphrase-env VAR] key protect "
                                 "--new-passphrase-env NEWVAR");
    int rc;
    if ((rc = need(OPT("--new-passphrase-env"), "--new-passphrase-env")))
        return rc;
    const char *pass = getenv(OPT("--new-passphrase-env"));
    if (!pass || !*pass)
        return usage_error("--new-passphrase-env: the variable %s is not set or empty",
                           OPT("--new-passphrase-env"));
    sc_status s = sc_key_protect(k->c, pass, strlen(pass));
    if (s != SC_OK)
        return fail(k, s, NULL);
    json_t *o = json_pack("{s:b,s:s}", "ok", 1, "key", "passphrase");
    return emit_pack(k, o, "the device key is encrypted under the new passphrase");
}

/*
 * Enroll, then pull the register at once: enrollment happens online, and a
 * tablet that leaves for the field without targets and score sheets cannot
 * record anything.  A failed first pull does not undo the enrollment; it is
 * reported, and `spotcheck sync` finishes it later.
 */
static int cmd_enroll(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--server", 1, "URL", NULL, "the register's address, as the admin gave it"},
        {"--code", 1, "CODE", NULL, "the one-time enrollment code (syncd admin code)"},
        {"--label", 1, "TEXT", NULL, "what to call this device (\"tablet 3\")"},
        {"--no-sync", 0, NULL, NULL, "do not pull the register right after enrolling"},
        {"--plain-key", 0, NULL, NULL, "keep the device key unencrypted in the replica"}};
    parsed p;
    PARSE(0);
    int rc;
    if ((rc = need(OPT("--server"), "--server")) || (rc = need(OPT("--code"), "--code")))
        return rc;
    const char *pass = k->pass_env ? getenv(k->pass_env) : NULL;
    if ((rc = enroll_key_choice(pass, OPT("--plain-key") != NULL)))
        return rc;
    char *json = NULL;
    sc_enroll_params ep = {.size = sizeof ep, .server_url = OPT("--server"), .code = OPT("--code"),
                           .label = OPT("--label"), .pass = pass, .pass_len = pass ? strlen(pass) : 0,
                           .flags = OPT("--plain-key") ? SC_ENROLL_PLAIN_KEY : 0};
    net_begin(k);
    sc_status s = sc_enroll_v2(k->c, &ep, &json);
    net_end();
    if (s != SC_OK)
        return fail(k, s, NULL);
    if (OPT("--no-sync"))
        return emit(k, json, NULL);
    json_error_t e;
    json_t *o = json_loads(json, 0, &e);
    sc_json_free(k->c, json);
    if (!o)
        return fail(k, SC_ERR_NOMEM, "out of memory");
    bool tty = isatty(STDERR_FILENO);
    char *report = NULL;
    meter m = {0};
    net_begin(k);
    s = sc_sync_v2(k->c, tty ? progress : NULL, &m, &report);
    net_end();
    if (tty)
        fputs("\r\033[K", stderr);
    if (s == SC_OK) {
        json_t *r = json_loads(report, 0, &e);
        json_object_set_new(o, "pulled", json_integer(json_integer_value(json_object_get(r, "pulled"))));
        json_decref(r);
    } else {
        fprintf(stderr, "spotcheck: enrolled, but the first sync failed: %s (run spotcheck sync)\n",
                sc_client_errmsg(k->c));
        json_object_set_new(o, "sync_error", json_string(sc_client_errmsg(k->c)));
    }
    sc_json_free(k->c, report);
    char line[512];
    snprintf(line, sizeof line, "enrolled device %s for %s (login %s, %s); pulled %lld ops",
             json_string_value(json_object_get(o, "device_id")),
             json_string_value(json_object_get(o, "name")),
             json_string_value(json_object_get(o, "login")),
             json_string_value(json_object_get(o, "role")),
             (long long)json_integer_value(json_object_get(o, "pulled")));
    return emit_pack(k, o, line);
}

static int progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    meter *m = ctx;
    /*
     * Each answer applied is a "push" event then a "pull" one; while a
     * request is on the wire sc_sync_v2 repeats the last event, which is a
     * "pull", so only a "pull" right after a "push" ends a round trip.
     */
    if (strcmp(phase, "push") == 0) {
        m->in_round = true;
        m->round_pushed = done > m->pushed;
        m->pushed = done;
    } else if (strcmp(phase, "pull") == 0 && m->in_round) {
        m->in_round = false;
        m->pulled = done;
        /* The rounds that confirm uploaded photos are counted, their time is the photos'. */
        if (m->round_pushed) {
            m->t_push = m->uploaded ? m->t_push : cli_now();
            m->push_rounds++;
        } else {
            m->t_pull = m->uploaded ? m->t_pull : cli_now();
            m->pull_rounds++;
        }
    } else if (strcmp(phase, "upload") == 0) {
        m->uploaded = true;
    }
    if (!m->draw)
        return 0;
    char a[32], b[32];
    bool photos = strcmp(phase, "download") == 0, bytes = strcmp(phase, "download_bytes") == 0;
    if (photos) {
        m->photos = done;
        m->photos_total = total;
        m->have_photos = true;
    } else if (bytes) {
        m->bytes = done;
        m->bytes_total = total;
        m->have_bytes = true;
    }
    char line[sizeof m->last];
    if ((photos || bytes) && !(m->have_photos && m->have_bytes)) {
        return 0;
    } else if (photos || bytes) {
        human_bytes(m->bytes, a, sizeof a);
        human_bytes(m->bytes_total, b, sizeof b);
        snprintf(line, sizeof line, "download %llu/%llu photos, %s/%s",
                 (unsigned long long)m->photos, (unsigned long long)m->photos_total, a, b);
    } else if (strcmp(phase, "upload") == 0) {
        human_bytes(done, a, sizeof a);
        human_bytes(total, b, sizeof b);
        snprintf(line, sizeof line, "upload   %s/%s of a photo", a, b);
    } else if (total) {
        snprintf(line, sizeof line, "%-8.16s %llu/%llu ops", phase, (unsigned long long)done,
                 (unsigned long long)total);
    } else {
        snprintf(line, sizeof line, "%-8.16s %llu ops", phase, (unsigned long long)done);
    }
    if (strcmp(line, m->last) != 0) {
        /* \033[K clears what a longer line before left. */
        fprintf(stderr, "\r\033[K%s", line);
        fflush(stderr);
        memcpy(m->last, line, sizeof line);
    }
    return 0;
}

static void human_sync(const json_t *o)
{
    printf("pushed %lld (accepted %lld), pulled %lld, photos up %lld down %lld, conflicts %lld\n",
           (long long)json_integer_value(json_object_get(o, "pushed")),
           (long long)json_integer_value(json_object_get(o, "accepted")),
           (long long)json_integer_value(json_object_get(o, "pulled")),
           (long long)json_integer_value(json_object_get(o, "photos_uploaded")),
           (long long)json_integer_value(json_object_get(o, "photos_downloaded")),
           (long long)json_integer_value(json_object_get(o, "conflicts")));
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(o, "rejected"), i, r)
        printf("rejected %s: %s: %s\n", json_string_value(json_object_get(r, "op")),
               json_string_value(json_object_get(r, "reason")),
               json_string_value(json_object_get(r, "message")));
    json_array_foreach(json_object_get(o, "photos_refused"), i, r)
        printf("photo %s refused (%s), stays pending: %s\n",
               json_string_value(json_object_get(r, "photo")),
               json_string_value(json_object_get(r, "reason")),
               json_string_value(json_object_get(r, "message")));
    json_t *cp = json_object_get(o, "checkpoint");
    if (json_is_object(cp))
        printf("checkpoint %lld %s\n", (long long)json_integer_value(json_object_get(cp, "size")),
               json_string_value(json_object_get(cp, "root")));
}

/* Where this device's ops and photos stand (sc_client_standing); false when it cannot be read. */
typedef struct standing {
    long long queued, proven, rejected, photos;
} standing;

/* The counts alone (sc_client_standing): asking costs the same whatever the replica holds. */
static bool standing_of(cli *k, standing *out)
{
    memset(out, 0, sizeof *out);
    sc_standing st = {.size = sizeof st};
    if (sc_client_standing(k->c, &st) != SC_OK)
        return false;
    out->queued = (long long)st.outbox;
    out->proven = (long long)st.proven;
    out->rejected = (long long)st.rejected;
    out->photos = (long long)st.photos_pending_upload;
    return true;
}

/*
 * A sync that failed may have applied rounds before it stopped: say what
 * got in (ops proven in the log, ops rejected, photos uploaded) and what
 * still waits, after the error itself.
 */
static int sync_failed(cli *k, sc_status s, const standing *before)
{
    char msg[1024], reason[64];
    snprintf(msg, sizeof msg, "%s", sc_client_errmsg(k->c));
    snprintf(reason, sizeof reason, "%s", sc_client_reason(k->c));
    standing after;
    if (!standing_of(k, &after))
        return report_error(k, s, msg, reason, NULL, NULL);
    long long proven = after.proven - before->proven, rejected = after.rejected - before->rejected;
    long long up = before->photos > after.photos ? before->photos - after.photos : 0;
    json_t *got = json_pack("{s:I,s:I,s:I,s:I,s:I}", "ops_proven", (json_int_t)proven,
                            "ops_rejected", (json_int_t)rejected, "ops_queued",
                            (json_int_t)after.queued, "photos_uploaded", (json_int_t)up,
                            "photos_waiting", (json_int_t)after.photos);
    int rc = report_error(k, s, msg, reason, "sync", got);
    char refused[64] = "";
    if (rejected)
        snprintf(refused, sizeof refused, ", syncd refused %lld", rejected);
    fprintf(stderr,
            "spotcheck: before it stopped, this sync got %lld op%s into the log (proven)%s and "
            "uploaded %lld photo%s; still waiting: %lld op%s and %lld photo%s "
            "(spotcheck outbox lists them)\n",
            proven, proven == 1 ? "" : "s", refused, up, up == 1 ? "" : "s", after.queued,
            after.queued == 1 ? "" : "s", after.photos, after.photos == 1 ? "" : "s");
    return rc;
}

/*
 * sync --timings: where the time of this run went, on stderr.  A round trip
 * that pushed ops is the push phase's (with what its answer pulled), one
 * that pushed none the pull phase's; the push phase ends with its last
 * answer applied, the pull phase with its last; "after" is the photos, the
 * round trips that confirm uploads (counted with the pull phase's answers)
 * and the end of the sync.
 */
static void print_timings(const cli *k, const meter *m, double t_sync, double t_done)
{
    double ms = 1e3;
    double push_end = m->push_rounds ? m->t_push : t_sync;
    double pull_end = m->pull_rounds && m->t_pull > push_end ? m->t_pull : push_end;
    fprintf(stderr,
            "timings: start and open %.1f ms, status %.1f ms, push %.1f ms (%llu ops, %llu "
            "answers), pull %.1f ms (%llu ops, %llu answers), after %.1f ms; sync %.1f ms, "
            "total %.1f ms\n",
            (k->t_opened - k->t_start) * ms, (t_sync - k->t_opened) * ms, (push_end - t_sync) * ms,
            (unsigned long long)m->pushed, (unsigned long long)m->push_rounds,
            (pull_end - push_end) * ms, (unsigned long long)m->pulled,
            (unsigned long long)m->pull_rounds, (t_done - pull_end) * ms, (t_done - t_sync) * ms,
            (cli_now() - k->t_start) * ms);
}

static int cmd_sync(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--quiet", 0, NULL, NULL, "no progress line on a terminal"},
        {"--timings", 0, NULL, NULL, "say on stderr how long each phase of this run took"}};
    parsed p;
    PARSE(0);
    bool tty = isatty(STDERR_FILENO) && !OPT("--quiet"), timed = OPT("--timings");
    char *json = NULL;
    meter m = {.draw = tty};
    standing before;
    bool known = standing_of(k, &before);
    net_begin(k);
    double t_sync = cli_now();
    sc_status s = sc_sync_v2(k->c, tty || timed ? progress : NULL, &m, &json);
    double t_done = cli_now();
    net_end();
    if (tty)
        fputs("\r\033[K", stderr);
    if (s != SC_OK)
        return known ? sync_failed(k, s, &before) : fail(k, s, NULL);
    int rc = emit(k, json, human_sync);
    if (timed)
        print_timings(k, &m, t_sync, t_done);
    return rc;
}

/* spotcheck outbox: this device's ops queued, proven in the log, rejected; photos to upload. */
static void human_outbox(const json_t *o)
{
    const json_t *lists[] = {json_object_get(o, "queued"), json_object_get(o, "proven"),
                             json_object_get(o, "rejected")};
    long long total = (long long)json_integer_value(json_object_get(o, "proven_total"));
    printf("queued, not yet in the log: %zu\n", json_array_size(lists[0]));
    for (int l = 0; l < 3; l++) {
        if (l == 1)
            printf("proven in the log: %lld%s\n", total,
                   (long long)json_array_size(lists[1]) < total ? " (the latest, newest first; --all for every one)" : "");
        if (l == 2)
            printf("rejected by syncd: %zu\n", json_array_size(lists[2]));
        size_t i;
        json_t *e;
        json_array_foreach((json_t *)(uintptr_t)lists[l], i, e)
        {
            printf("  %s  %s on %s %s", json_string_value(json_object_get(e, "op")),
                   json_string_value(json_object_get(e, "kind")),
                   json_string_value(json_object_get(e, "type")),
                   json_string_value(json_object_get(e, "entity")));
            if (json_is_integer(json_object_get(e, "log_index")))
                printf("  log %lld", (long long)json_integer_value(json_object_get(e, "log_index")));
            if (l == 2)
                printf("  %s: %s", json_string_value(json_object_get(e, "reason")),
                       json_string_value(json_object_get(e, "message")));
            putchar('\n');
        }
    }
    const json_t *photos = json_object_get(o, "photos_waiting");
    printf("photos waiting to upload: %zu\n", json_array_size(photos));
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)(uintptr_t)photos, i, e)
    {
        char size[32];
        human_bytes((uint64_t)json_integer_value(json_object_get(e, "size")), size, sizeof size);
        printf("  %s  %s\n", json_string_value(json_object_get(e, "sha256")), size);
    }
}

static int cmd_outbox(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--all", 0, NULL, NULL, "every op proven in the log, not only the latest"},
        {"--last", 1, "N", NULL, "the latest N proven ops (default 20)"}};
    parsed p;
    PARSE(0);
    size_t last = OUTBOX_PROVEN_SHOWN;
    if (OPT("--all") && OPT("--last"))
        return usage_error("%s", "outbox takes --all or --last N, not both");
    if (OPT("--all"))
        last = 0;
    if (OPT("--last")) {
        char *end;
        errno = 0;
        long long v = strtoll(OPT("--last"), &end, 10);
        if (errno || end == OPT("--last") || *end || v < 1)
            return usage_error("--last \"%s\" is not a count of 1 or more", OPT("--last"));
        last = (size_t)v;
    }
    char *json = NULL;
    sc_status s = sc_outbox(k->c, last, &json);
    if (s != SC_OK)
        return fail(k, s, NULL);
    return emit(k, json, human_outbox);
}

/* spotcheck server set-url URL: the same register at another URL. */
static int cmd_server(cli *k, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "set-url") != 0)
        return usage_error("%s", "server set-url URL");
    if (argc != 2 || strncmp(argv[1], "--", 2) == 0)
        return usage_error("%s", "server set-url URL (and nothing else)");
    char *json = NULL;
    net_begin(k);
    sc_status s = sc_server_set_url(k->c, argv[1], &json);
    net_end();
    if (s != SC_OK)
        return fail(k, s, NULL);
    json_error_t e;
    json_t *o = json_loads(json, 0, &e);
    sc_json_free(k->c, json);
    char line[1200];
    snprintf(
        line, sizeof line, "server %s (was %s): the same register, its log at %lld entries",
        json_string_value(json_object_get(o, "server")),
        json_string_value(json_object_get(o, "previous")),
        (long long)json_integer_value(json_object_get(json_object_get(o, "checkpoint"), "size")));
    return emit_pack(k, o, line);
}

/* spotcheck assign: a supervisor plans a check. */
static int cmd_assign(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--target", 1, "CODE", NULL, "the target (spotcheck list targets)"},
        {"--inspector", 2, "LOGIN", NULL, "an inspector or supervisor; repeat for each"},
        {"--kind", 1, "KIND", "kind", "the kind of check"},
        {"--disclosure", 1, "D", "disclosure", "announced, or not (明查/暗访)"},
        {"--due", 1, "YYYY-MM-DD", NULL, "the day it is due"},
        {"--template", 1, "ID|CODE", NULL, "the score sheet (spotcheck list templates)"},
        {"--note", 1, "T", NULL, "a note for the inspectors"},
        {"--recheck", 1, "ID", NULL, "the check this one rechecks"},
        {"--verifies", 1, "ID", NULL, "what this check verifies"}};
    parsed p;
    PARSE(0);
    int rc;
    if ((rc = need(OPT("--target"), "--target")) || (rc = need(OPT("--kind"), "--kind")) ||
        (rc = need(OPT("--disclosure"), "--disclosure")))
        return rc;
    if (p.nrep == 0)
        return usage_error("assign needs at least one %s LOGIN", "--inspector");
    sc_assign_params_v2 ap = {.size = sizeof ap,
                              .target = OPT("--target"),
                              .inspectors = p.rep,
                              .ninspectors = (size_t)p.nrep,
                              .kind = OPT("--kind"),
                              .disclosure = OPT("--disclosure"),
                              .due = OPT("--due"),
                              .template_ = OPT("--template"),
                              .note = OPT("--note")};
    /*
     * --recheck F1,F2,...: the findings a look-back round re-checks.  Room for
     * one past the library's 256, so that it refuses a longer list by name.
     */
    enum { RECHECKS_ROOM = 257 };
    char ids[RECHECKS_ROOM * SC_ID_HEX_LEN + 1];
    const char *rechecks[RECHECKS_ROOM];
    size_t n = 0;
    if (OPT("--recheck")) {
        if (strlen(OPT("--recheck")) >= sizeof ids)
            return usage_error("%s lists too many findings", "--recheck");
        snprintf(ids, sizeof ids, "%s", OPT("--recheck"));
        for (char *t = strtok(ids, ","); t && n < RECHECKS_ROOM; t = strtok(NULL, ","))
            rechecks[n++] = t;
        if (n == 0)
            return usage_error("%s names no finding", "--recheck");
    }
    ap.rechecks = rechecks;
    ap.nrechecks = n;
    /* --verifies C1,C2,...: the self-checks a spot check verifies (the library bounds them). */
    char cids[65 * SC_ID_HEX_LEN + 1];
    const char *verifies[65];
    size_t nv = 0;
    if (OPT("--verifies")) {
        if (strlen(OPT("--verifies")) >= sizeof cids)
            return usage_error("%s lists too many self-checks", "--verifies");
        snprintf(cids, sizeof cids, "%s", OPT("--verifies"));
        for (char *t = strtok(cids, ","); t && nv < 65; t = strtok(NULL, ","))
            verifies[nv++] = t;
        if (nv == 0)
            return usage_error("%s names no self-check", "--verifies");
    }
    ap.verifies = verifies;
    ap.nverifies = nv;
    char id[SC_ID_HEX_LEN];
    sc_status s = sc_assign_v2(k->c, &ap, id);
    if (s != SC_OK)
        return fail(k, s, NULL);
    return emit_pack(k, json_pack("{s:s}", "id", id), id);
}

static int cmd_check(cli *k, int argc, char **argv)
{
    if (argc < 1)
        return usage_error("check needs a subcommand: %s", "open, score, submit, amend, sign-off");
    const char *sub = argv[0];
    argc--;
    argv++;
    if (strcmp(sub, "open") == 0) {
        static const optspec spec[] = {
            {"--target", 1, "CODE", NULL, "the target (spotcheck list targets)"},
            {"--kind", 1, "KIND", "kind", "the kind of check (default: the assignment's)"},
            {"--disclosure", 1, "D", "disclosure", "announced, or not (default: the assignment's)"},
            {"--template", 1, "ID|CODE", NULL, "the score sheet (spotcheck list templates)"},
            {"--assignment", 1, "ID", NULL, "the assignment it carries out"},
            {"--relation", 1, "R", "relation", "who checks whom"},
            {"--gps", 1, "LAT,LON", NULL, "where it is opened, in decimal degrees"}};
        parsed p;
        PARSE(0);
        if (!OPT("--assignment")) {
            int rc;
            if ((rc = need(OPT("--target"), "--target")) || (rc = need(OPT("--kind"), "--kind")) ||
                (rc = need(OPT("--disclosure"), "--disclosure")))
                return rc;
        }
        sc_check_params_v2 cp = {.size = sizeof cp,
                                 .target = OPT("--target"),
                                 .kind = OPT("--kind"),
                                 .disclosure = OPT("--disclosure"),
                                 .relation = OPT("--relation"),
                                 .template_ = OPT("--template"),
                                 .assignment = OPT("--assignment"),
                                 .has_gps = OPT("--gps") != NULL};
        int rc;
        if (OPT("--gps") && (rc = parse_gps(OPT("--gps"), &cp.lat_e7, &cp.lon_e7)))
            return rc;
        char id[SC_ID_HEX_LEN];
        sc_status s = sc_check_open_v2(k->c, &cp, id);
        if (s != SC_OK)
            return fail(k, s, NULL);
        return emit_pack(k, json_pack("{s:s}", "id", id), id);
    }
    if (strcmp(sub, "score") == 0 || strcmp(sub, "amend") == 0) {
        static const optspec spec[] = {
            {"--item", 1, "CODE", NULL, "the item's code (spotcheck show CHECK lists those unscored)"},
            {"--status", 1, "S", "item_status", "the item's result"},
            {"--points", 1, "N", NULL, "points earned (0..the item's maximum)"},
            {"--deduct", 1, "N", NULL, "points deducted (扣分), on a deduction item"},
            {"--measured", 1, "V", NULL, "the value measured, as text (\"36.8\", \"3 of 8\")"},
            {"--relapse-prone", 0, NULL, NULL, "易反弹: likely to slip back, to follow up"},
            {"--note", 1, "T", NULL, "what was seen"},
            {"--reason", 1, "T", NULL, "why it is amended (amend only, required)"}};
        parsed p;
        PARSE(1);
        int rc;
        bool amend = strcmp(sub, "amend") == 0;
        if ((rc = need(p.pos[0], "CHECK")) || (rc = need(OPT("--item"), "--item")) ||
            (rc = need(OPT("--status"), "--status")) ||
            (amend && (rc = need(OPT("--reason"), "--reason"))))
            return rc;
        sc_item_params ip = {.size = sizeof ip,
                             .item = OPT("--item"),
                             .status = OPT("--status"),
                             .has_points = OPT("--points") != NULL,
                             .has_deduction = OPT("--deduct") != NULL,
                             .measured = OPT("--measured"),
                             .relapse_prone = OPT("--relapse-prone") != NULL,
                             .note = OPT("--note")};
        if ((OPT("--points") && (rc = parse_points("--points", OPT("--points"), &ip.points))) ||
            (OPT("--deduct") && (rc = parse_points("--deduct", OPT("--deduct"), &ip.deduction))))
            return rc;
        sc_status s = amend ? sc_check_amend_v2(k->c, p.pos[0], OPT("--reason"), &ip)
                            : sc_check_score_v2(k->c, p.pos[0], &ip);
        return done_id(k, s, p.pos[0], amend ? "amended" : "scored");
    }
    if (strcmp(sub, "submit") == 0) {
        static const optspec spec[] = {
            {"--remarks", 1, "T", NULL, "the inspector's remarks"},
            {"--gps", 1, "LAT,LON", NULL, "where it is submitted, in decimal degrees"}};
        parsed p;
        PARSE(1);
        int rc;
        if ((rc = need(p.pos[0], "CHECK")))
            return rc;
        sc_submit_params sp = {.size = sizeof sp,
                               .remarks = OPT("--remarks"),
                               .has_gps = OPT("--gps") != NULL};
        if (OPT("--gps") && (rc = parse_gps(OPT("--gps"), &sp.lat_e7, &sp.lon_e7)))
            return rc;
        return done_id(k, sc_check_submit_v2(k->c, p.pos[0], &sp), p.pos[0], "submitted");
    }
    if (strcmp(sub, "sign-off") == 0)
        return check_sign_off(k, argc, argv);
    return usage_error("unknown check subcommand \"%s\"", sub);
}

static int cmd_finding(cli *k, int argc, char **argv)
{
    if (argc < 1)
        return usage_error("finding needs a subcommand: %s", "add, set");
    const char *sub = argv[0];
    argc--;
    argv++;
    if (strcmp(sub, "add") == 0) {
        static const optspec spec[] = {
            {"--check", 1, "CHECK", NULL, "the inspection it was found in"},
            {"--target", 1, "CODE", NULL, "the target, for a finding outside an inspection"},
            {"--desc", 1, "T", NULL, "what is wrong (required)"},
            {"--grade", 1, "G", "grade", "a general hazard or a major one (required)"},
            {"--category", 1, "C", NULL, "its category"},
            {"--item", 1, "CODE", NULL, "the score sheet item it is about"},
            {"--location", 1, "T", NULL, "where it is"},
            {"--deadline", 1, "YYYY-MM-DD", NULL, "the rectification deadline"},
            {"--responsible", 1, "ORG", NULL, "the org unit that rectifies it"},
            {"--source", 1, "S", "source", "where it came from (default inspection)"},
            {"--fixed-on-spot", 0, NULL, NULL, "rectified there and then (当场整改)"},
            {"--photo", 2, "FILE", NULL, "a photo; repeat for each"}};
        parsed p;
        PARSE(0);
        int rc;
        if ((rc = need(OPT("--desc"), "--desc")) || (rc = need(OPT("--grade"), "--grade")))
            return rc;
        if (!OPT("--check") && !OPT("--target"))
            return usage_error("%s", "finding add needs --check or --target");
        sc_finding_params_v2 fp = {.size = sizeof fp,
                                   .check = OPT("--check"),
                                   .target = OPT("--target"),
                                   .description = OPT("--desc"),
                                   .grade = OPT("--grade"),
                                   .category = OPT("--category"),
                                   .item = OPT("--item"),
                                   .location = OPT("--location"),
                                   .deadline = OPT("--deadline"),
                                   .responsible = OPT("--responsible"),
                                   .source = OPT("--source"),
                                   .fixed_on_spot = OPT("--fixed-on-spot") != NULL,
                                   .photos = p.rep,
                                   .n_photos = (size_t)p.nrep};
        char id[SC_ID_HEX_LEN];
        sc_status s = sc_finding_add_v2(k->c, &fp, id);
        if (s != SC_OK)
            return fail(k, s, NULL);
        return emit_pack(k, json_pack("{s:s}", "id", id), id);
    }
    if (strcmp(sub, "set") == 0) {
        static const optspec spec[] = {
            {"--deadline", 1, "YYYY-MM-DD", NULL, "the deadline (before the notice)"},
            {"--desc", 1, "T", NULL, "the description"},
            {"--grade", 1, "G", "grade", "the grade"},
            {"--responsible", 1, "ORG", NULL, "the org unit that rectifies it"},
            {"--category", 1, "C", NULL, "the category"},
            {"--location", 1, "T", NULL, "the location"}};
        static const char *const fields[] = {"deadline",    "description", "grade",
                                             "responsible", "category",    "location"};
        parsed p;
        PARSE(1);
        int rc;
        if ((rc = need(p.pos[0], "FINDING")))
            return rc;
        int n = 0;
        for (int i = 0; i < (int)(sizeof spec / sizeof spec[0]); i++) {
            if (!p.set[i])
                continue;
            sc_status s = sc_finding_set(k->c, p.pos[0], fields[i], p.val[i]);
            if (s != SC_OK)
                return fail(k, s, NULL);
            n++;
        }
        if (n == 0)
            return usage_error("%s", "finding set needs at least one field to set");
        return done_id(k, SC_OK, p.pos[0], "updated");
    }
    return usage_error("unknown finding subcommand \"%s\"", sub);
}

/* `photo get SHA FILE`: a photo out of the replica's store, into a new file. */
static int photo_get(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {{"--quiet", 0, NULL, NULL, "print nothing on success"}};
    parsed p;
    PARSE(2);
    int rc;
    if ((rc = need(p.pos[0], "SHA256")) || (rc = need(p.pos[1], "FILE")))
        return rc;
    char *out = NULL;
    sc_status s = sc_photo_get(k->c, p.pos[0], p.pos[1], &out);
    if (s != SC_OK)
        return fail(k, s, NULL);
    json_t *o = json_loads(out, 0, NULL);
    sc_json_free(k->c, out);
    const char *mime = json_string_value(json_object_get(o, "mime"));
    char line[4200];
    snprintf(line, sizeof line, "%s: %s, %lld bytes", p.pos[1], mime ? mime : "?",
             (long long)json_integer_value(json_object_get(o, "size")));
    if (OPT("--quiet") && !k->json) {
        json_decref(o);
        return 0;
    }
    return emit_pack(k, o, line);
}

static int cmd_photo(cli *k, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "get") == 0)
        return photo_get(k, argc - 1, argv + 1);
    if (argc < 1 || strcmp(argv[0], "add") != 0)
        return usage_error("%s", "photo add ENTITY FILE | photo get SHA256 FILE");
    static const optspec spec[] = {
        {"--caption", 1, "T", NULL, "what the photo shows"},
        {"--item", 1, "CODE", NULL, "the score sheet item it shows (a check's photo)"},
        {"--gps", 1, "LAT,LON", NULL, "where it was taken, in decimal degrees"}};
    parsed p;
    argc--;
    argv++;
    PARSE(2);
    int rc;
    if ((rc = need(p.pos[0], "ENTITY")) || (rc = need(p.pos[1], "FILE")))
        return rc;
    sc_photo_params pp = {.size = sizeof pp,
                          .entity = p.pos[0],
                          .path = p.pos[1],
                          .caption = OPT("--caption"),
                          .item = OPT("--item"),
                          .has_gps = OPT("--gps") != NULL};
    if (OPT("--gps") && (rc = parse_gps(OPT("--gps"), &pp.lat_e7, &pp.lon_e7)))
        return rc;
    char sha[SC_HASH_HEX_LEN];
    sc_status s = sc_photo_add_v2(k->c, &pp, sha);
    if (s != SC_OK)
        return fail(k, s, NULL);
    return emit_pack(k, json_pack("{s:s}", "sha256", sha), sha);
}

static int cmd_rectify(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {{"--note", 1, "T", NULL, "what was done (required)"},
                                   {"--measures", 1, "T", NULL, "the measures taken"},
                                   {"--photo", 2, "FILE", NULL, "a photo; repeat for each"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "FINDING")) || (rc = need(OPT("--note"), "--note")))
        return rc;
    return done_id(k,
                   sc_rectify(k->c, p.pos[0], OPT("--note"), OPT("--measures"), p.rep,
                              (size_t)p.nrep),
                   p.pos[0], "reported");
}

static int cmd_revisit(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--result", 1, "R", "revisit_result", "what the revisit found (required)"},
        {"--note", 1, "T", NULL, "what was seen"},
        {"--look-back", 0, NULL, NULL, "a look-back (回头看) of a closed finding"},
        {"--acceptance", 0, NULL, NULL, "the acceptance (验收) by the level above"},
        {"--photo", 2, "FILE", NULL, "a photo; repeat for each"},
        {"--look-back-of", 1, "ID", NULL, "the closed finding this look-back is of"},
        {"--lift-stop-work", 0, NULL, NULL, "lift the stop-work order (rectified)"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "FINDING")) || (rc = need(OPT("--result"), "--result")))
        return rc;
    /* Naming the round makes it a look-back. */
    unsigned flags = (OPT("--look-back") || OPT("--look-back-of") ? SC_REVISIT_LOOK_BACK : 0) |
                     (OPT("--acceptance") ? SC_REVISIT_ACCEPTANCE : 0) |
                     (OPT("--lift-stop-work") ? SC_REVISIT_LIFT_STOP_WORK : 0);
    sc_revisit_params rp = {.size = sizeof rp,
                            .result = OPT("--result"),
                            .note = OPT("--note"),
                            .flags = flags,
                            .look_back_of = OPT("--look-back-of"),
                            .photos = p.rep,
                            .n_photos = (size_t)p.nrep};
    return done_id(k, sc_revisit_v3(k->c, p.pos[0], &rp), p.pos[0],
                   OPT("--acceptance")       ? "accepted (验收)"
                   : OPT("--lift-stop-work") ? "revisited, stop-work lifted for"
                                             : "revisited");
}

static int cmd_simple(cli *k, const char *cmd, int argc, char **argv)
{
    static const optspec spec[] = {{"--note", 1, "T", NULL, "a note (close)"},
                                   {"--reason", 1, "T", NULL, "why (reopen, void: required)"},
                                   {"--text", 1, "T", NULL, "the note's text (note)"}};
    parsed p;
    PARSE(2);
    int rc;
    if ((rc = need(p.pos[0], "ID")))
        return rc;
    sc_status s;
    if (strcmp(cmd, "close") == 0) {
        s = sc_close(k->c, p.pos[0], OPT("--note"));
    } else if (strcmp(cmd, "reopen") == 0) {
        if ((rc = need(OPT("--reason"), "--reason")))
            return rc;
        s = sc_reopen(k->c, p.pos[0], OPT("--reason"));
    } else if (strcmp(cmd, "void") == 0) {
        if ((rc = need(OPT("--reason"), "--reason")))
            return rc;
        s = sc_void(k->c, p.pos[0], OPT("--reason"));
    } else {
        const char *text = OPT("--text") ? OPT("--text") : p.pos[1];
        if ((rc = need(text, "--text")))
            return rc;
        s = sc_note_add(k->c, p.pos[0], text);
    }
    return done_id(k, s, p.pos[0], strcmp(cmd, "close") == 0 ? "closed" : cmd);
}

static void human_findings(const json_t *o)
{
    print_list(json_object_get(o, "items"), "findings");
}
static void human_checks(const json_t *o)
{
    print_list(json_object_get(o, "items"), "checks");
}
static void human_assignments(const json_t *o)
{
    print_list(json_object_get(o, "items"), "assignments");
}

/* Targets and score sheets: one line each, the code first (what commands take). */
static void human_targets(const json_t *o)
{
    size_t i;
    json_t *it;
    const json_t *items = json_object_get(o, "items");
    if (json_array_size(items) == 0)
        puts("no targets (sync to fetch the register's)");
    json_array_foreach((json_t *)(uintptr_t)items, i, it)
        printf("%-12s  %s  %s (%s, org %s)%s\n", json_string_value(json_object_get(it, "code")),
               json_string_value(json_object_get(it, "name")),
               json_string_value(json_object_get(it, "id")),
               json_string_value(json_object_get(it, "target_type")),
               json_string_value(json_object_get(it, "org")),
               json_is_true(json_object_get(it, "voided")) ? "  VOIDED" : "");
}

static void human_templates(const json_t *o)
{
    size_t i;
    json_t *it;
    const json_t *items = json_object_get(o, "items");
    if (json_array_size(items) == 0)
        puts("no score sheets (sync to fetch the register's)");
    json_array_foreach((json_t *)(uintptr_t)items, i, it)
        printf("%s  %s v%lld  %s: pass %lld of %lld, %lld items (%lld veto)\n",
               json_string_value(json_object_get(it, "id")),
               json_string_value(json_object_get(it, "code")),
               (long long)json_integer_value(json_object_get(it, "version")),
               json_string_value(json_object_get(it, "name")),
               (long long)json_integer_value(json_object_get(it, "pass_mark")),
               (long long)json_integer_value(json_object_get(it, "max_total")),
               (long long)json_integer_value(json_object_get(it, "items")),
               (long long)json_integer_value(json_object_get(it, "veto_items")));
}

/* Org units: one line each, the code first, under its parent's code. */
static void human_orgs(const json_t *o)
{
    size_t i;
    json_t *it;
    const json_t *items = json_object_get(o, "items");
    if (json_array_size(items) == 0)
        puts("no org units (sync to fetch the register's)");
    json_array_foreach((json_t *)(uintptr_t)items, i, it) {
        const char *up = json_string_value(json_object_get(it, "parent"));
        const char *level = json_string_value(json_object_get(it, "level"));
        printf("%-12s  %s  %s (%s, under %s)%s\n", json_string_value(json_object_get(it, "code")),
               json_string_value(json_object_get(it, "name")),
               json_string_value(json_object_get(it, "id")), level ? level : "no level",
               up ? up : "none",
               json_is_true(json_object_get(it, "voided")) ? "  VOIDED" : "");
    }
}

static int cmd_list(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--status", 1, "S", "inspection_status finding_status assignment_status",
         "only those in this status (checks, findings, assignments)"},
        {"--overdue", 0, NULL, NULL, "only findings and assignments past their deadline"},
        {"--target", 1, "CODE", NULL, "only those of this target"},
        {"--assignment", 1, "ID", NULL, "only those under this assignment"},
        {"--include-voided", 0, NULL, NULL, "voided ones too, marked so"},
        {"--stop-work", 0, NULL, NULL, "only findings under a stop-work order"},
        {"--needs-escalation", 0, NULL, NULL, "only findings that need escalating"},
        {"--self-reported", 0, NULL, NULL, "only self-reported findings"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "what to list (spotcheck list --help)")))
        return rc;
    sc_filter_v2 f = {.size = sizeof f,
                      .status = OPT("--status"),
                      .overdue = OPT("--overdue") != NULL,
                      .target = OPT("--target"),
                      .assignment = OPT("--assignment"),
                      .flags = OPT("--include-voided") ? SC_LIST_WITH_VOIDED : 0,
                      .stop_work = OPT("--stop-work") != NULL,
                      .needs_escalation = OPT("--needs-escalation") != NULL,
                      .self_reported = OPT("--self-reported") != NULL};
    char *json = NULL;
    sc_status s = sc_list_v3(k->c, p.pos[0], &f, &json);
    if (s != SC_OK)
        return fail(k, s, NULL);
    return emit(k, json,
                strcmp(p.pos[0], "findings") == 0    ? human_findings
                : strcmp(p.pos[0], "checks") == 0    ? human_checks
                : strcmp(p.pos[0], "targets") == 0   ? human_targets
                : strcmp(p.pos[0], "templates") == 0 ? human_templates
                : strcmp(p.pos[0], "orgs") == 0      ? human_orgs
                                                     : human_assignments);
}

static int cmd_query(cli *k, const char *cmd, int argc, char **argv)
{
    static const optspec spec[] = {{"--field", 1, "F", "field", "the field in conflict (resolve)"},
                                   {"--value", 1, "V", NULL, "the value it takes (resolve)"},
                                   {"--item", 1, "CODE", NULL, "the item in conflict (resolve)"}};
    parsed p;
    PARSE(1);
    int rc;
    char *json = NULL;
    sc_status s;
    if (strcmp(cmd, "show") == 0) {
        if ((rc = need(p.pos[0], "ID")))
            return rc;
        s = sc_show(k->c, p.pos[0], &json);
        if (s == SC_OK)
            return emit(k, json, human_show);
    } else if (strcmp(cmd, "review") == 0) {
        s = sc_review(k->c, &json);
    } else if (strcmp(cmd, "conflicts") == 0) {
        s = sc_conflicts(k->c, &json);
    } else if (strcmp(cmd, "status") == 0) {
        s = sc_client_status(k->c, &json);
    } else if (strcmp(cmd, "verify") == 0) {
        s = sc_verify_replica(k->c, &json);
        if (s != SC_OK && json) {
            if (k->json)
                puts(json);
            sc_json_free(k->c, json);
            fprintf(stderr, "spotcheck: %s (%s)\n", sc_client_errmsg(k->c), sc_status_name(s));
            return exit_code(s);
        }
    } else if (strcmp(cmd, "prove") == 0) {
        if ((rc = need(p.pos[0], "OP")))
            return rc;
        s = sc_op_prove(k->c, p.pos[0], &json);
    } else if (strcmp(cmd, "verify-bundle") == 0) {
        if ((rc = need(p.pos[0], "FILE")))
            return rc;
        s = sc_verify_bundle(k->c, p.pos[0], &json);
        if (s != SC_OK && json) {
            if (k->json)
                puts(json);
            sc_json_free(k->c, json);
            fprintf(stderr, "spotcheck: %s (%s)\n", sc_client_errmsg(k->c), sc_status_name(s));
            return exit_code(s);
        }
    } else { /* resolve */
        if ((rc = need(p.pos[0], "ID")) || (rc = need(OPT("--field"), "--field")))
            return rc;
        return done_id(k, sc_resolve(k->c, p.pos[0], OPT("--field"), OPT("--value"), OPT("--item")),
                       p.pos[0], "resolved");
    }
    if (s != SC_OK)
        return fail(k, s, NULL);
    return emit(k, json, NULL);
}

/* `console [--listen 127.0.0.1:PORT]`: the review console over this replica (console/). */
static int cmd_console(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--listen", 1, "127.0.0.1:PORT", NULL,
         "the loopback address and port to serve on (default 127.0.0.1:0: a free port)"}};
    parsed p;
    PARSE(0);
    cs_options o = {.db = k->db,
                    .listen = OPT("--listen"),
                    .pass_env = k->pass_env,
                    .net = k->net_set ? &k->net : NULL,
                    .json = k->json != 0};
    return cs_run(k->c, &o);
}

/* ---- main ---- */

/*
 * `spotcheck --version`: this program's release, and the release and sync
 * protocol of the libspotcheck it runs with (a shared library may be
 * another build than the one it was compiled against).
 */
static int print_version(void)
{
    if (!json_mode) {
        printf("spotcheck %s (libspotcheck %s, sync protocol %u)\n", SC_CLI_VERSION, sc_version(),
               sc_protocol_version());
        return 0;
    }
    json_t *o = json_pack("{s:s,s:s,s:I}", "version", SC_CLI_VERSION, "library", sc_version(),
                          "protocol", (json_int_t)sc_protocol_version());
    if (!o)
        return EXIT_LOCAL;
    json_dumpf(o, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    json_decref(o);
    return 0;
}

/* A global option that takes a value: --name VALUE or --name=VALUE; *i moves past it. */
static int global_value(int argc, char **argv, int *i, const char *name, const char **out)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *out = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

/*
 * Global options, which may stand anywhere; the rest of the line into rest.
 * *finished: --help or --version was answered, and the result is the exit code.
 */
static int parse_globals(cli *k, int argc, char **argv, char **rest, int cap, int *nrest,
                         bool *finished)
{
    static const char *const names[] = {"--db",  "--passphrase-env", "--cacert", "--capath",
                                        "--pin", "--proxy"};
    const char **slots[] = {&k->db,         &k->pass_env, &k->net.ca_file,
                            &k->net.ca_dir, &k->net.pin,  &k->net.proxy};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            k->json = 1;
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            *finished = true;
            return print_version();
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            /* After a command, that command's help (main answers it); else the global usage. */
            if (*nrest > 0) {
                help_wanted = true;
                continue;
            }
            fputs(usage_text, stdout);
            *finished = true;
            return 0;
        }
        int hit = 0;
        for (size_t o = 0; !hit && o < sizeof names / sizeof names[0]; o++) {
            hit = global_value(argc, argv, &i, names[o], slots[o]);
            if (hit < 0)
                return usage_error("option %s needs a value", names[o]);
            k->net_set = k->net_set || (hit && o >= 2);
        }
        if (hit)
            continue;
        if (*nrest >= cap)
            return usage_error("%s", "too many arguments");
        rest[(*nrest)++] = argv[i];
    }
    return 0;
}

/* Run a command (argv after the command word). */
static int run(cli *k, const char *cmd, int n, char **args)
{
    if (strcmp(cmd, "enroll") == 0)
        return cmd_enroll(k, n, args);
    if (strcmp(cmd, "key") == 0)
        return cmd_key(k, n, args);
    if (strcmp(cmd, "sync") == 0)
        return cmd_sync(k, n, args);
    if (strcmp(cmd, "assign") == 0)
        return cmd_assign(k, n, args);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(k, n, args);
    if (strcmp(cmd, "finding") == 0)
        return cmd_finding(k, n, args);
    if (strcmp(cmd, "photo") == 0)
        return cmd_photo(k, n, args);
    if (strcmp(cmd, "rectify") == 0)
        return cmd_rectify(k, n, args);
    if (strcmp(cmd, "revisit") == 0)
        return cmd_revisit(k, n, args);
    if (strcmp(cmd, "close") == 0 || strcmp(cmd, "reopen") == 0 || strcmp(cmd, "void") == 0 ||
        strcmp(cmd, "note") == 0)
        return cmd_simple(k, cmd, n, args);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(k, n, args);
    if (strcmp(cmd, "server") == 0)
        return cmd_server(k, n, args);
    if (strcmp(cmd, "outbox") == 0)
        return cmd_outbox(k, n, args);
    if (strcmp(cmd, "console") == 0)
        return cmd_console(k, n, args);
    if (gov_is_command(cmd))
        return gov_command(k, cmd, n, args);
    if (sheet_is_command(cmd))
        return sheet_command(k, cmd, n, args);
    if (report_is_command(cmd))
        return report_command(k, n, args);
    return cmd_query(k, cmd, n, args);
}

/*
 * `spotcheck COMMAND [SUB] --help`, answered without a replica: the usage
 * and what it does, then the options, printed by the command's own parser
 * from its table (so a command run with help_wanted stops at its parse).
 */
static int command_help(cli *k, char **rest, int nrest)
{
    const char *cmd = rest[0];
    const char *sub = nrest > 1 && rest[1][0] != '-' ? rest[1] : NULL;
    const char *own = gov_help(cmd);
    if (own) {
        fputs(own, stdout);
        char *args[] = {(char *)(uintptr_t)(sub ? sub : "")};
        return run(k, cmd, sub ? 1 : 0, args);
    }
    bool leaf = false;
    if (!help_usage(cmd, sub, &leaf) && !help_usage(cmd, NULL, &leaf))
        return usage_error("unknown command \"%s\"", cmd);
    if (!leaf)
        return 0;
    char *args[] = {(char *)(uintptr_t)(sub ? sub : "")};
    return run(k, cmd, sub ? 1 : 0, args);
}

int main(int argc, char **argv)
{
    cli k = {.t_start = cli_now()};
    char *rest[MAX_ARGS * 4];
    int nrest = 0;
    k.db = getenv("SPOTCHECK_DB");
    k.net.version = SC_NET_OPTIONS_VERSION;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0)
            json_mode = 1;
    bool finished = false;
    int prc = parse_globals(&k, argc, argv, rest, (int)(sizeof rest / sizeof rest[0]), &nrest,
                            &finished);
    if (finished || prc)
        return prc;
    if (nrest == 0) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = rest[0];
    if (cmd[0] == '-')
        return unknown_option(cmd, NULL, 0);
    static const char *const known[] = {
        "enroll",  "sync",    "status",    "assign",  "check",  "finding",       "photo",
        "rectify", "revisit", "close",     "reopen",  "void",   "note",          "show",
        "list",    "review",  "conflicts", "resolve", "verify", "verify-bundle", "server",
        "outbox",  "key",     "console", "prove"};
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ok = ok || strcmp(known[i], cmd) == 0;
    ok = ok || gov_is_command(cmd) || sheet_is_command(cmd) || report_is_command(cmd);
    if (!ok)
        return usage_error("unknown command \"%s\"", cmd);
    if (help_wanted)
        return command_help(&k, rest, nrest);
    /* A bundle is checked without a replica: none is opened, none is made. */
    const char *db = strcmp(cmd, "verify-bundle") == 0 ? ":memory:" : k.db;
    if (!db)
        return usage_error("%s", "no replica: give --db FILE (or set SPOTCHECK_DB)");
    if (k.pass_env && !getenv(k.pass_env))
        return usage_error("--passphrase-env: the variable %s is not set", k.pass_env);

    /* Only enroll makes a replica (and takes it away again if the enrollment fails). */
    bool enroll = strcmp(cmd, "enroll") == 0;
    char err[512];
    sc_open_options oo = {.size = sizeof oo, .mode = enroll ? SC_OPEN_ENROLL : SC_OPEN_EXISTING};
    sc_status s = sc_client_open_v3(db, &oo, &k.c, err, sizeof err);
    if (s != SC_OK) {
        int rc = fail(&k, s, err);
        if (s == SC_ERR_NOT_FOUND)
            fprintf(stderr, "spotcheck: a new tablet enrolls first: spotcheck --db %s enroll "
                            "--server URL --code CODE\n", db);
        return rc;
    }
    k.t_opened = cli_now();
    /* The app's version syncd shows its admins (`syncd admin device list`). */
    char app[32];
    snprintf(app, sizeof app, "spotcheck/%s", sc_version());
    sc_client_set_app(k.c, app);
    if (k.net_set && (s = sc_client_set_net(k.c, &k.net)) != SC_OK) {
        int rc = fail(&k, s, NULL);
        sc_client_close(k.c);
        return rc;
    }
    if (k.pass_env && strcmp(cmd, "enroll") != 0) {
        const char *pass = getenv(k.pass_env);
        if ((s = sc_client_unlock(k.c, pass, strlen(pass))) != SC_OK &&
            s != SC_ERR_NOT_ENROLLED) {
            int rc = fail(&k, s, NULL);
            sc_client_close(k.c);
            return rc;
        }
    }
    int rc = run(&k, cmd, nrest - 1, rest + 1);
    sc_client_close(k.c);
    return rc;
}
