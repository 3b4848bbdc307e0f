#!/bin/sh
# Prints the path of the cached Debian bullseye (glibc 2.31) test root,
# making it once: scripts/debian-root.sh ARCH bullseye.
# Usage: scripts/bullseye-root.sh [amd64|arm64]    (needs root)
exec "$(dirname "$0")/debian-root.sh" "${1:-amd64}" bullseye
