/*
 * service_photos.c: reading and uploading photos (docs/protocol.md §4.3;
 * see service.h).
 *
 * A photo is read only by a device that can see an op naming it; to any
 * other device every answer (status, reason, message, headers) is that of
 * an absent photo, and an upload of it is taken like an absent one's, all
 * of it.  Upload offsets are the asking device's own (blobs.h).
 */
#include "service.h"

#include <inttypes.h>
#include <string.h>

#include "base/metrics.h"
#include "core/ids.h"
#include "core/names.h"
#include "core/policy.h"
#include "core/reason.h"

/*
 * May `who` read photo `name`: is it named by an op the device can see?
 * SC_OK and *out; a storage status (e set) when the register cannot say.
 */
static sc_status photo_visible(const sd_service *s, const sd_principal *who, const char *name,
                               bool *out, sc_err *e)
{
    uint8_t sha[1][SC_HASH_LEN];
    *out = false;
    if (sc_hex_decode(name, SD_BLOB_NAME_LEN, sha[0], SC_HASH_LEN) != SC_OK)
        return sc_err_set(e, SC_ERR_MALFORMED, SC_REASON_BAD_FIELD,
                          "a blob name is 64 lowercase hex digits");
    return sd_register_photos_visible(s->reg, who, (const uint8_t(*)[SC_HASH_LEN])sha, 1, out, e);
}

/*
 * What `who` may know of photo `name`: *visible (an op it can see names
 * it) and *info (stored, and its own upload's offset).  A failure is
 * answered in *a.
 */
static sc_status photo_look(const sd_service *s, const sd_principal *who, const char *name,
                            bool *visible, sd_blob_info *info, sd_answer *a)
{
    sc_err e;
    sc_err_clear(&e);
    if (photo_visible(s, who, name, visible, &e) != SC_OK ||
        sd_blobs_stat(s->blobs, who->device, name, info, &e) != SC_OK) {
        sd_answer_from_err(&e, a);
        return e.code != SC_OK ? e.code : SC_ERR_STORAGE;
    }
    return SC_OK;
}

/* The answer of an upload: status, reason and message, and the device's offset. */
static void answer_offset(sd_answer *a, unsigned status, int reason, uint64_t offset,
                          const char *msg)
{
    sd_answer_set(a, status, reason, "%s", msg);
    a->has_offset = true;
    a->offset = offset;
}

sc_status sd_photo_read(const sd_service *s, const sd_principal *who, const char *name, bool head,
                        int *fd, uint64_t *size, sd_answer *a)
{
    bool visible = false;
    sd_blob_info info;
    *fd = -1;
    *size = 0;
    sc_status rc = photo_look(s, who, name, &visible, &info, a);
    if (rc != SC_OK)
        return rc;
    sc_err e;
    sc_err_clear(&e);
    rc = visible && info.stored ? sd_blobs_open_read(s->blobs, name, fd, size, &e)
                                : SC_ERR_NOT_FOUND;
    if (rc == SC_ERR_NOT_FOUND) {
        sd_answer_set(a, SD_HTTP_NOT_FOUND, SC_REASON_NONE, "blob is not stored");
        if (head) {
            a->has_offset = true;
            a->offset = info.offset;
        }
    } else if (rc != SC_OK) {
        sd_answer_from_err(&e, a);
    }
    return rc;
}

sc_status sd_photo_may_upload(const sd_principal *who, sd_answer *a)
{
    if (sc_policy_allows_some(who->role, SCPB__OP__BODY_PHOTO_ATTACH))
        return SC_OK;
    const char *role = sc_name_of(&sc_names_role, who->role);
    sd_answer_set(a, SD_HTTP_FORBIDDEN, SC_REASON_FORBIDDEN_ROLE,
                  "the %s role may not attach photos, so it may not upload them",
                  role ? role : "device's");
    return SC_ERR_FORBIDDEN;
}

/* A chunk's range and length against the limits. */
static sc_status put_check(const sd_config *cfg, const sd_photo_chunk *p, bool has_cl,
                           uint64_t clen, sd_answer *a)
{
    if (p->total > cfg->blob_max) {
        sd_answer_set(a, SD_HTTP_TOO_LARGE, SC_REASON_TOO_LARGE,
                      "blob of %" PRIu64 " bytes exceeds blobs.max_size %" PRIu64, p->total,
                      cfg->blob_max);
        return SC_ERR_TOO_LARGE;
    }
    if (p->len > cfg->blob_chunk_max) {
        sd_answer_set(a, SD_HTTP_TOO_LARGE, SC_REASON_TOO_LARGE,
                      "chunk of %" PRIu64 " bytes exceeds blobs.chunk_max %" PRIu64, p->len,
                      cfg->blob_chunk_max);
        return SC_ERR_TOO_LARGE;
    }
    if (!has_cl || clen != p->len) {
        sd_answer_set(a, SD_HTTP_BAD_REQUEST, SC_REASON_BAD_FIELD,
                      "Content-Length must be END-START+1 = %" PRIu64, p->len);
        return SC_ERR_MALFORMED;
    }
    return SC_OK;
}

