/*
 * loadgen.c: `sc-loadgen`, the load generator.  Simulated tablets are real
 * devices: each has its own Ed25519 key, enrolls with a one-time code over
 * POST /v1/enroll, and pushes op streams sealed before any timing starts
 * (opgen.h).  Every request is signed as docs/protocol.md §3 says; each
 * device is one libcurl easy handle that keeps its connection, driven by
 * its own thread or, for hundreds of devices at once, by one thread over
 * curl's multi interface (epoll).  All traffic goes to the URL given, which
 * run.sh points at a syncd on 127.0.0.1.
 *
 * Modes (each prints result lines, bench.h):
 *   ingest   N devices push pre-encoded sync requests of B ops back to back
 *   pull     one auditor pages through the whole log (wire rate), then
 *            times no-op syncs at the head of the log
 *   photos   4 MiB blob uploads in chunks (HEAD, PUT with Content-Range)
 *   resume   an upload cut off at 50% and resumed from HEAD's offset
 *   blobmem  many uploads at once while syncd's peak RSS is read
 *   devices  many devices syncing at once (push + pull) while the RSS is read
 *   latency  mixed devices at a steady pace; /v1/sync latency percentiles
 *
 * Common options: --url URL  --world FILE (bench-world.txt)  --codes FILE
 * ("ROLE LOGIN CODE" lines; device i takes line i).  --url may list several
 * instances serving one register, comma-separated: device i talks to URL
 * i mod count (how run.sh measures two syncd on one PostgreSQL register).
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"
#include "core/ids.h"
#include "opgen.h"
#include "wire.pb-c.h"

#define CT_PB "Content-Type: application/x-protobuf"
#define MAX_DEVICES 4096
#define RESP_MAX ((size_t)64 << 20)

/* ---- options ---- */

typedef struct opts {
    const char *mode;
    const char *url;
    const char *world;
    const char *codes;
    long long devices, batch, total, count, conns, noop, max_pull, pid;
    double seconds, interval;
    uint64_t size, chunk;
} opts;

static const char *opt_val(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        bn_die("loadgen: %s needs a value", argv[*i]);
    return argv[++*i];
}

static void parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->devices = 1;
    o->batch = 100;
    o->total = 100000;
    o->count = 20;
    o->conns = 1;
    o->noop = 200;
    o->max_pull = 1000;
    o->seconds = 5;
    o->interval = 0.25;
    o->size = 4u << 20;
    o->chunk = 1u << 20;
    if (argc < 2)
        bn_die("usage: sc-loadgen MODE --url URL [--world FILE] [--codes FILE] [options]");
    o->mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--url") == 0)
            o->url = opt_val(argc, argv, &i);
        else if (strcmp(a, "--world") == 0)
            o->world = opt_val(argc, argv, &i);
        else if (strcmp(a, "--codes") == 0)
            o->codes = opt_val(argc, argv, &i);
        else if (strcmp(a, "--devices") == 0)
            o->devices = bn_arg_int(opt_val(argc, argv, &i), 1, MAX_DEVICES, a);
        else if (strcmp(a, "--batch") == 0)
            o->batch = bn_arg_int(opt_val(argc, argv, &i), 1, 1000, a);
        else if (strcmp(a, "--total") == 0)
            o->total = bn_arg_int(opt_val(argc, argv, &i), 1, 100000000, a);
        else if (strcmp(a, "--count") == 0)
            o->count = bn_arg_int(opt_val(argc, argv, &i), 1, 100000, a);
        else if (strcmp(a, "--conns") == 0)
            o->conns = bn_arg_int(opt_val(argc, argv, &i), 1, 1000, a);
        else if (strcmp(a, "--noop") == 0)
            o->noop = bn_arg_int(opt_val(argc, argv, &i), 0, 1000000, a);
        else if (strcmp(a, "--max-pull") == 0)
            o->max_pull = bn_arg_int(opt_val(argc, argv, &i), 1, 10000, a);
        else if (strcmp(a, "--pid") == 0)
            o->pid = bn_arg_int(opt_val(argc, argv, &i), 1, 1 << 30, a);
        else if (strcmp(a, "--seconds") == 0)
            o->seconds = bn_arg_num(opt_val(argc, argv, &i), 0.01, 3600, a);
        else if (strcmp(a, "--interval") == 0)
            o->interval = bn_arg_num(opt_val(argc, argv, &i), 0.001, 60, a);
        else if (strcmp(a, "--size") == 0)
            o->size = (uint64_t)bn_arg_int(opt_val(argc, argv, &i), 1, 1ll << 32, a);
        else if (strcmp(a, "--chunk") == 0)
            o->chunk = (uint64_t)bn_arg_int(opt_val(argc, argv, &i), 1, 1ll << 30, a);
        else
            bn_die("loadgen: unknown option %s", a);
    }
    if (!o->url)
        bn_die("loadgen: --url is required");
}

/* ---- HTTP: one signed request on a device's easy handle ---- */

typedef struct resp {
    long status;
    uint8_t *body;          /* malloc'd */
    size_t len, cap;
    int64_t offset;         /* X-Spotcheck-Offset, -1 when absent */
    char reason[64];        /* X-Spotcheck-Reason */
} resp;

typedef struct device {
    og_device od;           /* key, HLC, cycles */
    char role[16];
    char login[OG_LOGIN_MAX];
    char code[OG_CODE_MAX];
    char key_hex[2 * SC_KEY_LEN + 1];
    CURL *curl;
    struct curl_slist *hl;  /* headers of the request in flight */
    resp r;
    uint8_t cursor[64];
    size_t cursor_len;
    uint64_t known;         /* tree size of the last checkpoint seen */
    /* pre-sealed op chunks (signed bytes) to push, in order */
    ProtobufCBinaryData *ops;
    size_t nops, capops, sent;
    /* pre-encoded request bodies (ingest) */
    uint8_t **bodies;
    size_t *body_len;
    char (*body_hash)[65];
    size_t nbodies;
    /* request in flight (multi) */
    uint8_t *req_body;
    size_t req_len;
    size_t req_ops;
    double t_sched, t_sent;
    bool pull_only;
    bool caught_up;
    const char *base;       /* the instance this device talks to: one of base_urls */
} device;

#define URLS_MAX 8
static char base_urls[URLS_MAX][256];
static size_t nurls;

