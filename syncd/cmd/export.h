/*
 * export.h: `syncd export`, the self-contained audit bundle of
 * proto/bundle.proto, as a function the command and the tests share.
 */
#ifndef SD_EXPORT_H
#define SD_EXPORT_H

#include <stdint.h>

#include "core/limits.h"
#include "core/status.h"

typedef struct sd_export_report {
    uint64_t entries;
    uint64_t checkpoints;
    uint64_t entities;
    uint8_t root[SC_HASH_LEN];
    uint8_t replica_hash[SC_HASH_LEN];
} sd_export_report;

/*
 * Write the bundle of the register in data_dir to out_path (through
 * out_path.tmp, renamed once complete and synced).  Every entry and
 * checkpoint passes the core auditor on the way; a register that fails it
 * is not exported (SC_ERR_REJECTED, err names the entry).
 */
sc_status sd_export_run(const char *data_dir, const char *out_path, sd_export_report *rep,
                        sc_err *err);

#endif
