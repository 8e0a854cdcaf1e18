#!/usr/bin/env bash
# make.sh SOURCE_DIR BUILD_DIR OUT_DIR: the schema-3 register that
# tests/e2e/migrate_sqlite.sh upgrades.  It was made by ../make-old-register.sh
# with the tree and the release build of commit cd8db36, the last before schema 4.
# Kept for the record; the committed files are the fixture, and a newer
# syncd cannot remake them.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../make-old-register.sh" "$@"
