/*
 * sctest_server.h: integration-test helpers around a real syncd process
 * and a small signed-request HTTP client (libcurl).  Test code only.
 *
 * A server runs `syncd serve --data DIR --listen 127.0.0.1:0` with its
 * stderr (the JSON log) in DIR/syncd.log; start waits for the one
 * "listening on http://HOST:PORT" line.  The child gets PR_SET_PDEATHSIG,
 * so a test process that dies on a failed assertion takes its server with
 * it: nothing is left running.
 *
 * The client signs requests exactly as docs/protocol.md §3 says, written
 * here independently of syncd's auth.c, so the two check each other.
 */
#ifndef SC_TEST_SERVER_H
#define SC_TEST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>

#include "core/codec.h"
#include "core/keys.h"
#include "wire.pb-c.h"

/* ---- processes and directories ---- */

/* The syncd binary: $SC_BIN_DIR/syncd/syncd, else the build this test was configured in. */
const char *sct_syncd_path(void);

/* A new empty directory under $TMPDIR (or /tmp), written into out (cap bytes). */
void sct_tempdir(char *out, size_t cap);
/* Remove a directory tree (a test's temp dir); missing is fine. */
void sct_rmtree(const char *path);
/* Wait for child pid at most timeout_ms: exit status, 128+signal, or -1 on timeout. */
int sct_wait_pid(pid_t pid, int timeout_ms);
/* Copy the tree src to dst (which must not exist), modes kept; aborts the test on failure. */
void sct_copytree(const char *src, const char *dst);

/*
 * Run `syncd ARG...` (NULL-terminated) to completion with a 60 s limit.
 * Its stdout goes into out (cap bytes, NUL-terminated; out may be NULL),
 * stderr to the test's stderr.  Returns the exit status, or 128+signal.
 */
int sct_syncd_run(char *out, size_t cap, const char *arg, ...) __attribute__((sentinel));
/* The same with stderr into out too, after or between stdout's lines as they were written. */
int sct_syncd_run_all(char *out, size_t cap, const char *arg, ...) __attribute__((sentinel));

typedef struct sct_server {
    pid_t pid;            /* 0 when not running */
    char dir[512];        /* data directory (borrowed path copied) */
    char url[128];        /* "http://127.0.0.1:PORT" */
    char host[64];
    uint16_t port;
    char log[600];        /* DIR/syncd.log: the server's stderr */
} sct_server;

/*
 * Start syncd serve on data_dir with 127.0.0.1:0 and the extra arguments
 * (NULL-terminated array, may be NULL), and wait (30 s at most) for its
 * listening line.  Aborts the test when it does not come.
 */
void sct_server_start(sct_server *s, const char *data_dir, const char *const *extra);
/* SIGTERM, wait (30 s at most, then SIGKILL); returns the exit status, or 128+signal. */
int sct_server_stop(sct_server *s);
/* SIGKILL and reap (a crash). */
void sct_server_kill(sct_server *s);
/* Send a signal without waiting. */
void sct_server_signal(sct_server *s, int sig);
/* Wait for the process to exit (timeout_ms at most); returns the status as stop does, -1 on timeout. */
int sct_server_wait(sct_server *s, int timeout_ms);
/* True when the server's log contains needle. */
bool sct_server_log_has(const sct_server *s, const char *needle);
/*
 * The field key of the log line of the request request_id (its X-Request-Id)
 * into out (cap bytes): its string value, "(absent)" or "(not a string)".
 * Waits up to 5 s for the line; false when it never comes.
 */
bool sct_server_log_field(const sct_server *s, const char *request_id, const char *key, char *out,
                          size_t cap);

/* ---- the signed HTTP client ---- */

