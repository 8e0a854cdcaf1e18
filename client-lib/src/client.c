/*
 * client.c: the handle (open, close, messages), the device identity
 * (enrollment, unlocking the key) and the status report.
 *
 * The device key is chosen at enrollment (devkey.c: a custody's, or one
 * generated here and kept under a passphrase or, when asked, plain) and
 * its key file rests in the replica's meta table (keys.h).  Once loaded it
 * lives only in sodium_malloc'd memory inside the sc_keypair and is wiped
 * by sc_client_close.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checkpoint.h"
#include "core/names.h"
#include "core/reason.h"
#include "internal.h"

/* ---- defaults for what the host does not inject ---- */

static int64_t default_now_ms(void *ctx)
{
    (void)ctx;
    return sc_plat_now_ms();
}

/* Durations (upload chunk timing): never stepped by NTP or the user. */
static int64_t default_mono_ms(void *ctx)
{
    (void)ctx;
    return sc_plat_mono_ms();
}

static void default_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    randombytes_buf(buf, len);
}

static void default_sleep(void *ctx, uint32_t ms)
{
    (void)ctx;
    sc_plat_sleep_ms(ms);
}

/* ---- small shared helpers ---- */

sc_status cl_fail(sc_client *c, sc_status code, int reason, const char *fmt, ...)
{
    c->err.code = code;
    c->err.reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err.msg, sizeof c->err.msg, fmt, ap);
    va_end(ap);
    return code;
}

bool cl_parse_id(const char *text, uint8_t out[SC_ID_LEN])
{
    return text && strlen(text) == 2 * SC_ID_LEN &&
           sc_hex_decode(text, 2 * SC_ID_LEN, out, SC_ID_LEN) == SC_OK;
}

bool cl_parse_hash(const char *text, uint8_t out[SC_HASH_LEN])
{
    return text && strlen(text) == 2 * SC_HASH_LEN &&
           sc_hex_decode(text, 2 * SC_HASH_LEN, out, SC_HASH_LEN) == SC_OK;
}

void cl_hex(const uint8_t *bin, size_t len, char *out, size_t cap)
{
    if (sc_hex_encode(bin, len, out, cap) != SC_OK && cap)
        out[0] = '\0';
}

sc_status cl_need_identity(sc_client *c)
{
    if (!c->id.enrolled)
        return cl_fail(c, SC_ERR_NOT_ENROLLED, 0,
                       "replica %s has no device identity: enroll first", c->path);
    return SC_OK;
}

sc_status cl_sized_in(void *dst, size_t dst_size, size_t min, const void *src, const char *what,
                      char *msg, size_t cap)
{
    size_t n;
    memcpy(&n, src, sizeof n);
    memset(dst, 0, dst_size);
    if (n < min || n > SC_CL_STRUCT_MAX) {
        snprintf(msg, cap, "%s.size is %zu: set it to sizeof(%s) (%zu in this release)", what, n,
                 what, dst_size);
        return SC_ERR_INVALID_ARG;
    }
    /* A newer header's struct: what this library does not know must be unset. */
    const unsigned char *b = src;
    for (size_t i = dst_size; i < n; i++)
        if (b[i] != 0) {
            snprintf(msg, cap,
                     "%s of %zu bytes sets fields past the %zu that libspotcheck %s knows: the "
                     "program was built against a newer spotcheck.h than the library it runs with",
                     what, n, dst_size, sc_version());
            return SC_ERR_INVALID_ARG;
        }
    memcpy(dst, src, n < dst_size ? n : dst_size);
    return SC_OK;
}

sc_status cl_sized(sc_client *c, void *dst, size_t dst_size, size_t min, const void *src,
                   const char *what)
{
    char msg[SC_ERR_MSG_MAX];
    sc_status s = cl_sized_in(dst, dst_size, min, src, what, msg, sizeof msg);
    return s == SC_OK ? s : cl_fail(c, s, 0, "%s", msg);
}

