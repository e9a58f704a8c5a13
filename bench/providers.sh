#!/usr/bin/env bash
# Provider installation at scale: 100 stacks that use a real provider
# (testdata/provider, terraform-plugin-framework, padded to tens of MB),
# installed from a filesystem mirror with a shared TF_PLUGIN_CACHE_DIR and
# a committed lock file in every stack, as a CI job sees them.
#
#   cold: a new environment (no data directories) and an empty cache;
#   warm: the same environment and cache again (a second command in the
#         same job: tmci skips the inits whose inputs did not change).
#
# tmci plan --parallel 2 is measured against the floor any tool must pay:
# copying (unpacking) the provider once, plus terraform's own plan time
# summed over the stacks divided by the parallelism (measured in the same
# run by planning every stack once, one after the other, in initialised
# data directories). Target: tmci within 1.3x of that floor, cold, the
# provider installed into the cache exactly once and no init failing.
# terraform's own inits (one per new data directory, which no tool can
# skip on a cold run) are measured too and given as a second reference.
#
# With TERRAMATE set to a Terramate binary (0.17.2; never a CI
# dependency), `terramate run --parallel 2 -- init + plan` with the same
# TF_PLUGIN_CACHE_DIR is measured beside it, cold and warm, and a cold
# `--parallel 1` run; failed stacks and their cache errors are counted.
# TMCI_BASELINE, another tmci binary (an earlier release, say), adds its
# cold plan to each round. ROUNDS (default 1) cold+warm rounds alternate
# between the tools; PAD_MB
# (default 24) sizes the provider; TF picks the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/result.sh
out="$PWD/bench/out/providers"
rm -rf "$out" && mkdir -p "$out/project"
n=${STACKS:-100}
rounds=${ROUNDS:-1}
tf="${TF:-$(command -v terraform)}"
tm="${TERRAMATE:-}"
base="${TMCI_BASELINE:-}"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TMCI_TF_BIN="$tf"
unset TF_PLUGIN_CACHE_DIR TF_DATA_DIR

go build -o "$out/tmci" ./cmd/tmci
go run ./bench/mkprovider -mirror "$out/mirror" -pad-mb "${PAD_MB:-24}"
zip=$(find "$out/mirror" -name '*.zip')
cat >"$out/cli.tfrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$out/mirror"
    include = ["tmci.test/*/*"]
  }
}
EOF
export TF_CLI_CONFIG_FILE="$out/cli.tfrc"

# The project: n stacks, each with its own state, using the provider's
# resources and data source, and the lock file one init made.
p="$out/project"
cat >"$p/terramate.tm.hcl" <<'EOF'
terramate {
  config {}
}
EOF
echo .tmci/ >"$p/.gitignore"
cat >"$p/tmci.hcl" <<'EOF'
backend "local" {
  path = "${terramate.root.path.fs.absolute}/../state/${environment.name}/${terramate.stack.path.relative}.tfstate"
}
environment "cold-*" {}
environment "floor" {}
EOF
stack_tf() {
	cat <<EOF
terraform {
  backend "local" {}
  required_providers {
    fixture = {
      source  = "tmci.test/tmci/fixture"
      version = "1.0.0"
    }
  }
}
resource "fixture_counter" "a" {
  name  = "$1-a"
  value = 1
}
resource "fixture_counter" "b" {
  name  = "$1-b"
  value = 2
}
data "fixture_build" "b" {}
output "padding" {
  value = data.fixture_build.b.padding_bytes
}
EOF
}
mkdir -p "$out/lock"
stack_tf lock >"$out/lock/main.tf"
(cd "$out/lock" && "$tf" init -input=false -backend=false >/dev/null)
for i in $(seq -w 1 "$n"); do
	d="$p/stacks/s$i"
	mkdir -p "$d"
	echo 'stack {}' >"$d/stack.tm"
	stack_tf "s$i" >"$d/main.tf"
	cp "$out/lock/.terraform.lock.hcl" "$d/"
done
(cd "$p" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm project)
mapfile -t stacks < <(find "$p/stacks" -name main.tf -printf '%h\n' | sort)

# measure VAR CMD...: runs CMD and appends its wall time (ms) to array VAR;
# CMD's exit status is kept in $status.
measure() {
	local -n into=$1
	shift
	local s e
	s=$(date +%s%N)
	status=0
	"$@" >>"$out/stdout" 2>&1 || status=$?
	e=$(date +%s%N)
	into+=($(((e - s) / 1000000)))
}
# installs DIR: how many logs below DIR say terraform installed the
# provider (rather than linking it from the cache).
installs() { { grep -rl "Installing tmci.test/tmci/fixture" "$1" 2>/dev/null || true; } | wc -l; }
# failures DIR: how many logs below DIR hold an error.
failures() { { grep -rlE "Error" "$1" 2>/dev/null || true; } | wc -l; }

