#!/usr/bin/env bash
# Scheduler overhead: `tmci run --parallel 2 -- true` over 1,000 generated
# stacks (project load, ordering, a log file per stack, the summary and
# report.json included; the data and log directories of every stack are
# created) against a floor of the same 1,000 `true` processes
# run two at a time by `xargs -P2`. Rounds alternate so that both see the
# same machine load; medians are compared. Target: tmci/floor <= 1.3.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/result.sh
out="$PWD/bench/out/scheduler"
rm -rf "$out" && mkdir -p "$out/project"
go build -o "$out/tmci" ./cmd/tmci
go run ./bench/synth -stacks 1000 "$out/project" >/dev/null
rounds="${ROUNDS:-7}"
nodes=1000

now() { date +%s%N; }
# Each round gets a new work directory, as a CI job does: deleting the
# last round's thousands of directories just before would slow down
# creating the new ones (ext4 skips recently freed inodes).
floor=() sched=()
for round in $(seq "$rounds"); do
	t0=$(now)
	seq "$nodes" | xargs -n1 -P2 true
	t1=$(now)
	"$out/tmci" -C "$out/project" run --parallel=2 --log-mode=quiet --work-dir="$out/work/$round" -- true 2>"$out/stderr"
	t2=$(now)
	floor+=($(((t1 - t0) / 1000000)))
	sched+=($(((t2 - t1) / 1000000)))
done
grep -q "$nodes stacks: $nodes succeeded" "$out/stderr" || { cat "$out/stderr"; exit 1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
f=$(median "${floor[@]}")
s=$(median "${sched[@]}")
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "floor (xargs -P2, $nodes x true):          ${floor[*]} ms, median $f ms"
echo "tmci run --parallel 2 -- true ($nodes stacks): ${sched[*]} ms, median $s ms"
awk -v s="$s" -v f="$f" 'BEGIN {printf "ratio tmci/floor: %.2f (target <= 1.30)\n", s / f}'
result "tmci run --parallel 2 -- true, $nodes stacks (median of $rounds)" "$s ms" "xargs -n1 -P2 true, $nodes processes" "$f ms" \
	"$(ratio "$s" "$f")" "<= 1.3" "$(holds 's <= 1.3 * f' s="$s" f="$f")"
