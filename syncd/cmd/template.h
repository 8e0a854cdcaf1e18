/*
 * template.h: a score sheet from JSON (docs/operations.md, "Score sheets").
 */
#ifndef SD_TEMPLATE_H
#define SD_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/limits.h"
#include "op.pb-c.h"

/*
 * Fill b from the JSON object root.  The op's strings point into root,
 * which the caller keeps until the op is encoded.  *items (malloc'd, the
 * caller frees it, also on failure) holds the items; ptrs must have room
 * for SC_TEMPLATE_ITEMS_MAX pointers.  Returns false with what is wrong in
 * msg (cap bytes); the register still judges the op it makes (code
 * lengths, unique item codes, a version already published).
 */
bool sd_template_from_json(json_t *root, Scpb__TemplatePublish *b, Scpb__TemplateItem **items,
                           Scpb__TemplateItem **ptrs, char *msg, size_t cap);

/* What a sheet holds beside its items: the grade bands and the campaign rule. */
typedef struct sd_template_more {
    Scpb__GradeBand grades[SC_TEMPLATE_GRADES_MAX];
    Scpb__GradeBand *grade_ptrs[SC_TEMPLATE_GRADES_MAX];
    Scpb__AggregateRule aggregate;
    Scpb__TargetType types[SC_TEMPLATE_GRADES_MAX];
} sd_template_more;

/*
 * Read "grades" ([{"name","min_points"}], ascending) and "aggregate"
 * ({"min_percent","target_types":[names],"text"}) of root into b, their
 * storage in more (kept until the op is encoded).  False with msg as above.
 */
bool sd_template_more_from_json(json_t *root, Scpb__TemplatePublish *b, sd_template_more *more,
                                char *msg, size_t cap);

#endif
