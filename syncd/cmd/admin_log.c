/*
 * admin_log.c: `syncd admin log [--since YYYY-MM-DD] [--json]`: the admin
 * acts in the log, readable.  For each: its log index, when syncd logged
 * it, the admin command that makes such an act, what it was done to, what
 * it said, and who signed it.
 *
 * It is read from the log itself, never from a table beside it that could
 * disagree: the ops signed by the server key (`syncd admin`, and syncd at
 * enrollment) and the ops of kinds only admins may make (an admin's own
 * device may make them too).  Each is decoded from its signed bytes and its
 * signature checked; an entry that does not verify stops the listing with
 * a pointer to `syncd audit`.  What an act was done to is named from the
 * log as well: the create ops come first in it, and each names its entity
 * (an org unit's code, a user's login, a device's user and label), so the
 * names are those the entities had when they were made.  The whole log is
 * read once (it has no index by author or kind); --since only filters what
 * is shown.  Times are the server's local time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/opkind.h"

/*
 * Text into a buffer of cap bytes.  A label or a detail longer than its
 * buffer is cut there: it still says what it names.
 */
static void put(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

/* ---- what the log has named so far: entity id (or device key) -> a label ---- */

typedef struct label {
    uint8_t key[SC_KEY_LEN]; /* an entity id (first 16 bytes) or a device key */
    char text[SC_NAME_MAX + 80];
    bool used;
} label;

typedef struct labels {
    label *v;
    size_t cap, n; /* cap: a power of two */
    bool oom;
} labels;

static size_t slot(const uint8_t *k, size_t cap)
{
    /* UUIDv7 ids are random in their last bytes; keys are random throughout. */
    uint64_t h;
    memcpy(&h, k + 8, sizeof h);
    h ^= h >> 29;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    return (size_t)(h ^ (h >> 32)) & (cap - 1);
}

static const char *label_of(const labels *l, const uint8_t *k, size_t klen)
{
    uint8_t key[SC_KEY_LEN] = {0};
    memcpy(key, k, klen);
    for (size_t j = l->cap ? slot(key, l->cap) : 0; l->cap && l->v[j].used;
         j = (j + 1) & (l->cap - 1))
        if (memcmp(l->v[j].key, key, SC_KEY_LEN) == 0)
            return l->v[j].text;
    return NULL;
}

static void label_put(labels *l, const uint8_t *k, size_t klen, const char *text)
{
    if (l->oom)
        return;
    if (2 * (l->n + 1) > l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        label *nv = calloc(cap, sizeof *nv);
        if (!nv) {
            l->oom = true;
            return;
        }
        for (size_t i = 0; i < l->cap; i++)
            if (l->v[i].used) {
                size_t j = slot(l->v[i].key, cap);
                while (nv[j].used)
                    j = (j + 1) & (cap - 1);
                nv[j] = l->v[i];
            }
        free(l->v);
        l->v = nv;
        l->cap = cap;
    }
    uint8_t key[SC_KEY_LEN] = {0};
    memcpy(key, k, klen);
    size_t j = slot(key, l->cap);
    while (l->v[j].used && memcmp(l->v[j].key, key, SC_KEY_LEN) != 0)
        j = (j + 1) & (l->cap - 1);
    if (!l->v[j].used)
        l->n++;
    l->v[j].used = true;
    memcpy(l->v[j].key, key, SC_KEY_LEN);
    put(l->v[j].text, sizeof l->v[j].text, "%s", text);
}

/* ---- one act ---- */

/* The command that makes each admin kind (an import makes the creates too). */
static const char *command_of(Scpb__Op__BodyCase kind)
{
    switch (kind) {
    case SCPB__OP__BODY_ORG_CREATE:
        return "org add / import orgs";
    case SCPB__OP__BODY_TARGET_CREATE:
        return "target add / import targets";
    case SCPB__OP__BODY_USER_CREATE:
        return "user add / import users";
    case SCPB__OP__BODY_DEVICE_ENROLL:
        return "enroll (code used)";
    case SCPB__OP__BODY_DEVICE_REVOKE:
        return "device revoke";
    case SCPB__OP__BODY_TEMPLATE_PUBLISH:
        return "template add";
    case SCPB__OP__BODY_ASSIGNMENT_CREATE:
        return "assign";
    case SCPB__OP__BODY_USER_DISABLE:
        return "user disable";
    case SCPB__OP__BODY_USER_ENABLE:
        return "user enable";
    case SCPB__OP__BODY_USER_ROLE:
        return "user role";
    default:
        return "-";
    }
}

/* A short hex of an id for a label. */
static void short_hex(const uint8_t *b, char out[9])
{
    char hex[2 * SC_KEY_LEN + 1];
    sd_adm_hex(b, 4, hex);
    memcpy(out, hex, 9);
}

/* The label a create op gives its entity, and what it says (into on and detail). */
static void describe_create(labels *l, const Scpb__Op *o, char *on, size_t oncap, char *detail,
                            size_t dcap)
{
    const char *parent;
    switch (o->body_case) {
    case SCPB__OP__BODY_ORG_CREATE:
        put(on, oncap, "org %s", o->org_create->code);
        parent =
            o->org_create->has_parent ? label_of(l, o->org_create->parent.data, SC_ID_LEN) : NULL;
        put(detail, dcap, "%s%s%s", o->org_create->name, parent ? ", under " : "",
            parent ? parent : "");
        break;
    case SCPB__OP__BODY_TARGET_CREATE:
        put(on, oncap, "target %s", o->target_create->code);
        parent = label_of(l, o->target_create->org.data, SC_ID_LEN);
        put(detail, dcap, "%s, in %s", o->target_create->name, parent ? parent : "?");
        break;
    case SCPB__OP__BODY_USER_CREATE: {
        const char *role = sc_name_of(&sc_names_role, o->user_create->role);
        put(on, oncap, "user %s", o->user_create->login);
        parent = label_of(l, o->user_create->org.data, SC_ID_LEN);
        put(detail, dcap, "%s%s%s, in %s", role ? role : "?", o->user_create->name ? " " : "",
            o->user_create->name ? o->user_create->name : "", parent ? parent : "?");
        break;
    }
    case SCPB__OP__BODY_DEVICE_ENROLL: {
        /* By its key, as the acts it signs name it ("by") and as device
         * list's KEY column begins: a device id is a UUIDv7, whose first
         * digits are the time it enrolled, alike for devices enrolled
         * within a minute of each other. */
        char h[9];
        short_hex(o->device_enroll->key.len == SC_KEY_LEN ? o->device_enroll->key.data
                                                          : o->entity.data,
                  h);
        const char *user = label_of(l, o->device_enroll->user.data, SC_ID_LEN);
        put(on, oncap, "device %s of %s", h, user ? user : "?");
        put(detail, dcap, "%s", o->device_enroll->label ? o->device_enroll->label : "");
        break;
    }
    case SCPB__OP__BODY_TEMPLATE_PUBLISH:
        put(on, oncap, "template %s v%u", o->template_publish->code, o->template_publish->version);
        put(detail, dcap, "%s, %zu items", o->template_publish->name, o->template_publish->n_items);
        break;
    case SCPB__OP__BODY_ASSIGNMENT_CREATE: {
        /* Its whole id, the one `spotcheck check open --assignment` takes:
         * the first digits of a UUIDv7 are its time, alike for plans made
         * within a minute of each other. */
        char h[SC_ID_HEX];
        sd_adm_hex(o->entity.data, SC_ID_LEN, h);
        const char *target = label_of(l, o->assignment_create->target.data, SC_ID_LEN);
        const char *kind = sc_name_of(&sc_names_kind, o->assignment_create->kind);
        const char *disc = sc_name_of(&sc_names_disclosure, o->assignment_create->disclosure);
        put(on, oncap, "assignment %s", h);
        put(detail, dcap, "%s %s check of %s, %zu inspectors", disc ? disc : "?", kind ? kind : "?",
            target ? target : "?", o->assignment_create->n_inspectors);
        break;
    }
    default:
        put(on, oncap, "?");
        detail[0] = '\0';
        break;
    }
    label_put(l, o->entity.data, SC_ID_LEN, on);
    if (o->body_case == SCPB__OP__BODY_DEVICE_ENROLL && o->device_enroll->key.len == SC_KEY_LEN) {
        const char *user = label_of(l, o->device_enroll->user.data, SC_ID_LEN);
        /* Device keys name their user, for the "by" of acts a device signs. */
        label_put(l, o->device_enroll->key.data, SC_KEY_LEN, user ? user : "?");
    }
}

/* What an act on an existing entity did to it. */
static void describe_act(const labels *l, const Scpb__Op *o, char *on, size_t oncap, char *detail,
                         size_t dcap)
{
    const char *what = label_of(l, o->entity.data, SC_ID_LEN);
    put(on, oncap, "%s", what ? what : "?");
    const char *role;
    switch (o->body_case) {
    case SCPB__OP__BODY_DEVICE_REVOKE:
        put(detail, dcap, "%s", o->device_revoke->reason ? o->device_revoke->reason : "");
        break;
    case SCPB__OP__BODY_USER_DISABLE:
        put(detail, dcap, "%s", o->user_disable->reason ? o->user_disable->reason : "");
        break;
    case SCPB__OP__BODY_USER_ENABLE:
        put(detail, dcap, "%s", o->user_enable->reason ? o->user_enable->reason : "");
        break;
    case SCPB__OP__BODY_USER_ROLE:
        role = sc_name_of(&sc_names_role, o->user_role->role);
        put(detail, dcap, "role %s", role ? role : "?");
        break;
    default: {
        const char *k = sc_name_of(&sc_names_op_kind, o->body_case);
        put(detail, dcap, "%s", k ? k : "?");
        break;
    }
    }
}

/* ---- the listing ---- */

typedef struct log_ctx {
    const uint8_t *server_key;
    int64_t since_ms;
    labels names;
    json_t *arr;     /* --json */
    sd_adm_table *t; /* else */
    size_t shown;
    char problem[SC_ERR_MSG_MAX]; /* an entry that does not verify */
} log_ctx;

static void show(log_ctx *c, const sd_op_row *row, const sc_op *op, const char *on,
                 const char *detail)
{
    const Scpb__Op *o = op->op;
    const char *kind = sc_name_of(&sc_names_op_kind, o->body_case);
    char by[SC_NAME_MAX + 32], when[24], idx[24], opid[SC_HASH_HEX], ent[SC_ID_HEX];
    if (memcmp(o->author.data, c->server_key, SC_KEY_LEN) == 0) {
        put(by, sizeof by, "%s",
            o->body_case == SCPB__OP__BODY_DEVICE_ENROLL ? "syncd (enrollment)" : "syncd admin");
    } else {
        const char *who = label_of(&c->names, o->author.data, SC_KEY_LEN);
        char h[9];
        short_hex(o->author.data, h);
        put(by, sizeof by, "%s's device %s", who ? who : "unknown", h);
    }
    sd_adm_time(row->received_ms, when, sizeof when);
    put(idx, sizeof idx, "%llu", (unsigned long long)row->idx);
    c->shown++;
    if (!c->arr) {
        sd_adm_table_row(
            c->t, (const char *const[]){idx, when, command_of(o->body_case), on, detail, by});
        return;
    }
    sd_adm_hex(op->id, SC_HASH_LEN, opid);
    sd_adm_hex(o->entity.data, SC_ID_LEN, ent);
    const char *type = sc_name_of(&sc_names_entity_type, o->entity_type);
    json_array_append_new(c->arr,
                          json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "index",
                                    (json_int_t)row->idx, "time_ms", (json_int_t)row->received_ms,
                                    "kind", kind ? kind : "?", "command", command_of(o->body_case),
                                    "entity", ent, "entity_type", type ? type : "?", "on", on,
                                    "detail", detail, "by", by, "op", opid));
}

