/*
 * test_scaleout.c: two syncd on one PostgreSQL register behind a real
 * nginx (Debian's, started here in a temp dir with its own configuration
 * on 127.0.0.1): the register made with `syncd init --store`, its data
 * directory copied for the second syncd, the photos in one shared
 * directory.  A device enrolls on one syncd and syncs through the other
 * and through nginx; a request replayed to the other syncd is refused
 * there; a photo upload cut on one syncd resumes on the other; one syncd
 * is killed with SIGKILL in the middle of a stream of
 * pushes through nginx, which retry (signed again) until answered; every
 * acknowledged op is in the log exactly once; both syncd then pull the
 * same log to the same checkpoint, and `syncd audit` holds on both data
 * directories.  A photo upload started over with other bytes on one syncd
 * is not completed on the other from the running hash it kept of the
 * bytes it saw.  PostgreSQL comes from tests/support/sctest_pg.h.
 */
#include <check.h>
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "core/codec.h"
#include "core/ids.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_pg.h"
#include "sctest_server.h"

/* Pushes in the stream SIGKILL cuts, and notes in each. */
#define BATCHES 16
#define PER_BATCH 48

static const char *const pb[] = {"Content-Type: application/x-protobuf", NULL};

typedef struct front {
    pid_t pid;
    char dir[600];
    char url[128];
} front;

static const char *nginx_path(void)
{
    return access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : "nginx";
}

static void write_nginx_conf(const front *f, int port, const sct_server *a, const sct_server *b)
{
    char path[700];
    snprintf(path, sizeof path, "%s/nginx.conf", f->dir);
    FILE *c = fopen(path, "w");
    ck_assert_ptr_nonnull(c);
    fprintf(c,
            "worker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
            "events { worker_connections 256; }\n"
            "http {\n access_log %s/access.log;\n client_body_temp_path %s/tmp/body;\n"
            " proxy_temp_path %s/tmp/proxy;\n fastcgi_temp_path %s/tmp/fastcgi;\n"
            " uwsgi_temp_path %s/tmp/uwsgi;\n scgi_temp_path %s/tmp/scgi;\n"
            " upstream syncd {\n  server 127.0.0.1:%u max_fails=1 fail_timeout=1s;\n"
            "  server 127.0.0.1:%u max_fails=1 fail_timeout=1s;\n  keepalive 8;\n }\n"
            " server {\n  listen 127.0.0.1:%d;\n  merge_slashes off;\n  client_max_body_size 9m;\n"
            "  location / {\n   proxy_pass http://syncd;\n   proxy_http_version 1.1;\n"
            "   proxy_set_header Connection \"\";\n   proxy_request_buffering off;\n"
            "   proxy_buffering off;\n   proxy_next_upstream error timeout;\n  }\n }\n}\n",
            f->dir, f->dir, f->dir, f->dir, f->dir, f->dir, f->dir, f->dir, (unsigned)a->port,
            (unsigned)b->port, port);
    fclose(c);
}

/* nginx in front of a and b; nginx cannot be asked for port 0, so free-looking ports are tried. */
static void front_start(front *f, const char *tmp, const sct_server *a, const sct_server *b)
{
    snprintf(f->dir, sizeof f->dir, "%s/nginx", tmp);
    char sub[700];
    ck_assert_int_eq(mkdir(f->dir, 0777), 0);
    snprintf(sub, sizeof sub, "%s/tmp", f->dir);
    ck_assert_int_eq(mkdir(sub, 0777), 0);
    chmod(f->dir, 0777); /* nginx's workers run as nobody when the tests run as root */
    chmod(sub, 0777);
    for (int attempt = 0; attempt < 20; attempt++) {
        int port = 20000 + (int)(sct_mono_ms() * 7919 % 40000);
        write_nginx_conf(f, port, a, b);
        char conf[700];
        snprintf(conf, sizeof conf, "%s/nginx.conf", f->dir);
        f->pid = fork();
        ck_assert_int_ge(f->pid, 0);
        if (f->pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            execlp(nginx_path(), "nginx", "-p", f->dir, "-c", conf, "-g", "daemon off;",
                   (char *)NULL);
            _exit(127);
        }
        snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", port);
        for (int i = 0; i < 50; i++) {
            if (sct_wait_pid(f->pid, 100) >= 0)
                break; /* it did not bind: another port */
            sct_client c;
            sct_client_init(&c, f->url, NULL);
            sct_resp r;
            long st = sct_request(&c, "GET", "/healthz", NULL, 0, NULL, NULL, &r);
            sct_resp_dispose(&r);
            sct_client_dispose(&c);
            if (st == 200)
                return;
        }
        kill(f->pid, SIGKILL);
        sct_wait_pid(f->pid, 5000);
    }
    ck_abort_msg("nginx did not start (see %s/error.log)", f->dir);
}

