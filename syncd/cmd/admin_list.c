/*
 * admin_list.c: `syncd admin org|user|target|template|device|code list`:
 * what the register holds, as a table for people or, with --json, an array
 * for scripts.  Everything is read in one read transaction, beside a
 * running syncd, and nothing is written.
 *
 * Org units, targets and users are listed by code (login), score sheets by
 * code and version, devices in enrollment order, codes oldest first.  A
 * reference to another entity is shown by its code, as people type it;
 * JSON carries the ids too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/names.h"
#include "core/state.h"

/* ---- tables ---- */

void sd_adm_table_init(sd_adm_table *t, size_t ncols, const char *const *header)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    sd_adm_table_row(t, header);
}

void sd_adm_table_row(sd_adm_table *t, const char *const *cells)
{
    if (t->oom)
        return;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **nc = realloc(t->cell, cap * t->ncols * sizeof *nc);
        if (!nc) {
            t->oom = true;
            return;
        }
        t->cell = nc;
        t->cap = cap;
    }
    char **row = t->cell + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        const char *c = cells[i] && cells[i][0] ? cells[i] : "-";
        /* As a terminal may show it: a device's label, a user's name or a note must not forge
         * a row or send the admin's terminal an escape sequence (sc_text_for_terminal). */
        row[i] = sc_text_for_terminal(c);
        t->oom = t->oom || !row[i];
    }
    t->nrows++;
}

/*
 * Columns a UTF-8 string takes on a terminal: two for the wide characters
 * of East Asian scripts (CJK, kana, Hangul, full-width forms), one for the
 * rest.  Enough to line up the names a county office keeps.
 */
static size_t display_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t c = *p;
        size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        for (size_t k = 1; k < n && p[k]; k++)
            c = (k == 1 ? c & (0xff >> (n + 1)) : c) << 6 | (p[k] & 0x3f);
        if (n > 1 && c < 0x80)
            c = 0xfffd;
        bool wide = (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
                    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
                    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
                    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x20000 && c <= 0x3fffd);
        w += wide ? 2 : 1;
        for (size_t k = 0; k < n && *p; k++)
            p++;
    }
    return w;
}

void sd_adm_table_free(sd_adm_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols && t->cell; i++)
        free(t->cell[i]);
    free(t->cell);
    memset(t, 0, sizeof *t);
}

int sd_adm_table_print(sd_adm_table *t)
{
    int rc = 0;
    size_t *width = t->oom ? NULL : calloc(t->ncols, sizeof *width);
    if (!width) {
        fprintf(stderr, "syncd admin: out of memory\n");
        rc = 1;
    }
    for (size_t r = 0; width && r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t w = display_width(t->cell[r * t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; width && r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cell[r * t->ncols + c];
            bool last = c + 1 == t->ncols;
            fputs(cell, stdout);
            for (size_t pad = display_width(cell); !last && pad < width[c] + 2; pad++)
                putchar(' ');
        }
        putchar('\n');
    }
    free(width);
    sd_adm_table_free(t);
    return rc;
}

/* The list's end: the JSON array when there is one (the table is dropped), else the table. */
static int list_end(sd_adm_table *t, json_t *arr)
{
    if (!arr)
        return sd_adm_table_print(t);
    sd_adm_table_free(t);
    return sd_adm_json_print(arr);
}

/* ---- reading entities of a type ---- */

/* The states of every entity of one type, decoded. */
typedef struct ents {
    Scpb__EntityState **v;
    size_t n, cap;
    bool oom;
} ents;

static bool ents_add(void *ctx, const sd_entity_row *row)
{
    ents *e = ctx;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        Scpb__EntityState **nv = realloc(e->v, cap * sizeof *nv);
        if (!nv) {
            e->oom = true;
            return false;
        }
        e->v = nv;
        e->cap = cap;
    }
    Scpb__EntityState *st = scpb__entity_state__unpack(NULL, row->state_len, row->state);
    if (!st) {
        e->oom = true;
        return false;
    }
    e->v[e->n++] = st;
    return true;
}

static void ents_free(ents *e)
{
    for (size_t i = 0; i < e->n; i++)
        sd_state_free(e->v[i]);
    free(e->v);
}

