/*
 * register.c: the central register (register.h): judging pushed ops in the
 * order of docs/protocol.md §5, logging the accepted ones with their
 * derived rows, Merkle nodes and a signed checkpoint in one transaction,
 * and answering pulls, proofs and enrollment.
 *
 * Invariants:
 *  - Nothing is written for an op until every check passed; a batch's ops
 *    are judged in order against the database as this transaction left it,
 *    so an op may depend on one accepted just before it, and an op whose
 *    dependency was refused is refused too (its dep is not logged).
 *  - One ingest call is one transaction: on any storage failure all of it
 *    rolls back and every op that would have been accepted is reported
 *    REASON_STORAGE.  The in-memory Merkle frontier is replaced only after
 *    a commit succeeded.
 *  - Memory kept across transactions is validated against the database
 *    before use: the frontier by the log size (the log only grows, and only
 *    under the write lock), the org tree by data_version.  Per-transaction
 *    caches (decoded ops and states of the entities touched) die with the
 *    transaction.  So `syncd admin` may write while `syncd serve` runs.
 *  - Writes go through one writer connection under a mutex; reads come from
 *    a small pool of connections, each used by one thread at a time.
 */
#include "register.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/checkpoint.h"
#include "core/hlc.h"
#include "core/ids.h"
#include "core/merge.h"
#include "core/merkle.h"
#include "core/names.h"
#include "core/policy.h"
#include "keyfile.h"
#include "store.h"
#include "tlog.h"
#include "visibility.h"

#define R_(x) SCPB__REASON__REASON_##x
#define T_(x) SCPB__ENTITY_TYPE__ENTITY_##x
#define K_(x) SCPB__OP__BODY_##x

/* Read connections kept open; a pull or proof waits when all are busy. */
#define POOL_MAX 16
/* Decoded ops one transaction keeps cached before it starts over. */
#define CACHE_OPS_MAX 200000
/* Log rows one pull examines before it answers with `more` (bounds a request's work). */
#define PULL_SCAN_MAX 200000
/* A cursor is two varints; anything longer is not one of ours. */
#define CURSOR_MAX 32

/* ---- the system environment ---- */

static int64_t sys_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sys_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    randombytes_buf(buf, len);
}

static const sc_env sys_env = {NULL, NULL, NULL, sys_now, sys_random, NULL};

const sc_env *sd_env_system(void)
{
    return &sys_env;
}

/* ---- a small map from 16-byte ids to pointers ---- */

typedef struct idmap {
    uint8_t (*key)[SC_ID_LEN];
    void **val; /* NULL: free slot */
    size_t cap, n;
} idmap;

static size_t id_hash(const uint8_t id[SC_ID_LEN])
{
    uint64_t a, b;
    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full);
    return (size_t)(h ^ (h >> 31));
}

static void **idmap_find(const idmap *m, const uint8_t id[SC_ID_LEN])
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = id_hash(id) & mask;; i = (i + 1) & mask) {
        if (!m->val[i])
            return NULL;
        if (memcmp(m->key[i], id, SC_ID_LEN) == 0)
            return &m->val[i];
    }
}

static bool idmap_put(idmap *m, const uint8_t id[SC_ID_LEN], void *v)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        uint8_t(*key)[SC_ID_LEN] = calloc(cap, sizeof *key);
        void **val = calloc(cap, sizeof *val);
        if (!key || !val) {
            free(key);
            free(val);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->val[i])
                continue;
            size_t j = id_hash(m->key[i]) & (cap - 1);
            while (val[j])
                j = (j + 1) & (cap - 1);
            memcpy(key[j], m->key[i], SC_ID_LEN);
            val[j] = m->val[i];
        }
        free(m->key);
        free(m->val);
        m->key = key;
        m->val = val;
        m->cap = cap;
    }
    size_t mask = m->cap - 1;
    size_t i = id_hash(id) & mask;
    while (m->val[i] && memcmp(m->key[i], id, SC_ID_LEN) != 0)
        i = (i + 1) & mask;
    if (!m->val[i])
        m->n++;
    memcpy(m->key[i], id, SC_ID_LEN);
    m->val[i] = v;
    return true;
}

static void idmap_dispose(idmap *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

/* ---- the register ---- */

typedef struct conn {
    sd_store *s;
    sd_orgcache orgs;
} conn;

struct sd_register {
    sd_config cfg;
    sc_env env;
    sc_keypair *kp;                   /* the server key */
    uint8_t server_key[SC_KEY_LEN];
    char origin[SC_ORIGIN_MAX];
    char db_path[SD_PATH_MAX + 32];

    pthread_mutex_t wmu;              /* the writer connection and the frontier */
    conn writer;
    sc_merkle_frontier frontier;      /* valid when frontier_ok and its size is the log size */
    bool frontier_ok;

    pthread_mutex_t pmu;              /* the read pool */
    pthread_cond_t pcv;
    conn *idle[POOL_MAX];
    size_t nidle, nopen;
};

static void conn_close(conn *c)
{
    if (!c)
        return;
    sd_orgcache_dispose(&c->orgs);
    if (c->s)
        c->s->vt->close(c->s);
    c->s = NULL;
}

static sc_status pool_get(sd_register *r, conn **out, sc_err *err)
{
    *out = NULL;
    pthread_mutex_lock(&r->pmu);
    while (r->nidle == 0 && r->nopen >= POOL_MAX)
        pthread_cond_wait(&r->pcv, &r->pmu);
    if (r->nidle > 0) {
        *out = r->idle[--r->nidle];
        pthread_mutex_unlock(&r->pmu);
        return SC_OK;
    }
    r->nopen++;
    pthread_mutex_unlock(&r->pmu);
    conn *c = calloc(1, sizeof *c);
    sc_status rc = c ? sd_store_sqlite_open(r->db_path, false, &c->s, err)
                     : sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
    if (rc != SC_OK) {
        free(c);
        pthread_mutex_lock(&r->pmu);
        r->nopen--;
        pthread_cond_signal(&r->pcv);
        pthread_mutex_unlock(&r->pmu);
        return rc;
    }
    *out = c;
    return SC_OK;
}

static void pool_put(sd_register *r, conn *c)
{
    if (!c)
        return;
    c->s->vt->rollback(c->s); /* ends a read transaction a failed path left open */
    pthread_mutex_lock(&r->pmu);
    r->idle[r->nidle++] = c;
    pthread_cond_signal(&r->pcv);
    pthread_mutex_unlock(&r->pmu);
}

const uint8_t *sd_register_server_key(const sd_register *r)
{
    return r->server_key;
}

const char *sd_register_origin(const sd_register *r)
{
    return r->origin;
}

const sc_env *sd_register_env(const sd_register *r)
{
    return &r->env;
}

void sd_msg_free(void *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
}

void sd_state_free(Scpb__EntityState *st)
{
    if (st)
        protobuf_c_message_free_unpacked(&st->base, NULL);
}

sc_status sd_register_open(const sd_config *cfg, sd_register **out, sc_err *err)
{
    return sd_register_open_env(cfg, NULL, out, err);
}

sc_status sd_register_open_env(const sd_config *cfg, const sc_env *env, sd_register **out,
                               sc_err *err)
{
    *out = NULL;
    sc_status rc = sc_crypto_init();
    if (rc != SC_OK)
        return sc_err_set(err, rc, 0, "libsodium failed to initialise");
    sd_register *r = calloc(1, sizeof *r);
    if (!r)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
    r->cfg = *cfg;
    r->env = env ? *env : sys_env;
    pthread_mutex_init(&r->wmu, NULL);
    pthread_mutex_init(&r->pmu, NULL);
    pthread_cond_init(&r->pcv, NULL);
    snprintf(r->db_path, sizeof r->db_path, "%s/register.db", cfg->data_dir);
    char key_path[SD_PATH_MAX + 32];
    snprintf(key_path, sizeof key_path, "%s/server.key", cfg->data_dir);

    uint8_t *v = NULL;
    size_t n = 0;
    rc = sd_store_sqlite_open(r->db_path, false, &r->writer.s, err);
    if (rc != SC_OK)
        goto fail;
    rc = sd_keyfile_read(key_path, &r->kp, err);
    if (rc != SC_OK)
        goto fail;
    memcpy(r->server_key, sc_keypair_public(r->kp), SC_KEY_LEN);
    rc = r->writer.s->vt->meta_get(r->writer.s, "server_key", &v, &n, err);
    if (rc != SC_OK)
        goto fail;
    if (n != SC_KEY_LEN || memcmp(v, r->server_key, SC_KEY_LEN) != 0) {
        rc = sc_err_set(err, SC_ERR_FORBIDDEN, 0,
                        "server key file %s does not belong to the register %s", key_path,
                        r->db_path);
        goto fail;
    }
    free(v);
    v = NULL;
    rc = r->writer.s->vt->meta_get(r->writer.s, "origin", &v, &n, err);
    if (rc != SC_OK)
        goto fail;
    if (n == 0 || n >= sizeof r->origin) {
        rc = sc_err_set(err, SC_ERR_STORAGE, R_(STORAGE), "register: stored origin is invalid");
        goto fail;
    }
    memcpy(r->origin, v, n);
    r->origin[n] = '\0';
    free(v);
    *out = r;
    return SC_OK;
fail:
    free(v);
    sd_register_close(r);
    return rc;
}

void sd_register_close(sd_register *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nidle; i++) {
        conn_close(r->idle[i]);
        free(r->idle[i]);
    }
    conn_close(&r->writer);
    sc_keypair_free(r->kp);
    pthread_mutex_destroy(&r->wmu);
    pthread_mutex_destroy(&r->pmu);
    pthread_cond_destroy(&r->pcv);
    free(r);
}

/* ---- principals ---- */

static void hex_id(const uint8_t *id, size_t len, char *out, size_t cap)
{
    if (sc_hex_encode(id, len, out, cap) != SC_OK && cap)
        out[0] = '\0';
}

static sc_status decode_state(const sc_env *env, const uint8_t *buf, size_t len,
                              Scpb__EntityState **out, sc_err *err)
{
    sc_status rc = sc_state_decode(env, buf, len, (size_t)64 << 20, out, err);
    if (rc != SC_OK && rc != SC_ERR_NOMEM)
        rc = sc_err_set(err, SC_ERR_STORAGE, R_(STORAGE), "register: a stored state does not decode");
    return rc;
}

