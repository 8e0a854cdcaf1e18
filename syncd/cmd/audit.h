/*
 * audit.h: `syncd audit`, the offline check of a whole data directory, as a
 * function the command and the tests share.  It trusts nothing the
 * database derived: see audit.c for the list of checks.
 */
#ifndef SD_AUDIT_H
#define SD_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/status.h"

/* What sd_audit_run checks (bits).  The register's own checks always run. */
enum {
    SD_AUDIT_REGISTER = 0,     /* the log, the checkpoints, the states, the derived tables */
    SD_AUDIT_KEY = 1u << 0,    /* DIR/server.key is the key the register is signed with */
    SD_AUDIT_PHOTOS = 1u << 1, /* every photo an op names is stored, with the bytes its name says */
    SD_AUDIT_ALL = SD_AUDIT_KEY | SD_AUDIT_PHOTOS,
};

/* A photo an op names that is not stored, or whose stored bytes do not hash to its name. */
typedef struct sd_audit_photo {
    uint8_t sha[SC_HASH_LEN];   /* the photo's name */
    bool damaged;               /* stored with other bytes; else not stored at all */
    uint64_t idx;               /* the log entry naming it */
    uint8_t op_id[SC_HASH_LEN]; /* that entry's op */
    uint8_t author[SC_KEY_LEN]; /* the device that made the op (which holds the photo, if any) */
} sd_audit_photo;

typedef struct sd_audit_opts {
    unsigned checks; /* SD_AUDIT_* bits */
    /* Called for every photo problem as it is found, once per op naming it (may be NULL). */
    void (*photo)(void *ctx, const sd_audit_photo *p);
    void *ctx; /* the caller's, for photo */
} sd_audit_opts;

typedef struct sd_audit_report {
    uint64_t entries;          /* log entries checked (signature, author, role, leaf hash) */
    uint64_t checkpoints;      /* checkpoints checked (signature, root) */
    uint64_t nodes;            /* stored Merkle nodes recomputed */
    uint64_t entities;         /* entities replayed and compared */
    uint64_t codes;            /* code rows checked */
    uint64_t devices;          /* device rows checked */
    uint64_t assignees;        /* assignee rows checked */
    uint64_t releases;         /* release events checked */
    uint64_t photo_refs;       /* photo reference rows checked */
    uint64_t photos;      /* photo names checked (each name once per op naming it, bar repeats) */
    uint64_t photo_bytes; /* bytes of stored photos hashed */
    uint64_t photos_missing; /* names whose photo is not stored */
    uint64_t photos_bad;     /* names whose stored bytes do not hash to the name */
    bool key_checked;        /* DIR/server.key was read and matched */
    bool photos_only;        /* the problem is photos not stored, and nothing else failed */
    uint8_t root[SC_HASH_LEN];         /* RFC 9162 root of every entry */
    uint8_t server_key[SC_KEY_LEN];    /* the register's key, which its checkpoints verified under */
    uint8_t replica_hash[SC_HASH_LEN]; /* sc_replica_hash over every entity */
    bool has_problem;
    char problem[SC_ERR_MSG_MAX * 2];  /* the first problem, naming the log entry */
} sd_audit_report;

/*
 * Audit the data directory data_dir: the register, and what opts->checks
 * adds (opts NULL: SD_AUDIT_ALL; a migration checks the register alone, as
 * it moves neither the key nor the photos).  SC_OK when everything holds;
 * SC_ERR_REJECTED when a check failed (rep->problem says which, naming the
 * log entry, the photo and the op that names it, or the key); another
 * status when the register cannot be read at all (err says why).  Nothing
 * in data_dir is changed.
 */
sc_status sd_audit_run(const char *data_dir, const sd_audit_opts *opts, sd_audit_report *rep,
                       sc_err *err);

#endif
