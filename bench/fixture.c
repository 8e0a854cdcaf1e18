/*
 * fixture.c: `sc-bench-fixture`, bulk register setup for the benchmarks,
 * in-process through syncd's register API (the code `syncd admin` and
 * `syncd serve` run).  The small fixed part of a register (org tree,
 * targets, score sheet) is made by run.sh with `syncd init` and
 * `syncd admin`, as an operator would; this tool does what would take
 * thousands of process starts:
 *
 *   users DIR ROLE COUNT PREFIX CODES
 *       COUNT users LOGIN=PREFIX<n> of ROLE (scope: the org unit with code
 *       "street", or "city" for auditors) and one enrollment code each,
 *       appended to the file CODES as "ROLE LOGIN CODE" lines.
 *
 *   grow DIR TO DEVICES
 *       enroll DEVICES new devices in-process (half inspectors, half
 *       supervisors; sd_register_enroll, the POST /v1/enroll code), then
 *       make their inspection cycles (opgen.h) and ingest them until the
 *       log holds TO ops.  Ingest is syncd's own path without HTTP: worker
 *       threads open and verify each op (sc_op_open with SC_OP_VERIFY, as
 *       the HTTP workers do) and hand batches of 1,000 to the group-commit
 *       queue (ingest.h), which judges, folds, logs and commits them.
 *       Every op must be accepted.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/config.h"
#include "bench.h"
#include "core/ids.h"
#include "opgen.h"
#include "register/register.h"
#include "sync/ingest.h"

#define BATCH_OPS 1000

static sd_register *open_register(const char *dir, sd_config *cfg)
{
    sc_err err;
    sc_err_clear(&err);
    sd_config_defaults(cfg);
    if (sd_config_set(cfg, "data", dir, &err) != SC_OK)
        bn_die("fixture: %s", err.msg);
    sd_register *r = NULL;
    if (sd_register_open(cfg, &r, &err) != SC_OK)
        bn_die("fixture: cannot open the register in %s: %s", dir, err.msg);
    return r;
}

static void lookup_org(sd_register *r, const char *code, uint8_t out[SC_ID_LEN])
{
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_lookup_code(r, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, code, 0, out, &err) != SC_OK)
        bn_die("fixture: no org unit \"%s\": %s", code, err.msg);
}

static int role_of(const char *name)
{
    if (strcmp(name, "inspector") == 0)
        return SCPB__ROLE__ROLE_INSPECTOR;
    if (strcmp(name, "supervisor") == 0)
        return SCPB__ROLE__ROLE_SUPERVISOR;
    if (strcmp(name, "responsible") == 0)
        return SCPB__ROLE__ROLE_RESPONSIBLE;
    if (strcmp(name, "auditor") == 0)
        return SCPB__ROLE__ROLE_AUDITOR;
    bn_die("fixture: unknown role \"%s\"", name);
}

/* A user of `role` in org; its enrollment code into code (cap bytes). */
static void make_user(sd_register *r, const char *login, int role, const uint8_t org[SC_ID_LEN],
                      char *code, size_t cap)
{
    uint8_t id[SC_ID_LEN];
    sc_uuid7_new(bn_env(), id);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__UserCreate b = SCPB__USER_CREATE__INIT;
    op.has_entity = op.has_entity_type = true;
    op.entity = (ProtobufCBinaryData){SC_ID_LEN, id};
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_USER;
    op.body_case = SCPB__OP__BODY_USER_CREATE;
    op.user_create = &b;
    b.login = (char *)login;
    b.name = (char *)login;
    b.has_role = b.has_org = true;
    b.role = (Scpb__Role)role;
    b.org = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)org};
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_admin_op(r, &op, NULL, &err) != SC_OK)
        bn_die("fixture: user %s: %s", login, err.msg);
    if (sd_register_enroll_code(r, login, 24 * 30, code, cap, &err) != SC_OK)
        bn_die("fixture: enrollment code for %s: %s", login, err.msg);
}

