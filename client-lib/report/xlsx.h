/*
 * xlsx.h: ledger rows (spotcheck.h's sc_ledger_row) into an XLSX workbook,
 * with libxlsxwriter: one sheet, the header row bold and frozen, text as
 * text (never a formula), numbers as numbers, days as dates (yyyy-mm-dd).
 * The workbook is written in libxlsxwriter's constant-memory mode: each row
 * goes to a temporary file as it comes, so a ledger of any length costs the
 * same memory.  The `spotcheck` CLI and syncd link it; libspotcheck does
 * not, so a tablet app that writes no XLSX needs no libxlsxwriter.
 */
#ifndef SC_REPORT_XLSX_H
#define SC_REPORT_XLSX_H

#include <stddef.h>

#include "spotcheck.h"

typedef struct sc_xlsx sc_xlsx;

/*
 * Start a workbook at path with one sheet called sheet (UTF-8, at most 31
 * characters, no []:*?/\).  NULL when it cannot be made; *why (static
 * text) says why.
 */
sc_xlsx *sc_xlsx_open(const char *path, const char *sheet, const char **why);
/* Write one row (the header first); 0, or -1 when it failed (sc_xlsx_close says why). */
int sc_xlsx_row(sc_xlsx *x, const sc_ledger_row *row);
/* Finish and write the file: 0, or -1 with *why (static text) when anything failed. */
int sc_xlsx_close(sc_xlsx *x, const char **why);

#endif
