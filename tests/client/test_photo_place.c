/*
 * test_photo_place.c: when and where a photo was taken, and where a check
 * was opened and submitted.  The JPEGs are made here, their EXIF written
 * with libexif (DateTimeOriginal, OffsetTimeOriginal, GPS), so the test
 * knows the answer: the capture time comes from EXIF when the photo has
 * it, else from the file's time, and says which; the position from EXIF,
 * or the one the caller gives; coordinates stay integers (degrees x 1e7)
 * and coordinates off the globe are refused with nothing recorded.
 */
#include "fixture.h"

#include <libexif/exif-data.h>
#include <sys/stat.h>
#include <sys/time.h>

static ExifEntry *put(ExifData *d, ExifIfd ifd, ExifTag tag, ExifFormat format, unsigned n,
                      size_t size)
{
    ExifEntry *e = exif_entry_new();
    ck_assert_ptr_nonnull(e);
    e->tag = tag;
    e->format = format;
    e->components = n;
    e->size = (unsigned)size;
    e->data = calloc(1, size);
    ck_assert_ptr_nonnull(e->data);
    exif_content_add_entry(d->ifd[ifd], e);
    exif_entry_unref(e);
    return e;
}

static void put_text(ExifData *d, ExifIfd ifd, ExifTag tag, const char *text)
{
    ExifEntry *e = put(d, ifd, tag, EXIF_FORMAT_ASCII, (unsigned)strlen(text) + 1, strlen(text) + 1);
    memcpy(e->data, text, strlen(text) + 1);
}

/* d/1, m/1, s_num/s_den: a GPS coordinate as three rationals. */
static void put_dms(ExifData *d, ExifTag tag, unsigned deg, unsigned min, unsigned s_num,
                    unsigned s_den)
{
    ExifEntry *e = put(d, EXIF_IFD_GPS, tag, EXIF_FORMAT_RATIONAL, 3, 24);
    ExifByteOrder o = exif_data_get_byte_order(d);
    exif_set_rational(e->data, o, (ExifRational){deg, 1});
    exif_set_rational(e->data + 8, o, (ExifRational){min, 1});
    exif_set_rational(e->data + 16, o, (ExifRational){s_num, s_den});
}

/* A JPEG (SOI, the APP1 Exif segment libexif writes, EOI) at path. */
static void write_jpeg(const char *path, ExifData *d)
{
    unsigned char *exif = NULL;
    unsigned int len = 0;
    exif_data_save_data(d, &exif, &len);
    ck_assert_ptr_nonnull(exif);
    ck_assert_uint_lt(len + 2, 65536);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    const unsigned char soi[] = {0xff, 0xd8, 0xff, 0xe1};
    fwrite(soi, 1, sizeof soi, fp);
    fputc((int)((len + 2) >> 8), fp);
    fputc((int)((len + 2) & 0xff), fp);
    fwrite(exif, 1, len, fp);
    const unsigned char eoi[] = {0xff, 0xd9};
    fwrite(eoi, 1, sizeof eoi, fp);
    fclose(fp);
    free(exif);
}

/* The photo shown on the entity with this hash. */
static json_t *shown_photo(fx *f, const char *entity, const char *sha)
{
    char *json = NULL;
    ck_assert_int_eq(sc_show(f->c, entity, &json), SC_OK);
    json_t *o = fx_json(f, json), *hit = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(o, "photos"), i, p) if (strcmp(
        json_string_value(json_object_get(p, "sha256")), sha) == 0) hit = json_incref(p);
    json_decref(o);
    ck_assert_ptr_nonnull(hit);
    return hit;
}

START_TEST(capture_time_and_place_from_exif)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN], path[700];
    fx_check(&f, check);
    ExifData *d = exif_data_new();
    exif_data_set_byte_order(d, EXIF_BYTE_ORDER_MOTOROLA);
    /* 2026-03-14 09:26:53 at +08:00 is 01:26:53 UTC: 1773451613 s. */
    put_text(d, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, "2026:03:14 09:26:53");
    put_text(d, EXIF_IFD_EXIF, (ExifTag)0x9011, "+08:00");
    /* 31°13'49.44" N = 31.2304° = 312304000 e7; 121°28'25.32" E = 121.4737° = 1214737000 e7. */
    put_text(d, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LATITUDE_REF, "N");
    put_dms(d, (ExifTag)EXIF_TAG_GPS_LATITUDE, 31, 13, 4944, 100);
    put_text(d, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF, "E");
    put_dms(d, (ExifTag)EXIF_TAG_GPS_LONGITUDE, 121, 28, 2532, 100);
    snprintf(path, sizeof path, "%s/exif.jpg", f.dir);
    write_jpeg(path, d);
    exif_data_unref(d);

    sc_photo_params p = {.size = sizeof p, .entity = check, .path = path};
    ck_assert_int_eq(sc_photo_add_v2(f.c, &p, sha), SC_OK);
    json_t *ph = shown_photo(&f, check, sha);
    ck_assert_int_eq(json_integer_value(json_object_get(ph, "captured_ms")), 1773451613000LL);
    ck_assert_str_eq(json_string_value(json_object_get(ph, "time_source")), "exif");
    json_t *gps = json_object_get(ph, "gps");
    ck_assert_int_eq(json_integer_value(json_object_get(gps, "lat_e7")), 312304000);
    ck_assert_int_eq(json_integer_value(json_object_get(gps, "lon_e7")), 1214737000);
    ck_assert_str_eq(json_string_value(json_object_get(gps, "source")), "exif");
    json_decref(ph);
    fx_close(&f);
}
END_TEST

