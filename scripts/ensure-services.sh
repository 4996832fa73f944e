#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer at DATABASE_URL and REDIS_URL.
# Uses them as they are when they answer; otherwise starts the local servers,
# or installs them from the distribution's packages when running as root.
# With the default URLs it also creates the `expertline` database role.
set -euo pipefail

DEFAULT_DATABASE_URL="postgresql://expertline:expertline@127.0.0.1:5432/expertline"
DATABASE_URL="${DATABASE_URL:-$DEFAULT_DATABASE_URL}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

say() { printf '[services] %s\n' "$*"; }

# host and port from a URL like scheme://user:pass@host:port/db
host_of() { local rest="${1#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"; echo "${rest%%:*}"; }
port_of() { local rest="${1#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"; [[ "$rest" == *:* ]] && echo "${rest##*:}" || echo "$2"; }
answers() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
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
  # The default URL names our own role; create it once when we can act as the postgres superuser.
  if [[ "$DATABASE_URL" == "$DEFAULT_DATABASE_URL" ]] && is_local "$host" && [[ $(id -u) -eq 0 ]] && command -v runuser >/dev/null \
     && id postgres >/dev/null 2>&1; then
    runuser -u postgres -- psql -p "$port" -qtAc "SELECT 1 FROM pg_roles WHERE rolname = 'expertline'" 2>/dev/null | grep -q 1 || {
      say "creating the database role 'expertline'"
      runuser -u postgres -- psql -p "$port" -qc "CREATE ROLE expertline LOGIN PASSWORD 'expertline' CREATEDB" >/dev/null
    }
  fi
}

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