/* Split the comma-separated --url into base_urls. */
static void urls_set(const char *list)
{
    const char *p = list;
    nurls = 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof base_urls[0] || nurls == URLS_MAX)
            bn_die("loadgen: --url takes up to 8 comma-separated URLs of under 256 bytes");
        memcpy(base_urls[nurls], p, n);
        base_urls[nurls++][n] = '\0';
        p += n;
        if (*p == ',')
            p++;
    }
    if (nurls == 0)
        bn_die("loadgen: --url is empty");
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    size_t add = size * n;
    if (r->len + add > RESP_MAX)
        return 0;
    if (r->len + add + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 65536;
        while (cap < r->len + add + 1)
            cap *= 2;
        uint8_t *nb = realloc(r->body, cap);
        if (!nb)
            return 0;
        r->body = nb;
        r->cap = cap;
    }
    memcpy(r->body + r->len, p, add);
    r->len += add;
    return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    size_t len = size * n;
    char line[256];
    size_t k = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, p, k);
    line[k] = '\0';
    long long v;
    if (sscanf(line, "X-Spotcheck-Offset: %lld", &v) == 1)
        r->offset = v;
    else if (strncmp(line, "X-Spotcheck-Reason: ", 20) == 0)
        sscanf(line + 20, "%63s", r->reason);
    return len;
}

static void resp_reset(resp *r)
{
    r->status = 0;
    r->len = 0;
    r->offset = -1;
    r->reason[0] = '\0';
}

static void sha256_hex(const void *body, size_t len, char out[65])
{
    uint8_t h[SC_HASH_LEN];
    crypto_hash_sha256(h, body ? body : (const void *)"", len);
    bn_hex(h, SC_HASH_LEN, out, 65);
}

/*
 * Set up d->curl for one request (not performed): URL, the signature
 * headers over METHOD, TARGET, time, a fresh nonce and the body hash
 * (computed here when body_hash is NULL; sent too), and the body.  The body must live
 * until the transfer ends.
 */
static void prepare(device *d, const char *method, const char *target, const void *body, size_t len,
                    const char *body_hash, const char *const *extra)
{
    char hash[65], nonce_hex[33], now_text[24], url[512], line[256];
    if (!body_hash) {
        sha256_hex(body, len, hash);
        body_hash = hash;
    }
    uint8_t nonce[16];
    randombytes_buf(nonce, sizeof nonce);
    bn_hex(nonce, sizeof nonce, nonce_hex, sizeof nonce_hex);
    snprintf(now_text, sizeof now_text, "%lld", (long long)bn_wall_ms());
    char canon[1024];
    int cl = snprintf(canon, sizeof canon, "%s\n%s\n%s\n%s\n%s", method, target, now_text,
                      nonce_hex, body_hash);
    if (cl <= 0 || (size_t)cl >= sizeof canon)
        bn_die("loadgen: request target too long");
    uint8_t sig[SC_SIG_LEN];
    if (sc_sign(bn_env(), d->od.kp, SC_DOMAIN_REQUEST, (const uint8_t *)canon, (size_t)cl, sig) !=
        SC_OK)
        bn_die("loadgen: cannot sign a request");
    char sig_hex[2 * SC_SIG_LEN + 1];
    bn_hex(sig, SC_SIG_LEN, sig_hex, sizeof sig_hex);

    curl_slist_free_all(d->hl);
    d->hl = NULL;
    snprintf(line, sizeof line, "X-Spotcheck-Device: %s", d->key_hex);
    d->hl = curl_slist_append(d->hl, line);
    snprintf(line, sizeof line, "X-Spotcheck-Time: %s", now_text);
    d->hl = curl_slist_append(d->hl, line);
    snprintf(line, sizeof line, "X-Spotcheck-Nonce: %s", nonce_hex);
    d->hl = curl_slist_append(d->hl, line);
    snprintf(line, sizeof line, "X-Spotcheck-Signature: %s", sig_hex);
    d->hl = curl_slist_append(d->hl, line);
    snprintf(line, sizeof line, "X-Spotcheck-Body-Sha256: %s", body_hash);
    d->hl = curl_slist_append(d->hl, line);
    d->hl = curl_slist_append(d->hl, "Expect:");
    for (size_t i = 0; extra && extra[i]; i++)
        d->hl = curl_slist_append(d->hl, extra[i]);

    CURL *h = d->curl;
    snprintf(url, sizeof url, "%s%s", d->base, target);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, d->hl);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 0L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ? NULL : method);
    }
    resp_reset(&d->r);
}

static void device_curl(device *d)
{
    d->curl = curl_easy_init();
    if (!d->curl)
        bn_die("loadgen: curl_easy_init failed");
    curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, &d->r);
    curl_easy_setopt(d->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(d->curl, CURLOPT_HEADERDATA, &d->r);
    curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(d->curl, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(d->curl, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(d->curl, CURLOPT_TCP_NODELAY, 1L);
}

/* Perform what prepare() set up; returns the HTTP status (0 on a transport failure). */
static long perform(device *d)
{
    CURLcode rc = curl_easy_perform(d->curl);
    if (rc != CURLE_OK) {
        bn_note("transfer failed: %s", curl_easy_strerror(rc));
        d->r.status = 0;
        return 0;
    }
    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &d->r.status);
    return d->r.status;
}

static long call(device *d, const char *method, const char *target, const void *body, size_t len,
                 const char *body_hash)
{
    prepare(d, method, target, body, len, body_hash, NULL);
    return perform(d);
}

/* ---- devices: codes, enrollment ---- */

static og_world world;
static bool have_world;

static size_t load_codes(const char *path, device *devs, size_t want)
{
    FILE *f = fopen(path, "r");
    if (!f)
        bn_die("loadgen: cannot read %s", path);
    char line[256];
    size_t n = 0;
    while (n < want && fgets(line, sizeof line, f)) {
        device *d = &devs[n];
        if (sscanf(line, "%15s %63s %39s", d->role, d->login, d->code) == 3)
            n++;
    }
    fclose(f);
    if (n < want)
        bn_die("loadgen: %s has %zu codes, %zu needed", path, n, want);
    return n;
}

static int role_num(const char *role)
{
    if (strcmp(role, "supervisor") == 0)
        return SCPB__ROLE__ROLE_SUPERVISOR;
    if (strcmp(role, "auditor") == 0)
        return SCPB__ROLE__ROLE_AUDITOR;
    if (strcmp(role, "responsible") == 0)
        return SCPB__ROLE__ROLE_RESPONSIBLE;
    return SCPB__ROLE__ROLE_INSPECTOR;
}

/* POST /v1/enroll with a new key; dies unless 200. */
static void enroll(device *d, uint64_t seed)
{
    int role = role_num(d->role);
    og_device_init(&d->od, role, seed);
    d->pull_only = role != SCPB__ROLE__ROLE_INSPECTOR && role != SCPB__ROLE__ROLE_SUPERVISOR;
    const uint8_t *pub = sc_keypair_public(d->od.kp);
    bn_hex(pub, SC_KEY_LEN, d->key_hex, sizeof d->key_hex);
    device_curl(d);
    size_t cl = strlen(d->code);
    uint8_t msg[OG_CODE_MAX + SC_KEY_LEN], proof[SC_SIG_LEN];
    memcpy(msg, d->code, cl);
    memcpy(msg + cl, pub, SC_KEY_LEN);
    if (sc_sign(bn_env(), d->od.kp, SC_DOMAIN_ENROLL, msg, cl + SC_KEY_LEN, proof) != SC_OK)
        bn_die("loadgen: cannot sign an enrollment proof");
    Scpb__EnrollRequest req = SCPB__ENROLL_REQUEST__INIT;
    req.code = d->code;
    req.has_device_key = req.has_proof = true;
    req.device_key = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)pub};
    req.proof = (ProtobufCBinaryData){SC_SIG_LEN, proof};
    req.label = "bench tablet";
    size_t len = scpb__enroll_request__get_packed_size(&req);
    uint8_t *body = malloc(len);
    if (!body)
        bn_die("loadgen: out of memory");
    scpb__enroll_request__pack(&req, body);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/enroll", d->base);
    struct curl_slist *hl = curl_slist_append(NULL, CT_PB);
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(d->curl, CURLOPT_URL, url);
    curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    resp_reset(&d->r);
    long st = perform(d);
    curl_slist_free_all(hl);
    free(body);
    if (st != 200)
        bn_die("loadgen: enrolling %s got HTTP %ld %s", d->login, st, d->r.reason);
}

