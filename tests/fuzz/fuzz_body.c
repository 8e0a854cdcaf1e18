/*
 * fuzz_body.c: request bodies and the register's handling of them,
 * in-process: what syncd does with a POST /v1/sync or /v1/enroll body
 * after the request signature verified.
 *
 * Input: a mode byte, then the body.  Mode 0 is a SyncRequest: its size is
 * checked, it is unpacked, its cursor checked as http.c does, and every
 * pushed op whose Op decodes is re-signed as the server key's (its author
 * set to that key and the op re-encoded), so mutated ops get past the
 * signature and reach the register's judgement: role, references, codes,
 * deps, HLCs, the fold.  They are ingested as one group commit, then the
 * pull runs with the request's cursor.  Mode 1 is an EnrollRequest for
 * sd_register_enroll.  The register lives in a temporary directory (in
 * /dev/shm when there is one) for the whole run, so ops accepted earlier
 * are there for later inputs to build on.
 *
 * Beyond not crashing or leaking: one result per op, each accepted or
 * duplicate op with a log index inside the new log, the log growing by
 * exactly the ops accepted, a receipt (the batched inclusion proof a sync
 * answer carries) that proves them over their own bytes, refusals that say
 * why, and pulled ops that open.  SC_FUZZ_WRITE_SEEDS=DIR writes the seed corpus and exits.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/keyfile.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/keys.h"
#include "core/limits.h"
#include "core/merkle.h"
#include "register/register.h"
#include "sctest_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OPS_MAX 64

static char root[512];
static sd_register *reg;
static sc_keypair *server;
static sd_principal admin;

static void cleanup(void)
{
    sd_register_close(reg);
    sc_keypair_free(server);
    sct_rmtree(root);
}

static void init(void)
{
    if (sc_crypto_init() != SC_OK)
        abort();
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    /* libFuzzer may end without atexit: sweep the directories of runs that are gone. */
    DIR *d = opendir(base);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        long pid = 0;
        if (sscanf(e->d_name, "sc-fuzz-body-%ld", &pid) == 1 && pid > 0 && kill((pid_t)pid, 0) != 0) {
            char stale[600];
            snprintf(stale, sizeof stale, "%s/%s", base, e->d_name);
            sct_rmtree(stale);
        }
    }
    if (d)
        closedir(d);
    snprintf(root, sizeof root, "%s/sc-fuzz-body-%ld", base, (long)getpid());
    sct_rmtree(root);
    if (mkdir(root, 0700) != 0)
        abort();
    char data[600], key[700];
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(key, sizeof key, "%s/server.key", data);
    sc_err err;
    sd_config cfg;
    sd_config_defaults(&cfg);
    if (sd_register_init(data, "fuzz.spotcheck.example/log", &err) != SC_OK ||
        sd_config_set(&cfg, "data", data, &err) != SC_OK ||
        sd_register_open(&cfg, &reg, &err) != SC_OK || sd_keyfile_read(key, &server, &err) != SC_OK ||
        sd_register_principal(reg, sc_keypair_public(server), &admin, &err) != SC_OK)
        abort();
    atexit(cleanup);
}

/* The op bytes re-signed as the server key's: author replaced, re-encoded, signed, opened. */
static sc_op *resign(const ProtobufCBinaryData *raw)
{
    if (raw->len > SC_SIGNED_OP_MAX_BYTES)
        return NULL;
    Scpb__SignedOp *so = scpb__signed_op__unpack(NULL, raw->len, raw->data);
    if (!so)
        return NULL;
    sc_op *out = NULL;
    Scpb__Op *op = so->has_op ? scpb__op__unpack(NULL, so->op.len, so->op.data) : NULL;
    if (op) {
        ProtobufCBinaryData own = op->author;
        protobuf_c_boolean had = op->has_author;
        op->has_author = true;
        op->author.data = (uint8_t *)(uintptr_t)sc_keypair_public(server);
        op->author.len = SC_KEY_LEN;
        size_t ol = scpb__op__get_packed_size(op);
        uint8_t *ob = malloc(ol ? ol : 1);
        uint8_t sig[SC_SIG_LEN];
        if (ob) {
            scpb__op__pack(op, ob);
            if (sc_sign(NULL, server, SC_DOMAIN_OP, ob, ol, sig) == SC_OK) {
                Scpb__SignedOp s2 = SCPB__SIGNED_OP__INIT;
                s2.has_op = true;
                s2.op = (ProtobufCBinaryData){ol, ob};
                s2.has_sig = true;
                s2.sig = (ProtobufCBinaryData){SC_SIG_LEN, sig};
                size_t sl = scpb__signed_op__get_packed_size(&s2);
                uint8_t *sb = malloc(sl);
                if (sb) {
                    scpb__signed_op__pack(&s2, sb);
                    if (sc_op_open(NULL, sb, sl, SC_OP_VERIFY, &out, NULL) != SC_OK)
                        out = NULL;
                    free(sb);
                }
            }
            free(ob);
        }
        /* Give the message its own author bytes back before it frees them. */
        op->author = own;
        op->has_author = had;
        scpb__op__free_unpacked(op, NULL);
    }
    scpb__signed_op__free_unpacked(so, NULL);
    return out;
}

