#!/bin/sh
# Makes (once) and prints the path of a Debian root file system for tests:
# debootstrap --variant=minbase of SUITE (default bullseye, glibc 2.31;
# bookworm: glibc 2.36), cached under
# ${RELPACK_CACHE:-$HOME/.cache/relpack}/roots/SUITE-ARCH.
# The mirror is read from this machine's apt sources, never written here.
# Usage: scripts/debian-root.sh [amd64|arm64] [SUITE]    (needs root)
set -eu
arch=${1:-amd64}
suite=${2:-bullseye}
case $suite in bullseye | bookworm | trixie) ;; *) echo "unknown suite $suite" >&2; exit 2 ;; esac
cache=${RELPACK_CACHE:-$HOME/.cache/relpack}
# go test runs packages in parallel and several of them need the root:
# serialise callers on a lock in the cache.
if [ -z "${RELPACK_ROOT_LOCKED:-}" ]; then
	mkdir -p "$cache"
	RELPACK_ROOT_LOCKED=1 exec flock "$cache/.debian-root.lock" "$0" "$@"
fi
root=$cache/roots/$suite-$arch
if [ -f "$root/.relpack-complete" ]; then
	echo "$root"
	exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
mirror=$("$(dirname "$0")/debian-mirror.sh")
rm -rf "$root.tmp"
mkdir -p "$(dirname "$root")"
extra=""
[ "$arch" = "$(dpkg --print-architecture)" ] || extra="--foreign"
debootstrap --variant=minbase --arch="$arch" $extra "$suite" "$root.tmp" "$mirror" >"$root.log" 2>&1 || {
	echo "debootstrap failed; see $root.log" >&2
	exit 1
}
touch "$root.tmp/.relpack-complete"
rm -rf "$root"
mv "$root.tmp" "$root"
echo "$root"
