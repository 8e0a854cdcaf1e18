/*
 * register_enroll.c: enrollment.  An admin makes a one-time code for a
 * user (sd_register_enroll_code); a device enrolls by presenting the code
 * with its public key and a signature over both (sd_register_enroll),
 * which logs a DeviceEnroll admin op and uses up the code in the same
 * transaction.
 *
 * An admin may revoke a code before it is used (sd_register_code_revoke);
 * disabling a user revokes every code it has (register_accept.c).  Codes
 * are secrets kept beside the log, not in it: neither making nor revoking
 * one is an op.
 *
 * Invariants:
 *  - Codes are 100 random bits in Crockford base32, stored only as the
 *    SHA-256 of their normalized form; the plain code is handed to the
 *    caller's buffer and every copy of it here is wiped after hashing.
 *  - A code enrolls at most one device: the DeviceEnroll op and the code's
 *    use commit together or not at all.
 *  - Nothing but success tells a valid unused code from another: an
 *    expired, used, unknown or malformed code gets one answer (status,
 *    reason, message), every answer about the key or the proof is the same
 *    whatever the code, and every attempt does the same work (the proof
 *    checked, the code normalized, hashed and looked up, the key looked up)
 *    before anything depends on the code (enroll_judge).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/state.h"
#include "register_internal.h"
#include "tlog.h"

/* Crockford's base32 alphabet: no I, L, O or U, so codes read aloud and type cleanly. */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
#define CODE_GROUPS    5
#define CODE_GROUP_LEN 4
#define CODE_CHARS     (CODE_GROUPS * CODE_GROUP_LEN) /* 20 characters, 100 bits */

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

/* A disabled user gets no code (the disable revoked the ones it had: register_accept.c). */
static sc_status user_not_disabled(sd_register *r, sd_store *s, const uint8_t user[SC_ID_LEN],
                                   const char *login, sc_err *err)
{
    sd_entity_row u;
    Scpb__EntityState *st = NULL;
    sc_status rc = s->vt->entity_get(s, user, true, &u, err);
    if (rc == SC_OK) {
        rc = sd_decode_state(&r->env, u.state, u.state_len, &st, err);
        free(u.state);
    }
    if (rc == SC_OK && st->kind_case == SCPB__ENTITY_STATE__KIND_USER && st->user->disabled)
        rc = sc_err_set(err, SC_ERR_FORBIDDEN, R_(USER_DISABLED),
                        "user \"%s\" is disabled: enable it before making an enrollment code",
                        login);
    sc_state_free(&r->env, st);
    return rc;
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
            rc = sc_err_set(err, SC_ERR_NOT_FOUND, R_(UNKNOWN_REFERENCE),
                            "no user with login \"%s\"", login);
    }
    if (rc == SC_OK)
        rc = user_not_disabled(r, s, row.user, login, err);
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

/*
 * May key enroll with the code hashed as `hash`?  Decided so that no answer
 * tells a valid unused code from any other: the key is judged first, whatever
 * the code (a key already enrolled, or the server's, is refused
 * entity_exists for every code), and then an unknown, used, expired or
 * malformed code all get the one 403 with the one message.  Both lookups run
 * on every path, so the work does not depend on the code either.  On SC_OK
 * user is the code's user.
 */
static sc_status enroll_judge(sd_txn *t, const uint8_t key[SC_KEY_LEN],
                              const uint8_t hash[SC_HASH_LEN], bool well_formed,
                              uint8_t user[SC_ID_LEN], const char **why, sc_err *err)
{
    sd_device_row d;
    sc_status drc = t->s->vt->device_get(t->s, key, &d, err);
    if (drc != SC_OK && drc != SC_ERR_NOT_FOUND)
        return drc;
    sd_enroll_row row;
    memset(&row, 0, sizeof row);
    sc_status frc = t->s->vt->enroll_get(t->s, hash, &row, err);
    if (frc != SC_OK && frc != SC_ERR_NOT_FOUND)
        return frc;
    if (drc == SC_OK || sodium_memcmp(key, t->r->server_key, SC_KEY_LEN) == 0)
        return sc_err_set(err, SC_ERR_EXISTS, R_(ENTITY_EXISTS),
                          "enroll: this device key is already enrolled");
    bool usable =
        well_formed && frc == SC_OK && !row.used && !row.revoked && row.expires_ms > t->now;
    if (!usable) {
        /* For the log alone: the answer below is the same whichever it is. */
        *why = !well_formed   ? "code_malformed"
               : frc != SC_OK ? "code_unknown"
               : row.used     ? "code_used"
               : row.revoked  ? "code_revoked"
                              : "code_expired";
        return sc_err_set(err, SC_ERR_FORBIDDEN, R_(FORBIDDEN_ROLE),
                          "enroll: the code is unknown, already used, expired or revoked; ask "
                          "the admin for a new one");
    }
    memcpy(user, row.user, SC_ID_LEN);
    return SC_OK;
}