/* By the code people type (login; for score sheets code, then version). */
static int cmp_code(const void *x, const void *y)
{
    const Scpb__EntityState *a = *(Scpb__EntityState *const *)x,
                            *b = *(Scpb__EntityState *const *)y;
    uint32_t va, vb;
    const char *ca = sc_state_code(a, &va), *cb = sc_state_code(b, &vb);
    int c = strcmp(ca ? ca : "", cb ? cb : "");
    return c ? c : (va > vb) - (va < vb);
}

/* Every entity of one type, in the order of their codes. */
static sc_status ents_load(sd_store *s, Scpb__EntityType type, ents *e, sc_err *err)
{
    memset(e, 0, sizeof *e);
    sc_status rc = s->vt->entity_type_scan(s, type, ents_add, e, err);
    if (rc == SC_OK && e->oom)
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "out of memory, or a stored state does not decode");
    if (rc == SC_OK)
        qsort(e->v, e->n, sizeof *e->v, cmp_code);
    return rc;
}

/* The code of the org unit id among the org units loaded (NULL when not there). */
static const char *org_code(const ents *orgs, const ProtobufCBinaryData *id, bool has)
{
    if (!has || id->len != SC_ID_LEN)
        return NULL;
    for (size_t i = 0; i < orgs->n; i++)
        if (orgs->v[i]->id.len == SC_ID_LEN &&
            memcmp(orgs->v[i]->id.data, id->data, SC_ID_LEN) == 0)
            return orgs->v[i]->org->code;
    return NULL;
}

static json_t *hexj(const ProtobufCBinaryData *b)
{
    char hex[2 * SC_KEY_LEN + 1];
    if (b->len == 0 || b->len > SC_KEY_LEN)
        return json_null();
    sd_adm_hex(b->data, b->len, hex);
    return json_string(hex);
}

static json_t *strj(const char *s)
{
    return s ? json_string(s) : json_null();
}

static const char *name_or(const sc_names *t, int v)
{
    const char *n = sc_name_of(t, v);
    return n ? n : "";
}

/* ---- the lists ---- */

/* What every list needs: the store, the org units (references show their codes), JSON or not. */
typedef struct list_ctx {
    sd_store *s;
    ents orgs;
    bool json;
} list_ctx;

/* A list begun: its table with the header; the JSON array it fills instead with --json. */
static json_t *list_begin(const list_ctx *c, sd_adm_table *t, size_t ncols, const char *const *head)
{
    sd_adm_table_init(t, ncols, head);
    return c->json ? json_array() : NULL;
}

static int list_orgs(list_ctx *c)
{
    const ents *e = &c->orgs;
    sd_adm_table t;
    static const char *const head[] = {"CODE", "NAME", "LEVEL", "KIND", "PARENT"};
    json_t *arr = list_begin(c, &t, 5, head);
    for (size_t i = 0; i < e->n; i++) {
        const Scpb__OrgState *o = e->v[i]->org;
        const char *parent = org_code(e, &o->parent, o->has_parent);
        const char *level = name_or(&sc_names_org_level, o->level);
        const char *kind = o->has_kind ? name_or(&sc_names_org_kind, o->kind) : NULL;
        if (arr)
            json_array_append_new(arr, json_pack("{s:o,s:s?,s:s?,s:s,s:o,s:o,s:o}", "id",
                                                 hexj(&e->v[i]->id), "code", o->code, "name",
                                                 o->name, "level", level, "kind", strj(kind),
                                                 "parent", strj(parent), "parent_id",
                                                 o->has_parent ? hexj(&o->parent) : json_null()));
        else
            sd_adm_table_row(&t, (const char *const[]){o->code, o->name, level, kind, parent});
    }
    return list_end(&t, arr);
}

