/*
 * service.h: the sync protocol served without HTTP (docs/protocol.md §3,
 * §4.2, §4.3).  http.c parses a request, calls these, and encodes what
 * they answer; anything else that can hand over a request's method,
 * target, headers and body (a test's in-process transport) gets exactly
 * the same answers by calling them too.  docs/architecture.md draws where
 * this sits.
 *
 * The entry points:
 *   sd_service_authenticate  a signed request, whole: its headers' form and
 *                            time, the device's share of the replay cache,
 *                            the device (enrolled), the signature over
 *                            the body's hash, then the device's standing
 *                            (not revoked, its user not disabled), and the
 *                            nonce recorded.  http.c runs the same steps apart
 *                            (sd_service_identify, sd_service_verify_early,
 *                            sd_service_verify_body) so it can refuse
 *                            before a body is read.
 *   sd_sync_precheck         a sync body's counts, from its bytes before it is
 *                            decoded (decoding allocates per entry).
 *   sd_sync_serve            one POST /v1/sync: from the decoded request and
 *                            the authenticated device to the sealed
 *                            SyncResponse, or a refusal.
 *   sd_photo_read            HEAD and GET /v1/blobs/NAME: a file to send, or
 *                            the answer of an absent photo.
 *   sd_photo_put_begin/_finish  PUT /v1/blobs/NAME, one chunk: what to do with
 *                            the bytes (store them, or read and drop them),
 *                            then the answer once they are in and verified;
 *                            sd_photo_put is the two around a chunk in memory.
 *   sd_enroll_serve          POST /v1/enroll: the decoded EnrollRequest to
 *                            the EnrollResponse (the request is not signed).
 *   sd_checkpoint_serve, sd_inclusion_serve, sd_consistency_serve,
 *   sd_entries_serve         GET /v1/log/...: the parsed query to the message.
 * A refusal is an sd_answer: the HTTP status, the Scpb__Reason, the message
 * and the headers it carries (docs/protocol.md §4.5).
 *
 * Threads: every function may run on any number of threads at once over one
 * sd_service, as its parts are (register.h, ingest.h, blobs.h, auth.h).
 */
#ifndef SD_SERVICE_H
#define SD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "blobs/blobs.h"
#include "core/env.h"
#include "core/limits.h"
#include "core/par.h"
#include "core/status.h"
#include "http/auth.h"
#include "register/register.h"
#include "sync/ingest.h"
#include "sync/seen.h"
#include "wire.pb-c.h"

/* What a service serves with.  Everything is borrowed and must outlive the calls. */
typedef struct sd_service {
    const sd_config *cfg;
    sd_register *reg;
    sd_ingest *ingest;
    sd_blobs *blobs;
    sd_auth *auth;
    const sc_env *env; /* thread-safe: used from every caller's thread */
    sd_seen *seen;     /* notes each verified request's device (seen.h); NULL: none */
    sc_par_pool *par;  /* helper threads for verifying pushes (core/par.h); NULL: per request */
} sd_service;

/* The HTTP status codes of the protocol's answers (docs/protocol.md §4.5). */
enum {
    SD_HTTP_OK = 200,
    SD_HTTP_CREATED = 201,
    SD_HTTP_ACCEPTED = 202,
    SD_HTTP_BAD_REQUEST = 400,
    SD_HTTP_UNAUTHORIZED = 401,
    SD_HTTP_FORBIDDEN = 403,
    SD_HTTP_NOT_FOUND = 404,
    SD_HTTP_CONFLICT = 409,
    SD_HTTP_TOO_LARGE = 413,
    SD_HTTP_UNPROCESSABLE = 422,
    SD_HTTP_TOO_MANY_REQUESTS = 429,
    SD_HTTP_UNAVAILABLE = 503,
    SD_HTTP_INSUFFICIENT_STORAGE = 507,
};

/* An answer other than a message: a refusal (an Error body), or a blob upload's empty answer. */
typedef struct sd_answer {
    unsigned status;              /* HTTP status */
    int reason;                   /* Scpb__Reason; REASON_NONE for none */
    char message[SC_ERR_MSG_MAX]; /* the Error's message */
    bool has_offset;              /* X-Spotcheck-Offset: an upload's verified offset */
    uint64_t offset;
    int64_t retry_ms; /* Retry-After (rounded up to seconds), 0: none */
    /* The reason the log gives instead of reason's name, when the answer keeps back why (a
     * refused enrollment code: code_unknown, code_used, ...); static text, NULL: reason's name. */
    const char *log_reason;
} sd_answer;

/*
 * Fill a with the answer to a failure e (e->reason, or REASON_STORAGE when
 * it has none: a failure without a protocol reason is the server's).
 */
