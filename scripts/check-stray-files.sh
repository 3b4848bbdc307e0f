#!/bin/sh
# Fails when something wrote files onto this machine that no Debian package
# owns: every path under /usr, /etc, /opt and /var/lib (or the given DIRs)
# created or changed since a start time that dpkg does not list, apart from
# what dpkg's own runs (apt-get install, maintainer scripts) wrote meanwhile.
# `make test` runs it after `go test` with the start of make itself, so the
# test suite leaves the machine as it found it (docs/testing.md).
#
# Usage: scripts/check-stray-files.sh SINCE [DIR...]
#   SINCE is one of
#     --since-pid PID    the start of process PID (make passes its own)
#     --since-file FILE  the change time of FILE (touch it before the run)
#     --since SECONDS    a Unix time
# Exit 0: nothing stray; 1: stray paths, listed; 2: usage error.
#
# Not reported: apt's and dpkg's state (/var/lib/apt, /var/lib/dpkg,
# /var/cache; and /var/lib/swcatalog with its old name /var/lib/app-info,
# the AppStream catalogue appstream's apt hook, 50appstream, links into
# /var/lib/apt/lists on every apt-get update where appstream is installed),
# Python bytecode caches (__pycache__, written by any root
# python3 run such as rpmlint's), and paths changed while dpkg was running
# (its log, /var/log/dpkg.log, gives the times): update-alternatives links,
# ld.so.cache, ca-certificates links and the like belong to no package but
# are the install's own.
set -eu

usage() {
	echo "usage: $0 --since-pid PID | --since-file FILE | --since SECONDS [DIR...]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
case $1 in
--since-pid)
	# Field 22 of /proc/PID/stat is the start in clock ticks after boot;
	# the name field before it may hold spaces, so count after its ')'.
	[ -r "/proc/$2/stat" ] || { echo "check-stray-files: no process $2" >&2; exit 2; }
	ticks=$(sed 's/.*) //' "/proc/$2/stat" | awk '{print $20}')
	btime=$(awk '$1 == "btime" {print $2}' /proc/stat)
	hz=$(getconf CLK_TCK)
	# One second earlier: btime is rounded down to whole seconds.
	since=$((btime + ticks / hz - 1))
	what="the start of process $2"
	;;
--since-file)
	[ -e "$2" ] || { echo "check-stray-files: no file $2" >&2; exit 2; }
	since=$(stat -c %Z "$2")
	what="$2 was touched"
	;;
--since)
	case $2 in '' | *[!0-9]*) usage ;; esac
	since=$2
	what="$(date -u -d "@$2" '+%F %T UTC')"
	;;
*) usage ;;
esac
shift 2
[ $# -gt 0 ] || set -- /usr /etc /opt /var/lib

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every path whose inode changed (created, written, chmod-ed) since the
# start: the change time, because extraction tools (cpio -m, tar) set the
# modification time from the archive.
for root in "$@"; do
	[ -d "$root" ] || continue
	find "$root" -xdev -mindepth 1 \
		\( -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/cache -o -path /var/lib/swcatalog -o -path /var/lib/app-info -o -name __pycache__ \) -prune \
		-o -newerct "@$since" -print 2>/dev/null || true
done | LC_ALL=C sort -u >"$tmp/changed"

# What dpkg owns: every package's file list. Debian 12 merged /bin, /sbin
# and /lib* into /usr, but the lists still name many files by the old
# path, so /usr/lib/x is owned when /lib/x is listed.
cat /var/lib/dpkg/info/*.list 2>/dev/null >"$tmp/owned"
awk 'FILENAME == ARGV[1] { owned[$0] = 1; next }
	{ p = $0; alias = "" }
	p ~ /^\/usr\/(bin|sbin|lib|lib32|lib64|libx32)\// { alias = substr(p, 5) }
	!(p in owned) && !(alias != "" && alias in owned)' "$tmp/owned" "$tmp/changed" >"$tmp/unlisted"

# Diversions and the like: ask dpkg itself about what its lists lack
# ("PACKAGE: PATH" and "diversion by P from/to: PATH" lines).
if [ -s "$tmp/unlisted" ]; then
	awk '{ print } /^\/usr\/(bin|sbin|lib|lib32|lib64|libx32)\// { print substr($0, 5) }' "$tmp/unlisted" |
		tr '\n' '\0' | xargs -0 dpkg-query -S 2>/dev/null | sed -n 's/^[^:]*: //p' | sort -u >"$tmp/queried" || true
	awk 'FILENAME == ARGV[1] { owned[$0] = 1; next }
		{ p = $0; alias = "" }
		p ~ /^\/usr\/(bin|sbin|lib|lib32|lib64|libx32)\// { alias = substr(p, 5) }
		!(p in owned) && !(alias != "" && alias in owned)' "$tmp/queried" "$tmp/unlisted" >"$tmp/unowned"
else
	: >"$tmp/unowned"
fi

# dpkg's runs that overlap the window: "START END" of each, in Unix time.
# A run is a "startup" line of dpkg.log and the lines after it.
since_local=$(date -d "@$since" '+%F %T')
: >"$tmp/runs"
if [ -r /var/log/dpkg.log ]; then
	awk -v since="$since_local" '
		{ t = $1 " " $2 }
		$3 == "startup" { if (s != "" && e >= since) print s "|" e; s = t }
		{ e = t }
		END { if (s != "" && e >= since) print s "|" e }' /var/log/dpkg.log |
		while IFS='|' read -r s e; do
			echo "$(date -d "$s" +%s) $(date -d "$e" +%s)"
		done >"$tmp/runs"
fi

# Unowned paths changed outside every dpkg run are stray. (A second's
# slack before a run, five after: the log has whole seconds, and triggers
# finish after the last line.)
tr '\n' '\0' <"$tmp/unowned" | xargs -0 -r stat -c '%Z %n' 2>/dev/null |
	awk 'FILENAME == ARGV[1] { n++; s[n] = $1; e[n] = $2; next }
		{ c = $1; sub(/^[0-9]+ /, ""); for (i = 1; i <= n; i++) if (s[i] - 1 <= c && c <= e[i] + 5) next; print }' \
		"$tmp/runs" - >"$tmp/stray"

# A folder counts when it is new, not when an entry was added to or removed
# from it: it is left out when it holds an entry older than the start.
: >"$tmp/report"
while IFS= read -r p; do
	if [ -d "$p" ] && [ ! -L "$p" ] &&
		[ -n "$(find "$p" -mindepth 1 -maxdepth 1 ! -newerct "@$since" -print -quit 2>/dev/null)" ]; then
		continue
	fi
	echo "$p" >>"$tmp/report"
done <"$tmp/stray"
stray=$(wc -l <"$tmp/report")

[ "$stray" -eq 0 ] && exit 0
echo "check-stray-files: $stray paths under $* appeared or changed since $what and belong to no Debian package:" >&2
while IFS= read -r p; do
	echo "  $(ls -ld "$p" 2>/dev/null || echo "$p")" >&2
done <"$tmp/report"
echo "check-stray-files: something the tests ran wrote onto this machine. Find and fix the test, then remove the paths above (docs/testing.md)." >&2
exit 1
