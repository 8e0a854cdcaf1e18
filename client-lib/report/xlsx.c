/*
 * xlsx.c: ledger rows into an XLSX workbook (xlsx.h), the only file that
 * knows libxlsxwriter.  Days are Excel serial numbers (days since
 * 1899-12-30, so 1970-01-01 is 25569) in a date format, which readers
 * show and parse as dates.
 */
#include "xlsx.h"

#include <stdbool.h>
#include <stdlib.h>
#include <xlsxwriter.h>

/* Excel's serial number of 1970-01-01. */
#define EXCEL_EPOCH_1970 25569

struct sc_xlsx {
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *bold, *date;
    lxw_row_t row;
    lxw_error err; /* the first failure */
};

sc_xlsx *sc_xlsx_open(const char *path, const char *sheet, const char **why)
{
    sc_xlsx *x = calloc(1, sizeof *x);
    if (!x) {
        *why = "out of memory";
        return NULL;
    }
    lxw_workbook_options o = {.constant_memory = LXW_TRUE, .tmpdir = NULL};
    x->wb = workbook_new_opt(path, &o);
    if (!x->wb) {
        *why = "the workbook cannot be made";
        free(x);
        return NULL;
    }
    x->ws = workbook_add_worksheet(x->wb, sheet);
    x->bold = workbook_add_format(x->wb);
    x->date = workbook_add_format(x->wb);
    if (!x->ws || !x->bold || !x->date) {
        *why = "the worksheet cannot be made";
        workbook_close(x->wb);
        free(x);
        return NULL;
    }
    format_set_bold(x->bold);
    format_set_num_format(x->date, "yyyy-mm-dd");
    worksheet_freeze_panes(x->ws, 1, 0);
    return x;
}

static lxw_error cell(sc_xlsx *x, lxw_col_t col, const sc_ledger_cell *c, bool header)
{
    switch (header ? SC_CELL_TEXT : c->type) {
    case SC_CELL_INT:
        return worksheet_write_number(x->ws, x->row, col, (double)c->number, NULL);
    case SC_CELL_DATE:
        return worksheet_write_number(x->ws, x->row, col, (double)(c->number + EXCEL_EPOCH_1970),
                                      x->date);
    case SC_CELL_TEXT:
        /* write_string stores text as text: a value beginning with = stays a string. */
        return worksheet_write_string(x->ws, x->row, col, c->text, header ? x->bold : NULL);
    default:
        return LXW_NO_ERROR;
    }
}

int sc_xlsx_row(sc_xlsx *x, const sc_ledger_row *row)
{
    if (x->err != LXW_NO_ERROR)
        return -1;
    for (size_t i = 0; i < row->n && i < LXW_COL_MAX; i++) {
        lxw_error e = cell(x, (lxw_col_t)i, &row->cells[i], row->header);
        /* A text longer than a cell holds is cut to fit, not an error. */
        if (e != LXW_NO_ERROR && e != LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED) {
            x->err = e;
            return -1;
        }
    }
    if (x->row == LXW_ROW_MAX - 1) {
        x->err = LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE;
        return -1;
    }
    x->row++;
    return 0;
}

int sc_xlsx_close(sc_xlsx *x, const char **why)
{
    lxw_error first = x->err;
    lxw_error e = workbook_close(x->wb);
    free(x);
    if (first == LXW_NO_ERROR)
        first = e;
    if (first == LXW_NO_ERROR)
        return 0;
    *why = lxw_strerror(first);
    return -1;
}
