/*
 * faultproxy.c: the fault-injecting loopback proxy (see faultproxy.h).
 *
 * One accept thread, and one thread per connection that moves bytes both
 * ways with non-blocking sockets and poll(), so a fault is decided and
 * carried out by the one thread that owns both sockets: no fd is closed
 * under another thread's feet.  A connection accepted while a lie is set
 * is relayed by another loop (conn_lie_main), one whole HTTP message at a
 * time, so sync answers can be decoded, remembered, forged and changed.
 */
#include "faultproxy.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/codec.h"
#include "core/ids.h"
#include "sctest_reliab.h"
#include "sctest_server.h"
#include "wire.pb-c.h"

#define PIECE 16384

struct sct_proxy {
    int lfd;
    uint16_t port;
    atomic_uint upstream;
    atomic_bool stopping;
    atomic_int live;             /* connection threads running */
    pthread_t acceptor;
    pthread_mutex_t mu;          /* guards opts, rng and stats */
    sct_proxy_opts opts;
    unsigned drawn;              /* fatal faults drawn since opts were set */
    unsigned lied;               /* lies told since opts were set */
    uint8_t *last;               /* the body of the last real sync answer relayed; owned */
    size_t last_len;
    uint64_t rng;
    sct_proxy_stats st;
};

/* What one request will suffer, drawn when its first bytes arrive. */
typedef struct plan {
    int cut_dir;                 /* -1 none, 0 client->server, 1 server->client */
    uint64_t cut_at;             /* cut when this many bytes of cut_dir have been forwarded */
    bool reset;
    uint64_t reset_at;           /* reset when this many bytes (both ways) have been forwarded */
} plan;

typedef struct conn {
    sct_proxy *p;
    int fd[2];                   /* 0 client, 1 server */
    plan pl;
} conn;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t next_rand(sct_proxy *p)
{
    return sct_splitmix(&p->rng);
}

/* A draw in [0, n) under the lock. */
static uint64_t draw(sct_proxy *p, uint64_t n)
{
    pthread_mutex_lock(&p->mu);
    uint64_t v = n ? next_rand(p) % n : 0;
    pthread_mutex_unlock(&p->mu);
    return v;
}

