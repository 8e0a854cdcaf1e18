/*
 * register.c: the register handle (register.h): opening and closing it,
 * the pool of read connections, resolving principals, deciding whether an
 * entity is visible to one, and the small reads (lookups, stats, health).
 * The rest of the register lives beside it, one concern per file
 * (register_internal.h has the map): writing ops in register_write.c,
 * judging them in register_judge.c, logging what passed in
 * register_accept.c, enrollment, pull and the log in register_enroll.c,
 * register_pull.c and register_log.c.
 *
 * Invariants:
 *  - Writes go through one writer connection under a mutex (wmu); reads
 *    come from a small pool of connections, each used by one thread at a
 *    time.
 *  - The handle keeps no state across transactions that the database does
 *    not also hold (the frontier and org trees are caches, validated before
 *    use), so `syncd admin` may write while `syncd serve` runs.
 */
#include "register.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/keyfile.h"
#include "core/ids.h"
#include "core/names.h"
#include "core/state.h"
#include "register_internal.h"
#include "store/store.h"
#include "visibility.h"

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

static size_t id_hash(const uint8_t id[SC_ID_LEN])
{
    uint64_t a, b;
    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full);
    return (size_t)(h ^ (h >> 31));
}

void **sd_idmap_find(const sd_idmap *m, const uint8_t id[SC_ID_LEN])
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

bool sd_idmap_put(sd_idmap *m, const uint8_t id[SC_ID_LEN], void *v)
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

void sd_idmap_dispose(sd_idmap *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

/* ---- the handle ---- */

static void conn_close(sd_conn *c)
{
    if (!c)
        return;
    sd_orgcache_dispose(&c->orgs);
    if (c->s)
        c->s->vt->close(c->s);
    c->s = NULL;
}

sc_status sd_pool_get(sd_register *r, sd_conn **out, sc_err *err)
{
    *out = NULL;
    pthread_mutex_lock(&r->pmu);
    while (r->nidle == 0 && r->nopen >= SD_POOL_MAX)
        pthread_cond_wait(&r->pcv, &r->pmu);
    if (r->nidle > 0) {
        *out = r->idle[--r->nidle];
        pthread_mutex_unlock(&r->pmu);
        return SC_OK;
    }
    r->nopen++;
    pthread_mutex_unlock(&r->pmu);
    sd_conn *c = calloc(1, sizeof *c);
    sc_status rc = c ? sd_store_open_at(&r->where, false, &c->s, err)
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

void sd_pool_put(sd_register *r, sd_conn *c)
{
    if (!c)
        return;
    c->s->vt->rollback(c->s); /* ends a read transaction a failed path left open */
    pthread_mutex_lock(&r->pmu);
    r->idle[r->nidle++] = c;
    pthread_cond_signal(&r->pcv);
    pthread_mutex_unlock(&r->pmu);
}

sc_status sd_register_seal(sd_register *r, const sc_seal *s, uint8_t *out, size_t cap, size_t *len,
                           uint8_t sig[SC_SIG_LEN], sc_err *err)
{
    sc_status rc = sc_seal_sign(&r->env, r->kp, s, out, cap, len, sig);
    if (rc != SC_OK)
        return sc_err_set(err, rc, R_(STORAGE), "cannot sign the answer: %s", sc_strerror(rc));
    return SC_OK;
}

const uint8_t *sd_register_server_key(const sd_register *r)
{
    return r->server_key;
}

const char *sd_register_blob_dir(const sd_register *r)
{
    return r->where.blobs;
}

bool sd_register_shared(const sd_register *r)
{
    return r->writer.s->vt->nonce_claim != NULL;
}

sc_status sd_register_nonce_claim(void *ctx, const uint8_t device[SC_KEY_LEN],
                                  const uint8_t nonce[16], int64_t time_ms, bool *fresh,
                                  sc_err *err)
{
    sd_register *r = ctx;
    *fresh = false;
    if (!sd_register_shared(r))
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "register: no shared replay cache");
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
    if (rc == SC_OK)
        rc = c->s->vt->nonce_claim(c->s, device, nonce, time_ms, fresh, err);
    sd_pool_put(r, c);
    return rc;
}

sc_status sd_register_nonce_sweep(sd_register *r, int64_t before_ms, uint64_t *n, sc_err *err)
{
    *n = 0;
    if (!sd_register_shared(r))
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "register: no shared replay cache");
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
    if (rc == SC_OK)
        rc = c->s->vt->nonce_sweep(c->s, before_ms, n, err);
    sd_pool_put(r, c);
    return rc;
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

/*
 * When this register first ran with the rectification rules: read from
 * meta, or now, written there, when it is opened by this version for the
 * first time (a new register, or one of an earlier version).  Findings an
 * older client recorded before then keep their earlier rules; after it, an
 * older client's finding is refused (register_judge.c).
 */
static sc_status gov_since(sd_register *r, sc_err *err)
{
    static const char key[] = "gov_rules_since_ms";
    sd_store *s = r->writer.s;
    uint8_t *v = NULL;
    size_t n = 0;
    sc_err e2 = {0};
    sc_status rc = s->vt->meta_get(s, key, &v, &n, &e2);
    if (rc == SC_OK) {
        char text[24] = {0}, *end = NULL;
        memcpy(text, v, n < sizeof text - 1 ? n : sizeof text - 1);
        free(v);
        long long ms = strtoll(text, &end, 10);
        if (n == 0 || n >= sizeof text || *end || ms < 0)
            return sc_err_set(err, SC_ERR_STORAGE, R_(STORAGE), "register: stored %s is invalid",
                              key);
        r->gov_since_ms = ms;
        return SC_OK;
    }
    if (rc != SC_ERR_NOT_FOUND) {
        if (err)
            *err = e2;
        return rc;
    }
    r->gov_since_ms = sc_env_now_ms(&r->env);
    char text[24];
    int len = snprintf(text, sizeof text, "%lld", (long long)r->gov_since_ms);
    if ((rc = s->vt->begin(s, true, err)) != SC_OK)
        return rc;
    if ((rc = s->vt->meta_put(s, key, text, (size_t)len, err)) == SC_OK)
        return s->vt->commit(s, err);
    s->vt->rollback(s);
    return rc;
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
    char key_path[SD_PATH_MAX + 32];
    snprintf(key_path, sizeof key_path, "%s/server.key", cfg->data_dir);

    uint8_t *v = NULL;
    size_t n = 0;
    rc = sd_store_locate(cfg->data_dir, &r->where, err);
    if (rc == SC_OK)
        rc = sd_store_open_at(&r->where, false, &r->writer.s, err);
    if (rc == SC_OK)
        rc = r->writer.s->vt->set_writer(r->writer.s, err);
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
                        r->where.shown);
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
    v = NULL;
    if ((rc = gov_since(r, err)) != SC_OK)
        goto fail;
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
    sd_idmap_dispose(&r->nt_told);
    sodium_memzero(r->where.target, sizeof r->where.target);
    sc_keypair_free(r->kp);
    pthread_mutex_destroy(&r->wmu);
    pthread_mutex_destroy(&r->pmu);
    pthread_cond_destroy(&r->pcv);
    free(r);
}

