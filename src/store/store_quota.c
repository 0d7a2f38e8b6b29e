/*
 * store_quota: the public face of quotas and autoresponders in the store
 * (store_quota.h, store_vacation.h): input checked and addresses
 * normalized here, once for both backends, then the backend's table.
 */
#include "store/store_quota.h"
#include "store/store_vacation.h"
#include "store/store_backend.h"
#include "store/store_valid.h"
#include <stdio.h>
#include <string.h>

/* local@domain lower-cased into addr (320 bytes); -1 on bad syntax. */
static int norm(const char *address, char *addr, size_t addrlen)
{
	char local[65], domain[256];

	if (!address || valid_address(address, local, sizeof local, domain, sizeof domain, NULL, 0) < 0)
		return -1;
	return snprintf(addr, addrlen, "%s@%s", local, domain) >= (int)addrlen ? -1 : 0;
}

static int bad_limit(int64_t v)
{
	return v < -2 || v > ((int64_t)1 << 50);
}

int store_quota_get(struct store *st, const char *address, struct store_quota *out)
{
	char addr[320];

	memset(out, 0, sizeof *out);
	if (norm(address, addr, sizeof addr) < 0)
		return STORE_ENOTFOUND;
	return st->ops->quota_get(st, addr, out);
}

int store_quota_set(struct store *st, const char *address, int64_t bytes, int64_t messages,
                    char *err, size_t errlen)
{
	char addr[320];

	if (norm(address, addr, sizeof addr) < 0) {
		store_seterr(err, errlen, "invalid address: %s", address ? address : "");
		return STORE_EINVAL;
	}
	if (bad_limit(bytes) || bad_limit(messages)) {
		store_seterr(err, errlen, "a quota must be 0 (no limit) or a positive size");
		return STORE_EINVAL;
	}
	return st->ops->quota_set(st, addr, bytes, messages, err, errlen);
}

int store_account_set_mailbox_quota(struct store *st, const char *account, int64_t bytes,
                                    int64_t messages, char *err, size_t errlen)
{
	if (bad_limit(bytes) || bad_limit(messages) || bytes == -1 || messages == -1) {
		store_seterr(err, errlen, "a quota must be 0 (no limit) or a positive size");
		return STORE_EINVAL;
	}
	return st->ops->account_quota_set(st, account, bytes, messages, err, errlen);
}

int store_account_mailbox_quota_get(struct store *st, const char *account, int64_t *bytes, int64_t *messages)
{
	*bytes = *messages = 0;
	if (!account || !*account)
		return STORE_ENOTFOUND;
	return st->ops->account_quota_get(st, account, bytes, messages);
}

int store_vacation_get(struct store *st, const char *address, struct vacation *out)
{
	char addr[320];

	memset(out, 0, sizeof *out);
	if (norm(address, addr, sizeof addr) < 0)
		return STORE_ENOTFOUND;
	return st->ops->vacation_get(st, addr, out);
}

/* No control characters but tab (and, in the text, line ends). */
static int clean(const char *s, int multiline)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t' && !(multiline && (*s == '\n' || *s == '\r')))
			return 0;
	return 1;
}

int store_vacation_set(struct store *st, const char *address, const struct vacation *v,
                       char *err, size_t errlen)
{
	char addr[320];

	if (norm(address, addr, sizeof addr) < 0) {
		store_seterr(err, errlen, "invalid address: %s", address ? address : "");
		return STORE_EINVAL;
	}
	if (!memchr(v->subject, '\0', sizeof v->subject) || !memchr(v->text, '\0', sizeof v->text) ||
	    !clean(v->subject, 0) || !clean(v->text, 1)) {
		store_seterr(err, errlen, "the subject must be one line, the text plain text (at most %d bytes)",
		             VACATION_TEXT_MAX - 1);
		return STORE_EINVAL;
	}
	if ((v->start[0] && valid_date(v->start, err, errlen) < 0) ||
	    (v->end[0] && valid_date(v->end, err, errlen) < 0))
		return STORE_EINVAL;
	if (v->start[0] && v->end[0] && strcmp(v->start, v->end) > 0) {
		store_seterr(err, errlen, "the end date %s is before the start date %s", v->end, v->start);
		return STORE_EINVAL;
	}
	return st->ops->vacation_set(st, addr, v, err, errlen);
}

int store_vacation_note(struct store *st, const char *address, const char *sender, time_t now,
                        int period)
{
	char addr[320], from[320];
	size_t i;

	if (norm(address, addr, sizeof addr) < 0 || !sender || !*sender || strlen(sender) >= sizeof from)
		return STORE_EINVAL;
	for (i = 0; sender[i]; i++)   /* one record per sender, whatever its case */
		from[i] = (char)((sender[i] >= 'A' && sender[i] <= 'Z') ? sender[i] + 32 : sender[i]);
	from[i] = '\0';
	return st->ops->vacation_note(st, addr, from, now, period < 0 ? 0 : period);
}