static void front_stop(front *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGQUIT);
        if (sct_wait_pid(f->pid, 10000) < 0) {
            kill(f->pid, SIGKILL);
            sct_wait_pid(f->pid, 5000);
        }
    }
    f->pid = 0;
}

static uint8_t *sync_body(sc_op *const *ops, size_t n, size_t *len)
{
    Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
    ProtobufCBinaryData *enc = calloc(n + 1, sizeof *enc);
    for (size_t i = 0; i < n; i++)
        enc[i] = (ProtobufCBinaryData){ops[i]->signed_len, ops[i]->signed_bytes};
    sr.n_ops = n;
    sr.ops = enc;
    *len = scpb__sync_request__get_packed_size(&sr);
    uint8_t *body = malloc(*len + 1);
    scpb__sync_request__pack(&sr, body);
    free(enc);
    return body;
}

/* Push ops through c until one answer takes them all (accepted or duplicate); the tries it took. */
static int push_until_taken(sct_client *c, sc_op *const *ops, size_t n)
{
    for (int tries = 1; tries <= 100; tries++) {
        Scpb__SyncResponse *r = NULL;
        long st = sct_sync(c, ops, n, NULL, 0, 0, &r);
        if (st == 200) {
            ck_assert_uint_eq(r->n_results, n);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(r->results[i]->status == SCPB__OP_STATUS__OP_ACCEPTED ||
                                  r->results[i]->status == SCPB__OP_STATUS__OP_DUPLICATE,
                              "op %zu: status %d: %s", i, (int)r->results[i]->status,
                              r->results[i]->message ? r->results[i]->message : "");
            scpb__sync_response__free_unpacked(r, NULL);
            return tries;
        }
        /* Cut by the kill (a 502 from nginx, or no answer): a tablet signs again and retries. */
        usleep(100 * 1000);
    }
    ck_abort_msg("a push was never answered");
    return 0;
}

/*
 * Does a connection to 127.0.0.1:port hold bytes its process has not read
 * (a request waiting at a stopped syncd)?  From /proc/net/tcp: the local
 * port and rx_queue of each socket.
 */
static bool request_waiting(uint16_t port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned lport = 0, st = 0;
        unsigned long txq = 0, rxq = 0;
        if (sscanf(line, " %*d: %*8x:%x %*8x:%*x %x %lx:%lx", &lport, &st, &txq, &rxq) == 4)
            found = lport == port && st == 0x01 /* ESTABLISHED */ && rxq > 0;
    }
    fclose(f);
    return found;
}

/*
 * Once `after` pushes of the stream were answered, stop the victim
 * (SIGSTOP): the next push nginx hands it waits in its socket, unread; once
 * one does, the victim is killed (SIGKILL) under it.
 */
typedef struct killer {
    sct_server *victim;
    atomic_int answered;
    int after;
    bool cut;   /* a push was waiting at the victim when it was killed */
} killer;

static void *kill_mid_push(void *arg)
{
    killer *k = arg;
    while (atomic_load(&k->answered) < k->after)
        usleep(1000);
    sct_server_signal(k->victim, SIGSTOP);
    for (int i = 0; i < 60000 && !k->cut; i++) {
        k->cut = request_waiting(k->victim->port);
        if (!k->cut)
            usleep(1000);
    }
    sct_server_kill(k->victim);
    return NULL;
}

/*
 * A stream of pushes through nginx (the front cf talks to) while b is
 * killed in the middle of one; b is started again after.  The pushes
 * answered only after a retry (a cut one, signed again) are added to
 * *retried, the ops pushed to *pushed.
 */
