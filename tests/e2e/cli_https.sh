#!/usr/bin/env bash
# HTTPS through a private CA: nginx in front of a real syncd, as
# deploy/nginx-spotcheck.conf puts it, with a CA and a server certificate made here.
# Without the CA a tablet is told its server's certificate is not trusted
# (and nothing is spent or stored); with `--cacert` it enrolls, and the
# replica remembers the CA, so later syncs need nothing more; a wrong pin is
# refused whatever the CA says, the right one passes; $SSL_CERT_FILE is
# honoured when no CA is given; and a replica enrolled over plain HTTP moves
# to https with `server set-url`, keeping its ops, while a URL serving
# another register is refused and the old URL kept.
source "$(dirname "$0")/cli_common.bash"

NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
[[ -n $NGINX ]] || fail "nginx is required (scripts/install-deps.sh installs it)"
command -v openssl >/dev/null || fail "openssl is required (scripts/install-deps.sh installs it)"

# ---- a private CA, a certificate for 127.0.0.1 it signs, and one it does not ----
PKI="$TMP/pki"
mkdir -p "$PKI"
make_ca() { # NAME
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=Spotcheck test $1" -keyout "$PKI/$1.key" -out "$PKI/$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    2>/dev/null
}
make_ca ca
make_ca rogue
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
  -keyout "$PKI/server.key" -out "$PKI/server.csr" 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
  "keyUsage=digitalSignature" "extendedKeyUsage=serverAuth" >"$PKI/server.ext"
openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
  -days 2 -extfile "$PKI/server.ext" -out "$PKI/server.pem" 2>/dev/null
# sha256// pins of the server's key and of a key that is not the server's.
pin_of() { # CERT
  echo "sha256//$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)"
}
PIN=$(pin_of "$PKI/server.pem")
WRONG_PIN=$(pin_of "$PKI/rogue.pem")

# ---- syncd, and nginx in front of it ----
make_register
start_syncd
SYNCD_PORT=${URL##*:}

# start_nginx: nginx on 127.0.0.1 with TLS, proxying to syncd with deploy/nginx-spotcheck.conf's
# settings.
# nginx cannot be asked for port 0, so a free-looking port is tried until one binds.
start_nginx() {
  local dir="$TMP/nginx" try port
  mkdir -p "$dir/logs" "$dir/tmp"
  for try in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    cat >"$dir/nginx.conf" <<EOF
user $(id -un) $(id -gn);
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    upstream syncd {
        server 127.0.0.1:$SYNCD_PORT;
        keepalive 8;
    }
    server {
        listen 127.0.0.1:$port ssl;
        merge_slashes off;
        ssl_certificate $PKI/server.pem;
        ssl_certificate_key $PKI/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        client_max_body_size 9m;
        location / {
            proxy_pass http://syncd;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_read_timeout 120s;
        }
    }
}
EOF
    : >"$dir/logs/error.log"
    "$NGINX" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>>"$dir/logs/error.log" &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    local i
    for i in $(seq 1 50); do
      if ! kill -0 "$NGINX_PID" 2>/dev/null; then
        break # it did not bind; another port
      fi
      if curl -s -o /dev/null --cacert "$PKI/ca.pem" "https://127.0.0.1:$port/healthz"; then
        HTTPS="https://127.0.0.1:$port"
        return 0
      fi
      sleep 0.1
    done
    kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
  done
  cat "$dir/logs/error.log" >&2
  fail "nginx did not start"
}
start_nginx
expect_eq "$(curl -s --cacert "$PKI/ca.pem" "$HTTPS/healthz")" "ok" "syncd's health through nginx"

# ---- no CA: the certificate is not trusted, said as such; nothing spent, nothing stored ----
# The environment's CA bundle, if it names one, is the system's: it does not know this CA.
CODE=$(admin enroll inspector)
expect_exit 4 "$SPOT" --db "$TMP/li.db" --json enroll --plain-key --server "$HTTPS" --code "$CODE"
grep -q "certificate is not trusted" "$TMP/err" || fail "no CA: $(cat "$TMP/err")"
grep -q "SC_ERR_TLS" "$TMP/err" || fail "no CA status: $(cat "$TMP/err")"
grep -q "not HTTP" "$TMP/err" && fail "a TLS failure called not HTTP: $(cat "$TMP/err")"
expect_jq "$(cat "$TMP/out")" .error.status SC_ERR_TLS "--json error"
expect_no_replica li "a replica refused over TLS"
# Another CA is no better.
expect_exit 4 "$SPOT" --db "$TMP/li.db" --cacert "$PKI/rogue.pem" enroll --plain-key --server "$HTTPS" --code "$CODE"
grep -q "certificate is not trusted" "$TMP/err" || fail "rogue CA: $(cat "$TMP/err")"

# ---- the right CA, the wrong pin: refused whatever the CA says ----
expect_exit 4 "$SPOT" --db "$TMP/li.db" --cacert "$PKI/ca.pem" --pin "$WRONG_PIN" \
  enroll --plain-key --server "$HTTPS" --code "$CODE"
