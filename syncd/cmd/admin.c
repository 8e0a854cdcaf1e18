/*
 * admin.c: `syncd admin --data DIR ...`, the administrator's commands: the
 * command line, the table of commands with their usage, the dispatch, and
 * the commands that add one thing (see admin.h for the other parts).
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "commands.h"
#include "core/date.h"
#include "core/governance.h"
#include "core/ids.h"
#include "core/names.h"
#include "register/register.h"
#include "store/store.h"
#include "template.h"

#define ENROLL_TTL_DEFAULT 72

/* ---- the command line ---- */

/* Options that take no value. */
static bool is_flag(const char *k)
{
    return strcmp(k, "json") == 0 || strcmp(k, "all") == 0;
}

/*
 * Split argv (argv[0] is "admin") into words and --options.  Nothing is
 * refused here: what does not fit is noted (a->stray, a->novalue, a->full)
 * and said by the dispatcher once it knows the command, so an unknown
 * option is named as such even where it would lack a value.
 */
static void split(int argc, char **argv, sd_adm_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            a->help = true;
        } else if (strncmp(s, "--", 2) == 0 && s[2] != '\0') {
            if (a->nopt == SD_ADM_ARGS_MAX) {
                a->full = true;
                continue;
            }
            const char *eq = strchr(s, '=');
            a->key[a->nopt] = s + 2; /* --key=value: the key ends at '=' (key_is) */
            if (eq)
                a->val[a->nopt] = eq + 1;
            else if (is_flag(s + 2))
                a->val[a->nopt] = NULL;
            else if (i + 1 < argc)
                a->val[a->nopt] = argv[++i];
            else
                a->novalue = s + 2;
            a->nopt++;
        } else if (s[0] == '-' && s[1] != '\0') {
            if (!a->stray)
                a->stray = s;
        } else if (a->nword == SD_ADM_ARGS_MAX) {
            a->full = true;
        } else {
            a->word[a->nword++] = s;
        }
    }
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

/* The first option a command does not know (besides --data), so a typo is never ignored. */
static const char *unknown_opt(const sd_adm_args *a, const char *const *known)
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

