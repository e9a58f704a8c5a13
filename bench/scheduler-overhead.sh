#!/usr/bin/env bash
# Scheduler overhead: 1,000 `true` processes run two at a time by the
# scheduler and tf.Runner.Exec (with a log file per node, as tmci run does)
# against a floor of the same 1,000 processes run by `xargs -P2`. Rounds
# alternate so that both see the same machine load; medians are compared.
# Target: scheduler/floor <= 1.3.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out/scheduler
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/driver" ./bench/driver
rounds="${ROUNDS:-7}"
nodes=1000

now() { date +%s%N; }
floor=() sched=()
for _ in $(seq "$rounds"); do
	t0=$(now)
	seq "$nodes" | xargs -n1 -P2 true
	t1=$(now)
	rm -rf "$out/work"
	"$out/driver" -mode=exec -parallel=2 -nodes="$nodes" -work="$out/work" -- true >/dev/null
	t2=$(now)
	floor+=($(((t1 - t0) / 1000000)))
	sched+=($(((t2 - t1) / 1000000)))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
f=$(median "${floor[@]}")
s=$(median "${sched[@]}")
echo "floor  (xargs -P2, $nodes x true):     ${floor[*]} ms, median $f ms"
echo "tmci   (scheduler, parallel 2, logs): ${sched[*]} ms, median $s ms"
awk -v s="$s" -v f="$f" 'BEGIN {printf "ratio scheduler/floor: %.2f (target <= 1.30)\n", s / f}'
