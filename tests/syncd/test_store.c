/*
 * test_store.c: the backends of store.h on their own, each test run once
 * per backend (the loop index _i: 0 SQLite, 1 PostgreSQL on a real server,
 * tests/support/sctest_pg.h): creating and opening (schema version,
 * missing and existing registers), transactions that roll back, the log,
 * entities in id order, unique codes, devices, enrollment codes that are
 * used once, Merkle nodes, checkpoints, release events and the pull join;
 * two connections whose write transactions wait for each other and see
 * each other's commits; scans longer than a cursor's fetch that stop early
 * and call the store from their callback.
 */
#include "regfix.h"

#include <pthread.h>
#include <sqlite3.h>

#include "sctest_pg.h"
#include "store/store.h"
#include "store/store_pg.h"

enum { B_SQLITE, B_PG };

typedef struct sf {
    int backend;
    char tmp[256];
    char path[300];      /* SQLite: the file; PostgreSQL: the database's URL */
    sd_store *s;
} sf;

/* Open (or create) the register of x on its backend. */
static sc_status sf_store(const sf *x, const char *at, bool create, sd_store **out, sc_err *err)
{
    return x->backend == B_PG ? sd_store_pg_open(at, create, out, err)
                              : sd_store_sqlite_open(at, create, out, err);
}

static void sf_open(sf *x, int backend)
{
    memset(x, 0, sizeof *x);
    x->backend = backend;
    sct_tempdir(x->tmp, sizeof x->tmp);
    if (backend == B_PG)
        sct_pg_newdb(x->path, sizeof x->path);
    else
        snprintf(x->path, sizeof x->path, "%s/register.db", x->tmp);
    sc_err err;
    sc_err_clear(&err);
    ck_assert_msg(sf_store(x, x->path, true, &x->s, &err) == SC_OK, "%s", err.msg);
}

static void sf_close(sf *x)
{
    if (x->s)
        x->s->vt->close(x->s);
    sct_rmtree(x->tmp);
}

static void id_of(uint8_t *out, size_t n, uint8_t v)
{
    memset(out, v, n);
}

/* entity_ops callback: keep the last row (signed bytes dropped) and count. */
typedef struct op_seen {
    sd_op_row last;
    size_t n;
} op_seen;

static bool see_op(void *ctx, const sd_op_row *row)
{
    op_seen *o = ctx;
    o->last = *row;
    o->last.signed_op = NULL;
    o->n++;
    return true;
}

START_TEST(create_and_open)
{
    sf x;
    sf_open(&x, _i);
    sc_err err;
    sd_store *other = NULL;
    ck_assert_int_eq(sf_store(&x, x.path, true, &other, &err), SC_ERR_EXISTS);
    ck_assert_int_eq(sf_store(&x, x.path, false, &other, &err), SC_OK);
    other->vt->close(other);
    char missing[300];
    if (x.backend == B_PG)
        sct_pg_newdb(missing, sizeof missing); /* a database holding no register */
    else
        snprintf(missing, sizeof missing, "%s/none.db", x.tmp);
    ck_assert_int_eq(sf_store(&x, missing, false, &other, &err), SC_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "syncd init"));
    /* Another schema version is refused. */
    ck_assert_int_eq(x.s->vt->meta_put(x.s, "schema_version", "99", 2, &err), SC_OK);
    ck_assert_int_eq(sf_store(&x, x.path, false, &other, &err), SC_ERR_STORAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "schema version 99"));
    sf_close(&x);
}
END_TEST

