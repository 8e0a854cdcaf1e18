/*
 * http.h: syncd's HTTP server (libmicrohttpd): routing, body limits,
 * request authentication as the request arrives, decoding the bodies and
 * encoding the answers of every endpoint in docs/protocol.md §4.  What a
 * sync or a photo request is answered is decided by sync/service.h, which
 * knows nothing of HTTP.  This is the only module that includes
 * microhttpd.h.
 *
 * Invariants:
 *  - Every response carries X-Request-Id; every non-2xx response carries an
 *    Error body and X-Spotcheck-Reason (except /healthz, which answers text).
 *  - No body is buffered past its limit: every body comes with a
 *    Content-Length (a Transfer-Encoding is refused), checked when the
 *    headers arrive, and the bytes are counted again as they stream (a body
 *    that runs over all the same is dropped, not stored).  Blob chunks are
 *    never buffered at all: they stream to the blob store.
 *  - No byte of a signed request's body is read before the request's
 *    signature verified over the body hash it declares; a kept body is
 *    buffered only as it arrives, within memory reserved for it beforehand
 *    (budget.h), and every connection must receive its request within a
 *    deadline (deadline.h).
 *  - Protobuf bodies are unpacked only after their size (and a sync body's
 *    counts of entries, on the wire: sd_sync_precheck) was checked, and
 *    every unpacked message is freed on every path.
 *  - A sync response is queued only after the group commit carrying its ops
 *    returned (acknowledged means durable).
 *
 * Threads: handlers run on libmicrohttpd's pool (http.threads); request
 * signatures and op signatures are verified on those threads, so
 * verification spreads over the pool.
 */
#ifndef SD_HTTP_H
#define SD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "base/config.h"
#include "blobs/blobs.h"
#include "core/env.h"
#include "core/status.h"
#include "register/register.h"
#include "sync/ingest.h"
#include "sync/seen.h"

typedef struct sd_http sd_http;

/* What the server serves.  Everything is borrowed and must outlive the server. */
typedef struct sd_http_deps {
    const sd_config *cfg;
    sd_register *reg;
    sd_ingest *ingest;
    sd_blobs *blobs;
    sd_auth *auth;
    const sc_env *env;   /* thread-safe: used from every worker */
    sd_seen *seen;       /* when devices were last seen; NULL: not noted */
} sd_http_deps;

/*
 * Start listening on cfg->listen_host:listen_port (port 0 picks a free
 * one).  SC_ERR_IO when the address cannot be bound (the message says why);
 * with cfg->metrics_token_file set, what reading the token failed with
 * (sd_metrics_token_load).
 */
sc_status sd_http_start(const sd_http_deps *deps, sd_http **out, sc_err *err);

/* The port actually bound. */
uint16_t sd_http_port(const sd_http *h);

/*
 * Stop: stop accepting connections, let the requests in flight finish (at
 * most drain_ms), then close every connection and free h.  Responses sent
 * while draining carry "Connection: close".  NULL is a no-op.
 */
void sd_http_stop(sd_http *h, int64_t drain_ms);

/*
 * Parse a Content-Range value "bytes START-END/TOTAL" (decimal, START <= END
 * < TOTAL): *start, *len = END-START+1, *total.  False for anything else.
 * Exposed for tests and the fuzz target.
 */
bool sd_http_parse_range(const char *s, uint64_t *start, uint64_t *len, uint64_t *total);

/*
 * Find key=VALUE in a raw query string (len bytes, without the '?') and
 * parse VALUE as a decimal uint64 of at most 19 digits.  Returns 1 found, 0
 * absent, -1 malformed (not a number, or the key given twice).
 */
int sd_http_query_u64(const char *query, size_t len, const char *key, uint64_t *out);

/* Requests currently being received or answered (for tests and shutdown). */
unsigned sd_http_inflight(const sd_http *h);

#endif