static uint64_t log_size(void)
{
    sd_register_stats st;
    sc_err err;
    if (sd_register_stats_get(reg, &st, &err) != SC_OK)
        abort();
    return st.log_size;
}

static int cmp_leaf(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * The receipt syncd would send: one batched proof of every accepted and
 * duplicate op, built from the stored nodes, must verify over the ops'
 * own bytes against the latest checkpoint's root.
 */
static void check_receipt(sc_op *const *ops, const sd_result *res, size_t n)
{
    /* (log index, leaf hash) pairs, sorted by index; an op twice in a batch is one leaf. */
    struct {
        uint64_t idx;
        uint8_t leaf[SC_HASH_LEN];
    } l[OPS_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (ops[i] && res[i].status != SCPB__OP_STATUS__OP_REJECTED) {
            l[k].idx = res[i].log_index;
            sc_merkle_leaf_hash(ops[i]->signed_bytes, ops[i]->signed_len, l[k].leaf);
            k++;
        }
    if (k == 0)
        return;
    qsort(l, k, sizeof l[0], cmp_leaf);
    uint64_t idx[OPS_MAX];
    uint8_t leaf[OPS_MAX][SC_HASH_LEN];
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m > 0 && l[i].idx == idx[m - 1]) {
            if (memcmp(l[i].leaf, leaf[m - 1], SC_HASH_LEN) != 0)
                abort(); /* two ops answered at one index */
            continue;
        }
        idx[m] = l[i].idx;
        memcpy(leaf[m++], l[i].leaf, SC_HASH_LEN);
    }
    Scpb__Checkpoint *cp = NULL;
    Scpb__MultiInclusionProof *rc = NULL;
    sc_err err;
    if (sd_register_checkpoint(reg, &cp, &err) != SC_OK ||
        sd_register_receipt(reg, idx, m, cp->size, &rc, &err) != SC_OK)
        abort();
    uint8_t(*proof)[SC_HASH_LEN] = calloc(rc->n_hashes + 1, SC_HASH_LEN);
    for (size_t i = 0; i < rc->n_hashes; i++)
        memcpy(proof[i], rc->hashes[i].data, SC_HASH_LEN);
    if (rc->n_hashes > m * 64 ||
        sc_merkle_verify_multi(idx, (const uint8_t(*)[SC_HASH_LEN])leaf, m, cp->size,
                               (const uint8_t(*)[SC_HASH_LEN])proof, rc->n_hashes,
                               cp->root.data) != SC_OK)
        abort();
    free(proof);
    sd_msg_free(rc);
    sd_msg_free(cp);
}

