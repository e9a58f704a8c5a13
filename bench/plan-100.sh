#!/usr/bin/env bash
# Real work: `tmci plan --parallel 2` over 100 generated terraform_data
# stacks (local backend, a TF_DATA_DIR and a state per stack) against a
# sequential shell loop of init + plan over the same stacks. Two cases:
#   fresh: nothing applied, every plan has changes, which tmci counts from
#          the plan output (show -json only when that output is not
#          understood, which it is here);
#   clean: everything applied, no plan has changes; the data directories
#          are initialised and unchanged, so init is not work a tool must
#          do again: the floor is a sequential plan loop, and tmci skips
#          init by its init stamp (tf/initstamp.go).
# Rounds alternate so that all see the same machine load. Target: speed-up
# >= 1.7. TF selects the binary (default: terraform on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/result.sh
out="$PWD/bench/out/plan"
rm -rf "$out" && mkdir -p "$out/project"
go build -o "$out/tmci" ./cmd/tmci
go run ./bench/synth -stacks 100 -tmci -terraform "$out/project" >/dev/null
tf="${TF:-$(command -v terraform)}"
rounds="${ROUNDS:-3}"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TMCI_TF_BIN="$tf"
# A CLI config file that does not exist only adds a warning to every run.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
	unset TF_CLI_CONFIG_FILE
fi
mapfile -t stacks < <(find "$out/project" -name main.tf -printf '%h\n' | sort)

# measure VAR CMD...: runs CMD and appends "wall cpu" (ms) to array VAR,
# cpu being the user + system time of CMD and its children.
measure() {
	local -n into=$1
	shift
	local TIMEFORMAT='%R %U %S' t
	t=$({ time "$@" >/dev/null 2>>"$out/stderr"; } 2>&1)
	into+=("$(awk '{printf "%d %d", $1 * 1000, ($2 + $3) * 1000}' <<<"$t")")
}
# floor_loop ENV [apply|noinit]: init + plan of every stack, one after the
# other, with the state in the floor's own directory; noinit plans in the
# data directories an earlier loop initialised.
floor_loop() {
	local env=$1 apply=${2:-}
	mkdir -p "$out/floor/$env/plans"
	for d in "${stacks[@]}"; do
		n=$(basename "$d")
		(
			cd "$d"
			export TF_DATA_DIR="$out/floor/$env/data/$n"
			if [ "$apply" != noinit ]; then
				"$tf" init -input=false -reconfigure -backend-config="path=$out/floor/$env/state/$n.tfstate"
			fi
			"$tf" plan -input=false -out="$out/floor/$env/plans/$n.tfplan"
			if [ "$apply" = apply ]; then "$tf" apply -input=false "$out/floor/$env/plans/$n.tfplan"; fi
		)
	done
}
tmci_plan() { "$out/tmci" -C "$out/project" plan --env="$1" --parallel=2 --log-mode=quiet; }

# The clean case plans in environment staging, applied once up front.
floor_loop staging apply >/dev/null 2>&1
"$out/tmci" -C "$out/project" apply --env=staging --parallel=2 --log-mode=quiet >/dev/null 2>&1

# Each fresh round plans a new environment (pr-1, pr-2, ...) rather than
# deleting the last one's files, as a CI job starts from nothing.
floor=() fresh=() fclean=() clean=()
for round in $(seq "$rounds"); do
	measure floor floor_loop "pr-$round"
	measure fresh tmci_plan "pr-$round"
	measure fclean floor_loop staging noinit
	measure clean tmci_plan staging
done
grep -q "100 stacks: 100 succeeded; 0 with changes" <("$out/tmci" -C "$out/project" plan --env=staging --log-mode=quiet 2>&1) ||
	{ echo "staging is not clean"; exit 1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { local k=$1; shift; for x in "$@"; do set -- $x; echo "${!k}"; done; }
report() {
	local name=$1 label=$2; shift 2
	local w c
	w=$(median $(col 1 "$@")); c=$(median $(col 2 "$@"))
	printf '%-52s wall %s ms, median %s; cpu median %s ms\n' "$label" "$(col 1 "$@" | tr '\n' ' ')" "$w" "$c"
	eval "${name}_wall=$w ${name}_cpu=$c"
}
echo "$("$tf" version | sed -n 1p), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
report floor "fresh floor (sequential init+plan)" "${floor[@]}"
report fresh "fresh tmci plan --parallel 2 (init+plan)" "${fresh[@]}"
report fclean "clean floor (sequential plan)" "${fclean[@]}"
report clean "clean tmci plan --parallel 2 (init skipped)" "${clean[@]}"
awk -v f="$floor_wall" -v s="$fresh_wall" -v fc="$fclean_wall" -v c="$clean_wall" 'BEGIN {
	printf "speed-up, fresh (every plan has changes): %.2f (target >= 1.70)\n", f / s
	printf "speed-up, clean (no plan has changes):    %.2f (target >= 1.70)\n", fc / c
}'
# The ratio here is the speed-up, floor / tmci.
result "tmci plan --parallel 2, 100 stacks, fresh (median of $rounds)" "$fresh_wall ms" "sequential init + plan loop" "$floor_wall ms" \
	"$(ratio "$floor_wall" "$fresh_wall") (speed-up)" "speed-up >= 1.7" "$(holds 'f >= 1.7 * s' f="$floor_wall" s="$fresh_wall")"
result "tmci plan --parallel 2, 100 stacks, clean (median of $rounds)" "$clean_wall ms" "sequential plan loop" "$fclean_wall ms" \
	"$(ratio "$fclean_wall" "$clean_wall") (speed-up)" "speed-up >= 1.7" "$(holds 'f >= 1.7 * s' f="$fclean_wall" s="$clean_wall")"