static device *enroll_all(const opts *o, size_t n)
{
    device *devs = calloc(n, sizeof *devs);
    if (!devs)
        bn_die("loadgen: out of memory");
    load_codes(o->codes, devs, n);
    for (size_t i = 0; i < n; i++)
        devs[i].base = base_urls[i % nurls];
    double t0 = bn_now();
    for (size_t i = 0; i < n; i++)
        enroll(&devs[i], bn_mix64((uint64_t)bn_wall_ms() + i));
    if (n >= 100)
        bn_note("enrolled %zu devices in %.1f s", n, bn_now() - t0);
    return devs;
}

static void device_free(device *d)
{
    for (size_t i = 0; i < d->nops; i++)
        free(d->ops[i].data);
    free(d->ops);
    for (size_t i = 0; i < d->nbodies; i++)
        free(d->bodies[i]);
    free(d->bodies);
    free(d->body_len);
    free(d->body_hash);
    free(d->r.body);
    free(d->req_body);
    curl_slist_free_all(d->hl);
    if (d->curl)
        curl_easy_cleanup(d->curl);
    og_device_dispose(&d->od);
}

/* ---- pre-sealing streams (2 threads) ---- */

typedef struct seal_job {
    device *devs;
    size_t n;
    size_t want;              /* ops per device, rounded up to whole cycles */
    _Atomic size_t next;
} seal_job;

static void push_op(device *d, const sc_op *o)
{
    if (d->nops == d->capops) {
        size_t cap = d->capops ? d->capops * 2 : 256;
        ProtobufCBinaryData *v = realloc(d->ops, cap * sizeof *v);
        if (!v)
            bn_die("loadgen: out of memory");
        d->ops = v;
        d->capops = cap;
    }
    uint8_t *copy = malloc(o->signed_len);
    if (!copy)
        bn_die("loadgen: out of memory");
    memcpy(copy, o->signed_bytes, o->signed_len);
    d->ops[d->nops++] = (ProtobufCBinaryData){o->signed_len, copy};
}

static void *seal_main(void *arg)
{
    seal_job *j = arg;
    for (;;) {
        size_t k = atomic_fetch_add(&j->next, 1);
        if (k >= j->n)
            break;
        device *d = &j->devs[k];
        if (d->pull_only)
            continue;
        while (d->nops < j->want) {
            og_stream s = {0};
            og_cycle(&d->od, &world, &s);
            for (size_t i = 0; i < s.n; i++)
                push_op(d, s.v[i]);
            og_stream_free(&s);
        }
    }
    return NULL;
}

static void seal_all(device *devs, size_t n, size_t want)
{
    if (!have_world)
        bn_die("loadgen: --world is required for this mode");
    seal_job j = {devs, n, want, 0};
    pthread_t th[2];
    double t0 = bn_now();
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, seal_main, &j) != 0)
            bn_die("loadgen: cannot start a thread");
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += devs[i].nops;
    bn_note("sealed %zu ops on %zu devices in %.1f s (untimed)", total, n, bn_now() - t0);
}

/* Encode a SyncRequest; *len gets its size.  malloc'd. */
static uint8_t *sync_body(const ProtobufCBinaryData *ops, size_t n, const uint8_t *cursor,
                          size_t cursor_len, uint64_t known, uint32_t max_pull, size_t *len)
{
    Scpb__SyncRequest req = SCPB__SYNC_REQUEST__INIT;
    req.n_ops = n;
    req.ops = (ProtobufCBinaryData *)ops;
    if (cursor_len) {
        req.has_cursor = true;
        req.cursor = (ProtobufCBinaryData){cursor_len, (uint8_t *)cursor};
    }
    req.has_known_size = true;
    req.known_size = known;
    req.has_max_pull = true;
    req.max_pull = max_pull;
    *len = scpb__sync_request__get_packed_size(&req);
    uint8_t *b = malloc(*len ? *len : 1);
    if (!b)
        bn_die("loadgen: out of memory");
    scpb__sync_request__pack(&req, b);
    return b;
}

/*
 * Judge a /v1/sync answer: counts results by status into acc/dup/rej,
 * takes the cursor and checkpoint size, returns the number of pulled ops
 * (-1 when the body is not a SyncResponse).  *more gets `more`.
 */
static long take_sync(device *d, size_t pushed, uint64_t *acc, uint64_t *rej, bool *more,
                      uint64_t *pulled_bytes)
{
    Scpb__SyncResponse *sr = scpb__sync_response__unpack(NULL, d->r.len, d->r.body);
    if (!sr)
        return -1;
    if (sr->n_results != pushed)
        bn_die("loadgen: %zu ops pushed, %zu results", pushed, sr->n_results);
    for (size_t i = 0; i < sr->n_results; i++) {
        const Scpb__OpResult *r = sr->results[i];
        if (r->status == SCPB__OP_STATUS__OP_ACCEPTED)
            (*acc)++;
        else {
            if (*rej == 0)
                bn_note("op not accepted: status %d reason %d: %s", (int)r->status,
                        (int)r->reason, r->message ? r->message : "");
            (*rej)++;
        }
    }
    if (sr->has_cursor && sr->cursor.len <= sizeof d->cursor) {
        memcpy(d->cursor, sr->cursor.data, sr->cursor.len);
        d->cursor_len = sr->cursor.len;
    }
    if (sr->checkpoint && sr->checkpoint->has_size)
        d->known = sr->checkpoint->size;
    if (more)
        *more = sr->has_more && sr->more;
    if (pulled_bytes)
        for (size_t i = 0; i < sr->n_ops; i++)
            *pulled_bytes += sr->ops[i]->signed_op.len;
    long n = (long)sr->n_ops;
    scpb__sync_response__free_unpacked(sr, NULL);
    return n;
}

