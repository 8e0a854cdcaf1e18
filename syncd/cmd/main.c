/*
 * main.c: the `syncd` command.  It only dispatches to the subcommands in
 * commands.h, each of which parses its own arguments and returns the exit
 * status (0 success, 1 failure, 2 usage).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "spotcheck.h"
#include "store/store.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"init", sd_cmd_init, "create a data directory: register, server key, blob store"},
    {"serve", sd_cmd_serve, "serve the sync protocol over HTTP"},
    {"admin", sd_cmd_admin, "org units, targets, users, enrollment codes, score sheets, devices"},
    {"audit", sd_cmd_audit, "re-verify every signature, the log and the state, offline"},
    {"export", sd_cmd_export, "write a self-contained bundle for `spotcheck verify-bundle`"},
    {"migrate", sd_cmd_migrate, "bring a register written by an older syncd to this one's schema"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: syncd COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`syncd COMMAND --help` describes a command's options.\n");
    fprintf(f, "`syncd --version` prints the release, protocol and register schema.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("syncd %s (sync protocol %u, register schema %d)\n", sc_version(),
               sc_protocol_version(), SD_SCHEMA_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "syncd: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
