#!/usr/bin/env bash
# Login, refresh and admin-pagination rates of authd on a seeded Postgres
# database (cmd/authseed: 1M users, 1M sessions, 10M audit events) against
# a near-empty one, in the same session (docs/benchmarks.md, "Data scale").
#
# The machine is shared, so the two databases alternate, round after round,
# and each figure is the median of its rounds: a burst of someone else's
# load hits both sides alike rather than one.
#
# Needs both databases seeded first, e.g.:
#   go run ./cmd/authseed -database-url "$SCALE_EMPTY_URL" -users 1000 -sessions 0 -audit 0
#   go run ./cmd/authseed -database-url "$SCALE_SEEDED_URL"
#
# Settings (environment):
#   SCALE_EMPTY_URL   near-empty database (default .../authd_empty)
#   SCALE_SEEDED_URL  seeded database (default .../authd_scale)
#   SCALE_ROUNDS      alternations (default 3)
#   SCALE_DURATION    length of each measured phase (default 8s)
#   SCALE_CONCURRENCY workers (default 8)
#   SCALE_PAGE_DEPTH  pages a pagination worker walks before starting over (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."

pg=postgres://postgres@127.0.0.1:5432
empty=${SCALE_EMPTY_URL:-$pg/authd_empty?sslmode=disable}
seeded=${SCALE_SEEDED_URL:-$pg/authd_scale?sslmode=disable}
rounds=${SCALE_ROUNDS:-3}
duration=${SCALE_DURATION:-8s}
conc=${SCALE_CONCURRENCY:-8}
depth=${SCALE_PAGE_DEPTH:-20}

out=$(mktemp -d)
go build -o "$out/authd" ./cmd/authd
go build -o "$out/authbench" ./cmd/authbench
go build -o "$out/authseed" ./cmd/authseed
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

run_one() { # name url round
	local name=$1 url=$2 round=$3
	mkdir -p "$out/data-$name"
	(cd "$out/data-$name" && AUTHD_DATABASE_URL=$url AUTHD_ADDR=127.0.0.1:$port AUTHD_METRICS_ADDR=off \
		AUTHD_MASTER_KEY=$(printf 'k%.0s' {1..32} | base64) AUTHD_RATELIMIT_ENABLED=false AUTHD_BCRYPT_COST=10 \
		AUTHD_AUDIT_RETENTION=off AUTHD_LOG_LEVEL=warn exec "$out/authd" serve >>"$out/authd-$name.log" 2>&1) &
	pid=$!
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
	"$out/authbench" -target "http://127.0.0.1:$port" -scenario login,refresh -duration "$duration" \
		-concurrency "$conc" -users 50 -json-out "$out/$name-$round.json" >"$out/$name-$round.txt" 2>&1
	"$out/authseed" pages -target "http://127.0.0.1:$port" -duration "$duration" -concurrency 4 -depth "$depth" \
		>>"$out/$name-$round.txt"
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
	! curl -s "http://127.0.0.1:$port/healthz" >/dev/null || { echo "authd on $port did not stop" >&2; exit 1; }
	printf '%s round %s: ' "$name" "$round"
	grep -E '^ +(login|refresh) ' "$out/$name-$round.txt" | awk '{printf "%s %s/s  ", $1, $3}'
	grep -o 'rate=[0-9.]*/s' "$out/$name-$round.txt" | sed 's/rate=/admin_users /'
}

for r in $(seq "$rounds"); do
	run_one empty "$empty" "$r"
	run_one seeded "$seeded" "$r"
done
echo "reports in $out"