static sc_status principal_in(sd_register *r, sd_store *s, const uint8_t key[SC_KEY_LEN],
                              sd_principal *out, sc_err *err)
{
    memset(out, 0, sizeof *out);
    memcpy(out->device, key, SC_KEY_LEN);
    if (memcmp(key, r->server_key, SC_KEY_LEN) == 0) {
        out->is_server = true;
        out->role = SCPB__ROLE__ROLE_ADMIN;
        snprintf(out->login, sizeof out->login, "%s", "syncd");
        return SC_OK;
    }
    sd_device_row d;
    sc_status rc = s->vt->device_get(s, key, &d, err);
    if (rc == SC_ERR_NOT_FOUND) {
        char hex[2 * SC_KEY_LEN + 1];
        hex_id(key, SC_KEY_LEN, hex, sizeof hex);
        return sc_err_set(err, SC_ERR_NOT_FOUND, R_(UNKNOWN_DEVICE),
                          "device %.16s is not enrolled", hex);
    }
    if (rc != SC_OK)
        return rc;
    memcpy(out->device_id, d.device, SC_ID_LEN);
    memcpy(out->user, d.user, SC_ID_LEN);
    out->revoked = d.revoked;
    sd_entity_row u;
    rc = s->vt->entity_get(s, d.user, true, &u, err);
    if (rc == SC_ERR_NOT_FOUND)
        return sc_err_set(err, SC_ERR_STORAGE, R_(STORAGE), "register: a device's user is missing");
    if (rc != SC_OK)
        return rc;
    Scpb__EntityState *st = NULL;
    rc = decode_state(&r->env, u.state, u.state_len, &st, err);
    free(u.state);
    if (rc != SC_OK)
        return rc;
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_USER) {
        out->role = st->user->role;
        if (st->user->has_org && st->user->org.len == SC_ID_LEN)
            memcpy(out->org, st->user->org.data, SC_ID_LEN);
        snprintf(out->login, sizeof out->login, "%s", st->user->login ? st->user->login : "");
    }
    sc_state_free(&r->env, st);
    return SC_OK;
}

