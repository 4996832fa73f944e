#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer at DATABASE_URL and REDIS_URL.
# Uses them as they are when they answer; otherwise starts the local servers,
# or installs them from the distribution's packages when running as root.
# On a local server it also creates the role the URL names (a new machine has
# only `postgres`).
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgresql://expertline:expertline@127.0.0.1:5432/expertline}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

say() { printf '[services] %s\n' "$*"; }

# host and port from a URL like scheme://user:pass@host:port/db
host_of() { local rest="${1#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"; echo "${rest%%:*}"; }
port_of() { local rest="${1#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"; [[ "$rest" == *:* ]] && echo "${rest##*:}" || echo "$2"; }
# Host and port go in as arguments, never into the command text: a URL's host
# is the user's input, and "$(...)" in it would run.
# shellcheck disable=SC2016
answers() { timeout 2 bash -c 'exec 3<>/dev/tcp/$1/$2' _ "$1" "$2" 2>/dev/null; }
is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" ]]; }
wait_for() {
  local name=$1 host=$2 port=$3
  for _ in $(seq 1 60); do answers "$host" "$port" && return 0; sleep 0.5; done
  say "$name did not come up on $host:$port"; return 1
}

apt_updated=0
apt_install() {
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    say "cannot install $* (needs root on Debian/Ubuntu). Install it yourself or set the URL in .env."; exit 1
  fi
  if [[ $apt_updated -eq 0 ]]; then say "apt-get update"; apt-get update -qq; apt_updated=1; fi
  say "installing $* from the distribution's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  local host port
  host=$(host_of "$DATABASE_URL"); port=$(port_of "$DATABASE_URL" 5432)
  if answers "$host" "$port"; then say "PostgreSQL answers on $host:$port"; else
    is_local "$host" || { say "PostgreSQL at $host:$port does not answer"; exit 1; }
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; fi
    local version; version=$(ls /etc/postgresql | sort -V | tail -n 1)
    say "starting the local PostgreSQL $version cluster"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster "$version" main start
    wait_for PostgreSQL "$host" "$port"
  fi
  ensure_role "$host" "$port"
}

# The role a local URL names must exist before anything connects with it. A new
# machine has only the `postgres` superuser (trust auth), so create the role
# (LOGIN, CREATEDB, with the URL's password) through that superuser, whatever
# the URL: the dev one, the tests' one, or one of the user's own.
ensure_role() {
  local host=$1 port=$2 user password
  is_local "$host" || return 0
  user=$(url_part "$DATABASE_URL" user); password=$(url_part "$DATABASE_URL" password)
  [[ -n "$user" && "$user" != "postgres" ]] || return 0
  local exists
  if ! exists=$(as_superuser "$host" "$port" -tA <<<"SELECT 1 FROM pg_roles WHERE rolname = $(sql_literal "$user")"); then
    say "cannot reach PostgreSQL as its superuser to check the role '$user'; assuming it exists"
    return 0
  fi
  [[ "$exists" == "1" ]] && return 0
  say "creating the database role '$user'"
  as_superuser "$host" "$port" -q <<<"CREATE ROLE $(sql_ident "$user") LOGIN CREATEDB PASSWORD $(sql_literal "$password")" >/dev/null
}

# psql as the `postgres` superuser, running the SQL on stdin: over TCP with trust
# auth, or over the local socket as the postgres OS user when we are root. The
# SQL goes on stdin, not -c: a command line is visible to every user in `ps`,
# and CREATE ROLE carries the password.
as_superuser() {
  local host=$1 port=$2 sql; shift 2
  sql=$(cat)
  if psql -X -h "$host" -p "$port" -U postgres -d postgres -w -v ON_ERROR_STOP=1 "$@" <<<"$sql" 2>/dev/null; then return 0; fi
  if [[ $(id -u) -eq 0 ]] && command -v runuser >/dev/null && id postgres >/dev/null 2>&1; then
    runuser -u postgres -- psql -X -p "$port" -d postgres -v ON_ERROR_STOP=1 "$@" <<<"$sql"
    return
  fi
  return 1
}

# user or password of a postgresql:// URL, percent-decoded (node is installed by
# now). The URL goes in through the environment, not the command line, which
# `ps` shows to every user.
url_part() {
  PARSED_URL=$1 node -e 'const u = new URL(process.env.PARSED_URL); process.stdout.write(decodeURIComponent(process.argv[1] === "user" ? u.username : u.password))' "$2"
}
sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }
sql_ident() { printf '"%s"' "${1//\"/\"\"}"; }

ensure_redis() {
  local host port
  host=$(host_of "$REDIS_URL"); port=$(port_of "$REDIS_URL" 6379)
  if answers "$host" "$port"; then say "Redis answers on $host:$port"; return; fi
  is_local "$host" || { say "Redis at $host:$port does not answer"; exit 1; }
  command -v redis-server >/dev/null || apt_install redis-server
  say "starting a local Redis on port $port"
  mkdir -p /tmp/expertline-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir /tmp/expertline-redis \
    --logfile /tmp/expertline-redis/redis.log
  wait_for Redis "$host" "$port"
}

ensure_postgres
ensure_redis