static void count(sct_proxy *p, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&p->mu);
    *field += n;
    pthread_mutex_unlock(&p->mu);
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void hard_close(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static int connect_upstream(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * A request begins (client bytes after the server spoke, or the first
 * bytes): draw its fate.  Returns false when the connection is to be dropped
 * now.  Keep-alive connections carry many requests, so faults are drawn per
 * request, not per connection.
 */
static bool roll(sct_proxy *p, plan *pl, const uint64_t moved[2])
{
    pthread_mutex_lock(&p->mu);
    sct_proxy_opts o = p->opts;
    uint64_t r = next_rand(p) % 100;
    uint64_t cut_max = o.cut_max ? o.cut_max : 256 * 1024;
    bool keep = true;
    if (o.faults_max && p->drawn >= o.faults_max)
        r = 100; /* no more faults under these opts */
    else if (r < (uint64_t)o.drop_pct + o.truncate_pct + o.reset_pct)
        p->drawn++;
    if (r < o.drop_pct) {
        p->st.drops++;
        keep = false;
    } else if (r < (uint64_t)o.drop_pct + o.truncate_pct) {
        pl->cut_dir = o.cut_answer_at ? 1 : (int)(next_rand(p) % 2);
        pl->cut_at = moved[pl->cut_dir] + (o.cut_answer_at ? o.cut_answer_at : next_rand(p) % cut_max);
    } else if (r < (uint64_t)o.drop_pct + o.truncate_pct + o.reset_pct) {
        pl->reset = true;
        pl->reset_at = moved[0] + moved[1] + next_rand(p) % cut_max;
    }
    pthread_mutex_unlock(&p->mu);
    return keep;
}

/* Move bytes both ways until both sides are done or a fault ends the connection. */
static void *conn_main(void *arg)
{
    conn *k = arg;
    sct_proxy *p = k->p;
    uint8_t *buf[2] = {malloc(PIECE), malloc(PIECE)};
    size_t len[2] = {0, 0}, off[2] = {0, 0};
    bool eof[2] = {false, false}, shut[2] = {false, false};
    int64_t hold[2] = {0, 0};
    uint64_t moved[2] = {0, 0};
    bool cutting = false, fdone = false, server_spoke = true;
    set_nonblock(k->fd[0]);
    set_nonblock(k->fd[1]);
    while (!fdone && buf[0] && buf[1] && !atomic_load(&p->stopping)) {
        struct pollfd pf[2];
        int64_t now = mono_ms();
        int timeout = 50;
        for (int s = 0; s < 2; s++) {
            pf[s].fd = k->fd[s];
            pf[s].events = 0;
            pf[s].revents = 0;
        }
        for (int d = 0; d < 2; d++) {
            int src = d, dst = 1 - d;
            if (len[d] == 0 && !eof[d] && !cutting)
                pf[src].events |= POLLIN;
            if (len[d] > off[d]) {
                if (hold[d] > now) {
                    int left = (int)(hold[d] - now);
                    timeout = left < timeout ? left : timeout;
                } else {
                    pf[dst].events |= POLLOUT;
                }
            }
        }
        int n = poll(pf, 2, timeout);
        if (n < 0 && errno != EINTR)
            break;
        now = mono_ms();
        sct_proxy_opts o;
        pthread_mutex_lock(&p->mu);
        o = p->opts;
        pthread_mutex_unlock(&p->mu);
        for (int d = 0; d < 2 && !fdone; d++) {
            int src = d, dst = 1 - d;
            if (pf[src].revents & (POLLIN | POLLHUP | POLLERR) && len[d] == 0 && !eof[d] &&
                !cutting) {
                if (d == 0 && server_spoke && k->pl.cut_dir < 0 && !k->pl.reset) {
                    server_spoke = false;
                    if (!roll(p, &k->pl, moved)) {
                        fdone = true;
                        break;
                    }
                }
                if (d == 1)
                    server_spoke = true;
                size_t want = PIECE;
                if (d == k->pl.cut_dir && k->pl.cut_at - moved[d] < want)
                    want = (size_t)(k->pl.cut_at - moved[d]);
                ssize_t got = want ? recv(k->fd[src], buf[d], want, 0) : 0;
                if (want == 0) {
                    /* The cut point: pass nothing more, close both sides once flushed. */
                    cutting = true;
                    count(p, &p->st.truncations, 1);
                    count(p, d == 0 ? &p->st.cut_requests : &p->st.cut_responses, 1);
                } else if (got > 0) {
                    len[d] = (size_t)got;
                    off[d] = 0;
                    if (o.delay_pct && draw(p, 100) < o.delay_pct) {
                        hold[d] = now + 1 + (int64_t)draw(p, o.delay_max_ms ? o.delay_max_ms : 50);
                        count(p, &p->st.delays, 1);
                    }
                } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    eof[d] = true;
                }
            }
            if (len[d] > off[d] && hold[d] <= now && (pf[dst].revents & (POLLOUT | POLLERR))) {
                size_t chunk = len[d] - off[d];
                if (k->pl.reset && moved[0] + moved[1] + chunk > k->pl.reset_at) {
                    /* Pass the bytes up to the reset point, then RST both ways. */
                    size_t part = (size_t)(k->pl.reset_at - moved[0] - moved[1]);
                    if (part)
                        (void)send(k->fd[dst], buf[d] + off[d], part, MSG_NOSIGNAL);
                    count(p, &p->st.resets, 1);
                    count(p, &p->st.bytes, part);
                    hard_close(k->fd[0]);
                    hard_close(k->fd[1]);
                    k->fd[0] = k->fd[1] = -1;
                    fdone = true;
                    break;
                }
                ssize_t put = send(k->fd[dst], buf[d] + off[d], chunk, MSG_NOSIGNAL);
                if (put > 0) {
                    off[d] += (size_t)put;
                    moved[d] += (uint64_t)put;
                    count(p, &p->st.bytes, (uint64_t)put);
                    if (o.rate_bps)
                        hold[d] = now + (int64_t)((uint64_t)put * 1000 / o.rate_bps);
                    if (off[d] == len[d])
                        len[d] = off[d] = 0;
                } else if (put < 0 && errno != EAGAIN && errno != EINTR) {
                    fdone = true; /* the receiver is gone */
                }
            }
        }
        if (fdone)
            break;
        if (cutting && len[0] == 0 && len[1] == 0)
            break;
        for (int d = 0; d < 2; d++) {
            if (eof[d] && len[d] == 0 && !shut[d]) {
                shutdown(k->fd[1 - d], SHUT_WR);
                shut[d] = true;
            }
        }
        if (shut[0] && shut[1])
            break;
    }
    for (int s = 0; s < 2; s++)
        if (k->fd[s] >= 0)
            close(k->fd[s]);
    free(buf[0]);
    free(buf[1]);
    free(k);
    atomic_fetch_sub(&p->live, 1);
    return NULL;
}

/* ---- lying: one HTTP message at a time (faultproxy.h) ---- */

/* A request's or answer's head (start line and headers, through the blank line) and body. */
typedef struct msg {
    char *head; /* owned, NUL-terminated */
    size_t head_len;
    uint8_t *body; /* owned; NULL when empty */
    size_t body_len;
} msg;

#define HEAD_MAX (64 * 1024)
#define BODY_MAX ((size_t)80 * 1024 * 1024)

/* Buffered reads from one socket of the connection. */
typedef struct reader {
    sct_proxy *p;
    int fd;
    uint8_t buf[PIECE];
    size_t off, len;
} reader;

static void msg_free(msg *m)
{
    free(m->head);
    free(m->body);
    memset(m, 0, sizeof *m);
}

/* More bytes into r; false at the end of the stream, on an error or when the proxy stops. */
static bool reader_fill(reader *r)
{
    while (!atomic_load(&r->p->stopping)) {
        struct pollfd pf = {r->fd, POLLIN, 0};
        int n = poll(&pf, 1, 50);
        if (n < 0 && errno != EINTR)
            return false;
        if (n <= 0)
            continue;
        ssize_t got = recv(r->fd, r->buf, sizeof r->buf, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            return false;
        r->off = 0;
        r->len = (size_t)got;
        return true;
    }
    return false;
}

static bool read_head(reader *r, msg *m)
{
    size_t cap = 1024, n = 0;
    char *h = malloc(cap);
    while (h) {
        if (r->off == r->len && !reader_fill(r))
            break;
        if (n + 2 > cap) {
            char *nh = cap < HEAD_MAX ? realloc(h, cap *= 2) : NULL;
            if (!nh)
                break;
            h = nh;
        }
        h[n++] = (char)r->buf[r->off++];
        if (n >= 4 && memcmp(h + n - 4, "\r\n\r\n", 4) == 0) {
            h[n] = '\0';
            m->head = h;
            m->head_len = n;
            return true;
        }
    }
    free(h);
    return false;
}

/* len bytes of body, or (len SIZE_MAX) everything until the peer closes. */
static bool read_body(reader *r, msg *m, size_t len)
{
    size_t cap = len == SIZE_MAX ? 65536 : len;
    m->body = cap ? malloc(cap) : NULL;
    m->body_len = 0;
    while (m->body_len < len) {
        if (r->off == r->len && !reader_fill(r))
            return len == SIZE_MAX;
        size_t take = r->len - r->off;
        if (take > len - m->body_len)
            take = len - m->body_len;
        if (m->body_len + take > cap) {
            uint8_t *nb = cap < BODY_MAX ? realloc(m->body, cap *= 2) : NULL;
            if (!nb)
                return false;
            m->body = nb;
        }
        memcpy(m->body + m->body_len, r->buf + r->off, take);
        m->body_len += take;
        r->off += take;
    }
    return true;
}

/* A header's value as a number; -1 when absent. */
static long long header_num(const msg *m, const char *name)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(m->head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, name, nl) == 0 && l[2 + nl] == ':')
            return strtoll(l + 3 + nl, NULL, 10);
    return -1;
}

