/*
 * admin.c: `syncd admin --data DIR ...`, the administrator's commands: the
 * command line, the dispatch, and the commands that add one thing (see
 * admin.h for the other parts).
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
 * code alone, or a table (JSON with --json) for the lists; errors on
 * stderr.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "commands.h"
#include "core/date.h"
#include "core/ids.h"
#include "core/names.h"
#include "register/register.h"
#include "store/store.h"
#include "template.h"

#define USAGE                                                                                      \
    "usage: syncd admin --data DIR COMMAND\n"                                                      \
    "  org add CODE --name NAME [--parent CODE] [--level LEVEL] [--kind KIND]\n"                   \
    "  org list [--json]\n"                                                                        \
    "  target add CODE --name NAME --org CODE [--type TYPE] [--address TEXT]\n"                    \
    "  target list [--json]\n"                                                                     \
    "  user add LOGIN --role inspector|supervisor|responsible|auditor|admin --org CODE "           \
    "[--name NAME]\n"                                                                              \
    "  user list [--json]\n"                                                                       \
    "  user disable LOGIN [--reason TEXT]\n"                                                       \
    "  user enable LOGIN [--reason TEXT]\n"                                                        \
    "  user role LOGIN ROLE\n"                                                                     \
    "  enroll LOGIN [--ttl HOURS]\n"                                                               \
    "  code list [--user LOGIN] [--all] [--json]\n"                                                \
    "  code revoke ID|CODE\n"                                                                      \
    "  device list [--json]\n"                                                                     \
    "  device revoke DEVICE_ID [--reason TEXT]\n"                                                  \
    "  template add FILE.json\n"                                                                   \
    "  template list [--json]\n"                                                                   \
    "  assign --target CODE --inspector LOGIN [--inspector LOGIN ...] --kind KIND\n"               \
    "         --disclosure open|unannounced|experiential [--due YYYY-MM-DD] [--template ID]\n"     \
    "         [--note TEXT]\n"                                                                     \
    "  import orgs|targets|users FILE.csv\n"                                                       \
    "  log [--since YYYY-MM-DD] [--json]\n"

#define ENROLL_TTL_DEFAULT 72

/* ---- the command line ---- */

/* Options that take no value. */
static bool is_flag(const char *k)
{
    return strcmp(k, "json") == 0 || strcmp(k, "all") == 0;
}

int sd_adm_split(int argc, char **argv, sd_adm_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strncmp(s, "--", 2) == 0) {
            if (a->nopt == SD_ADM_ARGS_MAX)
                return -1;
            const char *eq = strchr(s, '=');
            a->key[a->nopt] = s + 2;
            if (eq) {
                a->val[a->nopt] = eq + 1; /* --key=value; key_is stops at the '=' */
            } else if (is_flag(s + 2)) {
                a->val[a->nopt] = NULL;
            } else {
                if (i + 1 >= argc) {
                    a->lacking = s;
                    return -1;
                }
                a->val[a->nopt] = argv[++i];
            }
            a->nopt++;
        } else {
            if (a->nword == SD_ADM_ARGS_MAX)
                return -1;
            a->word[a->nword++] = s;
        }
    }
    return 0;
}

static bool key_is(const char *k, const char *name)
{
    size_t n = strlen(name);
    return strncmp(k, name, n) == 0 && (k[n] == '\0' || k[n] == '=');
}

const char *sd_adm_opt(const sd_adm_args *a, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < a->nopt; i++)
        if (key_is(a->key[i], name))
            v = a->val[i] ? a->val[i] : "";
    return v;
}

bool sd_adm_has(const sd_adm_args *a, const char *name)
{
    return sd_adm_opt(a, name) != NULL;
}

/* Refuse options this subcommand does not know, so a typo is not silently ignored. */
bool sd_adm_only(const sd_adm_args *a, const char *const *known)
{
    for (size_t i = 0; i < a->nopt; i++) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = key_is(a->key[i], *k);
        if (!ok) {
            fprintf(stderr, "syncd admin: unknown option --%s\n", a->key[i]);
            return false;
        }
    }
    return true;
}

/* ---- what the commands share ---- */

static void print_id(const uint8_t id[SC_ID_LEN])
{
    char hex[SC_ID_HEX];
    sc_hex_encode(id, SC_ID_LEN, hex, sizeof hex);
    printf("%s\n", hex);
}

int sd_adm_fail(const char *what, const sc_err *err)
{
    fprintf(stderr, "syncd admin: %s: %s\n", what, err->msg);
    return 1;
}