/* ---- small shared helpers ---- */

void sd_hex_id(const uint8_t *id, size_t len, char *out, size_t cap)
{
    if (sc_hex_encode(id, len, out, cap) != SC_OK && cap)
        out[0] = '\0';
}

sc_status sd_decode_state(const sc_env *env, const uint8_t *buf, size_t len,
                          Scpb__EntityState **out, sc_err *err)
{
    sc_status rc = sc_state_decode(env, buf, len, (size_t)64 << 20, out, err);
    if (rc != SC_OK && rc != SC_ERR_NOMEM)
        rc = sc_err_set(err, SC_ERR_STORAGE, R_(STORAGE),
                        "register: a stored state does not decode");
    return rc;
}

const char *sd_type_name(int type)
{
    const char *n = sc_name_of(&sc_names_entity_type, type);
    return n ? n : "entity";
}

bool sd_is_admin(const sd_principal *p)
{
    return p->is_server || p->role == SCPB__ROLE__ROLE_ADMIN;
}

bool sd_bytes_copy(ProtobufCBinaryData *dst, protobuf_c_boolean *has, const void *src, size_t len)
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

/* ---- principals ---- */

void sd_principal_server(const sd_register *r, sd_principal *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->device, r->server_key, SC_KEY_LEN);
    out->is_server = true;
    out->role = SCPB__ROLE__ROLE_ADMIN;
    snprintf(out->login, sizeof out->login, "%s", "syncd");
}

