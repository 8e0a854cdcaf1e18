/*
 * main.c: the `syncd` command.  It only dispatches through the table of
 * commands in commands.h, each of which parses its own arguments and
 * returns the exit status (0 success, 1 failure, 2 usage).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "spotcheck.h"
#include "store/store.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: syncd COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sd_ncommands; i++)
        fprintf(f, "  %-8s %s\n", sd_commands[i].name, sd_commands[i].summary);
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
    const sd_command *c = sd_command_find(argv[1]);
    if (c)
        return c->run(argc - 1, argv + 1);
    if (argv[1][0] == '-')
        fprintf(stderr, "syncd: unknown option %s\n", argv[1]);
    else
        fprintf(stderr, "syncd: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
