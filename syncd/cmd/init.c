/*
 * init.c: `syncd init --data DIR [--origin NAME] [--store URL]`: a new
 * data directory with the register database (or, with --store, the
 * register's schema in that PostgreSQL database and DIR/store.conf naming
 * it), the server key (mode 0600) and the blob directory, and the first
 * checkpoint (the empty tree, size 0).
 *
 * It refuses any directory that exists and is not empty, so it can never
 * overwrite a register or a key.  When it fails half-way it removes what it
 * made, leaving the directory as it found it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/files.h"
#include "base/keyfile.h"
#include "commands.h"
#include "core/ids.h"
#include "core/keys.h"
#include "register/register.h"
#include "register/tlog.h"
#include "store/store.h"

#include <sodium.h>

static bool origin_ok(const char *o)
{
    size_t n = strlen(o);
    if (n == 0 || n >= SC_ORIGIN_MAX || !sc_utf8_valid(o, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)o[i] < 0x20 || o[i] == 0x7f)
            return false;
    /* The signature line is "— <origin> <sig>": a space would make the name ambiguous. */
    return strchr(o, ' ') == NULL;
}

sc_status sd_register_init(const char *data_dir, const char *origin, sc_err *err)
{
    return sd_register_init_at(data_dir, origin, NULL, err);
}

/* The data directory's own SQLite register and blob store. */
static void loc_sqlite(const char *data_dir, sd_store_loc *loc)
{
    memset(loc, 0, sizeof *loc);
    snprintf(loc->target, sizeof loc->target, "%s/register.db", data_dir);
    snprintf(loc->shown, sizeof loc->shown, "%s", loc->target);
    snprintf(loc->blobs, sizeof loc->blobs, "%s/blobs", data_dir);
}

/* The server key and origin in meta, and the first checkpoint, in one transaction. */
static sc_status first_rows(sd_store *s, const sc_env *env, const sc_keypair *kp,
                            const char *origin, sc_err *err)
{
    sc_status rc = s->vt->begin(s, true, err);
    if (rc == SC_OK)
        rc = s->vt->meta_put(s, "server_key", sc_keypair_public(kp), SC_KEY_LEN, err);
    if (rc == SC_OK)
        rc = s->vt->meta_put(s, "origin", origin, strlen(origin), err);
    if (rc == SC_OK) {
        sc_merkle_frontier f;
        sc_merkle_frontier_init(&f);
        rc = sd_tlog_checkpoint(s, env, kp, origin, &f, sc_env_now_ms(env), err);
    }
    if (rc == SC_OK)
        rc = s->vt->commit(s, err);
    else
        s->vt->rollback(s);
    return rc;
}

