#!/bin/sh
# Prints this machine's Debian mirror: the first URI of its apt sources that
# is a "deb" source and not the security archive, read from
# /etc/apt/sources.list.d/*.sources (deb822) and then from
# /etc/apt/sources.list and /etc/apt/sources.list.d/*.list. The one reading
# of the mirror for scripts/debian-root.sh, scripts/capture-debian.sh and
# testdata/sysroot.sh: the address is never written into the repository.
# Exits 1, saying so, when there is none.
set -eu
mirror_uri() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822 stanzas: the first URI of a stanza whose types include
		# deb and whose suites and URIs do not name the security archive.
		awk '
			function flush() {
				if (uri != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && suites !~ /security/ && uri !~ /security/) { print uri; found = 1; exit }
				uri = ""; suites = ""; types = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { $1 = ""; suites = $0 }
			tolower($1) == "types:" { $1 = ""; types = $0 }
			END { if (!found) flush() }
		' "$f" | head -n1
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
			awk '$1 == "deb" && $2 !~ /security/ && $3 !~ /security/ { print $2 }'
	done
}
mirror=$(mirror_uri | head -n1)
if [ -z "$mirror" ]; then
	echo "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list" >&2
	exit 1
fi
echo "$mirror"