/* ---- ingest ---- */

typedef struct ingest_thread {
    device *d;
    pthread_barrier_t *barrier;
    double deadline_s;
    uint64_t accepted, rejected, requests;
    double t_end;
    double *lat;
    size_t nlat;
} ingest_thread;

static double ingest_t0;

static void *ingest_main(void *arg)
{
    ingest_thread *t = arg;
    device *d = t->d;
    pthread_barrier_wait(t->barrier);
    for (size_t i = 0; i < d->nbodies; i++) {
        double s = bn_now();
        if (s - ingest_t0 > t->deadline_s)
            break;
        long st = call(d, "POST", "/v1/sync", d->bodies[i], d->body_len[i], d->body_hash[i]);
        if (st != 200)
            bn_die("loadgen: ingest request got HTTP %ld %s", st, d->r.reason);
        t->lat[t->nlat++] = bn_now() - s;
        t->requests++;
        uint64_t acc = 0, rej = 0;
        Scpb__SyncResponse *sr = scpb__sync_response__unpack(NULL, d->r.len, d->r.body);
        if (!sr)
            bn_die("loadgen: the answer is not a SyncResponse");
        for (size_t k = 0; k < sr->n_results; k++) {
            if (sr->results[k]->status == SCPB__OP_STATUS__OP_ACCEPTED)
                acc++;
            else {
                if (t->rejected + rej == 0)
                    bn_note("op not accepted: status %d reason %d: %s",
                            (int)sr->results[k]->status, (int)sr->results[k]->reason,
                            sr->results[k]->message ? sr->results[k]->message : "");
                rej++;
            }
        }
        scpb__sync_response__free_unpacked(sr, NULL);
        t->accepted += acc;
        t->rejected += rej;
    }
    t->t_end = bn_now();
    return NULL;
}

static int mode_ingest(const opts *o)
{
    size_t n = (size_t)o->devices, batch = (size_t)o->batch;
    device *devs = enroll_all(o, n);
    /* Enough whole batches per device for the op budget, at least 4 each. */
    size_t per = ((size_t)o->total / n + batch - 1) / batch;
    if (per < 4)
        per = 4;
    seal_all(devs, n, per * batch);
    for (size_t i = 0; i < n; i++) {
        device *d = &devs[i];
        d->nbodies = d->nops / batch;
        d->bodies = calloc(d->nbodies, sizeof *d->bodies);
        d->body_len = calloc(d->nbodies, sizeof *d->body_len);
        d->body_hash = calloc(d->nbodies, sizeof *d->body_hash);
        if (!d->bodies || !d->body_len || !d->body_hash)
            bn_die("loadgen: out of memory");
        /* Pre-encoded: no cursor, known_size 0, max_pull 1: the pull is measured on its own. */
        for (size_t b = 0; b < d->nbodies; b++) {
            d->bodies[b] = sync_body(&d->ops[b * batch], batch, NULL, 0, 0, 1, &d->body_len[b]);
            sha256_hex(d->bodies[b], d->body_len[b], d->body_hash[b]);
        }
    }
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
    ingest_thread *th = calloc(n, sizeof *th);
    pthread_t *tid = calloc(n, sizeof *tid);
    if (!th || !tid)
        bn_die("loadgen: out of memory");
    for (size_t i = 0; i < n; i++) {
        th[i] = (ingest_thread){&devs[i], &barrier, o->seconds, 0, 0, 0, 0, NULL, 0};
        th[i].lat = calloc(devs[i].nbodies + 1, sizeof *th[i].lat);
        if (!th[i].lat || pthread_create(&tid[i], NULL, ingest_main, &th[i]) != 0)
            bn_die("loadgen: cannot start a device thread");
    }
    ingest_t0 = bn_now();
    pthread_barrier_wait(&barrier);
    uint64_t acc = 0, rej = 0, reqs = 0;
    double t_end = ingest_t0;
    size_t nlat = 0;
    for (size_t i = 0; i < n; i++) {
        pthread_join(tid[i], NULL);
        acc += th[i].accepted;
        rej += th[i].rejected;
        reqs += th[i].requests;
        nlat += th[i].nlat;
        if (th[i].t_end > t_end)
            t_end = th[i].t_end;
    }
    double *lat = calloc(nlat + 1, sizeof *lat);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < th[i].nlat; j++)
            lat[k++] = th[i].lat[j];
    double el = t_end - ingest_t0;
    char key[96], desc[256];
    snprintf(key, sizeof key, "ingest_b%zu_d%zu", batch, n);
    snprintf(desc, sizeof desc,
             "signed ops accepted end to end, %zu device(s) x 1 connection, %zu ops per "
             "/v1/sync, %llu requests in %.1f s",
             n, batch, (unsigned long long)reqs, el);
    bn_emit(key, (double)acc / el, "ops/s", desc);
    snprintf(key, sizeof key, "ingest_b%zu_d%zu_p99", batch, n);
    bn_emit(key, bn_percentile(lat, k, 99) * 1e3, "ms", "p99 latency of those /v1/sync requests");
    if (rej)
        bn_emit("ingest_rejected", (double)rej, "ops", "ops not accepted (must be 0)");
    pthread_barrier_destroy(&barrier);
    for (size_t i = 0; i < n; i++) {
        free(th[i].lat);
        device_free(&devs[i]);
    }
    free(lat);
    free(th);
    free(tid);
    free(devs);
    return rej ? 1 : 0;
}

/* ---- pull and no-op ---- */

