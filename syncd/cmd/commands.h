/*
 * commands.h: the `syncd` subcommands.  main.c only dispatches; each
 * command parses its own arguments, prints for people on stdout (JSON
 * where the docs say so), errors on stderr, and returns the exit status:
 * 0 success, 1 failure (the message says what), 2 usage.
 */
#ifndef SD_COMMANDS_H
#define SD_COMMANDS_H

int sd_cmd_init(int argc, char **argv);   /* syncd init --data DIR [--origin NAME] */
int sd_cmd_serve(int argc, char **argv);  /* syncd serve --data DIR --listen HOST:PORT [--config FILE] */
int sd_cmd_admin(int argc, char **argv);  /* syncd admin --data DIR ... */
int sd_cmd_audit(int argc, char **argv);  /* syncd audit --data DIR */
int sd_cmd_export(int argc, char **argv); /* syncd export --data DIR --out FILE */
int sd_cmd_migrate(int argc, char **argv); /* syncd migrate --data DIR [--no-backup] */

#endif
