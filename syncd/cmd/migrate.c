/*
 * migrate.c: `syncd migrate --data DIR [--no-backup]`, which brings a
 * register written by an older syncd to this build's schema.
 *
 * With syncd stopped (the data directory's lock is taken, so a running
 * syncd of this build refuses to start meanwhile and a running one makes
 * this refuse), it copies DIR/register.db to DIR/register.vN.db (N the
 * version found) unless --no-backup, runs the steps of
 * store_sqlite_migrate.c with progress on stderr, and then audits the
 * whole register (audit.c) before saying it is done: the migration only
 * reorganises storage, so every signature, checkpoint and state must
 * verify as before.  Exit 0 when the register is at this version and
 * audits clean (also when there was nothing to do), 1 otherwise.
 *
 * A register in PostgreSQL (DIR/store.conf) migrates in the database
 * (store_pg_migrate.c) with every syncd on it stopped; its backup is the
 * operator's pg_dump or base backup (docs/operations.md), so there is no
 * copy to make here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "base/datalock.h"
#include "commands.h"
#include "core/keys.h"
#include "store/store.h"
#include "store/store_pg.h"

static void progress(void *ctx, const char *step, uint64_t done, uint64_t total)
{
    (void)ctx;
    if (strcmp(step, "back up the register") == 0) {
        if (done == 0)
            fprintf(stderr, "syncd migrate: backing up the register\n");
    } else if (strcmp(step, "schema version") == 0)
        fprintf(stderr, "syncd migrate: now at schema version %llu\n", (unsigned long long)done);
    else
        fprintf(stderr, "syncd migrate: %s: %llu of %llu\n", step, (unsigned long long)done,
                (unsigned long long)total);
}

/* The audit that closes a migration; 0 when it holds. */
static int audit_after(const char *data, const char *shown, const char *copy)
{
    sc_err err = {0};
    sd_audit_report rep;
    sc_status rc = sd_audit_run(data, &(sd_audit_opts){SD_AUDIT_REGISTER, NULL, NULL}, &rep, &err);
    if (rc != SC_OK) {
        fprintf(stderr, "syncd migrate: the audit after the migration failed: %s%s%s\n",
                rc == SC_ERR_REJECTED ? rep.problem : err.msg,
                copy ? "; the register before the migration is " : "", copy ? copy : "");
        return 1;
    }
    char root[2 * SC_HASH_LEN + 1], rh[2 * SC_HASH_LEN + 1];
    sodium_bin2hex(root, sizeof root, rep.root, SC_HASH_LEN);
    sodium_bin2hex(rh, sizeof rh, rep.replica_hash, SC_HASH_LEN);
    printf("migrated %s to schema version %d; the audit holds:\n", shown, SD_SCHEMA_VERSION);
    printf("  log entries checked:  %llu\n", (unsigned long long)rep.entries);
    printf("  checkpoints checked:  %llu\n", (unsigned long long)rep.checkpoints);
    printf("  Merkle nodes checked: %llu\n", (unsigned long long)rep.nodes);
    printf("  entities replayed:    %llu\n", (unsigned long long)rep.entities);
    printf("  root %s\n  replica hash %s\n", root, rh);
    return 0;
}

/* A register in PostgreSQL: its version, its steps in the database, the audit. */
static int migrate_pg(const char *data, const sd_store_loc *loc)
{
    sc_err err = {0};
    int version = 0, from = 0;
    if (sd_store_pg_version(loc->target, &version, &err) != SC_OK) {
        fprintf(stderr, "syncd migrate: %s\n", err.msg);
        return 1;
    }
    if (version == SD_SCHEMA_VERSION) {
        printf("%s has schema version %d: nothing to migrate\n", loc->shown, version);
        return 0;
    }
    printf("migrating %s from schema version %d to %d (back it up with pg_dump first)\n",
           loc->shown, version, SD_SCHEMA_VERSION);
    fflush(stdout);
    if (sd_store_pg_migrate(loc->target, &from, progress, NULL, &err) != SC_OK) {
        fprintf(stderr, "syncd migrate: %s\n", err.msg);
        return 1;
    }
    return audit_after(data, loc->shown, NULL);
}

int sd_cmd_migrate(int argc, char **argv)
{
    const char *data = NULL;
    bool no_backup = false;
    const sd_option opts[] = {
        {"data", &data, NULL}, {"no-backup", NULL, &no_backup}, {NULL, NULL, NULL}};
    int st = sd_cmdline_parse("migrate", argc, argv, opts, NULL, 0, NULL);
    if (st >= 0)
        return st;
    if (!data)
        return sd_cmdline_fail("migrate", "--data DIR is needed");
    bool backup = !no_backup;
    sc_err err = {0};
    if (sc_crypto_init() != SC_OK) {
        fprintf(stderr, "syncd migrate: libsodium did not initialise\n");
        return 1;
    }
    int lock = -1;
    if (sd_datalock_take(data, "migrate", &lock, &err) != SC_OK) {
        fprintf(stderr, "syncd migrate: %s\n", err.msg);
        return 1;
    }
    int status = 1;
    char db[4096], copy[4200];
    snprintf(db, sizeof db, "%s/register.db", data);
    int version = 0;
    sd_store_loc loc;
    if (sd_store_locate(data, &loc, &err) != SC_OK) {
        fprintf(stderr, "syncd migrate: %s\n", err.msg);
        goto out;
    }
    if (loc.pg) {
        status = migrate_pg(data, &loc);
        sodium_memzero(loc.target, sizeof loc.target);
        goto out;
    }
    if (sd_store_sqlite_version(db, &version, &err) != SC_OK) {
        fprintf(stderr, "syncd migrate: %s\n", err.msg);
        goto out;
    }
    if (version == SD_SCHEMA_VERSION) {
        printf("%s has schema version %d: nothing to migrate\n", db, version);
        status = 0;
        goto out;
    }
    snprintf(copy, sizeof copy, "%s/register.v%d.db", data, version);
    if (version < SD_SCHEMA_VERSION)
        printf("migrating %s from schema version %d to %d%s%s\n", db, version, SD_SCHEMA_VERSION,
               backup ? "; the register as it was goes to " : "", backup ? copy : "");
    fflush(stdout);
    int from = 0;
    if (sd_store_sqlite_migrate(db, backup ? copy : NULL, &from, progress, NULL, &err) != SC_OK) {
        fprintf(stderr, "syncd migrate: %s\n", err.msg);
        goto out;
    }
    status = audit_after(data, db, backup ? copy : NULL);
out:
    sd_datalock_release(lock);
    return status;
}
