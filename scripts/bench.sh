#!/usr/bin/env bash
# make bench: authd under load, against the machine's own limits (issue 7).
#
# Builds authd and authbench, then for each backend (Postgres + Redis in a
# scratch database and key prefix, and the embedded default in a temporary
# data dir) starts authd on a free loopback port, runs `authbench -limits`
# (each scenario in turn, each limit measured while authd idles right before
# the scenario compared with it), stops authd, and at the end prints every result as a ratio to its limit.
# Then, unless BENCH_FOOTPRINT=0, it runs `authbench -footprint`, which starts
# the built authd itself (the embedded default: no settings but a free
# loopback port, a temporary data dir and per-IP limits off; for Postgres +
# Redis a scratch database of its own) and measures start to ready, idle RSS
# and RSS under BENCH_FOOTPRINT_CONNS keep-alive connections against issue 7's
# targets.
# Everything it started or created is stopped or dropped on exit, also on
# Ctrl-C. Reports and logs stay in $BENCH_OUT.
#
# Settings (environment), besides those of scripts/bench-lib.sh:
#   BENCH_DURATION        length of each scenario (default 15s)
#   BENCH_CONCURRENCY     authbench workers (default 32)
#   BENCH_LIMIT_DURATION  length of the rotation and JWT bounds (default 5s)
#   BENCH_SCENARIOS       phases (default login,refresh,verify,me,logout,mixed)
#   BENCH_BACKENDS        which to run (default "postgres-redis embedded"; also mariadb-redis,
#                         on BENCH_MYSQL_HOST:BENCH_MYSQL_PORT, default 127.0.0.1:3306, as root)
#   BENCH_FOOTPRINT       1 (default): measure startup and memory too; 0: skip it
#   BENCH_FOOTPRINT_CONNS     connections of the memory load (default 1000)
#   BENCH_FOOTPRINT_DURATION  length of the memory load (default 10s)
#   BENCH_FOOTPRINT_STARTS    starts timed of each kind (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

BENCH_DURATION=${BENCH_DURATION:-15s}
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-32}
BENCH_LIMIT_DURATION=${BENCH_LIMIT_DURATION:-5s}
BENCH_SCENARIOS=${BENCH_SCENARIOS:-login,refresh,verify,me,logout,mixed}
BENCH_BACKENDS=${BENCH_BACKENDS:-postgres-redis embedded}
BENCH_FOOTPRINT=${BENCH_FOOTPRINT:-1}
BENCH_FOOTPRINT_CONNS=${BENCH_FOOTPRINT_CONNS:-1000}
BENCH_FOOTPRINT_DURATION=${BENCH_FOOTPRINT_DURATION:-10s}
BENCH_FOOTPRINT_STARTS=${BENCH_FOOTPRINT_STARTS:-3}

require go psql redis-cli awk
log "building authd and authbench"
build ./cmd/authd ./cmd/authbench

machine_info | tee "$BENCH_OUT/machine.txt" >&2

# bench NAME [VAR=VALUE...] runs authd with those settings and authbench
# against it.
bench() {
  local name=$1
  shift
  local pg_args=()
  local setting
  for setting in "$@"; do
    case $setting in
    AUTHD_DATABASE_URL=mysql://*) pg_args=(-mysql "${setting#AUTHD_DATABASE_URL=}") ;;
    AUTHD_DATABASE_URL=*) pg_args=(-postgres "${setting#AUTHD_DATABASE_URL=}") ;;
    esac
  done
  wait_quiet
  log "$name: starting authd"
  start_authd "$name" "$BIN/authd" "$@"
  log "$name: authbench -limits, scenarios $BENCH_SCENARIOS, $BENCH_DURATION each, $BENCH_CONCURRENCY workers"
  # In the background and waited for, so that a signal to this script
  # reaches its trap at once (and cleanup stops authbench too).
  "$BIN/authbench" -target "$AUTHD_URL" -wait 30s -server-pid "$AUTHD_PID" \
    -limits -bcrypt-cost "$BENCH_BCRYPT_COST" -alg "$BENCH_ALG" -limit-duration "$BENCH_LIMIT_DURATION" "${pg_args[@]}" \
    -scenario "$BENCH_SCENARIOS" -duration "$BENCH_DURATION" -concurrency "$BENCH_CONCURRENCY" \
    -json-out "$BENCH_OUT/$name.json" >"$BENCH_OUT/$name.txt" &
  start_bg $!
  wait $!
  cat "$BENCH_OUT/$name.txt"
  echo "authd peak RSS: $(peak_rss "$AUTHD_PID")" | tee -a "$BENCH_OUT/$name.txt"
  stop_authd "$AUTHD_PID"
}

