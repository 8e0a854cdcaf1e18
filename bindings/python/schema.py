"""A validator for the subset of JSON Schema that docs/schema/*.json uses.

Keywords: type (one name or a list), properties, required, items, enum,
pattern, minimum, additionalProperties (false or a schema), $ref to a JSON
pointer within one file ("#/$defs/NAME") or into another file of the same
directory ("list_findings.json#/properties/items/items").  Enough to hold
libspotcheck's answers, and the CLI's --json, to their documented shapes
with Debian's python3 alone.

Run as a program, `schema.py DIR NAME` checks the JSON document on stdin
against DIR/NAME.json: it prints what does not match and exits 1, or
exits 0 when it matches.
"""

import json
import os
import re
import sys

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


# The schemas load_dir read last, by NAME: what a $ref into another file names.
_LOADED = {}


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
    _LOADED.clear()
    _LOADED.update(out)
    return out


def _resolve(root, ref):
    """The schema a $ref names, and the file it lies in (for the refs inside it)."""
    name, hash_, pointer = ref.partition("#")
    if not hash_ or (name and not name.endswith(".json")):
        raise ValueError("unsupported $ref " + ref)
    doc = root
    if name:
        if name[:-5] not in _LOADED:
            raise ValueError("$ref %s names a schema load_dir did not read" % ref)
        doc = _LOADED[name[:-5]]
    node = doc
    for part in pointer.split("/")[1:]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return doc, node


def validate(schema, value):
    """The list of what in value does not match schema (empty when it matches)."""
    errors = []
    _check(schema, schema, value, "$", errors)
    return errors


def _check(root, s, v, where, errors):
    if "$ref" in s:
        root, s = _resolve(root, s["$ref"])
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


def main(argv):
    if len(argv) != 3:
        print("usage: schema.py DIR NAME < document.json", file=sys.stderr)
        return 2
    schemas = load_dir(argv[1])
    if argv[2] not in schemas:
        print("no schema %s in %s" % (argv[2], argv[1]), file=sys.stderr)
        return 2
    try:
        value = json.load(sys.stdin)
    except ValueError as e:
        print("not JSON: %s" % e, file=sys.stderr)
        return 1
    errors = validate(schemas[argv[2]], value)
    for e in errors:
        print("%s.json: %s" % (argv[2], e), file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
