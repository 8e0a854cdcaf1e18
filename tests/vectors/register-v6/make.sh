#!/usr/bin/env bash
# make.sh SOURCE_DIR BUILD_DIR OUT_DIR: the schema-6 register that
# tests/e2e/migrate_sqlite.sh upgrades.  It was made by ../make-old-register.sh
# with the tree and the release build of commit 3608a61, the last before schema 7.
# Kept for the record; the committed files are the fixture, and a newer
# syncd cannot remake them.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../make-old-register.sh" "$@"
