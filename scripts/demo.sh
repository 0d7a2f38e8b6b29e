#!/bin/bash
# `make run`: a demo hostmaild in the foreground on unprivileged loopback
# ports, with its own data directory in ./demo/ (gitignored; see below for
# root), a self-signed
# certificate and a demo account/mailbox. Safe to run again: the
# certificate, the account and the mailbox are created only when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEMO="$ROOT/demo"
CFG="$DEMO/hostmail.ini"
HOSTMAILD="$ROOT/build/hostmaild"
HOSTMAILCTL="$ROOT/build/hostmailctl"

for b in "$HOSTMAILD" "$HOSTMAILCTL"; do
	[ -x "$b" ] || { echo "demo: $b is missing; run 'make' first" >&2; exit 1; }
done

# Started as root, hostmaild switches to the system user hostmail (added by
# scripts/deps.sh), which must reach the data directory: when this checkout
# is not reachable for it (say under /root), the demo lives in /var/lib.
USER_LINE=""
if [ "$(id -u)" -eq 0 ]; then
	USER_LINE="user = hostmail"
	if ! runuser -u hostmail -- test -x "$ROOT"; then
		DEMO=/var/lib/hostmail-demo
		CFG="$DEMO/hostmail.ini"
		echo "demo: $ROOT is not reachable for the user hostmail; the demo lives in $DEMO"
	fi
fi

mkdir -p "$DEMO/data" "$DEMO/tls/sni"

# The host names the ACC tells the customers to use: the new scheme gives
# the account demo "demo.mail.localhost", the legacy one gives the account
# olddemo (created 2009, server 7) "mail007.localhost". Names under
# .localhost never reach real DNS (RFC 6761), but a stock Debian 12 does
# not resolve them (no systemd-resolved, no nss-myhostname), so they go
# into /etc/hosts, between the marker lines below, when this runs as root;
# otherwise the line to add is printed. The certificate carries both.
DEMO_HOSTS="demo.mail.localhost mail007.localhost"
HOSTS_BEGIN="# hostmail demo (scripts/demo.sh): begin"
HOSTS_END="# hostmail demo (scripts/demo.sh): end"
hosts_ok() {
	for h in $DEMO_HOSTS; do
		getent hosts "$h" | grep -q '^127\.0\.0\.1 ' || return 1
	done
}
if ! hosts_ok; then
	if [ "$(id -u)" -eq 0 ] && [ -w /etc/hosts ]; then
		# rewritten in place (in a container /etc/hosts is often a bind mount)
		awk -v b="$HOSTS_BEGIN" -v e="$HOSTS_END" '$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }' \
			/etc/hosts > /etc/hosts.hostmail-demo.$$
		cat /etc/hosts.hostmail-demo.$$ > /etc/hosts
		rm -f /etc/hosts.hostmail-demo.$$
		printf '%s\n127.0.0.1 %s\n%s\n' "$HOSTS_BEGIN" "$DEMO_HOSTS" "$HOSTS_END" >> /etc/hosts
		echo "demo: added 127.0.0.1 $DEMO_HOSTS to /etc/hosts"
	else
		echo "demo: $DEMO_HOSTS do not resolve; to copy the ACC's settings into a mail program, run:"
		echo "  echo '127.0.0.1 $DEMO_HOSTS' | sudo tee -a /etc/hosts"
	fi
fi

# IMAP comes from Dovecot beside hostmaild (docs/imap.md), when Debian's
# dovecot-imapd is installed (scripts/deps.sh installs it).
IMAP_LINES=""
if command -v dovecot >/dev/null 2>&1 && [ -x /usr/lib/dovecot/imap ]; then
	IMAP_LINES="[imap]
listen = 127.0.0.1:5143
listen_tls = 127.0.0.1:5993"
fi

# The configuration is rewritten every time (it holds no state).
cat > "$CFG" <<INI
; hostmail demo configuration, written by scripts/demo.sh
[server]
hostname = localhost
data_dir = $DEMO/data
$USER_LINE

[listen]
smtp = 127.0.0.1:2525
submission = 127.0.0.1:5587
submissions = 127.0.0.1:5465
pop3 = 127.0.0.1:5110
pop3s = 127.0.0.1:5995
acc = 127.0.0.1:8443

[tls]
certificate = $DEMO/tls/localhost.crt
key = $DEMO/tls/localhost.key
sni_dir = $DEMO/tls/sni

[hostnames]
pattern = {user}.mail.localhost
legacy_pattern = mail{server}.localhost
legacy_cutover = 2011-06-01

[acc]
provider_name = hostmail demo

$IMAP_LINES
INI

# A certificate from before the host names above is made again.
if [ ! -s "$DEMO/tls/localhost.crt" ] || [ ! -s "$DEMO/tls/localhost.key" ] ||
   ! openssl x509 -in "$DEMO/tls/localhost.crt" -noout -ext subjectAltName 2>/dev/null | grep -q 'DNS:mail007.localhost'; then
	echo "demo: generating a self-signed certificate for localhost, demo.mail.localhost, mail007.localhost"
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,DNS:demo.mail.localhost,DNS:mail007.localhost,IP:127.0.0.1" \
		-keyout "$DEMO/tls/localhost.key" -out "$DEMO/tls/localhost.crt" 2>/dev/null
	chmod 600 "$DEMO/tls/localhost.key"