static int cmd_users(int argc, char **argv)
{
    if (argc != 7)
        bn_die("usage: sc-bench-fixture users DIR ROLE COUNT PREFIX CODES");
    const char *dir = argv[2], *prefix = argv[5], *codes = argv[6];
    int role = role_of(argv[3]);
    long long count = bn_arg_int(argv[4], 1, 100000, "COUNT");
    sd_config cfg;
    sd_register *r = open_register(dir, &cfg);
    uint8_t org[SC_ID_LEN];
    lookup_org(r, role == SCPB__ROLE__ROLE_AUDITOR ? "city" : "street", org);
    FILE *f = fopen(codes, "a");
    if (!f)
        bn_die("fixture: cannot append to %s", codes);
    for (long long i = 0; i < count; i++) {
        char login[OG_LOGIN_MAX], code[OG_CODE_MAX];
        snprintf(login, sizeof login, "%s%lld", prefix, i);
        make_user(r, login, role, org, code, sizeof code);
        fprintf(f, "%s %s %s\n", argv[3], login, code);
    }
    if (fclose(f) != 0)
        bn_die("fixture: cannot write %s", codes);
    sd_register_close(r);
    return 0;
}

/* ---- grow ---- */

typedef struct grow {
    sd_register *r;
    sd_ingest *q;
    og_world w;
    og_device *dev;
    sd_principal *who;
    atomic_flag *busy;            /* a device's stream is made by one worker at a time */
    size_t ndev;
    uint64_t target;              /* stop once the log holds this many ops */
    _Atomic uint64_t size;        /* log size as of the last commit seen */
    _Atomic uint64_t next;        /* next device to serve (round robin over threads) */
    _Atomic uint64_t rejected;
    double t0;
} grow;

/* One worker: take a device, make BATCH_OPS worth of its cycles, open+verify, ingest. */
static void *grow_worker(void *arg)
{
    grow *g = arg;
    for (;;) {
        if (atomic_load(&g->size) >= g->target)
            break;
        size_t k = (size_t)(atomic_fetch_add(&g->next, 1) % g->ndev);
        if (atomic_flag_test_and_set(&g->busy[k]))
            continue;
        og_device *d = &g->dev[k];
        og_stream s = {0};
        while (s.n + og_cycle_len(d->role) <= BATCH_OPS)
            og_cycle(d, &g->w, &s);
        sc_op **ops = calloc(s.n, sizeof *ops);
        sd_result *res = calloc(s.n, sizeof *res);
        if (!ops || !res)
            bn_die("fixture: out of memory");
        for (size_t i = 0; i < s.n; i++) {
            sc_err err;
            sc_err_clear(&err);
            if (sc_op_open(bn_env(), s.v[i]->signed_bytes, s.v[i]->signed_len, SC_OP_VERIFY, &ops[i],
                           &err) != SC_OK)
                bn_die("fixture: a sealed op does not open: %s", err.msg);
        }
        sd_batch b = {&g->who[k], (sc_op *const *)ops, s.n, res, bn_wall_ms()};
        sc_err err;
        sc_err_clear(&err);
        if (sd_ingest_submit(g->q, &b, &err) != SC_OK)
            bn_die("fixture: ingest failed: %s", err.msg);
        uint64_t last = 0;
        for (size_t i = 0; i < s.n; i++) {
            if (res[i].status == SCPB__OP_STATUS__OP_ACCEPTED) {
                if (res[i].log_index + 1 > last)
                    last = res[i].log_index + 1;
            } else {
                atomic_fetch_add(&g->rejected, 1);
                bn_die("fixture: op %zu of a batch not accepted (status %d, reason %d): %s", i,
                       (int)res[i].status, res[i].reason, res[i].message);
            }
        }
        uint64_t cur = atomic_load(&g->size);
        while (last > cur && !atomic_compare_exchange_weak(&g->size, &cur, last)) {
        }
        for (size_t i = 0; i < s.n; i++)
            sc_op_free(bn_env(), ops[i]);
        free(ops);
        free(res);
        og_stream_free(&s);
        atomic_flag_clear(&g->busy[k]);
    }
    return NULL;
}

