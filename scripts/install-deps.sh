#!/usr/bin/env bash
# Installs the Debian packages Spotcheck builds, tests and runs with, when
# any is missing.  Uses sudo when not root.  Safe to run again.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libsqlite3-dev libsodium-dev libprotobuf-c-dev protobuf-c-compiler
  libcurl4-openssl-dev libmicrohttpd-dev libjansson-dev libpq-dev check
  libexif-dev                         # a photo's capture time and position (client-lib/src/exif.c)
  clang libclang-rt-14-dev            # the sanitizer test build and libFuzzer
  sqlite3 jq curl                     # the end-to-end tests inspect and drive real processes
  strace                              # e2e/photos: a downloaded photo is fsynced before it counts
  dpkg-dev file                       # pkg/: CPack's Debian packages (dpkg-shlibdeps, file)
  nginx openssl                       # pkg/deploy_files (nginx -t on deploy/nginx.conf), e2e/cli_https
                                      # (syncd behind TLS with a private CA)
  systemd                             # pkg/install: systemd-analyze verify on the installed unit
  postgresql                          # syncd's PostgreSQL register: its tests start a throwaway server
                                      # (tests/support/sctest_pg.sh) from /usr/lib/postgresql/*/bin
  python3                             # bindings/python: the ctypes binding's test
  libxlsxwriter-dev                   # ledgers as XLSX (client-lib/report/xlsx.c)
  python3-openpyxl                    # e2e/report_ledger opens the XLSX in a real reader
  chromium fonts-wqy-microhei         # e2e/console_morning: the review console in a real browser,
                                      # its Chinese labels legible in the screenshots
  poppler-utils                       # e2e/report_period: pdfinfo counts the pages, and pdftotext
                                      # reads them, of the period report Chromium prints
)
# e2e/console_morning drives chromium with playwright-core (tests/browser, pinned by its
# package-lock.json), which needs Node.js 20 or later and npm: Debian's when none is installed.
if ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk valgrind)
fi

# playwright-core from the npm registry, exactly as locked (no browser download: the test
# launches /usr/bin/chromium); again only when the lockfile changed since.
browser_modules() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/browser"
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json" 2>/dev/null; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" --no-audit --no-fund >&2
    cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"
  fi
}

# Installed for this machine's architecture (or for all): the aarch64 leg installs the arm64
# builds of the same -dev packages, and those alone must not count.
native=$(dpkg --print-architecture)
installed() {
  dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null |
    grep -Eq "^install ok installed ($native|all)\$"
}
missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
# `make test` also runs the aarch64 leg (tests/cross/aarch64.sh): the cross
# compiler, qemu-user and the arm64 libraries, as scripts/cross-test.sh lists them;
# after this machine's own packages.
test_extras() {
  [[ "${1:-}" == "--test" ]] || return 0
  browser_modules
  "$(dirname "${BASH_SOURCE[0]}")/cross-test.sh" aarch64 --install-only
}
if ((${#missing[@]} == 0)); then
  test_extras "${1:-}"
  exit 0
fi

echo "installing: ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
test_extras "${1:-}"
exit 0
