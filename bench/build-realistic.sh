#!/usr/bin/env bash
# The realistic-input benchmark of issue 12: the demo's full matrix
# (testdata/demo/packaging.yaml: 6 tarballs, 8 debs, 4 rpms) with every input
# binary grown to SIZE_MB MiB by real machine code in an added non-loaded
# section (objcopy --add-section: the ELF stays valid and inspects the same).
# One run reports, as Markdown for docs/benchmarks.md:
#   - relpack build: wall time (best of RUNS), CPU time, peak RSS
#     (/usr/bin/time -v) and its ratio to the largest input;
#   - the baseline: nfpm's CLI (the version pinned in go.mod, installed into
#     bench/.bin) once per package with the same files, relations and
#     payload compression, plus `tar czf` per tarball; wall time (best of RUNS);
#   - the bound (bench/bound): every distinct payload compressed exactly once
#     per codec at relpack's settings, CPU time summed and spread over all
#     cores; relpack's distance to it, and where the rest of its time goes.
# relpack is built from a clean export of REV (default HEAD), never from the
# shared working tree, so the numbers belong to one commit.
#
# Usage: bench/build-realistic.sh [SIZE_MB]          (default 60)
#   RUNS=N      timed runs of each side, best wall time kept (default 2)
#   BASE_RUNS=N timed runs of the baseline, if not RUNS (it does not change
#               with relpack's commit)
#   PAD=FILE    padding source (default: the Go toolchain's own binaries,
#               $(go env GOROOT)/pkg/tool/*/ and bin/, present wherever relpack
#               builds; e.g. PAD=/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1);
#               a device is read as a stream: PAD=/dev/urandom pads with
#               incompressible random bytes (the earlier benchmark's inputs,
#               on which xz behaves unlike it does on binaries)
#   REV=REV     commit to build (default HEAD); its fixtures and demo config
#               are used either way
#   RELPACK=BIN time this relpack binary instead (e.g. a build of
#               uncommitted work; the report says so)
#   ONLY=relpack  skip the baseline
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
size=${1:-60}
runs=${RUNS:-2}
base_runs=${BASE_RUNS:-$runs}
rev=${REV:-HEAD}

