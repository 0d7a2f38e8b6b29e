/*
 * pop3_proxy_home: the home node's side of the POP3 proxy. On the internal
 * endpoint ([listen] pop3_cluster: implicit TLS whose handshake requires a
 * client certificate from the cluster CA, so only a node gets this far),
 * "XLOGIN mailbox client-ip" logs the mailbox in without a password: the
 * proxying node checked it. The mailbox must exist and its account be in
 * good standing (checked again here, from the shared store); then the
 * login goes on exactly as after a password (the mailbox lock, the
 * Maildir snapshot, the POP-before-SMTP grant), for the client's address.
 * The command does not exist on any other listener.
 */
#include "pop3/pop3_proxy.h"
#include "pop3/pop3_session_int.h"
#include "auth/login.h"
#include "store/store.h"
#include "util/log.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct xlogin_job {
	struct store *store;
	struct login l;            /* account, mailbox, ip: what p3_open_mailbox needs */
	int rc;                    /* 0, STORE_ENOTFOUND, STORE_EFAIL, or 1: suspended */
};

int pop3_proxy_is_xlogin(const struct pop3_session *s, const char *line, size_t len)
{
	return conn_kind(s->c) == LISTEN_POP3_CLUSTER && len > 7 && strncasecmp(line, "XLOGIN ", 7) == 0;
}

static void xlogin_work(void *arg)
{
	struct xlogin_job *j = arg;
	struct mailbox mb;

	if ((j->rc = store_mailbox_get(j->store, j->l.mailbox, &mb)) != 0)
		return;
	if (mb.account_suspended) {
		j->rc = 1;
		return;
	}
	snprintf(j->l.account, sizeof j->l.account, "%s", mb.account);
	snprintf(j->l.mailbox, sizeof j->l.mailbox, "%s", mb.address);
}

static void xlogin_done(void *st, void *arg)
{
	struct pop3_session *s = st;
	struct xlogin_job *j = arg;

	if (!s) {
		free(j);
		return;
	}
	if (j->rc == STORE_ENOTFOUND) {
		log_warn("pop3[%llu] ip=%s: XLOGIN for unknown mailbox %s", s->id, s->ip, j->l.mailbox);
		p3_error(s, "-ERR [AUTH] no such mailbox");
	} else if (j->rc == 1) {
		p3_error(s, "-ERR [AUTH] account not in good standing");
	} else if (j->rc != 0) {
		p3_reply(s, "-ERR [SYS/TEMP] temporary failure, try again later");
	} else {
		log_info("pop3[%llu] ip=%s: proxied login for %s from client %s", s->id, s->ip, j->l.mailbox,
		         j->l.ip);
		p3_open_mailbox(s, &j->l);
	}
	free(j);
}

int pop3_xlogin_parse(const char *line, char mailbox[320], char ip[64])
{
	char extra[2];
	unsigned char a[16];

	mailbox[0] = ip[0] = '\0';
	if (strncasecmp(line, "XLOGIN ", 7) != 0 || sscanf(line + 7, "%319s %63s %1s", mailbox, ip, extra) != 2 ||
	    (inet_pton(AF_INET, ip, a) != 1 && inet_pton(AF_INET6, ip, a) != 1) || !strchr(mailbox, '@'))
		return -1;
	return 0;
}

void pop3_proxy_xlogin(struct pop3_session *s, const char *line, size_t len)
{
	char mailbox[320], ip[64];
	struct xlogin_job *j;

	(void)len;
	if (s->state != ST_AUTH) {
		p3_error(s, "-ERR XLOGIN not allowed after login");
		return;
	}
	if (pop3_xlogin_parse(line, mailbox, ip) < 0) {
		p3_error(s, "-ERR Syntax: XLOGIN mailbox client-address");
		return;
	}
	if (!(j = calloc(1, sizeof *j))) {
		p3_reply(s, "-ERR [SYS/TEMP] out of memory, try again later");
		return;
	}
	j->store = s->srv->store;
	j->l.srv = s->srv;
	snprintf(j->l.mailbox, sizeof j->l.mailbox, "%s", mailbox);
	snprintf(j->l.ip, sizeof j->l.ip, "%s", ip);
	if (p3_job(s, s->srv->workers, xlogin_work, xlogin_done, j) < 0) {
		free(j);
		p3_reply(s, "-ERR [SYS/TEMP] temporary failure, try again later");
	}
}
