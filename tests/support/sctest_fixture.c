/*
 * sctest_fixture.c: the register fixture through `syncd init` and
 * `syncd admin` (see sctest_fixture.h).
 */
#include "sctest_fixture.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "sctest_server.h"

/* Run `syncd admin --data DIR ARG...` and return its first stdout line in line (cap bytes). */
static void admin(const char *dir, char *line, size_t cap, const char *arg, ...)
    __attribute__((sentinel));

static void admin(const char *dir, char *line, size_t cap, const char *arg, ...)
{
    const char *argv[24];
    int argc = 0;
    argv[argc++] = "admin";
    argv[argc++] = "--data";
    argv[argc++] = dir;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a && argc < 23; a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    for (int i = argc; i < 24; i++)
        argv[i] = NULL;
    char out[4096];
    int st = sct_syncd_run(out, sizeof out, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5],
                           argv[6], argv[7], argv[8], argv[9], argv[10], argv[11], argv[12],
                           argv[13], argv[14], argv[15], argv[16], argv[17], argv[18], argv[19],
                           argv[20], argv[21], argv[22], NULL);
    ck_assert_msg(st == 0, "syncd admin %s %s exited %d", arg, argc > 4 ? argv[4] : "", st);
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = '\0';
    snprintf(line, cap, "%s", out);
}

/* Run an admin command that prints an id, and decode it. */
#define ADMIN_ID(id, dir, ...)                                                                     \
    do {                                                                                           \
        char line_[256];                                                                           \
        admin(dir, line_, sizeof line_, __VA_ARGS__, NULL);                                        \
        ck_assert_msg(sc_hex_decode(line_, strlen(line_), id, SC_ID_LEN) == SC_OK,                 \
                      "syncd admin printed \"%s\", not an id", line_);                             \
    } while (0)

void sct_fixture_make(sct_fixture *f, const char *dir)
{
    sct_fixture_make_store(f, dir, NULL, NULL);
}

void sct_fixture_make_store(sct_fixture *f, const char *dir, const char *store, const char *blobs)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", dir);
    char out[2048];
    int st = !store ? sct_syncd_run(out, sizeof out, "init", "--data", dir, "--origin",
                                    "spotcheck.test/log", NULL)
             : blobs ? sct_syncd_run(out, sizeof out, "init", "--data", dir, "--origin",
                                     "spotcheck.test/log", "--store", store, "--blobs", blobs, NULL)
                     : sct_syncd_run(out, sizeof out, "init", "--data", dir, "--origin",
                                     "spotcheck.test/log", "--store", store, NULL);
    ck_assert_msg(st == 0, "syncd init --data %s exited %d", dir, st);
    ADMIN_ID(f->city, dir, "org", "add", "city", "--name", "市疫情防控指挥部", "--level", "city",
             "--kind", "command_hq");
    ADMIN_ID(f->county, dir, "org", "add", "county", "--name", "县(区)指挥部", "--parent", "city",
             "--level", "county", "--kind", "command_hq");
    ADMIN_ID(f->street, dir, "org", "add", "street", "--name", "街道", "--parent", "county",
             "--level", "street", "--kind", "gov_dept");
    ADMIN_ID(f->community, dir, "org", "add", "junan", "--name", "君安社区", "--parent", "street",
             "--level", "community", "--kind", "residents_committee");
    ADMIN_ID(f->compound, dir, "org", "add", "junan-garden", "--name", "君安花园小区", "--parent",
             "junan", "--level", "compound", "--kind", "property_co");
    ADMIN_ID(f->other_street, dir, "org", "add", "street2", "--name", "另一街道", "--parent",
             "county", "--level", "street", "--kind", "gov_dept");
    ADMIN_ID(f->target, dir, "target", "add", "T-JAHY", "--name", "君安花园小区", "--org", "junan",
             "--type", "compound");
    ADMIN_ID(f->target_out, dir, "target", "add", "T-MKT", "--name", "农贸市场", "--org", "street2",
             "--type", "market");
    ADMIN_ID(f->inspector, dir, "user", "add", "inspector1", "--role", "inspector", "--org",
             "street", "--name", "检查员");
    ADMIN_ID(f->supervisor, dir, "user", "add", "supervisor1", "--role", "supervisor", "--org",
             "county", "--name", "督导员");
    ADMIN_ID(f->responsible, dir, "user", "add", "resp1", "--role", "responsible", "--org",
             "junan-garden", "--name", "物业负责人");
    ADMIN_ID(f->auditor, dir, "user", "add", "auditor1", "--role", "auditor", "--org", "city",
             "--name", "审计员");
}

void sct_fixture_code(const char *dir, const char *login, char *out, size_t cap)
{
    admin(dir, out, cap, "enroll", login, "--ttl", "1", NULL);
    ck_assert_uint_ge(strlen(out), 20);
}

void sct_fixture_enroll(const char *dir, sct_client *c, const sc_keypair *key, const char *login,
                        const char *label, Scpb__EnrollResponse **out)
{
    char code[64];
    sct_fixture_code(dir, login, code, sizeof code);
    ck_assert_int_eq(sct_enroll(c, code, key, label, out), 200);
}

void sct_fixture_revoke(const char *dir, const uint8_t device[SC_ID_LEN])
{
    char hex[SC_ID_HEX], line[256];
    ck_assert_int_eq(sc_hex_encode(device, SC_ID_LEN, hex, sizeof hex), SC_OK);
    admin(dir, line, sizeof line, "device", "revoke", hex, "--reason", "lost tablet", NULL);
}

void sct_live_open(sct_live *l, bool serve)
{
    memset(l, 0, sizeof *l);
    sct_tempdir(l->tmp, sizeof l->tmp);
    snprintf(l->data, sizeof l->data, "%s/data", l->tmp);
    sct_fixture_make(&l->fx, l->data);
    if (serve)
        sct_server_start(&l->srv, l->data, NULL);
}

void sct_live_close(sct_live *l, bool kill)
{
    if (l->srv.pid > 0 && kill)
        sct_server_kill(&l->srv);
    else if (l->srv.pid > 0)
        ck_assert_int_eq(sct_server_stop(&l->srv), 0);
    sct_rmtree(l->tmp);
}

/* The sct_live of the test file, for the fixtures below (a test process runs one file). */
static sct_live *live_used;

void sct_live_use(sct_live *l)
{
    live_used = l;
}

void sct_live_setup(void)
{
    ck_assert_ptr_nonnull(live_used);
    sct_live_open(live_used, true);
}

void sct_live_teardown(void)
{
    sct_live_close(live_used, false);
}

void sct_live_teardown_kill(void)
{
    sct_live_close(live_used, true);
}
