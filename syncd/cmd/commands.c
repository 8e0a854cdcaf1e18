/*
 * commands.c: the table of syncd's commands with their usage (commands.h),
 * and the option parser every command but admin uses (admin's options
 * repeat, so it splits its own, and takes its usage from here too).
 */
#include "commands.h"

#include <stdarg.h>
#include <string.h>

const sd_command sd_commands[] = {
    {"init", sd_cmd_init, "create a data directory: register, server key, blob store",
     "usage: syncd init --data DIR [--origin NAME] [--store URL]\n"
     "  --data DIR     the new data directory (absent or empty)\n"
     "  --origin NAME  the log's name, the first line of every checkpoint\n"
     "                 (default spotcheck/ and 8 hex digits of the new server key)\n"
     "  --store URL    keep the register in PostgreSQL (postgresql://USER@HOST:PORT/DB,\n"
     "                 a database holding no register), shared by every syncd serve on a\n"
     "                 copy of DIR; DIR/store.conf names it (default: DIR/register.db)\n"
     "  --blobs DIR    with --store: the photos in this directory (absolute), shared by\n"
     "                 every syncd serve on the register (default: DIR/blobs)\n",
     NULL},
    {"serve", sd_cmd_serve, "serve the sync protocol over HTTP",
     "usage: syncd serve --data DIR [--listen HOST:PORT] [--config FILE]\n"
     "  --data DIR          the data directory made by `syncd init`\n"
     "  --listen HOST:PORT  address to listen on (default 127.0.0.1:8080; port 0 picks one)\n"
     "  --config FILE       settings file (deploy/syncd.conf.example lists every key);\n"
     "                      --data and --listen override it\n",
     NULL},
    {"admin", sd_cmd_admin, "org units, targets, users, enrollment codes, score sheets, devices",
     "usage: syncd admin --data DIR COMMAND [ARGUMENTS] [OPTIONS]\n"
     "  --data DIR  the data directory (syncd may be serving it)\n"
     "`syncd admin COMMAND --help` describes one command.  Commands:\n",
     sd_admin_usage_more},
    {"audit", sd_cmd_audit, "re-verify every signature, the log and the state, offline",
     "usage: syncd audit --data DIR\n"
     "  --data DIR  the data directory to check (syncd may be serving it); nothing is changed\n"
     "exit status: 0 everything holds, 1 a check failed, 3 only photos not stored yet\n",
     NULL},
    {"export", sd_cmd_export, "write a self-contained bundle for `spotcheck verify-bundle`",
     "usage: syncd export --data DIR --out FILE\n"
     "  --data DIR  the data directory (syncd may be serving it)\n"
     "  --out FILE  the bundle to write (FILE.tmp until it is complete)\n",
     NULL},
    {"report", sd_cmd_report, "ledgers (台账), statistics and period reports of the whole register",
     "usage: syncd report ledger --data DIR --format csv|xlsx --out FILE [OPTIONS]\n"
     "  --data DIR       the data directory (syncd may be serving it); nothing is changed\n"
     "  --format F       csv (UTF-8 with a BOM, for Excel) or xlsx\n"
     "  --out FILE       the file to write (FILE.partial until it is complete)\n"
     "  --findings       the findings ledger (the default); --checks: the inspections ledger\n"
     "  --lang L         headers and names: zh (default) or en\n"
     "  --org ORG        only targets in this org unit's subtree (code or id)\n"
     "  --target T       only this target (code or id)\n"
     "  --period P       found (opened) in: YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY-Qn, YYYY,\n"
     "                   or DAY..DAY\n"
     "  --grade G        general or major (findings)\n"
     "  --status S       a finding's (open submitted verified closed) or a check's (draft\n"
     "                   submitted) status\n"
     "  --kind K         the kind of check (a finding: the check it was found in)\n"
     "  --source S       inspection, complaint, hotline, opinion, monitoring (findings)\n"
     "  --as-of DAY      count days overdue to this day, YYYY-MM-DD (default today)\n"
     "usage: syncd report stats --data DIR [--by B] [--json | --format F] [--lang L]\n"
     "                          [--period P] [--as-of DAY]\n"
     "  --by B           org (default: rolled up the tree, ranked among siblings), target,\n"
     "                   day, week, month or quarter\n"
     "  --format F       table (default), json or csv; --json is --format json\n"
     "  --period P       count only what was found (opened) in P, as for ledgers\n"
     "usage: syncd report period --data DIR --org ORG --period P [--lang L] [--as-of DAY]\n"
     "                           [--out FILE]\n"
     "  --org ORG        the org unit (code or id): its statistics and its child units', charts\n"
     "                   of 整改率 and of findings found and closed, the open major hazards with\n"
     "                   their plans, the overdue findings and the escalations of the period\n"
     "  --period P       YYYY-MM (a month), YYYY-Www, YYYY-Qn, YYYY, YYYY-MM-DD or DAY..DAY\n"
     "  --lang L         every label: zh (default) or en\n"
     "  --out FILE       the HTML page to write (FILE.partial until it is complete; default:\n"
     "                   standard output); it prints to A4\n",
     NULL},
    {"migrate", sd_cmd_migrate, "bring a register written by an older syncd to this one's schema",
     "usage: syncd migrate --data DIR [--no-backup]\n"
     "  --data DIR   the data directory, with syncd stopped\n"
     "  --no-backup  do not copy the register to DIR/register.vN.db first\n",
     NULL},
    {"backup", sd_cmd_backup, "copy the register, the key and the photos, while syncd serves",
     "usage: syncd backup --data DIR --to PATH\n"
     "  --data DIR  the data directory (syncd may be serving it)\n"
     "  --to PATH   the backup directory to make (absent or empty; PATH.partial until complete)\n",
     NULL},
    {"restore", sd_cmd_restore, "make a data directory from a backup, verified before it is used",
     "usage: syncd restore --from PATH --data DIR\n"
     "  --from PATH  a backup made by `syncd backup`\n"
     "  --data DIR   the data directory to make (absent or empty; DIR.restoring until verified)\n",
     NULL},
    {"notify", sd_cmd_notify, "the webhook delivery log, and deliveries sent again",
     "usage: syncd notify log --data DIR [--json]\n"
     "       syncd notify retry --data DIR (--id N | --dead | --dropped)\n"
     "  --data DIR  the data directory (syncd may be serving it)\n"
     "  --json      log: one JSON object a line, with each event's payload\n"
     "  --id N      retry: the dead or dropped delivery numbered N in the log\n"
     "  --dead      retry: every delivery given up after notify.max_attempts\n"
     "  --dropped   retry: every delivery dropped while the queue was full\n",
     NULL},
};
const size_t sd_ncommands = sizeof sd_commands / sizeof sd_commands[0];

