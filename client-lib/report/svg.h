/*
 * svg.h: small charts as SVG text, for reports and the console: a bar
 * chart of labelled rates (整改率 per unit, on a 0-100 % axis) and a line
 * chart of two or more series over period buckets (findings found against
 * closed, per day or week).  Each chart is one <svg> element, written
 * into a growable text buffer: inline it in HTML as it is, or write it to
 * a file (it carries its own xmlns and is well-formed XML on its own).
 *
 * Every text that reaches the output (titles, labels, series names) is
 * XML-escaped here, so names users typed (an org unit's, a target's) can
 * carry < & " ' safely.  Layout is in whole pixels of a 640-wide viewBox;
 * nothing here uses floating point, a locale, a clock or a file, and the
 * same input always gives the same bytes.  The module stands alone (the
 * C library only): libspotcheck carries it for its reports, and the
 * `spotcheck` CLI compiles it in for the console, since it sees only
 * libspotcheck's exports.
 *
 * Colours and dash patterns are fixed per series (the first series solid
 * blue, the second dashed orange, ...), so a chart printed in black and
 * white still tells its lines apart; classes (sc-bar, sc-line, sc-axis,
 * sc-label, sc-legend) let a page's stylesheet restyle them.
 */
#ifndef SC_REPORT_SVG_H
#define SC_REPORT_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/platform.h" /* SC_PRINTF: only the macro, no call */

/* The width of every chart's viewBox, in its pixels. */
#define SC_SVG_WIDTH 640
/* A bar chart's row, and the space above and below its rows (its height: sc_svg_bars_height). */
#define SC_SVG_BAR_ROW 24
/* A line chart's height. */
#define SC_SVG_LINE_HEIGHT 300
/* Labels are cut to this many display cells (a CJK character takes two), with "…". */
#define SC_SVG_LABEL_CELLS 24

/*
 * A growable text buffer (caller-owned struct; zero it, or set the
 * allocator first).  Writes append; one that cannot allocate sets failed
 * and every later write is ignored, so a caller checks once at the end.
 */
typedef struct sc_svg_buf {
    char *p;     /* the text, NUL-terminated; NULL until something is written; owned */
    size_t len;  /* bytes of text, the NUL not counted */
    size_t cap;  /* bytes allocated */
    bool failed; /* an allocation failed: p holds only what came before */
    void *(*realloc_fn)(void *ctx, void *ptr, size_t size); /* NULL: the C library's realloc */
    void (*free_fn)(void *ctx, void *ptr);                  /* NULL: free */
    void *ctx;                                              /* for both */
} sc_svg_buf;

/* Free the text (the struct is the caller's); the buffer is empty again and may be reused. */
void sc_svg_buf_dispose(sc_svg_buf *b);
/* Append n bytes of s as they are (no escaping). */
void sc_svg_put(sc_svg_buf *b, const char *s, size_t n);
/* Append a NUL-terminated string as it is. */
void sc_svg_puts(sc_svg_buf *b, const char *s);
/* Append formatted text (no escaping: format only numbers and markup with it). */
void sc_svg_printf(sc_svg_buf *b, const char *fmt, ...) SC_PRINTF(2, 3);
/*
 * Append text XML-escaped (& < > " ' as entities), for element content and
 * attribute values alike; control characters XML 1.0 cannot carry (all
 * below 0x20 but tab, LF and CR) are dropped.  NULL appends nothing.
 */
void sc_svg_escape(sc_svg_buf *b, const char *text);

/* One bar: a label and a rate in per mille (0-1000; negative: no value, shown as "-"). */
typedef struct sc_svg_bar {
    const char *label; /* UTF-8; borrowed */
    int32_t permille;  /* values above 1000 are drawn at 1000 and labelled as they are */
} sc_svg_bar;

/*
 * A horizontal bar chart of n rates on a 0-100 % axis (ticks every 20 %),
 * one row of SC_SVG_BAR_ROW pixels per bar, each labelled on the left and
 * its value ("66.7%") at the bar's end.  title (NULL: none) is the chart's
 * accessible name and its heading; empty (NULL: "-") is shown when n is 0.
 * Returns 0, or -1 when the buffer failed.
 */
int sc_svg_bars(sc_svg_buf *b, const char *title, const sc_svg_bar *bars, size_t n,
                const char *empty);
/* The height of that chart's viewBox for n bars, in its pixels. */
int sc_svg_bars_height(size_t n);

/* One series of a line chart: a name (its legend) and one count per bucket (negatives as 0). */
typedef struct sc_svg_series {
    const char *name;      /* UTF-8; borrowed */
    const int64_t *values; /* n values, n the chart's bucket count; borrowed */
} sc_svg_series;

/*
 * A line chart of nseries series over n buckets labelled buckets[0..n-1]
 * (say "11-03", "W45"; at most about 16 labels are drawn, evenly spaced),
 * on a y axis from 0 to a round maximum at or above the largest value,
 * with a legend.  One bucket is drawn as dots; n of 0 shows empty (NULL:
 * "-").  Returns 0, or -1 when the buffer failed.
 */
int sc_svg_lines(sc_svg_buf *b, const char *title, const char *const *buckets, size_t n,
                 const sc_svg_series *series, size_t nseries, const char *empty);

#endif
