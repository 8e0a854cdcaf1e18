/*
 * logjson.h: syncd's logs, one JSON object per line on stderr.
 *
 * A line is built in a fixed buffer owned by the caller (no allocation, so
 * logging works when memory is short) and written with one write(2), so
 * lines from different threads never interleave.  Every line has "time"
 * (RFC 3339 UTC with ms), "level" and "msg"; request lines add request_id,
 * method, path, status, duration_ms, device and event fields.  Strings are
 * escaped per RFC 8259; invalid UTF-8 bytes become U+FFFD, so a hostile
 * path cannot break a line or a log parser.  A line that does not fit is
 * cut at a field boundary and marked "truncated": true.
 *
 * Nothing secret is ever passed here: device keys are public, enrollment
 * codes and request signatures are never logged.
 */
#ifndef SD_LOGJSON_H
#define SD_LOGJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { SD_LOG_ERROR = 0, SD_LOG_WARN = 1, SD_LOG_INFO = 2, SD_LOG_DEBUG = 3 };

/* Bytes in one log line: paths are short, messages are SC_ERR_MSG_MAX. */
#define SD_LOG_LINE_MAX 2048

typedef struct sd_logline {
    char buf[SD_LOG_LINE_MAX]; /* the line being built */
    size_t len;                /* bytes used, excluding the closing brace */
    bool truncated;            /* a field did not fit */
    bool on;                   /* false when the level is filtered: every call is a no-op */
} sd_logline;

/* The most verbose level written (default SD_LOG_INFO).  Thread-safe. */
void sd_log_set_level(int level);
/* True when a line of this level would be written. */
bool sd_log_enabled(int level);
/* Where lines go (default 2, stderr); tests point it at a pipe.  Thread-safe. */
void sd_log_set_fd(int fd);

/* Start a line with time, level and msg. */
void sd_log_begin(sd_logline *l, int level, const char *msg);
/* Add fields.  key is a literal (not escaped); values are escaped. */
void sd_log_str(sd_logline *l, const char *key, const char *val);
void sd_log_strn(sd_logline *l, const char *key, const char *val, size_t len);
void sd_log_int(sd_logline *l, const char *key, int64_t val);
void sd_log_uint(sd_logline *l, const char *key, uint64_t val);
void sd_log_double(sd_logline *l, const char *key, double val);
void sd_log_bool(sd_logline *l, const char *key, bool val);
/* Lowercase hex of len bytes. */
void sd_log_hex(sd_logline *l, const char *key, const uint8_t *bin, size_t len);
/* Close the line and write it. */
void sd_log_end(sd_logline *l);

/* One-line shorthand: {"time", "level", "msg"} plus one optional "detail" string. */
void sd_log(int level, const char *msg, const char *detail);

/* A new request id: 16 lowercase hex digits, unique in this process. out holds 17 bytes. */
void sd_log_request_id(char out[17]);

/*
 * Escape len bytes as the inside of a JSON string into out (cap bytes,
 * NUL-terminated).  Returns the bytes written, or (size_t)-1 when it did not
 * fit (out then holds nothing useful).  Exposed for tests.
 */
size_t sd_json_escape(const char *s, size_t len, char *out, size_t cap);

#endif