sc_status sd_register_principal(sd_register *r, const uint8_t device[SC_KEY_LEN], sd_principal *out,
                                sc_err *err)
{
    conn *c = NULL;
    sc_status rc = pool_get(r, &c, err);
    if (rc != SC_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    rc = principal_in(r, c->s, device, out, err);
    pool_put(r, c);
    return rc;
}

/* ---- one write transaction ---- */

/* An entity as this transaction sees it. */
typedef struct ent {
    uint8_t id[SC_ID_LEN];
    bool exists;
    sd_entity_row row;            /* row.state: malloc'd by the store or NULL */
    Scpb__EntityState *state;     /* decoded (env), owned; NULL until needed */
    sc_op **ops;                  /* its ops in log order, once loaded */
    bool *own;                    /* ops[i] is freed with the cache */
    size_t nops, capops;
    bool ops_loaded;
} ent;

typedef struct txn {
    sd_register *r;
    conn *c;
    sd_store *s;
    const sc_env *env;
    int64_t now;
    uint64_t start;               /* log size when the transaction began */
    uint64_t size;                /* the next log index */
    uint64_t rel_seq;             /* the next release event */
    bool rel_loaded;
    sc_merkle_frontier fr;        /* the frontier as this transaction grows it */
    idmap ents;                   /* id -> ent* */
    ent **all;
    size_t nall, capall;
    size_t cached_ops;
    idmap refused;                /* ops refused in this transaction: first 16 bytes -> full id */
    uint8_t (*refused_ids)[SC_HASH_LEN];
    size_t nrefused, caprefused;
    sc_err *err;                  /* the storage error, when one happened */
    sc_status rc;                 /* sticky storage status */
} txn;

typedef struct actor {
    sd_principal p;
    bool unknown;                 /* the device is not enrolled */
} actor;

static void ent_free(const sc_env *env, ent *e)
{
    if (!e)
        return;
    free(e->row.state);
    sc_state_free(env, e->state);
    for (size_t i = 0; i < e->nops; i++)
        if (e->own[i])
            sc_op_free(env, e->ops[i]);
    free(e->ops);
    free(e->own);
    free(e);
}

static void cache_clear(txn *t)
{
    for (size_t i = 0; i < t->nall; i++)
        ent_free(t->env, t->all[i]);
    t->nall = 0;
    t->cached_ops = 0;
    idmap_dispose(&t->ents);
}

static sc_status fail(txn *t, sc_status rc)
{
    if (t->rc == SC_OK)
        t->rc = rc;
    return t->rc;
}

/* The entity id as this transaction sees it; NULL on a storage error (t->rc). */
static ent *ent_get(txn *t, const uint8_t id[SC_ID_LEN])
{
    void **slot = idmap_find(&t->ents, id);
    if (slot)
        return *slot;
    ent *e = calloc(1, sizeof *e);
    if (!e) {
        fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
        return NULL;
    }
    memcpy(e->id, id, SC_ID_LEN);
    sc_status rc = t->s->vt->entity_get(t->s, id, true, &e->row, t->err);
    if (rc == SC_OK) {
        e->exists = true;
    } else if (rc != SC_ERR_NOT_FOUND) {
        free(e);
        fail(t, rc);
        return NULL;
    }
    if (t->nall == t->capall) {
        size_t cap = t->capall ? t->capall * 2 : 64;
        ent **v = realloc(t->all, cap * sizeof *v);
        if (!v) {
            ent_free(t->env, e);
            fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
            return NULL;
        }
        t->all = v;
        t->capall = cap;
    }
    if (!idmap_put(&t->ents, id, e)) {
        ent_free(t->env, e);
        fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
        return NULL;
    }
    t->all[t->nall++] = e;
    return e;
}

/* The decoded state of an existing entity; NULL on a storage error. */
static const Scpb__EntityState *ent_state(txn *t, ent *e)
{
    if (!e->exists)
        return NULL;
    if (!e->state) {
        sc_status rc = decode_state(t->env, e->row.state, e->row.state_len, &e->state, t->err);
        if (rc != SC_OK) {
            fail(t, rc);
            return NULL;
        }
    }
    return e->state;
}

static bool ent_push_op(ent *e, sc_op *o, bool own)
{
    if (e->nops == e->capops) {
        size_t cap = e->capops ? e->capops * 2 : 16;
        sc_op **v = realloc(e->ops, cap * sizeof *v);
        if (!v)
            return false;
        e->ops = v;
        bool *w = realloc(e->own, cap * sizeof *w);
        if (!w)
            return false;
        e->own = w;
        e->capops = cap;
    }
    e->ops[e->nops] = o;
    e->own[e->nops] = own;
    e->nops++;
    return true;
}

typedef struct load_ctx {
    txn *t;
    ent *e;
} load_ctx;

static bool load_op(void *ctx, const sd_op_row *row)
{
    load_ctx *l = ctx;
    sc_op *o = NULL;
    sc_err e;
    sc_err_clear(&e);
    sc_status rc = sc_op_open(l->t->env, row->signed_op, row->signed_len, 0, &o, &e);
    if (rc != SC_OK) {
        fail(l->t, rc == SC_ERR_NOMEM
                       ? sc_err_set(l->t->err, SC_ERR_NOMEM, 0, "register: out of memory")
                       : sc_err_set(l->t->err, SC_ERR_STORAGE, R_(STORAGE),
                                    "register: logged op %llu does not decode: %s",
                                    (unsigned long long)row->idx, e.msg));
        return false;
    }
    if (!ent_push_op(l->e, o, true)) {
        sc_op_free(l->t->env, o);
        fail(l->t, sc_err_set(l->t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
        return false;
    }
    l->t->cached_ops++;
    return true;
}

static sc_status ent_load_ops(txn *t, ent *e)
{
    if (e->ops_loaded || !e->exists) {
        e->ops_loaded = true;
        return SC_OK;
    }
    load_ctx l = {t, e};
    sc_status rc = t->s->vt->entity_ops(t->s, e->id, load_op, &l, t->err);
    if (rc != SC_OK)
        return fail(t, rc);
    if (t->rc != SC_OK)
        return t->rc;
    e->ops_loaded = true;
    return SC_OK;
}

static sc_status txn_begin(sd_register *r, txn *t, sc_err *err)
{
    memset(t, 0, sizeof *t);
    t->r = r;
    t->c = &r->writer;
    t->s = r->writer.s;
    t->env = &r->env;
    t->err = err;
    sc_status rc = t->s->vt->begin(t->s, true, err);
    if (rc != SC_OK)
        return rc;
    t->now = sc_env_now_ms(t->env);
    rc = t->s->vt->log_size(t->s, &t->start, err);
    if (rc != SC_OK)
        return rc;
    t->size = t->start;
    if (r->frontier_ok && r->frontier.size == t->start)
        t->fr = r->frontier;
    else
        rc = sd_tlog_frontier_load(t->s, t->start, &t->fr, err);
    return rc;
}

/* Sign a checkpoint when something was logged, then commit. */
static sc_status txn_commit(txn *t)
{
    sc_status rc = t->rc;
    if (rc == SC_OK && t->size > t->start)
        rc = sd_tlog_checkpoint(t->s, t->env, t->r->kp, t->r->origin, &t->fr, t->now, t->err);
    if (rc == SC_OK)
        rc = t->s->vt->commit(t->s, t->err);
    if (rc == SC_OK) {
        t->r->frontier = t->fr;
        t->r->frontier_ok = true;
    }
    return rc;
}

/* Remember a refused op, so ops depending on it are refused as such (cascade). */
static void refused_add(txn *t, const uint8_t id[SC_HASH_LEN])
{
    if (t->nrefused == t->caprefused) {
        size_t cap = t->caprefused ? t->caprefused * 2 : 64;
        uint8_t(*v)[SC_HASH_LEN] = malloc(cap * sizeof *v);
        if (!v)
            return; /* only the message gets less precise */
        if (t->nrefused)
            memcpy(v, t->refused_ids, t->nrefused * sizeof *v);
        /* The map points into the array: rebuild it over the new one. */
        idmap_dispose(&t->refused);
        free(t->refused_ids);
        t->refused_ids = v;
        t->caprefused = cap;
        for (size_t i = 0; i < t->nrefused; i++)
            idmap_put(&t->refused, v[i], v[i]);
    }
    memcpy(t->refused_ids[t->nrefused], id, SC_HASH_LEN);
    if (idmap_put(&t->refused, id, t->refused_ids[t->nrefused]))
        t->nrefused++;
}

static bool refused_has(const txn *t, const uint8_t id[SC_HASH_LEN])
{
    void **slot = idmap_find(&t->refused, id);
    return slot && memcmp(*slot, id, SC_HASH_LEN) == 0;
}

static void txn_end(txn *t, bool failed)
{
    idmap_dispose(&t->refused);
    free(t->refused_ids);
    t->refused_ids = NULL;
    if (failed) {
        t->s->vt->rollback(t->s);
        /* Org units this transaction wrote into the connection's cache are gone. */
        sd_orgcache_invalidate(&t->c->orgs);
    }
    cache_clear(t);
    free(t->all);
    t->all = NULL;
}

/* ---- judging one op ---- */

static sc_status reject(sd_result *res, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sc_status reject(sd_result *res, int reason, const char *fmt, ...)
{
    res->status = SCPB__OP_STATUS__OP_REJECTED;
    res->reason = reason;
    res->log_index = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
    return SC_OK;
}

static bool rejected(const sd_result *res)
{
    return res->status == SCPB__OP_STATUS__OP_REJECTED;
}

static bool is_admin(const sd_principal *p)
{
    return p->is_server || p->role == SCPB__ROLE__ROLE_ADMIN;
}

static const char *type_name(int type)
{
    const char *n = sc_name_of(&sc_names_entity_type, type);
    return n ? n : "entity";
}

/* org lies in the principal's subtree (admins: everywhere). */
static bool within(txn *t, const sd_principal *p, const uint8_t org[SC_ID_LEN])
{
    if (is_admin(p))
        return true;
    const sd_orgtree *tree = NULL;
    sc_status rc = sd_orgcache_get(&t->c->orgs, t->s, &tree, t->err);
    if (rc != SC_OK) {
        fail(t, rc);
        return false;
    }
    return sd_orgtree_within(tree, org, p->org);
}

static bool ent_visible(txn *t, const sd_principal *p, ent *e)
{
    if (is_admin(p) || e->row.vis_class == SD_VIS_ALL)
        return true;
    bool in_scope = e->row.has_scope && within(t, p, e->row.scope_org);
    bool named = false;
    if ((e->row.vis_class == SD_VIS_ASSIGNMENT_OPEN || e->row.vis_class == SD_VIS_ASSIGNMENT_SECRET) &&
        p->role == SCPB__ROLE__ROLE_INSPECTOR) {
        sc_status rc = t->s->vt->assignee_has(t->s, e->id, p->user, t->err);
        if (rc == SC_OK)
            named = true;
        else if (rc != SC_ERR_NOT_FOUND)
            fail(t, rc);
    }
    return sd_visible(p->role, e->row.vis_class, in_scope, named, e->row.released);
}

/*
 * A referenced entity of `type`; NULL when it is missing or of another type
 * (res rejected with UNKNOWN_REFERENCE naming `what`) or on a storage error.
 */
static ent *ref(txn *t, const ProtobufCBinaryData *id, int type, const char *what, sd_result *res)
{
    char hex[SC_ID_HEX];
    if (id->len != SC_ID_LEN) {
        reject(res, R_(UNKNOWN_REFERENCE), "%s is not an entity id", what);
        return NULL;
    }
    ent *e = ent_get(t, id->data);
    if (!e)
        return NULL;
    if (!e->exists || e->row.type != type) {
        hex_id(id->data, SC_ID_LEN, hex, sizeof hex);
        reject(res, R_(UNKNOWN_REFERENCE), "%s %s is not a known %s", what, hex, type_name(type));
        return NULL;
    }
    return e;
}

/* The target of a create op: it exists and lies in the author's scope. */
static ent *target_in_scope(txn *t, const actor *a, const ProtobufCBinaryData *id, sd_result *res)
{
    ent *tg = ref(t, id, T_(TARGET), "target", res);
    if (!tg)
        return NULL;
    if (!is_admin(&a->p) && !(tg->row.has_scope && within(t, &a->p, tg->row.scope_org))) {
        if (t->rc == SC_OK) {
            const Scpb__EntityState *st = ent_state(t, tg);
            reject(res, R_(OUT_OF_SCOPE), "target %s is outside your org unit's scope",
                   st && st->target && st->target->code ? st->target->code : "?");
        }
        return NULL;
    }
    return tg;
}

static sc_status code_unique(txn *t, int kind, const char *code, uint32_t version, sd_result *res,
                             const char *what)
{
    uint8_t other[SC_ID_LEN];
    sc_status rc = t->s->vt->code_find(t->s, kind, code, version, other, t->err);
    if (rc == SC_OK) {
        if (kind == T_(TEMPLATE))
            return reject(res, R_(DUPLICATE_CODE), "%s \"%s\" version %u already exists", what, code,
                          version);
        return reject(res, R_(DUPLICATE_CODE), "%s \"%s\" is already in use", what, code);
    }
    return rc == SC_ERR_NOT_FOUND ? SC_OK : fail(t, rc);
}

/* Item results against the inspection's score sheet: known item codes, points within the item's maximum. */
static sc_status check_items(txn *t, ent *insp, Scpb__ItemResult *const *results, size_t n,
                             sd_result *res)
{
    const Scpb__EntityState *st = ent_state(t, insp);
    if (!st)
        return t->rc;
    if (st->kind_case != SCPB__ENTITY_STATE__KIND_INSPECTION || !st->inspection->has_template_)
        return SC_OK; /* a free-form inspection: any item codes */
    ent *te = ent_get(t, st->inspection->template_.data);
    if (!te)
        return t->rc;
    const Scpb__EntityState *ts = ent_state(t, te);
    if (!ts || ts->kind_case != SCPB__ENTITY_STATE__KIND_TEMPLATE)
        return t->rc;
    const Scpb__TemplateState *tpl = ts->template_;
    for (size_t i = 0; i < n; i++) {
        const Scpb__ItemResult *ir = results[i];
        const Scpb__TemplateItem *it = NULL;
        for (size_t k = 0; k < tpl->n_items && !it; k++)
            if (tpl->items[k]->code && ir->item_code && strcmp(tpl->items[k]->code, ir->item_code) == 0)
                it = tpl->items[k];
        if (!it)
            return reject(res, R_(UNKNOWN_REFERENCE), "item %s is not on score sheet %s v%u",
                          ir->item_code ? ir->item_code : "?", tpl->code ? tpl->code : "?",
                          tpl->version);
        if (ir->has_points && it->has_max_points && ir->points > it->max_points)
            return reject(res, R_(BAD_FIELD), "item %s: %d points, the item has at most %d",
                          ir->item_code, ir->points, it->max_points);
    }
    return SC_OK;
}

/* A FIELD_RESPONSIBLE value: 32 hex digits naming an org unit. */
static sc_status check_responsible_text(txn *t, const char *value, sd_result *res)
{
    uint8_t id[SC_ID_LEN];
    if (!value || sc_hex_decode(value, strlen(value), id, SC_ID_LEN) != SC_OK)
        return reject(res, R_(BAD_FIELD), "responsible must be 32 hex digits");
    ProtobufCBinaryData b = {SC_ID_LEN, id};
    ref(t, &b, T_(ORG_UNIT), "responsible org unit", res);
    return t->rc;
}

static sc_status check_refs(txn *t, const actor *a, const sc_op *o, ent *e, sd_result *res)
{
    const Scpb__Op *op = o->op;
    switch (op->body_case) {
    case K_(ORG_CREATE): {
        const Scpb__OrgCreate *b = op->org_create;
        if (b->has_parent && !ref(t, &b->parent, T_(ORG_UNIT), "parent org unit", res))
            return t->rc;
        return code_unique(t, T_(ORG_UNIT), b->code, 0, res, "org unit code");
    }
    case K_(TARGET_CREATE): {
        const Scpb__TargetCreate *b = op->target_create;
        if (!ref(t, &b->org, T_(ORG_UNIT), "org unit", res))
            return t->rc;
        return code_unique(t, T_(TARGET), b->code, 0, res, "target code");
    }
    case K_(USER_CREATE): {
        const Scpb__UserCreate *b = op->user_create;
        if (!ref(t, &b->org, T_(ORG_UNIT), "org unit", res))
            return t->rc;
        return code_unique(t, T_(USER), b->login, 0, res, "login");
    }
    case K_(DEVICE_ENROLL): {
        const Scpb__DeviceEnroll *b = op->device_enroll;
        if (!ref(t, &b->user, T_(USER), "user", res))
            return t->rc;
        if (b->key.len != SC_KEY_LEN || memcmp(b->key.data, t->r->server_key, SC_KEY_LEN) == 0)
            return reject(res, R_(BAD_FIELD), "the server key cannot be enrolled as a device");
        sd_device_row d;
        sc_status rc = t->s->vt->device_get(t->s, b->key.data, &d, t->err);
        if (rc == SC_OK)
            return reject(res, R_(ENTITY_EXISTS), "this device key is already enrolled");
        return rc == SC_ERR_NOT_FOUND ? SC_OK : fail(t, rc);
    }
    case K_(TEMPLATE_PUBLISH): {
        const Scpb__TemplatePublish *b = op->template_publish;
        return code_unique(t, T_(TEMPLATE), b->code, b->version, res, "score sheet");
    }
    case K_(ASSIGNMENT_CREATE): {
        const Scpb__AssignmentCreate *b = op->assignment_create;
        if (!target_in_scope(t, a, &b->target, res))
            return t->rc;
        for (size_t i = 0; i < b->n_inspectors; i++) {
            ent *u = ref(t, &b->inspectors[i], T_(USER), "inspector", res);
            if (!u)
                return t->rc;
            const Scpb__EntityState *us = ent_state(t, u);
            if (!us)
                return t->rc;
            if (us->kind_case == SCPB__ENTITY_STATE__KIND_USER &&
                us->user->role != SCPB__ROLE__ROLE_INSPECTOR &&
                us->user->role != SCPB__ROLE__ROLE_SUPERVISOR)
                return reject(res, R_(BAD_FIELD), "%s is a %s, not an inspector or supervisor",
                              us->user->login ? us->user->login : "?",
                              sc_name_of(&sc_names_role, us->user->role));
        }
        if (b->has_template_ && !ref(t, &b->template_, T_(TEMPLATE), "score sheet", res))
            return t->rc;
        return SC_OK;
    }
    case K_(INSPECTION_OPEN): {
        const Scpb__InspectionOpen *b = op->inspection_open;
        if (!target_in_scope(t, a, &b->target, res))
            return t->rc;
        if (b->has_template_ && !ref(t, &b->template_, T_(TEMPLATE), "score sheet", res))
            return t->rc;
        if (b->has_assignment) {
            ent *as = ref(t, &b->assignment, T_(ASSIGNMENT), "assignment", res);
            if (!as)
                return t->rc;
            if (!as->row.has_target || memcmp(as->row.target, b->target.data, SC_ID_LEN) != 0)
                return reject(res, R_(BAD_FIELD), "the assignment is for another target");
        }
        return SC_OK;
    }
    case K_(FINDING_CREATE): {
        const Scpb__FindingCreate *b = op->finding_create;
        if (!target_in_scope(t, a, &b->target, res))
            return t->rc;
        if (b->has_inspection) {
            ent *in = ref(t, &b->inspection, T_(INSPECTION), "inspection", res);
            if (!in)
                return t->rc;
            if (!in->row.has_target || memcmp(in->row.target, b->target.data, SC_ID_LEN) != 0)
                return reject(res, R_(UNKNOWN_REFERENCE),
                              "the finding's inspection is of another target");
        }
        if (b->has_responsible && !ref(t, &b->responsible, T_(ORG_UNIT), "responsible org unit", res))
            return t->rc;
        return SC_OK;
    }
    case K_(ITEM_RESULT):
        return check_items(t, e, &op->item_result, 1, res);
    case K_(INSPECTION_AMEND):
        return check_items(t, e, op->inspection_amend->results, op->inspection_amend->n_results,
                           res);
    case K_(FIELD_EDIT):
        if (op->field_edit->field == SCPB__FIELD__FIELD_RESPONSIBLE)
            return check_responsible_text(t, op->field_edit->value, res);
        return SC_OK;
    case K_(RESOLVE):
        if (op->resolve->field == SCPB__FIELD__FIELD_RESPONSIBLE)
            return check_responsible_text(t, op->resolve->value, res);
        if (op->resolve->field == SCPB__FIELD__FIELD_ITEM && e->row.type == T_(INSPECTION) &&
            op->resolve->result)
            return check_items(t, e, &op->resolve->result, 1, res);
        return SC_OK;
    default:
        return SC_OK;
    }
}

/* ---- accepting one op ---- */

/* The derived columns of an entity's row from its new state. */
static sc_status derive_row(txn *t, ent *e, const Scpb__EntityState *st, int type,
                            sd_entity_row *nr)
{
    memset(nr, 0, sizeof *nr);
    memcpy(nr->id, e->id, SC_ID_LEN);
    nr->type = type;
    nr->op_count = st->op_count;
    if (e->exists) {
        nr->has_target = e->row.has_target;
        memcpy(nr->target, e->row.target, SC_ID_LEN);
        nr->has_scope = e->row.has_scope;
        memcpy(nr->scope_org, e->row.scope_org, SC_ID_LEN);
        nr->vis_class = e->row.vis_class;
        nr->released = e->row.released;
        nr->has_inspection = e->row.has_inspection;
        memcpy(nr->inspection, e->row.inspection, SC_ID_LEN);
    } else {
        const ProtobufCBinaryData *target = NULL;
        nr->vis_class = SD_VIS_ALL;
        switch (st->kind_case) {
        case SCPB__ENTITY_STATE__KIND_ORG:
            if (st->org->has_parent && st->org->parent.len == SC_ID_LEN) {
                nr->has_scope = true;
                memcpy(nr->scope_org, st->org->parent.data, SC_ID_LEN);
            }
            break;
        case SCPB__ENTITY_STATE__KIND_TARGET:
            if (st->target->has_org && st->target->org.len == SC_ID_LEN) {
                nr->has_scope = true;
                memcpy(nr->scope_org, st->target->org.data, SC_ID_LEN);
            }
            break;
        case SCPB__ENTITY_STATE__KIND_ASSIGNMENT:
            target = &st->assignment->target;
            nr->vis_class = st->assignment->disclosure == SCPB__DISCLOSURE__DISCLOSURE_OPEN
                                ? SD_VIS_ASSIGNMENT_OPEN
                                : SD_VIS_ASSIGNMENT_SECRET;
            break;
        case SCPB__ENTITY_STATE__KIND_INSPECTION:
            target = &st->inspection->target;
            nr->vis_class = SD_VIS_INSPECTION;
            break;
        case SCPB__ENTITY_STATE__KIND_FINDING:
            target = &st->finding->target;
            nr->vis_class = SD_VIS_FINDING_FREE;
            if (st->finding->has_inspection && st->finding->inspection.len == SC_ID_LEN) {
                nr->vis_class = SD_VIS_INSPECTION;
                nr->has_inspection = true;
                memcpy(nr->inspection, st->finding->inspection.data, SC_ID_LEN);
                ent *in = ent_get(t, nr->inspection);
                if (!in)
                    return t->rc;
                nr->released = in->exists && in->row.released;
            }
            break;
        default:
            break;
        }
        if (target && target->len == SC_ID_LEN) {
            nr->has_target = true;
            memcpy(nr->target, target->data, SC_ID_LEN);
            ent *tg = ent_get(t, target->data);
            if (!tg)
                return t->rc;
            if (tg->exists && tg->row.has_scope) {
                nr->has_scope = true;
                memcpy(nr->scope_org, tg->row.scope_org, SC_ID_LEN);
            }
        }
    }
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION &&
        st->inspection->status == SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED)
        nr->released = true;
    return SC_OK;
}

typedef struct rel_ctx {
    txn *t;
    const uint8_t *entity;
    uint64_t before;              /* release ops logged before this index */
    uint8_t (*ids)[SC_ID_LEN];    /* collected findings */
    size_t n, cap;
    bool oom;
} rel_ctx;

static bool rel_op(void *ctx, const sd_op_row *row)
{
    rel_ctx *c = ctx;
    txn *t = c->t;
    if (row->idx >= c->before)
        return true;
    if (!t->rel_loaded) {
        sc_status rc = t->s->vt->release_next_seq(t->s, &t->rel_seq, t->err);
        if (rc != SC_OK) {
            fail(t, rc);
            return false;
        }
        t->rel_loaded = true;
    }
    sc_status rc = t->s->vt->release_put(t->s, t->rel_seq, c->entity, row->idx, t->err);
    if (rc != SC_OK) {
        fail(t, rc);
        return false;
    }
    t->rel_seq++;
    return true;
}

static bool rel_finding(void *ctx, const sd_entity_row *row)
{
    rel_ctx *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        uint8_t(*v)[SC_ID_LEN] = realloc(c->ids, cap * sizeof *v);
        if (!v) {
            c->oom = true;
            return false;
        }
        c->ids = v;
        c->cap = cap;
    }
    memcpy(c->ids[c->n++], row->id, SC_ID_LEN);
    return true;
}

/*
 * An inspection was just submitted (at log index submit_idx): its earlier
 * ops and all ops of its findings become visible to the inspected unit.
 * Each such op gets a release event, and the findings are marked released.
 */
static sc_status release_inspection(txn *t, const uint8_t insp[SC_ID_LEN], uint64_t submit_idx)
{
    rel_ctx c = {t, insp, submit_idx, NULL, 0, 0, false};
    sc_status rc = t->s->vt->entity_ops(t->s, insp, rel_op, &c, t->err);
    if (rc == SC_OK)
        rc = t->rc;
    if (rc == SC_OK)
        rc = t->s->vt->entity_findings(t->s, insp, rel_finding, &c, t->err);
    if (rc == SC_OK && c.oom)
        rc = sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory");
    for (size_t i = 0; rc == SC_OK && i < c.n; i++) {
        rc = t->s->vt->entity_set_released(t->s, c.ids[i], t->err);
        if (rc != SC_OK)
            break;
        void **slot = idmap_find(&t->ents, c.ids[i]);
        if (slot)
            ((ent *)*slot)->row.released = true;
        rel_ctx f = {t, c.ids[i], UINT64_MAX, NULL, 0, 0, false};
        rc = t->s->vt->entity_ops(t->s, c.ids[i], rel_op, &f, t->err);
        if (rc == SC_OK)
            rc = t->rc;
    }
    free(c.ids);
    return rc == SC_OK ? SC_OK : fail(t, rc);
}

/* The rows an accepted op derives besides its entity: codes, devices, assignees. */
static sc_status derive_tables(txn *t, const sc_op *o, uint64_t idx)
{
    const Scpb__Op *op = o->op;
    sd_store *s = t->s;
    const uint8_t *id = op->entity.data;
    switch (op->body_case) {
    case K_(ORG_CREATE):
        sd_orgcache_invalidate(&t->c->orgs);
        return s->vt->code_put(s, T_(ORG_UNIT), op->org_create->code, 0, id, t->err);
    case K_(TARGET_CREATE):
        return s->vt->code_put(s, T_(TARGET), op->target_create->code, 0, id, t->err);
    case K_(USER_CREATE):
        return s->vt->code_put(s, T_(USER), op->user_create->login, 0, id, t->err);
    case K_(TEMPLATE_PUBLISH):
        return s->vt->code_put(s, T_(TEMPLATE), op->template_publish->code,
                               op->template_publish->version, id, t->err);
    case K_(DEVICE_ENROLL): {
        sd_device_row d;
        memset(&d, 0, sizeof d);
        memcpy(d.key, op->device_enroll->key.data, SC_KEY_LEN);
        memcpy(d.device, id, SC_ID_LEN);
        memcpy(d.user, op->device_enroll->user.data, SC_ID_LEN);
        d.enrolled_idx = idx;
        return s->vt->device_put(s, &d, t->err);
    }
    case K_(DEVICE_REVOKE):
        return s->vt->device_revoke(s, id, idx, t->err);
    case K_(ASSIGNMENT_CREATE):
        for (size_t i = 0; i < op->assignment_create->n_inspectors; i++) {
            sc_status rc =
                s->vt->assignee_put(s, id, op->assignment_create->inspectors[i].data, t->err);
            if (rc != SC_OK)
                return rc;
        }
        return SC_OK;
    default:
        return SC_OK;
    }
}

static sc_status accept(txn *t, sc_op *o, bool own, ent *e, Scpb__EntityState *st,
                        int64_t received_ms, sd_result *res)
{
    const Scpb__Op *op = o->op;
    sd_store *s = t->s;
    uint64_t idx = t->size;
    sd_op_row row;
    memset(&row, 0, sizeof row);
    row.idx = idx;
    memcpy(row.op_id, o->id, SC_HASH_LEN);
    memcpy(row.entity, op->entity.data, SC_ID_LEN);
    memcpy(row.author, op->author.data, SC_KEY_LEN);
    row.kind = (int)op->body_case;
    row.hlc = op->hlc;
    row.received_ms = received_ms;
    row.signed_op = o->signed_bytes;
    row.signed_len = o->signed_len;
    sc_merkle_leaf_hash(o->signed_bytes, o->signed_len, row.leaf_hash);
    sc_status rc = s->vt->op_append(s, &row, t->err);
    if (rc == SC_OK)
        rc = sd_tlog_append(s, &t->fr, row.leaf_hash, t->err);
    if (rc != SC_OK)
        return fail(t, rc);

    uint8_t *buf = NULL;
    size_t len = 0;
    rc = sc_state_encode(t->env, st, &buf, &len);
    if (rc != SC_OK)
        return fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
    bool was_released = e->exists && e->row.released;
    sd_entity_row nr;
    rc = derive_row(t, e, st, (int)op->entity_type, &nr);
    if (rc == SC_OK) {
        nr.last_idx = idx;
        nr.state = buf;
        nr.state_len = len;
        sc_sha256(buf, len, nr.state_hash);
        rc = s->vt->entity_put(s, &nr, t->err);
    }
    sc_free(t->env, buf);
    if (rc == SC_OK)
        rc = derive_tables(t, o, idx);
    if (rc == SC_OK && nr.type == T_(INSPECTION) && nr.released && !was_released)
        rc = release_inspection(t, e->id, idx);
    if (rc != SC_OK)
        return fail(t, rc);

    /* The cache now holds the new row and state; the op joins the entity's list. */
    free(e->row.state);
    e->row = nr;
    e->row.state = NULL;
    e->row.state_len = 0;
    e->exists = true;
    sc_state_free(t->env, e->state);
    e->state = st;
    if (!ent_push_op(e, o, own))
        return fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
    t->cached_ops++;
    t->size++;
    res->status = SCPB__OP_STATUS__OP_ACCEPTED;
    res->log_index = idx;
    res->reason = 0;
    res->message[0] = '\0';
    return SC_OK;
}

/*
 * Judge one op (docs/protocol.md §5, in that order) and log it when it
 * passes.  Returns a storage status; the verdict is in res.  *taken tells
 * whether the register now owns o (only when own and accepted).
 */
static sc_status judge_op(txn *t, const actor *a, sc_op *o, bool own, int64_t received_ms,
                          sd_result *res, bool *taken)
{
    *taken = false;
    const Scpb__Op *op = o->op;
    sd_store *s = t->s;
    memcpy(res->op_id, o->id, SC_HASH_LEN);
    res->status = SCPB__OP_STATUS__OP_REJECTED;
    res->reason = 0;
    res->log_index = 0;
    res->message[0] = '\0';
    if (t->cached_ops > CACHE_OPS_MAX)
        cache_clear(t);

    sd_op_row found;
    sc_status rc = s->vt->op_find(s, o->id, &found, t->err);
    if (rc == SC_OK) {
        res->status = SCPB__OP_STATUS__OP_DUPLICATE;
        res->log_index = found.idx;
        return SC_OK;
    }
    if (rc != SC_ERR_NOT_FOUND)
        return fail(t, rc);

    if (op->author.len != SC_KEY_LEN || memcmp(op->author.data, a->p.device, SC_KEY_LEN) != 0)
        return reject(res, R_(AUTHOR_MISMATCH), "the op's author is not the device that sent it");
    if (a->unknown)
        return reject(res, R_(UNKNOWN_DEVICE), "the author device is not enrolled");
    if (a->p.revoked)
        return reject(res, R_(DEVICE_REVOKED), "the author device is revoked");
    if (sc_hlc_is_ahead(op->hlc, t->now, t->r->cfg.clock_skew_ms))
        return reject(res, R_(CLOCK_AHEAD),
                      "device clock is ahead: the op is %lld ms past the server clock (%lld "
                      "allowed)",
                      (long long)(SC_HLC_MS(op->hlc) - t->now),
                      (long long)t->r->cfg.clock_skew_ms);

    Scpb__Op__BodyCase kind = op->body_case;
    int type = (int)op->entity_type;
    const char *kname = sc_name_of(&sc_names_op_kind, (int)kind);
    if (!kname)
        kname = "op";
    if (!sc_op_kind_applies(kind, op->entity_type))
        return reject(res, R_(WRONG_ENTITY_TYPE), "%s does not apply to a %s", kname,
                      type_name(type));
    if (!sc_policy_allows(a->p.role, kind, op->entity_type)) {
        const char *role = sc_name_of(&sc_names_role, a->p.role);
        return reject(res, R_(FORBIDDEN_ROLE), "a %s may not make %s on a %s",
                      role ? role : "user without a role", kname, type_name(type));
    }

    for (size_t d = 0; d < op->n_deps; d++)
        if (op->deps[d].len == SC_HASH_LEN && refused_has(t, op->deps[d].data))
            return reject(res, R_(UNKNOWN_DEPENDENCY),
                          "depends on an op of this request that was rejected");

    ent *e = ent_get(t, op->entity.data);
    if (!e)
        return t->rc;
    bool create = sc_op_kind_is_create(kind);
    char hex[SC_ID_HEX];
    hex_id(op->entity.data, SC_ID_LEN, hex, sizeof hex);
    if (!create && !e->exists)
        return reject(res, R_(UNKNOWN_ENTITY), "%s %s does not exist", type_name(type), hex);
    if (create && e->exists)
        return reject(res, R_(ENTITY_EXISTS), "%s %s already exists", type_name(e->row.type), hex);
    if (!create && e->row.type != type)
        return reject(res, R_(WRONG_ENTITY_TYPE), "entity %s is a %s, not a %s", hex,
                      type_name(e->row.type), type_name(type));

    if (!create && !is_admin(&a->p)) {
        bool vis = ent_visible(t, &a->p, e);
        if (t->rc != SC_OK)
            return t->rc;
        if (!vis)
            return reject(res, R_(NOT_VISIBLE), "%s %s is not visible to you", type_name(type), hex);
        bool scoped = type == T_(ASSIGNMENT) || type == T_(INSPECTION) || type == T_(FINDING);
        if (scoped && !(e->row.has_scope && within(t, &a->p, e->row.scope_org))) {
            if (t->rc != SC_OK)
                return t->rc;
            return reject(res, R_(OUT_OF_SCOPE), "%s %s is outside your org unit's scope",
                          type_name(type), hex);
        }
    }

    rc = check_refs(t, a, o, e, res);
    if (rc != SC_OK)
        return fail(t, rc);
    if (t->rc != SC_OK)
        return t->rc;
    if (res->reason != 0)
        return SC_OK;

    for (size_t d = 0; d < op->n_deps; d++) {
        rc = s->vt->op_find(s, op->deps[d].data, &found, t->err);
        if (rc == SC_ERR_NOT_FOUND || (rc == SC_OK && memcmp(found.entity, op->entity.data,
                                                             SC_ID_LEN) != 0)) {
            char dh[SC_HASH_HEX];
            hex_id(op->deps[d].data, SC_HASH_LEN, dh, sizeof dh);
            return reject(res, R_(UNKNOWN_DEPENDENCY), "dep %.16s is not a logged op of this %s", dh,
                          type_name(type));
        }
        if (rc != SC_OK)
            return fail(t, rc);
        if (found.hlc >= op->hlc)
            return reject(res, R_(HLC_NOT_AFTER_DEPS),
                          "the op's HLC is not after the HLC of its dep at log index %llu",
                          (unsigned long long)found.idx);
    }
    if (e->exists && e->row.op_count >= SC_ENTITY_OPS_MAX)
        return reject(res, R_(ENTITY_FULL), "the %s already has %d ops", type_name(type),
                      SC_ENTITY_OPS_MAX);

    rc = ent_load_ops(t, e);
    if (rc != SC_OK)
        return rc;
    size_t n = e->nops + 1;
    sc_fold_input *in = calloc(n, sizeof *in);
    if (!in)
        return fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
    for (size_t i = 0; i < e->nops; i++) {
        in[i].id = e->ops[i]->id;
        in[i].op = e->ops[i]->op;
    }
    in[n - 1].id = o->id;
    in[n - 1].op = op;
    sc_fold_out fo;
    sc_err ferr;
    sc_err_clear(&ferr);
    rc = sc_fold(t->env, in, n, &fo, &ferr);
    free(in);
    if (rc == SC_ERR_LIMIT)
        return reject(res, R_(ENTITY_FULL), "%s", ferr.msg);
    if (rc == SC_ERR_REJECTED)
        return reject(res, ferr.reason ? ferr.reason : R_(UNKNOWN_DEPENDENCY), "%s", ferr.msg);
    if (rc != SC_OK)
        return fail(t, sc_err_set(t->err, rc == SC_ERR_NOMEM ? SC_ERR_NOMEM : SC_ERR_INTERNAL, 0,
                                  "register: fold failed: %s", ferr.msg));
    if (fo.why[n - 1]) {
        reject(res, R_(INVALID_TRANSITION), "%s", fo.why[n - 1]);
        sc_fold_out_dispose(t->env, &fo);
        return SC_OK;
    }
    Scpb__EntityState *st = fo.state;
    fo.state = NULL;
    sc_fold_out_dispose(t->env, &fo);
    rc = accept(t, o, own, e, st, received_ms, res);
    if (rc != SC_OK) {
        /* accept() hands st to the cache only on success. */
        if (e->state != st)
            sc_state_free(t->env, st);
        return rc;
    }
    *taken = own;
    return SC_OK;
}

static void actor_server(const sd_register *r, actor *a)
{
    memset(a, 0, sizeof *a);
    memcpy(a->p.device, r->server_key, SC_KEY_LEN);
    a->p.is_server = true;
    a->p.role = SCPB__ROLE__ROLE_ADMIN;
    snprintf(a->p.login, sizeof a->p.login, "%s", "syncd");
}

static sc_status judge_batch(txn *t, sd_batch *b)
{
    actor a;
    memset(&a, 0, sizeof a);
    sc_err perr;
    sc_err_clear(&perr);
    sc_status rc = principal_in(t->r, t->s, b->who->device, &a.p, &perr);
    if (rc == SC_ERR_NOT_FOUND) {
        a.unknown = true;
        memcpy(a.p.device, b->who->device, SC_KEY_LEN);
    } else if (rc != SC_OK) {
        if (t->err)
            *t->err = perr;
        return fail(t, rc);
    }
    for (size_t i = 0; i < b->n; i++) {
        if (!b->ops[i])
            continue;
        bool taken;
        rc = judge_op(t, &a, b->ops[i], false, b->received_ms, &b->results[i], &taken);
        if (rc != SC_OK)
            return rc;
        if (rejected(&b->results[i]))
            refused_add(t, b->ops[i]->id);
    }
    return SC_OK;
}

/* After a failed commit: nothing is stored, so nothing may read as accepted. */
static void results_fail(sd_batch *const *batches, size_t nb, uint64_t start, const char *why)
{
    for (size_t k = 0; k < nb; k++) {
        sd_batch *b = batches[k];
        for (size_t i = 0; i < b->n; i++) {
            if (!b->ops[i])
                continue;
            sd_result *res = &b->results[i];
            /* Kept: real rejections, and duplicates of ops committed before. */
            bool kept = (res->status == SCPB__OP_STATUS__OP_REJECTED && res->reason != 0 &&
                         res->reason != R_(STORAGE)) ||
                        (res->status == SCPB__OP_STATUS__OP_DUPLICATE && res->log_index < start);
            bool lost = !kept;
            if (lost) {
                reject(res, R_(STORAGE), "the register could not store this op (%s); resend later",
                       why);
            }
        }
    }
}

sc_status sd_register_ingest(sd_register *r, sd_batch *const *batches, size_t nb, sc_err *err)
{
    sc_err_clear(err);
    for (size_t k = 0; k < nb; k++) {
        sd_batch *b = batches[k];
        for (size_t i = 0; i < b->n; i++) {
            if (!b->ops[i])
                continue;
            memcpy(b->results[i].op_id, b->ops[i]->id, SC_HASH_LEN);
            reject(&b->results[i], R_(STORAGE), "not processed");
        }
    }
    sc_err terr;
    sc_err_clear(&terr);
    pthread_mutex_lock(&r->wmu);
    txn t;
    sc_status rc = txn_begin(r, &t, &terr);
    for (size_t k = 0; rc == SC_OK && k < nb; k++)
        rc = judge_batch(&t, batches[k]);
    if (rc == SC_OK)
        rc = txn_commit(&t);
    uint64_t start = t.start;
    txn_end(&t, rc != SC_OK);
    pthread_mutex_unlock(&r->wmu);
    if (rc == SC_OK)
        return SC_OK;
    results_fail(batches, nb, start, terr.msg[0] ? terr.msg : sc_strerror(rc));
    return sc_err_set(err, SC_ERR_STORAGE, R_(STORAGE), "%s",
                      terr.msg[0] ? terr.msg : "the register could not commit");
}

/* ---- admin ops ---- */

typedef struct prepared {
    sc_op *op;                               /* sealed; owned */
    uint8_t entity[SC_ID_LEN];
    ProtobufCBinaryData deps[SC_DEPS_MAX];
    uint8_t dep_ids[SC_DEPS_MAX][SC_HASH_LEN];
} prepared;

/*
 * Fill in an admin op inside an open transaction and seal it.  A
 * structural problem is a rejection (SC_ERR_REJECTED with the reason in
 * err); other failures are storage failures.
 */
static sc_status admin_prepare(txn *t, Scpb__Op *op, prepared *p, sc_err *err)
{
    sd_register *r = t->r;
    Scpb__Op o = *op;
    o.has_version = true;
    o.version = 1;
    o.has_author = true;
    o.author.data = r->server_key;
    o.author.len = SC_KEY_LEN;
    if (!o.has_entity) {
        sc_uuid7_new(t->env, p->entity);
        o.has_entity = true;
        o.entity.data = p->entity;
        o.entity.len = SC_ID_LEN;
    }
    uint64_t maxdep = 0;
    if (o.n_deps == 0 && !sc_op_kind_is_create(o.body_case) && o.entity.len == SC_ID_LEN) {
        ent *e = ent_get(t, o.entity.data);
        if (!e)
            return t->rc;
        const Scpb__EntityState *st = e->exists ? ent_state(t, e) : NULL;
        if (e->exists && !st)
            return t->rc;
        size_t n = st ? st->n_heads : 0;
        for (size_t i = 0; i < n && i < SC_DEPS_MAX; i++) {
            if (st->heads[i].len != SC_HASH_LEN)
                continue;
            memcpy(p->dep_ids[o.n_deps], st->heads[i].data, SC_HASH_LEN);
            p->deps[o.n_deps].data = p->dep_ids[o.n_deps];
            p->deps[o.n_deps].len = SC_HASH_LEN;
            o.n_deps++;
        }
        o.deps = p->deps;
    }
    for (size_t i = 0; i < o.n_deps; i++) {
        sd_op_row found;
        if (o.deps[i].len != SC_HASH_LEN)
            continue;
        sc_status rc = t->s->vt->op_find(t->s, o.deps[i].data, &found, err);
        if (rc == SC_OK && found.hlc > maxdep)
            maxdep = found.hlc;
        else if (rc != SC_OK && rc != SC_ERR_NOT_FOUND)
            return fail(t, rc);
    }
    sc_hlc hlc = sc_hlc_make(t->now, 0);
    if (hlc <= maxdep)
        hlc = maxdep + 1;
    o.has_hlc = true;
    o.hlc = hlc;
    o.has_device_time_ms = true;
    o.device_time_ms = t->now;
    sc_err serr;
    sc_err_clear(&serr);
    sc_status rc = sc_op_seal(t->env, r->kp, &o, &p->op, &serr);
    if (rc == SC_ERR_NOMEM)
        return fail(t, sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory"));
    if (rc != SC_OK)
        return sc_err_set(err, SC_ERR_REJECTED, serr.reason ? serr.reason : R_(MALFORMED), "%s",
                          serr.msg);
    op->has_version = true;
    op->version = 1;
    op->has_author = true;
    op->author.data = r->server_key;
    op->author.len = SC_KEY_LEN;
    op->has_hlc = true;
    op->hlc = hlc;
    op->has_device_time_ms = true;
    op->device_time_ms = t->now;
    return SC_OK;
}

/*
 * Prepare, judge and log an admin op inside an open transaction.  SC_OK
 * when logged; SC_ERR_REJECTED with the reason in err; else a storage
 * failure.
 */
static sc_status admin_in_txn(txn *t, Scpb__Op *op, uint64_t *out_index, uint8_t entity[SC_ID_LEN],
                              sc_err *err)
{
    prepared p;
    memset(&p, 0, sizeof p);
    sc_status rc = admin_prepare(t, op, &p, err);
    if (rc != SC_OK)
        return rc;
    actor a;
    actor_server(t->r, &a);
    sd_result res;
    memset(&res, 0, sizeof res);
    bool taken = false;
    rc = judge_op(t, &a, p.op, true, t->now, &res, &taken);
    if (rc == SC_OK && res.status == SCPB__OP_STATUS__OP_DUPLICATE)
        rc = sc_err_set(err, SC_ERR_REJECTED, R_(ENTITY_EXISTS), "the same admin op is already logged");
    else if (rc == SC_OK && rejected(&res))
        rc = sc_err_set(err, SC_ERR_REJECTED, res.reason, "%s", res.message);
    if (rc == SC_OK) {
        if (out_index)
            *out_index = res.log_index;
        if (entity)
            memcpy(entity, p.op->op->entity.data, SC_ID_LEN);
    }
    if (!taken)
        sc_op_free(t->env, p.op);
    return rc;
}

sc_status sd_register_admin_op(sd_register *r, Scpb__Op *op, uint64_t *out_index, sc_err *err)
{
    sc_err_clear(err);
    pthread_mutex_lock(&r->wmu);
    txn t;
    sc_status rc = txn_begin(r, &t, err);
    if (rc == SC_OK)
        rc = admin_in_txn(&t, op, out_index, NULL, err);
    if (rc == SC_OK)
        rc = txn_commit(&t);
    txn_end(&t, rc != SC_OK);
    pthread_mutex_unlock(&r->wmu);
    if (rc != SC_OK && rc != SC_ERR_REJECTED) {
        if (err) {
            err->code = SC_ERR_STORAGE;
            err->reason = R_(STORAGE);
        }
        rc = SC_ERR_STORAGE;
    }
    return rc;
}

/* ---- enrollment ---- */

/* Crockford's base32 alphabet: no I, L, O or U, so codes read aloud and type cleanly. */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
#define CODE_GROUPS 5
#define CODE_GROUP_LEN 4
#define CODE_CHARS (CODE_GROUPS * CODE_GROUP_LEN) /* 20 characters, 100 bits */

/* Normalize a typed code (case, I/L -> 1, O -> 0, separators dropped) to its 20 characters. */
static bool code_normalize(const char *in, char out[CODE_CHARS + 1])
{
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (c == '-' || c == ' ')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c == 'I' || c == 'L')
            c = '1';
        if (c == 'O')
            c = '0';
        if (!strchr(crockford, c) || c == '\0' || n == CODE_CHARS)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == CODE_CHARS;
}

static void code_hash(const char norm[CODE_CHARS + 1], uint8_t out[SC_HASH_LEN])
{
    sc_sha256(norm, CODE_CHARS, out);
}

sc_status sd_register_enroll_code(sd_register *r, const char *login, unsigned ttl_hours, char *out,
                                  size_t cap, sc_err *err)
{
    sc_err_clear(err);
    if (cap)
        out[0] = '\0';
    if (!login || !login[0])
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "enroll: a login is needed");
    if (ttl_hours == 0 || ttl_hours > 24 * 365)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "enroll: --ttl must be 1 to 8760 hours");
    if (cap < CODE_CHARS + CODE_GROUPS)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "enroll: code buffer too small");
    uint8_t rnd[CODE_CHARS];
    sc_env_random(&r->env, rnd, sizeof rnd);
    char norm[CODE_CHARS + 1];
    for (size_t i = 0; i < CODE_CHARS; i++)
        norm[i] = crockford[rnd[i] & 31];
    norm[CODE_CHARS] = '\0';
    sodium_memzero(rnd, sizeof rnd);
    size_t k = 0;
    for (size_t i = 0; i < CODE_CHARS; i++) {
        if (i && i % CODE_GROUP_LEN == 0)
            out[k++] = '-';
        out[k++] = norm[i];
    }
    out[k] = '\0';

    sd_enroll_row row;
    memset(&row, 0, sizeof row);
    code_hash(norm, row.hash);
    sodium_memzero(norm, sizeof norm);
    pthread_mutex_lock(&r->wmu);
    sd_store *s = r->writer.s;
    sc_status rc = s->vt->begin(s, true, err);
    if (rc == SC_OK) {
        rc = s->vt->code_find(s, T_(USER), login, 0, row.user, err);
        if (rc == SC_ERR_NOT_FOUND)
            rc = sc_err_set(err, SC_ERR_NOT_FOUND, R_(UNKNOWN_REFERENCE), "no user with login \"%s\"",
                            login);
    }
    if (rc == SC_OK) {
        row.created_ms = sc_env_now_ms(&r->env);
        row.expires_ms = row.created_ms + (int64_t)ttl_hours * 3600 * 1000;
        rc = s->vt->enroll_put(s, &row, err);
    }
    if (rc == SC_OK)
        rc = s->vt->commit(s, err);
    if (rc != SC_OK)
        s->vt->rollback(s);
    pthread_mutex_unlock(&r->wmu);
    if (rc != SC_OK && cap)
        sodium_memzero(out, cap);
    return rc;
}

