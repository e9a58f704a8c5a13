#!/usr/bin/env bash
# Benchmarks `tmci check --env=prod` on generated projects of 1,000 and
# 10,000 stacks against its floor, `tmci list` on the same project in the
# same run (loading the project is work check must do too), and prints the
# ratio check/list per size. Usage: bench/check.sh [benchtime, default 5x]
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
go test ./cmd/tmci -run '^$' -bench '^BenchmarkCheck$' -benchtime "${1:-5x}" -count 1 >"$log"
cat "$log"
awk '/^BenchmarkCheck\// {
		split($1, parts, "/"); sub(/-[0-9]+$/, "", parts[3])
		ns[parts[2] " " parts[3]] = $3; sizes[parts[3]] = 1
	}
	END {
		for (s in sizes) {
			l = ns["list " s]; c = ns["check " s]
			if (l > 0) printf "%s: list %.0f ms, check %.0f ms, check/list %.2fx\n", s, l / 1e6, c / 1e6, c / l
			if (l > 0) printf "RESULT\ttmci check --env=prod, %s\t%.0f ms\ttmci list\t%.0f ms\t%.2f\t-\t-\n", s, c / 1e6, l / 1e6, c / l
		}
	}' "$log"