# What the benchmark needs; `time` is not in a minimal Debian.
need=(go git jq objcopy aarch64-linux-gnu-objcopy readelf tar gzip)
missing=()
for t in "${need[@]}"; do command -v "$t" >/dev/null || missing+=("$t"); done
[ -x /usr/bin/time ] || missing+=(/usr/bin/time)
if ((${#missing[@]})); then
	pkgs="time jq binutils binutils-aarch64-linux-gnu"
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing $pkgs (missing: ${missing[*]})" >&2
		apt-get install -y --no-install-recommends $pkgs >&2
	else
		echo "missing: ${missing[*]}; on Debian: apt-get install $pkgs" >&2
		exit 1
	fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mib=$((1024 * 1024))

# relpack and the bound tool from a clean export of REV.
commit=$(git rev-parse --short=12 "$rev")
subject=$(git log -1 --format=%s "$rev")
[ ${#subject} -le 100 ] || subject="${subject:0:100}..."
committed=$(git log -1 --format=%cd --date=format-local:'%Y-%m-%d %H:%M UTC' "$rev")
mkdir -p "$work/src"
git archive "$commit" | tar -x -C "$work/src"
src=$work/src
if [ -n "${RELPACK:-}" ]; then
	cp "$RELPACK" "$work/relpack"
	label="binary $RELPACK (not a commit; fixtures from $commit)"
else
	(cd "$src" && go build -trimpath -o "$work/relpack" ./cmd/relpack)
	label="commit $commit"
fi
mkdir -p "$src/bench/bound"
cp bench/bound/main.go "$src/bench/bound/main.go"
(cd "$src" && GOFLAGS=-mod=mod go build -o "$work/bound" ./bench/bound)

nfpm_version=$(cd "$src" && go list -m -f '{{.Version}}' github.com/goreleaser/nfpm/v2)
if [ "$(go version -m bench/.bin/nfpm 2>/dev/null | awk '$1 == "mod" {print $3}')" != "$nfpm_version" ]; then
	GOBIN=$repo/bench/.bin go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$nfpm_version"
fi
nfpm=$repo/bench/.bin/nfpm

# Padding: SIZE_MB MiB of real machine code.
if [ -n "${PAD:-}" ]; then
	padfiles=("$PAD")
	pad_desc="the first bytes of $PAD"
	[ -c "$PAD" ] && pad_desc="bytes read from $PAD"
else
	goroot=$(go env GOROOT)
	mapfile -t padfiles < <(ls -d "$goroot/pkg/tool/$(go env GOHOSTOS)_$(go env GOHOSTARCH)"/* "$goroot"/bin/* | sort)
	pad_desc="the first bytes of the Go $(go env GOVERSION) toolchain's own binaries concatenated (\$GOROOT/pkg/tool/*/ then \$GOROOT/bin/, sorted)"
fi
{ cat "${padfiles[@]}" || true; } | head -c $((size * mib)) >"$work/pad"
# A device (PAD=/dev/urandom) is endless; files may hold too little.
if [ "$(stat -c %s "$work/pad")" -lt $((size * mib)) ]; then
	echo "padding source holds $(stat -c %s "$work/pad") bytes, fewer than ${size} MiB; set PAD to a larger file" >&2
	exit 1
fi

mkdir -p "$work/fx"
cp -r "$src/testdata/fixtures/." "$work/fx/"
for f in "$work"/fx/demo/*/openshell-gateway; do
	oc=objcopy
	readelf -h "$f" | grep -q AArch64 && oc=aarch64-linux-gnu-objcopy
	head -c $((size * mib - $(stat -c %s "$f"))) "$work/pad" >"$work/pad.one"
	$oc --add-section .relpack.bench="$work/pad.one" --set-section-flags .relpack.bench=noload,readonly "$f" "$f.big"
	mv "$f.big" "$f"
done
rm -f "$work/pad" "$work/pad.one"
sed "s#\.\./fixtures/#$work/fx/#g" "$src/testdata/demo/packaging.yaml" >"$work/packaging.yaml"
# the largest input relpack reads: the grown binaries and the sidecar libraries
largest=$(grep -o "$work/fx/[^] ,]*" "$work/packaging.yaml" | sort -u | xargs stat -c %s | sort -n | tail -1)

cores=$(nproc)
secs() { awk -v n="$1" 'BEGIN {printf "%.1f", n/1e9}'; }
field() { sed -n "s/^[[:space:]]*$1: //p" "$2"; }
# sample PID OUT: the cores PID uses, once a second, one number a line
sample() {
	local pid=$1 out=$2 hz prev now t tprev
	hz=$(getconf CLK_TCK)
	: >"$out"
	while now=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) && [ -n "$now" ]; do
		t=$(date +%s%N)
		[ -n "${prev:-}" ] && awk -v d=$((now - prev)) -v hz="$hz" -v ns=$((t - tprev)) 'BEGIN {printf "%.2f\n", d / hz / (ns / 1e9)}' >>"$out"
		prev=$now tprev=$t
		sleep 1
	done
}

# relpack build, RUNS times; with --timings when this relpack has it
# (each stage's wall time, to price the SBOM and provenance stages).
timings=
"$work/relpack" build --help 2>/dev/null | grep -q -- --timings && timings=--timings
best_relpack=
relpack_rows=
peak_kb=0
for i in $(seq "$runs"); do
	rm -rf "$work/relpack-dist"
	load=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(date +%s%N)
	/usr/bin/time -v -o "$work/time.relpack" "$work/relpack" build -q $timings -c "$work/packaging.yaml" --version 0.1.0 --out "$work/relpack-dist" >/dev/null 2>"$work/stages.$i" &
	tpid=$!
	rpid=
	while [ -z "$rpid" ] && kill -0 "$tpid" 2>/dev/null; do rpid=$(pgrep -P "$tpid" || true); done
	[ -n "$rpid" ] && sample "$rpid" "$work/cores.$i" &
	spid=$!
	wait "$tpid"
	t1=$(date +%s%N)
	wait "$spid" || true
	wall=$(secs $((t1 - t0)))
	cpu=$(awk -v u="$(field 'User time (seconds)' "$work/time.relpack")" -v s="$(field 'System time (seconds)' "$work/time.relpack")" 'BEGIN {printf "%.1f", u+s}')
	kb=$(field 'Maximum resident set size (kbytes)' "$work/time.relpack")
	[ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
	relpack_rows+="| relpack build, run $i | $wall | $cpu | $(awk -v k="$kb" 'BEGIN {printf "%.0f", k*1024/1e6}') | $load |"$'\n'
	echo "relpack build, run $i: $wall s wall, $cpu s CPU, $kb kB peak RSS, load $load" >&2
	if [ -z "$best_relpack" ] || awk -v a="$wall" -v b="$best_relpack" 'BEGIN {exit !(a < b)}'; then
		best_relpack=$wall
		best_relpack_cpu=$cpu
		best_cores=$work/cores.$i
		best_stages=$work/stages.$i
	fi
done
n=$(jq '.artifacts | length' "$work/relpack-dist/manifest.json")

# The bound, from what relpack wrote.
mapfile -t artifacts < <(jq -r '.artifacts[].file' "$work/relpack-dist/manifest.json" | sed "s#^#$work/relpack-dist/#")
"$work/bound" -cores "$cores" -summary "$work/bound.sum" -codecs "$work/codecs" "${artifacts[@]}" >"$work/bound.md"
bsum() { sed -n "s/^$1=//p" "$work/bound.sum"; }
echo "bound: $(bsum bound_s) s on $cores cores ($(bsum cpu_distinct_s) CPU s)" >&2

# The baseline: nfpm's CLI once per package and tar czf per tarball, driven
# from relpack's manifest so both do the same work (files, relations,
# payload codec as relpack wrote it).
cat >"$work/baseline.sh" <<'EOF'
set -euo pipefail
work=$1 src=$2 nfpm=$3
rm -rf "$work/nfpm-dist"
mkdir -p "$work/nfpm-dist"
manifest="$work/relpack-dist/manifest.json"
jq -c '.artifacts[]' "$manifest" | while read -r a; do
	kind=$(jq -r .kind <<<"$a")
	triple=$(jq -r .triple <<<"$a")
	distro=$(jq -r '.distro // ""' <<<"$a")
	file=$(jq -r .file <<<"$a")
	case "$distro" in
	el8 | el9) bin="$work/fx/demo/${triple}-el8/openshell-gateway" ;;
	*) bin="$work/fx/demo/$triple/openshell-gateway" ;;
	esac
	if [ "$kind" = tarball ]; then
		d=$(mktemp -d)
		if [ "$(jq -r '.sidecar.path // ""' <<<"$a")" != "" ]; then
			mkdir -p "$d/bin" "$d/lib"
			cp "$bin" "$d/bin/openshell-gateway"
			cp "$work/fx/$(jq -r .arch <<<"$a")/libz3.so.4" "$d/lib/"
		else
			cp "$bin" "$d/openshell-gateway"
		fi
		cp "$src/testdata/fixtures/demo/LICENSE" "$src/testdata/fixtures/demo/README.md" "$d/"
		tar czf "$work/nfpm-dist/$file" -C "$d" .
		rm -rf "$d"
		continue
	fi
	arch=$(jq -r .arch <<<"$a" | sed 's/x86_64/amd64/; s/aarch64/arm64/')
	compression=$(awk -v f="$file" '$1 == f {print $2}' "$work/codecs")
	{
		echo "name: openshell-gateway"
		echo "arch: $arch"
		echo "version: 0.1.0"
		echo "release: 1"
		echo "maintainer: OpenShell maintainers <maintainers@openshell.dev>"
		echo "description: bench"
		echo "license: Apache-2.0"
		echo "depends:"
		jq -r '.relations[] | "  - \"" + . + "\""' <<<"$a"
		echo "contents:"
		echo "  - src: $bin"
		echo "    dst: /usr/bin/openshell-gateway"
		echo "  - src: $src/testdata/fixtures/demo/README.md"
		echo "    dst: /usr/share/doc/openshell-gateway/README.md"
		echo "  - src: $src/testdata/fixtures/demo/LICENSE"
		echo "    dst: /usr/share/doc/openshell-gateway/copyright"
		echo "$kind:"
		echo "  compression: $compression"
	} >"$work/nfpm.yaml"
	"$nfpm" package -f "$work/nfpm.yaml" -p "$kind" -t "$work/nfpm-dist/$file" >/dev/null
done
EOF
best_base=
base_rows=
if [ "${ONLY:-}" != relpack ]; then
	for i in $(seq "$base_runs"); do
		load=$(cut -d' ' -f1 /proc/loadavg)
		t0=$(date +%s%N)
		/usr/bin/time -v -o "$work/time.base" bash "$work/baseline.sh" "$work" "$src" "$nfpm"
		t1=$(date +%s%N)
		wall=$(secs $((t1 - t0)))
		cpu=$(awk -v u="$(field 'User time (seconds)' "$work/time.base")" -v s="$(field 'System time (seconds)' "$work/time.base")" 'BEGIN {printf "%.1f", u+s}')
		kb=$(field 'Maximum resident set size (kbytes)' "$work/time.base")
		base_rows+="| nfpm CLI per package + tar czf, run $i | $wall | $cpu | $(awk -v k="$kb" 'BEGIN {printf "%.0f", k*1024/1e6}') (largest one process) | $load |"$'\n'
		echo "baseline, run $i: $wall s wall, $cpu s CPU, load $load" >&2
		if [ -z "$best_base" ] || awk -v a="$wall" -v b="$best_base" 'BEGIN {exit !(a < b)}'; then
			best_base=$wall
			best_base_cpu=$cpu
		fi
	done
fi

# The report.
bound=$(bsum bound_s)
cpu_distinct=$(bsum cpu_distinct_s)
echo "### $(date -u '+%Y-%m-%d %H:%M UTC'), $label"
echo
echo "Commit $commit ($committed): $subject"
echo
echo "Command: \`RUNS=$runs${BASE_RUNS:+ BASE_RUNS=$BASE_RUNS} bench/build-realistic.sh $size\`${PAD:+ with \`PAD=$PAD\`}. $n artifacts; every input binary grown to $size MiB with $pad_desc; largest input $(awk -v b="$largest" 'BEGIN {printf "%.1f", b/1e6}') MB. $cores cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1024/1024}' /proc/meminfo); 1-minute load average at the start of each run in the last column (other engineers' test runs share the machine)."
echo
echo "| run | wall s | CPU s (user+sys) | peak RSS MB | load at start |"
echo "|---|---|---|---|---|"
printf '%s' "$relpack_rows" "$base_rows"
echo "| bound: each distinct payload compressed once, on $cores cores | $bound | $cpu_distinct | | |"
echo
awk -v r="$best_relpack" -v o="${best_base:-0}" -v b="$bound" -v rc="$best_relpack_cpu" -v bc="$cpu_distinct" \
	-v pa="$(bsum cpu_per_artifact_s)" -v oc="${best_base_cpu:-0}" -v c="$cores" -v kb="$peak_kb" -v big="$largest" \
	-v s0="$(awk '$1 < 0.5' "$best_cores" 2>/dev/null | wc -l)" -v s1="$(awk '$1 >= 0.5 && $1 < 1.5' "$best_cores" 2>/dev/null | wc -l)" \
	-v s2="$(awk '$1 >= 1.5' "$best_cores" 2>/dev/null | wc -l)" 'BEGIN {
	if (o > 0) {
		ratio = r / o
		printf "- **relpack / baseline: %.2fx** (best %.1f s against best %.1f s). Goal <= 0.25x: %s.\n", ratio, r, o,
			ratio <= 0.25 ? "met" : sprintf("not met; relpack needs to be %.1fx faster", ratio / 0.25)
	}
	printf "- **Distance to the bound: %.1fx** (%.1f s against %.1f s). Goal <= 2x: %s.\n", r / b, r, b,
		r / b <= 2 ? "met" : "not met"
	rss = kb * 1024
	printf "- **Peak RSS: %.0f MB, %.1fx the largest input** (%.1f MB). Goal <= 2x: %s.\n", rss / 1e6, rss / big, big / 1e6,
		rss / big <= 2 ? "met" : "not met"
	if (rc < bc)
		beyond = sprintf("%.1f CPU s less than the bound'"'"'s work as measured here (its encoders in a separate process, one payload after another)", bc - rc)
	else
		beyond = sprintf("%.1f CPU s beyond the bound'"'"'s work", rc - bc)
	if (rc < pa)
		extra = sprintf("%.1f less than one compression per artifact", pa - rc)
	else
		extra = sprintf("%.1f beyond one compression per artifact: archiving, hashing, copying, GC", rc - pa)
	printf "- Where relpack'"'"'s time goes (best run): %.1f CPU s in all. Compressing each distinct payload once takes %.1f CPU s (the bound'"'"'s work); compressing one payload per artifact, as a writer without sharing does, %.1f CPU s (%.1f more); relpack spent %s (%s). Of its %.1f core-seconds of wall time, %.1f were not spent in relpack (cores idle while fewer jobs than cores remained, or taken by other jobs).\n",
		rc, bc, pa, pa - bc, beyond, extra, r * c, r * c - rc
	if (s0 + s1 + s2 > 0)
		printf "- Cores relpack kept busy, sampled each second of the best run: 1.5 or more for %d s, 0.5 to 1.5 for %d s, under 0.5 for %d s (%d samples; a core it did not use was idle or taken by another job).\n", s2, s1, s0, s0 + s1 + s2
	if (o > 0 && oc > 0)
		printf "- CPU time, which other jobs on the machine inflate less than wall time: relpack %.1f s, baseline %.1f s (%.2fx).\n", rc, oc, rc / oc
}'
if [ -n "$timings" ]; then
	# The stages of issue 20 against the whole build (best run).
	awk -v r="$best_relpack" '$1 == "stage" {
		name = $2; for (i = 3; i < NF; i++) name = name " " $i
		t = $NF; sub(/s$/, "", t); all += t
		if (name == "write SBOMs" || name == "write the provenance") { doc += t; parts = parts sprintf("%s %.2f s, ", name, t) }
	}
	END { if (all > 0) printf "- SBOMs and provenance (best run): %s%.2f s of %.1f s wall, %.1f%%. Goal < 5%%: %s.\n", parts, doc, r, 100 * doc / r, doc / r < 0.05 ? "met" : "not met" }' "$best_stages"
fi
echo
echo "Distinct payloads (bench/bound; grouped by codec and the files of at least 1 MiB they hold):"
echo
cat "$work/bound.md"
