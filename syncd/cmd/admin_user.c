/*
 * admin_user.c: `syncd admin user disable|enable|role` and `code revoke`.
 *
 * A user is disabled, enabled again or given another role by an admin op
 * on the user (user_disable, user_enable, user_role: docs/data-model.md),
 * logged through sd_register_admin_op, which makes it build on the user's
 * latest op.  The register then refuses the user's devices from their next
 * request (403 user_disabled), enrolls none for it and revokes its unused
 * enrollment codes; what they signed before stays in the log and valid.  A
 * change that would change nothing (disabling a disabled user, the role it
 * has) is refused here, before anything is signed, so the log records acts
 * that did something.
 *
 * Enrollment codes are secrets kept beside the log, not in it, so revoking
 * one is not an op: the code is marked revoked in its own transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "core/ids.h"

/* The user with this login, and its state; false after saying why. */
static bool user_of(sd_register *r, const char *login, uint8_t id[SC_ID_LEN],
                    Scpb__EntityState **st)
{
    *st = NULL;
    if (!sd_adm_lookup(r, SCPB__ENTITY_TYPE__ENTITY_USER, login, "user", id))
        return false;
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_state(r, id, st, &err) != SC_OK || !(*st)->user) {
        sd_state_free(*st);
        *st = NULL;
        fprintf(stderr, "syncd admin: user %s: %s\n", login, err.msg[0] ? err.msg : "no state");
        return false;
    }
    return true;
}

int sd_adm_user(sd_register *r, const char *data, const sd_adm_args *a)
{
    (void)data;
    const char *verb = a->word[1];
    bool role_change = strcmp(verb, "role") == 0, disable = strcmp(verb, "disable") == 0;
    const char *login = a->word[2];
    int role = 0;
    if (role_change && !sd_adm_name(&sc_names_role, a->word[3], "role", &role))
        return 2;
    uint8_t id[SC_ID_LEN];
    Scpb__EntityState *st = NULL;
    if (!user_of(r, login, id, &st))
        return 1;
    bool was_disabled = st->user->disabled;
    Scpb__Role was_role = st->user->role;
    sd_state_free(st);
    const char *art = role == SCPB__ROLE__ROLE_INSPECTOR || role == SCPB__ROLE__ROLE_AUDITOR ||
                              role == SCPB__ROLE__ROLE_ADMIN
                          ? "an"
                          : "a";
    if (role_change && (Scpb__Role)role == was_role) {
        fprintf(stderr, "syncd admin: %s is already %s %s; nothing to change\n", login, art,
                a->word[3]);
        return 1;
    }
    if (!role_change && disable == was_disabled) {
        fprintf(stderr, "syncd admin: user %s is %s; nothing to change\n", login,
                disable ? "already disabled" : "not disabled");
        return 1;
    }
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__UserDisable d = SCPB__USER_DISABLE__INIT;
    Scpb__UserEnable e = SCPB__USER_ENABLE__INIT;
    Scpb__UserRole ro = SCPB__USER_ROLE__INIT;
    op.has_entity = true;
    op.entity.data = id;
    op.entity.len = SC_ID_LEN;
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_USER;
    if (role_change) {
        ro.has_role = true;
        ro.role = (Scpb__Role)role;
        op.body_case = SCPB__OP__BODY_USER_ROLE;
        op.user_role = &ro;
    } else if (disable) {
        d.reason = (char *)sd_adm_opt(a, "reason");
        op.body_case = SCPB__OP__BODY_USER_DISABLE;
        op.user_disable = &d;
    } else {
        e.reason = (char *)sd_adm_opt(a, "reason");
        op.body_case = SCPB__OP__BODY_USER_ENABLE;
        op.user_enable = &e;
    }
    sc_err err;
    sc_err_clear(&err);
    uint64_t idx = 0;
    char what[64];
    snprintf(what, sizeof what, "user %s", verb);
    if (sd_register_admin_op(r, &op, &idx, &err) != SC_OK)
        return sd_adm_fail(what, &err);
    if (role_change)
        printf("%s is %s %s from now on (log index %llu)\n", login, art, a->word[3],
               (unsigned long long)idx);
    else if (disable)
        printf("%s is disabled (log index %llu): its devices are refused from now on, its unused "
               "enrollment codes revoked; what it signed stays in the log\n",
               login, (unsigned long long)idx);
    else
        printf("%s is enabled again (log index %llu): its devices that are not revoked are "
               "served again\n",
               login, (unsigned long long)idx);
    return 0;
}

/* ---- codes ---- */

/* The unused codes whose id (hex of the hash) starts with a prefix. */
typedef struct match {
    const char *prefix;
    size_t len;
    int64_t now;
    size_t n;
    uint8_t hash[SC_HASH_LEN];
} match;

static bool match_code(void *ctx, const sd_enroll_row *row)
{
    match *m = ctx;
    char hex[2 * SC_HASH_LEN + 1];
    sd_adm_hex(row->hash, SC_HASH_LEN, hex);
    if (strncmp(hex, m->prefix, m->len) == 0 && !row->used && !row->revoked &&
        row->expires_ms > m->now) {
        if (m->n++ == 0)
            memcpy(m->hash, row->hash, SC_HASH_LEN);
    }
    return true;
}

/* An id as `code list` shows it (at least 8 hex digits, any case), lowered into out. */
static bool id_prefix(const char *text, char out[2 * SC_HASH_LEN + 1])
{
    size_t n = strlen(text);
    if (n < 8 || n > 2 * SC_HASH_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        out[i] = c;
    }
    out[n] = '\0';
    return true;
}

int sd_adm_code_revoke(sd_register *r, const char *data, const sd_adm_args *a)
{
    const char *text = a->word[2]; /* an ID as `code list` shows it, or the code itself */
    uint8_t hash[SC_HASH_LEN];
    char prefix[2 * SC_HASH_LEN + 1];
    sc_err err;
    sc_err_clear(&err);
    /* A code has 20 characters once its dashes are dropped; `code list` shows 12-digit ids. */
    if (!sd_register_code_hash(text, hash)) {
        if (!id_prefix(text, prefix)) {
            fprintf(stderr,
                    "syncd admin: \"%s\" is neither an enrollment code nor a code's id "
                    "(`syncd admin code list` shows the ids)\n",
                    text);
            return 2;
        }
        sd_store *s = NULL;
        if (sd_adm_store_open(data, &s, &err) != SC_OK)
            return sd_adm_fail("code revoke", &err);
        match m = {prefix, strlen(prefix), sc_env_now_ms(sd_register_env(r)), 0, {0}};
        sc_status rc = s->vt->enroll_scan(s, match_code, &m, &err);
        sd_adm_store_close(s);
        if (rc != SC_OK)
            return sd_adm_fail("code revoke", &err);
        if (m.n > 1) {
            fprintf(stderr,
                    "syncd admin: %zu unused codes have ids starting %s; give more digits\n", m.n,
                    prefix);
            return 1;
        }
        if (m.n == 0) {
            fprintf(stderr,
                    "syncd admin: no unused code has an id starting %s (used, expired and "
                    "revoked ones cannot be revoked)\n",
                    prefix);
            return 1;
        }
        memcpy(hash, m.hash, SC_HASH_LEN);
    }
    if (sd_register_code_revoke(r, hash, &err) != SC_OK)
        return sd_adm_fail("code revoke", &err);
    char id[13];
    sd_adm_hex(hash, 6, id);
    printf("revoked code %s: it enrolls no device\n", id);
    return 0;
}
