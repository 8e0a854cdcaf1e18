/*
 * test_netaddr.c: addresses and prefixes (syncd/base/netaddr.c), and the
 * client the log names behind trusted proxies: a peer that is not trusted
 * is the client whatever X-Forwarded-For says; behind a trusted one, the
 * right-most untrusted hop is, so what a client writes into the header
 * itself never becomes its address.
 */
#include <check.h>
#include <string.h>

#include "base/netaddr.h"
#include "sctest.h"

static sd_netaddr addr(const char *s)
{
    sd_netaddr a;
    ck_assert_msg(sd_netaddr_parse(s, strlen(s), true, &a), "%s does not parse", s);
    return a;
}

static const char *text(const sd_netaddr *a)
{
    static char buf[64];
    sd_netaddr_format(a, buf, sizeof buf);
    return buf;
}

START_TEST(parse_and_format)
{
    sd_netaddr a;
    ck_assert(sd_netaddr_parse("192.0.2.7", 9, false, &a));
    ck_assert_int_eq(a.family, 4);
    ck_assert_int_eq(a.bits, 32);
    ck_assert_str_eq(text(&a), "192.0.2.7");
    const char *hops[][2] = {
        {"2001:db8::1", "2001:db8::1"},       {"[2001:db8::1]", "2001:db8::1"},
        {"[2001:db8::1]:443", "2001:db8::1"}, {"192.0.2.7:5040", "192.0.2.7"},
        {"::ffff:192.0.2.7", "192.0.2.7"},    {"::1", "::1"},
    };
    for (size_t i = 0; i < sizeof hops / sizeof hops[0]; i++) {
        ck_assert_msg(sd_netaddr_parse(hops[i][0], strlen(hops[i][0]), false, &a), "%s",
                      hops[i][0]);
        ck_assert_str_eq(text(&a), hops[i][1]);
    }
    /* Hops are addresses, never prefixes; settings are bare addresses or prefixes. */
    const char *bad_hops[] = {"",       "unknown",   "10.0.0.0/8", "192.0.2.7:", "[::1",
                              "[::1]x", "1.2.3.4.5", "999.1.1.1",  "_hidden"};
    for (size_t i = 0; i < sizeof bad_hops / sizeof bad_hops[0]; i++)
        ck_assert_msg(!sd_netaddr_parse(bad_hops[i], strlen(bad_hops[i]), false, &a), "%s",
                      bad_hops[i]);
    const char *bad_settings[] = {"10.0.0.0/33", "::/129", "1.2.3.4/",   "1.2.3.4/x",
                                  "1.2.3.4:80",  "[::1]",  "example.org"};
    for (size_t i = 0; i < sizeof bad_settings / sizeof bad_settings[0]; i++)
        ck_assert_msg(!sd_netaddr_parse(bad_settings[i], strlen(bad_settings[i]), true, &a), "%s",
                      bad_settings[i]);
    ck_assert_int_eq(addr("10.0.0.0/8").bits, 8);
    ck_assert_int_eq(addr("fd00::/8").bits, 8);
    /* An IPv4-mapped prefix is the IPv4 prefix. */
    ck_assert_int_eq(addr("::ffff:10.0.0.0/104").family, 4);
    ck_assert_int_eq(addr("::ffff:10.0.0.0/104").bits, 8);
}
END_TEST

