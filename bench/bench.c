/*
 * bench.c: the helpers of bench.h.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double bn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t bn_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bn_sleep(double s)
{
    if (s <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void bn_emit(const char *key, double value, const char *unit, const char *desc)
{
    printf("%s\t%.6g\t%s\t%s\n", key, value, unit, desc);
    fflush(stdout);
}

void bn_note(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "   %s\n", line);
    fflush(stderr);
}

void bn_die(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "bench: fatal: %s\n", line);
    exit(1);
}

uint64_t bn_mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bn_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

bool bn_rss_kib(pid_t pid, uint64_t *hwm, uint64_t *rss)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long v;
        if (sscanf(line, "VmHWM: %llu kB", &v) == 1) {
            *hwm = v;
            found |= 1;
        } else if (sscanf(line, "VmRSS: %llu kB", &v) == 1) {
            *rss = v;
            found |= 2;
        }
    }
    fclose(f);
    return found == 3;
}

bool bn_hwm_reset(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return false;
    bool ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

long long bn_arg_int(const char *text, long long lo, long long hi, const char *what)
{
    char *end = NULL;
    errno = 0;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (!text || errno || end == text || *end || v < lo || v > hi)
        bn_die("%s: expected an integer in [%lld, %lld], got \"%s\"", what, lo, hi,
               text ? text : "");
    return v;
}

double bn_arg_num(const char *text, double lo, double hi, const char *what)
{
    char *end = NULL;
    errno = 0;
    double v = text ? strtod(text, &end) : 0;
    if (!text || errno || end == text || *end || v < lo || v > hi)
        bn_die("%s: expected a number in [%g, %g], got \"%s\"", what, lo, hi, text ? text : "");
    return v;
}

void bn_hex(const uint8_t *bin, size_t len, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < len && k + 2 < cap; i++) {
        out[k++] = digits[bin[i] >> 4];
        out[k++] = digits[bin[i] & 15];
    }
    if (cap)
        out[k] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool bn_unhex(const char *text, uint8_t *out, size_t len)
{
    if (!text || strlen(text) != 2 * len)
        return false;
    for (size_t i = 0; i < len; i++) {
        int a = hexval(text[2 * i]), b = hexval(text[2 * i + 1]);
        if (a < 0 || b < 0)
            return false;
        out[i] = (uint8_t)(a << 4 | b);
    }
    return true;
}

static void *env_alloc(void *ctx, size_t n)
{
    (void)ctx;
    return malloc(n ? n : 1);
}

static void *env_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return realloc(p, n ? n : 1);
}

static void env_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static int64_t env_now(void *ctx)
{
    (void)ctx;
    return bn_wall_ms();
}

static void env_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    randombytes_buf(buf, len);
}

static const sc_env system_env = {env_alloc, env_realloc, env_free, env_now, env_random, NULL};

const sc_env *bn_env(void)
{
    return &system_env;
}