static char *str_copy(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (c)
        memcpy(c, s, n + 1);
    return c;
}

static bool bytes_copy(ProtobufCBinaryData *dst, protobuf_c_boolean *has, const void *src,
                       size_t len)
{
    dst->data = malloc(len ? len : 1);
    if (!dst->data)
        return false;
    memcpy(dst->data, src, len);
    dst->len = len;
    if (has)
        *has = true;
    return true;
}

sc_status sd_register_enroll(sd_register *r, const Scpb__EnrollRequest *req,
                             Scpb__EnrollResponse **out, sc_err *err)
{
    sc_err_clear(err);
    *out = NULL;
    if (!req || !req->code || !req->has_device_key || req->device_key.len != SC_KEY_LEN ||
        !req->has_proof || req->proof.len != SC_SIG_LEN)
        return sc_err_set(err, SC_ERR_MALFORMED, R_(MALFORMED),
                          "enroll: code, a 32-byte device_key and a 64-byte proof are needed");
    size_t code_len = strnlen(req->code, 128);
    if (code_len >= 128 || (req->label && (strnlen(req->label, SC_NAME_MAX + 1) > SC_NAME_MAX ||
                                           !sc_utf8_valid(req->label, strlen(req->label)))))
        return sc_err_set(err, SC_ERR_MALFORMED, R_(MALFORMED), "enroll: code or label too long");
    /* The proof covers code || device_key, exactly as sent. */
    uint8_t msg[128 + SC_KEY_LEN];
    memcpy(msg, req->code, code_len);
    memcpy(msg + code_len, req->device_key.data, SC_KEY_LEN);
    if (sc_verify(&r->env, req->device_key.data, SC_DOMAIN_ENROLL, msg, code_len + SC_KEY_LEN,
                  req->proof.data) != SC_OK)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, R_(BAD_SIGNATURE),
                          "enroll: the proof does not verify under the device key");
    char norm[CODE_CHARS + 1];
    uint8_t hash[SC_HASH_LEN];
    bool well_formed = code_normalize(req->code, norm);
    code_hash(norm, hash);
    sodium_memzero(norm, sizeof norm);

    uint8_t device_id[SC_ID_LEN];
    uint8_t user[SC_ID_LEN];
    pthread_mutex_lock(&r->wmu);
    txn t;
    sc_status rc = txn_begin(r, &t, err);
    if (rc == SC_OK) {
        sd_enroll_row row;
        sc_status frc = well_formed ? t.s->vt->enroll_get(t.s, hash, &row, err) : SC_ERR_NOT_FOUND;
        if (frc == SC_OK && (row.used || row.expires_ms <= t.now))
            frc = SC_ERR_NOT_FOUND;
        if (frc == SC_ERR_NOT_FOUND)
            rc = sc_err_set(err, SC_ERR_FORBIDDEN, R_(FORBIDDEN_ROLE),
                            "enroll: the code is unknown, already used or expired; ask the admin "
                            "for a new one");
        else
            rc = frc;
        if (rc == SC_OK)
            memcpy(user, row.user, SC_ID_LEN);
    }
    if (rc == SC_OK) {
        sd_device_row d;
        sc_status drc = t.s->vt->device_get(t.s, req->device_key.data, &d, err);
        if (drc == SC_OK)
            rc = sc_err_set(err, SC_ERR_EXISTS, R_(ENTITY_EXISTS),
                            "enroll: this device key is already enrolled");
        else if (drc != SC_ERR_NOT_FOUND)
            rc = drc;
    }
    if (rc == SC_OK) {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__DeviceEnroll de = SCPB__DEVICE_ENROLL__INIT;
        sc_uuid7_new(t.env, device_id);
        op.has_entity = true;
        op.entity.data = device_id;
        op.entity.len = SC_ID_LEN;
        op.has_entity_type = true;
        op.entity_type = T_(DEVICE);
        op.body_case = K_(DEVICE_ENROLL);
        op.device_enroll = &de;
        de.has_user = true;
        de.user.data = user;
        de.user.len = SC_ID_LEN;
        de.has_key = true;
        de.key = req->device_key;
        de.label = req->label;
        rc = admin_in_txn(&t, &op, NULL, NULL, err);
        if (rc == SC_ERR_REJECTED && err && err->reason == R_(ENTITY_EXISTS))
            rc = SC_ERR_EXISTS;
    }
    if (rc == SC_OK) {
        rc = t.s->vt->enroll_use(t.s, hash, t.now, device_id, err);
        if (rc == SC_ERR_NOT_FOUND)
            rc = sc_err_set(err, SC_ERR_FORBIDDEN, R_(FORBIDDEN_ROLE),
                            "enroll: the code is unknown, already used or expired");
    }
    if (rc == SC_OK)
        rc = txn_commit(&t);
    int64_t now = t.now;
    txn_end(&t, rc != SC_OK);
    pthread_mutex_unlock(&r->wmu);
    if (rc != SC_OK) {
        if (err && err->reason == 0)
            err->reason = R_(STORAGE);
        return rc;
    }

    /* The answer: who the device now speaks for, and the log it joins. */
    conn *c = NULL;
    rc = pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    Scpb__EnrollResponse *m = calloc(1, sizeof *m);
    Scpb__EntityState *st = NULL;
    sd_entity_row u;
    memset(&u, 0, sizeof u);
    if (!m) {
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
        goto done;
    }
    scpb__enroll_response__init(m);
    rc = c->s->vt->entity_get(c->s, user, true, &u, err);
    if (rc == SC_OK)
        rc = decode_state(&r->env, u.state, u.state_len, &st, err);
    if (rc == SC_OK && st->kind_case != SCPB__ENTITY_STATE__KIND_USER)
        rc = sc_err_set(err, SC_ERR_STORAGE, R_(STORAGE), "register: the code's user is not a user");
    if (rc == SC_OK)
        rc = sd_tlog_latest(c->s, &m->checkpoint, err);
    if (rc != SC_OK)
        goto done;
    bool ok = bytes_copy(&m->user, &m->has_user, user, SC_ID_LEN) &&
              bytes_copy(&m->server_key, &m->has_server_key, r->server_key, SC_KEY_LEN) &&
              bytes_copy(&m->device, &m->has_device, device_id, SC_ID_LEN);
    m->login = str_copy(st->user->login ? st->user->login : "");
    m->name = str_copy(st->user->name ? st->user->name : "");
    m->origin = str_copy(r->origin);
    if (st->user->has_org)
        ok = ok && bytes_copy(&m->org, &m->has_org, st->user->org.data, st->user->org.len);
    m->has_role = true;
    m->role = st->user->role;
    m->has_server_time_ms = true;
    m->server_time_ms = now;
    if (!ok || !m->login || !m->name || !m->origin)
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
done:
    free(u.state);
    sc_state_free(&r->env, st);
    pool_put(r, c);
    if (rc != SC_OK) {
        sd_msg_free(m);
        return rc;
    }
    *out = m;
    return SC_OK;
}

