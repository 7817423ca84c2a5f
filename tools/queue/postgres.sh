#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of the shared queue, on 127.0.0.1 only.
#   tools/queue/postgres.sh start DIR PORT   creates the cluster in DIR if needed, starts it
#   tools/queue/postgres.sh stop DIR         stops it (fast: connections are cut, as in a crash of the link)
# Debian's postgresql package provides the server; it is installed when missing. PostgreSQL refuses
# to run as root, so as root the server runs as the `postgres` user.
set -euo pipefail
command=$1
dir=$2

find_bin() {
  if command -v "$1" > /dev/null; then command -v "$1"; return; fi
  for candidate in /usr/lib/postgresql/*/bin/"$1"; do
    if [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
  return 1
}

if ! find_bin initdb > /dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql > /dev/null
fi
initdb=$(find_bin initdb)
pg_ctl=$(find_bin pg_ctl)

as_owner() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "$command" in
  start)
    port=$3
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "'$initdb' -D '$dir/data' -A trust -U postgres > '$dir/initdb.log' 2>&1"
    fi
    as_owner "'$pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=200\" start > /dev/null"
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_owner "'$pg_ctl' -D '$dir/data' -m fast -w stop > /dev/null"
    ;;
  *)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
