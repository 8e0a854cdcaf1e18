/*
 * server.c: the server a replica talks to.  Its URL and the TLS trust that
 * goes with it (a CA bundle, a CA directory, public key pins), the
 * network options of a handle (sc_client_set_net), and moving an enrolled
 * replica to a new URL (sc_server_set_url).
 *
 * The trust a replica remembers is part of its server's identity, kept in
 * meta beside the URL: tls_ca (the PEM bytes), tls_ca_dir and tls_pin; an
 * empty value is none.  It is written only with the URL, by enrollment and
 * by a change of URL, in the same transaction.  A handle's own options
 * override it field by field.  A new URL is saved only after it proved to
 * serve the same register: a checkpoint signed by the replica's server key
 * for its origin that extends the last verified one.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/checkpoint.h"
#include "core/merkle.h"
#include "core/names.h"
#include "internal.h"

void sv_trust_dispose(sc_client *c, sc_trust *t)
{
    sc_free(&c->env, t->ca);
    sc_free(&c->env, t->ca_dir);
    sc_free(&c->env, t->pin);
    sc_free(&c->env, t->proxy);
    memset(t, 0, sizeof *t);
}

static sc_status dup_text(sc_client *c, const char *v, char **out)
{
    *out = NULL;
    if (!v)
        return SC_OK;
    *out = sc_memdup(&c->env, v, strlen(v) + 1);
    return *out ? SC_OK : cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
}

/* A text value of meta into a new string (NULL when absent or empty). */
static sc_status meta_dup(sc_client *c, const char *key, size_t max, char **out)
{
    uint8_t *v = NULL;
    size_t len = 0;
    *out = NULL;
    sc_status s = st_meta_get_alloc(c, key, &v, &len);
    if (s == SC_ERR_NOT_FOUND)
        return SC_OK;
    if (s != SC_OK)
        return s;
    if (len > 0 && len < max && !memchr(v, 0, len)) {
        *out = sc_alloc(&c->env, len + 1);
        if (!*out)
            s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        else {
            memcpy(*out, v, len);
            (*out)[len] = '\0';
        }
    } else if (len > 0) {
        s = cl_fail(c, SC_ERR_STORAGE, 0, "replica: meta %s is not a text of at most %zu bytes",
                    key, max - 1);
    }
    sc_free(&c->env, v);
    return s;
}

sc_status sv_trust_load(sc_client *c)
{
    sc_trust t;
    memset(&t, 0, sizeof t);
    sc_status s = st_meta_get_alloc(c, "tls_ca", &t.ca, &t.ca_len);
    if (s == SC_ERR_NOT_FOUND)
        s = SC_OK;
    if (s == SC_OK && t.ca_len > SC_CA_PEM_MAX)
        s = cl_fail(c, SC_ERR_STORAGE, 0, "replica: its CA bundle is over %d bytes", SC_CA_PEM_MAX);
    if (s == SC_OK)
        s = meta_dup(c, "tls_ca_dir", SC_CA_DIR_MAX, &t.ca_dir);
    if (s == SC_OK)
        s = meta_dup(c, "tls_pin", SC_PIN_MAX, &t.pin);
    if (s != SC_OK) {
        sv_trust_dispose(c, &t);
        return s;
    }
    if (t.ca_len == 0) {
        sc_free(&c->env, t.ca);
        t.ca = NULL;
    }
    t.ca_set = t.ca != NULL;
    sv_trust_dispose(c, &c->trust);
    c->trust = t;
    return SC_OK;
}

sc_status sv_trust_save(sc_client *c)
{
    const sc_trust *n = &c->net, *r = &c->trust;
    const sc_trust *ca = n->ca_set ? n : r;
    const char *dir = n->ca_dir ? n->ca_dir : r->ca_dir;
    const char *pin = n->pin ? n->pin : r->pin;
    sc_status s = st_meta_put(c, "tls_ca", ca->ca, ca->ca ? ca->ca_len : 0);
    if (s == SC_OK)
        s = st_meta_put(c, "tls_ca_dir", dir, dir ? strlen(dir) : 0);
    if (s == SC_OK)
        s = st_meta_put(c, "tls_pin", pin, pin ? strlen(pin) : 0);
    return s;
}

