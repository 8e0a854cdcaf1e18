/*
 * admin.c: `syncd admin --data DIR ...`, the administrator's commands.
 *
 * Every change is an admin op signed by the server key and logged through
 * sd_register_admin_op, exactly like an op pushed by a device, so the log
 * holds the whole history and `syncd audit` can check it.  The commands
 * open the register next to a running `syncd serve` (SQLite's write lock
 * serializes them).  Names typed by people (org codes, logins, kinds) are
 * resolved here, and every refusal says what was wrong in the people's
 * terms: the unknown code, the login already taken, the accepted roles.
 *
 * Output: the new entity's id (32 hex digits) on stdout, or the enrollment
 * code alone, or JSON for `device list`; errors on stderr.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/date.h"
#include "core/ids.h"
#include "core/names.h"
#include "register/register.h"
#include "store/store.h"
#include "template.h"

#define MAX_ARGS 64
#define ENROLL_TTL_DEFAULT 72
/* A command's answer to arguments that do not fit its usage: the dispatcher prints the usage. */
#define USAGE_ERROR (-2)

/* The command line split into words and --options (some may repeat). */
typedef struct args {
    const char *word[MAX_ARGS];
    size_t nword;
    const char *key[MAX_ARGS];
    const char *val[MAX_ARGS];
    size_t nopt;
    bool help; /* --help or -h */
} args;

/* Split argv; false when it does not split, with what is wrong in why (cap bytes). */
static bool split_args(int argc, char **argv, args *a, char *why, size_t cap)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            a->help = true;
        } else if (strncmp(s, "--", 2) == 0) {
            if (a->nopt == MAX_ARGS) {
                snprintf(why, cap, "more than %d options", MAX_ARGS);
                return false;
            }
            const char *eq = strchr(s, '=');
            a->key[a->nopt] = s + 2; /* --key=value: the key ends at '=' (key_is) */
            if (eq)
                a->val[a->nopt] = eq + 1;
            else if (i + 1 < argc)
                a->val[a->nopt] = argv[++i];
            else {
                snprintf(why, cap, "%s needs a value", s);
                return false;
            }
            a->nopt++;
        } else {
            if (a->nword == MAX_ARGS) {
                snprintf(why, cap, "more than %d arguments", MAX_ARGS);
                return false;
            }
            a->word[a->nword++] = s;
        }
    }
    return true;
}

static bool key_is(const char *k, const char *name)
{
    size_t n = strlen(name);
    return strncmp(k, name, n) == 0 && (k[n] == '\0' || k[n] == '=');
}

static const char *opt(const args *a, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < a->nopt; i++)
        if (key_is(a->key[i], name))
            v = a->val[i];
    return v;
}

/* The first option a command does not know (besides --data), so a typo is never ignored. */
static const char *unknown_opt(const args *a, const char *const *known)
{
    for (size_t i = 0; i < a->nopt; i++) {
        bool ok = key_is(a->key[i], "data");
        for (const char *const *k = known; *k && !ok; k++)
            ok = key_is(a->key[i], *k);
        if (!ok)
            return a->key[i];
    }
    return NULL;
}

static void print_id(const uint8_t id[SC_ID_LEN])
{
    char hex[SC_ID_HEX];
    sc_hex_encode(id, SC_ID_LEN, hex, sizeof hex);
    printf("%s\n", hex);
}

static int fail_err(const char *what, const sc_err *err)
{
    fprintf(stderr, "syncd admin: %s: %s\n", what, err->msg);
    return 1;
}

static bool lookup(sd_register *r, Scpb__EntityType kind, const char *code, const char *what,
                   uint8_t out[SC_ID_LEN])
{
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_register_lookup_code(r, kind, code, 0, out, &err);
    if (rc == SC_ERR_NOT_FOUND) {
        fprintf(stderr, "syncd admin: no %s with code \"%s\"\n", what, code);
        return false;
    }
    if (rc != SC_OK) {
        fprintf(stderr, "syncd admin: %s\n", err.msg);
        return false;
    }
    return true;
}

static bool parse_name(const sc_names *t, const char *s, const char *what, int *out)
{
    if (sc_name_parse(t, s, out))
        return true;
    fprintf(stderr, "syncd admin: unknown %s \"%s\" (one of:", what, s);
    for (size_t i = 0; i < t->n; i++)
        fprintf(stderr, " %s", t->v[i].name);
    fprintf(stderr, ")\n");
    return false;
}

