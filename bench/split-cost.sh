#!/usr/bin/env bash
# What splitting debug symbols costs (issue 22), on the demo's full matrix
# (testdata/demo/packaging.yaml) with every input binary grown to SIZE_MB
# MiB. The demo gateways carry DWARF; the growth is real machine code (the
# Go toolchain's own binaries, as bench/build-realistic.sh pads) added as
# one more section, either
#   PAD_AS=debug (default): a debug section, .debug_relpack_pad, the shape
#     of a release build with debug info: splitting moves it out of every
#     packaged binary into the debug artifacts;
#   PAD_AS=code: a non-loaded, non-debug section, .relpack.bench: the
#     packaged binaries stay large and only the demo's own DWARF moves.
# The same inputs are built twice, with debug_symbols.split on and off, RUNS
# times each (best wall time kept), and the report gives, as Markdown for
# docs/benchmarks.md: wall and CPU time, peak RSS, artifacts and bytes
# written, and the "split debug symbols" stage's own wall time
# (relpack build --timings).
#
# Usage: bench/split-cost.sh [SIZE_MB]     (default 60)
#   RUNS=N     timed runs of each side (default 2)
#   REV=REV    commit to build relpack from (default HEAD), from a clean
#              export; its fixtures and demo config are used
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-60}
runs=${RUNS:-2}
rev=${REV:-HEAD}
pad_as=${PAD_AS:-debug}
case "$pad_as" in
debug) section=.debug_relpack_pad flags=readonly ;;
code) section=.relpack.bench flags=noload,readonly ;;
*) echo "PAD_AS=$pad_as: want debug or code" >&2; exit 2 ;;
esac

need=(go git jq objcopy aarch64-linux-gnu-objcopy readelf /usr/bin/time)
for t in "${need[@]}"; do
	command -v "$t" >/dev/null || { echo "missing $t; on Debian: apt-get install time jq binutils binutils-aarch64-linux-gnu" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mib=$((1024 * 1024))
commit=$(git rev-parse --short=12 "$rev")
mkdir -p "$work/src"
git archive "$commit" | tar -x -C "$work/src"
(cd "$work/src" && go build -trimpath -o "$work/relpack" ./cmd/relpack)

goroot=$(go env GOROOT)
{ cat $(ls -d "$goroot/pkg/tool/$(go env GOHOSTOS)_$(go env GOHOSTARCH)"/* "$goroot"/bin/* | sort) || true; } | head -c $((size * mib)) >"$work/pad"
mkdir -p "$work/fx"
cp -r "$work/src/testdata/fixtures/." "$work/fx/"
for f in "$work"/fx/demo/*/openshell-gateway; do
	oc=objcopy
	readelf -h "$f" | grep -q AArch64 && oc=aarch64-linux-gnu-objcopy
	head -c $((size * mib - $(stat -c %s "$f"))) "$work/pad" >"$work/pad.one"
	$oc --add-section "$section=$work/pad.one" --set-section-flags "$section=$flags" "$f" "$f.big"
	mv "$f.big" "$f"
done
rm -f "$work/pad" "$work/pad.one"
sed "s#\.\./fixtures/#$work/fx/#g" "$work/src/testdata/demo/packaging.yaml" >"$work/split-on.yaml"
grep -q '^debug_symbols:' "$work/split-on.yaml" || { echo "the demo config at $commit has no debug_symbols section" >&2; exit 1; }
# split off: the same configuration without the debug_symbols section
awk '/^debug_symbols:/ {skip = 1; next} skip && /^[^ #]/ {skip = 0} !skip' "$work/split-on.yaml" >"$work/split-off.yaml"

field() { sed -n "s/^[[:space:]]*$1: //p" "$2"; }
echo "| split | run | wall s | CPU s (user+sys) | peak RSS MB | artifacts | MB written | split stage s | load at start |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for side in on off; do
	for i in $(seq "$runs"); do
		rm -rf "$work/dist"
		load=$(cut -d' ' -f1 /proc/loadavg)
		t0=$(date +%s%N)
		/usr/bin/time -v -o "$work/time" "$work/relpack" build -q --timings -c "$work/split-$side.yaml" --version 0.1.0 --out "$work/dist" >/dev/null 2>"$work/stages"
		t1=$(date +%s%N)
		wall=$(awk -v n=$((t1 - t0)) 'BEGIN {printf "%.1f", n/1e9}')
		cpu=$(awk -v u="$(field 'User time (seconds)' "$work/time")" -v s="$(field 'System time (seconds)' "$work/time")" 'BEGIN {printf "%.1f", u+s}')
		rss=$(awk -v k="$(field 'Maximum resident set size (kbytes)' "$work/time")" 'BEGIN {printf "%.0f", k*1024/1e6}')
		mb=$(du -sb "$work/dist" | awk '{printf "%.0f", $1/1e6}')
		stage=$(awk '/^stage split debug symbols/ {sub(/s$/, "", $NF); print $NF}' "$work/stages")
		echo "| $side | $i | $wall | $cpu | $rss | $(jq '.artifacts | length' "$work/dist/manifest.json") | $mb | ${stage:--} | $load |"
	done
done
echo
echo "Command: \`RUNS=$runs PAD_AS=$pad_as bench/split-cost.sh $size\` at commit $commit; every input grown to $size MiB with the Go toolchain's machine code as section $section; $(nproc) cores."