static void do_sync(const uint8_t *body, size_t len)
{
    if (len > SC_SYNC_BODY_MAX)
        return;
    Scpb__SyncRequest *sr = scpb__sync_request__unpack(NULL, len, body);
    if (!sr)
        return;
    if (sr->n_ops > OPS_MAX) {
        scpb__sync_request__free_unpacked(sr, NULL);
        return;
    }
    bool cursor_ok = true;
    if (sr->has_cursor && sr->cursor.len > 0) {
        Scpb__Cursor *cur = sr->cursor.len <= 64
                                ? scpb__cursor__unpack(NULL, sr->cursor.len, sr->cursor.data)
                                : NULL;
        cursor_ok = cur != NULL;
        if (cur)
            scpb__cursor__free_unpacked(cur, NULL);
    }
    size_t n = sr->n_ops;
    sc_op *ops[OPS_MAX] = {0};
    sd_result res[OPS_MAX];
    uint8_t excl[OPS_MAX][SC_HASH_LEN];
    size_t nopen = 0;
    memset(res, 0, sizeof res);
    for (size_t i = 0; i < n; i++) {
        ops[i] = resign(&sr->ops[i]);
        if (ops[i]) {
            memcpy(res[i].op_id, ops[i]->id, SC_HASH_LEN);
            memcpy(excl[nopen++], ops[i]->id, SC_HASH_LEN);
        } else {
            res[i].status = SCPB__OP_STATUS__OP_REJECTED;
            res[i].reason = SCPB__REASON__REASON_MALFORMED;
        }
    }
    sc_err err;
    sc_err_clear(&err);
    if (nopen > 0) {
        uint64_t before = log_size();
        sd_batch b = {.who = &admin, .ops = (sc_op *const *)ops, .n = n, .results = res,
                      .received_ms = 1795392000000};
        sd_batch *bp = &b;
        if (sd_register_ingest(reg, &bp, 1, &err) != SC_OK)
            abort(); /* a healthy disk commits */
        uint64_t after = log_size(), accepted = 0;
        for (size_t i = 0; i < n; i++) {
            switch (res[i].status) {
            case SCPB__OP_STATUS__OP_ACCEPTED:
                accepted++;
                /* fall through */
            case SCPB__OP_STATUS__OP_DUPLICATE:
                if (res[i].log_index >= after)
                    abort();
                break;
            case SCPB__OP_STATUS__OP_REJECTED:
                if (ops[i] && (res[i].reason == 0 || res[i].message[0] == '\0'))
                    abort(); /* every rejection says why */
                break;
            default:
                abort();
            }
        }
        if (after != before + accepted)
            abort();
        check_receipt(ops, res, n);
    }
    if (cursor_ok) {
        sd_pull pr = {.who = &admin,
                      .cursor = sr->has_cursor ? sr->cursor.data : NULL,
                      .cursor_len = sr->has_cursor ? sr->cursor.len : 0,
                      .max = sr->has_max_pull && sr->max_pull > 0 && sr->max_pull < 200
                                 ? sr->max_pull
                                 : 200,
                      .exclude = (const uint8_t(*)[SC_HASH_LEN])excl,
                      .nexclude = nopen};
        sd_pulled pulled;
        memset(&pulled, 0, sizeof pulled);
        if (sd_register_pull(reg, &pr, &pulled, &err) == SC_OK) {
            for (size_t i = 0; i < pulled.n; i++) {
                sc_op *o = NULL;
                if (sc_op_open(NULL, pulled.ops[i]->signed_op.data, pulled.ops[i]->signed_op.len,
                               SC_OP_VERIFY, &o, NULL) != SC_OK)
                    abort(); /* the log holds only ops that verify */
                sc_op_free(NULL, o);
            }
            sd_pulled_dispose(&pulled);
        } else if (err.msg[0] == '\0') {
            abort();
        }
    }
    for (size_t i = 0; i < n; i++)
        sc_op_free(NULL, ops[i]);
    scpb__sync_request__free_unpacked(sr, NULL);
}

static void do_enroll(const uint8_t *body, size_t len)
{
    if (len > SC_SMALL_BODY_MAX)
        return;
    Scpb__EnrollRequest *er = scpb__enroll_request__unpack(NULL, len, body);
    if (!er)
        return;
    Scpb__EnrollResponse *out = NULL;
    sc_err err;
    sc_err_clear(&err);
    /* No code was ever made in this register: every enrollment is refused, with a reason. */
    if (sd_register_enroll(reg, er, &out, NULL, &err) == SC_OK || err.reason == 0)
        abort();
    sd_msg_free(out);
    scpb__enroll_request__free_unpacked(er, NULL);
}

/* ---- seeds ---- */

static void write_seed(const char *dir, const char *name, uint8_t mode, const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n + 1);
    buf[0] = mode;
    protobuf_c_message_pack(m, buf + 1);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, n + 1, f) != n + 1)
        abort();
    fclose(f);
    free(buf);
}

/* An admin op (the harness re-signs it anyway): org unit, target, user. */
static sc_op *seed_op(Scpb__Op *op, const uint8_t id[SC_ID_LEN], Scpb__EntityType type,
                      uint64_t hlc)
{
    op->has_version = true;
    op->version = 1;
    op->has_entity = true;
    op->entity = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)(uintptr_t)id};
    op->has_entity_type = true;
    op->entity_type = type;
    op->has_author = true;
    op->author = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)(uintptr_t)sc_keypair_public(server)};
    op->has_hlc = true;
    op->hlc = hlc;
    op->has_device_time_ms = true;
    op->device_time_ms = (int64_t)(hlc >> 16);
    sc_op *out = NULL;
    if (sc_op_seal(NULL, server, op, &out, NULL) != SC_OK)
        abort();
    return out;
}

