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
#include <time.h>

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

static int qdir_of(const char *data_dir, const char *id, char *dir, size_t len, struct ops_err *e)
{
	if (snprintf(dir, len, "%s/queue", data_dir) >= (int)len)
		return ops_fail(e, STORE_EFAIL, NULL, "data_dir too long");
	if (!queue_id_valid(id))
		return ops_fail(e, STORE_EINVAL, "id", "%s is not a queue id", id);
	return 0;
}

/* A failed envelope step on message id, in words. */
static int queue_fail(struct ops_err *e, const char *what, const char *id)
{
	if (errno == ENOENT)
		return ops_fail(e, STORE_ENOTFOUND, NULL, "no such message: %s", id);
	return ops_fail(e, STORE_EFAIL, NULL, "cannot %s %s: %s", what, id, strerror(errno));
}

int ops_queue_hold(const char *data_dir, const char *id, const char *reason, struct ops_err *e)
{
	char dir[1024];
	int rc;

	if ((rc = qdir_of(data_dir, id, dir, sizeof dir, e)))
		return rc;
	if (!reason || !*reason)
		reason = OPS_HOLD_REASON;
	if (strlen(reason) > OPS_HOLD_REASON_MAX)
		return ops_fail(e, STORE_EINVAL, "reason", "the reason is longer than %d bytes",
		                OPS_HOLD_REASON_MAX);
	for (const char *p = reason; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ops_fail(e, STORE_EINVAL, "reason", "the reason has a control character");
	if (envelope_hold(dir, id, reason) < 0)
		return queue_fail(e, "hold", id);
	return 0;
}

int ops_queue_release(const char *data_dir, const char *id, int *daemon, struct ops_err *e)
{
	struct envelope env;
	char dir[1024], ok[64];
	int rc;

	*daemon = 0;
	if ((rc = qdir_of(data_dir, id, dir, sizeof dir, e)))
		return rc;
	if (envelope_load(dir, id, &env) < 0)
		return queue_fail(e, "read", id);
	rc = env.hold[0] != '\0';
	envelope_free(&env);
	if (!rc)
		return ops_fail(e, STORE_EEXIST, NULL, "%s is not on hold", id);
	if (envelope_release(dir, id, time(NULL)) < 0)
		return queue_fail(e, "release", id);
	rc = ops_queue_ask(data_dir, "FLUSH", id, ok, sizeof ok, e);
	if (rc == 1)
		return 0;       /* no daemon: it tries every queued message when it starts */
	if (rc == STORE_ENOTFOUND)
		return 0;       /* delivered or deleted meanwhile: released all the same */
	*daemon = rc == 0;
	return rc;
}
