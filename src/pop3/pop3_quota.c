/*
 * pop3_quota: maildirsize kept right by POP3 deletions (pop3_quota.h).
 */
#include "pop3/pop3_quota.h"
#include "pop3/pop3_maildir.h"
#include "delivery/quota.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The S= of a file name's base part, or -1. */
static long long s_size(const char *name)
{
	const char *p = strstr(name, ",S=");
	long long v = 0;

	if (!p)
		return -1;
	for (p += 3; *p >= '0' && *p <= '9'; p++) {
		if (v > LLONG_MAX / 10 - 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

void quota_pop3_deleted(const struct pop3_mailbox *mb, struct quota_usage *freed)
{
	char path[PATH_MAX];
	struct stat sb;

	freed->bytes = freed->messages = 0;
	for (size_t i = 0; i < mb->n; i++) {
		const struct pop3_msg *m = &mb->msgs[i];
		long long sz;
		if (!m->deleted)
			continue;
		if ((sz = s_size(m->name)) < 0)
			sz = pop3_msg_path(mb, m, path, sizeof path) == 0 && stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
		freed->bytes += sz;
		freed->messages++;
	}
}

void quota_pop3_update(const char *maildir, const struct quota_usage *freed, int failed)
{
	char path[PATH_MAX];

	if (failed) {
		if (snprintf(path, sizeof path, "%s/maildirsize", maildir) < (int)sizeof path)
			unlink(path);   /* recalculated at the next delivery */
		return;
	}
	if (freed->messages > 0)
		quota_maildir_add(maildir, -freed->bytes, -freed->messages);
}
