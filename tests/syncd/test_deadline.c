/*
 * test_deadline.c: per-connection receive deadlines (syncd/http/deadline.c) on
 * socket pairs: a connection past its deadline is shut down (its peer sees
 * the end) however recently it wrote, one with no deadline or a later one
 * is left alone, tighten only moves a deadline earlier, and removed
 * connections are never touched.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/deadline.h"
#include "sctest.h"

static void nap_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Whether the peer has seen the end of the connection within ms. */
static bool ended(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0)
        return false;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN);
}

START_TEST(past_deadline_is_shut_down)
{
    sd_deadline *d = NULL;
    sc_err e;
    ck_assert_int_eq(sd_deadline_start(&d, &e), SC_OK);
    int due[2], none[2], later[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, due), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, none), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, later), 0);
    int64_t now = sd_deadline_now_ms();
    sd_deadline_conn *c1 = sd_deadline_add(d, due[0], now + 300);
    sd_deadline_conn *c2 = sd_deadline_add(d, none[0], 0);
    sd_deadline_conn *c3 = sd_deadline_add(d, later[0], now + 60000);
    /* The peer keeps writing a byte every 50 ms: that does not move the deadline. */
    bool gone = false;
    for (int i = 0; i < 40 && !gone; i++) {
        if (send(due[1], "x", 1, MSG_NOSIGNAL) != 1)
            gone = true;
        nap_ms(50);
        gone = gone || sd_deadline_fired(c1);
    }
    ck_assert(gone);
    ck_assert(ended(due[1], 1000));
    ck_assert(sd_deadline_due(c1, sd_deadline_now_ms()));
    ck_assert(!sd_deadline_fired(c2));
    ck_assert(!sd_deadline_fired(c3));
    ck_assert(!ended(none[1], 0));
    ck_assert(!ended(later[1], 0));
    ck_assert_uint_eq(sd_deadline_closed(d), 1);
    /* Tighten moves a deadline earlier only; set 0 lifts it. */
    sd_deadline_tighten(c3, now + 120000);
    ck_assert(!sd_deadline_due(c3, now + 50000));
    ck_assert(sd_deadline_due(c3, now + 70000));
    sd_deadline_tighten(c3, now + 1);
    ck_assert(sd_deadline_due(c3, now + 2));
    sd_deadline_set(c3, 0);
    ck_assert(!sd_deadline_due(c3, now + 3600000));
    sd_deadline_tighten(c2, now + 5);
    ck_assert(sd_deadline_due(c2, now + 5));
    /* Removed before it fires: its socket is not touched. */
    sd_deadline_remove(d, c2);
    nap_ms(600);
    ck_assert(!ended(none[1], 0));
    sd_deadline_remove(d, c1);
    sd_deadline_remove(d, c3);
    sd_deadline_stop(d);
    for (int i = 0; i < 2; i++) {
        close(due[i]);
        close(none[i]);
        close(later[i]);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/deadline");
    const sct_case cases[] = {
        {"past_deadline_is_shut_down", past_deadline_is_shut_down},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