static int list_targets(list_ctx *c)
{
    ents e;
    sc_err err;
    sc_err_clear(&err);
    if (ents_load(c->s, SCPB__ENTITY_TYPE__ENTITY_TARGET, &e, &err) != SC_OK)
        return sd_adm_fail("target list", &err);
    sd_adm_table t;
    static const char *const head[] = {"CODE", "NAME", "TYPE", "ORG", "ADDRESS"};
    json_t *arr = list_begin(c, &t, 5, head);
    for (size_t i = 0; i < e.n; i++) {
        const Scpb__TargetState *g = e.v[i]->target;
        const char *org = org_code(&c->orgs, &g->org, g->has_org);
        const char *type = g->has_type ? name_or(&sc_names_target_type, g->type) : NULL;
        if (arr)
            json_array_append_new(
                arr, json_pack("{s:o,s:s?,s:s?,s:o,s:o,s:o,s:o}", "id", hexj(&e.v[i]->id), "code",
                               g->code, "name", g->name, "type", strj(type), "org", strj(org),
                               "org_id", hexj(&g->org), "address", strj(g->address)));
        else
            sd_adm_table_row(&t, (const char *const[]){g->code, g->name, type, org, g->address});
    }
    ents_free(&e);
    return list_end(&t, arr);
}

/* Devices of each user that are enrolled and not revoked. */
typedef struct dev_count {
    ents *users;
    uint32_t *n;
} dev_count;

static bool count_device(void *ctx, const sd_device_row *d)
{
    dev_count *dc = ctx;
    for (size_t i = 0; !d->revoked && i < dc->users->n; i++)
        if (memcmp(dc->users->v[i]->id.data, d->user, SC_ID_LEN) == 0)
            dc->n[i]++;
    return true;
}

static int list_users(list_ctx *c)
{
    ents e;
    sc_err err;
    sc_err_clear(&err);
    if (ents_load(c->s, SCPB__ENTITY_TYPE__ENTITY_USER, &e, &err) != SC_OK)
        return sd_adm_fail("user list", &err);
    uint32_t *ndev = calloc(e.n + 1, sizeof *ndev);
    dev_count dc = {&e, ndev};
    if (!ndev || c->s->vt->device_scan(c->s, count_device, &dc, &err) != SC_OK) {
        free(ndev);
        ents_free(&e);
        if (!ndev)
            sc_err_set(&err, SC_ERR_NOMEM, 0, "out of memory");
        return sd_adm_fail("user list", &err);
    }
    sd_adm_table t;
    static const char *const head[] = {"LOGIN", "NAME", "ROLE", "ORG", "ACCESS", "DEVICES"};
    json_t *arr = list_begin(c, &t, 6, head);
    for (size_t i = 0; i < e.n; i++) {
        const Scpb__UserState *u = e.v[i]->user;
        const char *org = org_code(&c->orgs, &u->org, u->has_org);
        const char *role = name_or(&sc_names_role, u->role);
        char devs[16];
        snprintf(devs, sizeof devs, "%u", ndev[i]);
        if (arr)
            json_array_append_new(arr, json_pack("{s:o,s:s?,s:o,s:s,s:o,s:o,s:b,s:o,s:I}", "id",
                                                 hexj(&e.v[i]->id), "login", u->login, "name",
                                                 strj(u->name), "role", role, "org", strj(org),
                                                 "org_id", hexj(&u->org), "disabled", u->disabled,
                                                 "disabled_reason", strj(u->disabled_reason),
                                                 "devices", (json_int_t)ndev[i]));
        else
            sd_adm_table_row(&t, (const char *const[]){u->login, u->name, role, org,
                                                       u->disabled ? "disabled" : "active", devs});
    }
    free(ndev);
    ents_free(&e);
    return list_end(&t, arr);
}

static int list_templates(list_ctx *c)
{
    ents e;
    sc_err err;
    sc_err_clear(&err);
    if (ents_load(c->s, SCPB__ENTITY_TYPE__ENTITY_TEMPLATE, &e, &err) != SC_OK)
        return sd_adm_fail("template list", &err);
    sd_adm_table t;
    static const char *const head[] = {"CODE", "VERSION", "NAME", "ITEMS", "POINTS", "PASS"};
    json_t *arr = list_begin(c, &t, 6, head);
    for (size_t i = 0; i < e.n; i++) {
        const Scpb__TemplateState *p = e.v[i]->template_;
        char ver[16], items[16], total[16], pass[16];
        snprintf(ver, sizeof ver, "%u", p->version);
        snprintf(items, sizeof items, "%zu", p->n_items);
        snprintf(total, sizeof total, "%d", p->max_total);
        snprintf(pass, sizeof pass, "%d", p->pass_mark);
        if (arr)
            json_array_append_new(
                arr, json_pack("{s:o,s:s?,s:I,s:s?,s:I,s:I,s:o}", "id", hexj(&e.v[i]->id), "code",
                               p->code, "version", (json_int_t)p->version, "name", p->name, "items",
                               (json_int_t)p->n_items, "max_total", (json_int_t)p->max_total,
                               "pass_mark",
                               p->has_pass_mark ? json_integer(p->pass_mark) : json_null()));
        else
            sd_adm_table_row(&t, (const char *const[]){p->code, ver, p->name, items, total,
                                                       p->has_pass_mark ? pass : NULL});
    }
    ents_free(&e);
    return list_end(&t, arr);
}

