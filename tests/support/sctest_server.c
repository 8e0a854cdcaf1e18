/*
 * sctest_server.c: real syncd processes and a signed HTTP client for tests
 * (see sctest_server.h).
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "sctest_server.h"

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/hlc.h"
#include "core/ids.h"
#include "core/limits.h"

/* ---- the environment ---- */

static int64_t sys_now(void *ctx)
{
    (void)ctx;
    return sct_now_ms();
}

static void sys_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    randombytes_buf(buf, len);
}

static const sc_env sys_env = {NULL, NULL, NULL, sys_now, sys_random, NULL};

const sc_env *sct_sys_env(void)
{
    return &sys_env;
}

int64_t sct_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sct_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define mono_ms sct_mono_ms

/* One "Name:   N kB" line of /proc/PID/status. */
static long proc_status_kib(pid_t pid, const char *name)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t nl = strlen(name);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
            v = strtol(line + nl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

long sct_proc_rss_kib(pid_t pid)
{
    return proc_status_kib(pid, "VmRSS");
}

long sct_proc_hwm_kib(pid_t pid)
{
    return proc_status_kib(pid, "VmHWM");
}

/* ---- processes and directories ---- */

const char *sct_syncd_path(void)
{
    static char path[1024];
    const char *bin = getenv("SC_BIN_DIR");
    snprintf(path, sizeof path, "%s/syncd/syncd", bin && bin[0] ? bin : SC_BUILD_DIR);
    return path;
}

void sct_tempdir(char *out, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(out, cap, "%s/sctest-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    ck_assert(n > 0 && (size_t)n < cap);
    ck_assert_msg(mkdtemp(out) != NULL, "mkdtemp: %s", strerror(errno));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void sct_rmtree(const char *path)
{
    if (path && path[0])
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void copy_file(const char *src, const char *dst, mode_t mode)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    ck_assert_msg(in >= 0, "open %s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    ck_assert_msg(out >= 0, "create %s: %s", dst, strerror(errno));
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        ck_assert_msg(write(out, buf, (size_t)n) == n, "write %s: %s", dst, strerror(errno));
    ck_assert_msg(n == 0, "read %s: %s", src, strerror(errno));
    close(in);
    ck_assert_msg(close(out) == 0, "close %s: %s", dst, strerror(errno));
}

void sct_copytree(const char *src, const char *dst)
{
    struct stat st;
    ck_assert_msg(stat(src, &st) == 0 && S_ISDIR(st.st_mode), "%s: not a directory", src);
    ck_assert_msg(mkdir(dst, st.st_mode & 07777) == 0, "mkdir %s: %s", dst, strerror(errno));
    DIR *d = opendir(src);
    ck_assert_msg(d != NULL, "opendir %s: %s", src, strerror(errno));
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char from[1024], to[1024];
        ck_assert((size_t)snprintf(from, sizeof from, "%s/%s", src, e->d_name) < sizeof from);
        ck_assert((size_t)snprintf(to, sizeof to, "%s/%s", dst, e->d_name) < sizeof to);
        ck_assert_msg(lstat(from, &st) == 0, "stat %s: %s", from, strerror(errno));
        if (S_ISDIR(st.st_mode))
            sct_copytree(from, to);
        else if (S_ISREG(st.st_mode))
            copy_file(from, to, st.st_mode & 07777);
        else
            ck_abort_msg("%s: neither a file nor a directory", from);
    }
    closedir(d);
}

int sct_wait_pid(pid_t pid, int timeout_ms)
{
    int64_t end = mono_ms() + timeout_ms;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (r < 0 && errno != EINTR)
            return -1;
        if (mono_ms() >= end)
            return -1;
        struct timespec nap = {0, 5 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
}

/*
 * Start syncd with argv, stdout to out_fd and stderr to err_fd (-1: the
 * test's), dying with the test: setpriv sets the parent-death signal and
 * execs syncd, so the pid is syncd's.  posix_spawn, not fork: under
 * qemu-user (the cross leg, tests/cross) a forked child of the emulated
 * test hangs before it can exec, and a spawned one does not.
 */
extern char **environ;

/* A pipe whose ends close on exec (the child gets its copies through dup2). */
static void pipe_cloexec(int p[2])
{
    ck_assert_int_eq(pipe(p), 0);
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
}

static pid_t spawn_syncd(int out_fd, int err_fd, char *const *argv)
{
    char *args[72];
    int n = 0;
    args[n++] = "setpriv";
    args[n++] = "--pdeathsig";
    args[n++] = "KILL";
    args[n++] = "--";
    for (int i = 0; argv[i] && n < 71; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    posix_spawn_file_actions_t fa;
    ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    if (err_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    fflush(NULL);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, "setpriv", &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    ck_assert_msg(rc == 0, "cannot start %s: %s", argv[0], strerror(rc));
    return pid;
}

/* sct_syncd_run and sct_syncd_run_all: stderr into out too when merge. */
static int syncd_run_va(char *out, size_t cap, bool merge, const char *arg, va_list ap)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)(uintptr_t)sct_syncd_path();
    for (const char *a = arg; a && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = (char *)(uintptr_t)a;
    argv[argc] = NULL;
    int p[2];
    pipe_cloexec(p);
    pid_t pid = spawn_syncd(p[1], merge ? p[1] : -1, argv);
    close(p[1]);
    size_t used = 0;
    char sink[4096];
    int64_t end = mono_ms() + 60000;
    for (;;) {
        struct pollfd pf = {p[0], POLLIN, 0};
        int left = (int)(end - mono_ms());
        if (left <= 0 || poll(&pf, 1, left) <= 0)
            break;
        char *dst = out && used + 1 < cap ? out + used : sink;
        size_t room = out && used + 1 < cap ? cap - 1 - used : sizeof sink;
        ssize_t n = read(p[0], dst, room);
        if (n <= 0)
            break;
        if (dst != sink)
            used += (size_t)n;
    }
    close(p[0]);
    if (out && cap)
        out[used] = '\0';
    int st = sct_wait_pid(pid, 60000);
    if (st < 0) {
        kill(pid, SIGKILL);
        st = sct_wait_pid(pid, 10000);
    }
    return st;
}

int sct_syncd_run(char *out, size_t cap, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int st = syncd_run_va(out, cap, false, arg, ap);
    va_end(ap);
    return st;
}

int sct_syncd_run_all(char *out, size_t cap, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int st = syncd_run_va(out, cap, true, arg, ap);
    va_end(ap);
    return st;
}

void sct_server_start(sct_server *s, const char *data_dir, const char *const *extra)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "%s", data_dir);
    snprintf(s->log, sizeof s->log, "%s/syncd.log", data_dir);
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)(uintptr_t)sct_syncd_path();
    argv[argc++] = "serve";
    argv[argc++] = "--data";
    argv[argc++] = s->dir;
    argv[argc++] = "--listen";
    argv[argc++] = "127.0.0.1:0";
    for (int i = 0; extra && extra[i] && argc < 63; i++)
        argv[argc++] = (char *)(uintptr_t)extra[i];
    argv[argc] = NULL;

    int p[2];
    pipe_cloexec(p);
    int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ck_assert_msg(logfd >= 0, "cannot open %s: %s", s->log, strerror(errno));
    pid_t pid = spawn_syncd(p[1], logfd, argv);
    close(p[1]);
    close(logfd);
    s->pid = pid;

    /* Read stdout up to the listening line. */
    char line[512];
    size_t used = 0;
    int64_t end = mono_ms() + 30000;
    bool found = false;
    while (!found) {
        struct pollfd pf = {p[0], POLLIN, 0};
        int left = (int)(end - mono_ms());
        if (left <= 0 || poll(&pf, 1, left) <= 0)
            break;
        ssize_t n = read(p[0], line + used, sizeof line - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        line[used] = '\0';
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
            found = true;
        } else if (used + 1 >= sizeof line) {
            break;
        }
    }
    close(p[0]);
    if (!found) {
        kill(pid, SIGKILL);
        sct_wait_pid(pid, 10000);
        s->pid = 0;
        ck_abort_msg("syncd did not print its listening line (got \"%.*s\"); see %s", (int)used,
                     line, s->log);
    }
    const char *prefix = "listening on http://";
    ck_assert_msg(strncmp(line, prefix, strlen(prefix)) == 0, "unexpected first line \"%s\"", line);
    const char *hp = line + strlen(prefix);
    const char *colon = strrchr(hp, ':');
    ck_assert_ptr_nonnull(colon);
    snprintf(s->host, sizeof s->host, "%.*s", (int)(colon - hp), hp);
    char *endp = NULL;
    unsigned long port = strtoul(colon + 1, &endp, 10);
    ck_assert_msg(endp && *endp == '\0' && port > 0 && port < 65536, "bad port in \"%s\"", line);
    s->port = (uint16_t)port;
    snprintf(s->url, sizeof s->url, "http://%s:%u", s->host, (unsigned)s->port);
}

void sct_server_signal(sct_server *s, int sig)
{
    if (s->pid > 0)
        kill(s->pid, sig);
}

int sct_server_wait(sct_server *s, int timeout_ms)
{
    if (s->pid <= 0)
        return -1;
    int st = sct_wait_pid(s->pid, timeout_ms);
    if (st >= 0)
        s->pid = 0;
    return st;
}

int sct_server_stop(sct_server *s)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int st = sct_wait_pid(s->pid, 30000);
    if (st < 0) {
        kill(s->pid, SIGKILL);
        st = sct_wait_pid(s->pid, 10000);
    }
    s->pid = 0;
    return st;
}

void sct_server_kill(sct_server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    sct_wait_pid(s->pid, 10000);
    s->pid = 0;
}

bool sct_server_log_has(const sct_server *s, const char *needle)
{
    FILE *f = fopen(s->log, "r");
    if (!f)
        return false;
    char line[8192];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* The value of key in the log line with request_id, or false when there is none (yet). */
static bool log_field_once(const sct_server *s, const char *request_id, const char *key, char *out,
                           size_t cap)
{
    FILE *f = fopen(s->log, "r");
    if (!f)
        return false;
    char line[8192], want[96];
    snprintf(want, sizeof want, "\"request_id\":\"%s\"", request_id);
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (!strstr(line, want))
            continue;
        json_t *j = json_loads(line, 0, NULL);
        json_t *v = j ? json_object_get(j, key) : NULL;
        found = true;
        if (json_is_string(v))
            snprintf(out, cap, "%s", json_string_value(v));
        else
            snprintf(out, cap, "%s", v ? "(not a string)" : "(absent)");
        json_decref(j);
    }
    fclose(f);
    return found;
}

bool sct_server_log_field(const sct_server *s, const char *request_id, const char *key, char *out,
                          size_t cap)
{
    /* A request's line is written as it completes, just after its answer went out. */
    for (int i = 0; i < 500; i++) {
        if (log_field_once(s, request_id, key, out, cap))
            return true;
        struct timespec t = {0, 10 * 1000000L};
        nanosleep(&t, NULL);
    }
    return false;
}

/* ---- the client ---- */

void sct_resp_dispose(sct_resp *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

void sct_client_init(sct_client *c, const char *base, const sc_keypair *key)
{
    memset(c, 0, sizeof *c);
    ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    c->curl = curl_easy_init();
    ck_assert_ptr_nonnull(c->curl);
    snprintf(c->base, sizeof c->base, "%s", base);
    c->key = key;
}

void sct_client_dispose(sct_client *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    memset(c, 0, sizeof *c);
}

size_t sct_canonical(const char *method, const char *target, const char *time_text,
                     const char *nonce_hex, const void *body, size_t len, uint8_t *out, size_t cap)
{
    uint8_t h[SC_HASH_LEN];
    char hex[2 * SC_HASH_LEN + 1];
    crypto_hash_sha256(h, body ? body : (const void *)"", len);
    for (int i = 0; i < SC_HASH_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    int n = snprintf((char *)out, cap, "%s\n%s\n%s\n%s\n%s", method, target, time_text, nonce_hex,
                     hex);
    ck_assert(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

typedef struct sink {
    uint8_t *buf;
    size_t len, cap;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t add = size * n;
    if (s->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + add + 1)
            cap *= 2;
        uint8_t *nb = realloc(s->buf, cap);
        if (!nb)
            return 0;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, add);
    s->len += add;
    s->buf[s->len] = 0;
    return add;
}

/* Copy a header's value (trimmed) into out when the line names it. */
static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    size_t vl = n - nl - 1;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    snprintf(out, cap, "%.*s", (int)vl, v);
}

/* A decimal header's value into *out when the line names it (*out is left alone otherwise). */
static void header_num(const char *line, size_t n, const char *name, int64_t *out)
{
    char num[32] = "";
    header_value(line, n, name, num, sizeof num);
    if (num[0])
        *out = strtoll(num, NULL, 10);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    sct_resp *r = ud;
    size_t len = size * n;
    header_value(p, len, "X-Spotcheck-Reason", r->reason, sizeof r->reason);
    header_value(p, len, "X-Request-Id", r->request_id, sizeof r->request_id);
    header_value(p, len, "Content-Type", r->content_type, sizeof r->content_type);
    header_value(p, len, "Connection", r->connection, sizeof r->connection);
    header_num(p, len, "X-Spotcheck-Offset", &r->offset);
    header_num(p, len, "Content-Length", &r->content_length);
    header_num(p, len, "Retry-After", &r->retry_after);
    header_num(p, len, "X-Spotcheck-Server-Time", &r->server_time_ms);
    header_num(p, len, "X-Spotcheck-Not-Before", &r->not_before_ms);
    const char *colon = memchr(p, ':', len);
    size_t used = strlen(r->header_names);
    for (size_t i = 0; colon && i < (size_t)(colon - p) && used + 2 < sizeof r->header_names; i++)
        r->header_names[used++] = (char)tolower((unsigned char)p[i]);
    if (colon && used + 1 < sizeof r->header_names) {
        r->header_names[used++] = ' ';
        r->header_names[used] = '\0';
    }
    return len;
}

static void hex_into(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The signature headers of one request, appended to *hl. */
static void sign_into(sct_client *c, const char *method, const char *target, const void *body,
                      size_t len, const sct_sign *sign, struct curl_slist **hl)
{
    const sc_keypair *key = sign->key ? sign->key : c->key;
    if (sign->sig_body) {
        body = sign->sig_body;
        len = strlen(sign->sig_body);
    }
    char time_text[24], nonce[33], line[256], hex[2 * SC_SIG_LEN + 1];
    int64_t t = sign->time_ms ? sign->time_ms : sct_now_ms();
    if (!sign->time_ms && t < c->not_before_ms)
        t = c->not_before_ms;
    snprintf(time_text, sizeof time_text, "%" PRId64, t);
    if (sign->nonce) {
        snprintf(nonce, sizeof nonce, "%s", sign->nonce);
    } else {
        uint8_t nb[16];
        randombytes_buf(nb, sizeof nb);
        hex_into(nb, sizeof nb, nonce);
    }
    size_t cap = strlen(target) + 512;
    uint8_t *msg = malloc(cap);
    ck_assert_ptr_nonnull(msg);
    size_t ml = sct_canonical(sign->sig_method ? sign->sig_method : method,
                              sign->sig_target ? sign->sig_target : target, time_text, nonce, body,
                              len, msg, cap);
    uint8_t sig[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(sct_sys_env(), key, SC_DOMAIN_REQUEST, msg, ml, sig), SC_OK);
    free(msg);
    if (sign->corrupt)
        sig[5] ^= 0x01;
    hex_into(sc_keypair_public(c->key ? c->key : key), SC_KEY_LEN, hex);
    snprintf(line, sizeof line, "X-Spotcheck-Device: %s", hex);
    *hl = curl_slist_append(*hl, line);
    snprintf(line, sizeof line, "X-Spotcheck-Time: %s", time_text);
    *hl = curl_slist_append(*hl, line);
    snprintf(line, sizeof line, "X-Spotcheck-Nonce: %s", nonce);
    *hl = curl_slist_append(*hl, line);
    hex_into(sig, sizeof sig, hex);
    snprintf(line, sizeof line, "X-Spotcheck-Signature: %s", hex);
    *hl = curl_slist_append(*hl, line);
    if (!sign->no_body_hash) {
        uint8_t h[SC_HASH_LEN];
        crypto_hash_sha256(h, body ? body : (const void *)"", len);
        hex_into(h, sizeof h, hex);
        snprintf(line, sizeof line, "X-Spotcheck-Body-Sha256: %s",
                 sign->body_hash ? sign->body_hash : hex);
        *hl = curl_slist_append(*hl, line);
    }
    memcpy(c->last_nonce, nonce, sizeof c->last_nonce);
    c->last_time_ms = t;
    crypto_hash_sha256(c->last_body_hash, body ? body : (const void *)"", len);
}

/* One try of sct_request. */
static long request_once(sct_client *c, const char *method, const char *target, const void *body,
                         size_t len, const char *const *headers, const sct_sign *sign,
                         sct_resp *out)
{
    memset(out, 0, sizeof *out);
    out->offset = -1;
    out->content_length = -1;
    out->retry_after = -1;
    out->server_time_ms = -1;
    out->not_before_ms = -1;
    CURL *h = c->curl;
    curl_easy_reset(h);
    char url[4096];
    snprintf(url, sizeof url, "%s%s", c->base, target);
    struct curl_slist *hl = NULL;
    /* No 100-continue round trip unless the caller asks for one (for an
     * oversized body, so the 413 comes before any of it is sent). */
    bool expect = false;
    for (int i = 0; headers && headers[i]; i++)
        expect = expect || strncasecmp(headers[i], "Expect:", 7) == 0;
    if (!expect)
        hl = curl_slist_append(hl, "Expect:");
    for (int i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    if ((sign->key || c->key) && !sign->omit)
        sign_into(c, method, target, body, len, sign, &hl);

    sink s = {0};
    char source[80];
    if (c->source) {
        snprintf(source, sizeof source, "host!%s", c->source);
        curl_easy_setopt(h, CURLOPT_INTERFACE, source);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : (const void *)"");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    out->curl = curl_easy_perform(h);
    if (out->curl == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hl);
    out->body = s.buf ? s.buf : calloc(1, 1);
    out->len = s.len;
    out->tries = 1;
    return out->status;
}

long sct_request(sct_client *c, const char *method, const char *target, const void *body,
                 size_t len, const char *const *headers, const sct_sign *sign, sct_resp *out)
{
    static const sct_sign plain;
    if (!sign)
        sign = &plain;
    long st = request_once(c, method, target, body, len, headers, sign, out);
    /* Signed before the server's start boundary: sign again at it, once, as a client does. */
    if (st == 401 && strcmp(out->reason, "request_time") == 0 && !sign->time_ms && !sign->nonce &&
        out->not_before_ms > c->not_before_ms) {
        c->not_before_ms = out->not_before_ms;
        sct_resp_dispose(out);
        st = request_once(c, method, target, body, len, headers, sign, out);
        out->tries = 2;
    }
    return st;
}

size_t sct_sign_lines(const sc_keypair *kp, const char *method, const char *target,
                      const void *body, size_t len, char *out, size_t cap)
{
    char time_text[24], nonce[33], dev[2 * SC_KEY_LEN + 1], sighex[2 * SC_SIG_LEN + 1];
    snprintf(time_text, sizeof time_text, "%" PRId64, sct_now_ms());
    uint8_t nb[16];
    randombytes_buf(nb, sizeof nb);
    hex_into(nb, sizeof nb, nonce);
    size_t mcap = strlen(target) + 512;
    uint8_t *msg = malloc(mcap);
    ck_assert_ptr_nonnull(msg);
    size_t ml = sct_canonical(method, target, time_text, nonce, body, len, msg, mcap);
    uint8_t sig[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(sct_sys_env(), kp, SC_DOMAIN_REQUEST, msg, ml, sig), SC_OK);
    free(msg);
    hex_into(sc_keypair_public(kp), SC_KEY_LEN, dev);
    hex_into(sig, sizeof sig, sighex);
    uint8_t bh[SC_HASH_LEN];
    char bhex[2 * SC_HASH_LEN + 1];
    crypto_hash_sha256(bh, body ? body : (const void *)"", len);
    hex_into(bh, sizeof bh, bhex);
    int n = snprintf(out, cap,
                     "X-Spotcheck-Device: %s\r\nX-Spotcheck-Time: %s\r\nX-Spotcheck-Nonce: %s\r\n"
                     "X-Spotcheck-Signature: %s\r\nX-Spotcheck-Body-Sha256: %s\r\n",
                     dev, time_text, nonce, sighex, bhex);
    ck_assert(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

int sct_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s", strerror(errno));
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

int sct_connect_from(const char *source, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, source, &a.sin_addr), 1);
    ck_assert_msg(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind %s: %s", source,
                  strerror(errno));
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

bool sct_send_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

char *sct_recv_all(int fd)
{
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            out = realloc(out, cap);
            ck_assert_ptr_nonnull(out);
        }
        ssize_t got = recv(fd, out + n, cap - 1 - n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    out[n] = '\0';
    return out;
}

Scpb__Error *sct_error(const sct_resp *r)
{
    return scpb__error__unpack(NULL, r->len, r->body);
}

/* ---- protocol helpers ---- */

long sct_enroll_answer(sct_client *c, const char *code, const sc_keypair *key, const char *label,
                       sct_resp *out)
{
    const uint8_t *pub = sc_keypair_public(key);
    size_t cl = strlen(code);
    uint8_t *msg = malloc(cl + SC_KEY_LEN);
    ck_assert_ptr_nonnull(msg);
    memcpy(msg, code, cl);
    memcpy(msg + cl, pub, SC_KEY_LEN);
    uint8_t proof[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(sct_sys_env(), key, SC_DOMAIN_ENROLL, msg, cl + SC_KEY_LEN, proof),
                     SC_OK);
    free(msg);
    Scpb__EnrollRequest er = SCPB__ENROLL_REQUEST__INIT;
    er.code = (char *)(uintptr_t)code;
    er.has_device_key = true;
    er.device_key.data = (uint8_t *)(uintptr_t)pub;
    er.device_key.len = SC_KEY_LEN;
    er.label = (char *)(uintptr_t)(label ? label : "test device");
    er.has_proof = true;
    er.proof.data = proof;
    er.proof.len = sizeof proof;
    size_t n = scpb__enroll_request__get_packed_size(&er);
    uint8_t *buf = malloc(n + 1);
    ck_assert_ptr_nonnull(buf);
    scpb__enroll_request__pack(&er, buf);
    static const char *const hdr[] = {"Content-Type: application/x-protobuf", NULL};
    const sc_keypair *saved = c->key;
    c->key = NULL; /* enrollment is unsigned */
    long st = sct_request(c, "POST", "/v1/enroll", buf, n, hdr, NULL, out);
    c->key = saved;
    free(buf);
    return st;
}

long sct_enroll(sct_client *c, const char *code, const sc_keypair *key, const char *label,
                Scpb__EnrollResponse **out)
{
    if (out)
        *out = NULL;
    sct_resp r;
    long st = sct_enroll_answer(c, code, key, label, &r);
    if (st == 200 && out) {
        *out = scpb__enroll_response__unpack(NULL, r.len, r.body);
        ck_assert_ptr_nonnull(*out);
    }
    sct_resp_dispose(&r);
    return st;
}

long sct_sync(sct_client *c, sc_op *const *ops, size_t n, const uint8_t *cursor, size_t cursor_len,
              uint64_t known_size, Scpb__SyncResponse **out)
{
    if (out)
        *out = NULL;
    Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
    ProtobufCBinaryData *enc = calloc(n ? n : 1, sizeof *enc);
    ck_assert_ptr_nonnull(enc);
    for (size_t i = 0; i < n; i++) {
        enc[i].data = ops[i]->signed_bytes;
        enc[i].len = ops[i]->signed_len;
    }
    sr.n_ops = n;
    sr.ops = enc;
    if (cursor) {
        sr.has_cursor = true;
        sr.cursor.data = (uint8_t *)(uintptr_t)cursor;
        sr.cursor.len = cursor_len;
    }
    sr.has_known_size = true;
    sr.known_size = known_size;
    size_t len = scpb__sync_request__get_packed_size(&sr);
    uint8_t *buf = malloc(len + 1);
    ck_assert_ptr_nonnull(buf);
    scpb__sync_request__pack(&sr, buf);
    free(enc);
    static const char *const hdr[] = {"Content-Type: application/x-protobuf", NULL};
    sct_resp r;
    long st = sct_request(c, "POST", "/v1/sync", buf, len, hdr, NULL, &r);
    free(buf);
    if (st == 200 && out) {
        *out = scpb__sync_response__unpack(NULL, r.len, r.body);
        ck_assert_ptr_nonnull(*out);
    }
    sct_resp_dispose(&r);
    return st;
}

sc_op *sct_device_op(const sc_keypair *kp, uint64_t *clock, Scpb__Op *op)
{
    int64_t now = sct_now_ms();
    sc_hlc h = sc_hlc_tick(clock, now);
    op->has_version = true;
    op->version = 1;
    op->has_author = true;
    op->author.data = (uint8_t *)(uintptr_t)sc_keypair_public(kp);
    op->author.len = SC_KEY_LEN;
    op->has_hlc = true;
    op->hlc = h;
    op->has_device_time_ms = true;
    op->device_time_ms = now;
    sc_op *out = NULL;
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sc_op_seal(sct_sys_env(), kp, op, &out, &err);
    ck_assert_msg(rc == SC_OK, "sc_op_seal: %s", err.msg);
    return out;
}

sc_op *sct_op_raw(const uint8_t *op, size_t op_len, const uint8_t sig[SC_SIG_LEN])
{
    Scpb__SignedOp so = SCPB__SIGNED_OP__INIT;
    so.has_op = true;
    so.op = (ProtobufCBinaryData){op_len, (uint8_t *)(uintptr_t)op};
    so.has_sig = true;
    so.sig = (ProtobufCBinaryData){SC_SIG_LEN, (uint8_t *)(uintptr_t)sig};
    sc_op *o = calloc(1, sizeof *o);
    ck_assert_ptr_nonnull(o);
    o->signed_len = scpb__signed_op__get_packed_size(&so);
    o->signed_bytes = malloc(o->signed_len);
    ck_assert_ptr_nonnull(o->signed_bytes);
    scpb__signed_op__pack(&so, o->signed_bytes);
    return o;
}

void sct_op_raw_free(sc_op *o)
{
    if (o)
        free(o->signed_bytes);
    free(o);
}

sc_op *sct_op_inspection_open(const sc_keypair *kp, uint64_t *clock, const uint8_t id[SC_ID_LEN],
                              const uint8_t target[SC_ID_LEN], const uint8_t *assignment)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionOpen io = SCPB__INSPECTION_OPEN__INIT;
    io.has_target = true;
    io.target.data = (uint8_t *)(uintptr_t)target;
    io.target.len = SC_ID_LEN;
    if (assignment) {
        io.has_assignment = true;
        io.assignment.data = (uint8_t *)(uintptr_t)assignment;
        io.assignment.len = SC_ID_LEN;
    }
    io.has_kind = true;
    io.kind = SCPB__INSPECTION_KIND__KIND_SPOT;
    io.has_disclosure = true;
    io.disclosure = SCPB__DISCLOSURE__DISCLOSURE_OPEN;
    io.has_relation = true;
    io.relation = SCPB__RELATION__RELATION_SUPERIOR;
    op.has_entity = true;
    op.entity.data = (uint8_t *)(uintptr_t)id;
    op.entity.len = SC_ID_LEN;
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    op.body_case = SCPB__OP__BODY_INSPECTION_OPEN;
    op.inspection_open = &io;
    return sct_device_op(kp, clock, &op);
}

sc_op *sct_op_open_inspection(const sc_keypair *kp, uint64_t *clock, uint8_t id[SC_ID_LEN],
                              const uint8_t target[SC_ID_LEN])
{
    sc_uuid7_new(sct_sys_env(), id);
    return sct_op_inspection_open(kp, clock, id, target, NULL);
}

/* Seal op (its body set) on entity of type with the n deps. */
static sc_op *op_on(const sc_keypair *kp, uint64_t *clock, Scpb__Op *op,
                    const uint8_t entity[SC_ID_LEN], Scpb__EntityType type,
                    const uint8_t (*deps)[SC_HASH_LEN], size_t n)
{
    ProtobufCBinaryData d[SC_DEPS_MAX];
    ck_assert_uint_le(n, SC_DEPS_MAX);
    for (size_t i = 0; i < n; i++) {
        d[i].data = (uint8_t *)(uintptr_t)deps[i];
        d[i].len = SC_HASH_LEN;
    }
    op->has_entity = true;
    op->entity.data = (uint8_t *)(uintptr_t)entity;
    op->entity.len = SC_ID_LEN;
    op->has_entity_type = true;
    op->entity_type = type;
    op->n_deps = n;
    op->deps = d;
    return sct_device_op(kp, clock, op);
}

sc_op *sct_op_note(const sc_keypair *kp, uint64_t *clock, const uint8_t entity[SC_ID_LEN],
                   Scpb__EntityType type, const uint8_t (*deps)[SC_HASH_LEN], size_t n,
                   const char *text)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Note note = SCPB__NOTE__INIT;
    note.text = (char *)(uintptr_t)text;
    op.body_case = SCPB__OP__BODY_NOTE;
    op.note = &note;
    return op_on(kp, clock, &op, entity, type, deps, n);
}

sc_op *sct_op_photo(const sc_keypair *kp, uint64_t *clock, const uint8_t entity[SC_ID_LEN],
                    Scpb__EntityType type, const uint8_t (*deps)[SC_HASH_LEN], size_t n,
                    const uint8_t sha[SC_HASH_LEN], uint64_t size)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__PhotoAttach pa = SCPB__PHOTO_ATTACH__INIT;
    pa.has_sha256 = true;
    pa.sha256.data = (uint8_t *)(uintptr_t)sha;
    pa.sha256.len = SC_HASH_LEN;
    pa.has_size = true;
    pa.size = size;
    pa.mime = (char *)"image/jpeg";
    op.body_case = SCPB__OP__BODY_PHOTO_ATTACH;
    op.photo_attach = &pa;
    return op_on(kp, clock, &op, entity, type, deps, n);
}

void sct_name_photo(sct_client *c, const sc_keypair *kp, uint64_t *clock,
                    const uint8_t target[SC_ID_LEN], const uint8_t sha[SC_HASH_LEN], uint64_t size,
                    uint8_t insp[SC_ID_LEN])
{
    uint8_t id[SC_ID_LEN];
    sc_op *ops[2];
    ops[0] = sct_op_open_inspection(kp, clock, id, target);
    ops[1] = sct_op_photo(kp, clock, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                          (const uint8_t(*)[SC_HASH_LEN])ops[0]->id, 1, sha, size);
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(c, ops, 2, NULL, 0, 0, &r), 200);
    for (size_t i = 0; i < 2; i++)
        ck_assert_msg(r->results[i]->status == SCPB__OP_STATUS__OP_ACCEPTED,
                      "naming a photo: op %zu: %s", i,
                      r->results[i]->message ? r->results[i]->message : "");
    scpb__sync_response__free_unpacked(r, NULL);
    for (size_t i = 0; i < 2; i++)
        sc_op_free(sct_sys_env(), ops[i]);
    if (insp)
        memcpy(insp, id, SC_ID_LEN);
}
