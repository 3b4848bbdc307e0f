#!/bin/sh
# Remakes the reference maintainer scripts in this folder with debhelper
# itself (Debian 12: debhelper/libdebhelper-perl 13.11.4), for a package
# "demo" with one unit demo.service, in every combination relpack's
# pkg/lifecycle renders. Run on Debian 12 from this folder; needs apt.
# Nothing is installed: the packages are downloaded and unpacked.
set -eu
here=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download debhelper libdebhelper-perl >/dev/null
for d in ./*.deb; do dpkg -x "$d" dh; done
export PERL5LIB="$work/dh/usr/share/perl5" DH_AUTOSCRIPTDIR="$work/dh/usr/share/debhelper/autoscripts"
gen() { # NAME SCOPE [dh options]
	name=$1 scope=$2
	shift 2
	rm -rf p && mkdir -p p/debian
	printf 'Source: demo\nSection: misc\nPriority: optional\nMaintainer: A <a@example.org>\nBuild-Depends: debhelper-compat (= 13)\n\nPackage: demo\nArchitecture: all\nDescription: demo\n demo\n' >p/debian/control
	printf 'demo (1.0-1) stable; urgency=medium\n\n  * x\n\n -- A <a@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n' >p/debian/changelog
	if [ "$scope" = system ]; then
		unit=p/debian/demo.service target=multi-user.target tool=dh_installsystemd
	else
		unit=p/debian/demo.user.service target=default.target tool=dh_installsystemduser
	fi
	printf '[Unit]\nDescription=demo\n[Service]\nExecStart=/usr/bin/demo\n[Install]\nWantedBy=%s\n' "$target" >"$unit"
	(cd p && "$work/dh/usr/bin/$tool" "$@" && "$work/dh/usr/bin/dh_installdeb")
	rm -rf "${here:?}/$name" && mkdir -p "$here/$name"
	for f in preinst postinst prerm postrm; do
		if [ -f "p/debian/demo/DEBIAN/$f" ]; then cp "p/debian/demo/DEBIAN/$f" "$here/$name/"; fi
	done
}
gen system-enable-restart system
gen system-enable-norestart system --no-restart-after-upgrade --no-stop-on-upgrade
gen system-noenable-restart system --no-enable
gen system-noenable-norestart system --no-enable --no-restart-after-upgrade --no-stop-on-upgrade
gen user-enable user
gen user-noenable user --no-enable