/* ---- devices ---- */

typedef struct dev_ctx {
    list_ctx *c;
    json_t *arr;
    sd_adm_table *t;
} dev_ctx;

static bool list_device(void *ctx, const sd_device_row *d)
{
    dev_ctx *x = ctx;
    sd_store *s = x->c->s;
    char dev[SC_ID_HEX], key[2 * SC_KEY_LEN + 1], user[SC_ID_HEX], seen[24], idx[24];
    sd_adm_hex(d->device, SC_ID_LEN, dev);
    sd_adm_hex(d->key, SC_KEY_LEN, key);
    sd_adm_hex(d->user, SC_ID_LEN, user);
    Scpb__EntityState *us = sd_adm_state(s, d->user), *ds = sd_adm_state(s, d->device);
    const char *login = us && us->user ? us->user->login : NULL;
    const char *role = us && us->user ? sc_name_of(&sc_names_role, us->user->role) : NULL;
    const char *label = ds && ds->device ? ds->device->label : NULL;
    const char *why = ds && ds->device ? ds->device->revoke_reason : NULL;
    sd_seen_row sr;
    sc_err err;
    sc_err_clear(&err);
    bool seen_ok = s->vt->seen_get(s, d->key, &sr, &err) == SC_OK;
    sd_adm_time(seen_ok ? sr.seen_ms : 0, seen, sizeof seen);
    snprintf(idx, sizeof idx, "%llu", (unsigned long long)d->enrolled_idx);
    if (x->arr) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:b}", "device", dev, "key", key,
                              "user", user, "login", login ? login : "", "role", role ? role : "",
                              "label", label ? label : "", "enrolled_index",
                              (json_int_t)d->enrolled_idx, "revoked", d->revoked);
        if (o && d->revoked) {
            json_object_set_new(o, "revoked_index", json_integer((json_int_t)d->revoked_idx));
            if (why)
                json_object_set_new(o, "revoke_reason", json_string(why));
        }
        if (o && seen_ok) {
            json_object_set_new(o, "last_seen_ms", json_integer((json_int_t)sr.seen_ms));
            json_object_set_new(o, "app_version", json_string(sr.agent));
        }
        json_array_append_new(x->arr, o);
    } else {
        char shortkey[17];
        memcpy(shortkey, key, 16);
        shortkey[16] = '\0';
        sd_adm_table_row(x->t, (const char *const[]){
                                   dev, shortkey, login, label, d->revoked ? "revoked" : "active",
                                   idx, seen_ok ? seen : "never", seen_ok ? sr.agent : NULL});
    }
    sd_state_free(us);
    sd_state_free(ds);
    return true;
}

static int list_devices(list_ctx *c)
{
    sd_adm_table t;
    static const char *const head[] = {"DEVICE", "KEY",      "LOGIN",     "LABEL",
                                       "STATUS", "ENROLLED", "LAST SEEN", "APP"};
    dev_ctx x = {c, list_begin(c, &t, 8, head), &t};
    sc_err err;
    sc_err_clear(&err);
    if (c->s->vt->device_scan(c->s, list_device, &x, &err) != SC_OK) {
        json_decref(x.arr);
        sd_adm_table_free(&t);
        return sd_adm_fail("device list", &err);
    }
    return list_end(&t, x.arr);
}

/* ---- enrollment codes ---- */

typedef struct code_ctx {
    list_ctx *c;
    const uint8_t *user; /* only this user's; NULL: all */
    bool all;            /* used, expired and revoked ones too */
    int64_t now;
    json_t *arr;
    sd_adm_table *t;
} code_ctx;