sc_status cl_need_writable(sc_client *c, const char *what)
{
    if (c->read_only)
        return cl_fail(c, SC_ERR_READ_ONLY, 0,
                       "%s changes the replica, and this handle on %s is read-only "
                       "(SC_OPEN_READONLY): call it on the replica's writer",
                       what, c->path);
    return SC_OK;
}

/* ---- the library's one-time initialisation ---- */

/*
 * The library's only process-wide state: whether libsodium and libcurl were
 * initialised, and how that went.  sc_plat_run_once makes concurrent first
 * calls wait for one initialisation; the status is written inside it and
 * only read after it.
 */
static sc_plat_once global_once = SC_PLAT_ONCE_INIT;
static sc_status global_status = SC_OK;
static const char *global_what = "";

static void global_init_once(void)
{
    if (sc_crypto_init() != SC_OK) {
        global_status = SC_ERR_CRYPTO;
        global_what = "libsodium failed to initialise";
    } else if (tp_curl_global_init() != SC_OK) {
        global_status = SC_ERR_INTERNAL;
        global_what = "libcurl failed to initialise (curl_global_init)";
    }
}

sc_status sc_global_init(void)
{
    if (sc_plat_run_once(&global_once, global_init_once) != 0)
        return SC_ERR_INTERNAL;
    return global_status;
}

/* ---- the handle ---- */

