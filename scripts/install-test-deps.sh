#!/bin/sh
# Installs, from Debian's packages, everything relpack's tests use: the
# commands, files and folders listed in scripts/test-deps.txt (the same list
# internal/testdeps holds the tests to, so a test cannot need something this
# script does not install). Installs only what is missing, with apt-get
# (root, or sudo); afterwards checks every entry again and fails, naming the
# entry and its package, if one is still missing (a wrong line in the list).
# A command whose package is "go:PACKAGE@VERSION" is a Go program: it is
# installed with `go install PACKAGE@VERSION` into $GOBIN (else the first
# $GOPATH's bin, else ~/go/bin; where internal/testdeps looks too), and
# counts as missing unless its build info names that package and version.
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

# gobin prints where `go install` puts programs (the go command's defaults).
gobin() {
	if [ -n "${GOBIN:-}" ]; then
		echo "$GOBIN"
	elif [ -n "${GOPATH:-}" ]; then
		echo "${GOPATH%%:*}/bin"
	else
		echo "$HOME/go/bin"
	fi
}

# gotool_ok NAME PACKAGE@VERSION: the command (on PATH, else in gobin) is
# that package at that version, by its own build info.
gotool_ok() {
	bin=$(command -v "$1" 2>/dev/null) || bin=$(gobin)/$1
	[ -x "$bin" ] || return 1
	command -v go >/dev/null 2>&1 || return 1
	got=$(go version -m "$bin" 2>/dev/null | awk '$1 == "path" { p = $2 } $1 == "mod" { v = $3 } END { print p "@" v }')
	[ "$got" = "$2" ]
}

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
			case $pkg in
			go:*)
				gotool_ok "$name" "${pkg#go:}" && continue
				echo "$name $pkg"
				continue
				;;
			esac
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
pkgs=$(echo "$before" | awk '$2 !~ /^go:/ {print $2}' | sort -u | tr '\n' ' ')
gopkgs=$(echo "$before" | awk '$2 ~ /^go:/ {print substr($2, 4)}' | sort -u | tr '\n' ' ')
if [ "$check_only" = 1 ]; then
	echo "$before" | awk '{printf "install-test-deps: %s is missing (package %s)\n", $1, $2}' >&2
	[ -z "${pkgs% }" ] || echo "install-test-deps: install with: apt-get install $pkgs" >&2
	[ -z "${gopkgs% }" ] || echo "install-test-deps: install with: go install $gopkgs" >&2
	exit 1
fi

# Go programs first: go install needs no root, and apt-get may not run.
for p in $gopkgs; do
	echo "install-test-deps: go install $p (into $(gobin))" >&2
	GOBIN=$(gobin) go install "$p"
done
[ -n "${pkgs% }" ] || pkgs=""
if [ -z "$pkgs" ]; then
	after=$(missing)
	[ -z "$after" ] && exit 0
	echo "$after" | awk -v l="$list" '{printf "install-test-deps: %s is still missing after installing %s: fix its line in %s\n", $1, $2, l}' >&2
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
