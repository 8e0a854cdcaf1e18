/*
 * sctest_inproc.c: syncd's parts in process for tests (see sctest_inproc.h).
 */
#include "sctest_inproc.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "base/logjson.h"
#include "sctest_server.h"

void sct_inproc_open(sct_inproc *p, void (*tune)(sd_config *cfg))
{
    memset(p, 0, sizeof *p);
    sd_log_set_level(SD_LOG_WARN); /* request lines would drown the test output */
    sct_tempdir(p->tmp, sizeof p->tmp);
    snprintf(p->data, sizeof p->data, "%s/data", p->tmp);
    sct_fixture_make(&p->fx, p->data);
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
    p->svc = (sd_service){&p->cfg, p->reg, p->ingest, p->blobs, p->auth, sd_register_env(p->reg),
                          p->seen};
}

void sct_inproc_close(sct_inproc *p)
{
    sd_ingest_stop(p->ingest);
    sd_seen_free(p->seen);
    sd_auth_free(p->auth);
    sd_blobs_close(p->blobs);
    sd_register_close(p->reg);
    sct_rmtree(p->tmp);
    memset(p, 0, sizeof *p);
}
