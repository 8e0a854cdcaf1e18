/*
 * opgen.h: op streams shaped like field work (DOMAIN.md), sealed on
 * simulated devices with the core, before any timing starts.
 *
 * A device makes inspection cycles.  One cycle of an inspector is 20 ops:
 * InspectionOpen on the 100-point sheet (tests/vectors/templates/
 * no-epidemic-100.json), its 10 item results, 3 findings with DOMAIN.md §11
 * texts (one fixed on the spot with photo evidence), 3 PhotoAttach ops
 * (photo metadata; the bytes travel as blobs), the InspectionSubmit that
 * lists the findings' heads and the photos, a revisit of the fixed-on-spot
 * finding and a note.  A supervisor's cycle adds the paper rectification
 * report (supervisors record them for units that report on paper), the
 * revisit that verifies it and the closure (销号): 23 ops.  Every op names
 * its entity's head as its dep and ticks the device's HLC, so a stream is
 * valid in its own order and only in it.
 *
 * The world (targets, score sheet, responsible unit) comes from the file
 * `sc-bench-fixture init` writes: bench-world.txt in the data directory.
 */
#ifndef SC_BENCH_OPGEN_H
#define SC_BENCH_OPGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/codec.h"
#include "core/hlc.h"
#include "core/keys.h"

#define OG_TARGETS_MAX 64
#define OG_LOGIN_MAX 64
#define OG_CODE_MAX 40

/* What a device needs to know about the register to make valid ops. */
typedef struct og_world {
    uint8_t server_key[SC_KEY_LEN];
    uint8_t tpl[SC_ID_LEN];                    /* the published 100-point sheet */
    uint8_t responsible[SC_ID_LEN];            /* the org unit that rectifies */
    uint8_t targets[OG_TARGETS_MAX][SC_ID_LEN];
    size_t ntargets;
} og_world;

/* Read DIR/bench-world.txt; false (with a message on stderr) when it is missing or bad. */
bool og_world_load(const char *path, og_world *w);

/* A growable list of sealed ops (owned). */
typedef struct og_stream {
    sc_op **v;
    size_t n, cap;
    size_t bytes;                              /* sum of signed_len */
} og_stream;

void og_stream_free(og_stream *s);

/* A simulated device.  kp is owned (og_device_dispose frees it). */
typedef struct og_device {
    sc_keypair *kp;
    int role;                                  /* Scpb__Role: inspector or supervisor */
    sc_hlc clock;
    uint64_t cycles;                           /* cycles made so far */
    uint64_t seed;                             /* varies texts and scores per device */
} og_device;

/* A new device with a fresh key. */
void og_device_init(og_device *d, int role, uint64_t seed);
void og_device_dispose(og_device *d);

/* Append one inspection cycle of d to out (20 or 23 ops).  Dies on a core failure. */
void og_cycle(og_device *d, const og_world *w, og_stream *out);

/* Ops in one cycle for a role. */
size_t og_cycle_len(int role);

#endif
