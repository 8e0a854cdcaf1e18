/*
 * sctest_reliab.h: what the reliability tests (tests/reliab/) share: child
 * processes (the CLI, killed at will), the register and a client replica
 * read as stored (their schemas are documented: docs/data-model.md "Server
 * register", docs/client.md §10), the invariants checked after every crash,
 * and the CI / soak scale.  Test code only.
 */
#ifndef SC_TEST_RELIAB_H
#define SC_TEST_RELIAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/limits.h"

/* ---- scale ---- */

/* True when SC_SOAK is set to something other than "" or "0": the long runs. */
bool sct_soak(void);
/* ci in a normal run, soak under SC_SOAK=1; SC_CYCLES=N overrides both. */
unsigned sct_scale(unsigned ci, unsigned soak);
/* A seed: SC_SEED when set, else from the clock; printed so a failure can be rerun. */
uint64_t sct_seed(const char *test);

/* splitmix64: the next value of a small seeded random stream (not for secrets). */
uint64_t sct_splitmix(uint64_t *state);

/* ---- processes ---- */

/* The spotcheck CLI: $SC_BIN_DIR/client-lib/spotcheck. */
const char *sct_cli_path(void);
/*
 * Start argv (argv[0] is the program; NULL-terminated) with stdout and
 * stderr appended to out_path (NULL: /dev/null).  The child dies with the
 * test (PR_SET_PDEATHSIG).  Returns its pid.
 */
pid_t sct_spawn(const char *const *argv, const char *out_path);
/* Sleep ms milliseconds. */
void sct_sleep_ms(unsigned ms);

/* ---- the register as stored ---- */

typedef struct sct_entity_hash {
    uint8_t id[SC_ID_LEN];
    uint8_t hash[SC_HASH_LEN];
} sct_entity_hash;

typedef struct sct_reg_view {
    uint64_t log_size;                /* rows in the log */
    uint8_t (*by_index)[SC_HASH_LEN]; /* op id of each log index */
    uint8_t (*sorted)[SC_HASH_LEN];   /* the same ids, sorted */
    size_t duplicates;                /* ids logged more than once */
    bool contiguous;                  /* indexes are exactly 0..log_size-1 */
    sct_entity_hash *ent;             /* every entity's state hash, by id */
    size_t n_ent;
    uint8_t replica_hash[SC_HASH_LEN];/* sc_replica_hash over ent */
} sct_reg_view;

/* Read DATA/register.db (while syncd runs or after it died). */
void sct_reg_read(const char *data_dir, sct_reg_view *v);
void sct_reg_dispose(sct_reg_view *v);
/* True when op id is in the log (at `index` when index != UINT64_MAX). */
bool sct_reg_has(const sct_reg_view *v, const uint8_t id[SC_HASH_LEN], uint64_t index);
/* True when DATA/blobs/xx/<hex> exists and hashes to sha. */
bool sct_blob_stored(const char *data_dir, const uint8_t sha[SC_HASH_LEN]);
/* Files under DATA/blobs/xx/ (not partial/) that do not hash to their name. */
size_t sct_blobs_bad(const char *data_dir, size_t *stored);

/* What a refused request must leave as it was: the log, every state, the stored blobs. */
typedef struct sct_stored {
    uint64_t log_size;
    uint8_t replica_hash[SC_HASH_LEN];
    size_t blobs;                     /* stored blobs (each hashing to its name) */
    size_t partial_bytes;             /* bytes in blobs/partial/ *.part files */
} sct_stored;

void sct_stored_get(const char *data_dir, sct_stored *out);
/* Asserts nothing moved between a and b; what names the refusal in the message. */
void sct_stored_same(const sct_stored *a, const sct_stored *b, const char *what);

/* ---- a client replica as stored ---- */

typedef struct sct_ack {
    uint8_t id[SC_HASH_LEN];
    uint64_t log_index;
} sct_ack;

typedef struct sct_replica_view {
    size_t local;                     /* ops this device made */
    size_t pending, accepted, rejected;
    sct_ack *acked;                   /* local ops the server acknowledged, with their index */
    size_t n_acked;
    uint8_t (*local_ids)[SC_HASH_LEN];/* every local op */
    sct_entity_hash *ent;             /* by id */
    size_t n_ent;
    uint8_t replica_hash[SC_HASH_LEN];
    size_t blobs_to_upload, blobs_done, blobs_missing;
    uint8_t (*done)[SC_HASH_LEN];     /* photos the server has acknowledged */
    size_t n_done;
    uint8_t (*photos)[SC_HASH_LEN];   /* every local photo (to upload or done) */
    size_t n_photos;
} sct_replica_view;

void sct_replica_read(const char *db_path, sct_replica_view *v);
void sct_replica_dispose(sct_replica_view *v);

/*
 * The crash invariants between one replica and the register: every op the
 * replica holds as acknowledged is logged at its index; every photo it
 * holds as uploaded is stored whole.  Returns the number of violations and
 * describes the first in why (cap bytes).
 */
size_t sct_check_acks(const sct_reg_view *reg, const char *data_dir, const sct_replica_view *rep,
                      char *why, size_t cap);

/* `syncd audit --data DIR`: 0 when everything holds; its output in out (cap bytes). */
int sct_audit(const char *data_dir, char *out, size_t cap);

/* Hex of the first bytes of an id, for messages (static buffer; one call per statement). */
const char *sct_hex8(const uint8_t *b);

#endif
