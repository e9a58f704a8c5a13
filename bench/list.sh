#!/usr/bin/env bash
# Times `tmci list` on a generated project against a floor measured in the
# same run: find + cat of every Terramate file (the bytes any loader must
# read). Prints wall seconds (best of RUNS), peak RSS and the ratio.
#
#   bench/list.sh [STACKS] [RUNS]
set -euo pipefail
stacks=${1:-10000}
runs=${2:-5}
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
. "$here/bench/result.sh"

go build -o "$work/tmci" "$here/cmd/tmci"
go run "$here/bench/synth" -stacks "$stacks" -after 2 -tmci "$work/project"
git -C "$work/project" init -q

# best RUNS CMD...: prints "seconds maxrss_kb" of the fastest run.
best() {
	local n=$1; shift
	local out="" t rss
	for _ in $(seq "$n"); do
		/usr/bin/time -o "$work/time" -f "%e %M" "$@" >/dev/null 2>&1
		read -r t rss < "$work/time"
		if [ -z "$out" ] || awk -v a="$t" -v b="${out%% *}" 'BEGIN{exit !(a<b)}'; then out="$t $rss"; fi
	done
	echo "$out"
}

cd "$work/project"
read -r floor_t floor_rss < <(best "$runs" sh -c "find . -name '*.tm' -type f | xargs cat")
read -r list_t list_rss < <(best "$runs" "$work/tmci" list)
count=$("$work/tmci" list | wc -l)
[ "$count" -eq "$stacks" ] || { echo "tmci list printed $count stacks, want $stacks" >&2; exit 1; }

printf '%-28s %8s %10s\n' "command ($stacks stacks)" "seconds" "peak RSS"
printf '%-28s %8s %8s MB\n' "floor: find | xargs cat" "$floor_t" "$((floor_rss / 1024))"
printf '%-28s %8s %8s MB\n' "tmci list" "$list_t" "$((list_rss / 1024))"
awk -v a="$list_t" -v b="$floor_t" 'BEGIN{ if (b > 0) printf "ratio tmci list / floor: %.1fx\n", a/b }'
result "tmci list, $stacks stacks (best of $runs)" "$list_t s, $((list_rss / 1024)) MB" "find + cat of every .tm file" "$floor_t s" \
	"$(ratio "$list_t" "$floor_t")" "< 0.7 s and < 150 MB" "$(holds 't < 0.7 && m < 150 * 1024' t="$list_t" m="$list_rss")"