static int mode_pull(const opts *o)
{
    device *devs = enroll_all(o, 1);
    device *d = &devs[0];
    uint64_t pulled = 0, bytes = 0, reqs = 0, acc = 0, rej = 0;
    bool more = true;
    double t0 = bn_now();
    size_t len = 0;
    while (more) {
        uint8_t *body = sync_body(NULL, 0, d->cursor, d->cursor_len, d->known,
                                  (uint32_t)o->max_pull, &len);
        long st = call(d, "POST", "/v1/sync", body, len, NULL);
        free(body);
        if (st != 200)
            bn_die("loadgen: pull got HTTP %ld %s", st, d->r.reason);
        long got = take_sync(d, 0, &acc, &rej, &more, &bytes);
        if (got < 0)
            bn_die("loadgen: the answer is not a SyncResponse");
        pulled += (uint64_t)got;
        reqs++;
        if (bn_now() - t0 > o->seconds)
            bn_die("loadgen: the pull did not finish in %.0f s", o->seconds);
    }
    double el = bn_now() - t0;
    char desc[256];
    snprintf(desc, sizeof desc,
             "wire/delivery rate: an auditor pages through the whole log (%llu ops, %llu "
             "requests of max_pull %lld, cursor and known_size as a client sends them; "
             "responses decoded, not verified), %.1f s",
             (unsigned long long)pulled, (unsigned long long)reqs, o->max_pull, el);
    bn_emit("pull_wire", (double)pulled / el, "ops/s", desc);
    bn_emit("pull_wire_mb", (double)bytes / el / 1e6, "MB/s", "signed op bytes delivered per second");
    bn_emit("pull_ops", (double)pulled, "ops", "ops in the register that the auditor pulled");

    /* No-op syncs at the head of the log: nothing to push, nothing new. */
    if (o->noop > 0) {
        double *lat = calloc((size_t)o->noop, sizeof *lat);
        uint64_t rounds = 0, extra = 0;
        for (long long i = 0; i < o->noop; i++) {
            double s = bn_now();
            uint8_t *body = sync_body(NULL, 0, d->cursor, d->cursor_len, d->known,
                                      (uint32_t)o->max_pull, &len);
            long st = call(d, "POST", "/v1/sync", body, len, NULL);
            free(body);
            if (st != 200)
                bn_die("loadgen: no-op sync got HTTP %ld", st);
            long got = take_sync(d, 0, &acc, &rej, &more, NULL);
            lat[i] = bn_now() - s;
            rounds++;
            if (more || got != 0)
                extra++;
        }
        char key[64];
        snprintf(key, sizeof key, "noop_p50");
        bn_emit(key, bn_percentile(lat, (size_t)o->noop, 50) * 1e3, "ms",
                "no-op /v1/sync at the head of the log (signed request, empty push, pull "
                "with the last cursor), p50");
        bn_emit("noop_p99", bn_percentile(lat, (size_t)o->noop, 99) * 1e3, "ms", "the same, p99");
        bn_emit("noop_round_trips", (double)rounds / (double)o->noop, "round trips",
                "requests per no-op sync (the answer says more=false and brings nothing)");
        if (extra)
            bn_emit("noop_not_empty", (double)extra, "syncs", "no-op syncs that brought ops (must be 0)");
        free(lat);
    }
    device_free(d);
    free(devs);
    return 0;
}

/* ---- photos ---- */

typedef struct photo {
    uint8_t *bytes;
    uint64_t size;
    char name[65];
} photo;

static void photo_make(photo *p, uint64_t size, uint64_t seed)
{
    p->size = size;
    p->bytes = malloc(size);
    if (!p->bytes)
        bn_die("loadgen: out of memory for a photo");
    for (uint64_t i = 0; i + 8 <= size; i += 8) {
        uint64_t v = bn_mix64(seed * 0x100000001ull + i);
        memcpy(p->bytes + i, &v, 8);
    }
    for (uint64_t i = size & ~7ull; i < size; i++)
        p->bytes[i] = (uint8_t)i;
    p->bytes[0] = 0xff; /* JPEG magic, for the look of it */
    p->bytes[1] = 0xd8;
    sha256_hex(p->bytes, size, p->name);
}

#define UPLOAD_BUSY UINT64_MAX

/*
 * Upload one photo from its server offset in chunks; returns the bytes
 * sent, or UPLOAD_BUSY when may_wait and the server answers 409 because an
 * earlier upload of the same blob still holds it.
 */
static uint64_t upload_ex(device *d, const photo *p, uint64_t chunk, bool may_wait)
{
    char target[128], range[128];
    snprintf(target, sizeof target, "/v1/blobs/%s", p->name);
    long st = call(d, "HEAD", target, NULL, 0, NULL);
    if (st == 200)
        return 0;
    if (st != 404)
        bn_die("loadgen: HEAD got %ld", st);
    uint64_t off = d->r.offset > 0 ? (uint64_t)d->r.offset : 0, sent = 0;
    while (off < p->size) {
        uint64_t n = p->size - off < chunk ? p->size - off : chunk;
        snprintf(range, sizeof range, "Content-Range: bytes %llu-%llu/%llu",
                 (unsigned long long)off, (unsigned long long)(off + n - 1),
                 (unsigned long long)p->size);
        const char *extra[] = {range, "Content-Type: application/octet-stream", NULL};
        prepare(d, "PUT", target, p->bytes + off, n, NULL, extra);
        st = perform(d);
        sent += n;
        if (st == 201 || st == 200)
            return sent;
        if (st == 409 && may_wait)
            return UPLOAD_BUSY;
        if (st != 202)
            bn_die("loadgen: PUT chunk at %llu got %ld %s", (unsigned long long)off, st,
                   d->r.reason);
        off = d->r.offset >= 0 ? (uint64_t)d->r.offset : off + n;
    }
    bn_die("loadgen: upload ended without 201");
}

static uint64_t upload(device *d, const photo *p, uint64_t chunk)
{
    return upload_ex(d, p, chunk, false);
}

typedef struct up_thread {
    device *d;
    photo *photos;
    size_t n;
    uint64_t chunk;
    uint64_t bytes;
} up_thread;

static void *upload_main(void *arg)
{
    up_thread *t = arg;
    for (size_t i = 0; i < t->n; i++)
        t->bytes += upload(t->d, &t->photos[i], t->chunk);
    return NULL;
}

static int mode_photos(const opts *o)
{
    size_t conns = (size_t)o->conns, count = (size_t)o->count;
    device *devs = enroll_all(o, conns);
    photo *ph = calloc(count, sizeof *ph);
    if (!ph)
        bn_die("loadgen: out of memory");
    uint64_t seed = (uint64_t)bn_wall_ms();
    for (size_t i = 0; i < count; i++)
        photo_make(&ph[i], o->size, seed + i);
    up_thread *th = calloc(conns, sizeof *th);
    pthread_t *tid = calloc(conns, sizeof *tid);
    double t0 = bn_now();
    for (size_t c = 0; c < conns; c++) {
        size_t from = count * c / conns, to = count * (c + 1) / conns;
        th[c] = (up_thread){&devs[c], &ph[from], to - from, o->chunk, 0};
        if (pthread_create(&tid[c], NULL, upload_main, &th[c]) != 0)
            bn_die("loadgen: cannot start a thread");
    }
    uint64_t bytes = 0;
    for (size_t c = 0; c < conns; c++) {
        pthread_join(tid[c], NULL);
        bytes += th[c].bytes;
    }
    double el = bn_now() - t0;
    char key[64], desc[256];
    snprintf(key, sizeof key, "photos_c%zu_chunk%llu", conns,
             (unsigned long long)(o->chunk >> 10));
    snprintf(desc, sizeof desc,
             "%zu photos of %.1f MB uploaded (HEAD + signed PUT chunks of %llu KiB, "
             "server hashes and fsyncs), %zu connection(s), %.1f s",
             count, (double)o->size / 1e6, (unsigned long long)(o->chunk >> 10), conns, el);
    bn_emit(key, (double)bytes / el / 1e6, "MB/s", desc);
    for (size_t i = 0; i < count; i++)
        free(ph[i].bytes);
    for (size_t c = 0; c < conns; c++)
        device_free(&devs[c]);
    free(ph);
    free(th);
    free(tid);
    free(devs);
    return 0;
}

