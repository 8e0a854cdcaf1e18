/*
 * commands.h: the `syncd` commands in one table, and the one option parser
 * they share.  main.c only dispatches through the table; each command
 * parses its own arguments with sd_cmdline_parse, prints for people on
 * stdout (JSON where the docs say so), errors on stderr, and returns the
 * exit status: 0 success, 1 failure (the message says what), 2 usage.
 *
 * A command's usage text lives in its table entry and nowhere else:
 * `syncd COMMAND --help` prints it on stdout (exit 0), and a usage error
 * prints what was wrong ("syncd init: unknown option --x") and then the
 * same text on stderr (exit 2).
 */
#ifndef SD_COMMANDS_H
#define SD_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct sd_command {
    const char *name;                  /* "init" */
    int (*run)(int argc, char **argv); /* argv[0] is the command's name */
    const char *summary;               /* one line, for `syncd --help` */
    const char *usage;                 /* "usage: syncd init ...\n" and the options, one a line */
    void (*more)(FILE *f); /* prints what follows usage (admin: its commands); may be NULL */
} sd_command;

/* The commands, in the order `syncd --help` lists them; sd_ncommands of them. */
extern const sd_command sd_commands[];
extern const size_t sd_ncommands;

/* The command called name; NULL when there is none. */
const sd_command *sd_command_find(const char *name);

/* Print the usage of the command called name on f. */
void sd_command_usage(const char *name, FILE *f);

/* One option a command takes, as --NAME VALUE or --NAME=VALUE, or a flag --NAME. */
typedef struct sd_option {
    const char *name;   /* without the dashes; NULL ends a list */
    const char **value; /* takes a value: where it goes (the last one given wins) */
    bool *flag;         /* a flag (value NULL): set true when given */
} sd_option;

/*
 * Parse argv[1..argc) for the command called cmd against opts, ending with
 * {NULL}.  Words that are not options go into words[0..cap) and their count
 * into *nwords (words may be NULL when the command takes none).  Returns -1
 * when the command should go on; otherwise the exit status, after printing:
 * 0 for --help or -h (the usage on stdout); 2 for an unknown option, an
 * option without its value, a flag given a value or an unexpected word
 * (what was wrong, then the usage, on stderr).
 */
int sd_cmdline_parse(const char *cmd, int argc, char **argv, const sd_option *opts,
                     const char **words, size_t cap, size_t *nwords);

/* A usage error: "syncd CMD: <what>" and the command's usage on stderr; returns 2. */
int sd_cmdline_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* admin.c: admin's commands, one a line (the `more` of admin's entry). */
void sd_admin_usage_more(FILE *f);

int sd_cmd_init(int argc, char **argv);
int sd_cmd_serve(int argc, char **argv);
int sd_cmd_admin(int argc, char **argv);
int sd_cmd_audit(int argc, char **argv);
int sd_cmd_export(int argc, char **argv);
int sd_cmd_report(int argc, char **argv);
int sd_cmd_migrate(int argc, char **argv);
int sd_cmd_backup(int argc, char **argv);
int sd_cmd_restore(int argc, char **argv);
int sd_cmd_notify(int argc, char **argv);

#endif