grep -q "does not match the pin" "$TMP/err" || fail "wrong pin: $(cat "$TMP/err")"
expect_no_replica li "a replica refused for its pin"
# A pin that is not a pin is a usage of the API gone wrong: 1, and the replica untouched.
expect_exit 1 "$SPOT" --db "$TMP/li.db" --cacert "$PKI/ca.pem" --pin "sha256//short" \
  enroll --plain-key --server "$HTTPS" --code "$CODE"
grep -q "not sha256//" "$TMP/err" || fail "bad pin: $(cat "$TMP/err")"

# ---- the CA and the right pin: the same code enrolls (TLS failed before it went out) ----
out=$("$SPOT" --db "$TMP/li.db" --json --cacert "$PKI/ca.pem" --pin "$PIN" \
  enroll --plain-key --server "$HTTPS" --code "$CODE")
expect_jq "$out" .login inspector "enrolled over https"
expect_jq "$out" .server "$HTTPS" "the https URL kept"
[[ $(jq -r .pulled <<<"$out") -gt 0 ]] || fail "the first pull over https: $out"

# The replica remembers the CA and the pin: a later sync needs no option, and records go through,
# a photo too (streamed through nginx to syncd).
CHECK=$(new_check li)
photo "$TMP/p.jpg" "through TLS"
sc li photo add "$CHECK" "$TMP/p.jpg" >/dev/null
out=$(sc li sync)
expect_jq "$out" .accepted 2 "ops pushed over https"
expect_jq "$out" .photos_uploaded 1 "a photo uploaded over https"
# A pin given for one run replaces the remembered one for that run: a wrong one is refused.
expect_exit 4 "$SPOT" --db "$TMP/li.db" --pin "$WRONG_PIN" sync
grep -q "does not match the pin" "$TMP/err" || fail "wrong pin on sync: $(cat "$TMP/err")"
expect_jq "$(sc li sync)" .pushed 0 "sync again with what the replica remembers"

# ---- $SSL_CERT_FILE when no CA is given (and not remembered then) ----
code=$(admin enroll inspector2)
# CURL_CA_BUNDLE comes first, as for the curl tool; unset here, SSL_CERT_FILE counts.
out=$(env -u CURL_CA_BUNDLE SSL_CERT_FILE="$PKI/ca.pem" "$SPOT" --db "$TMP/wang.db" --json enroll --plain-key --server "$HTTPS" \
  --code "$code")
expect_jq "$out" .login inspector2 "enrolled with SSL_CERT_FILE"
out=$(CURL_CA_BUNDLE="$PKI/ca.pem" sc wang sync)
expect_jq "$out" .pushed 0 "synced with CURL_CA_BUNDLE"
expect_exit 4 env -u CURL_CA_BUNDLE -u SSL_CERT_FILE "$SPOT" --db "$TMP/wang.db" sync
grep -q "certificate is not trusted" "$TMP/err" || fail "no CA remembered: $(cat "$TMP/err")"

# ---- plain HTTP to HTTPS with server set-url, keeping the replica ----
enroll zhao supervisor
sync_ok zhao
ZCHECK=$(new_check zhao)
before=$(sc zhao status | jq -c '{device_id, outbox, ops, checkpoint}')
# Without the CA the new URL cannot prove anything: refused, the old URL kept.
expect_exit 4 sc zhao server set-url "$HTTPS"
grep -q "certificate is not trusted" "$TMP/err" || fail "set-url without CA: $(cat "$TMP/err")"
expect_jq "$(sc zhao status)" .server "$URL" "the old URL kept"
expect_exit 1 sc zhao server set-url "ftp://127.0.0.1:$SYNCD_PORT"
grep -q "must start with http" "$TMP/err" || fail "set-url ftp: $(cat "$TMP/err")"
out=$("$SPOT" --db "$TMP/zhao.db" --json --cacert "$PKI/ca.pem" server set-url "$HTTPS/")
expect_jq "$out" .server "$HTTPS" "set-url: the new URL"
expect_jq "$out" .previous "$URL" "set-url: the old URL"
expect_eq "$(sc zhao status | jq -c '{device_id, outbox, ops, checkpoint}')" "$before" \
  "set-url keeps the replica"
out=$(sc zhao sync)
expect_jq "$out" .accepted 1 "the pending check pushed over the new URL"
expect_jq "$(sc zhao show "$ZCHECK")" '.history[0].state' accepted "the check logged"

# Another register at a URL: its log is not this replica's; refused, the URL kept.
OTHER="$TMP/other"
"$SYNCD" init --data "$OTHER" >/dev/null
"$SYNCD" serve --data "$OTHER" --listen 127.0.0.1:0 >"$TMP/other.log" 2>&1 &
PIDS+=($!)
for i in $(seq 1 100); do
  OTHER_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$TMP/other.log" | head -n 1)
  [[ -n $OTHER_URL ]] && break
  sleep 0.1
done
[[ -n $OTHER_URL ]] || fail "the other syncd did not start: $(cat "$TMP/other.log")"
expect_exit 1 sc zhao server set-url "$OTHER_URL"
grep -q "unknown_device" "$TMP/err" || fail "set-url to another register: $(cat "$TMP/err")"
expect_jq "$(sc zhao status)" .server "$HTTPS" "the URL kept after a refusal"
expect_jq "$(sc zhao sync)" .pushed 0 "still syncing with the register"
echo "ok: https through a private CA, pins, SSL_CERT_FILE, set-url"