/* ---- pull ---- */

typedef struct pull_ctx {
    sd_register *r;
    conn *c;
    const sd_pull *req;
    const sd_orgtree *tree;
    idmap memo;                   /* entity -> (void *)1 visible, (void *)2 not */
    uint8_t (*exclude)[SC_HASH_LEN]; /* sorted */
    size_t nexclude;
    Scpb__LoggedOp **ops;
    size_t n, max;
    uint64_t before;              /* release rows: only ops logged before the cursor */
    uint64_t scanned;
    uint64_t next_idx;            /* the first log row not looked at yet */
    uint64_t next_seq;            /* the first release event not looked at yet */
    bool full;                    /* stopped at max */
    bool budget;                  /* stopped at the scan budget */
    sc_status rc;
    sc_err *err;
} pull_ctx;

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, SC_HASH_LEN);
}

static bool excluded(const pull_ctx *p, const uint8_t id[SC_HASH_LEN])
{
    return p->nexclude && bsearch(id, p->exclude, p->nexclude, SC_HASH_LEN, cmp_hash) != NULL;
}

static bool pull_add(pull_ctx *p, const sd_pull_row *row)
{
    Scpb__LoggedOp *m = malloc(sizeof *m);
    if (!m) {
        p->rc = sc_err_set(p->err, SC_ERR_NOMEM, 0, "pull: out of memory");
        return false;
    }
    scpb__logged_op__init(m);
    if (!bytes_copy(&m->signed_op, &m->has_signed_op, row->op.signed_op, row->op.signed_len)) {
        free(m);
        p->rc = sc_err_set(p->err, SC_ERR_NOMEM, 0, "pull: out of memory");
        return false;
    }
    m->has_log_index = true;
    m->log_index = row->op.idx;
    m->has_received_ms = true;
    m->received_ms = row->op.received_ms;
    p->ops[p->n++] = m;
    return true;
}