void sd_answer_from_err(const sc_err *e, sd_answer *a);
/* Fill a with a refusal; fmt says what is wrong. */
void sd_answer_set(sd_answer *a, unsigned status, int reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- signed requests ---- */

/*
 * The headers of a signed request: their form and time (against the
 * service's clock), the device's share of the replay cache, then the
 * device itself (enrolled).  Fills *ar and *who.  A refusal in *a: 401
 * bad_signature, request_time or unknown_device, 429 rate_limited or 503
 * overloaded (with retry_ms).  A revoked device or a disabled user's is
 * identified (who says so) and refused by the verify steps below, only
 * once its signature verified: device keys are public.
 */
sc_status sd_service_identify(const sd_service *s, const sd_auth_headers *h, sd_auth_req *ar,
                              sd_principal *who, sd_answer *a);

/*
 * Before the body of an identified request is read: a request with a body
 * must declare its hash (401), and the signature is checked over it now,
 * then the device's standing (403 device_revoked or user_disabled).
 * *verified: both passed (else, with no body hash, they are checked with
 * the body, sd_service_verify_body).
 */
sc_status sd_service_verify_early(const sd_service *s, const sd_auth_req *ar, const char *method,
                                  const char *target, size_t target_len, bool has_body,
                                  bool *verified, sd_answer *a);

/*
 * The body is in and hashes to body_hash: check the signature and then the
 * device's standing (403), unless verified early, or that the body is the
 * one declared, then record the nonce (a replay is refused 401; a device
 * over its share 429 or 503).
 * A request that passes is the device's: it is noted as seen, with its
 * User-Agent (s->seen).
 */
sc_status sd_service_verify_body(const sd_service *s, const sd_auth_req *ar, bool verified,
                                 const char *method, const char *target, size_t target_len,
                                 const uint8_t body_hash[SC_HASH_LEN], sd_answer *a);

/* What a sealed answer is bound to: the request's nonce and its body's SHA-256. */
typedef struct sd_req_meta {
    uint8_t nonce[16];
    uint8_t body_hash[SC_HASH_LEN];
} sd_req_meta;

/*
 * A whole signed request at once: sd_service_identify, sd_service_verify_early
 * and sd_service_verify_body over method, target (target_len bytes exactly as
 * sent, with the query), the headers and body (body_len bytes).  Fills *who
 * and *meta for the endpoint that answers it.
 */
sc_status sd_service_authenticate(const sd_service *s, const char *method, const char *target,
                                  size_t target_len, const sd_auth_headers *h, const uint8_t *body,
                                  size_t body_len, sd_principal *who, sd_req_meta *meta,
                                  sd_answer *a);

/* ---- sync ---- */

/* A sync's counts, for the request's log line. */
typedef struct sd_sync_counts {
    uint32_t pushed, accepted, duplicate, rejected, pulled;
} sd_sync_counts;

/* Fields of a SyncRequest besides ops and blobs_wanted one request may carry (sd_sync_precheck). */
#define SD_SYNC_OTHER_FIELDS_MAX 64

/*
 * Before a sync body (len bytes) is decoded: count its entries on the wire
 * and refuse what sd_sync_serve would refuse for its counts, with the same
 * answer (413 batch_limit), and more than SD_SYNC_OTHER_FIELDS_MAX other
 * fields (400 malformed); bytes that are not protobuf wire format are 400
 * malformed, as their decoding would be.  Decoding allocates for every
 * entry (a 3-byte op costs protobuf-c dozens of bytes), so an 8 MiB body
 * of tiny entries would take hundreds of MiB before its count was
 * checked; this takes none.  SC_OK: decode it and serve it.
 */
sc_status sd_sync_precheck(const sd_service *s, const uint8_t *body, size_t len, sd_answer *a);

/*
 * Serve one sync for `who` (authenticated, not revoked): check the request
 * against the limits, open and verify the pushed ops, commit them (group
 * commit: the answer is sent only once they are durable), pull what `who`
 * may see since the cursor, prove the log (consistency from known_size,
 * the receipt of every op accepted or duplicate), say which photos asked
 * about `who` may fetch, and seal the answer to meta.  SC_OK with *out
 * (free with sd_sync_response_free, before sr: it borrows sr's photo
 * hashes); otherwise a refusal in *a and nothing stored.  *counts may be
 * NULL.
 */
sc_status sd_sync_serve(const sd_service *s, const sd_principal *who, const Scpb__SyncRequest *sr,
                        const sd_req_meta *meta, Scpb__SyncResponse **out, sd_sync_counts *counts,
                        sd_answer *a);
/* Free an answer of sd_sync_serve; NULL is a no-op. */
void sd_sync_response_free(Scpb__SyncResponse *resp);

/* ---- enrollment and the log (docs/protocol.md §4.1, §4.4) ---- */

/*
 * Enroll a device (sd_register_enroll): SC_OK with *out (free with
 * sd_msg_free), else *a (400 malformed, 401 bad proof, 403 for any code
 * that does not enroll, 409 for a key enrolled already, 503).  A refused
 * code's answer is one for all; a->log_reason says which it was, for the log.
 */
sc_status sd_enroll_serve(const sd_service *s, const Scpb__EnrollRequest *req,
                          Scpb__EnrollResponse **out, sd_answer *a);
/* The latest checkpoint.  *out is freed with sd_msg_free, as for the three below. */
sc_status sd_checkpoint_serve(const sd_service *s, Scpb__Checkpoint **out, sd_answer *a);
/* The inclusion proof of leaf `index` in the tree of `size` leaves; 400 out of range. */
sc_status sd_inclusion_serve(const sd_service *s, uint64_t index, uint64_t size,
                             Scpb__InclusionProof **out, sd_answer *a);
/* The consistency proof from `old` to `size` leaves; 400 unless 0 < old <= size <= the log. */
sc_status sd_consistency_serve(const sd_service *s, uint64_t old, uint64_t size,
                               Scpb__ConsistencyProof **out, sd_answer *a);
/*
 * `count` raw entries from `start`, for auditors and admins (403
 * forbidden_role for any other role); 400 unless 1 <= count <=
 * SC_LOG_ENTRIES_MAX.
 */
sc_status sd_entries_serve(const sd_service *s, const sd_principal *who, uint64_t start,
                           uint64_t count, Scpb__LogEntries **out, sd_answer *a);

/* ---- photos ---- */

/*
 * HEAD or GET of photo `name` (a valid blob name): SC_OK with *fd (the
 * caller sends and closes it) and *size when `who` may read it and it is
 * stored.  Otherwise *a: a photo `who` may not read gets exactly the answer
 * of an absent one (404, no reason, and on HEAD the offset of its own
 * upload of it), a register or disk failure 503.
 */
sc_status sd_photo_read(const sd_service *s, const sd_principal *who, const char *name, bool head,
                        int *fd, uint64_t *size, sd_answer *a);

/* A chunk of a photo upload being received. */
typedef struct sd_photo_chunk {
    char name[SD_BLOB_NAME_LEN + 1];
    uint64_t start, len, total; /* the chunk's Content-Range: bytes [start, start+len) of total */
    bool exists;                /* stored and readable: read the chunk, verify it, answer 200 */
    sd_upload *up;              /* else the chunk's upload; owned until finished or aborted */
} sd_photo_chunk;

/* May `who`'s role upload photos (the roles that may attach them)?  Else 403 in *a. */
sc_status sd_photo_may_upload(const sd_principal *who, sd_answer *a);

/*
 * Begin a chunk of `name` whose Content-Range parsed (start, len, total)
 * and whose Content-Length is clen (has_cl: one was sent): the limits,
 * then `who`'s own upload of the photo.  SC_OK with p filled: write the
 * chunk's bytes to p->up (when p->exists, read and drop them); hashed: the
 * caller hashes the bytes and passes the digest to finish.  Otherwise *a
 * (400, 409 with the offset, 413, 507 quota, 503) and nothing written.
 */
sc_status sd_photo_put_begin(const sd_service *s, const sd_principal *who, const char *name,
                             uint64_t start, uint64_t len, uint64_t total, bool has_cl,
                             uint64_t clen, bool hashed, sd_photo_chunk *p, sd_answer *a);

/*
 * The chunk is in and its request verified (digest: its SHA-256 when the
 * caller hashed it, else NULL): make it durable.  *a is the answer: 200 for
 * a photo already stored, 201 with the offset when the photo is complete,
 * 202 with the offset when more is to come, 422 when the whole does not
 * hash to its name, 503 when the disk failed.  Frees p->up.
 */
void sd_photo_put_finish(const sd_service *s, sd_photo_chunk *p, const uint8_t *digest,
                         sd_answer *a);

/*
 * Writing the chunk failed (msg says why): 503 with `who`'s verified offset
 * of its upload.  p->up must be aborted already.
 */
void sd_photo_put_failed(const sd_service *s, const sd_principal *who, const sd_photo_chunk *p,
                         const char *msg, sd_answer *a);

/*
 * One whole chunk in memory (body, body_len bytes, hashing to body_hash):
 * may upload, begin, write, finish, as http.c does around a streamed one.
 * The answer in *a either way.
 */
void sd_photo_put(const sd_service *s, const sd_principal *who, const char *name, uint64_t start,
                  uint64_t len, uint64_t total, const uint8_t *body, size_t body_len,
                  const uint8_t body_hash[SC_HASH_LEN], sd_answer *a);

#endif
