/*
 * faultproxy.c: the fault-injecting loopback proxy (see faultproxy.h).
 *
 * One accept thread, and one thread per connection that moves bytes both
 * ways with non-blocking sockets and poll(), so a fault is decided and
 * carried out by the one thread that owns both sockets: no fd is closed
 * under another thread's feet.
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

#include "sctest_reliab.h"

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
        pl->cut_dir = (int)(next_rand(p) % 2);
        pl->cut_at = moved[pl->cut_dir] + next_rand(p) % cut_max;
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
        atomic_fetch_add(&p->live, 1);
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &at, conn_main, k) != 0) {
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
        free(p);
    }
}
