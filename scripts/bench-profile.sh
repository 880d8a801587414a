#!/usr/bin/env bash
# CPU profiles of authd under authbench's load, for docs/benchmarks.md.
#
# It runs cmd/authbench/authdprof (authd in-process, configured the same
# way, its -pprof loopback address served by authd's AUTHD_PPROF_ADDR
# listener) on Postgres + Redis (scratch database and key prefix) and
# on the embedded default, drives one scenario at a time with authbench,
# takes a CPU profile of BENCH_PROFILE_SECONDS in the middle of it, and
# writes `go tool pprof -top` summaries next to the profiles in $BENCH_OUT.
#
# Settings (environment), besides those of scripts/bench-lib.sh:
#   BENCH_PROFILE_SCENARIOS  scenarios to profile (default "refresh verify")
#   BENCH_PROFILE_SECONDS    length of each profile (default 10)
#   BENCH_CONCURRENCY        authbench workers (default 32)
#   BENCH_BACKENDS           default "postgres-redis embedded"
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

scenarios=${BENCH_PROFILE_SCENARIOS:-refresh verify}
seconds=${BENCH_PROFILE_SECONDS:-10}
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-32}
BENCH_BACKENDS=${BENCH_BACKENDS:-postgres-redis embedded}

require go psql redis-cli curl
log "building authbench and authdprof"
build ./cmd/authbench ./cmd/authbench/authdprof

# profile NAME [VAR=VALUE...] profiles each scenario on one backend.
profile() {
  local name=$1
  shift
  local pprof_port
  pprof_port=$(free_port)
  wait_quiet
  start_authd "prof-$name" "$BIN/authdprof" AUTHDPROF_PPROF_ADDR="127.0.0.1:$pprof_port" "$@"
  local scenario
  for scenario in $scenarios; do
    local base="$BENCH_OUT/prof-$name-$scenario"
    log "$name/$scenario: load for $((seconds + 4))s, profile for ${seconds}s"
    "$BIN/authbench" -target "$AUTHD_URL" -wait 30s -server-pid "$AUTHD_PID" -scenario "$scenario" \
      -duration "$((seconds + 4))s" -concurrency "$BENCH_CONCURRENCY" -users 8 >"$base.txt" 2>"$base.progress" &
    local bench_pid=$!
    start_bg "$bench_pid"
    # The phase starts after authbench's own setup (users, logins): wait
    # for its first progress line, at most two minutes.
    local i
    for i in $(seq 1 1200); do
      grep -q "^\[$scenario " "$base.progress" 2>/dev/null && break
      kill -0 "$bench_pid" 2>/dev/null || break
      sleep 0.1
    done
    ((i < 1200)) || die "$name/$scenario: the phase never started"
    curl -sf "http://127.0.0.1:$pprof_port/debug/pprof/profile?seconds=$seconds" -o "$base.pprof"
    wait "$bench_pid"
    go tool pprof -top -nodecount 40 "$base.pprof" >"$base.top" 2>/dev/null
    go tool pprof -top -cum -nodecount 60 "$base.pprof" >"$base.cum" 2>/dev/null
    cat "$base.txt"
    head -n 25 "$base.top"
  done
  stop_authd "$AUTHD_PID"
}

for backend in $BENCH_BACKENDS; do
  case $backend in
  postgres-redis)
    scratch_db prof
    redis_prefix prof
    profile postgres-redis \
      AUTHD_DATABASE_URL="$SCRATCH_URL" \
      AUTHD_REDIS_URL="$BENCH_REDIS_URL" \
      AUTHD_REDIS_KEY_PREFIX="$REDIS_PREFIX" \
      AUTHD_MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
    ;;
  embedded) profile embedded ;;
  *) die "unknown backend $backend" ;;
  esac
done
log "profiles in $BENCH_OUT/prof-*.pprof (go tool pprof -http 127.0.0.1:0 FILE to browse)"
