#!/usr/bin/env bash
# Run by `make test` before the suite: makes sure of what it needs outside Python and npm.
# - Debian's Chromium for the browser tests: installed with apt-get when missing, if we are root.
# - A PostgreSQL server at TEST_DATABASE_URL's host and port: the local cluster is started when
#   it is down, if one exists.
# Otherwise it stops at once with one line saying what to install. When all is there, it says
# nothing. The variables below are the defaults; set them to test the other branches.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
APT_GET=${APT_GET:-apt-get}
PG_CTLCLUSTER=${PG_CTLCLUSTER:-pg_ctlcluster}
POSTGRESQL_CLUSTERS=${POSTGRESQL_CLUSTERS:-/etc/postgresql}
TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/pulpanalytics}

stop() {
  echo "make test: $*" >&2
  exit 1
}

if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v "$APT_GET" >/dev/null; then
    echo "make test: installing Debian's chromium for the browser tests"
    "$APT_GET" update -q
    DEBIAN_FRONTEND=noninteractive "$APT_GET" install -y -q --no-install-recommends chromium
    [ -x "$CHROMIUM" ] || stop "apt-get installed chromium, but $CHROMIUM is still missing"
  else
    stop "the browser tests need Chromium at $CHROMIUM: install Debian's chromium package" \
      "(as root: apt-get install chromium) or set CHROMIUM to its path"
  fi
fi

# postgres://user:password@host:port/name -> host and port
address=${TEST_DATABASE_URL#*://}
address=${address##*@}
address=${address%%/*}
host=${address%:*}
port=5432
[ "$address" = "$host" ] || port=${address##*:}

answers() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h "$host" -p "$port"
  else
    (: <>"/dev/tcp/$host/$port") 2>/dev/null
  fi
}

if ! answers; then
  # The newest local cluster (ls would put 9.6 after 15), for a server on this machine only.
  version=$(ls "$POSTGRESQL_CLUSTERS" 2>/dev/null | sort -V | tail -n 1)
  case $host in 127.0.0.1 | localhost | "[::1]") ;; *) version="" ;; esac
  if [ -z "$version" ] || ! command -v "$PG_CTLCLUSTER" >/dev/null; then
    stop "the PostgreSQL tests need a server on $host:$port that lets the postgres user in:" \
      "install Debian's postgresql package (apt-get install postgresql) or set TEST_DATABASE_URL"
  fi
  echo "make test: starting the local PostgreSQL $version cluster"
  "$PG_CTLCLUSTER" --skip-systemctl-redirect "$version" main start
  for _ in $(seq 30); do
    answers && break
    sleep 1
  done
  answers || stop "PostgreSQL $version was started but does not answer on $host:$port"
fi