/* Read callback that gives the chunk's bytes and aborts after `cut` of them. */
typedef struct cut_src {
    const uint8_t *p;
    uint64_t len, pos, cut;
} cut_src;

static size_t cut_read(char *buf, size_t size, size_t n, void *ud)
{
    cut_src *s = ud;
    if (s->pos >= s->cut)
        return CURL_READFUNC_ABORT;
    size_t want = size * n;
    uint64_t left = (s->cut < s->len ? s->cut : s->len) - s->pos;
    if (want > left)
        want = (size_t)left;
    memcpy(buf, s->p + s->pos, want);
    s->pos += want;
    return want;
}

static int mode_resume(const opts *o)
{
    device *devs = enroll_all(o, 1);
    device *d = &devs[0];
    photo p;
    photo_make(&p, o->size, (uint64_t)bn_wall_ms());
    char target[128], range[128];
    snprintf(target, sizeof target, "/v1/blobs/%s", p.name);
    uint64_t cut = p.size / 2, off = 0, sent = 0;
    /* Send chunks until the one that holds the 50% mark, and cut that one there. */
    while (off < cut) {
        uint64_t n = p.size - off < o->chunk ? p.size - off : o->chunk;
        snprintf(range, sizeof range, "Content-Range: bytes %llu-%llu/%llu",
                 (unsigned long long)off, (unsigned long long)(off + n - 1),
                 (unsigned long long)p.size);
        const char *extra[] = {range, "Content-Type: application/octet-stream", NULL};
        prepare(d, "PUT", target, p.bytes + off, n, NULL, extra);
        if (off + n <= cut) {
            long st = perform(d);
            if (st != 202)
                bn_die("loadgen: PUT chunk got %ld", st);
            sent += n;
            off += n;
            continue;
        }
        cut_src src = {p.bytes + off, n, 0, cut - off};
        curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(d->curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(d->curl, CURLOPT_READFUNCTION, cut_read);
        curl_easy_setopt(d->curl, CURLOPT_READDATA, &src);
        curl_easy_setopt(d->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)n);
        curl_easy_setopt(d->curl, CURLOPT_CUSTOMREQUEST, NULL);
        CURLcode rc = curl_easy_perform(d->curl);
        if (rc == CURLE_OK)
            bn_die("loadgen: the cut chunk was not cut");
        sent += src.pos;
        curl_easy_setopt(d->curl, CURLOPT_UPLOAD, 0L);
        curl_easy_setopt(d->curl, CURLOPT_READFUNCTION, NULL);
        break;
    }
    /* The connection is gone: a new one, as a tablet that lost its network would make. */
    curl_easy_cleanup(d->curl);
    device_curl(d);
    /*
     * Resume as the client library does: HEAD, then chunks from its offset.
     * Until syncd has noticed the dead connection, the cut chunk's upload
     * still holds the blob and a new chunk is answered 409; a tablet backs
     * off and retries, so this does too, and reports how long that took.
     */
    double t_cut = bn_now(), wait = 0.05;
    uint64_t more = UPLOAD_BUSY, resumed_at = 0;
    while (more == UPLOAD_BUSY) {
        long st = call(d, "HEAD", target, NULL, 0, NULL);
        if (st != 404 || d->r.offset < 0)
            bn_die("loadgen: HEAD after the cut got %ld offset %lld", st, (long long)d->r.offset);
        resumed_at = (uint64_t)d->r.offset;
        more = upload_ex(d, &p, o->chunk, true);
        if (more == UPLOAD_BUSY) {
            if (bn_now() - t_cut > o->seconds)
                bn_die("loadgen: the cut upload did not become resumable in %.0f s", o->seconds);
            bn_sleep(wait);
            wait = wait * 2 > 2 ? 2 : wait * 2;
        }
    }
    double resumable = bn_now() - t_cut;
    uint64_t resent = sent + more - p.size;
    char key[64], desc[256];
    snprintf(key, sizeof key, "resume_resent_chunk%llu", (unsigned long long)(o->chunk >> 10));
    snprintf(desc, sizeof desc,
             "%.1f MB upload in %llu KiB chunks cut at 50%% (%llu B sent), resumed from HEAD's "
             "offset %llu: bytes sent twice",
             (double)p.size / 1e6, (unsigned long long)(o->chunk >> 10),
             (unsigned long long)sent, (unsigned long long)resumed_at);
    bn_emit(key, (double)resent, "B", desc);
    bn_emit("resume_wait_s", resumable, "s",
            "time from the cut until the server accepted the resumed chunk (409 while it still "
            "held the cut chunk's upload)");
    free(p.bytes);
    device_free(d);
    free(devs);
    return 0;
}

/* ---- many transfers at once over curl multi ---- */

static uint64_t peak_kib;

static void sample_rss(pid_t pid)
{
    uint64_t hwm = 0, rss = 0;
    if (pid && bn_rss_kib(pid, &hwm, &rss)) {
        if (hwm > peak_kib)
            peak_kib = hwm;
        if (rss > peak_kib)
            peak_kib = rss;
    }
}

/* Upload state per device in blobmem: which photo, which offset. */
typedef struct up_state {
    photo p;
    uint64_t off;
    int phase;      /* 0 HEAD, 1 PUT */
    bool done;
    char target[128];
    char range[128];
} up_state;

static void up_next(device *d, up_state *u, uint64_t chunk)
{
    if (u->phase == 0) {
        prepare(d, "HEAD", u->target, NULL, 0, NULL, NULL);
        return;
    }
    uint64_t n = u->p.size - u->off < chunk ? u->p.size - u->off : chunk;
    snprintf(u->range, sizeof u->range, "Content-Range: bytes %llu-%llu/%llu",
             (unsigned long long)u->off, (unsigned long long)(u->off + n - 1),
             (unsigned long long)u->p.size);
    const char *extra[] = {u->range, "Content-Type: application/octet-stream", NULL};
    prepare(d, "PUT", u->target, u->p.bytes + u->off, n, NULL, extra);
}

