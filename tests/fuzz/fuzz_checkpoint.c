/*
 * fuzz_checkpoint.c: sc_checkpoint_open on arbitrary bytes, under the fixed
 * key that signed the seed corpus (tests/fuzz/corpus/checkpoint/).
 *
 * Beyond not crashing or reading outside the input, every result must keep
 * the contract: a failure zeroes the checkpoint and records its code; a
 * note that is accepted re-signs and re-opens to the same checkpoint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/checkpoint.h"
#include "sctest.h"

/* The seed of the corpus's signing key: bytes 0..31. */
static const uint8_t fuzz_seed[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                      11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                      22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
#define FUZZ_ORIGIN "fuzz.spotcheck.example/log"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One key for the whole run; a harness may keep state, the library may not. */
    static sc_keypair *kp;
    if (!kp && (sc_crypto_init() != SC_OK || sc_keypair_from_seed(fuzz_seed, &kp) != SC_OK))
        abort();
    const uint8_t *pub = sc_keypair_public(kp);

    for (int pass = 0; pass < 2; pass++) {
        sc_checkpoint cp;
        sc_err err;
        memset(&cp, 0xa5, sizeof cp);
        sc_status rc =
            sc_checkpoint_open((const char *)data, size, pub, pass ? FUZZ_ORIGIN : NULL, &cp, &err);
        if (err.code != rc)
            abort();
        if (rc != SC_OK) {
            if (!sct_all_zero(&cp, sizeof cp) ||
                (rc != SC_ERR_MALFORMED && rc != SC_ERR_TOO_LARGE && rc != SC_ERR_CHECKPOINT))
                abort();
            continue;
        }
        if (!memchr(cp.origin, '\0', sizeof cp.origin) || cp.time_ms < 0)
            abort();
        /* Its origin named a verifying signature line, so it is a valid key name and signs. */
        char note[SC_CHECKPOINT_NOTE_MAX];
        size_t len = 0;
        sc_checkpoint again;
        if (sc_checkpoint_sign(NULL, kp, &cp, note, sizeof note, &len, NULL) != SC_OK ||
            sc_checkpoint_open(note, len, pub, cp.origin, &again, NULL) != SC_OK ||
            memcmp(&again, &cp, sizeof cp) != 0)
            abort();
    }
    return 0;
}