/* The request's form, then the proof: it covers code || device_key, exactly as sent. */
static sc_status enroll_check(sd_register *r, const Scpb__EnrollRequest *req, sc_err *err)
{
    if (!req || !req->code || !req->has_device_key || req->device_key.len != SC_KEY_LEN ||
        !req->has_proof || req->proof.len != SC_SIG_LEN)
        return sc_err_set(err, SC_ERR_MALFORMED, R_(MALFORMED),
                          "enroll: code, a 32-byte device_key and a 64-byte proof are needed");
    size_t code_len = strnlen(req->code, 128);
    if (code_len >= 128 || (req->label && (strnlen(req->label, SC_NAME_MAX + 1) > SC_NAME_MAX ||
                                           !sc_utf8_valid(req->label, strlen(req->label)))))
        return sc_err_set(err, SC_ERR_MALFORMED, R_(MALFORMED), "enroll: code or label too long");
    /* The label is shown to admins (syncd admin device list, admin log): one line of text. */
    if (req->label && sc_text_has_control(req->label, strlen(req->label)))
        return sc_err_set(err, SC_ERR_MALFORMED, R_(MALFORMED),
                          "enroll: the label is one line of text, without control characters");
    uint8_t msg[128 + SC_KEY_LEN];
    memcpy(msg, req->code, code_len);
    memcpy(msg + code_len, req->device_key.data, SC_KEY_LEN);
    if (sc_verify(&r->env, req->device_key.data, SC_DOMAIN_ENROLL, msg, code_len + SC_KEY_LEN,
                  req->proof.data) != SC_OK)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, R_(BAD_SIGNATURE),
                          "enroll: the proof does not verify under the device key");
    return SC_OK;
}

/* The DeviceEnroll op for the key, logged in t: device_id gets the new device entity. */
static sc_status enroll_log(sd_txn *t, const Scpb__EnrollRequest *req,
                            const uint8_t user[SC_ID_LEN], uint8_t device_id[SC_ID_LEN],
                            sc_err *err)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__DeviceEnroll de = SCPB__DEVICE_ENROLL__INIT;
    sc_uuid7_new(t->env, device_id);
    op.has_entity = true;
    op.entity.data = device_id;
    op.entity.len = SC_ID_LEN;
    op.has_entity_type = true;
    op.entity_type = T_(DEVICE);
    op.body_case = K_(DEVICE_ENROLL);
    op.device_enroll = &de;
    de.has_user = true;
    de.user.data = (uint8_t *)user;
    de.user.len = SC_ID_LEN;
    de.has_key = true;
    de.key = req->device_key;
    de.label = req->label;
    sc_status rc = sd_admin_in_txn(t, &op, NULL, err);
    if (rc == SC_ERR_REJECTED && err && err->reason == R_(ENTITY_EXISTS))
        rc = SC_ERR_EXISTS;
    return rc;
}

/*
 * One write transaction: judge the key and the code (its hash; well_formed
 * when it normalized), log the device, use the code.  *user and *device_id
 * get the enrolled user and the new device, *now the transaction's time.
 */
static sc_status enroll_write(sd_register *r, const Scpb__EnrollRequest *req,
                              const uint8_t hash[SC_HASH_LEN], bool well_formed,
                              uint8_t user[SC_ID_LEN], uint8_t device_id[SC_ID_LEN], int64_t *now,
                              const char **why, sc_err *err)
{
    pthread_mutex_lock(&r->wmu);
    sd_txn t;
    sc_status rc = sd_txn_begin(r, &t, err);
    if (rc == SC_OK)
        rc = enroll_judge(&t, req->device_key.data, hash, well_formed, user, why, err);
    if (rc == SC_OK)
        rc = enroll_log(&t, req, user, device_id, err);
    if (rc == SC_OK) {
        rc = t.s->vt->enroll_use(t.s, hash, t.now, device_id, err);
        if (rc == SC_ERR_NOT_FOUND)
            *why = "code_used";
        if (rc == SC_ERR_NOT_FOUND)
            rc = sc_err_set(err, SC_ERR_FORBIDDEN, R_(FORBIDDEN_ROLE),
                            "enroll: the code is unknown, already used, expired or revoked; ask "
                            "the admin for a new one");
    }
    if (rc == SC_OK)
        rc = sd_txn_commit(&t);
    *now = t.now;
    sd_txn_end(&t, rc != SC_OK);
    pthread_mutex_unlock(&r->wmu);
    if (rc != SC_OK && err && err->reason == R_(NONE))
        err->reason = R_(STORAGE);
    return rc;
}

