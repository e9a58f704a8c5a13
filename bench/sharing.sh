#!/usr/bin/env bash
# Cost of outputs sharing: `tmci plan --parallel 2` over 100 terraform_data
# stacks (local backend), /src and 99 consumers (CONSUMERS), once with every
# consumer reading /src's output through an input block (its
# value evaluated per consumer, /src's outputs read once per run) and once
# with the same variable given as a constant by tmci.hcl's inputs. /src is
# applied up front, so the sharing run reads real outputs, no mocks.
# Floor: one `terraform output -json` in /src's initialised data directory,
# the read any tool must do. Target: sharing costs at most two such reads,
# counted as what does not depend on the machine's other jobs: the terraform
# processes the sharing run starts beyond the run without (checked to be
# exactly one) plus tmci's in-process work for the 99 consumers (sharing's
# BenchmarkConsumers99). The end-to-end CPU (tmci and its children) and
# wall-time differences are printed too, without a target: under a load
# average above the core count they swing by more than the cost; the wall
# time also includes waiting for /src's plan, which the ordering edge makes
# every consumer do.
# Rounds alternate so that both see the same load. TF selects the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/result.sh
out="$PWD/bench/out/sharing"
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/tmci" ./cmd/tmci
tf="${TF:-$(command -v terraform)}"
rounds="${ROUNDS:-5}"
consumers="${CONSUMERS:-99}"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TMCI_TF_BIN="$tf"
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
	unset TF_CLI_CONFIG_FILE
fi

# gen DIR SHARED: the project; SHARED=1 gives consumers input blocks.
gen() {
	local d=$1 shared=$2
	mkdir -p "$d/src" && git -C "$d" init -q
	cat >"$d/terramate.tm.hcl" <<'HCL'
terramate {
  config {
    experiments = ["outputs-sharing"]
  }
}
sharing_backend "default" {
  type     = terraform
  filename = "sharing_generated.tf"
  command  = ["terraform", "output", "-json"]
}
HCL
	cat >"$d/tmci.hcl" <<'HCL'
backend "local" {
  path = "${terramate.stack.path.to_root}/.tmci-state/${environment.name}/${terramate.stack.path.relative}/terraform.tfstate"
}
environment "bench" {}
HCL
	[ "$shared" = 1 ] || printf 'inputs {\n  vpc_id = "vpc-bench"\n}\n' >>"$d/tmci.hcl"
	printf 'stack {\n  name = "src"\n  id   = "src"\n}\n' >"$d/src/stack.tm.hcl"
	printf 'terraform {\n  backend "local" {}\n}\nresource "terraform_data" "vpc" {\n  input = "vpc-bench"\n}\noutput "vpc_id" {\n  value = terraform_data.vpc.output\n}\n' >"$d/src/main.tf"
	for i in $(seq -w 1 "$consumers"); do
		mkdir -p "$d/c$i"
		printf 'stack {\n  name = "c%s"\n  id   = "c%s"\n}\n' "$i" "$i" >"$d/c$i/stack.tm.hcl"
		if [ "$shared" = 1 ]; then
			printf 'input "vpc_id" {\n  backend       = "default"\n  from_stack_id = "src"\n  value         = outputs.vpc_id.value\n}\n' >>"$d/c$i/stack.tm.hcl"
		fi
		printf 'variable "vpc_id" {\n  type = any\n}\n' >"$d/c$i/sharing_generated.tf"
		printf 'terraform {\n  backend "local" {}\n}\nresource "terraform_data" "app" {\n  input = "${var.vpc_id}-%s"\n}\n' "$i" >"$d/c$i/main.tf"
	done
	"$out/tmci" -C "$d" apply --env=bench --stack=/src --log-mode=quiet >/dev/null 2>>"$out/stderr"
}
gen "$out/with" 1
gen "$out/without" 0