/* The answer to a chunk the store would not begin (sd_upload_begin's statuses). */
static void put_refused(sc_status rc, const sc_err *e, uint64_t offset, sd_answer *a)
{
    switch (rc) {
    case SC_ERR_INVALID_TRANSITION:
        answer_offset(a, SD_HTTP_CONFLICT, SC_REASON_BAD_FIELD, offset, e->msg);
        break;
    case SC_ERR_LIMIT:
        answer_offset(a, SD_HTTP_INSUFFICIENT_STORAGE, SC_REASON_QUOTA, offset, e->msg);
        break;
    case SC_ERR_TOO_LARGE:
        sd_answer_set(a, SD_HTTP_TOO_LARGE, SC_REASON_TOO_LARGE, "%s", e->msg);
        break;
    case SC_ERR_MALFORMED:
        sd_answer_set(a, SD_HTTP_BAD_REQUEST, SC_REASON_BAD_FIELD, "%s", e->msg);
        break;
    default:
        answer_offset(a, SD_HTTP_UNAVAILABLE, SC_REASON_STORAGE, offset, e->msg);
        break;
    }
}

/*
 * A blob the device may read and that is stored is answered 200 once its
 * chunk is read and its signature checked; one it may not read is uploaded
 * like an absent one, all of it (docs/protocol.md §4.3).
 */
sc_status sd_photo_put_begin(const sd_service *s, const sd_principal *who, const char *name,
                             uint64_t start, uint64_t len, uint64_t total, bool has_cl,
                             uint64_t clen, bool hashed, sd_photo_chunk *p, sd_answer *a)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->start = start;
    p->len = len;
    p->total = total;
    sc_status rc = put_check(s->cfg, p, has_cl, clen, a);
    if (rc != SC_OK)
        return rc;
    uint64_t offset = 0;
    bool visible = false;
    sd_blob_info info;
    if ((rc = photo_look(s, who, name, &visible, &info, a)) != SC_OK)
        return rc;
    if (visible && info.stored) {
        /* Read, hash and drop the chunk; answer 200 once its signature verified.  The device's
         * own upload of it, if any, is of no more use. */
        if (info.offset)
            sd_blobs_forget(s->blobs, who->device, name);
        p->exists = true;
        return SC_OK;
    }
    sc_err e;
    sc_err_clear(&e);
    rc = sd_upload_begin(s->blobs, who->device, name, start, len, total, visible, &p->up, &offset,
                         &e);
    if (rc != SC_OK) {
        put_refused(rc, &e, offset, a);
        return rc;
    }
    /* A whole blob in one chunk: the body hash for the signature is its hash too. */
    if (hashed)
        sd_upload_hash_by_caller(p->up);
    return SC_OK;
}

void sd_photo_put_finish(const sd_service *s, sd_photo_chunk *p, const uint8_t *digest,
                         sd_answer *a)
{
    (void)s;
    memset(a, 0, sizeof *a);
    if (p->exists) {
        a->status = SD_HTTP_OK;
        return;
    }
    bool complete = false;
    uint64_t offset = 0;
    sc_err e;
    sc_err_clear(&e);
    sd_upload *up = p->up;
    p->up = NULL;
    if (digest)
        sd_upload_set_digest(up, digest);
    sc_status rc = sd_upload_finish(up, &complete, &offset, &e);
    if (rc == SC_OK) {
        sd_metrics_blob_upload(p->len);
        if (complete)
            sd_metrics_blob_stored(p->total);
        a->status = complete ? SD_HTTP_CREATED : SD_HTTP_ACCEPTED;
        a->has_offset = true;
        a->offset = offset;
    } else if (rc == SC_ERR_MALFORMED) {
        answer_offset(a, SD_HTTP_UNPROCESSABLE, SC_REASON_BAD_FIELD, offset, e.msg);
    } else {
        answer_offset(a, SD_HTTP_UNAVAILABLE, SC_REASON_STORAGE, offset, e.msg);
    }
}

void sd_photo_put_failed(const sd_service *s, const sd_principal *who, const sd_photo_chunk *p,
                         const char *msg, sd_answer *a)
{
    sd_blob_info info = {0};
    sc_err e;
    sd_blobs_stat(s->blobs, who->device, p->name, &info, &e);
    answer_offset(a, SD_HTTP_UNAVAILABLE, SC_REASON_STORAGE, info.offset, msg);
}

void sd_photo_put(const sd_service *s, const sd_principal *who, const char *name, uint64_t start,
                  uint64_t len, uint64_t total, const uint8_t *body, size_t body_len,
                  const uint8_t body_hash[SC_HASH_LEN], sd_answer *a)
{
    sd_photo_chunk p;
    if (!sd_blob_name_valid(name, strlen(name))) {
        sd_answer_set(a, SD_HTTP_BAD_REQUEST, SC_REASON_BAD_FIELD,
                      "a blob name is 64 lowercase hex digits");
        return;
    }
    if (sd_photo_may_upload(who, a) != SC_OK ||
        sd_photo_put_begin(s, who, name, start, len, total, true, body_len, true, &p, a) != SC_OK)
        return;
    sc_err e;
    sc_err_clear(&e);
    if (p.up && sd_upload_write(p.up, body, body_len, &e) != SC_OK) {
        sd_upload_abort(p.up);
        p.up = NULL;
        sd_photo_put_failed(s, who, &p, e.msg, a);
        return;
    }
    sd_photo_put_finish(s, &p, body_hash, a);
}
