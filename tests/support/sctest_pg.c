/*
 * sctest_pg.c: the test programs' PostgreSQL server (sctest_pg.h), started
 * and stopped by tests/support/sctest_pg.sh, which the shell tests use too.
 */
#include "sctest_pg.h"

#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct {
    bool up;
    char dir[512];
    int port;
    char password[64];
    unsigned next_db;
} pg;

static const char *script(void)
{
    return SC_SOURCE_DIR "/tests/support/sctest_pg.sh";
}

bool sct_pg_start(void)
{
    if (pg.up)
        return true;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash '%s' start %ld", script(), (long)getpid());
    FILE *p = popen(cmd, "r");
    if (!p) {
        fprintf(stderr, "sctest_pg: cannot run %s\n", script());
        exit(EXIT_FAILURE);
    }
    char line[1024] = {0};
    bool got = fgets(line, sizeof line, p) != NULL;
    int st = pclose(p);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
        fprintf(stderr, "sctest_pg: the PostgreSQL tests are skipped\n");
        return false;
    }
    if (!got || !WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
        sscanf(line, "%511s %d %63s", pg.dir, &pg.port, pg.password) != 3) {
        fprintf(stderr, "sctest_pg: PostgreSQL did not start (status %d)\n", st);
        exit(EXIT_FAILURE);
    }
    pg.up = true;
    return true;
}

bool sct_pg_up(void)
{
    return pg.up;
}

const char *sct_pg_password(void)
{
    return pg.password;
}

void sct_pg_newdb(char *url, size_t cap)
{
    ck_assert_msg(pg.up, "sctest_pg: the server is not started");
    char admin[256], name[64];
    snprintf(admin, sizeof admin, "postgresql://spotcheck:%s@127.0.0.1:%d/postgres", pg.password,
             pg.port);
    snprintf(name, sizeof name, "sct_%ld_%u", (long)getpid(), pg.next_db++);
    PGconn *c = PQconnectdb(admin);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "sctest_pg: connect: %s", PQerrorMessage(c));
    char q[128];
    snprintf(q, sizeof q, "CREATE DATABASE %s", name);
    PGresult *r = PQexec(c, q);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "sctest_pg: %s: %s", q,
                  PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    int n = snprintf(url, cap, "postgresql://spotcheck:%s@127.0.0.1:%d/%s", pg.password, pg.port,
                     name);
    ck_assert_msg(n > 0 && (size_t)n < cap, "sctest_pg: URL buffer too small");
}

void sct_pg_stop(void)
{
    if (!pg.up)
        return;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash '%s' stop '%s'", script(), pg.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "sctest_pg: stopping the server in %s failed\n", pg.dir);
    pg.up = false;
}