static void stream_with_kill(sct_client *cf, sct_server *b, const char *dir_b,
                             const sc_keypair *ki, uint64_t *clk, const uint8_t insp[SC_ID_LEN],
                             const uint8_t (*dep)[SC_HASH_LEN], int *retried, long long *pushed)
{
    static sc_op *notes[BATCHES][PER_BATCH];
    for (int i = 0; i < BATCHES; i++)
        for (int j = 0; j < PER_BATCH; j++)
            notes[i][j] = sct_op_note(ki, clk, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, dep, 1,
                                      "a note pushed through nginx");
    killer k = {.victim = b, .after = 3, .cut = false};
    atomic_init(&k.answered, 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, kill_mid_push, &k), 0);
    for (int i = 0; i < BATCHES; i++) {
        *retried += push_until_taken(cf, notes[i], PER_BATCH) - 1;
        atomic_fetch_add(&k.answered, 1);
    }
    pthread_join(th, NULL);
    ck_assert_int_eq(b->pid, 0);
    ck_assert_msg(k.cut, "no push reached the stopped syncd");
    *pushed += BATCHES * PER_BATCH;
    for (int i = 0; i < BATCHES; i++)
        for (int j = 0; j < PER_BATCH; j++)
            sc_op_free(sct_sys_env(), notes[i][j]);
    sct_server_start(b, dir_b, NULL);
    usleep(1100 * 1000); /* nginx tries b again after fail_timeout */
}

/* Every op of the log as one syncd hands it to an auditor's pull: how many, and their hash. */
static size_t pull_all(const char *base, const sc_keypair *key, uint8_t digest[SC_HASH_LEN],
                       uint64_t *size)
{
    sct_client c;
    sct_client_init(&c, base, key);
    sc_sha256_ctx h;
    sc_sha256_init(&h);
    size_t n = 0;
    uint8_t cursor[256];
    size_t cursor_len = 0;
    for (int pages = 0; pages < 1000; pages++) {
        Scpb__SyncResponse *r = NULL;
        ck_assert_int_eq(sct_sync(&c, NULL, 0, cursor_len ? cursor : NULL, cursor_len, 0, &r), 200);
        for (size_t i = 0; i < r->n_ops; i++)
            sc_sha256_update(&h, r->ops[i]->signed_op.data, r->ops[i]->signed_op.len);
        n += r->n_ops;
        ck_assert(r->has_cursor && r->cursor.len <= sizeof cursor);
        memcpy(cursor, r->cursor.data, r->cursor.len);
        cursor_len = r->cursor.len;
        *size = r->checkpoint ? r->checkpoint->size : 0;
        bool more = r->has_more && r->more;
        scpb__sync_response__free_unpacked(r, NULL);
        if (!more)
            break;
    }
    sc_sha256_final(&h, digest);
    sct_client_dispose(&c);
    return n;
}

/* One integer from SQL on the register's database. */
static long long pg_int(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", sql,
                  PQresultErrorMessage(r));
    long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return v;
}

static void audit_holds(const char *dir)
{
    char out[8192];
    int st = sct_syncd_run(out, sizeof out, "audit", "--data", dir, NULL);
    ck_assert_msg(st == 0 && strstr(out, "OK: everything holds"), "audit of %s: %s", dir, out);
}

static long put_chunk(sct_client *c, const char *target, const uint8_t *d, size_t start,
                      size_t len, size_t total)
{
    char range[128];
    snprintf(range, sizeof range, "Content-Range: bytes %zu-%zu/%zu", start, start + len - 1, total);
    const char *const hdr[] = {range, "Content-Type: application/octet-stream", NULL};
    sct_resp r;
    long st = sct_request(c, "PUT", target, d + start, len, hdr, NULL, &r);
    sct_resp_dispose(&r);
    return st;
}

/*
 * A photo of 4 MiB in the shared blob directory: half uploaded to b, the
 * next chunk cut off on the way to b, the rest resumed on a from the offset
 * a reports, and read back whole from b.
 */
