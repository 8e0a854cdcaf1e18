/*
 * test_admin.c: `syncd admin` (syncd/cmd/admin.c) run in-process against a
 * real data directory while another register handle is open on it, as
 * syncd serve would be: org units, targets, users, enrollment codes, the
 * score-sheet vector, assignments, device list and revoke, users disabled,
 * enabled and given a role, and the errors people will meet.
 */
#include "regfix.h"

#include <fcntl.h>
#include <jansson.h>

#include "cmd/commands.h"
#include "core/date.h"

/* Run `syncd admin --data DIR args...` (NULL-terminated); stdout into out (cap bytes). */
#define ADMIN(f, out, ...) admin((f), (out), sizeof(out), (const char *[]){__VA_ARGS__, NULL})
static int admin(rf *f, char *out, size_t cap, const char **args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"admin";
    argv[argc++] = (char *)"--data";
    argv[argc++] = f->data;
    for (int i = 0; args[i] && argc < 31; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    char path[400];
    snprintf(path, sizeof path, "%s/stdout", f->tmp);
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 1);
    close(fd);
    int rc = sd_cmd_admin(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *in = fopen(path, "r");
    size_t got = fread(out, 1, cap - 1, in);
    out[got] = '\0';
    fclose(in);
    return rc;
}

static void parse_id(const char *text, uint8_t id[SC_ID_LEN])
{
    ck_assert_uint_eq(strlen(text), 2 * SC_ID_LEN + 1);
    ck_assert_int_eq(sc_hex_decode(text, 2 * SC_ID_LEN, id, SC_ID_LEN), SC_OK);
}

START_TEST(orgs_targets_users)
{
    rf f;
    rf_open(&f);
    char out[4096];
    uint8_t city[SC_ID_LEN], street[SC_ID_LEN], id[SC_ID_LEN];
    ck_assert_int_eq(ADMIN(&f, out, "org", "add", "city", "--name=某市"), 0);
    parse_id(out, city);
    ck_assert_int_eq(ADMIN(&f, out, "org", "add", "junan", "--name", "君安社区",
                           "--parent", "city"),
                     0);
    parse_id(out, street);
    /* The already-open register (syncd serve) sees what admin wrote. */
    uint8_t found[SC_ID_LEN];
    sc_err err;
    ck_assert_int_eq(sd_register_lookup_code(f.r, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, "junan", 0,
                                             found, &err),
                     SC_OK);
    ck_assert_mem_eq(found, street, SC_ID_LEN);
    Scpb__EntityState *st = NULL;
    ck_assert_int_eq(sd_register_state(f.r, street, &st, &err), SC_OK);
    ck_assert_str_eq(st->org->name, "君安社区");
    ck_assert_mem_eq(st->org->parent.data, city, SC_ID_LEN);
    ck_assert_int_eq(st->org->level, SCPB__ORG_LEVEL__LEVEL_COUNTY);
    sd_state_free(st);

    ck_assert_int_eq(ADMIN(&f, out, "target", "add", "junan-garden", "--name",
                           "君安花园小区", "--org", "junan", "--type", "compound"),
                     0);
    parse_id(out, id);
    ck_assert_int_eq(ADMIN(&f, out, "user", "add", "wang", "--role", "inspector",
                           "--org", "city", "--name", "王检查"),
                     0);
    parse_id(out, id);
    ck_assert_int_eq(sd_register_state(f.r, id, &st, &err), SC_OK);
    ck_assert_int_eq(st->user->role, SCPB__ROLE__ROLE_INSPECTOR);
    sd_state_free(st);

    /* The errors people meet. */
    ck_assert_int_eq(ADMIN(&f, out, "target", "add", "x", "--name", "x", "--org",
                           "nowhere"),
                     1);
    ck_assert_int_eq(ADMIN(&f, out, "user", "add", "wang", "--role", "inspector",
                           "--org", "city"),
                     1);
    ck_assert_int_eq(ADMIN(&f, out, "user", "add", "li", "--role", "boss", "--org",
                           "city"),
                     2);
    ck_assert_int_eq(ADMIN(&f, out, "org", "add", "city", "--name=again"), 1);
    ck_assert_int_eq(ADMIN(&f, out, "org", "add", "y", "--nmae=typo"), 2);
    ck_assert_int_eq(ADMIN(&f, out, "frobnicate", "now"), 2);
    rf_close(&f);
}
END_TEST

START_TEST(enroll_prints_the_code_alone)
{
    rf f;
    rf_open(&f);
    char out[4096];
    ck_assert_int_eq(ADMIN(&f, out, "org", "add", "city", "--name=某市"), 0);
    ck_assert_int_eq(ADMIN(&f, out, "user", "add", "zhao", "--role", "responsible",
                           "--org", "city"),
                     0);
    ck_assert_int_eq(ADMIN(&f, out, "enroll", "zhao", "--ttl", "24"), 0);
    ck_assert_uint_eq(strlen(out), 25);
    ck_assert_int_eq(out[24], '\n');
    ck_assert_int_eq(ADMIN(&f, out, "enroll", "nobody"), 1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(ADMIN(&f, out, "enroll", "zhao", "--ttl", "0"), 2);
    rf_close(&f);
}
END_TEST

START_TEST(template_and_assignment)
{
    rf f;
    rf_open(&f);
    char out[4096], path[600];
    snprintf(path, sizeof path, "%s/templates/no-epidemic-100.json", SC_VECTORS_DIR);
    ck_assert_int_eq(ADMIN(&f, out, "org", "add", "city", "--name=某市"), 0);
    ck_assert_int_eq(ADMIN(&f, out, "target", "add", "junan-garden", "--name",
                           "君安花园小区", "--org", "city"),
                     0);
    ck_assert_int_eq(ADMIN(&f, out, "user", "add", "wang", "--role", "inspector",
                           "--org", "city"),
                     0);
    ck_assert_int_eq(ADMIN(&f, out, "user", "add", "liu", "--role", "supervisor",
                           "--org", "city"),
                     0);
    ck_assert_int_eq(ADMIN(&f, out, "user", "add", "zhao", "--role", "responsible",
                           "--org", "city"),
                     0);
    uint8_t tpl[SC_ID_LEN];
    ck_assert_int_eq(ADMIN(&f, out, "template", "add", path), 0);
    parse_id(out, tpl);
    Scpb__EntityState *st = NULL;
    sc_err err;
    ck_assert_int_eq(sd_register_state(f.r, tpl, &st, &err), SC_OK);
    ck_assert_uint_eq(st->template_->n_items, 10);
    ck_assert_int_eq(st->template_->max_total, 100);
    ck_assert_int_eq(st->template_->pass_mark, 80);
    ck_assert_str_eq(st->template_->items[1]->text, "无确诊病例");
    ck_assert(st->template_->items[1]->veto);
    sd_state_free(st);
    /* Immutable once added: the same code and version again is refused. */
    ck_assert_int_eq(ADMIN(&f, out, "template", "add", path), 1);
    char bad[700];
    snprintf(bad, sizeof bad, "%s/bad.json", f.tmp);
    FILE *b = fopen(bad, "w");
    fputs("{\"code\":\"x\",\"name\":\"x\",\"version\":1,\"items\":[{\"code\":\"a\"}]}", b);
    fclose(b);
    ck_assert_int_eq(ADMIN(&f, out, "template", "add", bad), 1);

    uint8_t asg[SC_ID_LEN];
    ck_assert_int_eq(ADMIN(&f, out, "assign", "--target", "junan-garden",
                           "--inspector", "wang", "--inspector", "liu", "--kind", "spot",
                           "--disclosure", "unannounced", "--due", "2026-12-01", "--template",
                           "no-epidemic-100@1"),
                     0);
    parse_id(out, asg);
    ck_assert_int_eq(sd_register_state(f.r, asg, &st, &err), SC_OK);
    ck_assert_uint_eq(st->assignment->n_inspectors, 2);
    ck_assert_int_eq(st->assignment->disclosure, SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED);
    ck_assert_mem_eq(st->assignment->template_.data, tpl, SC_ID_LEN);
    int32_t day;
    sc_date_parse("2026-12-01", 10, &day);
    ck_assert_int_eq(st->assignment->due_day, day);
    sd_state_free(st);
    /* A responsible contact cannot be assigned to inspect; unknown logins and kinds are named. */
    ck_assert_int_eq(ADMIN(&f, out, "assign", "--target", "junan-garden",
                           "--inspector", "zhao", "--kind", "spot", "--disclosure=open"),
                     1);
    ck_assert_int_eq(ADMIN(&f, out, "assign", "--target", "junan-garden",
                           "--inspector", "nobody", "--kind", "spot", "--disclosure=open"),
                     1);
    ck_assert_int_eq(ADMIN(&f, out, "assign", "--target", "junan-garden",
                           "--inspector", "wang", "--kind", "sneaky", "--disclosure=open"),
                     2);
    rf_close(&f);
}
END_TEST

START_TEST(device_list_and_revoke)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    char out[65536];
    /* For people: a table, its header first; the devices have not been seen by a server yet. */
    ck_assert_int_eq(ADMIN(f, out, "device", "list"), 0);
    ck_assert_ptr_nonnull(strstr(out, "DEVICE"));
    ck_assert_ptr_nonnull(strstr(out, "LAST SEEN"));
    ck_assert_ptr_nonnull(strstr(out, "平板 1"));
    ck_assert_ptr_nonnull(strstr(out, "never"));
    ck_assert_int_eq(ADMIN(f, out, "device", "list", "--json"), 0);
    json_error_t jerr;
    json_t *arr = json_loads(out, 0, &jerr);
    ck_assert_ptr_nonnull(arr);
    ck_assert_uint_eq(json_array_size(arr), 5);
    json_t *first = json_array_get(arr, 0);
    ck_assert_str_eq(json_string_value(json_object_get(first, "login")), "insp");
    ck_assert_str_eq(json_string_value(json_object_get(first, "label")), "平板 1");
    ck_assert(json_is_false(json_object_get(first, "revoked")));
    char dev[64];
    snprintf(dev, sizeof dev, "%s", json_string_value(json_object_get(first, "device")));
    json_decref(arr);

    ck_assert_int_eq(ADMIN(f, out, "device", "revoke", dev, "--reason", "平板丢失"), 0);
    ck_assert_int_eq(ADMIN(f, out, "device", "revoke", dev), 1); /* already */
    ck_assert_int_eq(ADMIN(f, out, "device", "revoke", "0123"), 2);
    ck_assert_int_eq(ADMIN(f, out, "device", "list", "--json"), 0);
    arr = json_loads(out, 0, &jerr);
    first = json_array_get(arr, 0);
    ck_assert(json_is_true(json_object_get(first, "revoked")));
    ck_assert_str_eq(json_string_value(json_object_get(first, "revoke_reason")), "平板丢失");
    json_decref(arr);
    /* The running register refuses the revoked device's ops at once. */
    sd_principal p;
    sc_err err;
    ck_assert_int_eq(sd_register_principal(f->r, sc_keypair_public(w.insp.kp), &p, &err), SC_OK);
    ck_assert(p.revoked);
    world_close(&w);
}
END_TEST

/* The user's state in the running register (syncd serve's handle). */
static Scpb__EntityState *user_state(rf *f, const char *login)
{
    uint8_t id[SC_ID_LEN];
    sc_err err;
    ck_assert_int_eq(
        sd_register_lookup_code(f->r, SCPB__ENTITY_TYPE__ENTITY_USER, login, 0, id, &err), SC_OK);
    Scpb__EntityState *st = NULL;
    ck_assert_int_eq(sd_register_state(f->r, id, &st, &err), SC_OK);
    return st;
}

static uint64_t log_size(rf *f)
{
    sd_register_stats s;
    sc_err err;
    ck_assert_int_eq(sd_register_stats_get(f->r, &s, &err), SC_OK);
    return s.log_size;
}

START_TEST(users_disabled_enabled_and_roles)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    char out[65536];
    uint64_t n0 = log_size(f);
    ck_assert_int_eq(ADMIN(f, out, "enroll", "insp"), 0);
    ck_assert_int_eq(ADMIN(f, out, "user", "disable", "insp", "--reason", "调岗"), 0);
    ck_assert_ptr_nonnull(strstr(out, "insp is disabled"));
    Scpb__EntityState *st = user_state(f, "insp");
    ck_assert(st->user->disabled);
    ck_assert_str_eq(st->user->disabled_reason, "调岗");
    sd_state_free(st);
    /* Its device is refused from its next request; its code is revoked. */
    sd_principal p;
    sc_err err;
    ck_assert_int_eq(sd_register_principal(f->r, sc_keypair_public(w.insp.kp), &p, &err), SC_OK);
    ck_assert(p.disabled);
    ck_assert_int_eq(ADMIN(f, out, "code", "list", "--all", "--json"), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"status\": \"revoked\""));
    /* Refusals change nothing. */
    uint64_t n1 = log_size(f);
    ck_assert_uint_eq(n1, n0 + 1);
    ck_assert_int_eq(ADMIN(f, out, "user", "disable", "insp"), 1);
    ck_assert_int_eq(ADMIN(f, out, "enroll", "insp"), 1);
    ck_assert_int_eq(ADMIN(f, out, "user", "enable", "nobody"), 1);
    ck_assert_int_eq(ADMIN(f, out, "user", "role", "insp", "boss"), 2);
    ck_assert_int_eq(ADMIN(f, out, "user", "role", "insp", "inspector"), 1);
    ck_assert_int_eq(ADMIN(f, out, "user", "disable"), 2);
    ck_assert_int_eq(ADMIN(f, out, "user", "disable", "insp", "--role", "x"), 2);
    ck_assert_uint_eq(log_size(f), n1);
    /* Enabled, given a role: both logged, both in effect. */
    ck_assert_int_eq(ADMIN(f, out, "user", "enable", "insp"), 0);
    ck_assert_int_eq(ADMIN(f, out, "user", "role", "insp", "supervisor"), 0);
    ck_assert_ptr_nonnull(strstr(out, "insp is a supervisor from now on"));
    ck_assert_int_eq(sd_register_principal(f->r, sc_keypair_public(w.insp.kp), &p, &err), SC_OK);
    ck_assert(!p.disabled);
    ck_assert_int_eq(p.role, SCPB__ROLE__ROLE_SUPERVISOR);
    ck_assert_uint_eq(log_size(f), n1 + 2);
    /* The user list shows it. */
    ck_assert_int_eq(ADMIN(f, out, "user", "list", "--json"), 0);
    json_error_t jerr;
    json_t *arr = json_loads(out, 0, &jerr);
    ck_assert_ptr_nonnull(arr);
    size_t i;
    json_t *u;
    bool found = false;
    json_array_foreach(arr, i, u)
    {
        if (strcmp(json_string_value(json_object_get(u, "login")), "insp") != 0)
            continue;
        found = true;
        ck_assert_str_eq(json_string_value(json_object_get(u, "role")), "supervisor");
        ck_assert(json_is_false(json_object_get(u, "disabled")));
        ck_assert_int_eq(json_integer_value(json_object_get(u, "devices")), 1);
    }
    ck_assert(found);
    json_decref(arr);
    world_close(&w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/admin");
    const sct_case cases[] = {
        {"orgs, targets, users", orgs_targets_users},
        {"enroll", enroll_prints_the_code_alone},
        {"template and assignment", template_and_assignment},
        {"device list and revoke", device_list_and_revoke},
        {"users disabled, enabled, roles", users_disabled_enabled_and_roles},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), &(sct_tcase_opts){.timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
