#!/usr/bin/env bash
# Fails when git tracks a compiled executable (ELF, Mach-O or PE): built
# binaries belong in bin/ (ignored), never in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
found=0
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  magic=$(head -c 4 -- "$f" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    7f454c46 | cffaedfe | cefaedfe | feedfacf | feedface | cafebabe | 4d5a*)
      # 4d5a is "MZ" (PE); text files rarely start with it, but check the
      # PE signature offset to be sure.
      if [[ $magic == 4d5a* ]]; then
        off=$(od -An -tu4 -j 60 -N 4 -- "$f" 2>/dev/null | tr -d ' ') || continue
        [ -n "$off" ] && [ "$(od -An -c -j "$off" -N 2 -- "$f" 2>/dev/null | tr -d ' ')" = "PE" ] || continue
      fi
      # cafebabe is also a Java class file; a universal Mach-O is what we refuse here either way.
      echo "tracked binary: $f" >&2
      found=1
      ;;
  esac
done < <(git ls-files -z)
exit "$found"
