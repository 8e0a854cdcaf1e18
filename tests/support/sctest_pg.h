/*
 * sctest_pg.h: a real PostgreSQL server for a test program
 * (sctest_pg.sh: Debian's packages, a temp dir, 127.0.0.1, an ephemeral
 * port, run as nobody when the tests run as root), and fresh databases in
 * it.  Start it in main, before sct_run, so the tests (children of that
 * process) share it; it stops with sct_pg_stop, or by itself once the test
 * program is gone.
 */
#ifndef SC_TEST_PG_H
#define SC_TEST_PG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Start the server.  False when PostgreSQL is not installed and CI is not
 * "true" (a line on stderr says the PostgreSQL tests are skipped); under
 * CI=true a missing PostgreSQL, and anywhere a server that does not start,
 * ends the program with a failure.
 */
bool sct_pg_start(void);
/* True once sct_pg_start has started the server. */
bool sct_pg_up(void);
/* The server's password (a random one per run). */
const char *sct_pg_password(void);
/* A new empty database; its URL (with the password) into url.  Aborts the test on failure. */
void sct_pg_newdb(char *url, size_t cap);
/* Stop the server and remove its directory. */
void sct_pg_stop(void);

#endif