bool sd_adm_lookup(sd_register *r, Scpb__EntityType kind, const char *code, const char *what,
                   uint8_t out[SC_ID_LEN])
{
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_register_lookup_code(r, kind, code, 0, out, &err);
    if (rc == SC_ERR_NOT_FOUND) {
        fprintf(stderr, "syncd admin: no %s with %s \"%s\"\n", what,
                kind == SCPB__ENTITY_TYPE__ENTITY_USER ? "login" : "code", code);
        return false;
    }
    if (rc != SC_OK) {
        fprintf(stderr, "syncd admin: %s\n", err.msg);
        return false;
    }
    return true;
}

bool sd_adm_name(const sc_names *t, const char *s, const char *what, int *out)
{
    if (sc_name_parse(t, s, out))
        return true;
    fprintf(stderr, "syncd admin: unknown %s \"%s\" (one of:", what, s);
    for (size_t i = 0; i < t->n; i++)
        fprintf(stderr, " %s", t->v[i].name);
    fprintf(stderr, ")\n");
    return false;
}

void sd_adm_hex(const uint8_t *b, size_t n, char *out)
{
    sc_hex_encode(b, n, out, 2 * n + 1);
}

void sd_adm_time(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !localtime_r(&t, &tm) || strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(out, cap, "-");
}

bool sd_adm_day_ms(const char *day, int64_t *ms)
{
    int32_t d;
    if (!day || sc_date_parse(day, strlen(day), &d) != SC_OK)
        return false;
    char y[5] = {0}, m[3] = {0}, dd[3] = {0};
    memcpy(y, day, 4);
    memcpy(m, day + 5, 2);
    memcpy(dd, day + 8, 2);
    struct tm tm = {0};
    tm.tm_year = (int)strtol(y, NULL, 10) - 1900;
    tm.tm_mon = (int)strtol(m, NULL, 10) - 1;
    tm.tm_mday = (int)strtol(dd, NULL, 10);
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return false;
    *ms = (int64_t)t * 1000;
    return true;
}

