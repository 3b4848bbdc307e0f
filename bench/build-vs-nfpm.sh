#!/usr/bin/env bash
# Times `relpack build` of the demo's full matrix (6 tarballs, 8 debs,
# 4 rpms) with every input binary grown by SIZE_MB of incompressible
# (random) bytes in an added section, against doing the same packaging with
# nfpm's own CLI (one run per package, same compression per distro, same
# files) plus `tar czf` per tarball. bench/build-realistic.sh grows the
# inputs with real machine code instead, and also measures the bound and
# peak RSS. Same machine, same run. Prints a Markdown table.
# Usage: bench/build-vs-nfpm.sh [SIZE_MB]     (default 100)
#        ONLY=relpack bench/build-vs-nfpm.sh ...  (time relpack alone)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-100}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# nfpm's CLI at the version pinned in go.mod
GOBIN=$PWD/bench/.bin go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$(go list -m -f '{{.Version}}' github.com/goreleaser/nfpm/v2)"
nfpm=$PWD/bench/.bin/nfpm
go build -trimpath -o bin/relpack ./cmd/relpack

# Large inputs: each demo binary plus SIZE_MB of random bytes in a
# non-loaded section (the binary still runs and inspects the same).
head -c $((size * 1024 * 1024)) /dev/urandom >"$work/blob"
mkdir -p "$work/fx"
cp -r testdata/fixtures/. "$work/fx/"
for f in "$work"/fx/demo/*/openshell-gateway; do
	oc=objcopy
	readelf -h "$f" | grep -q AArch64 && oc=aarch64-linux-gnu-objcopy
	$oc --add-section .relpack.bench="$work/blob" --set-section-flags .relpack.bench=noload,readonly "$f" "$f.big"
	mv "$f.big" "$f"
done
sed "s#\.\./fixtures/#$work/fx/#g" testdata/demo/packaging.yaml >"$work/packaging.yaml"

t0=$(date +%s%N)
bin/relpack build -q -c "$work/packaging.yaml" --version 0.1.0 --out "$work/relpack-dist" >/dev/null
t1=$(date +%s%N)
relpack_s=$(awk -v n=$((t1 - t0)) 'BEGIN {printf "%.1f", n/1e9}')

if [ "${ONLY:-}" = relpack ]; then
	echo "relpack build, ${size} MB per binary: ${relpack_s} s"
	exit 0
fi

# The same matrix through nfpm's CLI, driven from relpack's own manifest so
# both do the same work (files, relations, compression).
mkdir -p "$work/nfpm-dist"
manifest="$work/relpack-dist/manifest.json"
t0=$(date +%s%N)
jq -c '.artifacts[]' "$manifest" | while read -r a; do
	kind=$(jq -r .kind <<<"$a")
	triple=$(jq -r .triple <<<"$a")
	distro=$(jq -r '.distro // ""' <<<"$a")
	# the binary this artifact was made from
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
		cp testdata/fixtures/demo/LICENSE testdata/fixtures/demo/README.md "$d/"
		tar czf "$work/nfpm-dist/$(jq -r .file <<<"$a")" -C "$d" .
		rm -rf "$d"
		continue
	fi
	comp=$(jq -r --arg d "$distro" '.distros[] | select(.id == $d) | .format' "$manifest")
	compression=$(grep -A6 "^- id: $distro\$" pkg/distro/catalog.yaml | sed -n 's/^  compression: //p')
	arch=$(jq -r .arch <<<"$a" | sed 's/x86_64/amd64/; s/aarch64/arm64/')
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
		echo "  - src: testdata/fixtures/demo/LICENSE"
		echo "    dst: /usr/share/doc/openshell-gateway/copyright"
		echo "$comp:"
		echo "  compression: $compression"
	} >"$work/nfpm.yaml"
	"$nfpm" package -f "$work/nfpm.yaml" -p "$comp" -t "$work/nfpm-dist/$distro-$arch.$comp" >/dev/null
done
t1=$(date +%s%N)
nfpm_s=$(awk -v n=$((t1 - t0)) 'BEGIN {printf "%.1f", n/1e9}')

n=$(jq '.artifacts | length' "$manifest")
echo "| input size | artifacts | relpack build (s) | nfpm CLI per package + tar czf (s) | ratio |"
echo "|---|---|---|---|---|"
echo "| ${size} MB per binary | $n | $relpack_s | $nfpm_s | $(awk -v r="$relpack_s" -v o="$nfpm_s" 'BEGIN {printf "%.2fx", r/o}') |"
