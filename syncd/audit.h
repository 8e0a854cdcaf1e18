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
    uint8_t root[SC_HASH_LEN];         /* RFC 9162 root of every entry */
    uint8_t replica_hash[SC_HASH_LEN]; /* sc_replica_hash over every entity */
    bool has_problem;
    char problem[SC_ERR_MSG_MAX * 2];  /* the first problem, naming the log entry */
} sd_audit_report;

/*
 * Audit the register in data_dir.  SC_OK when everything holds; SC_ERR_REJECTED
 * when a check failed (rep->problem says which, naming the log entry);
 * another status when the register cannot be read at all (err says why).
 */
sc_status sd_audit_run(const char *data_dir, sd_audit_report *rep, sc_err *err);

#endif
