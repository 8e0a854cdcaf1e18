/*
 * server.c: the console's HTTP side, the one file that knows
 * libmicrohttpd.  One polling thread answers every request, so the
 * console's handle is used by one thread at a time, as the library asks
 * (a sync has its own handle and thread, sync.c).
 *
 * Every request passes the guard (guard.c) before anything else: its Host
 * first, then, for the API, the session in X-Spotcheck-Session, and for a
 * write its Origin, CSRF token and Content-Type.  A refused write is answered before
 * its body is read, and nothing of it reaches the replica.  The pages are
 * the embedded assets (assets.c); photos are copied out of the store by
 * sc_photo_get, which checks their hash, and ledgers written by ledger.c,
 * into a private temporary directory, and served from the open file once
 * its name is gone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"
#include "core/limits.h"

typedef struct cs_server {
    sc_client *c;
    cs_guard guard;
    cs_sync *sy;
    json_t *who;      /* cs_identity, read once at the start */
    char tmpdir[256]; /* mkdtemp, 0700: photos and ledgers on their way out */
    unsigned files;   /* names used in tmpdir */
} cs_server;

/* One request: its body as it arrives, or why it is refused. */
typedef struct cs_req {
    char *body; /* malloc'd, at most SC_CONSOLE_BODY_MAX bytes */
    size_t len;
    bool too_large;
    bool answered; /* a refusal was queued on the first call */
} cs_req;

/* ---- responses ---- */

static void secure_headers(struct MHD_Response *r, const char *type)
{
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' blob:; style-src 'self'; "
                            "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                            "form-action 'none'; base-uri 'none'");
}

static enum MHD_Result send_bytes(struct MHD_Connection *conn, unsigned http, const char *type,
                                  const void *data, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, mode);
    if (!r)
        return MHD_NO;
    secure_headers(r, type);
    enum MHD_Result rc = MHD_queue_response(conn, http, r);
    MHD_destroy_response(r);
    return rc;
}

/* An answer of api.c (its body freed here); NULL body: out of memory. */
static enum MHD_Result send_answer(struct MHD_Connection *conn, cs_answer *a)
{
    if (!a->body) {
        static const char oom[] =
            "{\"error\":{\"status\":\"SC_ERR_NOMEM\",\"reason\":\"\",\"message\":\"out of memory\"}}";
        return send_bytes(conn, 500, "application/json", oom, sizeof oom - 1,
                          MHD_RESPMEM_PERSISTENT);
    }
    enum MHD_Result rc = send_bytes(conn, a->http, "application/json", a->body,
                                    strlen(a->body), MHD_RESPMEM_MUST_FREE);
    if (rc != MHD_YES)
        free(a->body);
    a->body = NULL;
    return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned http, const char *status,
                                  const char *reason, const char *message)
{
    cs_answer a = {0};
    cs_api_error(&a, http, status, reason, message);
    return send_answer(conn, &a);
}

static enum MHD_Result send_refusal(struct MHD_Connection *conn, cs_refusal why)
{
    return send_error(conn, cs_refusal_http(why), "refused", cs_refusal_name(why),
                      cs_refusal_text(why));
}

/* ---- files: photos, ledgers ---- */

static const char *get_arg(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}


static bool is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
            return false;
    return true;
}

/*
 * The file at path, which a request of this console just wrote into its
 * private directory, sent from the open file once its name is gone (so
 * nothing is left behind whatever becomes of the connection).  type is its
 * Content-Type; a download (attachment, the name it is saved as) when
 * filename is not NULL.
 */
static enum MHD_Result send_file(struct MHD_Connection *conn, const char *path, const char *type,
                                 const char *filename)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unlink(path);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0)
            close(fd);
        return send_error(conn, 500, "SC_ERR_IO", "", "cannot read the file back");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    secure_headers(r, type);
    if (filename) {
        char disp[160];
        snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", filename);
        MHD_add_response_header(r, "Content-Disposition", disp);
    }
    enum MHD_Result rc = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return rc;
}