START_TEST(log_entities_and_rollback)
{
    sf x;
    sf_open(&x, _i);
    sd_store *s = x.s;
    sc_err err;
    uint64_t n;
    ck_assert_int_eq(s->vt->log_size(s, &n, &err), SC_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(s->vt->begin(s, true, &err), SC_OK);
    sd_op_row op;
    memset(&op, 0, sizeof op);
    id_of(op.op_id, SC_HASH_LEN, 1);
    id_of(op.entity, SC_ID_LEN, 9);
    op.hlc = 77;
    op.signed_op = (const uint8_t *)"bytes";
    op.signed_len = 5;
    ck_assert_int_eq(s->vt->op_append(s, &op, &err), SC_OK);
    sd_entity_row e;
    memset(&e, 0, sizeof e);
    id_of(e.id, SC_ID_LEN, 9);
    e.type = 2;
    e.op_count = 1;
    e.state = (uint8_t *)"st";
    e.state_len = 2;
    e.has_scope = true;
    id_of(e.scope_org, SC_ID_LEN, 3);
    ck_assert_int_eq(s->vt->entity_put(s, &e, &err), SC_OK);
    ck_assert_int_eq(s->vt->commit(s, &err), SC_OK);

    op_seen got = {0};
    ck_assert_int_eq(s->vt->entity_ops(s, op.entity, see_op, &got, &err), SC_OK);
    ck_assert_uint_eq(got.n, 1);
    ck_assert_uint_eq(got.last.hlc, 77);
    ck_assert_mem_eq(got.last.op_id, op.op_id, SC_HASH_LEN);
    sd_entity_row ge;
    ck_assert_int_eq(s->vt->entity_get(s, e.id, true, &ge, &err), SC_OK);
    ck_assert_uint_eq(ge.state_len, 2);
    ck_assert_mem_eq(ge.state, "st", 2);
    ck_assert(ge.has_scope && !ge.has_target);
    free(ge.state);

    /* A rolled-back transaction leaves nothing. */
    ck_assert_int_eq(s->vt->begin(s, true, &err), SC_OK);
    op.idx = 1;
    id_of(op.op_id, SC_HASH_LEN, 2);
    ck_assert_int_eq(s->vt->op_append(s, &op, &err), SC_OK);
    s->vt->rollback(s);
    ck_assert_int_eq(s->vt->log_size(s, &n, &err), SC_OK);
    ck_assert_uint_eq(n, 1);
    got.n = 0;
    ck_assert_int_eq(s->vt->entity_ops(s, op.entity, see_op, &got, &err), SC_OK);
    ck_assert_uint_eq(got.n, 1);
    /* The same op id twice is a storage error (a constraint), never a silent overwrite. */
    id_of(op.op_id, SC_HASH_LEN, 1);
    ck_assert_int_eq(s->vt->op_append(s, &op, &err), SC_ERR_STORAGE);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_STORAGE);
    sf_close(&x);
}
END_TEST

