/*
 * admin_import.c: `syncd admin import orgs|targets|users FILE.csv`: the org
 * units, targets (检查对象) or users a county office keeps in a spreadsheet,
 * saved as CSV (UTF-8, comma-separated, a header line naming the columns;
 * docs/operations.md lists them, in English or Chinese, and
 * deploy/examples/ has one file of each).
 *
 * All or nothing:
 *  1. The file is read whole (at most SC_IMPORT_BYTES_MAX bytes and
 *     SC_IMPORT_ROWS_MAX rows), its header checked (an unknown, missing or
 *     repeated column stops it there), then every row checked: its fields
 *     (text, lengths, the names of roles, levels, kinds and types), codes
 *     repeated within the file or already in the register, and references
 *     (a parent org unit in the register or in the file, in any order, with
 *     no cycle; a target's or user's org unit in the register).  Every
 *     problem is reported with its line number, and when there is one,
 *     nothing is imported.
 *  2. The ops (one admin op per row, parents before their children) are
 *     logged in one transaction (sd_register_admin_ops), which the register
 *     judges as any admin op; one refused there rolls all of them back and
 *     is reported with its line.
 * The line numbers are those of the file as an editor shows them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "core/codec.h"
#include "core/ids.h"

/* ---- what each file holds ---- */

enum { COLS_MAX = 5 };

/* A column: its name, the Chinese names a county office uses for it, and whether rows need it. */
typedef struct column {
    const char *name;
    const char *alias[3];
    bool required;
    size_t max; /* the longest value in bytes: the op's limit */
} column;

typedef struct imp_kind {
    const char *word;   /* orgs, targets, users */
    const char *things; /* for messages: "org units" */
    Scpb__EntityType type;
    column cols[COLS_MAX];
    size_t ncols;
} imp_kind;

enum { C_CODE = 0, C_NAME = 1 };                /* every kind: code (login), name */
enum { O_PARENT = 2, O_LEVEL = 3, O_KIND = 4 }; /* orgs */
enum { T_ORG = 2, T_TYPE = 3, T_ADDRESS = 4 };  /* targets */
enum { U_ROLE = 2, U_ORG = 3 };                 /* users */

static const imp_kind kinds[] = {
    {"orgs",
     "org units",
     SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT,
     {{"code", {"编码", "代码"}, true, SC_CODE_MAX},
      {"name", {"名称"}, true, SC_NAME_MAX},
      {"parent", {"上级编码", "上级"}, false, SC_CODE_MAX},
      {"level", {"层级", "级别"}, false, SC_NAME_MAX},
      {"kind", {"类别"}, false, SC_NAME_MAX}},
     5},
    {"targets",
     "targets",
     SCPB__ENTITY_TYPE__ENTITY_TARGET,
     {{"code", {"编码", "代码"}, true, SC_CODE_MAX},
      {"name", {"名称"}, true, SC_NAME_MAX},
      {"org", {"所属单位", "单位编码"}, true, SC_CODE_MAX},
      {"type", {"类型"}, false, SC_NAME_MAX},
      {"address", {"地址"}, false, SC_TEXT_MAX}},
     5},
    {"users",
     "users",
     SCPB__ENTITY_TYPE__ENTITY_USER,
     {{"login", {"登录名", "账号"}, true, SC_CODE_MAX},
      {"name", {"姓名"}, false, SC_NAME_MAX},
      {"role", {"角色"}, true, SC_NAME_MAX},
      {"org", {"所属单位", "单位编码"}, true, SC_CODE_MAX}},
     4},
};

/* Chinese names accepted for roles and levels, beside the names of names.h. */
static const struct {
    const char *zh;
    const char *name;
} aliases[] = {
    {"检查员", "inspector"},   {"督导", "supervisor"}, {"督导员", "supervisor"},
    {"责任人", "responsible"}, {"审计", "auditor"},    {"审计员", "auditor"},
    {"管理员", "admin"},       {"市", "city"},         {"县", "county"},
    {"区", "county"},          {"县区", "county"},     {"街道", "street"},
    {"乡镇", "street"},        {"社区", "community"},  {"村", "community"},
    {"网格", "grid"},          {"居民小组", "grid"},   {"小区", "compound"},
    {"自然村", "compound"},    {"楼栋", "building"},   {"单元", "unit"},
    {"户", "household"},
};