/* A fresh name in the console's private directory. */
static void temp_name(cs_server *sv, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%u", sv->tmpdir, sv->files++);
}

static enum MHD_Result send_photo(cs_server *sv, struct MHD_Connection *conn, const char *sha)
{
    if (!is_hex64(sha))
        return send_error(conn, 400, "SC_ERR_INVALID_ARG", "bad_field",
                          "a photo is named by its SHA-256, 64 hex digits");
    char path[512], *json = NULL;
    temp_name(sv, path, sizeof path);
    sc_status s = sc_photo_get(sv->c, sha, path, &json);
    if (s != SC_OK) {
        cs_answer a = {0};
        cs_api_error(&a, s == SC_ERR_NOT_FOUND ? 404 : 500, sc_status_name(s),
                     sc_client_reason(sv->c), sc_client_errmsg(sv->c));
        return send_answer(conn, &a);
    }
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(sv->c, json);
    /* Only images are shown as what they are; anything else is a download. */
    const char *mime = json_string_value(json_object_get(o, "mime"));
    bool image = mime && strncmp(mime, "image/", 6) == 0;
    enum MHD_Result rc = send_file(conn, path, image ? mime : "application/octet-stream",
                                   image ? NULL : sha);
    json_decref(o);
    return rc;
}

/* GET /api/ledger.csv, /api/ledger.xlsx: the findings ledger as a download (it changes nothing). */
static enum MHD_Result send_ledger(cs_server *sv, struct MHD_Connection *conn, bool xlsx)
{
    char path[512];
    temp_name(sv, path, sizeof path);
    cs_answer a = {0};
    if (!cs_ledger_export(sv->c, get_arg, conn, xlsx, path, &a))
        return send_answer(conn, &a);
    if (xlsx)
        return send_file(conn, path,
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         "ledger-findings.xlsx");
    return send_file(conn, path, "text/csv; charset=utf-8", "ledger-findings.csv");
}

/* ---- routing ---- */

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result serve_get(cs_server *sv, struct MHD_Connection *conn, const char *url)
{
    const char *page = strcmp(url, "/") == 0 ? "/index.html" : url;
    for (size_t i = 0; i < cs_nassets; i++)
        if (strcmp(page, cs_assets[i].path) == 0)
            return send_bytes(conn, 200, cs_assets[i].type, cs_assets[i].data, cs_assets[i].len,
                              MHD_RESPMEM_PERSISTENT);
    if (strncmp(url, "/api/", 5) != 0)
        return send_error(conn, 404, "SC_ERR_NOT_FOUND", "", "no such page");
    cs_refusal why = cs_guard_session(&sv->guard, header(conn, CS_SESSION_HEADER));
    if (why != CS_ALLOWED)
        return send_refusal(conn, why);
    if (strncmp(url, "/api/photo/", 11) == 0)
        return send_photo(sv, conn, url + 11);
    if (strcmp(url, "/api/ledger.csv") == 0 || strcmp(url, "/api/ledger.xlsx") == 0)
        return send_ledger(sv, conn, strcmp(url, "/api/ledger.xlsx") == 0);
    cs_answer a = {0};
    if (strcmp(url, "/api/session") == 0) {
        json_t *o = json_pack("{s:s}", "csrf", sv->guard.csrf);
        a.http = 200;
        a.body = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        return send_answer(conn, &a);
    }
    if (strcmp(url, "/api/standing") == 0) {
        cs_standing(sv->c, sv->who, &a);
        return send_answer(conn, &a);
    }
    if (!cs_api_get(sv->c, sv->sy, url, get_arg, conn, &a))
        return send_error(conn, 404, "SC_ERR_NOT_FOUND", "", "no such query");
    return send_answer(conn, &a);
}

