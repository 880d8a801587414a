# Shared by scripts/bench.sh and scripts/bench-profile.sh (sourced, not run):
# building the binaries, a scratch Postgres database and Redis key prefix per
# run, starting authd on a free loopback port, and undoing all of it on exit.
#
# Settings (environment):
#   BENCH_OUT            where logs and reports go (default /tmp/authd-bench)
#   BENCH_POSTGRES_BASE  Postgres server URL without a database
#                        (default postgres://postgres@127.0.0.1:5432)
#   BENCH_REDIS_URL      Redis URL (default redis://127.0.0.1:6379/0)
#   BENCH_BCRYPT_COST    AUTHD_BCRYPT_COST of the authd under test (default 12)
#   BENCH_ALG            AUTHD_SIGNING_ALG (default ES256)
#   BENCH_LOG_LEVEL      AUTHD_LOG_LEVEL (default info: the access log is on, as
#                        in production)
#   BENCH_RATELIMIT      AUTHD_RATELIMIT_ENABLED (default false: the load all
#                        comes from one address, which per-IP limits would stop)
#   BENCH_QUIET_WAIT     seconds to wait for other processes to leave the CPUs
#                        idle before each backend (default 60; 0: do not wait)

BENCH_OUT=${BENCH_OUT:-/tmp/authd-bench}
BENCH_POSTGRES_BASE=${BENCH_POSTGRES_BASE:-postgres://postgres@127.0.0.1:5432}
BENCH_MYSQL_HOST=${BENCH_MYSQL_HOST:-127.0.0.1}
BENCH_MYSQL_PORT=${BENCH_MYSQL_PORT:-3306}
BENCH_REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
BENCH_BCRYPT_COST=${BENCH_BCRYPT_COST:-12}
BENCH_ALG=${BENCH_ALG:-ES256}
BENCH_LOG_LEVEL=${BENCH_LOG_LEVEL:-info}

# RUN names this run's scratch database and Redis prefix.
RUN="authbench_$(date +%s)_$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/authd-bench.XXXXXX")
BIN="$WORK/bin"
mkdir -p "$BENCH_OUT" "$BIN"

STARTED_PIDS=()
SCRATCH_DBS=()
SCRATCH_MYSQL_DBS=()
REDIS_PREFIXES=()

log() { printf '== %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# cleanup stops every process this run started (authd, authbench), drops its databases and Redis
# keys and removes the temporary directory. It runs on any exit.
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local i pid
  # Newest first: the load tool before the authd it drives.
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${STARTED_PIDS[i]}
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  local db
  for db in "${SCRATCH_DBS[@]}"; do
    for _ in 1 2 3; do
      psql "$BENCH_POSTGRES_BASE/postgres?sslmode=disable" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null && continue 2
      sleep 1
    done
    log "could not drop database $db: drop it by hand"
  done
  for db in "${SCRATCH_MYSQL_DBS[@]}"; do
    mysql -h "$BENCH_MYSQL_HOST" -P "$BENCH_MYSQL_PORT" -u root -e "DROP DATABASE IF EXISTS $db" || log "could not drop MySQL database $db: drop it by hand"
  done
  local prefix
  for prefix in "${REDIS_PREFIXES[@]}"; do
    redis-cli -u "$BENCH_REDIS_URL" --scan --pattern "${prefix}*" 2>/dev/null |
      xargs -r -n 500 redis-cli -u "$BENCH_REDIS_URL" unlink >/dev/null 2>&1 || log "could not delete Redis keys ${prefix}*"
  done
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

require() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null || die "$c is needed"; done
}

# build PKG... builds each ./cmd package into $BIN.
#
# Each binary is linked to a scratch name and then copied into place, as an
# install would: the file pages a process maps at start depend on how the
# page cache holds its binary, and the Go linker's own output is held in a
# way that maps about 2.5 MB more of it than a copy, or the same file read
# from disk, does (docs/benchmarks.md, Start-up and memory).
build() {
  local pkg name
  for pkg in "$@"; do
    name=$(basename "$pkg")
    CGO_ENABLED=0 go build -trimpath -o "$BIN/$name.linked" "$pkg"
    cp "$BIN/$name.linked" "$BIN/$name"
    rm "$BIN/$name.linked"
  done
}

# free_port prints a loopback TCP port nothing listens on, below the
# kernel's ephemeral range: a port in it can be taken as the local end of
# any outgoing connection (to Postgres, to Redis, authbench's own) between
# this check and authd's bind.
free_port() {
  local port low
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  ((low > 11024)) || low=32768
  for _ in $(seq 1 100); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free port found"
}

