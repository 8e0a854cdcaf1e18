/*
 * fuzz_seal.c: a client opening and comparing the seal of a sync answer
 * (core/seal.h) on arbitrary bytes.
 *
 * Input: a flag byte, then the seal bytes.  With bit 0 set the harness
 * signs the bytes with the server key, so they get past the signature to
 * the decoder and the comparison; without it the input's first 64 bytes
 * after the flag are the signature and the rest the seal, which must then
 * be refused unless it really is signed.  An opened seal is compared with
 * the seal of a fixed answer and with itself: the answers are SC_OK or
 * SC_ERR_UNPROVEN with a message, never anything else.  The seed is that
 * fixed answer's own seal, signed (SC_FUZZ_WRITE_SEEDS=DIR writes it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sc_keypair *server;
static sc_seal want;
static Scpb__SyncResponse resp = SCPB__SYNC_RESPONSE__INIT;
static Scpb__Checkpoint cp = SCPB__CHECKPOINT__INIT;
static uint8_t cursor[4] = {0x08, 0x05, 0x10, 0x00};

static void init(void)
{
    uint8_t seed[32] = {42};
    if (sc_crypto_init() != SC_OK || sc_keypair_from_seed(seed, &server) != SC_OK)
        abort();
    static const uint8_t nonce[SC_NONCE_LEN] = {7}, body[SC_HASH_LEN] = {9};
    cp.note = "fuzz.example/log\n5\nAAAA\n\n";
    cp.has_size = true;
    cp.size = 5;
    resp.checkpoint = &cp;
    resp.has_cursor = true;
    resp.cursor = (ProtobufCBinaryData){sizeof cursor, cursor};
    sc_seal_input in = {nonce, body, false, NULL, 0, &resp, NULL};
    sc_seal_build(&in, &want);
    const char *dir = getenv("SC_FUZZ_WRITE_SEEDS");
    if (dir && dir[0]) {
        uint8_t buf[1 + SC_SEAL_MAX], sig[SC_SIG_LEN];
        size_t len = 0;
        if (sc_seal_sign(NULL, server, &want, buf + 1, SC_SEAL_MAX, &len, sig) != SC_OK)
            abort();
        buf[0] = 1;
        char path[1024];
        snprintf(path, sizeof path, "%s/signed-seal", dir);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, len + 1, f) != len + 1)
            abort();
        fclose(f);
        exit(0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!server)
        init();
    if (size < 1)
        return 0;
    const uint8_t *seal = data + 1, *sig = NULL;
    size_t len = size - 1;
    uint8_t made[SC_SIG_LEN];
    if (data[0] & 1) {
        if (sc_sign(NULL, server, SC_DOMAIN_SYNC, seal, len, made) != SC_OK)
            abort();
        sig = made;
    } else if (len >= SC_SIG_LEN) {
        sig = seal;
        seal += SC_SIG_LEN;
        len -= SC_SIG_LEN;
    }
    /* Its own exact allocation, so any over-read is caught. */
    uint8_t *copy = len ? malloc(len) : NULL;
    if (len && !copy)
        return 0;
    if (len)
        memcpy(copy, seal, len);
    Scpb__SyncSeal *got = NULL;
    sc_err e;
    sc_err_clear(&e);
    sc_status rc = sc_seal_open(NULL, sc_keypair_public(server), copy, len, sig,
                                sig ? SC_SIG_LEN : 0, &got, &e);
    if (rc == SC_OK) {
        if (!got || len > SC_SEAL_MAX)
            abort();
        rc = sc_seal_compare(&want.msg, got, &e);
        if ((rc != SC_OK && rc != SC_ERR_UNPROVEN) || (rc != SC_OK && !e.msg[0]))
            abort();
        if (sc_seal_compare(got, got, &e) != SC_OK)
            abort();
        scpb__sync_seal__free_unpacked(got, NULL);
    } else if (rc != SC_ERR_UNPROVEN || got || !e.msg[0]) {
        abort();
    }
    free(copy);
    return 0;
}