# footprint NAME [VAR=VALUE...] runs authbench -footprint, which starts the
# built authd itself with those settings (none: the embedded default) and
# reports start to ready, idle RSS and RSS under load against their limits.
footprint() {
  local name=$1
  shift
  local env_args=() setting
  for setting in "$@"; do env_args+=(-authd-env "$setting"); done
  wait_quiet
  log "$name: footprint: $BENCH_FOOTPRINT_STARTS starts of each kind, then $BENCH_FOOTPRINT_CONNS connections for $BENCH_FOOTPRINT_DURATION"
  : >"$BENCH_OUT/$name-footprint.log"
  "$BIN/authbench" -footprint -authd-bin "$BIN/authd" "${env_args[@]}" \
    -footprint-starts "$BENCH_FOOTPRINT_STARTS" -footprint-conns "$BENCH_FOOTPRINT_CONNS" \
    -footprint-duration "$BENCH_FOOTPRINT_DURATION" -authd-log "$BENCH_OUT/$name-footprint.log" \
    -json-out "$BENCH_OUT/$name-footprint.json" >"$BENCH_OUT/$name-footprint.txt" &
  start_bg $!
  wait $!
  cat "$BENCH_OUT/$name-footprint.txt"
}

for backend in $BENCH_BACKENDS; do
  case $backend in
  postgres-redis)
    scratch_db pg
    redis_prefix dl
    bench postgres-redis \
      AUTHD_DATABASE_URL="$SCRATCH_URL" \
      AUTHD_REDIS_URL="$BENCH_REDIS_URL" \
      AUTHD_REDIS_KEY_PREFIX="$REDIS_PREFIX" \
      AUTHD_MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
    if [[ $BENCH_FOOTPRINT != 0 ]]; then
      # A database of its own, so that its first start migrates an empty one
      # (later starts find it migrated: authbench times them as second starts).
      scratch_db fp
      redis_prefix fp
      footprint postgres-redis \
        AUTHD_DATABASE_URL="$SCRATCH_URL" \
        AUTHD_REDIS_URL="$BENCH_REDIS_URL" \
        AUTHD_REDIS_KEY_PREFIX="$REDIS_PREFIX" \
        AUTHD_MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
    fi
    ;;
  mariadb-redis)
    scratch_mysql_db my
    redis_prefix my
    bench mariadb-redis \
      AUTHD_DATABASE_URL="$SCRATCH_URL" \
      AUTHD_REDIS_URL="$BENCH_REDIS_URL" \
      AUTHD_REDIS_KEY_PREFIX="$REDIS_PREFIX" \
      AUTHD_MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
    ;;
  embedded)
    bench embedded
    if [[ $BENCH_FOOTPRINT != 0 ]]; then
      footprint embedded
    fi
    ;;
  *) die "unknown backend $backend (want postgres-redis, mariadb-redis or embedded)" ;;
  esac
done

echo
echo "== ratios to the machine's limits (reports in $BENCH_OUT)"
for backend in $BENCH_BACKENDS; do
  echo "-- $backend"
  sed -n '/^ratios$/,/^authd peak RSS/{/^ratios$/d;p}' "$BENCH_OUT/$backend.txt"
  if [[ $BENCH_FOOTPRINT != 0 ]]; then
    echo "-- $backend: start to ready and memory, against their limits"
    sed -n '/^targets$/,${/^targets$/d;p}' "$BENCH_OUT/$backend-footprint.txt"
  fi
done