sc_status sd_adm_store_open(const char *data, sd_store **out, sc_err *err)
{
    char path[SD_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/register.db", data);
    *out = NULL;
    sd_store *s = NULL;
    sc_status rc = sd_store_sqlite_open(path, false, &s, err);
    if (rc == SC_OK && (rc = s->vt->begin(s, false, err)) != SC_OK)
        s->vt->close(s);
    if (rc == SC_OK)
        *out = s;
    return rc;
}

void sd_adm_store_close(sd_store *s)
{
    if (!s)
        return;
    s->vt->rollback(s);
    s->vt->close(s);
}

Scpb__EntityState *sd_adm_state(sd_store *s, const uint8_t id[SC_ID_LEN])
{
    sd_entity_row row;
    sc_err err;
    sc_err_clear(&err);
    if (s->vt->entity_get(s, id, true, &row, &err) != SC_OK)
        return NULL;
    Scpb__EntityState *st = scpb__entity_state__unpack(NULL, row.state_len, row.state);
    free(row.state);
    return st;
}

int sd_adm_json_print(json_t *v)
{
    char *text = v ? json_dumps(v, JSON_INDENT(2)) : NULL;
    json_decref(v);
    if (!text) {
        fprintf(stderr, "syncd admin: out of memory\n");
        return 1;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

/* Log an admin op and print its entity id. */
static int submit(sd_register *r, Scpb__Op *op, uint8_t id[SC_ID_LEN], const char *what)
{
    sc_err err;
    sc_err_clear(&err);
    uint64_t idx = 0;
    if (sd_register_admin_op(r, op, &idx, &err) != SC_OK)
        return sd_adm_fail(what, &err);
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

static int cmd_org_add(sd_register *r, const sd_adm_args *a)
{
    static const char *const known[] = {"data", "name", "parent", "level", "kind", NULL};
    if (!sd_adm_only(a, known))
        return 2;
    const char *name = sd_adm_opt(a, "name"), *parent = sd_adm_opt(a, "parent");
    if (a->nword != 3 || !name) {
        fprintf(stderr, "usage: syncd admin --data DIR org add CODE --name NAME [--parent CODE] "
                        "[--level LEVEL] [--kind KIND]\n");
        return 2;
    }
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
        if (!sd_adm_lookup(r, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, parent, "org unit", pid))
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
    const char *lv = sd_adm_opt(a, "level"), *kind = sd_adm_opt(a, "kind");
    if (lv && !sd_adm_name(&sc_names_org_level, lv, "org level", &level))
        return 2;
    b.has_level = true;
    b.level = (Scpb__OrgLevel)level;
    if (kind) {
        int k;
        if (!sd_adm_name(&sc_names_org_kind, kind, "org kind", &k))
            return 2;
        b.has_kind = true;
        b.kind = (Scpb__OrgKind)k;
    }
    return submit(r, &op, id, "org add");
}

static int cmd_target_add(sd_register *r, const sd_adm_args *a)
{
    static const char *const known[] = {"data", "name", "org", "type", "address", NULL};
    if (!sd_adm_only(a, known))
        return 2;
    const char *name = sd_adm_opt(a, "name"), *org = sd_adm_opt(a, "org"),
               *type = sd_adm_opt(a, "type");
    if (a->nword != 3 || !name || !org) {
        fprintf(stderr, "usage: syncd admin --data DIR target add CODE --name NAME --org CODE "
                        "[--type TYPE] [--address TEXT]\n");
        return 2;
    }
    uint8_t id[SC_ID_LEN], oid[SC_ID_LEN];
    if (!sd_adm_lookup(r, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, org, "org unit", oid))
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
    b.address = (char *)sd_adm_opt(a, "address");
    if (type) {
        int t;
        if (!sd_adm_name(&sc_names_target_type, type, "target type", &t))
            return 2;
        b.has_type = true;
        b.type = (Scpb__TargetType)t;
    }
    return submit(r, &op, id, "target add");
}

static int cmd_user_add(sd_register *r, const sd_adm_args *a)
{
    static const char *const known[] = {"data", "name", "org", "role", NULL};
    if (!sd_adm_only(a, known))
        return 2;
    const char *role = sd_adm_opt(a, "role"), *org = sd_adm_opt(a, "org");
    if (a->nword != 3 || !role || !org) {
        fprintf(stderr, "usage: syncd admin --data DIR user add LOGIN --role "
                        "inspector|supervisor|responsible|auditor|admin --org CODE [--name NAME]\n");
        return 2;
    }
    int rv;
    if (!sd_adm_name(&sc_names_role, role, "role", &rv))
        return 2;
    uint8_t id[SC_ID_LEN], oid[SC_ID_LEN];
    if (!sd_adm_lookup(r, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, org, "org unit", oid))
        return 1;
    Scpb__Op op;
    Scpb__UserCreate b = SCPB__USER_CREATE__INIT;
    op_new(r, &op, id, SCPB__ENTITY_TYPE__ENTITY_USER);
    op.body_case = SCPB__OP__BODY_USER_CREATE;
    op.user_create = &b;
    b.login = (char *)a->word[2];
    b.name = (char *)sd_adm_opt(a, "name");
    b.has_role = true;
    b.role = (Scpb__Role)rv;
    b.has_org = true;
    b.org.data = oid;
    b.org.len = SC_ID_LEN;
    return submit(r, &op, id, "user add");
}

/* ---- enrollment and devices ---- */

static int cmd_enroll(sd_register *r, const sd_adm_args *a)
{
    static const char *const known[] = {"data", "ttl", NULL};
    if (!sd_adm_only(a, known))
        return 2;
    if (a->nword != 2) {
        fprintf(stderr, "usage: syncd admin --data DIR enroll LOGIN [--ttl HOURS]\n");
        return 2;
    }
    unsigned ttl = ENROLL_TTL_DEFAULT;
    const char *t = sd_adm_opt(a, "ttl");
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
        return sd_adm_fail("enroll", &err);
    printf("%s\n", code);
    return 0;
}

static int cmd_device_revoke(sd_register *r, const char *data, const sd_adm_args *a)
{
    static const char *const known[] = {"data", "reason", NULL};
    if (!sd_adm_only(a, known))
        return 2;
    if (a->nword != 3) {
        fprintf(stderr, "usage: syncd admin --data DIR device revoke DEVICE_ID [--reason TEXT]\n");
        return 2;
    }
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
            return sd_adm_fail("device revoke", &err);
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
    b.reason = (char *)sd_adm_opt(a, "reason");
    return submit(r, &op, id, "device revoke");
}

/* ---- score sheets ---- */

static int cmd_template_add(sd_register *r, const sd_adm_args *a)
{
    static const char *const known[] = {"data", NULL};
    if (!sd_adm_only(a, known))
        return 2;
    if (a->nword != 3) {
        fprintf(stderr, "usage: syncd admin --data DIR template add FILE.json\n");
        return 2;
    }
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

static int cmd_assign(sd_register *r, const sd_adm_args *a)
{
    static const char *const known[] = {"data", "target", "inspector", "kind", "disclosure",
                                        "due",  "template", "note",     NULL};
    if (!sd_adm_only(a, known))
        return 2;
    const char *target = sd_adm_opt(a, "target"), *kind = sd_adm_opt(a, "kind"),
               *disc = sd_adm_opt(a, "disclosure"), *due = sd_adm_opt(a, "due"),
               *tpl = sd_adm_opt(a, "template");
    size_t ninsp = 0;
    for (size_t i = 0; i < a->nopt; i++)
        if (key_is(a->key[i], "inspector"))
            ninsp++;
    if (a->nword != 1 || !target || !kind || !disc || ninsp == 0) {
        fprintf(stderr, "usage: syncd admin --data DIR assign --target CODE --inspector LOGIN "
                        "[--inspector LOGIN ...] --kind KIND\n"
                        "       --disclosure open|unannounced|experiential [--due YYYY-MM-DD] "
                        "[--template ID] [--note TEXT]\n");
        return 2;
    }
    if (ninsp > SC_ASSIGNEES_MAX) {
        fprintf(stderr, "syncd admin: at most %d inspectors on one assignment\n", SC_ASSIGNEES_MAX);
        return 2;
    }
    int kv, dv;
    if (!sd_adm_name(&sc_names_kind, kind, "inspection kind", &kv) ||
        !sd_adm_name(&sc_names_disclosure, disc, "disclosure", &dv))
        return 2;
    uint8_t id[SC_ID_LEN], tid[SC_ID_LEN], tplid[SC_ID_LEN];
    uint8_t users[SC_ASSIGNEES_MAX][SC_ID_LEN];
    ProtobufCBinaryData ub[SC_ASSIGNEES_MAX];
    if (!sd_adm_lookup(r, SCPB__ENTITY_TYPE__ENTITY_TARGET, target, "target", tid))
        return 1;
    size_t k = 0;
    for (size_t i = 0; i < a->nopt; i++) {
        if (!key_is(a->key[i], "inspector"))
            continue;
        if (!sd_adm_lookup(r, SCPB__ENTITY_TYPE__ENTITY_USER, a->val[i], "user", users[k]))
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
    b.note = (char *)sd_adm_opt(a, "note");
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

int sd_cmd_admin(int argc, char **argv)
{
    sd_adm_args a;
    if (sd_adm_split(argc, argv, &a) != 0) {
        if (a.lacking)
            fprintf(stderr, "syncd admin: option %s lacks its value\n" USAGE, a.lacking);
        else
            fprintf(stderr, "syncd admin: too many arguments\n" USAGE);
        return 2;
    }
    const char *data = sd_adm_opt(&a, "data");
    if (!data || a.nword == 0) {
        fprintf(stderr, USAGE);
        return 2;
    }
    const char *w0 = a.word[0], *w1 = a.nword > 1 ? a.word[1] : "";
    /* Reading commands open the register's store for reading only. */
    if (strcmp(w1, "list") == 0)
        return sd_adm_list(data, &a);
    if (strcmp(w0, "log") == 0)
        return sd_adm_log(data, &a);

    sd_config cfg;
    sd_config_defaults(&cfg);
    if (strlen(data) >= sizeof cfg.data_dir) {
        fprintf(stderr, "syncd admin: --data path too long\n");
        return 2;
    }
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
    sd_register *r = NULL;
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_open(&cfg, &r, &err) != SC_OK) {
        fprintf(stderr, "syncd admin: %s\n", err.msg);
        return 1;
    }
    int rc;
    if (strcmp(w0, "org") == 0 && strcmp(w1, "add") == 0)
        rc = cmd_org_add(r, &a);
    else if (strcmp(w0, "target") == 0 && strcmp(w1, "add") == 0)
        rc = cmd_target_add(r, &a);
    else if (strcmp(w0, "user") == 0 && strcmp(w1, "add") == 0)
        rc = cmd_user_add(r, &a);
    else if (strcmp(w0, "enroll") == 0)
        rc = cmd_enroll(r, &a);
    else if (strcmp(w0, "device") == 0 && strcmp(w1, "revoke") == 0)
        rc = cmd_device_revoke(r, data, &a);
    else if (strcmp(w0, "template") == 0 && strcmp(w1, "add") == 0)
        rc = cmd_template_add(r, &a);
    else if (strcmp(w0, "assign") == 0)
        rc = cmd_assign(r, &a);
    else if (strcmp(w0, "user") == 0 &&
             (strcmp(w1, "disable") == 0 || strcmp(w1, "enable") == 0 || strcmp(w1, "role") == 0))
        rc = sd_adm_user(r, data, &a);
    else if (strcmp(w0, "code") == 0 && strcmp(w1, "revoke") == 0)
        rc = sd_adm_code_revoke(r, data, &a);
    else if (strcmp(w0, "import") == 0)
        rc = sd_adm_import(r, &a);
    else {
        fprintf(stderr, "syncd admin: unknown command \"%s%s%s\"\n" USAGE, w0, w1[0] ? " " : "",
                w1);
        rc = 2;
    }
    sd_register_close(r);
    return rc;
}
