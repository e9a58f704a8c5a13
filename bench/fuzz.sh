#!/usr/bin/env bash
# Runs every fuzz target of the module for a set time each, one target at
# a time (go test -fuzz takes one package and one target per run), and
# fails when any finds a crasher.
#
#   bench/fuzz.sh                      # every target, FUZZTIME (30s) each
#   FUZZTIME=5m bench/fuzz.sh 'Load|TMCIConfig|ReadCode'   # targets matching a regexp
#
# A crasher is written by go test to PKG/testdata/fuzz/FuzzX/ and stays
# there: commit it with the fix, and it runs as a regression seed in every
# plain `go test`. Go 1.26's fuzzer sometimes ends a run with a bare
# "context deadline exceeded" and no crasher (golang/go#75804, fixed in
# Go 1.27): that run is reported as a flake and tried once more, and only
# fails the script when it happens again.
#
# Environment: FUZZTIME (per target, a duration or Nx), FUZZPARALLEL
# (workers per target, default 1: the machines this runs on are shared).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-30s}
parallel=${FUZZPARALLEL:-1}
filter=${1:-.}

# targets prints "PACKAGE TARGET" for every fuzz target matching filter.
targets() {
	go test -run '^$' -list '^Fuzz' ./... | awk -v f="$filter" '
		/^Fuzz/ { names[++n] = $1; next }
		/^ok / { for (i = 1; i <= n; i++) if (names[i] ~ f) print $2, names[i]; n = 0 }'
}

# corpus lists the crasher files of one target.
corpus() {
	local dir=$1/testdata/fuzz/$2
	if [[ -d $dir ]]; then find "$dir" -type f | sort; fi
}

mapfile -t all < <(targets)
[[ ${#all[@]} -gt 0 ]] || { echo "fuzz: no target matches $filter" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=() flaked=()
module=$(go list -m)
for entry in "${all[@]}"; do
	read -r pkg target <<<"$entry"
	dir=.${pkg#"$module"}
	before=$(corpus "$dir" "$target")
	for attempt in 1 2; do
		start=$(date +%s)
		status=0
		go test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" -parallel "$parallel" "$pkg" >"$log" 2>&1 || status=$?
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
		new=$(comm -13 <(echo "$before") <(corpus "$dir" "$target"))
		if [[ $status -eq 0 ]]; then
			printf 'ok      %-14s %-26s %10s execs in %ss\n' "${dir#./}" "$target" "${execs:-0}" "$(($(date +%s) - start))"
			break
		fi
		if [[ -z $new ]] && grep -q '^    context deadline exceeded$' "$log" && ! grep -q 'Failing input written' "$log"; then
			printf 'flake   %-14s %-26s %10s execs: context deadline exceeded without a crasher (golang/go#75804)\n' "${dir#./}" "$target" "${execs:-0}"
			if [[ $attempt -eq 1 ]]; then continue; fi
			flaked+=("$dir $target")
			break
		fi
		printf 'FAIL    %-14s %s\n' "${dir#./}" "$target"
		sed 's/^/        /' "$log"
		[[ -n $new ]] && echo "        crasher kept as a regression seed: $new"
		failed+=("$dir $target")
		break
	done
done
echo "fuzz: ${#all[@]} targets, $fuzztime each: ${#failed[@]} failed, ${#flaked[@]} flaked twice"
if [[ ${#failed[@]} -gt 0 || ${#flaked[@]} -gt 0 ]]; then
	exit 1
fi