# wait_quiet waits (at most BENCH_QUIET_WAIT seconds, default 60) until the
# machine's CPUs are nearly idle, so that other processes disturb the
# measurement as little as possible; it warns and goes on if they never are.
wait_quiet() {
  local busy tries=$(((${BENCH_QUIET_WAIT:-60} + 1) / 2))
  ((tries > 0)) || return 0
  for _ in $(seq 1 "$tries"); do
    busy=$(cpu_busy 2)
    if awk -v b="$busy" 'BEGIN { exit !(b < 0.25) }'; then
      return
    fi
    log "machine busy ($busy cores in use by other processes); waiting for it to quieten"
  done
  log "warning: machine still busy ($busy cores); measuring anyway: see each phase's cpu line"
}

# cpu_busy SECONDS prints the cores in use over that many seconds.
cpu_busy() {
  local a b
  a=$(head -1 /proc/stat)
  sleep "$1"
  b=$(head -1 /proc/stat)
  awk -v a="$a" -v b="$b" -v s="$1" 'BEGIN {
    split(a, x); split(b, y)
    busy = (y[2]+y[3]+y[4]+y[7]+y[8]) - (x[2]+x[3]+x[4]+x[7]+x[8])
    printf "%.2f", busy / 100 / s
  }'
}

# scratch_db NAME creates an empty database for this run (dropped on exit)
# and sets SCRATCH_URL to its URL. (Not in a $(...): the list of what to
# drop must outlive the call.)
scratch_db() {
  local name="${RUN}_$1"
  psql "$BENCH_POSTGRES_BASE/postgres?sslmode=disable" -qAtc "CREATE DATABASE $name" >/dev/null
  SCRATCH_DBS+=("$name")
  SCRATCH_URL="$BENCH_POSTGRES_BASE/$name?sslmode=disable"
}

# scratch_mysql_db NAME is scratch_db on the MySQL/MariaDB server
# (BENCH_MYSQL_HOST:BENCH_MYSQL_PORT, as root without a password).
scratch_mysql_db() {
  local name="${RUN}_$1"
  mysql -h "$BENCH_MYSQL_HOST" -P "$BENCH_MYSQL_PORT" -u root -e "CREATE DATABASE $name CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
  SCRATCH_MYSQL_DBS+=("$name")
  SCRATCH_URL="mysql://root@$BENCH_MYSQL_HOST:$BENCH_MYSQL_PORT/$name"
}

# redis_prefix NAME sets REDIS_PREFIX to a Redis key prefix for this run
# (its keys are deleted on exit).
redis_prefix() {
  REDIS_PREFIX="authbench:${RUN}:$1:"
  REDIS_PREFIXES+=("$REDIS_PREFIX")
}

# start_bg PID records a background process for cleanup to stop.
start_bg() { STARTED_PIDS+=("$1"); }

# start_authd NAME BINARY [VAR=VALUE...] starts BINARY (authd or authdprof)
# with the given AUTHD_* settings on a free loopback port, logging to
# $BENCH_OUT/NAME.log; it sets AUTHD_PID and AUTHD_URL.
start_authd() {
  local name=$1 binary=$2
  shift 2
  local port
  port=$(free_port)
  # Per-IP rate limits off: every request of the load comes from 127.0.0.1.
  # (The bcrypt admission queue keeps its defaults: it is part of what is
  # measured.)
  env AUTHD_ADDR="127.0.0.1:$port" AUTHD_DATA_DIR="$WORK/data-$name" AUTHD_BCRYPT_COST="$BENCH_BCRYPT_COST" \
    AUTHD_SIGNING_ALG="$BENCH_ALG" AUTHD_LOG_LEVEL="$BENCH_LOG_LEVEL" AUTHD_LOG_FORMAT=json \
    AUTHD_RATELIMIT_ENABLED="${BENCH_RATELIMIT:-false}" "$@" \
    "$binary" >"$BENCH_OUT/$name.log" 2>&1 &
  AUTHD_PID=$!
  STARTED_PIDS+=("$AUTHD_PID")
  AUTHD_URL="http://127.0.0.1:$port"
  sleep 0.2
  kill -0 "$AUTHD_PID" 2>/dev/null || { tail -5 "$BENCH_OUT/$name.log" >&2; die "$name did not start"; }
}

# stop_authd PID stops one authd and waits for it.
stop_authd() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# peak_rss PID prints the process's peak resident set (VmHWM).
peak_rss() { awk '/^VmHWM/ { printf "%.0f MB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"; }

# machine_info prints the machine, toolchain and service versions.
machine_info() {
  echo "cpus:     $(nproc) ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo))"
  echo "memory:   $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel:   $(uname -sr)"
  echo "go:       $(go version | awk '{ print $3 }')"
  echo "postgres: $(psql "$BENCH_POSTGRES_BASE/postgres?sslmode=disable" -qAtc 'SHOW server_version' 2>/dev/null || echo unavailable)"
  echo "redis:    $(redis-cli -u "$BENCH_REDIS_URL" info server 2>/dev/null | awk -F: '/^redis_version/ { sub(/\r/, "", $2); print $2 }' || echo unavailable)"
}