/* ---- rows and problems ---- */

typedef struct row {
    size_t line;
    char *f[COLS_MAX]; /* by the kind's column; NULL when absent or empty */
    uint8_t id[SC_ID_LEN];
    int level, okind, ttype, role; /* parsed names; -1 when not given */
    bool has_ref;
    uint8_t ref[SC_ID_LEN]; /* parent or org unit id */
    size_t parent;          /* orgs: the row of the parent in the file, or SIZE_MAX */
    bool bad;
    bool placed; /* orgs: ordered after its parent */
} row;

typedef struct problem {
    size_t line;
    char msg[SC_ERR_MSG_MAX];
} problem;

typedef struct imp {
    const imp_kind *k;
    sd_register *r;
    const char *file;
    char *text;
    row *rows;
    size_t nrows;
    int colmap[SC_IMPORT_FIELDS_MAX]; /* file column -> kind column, -1 unknown */
    size_t nhead;
    problem *p;
    size_t np, capp;
    size_t unlisted; /* problems found but not kept (out of memory): they still stop the import */
    size_t *order; /* rows in the order they are logged */
} imp;

static void bad(imp *m, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(imp *m, size_t line, const char *fmt, ...)
{
    if (m->np == m->capp) {
        size_t cap = m->capp ? 2 * m->capp : 16;
        problem *np = realloc(m->p, cap * sizeof *np);
        if (!np) {
            m->unlisted++; /* still a problem: nothing is imported */
            return;
        }
        m->p = np;
        m->capp = cap;
    }
    problem *p = &m->p[m->np++];
    p->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
}

static int cmp_problem(const void *x, const void *y)
{
    const problem *a = x, *b = y;
    return (a->line > b->line) - (a->line < b->line);
}

/* ---- reading the file ---- */

/* The whole file into m->text, within the limit; false after saying why. */
static bool read_file(imp *m)
{
    FILE *f = fopen(m->file, "rb");
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "syncd admin: import: cannot read %s: %s\n", m->file,
                f ? "not a regular file" : strerror(errno));
        if (f)
            fclose(f);
        return false;
    }
    if (sb.st_size > SC_IMPORT_BYTES_MAX) {
        fprintf(stderr,
                "syncd admin: import: %s is %lld bytes; at most %d (8 MiB) are imported "
                "at once: split it\n",
                m->file, (long long)sb.st_size, SC_IMPORT_BYTES_MAX);
        fclose(f);
        return false;
    }
    m->text = malloc((size_t)sb.st_size + 1);
    size_t got = m->text ? fread(m->text, 1, (size_t)sb.st_size, f) : 0;
    bool ok = m->text && got == (size_t)sb.st_size && !ferror(f);
    fclose(f);
    if (!ok) {
        fprintf(stderr, "syncd admin: import: cannot read %s\n", m->file);
        return false;
    }
    m->text[got] = '\0';
    if (memchr(m->text, '\0', got)) {
        fprintf(stderr, "syncd admin: import: %s holds NUL bytes: it is not a CSV text file\n",
                m->file);
        return false;
    }
    return true;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/*
 * Split one line (NUL-terminated, no line break) into fields in place:
 * RFC 4180 quoting ("a, b" and "" for a quote inside quotes); fields are
 * trimmed of spaces.  Returns the count, or -1 with *why set.
 */
static int split_line(char *line, char **fields, const char **why)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == SC_IMPORT_FIELDS_MAX) {
            *why = "more fields than any import has columns";
            return -1;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        char *start = p, *out = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0') {
                    *why = "a quoted field is not closed on its line";
                    return -1;
                }
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p != ',' && *p != '\0') {
                *why = "text after a quoted field's closing quote";
                return -1;
            }
        } else {
            while (*p != ',' && *p != '\0') {
                if (*p == '"') {
                    *why = "a quote inside a field that does not start with one";
                    return -1;
                }
                *out++ = *p++;
            }
        }
        bool more = *p == ',';
        *out = '\0';
        fields[n++] = trim(start);
        if (!more)
            return n;
        p++;
    }
}

/* ---- the header ---- */

