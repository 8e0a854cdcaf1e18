/*
 * ledger.h: ledgers (台账) of findings and inspections, row by row, shared
 * by the client (its replica: what its user may see) and syncd (the whole
 * register).  The columns, the names in Chinese and English, the figures
 * of a row (the deadline in force, days overdue, look-backs, reopens,
 * photos) and the CSV line are this module's; where the states come from
 * is the caller's, through an sc_ledger_src.
 *
 * A ledger holds one row at a time and a cache of the org units, targets,
 * users and score sheets it has looked up (the register's admin facts, whose
 * number does not grow with its findings), so writing one costs constant
 * memory however many rows it has.  Nothing here reads a clock or a file:
 * the day overdue days are counted to is the caller's (sc_ledger_spec.as_of).
 */
#ifndef SC_CORE_LEDGER_H
#define SC_CORE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "limits.h"
#include "state.pb-c.h"
#include "status.h"

/* The findings ledger's columns in order: a row's cells by index (the period report reads them). */
enum {
    FC_ID, FC_TARGET_CODE, FC_TARGET, FC_UNIT, FC_GRADE, FC_CATEGORY, FC_DESCRIPTION, FC_SOURCE,
    FC_KIND, FC_DISCLOSURE, FC_FOUND, FC_DEADLINE, FC_EXTENSIONS, FC_RESPONSIBLE, FC_PERSON,
    FC_SIGNED_FOR, FC_SIGNED_FOR_BY, FC_STATUS, FC_RECTIFIED, FC_ACCEPTED, FC_CLOSED, FC_OVERDUE,
    FC_LOOK_BACKS, FC_REOPENS, FC_PHOTOS, FC_OP, FC_N
};

/* An op of an entity: its id, kind (Scpb__Op__BodyCase) and HLC; false stops. */
typedef bool (*sc_ledger_op_fn)(void *ctx, const uint8_t op[SC_HASH_LEN], int kind, uint64_t hlc);

/* Where a ledger's states come from: each side's. */
typedef struct sc_ledger_src {
    void *ctx;
    /* The state of entity id into *out (freed by the ledger with sc_state_free), or
     * SC_ERR_NOT_FOUND when the caller has none, or a failure. */
    sc_status (*state)(void *ctx, const uint8_t id[SC_ID_LEN], Scpb__EntityState **out);
    /* The name of the person a device key speaks for into out (cap bytes; "" when
     * unknown). */
    sc_status (*person)(void *ctx, const uint8_t key[SC_KEY_LEN], char *out, size_t cap);
    /* Each op of entity id, to fn(fctx, ...), in any order. */
    sc_status (*ops)(void *ctx, const uint8_t id[SC_ID_LEN], sc_ledger_op_fn fn, void *fctx);
} sc_ledger_src;

/* A ledger query, parsed. */
typedef struct sc_ledger_spec {
    bool checks;            /* the inspections ledger (else the findings') */
    bool en;                /* English headers and names (else Chinese) */
    bool has_org;
    uint8_t org[SC_ID_LEN]; /* only targets in this org unit's subtree */
    bool has_target;
    uint8_t target[SC_ID_LEN];
    bool has_period;
    int32_t from, to;       /* found (opened) between these days, inclusive */
    int grade;              /* Scpb__Grade, -1: any */
    int status;             /* Scpb__FindingStatus or Scpb__InspectionStatus, -1: any */
    int kind;               /* Scpb__InspectionKind, -1: any */
    int source;             /* Scpb__FindingSource, -1: any */
    int32_t as_of;          /* the day days overdue are counted to */
} sc_ledger_spec;

/*
 * Parse q's names and days into *out (org and target are left unset: codes
 * are the caller's to resolve).  today is as_of's default.  A name that is
 * not valid is SC_ERR_INVALID_ARG with the valid ones in err.
 */
sc_status sc_ledger_spec_parse(const sc_ledger_query *q, int32_t today, sc_ledger_spec *out,
                               sc_err *err);

/*
 * A period: YYYY-MM-DD, YYYY-Www (ISO 8601 week, Monday first), YYYY-MM,
 * YYYY-Qn, YYYY, or FROM..TO (two days, FROM not after TO), into the first
 * and last day.  SC_ERR_INVALID_ARG when it is none of these.
 */
sc_status sc_period_parse(const char *text, int32_t *from, int32_t *to);

typedef struct sc_ledger sc_ledger;

/* A new ledger over src for spec (both copied). */
sc_status sc_ledger_new(const sc_env *env, const sc_ledger_src *src, const sc_ledger_spec *spec,
                        sc_ledger **out);
/* Free it; NULL is a no-op. */
void sc_ledger_free(sc_ledger *lg);
/* The entity type the ledger's rows are of (Scpb__EntityType): what the caller scans. */
int sc_ledger_entity_type(const sc_ledger *lg);
/* The header row, to fn. */
sc_status sc_ledger_header(sc_ledger *lg, sc_ledger_fn fn, void *ctx, sc_err *err);
/*
 * The row of st, to fn, when st is of the ledger's type, not voided, and
 * passes the filters (else nothing).  A failure of the source, or fn
 * stopping (SC_ERR_IO), is returned with err saying which.
 */
sc_status sc_ledger_add(sc_ledger *lg, const Scpb__EntityState *st, sc_ledger_fn fn, void *ctx,
                        sc_err *err);
/* What the rows so far counted (out->size is kept). */
void sc_ledger_totals_get(const sc_ledger *lg, sc_ledger_totals *out);

/*
 * One CSV field list as a line (RFC 4180: a field with a comma, quote, CR
 * or LF is quoted, quotes doubled; CRLF at the end) into *buf (grown with
 * env; *cap its size), its length in *len.  bom: begin with the UTF-8 BOM.
 */
sc_status sc_csv_line(const sc_env *env, const sc_ledger_cell *cells, size_t n, bool bom,
                      char **buf, size_t *cap, size_t *len);

#endif