static bool row_visible(pull_ctx *p, const sd_pull_row *row)
{
    const sd_principal *who = p->req->who;
    if (row->vis_class == SD_VIS_ALL || is_admin(who) || who->role == SCPB__ROLE__ROLE_AUDITOR)
        return true;
    void **slot = idmap_find(&p->memo, row->op.entity);
    if (slot)
        return *slot == (void *)1;
    bool in_scope = row->has_scope && sd_orgtree_within(p->tree, row->scope_org, who->org);
    bool named = false;
    if ((row->vis_class == SD_VIS_ASSIGNMENT_OPEN || row->vis_class == SD_VIS_ASSIGNMENT_SECRET) &&
        who->role == SCPB__ROLE__ROLE_INSPECTOR) {
        sc_status rc = p->c->s->vt->assignee_has(p->c->s, row->op.entity, who->user, p->err);
        if (rc == SC_OK)
            named = true;
        else if (rc != SC_ERR_NOT_FOUND)
            p->rc = rc;
    }
    bool vis = sd_visible(who->role, row->vis_class, in_scope, named, row->released);
    if (!idmap_put(&p->memo, row->op.entity, vis ? (void *)1 : (void *)2))
        p->rc = sc_err_set(p->err, SC_ERR_NOMEM, 0, "pull: out of memory");
    return vis;
}

