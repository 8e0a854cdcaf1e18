/*
 * faultproxy.h: a fault-injecting TCP proxy on loopback, for tests that put
 * a bad network between clients and syncd.  Test code only.
 *
 * The proxy listens on 127.0.0.1:0 and forwards every connection to
 * 127.0.0.1:upstream.  Clients keep connections alive across requests, so
 * faults are drawn per request (client bytes that follow the server's, or
 * the first ones), from one seeded random stream; a request suffers at most
 * one fatal fault:
 *   drop      the connection is closed as the request arrives, before a byte
 *             of it passes
 *   truncate  the request or its response is cut after a random number of
 *             bytes (or the response after exactly cut_answer_at bytes),
 *             then both sides are closed cleanly (FIN)
 *   reset     after a random number of bytes in either direction both sides
 *             are closed with RST (SO_LINGER 0)
 * and any forwarded piece may be delayed 1..delay_max_ms.
 * A fault is counted when it actually happens (a connection that ends before
 * its cut point is not counted as cut).  Faults can be turned off and on
 * while it runs, and the upstream port changed (a restarted server), so a
 * test can let the clients finish on a clean network; faults_max bounds
 * the faults drawn under one set of opts, so a test can cut one request
 * exactly (reset_pct 100, faults_max 1, set just before it).
 *
 * The same seed gives the same plans in the same connection order; thread
 * timing still decides which request meets which plan, so a run is
 * reproducible in its statistics, not byte for byte.
 *
 * Lying (opts.lie): a middlebox that speaks HTTP and the sync protocol and
 * lies in the answers to POST /v1/sync; everything else passes untouched.
 * A connection accepted while a lie is set is relayed request by request
 * (Content-Length bodies), the sync answers it relays are remembered, and:
 *   forge_accept  a push is answered without being forwarded: the last
 *                 real answer (its checkpoint, seal and receipt replayed)
 *                 with every pushed op "accepted" at a made-up log index
 *                 inside that checkpoint, and nothing pulled
 *   replay        a sync is answered, without being forwarded, with the
 *                 last real answer, byte for byte
 *   drop_pulled   the answer loses one pulled op (a device revocation when
 *                 it has one, else its last), cursor and checkpoint kept
 *   forge_reject  every result of the answer becomes a rejection
 *                 (forbidden_role), the rest kept
 * A sync a lie cannot apply to (forge_accept: no ops pushed or no real
 * answer seen yet; replay: none seen; drop_pulled: nothing pulled;
 * forge_reject: nothing pushed) passes honestly.  lies_max bounds the lies
 * under one set of opts; stats.lies counts them.
 */
#ifndef SC_TEST_FAULTPROXY_H
#define SC_TEST_FAULTPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sct_lie {
    SCT_LIE_NONE = 0,
    SCT_LIE_FORGE_ACCEPT,
    SCT_LIE_REPLAY,
    SCT_LIE_DROP_PULLED,
    SCT_LIE_FORGE_REJECT,
} sct_lie;

typedef struct sct_proxy_opts {
    uint64_t seed;
    unsigned drop_pct;       /* of requests, dropped as they arrive */
    unsigned truncate_pct;   /* of requests, the request or the response cut */
    unsigned reset_pct;      /* of requests, reset */
    uint32_t cut_max;        /* cut and reset points are drawn in [0, cut_max) bytes (default 256 KiB) */
    uint32_t cut_answer_at;  /* > 0: a truncation cuts the answer after exactly this many bytes */
    unsigned delay_pct;      /* of forwarded pieces, held back */
    unsigned delay_max_ms;   /* longest hold (default 50) */
    uint64_t rate_bps;       /* per connection and direction, bytes per second; 0: unlimited */
    unsigned faults_max;     /* drops, cuts and resets under these opts at most; 0: no limit */
    sct_lie lie;             /* how to lie about sync answers (connections accepted from now on) */
    unsigned lies_max;       /* lies under these opts at most; 0: no limit */
} sct_proxy_opts;

typedef struct sct_proxy_stats {
    uint64_t connections;    /* accepted */
    uint64_t drops;
    uint64_t truncations;    /* of which: */
    uint64_t cut_requests;   /*   client to server cut */
    uint64_t cut_responses;  /*   server to client cut */
    uint64_t resets;
    uint64_t delays;
    uint64_t bytes;          /* forwarded, both directions */
    uint64_t lies;           /* sync answers forged, replayed or changed */
} sct_proxy_stats;

typedef struct sct_proxy sct_proxy;

/* Start a proxy to 127.0.0.1:upstream; aborts the test on failure. */
sct_proxy *sct_proxy_start(uint16_t upstream, const sct_proxy_opts *opts);
/* The port it listens on. */
uint16_t sct_proxy_port(const sct_proxy *p);
/* "http://127.0.0.1:PORT" into out (cap bytes). */
void sct_proxy_url(const sct_proxy *p, char *out, size_t cap);
/* Forward new connections to another upstream port. */
void sct_proxy_set_upstream(sct_proxy *p, uint16_t upstream);
/* Replace the fault plan for new connections and pieces (the seed is kept). */
void sct_proxy_set_opts(sct_proxy *p, const sct_proxy_opts *opts);
/* Counters so far. */
void sct_proxy_get_stats(sct_proxy *p, sct_proxy_stats *out);
/* Stop accepting, close every connection, wait for its threads, free.  NULL is a no-op. */
void sct_proxy_stop(sct_proxy *p);

#endif