/* The token's exchange: the session and the CSRF token for the page, in the answer's body. */
static enum MHD_Result exchange(cs_server *sv, struct MHD_Connection *conn, const cs_req *rq)
{
    json_t *b = json_loadb(rq->body ? rq->body : "", rq->len, 0, NULL);
    char session_hex[65];
    cs_refusal why = cs_guard_exchange(&sv->guard, json_string_value(json_object_get(b, "token")),
                                       session_hex);
    json_decref(b);
    if (why != CS_ALLOWED)
        return send_refusal(conn, why);
    json_t *o = json_pack("{s:s,s:s}", "session", session_hex, "csrf", sv->guard.csrf);
    cs_answer a = {.http = 200, .body = o ? json_dumps(o, JSON_COMPACT) : NULL};
    json_decref(o);
    sodium_memzero(session_hex, sizeof session_hex);
    enum MHD_Result rc = send_answer(conn, &a);
    return rc;
}

/* What refuses a write before its body is read, if anything. */
static cs_refusal guard_post(cs_server *sv, struct MHD_Connection *conn, const char *url)
{
    bool is_exchange = strcmp(url, "/api/session") == 0;
    if (!is_exchange) {
        cs_refusal why = cs_guard_session(&sv->guard, header(conn, CS_SESSION_HEADER));
        if (why != CS_ALLOWED)
            return why;
    }
    return cs_guard_write(&sv->guard, header(conn, "Origin"), header(conn, "X-Spotcheck-CSRF"),
                          header(conn, "Content-Type"), !is_exchange);
}

static enum MHD_Result serve_post(cs_server *sv, struct MHD_Connection *conn, const char *url,
                                  cs_req *rq)
{
    if (rq->too_large)
        return send_error(conn, 413, "SC_ERR_TOO_LARGE", "too_large",
                          "the request's body is over 64 KiB");
    if (strcmp(url, "/api/session") == 0)
        return exchange(sv, conn, rq);
    cs_answer a = {0};
    if (!cs_api_post(sv->c, sv->sy, url, rq->body ? rq->body : "", rq->len, &a))
        return send_error(conn, 404, "SC_ERR_NOT_FOUND", "", "no such action");
    return send_answer(conn, &a);
}

/* Append a piece of the body, up to the limit; past it the rest is dropped and refused at the end. */
static void take_body(cs_req *rq, const char *data, size_t n)
{
    if (rq->too_large || n == 0)
        return;
    if (rq->len + n > SC_CONSOLE_BODY_MAX) {
        rq->too_large = true;
        return;
    }
    char *b = realloc(rq->body, rq->len + n + 1);
    if (!b) {
        rq->too_large = true;
        return;
    }
    memcpy(b + rq->len, data, n);
    rq->len += n;
    b[rq->len] = '\0';
    rq->body = b;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    cs_server *sv = cls;
    cs_req *rq = *con_cls;
    bool post = strcmp(method, "POST") == 0;
    if (!rq) {
        if (!(rq = calloc(1, sizeof *rq)))
            return MHD_NO;
        *con_cls = rq;
        cs_refusal why = cs_guard_host(&sv->guard, header(conn, "Host"));
        if (why == CS_ALLOWED && post)
            why = guard_post(sv, conn, url);
        if (why != CS_ALLOWED) {
            rq->answered = true;
            return send_refusal(conn, why);
        }
        if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            rq->answered = true;
            return send_error(conn, 405, "SC_ERR_INVALID_ARG", "", "GET, HEAD or POST only");
        }
        if (post)
            return MHD_YES; /* the body comes next */
    }
    if (rq->answered) {
        *upload_data_size = 0; /* a refused body is dropped unread */
        return MHD_YES;
    }
    if (post && *upload_data_size > 0) {
        take_body(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    rq->answered = true;
    return post ? serve_post(sv, conn, url, rq) : serve_get(sv, conn, url);
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)conn;
    (void)why;
    cs_req *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

/* ---- the command ---- */

/* "127.0.0.1:0", "localhost:8765": a loopback IPv4 address and a port into sa. */
static bool parse_listen(const char *text, struct sockaddr_in *sa, char *host, size_t cap)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= cap)
        return false;
    snprintf(host, cap, "%.*s", (int)(colon - text), text);
    char *end = NULL;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || !end || *end || end == colon + 1 || port > 65535)
        return false;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, cap, "127.0.0.1");
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return false;
    return (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
}

