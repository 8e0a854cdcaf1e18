/*
 * export.c: `syncd export --data DIR --out FILE` writes the audit bundle
 * exactly as proto/bundle.proto lays it out: the magic line, the header,
 * the checkpoints of size 0, then every log entry followed by the
 * checkpoints its index completes, and the trailer with the root, the
 * replica hash over every entity's state hash in id order, and the entity
 * count.
 *
 * It reads one snapshot (a read transaction), so it runs beside syncd
 * serve.  Each entry and checkpoint goes through the core auditor as it is
 * written: a bundle that leaves this machine has verified here first.  The
 * file appears under its name only complete and synced (FILE.tmp, fsync,
 * rename).
 */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.pb-c.h"
#include "commands.h"
#include "core/audit.h"
#include "whole.h"
#include "core/ids.h"
#include "core/merge.h"
#include "register/register.h"
#include "store/store.h"

#define BUNDLE_MAGIC "SCBUNDLE1\n"
#define RECORD_MAX (1024 * 1024)

typedef struct exporter {
    sd_store *s;
    FILE *f;
    sc_auditor *aud;
    const sc_env *env;
    sd_export_report *rep;
    sc_err *err;
    sc_status rc;
    uint64_t fed;
    uint64_t size;
    sc_replica_hash rh;
} exporter;

static void fail(exporter *x, sc_status rc)
{
    if (x->rc == SC_OK)
        x->rc = rc;
}

static void write_record(exporter *x, const Scpb__BundleRecord *rec)
{
    if (x->rc != SC_OK)
        return;
    size_t len = scpb__bundle_record__get_packed_size(rec);
    if (len > RECORD_MAX) {
        fail(x, sc_err_set(x->err, SC_ERR_TOO_LARGE, 0, "export: a record exceeds 1 MiB"));
        return;
    }
    uint8_t *buf = malloc(len + 4);
    if (!buf) {
        fail(x, sc_err_set(x->err, SC_ERR_NOMEM, 0, "export: out of memory"));
        return;
    }
    buf[0] = (uint8_t)(len >> 24);
    buf[1] = (uint8_t)(len >> 16);
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    scpb__bundle_record__pack(rec, buf + 4);
    if (fwrite(buf, 1, len + 4, x->f) != len + 4)
        fail(x, sc_err_set(x->err, SC_ERR_IO, 0, "export: write failed: %s", strerror(errno)));
    free(buf);
}

static bool entry(void *ctx, const sd_op_row *row)
{
    exporter *x = ctx;
    sc_err e;
    sc_err_clear(&e);
    if (row->idx != x->fed ||
        sc_auditor_entry(x->aud, row->idx, row->signed_op, row->signed_len, NULL, &e) != SC_OK) {
        char oh[SC_HASH_HEX];
        sc_hex_encode(row->op_id, SC_HASH_LEN, oh, sizeof oh);
        fail(x, sc_err_set(x->err, SC_ERR_REJECTED, 0,
                           "export: entry %llu (op %.16s) does not verify: %s (run syncd audit)",
                           (unsigned long long)row->idx, oh, e.msg[0] ? e.msg : "out of order"));
        return false;
    }
    Scpb__LoggedOp lo = SCPB__LOGGED_OP__INIT;
    lo.has_signed_op = true;
    lo.signed_op.data = (uint8_t *)(uintptr_t)row->signed_op;
    lo.signed_op.len = row->signed_len;
    lo.has_log_index = true;
    lo.log_index = row->idx;
    lo.has_received_ms = true;
    lo.received_ms = row->received_ms;
    Scpb__BundleRecord rec = SCPB__BUNDLE_RECORD__INIT;
    rec.record_case = SCPB__BUNDLE_RECORD__RECORD_ENTRY;
    rec.entry = &lo;
    write_record(x, &rec);
    x->fed++;
    x->rep->entries++;
    return x->rc == SC_OK;
}

static void entries_until(exporter *x, uint64_t size)
{
    if (x->rc != SC_OK || x->fed >= size)
        return;
    sc_status rc = x->s->vt->op_scan(x->s, x->fed, size, entry, x, x->err);
    if (rc != SC_OK)
        fail(x, rc);
    else if (x->rc == SC_OK && x->fed < size)
        fail(x, sc_err_set(x->err, SC_ERR_REJECTED, 0,
                           "export: a checkpoint of size %llu is beyond the log (run syncd audit)",
                           (unsigned long long)size));
}