static bool msg_send(sct_proxy *p, int fd, const msg *m)
{
    count(p, &p->st.bytes, m->head_len + m->body_len);
    return sct_send_all(fd, m->head, m->head_len) &&
           (!m->body_len || sct_send_all(fd, m->body, m->body_len));
}

/* Replace the body, rewriting Content-Length. */
static void msg_set_body(msg *m, uint8_t *body, size_t len)
{
    char *h = malloc(m->head_len + 64), *at = h;
    const char *l = m->head, *end = m->head + m->head_len;
    while (l < end) {
        const char *eol = strstr(l, "\r\n");
        size_t n = (size_t)(eol - l) + 2;
        if (strncasecmp(l, "Content-Length:", 15) != 0 && n > 2) {
            memcpy(at, l, n);
            at += n;
        }
        l += n;
        if (n == 2)
            break;
    }
    at += snprintf(at, 64, "Content-Length: %zu\r\n\r\n", len);
    free(m->head);
    free(m->body);
    m->head = h;
    m->head_len = (size_t)(at - h);
    m->body = body;
    m->body_len = len;
}

/* An answer relayed from syncd: the body is as long as Content-Length says (none for HEAD). */
static bool read_answer(reader *r, const msg *q, msg *a)
{
    if (!read_head(r, a))
        return false;
    long long len = header_num(a, "Content-Length");
    int status = 0;
    sscanf(a->head, "HTTP/%*s %d", &status);
    if (strncmp(q->head, "HEAD ", 5) == 0 || status == 204 || status == 304)
        return true;
    return read_body(r, a, len < 0 ? SIZE_MAX : (size_t)len);
}

