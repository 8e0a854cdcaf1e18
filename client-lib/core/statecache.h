/*
 * statecache.h: states looked up by id, each once, kept until the cache is
 * freed.  Reports look up the same org units, targets, users and score
 * sheets for every row; those are the register's admin facts, whose number
 * does not grow with its findings, so caching them keeps a report's memory
 * flat and its lookups few.  Open addressing on the id's random tail
 * (UUIDv7: the first bytes are a timestamp), doubled at half full.
 */
#ifndef SC_CORE_STATECACHE_H
#define SC_CORE_STATECACHE_H

#include <stdint.h>

#include "env.h"
#include "limits.h"
#include "state.pb-c.h"
#include "status.h"

/* Look a state up: SC_OK and *out (the cache frees it), SC_ERR_NOT_FOUND, or a failure. */
typedef sc_status (*sc_state_fn)(void *ctx, const uint8_t id[SC_ID_LEN], Scpb__EntityState **out);

typedef struct sc_state_cache sc_state_cache;

sc_status sc_state_cache_new(const sc_env *env, sc_state_fn fn, void *ctx, sc_state_cache **out);
/* Free it with every state it holds; NULL is a no-op. */
void sc_state_cache_free(sc_state_cache *c);
/*
 * The state of id (when has and 16 bytes long; else *out NULL), looked up
 * once: *out NULL when the source has none.  Borrowed until the cache is
 * freed.  A failure of the source is returned, err saying so.
 */
sc_status sc_state_cache_get(sc_state_cache *c, const ProtobufCBinaryData *id,
                             protobuf_c_boolean has, const Scpb__EntityState **out, sc_err *err);

#endif
