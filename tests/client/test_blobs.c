/*
 * test_blobs.c: the content-addressed photo store: files are copied while
 * hashed, named by their SHA-256, typed by their magic bytes, and a file
 * that cannot be read is refused with nothing recorded.
 */
#include "fixture.h"

#include <sys/stat.h>

static void write_file(const char *path, const uint8_t *head, size_t hlen, size_t total)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fwrite(head, 1, hlen, fp);
    for (size_t i = hlen; i < total; i++)
        fputc((int)(i * 7 % 251), fp);
    fclose(fp);
}

static void sha_of_file(const char *path, char out[SC_HASH_HEX_LEN])
{
    uint8_t d[SC_HASH_LEN];
    ck_assert(sct_file_sha256(path, d));
    cl_hex(d, SC_HASH_LEN, out, SC_HASH_HEX_LEN);
}

START_TEST(photo_is_hashed_and_stored)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN], want[SC_HASH_HEX_LEN], path[700], stored[800];
    fx_check(&f, check);
    /* 3 MiB and a bit: several copy chunks. */
    snprintf(path, sizeof path, "%s/big.png", f.dir);
    write_file(path, (const uint8_t *)"\x89PNG\r\n\x1a\n", 8, 3 * 1024 * 1024 + 17);
    sha_of_file(path, want);
    ck_assert_int_eq(sc_photo_add(f.c, check, path, "门岗", sha), SC_OK);
    ck_assert_str_eq(sha, want);
    snprintf(stored, sizeof stored, "%s.blobs/%.2s/%s", f.db, sha, sha);
    char again[SC_HASH_HEX_LEN];
    sha_of_file(stored, again);
    ck_assert_str_eq(again, want);
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    json_t *p = json_array_get(json_object_get(o, "photos"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(p, "sha256")), want);
    ck_assert_str_eq(json_string_value(json_object_get(p, "mime")), "image/png");
    ck_assert_int_eq(json_integer_value(json_object_get(p, "size")), 3 * 1024 * 1024 + 17);
    ck_assert_str_eq(json_string_value(json_object_get(p, "caption")), "门岗");
    ck_assert(json_is_true(json_object_get(p, "present")));
    json_decref(o);
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 1);
    /* The same bytes again are the same blob: still one to upload. */
    ck_assert_int_eq(sc_photo_add(f.c, check, path, NULL, sha), SC_OK);
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 1);
    fx_close(&f);
}
END_TEST

START_TEST(mime_from_magic)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN], path[700];
    fx_check(&f, check);
    static const struct {
        const char *head;
        size_t len;
        const char *mime;
    } cases[] = {{"\xff\xd8\xff\xe1", 4, "image/jpeg"},
                 {"GIF89a", 6, "image/gif"},
                 {"RIFF\0\0\0\0WEBPVP8 ", 16, "image/webp"},
                 {"\0\0\0\x18" "ftypheic", 12, "image/heic"},
                 {"%PDF-1.7", 8, "application/pdf"},
                 {"hello", 5, "application/octet-stream"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/f%zu", f.dir, i);
        write_file(path, (const uint8_t *)cases[i].head, cases[i].len, 100 + i);
        ck_assert_int_eq(sc_photo_add(f.c, check, path, NULL, sha), SC_OK);
        uint8_t h[SC_HASH_LEN];
        ck_assert(cl_parse_hash(sha, h));
        uint8_t id[SC_ID_LEN];
        ck_assert(cl_parse_id(check, id));
        Scpb__EntityState *st = NULL;
        ck_assert_int_eq(st_state_get(f.c, id, &st), SC_OK);
        bool found = false;
        for (size_t k = 0; k < st->n_photos; k++)
            if (memcmp(st->photos[k]->sha256.data, h, SC_HASH_LEN) == 0) {
                ck_assert_str_eq(st->photos[k]->mime, cases[i].mime);
                found = true;
            }
        ck_assert(found);
        rp_state_free(f.c, st);
    }
    fx_close(&f);
}
END_TEST

START_TEST(unreadable_photo_changes_nothing)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN], path[700];
    fx_check(&f, check);
    fx_finding(&f, check, "general", NULL, fid);
    long long before = fx_count(&f, "outbox");
    snprintf(path, sizeof path, "%s/missing.jpg", f.dir);
    ck_assert_int_eq(sc_photo_add(f.c, check, path, NULL, sha), SC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "missing.jpg"));
    ck_assert_str_eq(sha, "");
    ck_assert_int_eq(sc_photo_add(f.c, check, f.dir, NULL, sha), SC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "not a regular file"));
    snprintf(path, sizeof path, "%s/empty.jpg", f.dir);
    write_file(path, (const uint8_t *)"", 0, 0);
    ck_assert_int_eq(sc_photo_add(f.c, check, path, NULL, sha), SC_ERR_IO);
    /* A report with one good and one missing photo records nothing at all. */
    char good[700];
    snprintf(good, sizeof good, "%s/good.jpg", f.dir);
    write_file(good, (const uint8_t *)"\xff\xd8\xff", 3, 50);
    const char *photos[] = {good, "/nonexistent/x.jpg"};
    ck_assert_int_eq(sc_rectify(f.c, fid, "fixed", NULL, photos, 2), SC_ERR_IO);
    ck_assert_int_eq(fx_count(&f, "outbox"), before);
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 0);
    /* An unknown entity. */
    ck_assert_int_eq(sc_photo_add(f.c, "0123456789abcdef0123456789abcdef", good, NULL, sha),
                     SC_ERR_NOT_FOUND);
    fx_close(&f);
}
END_TEST