static char *str_join(const sc_env *env, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = sc_alloc(env, la + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

/* Open a handle; busy_ms 0 is the default wait for another writer. */
static sc_status client_open(const char *path, const sc_client_options *opt, sc_open_mode mode,
                             uint32_t busy_ms, sc_client **out, char *err, size_t cap)
{
    sc_status s = SC_OK;
    sc_client *c = NULL;
    if (out)
        *out = NULL;
    if (err && cap)
        err[0] = '\0';
    if (!path || !*path || !out) {
        if (err && cap)
            snprintf(err, cap, "sc_client_open: no replica path");
        return SC_ERR_INVALID_ARG;
    }
    if (mode != SC_OPEN_EXISTING && mode != SC_OPEN_ENROLL && mode != SC_OPEN_CREATE &&
        mode != SC_OPEN_READONLY) {
        if (err && cap)
            snprintf(err, cap, "sc_client_open: unknown open mode %d", (int)mode);
        return SC_ERR_INVALID_ARG;
    }
    if (opt && !((opt->alloc && opt->realloc && opt->free) ||
                 (!opt->alloc && !opt->realloc && !opt->free))) {
        if (err && cap)
            snprintf(err, cap, "sc_client_open: set alloc, realloc and free together");
        return SC_ERR_INVALID_ARG;
    }
    if ((s = sc_global_init()) != SC_OK) {
        if (err && cap)
            snprintf(err, cap, "%s", global_what[0] ? global_what : sc_strerror(s));
        return s;
    }
    sc_env env = {0};
    if (opt) {
        env.alloc = opt->alloc;
        env.realloc = opt->realloc;
        env.free = opt->free;
        env.ctx = opt->ctx;
    }
    env.now_ms = opt && opt->now_ms ? opt->now_ms : default_now_ms;
    env.random = opt && opt->random ? opt->random : default_random;
    c = sc_calloc(&env, 1, sizeof *c);
    if (!c) {
        if (err && cap)
            snprintf(err, cap, "out of memory");
        return SC_ERR_NOMEM;
    }
    c->env = env;
    c->mono_ms = default_mono_ms;
    if (opt)
        c->opt = *opt;
    if (!c->opt.sleep_ms)
        c->opt.sleep_ms = default_sleep;
    if (!c->opt.timeout_ms)
        c->opt.timeout_ms = SC_CL_TIMEOUT_DEFAULT;
    if (!c->opt.retries)
        c->opt.retries = SC_CL_RETRIES_DEFAULT;
    else if (c->opt.retries == UINT32_MAX)
        c->opt.retries = 0;
    if (!c->opt.backoff_ms)
        c->opt.backoff_ms = SC_CL_BACKOFF_DEFAULT;
    if (!c->opt.batch_ops || c->opt.batch_ops > SC_BATCH_OPS_MAX)
        c->opt.batch_ops = SC_BATCH_OPS_MAX;
    /* The ceiling of the adaptive upload chunk (sync.c). */
    if (!c->opt.chunk_bytes || c->opt.chunk_bytes > SC_BLOB_CHUNK_MAX)
        c->opt.chunk_bytes = SC_BLOB_CHUNK_MAX;
    c->path = sc_memdup(&env, path, strlen(path) + 1);
    c->blob_dir = str_join(&env, path, ".blobs");
    if (!c->path || !c->blob_dir) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        goto fail;
    }
    bool made = false;
    c->read_only = mode == SC_OPEN_READONLY;
    c->busy_ms = busy_ms;
    s = tp_open_default(c);
    if (s == SC_OK)
        s = st_open(c, path, mode, &made);
    /* Only a replica made for an enrollment is ever removed again. */
    c->made = made && mode == SC_OPEN_ENROLL;
    if (s == SC_OK)
        s = rp_identity_load(c);
    if (s == SC_OK && strcmp(path, ":memory:") != 0 && !c->read_only)
        s = bl_init(c);
    if (s != SC_OK)
        goto fail;
    sc_err_clear(&c->err);
    *out = c;
    return SC_OK;
fail:
    if (err && cap)
        snprintf(err, cap, "%s", c->err.msg[0] ? c->err.msg : sc_strerror(s));
    sc_client_close(c);
    return s;
}

sc_status sc_client_open_v2(const char *path, const sc_client_options *opt, sc_open_mode mode,
                            sc_client **out, char *err, size_t cap)
{
    return client_open(path, opt, mode, 0, out, err, cap);
}

sc_status sc_client_open(const char *path, const sc_client_options *opt, sc_client **out,
                         char *err, size_t cap)
{
    return client_open(path, opt, SC_OPEN_CREATE, 0, out, err, cap);
}

sc_status sc_client_open_v3(const char *path, const sc_open_options *opt, sc_client **out,
                            char *err, size_t cap)
{
    if (out)
        *out = NULL;
    char msg[SC_ERR_MSG_MAX];
    sc_open_options o = {.size = sizeof o};
    sc_status s = opt ? cl_sized_in(&o, sizeof o, CL_SIZE_THROUGH(sc_open_options, busy_ms), opt,
                                    "sc_open_options", msg, sizeof msg)
                      : SC_OK;
    if (s == SC_OK && o.busy_ms > SC_CL_BUSY_MAX_MS) {
        snprintf(msg, sizeof msg, "sc_open_options.busy_ms is %u, at most %u (an hour)",
                 (unsigned)o.busy_ms, SC_CL_BUSY_MAX_MS);
        s = SC_ERR_INVALID_ARG;
    }
    if (s != SC_OK) {
        if (err && cap)
            snprintf(err, cap, "%s", msg);
        return s;
    }
    return client_open(path, &o.client, o.mode ? o.mode : SC_OPEN_EXISTING, o.busy_ms, out, err,
                       cap);
}

void sc_client_close(sc_client *c)
{
    if (!c)
        return;
    /* A replica made for an enrollment that did not happen goes again (SC_OPEN_ENROLL). */
    bool remove = c->made && !c->enroll_stored;
    tp_close(c);
    st_close(c);
    if (remove) {
        st_remove_files(c->path);
        bl_remove_made(c);
    }
    sv_trust_dispose(c, &c->net);
    sv_trust_dispose(c, &c->trust);
    sc_keypair_free(c->key);
    sodium_memzero(c->id.keyfile, sizeof c->id.keyfile);
    sc_env env = c->env;
    sc_free(&env, c->path);
    sc_free(&env, c->blob_dir);
    sc_free(&env, c);
}

const char *sc_client_errmsg(const sc_client *c)
{
    if (!c)
        return "no handle";
    return c->err.code == SC_OK ? "" : c->err.msg;
}

const char *sc_client_reason(const sc_client *c)
{
    if (!c || c->err.code == SC_OK || c->err.reason == SC_REASON_NONE)
        return "";
    const char *n = sc_name_of(&sc_names_reason, c->err.reason);
    return n ? n : "";
}

sc_status sc_client_set_app(sc_client *c, const char *app)
{
    if (!c)
        return SC_ERR_INVALID_ARG;
    size_t n = app ? strnlen(app, SC_APP_NAME_MAX + 1) : 0;
    if (n > SC_APP_NAME_MAX)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "the app's name is over %d bytes",
                       SC_APP_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if (app[i] < 0x20 || app[i] >= 0x7f)
            return cl_fail(c, SC_ERR_INVALID_ARG, 0,
                           "the app's name must be printable ASCII (\"spotcheck/0.1.0\")");
    memcpy(c->app, app ? app : "", n);
    c->app[n] = '\0';
    sc_err_clear(&c->err);
    return SC_OK;
}

void sc_json_free(sc_client *c, char *json)
{
    (void)c;
    /* json_dumps allocated it with jansson's allocator, whichever the app set. */
    json_malloc_t m;
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    if (json)
        f(json);
}

/* ---- identity ---- */

static sc_status meta_text_put(sc_client *c, const char *key, const char *v)
{
    return st_meta_put(c, key, v ? v : "", v ? strlen(v) : 0);
}

static bool printable_line(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max || !sc_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return false;
    return true;
}

/* The EnrollRequest for the new key kp and code, packed into *body (env). */
static sc_status enroll_body(sc_client *c, const sc_keypair *kp, const char *code,
                             const char *label, uint8_t **body, size_t *len)
{
    size_t code_len = strlen(code);
    const uint8_t *pub = sc_keypair_public(kp);
    uint8_t msg[SC_CODE_MAX + SC_KEY_LEN], proof[SC_SIG_LEN];
    memcpy(msg, code, code_len);
    memcpy(msg + code_len, pub, SC_KEY_LEN);
    sc_status s = sc_sign(&c->env, kp, SC_DOMAIN_ENROLL, msg, code_len + SC_KEY_LEN, proof);
    if (s != SC_OK)
        return cl_fail(c, s, 0, "could not sign the enrollment proof");
    Scpb__EnrollRequest req = SCPB__ENROLL_REQUEST__INIT;
    req.code = (char *)(uintptr_t)code;
    req.has_device_key = true;
    req.device_key = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)(uintptr_t)pub};
    req.label = (char *)(uintptr_t)(label ? label : "spotcheck");
    req.has_proof = true;
    req.proof = (ProtobufCBinaryData){SC_SIG_LEN, proof};
    *len = scpb__enroll_request__get_packed_size(&req);
    *body = sc_alloc(&c->env, *len);
    if (!*body)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    scpb__enroll_request__pack(&req, *body);
    return SC_OK;
}