sc_status sv_url_normalize(sc_client *c, const char *url, char *out, size_t cap)
{
    if (!url)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "no server URL");
    size_t ul = strlen(url);
    while (ul > 0 && url[ul - 1] == '/')
        ul--;
    if (ul == 0 || ul >= cap ||
        (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return cl_fail(c, SC_ERR_INVALID_ARG, 0,
                       "server URL \"%s\" must start with http:// or https://", url);
    for (size_t i = 0; i < ul; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return cl_fail(c, SC_ERR_INVALID_ARG, 0,
                           "server URL \"%s\" has a space or a control "
                           "character",
                           url);
    memcpy(out, url, ul);
    out[ul] = '\0';
    return SC_OK;
}

/* "sha256//" and 44 characters of base64 (a SHA-256), ';'-separated. */
static bool pin_valid(const char *pin)
{
    static const char pre[] = "sha256//";
    const size_t one = sizeof pre - 1 + 44;
    size_t n = strlen(pin);
    if (n == 0 || n >= SC_PIN_MAX)
        return false;
    for (const char *p = pin;;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len != one || strncmp(p, pre, sizeof pre - 1) != 0 || p[one - 1] != '=')
            return false;
        for (size_t i = sizeof pre - 1; i < one - 1; i++) {
            char ch = p[i];
            if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
                return false;
        }
        if (!end)
            return true;
        p = end + 1;
    }
}

/* Read a CA bundle (PEM) of at most SC_CA_PEM_MAX bytes into t. */
static sc_status read_ca(sc_client *c, const char *path, sc_trust *t)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cl_fail(c, SC_ERR_IO, 0, "cannot read the CA file %s", path);
    sc_status s = SC_OK;
    t->ca = sc_alloc(&c->env, SC_CA_PEM_MAX + 1);
    if (!t->ca) {
        fclose(f);
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    }
    size_t n = fread(t->ca, 1, SC_CA_PEM_MAX + 1, f);
    if (ferror(f))
        s = cl_fail(c, SC_ERR_IO, 0, "cannot read the CA file %s", path);
    else if (n > SC_CA_PEM_MAX)
        s = cl_fail(c, SC_ERR_TOO_LARGE, 0, "the CA file %s is over %d bytes", path, SC_CA_PEM_MAX);
    fclose(f);
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    bool pem = false;
    for (size_t i = 0; s == SC_OK && !pem && i + sizeof begin - 1 <= n; i++)
        pem = memcmp(t->ca + i, begin, sizeof begin - 1) == 0;
    if (s == SC_OK && !pem)
        s = cl_fail(c, SC_ERR_INVALID_ARG, 0, "the CA file %s holds no PEM certificate", path);
    t->ca_len = n;
    t->ca_set = true;
    return s;
}

sc_status sc_client_set_net(sc_client *c, const sc_net_options *opt)
{
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    if (!opt) {
        sv_trust_dispose(c, &c->net);
        return SC_OK;
    }
    if (opt->version != SC_NET_OPTIONS_VERSION)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0,
                       "sc_client_set_net: options of version %d (this library knows %d)",
                       opt->version, SC_NET_OPTIONS_VERSION);
    if (opt->pin && *opt->pin && !pin_valid(opt->pin))
        return cl_fail(c, SC_ERR_INVALID_ARG, 0,
                       "the pin \"%.80s\" is not sha256// and the base64 of a SHA-256 (several "
                       "separated by ';')",
                       opt->pin);
    if ((opt->ca_dir && strlen(opt->ca_dir) >= SC_CA_DIR_MAX) ||
        (opt->proxy && strlen(opt->proxy) >= SC_CL_URL_MAX))
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "a CA directory or proxy URL too long");
    sc_trust t;
    memset(&t, 0, sizeof t);
    sc_status s = SC_OK;
    if (opt->ca_file && *opt->ca_file)
        s = read_ca(c, opt->ca_file, &t);
    else if (opt->ca_file)
        t.ca_set = true; /* "": none, not the remembered one */
    if (s == SC_OK)
        s = dup_text(c, opt->ca_dir, &t.ca_dir);
    if (s == SC_OK)
        s = dup_text(c, opt->pin, &t.pin);
    if (s == SC_OK)
        s = dup_text(c, opt->proxy, &t.proxy);
    if (s != SC_OK) {
        sv_trust_dispose(c, &t);
        return s;
    }
    sv_trust_dispose(c, &c->net);
    c->net = t;
    return SC_OK;
}