/* Enroll d as a device of a new user, in-process through the POST /v1/enroll code. */
static void enroll_device(sd_register *r, og_device *d, const char *login,
                          const uint8_t org[SC_ID_LEN], sd_principal *who)
{
    char code[OG_CODE_MAX];
    make_user(r, login, d->role, org, code, sizeof code);
    const uint8_t *pub = sc_keypair_public(d->kp);
    size_t cl = strlen(code);
    uint8_t msg[OG_CODE_MAX + SC_KEY_LEN], proof[SC_SIG_LEN];
    memcpy(msg, code, cl);
    memcpy(msg + cl, pub, SC_KEY_LEN);
    if (sc_sign(bn_env(), d->kp, SC_DOMAIN_ENROLL, msg, cl + SC_KEY_LEN, proof) != SC_OK)
        bn_die("fixture: cannot sign an enrollment proof");
    Scpb__EnrollRequest req = SCPB__ENROLL_REQUEST__INIT;
    req.code = code;
    req.has_device_key = req.has_proof = true;
    req.device_key = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)pub};
    req.proof = (ProtobufCBinaryData){SC_SIG_LEN, proof};
    req.label = "bench tablet";
    Scpb__EnrollResponse *resp = NULL;
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_enroll(r, &req, &resp, NULL, &err) != SC_OK)
        bn_die("fixture: enroll %s: %s", login, err.msg);
    sd_msg_free(resp);
    if (sd_register_principal(r, pub, who, &err) != SC_OK)
        bn_die("fixture: principal of %s: %s", login, err.msg);
}

static int cmd_grow(int argc, char **argv)
{
    if (argc != 5)
        bn_die("usage: sc-bench-fixture grow DIR TO DEVICES");
    const char *dir = argv[2];
    grow g;
    memset(&g, 0, sizeof g);
    g.target = (uint64_t)bn_arg_int(argv[3], 1, 100000000, "TO");
    g.ndev = (size_t)bn_arg_int(argv[4], 1, 100000, "DEVICES");
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-world.txt", dir);
    if (!og_world_load(path, &g.w))
        return 1;
    sd_config cfg;
    g.r = open_register(dir, &cfg);
    sd_register_stats st;
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_stats_get(g.r, &st, &err) != SC_OK)
        bn_die("fixture: %s", err.msg);
    if (st.log_size >= g.target) {
        sd_register_close(g.r);
        return 0;
    }
    uint8_t org[SC_ID_LEN];
    lookup_org(g.r, "street", org);
    g.dev = calloc(g.ndev, sizeof *g.dev);
    g.who = calloc(g.ndev, sizeof *g.who);
    g.busy = calloc(g.ndev, sizeof *g.busy);
    if (!g.dev || !g.who || !g.busy)
        bn_die("fixture: out of memory");
    /* Logins must be new in this register: number them after its current size. */
    for (size_t i = 0; i < g.ndev; i++) {
        char login[OG_LOGIN_MAX];
        int role = i % 2 ? SCPB__ROLE__ROLE_SUPERVISOR : SCPB__ROLE__ROLE_INSPECTOR;
        og_device_init(&g.dev[i], role, bn_mix64(st.log_size + i));
        snprintf(login, sizeof login, "grow%llu-%zu", (unsigned long long)st.log_size, i);
        enroll_device(g.r, &g.dev[i], login, org, &g.who[i]);
    }
    if (sd_register_stats_get(g.r, &st, &err) != SC_OK)
        bn_die("fixture: %s", err.msg);
    atomic_store(&g.size, st.log_size);
    if (sd_ingest_start(g.r, &cfg, &g.q, &err) != SC_OK)
        bn_die("fixture: %s", err.msg);
    enum { WORKERS = 4 };
    pthread_t th[WORKERS];
    g.t0 = bn_now();
    uint64_t from = st.log_size;
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    double cpu0 = (double)ru0.ru_utime.tv_sec + (double)ru0.ru_utime.tv_usec * 1e-6 +
                  (double)ru0.ru_stime.tv_sec + (double)ru0.ru_stime.tv_usec * 1e-6;
    for (int i = 0; i < WORKERS; i++)
        if (pthread_create(&th[i], NULL, grow_worker, &g) != 0)
            bn_die("fixture: cannot start a thread");
    /* Progress every few seconds while the workers run. */
    for (;;) {
        bn_sleep(0.5);
        uint64_t now = atomic_load(&g.size);
        static double last_note;
        double t = bn_now() - g.t0;
        if (t - last_note >= 10 || now >= g.target) {
            last_note = t;
            bn_note("register %s: %llu of %llu ops (%.0f ops/s)", dir, (unsigned long long)now,
                    (unsigned long long)g.target, (double)(now - from) / (t > 0 ? t : 1));
        }
        if (now >= g.target)
            break;
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);
    sd_ingest_stop(g.q);
    double wall = bn_now() - g.t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6 - cpu0;
    uint64_t added = atomic_load(&g.size) - from;
    bn_note("ingested %llu ops in %.1f s wall, %.1f s CPU (%.0f ops/s, %.1f us CPU per op with "
            "sealing and verifying)",
            (unsigned long long)added, wall, cpu, (double)added / wall, cpu * 1e6 / (double)added);
    for (size_t i = 0; i < g.ndev; i++)
        og_device_dispose(&g.dev[i]);
    free(g.dev);
    free(g.who);
    free(g.busy);
    sd_register_close(g.r);
    return 0;
}

