/*
 * ledger_sink.c: a ledger's rows into a CSV or XLSX file (ledger_sink.h).
 * The CSV is the rows' own CSV lines, written as they come; the XLSX is
 * xlsx.c's workbook in constant memory.  Either way nothing is held but
 * the row at hand.
 */
#include <errno.h>
#include <string.h>

#include "ledger_sink.h"
#include "whole.h"

int sc_ledger_sink_open(sc_ledger_sink *k, bool xlsx, const char *path, const char *sheet,
                        const char **why)
{
    k->csv = NULL;
    k->xlsx = NULL;
    /* Made here, the caller's alone and never through a link (sc_create_private); the
     * workbook then writes the file it finds, which in a shared directory with the sticky
     * bit (/tmp) nobody else may replace. */
    FILE *f = sc_create_private(path, why);
    if (!f)
        return -1;
    if (xlsx) {
        fclose(f);
        k->xlsx = sc_xlsx_open(path, sheet, why);
    } else {
        k->csv = f;
    }
    return k->xlsx || k->csv ? 0 : -1;
}

int sc_ledger_sink_row(void *ctx, const sc_ledger_row *row)
{
    sc_ledger_sink *k = ctx;
    if (k->xlsx)
        return sc_xlsx_row(k->xlsx, row);
    return fwrite(row->csv, 1, row->csv_len, k->csv) == row->csv_len ? 0 : -1;
}

int sc_ledger_sink_close(sc_ledger_sink *k, const char **why)
{
    int rc = 0;
    if (k->xlsx) {
        rc = sc_xlsx_close(k->xlsx, why);
    } else if (k->csv) {
        int bad = ferror(k->csv) || fflush(k->csv) != 0;
        if (fclose(k->csv) != 0 || bad) {
            *why = strerror(errno ? errno : EIO);
            rc = -1;
        }
    }
    k->csv = NULL;
    k->xlsx = NULL;
    return rc;
}
