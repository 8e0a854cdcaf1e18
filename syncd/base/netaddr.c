/* netaddr.c: addresses, prefixes and the client behind trusted proxies (netaddr.h). */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* The longest address text with brackets, a port and a prefix: "[v6 with v4 tail]:65535/128". */
#define TEXT_MAX 64

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void sd_netaddr_format(const sd_netaddr *a, char *out, size_t cap)
{
    char buf[INET6_ADDRSTRLEN];
    const char *t = inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, buf, sizeof buf);
    snprintf(out, cap, "%s", t ? t : "?");
}

/* An IPv6 address that is an IPv4 one in disguise becomes that IPv4 address. */
static void unmap(sd_netaddr *a)
{
    if (a->family == 6 && memcmp(a->addr, v4_mapped, sizeof v4_mapped) == 0) {
        memmove(a->addr, a->addr + 12, 4);
        memset(a->addr + 4, 0, 12);
        a->family = 4;
        a->bits = a->bits >= 96 ? (uint8_t)(a->bits - 96) : 0;
    }
}

/* A port after an address: ":" and 1 to 5 digits, the n bytes at p. */
static bool port_ok(const char *p, size_t n)
{
    if (n < 2 || n > 6 || p[0] != ':')
        return false;
    for (size_t i = 1; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* The address part of text: without brackets, and without a port when one follows. */
static bool strip(const char *s, size_t len, char *out)
{
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return false;
        size_t after = len - (size_t)(close - s) - 1;
        if (after && !port_ok(close + 1, after))
            return false;
        len = (size_t)(close - s) - 1;
        s++;
    } else {
        const char *colon = memchr(s, ':', len);
        size_t rest = colon ? len - (size_t)(colon - s) : 0;
        /* One colon: IPv4 and a port.  More: IPv6, which has no port without brackets. */
        if (colon && !memchr(colon + 1, ':', rest - 1)) {
            if (!port_ok(colon, rest))
                return false;
            len = (size_t)(colon - s);
        }
    }
    if (len == 0 || len >= TEXT_MAX)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

bool sd_netaddr_parse(const char *s, size_t len, bool prefix, sd_netaddr *out)
{
    memset(out, 0, sizeof *out);
    char text[TEXT_MAX];
    unsigned long bits = 999;
    const char *slash = prefix ? memchr(s, '/', len) : NULL;
    if (slash) {
        size_t nb = len - (size_t)(slash - s) - 1;
        if (nb == 0 || nb > 3)
            return false;
        bits = 0;
        for (size_t i = 0; i < nb; i++) {
            if (slash[1 + i] < '0' || slash[1 + i] > '9')
                return false;
            bits = bits * 10 + (unsigned long)(slash[1 + i] - '0');
        }
        len = (size_t)(slash - s);
    }
    /* A setting names bare addresses; a forwarded hop may carry brackets and a port. */
    if (prefix && len > 0 && len < TEXT_MAX) {
        memcpy(text, s, len);
        text[len] = '\0';
    } else if (prefix || !strip(s, len, text)) {
        return false;
    }
    if (inet_pton(AF_INET, text, out->addr) == 1) {
        out->family = 4;
        out->bits = 32;
    } else if (inet_pton(AF_INET6, text, out->addr) == 1) {
        out->family = 6;
        out->bits = 128;
    } else {
        return false;
    }
    if (slash) {
        if (bits > out->bits)
            return false;
        out->bits = (uint8_t)bits;
    }
    unmap(out);
    return true;
}

bool sd_netaddr_from_sockaddr(const struct sockaddr *sa, sd_netaddr *out)
{
    memset(out, 0, sizeof *out);
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        memcpy(out->addr, &in->sin_addr, 4);
        out->family = 4;
        out->bits = 32;
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(out->addr, &in6->sin6_addr, 16);
        out->family = 6;
        out->bits = 128;
        unmap(out);
        return true;
    }
    return false;
}

bool sd_netaddr_in(const sd_netaddr *net, const sd_netaddr *addr)
{
    if (net->family != addr->family)
        return false;
    unsigned full = net->bits / 8, rest = net->bits % 8;
    if (memcmp(net->addr, addr->addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (net->addr[full] & mask) == (addr->addr[full] & mask);
}

static bool trusted_one(const sd_netaddr *a, const sd_netaddr *trusted, size_t ntrusted)
{
    for (size_t i = 0; i < ntrusted; i++)
        if (sd_netaddr_in(&trusted[i], a))
            return true;
    return false;
}

sd_netaddr sd_netaddr_client(const sd_netaddr *peer, const char *const *xff, size_t n,
                             const sd_netaddr *trusted, size_t ntrusted)
{
    sd_netaddr client = *peer;
    if (!trusted_one(peer, trusted, ntrusted))
        return client;
    for (size_t v = n; v-- > 0;) {
        const char *s = xff[v];
        size_t end = s ? strlen(s) : 0;
        while (end > 0) {
            size_t start = end;
            while (start > 0 && s[start - 1] != ',')
                start--;
            size_t a = start, b = end;
            while (a < b && (s[a] == ' ' || s[a] == '\t'))
                a++;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
                b--;
            end = start ? start - 1 : 0;
            if (a == b)
                continue; /* an empty element of the list, as RFC 9110 allows */
            sd_netaddr hop;
            if (!sd_netaddr_parse(s + a, b - a, false, &hop))
                return client;
            client = hop;
            if (!trusted_one(&hop, trusted, ntrusted))
                return client;
        }
    }
    return client;
}
