#!/usr/bin/env bash
# The browser tests drive the distribution's Chromium (/usr/bin/chromium)
# with Playwright, which then downloads no browser. Install it when missing:
# as root (CI), or with sudo when that needs no password; otherwise say so
# (the browser tests are then skipped, except in CI, where they fail).
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install_chromium: /usr/bin/chromium is missing and cannot be installed without root;" \
         "browser tests will be skipped (apt-get install chromium)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq chromium >/dev/null
