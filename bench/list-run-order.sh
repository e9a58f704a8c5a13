#!/usr/bin/env bash
# End-to-end benchmark of `tmci list --run-order` on a generated project of
# 10,000 stacks (plus 500 nested ones) and about 50,000 after edges.
# The floor, measured in the same run, is what any tool must do before it
# can order anything: read every stack's configuration once (`find` + `cat`
# of every .tm file). Prints the best of RUNS runs of each, wall clock and
# CPU time (which a busy machine inflates less). Target: under 0.7 s.
#
#   bench/list-run-order.sh [N] [FANOUT]      (RUNS: runs per command, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
fanout=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. bench/result.sh
runs=${RUNS:-5}

go build -o "$work/tmci" ./cmd/tmci
go run ./bench/genstacks -n "$n" -fanout "$fanout" "$work/project"
git -C "$work/project" init -q

best() { # best wall and CPU (user+sys) seconds of RUNS runs of "$@"
	local wall=999 cpu=999
	for _ in $(seq "$runs"); do
		/usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >/dev/null 2>&1
		read -r w u s <"$work/time"
		wall=$(awk -v a="$wall" -v b="$w" 'BEGIN { print (b < a) ? b : a }')
		cpu=$(awk -v a="$cpu" -v b="$u" -v c="$s" 'BEGIN { print (b + c < a) ? b + c : a }')
	done
	echo "$wall $cpu"
}

stacks=$("$work/tmci" -C "$work/project" list --run-order | wc -l)
read -r floor floorcpu < <(best find "$work/project" -name '*.tm' -type f -exec cat {} +)
read -r order ordercpu < <(best "$work/tmci" -C "$work/project" list --run-order)
echo "stacks ordered:          $stacks"
echo "find + cat *.tm (floor):  ${floor}s wall, ${floorcpu}s CPU"
echo "tmci list --run-order:   ${order}s wall, ${ordercpu}s CPU"
awk -v f="$floor" -v o="$order" -v fc="$floorcpu" -v oc="$ordercpu" \
	'BEGIN { printf "ratio to floor:          %.2f wall, %.2f CPU\n", o / f, oc / fc }'
echo "load average:           $(cut -d' ' -f1-3 /proc/loadavg)"
result "tmci list --run-order, $stacks stacks, ~$((n * fanout)) edges (best of $runs)" "$order s" "find + cat of every .tm file" "$floor s" \
	"$(ratio "$order" "$floor")" "< 0.7 s" "$(holds 'o < 0.7' o="$order")"