/*
 * Prove kp to base with code; *er gets syncd's answer, checked: every
 * field there and of its size, and its checkpoint (into *cp) signed by the
 * server key it names for the origin it names.
 */
static sc_status enroll_ask(sc_client *c, const char *base, const sc_keypair *kp, const char *code,
                            const char *label, Scpb__EnrollResponse **er, sc_checkpoint *cp)
{
    uint8_t *body = NULL;
    size_t blen = 0;
    tp_resp resp;
    memset(&resp, 0, sizeof resp);
    *er = NULL;
    sc_status s = enroll_body(c, kp, code, label, &body, &blen);
    if (s == SC_OK)
        s = tp_call_url(c, base, "POST", "/v1/enroll", body, blen, false, SC_CL_SMALL_RESPONSE_MAX,
                        &resp);
    if (s == SC_OK && resp.status != 200)
        s = tp_fail(c, &resp, "enroll");
    const Scpb__EnrollResponse *r = NULL;
    if (s == SC_OK)
        r = *er = scpb__enroll_response__unpack(NULL, resp.len, resp.body);
    if (s == SC_OK && (!r || r->server_key.len != SC_KEY_LEN || r->user.len != SC_ID_LEN ||
                       r->org.len != SC_ID_LEN || r->device.len != SC_ID_LEN || !r->origin ||
                       !printable_line(r->origin, SC_ORIGIN_MAX) || !r->checkpoint ||
                       !r->checkpoint->note || !r->has_role))
        s = cl_fail(c, SC_ERR_PROTOCOL, 0,
                    "%s answered enroll with something that is not an EnrollResponse", base);
    if (s == SC_OK) {
        sc_err e;
        sc_err_clear(&e);
        const char *note = r->checkpoint->note;
        if (sc_checkpoint_open(note, strlen(note), r->server_key.data, r->origin, cp, &e) != SC_OK)
            s = cl_fail(c, SC_ERR_CHECKPOINT, 0, "enrollment checkpoint: %s", e.msg);
    }
    tp_resp_dispose(c, &resp);
    sc_free(&c->env, body);
    return s;
}