typedef struct sct_resp {
    long status;             /* HTTP status, 0 when the request failed */
    uint8_t *body;           /* malloc'd, NUL-terminated for convenience */
    size_t len;
    char reason[64];         /* X-Spotcheck-Reason */
    char request_id[64];     /* X-Request-Id */
    char content_type[128];
    char connection[32];     /* Connection */
    int64_t offset;          /* X-Spotcheck-Offset; -1 when absent */
    int64_t content_length;  /* Content-Length; -1 when absent */
    int64_t retry_after;     /* Retry-After in seconds; -1 when absent */
    int64_t server_time_ms;  /* X-Spotcheck-Server-Time; -1 when absent */
    int64_t not_before_ms;   /* X-Spotcheck-Not-Before; -1 when absent */
    unsigned tries;          /* requests sent: 2 when a request_time refusal was signed again */
    char header_names[512];  /* the names of every header, lowercase, in order, each followed by ' '
                              */
    CURLcode curl;           /* transfer result */
} sct_resp;

void sct_resp_dispose(sct_resp *r);

/* How to sign one request; zero-initialised means "sign normally". */
typedef struct sct_sign {
    bool omit;               /* send no X-Spotcheck-* headers */
    bool corrupt;            /* flip one bit of the signature */
    const char *nonce;       /* this nonce (32 hex) instead of a fresh one */
    int64_t time_ms;         /* this time instead of now (0: now) */
    const char *sig_target;  /* sign this target instead of the one sent */
    const char *sig_method;  /* sign this method instead of the one sent */
    const sc_keypair *key;   /* sign with this key instead of the client's */
    bool no_body_hash;       /* send no X-Spotcheck-Body-Sha256 */
    const char *body_hash;   /* send this X-Spotcheck-Body-Sha256 (64 hex) instead of the body's */
    const char *sig_body;    /* sign this text, and declare its hash, instead of the body sent */
} sct_sign;

typedef struct sct_client {
    CURL *curl;
    char base[128];          /* "http://127.0.0.1:PORT" */
    const sc_keypair *key;   /* borrowed; NULL: requests go unsigned */
    char last_nonce[33];     /* the nonce of the last signed request */
    int64_t last_time_ms;    /* its time */
    uint8_t last_body_hash[SC_HASH_LEN]; /* and the SHA-256 of the body it signed */
    int64_t not_before_ms;   /* the server's start boundary, once it told us (0: none) */
    const char *source;      /* local address to connect from ("127.0.0.2"); NULL: any */
} sct_client;

void sct_client_init(sct_client *c, const char *base, const sc_keypair *key);
void sct_client_dispose(sct_client *c);

/*
 * One request.  target is the path and query; body may be NULL; headers is
 * a NULL-terminated list of "Name: value" lines (may be NULL); sign may be
 * NULL.  Signed requests carry X-Spotcheck-Body-Sha256 and are signed no
 * earlier than the server's start boundary; one refused request_time with
 * X-Spotcheck-Not-Before is signed again at once, as a client does (not
 * when sign fixes the time or the nonce).  Returns out->status.
 */
long sct_request(sct_client *c, const char *method, const char *target, const void *body,
                 size_t len, const char *const *headers, const sct_sign *sign, sct_resp *out);

/* The request signature's message (after the domain) for these values, into out (cap bytes). */
size_t sct_canonical(const char *method, const char *target, const char *time_text,
                     const char *nonce_hex, const void *body, size_t len, uint8_t *out, size_t cap);

/*
 * The X-Spotcheck-* header lines (each ending in CRLF; the body's hash
 * included) that sign a request, for tests that speak HTTP over a raw
 * socket.  Returns the length written into out (cap bytes, NUL-terminated).
 */
size_t sct_sign_lines(const sc_keypair *kp, const char *method, const char *target,
                      const void *body, size_t len, char *out, size_t cap);

/* A TCP connection to 127.0.0.1:port (10 s receive timeout); aborts the test on failure. */
int sct_connect(uint16_t port);
/*
 * The same from a given loopback source address ("127.0.0.2": every
 * 127.0.0.0/8 address is this machine's), so a test can be several
 * clients.  Returns -1 when the connection cannot be made.
 */
int sct_connect_from(const char *source, uint16_t port);
/* Send all len bytes; false when the peer is gone. */
bool sct_send_all(int fd, const void *buf, size_t len);
/* Read until the peer closes or the timeout; malloc'd, NUL-terminated. */
char *sct_recv_all(int fd);