START_TEST(file_time_and_given_place_without_exif)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN], path[700];
    fx_check(&f, check);
    /* A JPEG without EXIF (southern, western coordinates given), its file time set. */
    snprintf(path, sizeof path, "%s/plain.jpg", f.dir);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fwrite("\xff\xd8\xff\xe0 plain \xff\xd9", 1, 11, fp);
    fclose(fp);
    struct timeval tv[2] = {{1700000000, 250000}, {1700000000, 250000}};
    ck_assert_int_eq(utimes(path, tv), 0);
    sc_photo_params p = {.size = sizeof p, .entity = check, .path = path, .has_gps = 1,
                         .lat_e7 = -339249000, .lon_e7 = -182240000};
    ck_assert_int_eq(sc_photo_add_v2(f.c, &p, sha), SC_OK);
    json_t *ph = shown_photo(&f, check, sha);
    ck_assert_int_eq(json_integer_value(json_object_get(ph, "captured_ms")), 1700000000250LL);
    ck_assert_str_eq(json_string_value(json_object_get(ph, "time_source")), "file");
    json_t *gps = json_object_get(ph, "gps");
    ck_assert_int_eq(json_integer_value(json_object_get(gps, "lat_e7")), -339249000);
    ck_assert_int_eq(json_integer_value(json_object_get(gps, "lon_e7")), -182240000);
    ck_assert_str_eq(json_string_value(json_object_get(gps, "source")), "given");
    json_decref(ph);

    /* Off the globe: refused, nothing recorded. */
    long long before = fx_count(&f, "outbox");
    const int32_t bad[][2] = {{900000001, 0}, {-900000001, 0}, {0, 1800000001}, {0, -1800000001}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.lat_e7 = bad[i][0];
        p.lon_e7 = bad[i][1];
        ck_assert_int_eq(sc_photo_add_v2(f.c, &p, sha), SC_ERR_INVALID_ARG);
        ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "off the globe"));
    }
    ck_assert_int_eq(fx_count(&f, "outbox"), before);
    fx_close(&f);
}
END_TEST

START_TEST(check_opened_and_submitted_somewhere)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN];
    sc_check_params_v2 cp = {.size = sizeof cp, .target = "T1", .kind = "spot",
                             .disclosure = "open", .has_gps = 1, .lat_e7 = 312304000,
                             .lon_e7 = 1214737000};
    ck_assert_int_eq(sc_check_open_v2(f.c, &cp, check), SC_OK);
    sc_submit_params sp = {.size = sizeof sp, .has_gps = 1, .lat_e7 = 0, .lon_e7 = 1800000001};
    ck_assert_int_eq(sc_check_submit_v2(f.c, check, &sp), SC_ERR_INVALID_ARG);
    sp.lat_e7 = 312310000;
    sp.lon_e7 = 1214740000;
    ck_assert_int_eq(sc_check_submit_v2(f.c, check, &sp), SC_OK);
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "submitted");
    json_t *at = json_object_get(o, "opened_at");
    ck_assert_int_eq(json_integer_value(json_object_get(at, "lat_e7")), 312304000);
    ck_assert_int_eq(json_integer_value(json_object_get(at, "lon_e7")), 1214737000);
    at = json_object_get(o, "submitted_at");
    ck_assert_int_eq(json_integer_value(json_object_get(at, "lat_e7")), 312310000);
    ck_assert_int_eq(json_integer_value(json_object_get(at, "lon_e7")), 1214740000);
    json_decref(o);
    /* A check opened with 0.2's struct (no position) shows none. */
    sc_check_params old = {.target = "T1", .kind = "spot", .disclosure = "open"};
    ck_assert_int_eq(sc_check_open(f.c, &old, check), SC_OK);
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert(json_is_null(json_object_get(o, "opened_at")));
    json_decref(o);
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("photo_place");
    const sct_case cases[] = {
        {"capture_time_and_place_from_exif", capture_time_and_place_from_exif},
        {"file_time_and_given_place_without_exif", file_time_and_given_place_without_exif},
        {"check_opened_and_submitted_somewhere", check_opened_and_submitted_somewhere},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
