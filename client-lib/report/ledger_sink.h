/*
 * ledger_sink.h: where a ledger's rows go when they go to a file, as CSV
 * (each row's CSV line as sc_report_ledger made it: UTF-8 with a BOM, CRLF)
 * or as XLSX (xlsx.c).  `spotcheck report ledger`, the review console's
 * export and `syncd report ledger` write through it, so a ledger
 * downloaded from the console is byte for byte the one the command
 * writes, and the register's is written the same way.
 */
#ifndef SC_REPORT_LEDGER_SINK_H
#define SC_REPORT_LEDGER_SINK_H

#include <stdbool.h>
#include <stdio.h>

#include "spotcheck.h"
#include "xlsx.h"

typedef struct sc_ledger_sink {
    FILE *csv;     /* the CSV file, or NULL; owned */
    sc_xlsx *xlsx; /* the workbook, or NULL; owned */
} sc_ledger_sink;

/*
 * Open path for a ledger: as XLSX with one sheet called sheet when xlsx,
 * else as CSV.  0, or -1 with *why (static text or strerror's) when the
 * file cannot be made; nothing is open then.
 */
int sc_ledger_sink_open(sc_ledger_sink *k, bool xlsx, const char *path, const char *sheet,
                        const char **why);
/* An sc_ledger_fn: ctx is the sink. */
int sc_ledger_sink_row(void *ctx, const sc_ledger_row *row);
/* Finish the file: 0 when every row was written, else -1 with *why. */
int sc_ledger_sink_close(sc_ledger_sink *k, const char **why);

#endif