static bool pull_release_row(void *ctx, const sd_pull_row *row)
{
    pull_ctx *p = ctx;
    if (p->n == p->max) {
        p->full = true;
        return false;
    }
    if (row->op.idx < p->before && !excluded(p, row->op.op_id)) {
        const sd_principal *who = p->req->who;
        bool in_scope = row->has_scope && sd_orgtree_within(p->tree, row->scope_org, who->org);
        if (sd_visible(who->role, row->vis_class, in_scope, false, row->released) &&
            !pull_add(p, row))
            return false;
    }
    p->next_seq = row->seq + 1;
    return p->rc == SC_OK;
}

static bool pull_log_row(void *ctx, const sd_pull_row *row)
{
    pull_ctx *p = ctx;
    if (p->n == p->max) {
        p->full = true;
        return false;
    }
    if (p->scanned == PULL_SCAN_MAX) {
        p->budget = true;
        return false;
    }
    p->scanned++;
    if (!excluded(p, row->op.op_id) && row_visible(p, row) && p->rc == SC_OK && !pull_add(p, row))
        return false;
    p->next_idx = row->op.idx + 1;
    return p->rc == SC_OK;
}

static sc_status cursor_encode(uint64_t log_index, uint64_t seq, sd_pulled *out, sc_err *err)
{
    Scpb__Cursor cur = SCPB__CURSOR__INIT;
    cur.has_log_index = true;
    cur.log_index = log_index;
    cur.has_release_seq = true;
    cur.release_seq = seq;
    size_t len = scpb__cursor__get_packed_size(&cur);
    out->cursor = malloc(len ? len : 1);
    if (!out->cursor)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "pull: out of memory");
    out->cursor_len = scpb__cursor__pack(&cur, out->cursor);
    return SC_OK;
}

void sd_pulled_dispose(sd_pulled *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        sd_msg_free(p->ops[i]);
    free(p->ops);
    free(p->cursor);
    memset(p, 0, sizeof *p);
}

