/*
 * sctest_fixture.h: a small register for syncd's tests, made the way an
 * operator makes one: `syncd init` and `syncd admin` run as processes (an
 * org tree, targets in and out of scope, one user of each role,
 * enrollment codes, revocations).  Ids are read from what the commands
 * print.  The commands may run while a syncd serves the same directory.
 */
#ifndef SC_TEST_FIXTURE_H
#define SC_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "sctest_server.h"

typedef struct sct_fixture {
    char dir[512];                    /* the data directory */
    uint8_t city[SC_ID_LEN];          /* 市疫情防控指挥部 */
    uint8_t county[SC_ID_LEN];        /* 县(区)指挥部 */
    uint8_t street[SC_ID_LEN];        /* 街道 */
    uint8_t community[SC_ID_LEN];     /* 君安社区 */
    uint8_t compound[SC_ID_LEN];      /* 君安花园小区 */
    uint8_t other_street[SC_ID_LEN];  /* a sibling street: out of the inspector's scope */
    uint8_t target[SC_ID_LEN];        /* target 君安花园小区 in the community */
    uint8_t target_out[SC_ID_LEN];    /* a market under the other street */
    uint8_t inspector[SC_ID_LEN];     /* login "inspector1", scope: the street */
    uint8_t supervisor[SC_ID_LEN];    /* "supervisor1", scope: the county */
    uint8_t responsible[SC_ID_LEN];   /* "resp1", scope: the compound */
    uint8_t auditor[SC_ID_LEN];       /* "auditor1", scope: the city */
} sct_fixture;

/* `syncd init` in dir (which must be empty or absent), then the entities above with `syncd admin`. */
void sct_fixture_make(sct_fixture *f, const char *dir);
/* The same with the register in PostgreSQL at store (`syncd init --store`), photos in blobs (may be NULL). */
void sct_fixture_make_store(sct_fixture *f, const char *dir, const char *store, const char *blobs);

/* A new enrollment code for login, valid one hour (`syncd admin enroll`), into out (cap bytes). */
void sct_fixture_code(const char *dir, const char *login, char *out, size_t cap);

/*
 * Enroll key through c, a client of the syncd serving dir, as login with a
 * new code (sct_fixture_code), asserting 200.  label may be NULL; *out
 * (may be NULL) gets the EnrollResponse
 * (scpb__enroll_response__free_unpacked).
 */
void sct_fixture_enroll(const char *dir, sct_client *c, const sc_keypair *key, const char *login,
                        const char *label, Scpb__EnrollResponse **out);

/* Revoke the device entity `device` (`syncd admin device revoke`). */
void sct_fixture_revoke(const char *dir, const uint8_t device[SC_ID_LEN]);

/*
 * What an integration test sets up before each TCase: a new temp dir, the
 * fixture register in tmp/data, and (when asked) a syncd serving it.
 */
typedef struct sct_live {
    char tmp[512];  /* the temp dir, removed by sct_live_close */
    char data[600]; /* tmp/data: the register */
    sct_fixture fx;
    sct_server srv; /* srv.pid is 0 while no syncd runs */
} sct_live;

/* Make the temp dir and the register; serve: start syncd on it. */
void sct_live_open(sct_live *l, bool serve);
/*
 * Stop syncd if it runs, with SIGTERM and asserting a clean exit, or with
 * SIGKILL when kill (a test that crashed it on purpose); remove the temp dir.
 */
void sct_live_close(sct_live *l, bool kill);

/*
 * Checked fixtures for the TCases of a file whose tests need only that:
 * sct_live_use(&L) names the file's sct_live once (before the suite runs),
 * then .setup = sct_live_setup opens it serving, and .teardown =
 * sct_live_teardown (or sct_live_teardown_kill) closes it.
 */
void sct_live_use(sct_live *l);
void sct_live_setup(void);
void sct_live_teardown(void);
void sct_live_teardown_kill(void);

#endif
