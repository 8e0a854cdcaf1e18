/*
 * svg.c: bar and line charts as SVG text (svg.h).  Whole pixels only, so
 * the output is the same bytes on every machine and under every locale;
 * every piece of text passes through sc_svg_escape on its way out.
 */
#include "svg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the buffer ---- */

static void *buf_realloc(sc_svg_buf *b, void *p, size_t n)
{
    return b->realloc_fn ? b->realloc_fn(b->ctx, p, n) : realloc(p, n);
}

void sc_svg_buf_dispose(sc_svg_buf *b)
{
    if (b->p) {
        if (b->free_fn)
            b->free_fn(b->ctx, b->p);
        else
            free(b->p);
    }
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void sc_svg_put(sc_svg_buf *b, const char *s, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (n > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = buf_realloc(b, b->p, cap);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sc_svg_puts(sc_svg_buf *b, const char *s)
{
    if (s)
        sc_svg_put(b, s, strlen(s));
}

void sc_svg_printf(sc_svg_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        sc_svg_put(b, tmp, (size_t)n);
        return;
    }
    /* Longer than the stack buffer: format again into one of the right size. */
    size_t need = (size_t)n + 1;
    char *big = buf_realloc(b, NULL, need);
    if (!big) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, need, fmt, ap);
    va_end(ap);
    sc_svg_put(b, big, need - 1);
    if (b->free_fn)
        b->free_fn(b->ctx, big);
    else
        free(big);
}

/* ---- text ---- */

/*
 * The code point at s and its length in *len; a malformed, overlong or
 * surrogate sequence is one byte (*len 1) and returns UINT32_MAX.
 */
static uint32_t utf8_next(const unsigned char *s, size_t *len)
{
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    *len = 1;
    if (s[0] < 0x80)
        return s[0];
    int n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!n)
        return UINT32_MAX;
    uint32_t cp = s[0] & (0x7Fu >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* a NUL stops here too */
            return UINT32_MAX;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return UINT32_MAX;
    *len = (size_t)n;
    return cp;
}

void sc_svg_escape(sc_svg_buf *b, const char *text)
{
    if (!text)
        return;
    const unsigned char *s = (const unsigned char *)text;
    size_t run = 0, i = 0;
    while (s[i]) {
        unsigned char c = s[i];
        size_t len = 1;
        const char *rep = c == '&'                                          ? "&amp;"
                          : c == '<'                                        ? "&lt;"
                          : c == '>'                                        ? "&gt;"
                          : c == '"'                                        ? "&quot;"
                          : c == '\''                                       ? "&#39;"
                          : c < 0x20 && c != '\t' && c != '\n' && c != '\r' ? ""
                                                                            : NULL;
        /* Bytes that are not UTF-8 would make the document ill-formed: U+FFFD instead. */
        if (!rep && c >= 0x80 && utf8_next(s + i, &len) == UINT32_MAX)
            rep = "\xEF\xBF\xBD";
        if (rep) {
            sc_svg_put(b, text + run, i - run);
            sc_svg_puts(b, rep);
            run = i + 1;
        }
        i += len;
    }
    sc_svg_put(b, text + run, i - run);
}

/* Display cells of a code point: 2 for East Asian wide and fullwidth ones. */
static int cells_of(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                   (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                   (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                   (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD)
               ? 2
               : 1;
}

/* A label, escaped, cut to SC_SVG_LABEL_CELLS display cells with "…" when longer. */
static void put_label(sc_svg_buf *b, const char *label)
{
    if (!label)
        return;
    const unsigned char *s = (const unsigned char *)label;
    size_t total = 0, keep = 0;
    int cells = 0;
    bool cut = false;
    while (s[total]) {
        size_t len;
        int w = cells_of(utf8_next(s + total, &len));
        if (!cut && cells + w > SC_SVG_LABEL_CELLS - 1)
            cut = true, keep = total;
        cells += w;
        total += len;
    }
    if (cells <= SC_SVG_LABEL_CELLS) {
        sc_svg_escape(b, label);
        return;
    }
    char tmp[SC_SVG_LABEL_CELLS * 4 + 1];
    if (keep >= sizeof tmp)
        keep = sizeof tmp - 1;
    memcpy(tmp, label, keep);
    tmp[keep] = '\0';
    sc_svg_escape(b, tmp);
    sc_svg_puts(b, "\xE2\x80\xA6");
}

/* A per mille value as a percentage with one decimal ("66.7%"), or "-". */
static void put_percent(sc_svg_buf *b, int32_t permille)
{
    if (permille < 0)
        sc_svg_puts(b, "-");
    else
        sc_svg_printf(b, "%d.%d%%", (int)(permille / 10), (int)(permille % 10));
}

/* The opening <svg> with its accessible name and title heading. */
static void open_svg(sc_svg_buf *b, const char *cls, int height, const char *title)
{
    sc_svg_printf(b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sc-chart %s\" "
                  "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\"",
                  cls, SC_SVG_WIDTH, height, SC_SVG_WIDTH, height);
    if (title) {
        sc_svg_puts(b, " aria-label=\"");
        sc_svg_escape(b, title);
        sc_svg_puts(b, "\"><title>");
        sc_svg_escape(b, title);
        sc_svg_puts(b, "</title>\n<text class=\"sc-title\" x=\"0\" y=\"18\" font-size=\"14\" "
                       "font-weight=\"bold\">");
        sc_svg_escape(b, title);
        sc_svg_puts(b, "</text>\n");
    } else {
        sc_svg_puts(b, ">\n");
    }
}

static void empty_note(sc_svg_buf *b, int y, const char *empty)
{
    sc_svg_printf(b,
                  "<text class=\"sc-label\" x=\"%d\" y=\"%d\" font-size=\"12\" "
                  "text-anchor=\"middle\">",
                  SC_SVG_WIDTH / 2, y);
    sc_svg_escape(b, empty ? empty : "-");
    sc_svg_puts(b, "</text>\n");
}

/* ---- bars ---- */

enum {
    BAR_TOP = 48, /* title, then the axis's labels, above the first row */
    BAR_BOTTOM = 8,
    BAR_LABEL_X = 166,         /* labels end here */
    BAR_X0 = 172,              /* 0 % */
    BAR_X1 = SC_SVG_WIDTH - 56 /* 100 %, room after it for a value */
};

int sc_svg_bars_height(size_t n)
{
    size_t rows = n ? n : 1;
    if (rows > (size_t)(1 << 20))
        rows = (size_t)1 << 20;
    return BAR_TOP + (int)rows * SC_SVG_BAR_ROW + BAR_BOTTOM;
}

int sc_svg_bars(sc_svg_buf *b, const char *title, const sc_svg_bar *bars, size_t n,
                const char *empty)
{
    if (n > (size_t)1 << 20)
        n = (size_t)1 << 20;
    int height = sc_svg_bars_height(n);
    int bottom = height - BAR_BOTTOM;
    open_svg(b, "sc-bars", height, title);
    const int plotw = BAR_X1 - BAR_X0;
    for (int k = 0; k <= 5; k++) {
        int x = BAR_X0 + k * plotw / 5;
        sc_svg_printf(b,
                      "<line class=\"sc-axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                      "stroke=\"%s\" stroke-width=\"1\"/>\n"
                      "<text class=\"sc-label\" x=\"%d\" y=\"%d\" font-size=\"11\" "
                      "text-anchor=\"middle\">%d%%</text>\n",
                      x, BAR_TOP - 4, x, bottom, k ? "#cccccc" : "#333333", x, BAR_TOP - 8, k * 20);
    }
    if (n == 0)
        empty_note(b, BAR_TOP + 16, empty);
    for (size_t i = 0; i < n; i++) {
        int y = BAR_TOP + (int)i * SC_SVG_BAR_ROW;
        int32_t v = bars[i].permille;
        sc_svg_printf(b,
                      "<g class=\"sc-bar\"><text class=\"sc-label\" x=\"%d\" y=\"%d\" "
                      "font-size=\"12\" text-anchor=\"end\">",
                      BAR_LABEL_X, y + 16);
        put_label(b, bars[i].label);
        sc_svg_puts(b, "</text>");
        int w = v <= 0 ? 0 : (v >= 1000 ? plotw : (int)((int64_t)v * plotw / 1000));
        if (w > 0)
            sc_svg_printf(b,
                          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" "
                          "fill=\"#3366cc\"/>",
                          BAR_X0, y + 4, w);
        sc_svg_printf(b, "<text class=\"sc-value\" x=\"%d\" y=\"%d\" font-size=\"11\">",
                      BAR_X0 + w + 4, y + 16);
        put_percent(b, v);
        sc_svg_puts(b, "</text></g>\n");
    }
    sc_svg_puts(b, "</svg>\n");
    return b->failed ? -1 : 0;
}

/* ---- lines ---- */

enum {
    LINE_X0 = 48,
    LINE_X1 = SC_SVG_WIDTH - 16,
    LINE_Y0 = 56,  /* the top of the plot: title and legend above */
    LINE_Y1 = 262, /* its bottom: bucket labels below */
    LINE_LABELS = 16
};

static const char *const line_colour[] = {"#3366cc", "#dc7633", "#2e8b57", "#8e44ad"};
static const char *const line_dash[] = {
    "", " stroke-dasharray=\"6 3\"", " stroke-dasharray=\"2 3\"", " stroke-dasharray=\"8 3 2 3\""};
#define LINE_STYLES (sizeof line_colour / sizeof line_colour[0])

/* The axis's top, at or above max: 5, 10, 25, 50, 100, 250, ... (five equal steps). */
static int64_t nice_top(int64_t max)
{
    int64_t step = 1;
    while (step * 5 < max && step < INT64_MAX / 100) {
        if (step * 10 >= max)
            return step * 10;
        if (step * 25 >= max)
            return step * 25;
        step *= 10;
    }
    return step * 5;
}

static int line_x(size_t i, size_t n)
{
    int w = LINE_X1 - LINE_X0;
    return n <= 1 ? LINE_X0 + w / 2 : LINE_X0 + (int)((int64_t)i * w / (int64_t)(n - 1));
}

static int line_y(int64_t v, int64_t top)
{
    if (v < 0)
        v = 0;
    return LINE_Y1 - (int)(v * (LINE_Y1 - LINE_Y0) / top);
}

static void line_axes(sc_svg_buf *b, const char *const *buckets, size_t n, int64_t top)
{
    for (int k = 0; k <= 5; k++) {
        int y = LINE_Y1 - k * (LINE_Y1 - LINE_Y0) / 5;
        sc_svg_printf(b,
                      "<line class=\"sc-axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                      "stroke=\"%s\" stroke-width=\"1\"/>\n"
                      "<text class=\"sc-label\" x=\"%d\" y=\"%d\" font-size=\"11\" "
                      "text-anchor=\"end\">%lld</text>\n",
                      LINE_X0, y, LINE_X1, y, k ? "#cccccc" : "#333333", LINE_X0 - 4, y + 4,
                      (long long)(top / 5 * k));
    }
    size_t every = (n + LINE_LABELS - 1) / LINE_LABELS;
    for (size_t i = 0; i < n; i += every ? every : 1) {
        sc_svg_printf(b,
                      "<text class=\"sc-label\" x=\"%d\" y=\"%d\" font-size=\"10\" "
                      "text-anchor=\"middle\">",
                      line_x(i, n), LINE_Y1 + 16);
        put_label(b, buckets ? buckets[i] : NULL);
        sc_svg_puts(b, "</text>\n");
    }
}

static void line_series(sc_svg_buf *b, const sc_svg_series *s, size_t k, size_t n, int64_t top)
{
    const char *colour = line_colour[k % LINE_STYLES];
    /* The legend: a sample of the line and the name, 160 pixels apart. */
    int lx = (int)(k % 4) * 160, ly = 40;
    sc_svg_printf(b,
                  "<g class=\"sc-legend\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                  "stroke=\"%s\" stroke-width=\"2\"%s/><text x=\"%d\" y=\"%d\" "
                  "font-size=\"12\">",
                  lx, ly - 4, lx + 24, ly - 4, colour, line_dash[k % LINE_STYLES], lx + 28, ly);
    put_label(b, s->name);
    sc_svg_puts(b, "</text></g>\n");
    sc_svg_printf(b,
                  "<g class=\"sc-line\"><polyline fill=\"none\" stroke=\"%s\" "
                  "stroke-width=\"2\"%s points=\"",
                  colour, line_dash[k % LINE_STYLES]);
    for (size_t i = 0; i < n; i++)
        sc_svg_printf(b, "%s%d,%d", i ? " " : "", line_x(i, n), line_y(s->values[i], top));
    sc_svg_puts(b, "\"/>");
    for (size_t i = 0; i < n; i++)
        sc_svg_printf(b, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" fill=\"%s\"/>", line_x(i, n),
                      line_y(s->values[i], top), n == 1 ? 4 : 2, colour);
    sc_svg_puts(b, "</g>\n");
}

int sc_svg_lines(sc_svg_buf *b, const char *title, const char *const *buckets, size_t n,
                 const sc_svg_series *series, size_t nseries, const char *empty)
{
    int64_t max = 0;
    for (size_t k = 0; k < nseries; k++)
        for (size_t i = 0; i < n; i++)
            if (series[k].values[i] > max)
                max = series[k].values[i];
    int64_t top = nice_top(max);
    open_svg(b, "sc-lines", SC_SVG_LINE_HEIGHT, title);
    line_axes(b, buckets, n, top);
    if (n == 0 || nseries == 0)
        empty_note(b, (LINE_Y0 + LINE_Y1) / 2, empty);
    for (size_t k = 0; k < nseries && n; k++)
        line_series(b, &series[k], k, n, top);
    sc_svg_puts(b, "</svg>\n");
    return b->failed ? -1 : 0;
}