static bool each_act(void *ctx, const sd_op_row *row)
{
    log_ctx *c = ctx;
    sc_op *op = NULL;
    sc_err e;
    sc_err_clear(&e);
    if (sc_op_open(NULL, row->signed_op, row->signed_len, SC_OP_VERIFY, &op, &e) != SC_OK) {
        put(c->problem, sizeof c->problem,
            "log entry %llu does not verify (%s): run `syncd audit --data DIR`",
            (unsigned long long)row->idx, e.msg);
        return false;
    }
    char on[SC_NAME_MAX + 80], detail[SC_NAME_MAX * 2 + 80];
    if (sc_op_kind_is_create(op->op->body_case))
        describe_create(&c->names, op->op, on, sizeof on, detail, sizeof detail);
    else
        describe_act(&c->names, op->op, on, sizeof on, detail, sizeof detail);
    if (row->received_ms >= c->since_ms)
        show(c, row, op, on, detail);
    sc_op_free(NULL, op);
    return true;
}

/* The kinds only admins may make: the op-kind table's may column. */
static size_t admin_kinds(int *out, size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; k < sc_opkinds_n && n < cap; k++) {
        const sc_opkind *ok = &sc_opkinds[k];
        if (!ok->may[SC_MAY_INSPECTOR] && !ok->may[SC_MAY_SUPERVISOR] &&
            !ok->may[SC_MAY_RESPONSIBLE] && ok->may[SC_MAY_ADMIN])
            out[n++] = (int)ok->kind;
    }
    return n;
}

