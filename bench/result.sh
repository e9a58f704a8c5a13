# shellcheck shell=bash
# Sourced by the benchmark scripts: one machine-readable line per result,
# which bench/performance.sh collects into docs/performance.md.

# result BENCHMARK VALUE FLOOR_NAME FLOOR_VALUE RATIO TARGET MET prints
#   RESULT<TAB>benchmark<TAB>tmci value<TAB>floor name<TAB>floor value<TAB>ratio<TAB>target<TAB>met
# MET is yes, no or - (no target).
result() {
	printf 'RESULT\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@"
}

# holds EXPR VAR=VALUE...: prints yes when the awk expression EXPR holds
# for the given variables, else no.
holds() {
	local expr=$1 args=()
	shift
	for v in "$@"; do args+=(-v "$v"); done
	awk "${args[@]}" "BEGIN { print (($expr) ? \"yes\" : \"no\") }"
}

# ratio A B prints A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
