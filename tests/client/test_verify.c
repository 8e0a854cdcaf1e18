/*
 * test_verify.c: the replica rechecks itself (signatures, checkpoints,
 * states, authors: enrolled, not revoked, their user not disabled when
 * the op was logged), and syncd export bundles are checked offline, naming
 * the first bad entry.
 */
#include "fixture.h"

#include <sqlite3.h>

#include "bundle.pb-c.h"
#include "core/checkpoint.h"
#include "core/merkle.h"
#include "scops.h"

static json_t *verify(fx *f, sc_status want)
{
    char *json = NULL;
    sc_status s = sc_verify_replica(f->c, &json);
    ck_assert_msg(s == want, "verify: %s: %s", sc_status_name(s), sc_client_errmsg(f->c));
    return fx_json(f, json);
}

START_TEST(clean_replica_verifies)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", NULL, fid);
    json_t *o = verify(&f, SC_OK);
    ck_assert(json_is_true(json_object_get(o, "ok")));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "ops")), 10);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "entities")), 10);
    json_decref(o);
    fx_close(&f);
}
END_TEST

START_TEST(tampered_op_is_found)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    /* Flip the last byte (inside the signature) of the inspection's op. */
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(f.c->db, "SELECT id, signed FROM ops WHERE origin = 0", -1,
                                        &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    uint8_t id[SC_HASH_LEN], buf[4096];
    size_t len = (size_t)sqlite3_column_bytes(st, 1);
    ck_assert_uint_le(len, sizeof buf);
    memcpy(id, sqlite3_column_blob(st, 0), SC_HASH_LEN);
    memcpy(buf, sqlite3_column_blob(st, 1), len);
    sqlite3_finalize(st);
    buf[len - 1] ^= 1;
    ck_assert_int_eq(sqlite3_prepare_v2(f.c->db, "UPDATE ops SET signed = ? WHERE id = ?", -1, &st,
                                        NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, id, SC_HASH_LEN, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    json_t *o = verify(&f, SC_ERR_BAD_SIGNATURE);
    ck_assert(json_is_false(json_object_get(o, "ok")));
    ck_assert_uint_ge(json_array_size(json_object_get(o, "errors")), 1);
    json_decref(o);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "op "));
    fx_close(&f);
}
END_TEST

START_TEST(tampered_state_is_found)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    uint8_t id[SC_ID_LEN];
    ck_assert(cl_parse_id(check, id));
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(f.c->db, "UPDATE entities SET hash = zeroblob(32) WHERE id = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, id, SC_ID_LEN, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    json_t *o = verify(&f, SC_ERR_REJECTED);
    json_decref(o);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), check));
    fx_close(&f);
}
END_TEST

/* ---- bundles ---- */

typedef struct writer {
    FILE *fp;
    sc_merkle_frontier fr;
    uint64_t n;
    int corrupt_at;     /* entry index whose signature to damage, -1 for none */
    int cp_before;      /* entry index before which a checkpoint of the entries so far goes, -1 */
    const sc_keypair *server;
    int64_t now_ms;
} writer;

static void put_record(FILE *fp, const Scpb__BundleRecord *r)
{
    size_t len = scpb__bundle_record__get_packed_size(r);
    uint8_t *buf = malloc(len);
    scpb__bundle_record__pack(r, buf);
    uint8_t l4[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
    fwrite(l4, 1, 4, fp);
    fwrite(buf, 1, len, fp);
    free(buf);
}

/* A checkpoint of the entries written so far, signed by the server key; its root into root. */
static void put_checkpoint(writer *w, uint8_t root[SC_HASH_LEN])
{
    sc_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "test.example/log");
    cp.size = w->n;
    sc_merkle_frontier_root(&w->fr, cp.root);
    cp.time_ms = w->now_ms;
    char note[SC_CHECKPOINT_NOTE_MAX];
    size_t nlen;
    sc_err e;
    ck_assert_int_eq(sc_checkpoint_sign(NULL, w->server, &cp, note, sizeof note, &nlen, &e), SC_OK);
    Scpb__Checkpoint ck = SCPB__CHECKPOINT__INIT;
    ck.note = note;
    ck.has_size = true;
    ck.size = cp.size;
    ck.has_root = true;
    ck.root = (ProtobufCBinaryData){SC_HASH_LEN, cp.root};
    Scpb__BundleRecord r = SCPB__BUNDLE_RECORD__INIT;
    r.record_case = SCPB__BUNDLE_RECORD__RECORD_CHECKPOINT;
    r.checkpoint = &ck;
    put_record(w->fp, &r);
    memcpy(root, cp.root, SC_HASH_LEN);
}

