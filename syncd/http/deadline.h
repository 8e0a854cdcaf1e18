/*
 * deadline.h: a deadline per connection for receiving a request, that
 * trickling bytes cannot push back (docs/operations.md, "Limits").
 *
 * libmicrohttpd's connection timeout restarts with every byte received, so
 * a client sending one byte every few seconds holds a connection, and its
 * slot under the connection limit, for as long as it likes.  Here every
 * connection carries an absolute time (CLOCK_MONOTONIC) by which the
 * request it is receiving must be complete; a thread looks at them four
 * times a second and shuts down the socket of any connection past its
 * deadline, which makes libmicrohttpd close it as if the client had hung
 * up.  http.c moves the deadline along the request's life: set when the
 * connection opens and when a request ends (the idle time plus a request's
 * time), tightened when a request line arrives, lifted once the body is
 * complete (answering is not receiving).
 *
 * The registry only ever shuts down a socket it knows is open: a
 * connection leaves it (sd_deadline_remove, from libmicrohttpd's
 * connection-closed notice) before libmicrohttpd closes the descriptor, the
 * removal takes the registry's mutex, and the sweeper holds that mutex
 * while it looks at descriptors, so a reused descriptor number is never
 * touched.
 *
 * Threads: every function is safe from any thread; the sweeper is its own.
 */
#ifndef SD_DEADLINE_H
#define SD_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

typedef struct sd_deadline sd_deadline;
typedef struct sd_deadline_conn sd_deadline_conn;

/* Start the registry and its sweeper thread. */
sc_status sd_deadline_start(sd_deadline **out, sc_err *err);
/* Stop the sweeper and free; every connection must have been removed.  NULL is a no-op. */
void sd_deadline_stop(sd_deadline *d);

/* CLOCK_MONOTONIC in ms, the clock deadlines are given in. */
int64_t sd_deadline_now_ms(void);

/* Register an open socket with a deadline (0: none).  NULL when out of memory. */
sd_deadline_conn *sd_deadline_add(sd_deadline *d, int fd, int64_t at_ms);
/* Unregister; the caller closes the socket afterwards.  NULL is a no-op. */
void sd_deadline_remove(sd_deadline *d, sd_deadline_conn *c);

/* Set the deadline (0: none).  NULL c is a no-op. */
void sd_deadline_set(sd_deadline_conn *c, int64_t at_ms);
/* Set it to at_ms unless it is already earlier (and not none). */
void sd_deadline_tighten(sd_deadline_conn *c, int64_t at_ms);
/* Whether the deadline has passed (false for NULL or none). */
bool sd_deadline_due(sd_deadline_conn *c, int64_t now_ms);
/* Whether the sweeper shut this connection down. */
bool sd_deadline_fired(sd_deadline_conn *c);

/* Connections the sweeper shut down since start (tests, logs). */
uint64_t sd_deadline_closed(sd_deadline *d);

#endif
