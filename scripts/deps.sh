#!/bin/bash
# Install the Debian packages hostmail needs to build, run and test,
# only those that are missing (checked with dpkg -s).
set -e
PKGS="build-essential pkg-config libevent-dev libinih-dev libsqlite3-dev libssl-dev
libcrypt-dev libcmocka-dev libc-ares-dev openssl python3 python3-pytest sqlite3 curl msmtp
swaks libnet-ssleay-perl libio-socket-ssl-perl libio-socket-inet6-perl
chromium fetchmail dnsmasq-base testssl.sh clang libclang-rt-dev"
missing=()
for p in $PKGS; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node.js and npm for the ACC's browser test (Playwright, tests/browser/):
# a Node.js already on the machine (some bundle npm) counts; else Debian's.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
