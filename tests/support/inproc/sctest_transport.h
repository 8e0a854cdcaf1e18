/*
 * sctest_transport.h: an sc_transport (spotcheck.h) that serves
 * libspotcheck's requests in this process with syncd's own parts, opened by
 * sctest_inproc.h over the fixture register: request authentication and
 * the sync service (syncd/sync/service.h) that http.c calls too, with
 * http.c's parsers of queries and ranges.  No socket and no HTTP parser: a
 * request is authenticated from its method, target, header lines and body,
 * served, and its answer handed back as syncd's HTTP skin would send it
 * (status, X-Spotcheck-* headers, an Error body for a refusal).  So the
 * client's tests run against the real protocol logic, which cannot drift
 * from syncd, and stay fast and deterministic.
 *
 * Served: what libspotcheck asks for.  POST /v1/enroll, POST /v1/sync,
 * HEAD, GET and PUT /v1/blobs/NAME, GET /v1/log/checkpoint and
 * /v1/log/proof/consistency; anything else is 404.
 *
 * Misbehaving, for the tests of what a client refuses: hooks see each
 * request before it is served and may answer it themselves or cut the
 * connection; and they may change a sync's real answer (on a copy) and
 * have it sealed again with the server key (an honest-looking server that
 * lies), or send it as changed (a forger without the key), or lose it
 * after it was served (the answer never arrives).
 *
 * Test code only.  One client handle at a time uses a transport; several
 * handles may use one sct_tp (each with its own transport).
 */
#ifndef SC_TEST_TRANSPORT_H
#define SC_TEST_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/keys.h"
#include "sctest_inproc.h"
#include "spotcheck.h"
#include "wire.pb-c.h"

typedef struct sct_tp sct_tp;

/* A request as the transport received it. */
typedef struct sct_tp_req {
    const char *method;
    const char *target; /* path and query */
    const uint8_t *body;
    size_t body_len;
    bool chunk; /* a PUT with a Content-Range syncd accepts; the range: */
    uint64_t start, len, total;
    unsigned number; /* requests before this one on this sct_tp */
} sct_tp_req;

/* An answer a hook gives in place of syncd's. */
typedef struct sct_tp_answer {
    long status;
    int reason;          /* Scpb__Reason: with a status >= 400, an Error body carries it */
    const char *message; /* the Error's message (may be NULL) */
    bool has_offset;     /* X-Spotcheck-Offset */
    uint64_t offset;
    const uint8_t *body; /* a body of its own instead of an Error (body_len bytes) */
    size_t body_len;
} sct_tp_answer;

typedef enum sct_tp_verdict {
    SCT_SERVE = 0, /* let syncd serve it */
    SCT_ANSWER,    /* send the hook's answer; syncd never sees the request */
    SCT_CUT,       /* the connection dies before anything is served: no answer */
    SCT_RESENT,    /* the connection it went out on died, and the transport sent it
                      again by itself on a new one, as libcurl does: the hook is asked
                      again, and the answer says it went out twice */
    SCT_SERVED_RESENT, /* it reached syncd and was served, but the connection died before
                          the answer; the transport sent the same bytes again on a new
                          one, as libcurl does, and syncd serves that copy too (the hook
                          is not asked again); the answer says it went out twice */
} sct_tp_verdict;

/* What to do with a sync answer after the hook saw (and perhaps changed) it. */
typedef enum sct_tp_sync_verdict {
    SCT_SEND = 0, /* send it as it is now */
    SCT_RESEAL,   /* seal it again with the server key for this request, then send */
    SCT_LOSE,     /* served and committed, but the answer never arrives */
} sct_tp_sync_verdict;

typedef struct sct_tp_hooks {
    /* Before a request is served (NULL: serve everything). */
    sct_tp_verdict (*before)(void *ctx, const sct_tp_req *q, sct_tp_answer *a);
    /*
     * After syncd served a sync: resp is a copy of its sealed answer to q.
     * The hook may change anything in it, with memory from sct_tp_alloc
     * where it needs new memory (everything is freed at once afterwards).
     */
    sct_tp_sync_verdict (*sync_answer)(void *ctx, sct_tp *ip, const Scpb__SyncRequest *q,
                                       Scpb__SyncResponse *resp);
    void *ctx;
} sct_tp_hooks;

/*
 * A temp dir with the fixture register and syncd's parts on it
 * (sct_inproc_open; tune may be NULL), and the transport's state.  Aborts
 * the test on failure.
 */
sct_tp *sct_tp_open(void (*tune)(sd_config *cfg));
/* Close the parts, remove the temp dir, free.  NULL is a no-op. */
void sct_tp_close(sct_tp *ip);
/* The parts (their settings may be changed between requests: the service reads them live). */
sct_inproc *sct_tp_parts(sct_tp *ip);
/* The transport for sc_client_set_transport (ctx is ip; closing it does nothing). */
void sct_tp_transport(sct_tp *ip, sc_transport *out);
/* Set the hooks (copied; NULL: none). */
void sct_tp_set_hooks(sct_tp *ip, const sct_tp_hooks *h);
/* Requests received so far (served, answered by a hook or cut). */
unsigned sct_tp_requests(const sct_tp *ip);

/* Memory for a sync_answer hook, freed after the answer is encoded. */
void *sct_tp_alloc(sct_tp *ip, size_t n);
/* The server's key pair (borrowed from ip), for a hook that signs like the server. */
const sc_keypair *sct_tp_server_key(const sct_tp *ip);
/*
 * Sign a checkpoint note for `size` leaves and `root` with key (NULL: the
 * server key) for the register's origin at the server's time, and put it
 * into resp (its note, size and root fields).
 */
void sct_tp_sign_checkpoint(sct_tp *ip, Scpb__SyncResponse *resp, uint64_t size,
                            const uint8_t root[SC_HASH_LEN], const sc_keypair *key);
/*
 * Prove resp's results again: the receipt (its checkpoint's size) of the
 * log indexes of the results now accepted or duplicate, from the register;
 * none when no result is.
 */
void sct_tp_prove(sct_tp *ip, Scpb__SyncResponse *resp);
/*
 * Seal resp for the request being answered, as syncd does, with key (NULL:
 * the server key); other_nonce seals it for another request (a replay).
 */
void sct_tp_seal(sct_tp *ip, Scpb__SyncResponse *resp, const sc_keypair *key, bool other_nonce);

/*
 * A client handle on replica `path` enrolled as `login` through ip (its
 * code made by the register, as `syncd admin enroll` does), its requests
 * served by ip; opt may be
 * NULL.  Aborts the test on failure.
 */
sc_client *sct_tp_client(sct_tp *ip, const char *path, const char *login,
                         const sc_client_options *opt);

#endif
