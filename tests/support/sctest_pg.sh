#!/usr/bin/env bash
# sctest_pg.sh: a throwaway PostgreSQL server for the tests, from Debian's
# packages (postgresql: /usr/lib/postgresql/*/bin), in a temp dir of its
# own, on 127.0.0.1 and an ephemeral port, with its unix socket in that dir.
# PostgreSQL refuses to run as root (and CI runs as root): then the server
# runs as nobody, in a temp dir nobody owns.  Password authentication
# (scram-sha-256) for the user spotcheck, with a fresh random password.
#
#   sctest_pg.sh start WATCH_PID   prints "DIR PORT PASSWORD" and exits 0;
#                                  the server stops by itself (and DIR goes)
#                                  once process WATCH_PID has ended
#   sctest_pg.sh stop DIR          stops it now and removes DIR
#
# Exit 77 when the packages are missing (a skip), unless CI=true: then a
# missing PostgreSQL is a failure (exit 1).  Used by sctest_pg.c and the
# shell tests (tests/support/shell_common.bash, pg_start).  The tests turn
# PostgreSQL's fsync off; SCTEST_PG_DURABLE=1 keeps it on (bench/run.sh).
set -euo pipefail

pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

# The command prefix that runs as the server's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

stop_server() {
  local dir=$1 bin
  bin=$(cat "$dir/bin" 2>/dev/null) || true
  if [[ -n $bin && -f $dir/data/postmaster.pid ]]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

start_server() {
  local watch=$1 bin dir pw port tries
  if ! bin=$(pg_bin); then
    if [[ ${CI:-} == true ]]; then
      echo "sctest_pg: PostgreSQL is not installed (scripts/install-deps.sh installs it)" >&2
      exit 1
    fi
    echo "sctest_pg: PostgreSQL is not installed (apt-get install postgresql); skipped" >&2
    exit 77
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/sctest-pg.XXXXXX")
  chmod 700 "$dir"
  echo "$bin" >"$dir/bin"
  mkdir "$dir/sock"
  pw=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf '%s\n' "$pw" >"$dir/pwfile"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R nobody "$dir"
  fi
  if ! as_owner "$bin/initdb" -D "$dir/data" -U spotcheck --auth=scram-sha-256 \
      --pwfile="$dir/pwfile" -E UTF8 --no-sync >"$dir/initdb.log" 2>&1; then
    echo "sctest_pg: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    exit 1
  fi
  rm -f "$dir/pwfile"
  local fsync=off
  [[ ${SCTEST_PG_DURABLE:-0} == 1 ]] && fsync=on
  for tries in 1 2 3 4 5 6 7 8; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    # fsync off: the server is thrown away with the test; syncd's own durability is not in question.
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=$fsync \
         -c max_connections=300 -c shared_buffers=32MB" start >/dev/null 2>&1; then
      break
    fi
    port=
  done
  if [[ -z $port ]]; then
    echo "sctest_pg: the server did not start:" >&2
    tail -20 "$dir/server.log" >&2 || true
    rm -rf "$dir"
    exit 1
  fi
  # The watchdog: stops the server once the test process is gone, however it ended.
  (
    while kill -0 "$watch" 2>/dev/null && [[ -d $dir/data ]]; do sleep 1; done
    stop_server "$dir"
  ) </dev/null >/dev/null 2>&1 &
  disown
  echo "$dir $port $pw"
}

case "${1:-}" in
  start) start_server "${2:?WATCH_PID}" ;;
  stop) stop_server "${2:?DIR}" ;;
  *)
    echo "usage: sctest_pg.sh start WATCH_PID | stop DIR" >&2
    exit 2
    ;;
esac
