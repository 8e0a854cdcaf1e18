/*
 * cli.h: what the files of the `spotcheck` command share: the handle and
 * options of one run, the argument parser, and how results and failures
 * are printed (main.c).  Commands live in main.c and, for rectification
 * governance, in governance.c, for score sheets beyond one check in sheets.c,
 * for the inspected unit's sign-off in signoff.c;
 * help.c says what each takes (--help).  Like the rest of the CLI, built only on the
 * public header spotcheck.h.
 */
#ifndef SC_CLI_H
#define SC_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "spotcheck.h"

/* Exit codes (docs/client.md). */
enum {
    EXIT_REFUSED = 1,
    EXIT_USAGE = 2,
    EXIT_NOTFOUND = 3,
    EXIT_NETWORK = 4,
    EXIT_VERIFY = 5,
    EXIT_LOCAL = 6
};

#define MAX_ARGS   64
#define MAX_REPEAT 64

/* One run: the global options and the open replica. */
typedef struct cli {
    const char *db;
    int json;
    const char *pass_env;
    sc_net_options net; /* --cacert, --capath, --pin, --proxy */
    bool net_set;       /* one of them was given */
    sc_client *c;
    double t_start, t_opened; /* monotonic seconds: main entered, the replica open (sync --timings) */
} cli;

/* Monotonic seconds. */
double cli_now(void);

typedef struct optspec {
    const char *name;   /* "--target" */
    int kind;           /* 0 flag, 1 value, 2 repeated value */
    const char *arg;    /* what its value is, for --help ("CODE"); NULL for a flag */
    const char *values; /* the library's field(s) naming its values (sc_value_name), or NULL */
    const char *help;   /* one line for --help */
} optspec;

typedef struct parsed {
    const char *pos[MAX_ARGS];
    int npos;
    const char *val[MAX_ARGS]; /* by spec index */
    int set[MAX_ARGS];
    const char *rep[MAX_REPEAT]; /* values of the (one) repeated option */
    int nrep;
} parsed;

/* A usage error: fmt is a literal with one %s for arg; says so on stderr (and in JSON); returns 2.
 */
int usage_error(const char *fmt, const char *arg) __attribute__((format(printf, 1, 0)));
/*
 * Parse a command's arguments against its options; at most maxpos positional ones.  0 or 2;
 * -1 when the run asks for the command's help: its options are printed, and the command ends.
 */
int parse(int argc, char **argv, const optspec *spec, int nspec, int maxpos, parsed *p);
/* An option's value ("" for a flag given), or NULL when not given. */
const char *opt(const parsed *p, const optspec *spec, int nspec, const char *name);
/* --gps LAT,LON in decimal degrees into degrees x 1e7: 0, or the usage error. */
int parse_gps(const char *text, int32_t *lat_e7, int32_t *lon_e7);
/* A required value: 0 when given, else the usage error. */
int need(const char *v, const char *what);
/* A failure as the handle tells it (fallback when it has no message); returns the exit code. */
int fail(cli *k, sc_status s, const char *fallback);
/* Print a small result: the JSON with --json (its reference taken), else the line. */
int emit_pack(cli *k, json_t *o, const char *human_line);
/* A library result parsed for printing to people: its strings made safe for a terminal. */
json_t *cli_loads_for_people(const char *text);
/* "what ID" or {"ok":true,"id":ID}, or the failure. */
int done_id(cli *k, sc_status s, const char *id, const char *what);

#define OPT(name) opt(&p, spec, (int)(sizeof spec / sizeof spec[0]), name)
#define PARSE(maxpos)                                                                              \
    do {                                                                                           \
        int prc_ = parse(argc, argv, spec, (int)(sizeof spec / sizeof spec[0]), maxpos, &p);       \
        if (prc_)                                                                                  \
            return prc_ < 0 ? 0 : prc_;                                                            \
    } while (0)

/* ---- help.c: each command's --help ---- */

/* A run that asks for help (main.c sets it): parse() prints the options instead of parsing. */
extern bool help_wanted;
/*
 * The usage and description of `spotcheck cmd [sub]` on stdout; *leaf: the
 * command itself has options to list (run it with help_wanted set to list
 * them).  False when there is no such command or subcommand.
 */
bool help_usage(const char *cmd, const char *sub, bool *leaf);
/* The options of a command, each with its value and, when the library names them, its values. */
void help_options(const optspec *spec, int nspec);

/* ---- sheets.c: score sheets beyond one check ---- */

/* True when cmd is one of sheets.c's commands. */
bool sheet_is_command(const char *cmd);
/* Run it (argv after the command word). */
int sheet_command(cli *k, const char *cmd, int argc, char **argv);

/* ---- report.c: ledgers (docs/reports.md) ---- */

/* True when cmd is report.c's command. */
bool report_is_command(const char *cmd);
/* Run it (argv after the command word: the report's name first). */
int report_command(cli *k, int argc, char **argv);

/* ---- signoff.c: the inspected unit's sign-off ---- */

/* `spotcheck check sign-off CHECK ...` (argv after the subcommand word). */
int check_sign_off(cli *k, int argc, char **argv);
/* An inspection's sign-offs as `show` prints them (device keys already named). */
void print_sign_offs(const json_t *sign_offs);

/* ---- main.c: what the commands' files print with ---- */

/* Milliseconds since the epoch as local "YYYY-MM-DD HH:MM". */
void local_time(json_int_t ms, char *out, size_t cap);

/* ---- governance.c: rectification governance (docs/client.md) ---- */

/* True when cmd is one of governance.c's commands. */
bool gov_is_command(const char *cmd);
/* Run it (argv after the command word). */
int gov_command(cli *k, const char *cmd, int argc, char **argv);
/* Its help text, or NULL when cmd is not one of them. */
const char *gov_help(const char *cmd);

#endif
