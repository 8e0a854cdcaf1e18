/*
 * store_sqlite_schema.h: the SQLite register's schema, shared by
 * store_sqlite.c (which creates it in a new register) and
 * store_sqlite_migrate.c (which brings older registers to it).  A change
 * here is a new SD_SCHEMA_VERSION (store.h), a step in
 * store_sqlite_migrate.c, and a row in docs/operations.md ("Register
 * schema versions").
 */
#ifndef SD_STORE_SQLITE_SCHEMA_H
#define SD_STORE_SQLITE_SCHEMA_H

#include "store.h"

/*
 * One index on the log, by entity: it lists an entity's ops, and it
 * refuses the same op twice (an op id fixes its entity, so an op
 * logged again would repeat both).  Looking an op up by id alone is
 * never needed (the writer finds duplicates and deps among the
 * entity's ops, which it loads anyway), and an index on the random
 * op ids cost a random page write per logged op.
 */
#define SD_SQL_OPS_COLUMNS \
    "(" \
    " idx INTEGER PRIMARY KEY," \
    " op_id BLOB NOT NULL," \
    " entity BLOB NOT NULL," \
    " author BLOB NOT NULL," \
    " kind INTEGER NOT NULL," \
    " hlc INTEGER NOT NULL," \
    " received_ms INTEGER NOT NULL," \
    " signed BLOB NOT NULL," \
    " leaf_hash BLOB NOT NULL," \
    " UNIQUE(entity, op_id))"

/*
 * The photos ops name (docs/protocol.md §4.3: a photo is read only by those
 * who may see an op naming it): one row per photo and entity naming it,
 * with the log index of the entity's first op that did.  Keyed by the
 * photo, as every lookup is; an entity's ops name few photos, so the
 * table stays near the size of the photo store's index.
 */
#define SD_SQL_PHOTO_REFS                                                                          \
    "CREATE TABLE photo_refs("                                                                     \
    " sha BLOB NOT NULL,"                                                                          \
    " entity BLOB NOT NULL,"                                                                       \
    " idx INTEGER NOT NULL,"                                                                       \
    " PRIMARY KEY(sha, entity)) WITHOUT ROWID"

/*
 * When each device was last seen, and the client it named (its
 * User-Agent): operational facts, not in the log and not audited, written
 * by syncd serve at most once a minute per device (sync/seen.h).
 */
#define SD_SQL_DEVICE_SEEN                                                                         \
    "CREATE TABLE device_seen("                                                                    \
    " key BLOB PRIMARY KEY,"                                                                       \
    " seen_ms INTEGER NOT NULL,"                                                                   \
    " agent TEXT NOT NULL) WITHOUT ROWID"

/*
 * Webhook deliveries (syncd/notify): one row per event and hook, queued in
 * the transaction that logs the event's op, kept after delivery as the
 * delivery log (`syncd notify log`).  claim_until: a syncd delivering it
 * holds it until then.  This is the table as schema version 6 made it,
 * with its index of due rows, notify_due, which version 7 replaced
 * (SD_SQL_NOTIFY_PENDING).
 */
#define SD_SQL_NOTIFY                                                                              \
    "CREATE TABLE notify("                                                                         \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " event TEXT NOT NULL,"                                                                        \
    " hook TEXT NOT NULL,"                                                                         \
    " type TEXT NOT NULL,"                                                                         \
    " dedupe TEXT NOT NULL,"                                                                       \
    " body TEXT NOT NULL,"                                                                         \
    " created_ms INTEGER NOT NULL,"                                                                \
    " state INTEGER NOT NULL,"                                                                     \
    " attempts INTEGER NOT NULL DEFAULT 0,"                                                        \
    " next_ms INTEGER NOT NULL,"                                                                   \
    " claim_until INTEGER NOT NULL DEFAULT 0,"                                                     \
    " done_ms INTEGER NOT NULL DEFAULT 0,"                                                         \
    " last_code INTEGER NOT NULL DEFAULT 0,"                                                       \
    " last_error TEXT NOT NULL DEFAULT '',"                                                        \
    " UNIQUE(dedupe, hook));"                                                                      \
    "CREATE INDEX notify_due ON notify(next_ms) WHERE state = 0"

/*
 * Schema version 7: the pending rows by hook, then by when they are due.
 * Each hook's deliveries are counted (notify.queue_max, for every event
 * queued, in the writer's transaction) and claimed (by that hook's
 * delivering thread) in that hook's range of it alone: with notify_due, a
 * count of one hook's pending rows read every pending row of every hook
 * (61-72 ms with 100,000 pending, against 5-10 ms now), and a claim of one
 * hook's earliest due rows skipped past every other hook's.  Every query
 * of pending rows is served by it, so notify_due goes.
 */
