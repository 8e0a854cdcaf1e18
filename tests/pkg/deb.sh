#!/usr/bin/env bash
# pkg/deb: the four Debian packages of pkg/build, read and installed.
#
# Read (dpkg-deb): each package's files and dependencies, as cmake/
# ScPackage.cmake means them.  Installed: into a scratch root with
# `dpkg --root --force-script-chrootless`, whose maintainer scripts work on
# "$DPKG_ROOT" and never on this machine; the root's dpkg database holds
# this machine's records of the packages they depend on, so dpkg checks
# that every dependency is met here.  Then: the service user, the data
# directory with a register that audits clean, the unit enabled; the
# installed binaries' --version; a program built against the installed
# -dev package; syncd served as the service user with the installed
# configuration, stopped cleanly; a reinstall keeping the register and an
# edited configuration; remove and purge keeping the register.
source "$(dirname "$0")/pkg_common.bash"
need_pkg_tree
for tool in dpkg dpkg-deb dpkg-query setpriv curl pkg-config; do
  command -v "$tool" >/dev/null || fail "$tool is required"
done
[[ $(id -u) -eq 0 ]] || { echo "SKIPPED: installing packages into a scratch root needs root"; exit 0; }
export PATH="$PATH:/usr/sbin:/sbin"
V=$(project_version)
SOV=$(soversion)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)

declare -A DEB
for p in spotcheck-syncd libspotcheck libspotcheck-dev spotcheck-cli; do
  DEB[$p]=$(ls "$PKG_DEBS/${p}_${V}_"*.deb) || fail "no $p package in $PKG_DEBS"
done
field() { dpkg-deb -f "${DEB[$1]}" "$2"; }
# expect_dep PACKAGE TEXT: TEXT is one of PACKAGE's Depends.
expect_dep() {
  local deps
  deps=$(field "$1" Depends)
  [[ ", $deps," == *", $2,"* ]] || fail "$1 does not depend on '$2': Depends: $deps"
}

# --- what each package holds and needs ------------------------------------
expect_dep spotcheck-cli "libspotcheck (= $V)"
expect_dep libspotcheck-dev "libspotcheck (= $V)"
expect_dep libspotcheck-dev "libsodium-dev"
expect_dep libspotcheck-dev "libcurl4-openssl-dev | libcurl-dev"
expect_dep spotcheck-syncd "passwd"
[[ $(field spotcheck-syncd Depends) == *libmicrohttpd12* ]] || fail "dpkg-shlibdeps gave syncd no libmicrohttpd12"
[[ $(field libspotcheck Depends) == *libsodium23* ]] || fail "dpkg-shlibdeps gave libspotcheck no libsodium23"
dpkg-deb --ctrl-tarfile "${DEB[libspotcheck]}" | tar -xO ./shlibs >"$TMP/shlibs"
grep -qx "libspotcheck $SOV libspotcheck (>= $V)" "$TMP/shlibs" || fail "libspotcheck shlibs: $(cat "$TMP/shlibs")"
dpkg-deb --ctrl-tarfile "${DEB[spotcheck-syncd]}" | tar -xO ./conffiles >"$TMP/conffiles"
grep -qx /etc/spotcheck/syncd.conf "$TMP/conffiles" || fail "syncd.conf is not a conffile: $(cat "$TMP/conffiles")"

# contents PACKAGE PATH...: PACKAGE holds each PATH (dpkg -x of it alone).
contents() {
  local p=$1 f
  shift
  rm -rf "$TMP/x" && dpkg -x "${DEB[$p]}" "$TMP/x"
  for f in "$@"; do
    [[ -e "$TMP/x$f" || -L "$TMP/x$f" ]] || fail "$p lacks $f: $(cd "$TMP/x" && find . ! -type d)"
  done
}
contents libspotcheck "/usr/lib/$MA/libspotcheck.so.$SOV" "/usr/lib/$MA/libspotcheck.so.$V"
[[ $(cd "$TMP/x" && find . ! -type d | wc -l) -eq 2 ]] || fail "libspotcheck holds more than the library"
contents libspotcheck-dev /usr/include/spotcheck.h "/usr/lib/$MA/libspotcheck.so" "/usr/lib/$MA/libspotcheck.a" \
  "/usr/lib/$MA/pkgconfig/spotcheck.pc" /usr/share/doc/spotcheck/client.md
grep -qx prefix=/usr "$TMP/x/usr/lib/$MA/pkgconfig/spotcheck.pc" || fail "the packaged spotcheck.pc: prefix is not /usr"
contents spotcheck-cli /usr/bin/spotcheck
contents spotcheck-syncd /usr/bin/syncd /usr/lib/systemd/system/syncd.service \
  "/usr/lib/systemd/system/syncd@.service" /etc/spotcheck/syncd.conf \
  /usr/share/doc/spotcheck/operations.md /usr/share/doc/spotcheck/examples/nginx.conf \
  /usr/share/doc/spotcheck/examples/nginx-spotcheck.conf /usr/share/doc/spotcheck/examples/syncd.conf.example
