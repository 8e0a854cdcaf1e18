/*
 * env.h: what the core borrows from its host: memory, the wall clock and
 * randomness.  The core keeps no global state and never calls the clock or
 * a random source itself; the client and syncd pass a real environment,
 * tests pass deterministic ones and failing allocators.
 *
 * Set alloc, realloc and free together, or leave all three NULL for the C
 * library's.
 * now_ms and random must be set wherever a function's comment says it uses
 * them (id and key generation, key file encryption).
 */
#ifndef SC_CORE_ENV_H
#define SC_CORE_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

typedef struct sc_env {
    void *(*alloc)(void *ctx, size_t size);              /* NULL on failure */
    void *(*realloc)(void *ctx, void *ptr, size_t size); /* NULL on failure, ptr kept */
    void (*free)(void *ctx, void *ptr);                  /* ptr may be NULL */
    int64_t (*now_ms)(void *ctx);                        /* ms since the Unix epoch */
    void (*random)(void *ctx, void *buf, size_t len);    /* cryptographically strong */
    void *ctx;                                           /* passed to each, borrowed */
} sc_env;

/* Allocate size bytes (size 0 allocates 1).  env may be NULL. */
void *sc_alloc(const sc_env *env, size_t size);
/* Allocate n * size zeroed bytes; NULL on overflow or failure. */
void *sc_calloc(const sc_env *env, size_t n, size_t size);
/* Resize to n * size bytes; NULL on overflow or failure (ptr stays valid). */
void *sc_realloc_array(const sc_env *env, void *ptr, size_t n, size_t size);
/* Free; ptr may be NULL. */
void sc_free(const sc_env *env, void *ptr);
/* Copy len bytes into a new allocation; NULL on failure. */
void *sc_memdup(const sc_env *env, const void *src, size_t len);

/* A protobuf-c allocator that allocates through env (which must outlive it). */
void sc_env_pb_allocator(const sc_env *env, ProtobufCAllocator *out);

/*
 * A protobuf-c allocator for unpacking what another party sent, that gives
 * out at most `limit` bytes in all (protobuf-c's scratch counted): an
 * encoding of millions of tiny entries unpacks into some seventy times its
 * size, and under a budget its unpack fails (NULL, with `over` set) instead
 * of taking the device's memory.  It allocates with malloc, so what it
 * unpacked is freed as with a NULL allocator.  Set up with
 * sc_pb_budget_init; pass &b.a to the unpack.
 */
typedef struct sc_pb_budget {
    ProtobufCAllocator a;
    size_t left;
    bool over;
} sc_pb_budget;
void sc_pb_budget_init(sc_pb_budget *b, size_t limit);

/* The clock and the random source of env; both must be set. */
int64_t sc_env_now_ms(const sc_env *env);
void sc_env_random(const sc_env *env, void *buf, size_t len);

#endif