/* The identity, its key file, the first checkpoint and the server's trust, in one transaction. */
static sc_status enroll_store(sc_client *c, const char *base, const sc_keypair *kp,
                              const Scpb__EnrollResponse *er, const sc_checkpoint *cp,
                              const uint8_t *keyfile, size_t kf_len)
{
    const char *note = er->checkpoint->note;
    sc_status s = st_begin(c);
    if (s != SC_OK)
        return s;
    if ((s = st_meta_put(c, "device_key", sc_keypair_public(kp), SC_KEY_LEN)) != SC_OK ||
        (s = st_meta_put(c, "server_key", er->server_key.data, SC_KEY_LEN)) != SC_OK ||
        (s = st_meta_put(c, "user", er->user.data, SC_ID_LEN)) != SC_OK ||
        (s = st_meta_put(c, "org", er->org.data, SC_ID_LEN)) != SC_OK ||
        (s = st_meta_put(c, "device_id", er->device.data, SC_ID_LEN)) != SC_OK ||
        (s = meta_text_put(c, "server", base)) != SC_OK ||
        (s = meta_text_put(c, "origin", er->origin)) != SC_OK ||
        (s = meta_text_put(c, "login", er->login)) != SC_OK ||
        (s = meta_text_put(c, "name", er->name)) != SC_OK ||
        (s = st_meta_put_u64(c, "role", (uint64_t)er->role)) != SC_OK ||
        (s = st_ckpt_add(c, note, strlen(note), cp->size, cp->root, NULL, 0)) != SC_OK ||
        (s = st_meta_put(c, "keyfile", keyfile, kf_len)) != SC_OK ||
        (s = sv_trust_save(c)) != SC_OK || (s = st_commit(c)) != SC_OK)
        st_rollback(c);
    c->enroll_stored = c->enroll_stored || s == SC_OK;
    return s;
}

/* The identity's ids in hex and its role by name, for JSON. */
typedef struct ident_text {
    char dev[SC_ID_HEX], key[SC_HASH_HEX], user[SC_ID_HEX], org[SC_ID_HEX];
    const char *role;
} ident_text;

static void ident_text_of(const sc_client *c, ident_text *t)
{
    cl_hex(c->id.device_id, SC_ID_LEN, t->dev, sizeof t->dev);
    cl_hex(c->id.device_key, SC_KEY_LEN, t->key, sizeof t->key);
    cl_hex(c->id.user, SC_ID_LEN, t->user, sizeof t->user);
    cl_hex(c->id.org, SC_ID_LEN, t->org, sizeof t->org);
    t->role = sc_name_of(&sc_names_role, c->id.role);
    if (!t->role)
        t->role = "?";
}

static sc_status enroll_json(sc_client *c, char **json)
{
    ident_text t;
    ident_text_of(c, &t);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "device_id", t.dev,
                          "device_key", t.key, "user", t.user, "login", c->id.login, "name",
                          c->id.name, "role", t.role, "org", t.org, "server", c->id.server, "key",
                          cl_key_kind(c));
    *json = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return *json ? SC_OK : cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
}

