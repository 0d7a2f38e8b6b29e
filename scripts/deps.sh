#!/bin/bash
# Install the Debian packages hostmail needs to build, run and test,
# only those that are missing (checked with dpkg -s).
set -e
PKGS="build-essential pkg-config libevent-dev libinih-dev libsqlite3-dev libssl-dev
libcrypt-dev libcmocka-dev libc-ares-dev libpq-dev postgresql openssl python3 python3-pytest python3-pytest-xdist sqlite3 curl msmtp
swaks libnet-ssleay-perl libio-socket-ssl-perl libio-socket-inet6-perl iproute2
chromium fetchmail dnsmasq-base testssl.sh clang libclang-rt-dev postfix
dovecot-imapd dovecot-pop3d dovecot-sqlite dovecot-pgsql isync"
# DKIM, tests only: libopendkim is the reference tests/unit/test_dkim_sign.c
# compares our signatures with; python3-dkim (with python3-nacl for Ed25519,
# only a Recommends of it) verifies them in tests/integration/test_dkim.py
PKGS="$PKGS libopendkim-dev python3-dkim python3-nacl"
# The admin API: jansson parses request bodies; python3-jsonschema checks
# its answers against its OpenAPI document in the tests. The package:
# Debian's tools build it (make deb) and check it (lintian).
PKGS="$PKGS libjansson-dev python3-jsonschema debhelper dpkg-dev fakeroot lintian"
# Operations, tests only: a private Prometheus scrapes /metrics
# (tests/integration/prom.py); fail2ban-regex checks the fail2ban filter
# in contrib/fail2ban/ against the daemon's log. Neither service may start:
# see policy-rc.d below.
PKGS="$PKGS prometheus fail2ban"
# SRS, tests only: postsrsd (Postfix's SRS daemon) run privately on
# loopback checks that our SRS addresses and its own verify both ways
# (tests/integration/test_srs.py); its service must not start either.
PKGS="$PKGS postsrsd"
# Milters, tests only (tests/integration/rspamd.py, test_milter.py): a
# private rspamd (its proxy worker in milter mode) and a private opendkim
# in verify mode filter inbound mail; neither system service may start
# (policy-rc.d below). redis-server: rspamd's greylisting keeps its state there.
PKGS="$PKGS rspamd opendkim opendkim-tools redis-server"
missing=()
for p in $PKGS; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node.js and npm for the ACC's browser test (Playwright, tests/browser/):
# a Node.js already on the machine (some bundle npm) counts; else Debian's.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
# The unprivileged user hostmaild runs as when started as root ([server]
# user; the demo and the tests use it): a system user without a login.
if ! getent passwd hostmail >/dev/null; then
	echo "deps: adding the system user hostmail"
	$SUDO useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "hostmail daemon" hostmail
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# postfix: a private receiving MX in the outbound tests (tests/integration/
# postfix_mx.py). 'No configuration': no system instance is set up or started.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# Dovecot's packages would start a system instance on 110/143/993/995: a
# policy-rc.d that exits 101 forbids it while they install (as in
# containers); hostmail's tests and demo run private instances only
# (dovecot -F -c FILE), never /etc/dovecot's. The same for prometheus,
# fail2ban (tests only: a private Prometheus, fail2ban-regex alone) and postsrsd.
# (dovecot -F -c FILE), never /etc/dovecot's. The same for prometheus and
# fail2ban (tests only: a private Prometheus, fail2ban-regex alone), rspamd,
# opendkim and redis-server (tests only: private instances on loopback).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs packages\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	trap '$SUDO rm -f "$policy"' EXIT
fi
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
