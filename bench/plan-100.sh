#!/usr/bin/env bash
# Real work: plan 100 generated terraform_data stacks with the scheduler at
# parallel 2 against a sequential shell loop of init + plan. Two scheduler
# runs per round: "same work" does init + plan -detailed-exitcode -out per
# stack, like the floor; "tmci plan" adds show -json for the counts, as
# tmci plan will (3 processes per stack against the floor's 2). Both use
# the local backend with a state file and a TF_DATA_DIR per stack. Rounds
# alternate so that all see the same machine load. Target: speed-up >= 1.7.
# TF selects the binary (default: terraform on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/bench/out/plan"
rm -rf "$out" && mkdir -p "$out/stacks"
go build -o "$out/driver" ./bench/driver
tf="${TF:-$(command -v terraform)}"
rounds="${ROUNDS:-3}"
stacks=100
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TMCI_TF_BIN="$tf"
# A CLI config file that does not exist only adds a warning to every run.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
	unset TF_CLI_CONFIG_FILE
fi

for i in $(seq -w 1 "$stacks"); do
	mkdir -p "$out/stacks/s$i"
	cat >"$out/stacks/s$i/main.tf" <<TF
terraform {
  backend "local" {}
}
resource "terraform_data" "a" {
  input = "s$i"
}
resource "terraform_data" "b" {
  input = terraform_data.a.output
}
resource "terraform_data" "c" {
  triggers_replace = [terraform_data.b.id]
}
TF
done

# measure VAR CMD...: runs CMD and appends "wall cpu" (ms) to array VAR,
# cpu being the user + system time of CMD and its children.
measure() {
	local -n into=$1
	shift
	local TIMEFORMAT='%R %U %S' t
	t=$({ time "$@" >/dev/null 2>>"$out/stderr"; } 2>&1)
	into+=("$(awk '{printf "%d %d", $1 * 1000, ($2 + $3) * 1000}' <<<"$t")")
}
floor_loop() {
	mkdir -p "$out/floor/plans"
	for d in "$out"/stacks/*/; do
		n=$(basename "$d")
		(
			cd "$d"
			export TF_DATA_DIR="$out/floor/data/$n"
			"$tf" init -input=false -reconfigure -backend-config="path=$out/floor/state/$n.tfstate"
			"$tf" plan -input=false -out="$out/floor/plans/$n.tfplan"
		)
	done
}
floor=() same=() sched=()
for _ in $(seq "$rounds"); do
	rm -rf "$out/floor" "$out/work"
	measure floor floor_loop
	measure same "$out/driver" -mode=plan -parallel=2 -show=false -stacks="$out/stacks" -work="$out/work"
	rm -rf "$out/work"
	measure sched "$out/driver" -mode=plan -parallel=2 -stacks="$out/stacks" -work="$out/work"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { local k=$1; shift; for x in "$@"; do set -- $x; echo "${!k}"; done; }
report() {
	local name=$1; shift
	local w c
	w=$(median $(col 1 "$@")); c=$(median $(col 2 "$@"))
	printf '%-46s wall %s ms, median %s; cpu median %s ms\n' "$name" "$(col 1 "$@" | tr '\n' ' ')" "$w" "$c"
	eval "${name%% *}_wall=$w ${name%% *}_cpu=$c"
}
echo "$("$tf" version | head -1), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
report "floor (sequential init+plan)" "${floor[@]}"
report "same (scheduler -parallel 2, init+plan)" "${same[@]}"
report "tmci (scheduler -parallel 2, init+plan+show)" "${sched[@]}"
awk -v f="$floor_wall" -v m="$same_wall" -v s="$tmci_wall" -v fc="$floor_cpu" -v mc="$same_cpu" -v sc="$tmci_cpu" 'BEGIN {
	printf "speed-up, same work: %.2f (target >= 1.70); cpu same/floor %.2f\n", f / m, mc / fc
	printf "speed-up, tmci plan: %.2f; cpu tmci/floor %.2f\n", f / s, sc / fc
}'
