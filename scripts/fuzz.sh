#!/usr/bin/env bash
# Runs every fuzz target for DURATION (a Go duration: 10s, 5m, 1h), one
# target after another, then prints each one's last progress line: how many
# inputs it ran and how many new interesting ones it found. A crash fails
# the script and leaves the input under the package's testdata/fuzz/.
#
#   scripts/fuzz.sh 5m
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: scripts/fuzz.sh DURATION   (for example 10s or 5m)" >&2
  exit 2
fi
duration=$1

# package and target, one per line
targets="
./mockserver FuzzRequestDecoding
./client FuzzDecodeAnswer
./secrets FuzzLoadConfig
"

status=0
summary=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

while read -r pkg target; do
  [ -n "$pkg" ] || continue
  echo "== $target in $pkg for $duration"
  if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$duration" "$pkg" 2>&1 | tee "$log"; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  last=$(grep '^fuzz: elapsed' "$log" | tail -n 1 || true)
  summary="${summary}${target}: ${result}; ${last#fuzz: }"$'\n'
done <<<"$targets"

echo "== summary"
printf '%s' "$summary"
exit "$status"