/* What became of a code. */
static const char *code_status(const sd_enroll_row *r, int64_t now)
{
    return r->used ? "used" : r->revoked ? "revoked" : r->expires_ms <= now ? "expired" : "unused";
}

static bool list_code(void *ctx, const sd_enroll_row *r)
{
    code_ctx *x = ctx;
    const char *status = code_status(r, x->now);
    if ((x->user && memcmp(x->user, r->user, SC_ID_LEN) != 0) ||
        (!x->all && strcmp(status, "unused") != 0))
        return true;
    char id[13], made[24], expires[24];
    sd_adm_hex(r->hash, 6, id);
    sd_adm_time(r->created_ms, made, sizeof made);
    sd_adm_time(r->expires_ms, expires, sizeof expires);
    Scpb__EntityState *us = sd_adm_state(x->c->s, r->user);
    const char *login = us && us->user ? us->user->login : NULL;
    if (x->arr) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I}", "id", id, "login", login ? login : "",
                              "status", status, "created_ms", (json_int_t)r->created_ms,
                              "expires_ms", (json_int_t)r->expires_ms);
        if (o && r->used)
            json_object_set_new(o, "used_ms", json_integer((json_int_t)r->used_ms));
        if (o && r->revoked)
            json_object_set_new(o, "revoked_ms", json_integer((json_int_t)r->revoked_ms));
        json_array_append_new(x->arr, o);
    } else {
        sd_adm_table_row(x->t, (const char *const[]){id, login, status, made, expires});
    }
    sd_state_free(us);
    return true;
}

static int list_codes(list_ctx *c, const sd_adm_args *a)
{
    const char *login = sd_adm_opt(a, "user");
    uint8_t user[SC_ID_LEN];
    sc_err err;
    sc_err_clear(&err);
    if (login) {
        sc_status rc =
            c->s->vt->code_find(c->s, SCPB__ENTITY_TYPE__ENTITY_USER, login, 0, user, &err);
        if (rc == SC_ERR_NOT_FOUND) {
            fprintf(stderr, "syncd admin: no user with login \"%s\"\n", login);
            return 1;
        }
        if (rc != SC_OK)
            return sd_adm_fail("code list", &err);
    }
    sd_adm_table t;
    static const char *const head[] = {"ID", "LOGIN", "STATUS", "MADE", "EXPIRES"};
    code_ctx x = {c,
                  login ? user : NULL,
                  sd_adm_has(a, "all"),
                  sc_env_now_ms(sd_env_system()),
                  list_begin(c, &t, 5, head),
                  &t};
    if (c->s->vt->enroll_scan(c->s, list_code, &x, &err) != SC_OK) {
        json_decref(x.arr);
        sd_adm_table_free(&t);
        return sd_adm_fail("code list", &err);
    }
    return list_end(&t, x.arr);
}

int sd_adm_list(sd_register *r, const char *data, const sd_adm_args *a)
{
    (void)r;
    const char *what = a->word[0];
    static const char *const lists[] = {"org", "user", "target", "template", "device", "code"};
    size_t k = 0;
    while (k < sizeof lists / sizeof lists[0] && strcmp(lists[k], what) != 0)
        k++;
    if (k == sizeof lists / sizeof lists[0]) {
        fprintf(stderr, "syncd admin: no list of %s\n", what);
        return SD_ADM_USAGE;
    }
    list_ctx c;
    memset(&c, 0, sizeof c);
    c.json = sd_adm_has(a, "json");
    sc_err err;
    sc_err_clear(&err);
    if (sd_adm_store_open(data, &c.s, &err) != SC_OK)
        return sd_adm_fail("list", &err);
    int rc;
    if (ents_load(c.s, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, &c.orgs, &err) != SC_OK) {
        rc = sd_adm_fail("list", &err);
    } else {
        switch (k) {
        case 0:
            rc = list_orgs(&c);
            break;
        case 1:
            rc = list_users(&c);
            break;
        case 2:
            rc = list_targets(&c);
            break;
        case 3:
            rc = list_templates(&c);
            break;
        case 4:
            rc = list_devices(&c);
            break;
        default:
            rc = list_codes(&c, a);
            break;
        }
    }
    ents_free(&c.orgs);
    sd_adm_store_close(c.s);
    return rc;
}
