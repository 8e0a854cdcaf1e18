/*
 * sctest_inproc.c: syncd's parts in process for tests (see sctest_inproc.h).
 */
#include "sctest_inproc.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/logjson.h"
#include "sctest.h"
#include "sctest_server.h"

/*
 * The fixture register into data.  syncd's processes make it once a run
 * (a dozen `syncd admin` runs: seconds under the sanitizers) in
 * sct_run_dir(), with its ids beside it; each test gets a copy, the same
 * register as if made afresh.  The ids file is written last, so a run
 * killed halfway leaves no template that looks whole.
 */
static void fixture_copy(sct_fixture *fx, const char *data)
{
    const char *run = sct_run_dir();
    if (!run) {
        sct_fixture_make(fx, data);
        return;
    }
    char tmpl[700], ids[720], part[740];
    snprintf(tmpl, sizeof tmpl, "%s/inproc-fixture", run);
    snprintf(ids, sizeof ids, "%s.ids", tmpl);
    FILE *f = fopen(ids, "rb");
    if (!f) {
        sct_rmtree(tmpl);
        sct_fixture_make(fx, tmpl);
        snprintf(part, sizeof part, "%s.part", ids);
        f = fopen(part, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(fx, sizeof *fx, 1, f), 1);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(rename(part, ids), 0);
    } else {
        ck_assert_uint_eq(fread(fx, sizeof *fx, 1, f), 1);
        fclose(f);
    }
    sct_copytree(tmpl, data);
    int n = snprintf(fx->dir, sizeof fx->dir, "%s", data);
    ck_assert(n > 0 && (size_t)n < sizeof fx->dir);
}

void sct_inproc_open(sct_inproc *p, void (*tune)(sd_config *cfg))
{
    memset(p, 0, sizeof *p);
    sd_log_set_level(SD_LOG_WARN); /* request lines would drown the test output */
    sct_tempdir(p->tmp, sizeof p->tmp);
    snprintf(p->data, sizeof p->data, "%s/data", p->tmp);
    fixture_copy(&p->fx, p->data);
    sd_config_defaults(&p->cfg);
    snprintf(p->cfg.data_dir, sizeof p->cfg.data_dir, "%s", p->data);
    if (tune)
        tune(&p->cfg);
    sc_err err;
    sc_err_clear(&err);
    ck_assert_msg(sd_register_open(&p->cfg, &p->reg, &err) == SC_OK, "%s", err.msg);
    ck_assert_msg(sd_ingest_start(p->reg, &p->cfg, &p->ingest, &err) == SC_OK, "%s", err.msg);
    sd_blob_limits lim;
    sd_blob_limits_from(&p->cfg, &lim);
    ck_assert_msg(sd_blobs_open(p->cfg.data_dir, &lim, sd_register_photo_seen, p->reg, &p->blobs,
                                &err) == SC_OK,
                  "%s", err.msg);
    /* As if started a skew ago: a test signs with the time now. */
    sd_auth_limits al = {.skew_ms = p->cfg.clock_skew_ms,
                         .start_ms = sct_now_ms() - p->cfg.clock_skew_ms};
    ck_assert_int_eq(sd_auth_new(sd_register_env(p->reg), &al, &p->auth), SC_OK);
    ck_assert_int_eq(sd_seen_new(0, SC_SEEN_WRITE_MS, &p->seen), SC_OK);
    /* Helpers kept between pushes, as syncd's HTTP server keeps them. */
    ck_assert_int_eq(sc_par_pool_start(&p->par, sc_par_count(SIZE_MAX, 1)), 0);
    p->svc = (sd_service){&p->cfg, p->reg, p->ingest, p->blobs, p->auth, sd_register_env(p->reg),
                          p->seen, &p->par};
}

void sct_inproc_close(sct_inproc *p)
{
    sd_ingest_stop(p->ingest);
    sc_par_pool_stop(&p->par);
    sd_seen_free(p->seen);
    sd_auth_free(p->auth);
    sd_blobs_close(p->blobs);
    sd_register_close(p->reg);
    sct_rmtree(p->tmp);
    memset(p, 0, sizeof *p);
}