sc_status sc_enroll_v2(sc_client *c, const sc_enroll_params *p, char **json)
{
    if (json)
        *json = NULL;
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    tp_begin(c);
    sc_enroll_params ep;
    sc_status s = cl_sized(c, &ep, sizeof ep, sizeof ep, p, "sc_enroll_params");
    if (s != SC_OK)
        return s;
    char base[SC_CL_URL_MAX];
    if (c->read_only)
        return cl_need_writable(c, "sc_enroll");
    if (c->id.enrolled)
        return cl_fail(c, SC_ERR_EXISTS, 0, "replica %s is already enrolled as %s", c->path,
                       c->id.login);
    if (!ep.server_url || !ep.code || !*ep.code)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "enroll needs a server URL and a code");
    if ((s = sv_url_normalize(c, ep.server_url, base, sizeof base)) != SC_OK)
        return s;
    if (strlen(ep.code) > SC_CODE_MAX)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "enrollment code is longer than %d", SC_CODE_MAX);
    if (ep.label && sc_text_has_control(ep.label, strlen(ep.label)))
        return cl_fail(c, SC_ERR_INVALID_ARG, 0,
                       "the device label is one line of text, without control characters");
    sc_keypair *kp = NULL;
    Scpb__EnrollResponse *er = NULL;
    sc_checkpoint cp;
    uint8_t keyfile[SC_KEYFILE_MAX];
    size_t kf_len = 0;
    /* The key file is made before anything is sent: a choice refused costs no code. */
    if ((s = cl_enroll_key(c, &ep, &kp, keyfile, sizeof keyfile, &kf_len)) != SC_OK)
        goto done;
    if ((s = enroll_ask(c, base, kp, ep.code, ep.label, &er, &cp)) != SC_OK)
        goto done;
    s = enroll_store(c, base, kp, er, &cp, keyfile, kf_len);
    if (s != SC_OK || (s = rp_identity_load(c)) != SC_OK)
        goto done;
    sc_keypair_free(c->key);
    c->key = kp;
    kp = NULL;
    if (json)
        s = enroll_json(c, json);
done:
    sodium_memzero(keyfile, sizeof keyfile);
    if (er)
        scpb__enroll_response__free_unpacked(er, NULL);
    sc_keypair_free(kp);
    return s;
}

sc_status sc_enroll(sc_client *c, const char *server_url, const char *code, const char *label,
                    const char *pass, size_t pass_len, char **json)
{
    sc_enroll_params p = {.size = sizeof p, .server_url = server_url, .code = code,
                          .label = label, .pass = pass, .pass_len = pass ? pass_len : 0};
    /* 0.1 stored a plain key when given no passphrase, and its programs were told so. */
    if (c && p.pass_len == 0 && !c->has_custody)
        p.flags = SC_ENROLL_PLAIN_KEY;
    return sc_enroll_v2(c, &p, json);
}

/* ---- status ---- */

static sc_status standing_read(sc_client *c, sc_standing *out)
{
    int64_t v[4] = {0};
    static const char *const what[4] = {"outbox", "proven", "rejected", "uploads"};
    sc_status s = SC_OK;
    for (int i = 0; i < 4 && s == SC_OK; i++)
        s = st_count(c, what[i], &v[i]);
    uint64_t last = 0;
    if (s == SC_OK && (s = st_meta_get_u64(c, "last_sync_ms", &last)) == SC_ERR_NOT_FOUND) {
        s = SC_OK;
        out->last_sync_ms = -1;
    } else {
        out->last_sync_ms = (int64_t)last;
    }
    out->outbox = (uint64_t)v[0];
    out->proven = (uint64_t)v[1];
    out->rejected = (uint64_t)v[2];
    out->photos_pending_upload = (uint64_t)v[3];
    return s;
}