START_TEST(prefixes)
{
    sd_netaddr net = addr("10.0.0.0/8"), v6 = addr("fd00::/8"), odd = addr("192.168.0.0/23");
    sd_netaddr all4 = addr("0.0.0.0/0");
    ck_assert(sd_netaddr_in(&net, &(sd_netaddr){0}) == false);
    sd_netaddr a = addr("10.200.3.4"), b = addr("11.0.0.1"), c = addr("fd12::9");
    ck_assert(sd_netaddr_in(&net, &a));
    ck_assert(!sd_netaddr_in(&net, &b));
    ck_assert(sd_netaddr_in(&v6, &c));
    ck_assert(!sd_netaddr_in(&v6, &a)); /* another family */
    sd_netaddr in = addr("192.168.1.250"), out = addr("192.168.2.1");
    ck_assert(sd_netaddr_in(&odd, &in));
    ck_assert(!sd_netaddr_in(&odd, &out));
    ck_assert(sd_netaddr_in(&all4, &b));
    sd_netaddr one = addr("127.0.0.1"), two = addr("127.0.0.2");
    ck_assert(sd_netaddr_in(&one, &one));
    ck_assert(!sd_netaddr_in(&one, &two));
}
END_TEST

/* The client of a request from peer with the X-Forwarded-For values given, behind `trusted`. */
static const char *client_of(const char *peer, const char *const *xff, size_t n)
{
    sd_netaddr trusted[] = {addr("127.0.0.1"), addr("10.0.0.0/8")};
    sd_netaddr p = addr(peer);
    sd_netaddr c = sd_netaddr_client(&p, xff, n, trusted, 2);
    return text(&c);
}

START_TEST(client_behind_trusted_proxies)
{
    /* A peer that is not trusted is the client: it cannot name another address. */
    const char *spoof[] = {"203.0.113.9"};
    ck_assert_str_eq(client_of("198.51.100.4", spoof, 1), "198.51.100.4");
    ck_assert_str_eq(client_of("198.51.100.4", NULL, 0), "198.51.100.4");
    /* A trusted proxy without the header, or naming the client. */
    ck_assert_str_eq(client_of("127.0.0.1", NULL, 0), "127.0.0.1");
    ck_assert_str_eq(client_of("127.0.0.1", spoof, 1), "203.0.113.9");
    /* The client wrote its own header first: the proxy appended the real address, which wins. */
    const char *prepended[] = {"1.1.1.1, 203.0.113.9"};
    ck_assert_str_eq(client_of("127.0.0.1", prepended, 1), "203.0.113.9");
    const char *two_headers[] = {"1.1.1.1", "203.0.113.9"};
    ck_assert_str_eq(client_of("127.0.0.1", two_headers, 2), "203.0.113.9");
    /* A chain of trusted proxies is passed over, across headers too. */
    const char *chain[] = {"1.1.1.1, 203.0.113.9, 10.1.1.1"};
    ck_assert_str_eq(client_of("127.0.0.1", chain, 1), "203.0.113.9");
    const char *chain2[] = {"203.0.113.9, 10.1.1.1", "10.2.2.2"};
    ck_assert_str_eq(client_of("127.0.0.1", chain2, 2), "203.0.113.9");
    /* Every hop trusted: the left-most is the furthest known. */
    const char *inside[] = {"10.9.9.9, 10.1.1.1"};
    ck_assert_str_eq(client_of("127.0.0.1", inside, 1), "10.9.9.9");
    /* A hop that is no address stops the walk at the last address believed. */
    const char *junk_last[] = {"203.0.113.9, <script>"};
    ck_assert_str_eq(client_of("127.0.0.1", junk_last, 1), "127.0.0.1");
    const char *junk_first[] = {"unknown, 10.1.1.1"};
    ck_assert_str_eq(client_of("127.0.0.1", junk_first, 1), "10.1.1.1");
    /* Empty list elements, spaces and ports, as proxies write them. */
    const char *loose[] = {" , [2001:db8::7]:5040 ,, "};
    ck_assert_str_eq(client_of("127.0.0.1", loose, 1), "2001:db8::7");
    const char *empty[] = {""};
    ck_assert_str_eq(client_of("127.0.0.1", empty, 1), "127.0.0.1");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/netaddr");
    const sct_case cases[] = {
        {"parse_and_format", parse_and_format},
        {"prefixes", prefixes},
        {"client_behind_trusted_proxies", client_behind_trusted_proxies},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
