#!/usr/bin/env bash
# make bench-go: every Go benchmark of pkg/ and internal/, -count times, into
# a file, summarised with benchstat (median and confidence interval of each).
# The Postgres and Redis benchmarks run when those services answer (see
# README); compare two runs with `benchstat old.txt new.txt`.
#
# Settings (environment):
#   BENCH_OUT     where the results go (default /tmp/authd-bench)
#   BENCH_COUNT   runs of each benchmark (default 6: benchstat wants ≥ 6 for a
#                 confidence interval at 95%)
#   BENCH_TIME    -benchtime (default 1s)
#   BENCH_FILTER  -bench regexp (default .)
#   BENCH_PKGS    packages (default ./pkg/... ./internal/...)
set -euo pipefail
cd "$(dirname "$0")/.."

# benchstat is pinned here rather than in go.mod: it is a tool, not a
# dependency of authd.
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

out=${BENCH_OUT:-/tmp/authd-bench}
mkdir -p "$out"
read -r -a pkgs <<<"${BENCH_PKGS:-./pkg/... ./internal/...}"
raw="$out/go-$(date +%Y%m%d-%H%M%S).txt"

printf '== go test -bench %s -count %s -benchtime %s %s > %s\n' \
  "${BENCH_FILTER:-.}" "${BENCH_COUNT:-6}" "${BENCH_TIME:-1s}" "${pkgs[*]}" "$raw" >&2
go test -run '^$' -bench "${BENCH_FILTER:-.}" -benchmem -count "${BENCH_COUNT:-6}" \
  -benchtime "${BENCH_TIME:-1s}" -timeout 60m "${pkgs[@]}" | tee "$raw"
ln -sf "$(basename "$raw")" "$out/go-latest.txt"

printf '\n== benchstat %s\n' "$raw" >&2
go run "$BENCHSTAT" "$raw" | tee "${raw%.txt}.benchstat"
