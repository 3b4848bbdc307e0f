#!/bin/sh
# Installs, from Debian's packages, everything relpack's tests use: the
# commands, files and folders listed in scripts/test-deps.txt (the same list
# internal/testdeps holds the tests to, so a test cannot need something this
# script does not install). Installs only what is missing, with apt-get
# (root, or sudo); afterwards checks every entry again and fails, naming the
# entry and its package, if one is still missing (a wrong line in the list).
# Usage: scripts/install-test-deps.sh [--check]
#   --check  only report what is missing (exit 1 if anything is); no apt-get
set -eu

list=$(dirname "$0")/test-deps.txt
[ -f "$list" ] || { echo "install-test-deps: no $list" >&2; exit 2; }
check_only=0
case ${1:-} in
--check) check_only=1 ;;
"") ;;
*) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
# Tests run as root on CI, and root's PATH has the sbin folders (chroot,
# debootstrap): look there too when a user runs this script through sudo.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
export PATH

# missing prints "NAME PACKAGE" for every command or file entry that is
# not on this machine. A "-" package is not apt's to install: it goes to
# stderr with its note, and is not printed.
missing() {
	lineno=0
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		# shellcheck disable=SC2086 # split the line into its fields
		set -- $line
		case ${1:-#} in
		'#'*) continue ;;
		command | file) [ $# -ge 3 ] || { echo "install-test-deps: $list:$lineno: want KIND NAME PACKAGE" >&2; exit 2; } ;;
		script) continue ;; # its needs are command/file lines of their own
		*) echo "install-test-deps: $list:$lineno: unknown kind '$1'" >&2; exit 2 ;;
		esac
		kind=$1 name=$2 pkg=$3
		shift 3
		if [ "$kind" = command ]; then
			command -v "$name" >/dev/null 2>&1 && continue
		else
			[ -e "$name" ] && continue
		fi
		if [ "$pkg" = - ]; then
			echo "install-test-deps: $name is missing and is not a Debian package: $*" >&2
			continue
		fi
		echo "$name $pkg"
	done <"$list"
}

before=$(missing)
[ -n "$before" ] || exit 0
pkgs=$(echo "$before" | awk '{print $2}' | sort -u | tr '\n' ' ')
if [ "$check_only" = 1 ]; then
	echo "$before" | awk '{printf "install-test-deps: %s is missing (package %s)\n", $1, $2}' >&2
	echo "install-test-deps: install with: apt-get install $pkgs" >&2
	exit 1
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-test-deps: installing $pkgs" >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null

after=$(missing)
if [ -n "$after" ]; then
	echo "$after" | awk -v l="$list" '{printf "install-test-deps: %s is still missing after installing %s: fix its line in %s\n", $1, $2, l}' >&2
	exit 1
fi
