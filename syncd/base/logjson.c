/*
 * logjson.c: JSON-lines logging (see logjson.h).  The level and the output
 * descriptor are process-wide atomics: syncd is one process with one log.
 */
#include "logjson.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = SD_LOG_INFO;
static atomic_int log_fd = 2;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void sd_log_set_level(int level)
{
    if (level < SD_LOG_ERROR)
        level = SD_LOG_ERROR;
    if (level > SD_LOG_DEBUG)
        level = SD_LOG_DEBUG;
    atomic_store(&log_level, level);
}

bool sd_log_enabled(int level)
{
    return level <= atomic_load(&log_level);
}

void sd_log_set_fd(int fd)
{
    atomic_store(&log_fd, fd);
}

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* Overlong forms, surrogates and code points past U+10FFFF are invalid. */
    if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

size_t sd_json_escape(const char *s, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    if (cap == 0)
        return (size_t)-1;
    for (size_t i = 0; i < len;) {
        char esc[8];
        const char *add = esc;
        size_t addn = 0, step = 1;
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            addn = 2;
        } else if (c == '\n') {
            add = "\\n";
            addn = 2;
        } else if (c == '\r') {
            add = "\\r";
            addn = 2;
        } else if (c == '\t') {
            add = "\\t";
            addn = 2;
        } else if (c < 0x20 || c == 0x7F) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            addn = 6;
        } else if (c < 0x80) {
            add = (const char *)&p[i];
            addn = 1;
        } else {
            step = utf8_seq(&p[i], len - i);
            if (step) {
                add = (const char *)&p[i];
                addn = step;
            } else {
                add = "\\ufffd";
                addn = 6;
                step = 1;
            }
        }
        if (o + addn >= cap)
            return (size_t)-1;
        memcpy(out + o, add, addn);
        o += addn;
        i += step;
    }
    out[o] = '\0';
    return o;
}

/* Append raw text if it fits, keeping room for the closing "}\n" and a truncation marker. */
#define SD_LOG_RESERVE 24

static bool put_raw(sd_logline *l, const char *s, size_t n)
{
    if (l->len + n + SD_LOG_RESERVE > sizeof l->buf) {
        l->truncated = true;
        return false;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return true;
}

/* Append ,"key": and remember where the field began so a value that does not fit can be undone. */
static bool put_key(sd_logline *l, const char *key, size_t *mark)
{
    *mark = l->len;
    if (!l->on || l->truncated)
        return false;
    return put_raw(l, ",\"", 2) && put_raw(l, key, strlen(key)) && put_raw(l, "\":", 2);
}

static void undo(sd_logline *l, size_t mark)
{
    l->len = mark;
    l->truncated = true;
}

void sd_log_begin(sd_logline *l, int level, const char *msg)
{
    l->len = 0;
    l->truncated = false;
    l->on = sd_log_enabled(level);
    if (!l->on)
        return;
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    int m = snprintf(l->buf, sizeof l->buf, "{\"time\":\"%.*s.%03ldZ\",\"level\":\"%s\"", (int)n,
                     when, ts.tv_nsec / 1000000, level_names[level < 0 ? 0 : level > 3 ? 3 : level]);
    l->len = m > 0 ? (size_t)m : 0;
    sd_log_str(l, "msg", msg ? msg : "");
}

void sd_log_strn(sd_logline *l, const char *key, const char *val, size_t len)
{
    size_t mark;
    if (!put_key(l, key, &mark))
        return;
    size_t room = sizeof l->buf - l->len;
    if (room <= SD_LOG_RESERVE + 2) {
        undo(l, mark);
        return;
    }
    l->buf[l->len++] = '"';
    size_t w = sd_json_escape(val, len, l->buf + l->len, room - SD_LOG_RESERVE - 2);
    if (w == (size_t)-1) {
        undo(l, mark);
        return;
    }
    l->len += w;
    l->buf[l->len++] = '"';
}

void sd_log_str(sd_logline *l, const char *key, const char *val)
{
    if (val)
        sd_log_strn(l, key, val, strlen(val));
}

void sd_log_int(sd_logline *l, const char *key, int64_t val)
{
    size_t mark;
    char num[32];
    if (!put_key(l, key, &mark))
        return;
    int n = snprintf(num, sizeof num, "%" PRId64, val);
    if (!put_raw(l, num, (size_t)n))
        undo(l, mark);
}

void sd_log_uint(sd_logline *l, const char *key, uint64_t val)
{
    size_t mark;
    char num[32];
    if (!put_key(l, key, &mark))
        return;
    int n = snprintf(num, sizeof num, "%" PRIu64, val);
    if (!put_raw(l, num, (size_t)n))
        undo(l, mark);
}

void sd_log_double(sd_logline *l, const char *key, double val)
{
    size_t mark;
    char num[48];
    if (!put_key(l, key, &mark))
        return;
    /* JSON has no NaN or infinity. */
    int n = (val == val && val < 1e300 && val > -1e300) ? snprintf(num, sizeof num, "%.3f", val)
                                                         : snprintf(num, sizeof num, "null");
    if (!put_raw(l, num, (size_t)n))
        undo(l, mark);
}

void sd_log_bool(sd_logline *l, const char *key, bool val)
{
    size_t mark;
    if (!put_key(l, key, &mark))
        return;
    if (!put_raw(l, val ? "true" : "false", val ? 4 : 5))
        undo(l, mark);
}

void sd_log_hex(sd_logline *l, const char *key, const uint8_t *bin, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t mark;
    if (!put_key(l, key, &mark))
        return;
    if (l->len + 2 * len + 2 + SD_LOG_RESERVE > sizeof l->buf) {
        undo(l, mark);
        return;
    }
    l->buf[l->len++] = '"';
    for (size_t i = 0; i < len; i++) {
        l->buf[l->len++] = hex[bin[i] >> 4];
        l->buf[l->len++] = hex[bin[i] & 15];
    }
    l->buf[l->len++] = '"';
}

void sd_log_end(sd_logline *l)
{
    if (!l->on)
        return;
    /* SD_LOG_RESERVE keeps room for this tail. */
    static const char trunc[] = ",\"truncated\":true";
    if (l->truncated) {
        memcpy(l->buf + l->len, trunc, sizeof trunc - 1);
        l->len += sizeof trunc - 1;
    }
    l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
    int fd = atomic_load(&log_fd);
    size_t off = 0;
    while (off < l->len) {
        ssize_t w = write(fd, l->buf + off, l->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* nowhere to report a failing log; drop the line */
        off += (size_t)w;
    }
    l->on = false;
}

void sd_log(int level, const char *msg, const char *detail)
{
    sd_logline l;
    sd_log_begin(&l, level, msg);
    if (detail)
        sd_log_str(&l, "detail", detail);
    sd_log_end(&l);
}

static uint64_t id_base;
static atomic_uint_fast64_t id_counter;
static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static void id_init(void)
{
    /* Start time and pid make ids from successive runs differ; the counter makes them unique. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    id_base = ((uint64_t)ts.tv_sec << 32) ^ ((uint64_t)ts.tv_nsec << 8) ^ ((uint64_t)getpid() << 40);
}

void sd_log_request_id(char out[17])
{
    pthread_once(&id_once, id_init);
    uint64_t v = id_base + (uint64_t)atomic_fetch_add(&id_counter, 1);
    snprintf(out, 17, "%016" PRIx64, v);
}