static void upload_moves_between_syncd(sct_client *ca, sct_client *cb, const sct_server *b,
                                       const sc_keypair *k, uint64_t *clk,
                                       const uint8_t target_id[SC_ID_LEN])
{
    const size_t total = 4 * 1024 * 1024 + 17, half = total / 2, rest = total - half;
    uint8_t *d = malloc(total), sha[SC_HASH_LEN];
    char name[65], target[128];
    ck_assert_ptr_nonnull(d);
    randombytes_buf(d, total);
    d[0] = 0xff, d[1] = 0xd8, d[2] = 0xff; /* a JPEG's magic bytes */
    sc_sha256(d, total, sha);
    sc_hex_encode(sha, SC_HASH_LEN, name, sizeof name);
    snprintf(target, sizeof target, "/v1/blobs/%s", name);
    sct_name_photo(ca, k, clk, target_id, sha, total, NULL);
    ck_assert_int_eq(put_chunk(cb, target, d, 0, half, total), 202);
    char sig[1024], head[2048];
    sct_sign_lines(k, "PUT", target, d + half, rest, sig, sizeof sig);
    int hl = snprintf(head, sizeof head,
                      "PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/"
                      "octet-stream\r\nContent-Range: bytes %zu-%zu/%zu\r\nContent-Length: "
                      "%zu\r\n%s\r\n",
                      target, half, total - 1, total, rest, sig);
    int fd = sct_connect(b->port);
    ck_assert(sct_send_all(fd, head, (size_t)hl));
    ck_assert(sct_send_all(fd, d + half, rest / 4));
    usleep(200 * 1000);
    close(fd);
    /* a reports the verified half (the cut bytes were never verified), and takes the rest. */
    int64_t off = -1;
    for (int i = 0; i < 50 && off != (int64_t)half; i++) {
        sct_resp r;
        ck_assert_int_eq(sct_request(ca, "HEAD", target, NULL, 0, NULL, NULL, &r), 404);
        off = r.offset;
        sct_resp_dispose(&r);
        usleep(20 * 1000);
    }
    ck_assert_int_eq(off, (int64_t)half);
    ck_assert_int_eq(put_chunk(ca, target, d, half, rest, total), 201);
    sct_resp r;
    ck_assert_int_eq(sct_request(cb, "GET", target, NULL, 0, NULL, NULL, &r), 200);
    ck_assert_uint_eq(r.len, total);
    ck_assert(memcmp(r.body, d, total) == 0);
    sct_resp_dispose(&r);
    free(d);
}

