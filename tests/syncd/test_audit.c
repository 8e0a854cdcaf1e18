/*
 * test_audit.c: `syncd audit` and `syncd export` (syncd/cmd/audit.c,
 * syncd/cmd/export.c).  A register built through the real paths passes the
 * audit; altering one row of ops, entities or checkpoints directly with SQL
 * makes it fail, naming the log entry; the exported bundle follows
 * proto/bundle.proto and its trailer root matches the register's.
 */
#include "regfix.h"

#include <sqlite3.h>

#include "bundle.pb-c.h"
#include "cmd/audit.h"
#include "cmd/commands.h"
#include "cmd/export.h"

/* A register with a bit of everything: an inspection with findings, a release, a revocation. */
static void build(world *w)
{
    rf *f = &w->f;
    uint8_t insp[SC_ID_LEN], fid[SC_ID_LEN], fid2[SC_ID_LEN], asg[SC_ID_LEN];
    const uint8_t *who[1] = {w->u_insp};
    rf_assign(f, w->ta, who, 1, SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED, asg);
    sc_op *ops[5];
    ops[0] = rf_insp_open(f, &w->insp, insp, w->ta, NULL, asg, SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED);
    ops[1] = rf_item(f, &w->insp, insp, ops[0]->id, "值班守班", SCPB__ITEM_STATUS__ITEM_NOT_MET, 2);
    ops[2] = rf_finding(f, &w->insp, fid, w->ta, insp, "进出人员登记缺少籍贯、来去方向、交通方式",
                        SCPB__GRADE__GRADE_GENERAL);
    ops[3] = rf_finding(f, &w->insp, fid2, w->ta, insp, "燃气管道老化未按期检验",
                        SCPB__GRADE__GRADE_MAJOR);
    ops[4] = rf_submit(f, &w->insp, insp, ops[1]->id);
    uint8_t fhead[SC_HASH_LEN];
    memcpy(fhead, ops[2]->id, SC_HASH_LEN);
    /* The inspected unit's tablet has seen the finding: its clock moves past it. */
    sc_hlc_observe(&w->resp.clock, ops[2]->op->hlc);
    sd_result res[5];
    ck_assert_int_eq(rf_push(f, &w->insp, ops, 5, res), SC_OK);
    for (int i = 0; i < 5; i++)
        rf_accepted(res[i]);
    rf_accepted(rf_push1(f, &w->resp, rf_report(f, &w->resp, fid, fhead)));
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__DeviceRevoke rv = SCPB__DEVICE_REVOKE__INIT;
    op.has_entity = true;
    op.entity = rf_bin(w->insp_b.p.device_id, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_DEVICE;
    op.body_case = SCPB__OP__BODY_DEVICE_REVOKE;
    op.device_revoke = &rv;
    rf_admin_ok(f, &op);
}

static void sql(rf *f, const char *text, const void *blob, size_t len)
{
    char db[400];
    snprintf(db, sizeof db, "%s/register.db", f->data);
    sqlite3 *h;
    ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(h, text, -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(h));
    if (blob)
        sqlite3_bind_blob(st, 1, blob, (int)len, SQLITE_TRANSIENT);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    ck_assert_int_eq(sqlite3_changes(h), 1);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void audit_fails_naming(rf *f, const char *want)
{
    sd_audit_report rep;
    sc_err err;
    ck_assert_int_eq(sd_audit_run(f->data, NULL, &rep, &err), SC_ERR_REJECTED);
    ck_assert(rep.has_problem);
    ck_assert_msg(strstr(rep.problem, want) != NULL, "problem \"%s\" does not name \"%s\"",
                  rep.problem, want);
}

START_TEST(audit_passes_on_a_good_register)
{
    world w;
    world_open(&w);
    build(&w);
    rf *f = &w.f;
    sd_audit_report rep;
    sc_err err;
    ck_assert_msg(sd_audit_run(f->data, NULL, &rep, &err) == SC_OK, "%s / %s", rep.problem,
                  err.msg);
    ck_assert_uint_eq(rep.entries, rf_log_size(f));
    ck_assert_uint_gt(rep.checkpoints, 10);
    ck_assert_uint_gt(rep.nodes, 0);
    ck_assert_uint_eq(rep.devices, 5);
    ck_assert_uint_gt(rep.releases, 0);
    ck_assert_uint_eq(rep.assignees, 1);
    Scpb__Checkpoint *cp = NULL;
    ck_assert_int_eq(sd_register_checkpoint(f->r, &cp, &err), SC_OK);
    ck_assert_mem_eq(rep.root, cp->root.data, SC_HASH_LEN);
    sd_msg_free(cp);
    /* The command prints what it checked and exits 0. */
    char *argv[] = {(char *)"audit", (char *)"--data", f->data, NULL};
    fflush(stdout);
    ck_assert_int_eq(sd_cmd_audit(3, argv), 0);
    world_close(&w);
}
END_TEST

START_TEST(audit_names_an_altered_op)
{
    world w;
    world_open(&w);
    build(&w);
    rf *f = &w.f;
    /* Flip one byte of the signature of log entry 7. */
    sd_principal admin;
    sc_err err;
    ck_assert_int_eq(sd_register_principal(f->r, sd_register_server_key(f->r), &admin, &err), SC_OK);
    Scpb__LogEntries *le = NULL;
    ck_assert_int_eq(sd_register_entries(f->r, &admin, 7, 1, &le, &err), SC_OK);
    uint8_t *b = malloc(le->entries[0]->signed_op.len);
    size_t n = le->entries[0]->signed_op.len;
    memcpy(b, le->entries[0]->signed_op.data, n);
    b[n - 1] ^= 0x01;
    sd_msg_free(le);
    sql(f, "UPDATE ops SET signed = ?1 WHERE idx = 7", b, n);
    free(b);
    audit_fails_naming(f, "entry 7 (op ");
    char *argv[] = {(char *)"audit", (char *)"--data", f->data, NULL};
    ck_assert_int_eq(sd_cmd_audit(3, argv), 1);
    world_close(&w);
}
END_TEST

START_TEST(audit_names_an_altered_state)
{
    world w;
    world_open(&w);
    build(&w);
    rf *f = &w.f;
    /* Give target TB the state of target TA: a plausible, wrong row. */
    Scpb__EntityState *st = NULL;
    sc_err err;
    ck_assert_int_eq(sd_register_state(f->r, w.ta, &st, &err), SC_OK);
    size_t len = scpb__entity_state__get_packed_size(st);
    uint8_t *buf = malloc(len);
    scpb__entity_state__pack(st, buf);
    sd_state_free(st);
    char q[200];
    char hex[SC_ID_HEX];
    sc_hex_encode(w.tb, SC_ID_LEN, hex, sizeof hex);
    snprintf(q, sizeof q, "UPDATE entities SET state = ?1 WHERE id = x'%s'", hex);
    sql(f, q, buf, len);
    free(buf);
    /* TB was created by log entry 5 (after four org units and TA). */
    audit_fails_naming(f, "entry 5 (op ");
    world_close(&w);
}
END_TEST

START_TEST(audit_names_an_altered_checkpoint)
{
    world w;
    world_open(&w);
    build(&w);
    rf *f = &w.f;
    uint8_t zero[SC_HASH_LEN] = {0};
    sql(f, "UPDATE checkpoints SET root = ?1 WHERE size = 9", zero, sizeof zero);
    audit_fails_naming(f, "checkpoint of size 9 (after entry 8)");
    world_close(&w);
}
END_TEST

START_TEST(audit_names_an_altered_derived_row)
{
    world w;
    world_open(&w);
    build(&w);
    rf *f = &w.f;
    sql(f, "UPDATE devices SET revoked_idx = NULL WHERE revoked_idx IS NOT NULL", NULL, 0);
    audit_fails_naming(f, "devices table");
    world_close(&w);
}
END_TEST

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *in = fopen(path, "rb");
    ck_assert_ptr_nonnull(in);
    fseek(in, 0, SEEK_END);
    long n = ftell(in);
    fseek(in, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, in), (size_t)n);
    fclose(in);
    *len = (size_t)n;
    return b;
}