/* Decode an Error body; NULL when it is not one.  Free with scpb__error__free_unpacked. */
Scpb__Error *sct_error(const sct_resp *r);

/* ---- protocol helpers ---- */

/* POST /v1/enroll for key with code (unsigned), keeping the whole answer in *out (dispose it). */
long sct_enroll_answer(sct_client *c, const char *code, const sc_keypair *key, const char *label,
                       sct_resp *out);
/* POST /v1/enroll for key with code (unsigned).  *out (may be NULL) gets the response on 200. */
long sct_enroll(sct_client *c, const char *code, const sc_keypair *key, const char *label,
                Scpb__EnrollResponse **out);

/* POST /v1/sync with the encodings of ops, a cursor and known_size.  *out (may be NULL) on 200. */
long sct_sync(sct_client *c, sc_op *const *ops, size_t n, const uint8_t *cursor, size_t cursor_len,
              uint64_t known_size, Scpb__SyncResponse **out);

/*
 * Seal an op on a device: fills version 1, author (kp), hlc (from *clock,
 * ticked at now) and device time, then signs.  The caller sets entity,
 * entity_type, deps and the body.
 */
sc_op *sct_device_op(const sc_keypair *kp, uint64_t *clock, Scpb__Op *op);

/*
 * A pushable op from raw op bytes and a signature, encoded as a SignedOp
 * and not opened: it need not decode or verify.  Free with sct_op_raw_free.
 */
sc_op *sct_op_raw(const uint8_t *op, size_t op_len, const uint8_t sig[SC_SIG_LEN]);
void sct_op_raw_free(sc_op *o);

/* InspectionOpen of `target` (spot check, open) creating entity id, under assignment (NULL: none). */
sc_op *sct_op_inspection_open(const sc_keypair *kp, uint64_t *clock, const uint8_t id[SC_ID_LEN],
                              const uint8_t target[SC_ID_LEN], const uint8_t *assignment);
/* InspectionOpen of `target` (spot check, open) creating entity id (filled with a new UUIDv7). */
sc_op *sct_op_open_inspection(const sc_keypair *kp, uint64_t *clock, uint8_t id[SC_ID_LEN],
                              const uint8_t target[SC_ID_LEN]);
/* A Note on entity (of type) with the given deps (n op ids). */
sc_op *sct_op_note(const sc_keypair *kp, uint64_t *clock, const uint8_t entity[SC_ID_LEN],
                   Scpb__EntityType type, const uint8_t (*deps)[SC_HASH_LEN], size_t n,
                   const char *text);

/* A PhotoAttach of photo sha (size bytes) on entity (of type) with the given deps (n op ids). */
sc_op *sct_op_photo(const sc_keypair *kp, uint64_t *clock, const uint8_t entity[SC_ID_LEN],
                    Scpb__EntityType type, const uint8_t (*deps)[SC_HASH_LEN], size_t n,
                    const uint8_t sha[SC_HASH_LEN], uint64_t size);

/*
 * Name a photo as a tablet does before it uploads it (a photo is read only
 * by those who see an op naming it): push, as c, an inspection of target
 * opened by kp and a PhotoAttach of sha on it; both must be accepted.
 * insp (may be NULL) gets the inspection's id.
 */
void sct_name_photo(sct_client *c, const sc_keypair *kp, uint64_t *clock,
                    const uint8_t target[SC_ID_LEN], const uint8_t sha[SC_HASH_LEN], uint64_t size,
                    uint8_t insp[SC_ID_LEN]);

/* The system environment (malloc, wall clock, libsodium randomness); thread-safe. */
const sc_env *sct_sys_env(void);

/* Wall clock in ms. */
int64_t sct_now_ms(void);
/* CLOCK_MONOTONIC in ms. */
int64_t sct_mono_ms(void);

/* A process's resident memory now (VmRSS) and at its peak (VmHWM), in KiB; -1 when unreadable. */
long sct_proc_rss_kib(pid_t pid);
long sct_proc_hwm_kib(pid_t pid);

#endif
