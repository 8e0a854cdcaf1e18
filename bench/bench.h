/*
 * bench.h: what the benchmark programs share: a monotonic clock, result
 * lines, percentiles, the syncd process's memory from /proc, a
 * deterministic mixer, and the system environment for the core.
 *
 * Every benchmark program prints its results on stdout as lines of
 *   key <TAB> value <TAB> unit <TAB> description
 * which bench/run.sh collects into one table; progress and errors go to
 * stderr.  Nothing here is timed: callers read the clock around their own
 * loops.
 */
#ifndef SC_BENCH_H
#define SC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/env.h"

/* Seconds on the monotonic clock. */
double bn_now(void);
/* Wall clock in Unix milliseconds. */
int64_t bn_wall_ms(void);
/* Sleep this many seconds (fractions allowed). */
void bn_sleep(double s);

/* One result line on stdout (flushed). */
void bn_emit(const char *key, double value, const char *unit, const char *desc);
/* Progress on stderr, prefixed with the program name (flushed). */
void bn_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print to stderr and exit(1). */
void bn_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* splitmix64: reproducible pseudo-random numbers. */
uint64_t bn_mix64(uint64_t x);

/* The p-th percentile (0..100, nearest rank) of n values; sorts v in place.  0 when n is 0. */
double bn_percentile(double *v, size_t n, double p);

/* VmHWM and VmRSS of a process in KiB from /proc/PID/status; false when it cannot be read. */
bool bn_rss_kib(pid_t pid, uint64_t *hwm, uint64_t *rss);
/* Reset VmHWM to the current RSS (writes 5 to /proc/PID/clear_refs); false on failure. */
bool bn_hwm_reset(pid_t pid);

/* A decimal integer argument in [lo, hi]; dies naming `what` otherwise. */
long long bn_arg_int(const char *text, long long lo, long long hi, const char *what);
/* A decimal number argument in [lo, hi]; dies naming `what` otherwise. */
double bn_arg_num(const char *text, double lo, double hi, const char *what);

/* Hex helpers for ids and keys. */
void bn_hex(const uint8_t *bin, size_t len, char *out, size_t cap);
bool bn_unhex(const char *text, uint8_t *out, size_t len);

/* The system environment for the core: malloc, wall clock, libsodium randomness.  Thread-safe. */
const sc_env *bn_env(void);

#endif
