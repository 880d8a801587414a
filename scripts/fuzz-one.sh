#!/usr/bin/env bash
# fuzz-one.sh PKG NAME FUZZTIME: go test -fuzz for one target. A failure
# fails the run when it left a reproducer in PKG/testdata/fuzz/NAME (a real
# crasher, to commit with the fix) or was anything but the one known
# toolchain flake: go1.26's fuzzing coordinator can report "context
# deadline exceeded" when -fuzztime ends while a worker is mid-input
# (go.dev/issue/75804, fixed in Go 1.27), with no input at fault.
set -uo pipefail
pkg=$1 name=$2 fuzztime=$3
corpus="$pkg/testdata/fuzz/$name"
before=$(ls "$corpus" 2>/dev/null | sort)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go=${GO:-go}
"$go" test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
((rc == 0)) && exit 0
after=$(ls "$corpus" 2>/dev/null | sort)
if [ "$before" = "$after" ] && grep -q '^    context deadline exceeded$' "$out" && ! grep -q -e '^panic:' -e 'Failing input written' "$out"; then
  echo "== fuzz $name: the coordinator's end-of-fuzztime race (go.dev/issue/75804), no failing input; not a failure"
  exit 0
fi
exit "$rc"