static sc_status put_entry(sc_client *c, void *ctx, const st_opinfo *info, const uint8_t *bytes,
                           size_t len)
{
    (void)c;
    (void)info;
    writer *w = ctx;
    if ((int64_t)w->n == w->cp_before) {
        uint8_t root[SC_HASH_LEN];
        put_checkpoint(w, root);
    }
    uint8_t *copy = malloc(len);
    memcpy(copy, bytes, len);
    if ((int)w->n == w->corrupt_at)
        copy[len - 1] ^= 1;
    uint8_t leaf[SC_HASH_LEN];
    sc_merkle_leaf_hash(copy, len, leaf);
    sc_merkle_frontier_append(&w->fr, leaf, NULL, NULL);
    Scpb__LoggedOp lo = SCPB__LOGGED_OP__INIT;
    lo.has_signed_op = true;
    lo.signed_op = (ProtobufCBinaryData){len, copy};
    lo.has_log_index = true;
    lo.log_index = w->n++;
    Scpb__BundleRecord r = SCPB__BUNDLE_RECORD__INIT;
    r.record_case = SCPB__BUNDLE_RECORD__RECORD_ENTRY;
    r.entry = &lo;
    put_record(w->fp, &r);
    free(copy);
    return SC_OK;
}

typedef struct hasher {
    sc_replica_hash h;
} hasher;

static sc_status hash_entity(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    hasher *h = ctx;
    uint8_t sh[SC_HASH_LEN];
    ck_assert_int_eq(st_state_hash(c, id, sh), SC_OK);
    ck_assert_int_eq(sc_replica_hash_add(&h->h, id, sh), SC_OK);
    return SC_OK;
}

/*
 * Export the fixture's (admin-only) replica as syncd would; corrupt one entry or the hash.
 * cp_before: a signed checkpoint before that entry; last_cp: one of all the entries at the end
 * (a bundle made by whoever handed it over may carry neither: its trailer is not signed).
 */
static void write_bundle_as(fx *f, const char *path, int corrupt_at, int bad_hash, int cp_before,
                            bool last_cp)
{
    writer w = {.fp = fopen(path, "wb"), .corrupt_at = corrupt_at, .cp_before = cp_before,
                .server = f->server, .now_ms = f->t.now_ms};
    ck_assert_ptr_nonnull(w.fp);
    sc_merkle_frontier_init(&w.fr);
    fwrite("SCBUNDLE1\n", 1, 10, w.fp);
    Scpb__BundleHeader hd = SCPB__BUNDLE_HEADER__INIT;
    hd.has_version = true;
    hd.version = 1;
    hd.origin = "test.example/log";
    hd.has_server_key = true;
    hd.server_key = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)(uintptr_t)sc_keypair_public(f->server)};
    Scpb__BundleRecord r = SCPB__BUNDLE_RECORD__INIT;
    r.record_case = SCPB__BUNDLE_RECORD__RECORD_HEADER;
    r.header = &hd;
    put_record(w.fp, &r);
    ck_assert_int_eq(st_ops_bytes_each(f->c, put_entry, &w), SC_OK);
    uint8_t root[SC_HASH_LEN];
    if (last_cp)
        put_checkpoint(&w, root);
    else
        sc_merkle_frontier_root(&w.fr, root);
    hasher h;
    sc_replica_hash_init(&h.h);
    ck_assert_int_eq(st_entities_each(f->c, 0, false, hash_entity, &h), SC_OK);
    uint8_t rh[SC_HASH_LEN];
    sc_replica_hash_final(&h.h, rh);
    if (bad_hash)
        rh[0] ^= 0x80;
    Scpb__BundleTrailer tr = SCPB__BUNDLE_TRAILER__INIT;
    tr.has_size = true;
    tr.size = w.n;
    tr.has_root = true;
    tr.root = (ProtobufCBinaryData){SC_HASH_LEN, root};
    tr.has_replica_hash = true;
    tr.replica_hash = (ProtobufCBinaryData){SC_HASH_LEN, rh};
    tr.has_entities = true;
    tr.entities = h.h.count;
    r.record_case = SCPB__BUNDLE_RECORD__RECORD_TRAILER;
    r.trailer = &tr;
    put_record(w.fp, &r);
    fclose(w.fp);
}

