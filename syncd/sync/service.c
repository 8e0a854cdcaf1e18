/*
 * service.c: answers and signed requests (see service.h).
 *
 * The steps of authentication are those auth.h describes; this module adds
 * the register's word on the device (auth.c does not depend on the
 * register) and turns every failure into the answer the protocol gives it.
 */
#include "service.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "core/reason.h"

void sd_answer_set(sd_answer *a, unsigned status, int reason, const char *fmt, ...)
{
    memset(a, 0, sizeof *a);
    a->status = status;
    a->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
}

/* The status for a failure reported by the register, the blob store or the auth checks. */
static unsigned status_of_reason(int reason)
{
    switch (reason) {
    case SC_REASON_MALFORMED:
    case SC_REASON_BAD_FIELD:
        return SD_HTTP_BAD_REQUEST;
    case SC_REASON_BAD_SIGNATURE:
    case SC_REASON_UNKNOWN_DEVICE:
        return SD_HTTP_UNAUTHORIZED;
    case SC_REASON_DEVICE_REVOKED:
    case SC_REASON_USER_DISABLED:
    case SC_REASON_FORBIDDEN_ROLE:
        return SD_HTTP_FORBIDDEN;
    case SC_REASON_ENTITY_EXISTS:
        return SD_HTTP_CONFLICT;
    case SC_REASON_TOO_LARGE:
    case SC_REASON_BATCH_LIMIT:
        return SD_HTTP_TOO_LARGE;
    case SC_REASON_REQUEST_TIME:
    case SC_REASON_NONCE_USED:
        return SD_HTTP_UNAUTHORIZED;
    case SC_REASON_RATE_LIMITED:
        return SD_HTTP_TOO_MANY_REQUESTS;
    case SC_REASON_QUOTA:
        return SD_HTTP_INSUFFICIENT_STORAGE;
    default:
        return SD_HTTP_UNAVAILABLE;
    }
}

void sd_answer_from_err(const sc_err *e, sd_answer *a)
{
    /* A failure without a protocol reason is the server's, not the client's. */
    int reason = e->reason == SC_REASON_NONE ? SC_REASON_STORAGE : e->reason;
    sd_answer_set(a, status_of_reason(reason), reason, "%s",
                  e->msg[0] ? e->msg : sc_strerror(e->code));
}

/* The answer to e, returning its code. */
static sc_status refuse(const sc_err *e, int64_t retry_ms, sd_answer *a)
{
    sd_answer_from_err(e, a);
    a->retry_ms = retry_ms;
    return e->code != SC_OK ? e->code : SC_ERR_INTERNAL;
}

/*
 * Resolve the signing device: enrolled, else 401 unknown_device, told
 * before the signature is checked.  The register has no key to check an
 * unknown device's signature with: one that verifies under the key the
 * request names proves only that the sender made that key, and a key
 * somebody else made is known only from its DeviceEnroll op, enrolled.
 * The user's state is read for every request, so a disable or a role
 * change takes effect on the next request.  Revoked and disabled are not
 * told here but once the signature verified (refuse_standing).
 */
static sc_status resolve_device(sd_register *r, const sd_auth_req *ar, sd_principal *who,
                                sc_err *err)
{
    memset(who, 0, sizeof *who);
    sc_status rc = sd_register_principal(r, ar->device, who, err);
    if (rc == SC_ERR_NOT_FOUND)
        return sc_err_set(err, SC_ERR_NOT_FOUND, SC_REASON_UNKNOWN_DEVICE,
                          "device key is not enrolled");
    if (rc != SC_OK && err->reason == SC_REASON_NONE)
        err->reason = SC_REASON_STORAGE;
    return rc;
}

/*
 * A request whose signature verified under an enrolled key: its device is
 * not revoked (else 403 device_revoked) and its user not disabled (else 403
 * user_disabled, naming the login).  Device keys are public (every user
 * pulls the DeviceEnroll ops), so told before the signature, anyone could
 * ask the register about any device with a garbage signature; a bad one is
 * answered alike for every enrolled device.  The register is read again:
 * http.c identifies and verifies in steps that share only the parsed
 * headers, and a revocation since the first read is seen.
 */
static sc_status refuse_standing(const sd_service *s, const sd_auth_req *ar, sd_answer *a)
{
    sc_err e;
    sc_err_clear(&e);
    sd_principal who;
    if (resolve_device(s->reg, ar, &who, &e) == SC_OK) {
        if (who.revoked)
            sc_err_set(&e, SC_ERR_FORBIDDEN, SC_REASON_DEVICE_REVOKED, "device is revoked");
        else if (who.disabled)
            sc_err_set(&e, SC_ERR_FORBIDDEN, SC_REASON_USER_DISABLED,
                       "user %s is disabled; its devices are refused until an admin enables "
                       "it again",
                       who.login);
        else
            return SC_OK;
    }
    return refuse(&e, 0, a);
}

