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
# An "npm NAME@VERSION sha512-DIGEST" line is test data: fetched (after the
# apt packages, which bring npm) with `npm pack`, checked against DIGEST,
# and unpacked into ${RELPACK_CACHE:-$HOME/.cache/relpack}/npm/SCOPE-NAME-VERSION
# (where internal/testdeps looks); it counts as missing until that folder
# holds package/package.json.
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

# npmdir NAME@VERSION prints the folder an npm entry is unpacked into
# (internal/testdeps.NpmDir).
npmdir() {
	ver=${1##*@}
	pkg=${1%@*}
	pkg=${pkg#@}
	echo "${RELPACK_CACHE:-$HOME/.cache/relpack}/npm/$(echo "$pkg" | tr / -)-$ver"
}

# npm_fetch NAME@VERSION DIGEST fetches, checks and unpacks an npm entry;
# the folder appears whole or not at all.
npm_fetch() {
	dir=$(npmdir "$1")
	mkdir -p "$(dirname "$dir")"
	tmp=$(mktemp -d "$dir.tmp.XXXXXX")
	echo "install-test-deps: npm pack $1 (into $dir)" >&2
	if ! (cd "$tmp" && npm pack --ignore-scripts --silent "$1" >/dev/null); then
		rm -rf "$tmp"
		echo "install-test-deps: npm pack $1 failed" >&2
		exit 1
	fi
	set -- "$1" "$2" "$tmp"/*.tgz
	if [ $# -ne 3 ] || [ ! -f "$3" ]; then
		rm -rf "$tmp"
		echo "install-test-deps: npm pack $1 wrote no single tarball" >&2
		exit 1
	fi
	got=sha512-$(sha512sum "$3" | cut -d' ' -f1 | perl -ne 'chomp; print pack("H*", $_)' | base64 -w0)
	if [ "$got" != "$2" ]; then
		rm -rf "$tmp"
		echo "install-test-deps: npm pack $1 gave a tarball of digest $got, not the $2 $list pins" >&2
		exit 1
	fi
	mkdir "$tmp/unpacked"
	tar -xzf "$3" -C "$tmp/unpacked" --no-same-owner --no-same-permissions
	mv "$3" "$tmp/unpacked/"
	rm -rf "$dir"
	mv "$tmp/unpacked" "$dir"
	rm -rf "$tmp"
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
		npm)
			[ $# -ge 3 ] || { echo "install-test-deps: $list:$lineno: want npm NAME@VERSION sha512-DIGEST" >&2; exit 2; }
			[ -f "$(npmdir "$2")/package/package.json" ] || echo "$2 npm:$3"
			continue
			;;
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
pkgs=$(echo "$before" | awk '$2 !~ /^(go|npm):/ {print $2}' | sort -u | tr '\n' ' ')
npms=$(echo "$before" | awk '$2 ~ /^npm:/ {print $1 " " substr($2, 5)}')
gopkgs=$(echo "$before" | awk '$2 ~ /^go:/ {print substr($2, 4)}' | sort -u | tr '\n' ' ')
if [ "$check_only" = 1 ]; then
	echo "$before" | awk '{printf "install-test-deps: %s is missing (package %s)\n", $1, $2}' >&2
	[ -z "${pkgs% }" ] || echo "install-test-deps: install with: apt-get install $pkgs" >&2
	[ -z "${gopkgs% }" ] || echo "install-test-deps: install with: go install $gopkgs" >&2
	[ -z "$npms" ] || echo "install-test-deps: fetch the npm test data with: $0" >&2
	exit 1
fi

# Go programs are built in the background while apt-get works: a go
# install (syft: hundreds of modules) is minutes of compiling, apt-get
# mostly waiting on downloads and dpkg. go install needs no root, so it
# runs even where apt-get may not.
gojobs=""
golog=$(mktemp)
trap 'rm -f "$golog"' EXIT
for p in $gopkgs; do
	echo "install-test-deps: go install $p (into $(gobin)), in the background" >&2
	GOBIN=$(gobin) go install "$p" >>"$golog" 2>&1 &
	gojobs="$gojobs $!:$p"
done
[ -n "${pkgs% }" ] || pkgs=""
if [ -n "$pkgs" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "install-test-deps: installing $pkgs" >&2
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi
for j in $gojobs; do
	if ! wait "${j%%:*}"; then
		cat "$golog" >&2
		echo "install-test-deps: go install ${j#*:} failed" >&2
		exit 1
	fi
done
# npm test data last: npm may have come with the apt packages.
echo "$npms" | while read -r spec digest; do
	[ -z "$spec" ] || npm_fetch "$spec" "$digest"
done

after=$(missing)
if [ -n "$after" ]; then
	echo "$after" | awk -v l="$list" '{printf "install-test-deps: %s is still missing after installing %s: fix its line in %s\n", $1, $2, l}' >&2
	exit 1
fi