static void write_bundle(fx *f, const char *path, int corrupt_at, int bad_hash)
{
    write_bundle_as(f, path, corrupt_at, bad_hash, -1, true);
}

START_TEST(bundle_verifies_offline)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char path[700];
    snprintf(path, sizeof path, "%s/export.bundle", f.dir);
    write_bundle(&f, path, -1, 0);
    /* A handle without any identity, on an in-memory replica, like `verify-bundle`. */
    sc_client *v = NULL;
    ck_assert_int_eq(sc_client_open(":memory:", NULL, &v, NULL, 0), SC_OK);
    char *json = NULL;
    sc_status s = sc_verify_bundle(v, path, &json);
    ck_assert_msg(s == SC_OK, "%s", sc_client_errmsg(v));
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(v, json);
    ck_assert(json_is_true(json_object_get(o, "ok")));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "entries")), 8);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "entities")), 8);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "checkpoints")), 1);
    json_decref(o);
    sc_client_close(v);
    fx_close(&f);
}
END_TEST

START_TEST(bundle_names_the_first_bad_entry)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char path[700];
    snprintf(path, sizeof path, "%s/bad.bundle", f.dir);
    write_bundle(&f, path, 3, 0);
    sc_client *v = NULL;
    ck_assert_int_eq(sc_client_open(":memory:", NULL, &v, NULL, 0), SC_OK);
    char *json = NULL;
    sc_status s = sc_verify_bundle(v, path, &json);
    ck_assert_int_ne(s, SC_OK);
    ck_assert_msg(strstr(sc_client_errmsg(v), "entry 3") != NULL, "message: %s",
                  sc_client_errmsg(v));
    ck_assert_ptr_nonnull(strstr(json, "\"ok\":false"));
    sc_json_free(v, json);
    /* A replica hash that does not match the replay. */
    write_bundle(&f, path, -1, 1);
    ck_assert_int_eq(sc_verify_bundle(v, path, &json), SC_ERR_REJECTED);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(v), "replica hash"));
    sc_json_free(v, json);
    /* Entries no checkpoint signed by the server covers: the trailer's root is whoever made
     * the file's word, so a bundle with ops removed or added is refused, not verified. */
    write_bundle_as(&f, path, -1, 0, -1, false);
    ck_assert_int_eq(sc_verify_bundle(v, path, &json), SC_ERR_PROOF);
    ck_assert_msg(strstr(sc_client_errmsg(v), "no checkpoint") != NULL, "message: %s",
                  sc_client_errmsg(v));
    sc_json_free(v, json);
    write_bundle_as(&f, path, -1, 0, 5, false);
    ck_assert_int_eq(sc_verify_bundle(v, path, &json), SC_ERR_PROOF);
    ck_assert_msg(strstr(sc_client_errmsg(v), "covers 5 of the 8 entries") != NULL, "message: %s",
                  sc_client_errmsg(v));
    sc_json_free(v, json);
    /* Not a bundle at all, and no file. */
    ck_assert_int_eq(sc_verify_bundle(v, f.db, &json), SC_ERR_MALFORMED);
    sc_json_free(v, json);
    ck_assert_int_eq(sc_verify_bundle(v, "/nonexistent/b", &json), SC_ERR_IO);
    sc_json_free(v, json);
    sc_client_close(v);
    fx_close(&f);
}
END_TEST

