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

now() { date +%s%N; }
floor=() same=() sched=()
for _ in $(seq "$rounds"); do
	rm -rf "$out/floor" "$out/work"
	mkdir -p "$out/floor/plans"
	t0=$(now)
	for d in "$out"/stacks/*/; do
		n=$(basename "$d")
		(
			cd "$d"
			export TF_DATA_DIR="$out/floor/data/$n"
			"$tf" init -input=false -reconfigure -backend-config="path=$out/floor/state/$n.tfstate" >/dev/null
			"$tf" plan -input=false -out="$out/floor/plans/$n.tfplan" >/dev/null
		)
	done
	t1=$(now)
	"$out/driver" -mode=plan -parallel=2 -show=false -stacks="$out/stacks" -work="$out/work" >/dev/null
	t2=$(now)
	rm -rf "$out/work"
	"$out/driver" -mode=plan -parallel=2 -stacks="$out/stacks" -work="$out/work" >/dev/null
	t3=$(now)
	floor+=($(((t1 - t0) / 1000000)))
	same+=($(((t2 - t1) / 1000000)))
	sched+=($(((t3 - t2) / 1000000)))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
f=$(median "${floor[@]}")
m=$(median "${same[@]}")
s=$(median "${sched[@]}")
echo "$("$tf" version | head -1), $(nproc) CPUs"
echo "floor      (sequential init+plan):             ${floor[*]} ms, median $f ms"
echo "same work  (scheduler -parallel 2, init+plan): ${same[*]} ms, median $m ms"
echo "tmci plan  (scheduler -parallel 2, +show):     ${sched[*]} ms, median $s ms"
awk -v m="$m" -v s="$s" -v f="$f" 'BEGIN {
	printf "speed-up, same work: %.2f (target >= 1.70)\n", f / m
	printf "speed-up, tmci plan: %.2f\n", f / s
}'
