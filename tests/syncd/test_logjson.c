/*
 * test_logjson.c: JSON-lines logging: every line parses as one JSON object,
 * strings are escaped (quotes, control bytes, invalid UTF-8), long lines
 * are cut at a field and marked, levels filter, and request ids are unique.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/logjson.h"
#include "sctest.h"

/* Point the log at a pipe, run the lines, and return what was written (malloc'd). */
static int pipe_fd[2];

static void capture_begin(void)
{
    ck_assert_int_eq(pipe(pipe_fd), 0);
    sd_log_set_fd(pipe_fd[1]);
}

static char *capture_end(void)
{
    sd_log_set_fd(2);
    close(pipe_fd[1]);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    ssize_t r;
    while ((r = read(pipe_fd[0], buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(pipe_fd[0]);
    return buf;
}

static json_t *parse_line(const char *line)
{
    json_error_t je;
    json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &je);
    ck_assert_msg(j != NULL, "not JSON (%s): %s", je.text, line);
    ck_assert(json_is_object(j));
    return j;
}

START_TEST(escaping)
{
    char out[256];
    ck_assert_uint_eq(sd_json_escape("a\"b\\c", 5, out, sizeof out), 7);
    ck_assert_str_eq(out, "a\\\"b\\\\c");
    ck_assert_uint_ne(sd_json_escape("x\ny\tz\r\x01\x7f", 8, out, sizeof out), (size_t)-1);
    ck_assert_str_eq(out, "x\\ny\\tz\\r\\u0001\\u007f");
    /* Valid UTF-8 passes through; broken sequences, overlongs and surrogates become U+FFFD. */
    ck_assert_uint_ne(sd_json_escape("君安", strlen("君安"), out, sizeof out), (size_t)-1);
    ck_assert_str_eq(out, "君安");
    ck_assert_uint_ne(sd_json_escape("\xff\xc0\xaf\xed\xa0\x80" "a\xe5\x90", 9, out, sizeof out),
                      (size_t)-1);
    ck_assert_str_eq(out, "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffda\\ufffd\\ufffd");
    /* An embedded NUL is escaped, not a terminator. */
    ck_assert_uint_ne(sd_json_escape("a\0b", 3, out, sizeof out), (size_t)-1);
    ck_assert_str_eq(out, "a\\u0000b");
    /* Too small: refused whole. */
    ck_assert_uint_eq(sd_json_escape("abcdef", 6, out, 4), (size_t)-1);
}
END_TEST

START_TEST(one_object_per_line)
{
    capture_begin();
    sd_logline l;
    sd_log_begin(&l, SD_LOG_INFO, "request");
    sd_log_str(&l, "request_id", "00000000000000ab");
    sd_log_str(&l, "method", "PUT");
    sd_log_str(&l, "path", "/v1/blobs/\"\n\x01\xff");
    sd_log_uint(&l, "status", 201);
    sd_log_double(&l, "duration_ms", 1.25);
    sd_log_int(&l, "delta", -5);
    sd_log_bool(&l, "ok", true);
    static const uint8_t dev[4] = {0xde, 0xad, 0xbe, 0xef};
    sd_log_hex(&l, "device", dev, sizeof dev);
    sd_log_end(&l);
    sd_log(SD_LOG_WARN, "second", "detail text");
    char *out = capture_end();
    char *nl = strchr(out, '\n');
    ck_assert_ptr_nonnull(nl);
    *nl = '\0';
    json_t *j = parse_line(out);
    ck_assert_str_eq(json_string_value(json_object_get(j, "level")), "info");
    ck_assert_str_eq(json_string_value(json_object_get(j, "msg")), "request");
    ck_assert_str_eq(json_string_value(json_object_get(j, "path")), "/v1/blobs/\"\n\x01\xef\xbf\xbd");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 201);
    ck_assert(json_real_value(json_object_get(j, "duration_ms")) == 1.25);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "delta")), -5);
    ck_assert(json_is_true(json_object_get(j, "ok")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "device")), "deadbeef");
    const char *when = json_string_value(json_object_get(j, "time"));
    ck_assert_ptr_nonnull(when);
    ck_assert_uint_eq(strlen(when), 24); /* 2026-11-23T17:00:00.123Z */
    ck_assert_int_eq(when[23], 'Z');
    json_decref(j);
    char *second = nl + 1;
    char *nl2 = strchr(second, '\n');
    ck_assert_ptr_nonnull(nl2);
    *nl2 = '\0';
    ck_assert_str_eq(nl2 + 1, "");
    j = parse_line(second);
    ck_assert_str_eq(json_string_value(json_object_get(j, "level")), "warn");
    ck_assert_str_eq(json_string_value(json_object_get(j, "detail")), "detail text");
    json_decref(j);
    free(out);
}
END_TEST

START_TEST(truncated_line_stays_json)
{
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    capture_begin();
    sd_logline l;
    sd_log_begin(&l, SD_LOG_ERROR, "big");
    sd_log_str(&l, "first", "kept");
    sd_log_str(&l, "huge", big);
    sd_log_str(&l, "after", "dropped too");
    sd_log_end(&l);
    char *out = capture_end();
    ck_assert_uint_le(strlen(out), SD_LOG_LINE_MAX);
    json_t *j = parse_line(out);
    ck_assert_str_eq(json_string_value(json_object_get(j, "first")), "kept");
    ck_assert_ptr_null(json_object_get(j, "huge"));
    ck_assert_ptr_null(json_object_get(j, "after"));
    ck_assert(json_is_true(json_object_get(j, "truncated")));
    json_decref(j);
    free(out);
}
END_TEST

START_TEST(levels_filter)
{
    capture_begin();
    sd_log_set_level(SD_LOG_WARN);
    sd_log(SD_LOG_INFO, "hidden", NULL);
    sd_log(SD_LOG_DEBUG, "hidden", NULL);
    sd_log(SD_LOG_ERROR, "shown", NULL);
    ck_assert(!sd_log_enabled(SD_LOG_INFO));
    sd_log_set_level(SD_LOG_INFO);
    char *out = capture_end();
    ck_assert(strstr(out, "hidden") == NULL);
    ck_assert(strstr(out, "\"msg\":\"shown\"") != NULL);
    free(out);
}
END_TEST

START_TEST(request_ids_unique)
{
    char prev[17] = "", id[17];
    for (int i = 0; i < 1000; i++) {
        sd_log_request_id(id);
        ck_assert_uint_eq(strlen(id), 16);
        ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 16);
        ck_assert_str_ne(id, prev);
        memcpy(prev, id, sizeof id);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/logjson");
    const sct_case cases[] = {
        {"escaping", escaping},
        {"one_object_per_line", one_object_per_line},
        {"truncated_line_stays_json", truncated_line_stays_json},
        {"levels_filter", levels_filter},
        {"request_ids_unique", request_ids_unique},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