START_TEST(codes_devices_and_enrollment)
{
    sf x;
    sf_open(&x, _i);
    sd_store *s = x.s;
    sc_err err;
    uint8_t ent[SC_ID_LEN], found[SC_ID_LEN];
    id_of(ent, SC_ID_LEN, 5);
    ck_assert_int_eq(s->vt->begin(s, true, &err), SC_OK);
    ck_assert_int_eq(s->vt->code_put(s, 5, "wuyi", 1, ent, &err), SC_OK);
    ck_assert_int_eq(s->vt->code_put(s, 5, "wuyi", 2, ent, &err), SC_OK);
    ck_assert_int_eq(s->vt->code_find(s, 5, "wuyi", 2, found, &err), SC_OK);
    ck_assert_int_eq(s->vt->code_find(s, 5, "wuyi", 3, found, &err), SC_ERR_NOT_FOUND);

    sd_device_row d;
    memset(&d, 0, sizeof d);
    id_of(d.key, SC_KEY_LEN, 7);
    id_of(d.device, SC_ID_LEN, 8);
    d.enrolled_idx = 4;
    ck_assert_int_eq(s->vt->device_put(s, &d, &err), SC_OK);
    ck_assert_int_eq(s->vt->device_revoke(s, d.device, 10, &err), SC_OK);
    ck_assert_int_eq(s->vt->device_revoke(s, d.device, 12, &err), SC_OK);
    sd_device_row g;
    ck_assert_int_eq(s->vt->device_get(s, d.key, &g, &err), SC_OK);
    ck_assert(g.revoked);
    ck_assert_uint_eq(g.revoked_idx, 10); /* the first revocation counts */

    sd_enroll_row en;
    memset(&en, 0, sizeof en);
    id_of(en.hash, SC_HASH_LEN, 3);
    en.expires_ms = 100;
    ck_assert_int_eq(s->vt->enroll_put(s, &en, &err), SC_OK);
    ck_assert_int_eq(s->vt->enroll_use(s, en.hash, 50, d.device, &err), SC_OK);
    ck_assert_int_eq(s->vt->enroll_use(s, en.hash, 51, d.device, &err), SC_ERR_NOT_FOUND);
    sd_enroll_row ge;
    ck_assert_int_eq(s->vt->enroll_get(s, en.hash, &ge, &err), SC_OK);
    ck_assert(ge.used);
    ck_assert_int_eq(ge.used_ms, 50);
    /* The code and device rows reference entities: committing without them is refused. */
    ck_assert_int_eq(s->vt->commit(s, &err), SC_ERR_STORAGE);
    s->vt->rollback(s);
    /* A code taken twice is refused (after which the transaction only rolls back: store.h). */
    ck_assert_int_eq(s->vt->begin(s, true, &err), SC_OK);
    ck_assert_int_eq(s->vt->code_put(s, 5, "wuyi", 1, ent, &err), SC_OK);
    ck_assert_int_eq(s->vt->code_put(s, 5, "wuyi", 1, ent, &err), SC_ERR_STORAGE);
    s->vt->rollback(s);
    ck_assert_int_eq(s->vt->code_find(s, 5, "wuyi", 1, found, &err), SC_ERR_NOT_FOUND);
    sf_close(&x);
}
END_TEST

static bool count_pull(void *ctx, const sd_pull_row *r)
{
    size_t *n = ctx;
    ck_assert_int_eq(r->vis_class, SD_VIS_INSPECTION);
    (*n)++;
    return true;
}

START_TEST(nodes_checkpoints_releases_pull)
{
    sf x;
    sf_open(&x, _i);
    sd_store *s = x.s;
    sc_err err;
    uint8_t h[SC_HASH_LEN], g[SC_HASH_LEN];
    id_of(h, SC_HASH_LEN, 0x42);
    ck_assert_int_eq(s->vt->begin(s, true, &err), SC_OK);
    ck_assert_int_eq(s->vt->node_put(s, 3, 5, h, &err), SC_OK);
    ck_assert_int_eq(s->vt->node_get(s, 3, 5, g, &err), SC_OK);
    ck_assert_mem_eq(g, h, SC_HASH_LEN);
    ck_assert_int_eq(s->vt->node_get(s, 3, 6, g, &err), SC_ERR_NOT_FOUND);

    sd_checkpoint_row cp;
    memset(&cp, 0, sizeof cp);
    cp.note = "a";
    cp.note_len = 1;
    ck_assert_int_eq(s->vt->checkpoint_put(s, &cp, &err), SC_OK);
    cp.size = 2;
    cp.note = "b";
    ck_assert_int_eq(s->vt->checkpoint_put(s, &cp, &err), SC_OK);
    char *note = NULL;
    sd_checkpoint_row last;
    ck_assert_int_eq(s->vt->checkpoint_latest(s, &last, &note, &err), SC_OK);
    ck_assert_uint_eq(last.size, 2);
    ck_assert_str_eq(note, "b");
    free(note);

    /* Two ops of an inspection, released; the pull joins ops, entities and releases. */
    sd_entity_row e;
    memset(&e, 0, sizeof e);
    id_of(e.id, SC_ID_LEN, 9);
    e.type = 7;
    e.vis_class = SD_VIS_INSPECTION;
    e.state = (uint8_t *)"x";
    e.state_len = 1;
    ck_assert_int_eq(s->vt->entity_put(s, &e, &err), SC_OK);
    for (uint64_t i = 0; i < 2; i++) {
        sd_op_row op;
        memset(&op, 0, sizeof op);
        op.idx = i;
        id_of(op.op_id, SC_HASH_LEN, (uint8_t)(i + 1));
        memcpy(op.entity, e.id, SC_ID_LEN);
        op.signed_op = (const uint8_t *)"z";
        op.signed_len = 1;
        ck_assert_int_eq(s->vt->op_append(s, &op, &err), SC_OK);
    }
    uint64_t seq;
    ck_assert_int_eq(s->vt->release_next_seq(s, &seq, &err), SC_OK);
    ck_assert_uint_eq(seq, 0);
    ck_assert_int_eq(s->vt->release_put(s, 0, e.id, 0, &err), SC_OK);
    ck_assert_int_eq(s->vt->release_next_seq(s, &seq, &err), SC_OK);
    ck_assert_uint_eq(seq, 1);
    ck_assert_int_eq(s->vt->commit(s, &err), SC_OK);
    size_t n = 0;
    ck_assert_int_eq(s->vt->pull_log(s, 0, count_pull, &n, &err), SC_OK);
    ck_assert_uint_eq(n, 2);
    n = 0;
    ck_assert_int_eq(s->vt->pull_releases(s, 0, count_pull, &n, &err), SC_OK);
    ck_assert_uint_eq(n, 1);
    n = 0;
    ck_assert_int_eq(s->vt->pull_log(s, 2, count_pull, &n, &err), SC_OK);
    ck_assert_uint_eq(n, 0);
    sf_close(&x);
}
END_TEST

