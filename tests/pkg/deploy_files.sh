#!/usr/bin/env bash
# pkg/deploy_files: the files in deploy/ work and agree with each other and
# with the docs.
#  - deploy/nginx.conf, the whole configuration around the fragment
#    nginx-spotcheck.conf, passes `nginx -t -c`, and so does Debian's own
#    nginx.conf with the fragment as its site (as the fragment's comment
#    says to install it); only the certificate paths are pointed at a
#    throwaway certificate.
#  - The proxy forwards to syncd's default listen address and allows bodies
#    a little over syncd's largest (sync.body_max, blobs.chunk_max).
#  - One data directory everywhere: the unit, the example configuration, the
#    maintainer scripts, README.md and docs/operations.md name SC_DATA_DIR
#    (cmake/ScInstall.cmake), or files inside it, or the numbered data
#    directories of several syncd inside it (deploy/syncd@.service.in), and
#    nothing else under /var/lib/spotcheck.
set -euo pipefail
: "${SC_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
S=$SC_SOURCE_DIR
SC_TMP_PREFIX=sc-deploy
source "$S/tests/support/shell_common.bash"
export PATH="$PATH:/usr/sbin:/sbin"
command -v nginx >/dev/null || fail "nginx is required (scripts/install-deps.sh installs it)"
command -v openssl >/dev/null || fail "openssl is required (scripts/install-deps.sh installs it)"

# --- nginx -t ---------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=spotcheck.example.org -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>"$TMP/openssl.log" ||
  { cat "$TMP/openssl.log" >&2; fail "openssl could not make a test certificate"; }
cp "$S/deploy/nginx.conf" "$TMP/"
sed -e "s#^\(\s*ssl_certificate\s\+\)/etc/letsencrypt/live/spotcheck.example.org/fullchain.pem;#\1$TMP/cert.pem;#" \
  -e "s#^\(\s*ssl_certificate_key\s\+\)/etc/letsencrypt/live/spotcheck.example.org/privkey.pem;#\1$TMP/key.pem;#" \
  "$S/deploy/nginx-spotcheck.conf" >"$TMP/nginx-spotcheck.conf"
[[ $(grep -c "$TMP/" "$TMP/nginx-spotcheck.conf") -eq 2 ]] ||
  fail "the certificate lines of deploy/nginx-spotcheck.conf are not where this test expects them"
diff <(grep -v ssl_certificate "$S/deploy/nginx-spotcheck.conf") <(grep -v ssl_certificate "$TMP/nginx-spotcheck.conf") ||
  fail "only the certificate lines may differ"
# nginx_t CONF WHAT
nginx_t() {
  nginx -t -q -e stderr -c "$1" >"$TMP/nginx.log" 2>&1 || { cat "$TMP/nginx.log" >&2; fail "nginx -t: $2"; }
  [[ -s "$TMP/nginx.log" ]] && { cat "$TMP/nginx.log" >&2; fail "nginx -t warns: $2"; }
  echo "nginx -t: $2 passes"
}
nginx_t "$TMP/nginx.conf" "deploy/nginx.conf with deploy/nginx-spotcheck.conf"
# The upstream of several syncd on one PostgreSQL register, as its commented lines give it.
sed 's/^\(\s*\)#\s*\(server 127\.0\.0\.1:[0-9]* max_fails=.*;\)$/\1\2/' "$TMP/nginx-spotcheck.conf" \
  >"$TMP/several.conf"
[[ $(grep -c '^\s*server 127\.0\.0\.1:[0-9]* max_fails=' "$TMP/several.conf") -ge 2 ]] ||
  fail "deploy/nginx-spotcheck.conf shows no upstream of several syncd"
sed "s#include nginx-spotcheck.conf;#include $TMP/several.conf;#" "$TMP/nginx.conf" >"$TMP/nginx-several.conf"
nginx_t "$TMP/nginx-several.conf" "deploy/nginx.conf with an upstream of several syncd"
if [[ -f /etc/nginx/nginx.conf ]]; then
  grep -q '^\s*include /etc/nginx/sites-enabled/\*;' /etc/nginx/nginx.conf ||
    fail "/etc/nginx/nginx.conf has no sites-enabled include"
  sed "s#^\(\s*\)include /etc/nginx/sites-enabled/\*;#\1include $TMP/nginx-spotcheck.conf;#" \
    /etc/nginx/nginx.conf >"$TMP/debian-nginx.conf"
  nginx_t "$TMP/debian-nginx.conf" "Debian's nginx.conf with deploy/nginx-spotcheck.conf as its site"
fi

# --- the proxy and syncd's defaults ------------------------------------------
conf_value() { sed -n "s/^$1 = \(.*\)$/\1/p" "$S/deploy/syncd.conf.example"; }
listen=$(conf_value listen)
grep -q "^\s*server $listen;" "$S/deploy/nginx-spotcheck.conf" ||
  fail "the upstream does not name syncd's listen address $listen"
max=$(sed -n 's/^\s*client_max_body_size \([0-9]*\)m;/\1/p' "$S/deploy/nginx-spotcheck.conf")
[[ -n "$max" ]] || fail "no client_max_body_size in MiB in the fragment"
for key in sync.body_max blobs.chunk_max; do
  (($(conf_value "$key") < max * 1048576)) || fail "client_max_body_size ${max}m is not over $key"
done
echo "proxy: forwards to $listen, bodies up to ${max} MiB"

# --- one data directory -------------------------------------------------------
data=$(sed -n 's/^set(SC_DATA_DIR \([^ ]*\) .*/\1/p' "$S/cmake/ScInstall.cmake")
[[ -n "$data" ]] || fail "no SC_DATA_DIR in cmake/ScInstall.cmake"
grep -qx "#data = $data" "$S/deploy/syncd.conf.example" || fail "the example configuration's data line is not $data"
grep -q -- "--data @SC_DATA_DIR@\$" "$S/deploy/syncd.service.in" || fail "the unit's ExecStart does not use SC_DATA_DIR"
grep -q -- "--data @SC_DATA_DIR@/%i\$" "$S/deploy/syncd@.service.in" || fail "the template unit's ExecStart does not use SC_DATA_DIR/%i"
grep -q '^data=@SC_DATA_DIR@$' "$S/deploy/debian/spotcheck-syncd.postinst.in" || fail "the postinst does not use SC_DATA_DIR"
files=("$S/README.md" "$S/docs/operations.md" "$S"/deploy/*.* "$S"/deploy/debian/*)
# Each path under /var/lib/spotcheck (a sentence's full stop dropped).
bad=$(grep -noE '/var/lib/spotcheck[A-Za-z0-9_./-]*' "${files[@]}" | sed 's/\.$//' |
  grep -vE ":$data(/|/(register\.db|server\.key|blobs/?|syncd\.lock|register\.v[0-9N]+\.db|[0-9N]+(/store\.conf)?))?$" || true)
[[ -z "$bad" ]] || fail "a data directory other than $data (or a file not in it): $bad"
echo "data: $data everywhere"
