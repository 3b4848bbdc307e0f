#!/bin/sh
# scratch-apt.sh SUITE ARCH APTDIR
#
# Prints the path of an apt configuration (APTDIR/apt.conf) that fetches
# Debian SUITE for ARCH from this machine's mirror (scripts/debian-mirror.sh),
# verified with the machine's debian-archive-keyring, with its own sources,
# state and cache under APTDIR: the machine's apt and dpkg state is never
# touched, while its apt.conf.d (proxy settings) stays in force. The package
# lists are fetched when missing, older than a day, or of another mirror or
# suite. Use it as APT_CONFIG=$(scripts/scratch-apt.sh ...) apt-get download.
# The one scratch apt of testdata/sysroot.sh and scripts/capture-debian.sh.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 SUITE ARCH APTDIR" >&2; exit 2; }
suite=$1 arch=$2 aptdir=$3
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
die() { echo "scratch-apt.sh: $*" >&2; exit 1; }
[ -f "$keyring" ] || die "no $keyring (install debian-archive-keyring)"
mirror=$("$(dirname "$0")/debian-mirror.sh") || die "cannot read the Debian mirror from the apt sources"

mkdir -p "$aptdir/etc/preferences.d" "$aptdir/etc/sources.list.d" \
	"$aptdir/state/lists/partial" "$aptdir/cache/archives/partial"
: >"$aptdir/state/status"
printf 'deb [arch=%s signed-by=%s] %s %s main\n' "$arch" "$keyring" "$mirror" "$suite" >"$aptdir/etc/sources.list"
cat >"$aptdir/apt.conf" <<CONF
Dir::Etc::SourceList "$aptdir/etc/sources.list";
Dir::Etc::SourceParts "$aptdir/etc/sources.list.d";
Dir::Etc::Preferences "$aptdir/etc/preferences";
Dir::Etc::PreferencesParts "$aptdir/etc/preferences.d";
Dir::Etc::Trusted "$keyring";
Dir::State "$aptdir/state";
Dir::State::status "$aptdir/state/status";
Dir::Cache "$aptdir/cache";
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
APT::Get::AllowUnauthenticated "false";
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
CONF

stamp=$aptdir/state/updated
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ] || [ "$(cat "$stamp")" != "$mirror $suite" ]; then
	echo "scratch-apt.sh: apt-get update ($suite, $arch)" >&2
	APT_CONFIG=$aptdir/apt.conf apt-get -q update >"$aptdir/update.log" 2>&1 ||
		{ cat "$aptdir/update.log" >&2; die "apt-get update for $suite ($arch) failed: is $suite on the mirror?"; }
	echo "$mirror $suite" >"$stamp"
fi
echo "$aptdir/apt.conf"
