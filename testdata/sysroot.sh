#!/bin/sh
# sysroot.sh ARCH DEST [PACKAGE...]
#
# Builds a Debian sysroot for ARCH (amd64 or arm64) in DEST from Debian's
# own packages, without touching the machine's apt or dpkg state:
#   - a scratch apt configuration (own sources.list, state and cache dirs)
#     points at the same mirror the machine uses (read at run time from
#     /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list), suite
#     bullseye (override with SUITE=...: bullseye or trixie have default
#     packages, any other suite needs them named), [arch=ARCH], verified with the
#     machine's debian-archive-keyring;
#   - `apt-get download` fetches the packages (by default the ones a C/C++
#     link against bullseye's glibc 2.31 and libstdc++ 10 needs, or
#     trixie's glibc 2.41 and libstdc++ 14);
#   - `dpkg -x` unpacks each one into DEST;
#   - absolute symlinks inside DEST are rewritten as relative ones, so that
#     DEST works as --sysroot, as `qemu-*-static -L DEST` and through
#     DEST/lib/<triplet>/ld-2.31.so called directly.
#
# Idempotent: DEST/.relpack-sysroot records what was unpacked; a second run
# with the same arguments does nothing (no network). Downloads and apt lists
# are cached under ${RELPACK_CACHE:-$HOME/.cache/relpack}.
set -eu

# go test runs packages in parallel and several of them ask for the same
# sysroot: serialise callers on a lock in the cache.
if [ -z "${RELPACK_SYSROOT_LOCKED:-}" ]; then
	mkdir -p "${RELPACK_CACHE:-$HOME/.cache/relpack}"
	RELPACK_SYSROOT_LOCKED=1 exec flock "${RELPACK_CACHE:-$HOME/.cache/relpack}/.sysroot.lock" "$0" "$@"
fi

usage() { echo "usage: $0 amd64|arm64 DEST [PACKAGE...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
ARCH=$1
DEST=$2
shift 2
case $ARCH in amd64 | arm64) ;; *) usage ;; esac
SUITE=${SUITE:-bullseye}

# The packages a C/C++ link against SUITE's glibc and libstdc++ needs: the
# GCC of each suite's libstdc++6 (bullseye 10, trixie 14).
case $SUITE in
bullseye) GCCV=10 ;;
trixie) GCCV=14 ;;
*) echo "sysroot.sh: no default packages for suite $SUITE; name them" >&2; [ $# -gt 0 ] || exit 2 ;;
esac
DEFAULT_PKGS="libc6 libc6-dev linux-libc-dev libgcc-s1 libstdc++6 libgcc-${GCCV:-}-dev libstdc++-${GCCV:-}-dev"
if [ $# -gt 0 ]; then PKGS=$*; else PKGS=$DEFAULT_PKGS; fi

CACHE=${RELPACK_CACHE:-$HOME/.cache/relpack}
APTDIR=$CACHE/apt/$SUITE-$ARCH
DEBDIR=$CACHE/debs/$SUITE-$ARCH
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "sysroot.sh: $*" >&2; exit 1; }

mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd -P)
STAMP=$DEST/.relpack-sysroot
WANT="suite=$SUITE arch=$ARCH packages=$PKGS"
if [ -f "$STAMP" ] && [ "$(sed -n 1p "$STAMP")" = "$WANT" ]; then
	exit 0
fi

# Tools this script runs: apt-get and dpkg are on every Debian; the keyring
# and realpath may not be.
if [ ! -f "$KEYRING" ] || ! command -v realpath >/dev/null 2>&1; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		debian-archive-keyring coreutils >/dev/null
fi
[ -f "$KEYRING" ] || die "no $KEYRING (install debian-archive-keyring)"

# A scratch apt of the machine's mirror for SUITE and ARCH, lists at most a
# day old (scripts/scratch-apt.sh); the machine's apt.conf.d stays in force.
APT_CONFIG=$("$(dirname "$0")/../scripts/scratch-apt.sh" "$SUITE" "$ARCH" "$APTDIR") || die "no apt for $SUITE/$ARCH"
export APT_CONFIG
mkdir -p "$DEBDIR"

# Download what is not in the cache yet (apt-get download skips nothing on
# its own, so look for the exact file name of the candidate version).
cd "$DEBDIR"
debs=""
for p in $PKGS; do
	ver=$(apt-cache policy "$p" | awk '$1 == "Candidate:" { print $2 }')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "package $p not found in $SUITE/$ARCH"
	fver=$(echo "$ver" | sed 's/:/%3a/')
	f=$(ls "${p}_${fver}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$f" ]; then
		apt-get -q download "$p" >/dev/null || die "apt-get download $p failed"
		f=$(ls "${p}_${fver}_"*.deb | head -n1)
	fi
	debs="$debs $DEBDIR/$f"
done

# Unpack into a fresh tree, then swap it in.
TMP=$DEST.tmp.$$
rm -rf "$TMP"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
for d in $debs; do
	dpkg -x "$d" "$TMP"
done

# Absolute symlinks point at the host: make them relative to the sysroot.
find "$TMP" -type l | while IFS= read -r l; do
	t=$(readlink "$l")
	case $t in
	/*)
		rel=$(realpath -m -s --relative-to="$(dirname "$l")" "$TMP$t")
		ln -sfn "$rel" "$l"
		;;
	esac
done

# Merged-/usr suites (trixie) ship their libraries under usr/ only: the
# /lib and /lib64 links come from base-files, which a sysroot does not
# unpack, and libc.so's linker script names /lib/TRIPLET/libc.so.6.
for d in lib lib64; do
	if [ -d "$TMP/usr/$d" ] && [ ! -e "$TMP/$d" ] && [ ! -L "$TMP/$d" ]; then
		ln -s "usr/$d" "$TMP/$d"
	fi
done

# DEST belongs to this script: replace its whole content.
find "$DEST" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
(cd "$TMP" && tar cf - .) | (cd "$DEST" && tar xf -)
rm -rf "$TMP"
trap - EXIT
{
	echo "$WANT"
	for d in $debs; do basename "$d"; done
} >"$STAMP"
echo "sysroot.sh: $SUITE $ARCH sysroot ready in $DEST" >&2