int sd_adm_log(sd_register *r, const char *data, const sd_adm_args *a)
{
    (void)r;
    const char *since = sd_adm_opt(a, "since");
    log_ctx c;
    memset(&c, 0, sizeof c);
    if (since && !sd_adm_day_ms(since, &c.since_ms)) {
        fprintf(stderr, "syncd admin log: --since \"%s\" is not a date YYYY-MM-DD\n", since);
        return SD_ADM_USAGE;
    }
    sd_store *s = NULL;
    sc_err err;
    sc_err_clear(&err);
    if (sd_adm_store_open(data, &s, &err) != SC_OK)
        return sd_adm_fail("log", &err);
    uint8_t *key = NULL;
    size_t klen = 0;
    int kinds[32];
    size_t nk = admin_kinds(kinds, 32);
    sd_adm_table t;
    static const char *const head[] = {"INDEX", "WHEN", "COMMAND", "ON", "DETAIL", "BY"};
    sd_adm_table_init(&t, 6, head);
    c.t = &t;
    c.arr = sd_adm_has(a, "json") ? json_array() : NULL;
    sc_status rc = s->vt->meta_get(s, "server_key", &key, &klen, &err);
    if (rc == SC_OK && klen != SC_KEY_LEN)
        rc = sc_err_set(&err, SC_ERR_STORAGE, 0, "the register's server key is damaged");
    if (rc == SC_OK) {
        c.server_key = key;
        rc = s->vt->op_scan_by(s, key, kinds, nk, each_act, &c, &err);
    }
    sd_adm_store_close(s);
    free(key);
    free(c.names.v);
    int status;
    if (rc != SC_OK || c.names.oom) {
        if (rc == SC_OK)
            sc_err_set(&err, SC_ERR_NOMEM, 0, "out of memory");
        status = sd_adm_fail("log", &err);
    } else if (c.problem[0]) {
        fprintf(stderr, "syncd admin: log: %s\n", c.problem);
        status = 1;
    } else if (c.arr) {
        sd_adm_table_free(&t);
        return sd_adm_json_print(c.arr);
    } else {
        return sd_adm_table_print(&t);
    }
    json_decref(c.arr);
    sd_adm_table_free(&t);
    return status;
}
