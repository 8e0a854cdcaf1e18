#!/usr/bin/env bash
# The screenshots of docs/console.md, from a real run: e2e/console_morning in BUILD_DIR (a
# configured test build) leaves one of every step in BUILD_DIR/artifacts/console/, and the ones
# the page shows are copied into docs/console/ in place of the old ones.
#
#   scripts/console-screenshots.sh BUILD_DIR
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: scripts/console-screenshots.sh BUILD_DIR" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
DOCS=$(cd "$(dirname "$0")/../docs" && pwd)/console
(cd "$BUILD" && ctest -R '^e2e/console_morning$' --output-on-failure)
SHOTS=(review-queue photo-full-size send-back-reason conflict ledger ledger-refused-filter
       ledger-exported review-queue-english audit-proof dashboard refused-stale-page refused-role)
rm -f "$DOCS"/*.png
for step in "${SHOTS[@]}"; do
  cp "$BUILD"/artifacts/console/[0-9][0-9]-"$step".png "$DOCS/"
done
ls "$DOCS"
