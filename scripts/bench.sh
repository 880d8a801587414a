#!/usr/bin/env bash
# make bench: authd under load, against the machine's own limits (issue 7).
#
# Builds authd and authbench, then for each backend (Postgres + Redis in a
# scratch database and key prefix, and the embedded default in a temporary
# data dir) starts authd on a free loopback port, runs `authbench -limits`
# (each scenario in turn, each limit measured while authd idles right before
# the scenario compared with it), stops authd, and at the end prints every result as a ratio to its limit.
# Everything it started or created is stopped or dropped on exit, also on
# Ctrl-C. Reports and logs stay in $BENCH_OUT.
#
# Settings (environment), besides those of scripts/bench-lib.sh:
#   BENCH_DURATION        length of each scenario (default 15s)
#   BENCH_CONCURRENCY     authbench workers (default 32)
#   BENCH_LIMIT_DURATION  length of the rotation and JWT bounds (default 5s)
#   BENCH_SCENARIOS       phases (default login,refresh,verify,me,logout,mixed)
#   BENCH_BACKENDS        which to run (default "postgres-redis embedded")
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

BENCH_DURATION=${BENCH_DURATION:-15s}
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-32}
BENCH_LIMIT_DURATION=${BENCH_LIMIT_DURATION:-5s}
BENCH_SCENARIOS=${BENCH_SCENARIOS:-login,refresh,verify,me,logout,mixed}
BENCH_BACKENDS=${BENCH_BACKENDS:-postgres-redis embedded}

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
    ;;
  embedded)
    bench embedded
    ;;
  *) die "unknown backend $backend (want postgres-redis or embedded)" ;;
  esac
done

echo
echo "== ratios to the machine's limits (reports in $BENCH_OUT)"
for backend in $BENCH_BACKENDS; do
  echo "-- $backend"
  sed -n '/^ratios$/,/^authd peak RSS/{/^ratios$/d;p}' "$BENCH_OUT/$backend.txt"
done
