/*
 * test_lying_network.c: a network in the middle that lies (issue 11, items
 * 1 and 2; DESIGN §10, proof before forgetting).
 *
 * A real syncd on 127.0.0.1, the fault proxy in front of it in one of its
 * lying modes (tests/support/faultproxy.h), and `spotcheck` CLI processes
 * that reach syncd only through the proxy:
 *   - a push answered "accepted" at a made-up log index, with the last real
 *     answer's checkpoint (an old one: the log has grown since), seal and
 *     receipt replayed, and never forwarded;
 *   - a push answered with the last real answer, byte for byte;
 *   - a push forwarded and logged, whose answer has every result turned
 *     into a rejection;
 *   - a pull whose answer loses one op (a device revocation) while the
 *     cursor and the checkpoint are kept.
 * Each time the CLI refuses the answer (exit 5, SC_ERR_UNPROVEN, a message
 * naming the server as the device knows it and what was wrong), applies
 * nothing (outbox, cursor, checkpoint and replica hash as before),
 * `spotcheck verify` does not count the ops as logged (they are
 * "unproven"), and the next honest sync delivers them: the register then
 * holds each exactly once, and the device's replica hash is the
 * register's.
 */
#include <check.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "faultproxy.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "sctest_server.h"

static sct_live L; /* the register and its syncd, made anew for each test */
static sct_proxy *px;
static char url[64];

static void setup(void)
{
    sct_live_open(&L, true);
    sct_proxy_opts honest = {.seed = 11};
    px = sct_proxy_start(L.srv.port, &honest);
    sct_proxy_url(px, url, sizeof url);
}

static void teardown(void)
{
    sct_proxy_stop(px);
    sct_live_close(&L, false);
}

/* ---- the CLI ---- */

#define ARGS_MAX 24

/* The NULL-terminated arguments from first on into argv (ARGS_MAX slots). */
static void args_collect(const char **argv, const char *first, va_list ap)
{
    int n = 0;
    for (const char *a = first; a && n < ARGS_MAX - 1; a = va_arg(ap, const char *))
        argv[n++] = a;
    argv[n] = NULL;
}

/*
 * Run `spotcheck --db DB --json ARGS...` to completion; *out (malloc'd)
 * gets what it printed, stdout and stderr.  Returns the exit status.
 */