tmci_plan() { # ENV CACHE [BINARY]
	TF_PLUGIN_CACHE_DIR="$2" "${3:-$out/tmci}" -C "$p" plan --env="$1" --parallel=2 --log-mode=quiet
}
# tm_plan PARALLEL CACHE LOGS: init + plan in every stack under
# Terramate, each stack's data directory and state its own, its output in
# LOGS.
tm_plan() {
	mkdir -p "$3"
	TF_PLUGIN_CACHE_DIR="$2" LOGS="$3" STATE="$out/state/tm" TF="$tf" \
		"$tm" -C "$p" run --quiet --continue-on-error --parallel="$1" -- sh -c '
n=$(basename "$PWD")
exec >"$LOGS/$n.log" 2>&1
export TF_DATA_DIR="$STATE/data/$n"
"$TF" init -input=false -no-color -reconfigure -backend-config=path="$STATE/$n.tfstate" &&
"$TF" plan -input=false -no-color -out="$STATE/$n.tfplan"'
}

bcold=() binst=() tcold=() twarm=() tmcold=() tmwarm=() tminst=() tmfail=() tinst=() tfail=()
for round in $(seq "$rounds"); do
	cache="$out/cache/tmci-$round"
	mkdir -p "$cache"
	measure tcold tmci_plan "cold-$round" "$cache"
	tinst+=("$(installs "$p/.tmci/cold-$round/logs")")
	tfail+=("$({ grep -o '"status": *"failed"' "$p/.tmci/cold-$round/report.json" || true; } | wc -l)")
	measure twarm tmci_plan "cold-$round" "$cache"
	if [[ -n $base ]]; then
		cache="$out/cache/base-$round"
		mkdir -p "$cache"
		measure bcold tmci_plan "cold-base-$round" "$cache" "$base"
		binst+=("$(installs "$p/.tmci/cold-base-$round/logs")")
	fi
	if [[ -n $tm ]]; then
		rm -rf "$out/state/tm"
		cache="$out/cache/tm-$round"
		mkdir -p "$cache"
		measure tmcold tm_plan 2 "$cache" "$out/tm-logs/cold-$round"
		tminst+=("$(installs "$out/tm-logs/cold-$round")")
		tmfail+=("$(failures "$out/tm-logs/cold-$round")")
		measure tmwarm tm_plan 2 "$cache" "$out/tm-logs/warm-$round"
	fi
done

# Floors, in the same run: unpacking the provider once (best of 3), and
# terraform's own plan, one stack after the other, in data directories
# initialised beforehand (not timed).
copy=()
for _ in 1 2 3; do
	rm -rf "$out/copy"
	measure copy unzip -q -o "$zip" -d "$out/copy"
done
copy_ms=$(printf '%s\n' "${copy[@]}" | sort -n | head -1)
# Not part of the floor, but terraform's own too: init in every stack,
# one after the other, linking the provider from a warm cache (the first
# installs it), which any tool must run once per new data directory.
mkdir -p "$out/cache/floor"
floor_inits() {
	local d s
	for d in "${stacks[@]}"; do
		s=$(basename "$d")
		(cd "$d" && TF_PLUGIN_CACHE_DIR="$out/cache/floor" TF_DATA_DIR="$out/floor/data/$s" \
			"$tf" init -input=false -reconfigure -backend-config=path="$out/floor/state/$s.tfstate")
	done
}
floor_plans() {
	local d s
	for d in "${stacks[@]}"; do
		s=$(basename "$d")
		(cd "$d" && TF_DATA_DIR="$out/floor/data/$s" "$tf" plan -input=false -out="$out/floor/$s.tfplan")
	done
}
initsum=() plansum=()
measure initsum floor_inits
[[ $status -eq 0 ]] || { echo "the floor's inits failed" >&2; exit 1; }
measure plansum floor_plans
[[ $status -eq 0 ]] || { echo "the floor's plans failed" >&2; exit 1; }
floor=$((copy_ms + plansum[0] / 2))
withinit=$((copy_ms + (initsum[0] + plansum[0]) / 2))

if [[ -n $tm ]]; then
	rm -rf "$out/state/tm"
	mkdir -p "$out/cache/tm-serial"
	tmserial=()
	measure tmserial tm_plan 1 "$out/cache/tm-serial" "$out/tm-logs/serial"
	tmserial_inst=$(installs "$out/tm-logs/serial")
	tmserial_fail=$(failures "$out/tm-logs/serial")