typedef struct waiter {
    sd_store *s;
    uint64_t size_seen;   /* the log size its write transaction saw */
    sc_status rc;
} waiter;

static void *wait_to_write(void *arg)
{
    waiter *w = arg;
    sc_err err;
    w->rc = w->s->vt->begin(w->s, true, &err);
    if (w->rc == SC_OK)
        w->rc = w->s->vt->log_size(w->s, &w->size_seen, &err);
    if (w->rc == SC_OK)
        w->rc = w->s->vt->commit(w->s, &err);
    return NULL;
}

static void append_op(sd_store *s, uint64_t idx)
{
    sd_op_row op;
    memset(&op, 0, sizeof op);
    op.idx = idx;
    memcpy(op.op_id, &idx, sizeof idx);
    id_of(op.entity, SC_ID_LEN, 9);
    op.signed_op = (const uint8_t *)"op";
    op.signed_len = 2;
    sc_err err;
    ck_assert_msg(s->vt->op_append(s, &op, &err) == SC_OK, "%s", err.msg);
}

/*
 * Two connections (two syncd, with PostgreSQL): a write transaction waits
 * for the other's to end and then sees its commit (the log stays one
 * sequence), and data_version changes for the one that did not commit.
 */
START_TEST(two_connections_serialize_writes)
{
    sf x;
    sf_open(&x, _i);
    sc_err err;
    sd_store *b = NULL;
    ck_assert_int_eq(sf_store(&x, x.path, false, &b, &err), SC_OK);
    int64_t va0, vb0, va1, vb1;
    ck_assert_int_eq(x.s->vt->data_version(x.s, &va0, &err), SC_OK);
    ck_assert_int_eq(b->vt->data_version(b, &vb0, &err), SC_OK);

    ck_assert_int_eq(x.s->vt->begin(x.s, true, &err), SC_OK);
    waiter w = {b, 0, SC_ERR_INTERNAL};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, wait_to_write, &w), 0);
    usleep(300 * 1000); /* b is waiting for the write lock meanwhile */
    append_op(x.s, 0);
    ck_assert_int_eq(x.s->vt->commit(x.s, &err), SC_OK);
    pthread_join(th, NULL);
    ck_assert_int_eq(w.rc, SC_OK);
    ck_assert_uint_eq(w.size_seen, 1); /* b's transaction began after a's commit */

    ck_assert_int_eq(x.s->vt->data_version(x.s, &va1, &err), SC_OK);
    ck_assert_int_eq(b->vt->data_version(b, &vb1, &err), SC_OK);
    ck_assert(vb1 != vb0); /* a committed: b sees a change */
    ck_assert_int_eq(x.s->vt->data_version(x.s, &va0, &err), SC_OK);
    ck_assert_int_eq(va0, va1); /* nothing since */
    ck_assert_int_eq(b->vt->data_version(b, &vb0, &err), SC_OK);
    ck_assert_int_eq(vb0, vb1); /* nothing since */
    b->vt->close(b);
    sf_close(&x);
}
END_TEST

