#!/usr/bin/env bash
# make.sh SOURCE_DIR BUILD_DIR OUT_DIR: the schema-2 register that
# tests/e2e/migrate_sqlite.sh upgrades.  It was made by ../make-old-register.sh
# with the tree and the release build of commit 20542bb, the one that brought
# schema 2 (the next commit, af4b0f3, brought schema 3).
# Kept for the record; the committed files are the fixture, and a newer
# syncd cannot remake them.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../make-old-register.sh" "$@"
