#!/usr/bin/env bash
# Scale: a generated project of 10,000 stacks (STACKS=N to change) with two
# after edges per stack, a tmci.hcl and Terraform code, committed on main,
# and a branch changing three stacks. Times each command with
# /usr/bin/time (wall time and peak RSS of the tmci process), next to a
# floor that only reads the project's files (find + cat of every *.tm
# file) and, for run, one that starts the same processes two at a time
# (xargs -P2), then runs TestScale on a project of the same size in process to
# check that no command leaves a goroutine or an open file behind.
# Usage: bench/scale.sh  (output in bench/out/scale/)
# LEAKS=0 skips TestScale (bench/performance.sh does, for time).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/result.sh
stacks="${STACKS:-10000}"
out="$PWD/bench/out/scale"
rm -rf "$out" && mkdir -p "$out"
dir="$out/project"
go build -o "$out/tmci" ./cmd/tmci
go run ./bench/synth -stacks "$stacks" -after 2 -tmci -terraform "$dir" >/dev/null
git() { command git -C "$dir" -c user.name=bench -c user.email=bench@example.com -c commit.gpgsign=false "$@"; }
git init -q -b main && git add -A && git commit -q -m generated
git checkout -q -b change
for f in $(find "$dir" -name main.tf | sort | sed -n '1p;500p;$p'); do echo "# changed" >>"$f"; done
git commit -q -am "change three stacks"

# measure NAME EXPECTED-EXIT CMD...: one row of the table. A row named
# "floor: ..." is the floor the wall times of the rows after it are
# divided by. TARGET and COND (an awk condition on w, the wall seconds,
# m, the peak KiB, and f, the floor's wall seconds) are the row's target,
# the same as the focused script's for that command; they hold at 10,000
# stacks.
rows=() results=() floor="" floor_name=""
measure() {
	local name="$1" want="$2"
	shift 2
	local code=0
	/usr/bin/time -f '%e %M' -o "$out/time" "$@" >"$out/stdout" 2>"$out/stderr" || code=$?
	if [ "$code" != "$want" ]; then
		echo "$name: exit $code, want $want" >&2
		cat "$out/stderr" >&2
		exit 1
	fi
	read -r wall rss <"$out/time"
	case "$name" in
	floor:*) floor="$wall" floor_name=${name#floor: } ;;
	*)
		local met=-
		if [ "$stacks" -ge 10000 ]; then met=$(holds "$COND" w="$wall" m="$rss" f="$floor"); fi
		results+=("$(result "$name, $stacks stacks (one run)" "$wall s, $((rss / 1024)) MiB" "$floor_name" "$floor s" "$(ratio "$wall" "$floor")" "$TARGET" "$met")")
		;;
	esac
	rows+=("$(awk -v n="$name" -v w="$wall" -v f="$floor" -v r="$rss" -v l="$(wc -l <"$out/stdout")" \
		'BEGIN {printf "%-44s %8.2f %8.1fx %10.1f %8d", n, w, (f > 0 ? w / f : 0), r / 1024, l}')")
}
tmci=("$out/tmci" -C "$dir")
measure "floor: find + cat *.tm" 0 find "$dir" -name '*.tm' -type f -exec cat {} +
TARGET="< 0.7 s and < 150 MB (list.sh)" COND="w < 0.7 && m < 150 * 1024" measure "tmci list" 0 "${tmci[@]}" list
TARGET="< 0.7 s and < 150 MB (changed.sh)" COND="w < 0.7 && m < 150 * 1024" measure "tmci list --changed" 0 "${tmci[@]}" list --changed
TARGET="< 0.7 s (list-run-order.sh)" COND="w < 0.7" measure "tmci list --run-order" 0 "${tmci[@]}" list --run-order
TARGET="< 2 s (check.sh)" COND="w < 2" measure "tmci check --env=prod" 0 "${tmci[@]}" check --env=prod
measure "floor: seq $stacks | xargs -P2 true" 0 sh -c "seq $stacks | xargs -n1 -P2 true"
TARGET="<= 1.3 x floor (scheduler-overhead.sh)" COND="w <= 1.3 * f" measure "tmci run --env=prod --yes --parallel 2 -- true" 0 "${tmci[@]}" run --env=prod --yes --parallel 2 --log-mode=quiet -- true
grep -q "$stacks stacks: $stacks succeeded" "$out/stderr" || { cat "$out/stderr" >&2; exit 1; }

echo "$stacks stacks; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %8s %9s %10s %8s\n' command "wall s" "/floor" "peak MiB" "lines"
printf '%s\n' "${rows[@]}"
printf '%s\n' "${results[@]}"
[ "${LEAKS:-1}" = 0 ] && exit 0

echo
echo "goroutine and open-file leaks (TestScale, $stacks stacks, in process):"
TMCI_SCALE_STACKS="$stacks" go test ./cmd/tmci -run '^TestScale$' -count=1 -v -timeout 30m |
	grep -E 'scale_test.go|^(--- |ok|FAIL)'
