#!/usr/bin/env bash
# Times `relpack verify` against the text pipeline people use today,
#   objdump -T FILE | grep -o 'GLIBC_[0-9.]*' | sort -Vu
# on the same large files: Debian's 23 MB libz3.so.4 and the largest
# dynamically linked ELF file under /usr (static files have no version
# table, so objdump -T refuses them and there is nothing to compare). Prints a Markdown table for docs/benchmarks.md.
# Usage: bench/verify-vs-objdump.sh [RUNS]   (default 15; median wall time)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
go build -trimpath -o bin/relpack ./cmd/relpack

files=()
[ -f /usr/lib/x86_64-linux-gnu/libz3.so.4 ] && files+=("$(readlink -f /usr/lib/x86_64-linux-gnu/libz3.so.4)")
largest=$(find /usr/bin /usr/sbin /usr/lib /usr/libexec -xdev -type f -size +1M -print0 2>/dev/null |
	xargs -0 ls -S 2>/dev/null | while read -r f; do
		[ "$(head -c4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
		objdump -T "$f" >/dev/null 2>&1 && { echo "$f"; break; }
	done)
files+=("$largest")

# median of N wall-clock runs of a shell command, in milliseconds
median_ms() {
	local cmd=$1 t=()
	for _ in $(seq "$runs"); do
		local s e
		s=$(date +%s%N)
		bash -c "$cmd" >/dev/null 2>&1 || true
		e=$(date +%s%N)
		t+=($(((e - s) / 1000)))
	done
	printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.1f", m/1000}'
}

echo "| file | size | relpack verify (ms) | objdump -T \\| grep \\| sort (ms) | ratio |"
echo "|---|---|---|---|---|"
for f in "${files[@]}"; do
	size=$(du -h "$f" | cut -f1)
	r=$(median_ms "bin/relpack verify --floor 2.28 '$f'")
	o=$(median_ms "objdump -T '$f' | grep -o 'GLIBC_[0-9.]*' | sort -Vu")
	ratio=$(awk -v r="$r" -v o="$o" 'BEGIN {printf "%.2fx", r/o}')
	echo "| $f | $size | $r | $o | $ratio |"
done

# The common CI shape: one call over many files (a binary and everything
# bundled with it), against the pipeline run once per file.
mapfile -t many < <(find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -name '*.so*' -size +100k | sort | head -200)
list=$(printf "'%s' " "${many[@]}")
r=$(median_ms "bin/relpack verify --floor 2.28 $list")
o=$(median_ms "for f in $list; do objdump -T \"\$f\" | grep -o 'GLIBC_[0-9.]*' | sort -Vu; done")
ratio=$(awk -v r="$r" -v o="$o" 'BEGIN {printf "%.2fx", r/o}')
echo "| ${#many[@]} libraries under /usr/lib/x86_64-linux-gnu, one call | $(du -ch "${many[@]}" | tail -1 | cut -f1) | $r | $o | $ratio |"
