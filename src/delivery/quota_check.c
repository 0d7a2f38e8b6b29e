/*
 * quota_check: a mailbox's limit from the store and its usage from its
 * maildirsize, for the SMTP server (RCPT with SIZE, after DATA) and the
 * queue runner (quota.h). Blocking: call on a worker.
 */
#include "delivery/quota.h"
#include "store/store.h"
#include "store/store_quota.h"
#include <limits.h>

enum quota_result quota_check(struct store *st, const char *data_dir, const char *address, uint64_t size)
{
	struct store_quota sq;
	struct quota_limit q;
	struct quota_usage u;
	char md[PATH_MAX], addr[330];
	size_t i;
	int rc;

	for (i = 0; address[i] && i + 1 < sizeof addr; i++)
		addr[i] = (char)((address[i] >= 'A' && address[i] <= 'Z') ? address[i] + 32 : address[i]);
	addr[i] = '\0';
	address = addr;
	rc = store_quota_get(st, address, &sq);

	if (rc == STORE_ENOTFOUND)
		return QUOTA_FITS;   /* not a mailbox (any more): the caller says so */
	if (rc != 0)
		return QUOTA_ERROR;
	q.bytes = sq.bytes;
	q.messages = sq.messages;
	if (!quota_limited(&q))
		return QUOTA_FITS;
	if (quota_maildir_path(data_dir, address, md, sizeof md) < 0 || quota_maildir_usage(md, &q, &u) < 0)
		return QUOTA_ERROR;
	return quota_would_exceed(&q, &u, size) ? QUOTA_FULL : QUOTA_FITS;
}
