/*
 * store_open.c: which backend holds a data directory's register, opening
 * it there, and the version check both backends share; and keeping a
 * PostgreSQL URL's password out of every message (store_pg.h).
 *
 * DIR/store.conf is one setting, `store = postgresql://...`: the data
 * directory of each syncd on a shared register is a copy of the one
 * `syncd init --store` made, holding the server key and this file.  It is
 * written mode 0600 and never printed whole: messages name the URL
 * without its password.
 */
#include "store.h"
#include "store_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/reason.h"

static bool pg_scheme(const char *url, size_t *len)
{
    static const char *const schemes[] = {"postgresql://", "postgres://"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(schemes[i]);
        if (strncmp(url, schemes[i], n) == 0) {
            *len = n;
            return true;
        }
    }
    return false;
}

/* Append n bytes of s to out (cap), keeping it terminated; cut when full. */
static void put(char *out, size_t cap, size_t *at, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *at + 1 < cap; i++)
        out[(*at)++] = s[i];
    if (cap)
        out[*at < cap ? *at : cap - 1] = '\0';
}

/* The query part without any password= parameter, into out; the password into secret. */
static void strip_query(const char *q, char *out, size_t cap, size_t *at, char *secret,
                        size_t scap)
{
    bool first = true;
    while (*q) {
        size_t n = strcspn(q, "&");
        if (n >= 9 && strncmp(q, "password=", 9) == 0) {
            if (!secret[0])
                snprintf(secret, scap, "%.*s", (int)(n - 9), q + 9);
        } else if (n) {
            put(out, cap, at, first ? "?" : "&", 1);
            put(out, cap, at, q, n);
            first = false;
        }
        q += n + (q[n] == '&');
    }
}

void sd_pg_url_parts(const char *url, char *shown, size_t shown_cap, char *secret,
                     size_t secret_cap)
{
    size_t at = 0, scheme = 0;
    if (shown_cap)
        shown[0] = '\0';
    if (secret_cap)
        secret[0] = '\0';
    if (!pg_scheme(url, &scheme)) {
        /* Not a URL: show nothing of it (it may be key=value text with a password). */
        put(shown, shown_cap, &at, "(a PostgreSQL connection string)", 32);
        return;
    }
    put(shown, shown_cap, &at, url, scheme);
    const char *auth = url + scheme;
    size_t alen = strcspn(auth, "/?");
    const char *atsign = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            atsign = auth + i;
    const char *host = auth;
    if (atsign) {
        size_t ulen = (size_t)(atsign - auth);
        const char *colon = memchr(auth, ':', ulen);
        size_t name = colon ? (size_t)(colon - auth) : ulen;
        if (colon)
            snprintf(secret, secret_cap, "%.*s", (int)(ulen - name - 1), colon + 1);
        put(shown, shown_cap, &at, auth, name);
        put(shown, shown_cap, &at, "@", 1);
        host = atsign + 1;
    }
    size_t rest = strcspn(host, "?");
    put(shown, shown_cap, &at, host, rest);
    if (host[rest] == '?')
        strip_query(host + rest + 1, shown, shown_cap, &at, secret, secret_cap);
}

void sd_pg_scrub(const char *msg, const char *secret, char *out, size_t cap)
{
    size_t at = 0, sl = secret ? strlen(secret) : 0;
    if (cap)
        out[0] = '\0';
    for (const char *p = msg ? msg : ""; *p;) {
        if (sl && strncmp(p, secret, sl) == 0) {
            put(out, cap, &at, "***", 3);
            p += sl;
            continue;
        }
        char c = *p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p;
        put(out, cap, &at, &c, 1);
        p++;
    }
    while (at > 0 && out[at - 1] == ' ')
        out[--at] = '\0';
}

sc_status sd_store_loc_blobs(const char *dir, sd_store_loc *loc, sc_err *err)
{
    size_t n = dir ? strlen(dir) : 0;
    if (!n || dir[0] != '/' || n >= sizeof loc->blobs - 64)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "blobs: an absolute directory path is needed (at most %zu bytes)",
                          sizeof loc->blobs - 65);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)dir[i] < 0x20 || dir[i] == 0x7f)
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "blobs: the path has a control character");
    memcpy(loc->blobs, dir, n + 1);
    loc->shared_blobs = true;
    return SC_OK;
}

sc_status sd_store_loc_url(const char *url, sd_store_loc *loc, sc_err *err)
{
    size_t scheme = 0;
    size_t n = url ? strlen(url) : 0;
    if (!url || !pg_scheme(url, &scheme) || n == scheme)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "--store: a PostgreSQL URL is needed (postgresql://USER@HOST:PORT/DB)");
    if (n >= SC_STORE_URL_MAX)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "--store: the URL is longer than %d bytes",
                          SC_STORE_URL_MAX - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                              "--store: the URL has a space or a control character (percent-"
                              "encode it)");
    loc->pg = true;
    memcpy(loc->target, url, n + 1);
    if (!loc->shared_blobs)
        loc->blobs[0] = '\0';
    char secret[SC_STORE_URL_MAX];
    sd_pg_url_parts(url, loc->shown, sizeof loc->shown, secret, sizeof secret);
    return SC_OK;
}