/* ---- moving to a new URL ---- */

/* GET target from base (signed) and unpack the 200 answer as a message of descriptor d. */
static sc_status get_message(sc_client *c, const char *base, const char *target,
                             const ProtobufCMessageDescriptor *d, ProtobufCMessage **out)
{
    tp_resp r;
    *out = NULL;
    sc_status s = tp_call_url(c, base, "GET", target, NULL, 0, true, SC_CL_SMALL_RESPONSE_MAX, &r);
    if (s == SC_OK && r.status != 200)
        s = tp_fail(c, &r, base);
    if (s == SC_OK && !(*out = protobuf_c_message_unpack(d, NULL, r.len, r.body)))
        s = cl_fail(c, SC_ERR_PROTOCOL, 0, "%s answered %s with something that is not a %s", base,
                    target, d->short_name);
    tp_resp_dispose(c, &r);
    return s;
}

/*
 * Does the log at base extend the replica's?  Its checkpoint must be signed
 * by the server key for the replica's origin, and consistent with the last
 * verified checkpoint.  *cp gets it.
 */
static sc_status same_register(sc_client *c, const char *base, sc_checkpoint *cp)
{
    ProtobufCMessage *m = NULL;
    sc_status s = get_message(c, base, "/v1/log/checkpoint", &scpb__checkpoint__descriptor, &m);
    if (s != SC_OK)
        return s;
    const Scpb__Checkpoint *ck = (const Scpb__Checkpoint *)m;
    sc_err e;
    sc_err_clear(&e);
    if (!ck->note || sc_checkpoint_open(ck->note, strlen(ck->note), c->id.server_key, c->id.origin,
                                        cp, &e) != SC_OK)
        s = cl_fail(c, SC_ERR_CHECKPOINT, 0,
                    "%s does not serve this replica's register (its checkpoint: %s); the replica "
                    "keeps %s",
                    base, ck->note ? e.msg : "none", c->id.server);
    protobuf_c_message_free_unpacked(m, NULL);
    if (s != SC_OK)
        return s;
    bool found = false;
    uint64_t old = 0;
    uint8_t root[SC_HASH_LEN];
    if ((s = st_ckpt_last(c, &found, &old, root, NULL)) != SC_OK || !found)
        return s;
    if (cp->size < old || (cp->size == old && memcmp(cp->root, root, SC_HASH_LEN) != 0))
        return cl_fail(c, SC_ERR_HISTORY_REWRITTEN, 0,
                       "%s serves a log of %llu entries that does not extend the verified one of "
                       "%llu; the replica keeps %s",
                       base, (unsigned long long)cp->size, (unsigned long long)old, c->id.server);
    if (cp->size == old)
        return SC_OK;
    char target[128];
    snprintf(target, sizeof target, "/v1/log/proof/consistency?old=%llu&size=%llu",
             (unsigned long long)old, (unsigned long long)cp->size);
    if ((s = get_message(c, base, target, &scpb__consistency_proof__descriptor, &m)) != SC_OK)
        return s;
    const Scpb__ConsistencyProof *p = (const Scpb__ConsistencyProof *)m;
    uint8_t(*h)[SC_HASH_LEN] = sc_calloc(&c->env, p->n_hashes + 1, SC_HASH_LEN);
    bool ok = h && p->n_hashes <= SC_PROOF_HASHES_MAX;
    for (size_t i = 0; ok && i < p->n_hashes; i++) {
        ok = p->hashes[i].len == SC_HASH_LEN;
        if (ok)
            memcpy(h[i], p->hashes[i].data, SC_HASH_LEN);
    }
    if (!h)
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    else if (!ok ||
             sc_merkle_verify_consistency(old, cp->size, root, cp->root,
                                          (const uint8_t(*)[SC_HASH_LEN])h, p->n_hashes) != SC_OK)
        s = cl_fail(c, SC_ERR_HISTORY_REWRITTEN, 0,
                    "%s: the consistency proof from the verified size %llu to %llu does not "
                    "verify; the replica keeps %s",
                    base, (unsigned long long)old, (unsigned long long)cp->size, c->id.server);
    sc_free(&c->env, h);
    protobuf_c_message_free_unpacked(m, NULL);
    return s;
}

