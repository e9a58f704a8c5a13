#!/usr/bin/env bash
# Mutation testing of the packages that decide correctness, with gremlins
# (github.com/go-gremlins/gremlins, `go install
# github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0`). For each package
# gremlins first measures the coverage of its own tests, then applies one
# mutant at a time to every covered line (conditionals negated or moved
# across their boundary, arithmetic swapped, increments inverted, signs
# inverted) and runs that package's tests with a timeout of
# TIMEOUT_COEF times their normal duration. Mutants on uncovered lines are
# counted as not covered, not run.
#
# Prints per package: mutants run, killed, survived (lived), timed out,
# not covered, and the survivors' share of killed + survived; every
# survivor's file:line and mutation. The target is at most 5 % survivors.
# Survivors are triaged by hand in docs/quality.md: killed by a new test,
# equivalent (no behaviour can tell them apart), or open.
#
# Usage: bench/mutation.sh [PACKAGE...]   (default: the list below)
# WORKERS (default 1) mutants run at once; TIMEOUT_COEF (default 3);
# LIMIT (default none, e.g. 20m) stops each package's run and counts
# the mutants run until then.
# Packages whose tests need terraform, tofu or PostgreSQL (tf, backend,
# engine) need them on PATH and TMCI_TEST_PG set, or their mutants on
# those lines survive.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/result.sh
command -v gremlins >/dev/null || {
	echo "gremlins is not on PATH: go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0" >&2
	exit 1
}
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(dag scheduler changes backend tf ci engine report)
mkdir -p bench/out
status=0
for p in "${pkgs[@]}"; do
	out=bench/out/mutation-${p//\//-}.json
	log=bench/out/mutation-${p//\//-}.log
	start=$(date +%s)
	# LIMIT (a timeout(1) duration) stops a package's run; what ran until
	# then is still counted, from the log, and said to be partial.
	code=0
	timeout "${LIMIT:-0}" gremlins unleash "./$p" --workers "${WORKERS:-1}" --test-cpu 1 \
		--timeout-coefficient "${TIMEOUT_COEF:-3}" -o "$out" >"$log" 2>&1 || code=$?
	partial=""
	case $code in
	0) ;;
	124) partial=", stopped after LIMIT=$LIMIT: partial" ;;
	*)
		echo "$p: gremlins failed (exit $code), see $log" >&2
		status=1
		continue
		;;
	esac
	secs=$(($(date +%s) - start))
	# One log line per mutant: STATUS MUTATOR at FILE:LINE:COLUMN.
	count() { grep -c "^ *$1 [A-Z_]* at " "$log" || true; }
	killed=$(count KILLED) lived=$(count LIVED) timedout=$(count "TIMED OUT")
	notcov=$(count "NOT COVERED") notviable=$(count "NOT VIABLE")
	share=$(awk -v k="$killed" -v l="$lived" 'BEGIN { if (k + l > 0) printf "%.1f", 100 * l / (k + l); else print "0.0" }')
	printf '%s: %d killed, %d survived, %d timed out, %d not covered, %d not viable (%s%% survived, %ds%s)\n' \
		"$p" "$killed" "$lived" "$timedout" "$notcov" "$notviable" "$share" "$secs" "$partial"
	grep "^ *LIVED " "$log" | sed "s|^ *LIVED \([A-Z_]*\) at \(.*\)\$|  survived: $p/\2 \1|" || true
	result "mutation survivors, $p" "$share %" "-" "-" "-" "<= 5 %" "$(holds 's <= 5' s="$share")"
done
exit "$status"
