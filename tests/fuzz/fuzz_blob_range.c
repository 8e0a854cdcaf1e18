/*
 * fuzz_blob_range.c: Content-Range values driving the resumable upload
 * state machine of the blob store (sd_http_parse_range, then
 * sd_upload_begin / write / finish / abort), on a real store in a fresh
 * directory per input.
 *
 * The input is lines; each is one chunk: a flags byte, then the
 * Content-Range value.  Flags: bit 0 picks the blob (0: the 1,000-byte
 * pattern blob whose name is its hash, so a good sequence completes; 1: a
 * name its bytes never match), bit 1 gives the chunk up after half of it (a
 * cut connection), bit 2 sends only half of it and then finishes (a short
 * body).  Chunk bytes are the pattern at the range's offset.
 *
 * Beyond not crashing: every refusal is one of the documented codes; a
 * verified offset never goes back nor past the total; after a finished
 * chunk it is exactly start+len; a completed blob is stored and hashes to
 * its name (never the mismatching one), and a completed upload leaves no
 * partial; the partial file never holds bytes past the verified offset
 * once a chunk is over.  One device uploads (uploads are per device, so
 * one is the whole state machine); no op names either blob.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobs/blobs.h"
#include "core/codec.h"
#include "core/ids.h"
#include "http/http.h"
#include "sctest_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATTERN_LEN 1000
#define MAX_SIZE (64 * 1024)
#define CHUNK_MAX (16 * 1024)

static uint8_t pattern[MAX_SIZE];
static char good[SD_BLOB_NAME_LEN + 1], bad[SD_BLOB_NAME_LEN + 1];
static char root[512];

static void cleanup(void)
{
    sct_rmtree(root);
}

static void init(void)
{
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)(i * 131 + (i >> 7));
    uint8_t h[SC_HASH_LEN];
    sc_sha256(pattern, PATTERN_LEN, h);
    sc_hex_encode(h, sizeof h, good, sizeof good);
    memset(bad, 'e', SD_BLOB_NAME_LEN);
    bad[SD_BLOB_NAME_LEN] = '\0';
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    /* libFuzzer may end without atexit: sweep the directories of runs that are gone. */
    DIR *d = opendir(base);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        long pid = 0;
        if (sscanf(e->d_name, "sc-fuzz-blob-%ld", &pid) == 1 && pid > 0 && kill((pid_t)pid, 0) != 0) {
            char stale[600];
            snprintf(stale, sizeof stale, "%s/%s", base, e->d_name);
            sct_rmtree(stale);
        }
    }
    if (d)
        closedir(d);
    snprintf(root, sizeof root, "%s/sc-fuzz-blob-%ld", base, (long)getpid());
    sct_rmtree(root);
    if (mkdir(root, 0700) != 0)
        abort();
    atexit(cleanup);
}

/* The uploading device's key (its directories are named by it in hex). */
static const uint8_t device[SC_KEY_LEN] = {7};

static int64_t part_size(const char *name)
{
    char path[1024], hex[2 * SC_KEY_LEN + 1];
    struct stat st;
    sc_hex_encode(device, SC_KEY_LEN, hex, sizeof hex);
    snprintf(path, sizeof path, "%s/blobs/partial/%s/%s.part", root, hex, name);
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* The device's verified offset of the blob, and whether the blob is stored. */
static uint64_t verified(sd_blobs *b, const char *name, bool *stored)
{
    sd_blob_info info;
    sc_err err;
    if (sd_blobs_stat(b, device, name, &info, &err) != SC_OK)
        abort();
    *stored = info.stored;
    return info.offset;
}

/* No op names either blob. */
static sc_status seen(void *ctx, const uint8_t *dev, const uint8_t sha[SC_HASH_LEN], bool *out,
                      sc_err *err)
{
    (void)ctx;
    (void)dev;
    (void)sha;
    (void)err;
    *out = false;
    return SC_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        init();
        ready = 1;
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s/blobs", root);
    sct_rmtree(dir);
    sd_blobs *b = NULL;
    sc_err err;
    const sd_blob_limits lim = {.max_size = MAX_SIZE,
                                .chunk_max = CHUNK_MAX,
                                .partial_count = 4,
                                .partial_bytes = 4 * MAX_SIZE,
                                .partial_age_s = 3600,
                                .unref_count = 1000,
                                .unref_bytes = 1 << 30,
                                .unref_age_s = 3600};
    if (sd_blobs_open(root, &lim, seen, NULL, &b, &err) != SC_OK)
        abort();
    uint64_t last[2] = {0, 0};
    bool was_stored[2] = {false, false}; /* a finished upload stored the blob */
    const uint8_t *p = data, *end = data + size;
    for (int chunks = 0; p < end && chunks < 64; chunks++) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char line[128];
        if (n == 0 || n >= sizeof line) {
            p = nl ? nl + 1 : end;
            continue;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        p = nl ? nl + 1 : end;
        unsigned flags = (unsigned char)line[0];
        int which = flags & 1;
        const char *name = which ? bad : good;
        uint64_t start, len, total;
        if (!sd_http_parse_range(line + 1, &start, &len, &total))
            continue;
        if (len == 0 || start >= total || len > total - start)
            abort(); /* the parser's contract */
        sd_upload *u = NULL;
        uint64_t off = UINT64_MAX;
        sc_status rc = sd_upload_begin(b, device, name, start, len, total, false, &u, &off, &err);
        switch (rc) {
        case SC_OK:
            break;
        case SC_ERR_INVALID_TRANSITION:
        case SC_ERR_TOO_LARGE:
        case SC_ERR_MALFORMED:
            if (u)
                abort();
            continue;
        default:
            abort(); /* no disk trouble on a healthy store */
        }
        if (start != last[which] || total > MAX_SIZE || len > CHUNK_MAX)
            abort(); /* begin accepted a chunk it should have refused */
        uint64_t send = (flags & 6) ? len / 2 : len;
        for (uint64_t at = 0; at < send;) {
            uint64_t piece = send - at < 4096 ? send - at : 4096;
            const uint8_t *src = start + at + piece <= sizeof pattern ? pattern + start + at : pattern;
            if (sd_upload_write(u, src, (size_t)piece, &err) != SC_OK)
                abort();
            at += piece;
        }
        if (sd_upload_received(u) != send)
            abort();
        bool stored = false;
        if (flags & 2) {
            sd_upload_abort(u);
            if (verified(b, name, &stored) != last[which])
                abort();
        } else {
            bool complete = false;
            rc = sd_upload_finish(u, &complete, &off, &err);
            uint64_t v = verified(b, name, &stored);
            if (rc == SC_OK) {
                if (send != len || off != start + len)
                    abort();
                if (complete) {
                    /* Stored only when the bytes hash to the name; the upload is over. */
                    if (which == 1 || off != total || total != PATTERN_LEN || !stored || v != 0)
                        abort();
                    last[which] = 0;
                    was_stored[which] = true;
                } else {
                    if (v != off)
                        abort();
                    last[which] = off;
                }
            } else if (rc == SC_ERR_MALFORMED) {
                /* A short chunk keeps the old offset; a mismatch discards the partial upload
                 * and stores nothing, though a blob an earlier upload stored stays stored. */
                if (stored != was_stored[which] || (v != last[which] && v != 0))
                    abort();
                last[which] = v;
            } else {
                abort();
            }
        }
        if (part_size(name) > (int64_t)last[which])
            abort(); /* unverified bytes left behind */
    }
    sd_blobs_close(b);
    return 0;
}