fi

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
max() { printf '%s\n' "$@" | sort -n | tail -1; }
echo "$("$tf" version | sed -n 1p), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "provider: $(du -m "$out/terraform-provider-fixture" | cut -f1) MB binary, $(du -m "$zip" | cut -f1) MB archive; $n stacks"
echo "floor: unpack once $copy_ms ms + plans summed ${plansum[0]} ms / 2 = $floor ms"
echo "terraform's inits summed (warm cache, new data directories): ${initsum[0]} ms; with them: $withinit ms"
echo "tmci plan --parallel 2, cold: ${tcold[*]} ms; installs into the cache ${tinst[*]}; failed stacks ${tfail[*]}"
echo "tmci plan --parallel 2, warm: ${twarm[*]} ms"
tc=$(median "${tcold[@]}") tw=$(median "${twarm[@]}")
result "tmci plan --parallel 2, $n provider stacks, cold cache (median of $rounds)" "$tc ms" \
	"unpack once + plans summed / 2" "$floor ms" "$(ratio "$tc" "$floor")" "<= 1.3" "$(holds 'a <= 1.3 * b' a="$tc" b="$floor")"
result "tmci plan --parallel 2, $n provider stacks, cold cache, against terraform's inits too" "$tc ms" \
	"unpack once + (inits + plans) summed / 2" "$withinit ms" "$(ratio "$tc" "$withinit")" "-" "-"
result "tmci plan --parallel 2, $n provider stacks, warm (median of $rounds)" "$tw ms" \
	"unpack once + plans summed / 2" "$floor ms" "$(ratio "$tw" "$floor")" "-" "-"
result "tmci cold: provider installs into the cache, failed stacks (worst of $rounds)" \
	"$(max "${tinst[@]}") installs, $(max "${tfail[@]}") failed" "one install" "1" "-" "1 install, 0 failed" \
	"$([[ $(max "${tinst[@]}") -eq 1 && $(max "${tfail[@]}") -eq 0 ]] && echo yes || echo no)"
if [[ -n $base ]]; then
	echo "baseline $base plan --parallel 2, cold: ${bcold[*]} ms; installs ${binst[*]}"
	bc=$(median "${bcold[@]}")
	result "baseline tmci ($("$base" version 2>/dev/null | head -1)) plan --parallel 2, cold cache (median of $rounds)" "$bc ms, $(max "${binst[@]}") installs" \
		"unpack once + plans summed / 2" "$floor ms" "$(ratio "$bc" "$floor")" "-" "-"
fi
if [[ -n $tm ]]; then
	echo "terramate run --parallel 2, cold: ${tmcold[*]} ms; installs ${tminst[*]}; failed stacks ${tmfail[*]}"
	echo "terramate run --parallel 2, warm: ${tmwarm[*]} ms"
	echo "terramate run --parallel 1, cold: ${tmserial[0]} ms; installs $tmserial_inst; failed stacks $tmserial_fail"
	grep -rh -A3 "Error" "$out/tm-logs" 2>/dev/null | sort | uniq -c | sort -rn | head -8 || true
	mc=$(median "${tmcold[@]}") mw=$(median "${tmwarm[@]}")
	result "terramate run --parallel 2 (TF_PLUGIN_CACHE_DIR), cold (median of $rounds)" \
		"$mc ms, $(max "${tminst[@]}") installs, $(max "${tmfail[@]}") failed" \
		"unpack once + plans summed / 2" "$floor ms" "$(ratio "$mc" "$floor")" "-" "-"
	result "terramate run --parallel 2 (TF_PLUGIN_CACHE_DIR), cold, against terraform's inits too" "$mc ms" \
		"unpack once + (inits + plans) summed / 2" "$withinit ms" "$(ratio "$mc" "$withinit")" "-" "-"
	result "terramate run --parallel 2 (TF_PLUGIN_CACHE_DIR), warm (median of $rounds)" "$mw ms" \
		"unpack once + plans summed / 2" "$floor ms" "$(ratio "$mw" "$floor")" "-" "-"
	result "terramate run --parallel 1 (TF_PLUGIN_CACHE_DIR), cold" \
		"${tmserial[0]} ms, $tmserial_inst installs, $tmserial_fail failed" \
		"unpack once + plans summed / 2" "$floor ms" "$(ratio "${tmserial[0]}" "$floor")" "-" "-"
else
	echo "TERRAMATE is not set: no Terramate comparison"
fi