static bool checkpoint(void *ctx, const sd_checkpoint_row *row)
{
    exporter *x = ctx;
    if (row->size > x->size)
        return false; /* committed after our snapshot began: not possible inside one read txn */
    entries_until(x, row->size);
    if (x->rc != SC_OK)
        return false;
    sc_err e;
    sc_err_clear(&e);
    if (sc_auditor_checkpoint(x->aud, row->note, row->note_len, &e) != SC_OK) {
        fail(x, sc_err_set(x->err, SC_ERR_REJECTED, 0,
                           "export: the checkpoint of size %llu does not verify: %s (run syncd "
                           "audit)",
                           (unsigned long long)row->size, e.msg));
        return false;
    }
    Scpb__Checkpoint cp = SCPB__CHECKPOINT__INIT;
    cp.note = (char *)(uintptr_t)row->note;
    cp.has_size = true;
    cp.size = row->size;
    cp.has_root = true;
    cp.root.data = (uint8_t *)(uintptr_t)row->root;
    cp.root.len = SC_HASH_LEN;
    Scpb__BundleRecord rec = SCPB__BUNDLE_RECORD__INIT;
    rec.record_case = SCPB__BUNDLE_RECORD__RECORD_CHECKPOINT;
    rec.checkpoint = &cp;
    write_record(x, &rec);
    x->rep->checkpoints++;
    return x->rc == SC_OK;
}

static bool entity(void *ctx, const sd_entity_row *row)
{
    exporter *x = ctx;
    if (sc_replica_hash_add(&x->rh, row->id, row->state_hash) != SC_OK) {
        fail(x, sc_err_set(x->err, SC_ERR_INTERNAL, 0, "export: entities out of order"));
        return false;
    }
    x->rep->entities++;
    return true;
}

static sc_status meta(sd_store *s, const char *key, uint8_t **v, size_t *n, sc_err *err)
{
    return s->vt->meta_get(s, key, v, n, err);
}