/* Log an admin op and print its entity id. */
static int submit(sd_register *r, Scpb__Op *op, uint8_t id[SC_ID_LEN], const char *what)
{
    sc_err err;
    sc_err_clear(&err);
    uint64_t idx = 0;
    if (sd_register_admin_op(r, op, &idx, &err) != SC_OK)
        return fail_err(what, &err);
    print_id(id);
    return 0;
}

static void op_new(sd_register *r, Scpb__Op *op, uint8_t id[SC_ID_LEN], Scpb__EntityType type)
{
    scpb__op__init(op);
    sc_uuid7_new(sd_register_env(r), id);
    op->has_entity = true;
    op->entity.data = id;
    op->entity.len = SC_ID_LEN;
    op->has_entity_type = true;
    op->entity_type = type;
}

/* ---- org, target, user ---- */

static int cmd_org_add(sd_register *r, const char *data, const args *a)
{
    (void)data;
    const char *name = opt(a, "name"), *parent = opt(a, "parent");
    if (a->nword != 3 || !name)
        return USAGE_ERROR;
    uint8_t id[SC_ID_LEN], pid[SC_ID_LEN];
    Scpb__Op op;
    Scpb__OrgCreate b = SCPB__ORG_CREATE__INIT;
    op_new(r, &op, id, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT);
    op.body_case = SCPB__OP__BODY_ORG_CREATE;
    op.org_create = &b;
    b.code = (char *)a->word[2];
    b.name = (char *)name;
    int level = SCPB__ORG_LEVEL__LEVEL_CITY;
    if (parent) {
        if (!lookup(r, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, parent, "org unit", pid))
            return 1;
        b.has_parent = true;
        b.parent.data = pid;
        b.parent.len = SC_ID_LEN;
        /* Without --level, a child sits one level below its parent. */
        Scpb__EntityState *st = NULL;
        sc_err err;
        if (sd_register_state(r, pid, &st, &err) == SC_OK && st->org && st->org->has_level)
            level = st->org->level < SCPB__ORG_LEVEL__LEVEL_HOUSEHOLD ? (int)st->org->level + 1
                                                                      : (int)st->org->level;
        sd_state_free(st);
    }
    const char *lv = opt(a, "level"), *kind = opt(a, "kind");
    if (lv && !parse_name(&sc_names_org_level, lv, "org level", &level))
        return 2;
    b.has_level = true;
    b.level = (Scpb__OrgLevel)level;
    if (kind) {
        int k;
        if (!parse_name(&sc_names_org_kind, kind, "org kind", &k))
            return 2;
        b.has_kind = true;
        b.kind = (Scpb__OrgKind)k;
    }
    return submit(r, &op, id, "org add");
}

static int cmd_target_add(sd_register *r, const char *data, const args *a)
{
    (void)data;
    const char *name = opt(a, "name"), *org = opt(a, "org"), *type = opt(a, "type");
    if (a->nword != 3 || !name || !org)
        return USAGE_ERROR;
    uint8_t id[SC_ID_LEN], oid[SC_ID_LEN];
    if (!lookup(r, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, org, "org unit", oid))
        return 1;
    Scpb__Op op;
    Scpb__TargetCreate b = SCPB__TARGET_CREATE__INIT;
    op_new(r, &op, id, SCPB__ENTITY_TYPE__ENTITY_TARGET);
    op.body_case = SCPB__OP__BODY_TARGET_CREATE;
    op.target_create = &b;
    b.code = (char *)a->word[2];
    b.name = (char *)name;
    b.has_org = true;
    b.org.data = oid;
    b.org.len = SC_ID_LEN;
    b.address = (char *)opt(a, "address");
    if (type) {
        int t;
        if (!parse_name(&sc_names_target_type, type, "target type", &t))
            return 2;
        b.has_type = true;
        b.type = (Scpb__TargetType)t;
    }
    return submit(r, &op, id, "target add");
}

static int cmd_user_add(sd_register *r, const char *data, const args *a)
{
    (void)data;
    const char *role = opt(a, "role"), *org = opt(a, "org");
    if (a->nword != 3 || !role || !org)
        return USAGE_ERROR;
    int rv;
    if (!parse_name(&sc_names_role, role, "role", &rv))
        return 2;
    uint8_t id[SC_ID_LEN], oid[SC_ID_LEN];
    if (!lookup(r, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, org, "org unit", oid))
        return 1;
    Scpb__Op op;
    Scpb__UserCreate b = SCPB__USER_CREATE__INIT;
    op_new(r, &op, id, SCPB__ENTITY_TYPE__ENTITY_USER);
    op.body_case = SCPB__OP__BODY_USER_CREATE;
    op.user_create = &b;
    b.login = (char *)a->word[2];
    b.name = (char *)opt(a, "name");
    b.has_role = true;
    b.role = (Scpb__Role)rv;
    b.has_org = true;
    b.org.data = oid;
    b.org.len = SC_ID_LEN;
    return submit(r, &op, id, "user add");
}

