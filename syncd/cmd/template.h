/*
 * template.h: a score sheet from JSON (docs/operations.md, "Score sheets").
 */
#ifndef SD_TEMPLATE_H
#define SD_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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

#endif
