#!/usr/bin/env bash
# The long run of the isolation property test (backend/property_test.go):
# CASES generated projects per seed of backend/testdata/property/seeds.txt
# (default 1000), each checked against the oracle. Prints the oracle's
# numbers per grammar: cases, colliding classes found, false negatives,
# false positives. The target is 0 false negatives for the proven grammar
# and 0 false positives and 0 reports on common templates.
# Usage: bench/property.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/result.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
go test ./backend -run '^TestIsolationProperty$' -count 1 -timeout 2h -v -property.cases "${1:-1000}" >"$log" 2>&1 || status=$?
grep -E 'property_test.go:[0-9]+: (common|proven|hostile):' "$log" | sed 's/^ *property_test.go:[0-9]*: //'
for g in common proven hostile; do
	line=$(grep -E "property_test.go:[0-9]+: $g:" "$log" | head -1)
	fn=$(sed -E 's/.* ([0-9]+) false negatives.*/\1/' <<<"$line")
	fp=$(sed -E 's/.* ([0-9]+) false positives.*/\1/' <<<"$line")
	met=-
	[ "$g" != hostile ] && met=$(holds 'fn == 0 && fp == 0' fn="$fn" fp="$fp")
	result "isolation property, $g templates" "FN $fn, FP $fp" "-" "-" "-" "0 FN, 0 FP" "$met"
done
# Every failing case: its seed, what was missed, its template and environments.
grep -E 'seed [0-9]+ case [0-9]+|^\s+(key|schema_name) = |^\s+environment "|hostile, outside' "$log" | sed 's/^ *//' || true
exit "$status"