static sc_status set_url_json(sc_client *c, const char *previous, const sc_checkpoint *cp,
                              char **json)
{
    char hex[SC_HASH_HEX];
    cl_hex(cp->root, SC_HASH_LEN, hex, sizeof hex);
    json_t *o = json_pack("{s:s,s:s,s:{s:I,s:s}}", "server", c->id.server, "previous", previous,
                          "checkpoint", "size", (json_int_t)cp->size, "root", hex);
    *json = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return *json ? SC_OK : cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
}

sc_status sc_server_set_url(sc_client *c, const char *url, char **json)
{
    if (json)
        *json = NULL;
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    tp_begin(c);
    char base[SC_CL_URL_MAX], previous[SC_CL_URL_MAX];
    sc_checkpoint cp;
    sc_status s = cl_need_writable(c, "sc_server_set_url");
    if (s == SC_OK)
        s = cl_need_identity(c);
    if (s == SC_OK)
        s = sv_url_normalize(c, url, base, sizeof base);
    if (s == SC_OK)
        s = cl_key(c);
    if (s == SC_OK)
        s = same_register(c, base, &cp);
    if (s != SC_OK)
        return s;
    snprintf(previous, sizeof previous, "%s", c->id.server);
    if ((s = st_begin(c)) != SC_OK)
        return s;
    if ((s = st_meta_put(c, "server", base, strlen(base))) != SC_OK ||
        (s = sv_trust_save(c)) != SC_OK || (s = st_commit(c)) != SC_OK) {
        st_rollback(c);
        return s;
    }
    if ((s = rp_identity_load(c)) == SC_OK && json)
        s = set_url_json(c, previous, &cp, json);
    return s;
}

/* ---- one op's inclusion proof ---- */

static sc_status prove_json(sc_client *c, const st_opinfo *info, uint64_t size,
                            const uint8_t root[SC_HASH_LEN], int64_t time_ms, size_t nproof,
                            char **json)
{
    char op[SC_HASH_HEX], entity[SC_ID_HEX], rhex[SC_HASH_HEX];
    cl_hex(info->id, SC_HASH_LEN, op, sizeof op);
    cl_hex(info->entity, SC_ID_LEN, entity, sizeof entity);
    cl_hex(root, SC_HASH_LEN, rhex, sizeof rhex);
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:{s:I,s:s,s:I},s:I,s:b}", "op", op, "entity", entity,
                          "kind", sc_name_of(&sc_names_op_kind, info->kind), "log_index",
                          (json_int_t)info->log_index, "checkpoint", "size", (json_int_t)size,
                          "root", rhex, "time_ms", (json_int_t)time_ms, "proof_hashes",
                          (json_int_t)nproof, "verified", 1);
    *json = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return *json ? SC_OK : cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
}