static int mode_blobmem(const opts *o)
{
    size_t n = (size_t)o->count;
    device *devs = enroll_all(o, n);
    up_state *u = calloc(n, sizeof *u);
    if (!u)
        bn_die("loadgen: out of memory");
    uint64_t seed = (uint64_t)bn_wall_ms();
    for (size_t i = 0; i < n; i++) {
        photo_make(&u[i].p, o->size, seed + i);
        snprintf(u[i].target, sizeof u[i].target, "/v1/blobs/%s", u[i].p.name);
    }
    CURLM *m = curl_multi_init();
    sample_rss((pid_t)o->pid);
    uint64_t base_kib = peak_kib;
    if (o->pid)
        bn_hwm_reset((pid_t)o->pid);
    peak_kib = 0;
    double t0 = bn_now();
    for (size_t i = 0; i < n; i++) {
        up_next(&devs[i], &u[i], o->chunk);
        curl_easy_setopt(devs[i].curl, CURLOPT_PRIVATE, (void *)&devs[i]);
        curl_multi_add_handle(m, devs[i].curl);
    }
    size_t left = n;
    uint64_t bytes = 0;
    while (left > 0) {
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int q;
        while ((msg = curl_multi_info_read(m, &q))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            device *d = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
            size_t i = (size_t)(d - devs);
            if (msg->data.result != CURLE_OK)
                bn_die("loadgen: upload transfer failed: %s", curl_easy_strerror(msg->data.result));
            curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &d->r.status);
            curl_multi_remove_handle(m, d->curl);
            up_state *s = &u[i];
            if (s->phase == 0) {
                if (d->r.status != 404)
                    bn_die("loadgen: HEAD got %ld", d->r.status);
                s->off = d->r.offset > 0 ? (uint64_t)d->r.offset : 0;
                s->phase = 1;
            } else if (d->r.status == 202) {
                uint64_t nb = s->p.size - s->off < o->chunk ? s->p.size - s->off : o->chunk;
                bytes += nb;
                s->off = d->r.offset >= 0 ? (uint64_t)d->r.offset : s->off + nb;
            } else if (d->r.status == 201) {
                bytes += s->p.size - s->off;
                s->done = true;
                left--;
                continue;
            } else {
                bn_die("loadgen: PUT got %ld %s", d->r.status, d->r.reason);
            }
            up_next(d, s, o->chunk);
            curl_multi_add_handle(m, d->curl);
        }
        sample_rss((pid_t)o->pid);
        if (left > 0)
            curl_multi_poll(m, NULL, 0, 20, NULL);
    }
    double el = bn_now() - t0;
    sample_rss((pid_t)o->pid);
    char key[64], desc[256];
    snprintf(key, sizeof key, "rss_photos%zu_%llumb", n, (unsigned long long)(o->size / 1000000));
    snprintf(desc, sizeof desc,
             "syncd peak RSS (VmHWM, reset before) while %zu photos of %.1f MB upload at once "
             "in %llu KiB chunks (%.0f MB/s overall; RSS before: %.1f MiB)",
             n, (double)o->size / 1e6, (unsigned long long)(o->chunk >> 10),
             (double)bytes / el / 1e6, (double)base_kib / 1024.0);
    if (o->pid)
        bn_emit(key, (double)peak_kib / 1024.0, "MiB", desc);
    curl_multi_cleanup(m);
    for (size_t i = 0; i < n; i++) {
        free(u[i].p.bytes);
        device_free(&devs[i]);
    }
    free(u);
    free(devs);
    return 0;
}

/* The next sync request of a device: its next chunk of ops (pushers) and its cursor. */
static void sync_next(device *d, size_t push, uint32_t max_pull)
{
    size_t n = 0;
    if (!d->pull_only && d->caught_up) {
        n = d->nops - d->sent < push ? d->nops - d->sent : push;
    }
    free(d->req_body);
    d->req_body = sync_body(n ? d->ops + d->sent : NULL, n, d->cursor, d->cursor_len, d->known,
                            max_pull, &d->req_len);
    d->req_ops = n;
    prepare(d, "POST", "/v1/sync", d->req_body, d->req_len, NULL, NULL);
}

/* ---- 1,000 devices at once ---- */

static int mode_devices(const opts *o)
{
    size_t n = (size_t)o->devices;
    device *devs = enroll_all(o, n);
    /* Two cycles each: the steady part pushes one cycle per sync. */
    seal_all(devs, n, 2 * og_cycle_len(SCPB__ROLE__ROLE_SUPERVISOR));
    CURLM *m = curl_multi_init();
    double *lat = calloc(1 << 20, sizeof *lat);
    size_t nlat = 0;
    uint64_t syncs = 0, acc = 0, rej = 0, pulled = 0;
    sample_rss((pid_t)o->pid);
    uint64_t base_kib = peak_kib;
    if (o->pid)
        bn_hwm_reset((pid_t)o->pid);
    peak_kib = 0;
    double t0 = bn_now(), deadline = t0 + o->seconds;
    for (size_t i = 0; i < n; i++) {
        devs[i].caught_up = true;
        sync_next(&devs[i], og_cycle_len(devs[i].od.role), (uint32_t)o->max_pull);
        devs[i].t_sent = bn_now();
        curl_easy_setopt(devs[i].curl, CURLOPT_PRIVATE, (void *)&devs[i]);
        curl_multi_add_handle(m, devs[i].curl);
    }
    size_t active = n;
    while (active > 0) {
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int q;
        while ((msg = curl_multi_info_read(m, &q))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            device *d = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
            if (msg->data.result != CURLE_OK)
                bn_die("loadgen: sync transfer failed: %s", curl_easy_strerror(msg->data.result));
            curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &d->r.status);
            curl_multi_remove_handle(m, d->curl);
            if (d->r.status != 200)
                bn_die("loadgen: sync got HTTP %ld %s", d->r.status, d->r.reason);
            double now = bn_now();
            if (nlat < (1 << 20))
                lat[nlat++] = now - d->t_sent;
            bool more = false;
            long got = take_sync(d, d->req_ops, &acc, &rej, &more, NULL);
            if (got < 0)
                bn_die("loadgen: the answer is not a SyncResponse");
            pulled += (uint64_t)got;
            d->sent += d->req_ops;
            syncs++;
            if (now >= deadline) {
                active--;
                continue;
            }
            /* Keep pulling while the server has more; otherwise push the next cycle (wrapping). */
            if (d->sent >= d->nops)
                d->sent = d->nops; /* nothing left: pull-only from here */
            sync_next(d, more ? 0 : og_cycle_len(d->od.role), (uint32_t)o->max_pull);
            d->t_sent = now;
            curl_multi_add_handle(m, d->curl);
        }
        sample_rss((pid_t)o->pid);
        if (active > 0)
            curl_multi_poll(m, NULL, 0, 20, NULL);
    }
    double el = bn_now() - t0;
    sample_rss((pid_t)o->pid);
    char key[64], desc[320];
    snprintf(key, sizeof key, "rss_devices%zu", n);
    snprintf(desc, sizeof desc,
             "syncd peak RSS (VmHWM, reset before) with %zu devices syncing at once, one "
             "connection each (push a cycle, pull up to %lld with the cursor): %llu syncs in "
             "%.1f s, %llu ops pushed, %llu pulled; RSS before %.1f MiB",
             n, o->max_pull, (unsigned long long)syncs, el, (unsigned long long)acc,
             (unsigned long long)pulled, (double)base_kib / 1024.0);
    if (o->pid)
        bn_emit(key, (double)peak_kib / 1024.0, "MiB", desc);
    snprintf(key, sizeof key, "devices%zu_sync_p99", n);
    bn_emit(key, bn_percentile(lat, nlat, 99) * 1e3, "ms",
            "p99 /v1/sync latency during that run");
    if (rej)
        bn_emit("devices_rejected", (double)rej, "ops", "ops not accepted (must be 0)");
    curl_multi_cleanup(m);
    for (size_t i = 0; i < n; i++)
        device_free(&devs[i]);
    free(devs);
    free(lat);
    return rej ? 1 : 0;
}