typedef struct scan_ctx {
    sd_store *s;
    uint64_t n, stop_at;
    uint64_t size_inside;
} scan_ctx;

static bool count_and_ask(void *ctx, const sd_op_row *row)
{
    scan_ctx *c = ctx;
    ck_assert_uint_eq(row->idx, c->n);
    ck_assert_uint_eq(row->signed_len, 2);
    c->n++;
    if (c->n == 5) {
        /* The store answers other calls in the middle of a scan. */
        sc_err err;
        uint8_t leaf[SC_HASH_LEN];
        ck_assert_int_eq(c->s->vt->log_size(c->s, &c->size_inside, &err), SC_OK);
        ck_assert_int_eq(c->s->vt->leaf_get(c->s, 3, leaf, &err), SC_OK);
    }
    return c->n < c->stop_at;
}

/* A scan longer than a cursor's fetch (SC_PG_FETCH_ROWS) goes to the end, or stops where asked. */
START_TEST(long_scans_stop_early)
{
    sf x;
    sf_open(&x, _i);
    sc_err err;
    uint64_t total = 2 * SC_PG_FETCH_ROWS + 17;
    ck_assert_int_eq(x.s->vt->begin(x.s, true, &err), SC_OK);
    for (uint64_t i = 0; i < total; i++)
        append_op(x.s, i);
    ck_assert_int_eq(x.s->vt->commit(x.s, &err), SC_OK);
    scan_ctx c = {x.s, 0, UINT64_MAX, 0};
    ck_assert_int_eq(x.s->vt->op_scan(x.s, 0, UINT64_MAX, count_and_ask, &c, &err), SC_OK);
    ck_assert_uint_eq(c.n, total);
    ck_assert_uint_eq(c.size_inside, total);
    c = (scan_ctx){x.s, 0, SC_PG_FETCH_ROWS + 3, 0};
    ck_assert_int_eq(x.s->vt->op_scan(x.s, 0, UINT64_MAX, count_and_ask, &c, &err), SC_OK);
    ck_assert_uint_eq(c.n, SC_PG_FETCH_ROWS + 3);
    /* Inside a read transaction too, and the connection is usable after. */
    ck_assert_int_eq(x.s->vt->begin(x.s, false, &err), SC_OK);
    c = (scan_ctx){x.s, 0, 10, 0};
    ck_assert_int_eq(x.s->vt->op_scan(x.s, 0, UINT64_MAX, count_and_ask, &c, &err), SC_OK);
    ck_assert_uint_eq(c.n, 10);
    ck_assert_int_eq(x.s->vt->commit(x.s, &err), SC_OK);
    uint64_t n = 0;
    ck_assert_int_eq(x.s->vt->log_size(x.s, &n, &err), SC_OK);
    ck_assert_uint_eq(n, total);
    sf_close(&x);
}
END_TEST

static Suite *suite(int backends)
{
    Suite *s = suite_create("syncd/store");
    const sct_case cases[] = {
        {"create and open", create_and_open},
        {"log, entities, rollback", log_entities_and_rollback},
        {"codes, devices, enrollment", codes_devices_and_enrollment},
        {"nodes, checkpoints, releases, pull", nodes_checkpoints_releases_pull},
        {"two connections serialize writes", two_connections_serialize_writes},
        {"long scans stop early", long_scans_stop_early},
    };
    /* Each behaviour once per backend: _i is the backend. */
    for (size_t i = 0; i < SCT_COUNT(cases); i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_loop_test(tc, cases[i].test, 0, backends);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    int backends = sct_pg_start() ? 2 : 1;
    int rc = sct_run(suite(backends));
    sct_pg_stop();
    return rc;
}