/* The answer: who the device now speaks for, and the log it joins. */
static sc_status enroll_answer(sd_register *r, const uint8_t user[SC_ID_LEN],
                               const uint8_t device_id[SC_ID_LEN], int64_t now,
                               Scpb__EnrollResponse **out, sc_err *err)
{
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
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
        rc = sd_decode_state(&r->env, u.state, u.state_len, &st, err);
    if (rc == SC_OK && st->kind_case != SCPB__ENTITY_STATE__KIND_USER)
        rc =
            sc_err_set(err, SC_ERR_STORAGE, R_(STORAGE), "register: the code's user is not a user");
    if (rc == SC_OK)
        rc = sd_tlog_latest(c->s, &m->checkpoint, err);
    if (rc != SC_OK)
        goto done;
    bool ok = sd_bytes_copy(&m->user, &m->has_user, user, SC_ID_LEN) &&
              sd_bytes_copy(&m->server_key, &m->has_server_key, r->server_key, SC_KEY_LEN) &&
              sd_bytes_copy(&m->device, &m->has_device, device_id, SC_ID_LEN);
    m->login = str_copy(st->user->login ? st->user->login : "");
    m->name = str_copy(st->user->name ? st->user->name : "");
    m->origin = str_copy(r->origin);
    if (st->user->has_org)
        ok = ok && sd_bytes_copy(&m->org, &m->has_org, st->user->org.data, st->user->org.len);
    m->has_role = true;
    m->role = st->user->role;
    m->has_server_time_ms = true;
    m->server_time_ms = now;
    if (!ok || !m->login || !m->name || !m->origin)
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
done:
    free(u.state);
    sc_state_free(&r->env, st);
    sd_pool_put(r, c);
    if (rc != SC_OK) {
        sd_msg_free(m);
        return rc;
    }
    *out = m;
    return SC_OK;
}

sc_status sd_register_enroll(sd_register *r, const Scpb__EnrollRequest *req,
                             Scpb__EnrollResponse **out, const char **why, sc_err *err)
{
    sc_err_clear(err);
    *out = NULL;
    const char *w = NULL;
    if (!why)
        why = &w;
    *why = NULL;
    sc_status rc = enroll_check(r, req, err);
    if (rc != SC_OK)
        return rc;
    /* Every code is hashed and looked up, well formed or not: the same work on every path. */
    char norm[CODE_CHARS + 1];
    uint8_t hash[SC_HASH_LEN];
    memset(norm, 0, sizeof norm);
    bool well_formed = code_normalize(req->code, norm);
    code_hash(norm, hash);
    sodium_memzero(norm, sizeof norm);
    uint8_t device_id[SC_ID_LEN], user[SC_ID_LEN];
    int64_t now = 0;
    rc = enroll_write(r, req, hash, well_formed, user, device_id, &now, why, err);
    if (rc != SC_OK)
        return rc;
    return enroll_answer(r, user, device_id, now, out, err);
}

/* ---- revoking codes ---- */

bool sd_register_code_hash(const char *typed, uint8_t out[SC_HASH_LEN])
{
    char norm[CODE_CHARS + 1];
    bool ok = code_normalize(typed, norm);
    if (ok)
        code_hash(norm, out);
    sodium_memzero(norm, sizeof norm);
    return ok;
}

/*
 * One write transaction on the writer connection around fn(s, ctx, err),
 * for the rows beside the log (codes, devices seen): committed when fn
 * succeeds, rolled back otherwise.
 */
static sc_status plain_write(sd_register *r, sc_status (*fn)(sd_store *s, void *ctx, sc_err *err),
                             void *ctx, sc_err *err)
{
    pthread_mutex_lock(&r->wmu);
    sd_store *s = r->writer.s;
    sc_status rc = s->vt->begin(s, true, err);
    if (rc == SC_OK)
        rc = fn(s, ctx, err);
    if (rc == SC_OK)
        rc = s->vt->commit(s, err);
    if (rc != SC_OK)
        s->vt->rollback(s);
    pthread_mutex_unlock(&r->wmu);
    return rc;
}

typedef struct revoke_ctx {
    const uint8_t *hash;
    int64_t now;
} revoke_ctx;

static sc_status revoke_one(sd_store *s, void *ctx, sc_err *err)
{
    const revoke_ctx *c = ctx;
    sc_status rc = s->vt->enroll_revoke(s, c->hash, c->now, err);
    if (rc == SC_ERR_NOT_FOUND)
        rc = sc_err_set(err, SC_ERR_NOT_FOUND, R_(UNKNOWN_REFERENCE),
                        "no unused enrollment code like that: it was used, has expired, was "
                        "revoked already, or never existed");
    return rc;
}

sc_status sd_register_code_revoke(sd_register *r, const uint8_t hash[SC_HASH_LEN], sc_err *err)
{
    sc_err_clear(err);
    revoke_ctx c = {hash, sc_env_now_ms(&r->env)};
    return plain_write(r, revoke_one, &c, err);
}

/* ---- when devices were last seen ---- */

typedef struct seen_ctx {
    const sd_seen_row *rows;
    size_t n;
} seen_ctx;

static sc_status seen_all(sd_store *s, void *ctx, sc_err *err)
{
    const seen_ctx *c = ctx;
    sc_status rc = SC_OK;
    for (size_t i = 0; rc == SC_OK && i < c->n; i++)
        rc = s->vt->seen_put(s, &c->rows[i], err);
    return rc;
}

sc_status sd_register_seen_put(sd_register *r, const sd_seen_row *rows, size_t n, sc_err *err)
{
    sc_err_clear(err);
    seen_ctx c = {rows, n};
    return n ? plain_write(r, seen_all, &c, err) : SC_OK;
}