START_TEST(export_writes_a_bundle_whose_trailer_matches)
{
    world w;
    world_open(&w);
    build(&w);
    rf *f = &w.f;
    char out[400];
    snprintf(out, sizeof out, "%s/bundle.scb", f->tmp);
    sd_export_report rep;
    sc_err err;
    ck_assert_msg(sd_export_run(f->data, out, &rep, &err) == SC_OK, "%s", err.msg);
    char tmp[420];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    ck_assert_int_ne(access(tmp, F_OK), 0);

    Scpb__Checkpoint *cp = NULL;
    ck_assert_int_eq(sd_register_checkpoint(f->r, &cp, &err), SC_OK);
    sd_register_stats stats;
    ck_assert_int_eq(sd_register_stats_get(f->r, &stats, &err), SC_OK);

    size_t len;
    uint8_t *b = read_file(out, &len);
    ck_assert_uint_ge(len, 10);
    ck_assert_mem_eq(b, "SCBUNDLE1\n", 10);
    size_t off = 10, records = 0, entries = 0, cps = 0;
    uint64_t next = 0, last_cp = 0;
    bool header = false, trailer = false;
    while (off < len) {
        ck_assert(!trailer);
        ck_assert_uint_ge(len - off, 4);
        size_t n = (size_t)b[off] << 24 | (size_t)b[off + 1] << 16 | (size_t)b[off + 2] << 8 | b[off + 3];
        off += 4;
        ck_assert_uint_le(n, len - off);
        Scpb__BundleRecord *r = scpb__bundle_record__unpack(NULL, n, b + off);
        ck_assert_ptr_nonnull(r);
        off += n;
        switch (r->record_case) {
        case SCPB__BUNDLE_RECORD__RECORD_HEADER:
            ck_assert_uint_eq(records, 0);
            header = true;
            ck_assert_uint_eq(r->header->version, 1);
            ck_assert_str_eq(r->header->origin, sd_register_origin(f->r));
            ck_assert_mem_eq(r->header->server_key.data, sd_register_server_key(f->r), SC_KEY_LEN);
            ck_assert_uint_eq(r->header->size, stats.log_size);
            break;
        case SCPB__BUNDLE_RECORD__RECORD_ENTRY:
            ck_assert_uint_eq(r->entry->log_index, next);
            next++;
            entries++;
            break;
        case SCPB__BUNDLE_RECORD__RECORD_CHECKPOINT:
            /* Right after the entry that completes it. */
            ck_assert_uint_eq(r->checkpoint->size, next);
            ck_assert_uint_ge(r->checkpoint->size, last_cp);
            last_cp = r->checkpoint->size;
            cps++;
            break;
        case SCPB__BUNDLE_RECORD__RECORD_TRAILER:
            trailer = true;
            ck_assert_uint_eq(r->trailer->size, stats.log_size);
            ck_assert_mem_eq(r->trailer->root.data, cp->root.data, SC_HASH_LEN);
            ck_assert_mem_eq(r->trailer->replica_hash.data, rep.replica_hash, SC_HASH_LEN);
            ck_assert_uint_eq(r->trailer->entities, stats.entities);
            break;
        default:
            ck_abort_msg("unknown record");
        }
        scpb__bundle_record__free_unpacked(r, NULL);
        records++;
    }
    ck_assert(header && trailer);
    ck_assert_uint_eq(entries, stats.log_size);
    ck_assert_uint_eq(cps, stats.checkpoints);
    /* The audit computes the same replica hash. */
    sd_audit_report ar;
    ck_assert_int_eq(sd_audit_run(f->data, NULL, &ar, &err), SC_OK);
    ck_assert_mem_eq(ar.replica_hash, rep.replica_hash, SC_HASH_LEN);
    free(b);
    sd_msg_free(cp);

    /* A register whose log does not verify is not exported. */
    char out2[420];
    snprintf(out2, sizeof out2, "%s/bad.scb", f->tmp);
    uint8_t zero[SC_HASH_LEN] = {0};
    sql(f, "UPDATE ops SET op_id = ?1 WHERE idx = 3", zero, 0);
    sql(f, "UPDATE ops SET signed = x'0a00' WHERE idx = 3", NULL, 0);
    ck_assert_int_eq(sd_export_run(f->data, out2, &rep, &err), SC_ERR_REJECTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "entry 3"));
    ck_assert_int_ne(access(out2, F_OK), 0);
    world_close(&w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/audit");
    const sct_case cases[] = {
        {"good register", audit_passes_on_a_good_register},
        {"altered op", audit_names_an_altered_op},
        {"altered state", audit_names_an_altered_state},
        {"altered checkpoint", audit_names_an_altered_checkpoint},
        {"altered derived row", audit_names_an_altered_derived_row},
        {"export", export_writes_a_bundle_whose_trailer_matches},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), &(sct_tcase_opts){.timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