fi

ctl() { "$HOSTMAILCTL" -c "$CFG" "$@"; }

if ! ctl account show demo >/dev/null 2>&1; then
	ctl account add demo
	printf 'demo-password\n' | ctl account passwd demo
fi
if ! ctl domain list demo 2>/dev/null | grep -qw 'demo\.test'; then
	ctl domain add demo demo.test
fi
if ! ctl mailbox show user@demo.test >/dev/null 2>&1; then
	printf 'demo-password\n' | ctl mailbox add user@demo.test
fi
# a customer of the old scheme: its settings name mail007.localhost
if ! ctl account show olddemo >/dev/null 2>&1; then
	ctl account add olddemo --created 2009-01-15 --server-number 7
	printf 'demo-password\n' | ctl account passwd olddemo
fi
if ! ctl domain list olddemo 2>/dev/null | grep -qw 'old-demo\.test'; then
	ctl domain add olddemo old-demo.test
fi
if ! ctl mailbox show user@old-demo.test >/dev/null 2>&1; then
	printf 'demo-password\n' | ctl mailbox add user@old-demo.test
fi

cat <<TXT

hostmail demo
  configuration  $CFG
  data           $DEMO/data
  account        demo       (Account Control Center password: demo-password)
  mailbox        user@demo.test  (password: demo-password), server demo.mail.localhost
  legacy account olddemo    (password: demo-password), user@old-demo.test on mail007.localhost
  certificate    $DEMO/tls/localhost.crt, self-signed for localhost, demo.mail.localhost
                 and mail007.localhost: clients must trust it (or ignore the warning)

Receive (port 25's role, no login; from another terminal):
  swaks --server 127.0.0.1:2525 --to user@demo.test
  ls $DEMO/data/mail/demo.test/user/new/
Send as the customer (submission, STARTTLS + AUTH; 5465 is implicit TLS):
  swaks --server 127.0.0.1:5587 --tls --auth-user user@demo.test \\
        --auth-password demo-password --from user@demo.test --to user@demo.test
Check mail over POP3 (STLS on 5110, implicit TLS on 5995):
  curl -k --ssl-reqd pop3://127.0.0.1:5110/ -u user@demo.test:demo-password
  openssl s_client -quiet -connect 127.0.0.1:5995
Account Control Center (log in as demo / demo-password):
  https://127.0.0.1:8443/
The settings a mail program needs, as the ACC shows them:
  build/hostmailctl -c demo/hostmail.ini mailbox show user@demo.test
What a mail program fetches to set itself up (autoconfig, Autodiscover):
  curl -k 'https://127.0.0.1:8443/mail/config-v1.1.xml?emailaddress=user@demo.test'
Send as msmtp would with those settings (the certificate checked by name):
  swaks --server demo.mail.localhost:5465 --tlsc --tls-verify --tls-ca-path $DEMO/tls/localhost.crt \\
        --auth-user user@demo.test --auth-password demo-password --from user@demo.test --to user@demo.test
Accounts, domains, mailboxes, the queue, POP-before-SMTP authorizations:
  build/hostmailctl -c demo/hostmail.ini account list
  build/hostmailctl -c demo/hostmail.ini queue list
  build/hostmailctl -c demo/hostmail.ini relay list
Without login, relaying to other domains is refused (554 5.7.1).
The daemon logs one line per event below. Stop it with Ctrl-C.

TXT

[ -n "$IMAP_LINES" ] || exec "$HOSTMAILD" -c "$CFG"

# A private Dovecot from `hostmailctl dovecot-config`: its own directory,
# never /etc/dovecot or the system's service; stopped with the demo.
DC="$DEMO/dovecot"
mkdir -p "$DC"
chmod 755 "$DC"
ctl dovecot-config --sql > "$DC/hostmail-sql.conf.ext"
ctl dovecot-config --sql-file "$DC/hostmail-sql.conf.ext" --instance-dir "$DC" > "$DC/dovecot.conf"
chmod 644 "$DC/hostmail-sql.conf.ext" "$DC/dovecot.conf"
dovecot -F -c "$DC/dovecot.conf" 2>>"$DC/dovecot.log" &
DOVECOT_PID=$!
trap 'kill "$DOVECOT_PID" 2>/dev/null; wait "$DOVECOT_PID" 2>/dev/null' EXIT
cat <<TXT
Read mail over IMAP (Dovecot, log in $DC/dovecot.log; STARTTLS on 5143, TLS on 5993):
  curl -k 'imaps://127.0.0.1:5993/INBOX?ALL' -u user@demo.test:demo-password
  openssl s_client -quiet -connect 127.0.0.1:5993
  (an IMAP login authorizes its address to relay, as a POP3 login does)

TXT
"$HOSTMAILD" -c "$CFG"