sc_status sd_principal_load(sd_register *r, sd_store *s, const uint8_t key[SC_KEY_LEN],
                            sd_principal *out, sc_err *err)
{
    if (memcmp(key, r->server_key, SC_KEY_LEN) == 0) {
        sd_principal_server(r, out);
        return SC_OK;
    }
    memset(out, 0, sizeof *out);
    memcpy(out->device, key, SC_KEY_LEN);
    sd_device_row d;
    sc_status rc = s->vt->device_get(s, key, &d, err);
    if (rc == SC_ERR_NOT_FOUND) {
        char hex[2 * SC_KEY_LEN + 1];
        sd_hex_id(key, SC_KEY_LEN, hex, sizeof hex);
        return sc_err_set(err, SC_ERR_NOT_FOUND, R_(UNKNOWN_DEVICE), "device %.16s is not enrolled",
                          hex);
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
    rc = sd_decode_state(&r->env, u.state, u.state_len, &st, err);
    free(u.state);
    if (rc != SC_OK)
        return rc;
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_USER) {
        out->role = st->user->role;
        out->disabled = st->user->has_disabled && st->user->disabled;
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
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
    if (rc != SC_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    rc = sd_principal_load(r, c->s, device, out, err);
    sd_pool_put(r, c);
    return rc;
}

/* ---- visibility ---- */

sc_status sd_named_on_inspection(sd_store *s, const sc_env *env, const uint8_t insp[SC_ID_LEN],
                                 const uint8_t user[SC_ID_LEN], bool *out, sc_err *err)
{
    *out = false;
    sd_entity_row row;
    Scpb__EntityState *st = NULL;
    sc_status rc = s->vt->entity_get(s, insp, true, &row, err);
    if (rc == SC_ERR_NOT_FOUND)
        return SC_OK;
    if (rc != SC_OK)
        return rc;
    /* The inspection's assignment is in its state only; the row does not carry it. */
    rc = sd_decode_state(env, row.state, row.state_len, &st, err);
    free(row.state);
    if (rc == SC_OK && st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION &&
        st->inspection->has_assignment && st->inspection->assignment.len == SC_ID_LEN) {
        rc = s->vt->assignee_has(s, st->inspection->assignment.data, user, err);
        *out = rc == SC_OK;
        if (rc == SC_ERR_NOT_FOUND)
            rc = SC_OK;
    }
    sc_state_free(env, st);
    return rc;
}

/* sd_named_on_inspection through the viewer's memo (one state decode per inspection and pull). */
static sc_status named_on_inspection(const sd_viewer *v, const uint8_t insp[SC_ID_LEN], bool *out,
                                     sc_err *err)
{
    void **slot = v->named ? sd_idmap_find(v->named, insp) : NULL;
    if (slot) {
        *out = *slot == (void *)1;
        return SC_OK;
    }
    sc_status rc = sd_named_on_inspection(v->s, v->env, insp, v->p->user, out, err);
    if (rc == SC_OK && v->named && !sd_idmap_put(v->named, insp, *out ? (void *)1 : (void *)2))
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
    return rc;
}

sc_status sd_visible_to(const sd_viewer *v, const sd_vis_facts *f, bool *out, sc_err *err)
{
    const sd_principal *p = v->p;
    *out = false;
    if (f->vis_class == SD_VIS_ALL || sd_is_admin(p) || p->role == SCPB__ROLE__ROLE_AUDITOR) {
        *out = true;
        return SC_OK;
    }
    bool in_scope = f->scope_org && sd_orgtree_within(v->tree, f->scope_org, p->org);
    bool named = false;
    sc_status rc = SC_OK;
    if ((f->vis_class == SD_VIS_ASSIGNMENT_OPEN || f->vis_class == SD_VIS_ASSIGNMENT_SECRET) &&
        p->role == SCPB__ROLE__ROLE_INSPECTOR) {
        rc = v->s->vt->assignee_has(v->s, f->id, p->user, err);
        named = rc == SC_OK;
        if (rc == SC_ERR_NOT_FOUND)
            rc = SC_OK;
    } else if (f->vis_class == SD_VIS_INSPECTION && !in_scope && f->inspection &&
               (p->role == SCPB__ROLE__ROLE_INSPECTOR || p->role == SCPB__ROLE__ROLE_SUPERVISOR)) {
        /* Only those who can be named pay for the lookup, and only out of scope. */
        rc = named_on_inspection(v, f->inspection, &named, err);
    }
    if (rc == SC_OK)
        *out = sd_visible(p->role, f->vis_class, in_scope, named, f->released);
    return rc;
}

/* ---- lookups, stats, health ---- */

sc_status sd_register_state(sd_register *r, const uint8_t id[SC_ID_LEN], Scpb__EntityState **out,
                            sc_err *err)
{
    *out = NULL;
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    sd_entity_row row;
    rc = c->s->vt->entity_get(c->s, id, true, &row, err);
    if (rc == SC_OK) {
        Scpb__EntityState *st = scpb__entity_state__unpack(NULL, row.state_len, row.state);
        if (!st)
            rc = sc_err_set(err, SC_ERR_STORAGE, R_(STORAGE),
                            "register: a stored state does not decode");
        *out = st;
        free(row.state);
    } else if (rc == SC_ERR_NOT_FOUND) {
        char hex[SC_ID_HEX];
        sd_hex_id(id, SC_ID_LEN, hex, sizeof hex);
        sc_err_set(err, SC_ERR_NOT_FOUND, R_(UNKNOWN_ENTITY), "no entity %s", hex);
    }
    sd_pool_put(r, c);
    return rc;
}

sc_status sd_register_lookup_code(sd_register *r, Scpb__EntityType kind, const char *code,
                                  uint32_t version, uint8_t out[SC_ID_LEN], sc_err *err)
{
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    rc = c->s->vt->code_find(c->s, (int)kind, code, version, out, err);
    if (rc == SC_ERR_NOT_FOUND)
        sc_err_set(err, SC_ERR_NOT_FOUND, R_(UNKNOWN_REFERENCE), "no %s with code \"%s\"",
                   sd_type_name(kind), code);
    sd_pool_put(r, c);
    return rc;
}

sc_status sd_register_stats_get(sd_register *r, sd_register_stats *out, sc_err *err)
{
    memset(out, 0, sizeof *out);
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
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
        rc = s->vt->notify_pending(s, NULL, &out->notify_pending, err);
    if (rc == SC_OK)
        rc = s->vt->commit(s, err);
    sd_pool_put(r, c);
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
