#!/bin/sh
# Installs, from Debian's packages, the real tools relpack's tests check
# against. Installs only what is missing; needs root (or sudo) for apt-get.
set -eu

# command-to-package pairs the test suite runs
need="
readelf:binutils
objdump:binutils
aarch64-linux-gnu-objdump:binutils-aarch64-linux-gnu
gcc:gcc
dpkg-deb:dpkg
dpkg-shlibdeps:dpkg-dev
fakeroot:fakeroot
lintian:lintian
rpm:rpm
rpmbuild:rpm
rpmlint:rpmlint
tar:tar
sha256sum:coreutils
qemu-aarch64-static:qemu-user-static
debootstrap:debootstrap
patchelf:patchelf
zstd:zstd
xz:xz-utils
ar:binutils
shellcheck:shellcheck
busybox:busybox
dash:dash
curl:curl
wget:wget
patch:patch
unshare:util-linux
ld.lld:lld
ld.gold:binutils
gpg:gnupg
debsig-verify:debsig-verify
"
# files-to-package pairs: libraries the oracles resolve against
need_files="
/usr/lib/x86_64-linux-gnu/libz3.so.4:libz3-4
/usr/lib/rpm/elfdeps:rpm
"
missing=""
for pair in $need; do
	cmd=${pair%%:*}
	pkg=${pair#*:}
	command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
done
for pair in $need_files; do
	file=${pair%%:*}
	pkg=${pair#*:}
	[ -e "$file" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing test tools:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