sc_status sd_register_pull(sd_register *r, const sd_pull *req, sd_pulled *out, sc_err *err)
{
    sc_err_clear(err);
    memset(out, 0, sizeof *out);
    uint64_t L = 0, R = 0;
    if (req->cursor && req->cursor_len) {
        Scpb__Cursor *cur = req->cursor_len <= CURSOR_MAX
                                ? scpb__cursor__unpack(NULL, req->cursor_len, req->cursor)
                                : NULL;
        bool ok = cur && cur->has_log_index && cur->has_release_seq && cur->base.n_unknown_fields == 0;
        if (ok) {
            L = cur->log_index;
            R = cur->release_seq;
        }
        if (cur)
            scpb__cursor__free_unpacked(cur, NULL);
        if (!ok)
            return sc_err_set(err, SC_ERR_MALFORMED, R_(MALFORMED),
                              "the cursor is not one this server made");
    }
    size_t max = req->max ? req->max : r->cfg.pull_max;
    if (max > r->cfg.pull_max)
        max = r->cfg.pull_max;
    if (max > SC_PULL_OPS_MAX)
        max = SC_PULL_OPS_MAX;

    pull_ctx p;
    memset(&p, 0, sizeof p);
    p.r = r;
    p.req = req;
    p.err = err;
    p.max = max;
    p.before = L;
    sc_status rc = SC_OK;
    if (req->nexclude) {
        p.exclude = malloc(req->nexclude * sizeof *p.exclude);
        if (!p.exclude)
            return sc_err_set(err, SC_ERR_NOMEM, 0, "pull: out of memory");
        memcpy(p.exclude, req->exclude, req->nexclude * sizeof *p.exclude);
        qsort(p.exclude, req->nexclude, SC_HASH_LEN, cmp_hash);
        p.nexclude = req->nexclude;
    }
    p.ops = calloc(max ? max : 1, sizeof *p.ops);
    if (!p.ops) {
        free(p.exclude);
        return sc_err_set(err, SC_ERR_NOMEM, 0, "pull: out of memory");
    }
    rc = pool_get(r, &p.c, err);
    if (rc != SC_OK)
        goto done;
    sd_store *s = p.c->s;
    uint64_t size = 0, next_seq = 0;
    rc = s->vt->begin(s, false, err);
    if (rc == SC_OK)
        rc = s->vt->log_size(s, &size, err);
    if (rc == SC_OK)
        rc = s->vt->release_next_seq(s, &next_seq, err);
    if (rc == SC_OK && (L > size || R > next_seq))
        rc = sc_err_set(err, SC_ERR_MALFORMED, R_(MALFORMED),
                        "the cursor is not one this server made (it is past the log)");
    if (rc == SC_OK)
        rc = sd_orgcache_get(&p.c->orgs, s, &p.tree, err);
    if (rc != SC_OK)
        goto done;

    uint64_t newR = next_seq, newL = size;
    bool more = false;
    if (req->who->role == SCPB__ROLE__ROLE_RESPONSIBLE && R < next_seq && L > 0) {
        p.next_seq = R;
        rc = s->vt->pull_releases(s, R, pull_release_row, &p, err);
        if (rc == SC_OK)
            rc = p.rc;
        if (rc != SC_OK)
            goto done;
        if (p.full) {
            newR = p.next_seq;
            newL = L;
            more = true;
        }
    }
    if (!more && L < size) {
        p.next_idx = L;
        rc = s->vt->pull_log(s, L, pull_log_row, &p, err);
        if (rc == SC_OK)
            rc = p.rc;
        if (rc != SC_OK)
            goto done;
        if (p.full || p.budget) {
            newL = p.next_idx;
            more = newL < size;
        }
    }
    rc = s->vt->commit(s, err);
    if (rc == SC_OK)
        rc = cursor_encode(newL, newR, out, err);
    if (rc == SC_OK) {
        out->ops = p.ops;
        out->n = p.n;
        out->more = more;
        p.ops = NULL;
        p.n = 0;
    }
done:
    for (size_t i = 0; i < p.n; i++)
        sd_msg_free(p.ops[i]);
    free(p.ops);
    free(p.exclude);
    idmap_dispose(&p.memo);
    if (p.c)
        pool_put(r, p.c);
    if (rc != SC_OK) {
        free(out->cursor);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

/* ---- the log ---- */

sc_status sd_register_checkpoint(sd_register *r, Scpb__Checkpoint **out, sc_err *err)
{
    sc_err_clear(err);
    *out = NULL;
    conn *c = NULL;
    sc_status rc = pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    rc = sd_tlog_latest(c->s, out, err);
    pool_put(r, c);
    return rc;
}

typedef sc_status (*proof_fn)(sd_tlog_reader *rd, uint64_t a, uint64_t b,
                              uint8_t (*out)[SC_HASH_LEN], size_t cap, size_t *n);

static sc_status incl(sd_tlog_reader *rd, uint64_t a, uint64_t b, uint8_t (*out)[SC_HASH_LEN],
                      size_t cap, size_t *n)
{
    return sc_merkle_inclusion_proof(sd_tlog_node, rd, a, b, out, cap, n);
}

static sc_status cons(sd_tlog_reader *rd, uint64_t a, uint64_t b, uint8_t (*out)[SC_HASH_LEN],
                      size_t cap, size_t *n)
{
    return sc_merkle_consistency_proof(sd_tlog_node, rd, a, b, out, cap, n);
}

/* Compute a proof against the current log; checks a < b <= size (inclusion) or 0 < a <= b <= size. */
static sc_status proof(sd_register *r, bool inclusion, uint64_t a, uint64_t b,
                       ProtobufCBinaryData **hashes, size_t *nh, sc_err *err)
{
    *hashes = NULL;
    *nh = 0;
    conn *c = NULL;
    sc_status rc = pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    uint64_t size = 0;
    uint8_t(*buf)[SC_HASH_LEN] = malloc(SC_PROOF_HASHES_MAX * SC_HASH_LEN);
    size_t n = 0;
    if (!buf) {
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "proof: out of memory");
        goto done;
    }
    rc = c->s->vt->begin(c->s, false, err);
    if (rc == SC_OK)
        rc = c->s->vt->log_size(c->s, &size, err);
    if (rc != SC_OK)
        goto done;
    if (inclusion && (a >= b || b > size)) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, R_(BAD_FIELD),
                        "inclusion proof: need index < size <= %llu", (unsigned long long)size);
        goto done;
    }
    if (!inclusion && (a == 0 || a > b || b > size)) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, R_(BAD_FIELD),
                        "consistency proof: need 0 < old <= size <= %llu",
                        (unsigned long long)size);
        goto done;
    }
    sd_tlog_reader rd = {c->s, err};
    rc = (inclusion ? incl : cons)(&rd, a, b, buf, SC_PROOF_HASHES_MAX, &n);
    if (rc != SC_OK) {
        if (err && err->code == SC_OK)
            sc_err_set(err, rc, R_(STORAGE), "proof: the log's nodes are incomplete");
        goto done;
    }
    rc = c->s->vt->commit(c->s, err);
    if (rc != SC_OK)
        goto done;
    ProtobufCBinaryData *v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "proof: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (!bytes_copy(&v[i], NULL, buf[i], SC_HASH_LEN)) {
            for (size_t j = 0; j < i; j++)
                free(v[j].data);
            free(v);
            rc = sc_err_set(err, SC_ERR_NOMEM, 0, "proof: out of memory");
            goto done;
        }
    }
    *hashes = v;
    *nh = n;
done:
    free(buf);
    pool_put(r, c);
    return rc;
}

sc_status sd_register_inclusion(sd_register *r, uint64_t index, uint64_t size,
                                Scpb__InclusionProof **out, sc_err *err)
{
    sc_err_clear(err);
    *out = NULL;
    Scpb__InclusionProof *m = malloc(sizeof *m);
    if (!m)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "proof: out of memory");
    scpb__inclusion_proof__init(m);
    sc_status rc = proof(r, true, index, size, &m->hashes, &m->n_hashes, err);
    if (rc != SC_OK) {
        free(m);
        return rc;
    }
    m->has_leaf_index = true;
    m->leaf_index = index;
    m->has_tree_size = true;
    m->tree_size = size;
    *out = m;
    return SC_OK;
}

sc_status sd_register_consistency(sd_register *r, uint64_t old_size, uint64_t size,
                                  Scpb__ConsistencyProof **out, sc_err *err)
{
    sc_err_clear(err);
    *out = NULL;
    Scpb__ConsistencyProof *m = malloc(sizeof *m);
    if (!m)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "proof: out of memory");
    scpb__consistency_proof__init(m);
    sc_status rc = proof(r, false, old_size, size, &m->hashes, &m->n_hashes, err);
    if (rc != SC_OK) {
        free(m);
        return rc;
    }
    m->has_old_size = true;
    m->old_size = old_size;
    m->has_new_size = true;
    m->new_size = size;
    *out = m;
    return SC_OK;
}

typedef struct entries_ctx {
    Scpb__LogEntries *m;
    bool oom;
} entries_ctx;

static bool entry_row(void *ctx, const sd_op_row *row)
{
    entries_ctx *e = ctx;
    Scpb__LoggedOp *lo = malloc(sizeof *lo);
    if (!lo) {
        e->oom = true;
        return false;
    }
    scpb__logged_op__init(lo);
    if (!bytes_copy(&lo->signed_op, &lo->has_signed_op, row->signed_op, row->signed_len)) {
        free(lo);
        e->oom = true;
        return false;
    }
    lo->has_log_index = true;
    lo->log_index = row->idx;
    lo->has_received_ms = true;
    lo->received_ms = row->received_ms;
    e->m->entries[e->m->n_entries++] = lo;
    return true;
}

sc_status sd_register_entries(sd_register *r, const sd_principal *who, uint64_t start,
                              uint32_t count, Scpb__LogEntries **out, sc_err *err)
{
    sc_err_clear(err);
    *out = NULL;
    if (!who || (!is_admin(who) && who->role != SCPB__ROLE__ROLE_AUDITOR))
        return sc_err_set(err, SC_ERR_FORBIDDEN, R_(FORBIDDEN_ROLE),
                          "log entries are for auditors and admins only");
    if (count > 1000)
        return sc_err_set(err, SC_ERR_INVALID_ARG, R_(BAD_FIELD), "count: at most 1000 entries");
    Scpb__LogEntries *m = malloc(sizeof *m);
    if (!m)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "entries: out of memory");
    scpb__log_entries__init(m);
    m->entries = calloc(count ? count : 1, sizeof *m->entries);
    conn *c = NULL;
    sc_status rc = m->entries ? pool_get(r, &c, err)
                              : sc_err_set(err, SC_ERR_NOMEM, 0, "entries: out of memory");
    if (rc == SC_OK)
        rc = c->s->vt->begin(c->s, false, err);
    if (rc == SC_OK && count) {
        entries_ctx e = {m, false};
        uint64_t end = start + count < start ? UINT64_MAX : start + count;
        rc = c->s->vt->op_scan(c->s, start, end, entry_row, &e, err);
        if (rc == SC_OK && e.oom)
            rc = sc_err_set(err, SC_ERR_NOMEM, 0, "entries: out of memory");
    }
    if (rc == SC_OK)
        rc = sd_tlog_latest(c->s, &m->checkpoint, err);
    if (rc == SC_OK)
        rc = c->s->vt->commit(c->s, err);
    if (c)
        pool_put(r, c);
    if (rc != SC_OK) {
        sd_msg_free(m);
        return rc;
    }
    *out = m;
    return SC_OK;
}

/* ---- lookups, stats, health ---- */

sc_status sd_register_state(sd_register *r, const uint8_t id[SC_ID_LEN], Scpb__EntityState **out,
                            sc_err *err)
{
    *out = NULL;
    conn *c = NULL;
    sc_status rc = pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    sd_entity_row row;
    rc = c->s->vt->entity_get(c->s, id, true, &row, err);
    if (rc == SC_OK) {
        Scpb__EntityState *st = scpb__entity_state__unpack(NULL, row.state_len, row.state);
        if (!st)
            rc = sc_err_set(err, SC_ERR_STORAGE, R_(STORAGE), "register: a stored state does not decode");
        *out = st;
        free(row.state);
    } else if (rc == SC_ERR_NOT_FOUND) {
        char hex[SC_ID_HEX];
        hex_id(id, SC_ID_LEN, hex, sizeof hex);
        sc_err_set(err, SC_ERR_NOT_FOUND, R_(UNKNOWN_ENTITY), "no entity %s", hex);
    }
    pool_put(r, c);
    return rc;
}

sc_status sd_register_lookup_code(sd_register *r, Scpb__EntityType kind, const char *code,
                                  uint32_t version, uint8_t out[SC_ID_LEN], sc_err *err)
{
    conn *c = NULL;
    sc_status rc = pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    rc = c->s->vt->code_find(c->s, (int)kind, code, version, out, err);
    if (rc == SC_ERR_NOT_FOUND)
        sc_err_set(err, SC_ERR_NOT_FOUND, R_(UNKNOWN_REFERENCE), "no %s with code \"%s\"",
                   type_name(kind), code);
    pool_put(r, c);
    return rc;
}

sc_status sd_register_stats_get(sd_register *r, sd_register_stats *out, sc_err *err)
{
    memset(out, 0, sizeof *out);
    conn *c = NULL;
    sc_status rc = pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    sd_store *s = c->s;
    rc = s->vt->begin(s, false, err);
    if (rc == SC_OK)
        rc = s->vt->log_size(s, &out->log_size, err);
    if (rc == SC_OK)
        rc = s->vt->entity_count(s, &out->entities, err);
    if (rc == SC_OK)
        rc = s->vt->device_count(s, &out->devices, err);
    if (rc == SC_OK)
        rc = s->vt->checkpoint_count(s, &out->checkpoints, err);
    if (rc == SC_OK)
        rc = s->vt->commit(s, err);
    pool_put(r, c);
    return rc;
}

sc_status sd_register_health(sd_register *r, sc_err *err)
{
    sd_register_stats st;
    sc_status rc = sd_register_stats_get(r, &st, err);
    if (rc != SC_OK)
        return rc;
    /* A write under way proves writes work; otherwise take and drop the write lock. */
    if (pthread_mutex_trylock(&r->wmu) != 0)
        return SC_OK;
    sd_store *s = r->writer.s;
    rc = s->vt->begin(s, true, err);
    s->vt->rollback(s);
    pthread_mutex_unlock(&r->wmu);
    return rc;
}

sc_status sd_register_limit_storage(sd_register *r, uint64_t extra_pages, sc_err *err)
{
    pthread_mutex_lock(&r->wmu);
    sc_status rc = r->writer.s->vt->limit_pages(r->writer.s, extra_pages, err);
    pthread_mutex_unlock(&r->wmu);
    return rc;
}
