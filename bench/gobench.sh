#!/usr/bin/env bash
# Runs the in-process benchmarks (go test -bench) of every package that has
# them, except cmd/tmci's BenchmarkCheck (bench/check.sh runs it), and
# prints each with the floor benchmark measured in the same run:
#
#   bench/gobench.sh            # BENCHTIME (default 3x) per benchmark
#
# The pairs below name, per package, a benchmark, its floor (work any
# tool must do for the same result, never tmci itself) and its target
# (an awk condition on v, the benchmark's ns/op, and f, the floor's).
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${BENCHTIME:-3x}
pairs='
project  BenchmarkLoad10k                        BenchmarkFloorRead10k     < 0.7 s|v < 0.7e9
project  BenchmarkGlobals10k                     BenchmarkFloorRead10k     < 0.7 s|v < 0.7e9
dag      BenchmarkOrder/index+build+order        BenchmarkOrder/floor      < 100 ms|v < 1e8
dag      BenchmarkOrder/build+order              BenchmarkOrder/floor      < 100 ms|v < 1e8
changes  BenchmarkDetect/git-cli                 BenchmarkFloorStatus      <= 1.5 x floor|v <= 1.5 * f
changes  BenchmarkDetect/git-cli-no-uncommitted  BenchmarkFloor            <= 3 x floor|v <= 3 * f
changes  BenchmarkDetect/go-git-no-uncommitted   BenchmarkFloor            <= 3 x floor|v <= 3 * f
changes  BenchmarkDetect/go-git                  BenchmarkFloorStatus      < 0.5 s (the fallback without git)|v < 0.5e9
changes  BenchmarkMap                            BenchmarkFloorRead/tf     <= 2 x floor|v <= 2 * f
changes  BenchmarkLoad                           BenchmarkFloorRead/tm     <= 3 x floor|v <= 3 * f
report   BenchmarkRenderSummary                  BenchmarkFloorVisit       < 50 ms|v < 5e7
report   BenchmarkRenderComment                  BenchmarkFloorVisit       < 50 ms|v < 5e7
report   BenchmarkRenderJUnit                    BenchmarkFloorVisit       < 50 ms|v < 5e7
matrix   BenchmarkMatrix10k                      BenchmarkFloorMatrix10k   < 100 ms|v < 1e8
matrix   BenchmarkGitLabPipeline10k              BenchmarkFloorMatrix10k   < 100 ms|v < 1e8
scheduler BenchmarkRun/scheduler                 BenchmarkRun/floor        < 10 ms|v < 1e7
tf       BenchmarkExecTrue/scheduler             BenchmarkExecTrue/floor   <= 1.3 x floor|v <= 1.3 * f
'
out=$(mktemp)
trap 'rm -f "$out" "$out.pkg"' EXIT
for pkg in $(awk 'NF { print $1 }' <<<"$pairs" | uniq); do
	echo "== go test -bench . -benchtime $benchtime ./$pkg (load $(cut -d' ' -f1 /proc/loadavg))"
	# Not tee /dev/stderr: reopened, a regular file's offset starts at 0
	# again, and the output overwrites itself.
	go test -run '^$' -bench . -benchtime "$benchtime" "./$pkg" >"$out.pkg"
	cat "$out.pkg"
	awk -v pkg="$pkg" '/^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name); print pkg, name, $3, $5 }' "$out.pkg" >>"$out"
done
# human NS prints a duration in ns/op readably.
awk -v pairs="$pairs" '
	function human(ns) {
		if (ns >= 1e9) return sprintf("%.2f s", ns / 1e9)
		if (ns >= 1e6) return sprintf("%.1f ms", ns / 1e6)
		if (ns >= 1e3) return sprintf("%.1f µs", ns / 1e3)
		return sprintf("%d ns", ns)
	}
	{ ns[$1 " " $2] = $3; bytes[$1 " " $2] = $4 }
	END {
		n = split(pairs, lines, "\n")
		for (i = 1; i <= n; i++) {
			if (lines[i] !~ /[^ ]/) continue
			split(lines[i], t, "|"); cond = t[2]
			split(t[1], w, " +"); pkg = w[1]; b = w[2]; f = w[3]
			target = t[1]; sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +/, "", target); sub(/ +$/, "", target)
			v = ns[pkg " " b]; fv = ns[pkg " " f]
			if (v == "" || fv == "") { printf "gobench: no result for %s %s or %s\n", pkg, b, f > "/dev/stderr"; continue }
			met = "-"
			if (cond != "") {
				gsub(/v/, v, cond); gsub(/f/, fv, cond)
				met = "no"; if (holds(cond)) met = "yes"
			}
			printf "RESULT\t%s %s\t%s, %.1f MB alloc/op\t%s\t%s\t%.2f\t%s\t%s\n", pkg, b, human(v), bytes[pkg " " b] / 1048576, f, human(fv), v / fv, target, met
		}
	}
	# holds evaluates "A OP B" or "A OP K * B" with numbers and OP < or
	# <=, the only forms used.
	function holds(c,   p, n, rhs) {
		n = split(c, p, " ")
		rhs = (n == 5) ? p[3] * p[5] : p[3] + 0
		return (p[2] == "<=") ? p[1] + 0 <= rhs : p[1] + 0 < rhs
	}
' "$out"