unit="$TMP/x/usr/lib/systemd/system/syncd.service"
grep -qx "ExecStart=/usr/bin/syncd serve --config /etc/spotcheck/syncd.conf --data /var/lib/spotcheck" "$unit" ||
  fail "the packaged unit's ExecStart: $(grep ExecStart= "$unit")"
grep -qx "Documentation=file:///usr/share/doc/spotcheck/operations.md" "$unit" ||
  fail "the packaged unit's Documentation=: $(grep Documentation= "$unit")"
tunit="$TMP/x/usr/lib/systemd/system/syncd@.service"
grep -qx "ExecStart=/usr/bin/syncd serve --config /etc/spotcheck/syncd-%i.conf --data /var/lib/spotcheck/%i" "$tunit" ||
  fail "the packaged template unit's ExecStart: $(grep ExecStart= "$tunit")"
! grep -q "@SC_" "$tunit" || fail "the packaged template unit keeps a placeholder: $(grep @SC_ "$tunit")"
echo "contents: four packages, files and dependencies as meant"

# --- the CLI depends on this build's libspotcheck, whatever else is found --
# dpkg-shlibdeps looks for libspotcheck.so.N in the build tree first and then
# in the system's directories.  On a build host that runs the CLI, those hold
# the installed libspotcheck of an older version, whose shlibs file must not
# add that version to the new CLI's Depends (apt could then install no
# upgrade of it).  A decoy of version 0.0.1 in a package tree with a shlibs
# file, searched after the build tree as the system's directories are,
# stands for it; cpack packages the CLI again with it.
decoy="$TMP/decoy"
mkdir -p "$decoy/DEBIAN" "$decoy/lib"
cp "$PKG_TREE/client-lib/libspotcheck.so.$SOV" "$decoy/lib/"
echo "libspotcheck $SOV libspotcheck (= 0.0.1)" >"$decoy/DEBIAN/shlibs"
: "${CPACK_COMMAND:=cpack}"
(cd "$PKG_TREE" && "$CPACK_COMMAND" -G DEB -B "$TMP/cli-deb" -D CPACK_COMPONENTS_ALL=cli \
  -D "CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS=$PKG_TREE/client-lib;$decoy/lib") >"$TMP/cpack-cli.log" 2>&1 ||
  { cat "$TMP/cpack-cli.log" >&2; fail "cpack of the CLI beside a decoy libspotcheck"; }
cli_deps=$(dpkg-deb -f "$(ls "$TMP/cli-deb/spotcheck-cli_${V}_"*.deb)" Depends)
expect_eq "$(grep -o 'libspotcheck ([^)]*)' <<<"$cli_deps" | sort -u)" "libspotcheck (= $V)" \
  "the CLI's libspotcheck dependency beside another libspotcheck (Depends: $cli_deps)"
echo "shlibs: the CLI depends on libspotcheck (= $V) only, with a libspotcheck 0.0.1 found after the build's"

# --- a scratch root whose dpkg knows this machine's dependencies -----------
R="$TMP/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers" "$R/etc"
touch "$R/var/lib/dpkg/available"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$R/etc/shadow"
printf 'root:*::\n' >"$R/etc/gshadow"
chmod 0640 "$R/etc/shadow" "$R/etc/gshadow"
# Each dependency (the first installed alternative), as this machine's dpkg records it.  A
# machine that cross-builds (scripts/cross-test.sh) has foreign -dev packages of the same names
# beside its own: the native one is asked for first, then the name alone (Architecture: all).
ARCH=$(dpkg --print-architecture)
for p in "${!DEB[@]}"; do field "$p" Depends; done | tr ',' '\n' | while read -r alts; do
  IFS='|' read -ra names <<<"$alts"
  for n in "${names[@]}"; do
    n=$(awk '{print $1}' <<<"$n")
    [[ -z "$n" || "$n" == libspotcheck ]] && continue 2
    if dpkg-query -W -f='${Status}' "$n:$ARCH" 2>/dev/null | grep -q "install ok installed"; then
      n="$n:$ARCH"
    fi
    if dpkg-query -W -f='${Status}' "$n" 2>/dev/null | grep -q "install ok installed"; then
      dpkg-query -s "$n"
      echo
      touch "$R/var/lib/dpkg/info/$(dpkg-query -W -f='${binary:Package}' "$n").list"
      continue 2
    fi
  done
  fail "no alternative of '$alts' is installed here"
done >"$R/var/lib/dpkg/status"
# The service user reads its data directory through these.
chmod 0755 "$TMP" "$R"

dpkg_root() { dpkg --root="$R" --force-script-chrootless --log=/dev/null "$@"; }
dpkg_root -i "${DEB[@]}" >"$TMP/dpkg.log" 2>&1 || { cat "$TMP/dpkg.log" >&2; fail "dpkg -i into the scratch root"; }
for p in "${!DEB[@]}"; do
  expect_eq "$(dpkg-query --root="$R" -W -f='${Status} ${Version}' "$p")" "install ok installed $V" "$p in the root"
done

