/*
 * store_pg.h: the PostgreSQL backend's entry points (store_pg.c,
 * store_pg_migrate.c) and the helpers that keep a URL's password out of
 * every message (store_open.c).  Callers open a data directory's register
 * through store.h (sd_store_locate, sd_store_open_at), which picks the
 * backend.
 */
#ifndef SD_STORE_PG_H
#define SD_STORE_PG_H

#include <stddef.h>

#include "store.h"

/*
 * Open the register in the PostgreSQL database at url (a libpq URL,
 * postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE).  create: make the
 * schema in a database that holds none (SC_ERR_EXISTS when it does);
 * otherwise the schema must be there at SD_SCHEMA_VERSION.
 */
sc_status sd_store_pg_open(const char *url, bool create, sd_store **out, sc_err *err);
/* Connect only, checking nothing (sd_store_pg_migrate, which reads an older schema). */
sc_status sd_store_pg_connect(const char *url, sd_store **out, sc_err *err);
/* The URL without its password, as the connection's messages name it. */
const char *sd_store_pg_shown(sd_store *s);
/* Run a script of plain SQL on s (a migration step's, inside its transaction). */
sc_status sd_store_pg_exec(sd_store *s, const char *script, sc_err *err);

/* The schema version of the register at url (meta schema_version). */
sc_status sd_store_pg_version(const char *url, int *version, sc_err *err);
/*
 * Bring the register at url to SD_SCHEMA_VERSION, each step in one
 * transaction under the write lock (so no syncd writes meanwhile); *from
 * is the version found.  A backup is the operator's (pg_dump, docs/
 * operations.md).
 */
sc_status sd_store_pg_migrate(const char *url, int *from, sd_store_progress progress, void *ctx,
                              sc_err *err);

/*
 * Split a PostgreSQL URL into what may be shown (the URL without the
 * password, whether in the user part or a password= parameter) and the
 * password itself (empty when there is none).  Both are cut to their caps.
 */
void sd_pg_url_parts(const char *url, char *shown, size_t shown_cap, char *secret,
                     size_t secret_cap);
/* msg on one line into out, with every occurrence of secret (when not empty) as "***". */
void sd_pg_scrub(const char *msg, const char *secret, char *out, size_t cap);

#endif
