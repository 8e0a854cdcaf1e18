/*
 * platform.c: the platform layer (platform.h), on POSIX: Linux, the BSDs,
 * Darwin.
 */
#include "platform.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sc_plat_now_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

int64_t sc_plat_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

void sc_plat_sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

unsigned sc_plat_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

int64_t sc_plat_mtime_ms(const struct stat *st)
{
#if defined(__APPLE__)
    return (int64_t)st->st_mtimespec.tv_sec * 1000 + st->st_mtimespec.tv_nsec / 1000000;
#else
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
#endif
}

void sc_plat_file_times(const struct stat *st, struct timespec times[2])
{
#if defined(__APPLE__)
    times[0] = st->st_atimespec;
    times[1] = st->st_mtimespec;
#else
    times[0] = st->st_atim;
    times[1] = st->st_mtim;
#endif
}

int sc_plat_thread_start(sc_plat_thread *th, void *(*fn)(void *), void *arg)
{
    return pthread_create(&th->t, NULL, fn, arg);
}

void sc_plat_thread_join(sc_plat_thread *th)
{
    pthread_join(th->t, NULL);
}

int sc_plat_mutex_init(sc_plat_mutex *m)
{
    return pthread_mutex_init(&m->m, NULL);
}

void sc_plat_mutex_destroy(sc_plat_mutex *m)
{
    pthread_mutex_destroy(&m->m);
}

void sc_plat_mutex_lock(sc_plat_mutex *m)
{
    pthread_mutex_lock(&m->m);
}

void sc_plat_mutex_unlock(sc_plat_mutex *m)
{
    pthread_mutex_unlock(&m->m);
}

int sc_plat_cond_init(sc_plat_cond *cv)
{
    return pthread_cond_init(&cv->c, NULL);
}

void sc_plat_cond_destroy(sc_plat_cond *cv)
{
    pthread_cond_destroy(&cv->c);
}

void sc_plat_cond_wait(sc_plat_cond *cv, sc_plat_mutex *m)
{
    pthread_cond_wait(&cv->c, &m->m);
}

void sc_plat_cond_signal(sc_plat_cond *cv)
{
    pthread_cond_signal(&cv->c);
}

void sc_plat_cond_broadcast(sc_plat_cond *cv)
{
    pthread_cond_broadcast(&cv->c);
}

int sc_plat_run_once(sc_plat_once *once, void (*fn)(void))
{
    return pthread_once(&once->o, fn);
}
