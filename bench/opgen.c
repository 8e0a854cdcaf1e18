/*
 * opgen.c: inspection cycles as a tablet records them (opgen.h).
 *
 * Ops are built as Scpb__Op structures on the stack and sealed by the core
 * (sc_op_seal), exactly as libspotcheck seals what a user records, so the
 * bytes, the op ids and the signatures are the real thing.  Texts are the
 * DOMAIN.md §11 samples; scores stay within each item's maximum.
 */
#include "opgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/governance.h"
#include "core/ids.h"

#define E_(x) SCPB__ENTITY_TYPE__ENTITY_##x
#define K_(x) SCPB__OP__BODY_##x

/* The items of tests/vectors/templates/no-epidemic-100.json, which the fixture publishes. */
static const struct {
    const char *code;
    int max;
} items[10] = {
    {"org-leadership", 5}, {"no-confirmed", 20}, {"no-suspected", 15}, {"no-close-contacts", 15},
    {"no-missed-key-persons", 10}, {"publicity", 10}, {"sanitation", 10}, {"records", 5},
    {"effect", 5}, {"duty", 5},
};

/* DOMAIN.md §11: description, category, grade (1 major). */
static const struct {
    const char *zh;
    const char *category;
    int major;
} samples[18] = {
    {"小区消防通道被车辆占用", "FIRE_LANE", 0},
    {"燃气管道老化未按期检验", "GAS", 1},
    {"锅炉、压力容器使用登记及定期检验资料缺失", "SPECIAL_EQUIPMENT", 1},
    {"烟花爆竹零售点无防火设施、与居民楼未隔离", "FIREWORKS", 1},
    {"电梯、健身器材未张贴使用说明和注意事项", "SIGNAGE", 0},
    {"配电箱、水系、护栏处无明显警示标识", "SIGNAGE", 0},
    {"楼道堆物、飞线充电", "FIRE", 0},
    {"路灯亮化率低于98%", "LIGHTING", 0},
    {"小区出入口未落实测温、验码、戴口罩", "ENTRY_CONTROL", 0},
    {"进出人员登记缺少籍贯、来去方向、交通方式", "LEDGER_INCOMPLETE", 0},
    {"电梯公共区域未按每2小时消毒并记录", "DISINFECTION", 0},
    {"施工围挡褪色、污损、缺字掉字", "SITE_HOARDING", 0},
    {"危险性较大工程专项方案未经审查即施工", "HIGH_RISK_WORKS", 1},
    {"劳动用工登记和岗前安全培训记录缺失", "TRAINING_RECORDS", 0},
    {"安全专项费用未落实", "SAFETY_FUNDS", 0},
    {"进口冷链食品台账缺供应商、批次、购买者信息", "LEDGER_INCOMPLETE", 0},
    {"农贸市场周边占道经营、乱停乱放", "PARKING", 0},
    {"垃圾箱外溢、雨停1小时后主干道仍积水", "SANITATION", 0},
};

static const char *const locations[] = {"3号楼北侧消防通道", "2号楼1单元楼道", "小区东门出入口",
                                        "地下车库入口", "物业服务中心", "中心广场健身区"};

bool og_world_load(const char *path, og_world *w)
{
    memset(w, 0, sizeof *w);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench: cannot read %s\n", path);
        return false;
    }
    char line[512], key[64], val[256];
    int have = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%63s %255s", key, val) != 2)
            continue;
        if (strcmp(key, "server_key") == 0 && bn_unhex(val, w->server_key, SC_KEY_LEN))
            have |= 1;
        else if (strcmp(key, "template") == 0 && bn_unhex(val, w->tpl, SC_ID_LEN))
            have |= 2;
        else if (strcmp(key, "responsible") == 0 && bn_unhex(val, w->responsible, SC_ID_LEN))
            have |= 4;
        else if (strcmp(key, "target") == 0 && w->ntargets < OG_TARGETS_MAX &&
                 bn_unhex(val, w->targets[w->ntargets], SC_ID_LEN))
            w->ntargets++;
    }
    fclose(f);
    if (have != 7 || w->ntargets == 0) {
        fprintf(stderr, "bench: %s lacks the server key, score sheet, responsible unit or targets\n",
                path);
        return false;
    }
    return true;
}

