package lifecycle

// debhelper 13.11.4's autoscripts (/usr/share/debhelper/autoscripts in
// libdebhelper-perl), as dh_installsystemd and dh_installsystemduser
// insert them: #UNITFILE# and #UNITFILES# become the quoted unit name,
// #RESTART_ACTION# the action on upgrade. testdata/dh/regen.sh shows how
// the reference outputs in testdata/dh were made with debhelper itself.
const (
	// postinst-systemd-enable
	debEnable = `if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	# The following line should be removed in trixie or trixie+1
	deb-systemd-helper unmask #UNITFILE# >/dev/null || true

	# was-enabled defaults to true, so new installations run enable.
	if deb-systemd-helper --quiet was-enabled #UNITFILE#; then
		# Enables the unit on first installation, creates new
		# symlinks on upgrades if the unit file has changed.
		deb-systemd-helper enable #UNITFILE# >/dev/null || true
	else
		# Update the statefile to add new symlinks (if any), which need to be
		# cleaned up on purge. Also remove old symlinks.
		deb-systemd-helper update-state #UNITFILE# >/dev/null || true
	fi
fi
`

	// postinst-systemd-dont-enable
	debDontEnable = `if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	if deb-systemd-helper debian-installed #UNITFILE#; then
		# The following line should be removed in trixie or trixie+1
		deb-systemd-helper unmask #UNITFILE# >/dev/null || true

		if deb-systemd-helper --quiet was-enabled #UNITFILE#; then
			# Create new symlinks, if any.
			deb-systemd-helper enable #UNITFILE# >/dev/null || true
		fi
	fi

	# Update the statefile to add new symlinks (if any), which need to be cleaned
	# up on purge. Also remove old symlinks.
	deb-systemd-helper update-state #UNITFILE# >/dev/null || true
fi
`

	// postinst-systemd-restart
	debRestart = `if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		if [ -n "$2" ]; then
			_dh_action=#RESTART_ACTION#
		else
			_dh_action=start
		fi
		deb-systemd-invoke $_dh_action #UNITFILES# >/dev/null || true
	fi
fi
`

	// postinst-systemd-start
	debStart = `if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		deb-systemd-invoke start #UNITFILES# >/dev/null || true
	fi
fi
`

	// prerm-systemd-restart
	debStopOnRemove = `if [ -z "${DPKG_ROOT:-}" ] && [ "$1" = remove ] && [ -d /run/systemd/system ] ; then
	deb-systemd-invoke stop #UNITFILES# >/dev/null || true
fi
`

	// postrm-systemd-reload-only
	debReloadOnRemove = `if [ "$1" = remove ] && [ -d /run/systemd/system ] ; then
	systemctl --system daemon-reload >/dev/null || true
fi
`

	// postrm-systemd
	debPurge = `if [ "$1" = "purge" ]; then
	if [ -x "/usr/bin/deb-systemd-helper" ]; then
		deb-systemd-helper purge #UNITFILES# >/dev/null || true
	fi
fi
`

	// postinst-systemd-user-enable
	debUserEnable = `if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	if [ -z "${DPKG_ROOT:-}" ] ; then
		# The following line should be removed in trixie or trixie+1
		deb-systemd-helper --user unmask #UNITFILE# >/dev/null || true

		# was-enabled defaults to true, so new installations run enable.
		if deb-systemd-helper --quiet --user was-enabled #UNITFILE# ; then
			# Enables the unit on first installation, creates new
			# symlinks on upgrades if the unit file has changed.
			deb-systemd-helper --user enable #UNITFILE# >/dev/null || true
		else
			# Update the statefile to add new symlinks (if any), which need to be
			# cleaned up on purge. Also remove old symlinks.
			deb-systemd-helper --user update-state #UNITFILE# >/dev/null || true
		fi
	fi
fi
`

	// postinst-systemd-user-dont-enable
	debUserDontEnable = `if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	if [ -z "${DPKG_ROOT:-}" ]; then
		if deb-systemd-helper --user debian-installed #UNITFILE# ; then
			# The following line should be removed in trixie or trixie+1
			deb-systemd-helper --user unmask #UNITFILE# >/dev/null || true

			if deb-systemd-helper --quiet --user was-enabled #UNITFILE# ; then
				# Create new symlinks, if any.
				deb-systemd-helper --user enable #UNITFILE# >/dev/null || true
			fi
		fi

		# Update the statefile to add new symlinks (if any), which need to be cleaned
		# up on purge. Also remove old symlinks.
		deb-systemd-helper --user update-state #UNITFILE# >/dev/null || true
	fi
fi
`

	// postrm-systemd-user
	debUserPurge = `if [ "$1" = "purge" ]; then
	if [ -z "${DPKG_ROOT:-}" ] && [ -x "/usr/bin/deb-systemd-helper" ] ; then
		deb-systemd-helper --user purge #UNITFILES# >/dev/null || true
	fi
fi
`
)