static int column_of(const imp_kind *k, const char *name)
{
    for (size_t c = 0; c < k->ncols; c++) {
        if (strcmp(name, k->cols[c].name) == 0)
            return (int)c;
        for (size_t a = 0; a < 3 && k->cols[c].alias[a]; a++)
            if (strcmp(name, k->cols[c].alias[a]) == 0)
                return (int)c;
    }
    return -1;
}

/* The columns of a kind, for messages: "code (编码), name (名称), ...". */
static void columns_text(const imp_kind *k, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t c = 0; c < k->ncols && at < cap; c++)
        at += (size_t)snprintf(out + at, cap - at, "%s%s (%s)%s", c ? ", " : "", k->cols[c].name,
                               k->cols[c].alias[0], k->cols[c].required ? "" : " optional");
}

/* Map the header's columns; false (problems said) when it is not this kind's. */
static bool read_header(imp *m, char **fields, int n, size_t line)
{
    char all[512];
    columns_text(m->k, all, sizeof all);
    bool ok = true, seen[COLS_MAX] = {false};
    m->nhead = (size_t)n;
    for (int i = 0; i < n; i++) {
        int c = column_of(m->k, fields[i]);
        m->colmap[i] = c;
        if (c < 0) {
            bad(m, line, "unknown column \"%s\"; the columns of %s are %s", fields[i], m->k->word,
                all);
            ok = false;
        } else if (seen[c]) {
            bad(m, line, "column %s appears twice", m->k->cols[c].name);
            ok = false;
        } else {
            seen[c] = true;
        }
    }
    for (size_t c = 0; c < m->k->ncols; c++)
        if (m->k->cols[c].required && !seen[c]) {
            bad(m, line, "the header lacks the column %s (%s); the columns of %s are %s",
                m->k->cols[c].name, m->k->cols[c].alias[0], m->k->word, all);
            ok = false;
        }
    return ok;
}

/* ---- the rows ---- */

/* Text the register will take: valid UTF-8, no control characters, within max bytes. */
static bool good_text(imp *m, size_t line, const char *col, const char *v, size_t max)
{
    size_t len = strlen(v);
    if (!sc_utf8_valid(v, len)) {
        bad(m, line, "%s is not valid UTF-8 (save the file as UTF-8)", col);
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            bad(m, line, "%s holds a control character", col);
            return false;
        }
    if (len > max) {
        bad(m, line, "%s is %zu bytes; at most %zu", col, len, max);
        return false;
    }
    return true;
}

/* A name of table t (or its Chinese alias); -1 after saying what is accepted. */
static int name_of(imp *m, size_t line, const char *col, const sc_names *t, const char *v)
{
    int out;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(v, aliases[i].zh) == 0)
            v = aliases[i].name;
    if (sc_name_parse(t, v, &out))
        return out;
    char list[512];
    size_t at = 0;
    list[0] = '\0';
    for (size_t i = 0; i < t->n && at < sizeof list; i++)
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", i ? " " : "", t->v[i].name);
    bad(m, line, "unknown %s \"%s\" (one of: %s)", col, v, list);
    return -1;
}

/* The entity of a code in the register; false (not a problem) when there is none. */
static bool in_register(imp *m, Scpb__EntityType type, const char *code, uint8_t out[SC_ID_LEN])
{
    sc_err err;
    sc_err_clear(&err);
    return sd_register_lookup_code(m->r, type, code, 0, out, &err) == SC_OK;
}

/* Fields of one row: texts, names, its own code not taken already. */
static void check_fields(imp *m, row *w)
{
    const imp_kind *k = m->k;
    size_t line = w->line;
    bool ok = true;
    for (size_t c = 0; c < k->ncols; c++) {
        if (!w->f[c]) {
            if (k->cols[c].required) {
                bad(m, line, "%s is empty", k->cols[c].name);
                ok = false;
            }
            continue;
        }
        ok = good_text(m, line, k->cols[c].name, w->f[c], k->cols[c].max) && ok;
    }
    w->level = w->okind = w->ttype = w->role = -1;
    if (k->type == SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT) {
        if (w->f[O_LEVEL] &&
            (w->level = name_of(m, line, "level", &sc_names_org_level, w->f[O_LEVEL])) < 0)
            ok = false;
        if (w->f[O_KIND] &&
            (w->okind = name_of(m, line, "kind", &sc_names_org_kind, w->f[O_KIND])) < 0)
            ok = false;
    } else if (k->type == SCPB__ENTITY_TYPE__ENTITY_TARGET) {
        if (w->f[T_TYPE] &&
            (w->ttype = name_of(m, line, "type", &sc_names_target_type, w->f[T_TYPE])) < 0)
            ok = false;
    } else if (w->f[U_ROLE] &&
               (w->role = name_of(m, line, "role", &sc_names_role, w->f[U_ROLE])) < 0) {
        ok = false;
    }
    uint8_t other[SC_ID_LEN];
    if (ok && in_register(m, k->type, w->f[C_CODE], other)) {
        bad(m, line, "%s \"%s\" is already in the register",
            k->type == SCPB__ENTITY_TYPE__ENTITY_USER ? "login" : "code", w->f[C_CODE]);
        ok = false;
    }
    w->bad = !ok;
}