static int cli_v(const char *db, char **out, const char *const *args)
{
    const char *argv[ARGS_MAX + 5];
    int argc = 0;
    argv[argc++] = sct_cli_path();
    argv[argc++] = "--db";
    argv[argc++] = db;
    argv[argc++] = "--json";
    for (int i = 0; args[i]; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    char path[700];
    snprintf(path, sizeof path, "%s/cli.out", L.tmp);
    remove(path);
    int st = sct_wait_pid(sct_spawn(argv, path), 120000);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = calloc(1, (size_t)n + 1);
    ck_assert_uint_eq(fread(*out, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return st;
}

static int cli(const char *db, char **out, const char *arg, ...)
{
    const char *args[ARGS_MAX];
    va_list ap;
    va_start(ap, arg);
    args_collect(args, arg, ap);
    va_end(ap);
    return cli_v(db, out, args);
}

/* The first line of out that is a JSON object, parsed (the caller json_decref's it). */
static json_t *json_line(const char *out)
{
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (*l != '{')
            continue;
        const char *end = strchr(l, '\n');
        json_error_t e;
        json_t *o = json_loadb(l, end ? (size_t)(end - l) : strlen(l), 0, &e);
        if (o)
            return o;
    }
    ck_abort_msg("no JSON in: %s", out);
    return NULL;
}

/* The CLI must succeed; its JSON result. */
#define CLI_OK(db, ...) cli_ok_(db, __VA_ARGS__, (const char *)NULL)
static json_t *cli_ok_(const char *db, const char *arg, ...)
{
    const char *args[ARGS_MAX];
    va_list ap;
    va_start(ap, arg);
    args_collect(args, arg, ap);
    va_end(ap);
    char *out = NULL;
    int st = cli_v(db, &out, args);
    ck_assert_msg(st == 0, "spotcheck %s exited %d: %s", arg, st, out);
    json_t *o = json_line(out);
    free(out);
    return o;
}

static long long num(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* Enroll tmp/NAME.db as login through the proxy; its path into db, its device id into dev. */
static void enroll(const char *name, const char *login, char *db, size_t cap,
                   uint8_t dev[SC_ID_LEN])
{
    char code[64];
    snprintf(db, cap, "%s/%s.db", L.tmp, name);
    sct_fixture_code(L.data, login, code, sizeof code);
    json_t *o = CLI_OK(db, "enroll", "--plain-key", "--server", url, "--code", code, "--label", name);
    const char *id = json_string_value(json_object_get(o, "device_id"));
    ck_assert_ptr_nonnull(id);
    ck_assert_int_eq(sc_hex_decode(id, strlen(id), dev, SC_ID_LEN), SC_OK);
    json_decref(o);
}

/* What a refused answer must leave as it was on the device. */
typedef struct device_state {
    long long outbox, ops;
    long long cp_size;
    char replica_hash[SC_HASH_HEX_LEN];
} device_state;

static void device_state_get(const char *db, device_state *d)
{
    json_t *o = CLI_OK(db, "status");
    d->outbox = num(o, "outbox");
    d->ops = num(o, "ops");
    d->cp_size = num(json_object_get(o, "checkpoint"), "size");
    snprintf(d->replica_hash, sizeof d->replica_hash, "%s",
             json_string_value(json_object_get(o, "replica_hash")));
    json_decref(o);
}

/*
 * A sync through the lying proxy: refused with exit 5 and SC_ERR_UNPROVEN,
 * the message naming the server (as the device knows it: the proxy) and
 * `why`; one lie told; nothing applied.
 */
static void expect_refused(const char *db, const char *why)
{
    device_state before, after;
    device_state_get(db, &before);
    sct_proxy_stats st0, st1;
    sct_proxy_get_stats(px, &st0);
    char *out = NULL;
    int st = cli(db, &out, "sync", NULL);
    ck_assert_msg(st == 5, "sync through the lie exited %d: %s", st, out);
    json_t *o = json_line(out);
    json_t *e = json_object_get(o, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    ck_assert_str_eq(json_string_value(json_object_get(e, "status")), "SC_ERR_UNPROVEN");
    ck_assert_msg(msg && strstr(msg, url), "the message does not name %s: %s", url, msg);
    ck_assert_msg(msg && strstr(msg, why), "the message does not say '%s': %s", why, msg);
    ck_assert_msg(strstr(out, "SC_ERR_UNPROVEN") != NULL, "stderr does not say why: %s", out);
    json_decref(o);
    free(out);
    sct_proxy_get_stats(px, &st1);
    ck_assert_uint_eq(st1.lies, st0.lies + 1);
    device_state_get(db, &after);
    ck_assert_int_eq(after.outbox, before.outbox);
    ck_assert_int_eq(after.ops, before.ops);
    ck_assert_int_eq(after.cp_size, before.cp_size);
    ck_assert_str_eq(after.replica_hash, before.replica_hash);
}

/* `spotcheck verify`: the replica checks out, with `unproven` ops of ours not vouched for. */
static void expect_verify(const char *db, long long unproven)
{
    json_t *o = CLI_OK(db, "verify");
    ck_assert(json_is_true(json_object_get(o, "ok")));
    ck_assert_int_eq(num(o, "unproven"), unproven);
    json_decref(o);
}

/* How many times each of this device's ops is in the register: all `times`, none twice. */
static void expect_logged(const char *db, int times)
{
    sct_replica_view rep;
    sct_reg_view reg;
    sct_replica_read(db, &rep);
    sct_reg_read(L.data, &reg);
    ck_assert_uint_gt(rep.local, 0);
    ck_assert_uint_eq(reg.duplicates, 0);
    for (size_t i = 0; i < rep.local; i++)
        ck_assert_msg(sct_reg_has(&reg, rep.local_ids[i], UINT64_MAX) == (times == 1),
                      "op %zu of the device is %s the register", i, times ? "not in" : "in");
    sct_reg_dispose(&reg);
    sct_replica_dispose(&rep);
}

/* ---- a lying answer to a push ---- */

/*
 * Enroll through the proxy (the enrollment's pull is relayed honestly and
 * remembered), let the log grow so the remembered checkpoint is old, record
 * a check and a note, and sync into the lie.
 */
static void push_lie(sct_lie lie, const char *why, bool forwarded)
{
    sct_proxy_opts opts = {.seed = 11, .lie = lie, .lies_max = 1};
    sct_proxy_set_opts(px, &opts);
    char db[700], out[256];
    uint8_t dev[SC_ID_LEN];
    enroll("tablet", "inspector1", db, sizeof db, dev);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "admin", "--data", L.data, "target", "add",
                                   "T-NEW", "--name", "新小区", "--org", "junan", "--type",
                                   "compound", NULL),
                     0);
    json_t *o =
        CLI_OK(db, "check", "open", "--target", "T-JAHY", "--kind", "spot", "--disclosure", "open");
    char check[SC_ID_HEX_LEN];
    snprintf(check, sizeof check, "%s", json_string_value(json_object_get(o, "id")));
    json_decref(o);
    json_decref(CLI_OK(db, "note", check, "--text", "门岗未测温"));

    expect_refused(db, why);
    expect_verify(db, 2);
    expect_logged(db, forwarded ? 1 : 0);

    /* The network is honest again (the one lie is told): the ops go through, once. */
    o = CLI_OK(db, "sync");
    ck_assert_int_eq(num(o, "pushed"), 2);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "rejected")), 0);
    ck_assert_int_eq(num(o, forwarded ? "duplicate" : "accepted"), 2);
    json_decref(o);
    device_state d;
    device_state_get(db, &d);
    ck_assert_int_eq(d.outbox, 0);
    expect_logged(db, 1);
    expect_verify(db, 0);
}