/* ---- enrollment and devices ---- */

static int cmd_enroll(sd_register *r, const char *data, const args *a)
{
    (void)data;
    if (a->nword != 2)
        return USAGE_ERROR;
    unsigned ttl = ENROLL_TTL_DEFAULT;
    const char *t = opt(a, "ttl");
    if (t) {
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(t, &end, 10);
        if (errno || !*t || *end || t[0] == '-' || v == 0 || v > 24 * 365) {
            fprintf(stderr, "syncd admin: --ttl must be a number of hours from 1 to 8760\n");
            return 2;
        }
        ttl = (unsigned)v;
    }
    char code[32];
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_enroll_code(r, a->word[1], ttl, code, sizeof code, &err) != SC_OK)
        return fail_err("enroll", &err);
    printf("%s\n", code);
    return 0;
}

typedef struct list_ctx {
    sd_store *s;
    json_t *arr;
    sc_status rc;
    sc_err *err;
} list_ctx;

static json_t *hex_json(const uint8_t *b, size_t n)
{
    char hex[2 * SC_KEY_LEN + 1];
    sc_hex_encode(b, n, hex, sizeof hex);
    return json_string(hex);
}

static bool list_one(void *ctx, const sd_device_row *d)
{
    list_ctx *c = ctx;
    json_t *o = json_object();
    json_object_set_new(o, "device", hex_json(d->device, SC_ID_LEN));
    json_object_set_new(o, "key", hex_json(d->key, SC_KEY_LEN));
    json_object_set_new(o, "user", hex_json(d->user, SC_ID_LEN));
    sd_entity_row row;
    Scpb__EntityState *st = NULL;
    if (c->s->vt->entity_get(c->s, d->user, true, &row, c->err) == SC_OK) {
        st = scpb__entity_state__unpack(NULL, row.state_len, row.state);
        free(row.state);
        if (st && st->user) {
            json_object_set_new(o, "login", json_string(st->user->login ? st->user->login : ""));
            const char *role = sc_name_of(&sc_names_role, st->user->role);
            json_object_set_new(o, "role", json_string(role ? role : ""));
        }
        sd_state_free(st);
        st = NULL;
    }
    if (c->s->vt->entity_get(c->s, d->device, true, &row, c->err) == SC_OK) {
        st = scpb__entity_state__unpack(NULL, row.state_len, row.state);
        free(row.state);
        if (st && st->device) {
            json_object_set_new(o, "label", json_string(st->device->label ? st->device->label : ""));
            if (st->device->revoke_reason)
                json_object_set_new(o, "revoke_reason", json_string(st->device->revoke_reason));
        }
        sd_state_free(st);
    }
    json_object_set_new(o, "enrolled_index", json_integer((json_int_t)d->enrolled_idx));
    json_object_set_new(o, "revoked", json_boolean(d->revoked));
    if (d->revoked)
        json_object_set_new(o, "revoked_index", json_integer((json_int_t)d->revoked_idx));
    json_array_append_new(c->arr, o);
    return true;
}