/* A line into the header or a row: 1 taken, 0 a bad row (said), -1 stop (said). */
static int take_line(imp *m, char *line, size_t lineno)
{
    char *fields[SC_IMPORT_FIELDS_MAX];
    const char *why = NULL;
    int n = split_line(line, fields, &why);
    if (n < 0)
        bad(m, lineno, "%s", why);
    if (m->nhead == 0) /* the header: nothing can be read without it */
        return n >= 0 && read_header(m, fields, n, lineno) ? 1 : -1;
    if (n < 0)
        return 0;
    if (m->nrows == SC_IMPORT_ROWS_MAX) {
        bad(m, lineno, "more than %d rows; import the file in parts", SC_IMPORT_ROWS_MAX);
        return -1;
    }
    row *w = &m->rows[m->nrows++];
    memset(w, 0, sizeof *w);
    w->line = lineno;
    w->parent = SIZE_MAX;
    if ((size_t)n != m->nhead) {
        bad(m, lineno, "%d fields; the header has %zu", n, m->nhead);
        w->bad = true;
        return 0;
    }
    for (int i = 0; i < n; i++)
        if (m->colmap[i] >= 0 && fields[i][0])
            w->f[m->colmap[i]] = fields[i];
    check_fields(m, w);
    return 1;
}