START_TEST(forged_acceptance_keeps_the_ops)
{
    push_lie(SCT_LIE_FORGE_ACCEPT, "answers another request", false);
}
END_TEST

START_TEST(replayed_answer_keeps_the_ops)
{
    push_lie(SCT_LIE_REPLAY, "answers another request", false);
}
END_TEST

START_TEST(forged_rejection_keeps_the_ops)
{
    push_lie(SCT_LIE_FORGE_REJECT, "results differ", true);
}
END_TEST

/* ---- a thinned pull ---- */

/*
 * A second tablet is revoked; the first pulls the revocation through a
 * proxy that drops it from the answer and keeps the cursor and the
 * checkpoint.  Refused; then honestly pulled, and the replica hash is the
 * register's.
 */
START_TEST(thinned_pull_is_refused)
{
    char a[700], b[700];
    uint8_t dev_a[SC_ID_LEN], dev_b[SC_ID_LEN];
    enroll("tablet-a", "inspector1", a, sizeof a, dev_a);
    enroll("tablet-b", "inspector1", b, sizeof b, dev_b);
    json_decref(CLI_OK(a, "sync"));
    sct_fixture_revoke(L.data, dev_b);
    sct_proxy_opts opts = {.seed = 11, .lie = SCT_LIE_DROP_PULLED, .lies_max = 1};
    sct_proxy_set_opts(px, &opts);

    expect_refused(a, "pulled ops differ");
    expect_verify(a, 0);

    json_t *o = CLI_OK(a, "sync");
    ck_assert_int_ge(num(o, "pulled"), 1);
    json_decref(o);
    device_state d;
    device_state_get(a, &d);
    sct_reg_view reg;
    sct_reg_read(L.data, &reg);
    char want[SC_HASH_HEX_LEN];
    ck_assert_int_eq(sc_hex_encode(reg.replica_hash, SC_HASH_LEN, want, sizeof want), SC_OK);
    ck_assert_int_eq((long long)reg.log_size, d.cp_size);
    sct_reg_dispose(&reg);
    ck_assert_str_eq(d.replica_hash, want);
    expect_verify(a, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("e2e/lying_network");
    const sct_case cases[] = {
        {"forged_acceptance_keeps_the_ops", forged_acceptance_keeps_the_ops},
        {"replayed_answer_keeps_the_ops", replayed_answer_keeps_the_ops},
        {"forged_rejection_keeps_the_ops", forged_rejection_keeps_the_ops},
        {"thinned_pull_is_refused", thinned_pull_is_refused},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown, .timeout_s = 300});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
