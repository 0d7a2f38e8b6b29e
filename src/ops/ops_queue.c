/*
 * ops_queue: relay grants and the queue's control verbs, shared by
 * hostmailctl and the admin API (ops.h). The queue's changes go through
 * the running daemon's control socket (queue/control.h), whoever asks:
 * the queue runner owns the messages it may be delivering.
 */
#include "ops/ops.h"
#include "queue/control.h"
#include "queue/queue.h"
#include "store/relay_auth.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int ops_relay_revoke(struct store *st, const char *ip, char *out, size_t outlen, struct ops_err *e)
{
	unsigned char a[sizeof(struct in6_addr)];
	int rc;

	if (inet_pton(AF_INET, ip, a) == 1)
		inet_ntop(AF_INET, a, out, (socklen_t)outlen);
	else if (inet_pton(AF_INET6, ip, a) == 1)
		inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
	else
		return ops_fail(e, STORE_EINVAL, "ip", "%s is not an IP address", ip);
	if (!st)        /* only the address's check */
		return 0;
	rc = relay_auth_revoke(st, out);
	if (rc == STORE_ENOTFOUND)
		return ops_fail(e, rc, NULL, "no relay authorization for %s", out);
	return rc ? ops_fail(e, STORE_EFAIL, NULL, "cannot revoke the relay authorization of %s", out) : 0;
}

int ops_queue_ask(const char *data_dir, const char *verb, const char *id, char *ok, size_t oklen,
                  struct ops_err *e)
{
	char dir[1024], req[64], ans[256];

	if (snprintf(dir, sizeof dir, "%s/queue", data_dir) >= (int)sizeof dir)
		return ops_fail(e, STORE_EFAIL, NULL, "data_dir too long");
	if (id && !queue_id_valid(id))
		return ops_fail(e, STORE_EINVAL, "id", "%s is not a queue id", id);
	snprintf(req, sizeof req, "%s%s%s", verb, id ? " " : "", id ? id : "");
	if (ctl_request(dir, req, 60, ans, sizeof ans) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			return 1;
		return ops_fail(e, STORE_EFAIL, NULL, "no answer from hostmaild on %s/%s: %s", dir,
		                CTL_SOCKET_NAME, strerror(errno));
	}
	if (strncmp(ans, "OK", 2) == 0 && (ans[2] == '\0' || ans[2] == ' ')) {
		snprintf(ok, oklen, "%s", ans[2] ? ans + 3 : "");
		return 0;
	}
	if (strncmp(ans, "ERR no such message", 19) == 0)
		return ops_fail(e, STORE_ENOTFOUND, NULL, "%s", ans + 4);
	return ops_fail(e, STORE_EFAIL, NULL, "%s", strncmp(ans, "ERR ", 4) == 0 ? ans + 4 : ans);
}
