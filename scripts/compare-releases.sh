#!/usr/bin/env bash
# compare-releases.sh BASE [HEAD]: proves a change to relpack's code left
# every output byte-identical. It builds relpack at two git revisions (HEAD
# defaults to the working tree), runs both on the same demo inputs (this
# checkout's testdata) through every command that writes a release, and
# compares the trees file by file (name, type, mode, sha256).
#
# The scenarios: the demo release unsigned and signed; the signed release
# split in two (--only x86_64, --only aarch64) and merged, also unsigned; a
# signed repository tree made from the release, then grown by a second
# version (the incremental path); the install docs, installer and repository
# docs rendered from them.
#
# Exit 0 when every tree is identical, 1 with the differing files listed.
# Used for issue 21's reshape: scripts/compare-releases.sh 25857a9
set -euo pipefail

base=${1:?usage: compare-releases.sh BASE [HEAD]}
head=${2:-}
top=$(git rev-parse --show-toplevel)
work=$(mktemp -d /tmp/relpack-compare.XXXXXX)
trap 'git -C "$top" worktree remove --force "$work/src-a" 2>/dev/null || true
      git -C "$top" worktree remove --force "$work/src-b" 2>/dev/null || true
      rm -rf "$work"' EXIT

# build_at REV OUT: relpack built from REV ("" = the working tree).
build_at() {
	local rev=$1 out=$2 src
	if [ -z "$rev" ]; then
		src=$top
	else
		src=$work/src-$(basename "$out")
		git -C "$top" worktree add --detach "$src" "$rev"
	fi
	# One identity for both: every release records the relpack that made
	# it (manifest.json tool, the provenance statement, config_digest), so
	# two revisions' own commits would differ in every file. A revision
	# from before relpack recorded its commit ignores -X main.commit.
	(cd "$src" && go build -trimpath -buildvcs=false \
		-ldflags "-X main.version=compare -X main.commit=0000000000000000000000000000000000000000" \
		-o "$out" ./cmd/relpack)
}

# run_all RELPACK OUT: every scenario, into OUT.
run_all() {
	local r=$1 o=$2
	export SOURCE_DATE_EPOCH=1700000000
	local u=testdata/demo/packaging.yaml s=testdata/demo/packaging-signed.yaml
	mkdir -p "$o/docs"
	cd "$top"
	# Every step must succeed: set -e does not hold inside a || list.
	step() { "$@" >>"$o.log" 2>&1 || { cat "$o.log"; echo "compare-releases: failed: $*" >&2; exit 1; }; }
	step "$r" build -c $u --version 0.1.0 --out "$o/unsigned"
	step "$r" build --sign -c $s --version 0.1.0 --out "$o/signed"
	step "$r" build --sign -c $s --version 0.1.0 --only x86_64 --out "$o/part-x86_64"
	step "$r" build --sign -c $s --version 0.1.0 --only aarch64 --out "$o/part-aarch64"
	step "$r" merge "$o/part-x86_64" "$o/part-aarch64" --sign -c $s --out "$o/merged-signed"
	step "$r" build -c $u --version 0.1.0 --only x86_64 --out "$o/upart-x86_64"
	step "$r" build -c $u --version 0.1.0 --only aarch64 --out "$o/upart-aarch64"
	step "$r" merge "$o/upart-x86_64" "$o/upart-aarch64" --out "$o/merged-unsigned"
	step "$r" build --sign -c $s --version 0.1.1 --out "$o/signed-0.1.1"
	step "$r" repo "$o/signed" --out "$o/repo" --url http://127.0.0.1:8000 -c $s
	step cp -a "$o/repo" "$o/repo-1"
	step "$r" repo "$o/signed-0.1.1" --out "$o/repo" --url http://127.0.0.1:8000 -c $s
	step "$r" docs --manifest "$o/signed/manifest.json" -o "$o/docs/INSTALL.md"
	step "$r" docs --manifest "$o/signed/manifest.json" --installer --base-url https://example.invalid/r -o "$o/docs/install.sh"
	step "$r" docs --repo "$o/repo-1" -o "$o/docs/REPOSITORIES-1.md"
	step "$r" docs --repo "$o/repo" -o "$o/docs/REPOSITORIES.md"
}

# listing DIR: one line per entry: path, type, mode, sha256 of a file,
# target of a symlink.
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%P %y %m %l\n' | LC_ALL=C sort | while read -r p y m l; do
		if [ "$y" = f ]; then
			echo "$p $y $m $(sha256sum <"$p" | cut -d' ' -f1)"
		else
			echo "$p $y $m $l"
		fi
	done)
}

build_at "$base" "$work/a"
build_at "$head" "$work/b"
run_all "$work/a" "$work/out-a"
run_all "$work/b" "$work/out-b"

status=0
for d in unsigned signed part-x86_64 part-aarch64 merged-signed upart-x86_64 upart-aarch64 merged-unsigned signed-0.1.1 repo-1 repo docs; do
	listing "$work/out-a/$d" >"$work/$d.a"
	listing "$work/out-b/$d" >"$work/$d.b"
	sum=$(sha256sum <"$work/$d.a" | cut -c1-16)
	n=$(wc -l <"$work/$d.a")
	if cmp -s "$work/$d.a" "$work/$d.b"; then
		printf '%-16s %4d entries  tree %s  identical\n' "$d" "$n" "$sum"
	else
		printf '%-16s %4d entries  DIFFERS\n' "$d" "$n"
		diff "$work/$d.a" "$work/$d.b" | sed 's/^/    /' || true
		status=1
	fi
done
if [ "$status" = 0 ]; then
	echo "compare-releases: every tree of ${base} and ${head:-the working tree} is byte-identical"
fi
exit $status