static void write_seeds(const char *dir)
{
    uint64_t hlc = (uint64_t)1795392000000 << 16;
    static const uint8_t org[SC_ID_LEN] = {0x01, 0x93, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t tgt[SC_ID_LEN] = {0x01, 0x93, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 2};
    static const uint8_t usr[SC_ID_LEN] = {0x01, 0x93, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 3};
    Scpb__Op o1 = SCPB__OP__INIT, o2 = SCPB__OP__INIT, o3 = SCPB__OP__INIT;
    Scpb__OrgCreate oc = SCPB__ORG_CREATE__INIT;
    oc.code = "city";
    oc.name = "市指挥部";
    oc.has_level = true;
    oc.level = SCPB__ORG_LEVEL__LEVEL_CITY;
    oc.has_kind = true;
    oc.kind = SCPB__ORG_KIND__ORG_OTHER;
    o1.body_case = SCPB__OP__BODY_ORG_CREATE;
    o1.org_create = &oc;
    Scpb__TargetCreate tc = SCPB__TARGET_CREATE__INIT;
    tc.code = "T1";
    tc.name = "君安花园小区";
    tc.has_org = true;
    tc.org = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)(uintptr_t)org};
    o2.body_case = SCPB__OP__BODY_TARGET_CREATE;
    o2.target_create = &tc;
    Scpb__UserCreate uc = SCPB__USER_CREATE__INIT;
    uc.login = "li";
    uc.name = "李检查";
    uc.has_role = true;
    uc.role = SCPB__ROLE__ROLE_INSPECTOR;
    uc.has_org = true;
    uc.org = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)(uintptr_t)org};
    o3.body_case = SCPB__OP__BODY_USER_CREATE;
    o3.user_create = &uc;
    sc_op *ops[3] = {seed_op(&o1, org, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, hlc + 1),
                     seed_op(&o2, tgt, SCPB__ENTITY_TYPE__ENTITY_TARGET, hlc + 2),
                     seed_op(&o3, usr, SCPB__ENTITY_TYPE__ENTITY_USER, hlc + 3)};
    ProtobufCBinaryData enc[3];
    for (int i = 0; i < 3; i++)
        enc[i] = (ProtobufCBinaryData){ops[i]->signed_len, ops[i]->signed_bytes};
    Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
    sr.n_ops = 3;
    sr.ops = enc;
    write_seed(dir, "sync-org-target-user", 0, &sr.base);
    sr.n_ops = 1;
    sr.ops = &enc[1];
    write_seed(dir, "sync-target-alone", 0, &sr.base);
    Scpb__Cursor cur = SCPB__CURSOR__INIT;
    cur.has_log_index = true;
    cur.log_index = 1;
    cur.has_release_seq = true;
    cur.release_seq = 0;
    uint8_t cb[32];
    size_t cl = scpb__cursor__pack(&cur, cb);
    Scpb__SyncRequest pull = SCPB__SYNC_REQUEST__INIT;
    pull.has_cursor = true;
    pull.cursor = (ProtobufCBinaryData){cl, cb};
    pull.has_max_pull = true;
    pull.max_pull = 10;
    pull.has_known_size = true;
    pull.known_size = 1;
    write_seed(dir, "pull-with-cursor", 0, &pull.base);
    Scpb__EnrollRequest er = SCPB__ENROLL_REQUEST__INIT;
    uint8_t proof[SC_SIG_LEN] = {0};
    er.code = "AAAA-BBBB-CCCC-DDDD-EEEE";
    er.has_device_key = true;
    er.device_key = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)(uintptr_t)sc_keypair_public(server)};
    er.label = "tablet";
    er.has_proof = true;
    er.proof = (ProtobufCBinaryData){SC_SIG_LEN, proof};
    write_seed(dir, "enroll", 1, &er.base);
    for (int i = 0; i < 3; i++)
        sc_op_free(NULL, ops[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!reg) {
        init();
        const char *seeds = getenv("SC_FUZZ_WRITE_SEEDS");
        if (seeds && seeds[0]) {
            write_seeds(seeds);
            exit(0);
        }
    }
    if (size < 1)
        return 0;
    if (data[0] == 0)
        do_sync(data + 1, size - 1);
    else if (data[0] == 1)
        do_enroll(data + 1, size - 1);
    return 0;
}