/* The first flag given a value (--json=yes); NULL when none. */
static const char *flag_with_value(const sd_adm_args *a)
{
    for (size_t i = 0; i < a->nopt; i++) {
        size_t n = strcspn(a->key[i], "=");
        char k[16];
        if (a->val[i] && n < sizeof k) {
            memcpy(k, a->key[i], n);
            k[n] = '\0';
            if (is_flag(k))
                return a->key[i];
        }
    }
    return NULL;
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
    *out = NULL;
    sd_store *s = NULL;
    sc_status rc = sd_store_open_dir(data, &s, err);
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

static int cmd_org_add(sd_register *r, const char *data, const sd_adm_args *a)
{
    (void)data;
    const char *name = sd_adm_opt(a, "name"), *parent = sd_adm_opt(a, "parent");
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

/* ---- the register's policy (core/governance.h): an org unit's periods ---- */

/* sc_gov_policy_for's lookup over the register; the last state read is kept for its policy. */
typedef struct policy_walk {
    sd_register *r;
    Scpb__EntityState *st;
} policy_walk;

static sc_status policy_lookup(void *ctx, const uint8_t id[SC_ID_LEN], sc_gov_org *out)
{
    policy_walk *w = ctx;
    sd_state_free(w->st);
    w->st = NULL;
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_register_state(w->r, id, &w->st, &err);
    if (rc != SC_OK)
        return rc;
    return sc_gov_org_from_state(w->st, out) ? SC_OK : SC_ERR_NOT_FOUND;
}

static json_t *policy_json(const Scpb__OrgPolicy *p, const sc_gov_policy *all)
{
    json_t *o = json_object();
#define PERIOD(name)                                                                               \
    json_object_set_new(o, #name, p ? (p->has_##name ? json_integer(p->name) : json_null())       \
                                    : json_integer(all->name))
    PERIOD(general_days);
    PERIOD(major_days);
    PERIOD(sign_for_days);
    PERIOD(plan_days);
#undef PERIOD
    json_t *ladder = json_array();
    size_t n = p ? p->n_ladder : all->n_ladder;
    for (size_t k = 0; k < n; k++) {
        int32_t days = p ? p->ladder[k]->days : all->ladder[k].days;
        int step = p ? (int)p->ladder[k]->step : (int)all->ladder[k].step;
        json_array_append_new(ladder, json_pack("{s:i,s:s}", "days", days, "step",
                                                sc_name_of(&sc_names_escalation_step, step)));
    }
    json_object_set_new(o, "ladder", p && n == 0 ? json_null() : ladder);
    if (p && n == 0)
        json_decref(ladder);
    return o;
}

/* Room for an org unit's ladder, kept while its OrgPolicy is rewritten. */
typedef struct ladder_room {
    Scpb__EscalationRung rung[SC_GOV_LADDER_MAX];
    Scpb__EscalationRung *ptr[SC_GOV_LADDER_MAX];
} ladder_room;

/* Copy policy b's ladder into room (b's own storage is about to be freed). */
static void ladder_keep(Scpb__OrgPolicy *b, ladder_room *room)
{
    size_t n = b->n_ladder < SC_GOV_LADDER_MAX ? b->n_ladder : SC_GOV_LADDER_MAX;
    for (size_t k = 0; k < n; k++) {
        scpb__escalation_rung__init(&room->rung[k]);
        room->rung[k].has_days = room->rung[k].has_step = true;
        room->rung[k].days = b->ladder[k]->days;
        room->rung[k].step = b->ladder[k]->step;
        room->ptr[k] = &room->rung[k];
    }
    b->n_ladder = n;
    b->ladder = n ? room->ptr : NULL;
}

/*
 * --ladder DAYS:STEP,...: the escalation ladder (days late → the step
 * suggested), or "inherit"; false, with the message, for anything else.
 */
static bool ladder_opt(const sd_adm_args *a, Scpb__OrgPolicy *b, ladder_room *room)
{
    const char *v = sd_adm_opt(a, "ladder");
    if (!v)
        return true;
    b->n_ladder = 0;
    b->ladder = NULL;
    if (strcmp(v, "inherit") == 0)
        return true;
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", v);
    size_t n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(t, ':'), *end = NULL;
        int step = 0;
        long days = colon ? strtol(t, &end, 10) : 0;
        if (n >= SC_GOV_LADDER_MAX || !colon || end != colon || !sc_gov_days_valid(days) ||
            !sc_name_parse(&sc_names_escalation_step, colon + 1, &step)) {
            fprintf(stderr,
                    "syncd admin: --ladder \"%s\" is not up to %d rungs DAYS:STEP (steps "
                    "reminder, public_notice, interview, yellow_card, accountability), or "
                    "inherit\n",
                    v, SC_GOV_LADDER_MAX);
            return false;
        }
        scpb__escalation_rung__init(&room->rung[n]);
        room->rung[n].has_days = room->rung[n].has_step = true;
        room->rung[n].days = (int32_t)days;
        room->rung[n].step = (Scpb__EscalationStep)step;
        room->ptr[n] = &room->rung[n];
        n++;
    }
    b->n_ladder = n;
    b->ladder = room->ptr;
    if (!sc_gov_ladder_valid((const Scpb__EscalationRung *const *)b->ladder, n)) {
        fprintf(stderr, "syncd admin: --ladder \"%s\": days and steps rise from rung to rung\n",
                v);
        return false;
    }
    return true;
}

/*
 * A period option: a whole number of days in range, or "inherit" (the org
 * unit no longer sets it); false, with the message, for anything else.
 */
static bool period_opt(const sd_adm_args *a, const char *name, protobuf_c_boolean *has, int32_t *out)
{
    const char *v = sd_adm_opt(a, name);
    if (!v)
        return true;
    if (strcmp(v, "inherit") == 0) {
        *has = false;
        *out = 0;
        return true;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || !sc_gov_days_valid(n)) {
        fprintf(stderr,
                "syncd admin: --%s \"%s\" is not a number of days from %d to %d, or inherit\n",
                name, v, SC_GOV_DAYS_MIN, SC_GOV_DAYS_MAX);
        return false;
    }
    *has = true;
    *out = (int32_t)n;
    return true;
}

/*
 * `org policy CODE [--general-days N|inherit] ...`: with periods, an
 * OrgPolicy op setting them on the org unit (the periods not named keep
 * what it set; "inherit" drops one); then, or with none, the policy in
 * force there as JSON: what the org unit sets itself, and each period as
 * its subtree has it, inherited from above or built in.
 */
static int cmd_org_policy(sd_register *r, const char *data, const sd_adm_args *a)
{
    (void)data;
    uint8_t id[SC_ID_LEN];
    if (!sd_adm_lookup(r, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, a->word[2], "org unit", id))
        return 1;
    Scpb__EntityState *st = NULL;
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_state(r, id, &st, &err) != SC_OK || !st->org)
        return sd_adm_fail("org policy", &err);
    Scpb__OrgPolicy b = SCPB__ORG_POLICY__INIT;
    ladder_room room;
    if (st->org->policy)
        b = *st->org->policy;
    b.base.n_unknown_fields = 0;
    b.base.unknown_fields = NULL;
    ladder_keep(&b, &room);
    sd_state_free(st);
    bool set = sd_adm_has(a, "general-days") || sd_adm_has(a, "major-days") ||
               sd_adm_has(a, "sign-for-days") || sd_adm_has(a, "plan-days") ||
               sd_adm_has(a, "ladder");
    if (!period_opt(a, "general-days", &b.has_general_days, &b.general_days) ||
        !period_opt(a, "major-days", &b.has_major_days, &b.major_days) ||
        !period_opt(a, "sign-for-days", &b.has_sign_for_days, &b.sign_for_days) ||
        !period_opt(a, "plan-days", &b.has_plan_days, &b.plan_days) || !ladder_opt(a, &b, &room))
        return 2;
    if (set) {
        Scpb__Op op;
        scpb__op__init(&op);
        op.has_entity = true;
        op.entity.data = id;
        op.entity.len = SC_ID_LEN;
        op.has_entity_type = true;
        op.entity_type = SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT;
        op.body_case = SCPB__OP__BODY_ORG_POLICY;
        op.org_policy = &b;
        uint64_t idx = 0;
        if (sd_register_admin_op(r, &op, &idx, &err) != SC_OK)
            return sd_adm_fail("org policy", &err);
    }
    sc_gov_policy in_force;
    policy_walk w = {r, NULL};
    sc_status rc = sc_gov_policy_for(policy_lookup, &w, id, &in_force);
    sd_state_free(w.st);
    if (rc != SC_OK) {
        fprintf(stderr, "syncd admin: org policy: cannot read the org units (%s)\n",
                sc_strerror(rc));
        return 1;
    }
    return sd_adm_json_print(json_pack("{s:s,s:o,s:o}", "org", a->word[2], "own",
                                       policy_json(&b, NULL), "in_force",
                                       policy_json(NULL, &in_force)));
}