/*
 * The share comes before the register is asked about the device: a device
 * flooding with requests costs a lookup in memory per request, not a read
 * of the register.
 */
sc_status sd_service_identify(const sd_service *s, const sd_auth_headers *h, sd_auth_req *ar,
                              sd_principal *who, sd_answer *a)
{
    sc_err e;
    sc_err_clear(&e);
    int64_t retry_ms = 0;
    int64_t now = s->env->now_ms(s->env->ctx);
    if (sd_auth_parse(s->auth, h, now, ar, &e) != SC_OK ||
        sd_auth_admit(s->auth, ar, now, &retry_ms, &e) != SC_OK ||
        resolve_device(s->reg, ar, who, &e) != SC_OK)
        return refuse(&e, retry_ms, a);
    return SC_OK;
}

/*
 * A signed request that has a body declares the body's hash, and its
 * signature is checked against it before the body is read: nobody but the
 * device's key holder gets a byte of a body read, buffered or written to
 * the blob store.  The bytes are checked against the declared hash when
 * they are all in.
 */
sc_status sd_service_verify_early(const sd_service *s, const sd_auth_req *ar, const char *method,
                                  const char *target, size_t target_len, bool has_body,
                                  bool *verified, sd_answer *a)
{
    *verified = false;
    if (!ar->has_body_hash) {
        if (!has_body)
            return SC_OK; /* verified with the (empty) body at its end, as always */
        sd_answer_set(a, SD_HTTP_UNAUTHORIZED, SC_REASON_BAD_SIGNATURE,
                      "missing header %s: a signed request with a body declares the body's "
                      "SHA-256 (docs/protocol.md §3)",
                      SD_HDR_BODY_HASH);
        return SC_ERR_BAD_SIGNATURE;
    }
    sc_err e;
    sc_err_clear(&e);
    if (sd_auth_check(s->auth, ar, method, target, target_len, ar->body_hash,
                      s->env->now_ms(s->env->ctx), &e) != SC_OK)
        return refuse(&e, 0, a);
    sc_status rc = refuse_standing(s, ar, a);
    *verified = rc == SC_OK;
    return rc;
}

sc_status sd_service_verify_body(const sd_service *s, const sd_auth_req *ar, bool verified,
                                 const char *method, const char *target, size_t target_len,
                                 const uint8_t body_hash[SC_HASH_LEN], sd_answer *a)
{
    sc_err e;
    sc_err_clear(&e);
    int64_t retry_ms = 0;
    int64_t now = s->env->now_ms(s->env->ctx);
    sc_status rc;
    if (!verified) {
        /* sd_auth_verify's two steps, with the device's standing told between them. */
        rc = sd_auth_check(s->auth, ar, method, target, target_len, body_hash, now, &e);
        if (rc != SC_OK)
            return refuse(&e, 0, a);
        if ((rc = refuse_standing(s, ar, a)) != SC_OK)
            return rc;
    } else if (memcmp(body_hash, ar->body_hash, SC_HASH_LEN) != 0) {
        rc = sc_err_set(&e, SC_ERR_BAD_SIGNATURE, SC_REASON_BAD_SIGNATURE,
                        "the body does not hash to its %s (changed or cut in transit)",
                        SD_HDR_BODY_HASH);
        return refuse(&e, 0, a);
    }
    /* An active device's request (its standing told above, or early): a revoked one takes no
     * share of the replay cache. */
    if ((rc = sd_auth_record(s->auth, ar, now, &retry_ms, &e)) != SC_OK)
        return refuse(&e, retry_ms, a);
    if (s->seen)
        sd_seen_note(s->seen, ar->device, ar->agent, now);
    return SC_OK;
}

sc_status sd_service_authenticate(const sd_service *s, const char *method, const char *target,
                                  size_t target_len, const sd_auth_headers *h, const uint8_t *body,
                                  size_t body_len, sd_principal *who, sd_req_meta *meta,
                                  sd_answer *a)
{
    sd_auth_req ar;
    bool verified = false;
    memset(meta, 0, sizeof *meta);
    sc_status rc = sd_service_identify(s, h, &ar, who, a);
    if (rc == SC_OK)
        rc =
            sd_service_verify_early(s, &ar, method, target, target_len, body_len > 0, &verified, a);
    if (rc != SC_OK)
        return rc;
    sc_sha256(body, body_len, meta->body_hash);
    if ((rc = sd_service_verify_body(s, &ar, verified, method, target, target_len, meta->body_hash,
                                     a)) != SC_OK)
        return rc;
    memcpy(meta->nonce, ar.nonce, sizeof meta->nonce);
    return SC_OK;
}