const sd_command *sd_command_find(const char *name)
{
    for (size_t i = 0; i < sd_ncommands; i++)
        if (strcmp(sd_commands[i].name, name) == 0)
            return &sd_commands[i];
    return NULL;
}

void sd_command_usage(const char *name, FILE *f)
{
    const sd_command *c = sd_command_find(name);
    if (!c)
        return;
    fputs(c->usage, f);
    if (c->more)
        c->more(f);
}

int sd_cmdline_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "syncd %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    sd_command_usage(cmd, stderr);
    return 2;
}

/* The option "--name" or "--name=..." of s (its text after the dashes, n bytes of name). */
static const sd_option *find_option(const sd_option *opts, const char *s, size_t n)
{
    for (const sd_option *o = opts; o->name; o++)
        if (strlen(o->name) == n && strncmp(o->name, s, n) == 0)
            return o;
    return NULL;
}

int sd_cmdline_parse(const char *cmd, int argc, char **argv, const sd_option *opts,
                     const char **words, size_t cap, size_t *nwords)
{
    size_t nw = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            sd_command_usage(cmd, stdout);
            return 0;
        }
        if (s[0] != '-' || s[1] == '\0') {
            if (!words || nw == cap)
                return sd_cmdline_fail(cmd, "unexpected argument \"%s\"", s);
            words[nw++] = s;
            continue;
        }
        if (s[1] != '-')
            return sd_cmdline_fail(cmd, "unknown option %s", s);
        const char *eq = strchr(s + 2, '=');
        size_t n = eq ? (size_t)(eq - (s + 2)) : strlen(s + 2);
        const sd_option *o = find_option(opts, s + 2, n);
        if (!o)
            return sd_cmdline_fail(cmd, "unknown option --%.*s", (int)n, s + 2);
        if (!o->value) {
            if (eq)
                return sd_cmdline_fail(cmd, "--%s takes no value", o->name);
            *o->flag = true;
        } else if (eq) {
            *o->value = eq + 1;
        } else if (i + 1 < argc) {
            *o->value = argv[++i];
        } else {
            return sd_cmdline_fail(cmd, "--%s needs a value", o->name);
        }
    }
    if (nwords)
        *nwords = nw;
    return -1;
}