/* The proof's hashes, checked for size, against the leaf and the verified root. */
static sc_status prove_check(sc_client *c, const Scpb__InclusionProof *p, const uint8_t leaf[SC_HASH_LEN],
                             uint64_t index, uint64_t size, const uint8_t root[SC_HASH_LEN],
                             const char *op)
{
    if (p->n_hashes > SC_PROOF_HASHES_MAX)
        return cl_fail(c, SC_ERR_PROTOCOL, 0, "an inclusion proof of %zu hashes", p->n_hashes);
    uint8_t(*h)[SC_HASH_LEN] = sc_calloc(&c->env, p->n_hashes + 1, SC_HASH_LEN);
    if (!h)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    bool ok = true;
    for (size_t i = 0; ok && i < p->n_hashes; i++) {
        ok = p->hashes[i].len == SC_HASH_LEN;
        if (ok)
            memcpy(h[i], p->hashes[i].data, SC_HASH_LEN);
    }
    sc_status s = SC_OK;
    if (!ok || sc_merkle_verify_inclusion(leaf, index, size, (const uint8_t(*)[SC_HASH_LEN])h,
                                          p->n_hashes, root) != SC_OK)
        s = cl_fail(c, SC_ERR_PROOF, 0,
                    "op %.16s: %s's proof that it is entry %llu of the log of %llu entries does "
                    "not verify against the checkpoint this replica verified",
                    op, c->id.server, (unsigned long long)index, (unsigned long long)size);
    sc_free(&c->env, h);
    return s;
}

sc_status sc_op_prove(sc_client *c, const char *op_text, char **json)
{
    if (json)
        *json = NULL;
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    uint8_t id[SC_HASH_LEN], root[SC_HASH_LEN], leaf[SC_HASH_LEN];
    if (!cl_parse_hash(op_text, id))
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "an op is named by its id, 64 hex digits");
    st_opinfo info;
    sc_status s = cl_need_identity(c);
    if (s == SC_OK && (s = st_op_info(c, id, &info)) == SC_ERR_NOT_FOUND)
        return cl_fail(c, SC_ERR_NOT_FOUND, 0, "no op %.16s in this replica", op_text);
    if (s != SC_OK)
        return s;
    if (!info.has_index)
        return cl_fail(c, SC_ERR_UNPROVEN, 0,
                       "op %.16s is not in the log: it waits in the outbox or was rejected", op_text);
    bool found = false;
    uint64_t size = 0;
    int64_t time_ms = 0;
    if ((s = st_ckpt_last(c, &found, &size, root, &time_ms)) != SC_OK)
        return s;
    if (!found || info.log_index >= size)
        return cl_fail(c, SC_ERR_UNPROVEN, 0,
                       "op %.16s is entry %llu of the log, past the last checkpoint this replica "
                       "verified (%llu entries): sync, then ask again",
                       op_text, (unsigned long long)info.log_index, (unsigned long long)size);
    sc_op *op = NULL;
    if ((s = st_op_load(c, id, &op)) != SC_OK)
        return s;
    sc_merkle_leaf_hash(op->signed_bytes, op->signed_len, leaf);
    sc_op_free(&c->env, op);
    if ((s = cl_key(c)) != SC_OK)
        return s;
    tp_begin(c);
    char target[128];
    snprintf(target, sizeof target, "/v1/log/proof/inclusion?index=%llu&size=%llu",
             (unsigned long long)info.log_index, (unsigned long long)size);
    ProtobufCMessage *m = NULL;
    if ((s = get_message(c, c->id.server, target, &scpb__inclusion_proof__descriptor, &m)) != SC_OK)
        return s;
    const Scpb__InclusionProof *p = (const Scpb__InclusionProof *)m;
    s = prove_check(c, p, leaf, info.log_index, size, root, op_text);
    size_t nproof = p->n_hashes;
    protobuf_c_message_free_unpacked(m, NULL);
    if (s == SC_OK && json)
        s = prove_json(c, &info, size, root, time_ms, nproof, json);
    return s;
}