/* The replica hash in sc_client_status is the one a bundle of the same ops replays to. */
START_TEST(status_reports_the_replica_hash)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(f.c, &json), SC_OK);
    json_t *st = fx_json(&f, json);
    const char *mine = json_string_value(json_object_get(st, "replica_hash"));
    ck_assert_ptr_nonnull(mine);
    ck_assert_uint_eq(strlen(mine), 64);

    char path[700];
    snprintf(path, sizeof path, "%s/export.bundle", f.dir);
    write_bundle(&f, path, -1, 0);
    sc_client *v = NULL;
    ck_assert_int_eq(sc_client_open(":memory:", NULL, &v, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_verify_bundle(v, path, &json), SC_OK);
    json_t *b = json_loads(json, 0, NULL);
    sc_json_free(v, json);
    ck_assert_str_eq(json_string_value(json_object_get(b, "replica_hash")), mine);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "entities")),
                     json_integer_value(json_object_get(st, "entities")));
    json_decref(b);
    sc_client_close(v);

    /* One more op changes it. */
    ck_assert_int_eq(sc_note_add(f.c, check, "one more"), SC_OK);
    ck_assert_int_eq(sc_client_status(f.c, &json), SC_OK);
    json_t *st2 = fx_json(&f, json);
    ck_assert_str_ne(json_string_value(json_object_get(st2, "replica_hash")), mine);
    json_decref(st2);
    json_decref(st);
    fx_close(&f);
}
END_TEST

static void sql(fx *f, const char *q, const void *blob, size_t len)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(f->c->db, q, -1, &st, NULL), SQLITE_OK);
    if (blob)
        sqlite3_bind_blob(st, 1, blob, (int)len, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

/*
 * Proof before forgetting, checked again offline: an op of ours held as
 * logged needs a receipt that proves its bytes in a verified checkpoint's
 * tree.  A receipt that does not verify, or none at all, is a problem; an
 * op still in the outbox is counted as unproven.  Ops acknowledged before
 * the replica kept receipts (below meta receipts_from) need none.
 */
START_TEST(receipts_are_checked_again)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    json_t *o = verify(&f, SC_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "unproven")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "receipts")), 0);
    json_decref(o);

    /* Logged at index 1 of a two-leaf tree, as a sync would have proven it. */
    sqlite3_stmt *st;
    ck_assert_int_eq(
        sqlite3_prepare_v2(f.c->db, "SELECT id, signed FROM ops WHERE origin = 0", -1, &st, NULL),
        SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    st_leaf leaf = {.index = 1};
    uint8_t other[SC_HASH_LEN], mine[SC_HASH_LEN];
    memcpy(leaf.id, sqlite3_column_blob(st, 0), SC_HASH_LEN);
    sc_merkle_leaf_hash(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), mine);
    sqlite3_finalize(st);
    sc_merkle_leaf_hash((const uint8_t *)"someone else's op", 17, other);
    sc_checkpoint cp = {.origin = "test.example/log", .size = 2, .time_ms = f.t.now_ms};
    sc_merkle_node_hash(other, mine, cp.root);
    char note[SC_CHECKPOINT_NOTE_MAX];
    size_t nl = 0;
    ck_assert_int_eq(sc_checkpoint_sign(NULL, f.server, &cp, note, sizeof note, &nl, NULL), SC_OK);
    ck_assert_int_eq(st_begin(f.c), SC_OK);
    ck_assert_int_eq(st_ckpt_add(f.c, note, nl, 2, cp.root, NULL, 0), SC_OK);
    ck_assert_int_eq(st_op_set(f.c, leaf.id, ST_ACCEPTED, true, 1, 0, NULL), SC_OK);
    ck_assert_int_eq(st_receipt_add(f.c, 2, &leaf, 1, (const uint8_t(*)[SC_HASH_LEN])other, 1),
                     SC_OK);
    ck_assert_int_eq(st_commit(f.c), SC_OK);
    o = verify(&f, SC_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "unproven")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "receipts")), 1);
    json_decref(o);

    /* The receipt's hash changed: it proves nothing. */
    other[3] ^= 1;
    sql(&f, "UPDATE receipts SET proof = ?", other, SC_HASH_LEN);
    o = verify(&f, SC_ERR_PROOF);
    ck_assert(json_is_false(json_object_get(o, "ok")));
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "does not verify"));
    json_decref(o);
    /* No receipt at all for an op held as logged. */
    sql(&f, "DELETE FROM receipts", NULL, 0);
    o = verify(&f, SC_ERR_PROOF);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "no receipt proves it"));
    json_decref(o);
    /* Unless it was acknowledged before this replica kept receipts. */
    sql(&f, "UPDATE meta SET value = 1000000 WHERE key = 'receipts_from'", NULL, 0);
    json_decref(verify(&f, SC_OK));
    fx_close(&f);
}
END_TEST