static Scpb__SyncResponse *answer_decode(const uint8_t *b, size_t len)
{
    return scpb__sync_response__unpack(NULL, len, b);
}

static void answer_pack(msg *a, const Scpb__SyncResponse *r)
{
    size_t n = scpb__sync_response__get_packed_size(r);
    uint8_t *b = malloc(n ? n : 1);
    scpb__sync_response__pack(r, b);
    msg_set_body(a, b, n);
}

/*
 * forge_accept: the last real answer, every pushed op "accepted" at a
 * made-up index inside its checkpoint, nothing pulled.  False when the
 * request pushes nothing or no real answer was seen.
 */
static bool forge_accept(sct_proxy *p, const msg *q, msg *a)
{
    Scpb__SyncRequest *req = scpb__sync_request__unpack(NULL, q->body_len, q->body);
    pthread_mutex_lock(&p->mu);
    Scpb__SyncResponse *r = p->last ? answer_decode(p->last, p->last_len) : NULL;
    pthread_mutex_unlock(&p->mu);
    bool done = req && r && req->n_ops > 0 && r->checkpoint;
    if (done) {
        uint64_t size = r->checkpoint->size;
        size_t n = req->n_ops;
        Scpb__OpResult *res = calloc(n, sizeof *res), **resp = calloc(n, sizeof *resp);
        uint8_t(*ids)[SC_HASH_LEN] = calloc(n, SC_HASH_LEN);
        for (size_t i = 0; i < n; i++) {
            scpb__op_result__init(&res[i]);
            Scpb__SignedOp *so = scpb__signed_op__unpack(NULL, req->ops[i].len, req->ops[i].data);
            if (so && so->has_op)
                sc_sha256(so->op.data, so->op.len, ids[i]);
            if (so)
                scpb__signed_op__free_unpacked(so, NULL);
            res[i].has_op_id = res[i].has_status = res[i].has_log_index = true;
            res[i].op_id = (ProtobufCBinaryData){SC_HASH_LEN, ids[i]};
            res[i].status = SCPB__OP_STATUS__OP_ACCEPTED;
            res[i].log_index = size > i ? size - 1 - i : i;
            resp[i] = &res[i];
        }
        Scpb__OpResult **old_res = r->results;
        Scpb__LoggedOp **old_ops = r->ops;
        size_t old_nres = r->n_results, old_nops = r->n_ops;
        r->results = resp;
        r->n_results = n;
        r->n_ops = 0;
        a->head = strdup("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                         "X-Request-Id: forged\r\n\r\n");
        a->head_len = strlen(a->head);
        answer_pack(a, r);
        r->results = old_res;
        r->n_results = old_nres;
        r->ops = old_ops;
        r->n_ops = old_nops;
        free(res);
        free(resp);
        free(ids);
    }
    if (req)
        scpb__sync_request__free_unpacked(req, NULL);
    if (r)
        scpb__sync_response__free_unpacked(r, NULL);
    return done;
}

/* replay: the last real answer, byte for byte.  False when none was seen. */
static bool replay(sct_proxy *p, msg *a)
{
    pthread_mutex_lock(&p->mu);
    uint8_t *b = p->last ? malloc(p->last_len) : NULL;
    size_t n = p->last_len;
    if (b)
        memcpy(b, p->last, n);
    pthread_mutex_unlock(&p->mu);
    if (!b)
        return false;
    a->head = strdup("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                     "X-Request-Id: replayed\r\n\r\n");
    a->head_len = strlen(a->head);
    msg_set_body(a, b, n);
    return true;
}

/* The pulled op drop_pulled drops: the first device revocation, else the last op. */
static size_t op_to_drop(const Scpb__SyncResponse *r)
{
    for (size_t i = 0; i < r->n_ops; i++) {
        sc_op *op = NULL;
        const ProtobufCBinaryData *b = &r->ops[i]->signed_op;
        bool revoke = sc_op_open(NULL, b->data, b->len, 0, &op, NULL) == SC_OK &&
                      op->op->body_case == SCPB__OP__BODY_DEVICE_REVOKE;
        sc_op_free(NULL, op);
        if (revoke)
            return i;
    }
    return r->n_ops - 1;
}

/* drop_pulled and forge_reject change a real answer a; false when there is nothing to change. */
static bool change_answer(sct_lie lie, msg *a)
{
    Scpb__SyncResponse *r = answer_decode(a->body, a->body_len);
    bool done = r && (lie == SCT_LIE_DROP_PULLED ? r->n_ops > 0 : r->n_results > 0);
    if (done && lie == SCT_LIE_DROP_PULLED) {
        /* Move the dropped op past the end, so free_unpacked still frees it. */
        size_t j = op_to_drop(r);
        Scpb__LoggedOp *gone = r->ops[j];
        memmove(r->ops + j, r->ops + j + 1, (r->n_ops - j - 1) * sizeof *r->ops);
        r->ops[--r->n_ops] = gone;
        answer_pack(a, r);
        r->n_ops++;
    } else if (done) {
        char **msgs = calloc(r->n_results, sizeof *msgs);
        for (size_t i = 0; i < r->n_results; i++) {
            Scpb__OpResult *x = r->results[i];
            msgs[i] = x->message;
            x->status = SCPB__OP_STATUS__OP_REJECTED;
            x->has_log_index = false;
            x->has_reason = true;
            x->reason = SCPB__REASON__REASON_FORBIDDEN_ROLE;
            x->message = (char *)"forbidden for this role";
        }
        answer_pack(a, r);
        for (size_t i = 0; i < r->n_results; i++)
            r->results[i]->message = msgs[i];
        free(msgs);
    }
    if (r)
        scpb__sync_response__free_unpacked(r, NULL);
    return done;
}

/* Remember a real sync answer, for forge_accept and replay. */
static void remember(sct_proxy *p, const msg *a)
{
    uint8_t *b = malloc(a->body_len ? a->body_len : 1);
    if (!b)
        return;
    memcpy(b, a->body, a->body_len);
    pthread_mutex_lock(&p->mu);
    free(p->last);
    p->last = b;
    p->last_len = a->body_len;
    pthread_mutex_unlock(&p->mu);
}

/* May one more lie be told under the current opts?  Counts it when so. */
static sct_lie lie_now(sct_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    sct_lie lie = p->opts.lie;
    if (p->opts.lies_max && p->lied >= p->opts.lies_max)
        lie = SCT_LIE_NONE;
    pthread_mutex_unlock(&p->mu);
    return lie;
}

static void lie_told(sct_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    p->lied++;
    p->st.lies++;
    pthread_mutex_unlock(&p->mu);
}

/* One request and its answer: relayed, forged or changed.  False when the connection ends. */
static bool relay_one(sct_proxy *p, reader *c, reader *u, msg *q, msg *a)
{
    if (!read_head(c, q))
        return false;
    long long len = header_num(q, "Content-Length");
    if (len > 0 && !read_body(c, q, (size_t)len))
        return false;
    bool sync = strncmp(q->head, "POST /v1/sync ", 14) == 0;
    sct_lie lie = sync ? lie_now(p) : SCT_LIE_NONE;
    bool lied = (lie == SCT_LIE_FORGE_ACCEPT && forge_accept(p, q, a)) ||
                (lie == SCT_LIE_REPLAY && replay(p, a));
    if (!lied) {
        if (!msg_send(p, u->fd, q) || !read_answer(u, q, a))
            return false;
        if (sync && strncmp(a->head, "HTTP/1.1 200", 12) == 0) {
            remember(p, a);
            lied = (lie == SCT_LIE_DROP_PULLED || lie == SCT_LIE_FORGE_REJECT) &&
                   change_answer(lie, a);
        }
    }
    if (lied)
        lie_told(p);
    return msg_send(p, c->fd, a);
}

static void *conn_lie_main(void *arg)
{
    conn *k = arg;
    sct_proxy *p = k->p;
    reader *c = calloc(1, sizeof *c), *u = calloc(1, sizeof *u);
    if (c && u) {
        *c = (reader){.p = p, .fd = k->fd[0]};
        *u = (reader){.p = p, .fd = k->fd[1]};
        for (;;) {
            msg q = {0}, a = {0};
            bool more = relay_one(p, c, u, &q, &a);
            msg_free(&q);
            msg_free(&a);
            if (!more)
                break;
        }
    }
    free(c);
    free(u);
    close(k->fd[0]);
    close(k->fd[1]);
    free(k);
    atomic_fetch_sub(&p->live, 1);
    return NULL;
}

static void *accept_main(void *arg)
{
    sct_proxy *p = arg;
    while (!atomic_load(&p->stopping)) {
        struct pollfd pf = {p->lfd, POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        int cfd = accept(p->lfd, NULL, NULL);
        if (cfd < 0)
            continue;
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        count(p, &p->st.connections, 1);
        int sfd = connect_upstream((uint16_t)atomic_load(&p->upstream));
        if (sfd < 0) {
            /* The server is down (a test restarting it): the client sees a refused-like close. */
            hard_close(cfd);
            continue;
        }
        setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *k = malloc(sizeof *k);
        if (!k) {
            close(cfd);
            close(sfd);
            continue;
        }
        k->p = p;
        k->fd[0] = cfd;
        k->fd[1] = sfd;
        k->pl = (plan){-1, 0, false, 0};
        pthread_mutex_lock(&p->mu);
        bool lying = p->opts.lie != SCT_LIE_NONE;
        pthread_mutex_unlock(&p->mu);
        atomic_fetch_add(&p->live, 1);
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &at, lying ? conn_lie_main : conn_main, k) != 0) {
            atomic_fetch_sub(&p->live, 1);
            close(cfd);
            close(sfd);
            free(k);
        }
        pthread_attr_destroy(&at);
    }
    return NULL;
}

sct_proxy *sct_proxy_start(uint16_t upstream, const sct_proxy_opts *opts)
{
    sct_proxy *p = calloc(1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    pthread_mutex_init(&p->mu, NULL);
    p->opts = *opts;
    p->rng = opts->seed;
    atomic_init(&p->upstream, upstream);
    atomic_init(&p->stopping, false);
    atomic_init(&p->live, 0);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(p->lfd, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(p->lfd, 256), 0);
    socklen_t al = sizeof a;
    ck_assert_int_eq(getsockname(p->lfd, (struct sockaddr *)&a, &al), 0);
    p->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&p->acceptor, NULL, accept_main, p), 0);
    return p;
}

