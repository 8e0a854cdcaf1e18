/*
 * admin.h: what the parts of `syncd admin` share, and nothing else of
 * syncd uses.  The command is written in five files:
 *
 *   admin.c         the command line, the table of commands with their
 *                   usage (what --help prints), the dispatch, and the
 *                   commands that add one thing (org, target, user,
 *                   enroll, template, assign, device revoke)
 *   admin_list.c    the lists: org, user, target, template, device, code
 *   admin_user.c    a user disabled, enabled or given a role; a code revoked
 *   admin_import.c  org units, targets and users from a county office's CSV
 *   admin_log.c     the admin acts in the log, for people and for scripts
 *
 * Every change is an admin op signed by the server key and logged through
 * sd_register_admin_op (or sd_register_admin_ops, one transaction for an
 * import), so the log holds the whole history and `syncd audit` checks it.
 * Lists read the register in one read transaction beside a running syncd.
 * Exit status: 0 done, 1 refused (the message says why), 2 usage.
 */
#ifndef SD_ADMIN_H
#define SD_ADMIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/names.h"
#include "register/register.h"
#include "state.pb-c.h"
#include "store/store.h"

#define SD_ADM_ARGS_MAX 64

/*
 * The command line split into words and --options (some repeat: --inspector;
 * flags have no value), and what did not fit, for the dispatcher to say.
 */
typedef struct sd_adm_args {
    const char *word[SD_ADM_ARGS_MAX];
    size_t nword;
    const char *key[SD_ADM_ARGS_MAX];
    const char *val[SD_ADM_ARGS_MAX]; /* NULL for a flag (--json, --all) */
    size_t nopt;
    bool help;           /* --help or -h */
    const char *stray;   /* the first -x: no option of syncd has one dash */
    const char *novalue; /* the option last on the line that lacks its value */
    bool full;           /* more than SD_ADM_ARGS_MAX words or options */
} sd_adm_args;

/*
 * What a command returns when its arguments do not fit its usage, after
 * saying what is wrong: the dispatcher prints the usage (exit 2).  The
 * number of words and the options a command needs are checked before it
 * runs, from the table of commands.
 */
#define SD_ADM_USAGE (-2)

/* The last value of --name (NULL when absent); a flag's is "". */
const char *sd_adm_opt(const sd_adm_args *a, const char *name);
/* --name was given (an option or a flag). */
bool sd_adm_has(const sd_adm_args *a, const char *name);

/* "syncd admin: WHAT: MSG" on stderr; returns 1. */
int sd_adm_fail(const char *what, const sc_err *err);
/* Parse a name of table t; on failure say "unknown WHAT "S" (one of: ...)" and return false. */
bool sd_adm_name(const sc_names *t, const char *s, const char *what, int *out);
/* The entity with a code (or login) of this type; false after saying so on stderr. */
bool sd_adm_lookup(sd_register *r, Scpb__EntityType kind, const char *code, const char *what,
                   uint8_t out[SC_ID_LEN]);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void sd_adm_hex(const uint8_t *b, size_t n, char *out);
/* A time for people: local "YYYY-MM-DD HH:MM:SS"; "-" for 0.  out: 24 bytes. */
void sd_adm_time(int64_t ms, char *out, size_t cap);
/* Start of a local calendar day "YYYY-MM-DD" in Unix ms; false when it is no date. */
bool sd_adm_day_ms(const char *day, int64_t *ms);

/* The register's store opened for reading (DIR/register.db) in a read transaction. */
sc_status sd_adm_store_open(const char *data, sd_store **out, sc_err *err);
/* End the read transaction and close. */
void sd_adm_store_close(sd_store *s);
/* An entity's state from the store; NULL when absent or on failure.  Free with sd_state_free. */
Scpb__EntityState *sd_adm_state(sd_store *s, const uint8_t id[SC_ID_LEN]);

/*
 * A table for people: columns aligned by their display width (a Chinese
 * character is two columns wide), printed on stdout.  Cells are copied.
 */
typedef struct sd_adm_table {
    size_t ncols, nrows, cap;
    char **cell; /* nrows x ncols, row-major, row 0 the header */
    bool oom;
} sd_adm_table;

void sd_adm_table_init(sd_adm_table *t, size_t ncols, const char *const *header);
/* Add a row of ncols cells (NULL prints as "-"). */
void sd_adm_table_row(sd_adm_table *t, const char *const *cells);
/* Print and free; returns 0, or 1 (said on stderr) when memory ran out. */
int sd_adm_table_print(sd_adm_table *t);
/* Free without printing. */
void sd_adm_table_free(sd_adm_table *t);

/* Print a JSON value on stdout (indented) and free it; 1 when it cannot be encoded. */
int sd_adm_json_print(json_t *v);

/*
 * The commands outside admin.c, as admin.c's table of commands calls them:
 * r the open register (NULL for those that read the store themselves: the
 * lists and the log), data the data directory, a the command line, its
 * options already checked against the table.  They return the exit
 * status, or SD_ADM_USAGE.
 */
int sd_adm_list(sd_register *r, const char *data, const sd_adm_args *a); /* X list */
int sd_adm_user(sd_register *r, const char *data, const sd_adm_args *a); /* user disable|... */
int sd_adm_code_revoke(sd_register *r, const char *data, const sd_adm_args *a);
int sd_adm_import(sd_register *r, const char *data, const sd_adm_args *a); /* import KIND FILE */
int sd_adm_log(sd_register *r, const char *data, const sd_adm_args *a);    /* log */

#endif
