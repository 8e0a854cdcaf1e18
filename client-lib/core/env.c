/*
 * env.c: allocation through an injected environment, with overflow checks,
 * and the bridge that lets protobuf-c allocate the same way.
 */
#include "env.h"

#include <stdlib.h>
#include <string.h>

void *sc_alloc(const sc_env *env, size_t size)
{
    if (size == 0)
        size = 1;
    if (env && env->alloc)
        return env->alloc(env->ctx, size);
    return malloc(size);
}

void *sc_calloc(const sc_env *env, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t total = n * size;
    void *p = sc_alloc(env, total);
    if (p)
        memset(p, 0, total ? total : 1);
    return p;
}

void *sc_realloc_array(const sc_env *env, void *ptr, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t total = n * size;
    if (total == 0)
        total = 1;
    if (env && env->realloc)
        return env->realloc(env->ctx, ptr, total);
    if (env && env->alloc) {
        /* An allocator without realloc: we cannot know the old size, so refuse. */
        return NULL;
    }
    return realloc(ptr, total);
}

void sc_free(const sc_env *env, void *ptr)
{
    if (!ptr)
        return;
    if (env && env->free)
        env->free(env->ctx, ptr);
    else
        free(ptr);
}

void *sc_memdup(const sc_env *env, const void *src, size_t len)
{
    void *p = sc_alloc(env, len);
    if (p && len)
        memcpy(p, src, len);
    return p;
}

static void *pb_alloc(void *data, size_t size)
{
    return sc_alloc(data, size);
}

static void pb_free(void *data, void *ptr)
{
    sc_free(data, ptr);
}

/* malloc's own bookkeeping, counted with each allocation: what tiny entries really cost. */
#define PB_BUDGET_OVERHEAD 16

static void *budget_alloc(void *data, size_t size)
{
    sc_pb_budget *b = data;
    size_t cost = size + PB_BUDGET_OVERHEAD;
    if (cost < size || cost > b->left) {
        b->over = true;
        return NULL;
    }
    b->left -= cost;
    return malloc(size ? size : 1);
}

static void budget_free(void *data, void *ptr)
{
    (void)data; /* spent stays spent: the budget bounds an unpack's whole work */
    free(ptr);
}

void sc_pb_budget_init(sc_pb_budget *b, size_t limit)
{
    b->a.alloc = budget_alloc;
    b->a.free = budget_free;
    b->a.allocator_data = b;
    b->left = limit;
    b->over = false;
}

void sc_env_pb_allocator(const sc_env *env, ProtobufCAllocator *out)
{
    out->alloc = pb_alloc;
    out->free = pb_free;
    /* protobuf-c's allocator_data is not const; the env is never written through it. */
    out->allocator_data = (void *)(uintptr_t)env;
}

int64_t sc_env_now_ms(const sc_env *env)
{
    return env->now_ms(env->ctx);
}

void sc_env_random(const sc_env *env, void *buf, size_t len)
{
    env->random(env->ctx, buf, len);
}