START_TEST(evidence_pending_follows_the_store)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN], path[700];
    fx_check(&f, check);
    fx_finding(&f, check, "general", NULL, fid);
    snprintf(path, sizeof path, "%s/after.jpg", f.dir);
    write_file(path, (const uint8_t *)"\xff\xd8\xff", 3, 64);
    const char *photos[] = {path};
    ck_assert_int_eq(sc_rectify(f.c, fid, "fixed", NULL, photos, 1), SC_OK);
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, fid, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert(json_is_false(json_object_get(o, "evidence_pending")));
    ck_assert_uint_eq(json_array_size(json_object_get(o, "evidence")), 1);
    char stored[800];
    snprintf(stored, sizeof stored, "%s.blobs/%.2s/%s", f.db,
             json_string_value(json_array_get(json_object_get(o, "evidence"), 0)),
             json_string_value(json_array_get(json_object_get(o, "evidence"), 0)));
    json_decref(o);
    ck_assert_int_eq(unlink(stored), 0);
    ck_assert_int_eq(sc_show(f.c, fid, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert(json_is_true(json_object_get(o, "evidence_pending")));
    json_decref(o);
    fx_close(&f);
}
END_TEST

static unsigned mode_of(const char *path)
{
    struct stat st;
    ck_assert_msg(stat(path, &st) == 0, "stat %s", path);
    return (unsigned)(st.st_mode & 0777);
}

/* Under the most permissive umask, the store's directories are 0700 and its photos 0600. */
START_TEST(store_is_private)
{
    mode_t old = umask(0);
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN], path[700], p[800];
    fx_check(&f, check);
    snprintf(path, sizeof path, "%s/p.jpg", f.dir);
    write_file(path, (const uint8_t *)"\xff\xd8\xff\xe0", 4, 5000);
    ck_assert_int_eq(sc_photo_add(f.c, check, path, NULL, sha), SC_OK);
    umask(old);
    ck_assert_uint_eq(mode_of(f.db), 0600);
    snprintf(p, sizeof p, "%s.blobs", f.db);
    ck_assert_uint_eq(mode_of(p), 0700);
    snprintf(p, sizeof p, "%s.blobs/tmp", f.db);
    ck_assert_uint_eq(mode_of(p), 0700);
    snprintf(p, sizeof p, "%s.blobs/%.2s", f.db, sha);
    ck_assert_uint_eq(mode_of(p), 0700);
    snprintf(p, sizeof p, "%s.blobs/%.2s/%s", f.db, sha, sha);
    ck_assert_uint_eq(mode_of(p), 0600);
    fx_close(&f);
}
END_TEST

/*
 * A photo's download tried again: the first answer (a 503 with a long body,
 * as a proxy may send, or a cut photo) wrote 1,000 bytes into the file, the
 * second brings the 10-byte photo.  The file holds exactly those 10 bytes,
 * which the hash saw: before, the first answer's tail stayed behind them
 * and the store kept a file whose bytes were not its name's.
 */
static int dl_calls;

static sc_status dl_send(void *ctx, const sc_http_request *q, sc_http_result *res)
{
    (void)ctx;
    memset(res, 0, sizeof *res);
    res->sends = 1;
    if (++dl_calls == 1) {
        char junk[1000];
        memset(junk, 'X', sizeof junk);
        ck_assert_int_eq(q->on_body(q->sink, junk, sizeof junk), 0);
        res->status = 503;
    } else {
        ck_assert_int_eq(q->on_body(q->sink, "hello12345", 10), 0);
        res->status = 200;
    }
    return SC_OK;
}

static void dl_nosleep(void *ctx, uint32_t ms)
{
    (void)ctx;
    (void)ms;
}

START_TEST(download_tried_again_keeps_only_its_bytes)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    sc_transport t = {.version = SC_TRANSPORT_VERSION, .send = dl_send};
    ck_assert_int_eq(sc_client_set_transport(f.c, &t), SC_OK);
    f.c->opt.retries = 2;
    f.c->opt.sleep_ms = dl_nosleep;
    dl_calls = 0;
    char path[700];
    snprintf(path, sizeof path, "%s/download", f.dir);
    FILE *fp = fopen(path, "wb+");
    ck_assert_ptr_nonnull(fp);
    sc_sha256_ctx h;
    sc_sha256_init(&h);
    tp_resp r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(tp_download(f.c, "/v1/blobs/00", fp, SC_BLOB_MAX, &h, &r), SC_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(dl_calls, 2);
    ck_assert_int_eq(fflush(fp), 0);
    struct stat sb;
    ck_assert_int_eq(fstat(fileno(fp), &sb), 0);
    ck_assert_int_eq(sb.st_size, 10);
    char got[16] = {0};
    rewind(fp);
    ck_assert_uint_eq(fread(got, 1, sizeof got, fp), 10);
    ck_assert_str_eq(got, "hello12345");
    uint8_t hash[SC_HASH_LEN], want[SC_HASH_LEN];
    sc_sha256_final(&h, hash);
    sc_sha256("hello12345", 10, want);
    ck_assert_mem_eq(hash, want, SC_HASH_LEN);
    fclose(fp);
    tp_resp_dispose(f.c, &r);
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("blobs");
    const sct_case cases[] = {
        {"download_tried_again_keeps_only_its_bytes", download_tried_again_keeps_only_its_bytes},
        {"photo_is_hashed_and_stored", photo_is_hashed_and_stored},
        {"mime_from_magic", mime_from_magic},
        {"unreadable_photo_changes_nothing", unreadable_photo_changes_nothing},
        {"evidence_pending_follows_the_store", evidence_pending_follows_the_store},
        {"store_is_private", store_is_private},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