static int cmd_device_list(sd_register *r, const char *data, const args *a)
{
    (void)r;
    if (a->nword != 2)
        return USAGE_ERROR;
    char path[SD_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/register.db", data);
    sd_store *s = NULL;
    sc_err err;
    sc_err_clear(&err);
    if (sd_store_sqlite_open(path, false, &s, &err) != SC_OK)
        return fail_err("device list", &err);
    list_ctx c = {s, json_array(), SC_OK, &err};
    sc_status rc = s->vt->begin(s, false, &err);
    if (rc == SC_OK)
        rc = s->vt->device_scan(s, list_one, &c, &err);
    s->vt->rollback(s);
    s->vt->close(s);
    if (rc != SC_OK) {
        json_decref(c.arr);
        return fail_err("device list", &err);
    }
    char *text = json_dumps(c.arr, JSON_INDENT(2));
    json_decref(c.arr);
    if (!text) {
        fprintf(stderr, "syncd admin: device list: out of memory\n");
        return 1;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

static int cmd_device_revoke(sd_register *r, const char *data, const args *a)
{
    if (a->nword != 3)
        return USAGE_ERROR;
    const char *idtext = a->word[2];
    uint8_t id[SC_ID_LEN];
    size_t len = strlen(idtext);
    if (len == 2 * SC_KEY_LEN) {
        /* A device key: find its device entity. */
        uint8_t key[SC_KEY_LEN];
        char path[SD_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/register.db", data);
        sd_store *s = NULL;
        sc_err err;
        sc_err_clear(&err);
        sd_device_row d;
        if (sc_hex_decode(idtext, len, key, SC_KEY_LEN) != SC_OK) {
            fprintf(stderr, "syncd admin: \"%s\" is not a device id or key\n", idtext);
            return 2;
        }
        if (sd_store_sqlite_open(path, false, &s, &err) != SC_OK)
            return fail_err("device revoke", &err);
        sc_status rc = s->vt->device_get(s, key, &d, &err);
        s->vt->close(s);
        if (rc != SC_OK) {
            fprintf(stderr, "syncd admin: no device with key %s\n", idtext);
            return 1;
        }
        memcpy(id, d.device, SC_ID_LEN);
    } else if (sc_hex_decode(idtext, len, id, SC_ID_LEN) != SC_OK) {
        fprintf(stderr,
                "syncd admin: \"%s\" is not a device id (32 hex digits) or key (64 hex digits)\n",
                idtext);
        return 2;
    }
    Scpb__EntityState *st = NULL;
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_state(r, id, &st, &err) != SC_OK || !st->device) {
        sd_state_free(st);
        fprintf(stderr, "syncd admin: no device %s\n", idtext);
        return 1;
    }
    bool already = st->device->revoked;
    sd_state_free(st);
    if (already) {
        fprintf(stderr, "syncd admin: device %s is already revoked\n", idtext);
        return 1;
    }
    Scpb__Op op;
    Scpb__DeviceRevoke b = SCPB__DEVICE_REVOKE__INIT;
    scpb__op__init(&op);
    op.has_entity = true;
    op.entity.data = id;
    op.entity.len = SC_ID_LEN;
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_DEVICE;
    op.body_case = SCPB__OP__BODY_DEVICE_REVOKE;
    op.device_revoke = &b;
    b.reason = (char *)opt(a, "reason");
    return submit(r, &op, id, "device revoke");
}

/* ---- score sheets ---- */

static int cmd_template_add(sd_register *r, const char *data, const args *a)
{
    (void)data;
    if (a->nword != 3)
        return USAGE_ERROR;
    const char *file = a->word[2];
    json_error_t jerr;
    json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        fprintf(stderr, "syncd admin: %s:%d: %s\n", file, jerr.line, jerr.text);
        return 1;
    }
    Scpb__TemplatePublish b = SCPB__TEMPLATE_PUBLISH__INIT;
    Scpb__TemplateItem *items = NULL;
    Scpb__TemplateItem **ptrs = calloc(SC_TEMPLATE_ITEMS_MAX, sizeof *ptrs);
    int rc = 1;
    char msg[SC_ERR_MSG_MAX] = "out of memory";
    if (ptrs && sd_template_from_json(root, &b, &items, ptrs, msg, sizeof msg)) {
        uint8_t id[SC_ID_LEN];
        Scpb__Op op;
        op_new(r, &op, id, SCPB__ENTITY_TYPE__ENTITY_TEMPLATE);
        op.body_case = SCPB__OP__BODY_TEMPLATE_PUBLISH;
        op.template_publish = &b;
        rc = submit(r, &op, id, "template add");
    } else {
        fprintf(stderr, "syncd admin: %s: %s\n", file, msg);
    }
    free(items);
    free(ptrs);
    json_decref(root);
    return rc;
}

/* ---- assignments ---- */

/* A score sheet named by its id (32 hex digits) or as CODE@VERSION. */
static bool template_id(sd_register *r, const char *text, uint8_t out[SC_ID_LEN])
{
    if (strlen(text) == 2 * SC_ID_LEN && sc_hex_decode(text, strlen(text), out, SC_ID_LEN) == SC_OK)
        return true;
    const char *at = strrchr(text, '@');
    char code[SC_CODE_MAX + 1];
    if (at && (size_t)(at - text) <= SC_CODE_MAX) {
        char *end = NULL;
        unsigned long v = strtoul(at + 1, &end, 10);
        if (*end == '\0' && v > 0 && v <= UINT32_MAX) {
            memcpy(code, text, (size_t)(at - text));
            code[at - text] = '\0';
            sc_err err;
            if (sd_register_lookup_code(r, SCPB__ENTITY_TYPE__ENTITY_TEMPLATE, code, (uint32_t)v,
                                        out, &err) == SC_OK)
                return true;
        }
    }
    fprintf(stderr, "syncd admin: no score sheet \"%s\" (give its id or CODE@VERSION)\n", text);
    return false;
}

static int cmd_assign(sd_register *r, const char *data, const args *a)
{
    (void)data;
    const char *target = opt(a, "target"), *kind = opt(a, "kind"),
               *disc = opt(a, "disclosure"), *due = opt(a, "due"), *tpl = opt(a, "template");
    size_t ninsp = 0;
    for (size_t i = 0; i < a->nopt; i++)
        if (key_is(a->key[i], "inspector"))
            ninsp++;
    if (a->nword != 1 || !target || !kind || !disc || ninsp == 0)
        return USAGE_ERROR;
    if (ninsp > SC_ASSIGNEES_MAX) {
        fprintf(stderr, "syncd admin: at most %d inspectors on one assignment\n", SC_ASSIGNEES_MAX);
        return 2;
    }
    int kv, dv;
    if (!parse_name(&sc_names_kind, kind, "inspection kind", &kv) ||
        !parse_name(&sc_names_disclosure, disc, "disclosure", &dv))
        return 2;
    uint8_t id[SC_ID_LEN], tid[SC_ID_LEN], tplid[SC_ID_LEN];
    uint8_t users[SC_ASSIGNEES_MAX][SC_ID_LEN];
    ProtobufCBinaryData ub[SC_ASSIGNEES_MAX];
    if (!lookup(r, SCPB__ENTITY_TYPE__ENTITY_TARGET, target, "target", tid))
        return 1;
    size_t k = 0;
    for (size_t i = 0; i < a->nopt; i++) {
        if (!key_is(a->key[i], "inspector"))
            continue;
        if (!lookup(r, SCPB__ENTITY_TYPE__ENTITY_USER, a->val[i], "user", users[k]))
            return 1;
        ub[k].data = users[k];
        ub[k].len = SC_ID_LEN;
        k++;
    }
    Scpb__Op op;
    Scpb__AssignmentCreate b = SCPB__ASSIGNMENT_CREATE__INIT;
    op_new(r, &op, id, SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT);
    op.body_case = SCPB__OP__BODY_ASSIGNMENT_CREATE;
    op.assignment_create = &b;
    b.has_target = true;
    b.target.data = tid;
    b.target.len = SC_ID_LEN;
    b.n_inspectors = k;
    b.inspectors = ub;
    b.has_kind = true;
    b.kind = (Scpb__InspectionKind)kv;
    b.has_disclosure = true;
    b.disclosure = (Scpb__Disclosure)dv;
    b.note = (char *)opt(a, "note");
    if (due) {
        int32_t day;
        if (sc_date_parse(due, strlen(due), &day) != SC_OK) {
            fprintf(stderr, "syncd admin: --due must be a date YYYY-MM-DD\n");
            return 2;
        }
        b.has_due_day = true;
        b.due_day = day;
    }
    if (tpl) {
        if (!template_id(r, tpl, tplid))
            return 1;
        b.has_template_ = true;
        b.template_.data = tplid;
        b.template_.len = SC_ID_LEN;
    }
    return submit(r, &op, id, "assign");
}

/* One admin command: its words, its usage after them, the options it takes, and how it runs. */
typedef struct admin_cmd {
    const char *name;            /* "org add": one or two words */
    const char *usage;           /* what follows the name in its usage line */
    const char *const known[10]; /* its options besides --data; NULL ends the list */
    bool own_store;              /* reads the register itself: run gets r NULL */
    int (*run)(sd_register *r, const char *data, const args *a);
} admin_cmd;

static const admin_cmd admin_cmds[] = {
    {"org add",
     "CODE --name NAME [--parent CODE] [--level LEVEL] [--kind KIND]",
     {"name", "parent", "level", "kind", NULL},
     false,
     cmd_org_add},
    {"target add",
     "CODE --name NAME --org CODE [--type TYPE] [--address TEXT]",
     {"name", "org", "type", "address", NULL},
     false,
     cmd_target_add},
    {"user add",
     "LOGIN --role inspector|supervisor|responsible|auditor|admin --org CODE [--name NAME]",
     {"name", "org", "role", NULL},
     false,
     cmd_user_add},
    {"enroll", "LOGIN [--ttl HOURS]", {"ttl", NULL}, false, cmd_enroll},
    {"device list", "", {NULL}, true, cmd_device_list},
    {"device revoke",
     "DEVICE_ID|DEVICE_KEY [--reason TEXT]",
     {"reason", NULL},
     false,
     cmd_device_revoke},
    {"template add", "FILE.json", {NULL}, false, cmd_template_add},
    {"assign",
     "--target CODE --inspector LOGIN [--inspector LOGIN ...] --kind KIND\n"
     "         --disclosure open|unannounced|experiential [--due YYYY-MM-DD]\n"
     "         [--template ID|CODE@VERSION] [--note TEXT]",
     {"target", "inspector", "kind", "disclosure", "due", "template", "note", NULL},
     false,
     cmd_assign},
};
#define N_ADMIN_CMDS (sizeof admin_cmds / sizeof admin_cmds[0])

void sd_admin_usage_more(FILE *f)
{
    for (size_t i = 0; i < N_ADMIN_CMDS; i++)
        fprintf(f, "  %s%s%s\n", admin_cmds[i].name, admin_cmds[i].usage[0] ? " " : "",
                admin_cmds[i].usage);
}

static void cmd_usage(const admin_cmd *c, FILE *f)
{
    fprintf(f, "usage: syncd admin --data DIR %s%s%s\n", c->name, c->usage[0] ? " " : "", c->usage);
}

/* The command the words name (its one or two words are the first of a->word); NULL if none. */
static const admin_cmd *find_cmd(const args *a)
{
    for (size_t i = 0; i < N_ADMIN_CMDS; i++) {
        const char *n = admin_cmds[i].name, *sp = strchr(n, ' ');
        size_t len0 = sp ? (size_t)(sp - n) : strlen(n);
        if (a->nword < 1 || strlen(a->word[0]) != len0 || strncmp(a->word[0], n, len0) != 0)
            continue;
        if (!sp || (a->nword >= 2 && strcmp(a->word[1], sp + 1) == 0))
            return &admin_cmds[i];
    }
    return NULL;
}

/* A usage error of command c: what was wrong and c's usage on stderr; returns 2. */
static int cmd_fail(const admin_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cmd_fail(const admin_cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "syncd admin %s: ", c->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cmd_usage(c, stderr);
    return 2;
}

/* Run command c: the register opened unless it reads it itself. */
static int run_cmd(const admin_cmd *c, const char *data, const args *a)
{
    sd_register *r = NULL;
    if (!c->own_store) {
        sd_config cfg;
        sd_config_defaults(&cfg);
        if (strlen(data) >= sizeof cfg.data_dir)
            return cmd_fail(c, "--data path too long");
        snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
        sc_err err;
        sc_err_clear(&err);
        if (sd_register_open(&cfg, &r, &err) != SC_OK) {
            fprintf(stderr, "syncd admin: %s\n", err.msg);
            return 1;
        }
    }
    int rc = c->run(r, data, a);
    sd_register_close(r);
    if (rc == USAGE_ERROR) {
        cmd_usage(c, stderr);
        rc = 2;
    }
    return rc;
}

int sd_cmd_admin(int argc, char **argv)
{
    args a;
    char why[128];
    bool split = split_args(argc, argv, &a, why, sizeof why);
    const admin_cmd *c = find_cmd(&a);
    if (a.help) {
        if (c)
            cmd_usage(c, stdout);
        else
            sd_command_usage("admin", stdout);
        return 0;
    }
    if (!split)
        return c ? cmd_fail(c, "%s", why) : sd_cmdline_fail("admin", "%s", why);
    if (!c) {
        static const char *const only_data[] = {NULL};
        const char *bad = unknown_opt(&a, only_data);
        if (bad)
            return sd_cmdline_fail("admin", "unknown option --%.*s", (int)strcspn(bad, "="), bad);
        if (a.nword == 0)
            return sd_cmdline_fail("admin", "which command?");
        return sd_cmdline_fail("admin", "unknown command \"%s%s%s\"", a.word[0],
                               a.nword > 1 ? " " : "", a.nword > 1 ? a.word[1] : "");
    }
    const char *bad = unknown_opt(&a, c->known);
    if (bad)
        return cmd_fail(c, "unknown option --%.*s", (int)strcspn(bad, "="), bad);
    const char *data = opt(&a, "data");
    if (!data)
        return cmd_fail(c, "--data DIR is needed");
    return run_cmd(c, data, &a);
}