static void print_url(const cs_options *o, const char *host, unsigned port, const char *token)
{
    char url[256];
    snprintf(url, sizeof url, "http://%s:%u/#token=%s", host, port, token);
    if (o->json) {
        json_t *j = json_pack("{s:s,s:I}", "url", url, "port", (json_int_t)port);
        if (j)
            json_dumpf(j, stdout, JSON_COMPACT);
        json_decref(j);
        fputc('\n', stdout);
    } else {
        printf("console: %s\n", url);
        printf("open it in a browser on this machine; Ctrl-C stops the console\n");
    }
    fflush(stdout);
}

/* A listening socket on sa, its port into *port: bound before the server starts, so the guard knows it. */
static int bind_loopback(const struct sockaddr_in *sa, unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    int one = 1;
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (const struct sockaddr *)sa, sizeof *sa) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&got, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(got.sin_port);
    return fd;
}

static struct MHD_Daemon *start(cs_server *sv, int fd)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG;
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, sv, MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)SC_CONSOLE_CONNECTIONS,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SC_CONSOLE_TIMEOUT_S,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, sv, MHD_OPTION_END);
}

int cs_run(sc_client *c, const cs_options *o)
{
    struct sockaddr_in sa;
    char host[64];
    const char *listen = o->listen ? o->listen : "127.0.0.1:0";
    if (!parse_listen(listen, &sa, host, sizeof host)) {
        fprintf(stderr, "spotcheck: console --listen %s: give a loopback address and port "
                        "(127.0.0.1:PORT; the console serves this machine only)\n", listen);
        return 2;
    }
    cs_server sv = {.c = c, .who = cs_identity(c)};
    if (!sv.who) {
        fprintf(stderr, "spotcheck: console: cannot read the replica's identity: %s\n",
                sc_client_errmsg(c));
        return 6;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(sv.tmpdir, sizeof sv.tmpdir, "%s/spotcheck-console-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(sv.tmpdir)) {
        fprintf(stderr, "spotcheck: console: cannot make a temporary directory: %s\n",
                strerror(errno));
        json_decref(sv.who);
        return 6;
    }
    /* SIGINT and SIGTERM are waited for here, never delivered to the server's threads. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    int rc = 0;
    struct MHD_Daemon *d = NULL;
    unsigned port = 0;
    int fd = bind_loopback(&sa, &port);
    if (fd < 0) {
        fprintf(stderr, "spotcheck: console: cannot listen on %s: %s\n", listen, strerror(errno));
        rc = 6;
        goto done;
    }
    cs_guard_init(&sv.guard, host, port);
    char token[sizeof sv.guard.token];
    memcpy(token, sv.guard.token, sizeof token);
    /* The socket is libmicrohttpd's once given, also when it fails to start. */
    if (!(sv.sy = cs_sync_new(o)) || !(d = start(&sv, fd))) {
        if (!sv.sy)
            close(fd);
        fprintf(stderr, "spotcheck: console: cannot serve on %s\n", listen);
        rc = 6;
        goto done;
    }
    print_url(o, host, port, token);
    memset(token, 0, sizeof token);
    int sig = 0;
    sigwait(&stop, &sig);
done:
    if (d)
        MHD_stop_daemon(d);
    cs_sync_free(sv.sy);
    cs_guard_dispose(&sv.guard);
    json_decref(sv.who);
    rmdir(sv.tmpdir);
    return rc;
}