#define SD_SQL_NOTIFY_PENDING                                                                      \
    "DROP INDEX notify_due;"                                                                       \
    "CREATE INDEX notify_pending ON notify(hook, next_ms, id) WHERE state = 0"

/* The whole schema of a new register, in one script. */
#define SD_SQL_SCHEMA                                                                              \
    "PRAGMA journal_mode=WAL;"                                                                     \
    "BEGIN;"                                                                                       \
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"                  \
    "CREATE TABLE ops" SD_SQL_OPS_COLUMNS ";"                                                      \
    "CREATE TABLE entities("                                                                       \
    " id BLOB PRIMARY KEY,"                                                                        \
    " type INTEGER NOT NULL,"                                                                      \
    " op_count INTEGER NOT NULL,"                                                                  \
    " last_idx INTEGER NOT NULL,"                                                                  \
    " state BLOB NOT NULL,"                                                                        \
    " state_hash BLOB NOT NULL,"                                                                   \
    " target BLOB,"                                                                                \
    " scope_org BLOB,"                                                                             \
    " vis_class INTEGER NOT NULL,"                                                                 \
    " released INTEGER NOT NULL DEFAULT 0,"                                                        \
    " inspection BLOB) WITHOUT ROWID;"                                                             \
    "CREATE INDEX entities_inspection ON entities(inspection) WHERE inspection IS NOT NULL;"       \
    "CREATE INDEX entities_type ON entities(type);"                                                \
    "CREATE TABLE codes("                                                                          \
    " kind INTEGER NOT NULL,"                                                                      \
    " code TEXT NOT NULL,"                                                                         \
    " version INTEGER NOT NULL,"                                                                   \
    " entity BLOB NOT NULL REFERENCES entities(id) DEFERRABLE INITIALLY DEFERRED,"                 \
    " PRIMARY KEY(kind, code, version)) WITHOUT ROWID;"                                            \
    "CREATE TABLE devices("                                                                        \
    " key BLOB PRIMARY KEY,"                                                                       \
    " device BLOB NOT NULL UNIQUE REFERENCES entities(id) DEFERRABLE INITIALLY DEFERRED,"          \
    " user BLOB NOT NULL,"                                                                         \
    " enrolled_idx INTEGER NOT NULL,"                                                              \
    " revoked_idx INTEGER) WITHOUT ROWID;"                                                         \
    "CREATE TABLE assignees("                                                                      \
    " assignment BLOB NOT NULL REFERENCES entities(id) DEFERRABLE INITIALLY DEFERRED,"             \
    " user BLOB NOT NULL,"                                                                         \
    " PRIMARY KEY(assignment, user)) WITHOUT ROWID;"                                               \
    "CREATE TABLE enroll_codes("                                                                   \
    " hash BLOB PRIMARY KEY,"                                                                      \
    " user BLOB NOT NULL,"                                                                         \
    " created_ms INTEGER NOT NULL,"                                                                \
    " expires_ms INTEGER NOT NULL,"                                                                \
    " used_ms INTEGER,"                                                                            \
    " device BLOB,"                                                                                \
    " revoked_ms INTEGER) WITHOUT ROWID;"                                                          \
    "CREATE TABLE merkle("                                                                         \
    " level INTEGER NOT NULL,"                                                                     \
    " idx INTEGER NOT NULL,"                                                                       \
    " hash BLOB NOT NULL,"                                                                         \
    " PRIMARY KEY(level, idx)) WITHOUT ROWID;"                                                     \
    "CREATE TABLE checkpoints("                                                                    \
    " size INTEGER PRIMARY KEY,"                                                                   \
    " root BLOB NOT NULL,"                                                                         \
    " time_ms INTEGER NOT NULL,"                                                                   \
    " note TEXT NOT NULL);"                                                                        \
    "CREATE TABLE releases("                                                                       \
    " seq INTEGER PRIMARY KEY,"                                                                    \
    " entity BLOB NOT NULL,"                                                                       \
    " idx INTEGER NOT NULL REFERENCES ops(idx));" SD_SQL_PHOTO_REFS ";" SD_SQL_DEVICE_SEEN ";" SD_SQL_NOTIFY ";"     \
    SD_SQL_NOTIFY_PENDING ";"                                                                      \
    "COMMIT;"

/*
 * Compare db's schema with the one SD_SQL_SCHEMA makes (store_sqlite_check.c):
 * problem gets the first object or column that differs, or "" when none does.
 */
struct sqlite3;
sc_status sd_sqlite_schema_check(struct sqlite3 *db, const char *path, char *problem, size_t cap,
                                 sc_err *err);

#endif
