/*
 * sctest_inproc.h: syncd's parts opened in the test's own process over the
 * fixture register (sctest_fixture.h), and the sync service on them
 * (syncd/sync/service.h): for tests that call the service, or put their
 * own HTTP server or an in-process transport on top.  Test code only;
 * links syncd's library.
 */
#ifndef SC_TEST_INPROC_H
#define SC_TEST_INPROC_H

#include "sctest_fixture.h"
#include "sync/service.h"

typedef struct sct_inproc {
    char tmp[512];  /* the temp dir, removed by sct_inproc_close */
    char data[600]; /* tmp/data: the register */
    sct_fixture fx;
    sd_config cfg; /* syncd's defaults, then the test's changes */
    sd_register *reg;
    sd_ingest *ingest;
    sd_blobs *blobs;
    sd_auth *auth;  /* started a clock skew ago: requests signed now are accepted */
    sd_seen *seen;  /* devices seen, as syncd serve keeps them */
    sc_par_pool par; /* verifier helpers, as syncd serve keeps them */
    sd_service svc; /* the service over the parts above */
} sct_inproc;

/*
 * Make the temp dir and the fixture register (a copy of one made once a
 * run by syncd's processes, under sct_run), then open the register
 * (system environment), the group commit, the blob store and the replay
 * cache.  tune (may be NULL) changes the settings first; the data
 * directory is set already.  Aborts the test when a part cannot open.
 */
void sct_inproc_open(sct_inproc *p, void (*tune)(sd_config *cfg));
/* Close every part in the reverse order and remove the temp dir. */
void sct_inproc_close(sct_inproc *p);

#endif
