/*
 * platform.h: the one layer between Spotcheck's C11 and the platform it
 * runs on.  Everything outside it is ISO C11 (it compiles with -std=c11
 * -pedantic-errors, SC_PEDANTIC) plus POSIX file and socket calls; what a
 * port to another system (Darwin for iOS, Bionic for Android, Windows)
 * would change is here: threads, the CPU count, the clocks, sleeping, a
 * file's modification time, and the compiler attributes the code asks for.
 *
 * The attributes are hints only: a compiler that lacks them builds the
 * same program without the checks they give.
 */
#ifndef SC_CORE_PLATFORM_H
#define SC_CORE_PLATFORM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* printf-like arguments (fmt is argument f, the values start at v), checked by GCC and clang. */
#if defined(__GNUC__) || defined(__clang__)
#define SC_PRINTF(f, v) __attribute__((format(printf, f, v)))
#define SC_SENTINEL __attribute__((sentinel))
#else
#define SC_PRINTF(f, v)
#define SC_SENTINEL
#endif

/* Wall-clock time, Unix milliseconds (CLOCK_REALTIME). */
int64_t sc_plat_now_ms(void);
/* Monotonic milliseconds for durations: never stepped by NTP or the user. */
int64_t sc_plat_mono_ms(void);
/* Wait ms milliseconds, the whole of them though signals interrupt. */
void sc_plat_sleep_ms(uint32_t ms);
/* CPUs online; 1 when the system does not say. */
unsigned sc_plat_cpus(void);
/* A file's modification time in Unix milliseconds (st_mtim; st_mtimespec on Darwin). */
int64_t sc_plat_mtime_ms(const struct stat *st);
/* A file's access and modification times, as futimens takes them. */
void sc_plat_file_times(const struct stat *st, struct timespec times[2]);

/* A thread running fn(arg); sc_plat_thread_join waits for it. */
typedef struct sc_plat_thread {
    pthread_t t;
} sc_plat_thread;
/* 0 when started, else nonzero (and nothing runs). */
int sc_plat_thread_start(sc_plat_thread *th, void *(*fn)(void *), void *arg);
void sc_plat_thread_join(sc_plat_thread *th);

/* A mutex; init returns 0 or nonzero. */
typedef struct sc_plat_mutex {
    pthread_mutex_t m;
} sc_plat_mutex;
int sc_plat_mutex_init(sc_plat_mutex *m);
void sc_plat_mutex_destroy(sc_plat_mutex *m);
void sc_plat_mutex_lock(sc_plat_mutex *m);
void sc_plat_mutex_unlock(sc_plat_mutex *m);

/* A condition variable, waited on with a locked sc_plat_mutex; init returns 0 or nonzero. */
typedef struct sc_plat_cond {
    pthread_cond_t c;
} sc_plat_cond;
int sc_plat_cond_init(sc_plat_cond *cv);
void sc_plat_cond_destroy(sc_plat_cond *cv);
void sc_plat_cond_wait(sc_plat_cond *cv, sc_plat_mutex *m);
void sc_plat_cond_signal(sc_plat_cond *cv);
void sc_plat_cond_broadcast(sc_plat_cond *cv);

/* Run fn once per process, however many threads call it at once; 0 or nonzero. */
typedef struct sc_plat_once {
    pthread_once_t o;
} sc_plat_once;
#define SC_PLAT_ONCE_INIT {PTHREAD_ONCE_INIT}
int sc_plat_run_once(sc_plat_once *once, void (*fn)(void));

#endif
