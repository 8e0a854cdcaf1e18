/*
 * scops.h: building real signed ops in tests.  A test "device" has a key
 * and an HLC; sco_make seals an op on an entity with the given deps, as a
 * client would.  Ops are kept in a growable set with union and fold helpers,
 * so tests can play replicas that exchange ops.
 */
#ifndef SC_TEST_OPS_H
#define SC_TEST_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/codec.h"
#include "core/hlc.h"
#include "core/merge.h"
#include "sctest.h"

typedef struct sco_device {
    sc_keypair *key;
    sc_hlc clock;
    int64_t now_ms;       /* this device's wall clock; advanced by the test */
} sco_device;

void sco_device_init(sco_device *d, uint32_t n, int64_t now_ms);
void sco_device_dispose(sco_device *d);

/* A set of ops (owned sc_op pointers), unique by id. */
typedef struct sco_set {
    sc_op **v;
    size_t n, cap;
} sco_set;

void sco_set_dispose(const sc_env *env, sco_set *s);
/* Add a copy (re-opened from its bytes) unless present; returns true when added. */
bool sco_set_add(const sc_env *env, sco_set *s, const sc_op *op);
bool sco_set_has(const sco_set *s, const uint8_t id[SC_HASH_LEN]);
/* Add every op of src missing from dst, observing their HLCs on dev. */
void sco_set_merge(const sc_env *env, sco_set *dst, const sco_set *src, sco_device *dev);

/*
 * Who devices speak for in sco_fold and sco_try (the fold's sc_users); NULL,
 * the default, makes every device a person of its own.  A test that plays
 * one user with two devices sets it (and resets it in its teardown).
 */
extern const sc_users *sco_fold_users;

/* Fold the set (all one entity); asserts success. */
void sco_fold(const sc_env *env, const sco_set *s, sc_fold_out *out);
/* Fold and hash. */
void sco_hash(const sc_env *env, const sco_set *s, uint8_t out[SC_HASH_LEN]);

/*
 * Seal `op` (its body set by the caller) for entity/type with deps = the
 * heads of `base` (NULL or empty for a create), author = dev, HLC ticked.
 * Returns the new sc_op (owned by the caller).
 */
sc_op *sco_make(const sc_env *env, sco_device *dev, Scpb__Op *op, const uint8_t entity[SC_ID_LEN],
                Scpb__EntityType type, const sco_set *base);
/* Like sco_make with explicit deps (n op ids). */
sc_op *sco_make_deps(const sc_env *env, sco_device *dev, Scpb__Op *op,
                     const uint8_t entity[SC_ID_LEN], Scpb__EntityType type,
                     const uint8_t (*deps)[SC_HASH_LEN], size_t ndeps);

/*
 * Try an op on a replica as a client would: seal it, fold the replica with
 * it, and keep it only when valid.  Returns true when kept (added to s);
 * *why gets the fold's reason otherwise (may be NULL).
 */
bool sco_try(const sc_env *env, sco_device *dev, sco_set *s, Scpb__Op *op,
             const uint8_t entity[SC_ID_LEN], Scpb__EntityType type, const char **why);

/* The bodies of a change to a user (user_disable, user_enable, user_role), kept by the caller. */
typedef struct sco_user_body {
    Scpb__UserDisable disable;
    Scpb__UserEnable enable;
    Scpb__UserRole role;
} sco_user_body;

/*
 * Set op's body to a change of kind on a user: role for USER_ROLE, the
 * reason (may be NULL) for USER_DISABLE and USER_ENABLE.  b holds the body
 * and must outlive op's use.
 */
void sco_user_act(Scpb__Op *op, sco_user_body *b, Scpb__Op__BodyCase kind, Scpb__Role role,
                  const char *reason);

/* Set op's body to a spot check's opening (inspection_open) of target; b must outlive op's use. */
void sco_open_body(Scpb__Op *op, Scpb__InspectionOpen *b, const uint8_t target[SC_ID_LEN],
                   Scpb__Disclosure disclosure);

#endif
