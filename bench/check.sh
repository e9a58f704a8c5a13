#!/usr/bin/env bash
# Benchmarks `tmci check` (every environment, the pattern probed) and
# `tmci check --env=prod` on generated projects of 1,000 and 10,000 stacks
# against their floor in the same run: reading every file of the project
# once, which any tool checking its configuration must do. The target is
# 2 s for check at 10,000 stacks.
# Usage: bench/check.sh [benchtime, default 5x]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/result.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
go test ./cmd/tmci -run '^$' -bench '^BenchmarkCheck$' -benchtime "${1:-5x}" -count 1 >"$log"
cat "$log"
awk '/^BenchmarkCheck\// {
		split($1, parts, "/"); sub(/-[0-9]+$/, "", parts[3]); sub(/^stacks=/, "", parts[3])
		printf "%s %s %s\n", parts[2], parts[3], $3
	}' "$log" | sort -k2,2n -k1,1 >"$log.ns"
for n in $(awk '{print $2}' "$log.ns" | sort -un); do
	floor=$(awk -v n="$n" '$1 == "readfiles" && $2 == n {printf "%.0f", $3 / 1e6}' "$log.ns")
	for cmd in check check--env=prod; do
		ms=$(awk -v n="$n" -v c="$cmd" '$1 == c && $2 == n {printf "%.0f", $3 / 1e6}' "$log.ns")
		[ -n "$ms" ] || continue
		met=-
		[ "$n" = 10000 ] && met=$(holds 'ms < 2000' ms="$ms")
		label="tmci ${cmd/--/ --}, $n stacks"
		printf '%s: %s ms, floor (read every file) %s ms, %sx\n' "$label" "$ms" "$floor" "$(ratio "$ms" "$floor")"
		result "$label" "$ms ms" "read every file" "$floor ms" "$(ratio "$ms" "$floor")" "< 2 s at 10,000" "$met"
	done
done
rm -f "$log.ns"