/* init names the database without its password, in what it prints and in store.conf's mode. */
static void init_keeps_the_password(const char *tmp, const char *url, const char *dir)
{
    char conf[700], out[4096], bad[400], other[600];
    struct stat sb;
    snprintf(conf, sizeof conf, "%s/store.conf", dir);
    ck_assert_int_eq(stat(conf, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    /* A wrong password: refused, and neither password is printed. */
    const char *pw = sct_pg_password();
    snprintf(bad, sizeof bad, "%s", url);
    char *at = strstr(bad, pw);
    ck_assert_ptr_nonnull(at);
    memcpy(at, "0123456789abcdef", 16);
    snprintf(other, sizeof other, "%s/refused", tmp);
    int st = sct_syncd_run_all(out, sizeof out, "init", "--data", other, "--store", bad, NULL);
    ck_assert_int_ne(st, 0);
    ck_assert_msg(strstr(out, "password authentication failed"), "%s", out);
    ck_assert_ptr_null(strstr(out, "0123456789abcdef"));
    ck_assert_ptr_null(strstr(out, pw));
    ck_assert_int_ne(access(other, F_OK), 0); /* nothing left behind */
    /* The database holds a register already: a second init is refused, nothing printed of the password. */
    st = sct_syncd_run_all(out, sizeof out, "init", "--data", other, "--store", url, NULL);
    ck_assert_int_ne(st, 0);
    ck_assert_msg(strstr(out, "already exists"), "%s", out);
    ck_assert_ptr_null(strstr(out, pw));
}

/* A push answered by one syncd, replayed byte for byte to the other: refused there, nothing logged. */
static void replay_refused(const char *url, sct_client *to_b, sct_client *to_a, sc_op *note)
{
    size_t len;
    uint8_t *body = sync_body(&note, 1, &len);
    sct_resp r;
    ck_assert_int_eq(sct_request(to_b, "POST", "/v1/sync", body, len, pb, NULL, &r), 200);
    sct_resp_dispose(&r);
    long long before = pg_int(url, "SELECT count(*) FROM ops");
    sct_sign replay = {.nonce = to_b->last_nonce, .time_ms = to_b->last_time_ms};
    ck_assert_int_eq(sct_request(to_a, "POST", "/v1/sync", body, len, pb, &replay, &r), 401);
    ck_assert_str_eq(r.reason, "nonce_used");
    sct_resp_dispose(&r);
    ck_assert_int_eq(pg_int(url, "SELECT count(*) FROM ops"), before);
    free(body);
}

/*
 * Two syncd data directories, tmp/a made on a new PostgreSQL register (url)
 * with the fixture, sharing one blob directory; b is left for the caller to
 * copy from a once a is as it wants it.
 */
static void two_dirs_on_pg(char tmp[512], char dir_a[600], char dir_b[600], char blobs[600],
                           char url[300], sct_fixture *fx)
{
    sct_tempdir(tmp, 512);
    snprintf(dir_a, 600, "%s/a", tmp);
    snprintf(dir_b, 600, "%s/b", tmp);
    snprintf(blobs, 600, "%s/shared-blobs", tmp);
    sct_pg_newdb(url, 300);
    sct_fixture_make_store(fx, dir_a, url, blobs);
}

START_TEST(two_syncd_behind_nginx)
{
    char tmp[512], dir_a[600], dir_b[600], blobs[600], url[300];
    sct_fixture fx;
    two_dirs_on_pg(tmp, dir_a, dir_b, blobs, url, &fx);
    init_keeps_the_password(tmp, url, dir_a);
    sct_copytree(dir_a, dir_b);
    sct_server a = {0}, b = {0};
    sct_server_start(&a, dir_a, NULL);
    sct_server_start(&b, dir_b, NULL);
    front f = {0};
    front_start(&f, tmp, &a, &b);

    /* Enrolled on a; an inspection opened through b; a note replayed from b to a. */
    sc_keypair *ki = sct_key(41);
    uint64_t clk = 0;
    sct_client ca, cb, cf;
    sct_client_init(&ca, a.url, ki);
    sct_client_init(&cb, b.url, ki);
    sct_client_init(&cf, f.url, ki);
    sct_fixture_enroll(dir_a, &ca, ki, "inspector1", NULL, NULL);
    uint8_t insp[SC_ID_LEN];
    sc_op *open = sct_op_open_inspection(ki, &clk, insp, fx.target);
    ck_assert_int_eq(push_until_taken(&cb, &open, 1), 1);
    const uint8_t(*dep)[SC_HASH_LEN] = (const uint8_t(*)[SC_HASH_LEN])open->id;
    sc_op *first = sct_op_note(ki, &clk, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, dep, 1, "b");
    replay_refused(url, &cb, &ca, first);
    upload_moves_between_syncd(&ca, &cb, &b, ki, &clk, fx.target);

    /*
     * A stream of pushes through nginx, b killed under one of them: nginx
     * answers that one 502 (a push is not idempotent to a proxy), and the
     * tablet's retry, signed again, goes to a.
     */
    int retried = 0;
    long long pushed = 0;
    stream_with_kill(&cf, &b, dir_b, ki, &clk, insp, dep, &retried, &pushed);
    ck_assert_int_gt(retried, 0);

    /* Every acknowledged op once: the open, the replayed note, the photo's two, the stream. */
    char q[256], hex[2 * SC_KEY_LEN + 1];
    sc_hex_encode(sc_keypair_public(ki), SC_KEY_LEN, hex, sizeof hex);
    snprintf(q, sizeof q, "SELECT count(*) FROM ops WHERE author = '\\x%s'::bytea", hex);
    long long want = 4 + pushed;
    ck_assert_int_eq(pg_int(url, q), want);
    snprintf(q, sizeof q, "SELECT count(DISTINCT op_id) FROM ops WHERE author = '\\x%s'::bytea",
             hex);
    ck_assert_int_eq(pg_int(url, q), want);
    /* One log: indexes 0..n-1 without a gap, one checkpoint per size. */
    ck_assert_int_eq(pg_int(url, "SELECT count(*) - max(idx) - 1 FROM ops"), 0);
    ck_assert_int_eq(pg_int(url, "SELECT count(*) - count(DISTINCT size) FROM checkpoints"), 0);

    /* b again (on its copy of the data directory): both pull the same log to the same size. */
    sc_keypair *ks = sct_key(42);
    sct_client cs;
    sct_client_init(&cs, b.url, ks);
    sct_fixture_enroll(dir_b, &cs, ks, "supervisor1", NULL, NULL);
    uint8_t da[SC_HASH_LEN], db[SC_HASH_LEN];
    uint64_t sa = 0, sb = 0;
    size_t na = pull_all(a.url, ks, da, &sa), nb = pull_all(b.url, ks, db, &sb);
    ck_assert_uint_eq(na, nb);
    ck_assert_uint_eq(sa, sb);
    ck_assert_uint_ge(na, (size_t)want);
    ck_assert_mem_eq(da, db, SC_HASH_LEN);
    fprintf(stderr, "scaleout: %lld ops of the device, %d pushes retried\n", want, retried);

    front_stop(&f);
    ck_assert_int_eq(sct_server_stop(&a), 0);
    ck_assert_int_eq(sct_server_stop(&b), 0);
    audit_holds(dir_a);
    audit_holds(dir_b);
    sc_op_free(sct_sys_env(), open);
    sc_op_free(sct_sys_env(), first);
    sct_client_dispose(&ca);
    sct_client_dispose(&cb);
    sct_client_dispose(&cf);
    sct_client_dispose(&cs);
    sc_keypair_free(ki);
    sc_keypair_free(ks);
    sct_rmtree(tmp);
}
END_TEST

/*
 * One device floods both syncd with fresh nonces: the register's shared
 * `nonces` table takes a claim only for a request an instance's own cache
 * admitted, so it holds at most the device's quota per instance; past it
 * the device alone is refused 429 `rate_limited`, and another device still
 * syncs through either instance.
 */
START_TEST(nonce_claims_stay_within_the_quotas)
{
    enum { QUOTA = 25, SENDS = 120 };
    char tmp[512], dir_a[600], dir_b[600], blobs[600], url[300], conf[600];
    sct_fixture fx;
    two_dirs_on_pg(tmp, dir_a, dir_b, blobs, url, &fx);
    snprintf(conf, sizeof conf, "%s/syncd.conf", tmp);
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "auth.device_nonces_max = %d\n", QUOTA);
    fclose(f);
    sct_copytree(dir_a, dir_b);
    const char *extra[] = {"--config", conf, NULL};
    sct_server a = {0}, b = {0};
    sct_server_start(&a, dir_a, extra);
    sct_server_start(&b, dir_b, extra);
    sc_keypair *kf = sct_key(51), *kh = sct_key(52);
    sct_client fa, fb, ha, hb;
    sct_client_init(&fa, a.url, kf);
    sct_client_init(&fb, b.url, kf);
    sct_client_init(&ha, a.url, kh);
    sct_client_init(&hb, b.url, kh);
    sct_fixture_enroll(dir_a, &fa, kf, "inspector1", NULL, NULL);
    sct_fixture_enroll(dir_a, &ha, kh, "supervisor1", NULL, NULL);
    long long claims_before = pg_int(url, "SELECT count(*) FROM nonces");

    int ok = 0, limited = 0;
    for (int i = 0; i < SENDS; i++) {
        sct_resp r;
        long st = sct_request(i % 2 ? &fb : &fa, "GET", "/v1/log/checkpoint", NULL, 0, NULL,
                              NULL, &r);
        if (st == 200) {
            ok++;
        } else {
            ck_assert_int_eq(st, 429);
            ck_assert_str_eq(r.reason, "rate_limited");
            limited++;
        }
        sct_resp_dispose(&r);
    }
    /* Each instance admitted the device's quota, no more (none ages out in the 5-minute window). */
    ck_assert_int_eq(ok, 2 * QUOTA);
    ck_assert_int_eq(ok + limited, SENDS);
    long long claims = pg_int(url, "SELECT count(*) FROM nonces") - claims_before;
    ck_assert_int_eq(claims, ok);
    /* Another device is not held back by the flooder, on either instance. */
    for (int i = 0; i < 4; i++) {
        sct_resp r;
        ck_assert_int_eq(sct_request(i % 2 ? &hb : &ha, "GET", "/v1/log/checkpoint", NULL, 0,
                                     NULL, NULL, &r),
                         200);
        sct_resp_dispose(&r);
    }
    fprintf(stderr, "scaleout: %d of %d flooding requests admitted, %lld nonces claimed\n", ok,
            SENDS, claims);
    ck_assert_int_eq(sct_server_stop(&a), 0);
    ck_assert_int_eq(sct_server_stop(&b), 0);
    sct_client_dispose(&fa);
    sct_client_dispose(&fb);
    sct_client_dispose(&ha);
    sct_client_dispose(&hb);
    sc_keypair_free(kf);
    sc_keypair_free(kh);
    sct_rmtree(tmp);
}
END_TEST

/*
 * One device, one photo, two syncd sharing the blob directory: the first
 * half of the real bytes to a, which keeps its running hash; junk for the
 * rest to b, refused 422 (the upload discarded); a junk first half to b, so
 * the upload stands at the same offset again with other bytes; the real
 * rest to a.  a must hash the bytes the file holds, not the real first half
 * it saw: refused 422, and no blob stored under the name whose bytes do not
 * hash to it.  The device then starts over and the photo is stored.
 */
START_TEST(upload_started_over_elsewhere_is_read_back)
{
    char tmp[512], dir_a[600], dir_b[600], blobs[600], url[300];
    sct_fixture fx;
    two_dirs_on_pg(tmp, dir_a, dir_b, blobs, url, &fx);
    sct_copytree(dir_a, dir_b);
    sct_server a = {0}, b = {0};
    sct_server_start(&a, dir_a, NULL);
    sct_server_start(&b, dir_b, NULL);
    sc_keypair *k = sct_key(61);
    uint64_t clk = 0;
    sct_client ca, cb;
    sct_client_init(&ca, a.url, k);
    sct_client_init(&cb, b.url, k);
    sct_fixture_enroll(dir_a, &ca, k, "inspector1", NULL, NULL);

    const size_t total = 3 * 1024 * 1024 + 5, half = total / 2, rest = total - half;
    uint8_t *d = malloc(total), *junk = malloc(total), sha[SC_HASH_LEN];
    char name[65], target[128];
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(junk);
    randombytes_buf(d, total);
    randombytes_buf(junk, total);
    d[0] = junk[0] = 0xff, d[1] = junk[1] = 0xd8, d[2] = junk[2] = 0xff;
    sc_sha256(d, total, sha);
    sc_hex_encode(sha, SC_HASH_LEN, name, sizeof name);
    snprintf(target, sizeof target, "/v1/blobs/%s", name);
    sct_name_photo(&ca, k, &clk, fx.target, sha, total, NULL);

    ck_assert_int_eq(put_chunk(&ca, target, d, 0, half, total), 202);
    ck_assert_int_eq(put_chunk(&cb, target, junk, half, rest, total), 422);
    ck_assert_int_eq(put_chunk(&cb, target, junk, 0, half, total), 202);
    long st = put_chunk(&ca, target, d, half, rest, total);
    sct_resp r;
    long got = sct_request(&cb, "GET", target, NULL, 0, NULL, NULL, &r);
    if (got == 200) {
        uint8_t h[SC_HASH_LEN];
        sc_sha256(r.body, r.len, h);
        ck_assert_msg(memcmp(h, sha, SC_HASH_LEN) == 0,
                      "photo %s stored with bytes that do not hash to its name", name);
    }
    sct_resp_dispose(&r);
    ck_assert_int_eq(st, 422);

    /* The device starts over: the photo is stored, whole. */
    ck_assert_int_eq(put_chunk(&cb, target, d, 0, half, total), 202);
    ck_assert_int_eq(put_chunk(&ca, target, d, half, rest, total), 201);
    ck_assert_int_eq(sct_request(&cb, "GET", target, NULL, 0, NULL, NULL, &r), 200);
    ck_assert_uint_eq(r.len, total);
    ck_assert(memcmp(r.body, d, total) == 0);
    sct_resp_dispose(&r);

    ck_assert_int_eq(sct_server_stop(&a), 0);
    ck_assert_int_eq(sct_server_stop(&b), 0);
    audit_holds(dir_a);
    free(d);
    free(junk);
    sct_client_dispose(&ca);
    sct_client_dispose(&cb);
    sc_keypair_free(k);
    sct_rmtree(tmp);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("e2e/scaleout");
    const sct_case cases[] = {{"two syncd behind nginx", two_syncd_behind_nginx},
                              {"nonce claims stay within the quotas",
                               nonce_claims_stay_within_the_quotas},
                              {"upload started over elsewhere is read back",
                               upload_started_over_elsewhere_is_read_back}};
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    if (!sct_pg_start())
        return 0;
    int rc = sct_run(suite());
    sct_pg_stop();
    return rc;
}
