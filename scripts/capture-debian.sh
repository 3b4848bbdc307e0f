#!/bin/sh
# capture-debian.sh [--download-only] [SUITE[:ARCH]...]
#
# Captures the library facts of Debian releases from Debian's real packages:
# for each suite (default: bullseye bookworm trixie) and architecture
# (default: amd64 arm64) it downloads libz3-4, libstdc++6, libgcc-s1,
# zlib1g, libzstd1 and the suite's libtinyxml2-N with
# `apt-get download` through a scratch apt configuration, then runs
#   relpack distro capture --id ID -o pkg/distro/facts/ID PKG.deb...
# which writes pkg/distro/facts/ID/<package>_<arch>.yaml.
#
# The scratch apt configuration (own sources.list, state and cache dirs,
# nothing of the machine's apt or dpkg state touched) points at the mirror
# this machine's apt sources name, read at run time (never written here),
# and verifies it with the machine's debian-archive-keyring, the way
# testdata/sysroot.sh does. Downloads are cached under
# ${RELPACK_CACHE:-$HOME/.cache/relpack}/debs/SUITE-ARCH.
#
# RELPACK=path/to/relpack picks the binary; by default the checkout's
# cmd/relpack is built into a temporary folder. PACKAGES overrides the
# package list. --download-only prints the downloaded files and captures
# nothing (tests use it to get real .deb files).
set -eu

usage() { echo "usage: $0 [--download-only] [SUITE[:ARCH]...]   (SUITE: bullseye bookworm trixie)" >&2; exit 2; }
DOWNLOAD_ONLY=""
if [ "${1:-}" = "--download-only" ]; then DOWNLOAD_ONLY=1; shift; fi
case "${1:-}" in -*) usage ;; esac

HERE=$(cd "$(dirname "$0")" && pwd -P)
ROOT=$(dirname "$HERE")
CACHE=${RELPACK_CACHE:-$HOME/.cache/relpack}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PACKAGES_SET=${PACKAGES:+1}

die() { echo "capture-debian.sh: $*" >&2; exit 1; }

# Parallel callers (tests) share the cache: serialise them.
if [ -z "${RELPACK_CAPTURE_LOCKED:-}" ]; then
	mkdir -p "$CACHE"
	RELPACK_CAPTURE_LOCKED=1 exec flock "$CACHE/.capture-debian.lock" "$0" ${DOWNLOAD_ONLY:+--download-only} "$@"
fi

[ -f "$KEYRING" ] || die "no $KEYRING (apt-get install debian-archive-keyring)"

# packages SUITE: what the catalogue maps for it (PACKAGES overrides).
packages() {
	if [ -n "$PACKAGES_SET" ]; then echo "$PACKAGES"; return; fi
	case $1 in
	bullseye) tx=libtinyxml2-8 ;;
	bookworm) tx=libtinyxml2-9 ;;
	trixie) tx=libtinyxml2-11 ;;
	esac
	echo "libz3-4 libstdc++6 libgcc-s1 zlib1g libzstd1 $tx"
}

distro_id() {
	case $1 in
	bullseye) echo debian11 ;;
	bookworm) echo debian12 ;;
	trixie) echo debian13 ;;
	*) die "unknown suite $1 (bullseye, bookworm or trixie)" ;;
	esac
}


# download SUITE ARCH: prints the paths of the downloaded .deb files.
download() {
	suite=$1 arch=$2
	debdir=$CACHE/debs/$suite-$arch
	mkdir -p "$debdir"
	conf=$("$HERE/scratch-apt.sh" "$suite" "$arch" "$CACHE/apt/capture-$suite-$arch") || die "no apt for $suite/$arch"
	PACKAGES=$(packages "$suite")
	# One apt-cache call for all packages ("NAME:" then "  Candidate: V").
	# shellcheck disable=SC2086
	cands=$(APT_CONFIG=$conf apt-cache policy $PACKAGES |
		awk '/^[^ ].*:$/ { sub(/:$/, ""); p = $0 } $1 == "Candidate:" { print p, $2 }')
	for p in $PACKAGES; do
		ver=$(echo "$cands" | awk -v p="$p" '$1 == p { print $2 }')
		[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "package $p not found in $suite/$arch"
		fver=$(echo "$ver" | sed 's/:/%3a/')
		f=$(cd "$debdir" && ls "${p}_${fver}_"*.deb 2>/dev/null | head -n1 || true)
		if [ -z "$f" ]; then
			(cd "$debdir" && APT_CONFIG=$conf apt-get -q download "$p" >/dev/null) || die "apt-get download $p ($suite/$arch) failed"
			f=$(cd "$debdir" && ls "${p}_${fver}_"*.deb | head -n1)
		fi
		echo "$debdir/$f"
	done
}

[ $# -gt 0 ] || set -- bullseye bookworm trixie

RELPACK=${RELPACK:-}
if [ -z "$DOWNLOAD_ONLY" ] && [ -z "$RELPACK" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$ROOT" && go build -o "$tmp/relpack" ./cmd/relpack)
	RELPACK=$tmp/relpack
fi

for spec in "$@"; do
	suite=${spec%%:*}
	if [ "$suite" = "$spec" ]; then arches="amd64 arm64"; else arches=${spec#*:}; fi
	id=$(distro_id "$suite")
	for arch in $arches; do
		files=$(download "$suite" "$arch")
		if [ -n "$DOWNLOAD_ONLY" ]; then
			echo "$files"
			continue
		fi
		# shellcheck disable=SC2086 # one path per word; cache paths have no spaces
		"$RELPACK" distro capture --id "$id" -o "$ROOT/pkg/distro/facts/$id" $files
	done
done
