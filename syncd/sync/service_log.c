/*
 * service_log.c: enrollment and the log endpoints (docs/protocol.md §4.1,
 * §4.4; see service.h): each the register's answer, or the refusal the
 * protocol gives its failure.
 */
#include "service.h"

#include <inttypes.h>

#include "core/reason.h"

/* The register's failure e as the answer; returns its status (never SC_OK). */
static sc_status refused(const sc_err *e, sc_status rc, sd_answer *a)
{
    sd_answer_from_err(e, a);
    return rc != SC_OK ? rc : SC_ERR_INTERNAL;
}

sc_status sd_enroll_serve(const sd_service *s, const Scpb__EnrollRequest *req,
                          Scpb__EnrollResponse **out, sd_answer *a)
{
    sc_err e;
    sc_err_clear(&e);
    const char *why = NULL;
    sc_status rc = sd_register_enroll(s->reg, req, out, &why, &e);
    if (rc != SC_OK) {
        sd_msg_free(*out);
        *out = NULL;
        rc = refused(&e, rc, a);
        a->log_reason = why;
        return rc;
    }
    return SC_OK;
}

sc_status sd_checkpoint_serve(const sd_service *s, Scpb__Checkpoint **out, sd_answer *a)
{
    sc_err e;
    sc_err_clear(&e);
    *out = NULL;
    sc_status rc = sd_register_checkpoint(s->reg, out, &e);
    if (rc != SC_OK) {
        sd_msg_free(*out);
        *out = NULL;
        return refused(&e, rc, a);
    }
    return SC_OK;
}

sc_status sd_inclusion_serve(const sd_service *s, uint64_t index, uint64_t size,
                             Scpb__InclusionProof **out, sd_answer *a)
{
    sc_err e;
    sc_err_clear(&e);
    *out = NULL;
    sc_status rc = sd_register_inclusion(s->reg, index, size, out, &e);
    if (rc != SC_OK) {
        sd_msg_free(*out);
        *out = NULL;
        return refused(&e, rc, a);
    }
    return SC_OK;
}

sc_status sd_consistency_serve(const sd_service *s, uint64_t old, uint64_t size,
                               Scpb__ConsistencyProof **out, sd_answer *a)
{
    *out = NULL;
    if (old == 0 || old > size) {
        sd_answer_set(a, SD_HTTP_BAD_REQUEST, SC_REASON_BAD_FIELD,
                      "need 0 < old <= size, got old %" PRIu64 " and size %" PRIu64, old, size);
        return SC_ERR_INVALID_ARG;
    }
    sc_err e;
    sc_err_clear(&e);
    sc_status rc = sd_register_consistency(s->reg, old, size, out, &e);
    if (rc != SC_OK) {
        sd_msg_free(*out);
        *out = NULL;
        return refused(&e, rc, a);
    }
    return SC_OK;
}

sc_status sd_entries_serve(const sd_service *s, const sd_principal *who, uint64_t start,
                           uint64_t count, Scpb__LogEntries **out, sd_answer *a)
{
    *out = NULL;
    if (count == 0 || count > SC_LOG_ENTRIES_MAX) {
        sd_answer_set(a, SD_HTTP_BAD_REQUEST, SC_REASON_BAD_FIELD, "count must be between 1 and %d",
                      SC_LOG_ENTRIES_MAX);
        return SC_ERR_INVALID_ARG;
    }
    sc_err e;
    sc_err_clear(&e);
    sc_status rc = sd_register_entries(s->reg, who, start, (uint32_t)count, out, &e);
    if (rc != SC_OK) {
        sd_msg_free(*out);
        *out = NULL;
        /* The register refuses a role without a reason: the protocol's is the role. */
        if (e.code == SC_ERR_FORBIDDEN && e.reason == SC_REASON_NONE)
            e.reason = SC_REASON_FORBIDDEN_ROLE;
        return refused(&e, rc, a);
    }
    return SC_OK;
}