user=$(awk -F: '$1 == "spotcheck"' "$R/etc/passwd")
[[ -n "$user" ]] || fail "postinst made no spotcheck user: $(cat "$R/etc/passwd")"
IFS=: read -r _ _ uid gid _ home shell <<<"$user"
((uid < 1000)) || fail "spotcheck is not a system user (uid $uid)"
expect_eq "$home:$shell" "/var/lib/spotcheck:/usr/sbin/nologin" "the user's home and shell"
grep -q "^spotcheck:x:$gid:" "$R/etc/group" || fail "no spotcheck group $gid"
D="$R/var/lib/spotcheck"
expect_mode "$D" 700
expect_mode "$D/server.key" 600
expect_eq "$(stat -c %u:%g "$D" "$D/register.db" "$D/server.key" "$D/blobs" | sort -u)" "$uid:$gid" "owner of the data"
key=$(sha256sum <"$D/server.key")
expect_eq "$(readlink "$R/etc/systemd/system/multi-user.target.wants/syncd.service")" \
  /usr/lib/systemd/system/syncd.service "the unit enabled"
"$R/usr/bin/syncd" audit --data "$D" >"$TMP/audit.log" 2>&1 || { cat "$TMP/audit.log" >&2; fail "the new register does not audit"; }
echo "installed: the spotcheck user ($uid), $D with a register that audits clean, syncd.service enabled"

# --- the installed programs ---------------------------------------------------
expect_eq "$("$R/usr/bin/syncd" --version | cut -d' ' -f1-2)" "syncd $V" "installed syncd --version"
export LD_LIBRARY_PATH="$R/usr/lib/$MA"
loads=$(ldd "$R/usr/bin/spotcheck")
grep -q "libspotcheck.so.$SOV => $R/usr/lib/$MA/" <<<"$loads" || fail "spotcheck does not load the packaged library: $loads"
expect_eq "$("$R/usr/bin/spotcheck" --version)" "spotcheck $V (libspotcheck $V, sync protocol 1)" \
  "installed spotcheck --version"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$TMP/consumer" "$SC_SOURCE_DIR/tests/pkg/consumer.c" $(
  PKG_CONFIG_SYSROOT_DIR="$R" PKG_CONFIG_LIBDIR="$R/usr/lib/$MA/pkgconfig:$(pkg-config --variable pc_path pkg-config)" \
    pkg-config --cflags --libs spotcheck) || fail "a consumer does not build against libspotcheck-dev"
grep -qx "libspotcheck $V protocol 1" <<<"$("$TMP/consumer")" || fail "the consumer against the package"
unset LD_LIBRARY_PATH
echo "programs: syncd and spotcheck --version, a consumer of libspotcheck-dev"

# --- syncd serves as its user, with the installed configuration ---------------
setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$R/usr/bin/syncd" serve \
  --config "$R/etc/spotcheck/syncd.conf" --data "$D" --listen 127.0.0.1:0 >"$TMP/serve.out" 2>"$TMP/serve.log" &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$TMP/serve.out")
  [[ -n "$url" ]] && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$TMP/serve.log" >&2; fail "the installed syncd did not start"; }
  sleep 0.1
done
[[ -n "$url" ]] || { cat "$TMP/serve.log" >&2; fail "the installed syncd did not say where it listens"; }
expect_eq "$(curl -sS "$url/healthz")" ok "GET /healthz"
grep '"msg":"listening"' "$TMP/serve.log" | grep -q "\"version\":\"$V\"" ||
  fail "the listening log line has no version: $(grep listening "$TMP/serve.log")"
kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
expect_eq "$rc" 0 "syncd's exit after SIGTERM"
echo "serve: the installed syncd ran as spotcheck with /etc/spotcheck/syncd.conf and stopped cleanly"

# --- reinstall: the register and an edited configuration stay ---------------
echo "log.level = 3" >>"$R/etc/spotcheck/syncd.conf"
dpkg_root -i "${DEB[spotcheck-syncd]}" >"$TMP/dpkg2.log" 2>&1 || { cat "$TMP/dpkg2.log" >&2; fail "reinstall"; }
expect_eq "$(sha256sum <"$D/server.key")" "$key" "the server key after a reinstall"
tail -n 1 "$R/etc/spotcheck/syncd.conf" | grep -qx "log.level = 3" || fail "a reinstall replaced the edited syncd.conf"

# --- remove and purge: the register and the user stay -----------------------
dpkg_root --purge spotcheck-syncd >"$TMP/dpkg3.log" 2>&1 || { cat "$TMP/dpkg3.log" >&2; fail "purge"; }
[[ ! -e "$R/usr/bin/syncd" && ! -e "$R/etc/spotcheck/syncd.conf" ]] || fail "purge left syncd or its conffile"
[[ ! -e "$R/etc/systemd/system/multi-user.target.wants/syncd.service" ]] || fail "purge left the unit enabled"
expect_eq "$(sha256sum <"$D/server.key")" "$key" "the server key after a purge"
expect_file "$D/register.db"
grep -q '^spotcheck:' "$R/etc/passwd" || fail "purge removed the spotcheck user"
echo "reinstall and purge: the register, its key, the user and an edited configuration kept"