/* Every line of the file; false when it cannot go on (a bad header, too many rows). */
static bool read_rows(imp *m)
{
    m->rows = calloc(SC_IMPORT_ROWS_MAX, sizeof *m->rows);
    if (!m->rows) {
        fprintf(stderr, "syncd admin: import: out of memory\n");
        return false;
    }
    char *p = m->text;
    if ((unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb && (unsigned char)p[2] == 0xbf)
        p += 3; /* the byte order mark spreadsheet programs write */
    size_t lineno = 0;
    while (*p) {
        char *nl = strchr(p, '\n');
        char *end = nl ? nl : p + strlen(p);
        char *next = nl ? nl + 1 : end;
        lineno++;
        size_t len = (size_t)(end - p);
        if (len && p[len - 1] == '\r')
            len--;
        p[len] = '\0';
        /* Blank lines, and rows of empty cells a spreadsheet leaves at the end, are skipped. */
        if (strspn(p, " \t,") != len) {
            if (len > SC_IMPORT_LINE_MAX) {
                bad(m, lineno, "the line is %zu bytes; at most %d", len, SC_IMPORT_LINE_MAX);
                if (m->nhead == 0)
                    return false;
            } else if (take_line(m, p, lineno) < 0) {
                return false;
            }
        }
        p = next;
    }
    if (m->nhead == 0) {
        bad(m, lineno ? lineno : 1, "the file has no header line");
        return false;
    }
    return true;
}

/* ---- codes within the file, and references ---- */

static imp *sort_ctx; /* qsort has no context argument; the command is single-threaded */

static int cmp_row_code(const void *x, const void *y)
{
    const row *a = &sort_ctx->rows[*(const size_t *)x], *b = &sort_ctx->rows[*(const size_t *)y];
    int c = strcmp(a->f[C_CODE] ? a->f[C_CODE] : "", b->f[C_CODE] ? b->f[C_CODE] : "");
    return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* Rows sorted by code (then line), for repeats and for finding a parent in the file. */
static size_t *by_code(imp *m)
{
    size_t *ix = malloc((m->nrows + 1) * sizeof *ix);
    if (!ix)
        return NULL;
    for (size_t i = 0; i < m->nrows; i++)
        ix[i] = i;
    sort_ctx = m;
    qsort(ix, m->nrows, sizeof *ix, cmp_row_code);
    return ix;
}

/* The first row of the file with this code, or SIZE_MAX. */
static size_t row_with_code(const imp *m, const size_t *ix, const char *code)
{
    size_t lo = 0, hi = m->nrows;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *c = m->rows[ix[mid]].f[C_CODE];
        if (strcmp(c ? c : "", code) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nrows && m->rows[ix[lo]].f[C_CODE] &&
                   strcmp(m->rows[ix[lo]].f[C_CODE], code) == 0
               ? ix[lo]
               : SIZE_MAX;
}

static void check_repeats(imp *m, const size_t *ix)
{
    for (size_t i = 1; i < m->nrows; i++) {
        row *a = &m->rows[ix[i - 1]], *b = &m->rows[ix[i]];
        if (a->f[C_CODE] && b->f[C_CODE] && strcmp(a->f[C_CODE], b->f[C_CODE]) == 0) {
            /* a is the earliest line with the code (the sort keeps lines in order). */
            size_t first = i - 1;
            while (first > 0 &&
                   strcmp(m->rows[ix[first - 1]].f[C_CODE] ? m->rows[ix[first - 1]].f[C_CODE] : "",
                          b->f[C_CODE]) == 0)
                first--;
            bad(m, b->line, "%s \"%s\" is already on line %zu",
                m->k->type == SCPB__ENTITY_TYPE__ENTITY_USER ? "login" : "code", b->f[C_CODE],
                m->rows[ix[first]].line);
            b->bad = true;
        }
    }
}

/* A target's or user's org unit: in the register. */
static void check_org_refs(imp *m)
{
    size_t col = m->k->type == SCPB__ENTITY_TYPE__ENTITY_USER ? U_ORG : T_ORG;
    for (size_t i = 0; i < m->nrows; i++) {
        row *w = &m->rows[i];
        if (!w->f[col])
            continue;
        if (in_register(m, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, w->f[col], w->ref)) {
            w->has_ref = true;
        } else {
            bad(m, w->line, "no org unit \"%s\" in the register (import the org units first)",
                w->f[col]);
            w->bad = true;
        }
    }
}

/* An org unit's parent: in the register, or a row of the file. */
static void find_parents(imp *m, const size_t *ix)
{
    for (size_t i = 0; i < m->nrows; i++) {
        row *w = &m->rows[i];
        const char *pc = w->f[O_PARENT];
        if (!pc)
            continue;
        size_t p = row_with_code(m, ix, pc);
        if (p != SIZE_MAX) {
            w->parent = p;
        } else if (in_register(m, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, pc, w->ref)) {
            w->has_ref = true;
        } else {
            bad(m, w->line, "no org unit \"%s\" in the register or in the file", pc);
            w->bad = true;
        }
    }
}

/* The level of an org unit of the register (0 when unknown). */
static int register_level(imp *m, const uint8_t id[SC_ID_LEN])
{
    Scpb__EntityState *st = NULL;
    sc_err err;
    sc_err_clear(&err);
    int level = 0;
    if (sd_register_state(m->r, id, &st, &err) == SC_OK && st->org && st->org->has_level)
        level = (int)st->org->level;
    sd_state_free(st);
    return level;
}

/* Place row w after its parents (walking up its chain); said when the chain loops or is bad. */
static void place(imp *m, size_t w0, size_t *walk, unsigned *stamp, unsigned mark, size_t *norder)
{
    size_t depth = 0;
    for (size_t i = w0; i != SIZE_MAX && !m->rows[i].placed; i = m->rows[i].parent) {
        if (stamp[i] == mark) {
            char lines[128] = "";
            size_t at = 0, from = 0;
            while (walk[from] != i)
                from++;
            for (size_t k = from; k < depth && at < sizeof lines; k++)
                at += (size_t)snprintf(lines + at, sizeof lines - at, "%s%zu", k > from ? ", " : "",
                                       m->rows[walk[k]].line);
            bad(m, m->rows[w0].line, "the parents of org unit \"%s\" go round in a loop (lines %s)",
                m->rows[w0].f[C_CODE], lines);
            m->rows[w0].bad = true;
            return;
        }
        stamp[i] = mark;
        walk[depth++] = i;
    }
    /* From the top: each one's parent is placed (or in the register) when it is. */
    while (depth > 0) {
        row *w = &m->rows[walk[--depth]];
        w->placed = true;
        int plevel = w->parent != SIZE_MAX ? m->rows[w->parent].level
                     : w->has_ref          ? register_level(m, w->ref)
                                           : 0;
        if (w->parent != SIZE_MAX && m->rows[w->parent].bad && !w->bad) {
            bad(m, w->line, "its parent \"%s\" is on line %zu, which has problems", w->f[O_PARENT],
                m->rows[w->parent].line);
            w->bad = true;
        }
        if (w->level < 0) /* as `org add`: a root is a city, a child one level below its parent */
            w->level = plevel <= 0                                 ? SCPB__ORG_LEVEL__LEVEL_CITY
                       : plevel < SCPB__ORG_LEVEL__LEVEL_HOUSEHOLD ? plevel + 1
                                                                   : plevel;
        m->order[(*norder)++] = (size_t)(w - m->rows);
    }
}

/* The order ops are logged in: file order, each org unit after the parent it has in the file. */
static bool order_rows(imp *m, const size_t *ix)
{
    m->order = malloc((m->nrows + 1) * sizeof *m->order);
    if (!m->order)
        return false;
    if (m->k->type != SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT) {
        check_org_refs(m);
        for (size_t i = 0; i < m->nrows; i++)
            m->order[i] = i;
        return true;
    }
    find_parents(m, ix);
    size_t *walk = malloc((m->nrows + 1) * sizeof *walk);
    unsigned *stamp = calloc(m->nrows + 1, sizeof *stamp);
    size_t n = 0;
    for (size_t i = 0; walk && stamp && i < m->nrows; i++)
        if (!m->rows[i].placed)
            place(m, i, walk, stamp, (unsigned)i + 1, &n);
    bool ok = walk && stamp;
    free(walk);
    free(stamp);
    return ok;
}

/* ---- the ops ---- */

typedef struct bodies {
    Scpb__Op *ops;
    Scpb__Op **ptrs;
    Scpb__OrgCreate *org;
    Scpb__TargetCreate *target;
    Scpb__UserCreate *user;
} bodies;

/* The op of row w (its bodies' slot i). */
static void build_op(imp *m, bodies *b, size_t i, row *w)
{
    Scpb__Op *op = &b->ops[i];
    scpb__op__init(op);
    sc_uuid7_new(sd_register_env(m->r), w->id);
    op->has_entity = true;
    op->entity.data = w->id;
    op->entity.len = SC_ID_LEN;
    op->has_entity_type = true;
    op->entity_type = m->k->type;
    b->ptrs[i] = op;
    if (m->k->type == SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT) {
        Scpb__OrgCreate *o = &b->org[i];
        scpb__org_create__init(o);
        o->code = w->f[C_CODE];
        o->name = w->f[C_NAME];
        o->has_level = true;
        o->level = (Scpb__OrgLevel)w->level;
        o->has_kind = w->okind >= 0;
        o->kind = (Scpb__OrgKind)(w->okind >= 0 ? w->okind : 0);
        const uint8_t *parent = w->parent != SIZE_MAX ? m->rows[w->parent].id
                                : w->has_ref          ? w->ref
                                                      : NULL;
        o->has_parent = parent != NULL;
        o->parent.data = (uint8_t *)parent;
        o->parent.len = parent ? SC_ID_LEN : 0;
        op->body_case = SCPB__OP__BODY_ORG_CREATE;
        op->org_create = o;
    } else if (m->k->type == SCPB__ENTITY_TYPE__ENTITY_TARGET) {
        Scpb__TargetCreate *t = &b->target[i];
        scpb__target_create__init(t);
        t->code = w->f[C_CODE];
        t->name = w->f[C_NAME];
        t->has_org = true;
        t->org = (ProtobufCBinaryData){SC_ID_LEN, w->ref};
        t->has_type = w->ttype >= 0;
        t->type = (Scpb__TargetType)(w->ttype >= 0 ? w->ttype : 0);
        t->address = w->f[T_ADDRESS];
        op->body_case = SCPB__OP__BODY_TARGET_CREATE;
        op->target_create = t;
    } else {
        Scpb__UserCreate *u = &b->user[i];
        scpb__user_create__init(u);
        u->login = w->f[C_CODE];
        u->name = w->f[C_NAME];
        u->has_role = true;
        u->role = (Scpb__Role)w->role;
        u->has_org = true;
        u->org = (ProtobufCBinaryData){SC_ID_LEN, w->ref};
        op->body_case = SCPB__OP__BODY_USER_CREATE;
        op->user_create = u;
    }
}

/* Log every row's op in one transaction; 0 when all were logged, else 1 (said). */
static int submit_all(imp *m)
{
    size_t n = m->nrows;
    bodies b = {calloc(n + 1, sizeof *b.ops), calloc(n + 1, sizeof *b.ptrs),
                calloc(n + 1, sizeof *b.org), calloc(n + 1, sizeof *b.target),
                calloc(n + 1, sizeof *b.user)};
    sd_result *res = calloc(n + 1, sizeof *res);
    int rc = 1;
    bool logged = false;
    sc_err err;
    sc_err_clear(&err);
    if (!b.ops || !b.ptrs || !b.org || !b.target || !b.user || !res) {
        fprintf(stderr, "syncd admin: import: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        build_op(m, &b, i, &m->rows[m->order[i]]);
    if (sd_register_admin_ops(m->r, b.ptrs, n, true, res, &logged, &err) != SC_OK) {
        sd_adm_fail("import", &err);
        goto done;
    }
    for (size_t i = 0; !logged && i < n; i++)
        if (res[i].status == SCPB__OP_STATUS__OP_REJECTED) {
            m->rows[m->order[i]].bad = true; /* counted in the verdict's "in N of M rows" */
            bad(m, m->rows[m->order[i]].line, "%s", res[i].message);
        }
    if (logged) {
        printf("imported %zu %s from %s (log indexes %llu to %llu)\n", n, m->k->things, m->file,
               (unsigned long long)res[0].log_index, (unsigned long long)res[n - 1].log_index);
        rc = 0;
    }
done:
    free(b.ops);
    free(b.ptrs);
    free(b.org);
    free(b.target);
    free(b.user);
    free(res);
    return rc;
}

/* Every problem, by line, and the verdict. */
static int report(imp *m)
{
    qsort(m->p, m->np, sizeof *m->p, cmp_problem);
    for (size_t i = 0; i < m->np; i++)
        fprintf(stderr, "%s:%zu: %s\n", m->file, m->p[i].line, m->p[i].msg);
    size_t badrows = 0;
    for (size_t i = 0; i < m->nrows; i++)
        badrows += m->rows[i].bad;
    if (m->unlisted)
        fprintf(stderr, "%s: %zu more problems, not listed (out of memory)\n", m->file,
                m->unlisted);
    size_t n = m->np + m->unlisted;
    fprintf(stderr, "syncd admin: import: nothing imported: %zu problem%s", n, n == 1 ? "" : "s");
    if (m->nrows)
        fprintf(stderr, " in %zu of %zu rows", badrows, m->nrows);
    fprintf(stderr, " of %s\n", m->file);
    return 1;
}

int sd_adm_import(sd_register *r, const char *data, const sd_adm_args *a)
{
    (void)data;
    imp m;
    memset(&m, 0, sizeof m);
    m.r = r;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (strcmp(a->word[1], kinds[k].word) == 0)
            m.k = &kinds[k];
    if (!m.k) { /* docs/operations.md, "Importing from a spreadsheet", lists the columns */
        fprintf(stderr,
                "syncd admin import: nothing to import as \"%s\" (one of: orgs targets users)\n",
                a->word[1]);
        return SD_ADM_USAGE;
    }
    m.file = a->word[2];
    int rc = 1;
    if (!read_file(&m))
        goto done;
    size_t *ix = NULL;
    bool go = read_rows(&m);
    if (go && m.nrows == 0)
        bad(&m, 1, "no rows under the header");
    if (go && m.nrows && (ix = by_code(&m)) != NULL) {
        check_repeats(&m, ix);
        if (!order_rows(&m, ix))
            bad(&m, 1, "out of memory");
    }
    free(ix);
    if (m.np == 0 && m.unlisted == 0 && go && m.nrows)
        rc = submit_all(&m);
    if (m.np || m.unlisted)
        rc = report(&m);
done:
    free(m.text);
    free(m.rows);
    free(m.p);
    free(m.order);
    return rc;
}
