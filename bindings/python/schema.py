"""A validator for the subset of JSON Schema that docs/schema/*.json uses.

Keywords: type (one name or a list), properties, required, items, enum,
pattern, minimum, additionalProperties (false or a schema), $ref to
"#/$defs/NAME" within one file.  Enough to hold libspotcheck's answers to
their documented shapes with Debian's python3 alone.
"""

import json
import os
import re

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def load_dir(path):
    """Every NAME.json under path, by NAME; each must carry its version."""
    out = {}
    for name in sorted(os.listdir(path)):
        if name.endswith(".json"):
            with open(os.path.join(path, name), encoding="utf-8") as f:
                s = json.load(f)
            if not isinstance(s.get("version"), int):
                raise ValueError("%s has no integer version" % name)
            out[name[:-5]] = s
    return out


def validate(schema, value):
    """The list of what in value does not match schema (empty when it matches)."""
    errors = []
    _check(schema, schema, value, "$", errors)
    return errors


def _check(root, s, v, where, errors):
    if "$ref" in s:
        ref = s["$ref"]
        if not ref.startswith("#/$defs/"):
            raise ValueError("unsupported $ref " + ref)
        s = root["$defs"][ref[len("#/$defs/"):]]
    types = s.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        if not any(_TYPES[n](v) for n in names):
            errors.append("%s: %r is not %s" % (where, v, "/".join(names)))
            return
    if "enum" in s and v not in s["enum"]:
        errors.append("%s: %r is not one of %s" % (where, v, s["enum"]))
    if isinstance(v, str) and "pattern" in s and not re.search(s["pattern"], v):
        errors.append("%s: %r does not match %s" % (where, v, s["pattern"]))
    if _TYPES["number"](v) and "minimum" in s and v < s["minimum"]:
        errors.append("%s: %r is under %s" % (where, v, s["minimum"]))
    if isinstance(v, dict):
        for key in s.get("required", []):
            if key not in v:
                errors.append("%s: no %s" % (where, key))
        props = s.get("properties", {})
        extra = s.get("additionalProperties", True)
        for key, item in v.items():
            if key in props:
                _check(root, props[key], item, "%s.%s" % (where, key), errors)
            elif extra is False:
                errors.append("%s: %s is not in the schema" % (where, key))
            elif isinstance(extra, dict):
                _check(root, extra, item, "%s.%s" % (where, key), errors)
    if isinstance(v, list) and "items" in s:
        for i, item in enumerate(v):
            _check(root, s["items"], item, "%s[%d]" % (where, i), errors)