/* ---- steady mixed load ---- */

typedef struct lat_thread {
    device *d;
    const opts *o;
    double t0, phase;
    double *lat;
    size_t nlat, cap;
    uint64_t acc, rej, pulled, pushed_syncs, pull_syncs;
} lat_thread;

static void *latency_main(void *arg)
{
    lat_thread *t = arg;
    device *d = t->d;
    const opts *o = t->o;
    /* Catch up first (untimed): pull until the server has no more. */
    bool more = true;
    while (more) {
        sync_next(d, 0, (uint32_t)o->max_pull);
        if (perform(d) != 200)
            bn_die("loadgen: catch-up sync got HTTP %ld", d->r.status);
        if (take_sync(d, 0, &t->acc, &t->rej, &more, NULL) < 0)
            bn_die("loadgen: the answer is not a SyncResponse");
    }
    d->caught_up = true;
    /* Pushers send a cycle in three syncs, as a tablet that syncs while recording does. */
    size_t piece = og_cycle_len(d->od.role) / 3 + 1;
    double next = t->t0 + t->phase, end = t->t0 + o->seconds;
    while (next < end) {
        double now = bn_now();
        if (now < next)
            bn_sleep(next - now);
        sync_next(d, d->pull_only ? 0 : piece, (uint32_t)o->max_pull);
        long st = perform(d);
        double done = bn_now();
        if (st != 200)
            bn_die("loadgen: sync got HTTP %ld %s", st, d->r.reason);
        long got = take_sync(d, d->req_ops, &t->acc, &t->rej, &more, NULL);
        if (got < 0)
            bn_die("loadgen: the answer is not a SyncResponse");
        t->pulled += (uint64_t)got;
        d->sent += d->req_ops;
        if (d->req_ops)
            t->pushed_syncs++;
        else
            t->pull_syncs++;
        if (t->nlat < t->cap)
            t->lat[t->nlat++] = done - next; /* from the scheduled time: queueing counts */
        next += o->interval;
        if (next < done - o->interval)
            next = done; /* fell behind: do not burst to catch up */
    }
    return NULL;
}

static int mode_latency(const opts *o)
{
    size_t n = (size_t)o->devices;
    device *devs = enroll_all(o, n);
    size_t syncs_each = (size_t)(o->seconds / o->interval) + 2;
    size_t cycles = syncs_each / 3 + 2;
    seal_all(devs, n, cycles * og_cycle_len(SCPB__ROLE__ROLE_SUPERVISOR));
    lat_thread *th = calloc(n, sizeof *th);
    pthread_t *tid = calloc(n, sizeof *tid);
    if (!th || !tid)
        bn_die("loadgen: out of memory");
    double t0 = bn_now() + 2.0; /* room for the catch-up */
    for (size_t i = 0; i < n; i++) {
        th[i] = (lat_thread){&devs[i], o, t0, o->interval * (double)i / (double)n, NULL, 0,
                             syncs_each + 4, 0, 0, 0, 0, 0};
        th[i].lat = calloc(th[i].cap, sizeof *th[i].lat);
        if (!th[i].lat || pthread_create(&tid[i], NULL, latency_main, &th[i]) != 0)
            bn_die("loadgen: cannot start a device thread");
    }
    size_t total = 0;
    uint64_t acc = 0, rej = 0, pulled = 0, ps = 0, pl = 0;
    for (size_t i = 0; i < n; i++) {
        pthread_join(tid[i], NULL);
        total += th[i].nlat;
        acc += th[i].acc;
        rej += th[i].rej;
        pulled += th[i].pulled;
        ps += th[i].pushed_syncs;
        pl += th[i].pull_syncs;
    }
    double *lat = calloc(total + 1, sizeof *lat);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < th[i].nlat; j++)
            lat[k++] = th[i].lat[j];
    char desc[400];
    size_t npush = 0;
    for (size_t i = 0; i < n; i++)
        npush += !devs[i].pull_only;
    snprintf(desc, sizeof desc,
             "/v1/sync latency from the scheduled send, %zu devices (%zu recording: a cycle in 3 "
             "syncs; %zu pull-only auditors/responsible), one sync per device every %.0f ms: "
             "%zu syncs in %.0f s (%.0f/s), %llu ops pushed, %llu pulled",
             n, npush, n - npush, o->interval * 1e3, k, o->seconds, (double)k / o->seconds,
             (unsigned long long)acc, (unsigned long long)pulled);
    bn_emit("latency_p50", bn_percentile(lat, k, 50) * 1e3, "ms", desc);
    bn_emit("latency_p99", bn_percentile(lat, k, 99) * 1e3, "ms", "the same, p99");
    bn_emit("latency_rate", (double)k / o->seconds, "syncs/s", "syncs completed per second");
    (void)ps;
    (void)pl;
    if (rej)
        bn_emit("latency_rejected", (double)rej, "ops", "ops not accepted (must be 0)");
    for (size_t i = 0; i < n; i++) {
        free(th[i].lat);
        device_free(&devs[i]);
    }
    free(lat);
    free(th);
    free(tid);
    free(devs);
    return rej ? 1 : 0;
}

int main(int argc, char **argv)
{
    opts o;
    parse_opts(argc, argv, &o);
    if (sc_crypto_init() != SC_OK)
        bn_die("libsodium failed to initialise");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        bn_die("curl_global_init failed");
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    urls_set(o.url);
    if (o.world) {
        if (!og_world_load(o.world, &world))
            return 1;
        have_world = true;
    }
    if (!o.codes)
        bn_die("loadgen: --codes is required");
    int rc;
    if (strcmp(o.mode, "ingest") == 0)
        rc = mode_ingest(&o);
    else if (strcmp(o.mode, "pull") == 0)
        rc = mode_pull(&o);
    else if (strcmp(o.mode, "photos") == 0)
        rc = mode_photos(&o);
    else if (strcmp(o.mode, "resume") == 0)
        rc = mode_resume(&o);
    else if (strcmp(o.mode, "blobmem") == 0)
        rc = mode_blobmem(&o);
    else if (strcmp(o.mode, "devices") == 0)
        rc = mode_devices(&o);
    else if (strcmp(o.mode, "latency") == 0)
        rc = mode_latency(&o);
    else
        bn_die("loadgen: unknown mode %s", o.mode);
    curl_global_cleanup();
    return rc;
}