static int cmd_target_add(sd_register *r, const char *data, const sd_adm_args *a)
{
    (void)data;
    const char *name = sd_adm_opt(a, "name"), *org = sd_adm_opt(a, "org"),
               *type = sd_adm_opt(a, "type");
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

static int cmd_user_add(sd_register *r, const char *data, const sd_adm_args *a)
{
    (void)data;
    const char *role = sd_adm_opt(a, "role"), *org = sd_adm_opt(a, "org");
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

static int cmd_enroll(sd_register *r, const char *data, const sd_adm_args *a)
{
    (void)data;
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
    const char *idtext = a->word[2];
    uint8_t id[SC_ID_LEN];
    size_t len = strlen(idtext);
    if (len == 2 * SC_KEY_LEN) {
        /* A device key: find its device entity. */
        uint8_t key[SC_KEY_LEN];
        sd_store *s = NULL;
        sc_err err;
        sc_err_clear(&err);
        sd_device_row d;
        if (sc_hex_decode(idtext, len, key, SC_KEY_LEN) != SC_OK) {
            fprintf(stderr, "syncd admin: \"%s\" is not a device id or key\n", idtext);
            return 2;
        }
        if (sd_store_open_dir(data, &s, &err) != SC_OK)
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

static int cmd_template_add(sd_register *r, const char *data, const sd_adm_args *a)
{
    (void)data;
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
    sd_template_more *more = calloc(1, sizeof *more);
    int rc = 1;
    char msg[SC_ERR_MSG_MAX] = "out of memory";
    if (ptrs && more && sd_template_from_json(root, &b, &items, ptrs, msg, sizeof msg) &&
        sd_template_more_from_json(root, &b, more, msg, sizeof msg)) {
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
    free(more);
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

static int cmd_assign(sd_register *r, const char *data, const sd_adm_args *a)
{
    (void)data;
    const char *target = sd_adm_opt(a, "target"), *kind = sd_adm_opt(a, "kind"),
               *disc = sd_adm_opt(a, "disclosure"), *due = sd_adm_opt(a, "due"),
               *tpl = sd_adm_opt(a, "template");
    size_t ninsp = 0;
    for (size_t i = 0; i < a->nopt; i++)
        if (key_is(a->key[i], "inspector"))
            ninsp++;
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

/*
 * One admin command: its words, its usage after them, the words it takes
 * after its name, the options it takes and those it needs, and how it runs.
 */
typedef struct admin_cmd {
    const char *name;            /* "org add": one or two words */
    const char *usage;           /* what follows the name in its usage line */
    const char *args;            /* the words after the name, as "LOGIN ROLE"; "" for none */
    const char *const known[10]; /* its options besides --data; NULL ends the list */
    const char *const needed[5]; /* the options it cannot go without; NULL ends the list */
    bool own_store;              /* reads the register itself: run gets r NULL */
    int (*run)(sd_register *r, const char *data, const sd_adm_args *a);
} admin_cmd;

#define ROLES "inspector|supervisor|responsible|auditor|admin"

static const admin_cmd admin_cmds[] = {
    {"org add",
     "CODE --name NAME [--parent CODE] [--level LEVEL] [--kind KIND]",
     "CODE",
     {"name", "parent", "level", "kind", NULL},
     {"name", NULL},
     false,
     cmd_org_add},
    {"org policy",
     "CODE [--general-days N] [--major-days N] [--sign-for-days N] [--plan-days N]\n"
     "         [--ladder DAYS:STEP,...] (N: days; each, or the ladder, inherit)",
     "CODE",
     {"general-days", "major-days", "sign-for-days", "plan-days", "ladder", NULL},
     {NULL},
     false,
     cmd_org_policy},
    {"target add",
     "CODE --name NAME --org CODE [--type TYPE] [--address TEXT]",
     "CODE",
     {"name", "org", "type", "address", NULL},
     {"name", "org", NULL},
     false,
     cmd_target_add},
    {"user add",
     "LOGIN --role " ROLES " --org CODE [--name NAME]",
     "LOGIN",
     {"name", "org", "role", NULL},
     {"role", "org", NULL},
     false,
     cmd_user_add},
    {"org list", "[--json]", "", {"json", NULL}, {NULL}, true, sd_adm_list},
    {"target list", "[--json]", "", {"json", NULL}, {NULL}, true, sd_adm_list},
    {"user list", "[--json]", "", {"json", NULL}, {NULL}, true, sd_adm_list},
    {"user disable",
     "LOGIN [--reason TEXT]",
     "LOGIN",
     {"reason", NULL},
     {NULL},
     false,
     sd_adm_user},
    {"user enable", "LOGIN [--reason TEXT]", "LOGIN", {"reason", NULL}, {NULL}, false, sd_adm_user},
    {"user role", "LOGIN " ROLES, "LOGIN ROLE", {NULL}, {NULL}, false, sd_adm_user},
    {"enroll", "LOGIN [--ttl HOURS]", "LOGIN", {"ttl", NULL}, {NULL}, false, cmd_enroll},
    {"code list",
     "[--user LOGIN] [--all] [--json]",
     "",
     {"user", "all", "json", NULL},
     {NULL},
     true,
     sd_adm_list},
    {"code revoke", "ID|CODE", "ID|CODE", {NULL}, {NULL}, false, sd_adm_code_revoke},
    {"device list", "[--json]", "", {"json", NULL}, {NULL}, true, sd_adm_list},
    {"device revoke",
     "DEVICE_ID|DEVICE_KEY [--reason TEXT]",
     "DEVICE_ID|DEVICE_KEY",
     {"reason", NULL},
     {NULL},
     false,
     cmd_device_revoke},
    {"template add", "FILE.json", "FILE.json", {NULL}, {NULL}, false, cmd_template_add},
    {"template list", "[--json]", "", {"json", NULL}, {NULL}, true, sd_adm_list},
    {"assign",
     "--target CODE --inspector LOGIN [--inspector LOGIN ...] --kind KIND\n"
     "         --disclosure open|unannounced|experiential [--due YYYY-MM-DD]\n"
     "         [--template ID|CODE@VERSION] [--note TEXT]",
     "",
     {"target", "inspector", "kind", "disclosure", "due", "template", "note", NULL},
     {"target", "inspector", "kind", "disclosure", NULL},
     false,
     cmd_assign},
    {"import",
     "orgs|targets|users FILE.csv",
     "orgs|targets|users FILE.csv",
     {NULL},
     {NULL},
     false,
     sd_adm_import},
    {"log", "[--since YYYY-MM-DD] [--json]", "", {"since", "json", NULL}, {NULL}, true, sd_adm_log},
};
#define N_ADMIN_CMDS (sizeof admin_cmds / sizeof admin_cmds[0])

static void usage_line(const admin_cmd *c, FILE *f)
{
    fprintf(f, "  %s%s%s\n", c->name, c->usage[0] ? " " : "", c->usage);
}

void sd_admin_usage_more(FILE *f)
{
    for (size_t i = 0; i < N_ADMIN_CMDS; i++)
        usage_line(&admin_cmds[i], f);
}

static void cmd_usage(const admin_cmd *c, FILE *f)
{
    fprintf(f, "usage: syncd admin --data DIR %s%s%s\n", c->name, c->usage[0] ? " " : "", c->usage);
}

/* The length of the first word of a command's name. */
static size_t first_len(const char *name)
{
    return strcspn(name, " ");
}

/*
 * The commands of a group ("user": user add, user list, ...) on f (NULL:
 * only whether there are any); false when there are none.
 */
static bool group_usage(const char *w, FILE *f)
{
    bool any = false;
    for (size_t i = 0; i < N_ADMIN_CMDS; i++) {
        const admin_cmd *c = &admin_cmds[i];
        size_t n = first_len(c->name);
        if (c->name[n] != ' ' || strlen(w) != n || strncmp(c->name, w, n) != 0)
            continue;
        if (!f)
            return true;
        if (!any)
            fprintf(f,
                    "usage: syncd admin --data DIR %s COMMAND ...\n"
                    "`syncd admin %s COMMAND --help` describes one.  Commands:\n",
                    w, w);
        any = true;
        usage_line(c, f);
    }
    return any;
}

/* The command the words name (its one or two words are the first of a->word); NULL if none. */
static const admin_cmd *find_cmd(const sd_adm_args *a)
{
    for (size_t i = 0; i < N_ADMIN_CMDS; i++) {
        const char *n = admin_cmds[i].name, *sp = strchr(n, ' ');
        size_t len0 = first_len(n);
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

/* A usage error of `syncd admin` itself: with the group's commands when the first word names one.
 */
static int admin_fail(const sd_adm_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int admin_fail(const sd_adm_args *a, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (a->nword == 0 || !group_usage(a->word[0], NULL))
        return sd_cmdline_fail("admin", "%s", what);
    fprintf(stderr, "syncd admin: %s\n", what);
    group_usage(a->word[0], stderr);
    return 2;
}

/*
 * What is wrong with the command line of c (or of admin itself, c NULL)
 * that the split noted or the table rules out, said with the usage;
 * -1 when nothing is.
 */
static int check_line(const admin_cmd *c, const sd_adm_args *a)
{
    static const char *const only_data[] = {NULL};
    const char *bad = unknown_opt(a, c ? c->known : only_data);
    if (a->stray || bad) {
        int n = a->stray ? (int)strlen(a->stray) : 2 + (int)strcspn(bad, "=");
        const char *s = a->stray ? a->stray : bad - 2;
        return c ? cmd_fail(c, "unknown option %.*s", n, s)
                 : admin_fail(a, "unknown option %.*s", n, s);
    }
    const char *flag = flag_with_value(a);
    if (a->full || a->novalue || flag) {
        char why[64];
        if (a->full)
            snprintf(why, sizeof why, "more than %d arguments", SD_ADM_ARGS_MAX);
        else if (a->novalue)
            snprintf(why, sizeof why, "--%.40s needs a value", a->novalue);
        else
            snprintf(why, sizeof why, "--%.*s takes no value", (int)strcspn(flag, "="), flag);
        return c ? cmd_fail(c, "%s", why) : admin_fail(a, "%s", why);
    }
    return -1;
}

/* The words after c's name and the options it needs, against its table entry; -1 when they fit. */
static int check_args(const admin_cmd *c, const sd_adm_args *a)
{
    size_t named = c->name[first_len(c->name)] ? 2 : 1, want = 0;
    const char *arg[4];
    for (const char *p = c->args; *p && want < 4; want++) {
        arg[want] = p;
        p += strcspn(p, " ");
        p += *p == ' ';
    }
    if (a->nword < named + want)
        return cmd_fail(c, "missing %.*s", (int)strcspn(arg[a->nword - named], " "),
                        arg[a->nword - named]);
    if (a->nword > named + want)
        return cmd_fail(c, "unexpected argument \"%s\"", a->word[named + want]);
    for (const char *const *o = c->needed; *o; o++)
        if (!sd_adm_has(a, *o))
            return cmd_fail(c, "--%s is needed", *o);
    if (!sd_adm_has(a, "data"))
        return cmd_fail(c, "--data DIR is needed");
    return -1;
}

/* Run command c: the register opened unless it reads it itself. */
static int run_cmd(const admin_cmd *c, const char *data, const sd_adm_args *a)
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
    if (rc == SD_ADM_USAGE) {
        cmd_usage(c, stderr);
        rc = 2;
    }
    return rc;
}

int sd_cmd_admin(int argc, char **argv)
{
    sd_adm_args a;
    split(argc, argv, &a);
    const admin_cmd *c = find_cmd(&a);
    if (a.help) {
        if (c)
            cmd_usage(c, stdout);
        else if (a.nword == 0 || !group_usage(a.word[0], stdout))
            sd_command_usage("admin", stdout);
        return 0;
    }
    int rc = check_line(c, &a);
    if (rc >= 0)
        return rc;
    if (!c && a.nword == 0)
        return admin_fail(&a, "which command?");
    if (!c)
        return admin_fail(&a, "unknown command \"%s%s%s\"", a.word[0], a.nword > 1 ? " " : "",
                          a.nword > 1 ? a.word[1] : "");
    if ((rc = check_args(c, &a)) >= 0)
        return rc;
    return run_cmd(c, sd_adm_opt(&a, "data"), &a);
}