void og_stream_free(og_stream *s)
{
    for (size_t i = 0; i < s->n; i++)
        sc_op_free(bn_env(), s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static void stream_push(og_stream *s, sc_op *o)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        sc_op **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            bn_die("opgen: out of memory");
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = o;
    s->bytes += o->signed_len;
}

void og_device_init(og_device *d, int role, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    if (sc_keypair_generate(bn_env(), &d->kp) != SC_OK)
        bn_die("opgen: cannot make a key pair");
    d->role = role;
    d->seed = seed;
}

void og_device_dispose(og_device *d)
{
    sc_keypair_free(d->kp);
    memset(d, 0, sizeof *d);
}

size_t og_cycle_len(int role)
{
    return role == SCPB__ROLE__ROLE_SUPERVISOR ? 23 : 20;
}

/* One entity of a cycle: its id and its head op (the dep of its next op). */
typedef struct ent {
    uint8_t id[SC_ID_LEN];
    uint8_t head[SC_HASH_LEN];
    bool created;
} ent;

typedef struct cyc {
    og_device *d;
    og_stream *out;
    int64_t now;
    uint64_t rng;
} cyc;

static uint64_t rnd(cyc *c)
{
    c->rng = bn_mix64(c->rng);
    return c->rng;
}

/* Fill the envelope of op for entity e, seal it, advance e's head, append it. */
static void seal(cyc *c, ent *e, Scpb__EntityType type, Scpb__Op *op)
{
    ProtobufCBinaryData dep = {SC_HASH_LEN, e->head};
    op->has_version = true;
    op->version = 1;
    op->has_entity = true;
    op->entity = (ProtobufCBinaryData){SC_ID_LEN, e->id};
    op->has_entity_type = true;
    op->entity_type = type;
    op->has_author = true;
    op->author = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)sc_keypair_public(c->d->kp)};
    op->has_hlc = true;
    op->hlc = sc_hlc_tick(&c->d->clock, c->now);
    op->has_device_time_ms = true;
    op->device_time_ms = c->now;
    if (e->created) {
        op->n_deps = 1;
        op->deps = &dep;
    }
    sc_op *o = NULL;
    sc_err err;
    sc_err_clear(&err);
    if (sc_op_seal(bn_env(), c->d->kp, op, &o, &err) != SC_OK)
        bn_die("opgen: sealing a %d op failed: %s", (int)op->body_case, err.msg);
    memcpy(e->head, o->id, SC_HASH_LEN);
    e->created = true;
    stream_push(c->out, o);
}

static void photo(cyc *c, ent *e, Scpb__EntityType type, const uint8_t sha[SC_HASH_LEN],
                  const char *caption)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__PhotoAttach pa = SCPB__PHOTO_ATTACH__INIT;
    Scpb__Geo geo = SCPB__GEO__INIT;
    geo.has_lat_e7 = geo.has_lon_e7 = geo.has_accuracy_m = true;
    geo.lat_e7 = 227000000 + (int32_t)(rnd(c) % 100000);
    geo.lon_e7 = 1140500000 + (int32_t)(rnd(c) % 100000);
    geo.accuracy_m = 8;
    pa.has_sha256 = true;
    pa.sha256 = (ProtobufCBinaryData){SC_HASH_LEN, (uint8_t *)sha};
    pa.has_size = true;
    pa.size = 3000000 + rnd(c) % 1500000;
    pa.mime = "image/jpeg";
    pa.has_captured_ms = true;
    pa.captured_ms = c->now - 60000;
    pa.geo = &geo;
    pa.caption = (char *)caption;
    op.body_case = K_(PHOTO_ATTACH);
    op.photo_attach = &pa;
    seal(c, e, type, &op);
}