/*
 * judge DIR OPS DEVICES BATCH: the register's ingest path alone, for
 * profiling.  Enroll DEVICES, seal and verify OPS ops first (untimed), then
 * hand them to sd_register_ingest in calls of BATCH ops (as one group
 * commit would) on this thread, and report wall time and this thread's
 * CPU time per op: judging, folding, logging, the Merkle append, the
 * checkpoint signature and the durable commit, without HTTP or verify.
 */
static int cmd_judge(int argc, char **argv)
{
    if (argc != 6)
        bn_die("usage: sc-bench-fixture judge DIR OPS DEVICES BATCH");
    const char *dir = argv[2];
    size_t want = (size_t)bn_arg_int(argv[3], 1, 100000000, "OPS");
    size_t ndev = (size_t)bn_arg_int(argv[4], 1, 100000, "DEVICES");
    size_t batch = (size_t)bn_arg_int(argv[5], 1, 100000, "BATCH");
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-world.txt", dir);
    og_world w;
    if (!og_world_load(path, &w))
        return 1;
    sd_config cfg;
    sd_register *r = open_register(dir, &cfg);
    sd_register_stats st;
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_stats_get(r, &st, &err) != SC_OK)
        bn_die("fixture: %s", err.msg);
    uint8_t org[SC_ID_LEN];
    lookup_org(r, "street", org);
    og_device *dev = calloc(ndev, sizeof *dev);
    sd_principal *who = calloc(ndev, sizeof *who);
    if (!dev || !who)
        bn_die("fixture: out of memory");
    for (size_t i = 0; i < ndev; i++) {
        char login[OG_LOGIN_MAX];
        og_device_init(&dev[i], i % 2 ? SCPB__ROLE__ROLE_SUPERVISOR : SCPB__ROLE__ROLE_INSPECTOR,
                       bn_mix64(st.log_size + i));
        snprintf(login, sizeof login, "judge%llu-%zu", (unsigned long long)st.log_size, i);
        enroll_device(r, &dev[i], login, org, &who[i]);
    }
    /* One stream per device, cycles round robin until OPS are made. */
    og_stream *s = calloc(ndev, sizeof *s);
    size_t total = 0;
    for (size_t k = 0; total < want; k = (k + 1) % ndev) {
        size_t before = s[k].n;
        og_cycle(&dev[k], &w, &s[k]);
        total += s[k].n - before;
    }
    /* Interleave devices batch by batch, as concurrent requests would arrive. */
    size_t per = batch / ndev ? batch / ndev : 1;
    size_t nb = 0, cap = total / per + ndev + 1;
    sd_batch *bs = calloc(cap, sizeof *bs);
    sc_op **ops = calloc(total, sizeof *ops);
    sd_result *res = calloc(total, sizeof *res);
    size_t *pos = calloc(ndev, sizeof *pos), used = 0;
    if (!s || !bs || !ops || !res || !pos)
        bn_die("fixture: out of memory");
    for (bool more = true; more;) {
        more = false;
        for (size_t k = 0; k < ndev; k++) {
            size_t take = s[k].n - pos[k] < per ? s[k].n - pos[k] : per;
            if (!take)
                continue;
            more = true;
            for (size_t i = 0; i < take; i++) {
                if (sc_op_open(bn_env(), s[k].v[pos[k] + i]->signed_bytes,
                               s[k].v[pos[k] + i]->signed_len, SC_OP_VERIFY, &ops[used + i],
                               &err) != SC_OK)
                    bn_die("fixture: %s", err.msg);
            }
            bs[nb++] = (sd_batch){&who[k], (sc_op *const *)&ops[used], take, &res[used],
                                  bn_wall_ms()};
            used += take;
            pos[k] += take;
        }
    }
    /* Group the batches into commits of about BATCH ops. */
    sd_batch **grp = calloc(nb, sizeof *grp);
    double t0 = bn_now();
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    size_t commits = 0;
    for (size_t i = 0; i < nb;) {
        size_t n = 0, ops_in = 0;
        while (i < nb && (n == 0 || ops_in + bs[i].n <= batch)) {
            ops_in += bs[i].n;
            grp[n++] = &bs[i++];
        }
        if (sd_register_ingest(r, grp, n, &err) != SC_OK)
            bn_die("fixture: ingest: %s", err.msg);
        commits++;
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double wall = bn_now() - t0;
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9;
    size_t bad = 0;
    for (size_t i = 0; i < used; i++)
        bad += res[i].status != SCPB__OP_STATUS__OP_ACCEPTED;
    bn_note("judged %zu ops in %zu commits: %.2f s wall, %.2f s CPU on the writer thread: "
            "%.0f ops/s, %.1f us CPU per op; %zu not accepted",
            used, commits, wall, cpu, (double)used / wall, cpu * 1e6 / (double)used, bad);
    for (size_t i = 0; i < used; i++)
        sc_op_free(bn_env(), ops[i]);
    for (size_t k = 0; k < ndev; k++) {
        og_stream_free(&s[k]);
        og_device_dispose(&dev[k]);
    }
    free(s);
    free(bs);
    free(grp);
    free(ops);
    free(res);
    free(pos);
    free(dev);
    free(who);
    sd_register_close(r);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (sc_crypto_init() != SC_OK)
        bn_die("libsodium failed to initialise");
    if (argc >= 2 && strcmp(argv[1], "users") == 0)
        return cmd_users(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "grow") == 0)
        return cmd_grow(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "judge") == 0)
        return cmd_judge(argc, argv);
    fprintf(stderr, "usage: sc-bench-fixture users DIR ROLE COUNT PREFIX CODES\n"
                    "       sc-bench-fixture grow DIR TO DEVICES\n"
                    "       sc-bench-fixture judge DIR OPS DEVICES BATCH\n");
    return 2;
}