static sc_status client_status_read(sc_client *c, char **json)
{
    if (!c || !json)
        return SC_ERR_INVALID_ARG;
    *json = NULL;
    sc_err_clear(&c->err);
    int64_t ops = 0, entities = 0;
    sc_standing st;
    sc_status s;
    if ((s = standing_read(c, &st)) != SC_OK || (s = st_count(c, "ops", &ops)) != SC_OK ||
        (s = st_count(c, "entities", &entities)) != SC_OK)
        return s;
    bool found = false;
    uint64_t size = 0;
    uint8_t root[SC_HASH_LEN];
    int64_t time_ms = 0;
    if ((s = st_ckpt_last(c, &found, &size, root, &time_ms)) != SC_OK)
        return s;
    uint8_t rhash[SC_HASH_LEN];
    if ((s = vf_replica_hash(c, rhash, NULL)) != SC_OK)
        return s;
    json_t *o = json_object();
    json_object_set_new(o, "enrolled", json_boolean(c->id.enrolled));
    if (c->id.enrolled) {
        ident_text t;
        ident_text_of(c, &t);
        json_object_set_new(o, "device_id", json_string(t.dev));
        json_object_set_new(o, "device_key", json_string(t.key));
        json_object_set_new(o, "user", json_string(t.user));
        json_object_set_new(o, "login", json_string(c->id.login));
        json_object_set_new(o, "name", json_string(c->id.name));
        json_object_set_new(o, "role", json_string(t.role));
        json_object_set_new(o, "org", json_string(t.org));
        json_object_set_new(o, "server", json_string(c->id.server));
        json_object_set_new(o, "origin", json_string(c->id.origin));
        json_object_set_new(o, "key_encrypted", json_boolean(strcmp(cl_key_kind(c), "plain") != 0));
        json_object_set_new(o, "key", json_string(cl_key_kind(c)));
    }
    json_object_set_new(o, "outbox", json_integer((json_int_t)st.outbox));
    json_object_set_new(o, "proven", json_integer((json_int_t)st.proven));
    json_object_set_new(o, "ops", json_integer(ops));
    json_object_set_new(o, "rejected", json_integer((json_int_t)st.rejected));
    json_object_set_new(o, "entities", json_integer(entities));
    json_object_set_new(o, "photos_pending_upload", json_integer((json_int_t)st.photos_pending_upload));
    char rhex[SC_HASH_HEX];
    cl_hex(rhash, SC_HASH_LEN, rhex, sizeof rhex);
    json_object_set_new(o, "replica_hash", json_string(rhex));
    json_object_set_new(o, "last_sync_ms",
                        st.last_sync_ms >= 0 ? json_integer((json_int_t)st.last_sync_ms) : json_null());
    if (found) {
        char hex[SC_HASH_HEX];
        cl_hex(root, SC_HASH_LEN, hex, sizeof hex);
        json_object_set_new(o, "checkpoint", json_pack("{s:I,s:s,s:I}", "size", (json_int_t)size,
                                                       "root", hex, "time_ms", (json_int_t)time_ms));
    } else {
        json_object_set_new(o, "checkpoint", json_null());
    }
    *json = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return *json ? SC_OK : cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
}


sc_status sc_client_standing(sc_client *c, sc_standing *out)
{
    if (!c || !out)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    sc_standing t;
    memset(&t, 0, sizeof t);
    sc_status s = cl_sized(c, &t, sizeof t, CL_SIZE_THROUGH(sc_standing, last_sync_ms), out,
                           "sc_standing");
    if (s != SC_OK)
        return s;
    bool began = false;
    if ((s = st_snapshot_begin(c, &began)) == SC_OK)
        s = standing_read(c, &t);
    st_snapshot_end(c, began);
    if (s == SC_OK) {
        size_t size = out->size;
        t.size = size;
        memcpy(out, &t, size < sizeof t ? size : sizeof t);
    }
    return s;
}

/* One snapshot of the replica for the whole answer, though a writer commits meanwhile. */
sc_status sc_client_status(sc_client *c, char **json)
{
    if (json)
        *json = NULL;
    bool began = false;
    sc_status s = c ? st_snapshot_begin(c, &began) : SC_OK;
    if (s == SC_OK)
        s = client_status_read(c, json);
    if (c)
        st_snapshot_end(c, began);
    return s;
}