/* One setting of a store.conf line (store, once; blobs, at most once); blank lines and comments pass. */
static sc_status conf_line(char *line, const char *path, int no, sd_store_loc *loc, bool *got,
                           sc_err *err)
{
    char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    if (!n || *s == '#')
        return SC_OK;
    char *eq = strchr(s, '=');
    size_t kl = eq ? (size_t)(eq - s) : 0;
    while (kl && (s[kl - 1] == ' ' || s[kl - 1] == '\t'))
        kl--;
    bool is_store = eq && kl == 5 && strncmp(s, "store", 5) == 0 && !*got;
    bool is_blobs = eq && kl == 5 && strncmp(s, "blobs", 5) == 0 && !loc->shared_blobs;
    if (!is_store && !is_blobs)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "%s line %d: only `store = postgresql://...` and `blobs = /PATH` belong "
                          "here, each once",
                          path, no);
    char *v = eq + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    sc_status rc = is_store ? sd_store_loc_url(v, loc, err) : sd_store_loc_blobs(v, loc, err);
    if (rc != SC_OK)
        return sc_err_set(err, rc, 0, "%s line %d: %s", path, no, err->msg);
    *got = *got || is_store;
    return SC_OK;
}

sc_status sd_store_locate(const char *data_dir, sd_store_loc *loc, sc_err *err)
{
    memset(loc, 0, sizeof *loc);
    char path[sizeof loc->target];
    snprintf(path, sizeof path, "%s/%s", data_dir, SD_STORE_CONF);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno != ENOENT)
            return sc_err_set(err, SC_ERR_IO, 0, "cannot read %s: %s", path, strerror(errno));
        snprintf(loc->target, sizeof loc->target, "%s/register.db", data_dir);
        snprintf(loc->shown, sizeof loc->shown, "%s", loc->target);
        snprintf(loc->blobs, sizeof loc->blobs, "%s/blobs", data_dir);
        return SC_OK;
    }
    char line[SC_STORE_URL_MAX + 64];
    bool got = false;
    sc_status rc = SC_OK;
    for (int no = 1; rc == SC_OK && fgets(line, sizeof line, f); no++) {
        if (!strchr(line, '\n') && !feof(f))
            rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "%s line %d: too long", path, no);
        else
            rc = conf_line(line, path, no, loc, &got, err);
    }
    fclose(f);
    sodium_memzero(line, sizeof line);
    if (rc == SC_OK && !got)
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "%s names no store (`store = postgresql://...`)",
                        path);
    if (rc == SC_OK && !loc->shared_blobs)
        snprintf(loc->blobs, sizeof loc->blobs, "%s/blobs", data_dir);
    return rc;
}

sc_status sd_store_conf_write(const char *data_dir, const sd_store_loc *loc, sc_err *err)
{
    char path[sizeof loc->target];
    snprintf(path, sizeof path, "%s/%s", data_dir, SD_STORE_CONF);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return sc_err_set(err, SC_ERR_IO, 0, "cannot create %s: %s", path, strerror(errno));
    static const char head[] = "# The register of this data directory (syncd init --store).\n"
                               "store = ";
    bool ok = write(fd, head, sizeof head - 1) == (ssize_t)(sizeof head - 1);
    size_t n = strlen(loc->target);
    ok = ok && write(fd, loc->target, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
    if (loc->shared_blobs) {
        static const char blobs[] = "# The photos, shared by every syncd on the register.\nblobs = ";
        n = strlen(loc->blobs);
        ok = ok && write(fd, blobs, sizeof blobs - 1) == (ssize_t)(sizeof blobs - 1) &&
             write(fd, loc->blobs, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
    }
    ok = ok && fsync(fd) == 0;
    int e = errno;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(path);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot write %s: %s", path, strerror(e));
    }
    return SC_OK;
}

sc_status sd_store_open_at(const sd_store_loc *loc, bool create, sd_store **out, sc_err *err)
{
    return loc->pg ? sd_store_pg_open(loc->target, create, out, err)
                   : sd_store_sqlite_open(loc->target, create, out, err);
}

sc_status sd_store_open_dir(const char *data_dir, sd_store **out, sc_err *err)
{
    *out = NULL;
    sd_store_loc loc;
    sc_status rc = sd_store_locate(data_dir, &loc, err);
    if (rc == SC_OK)
        rc = sd_store_open_at(&loc, false, out, err);
    sodium_memzero(loc.target, sizeof loc.target);
    return rc;
}

sc_status sd_store_check_version(sd_store *s, const char *shown, sc_err *err)
{
    uint8_t *v = NULL;
    size_t n = 0;
    sc_status rc = s->vt->meta_get(s, "schema_version", &v, &n, err);
    if (rc == SC_OK) {
        char want[16];
        snprintf(want, sizeof want, "%d", SD_SCHEMA_VERSION);
        if (n != strlen(want) || memcmp(v, want, n) != 0)
            rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                            "register %s has schema version %.*s; this syncd reads version "
                            "%s: stop syncd and run `syncd migrate --data DIR` (docs/"
                            "operations.md, \"Register schema versions\")",
                            shown, (int)(n > 8 ? 8 : n), (const char *)v, want);
    } else if (rc == SC_ERR_NOT_FOUND || rc == SC_ERR_STORAGE) {
        rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "%s is not a Spotcheck register",
                        shown);
    }
    free(v);
    return rc;
}
