/*
 * exif.c: when and where a photo was taken, from its EXIF data, read with
 * libexif (never by hand: the format's offsets and byte orders are
 * libexif's business).  Only what a PhotoAttach records is read: the
 * original capture time and the GPS position.
 *
 * DateTimeOriginal is the camera's wall clock without a zone; the zone is
 * OffsetTimeOriginal's when the photo has one, else the tablet's (a photo
 * is attached where it was taken).  GPS rationals (degrees, minutes,
 * seconds) become degrees x 1e7 in integer arithmetic, as every coordinate
 * in an op is.
 */
#include <libexif/exif-data.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "internal.h"

/* Degrees x 1e7 of a position's latitude or longitude. */
#define E7 10000000LL

static ExifEntry *entry(ExifData *d, ExifIfd ifd, ExifTag tag)
{
    return exif_content_get_entry(d->ifd[ifd], tag);
}

/* An ASCII entry's text into out (cap bytes); false when absent or not text. */
static bool ascii(ExifData *d, ExifIfd ifd, ExifTag tag, char *out, size_t cap)
{
    ExifEntry *e = entry(d, ifd, tag);
    if (!e || e->format != EXIF_FORMAT_ASCII || !e->data || e->size == 0)
        return false;
    size_t n = e->size < cap ? e->size : cap - 1;
    memcpy(out, e->data, n);
    out[n] = '\0';
    return true;
}

/* "+08:00" as seconds east of UTC. */
static bool parse_offset(const char *s, long *out)
{
    int h, m;
    char sign;
    if (sscanf(s, "%c%2d:%2d", &sign, &h, &m) != 3 || (sign != '+' && sign != '-') || h > 14 ||
        m > 59)
        return false;
    *out = (sign == '-' ? -1 : 1) * (h * 3600L + m * 60L);
    return true;
}

static bool capture_time(ExifData *d, int64_t *ms)
{
    char text[32], zone[16];
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!ascii(d, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, text, sizeof text) ||
        sscanf(text, "%4d:%2d:%2d %2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6 ||
        tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    long offset = 0;
    time_t t;
    /* OffsetTimeOriginal (0x9011), which libexif 0.6 names no constant for. */
    if (ascii(d, EXIF_IFD_EXIF, (ExifTag)0x9011, zone, sizeof zone) && parse_offset(zone, &offset)) {
        /* UTC from the civil date (timegm is neither C11 nor POSIX). */
        int32_t days = 0;
        if (sc_date_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, &days) != SC_OK)
            return false;
        t = (time_t)((int64_t)days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec -
                     offset);
    } else {
        tm.tm_isdst = -1;
        t = mktime(&tm);
    }
    if (t == (time_t)-1)
        return false;
    *ms = (int64_t)t * 1000;
    return true;
}

/* One of GPSLatitude or GPSLongitude with its reference, as degrees x 1e7. */
static bool coordinate(ExifData *d, ExifTag tag, ExifTag ref_tag, char negative, int64_t limit,
                       int32_t *out)
{
    ExifEntry *e = entry(d, EXIF_IFD_GPS, tag);
    char ref[4];
    if (!e || e->format != EXIF_FORMAT_RATIONAL || e->components != 3 ||
        !ascii(d, EXIF_IFD_GPS, ref_tag, ref, sizeof ref))
        return false;
    ExifByteOrder order = exif_data_get_byte_order(d);
    static const int64_t per[3] = {1, 60, 3600};
    /* In 1e-9 degrees (a 32-bit numerator times 1e9 fits 63 bits), rounded to 1e-7 at the end. */
    int64_t v9 = 0;
    for (int i = 0; i < 3; i++) {
        ExifRational r = exif_get_rational(e->data + 8 * i, order);
        if (r.denominator == 0)
            return false;
        v9 += (int64_t)r.numerator * 1000000000LL / ((int64_t)r.denominator * per[i]);
        if (v9 > limit * 100)
            return false;
    }
    int64_t v = (v9 + 50) / 100;
    if (v > limit)
        return false;
    *out = (int32_t)(ref[0] == negative ? -v : v);
    return true;
}

bool bl_exif_read(const char *path, bl_exif *out)
{
    memset(out, 0, sizeof *out);
    ExifData *d = exif_data_new_from_file(path);
    if (!d)
        return false;
    out->has_time = capture_time(d, &out->captured_ms);
    out->has_gps = coordinate(d, (ExifTag)EXIF_TAG_GPS_LATITUDE, (ExifTag)EXIF_TAG_GPS_LATITUDE_REF,
                              'S', 90 * E7, &out->lat_e7) &&
                   coordinate(d, (ExifTag)EXIF_TAG_GPS_LONGITUDE,
                              (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF, 'W', 180 * E7, &out->lon_e7);
    exif_data_unref(d);
    return out->has_time || out->has_gps;
}