sc_status sd_export_run(const char *data_dir, const char *out_path, sd_export_report *rep,
                        sc_err *err)
{
    memset(rep, 0, sizeof *rep);
    sc_err_clear(err);
    if (sc_crypto_init() != SC_OK)
        return sc_err_set(err, SC_ERR_CRYPTO, 0, "libsodium failed to initialise");
    char tmp[SD_PATH_MAX + 8];
    if (strlen(out_path) + 5 > sizeof tmp)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "export: --out path too long");
    snprintf(tmp, sizeof tmp, "%s.tmp", out_path);

    exporter x;
    memset(&x, 0, sizeof x);
    x.env = sd_env_system();
    x.rep = rep;
    x.err = err;
    sc_replica_hash_init(&x.rh);
    uint8_t *key = NULL, *origin = NULL;
    size_t klen = 0, olen = 0;
    char *origin_s = NULL;
    sc_status rc = sd_store_open_dir(data_dir, &x.s, err);
    if (rc != SC_OK)
        return rc;
    rc = x.s->vt->begin(x.s, false, err);
    if (rc == SC_OK)
        rc = meta(x.s, "server_key", &key, &klen, err);
    if (rc == SC_OK)
        rc = meta(x.s, "origin", &origin, &olen, err);
    if (rc == SC_OK && (klen != SC_KEY_LEN || olen == 0 || olen >= SC_ORIGIN_MAX))
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "export: the register's key or origin is damaged");
    if (rc == SC_OK)
        rc = x.s->vt->log_size(x.s, &x.size, err);
    origin_s = (char *)origin;
    if (rc == SC_OK && sc_auditor_new(x.env, key, origin_s, &x.aud) != SC_OK)
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "export: out of memory");
    if (rc != SC_OK)
        goto out;
    /* The whole log, secret plans included: the operator's alone (0600), and never written
     * through a link planted at FILE.tmp (sc_create_private). */
    const char *why = NULL;
    if (!(x.f = sc_create_private(tmp, &why))) {
        rc = sc_err_set(err, SC_ERR_IO, 0, "export: cannot create %s: %s", tmp, why);
        goto out;
    }
    if (fwrite(BUNDLE_MAGIC, 1, strlen(BUNDLE_MAGIC), x.f) != strlen(BUNDLE_MAGIC))
        fail(&x, sc_err_set(err, SC_ERR_IO, 0, "export: write failed: %s", strerror(errno)));

    Scpb__BundleHeader h = SCPB__BUNDLE_HEADER__INIT;
    h.has_version = true;
    h.version = 1;
    h.origin = origin_s;
    h.has_server_key = true;
    h.server_key.data = key;
    h.server_key.len = SC_KEY_LEN;
    h.has_created_ms = true;
    h.created_ms = sc_env_now_ms(x.env);
    h.has_size = true;
    h.size = x.size;
    Scpb__BundleRecord rec = SCPB__BUNDLE_RECORD__INIT;
    rec.record_case = SCPB__BUNDLE_RECORD__RECORD_HEADER;
    rec.header = &h;
    write_record(&x, &rec);

    if (x.rc == SC_OK) {
        rc = x.s->vt->checkpoint_scan(x.s, checkpoint, &x, err);
        if (rc != SC_OK)
            fail(&x, rc);
    }
    entries_until(&x, x.size);
    if (x.rc == SC_OK) {
        rc = x.s->vt->entity_scan(x.s, entity, &x, err);
        if (rc != SC_OK)
            fail(&x, rc);
    }
    if (x.rc == SC_OK) {
        sc_auditor_root(x.aud, rep->root);
        sc_replica_hash_final(&x.rh, rep->replica_hash);
        Scpb__BundleTrailer tr = SCPB__BUNDLE_TRAILER__INIT;
        tr.has_size = true;
        tr.size = x.size;
        tr.has_root = true;
        tr.root.data = rep->root;
        tr.root.len = SC_HASH_LEN;
        tr.has_replica_hash = true;
        tr.replica_hash.data = rep->replica_hash;
        tr.replica_hash.len = SC_HASH_LEN;
        tr.has_entities = true;
        tr.entities = rep->entities;
        Scpb__BundleRecord trec = SCPB__BUNDLE_RECORD__INIT;
        trec.record_case = SCPB__BUNDLE_RECORD__RECORD_TRAILER;
        trec.trailer = &tr;
        write_record(&x, &trec);
    }
    if (x.rc == SC_OK && (fflush(x.f) != 0 || fsync(fileno(x.f)) != 0))
        fail(&x, sc_err_set(err, SC_ERR_IO, 0, "export: cannot sync %s: %s", tmp, strerror(errno)));
    if (fclose(x.f) != 0 && x.rc == SC_OK)
        fail(&x, sc_err_set(err, SC_ERR_IO, 0, "export: cannot close %s: %s", tmp, strerror(errno)));
    x.f = NULL;
    if (x.rc == SC_OK && rename(tmp, out_path) != 0)
        fail(&x, sc_err_set(err, SC_ERR_IO, 0, "export: cannot rename %s to %s: %s", tmp, out_path,
                            strerror(errno)));
    if (x.rc != SC_OK)
        unlink(tmp);
    rc = x.rc;
out:
    if (x.s) {
        x.s->vt->rollback(x.s);
        x.s->vt->close(x.s);
    }
    sc_auditor_free(x.aud);
    free(key);
    free(origin);
    return rc;
}

int sd_cmd_export(int argc, char **argv)
{
    const char *data = NULL, *out = NULL;
    const sd_option opts[] = {{"data", &data, NULL}, {"out", &out, NULL}, {NULL, NULL, NULL}};
    int st = sd_cmdline_parse("export", argc, argv, opts, NULL, 0, NULL);
    if (st >= 0)
        return st;
    if (!data || !out)
        return sd_cmdline_fail("export", "--data DIR and --out FILE are needed");
    sd_export_report rep;
    sc_err err;
    if (sd_export_run(data, out, &rep, &err) != SC_OK) {
        fprintf(stderr, "syncd export: %s\n", err.msg);
        return 1;
    }
    char root[SC_HASH_HEX];
    sc_hex_encode(rep.root, SC_HASH_LEN, root, sizeof root);
    printf("wrote %s: %llu entries, %llu checkpoints, %llu entities, root %s\n", out,
           (unsigned long long)rep.entries, (unsigned long long)rep.checkpoints,
           (unsigned long long)rep.entities, root);
    return 0;
}
