/*
 * netaddr.h: IP addresses and prefixes, for the one thing syncd decides by
 * them besides connection limits: which address its log names as a
 * request's client.
 *
 * A request's peer is the address its TCP connection came from.  Behind a
 * proxy every peer is the proxy, which names the address it served in
 * X-Forwarded-For, appending it to whatever the request already carried.
 * Only a proxy the operator trusts (http.trusted_proxies) is believed, and
 * only for the hop it appended: the client is the right-most address of
 * the header that is not a trusted proxy itself.  Anything left of it was
 * written by someone untrusted, the client included, so a client can
 * never choose the address the log gives it.  A peer that is not a trusted
 * proxy is the client, whatever headers it sends.
 */
#ifndef SD_NETADDR_H
#define SD_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 address, or a prefix of one.  IPv4-mapped IPv6 addresses are IPv4. */
typedef struct sd_netaddr {
    uint8_t family;   /* 4 or 6 */
    uint8_t bits;     /* the prefix length; 32 or 128 for one address */
    uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes */
} sd_netaddr;

/* Text of an address into out (cap bytes, at least 46): "192.0.2.7", "2001:db8::1". */
void sd_netaddr_format(const sd_netaddr *a, char *out, size_t cap);

/*
 * Parse len bytes of s: without prefix, one address as a hop of
 * X-Forwarded-For names it ("192.0.2.7", "2001:db8::1", "[::1]", and with
 * a port "192.0.2.7:5040", "[2001:db8::1]:443"); with prefix, as a setting
 * names a trusted proxy: a bare address or a prefix ("10.0.0.0/8",
 * "fd00::/8"; the bits past the prefix are ignored).
 */
bool sd_netaddr_parse(const char *s, size_t len, bool prefix, sd_netaddr *out);

/* The address of a connection (AF_INET or AF_INET6); false for any other family. */
bool sd_netaddr_from_sockaddr(const struct sockaddr *sa, sd_netaddr *out);

/* Is addr in net (an address or a prefix)? */
bool sd_netaddr_in(const sd_netaddr *net, const sd_netaddr *addr);

/*
 * The client of a request from peer that carried the X-Forwarded-For
 * values xff[0..n) (each a comma-separated list, in the order the headers
 * came), given the trusted proxies trusted[0..ntrusted).  Returns peer
 * unless peer is trusted; else walks the hops from the right: a trusted
 * hop is passed over, the first untrusted one is the client.  A hop that
 * is not an address ends the walk at the last address passed over (a proxy
 * that garbles the header is not believed past it); when every hop is
 * trusted, the left-most is the client.
 */
sd_netaddr sd_netaddr_client(const sd_netaddr *peer, const char *const *xff, size_t n,
                             const sd_netaddr *trusted, size_t ntrusted);

#endif