uint16_t sct_proxy_port(const sct_proxy *p)
{
    return p->port;
}

void sct_proxy_url(const sct_proxy *p, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%u", (unsigned)p->port);
}

void sct_proxy_set_upstream(sct_proxy *p, uint16_t upstream)
{
    atomic_store(&p->upstream, upstream);
}

void sct_proxy_set_opts(sct_proxy *p, const sct_proxy_opts *opts)
{
    pthread_mutex_lock(&p->mu);
    p->opts = *opts;
    p->drawn = 0;
    p->lied = 0;
    pthread_mutex_unlock(&p->mu);
}

void sct_proxy_get_stats(sct_proxy *p, sct_proxy_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    pthread_mutex_unlock(&p->mu);
}

void sct_proxy_stop(sct_proxy *p)
{
    if (!p)
        return;
    atomic_store(&p->stopping, true);
    pthread_join(p->acceptor, NULL);
    close(p->lfd);
    int64_t end = mono_ms() + 10000;
    while (atomic_load(&p->live) > 0 && mono_ms() < end) {
        struct timespec nap = {0, 10 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    /* Connection threads hold p until they end; one that has not is leaked rather than raced. */
    if (atomic_load(&p->live) == 0) {
        pthread_mutex_destroy(&p->mu);
        free(p->last);
        free(p);
    }
}