# measure VAR CMD...: runs CMD and appends "wall cpu" (ms) to array VAR,
# cpu being the user + system time of CMD and its children: under a load
# average above the core count (other jobs on the machine) wall times
# swing by seconds, CPU time much less.
measure() {
	local -n into=$1
	shift
	local TIMEFORMAT='%R %U %S' t
	t=$({ time "$@" >/dev/null 2>>"$out/stderr"; } 2>&1)
	into+=("$(awk '{printf "%d %d", $1 * 1000, ($2 + $3) * 1000}' <<<"$t")")
}
plan() { "$out/tmci" -C "$1" plan --env=bench --parallel=2 --log-mode=quiet; }
read_outputs() {
	(cd "$out/with/src" && TF_DATA_DIR="$out/with/.tmci/bench/src/.terraform" "$tf" output -json)
}
with=() without=() floor=()
# A first, unmeasured plan of each initialises every data directory, so
# that the rounds compare the same work; then the order alternates.
plan "$out/without" >/dev/null 2>>"$out/stderr"
plan "$out/with" >/dev/null 2>>"$out/stderr"
for round in $(seq "$rounds"); do
	if ((round % 2)); then
		measure without plan "$out/without"
		measure with plan "$out/with"
	else
		measure with plan "$out/with"
		measure without plan "$out/without"
	fi
	measure floor read_outputs
done
n=$((consumers + 1))
# The count that does not depend on the load: the sharing run starts
# exactly one terraform process more than the run without, the one read
# of /src's outputs (/src is initialised by the run itself).
procs() { "$out/tmci" --log-level=debug -C "$1" plan --env=bench --parallel=2 --log-mode=quiet 2>&1 | grep -c 'DEBU tmci: run dir=' || true; }
pw=$(procs "$out/with") po=$(procs "$out/without")
echo "terraform processes: with sharing $pw, without $po"
[ "$pw" -eq $((po + 1)) ] || { echo "the sharing run starts $((pw - po)) terraform processes more, not 1"; exit 1; }
grep -q "$n stacks: $n succeeded" <("$out/tmci" -C "$out/with" plan --env=bench --log-mode=quiet 2>&1) || { echo "the sharing run failed"; exit 1; }
grep -q '"mocked_inputs"' "$out/with/.tmci/bench/report.json" && { echo "the sharing run used mocks"; exit 1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { local k=$1; shift; for x in "$@"; do set -- $x; echo "${!k}"; done; }
ww=$(median $(col 1 "${with[@]}")) wc=$(median $(col 2 "${with[@]}"))
ow=$(median $(col 1 "${without[@]}")) oc=$(median $(col 2 "${without[@]}"))
fw=$(median $(col 1 "${floor[@]}")) fc=$(median $(col 2 "${floor[@]}"))
echo "$("$tf" version | sed -n 1p), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "plan of $n stacks with sharing:    wall $(col 1 "${with[@]}" | tr '\n' ' ')ms, median $ww; cpu $(col 2 "${with[@]}" | tr '\n' ' ')ms, median $wc"
echo "plan of $n stacks without sharing: wall $(col 1 "${without[@]}" | tr '\n' ' ')ms, median $ow; cpu $(col 2 "${without[@]}" | tr '\n' ' ')ms, median $oc"
echo "floor (one output -json of /src):  wall median $fw ms; cpu $(col 2 "${floor[@]}" | tr '\n' ' ')ms, median $fc"
echo "cost of sharing: wall $((ww - ow)) ms ($(ratio $((ww - ow)) "$ow") of the run without); cpu $((wc - oc)) ms ($(ratio $((wc - oc)) "$oc") of the run without, $(ratio $((wc - oc)) "$fc") floors)"
# tmci's own work for the 99 consumers, in process (sharing's
# BenchmarkConsumers99): with the one extra process, what sharing costs
# independently of the other jobs on the machine.
inproc=$(go test ./sharing -run '^$' -bench Consumers99 -benchtime 20x | awk '/^BenchmarkConsumers99/ {printf "%d", $3 / 1e6}')
derived=$((fc + inproc))
echo "tmci's in-process work for the consumers: $inproc ms; one extra process + that: $derived ms ($(ratio "$derived" "$fc") floors)"
result "outputs sharing cost, 1 source + $consumers consumers: 1 process + in-process (ms)" "$derived" "one output -json, cpu (ms)" "$fc" "$(ratio "$derived" "$fc")" "<= 2" "$(holds 'c <= 2 * f' c="$derived" f="$fc")"
result "outputs sharing cpu cost end to end, 1 source + $consumers consumers (ms)" "$((wc - oc))" "one output -json, cpu (ms)" "$fc" "$(ratio $((wc - oc)) "$fc")" "-" "-"
result "outputs sharing wall cost, 1 source + $consumers consumers (ms)" "$((ww - ow))" "plan without sharing (ms)" "$ow" "$(ratio $((ww - ow)) "$ow")" "-" "-"