/* A server-signed change to the fixture's user, stored as pulled (and noted, as a sync notes it).
 */
static void user_act(fx *f, Scpb__Op__BodyCase kind)
{
    Scpb__EntityState *st = NULL;
    ck_assert_int_eq(st_state_get(f->c, f->user, &st), SC_OK);
    ck_assert_uint_eq(st->n_heads, 1);
    uint8_t head[SC_HASH_LEN];
    memcpy(head, st->heads[0].data, SC_HASH_LEN);
    rp_state_free(f->c, st);
    ProtobufCBinaryData dep = {SC_HASH_LEN, head};
    Scpb__Op op = SCPB__OP__INIT;
    op.n_deps = 1;
    op.deps = &dep;
    sco_user_body b;
    sco_user_act(&op, &b, kind, 0, NULL);
    uint64_t index = f->index;
    fx_store(f, f->server, &op, f->user, SCPB__ENTITY_TYPE__ENTITY_USER, NULL);
    ck_assert_int_eq(st_begin(f->c), SC_OK);
    ck_assert_int_eq(st_user_access_put(f->c, f->user, index, kind == SCPB__OP__BODY_USER_DISABLE),
                     SC_OK);
    ck_assert_int_eq(st_commit(f->c), SC_OK);
}

/* An inspection opened by the user's second tablet, stored as pulled at the next index. */
static void other_tablet_works(fx *f)
{
    uint8_t insp[SC_ID_LEN];
    sc_uuid7_new(&f->t.env, insp);
    Scpb__InspectionOpen b;
    Scpb__Op op = SCPB__OP__INIT;
    sco_open_body(&op, &b, f->target, SCPB__DISCLOSURE__DISCLOSURE_OPEN);
    fx_store(f, f->other, &op, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, NULL);
}

/*
 * A replica holding an op that a disabled user's device signed after the
 * disable was logged (a server that should have refused it) says so; the
 * same device's ops before the disable and after an enable are fine, and
 * the fold of the user carries the disable.
 */
START_TEST(disabled_users_op_is_found)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    other_tablet_works(&f);
    user_act(&f, SCPB__OP__BODY_USER_DISABLE);
    Scpb__EntityState *st = NULL;
    ck_assert_int_eq(st_state_get(f.c, f.user, &st), SC_OK);
    ck_assert(st->user->disabled);
    rp_state_free(f.c, st);
    json_t *o = verify(&f, SC_OK);
    ck_assert(json_is_true(json_object_get(o, "ok")));
    json_decref(o);
    user_act(&f, SCPB__OP__BODY_USER_ENABLE);
    other_tablet_works(&f);
    o = verify(&f, SC_OK);
    json_decref(o);
    /* Disabled again, and an op of its device logged after that. */
    user_act(&f, SCPB__OP__BODY_USER_DISABLE);
    uint64_t at = f.index;
    other_tablet_works(&f);
    o = verify(&f, SC_ERR_BAD_SIGNATURE);
    ck_assert(json_is_false(json_object_get(o, "ok")));
    json_decref(o);
    char want[64];
    snprintf(want, sizeof want, "user was disabled before log index %llu", (unsigned long long)at);
    ck_assert_msg(strstr(sc_client_errmsg(f.c), want), "%s", sc_client_errmsg(f.c));
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("verify");
    const sct_case cases[] = {
        {"clean_replica_verifies", clean_replica_verifies},
        {"tampered_op_is_found", tampered_op_is_found},
        {"tampered_state_is_found", tampered_state_is_found},
        {"bundle_verifies_offline", bundle_verifies_offline},
        {"bundle_names_the_first_bad_entry", bundle_names_the_first_bad_entry},
        {"receipts_are_checked_again", receipts_are_checked_again},
        {"status_reports_the_replica_hash", status_reports_the_replica_hash},
        {"disabled_users_op_is_found", disabled_users_op_is_found},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