sc_status sd_register_init_at(const char *data_dir, const char *origin, const sd_store_loc *where,
                              sc_err *err)
{
    sc_err_clear(err);
    if (sc_crypto_init() != SC_OK)
        return sc_err_set(err, SC_ERR_CRYPTO, 0, "libsodium failed to initialise");
    if (!data_dir || !data_dir[0] || strlen(data_dir) >= SD_PATH_MAX)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "--data DIR is needed");
    if (origin && !origin_ok(origin))
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "the origin must be 1 to %d printable characters without spaces",
                          SC_ORIGIN_MAX - 1);
    sd_store_loc loc;
    if (where)
        loc = *where;
    else
        loc_sqlite(data_dir, &loc);
    char db[SD_PATH_MAX + 32], key[SD_PATH_MAX + 32], blobs[SD_PATH_MAX + 32];
    snprintf(db, sizeof db, "%s/register.db", data_dir);
    snprintf(key, sizeof key, "%s/server.key", data_dir);
    snprintf(blobs, sizeof blobs, "%s/blobs", data_dir);

    bool made_dir = false;
    struct stat sb;
    if (stat(data_dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode) || !sd_dir_empty(data_dir))
            return sc_err_set(err, SC_ERR_EXISTS, 0,
                              "%s exists and is not empty; init only makes a new data "
                              "directory",
                              data_dir);
        /* An empty directory made beforehand becomes what init would have made: the register
         * (every plan, secret ones too) and the key are the service user's alone. */
        if ((sb.st_mode & 0777) != 0700 && chmod(data_dir, 0700) != 0)
            return sc_err_set(err, SC_ERR_IO, 0, "cannot make %s private (mode 0700): %s",
                              data_dir, strerror(errno));
    } else if (mkdir(data_dir, 0700) != 0) {
        return sc_err_set(err, SC_ERR_IO, 0, "cannot create %s: %s", data_dir,
                          strerror(errno));
    } else {
        made_dir = true;
    }

    const sc_env *env = sd_env_system();
    sc_keypair *kp = NULL;
    sd_store *s = NULL;
    bool made_blobs = false, made_key = false;
    sc_status rc = SC_OK;
    if (!loc.shared_blobs && mkdir(blobs, 0700) != 0) {
        rc = sc_err_set(err, SC_ERR_IO, 0, "cannot create %s: %s", blobs, strerror(errno));
        goto fail;
    }
    made_blobs = !loc.shared_blobs;
    rc = sc_keypair_generate(env, &kp);
    if (rc != SC_OK) {
        sc_err_set(err, rc, 0, "cannot generate the server key");
        goto fail;
    }
    rc = sd_keyfile_write(env, key, kp, err);
    if (rc != SC_OK)
        goto fail;
    made_key = true;

    char gen[SC_ORIGIN_MAX];
    if (!origin) {
        char hex[2 * SC_KEY_LEN + 1];
        sc_hex_encode(sc_keypair_public(kp), SC_KEY_LEN, hex, sizeof hex);
        snprintf(gen, sizeof gen, "spotcheck/%.8s", hex);
        origin = gen;
    }
    rc = sd_store_open_at(&loc, true, &s, err);
    if (rc != SC_OK)
        goto fail;
    if ((rc = first_rows(s, env, kp, origin, err)) != SC_OK)
        goto fail;
    if (loc.pg && (rc = sd_store_conf_write(data_dir, &loc, err)) != SC_OK)
        goto fail;
    s->vt->close(s);
    sc_keypair_free(kp);
    sodium_memzero(loc.target, sizeof loc.target);
    return SC_OK;
fail:
    if (s)
        s->vt->close(s);
    sc_keypair_free(kp);
    sodium_memzero(loc.target, sizeof loc.target);
    if (!loc.pg && (s || access(db, F_OK) == 0)) {
        char side[SD_PATH_MAX + 40];
        unlink(db);
        snprintf(side, sizeof side, "%s-wal", db);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", db);
        unlink(side);
    }
    if (made_key)
        unlink(key);
    if (made_blobs)
        rmdir(blobs);
    if (made_dir)
        rmdir(data_dir);
    return rc;
}

int sd_cmd_init(int argc, char **argv)
{
    const char *data = NULL, *origin = NULL, *store = NULL, *blobs = NULL;
    const sd_option opts[] = {{"data", &data, NULL},
                              {"origin", &origin, NULL},
                              {"store", &store, NULL},
                              {"blobs", &blobs, NULL},
                              {NULL, NULL, NULL}};
    int st = sd_cmdline_parse("init", argc, argv, opts, NULL, 0, NULL);
    if (st >= 0)
        return st;
    if (!data)
        return sd_cmdline_fail("init", "--data DIR is needed");
    if (blobs && !store)
        return sd_cmdline_fail("init", "--blobs DIR goes with --store URL");
    sc_err err;
    sc_err_clear(&err);
    sd_store_loc loc;
    memset(&loc, 0, sizeof loc);
    if ((blobs && sd_store_loc_blobs(blobs, &loc, &err) != SC_OK) ||
        (store && sd_store_loc_url(store, &loc, &err) != SC_OK))
        return sd_cmdline_fail("init", "%s", err.msg);
    sc_status rc = sd_register_init_at(data, origin, store ? &loc : NULL, &err);
    sodium_memzero(loc.target, sizeof loc.target);
    if (rc != SC_OK) {
        fprintf(stderr, "syncd init: %s\n", err.msg);
        return 1;
    }
    sd_config cfg;
    sd_config_defaults(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
    sd_register *r = NULL;
    if (sd_register_open(&cfg, &r, &err) != SC_OK) {
        fprintf(stderr, "syncd init: made %s but cannot open it: %s\n", data, err.msg);
        return 1;
    }
    char hex[2 * SC_KEY_LEN + 1];
    sc_hex_encode(sd_register_server_key(r), SC_KEY_LEN, hex, sizeof hex);
    printf("initialised %s\norigin %s\nserver key %s\n", data, sd_register_origin(r), hex);
    sd_register_close(r);
    return 0;
}