void og_cycle(og_device *d, const og_world *w, og_stream *out)
{
    cyc c = {d, out, bn_wall_ms(), bn_mix64(d->seed * 1000003u + d->cycles)};
    const uint8_t *target = w->targets[(d->seed + d->cycles) % w->ntargets];
    ent insp, fnd[3];
    memset(&insp, 0, sizeof insp);
    memset(fnd, 0, sizeof fnd);
    sc_uuid7_new(bn_env(), insp.id);
    uint8_t photos[4][SC_HASH_LEN];
    for (int i = 0; i < 4; i++) /* the photos' SHA-256: their bytes are uploaded separately */
        for (int k = 0; k < SC_HASH_LEN; k += 8) {
            uint64_t v = rnd(&c);
            memcpy(photos[i] + k, &v, 8);
        }

    {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__InspectionOpen b = SCPB__INSPECTION_OPEN__INIT;
        b.has_target = b.has_template_ = b.has_kind = b.has_disclosure = b.has_relation = true;
        b.target = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)target};
        b.template_ = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)w->tpl};
        b.kind = SCPB__INSPECTION_KIND__KIND_SPOT;
        b.disclosure = SCPB__DISCLOSURE__DISCLOSURE_OPEN;
        b.relation = SCPB__RELATION__RELATION_SUPERIOR;
        op.body_case = K_(INSPECTION_OPEN);
        op.inspection_open = &b;
        seal(&c, &insp, E_(INSPECTION), &op);
    }
    for (int i = 0; i < 10; i++) {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__ItemResult b = SCPB__ITEM_RESULT__INIT;
        bool met = rnd(&c) % 4 != 0;
        b.item_code = (char *)items[i].code;
        b.has_status = b.has_points = true;
        b.status = met ? SCPB__ITEM_STATUS__ITEM_MET : SCPB__ITEM_STATUS__ITEM_NOT_MET;
        b.points = met ? items[i].max : (int32_t)(rnd(&c) % (uint64_t)items[i].max);
        if (!met) {
            b.note = (char *)samples[8 + rnd(&c) % 3].zh;
            b.has_relapse_prone = true;
            b.relapse_prone = rnd(&c) % 2;
        }
        op.body_case = K_(ITEM_RESULT);
        op.item_result = &b;
        seal(&c, &insp, E_(INSPECTION), &op);
    }
    for (int f = 0; f < 3; f++) {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__FindingCreate b = SCPB__FINDING_CREATE__INIT;
        /* F0 fixed on the spot; F1 general (the supervisor's full lifecycle); F2 any. */
        size_t s = f == 0 ? 0 : (size_t)(rnd(&c) % 18);
        if (f == 1)
            while (samples[s].major)
                s = (s + 1) % 18;
        ProtobufCBinaryData ev = {SC_HASH_LEN, photos[0]};
        sc_uuid7_new(bn_env(), fnd[f].id);
        b.has_inspection = b.has_target = b.has_grade = b.has_deadline_day = true;
        b.has_responsible = b.has_source = b.has_rules = true;
        b.rules = SC_GOV_RULES;
        b.inspection = (ProtobufCBinaryData){SC_ID_LEN, insp.id};
        b.target = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)target};
        b.item_code = (char *)items[6 + f].code;
        b.grade = samples[s].major ? SCPB__GRADE__GRADE_MAJOR : SCPB__GRADE__GRADE_GENERAL;
        b.category = (char *)samples[s].category;
        b.description = (char *)samples[s].zh;
        b.location = (char *)locations[rnd(&c) % 6];
        b.deadline_day = (int32_t)(c.now / 86400000) + 7;
        b.responsible = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)w->responsible};
        b.source = SCPB__FINDING_SOURCE__SOURCE_INSPECTION;
        if (f == 0) {
            b.has_fixed_on_spot = true;
            b.fixed_on_spot = true;
            b.n_evidence = 1;
            b.evidence = &ev;
        }
        op.body_case = K_(FINDING_CREATE);
        op.finding_create = &b;
        seal(&c, &fnd[f], E_(FINDING), &op);
    }
    photo(&c, &insp, E_(INSPECTION), photos[1], "小区东门出入口全景");
    photo(&c, &fnd[0], E_(FINDING), photos[0], "整改前：消防通道停放车辆");
    photo(&c, &fnd[1], E_(FINDING), photos[2], "问题点位近景");
    /* The notices (限期整改通知) the submission carries: the unit and deadline raised with. */
    for (int f = 1; f < 3; f++) {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__Notice b = SCPB__NOTICE__INIT;
        b.has_responsible = b.has_deadline_day = true;
        b.responsible = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)w->responsible};
        b.deadline_day = (int32_t)(c.now / 86400000) + 7;
        op.body_case = K_(NOTICE);
        op.notice = &b;
        seal(&c, &fnd[f], E_(FINDING), &op);
    }
    {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__InspectionSubmit b = SCPB__INSPECTION_SUBMIT__INIT;
        ProtobufCBinaryData ids[3], heads[3], ph[3];
        for (int f = 0; f < 3; f++) {
            ids[f] = (ProtobufCBinaryData){SC_ID_LEN, fnd[f].id};
            heads[f] = (ProtobufCBinaryData){SC_HASH_LEN, fnd[f].head};
            ph[f] = (ProtobufCBinaryData){SC_HASH_LEN, photos[f]};
        }
        b.n_findings = b.n_finding_heads = b.n_photos = 3;
        b.findings = ids;
        b.finding_heads = heads;
        b.photos = ph;
        b.remarks = "本次抽查发现问题3处，已当场反馈责任单位，限期整改";
        op.body_case = K_(INSPECTION_SUBMIT);
        op.inspection_submit = &b;
        seal(&c, &insp, E_(INSPECTION), &op);
    }
    {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__Revisit b = SCPB__REVISIT__INIT;
        ProtobufCBinaryData ev = {SC_HASH_LEN, photos[3]};
        b.has_result = true;
        b.result = SCPB__REVISIT_RESULT__REVISIT_RECTIFIED;
        b.note = "复查：车辆已挪走，消防通道畅通";
        b.n_evidence = 1;
        b.evidence = &ev;
        op.body_case = K_(REVISIT);
        op.revisit = &b;
        seal(&c, &fnd[0], E_(FINDING), &op);
    }
    if (d->role == SCPB__ROLE__ROLE_SUPERVISOR) {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__RectificationReport b = SCPB__RECTIFICATION_REPORT__INIT;
        ProtobufCBinaryData ev = {SC_HASH_LEN, photos[2]};
        b.note = "责任单位书面报告：已按要求完成整改";
        b.measures = "清理堆放物品，张贴警示标识，落实每日巡查";
        b.n_evidence = 1;
        b.evidence = &ev;
        op.body_case = K_(RECTIFICATION_REPORT);
        op.rectification_report = &b;
        seal(&c, &fnd[1], E_(FINDING), &op);

        Scpb__Op op2 = SCPB__OP__INIT;
        Scpb__Revisit rv = SCPB__REVISIT__INIT;
        rv.has_result = true;
        rv.result = SCPB__REVISIT_RESULT__REVISIT_RECTIFIED;
        rv.note = "复查合格";
        op2.body_case = K_(REVISIT);
        op2.revisit = &rv;
        seal(&c, &fnd[1], E_(FINDING), &op2);

        Scpb__Op op3 = SCPB__OP__INIT;
        Scpb__Closure cl = SCPB__CLOSURE__INIT;
        cl.note = "整改到位，予以销号";
        op3.body_case = K_(CLOSURE);
        op3.closure = &cl;
        seal(&c, &fnd[1], E_(FINDING), &op3);
    }
    {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__Note b = SCPB__NOTE__INIT;
        b.text = "已通知责任单位限期整改，整改期满后回头看";
        op.body_case = K_(NOTE);
        op.note = &b;
        seal(&c, &fnd[2], E_(FINDING), &op);
    }
    d->cycles++;
}
