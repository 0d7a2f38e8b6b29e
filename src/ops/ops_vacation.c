/*
 * ops_vacation: a mailbox's autoresponder as hostmailctl mailbox vacation
 * and the admin API's /api/mailboxes/ADDRESS/vacation change it
 * (ops_quota.h, docs/vacation.md): what is named changes, each value is
 * checked with the name of its field, and the store checks again.
 */
#include "ops/ops_quota.h"
#include "store/store_valid.h"
#include "util/jw.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ops_vacation_get(struct store *st, const char *address, struct vacation *out, struct ops_err *e)
{
	int rc = store_vacation_get(st, address, out);

	if (rc)
		return ops_fail(e, rc, NULL, rc == STORE_ENOTFOUND ? "mailbox %s does not exist" : "database error",
		                address);
	return 0;
}

int ops_vacation_set(struct store *st, const char *address, const struct vacation *v, struct ops_err *e)
{
	char err[256] = "";
	int rc = store_vacation_set(st, address, v, err, sizeof err);

	if (rc == STORE_EFAIL && !err[0])
		return ops_fail(e, rc, NULL, "database error");
	return rc ? ops_fail(e, rc, rc == STORE_EINVAL ? "vacation" : NULL, "%s", err[0] ? err : "no such mailbox")
	          : 0;
}

/* A text value into out (size n): 0, or -1 with e set (too long). */
static int put_text(const char *v, char *out, size_t n, const char *field, struct ops_err *e)
{
	if (!v)
		return 0;
	if (strlen(v) >= n)
		return ops_fail(e, STORE_EINVAL, field, "the %s is longer than %zu bytes", field, n - 1), -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

/* A day: NULL unchanged, "" or "-" none, else YYYY-MM-DD. 0 or -1 (e set). */
static int put_date(const char *v, char out[11], const char *field, struct ops_err *e)
{
	char err[200];

	if (!v)
		return 0;
	if (!*v || !strcmp(v, "-")) {
		out[0] = '\0';
		return 0;
	}
	if (valid_date(v, err, sizeof err) < 0)   /* checks the length too */
		return ops_fail(e, STORE_EINVAL, field, "%s: %s", field, err), -1;
	memcpy(out, v, 11);
	return 0;
}

int ops_vacation_change(struct store *st, const char *address, const struct ops_vacation_change *c,
                        struct vacation *out, struct ops_err *e)
{
	struct vacation *v = malloc(sizeof *v);
	int rc;

	if (!v)
		return ops_fail(e, STORE_EFAIL, NULL, "out of memory");
	if ((rc = ops_vacation_get(st, address, v, e)) != 0)   /* what is not named stays */
		goto out;
	v->enabled = c->enabled;
	rc = STORE_EINVAL;
	if (put_text(c->subject, v->subject, sizeof v->subject, "subject", e) < 0 ||
	    put_text(c->text, v->text, sizeof v->text, "text", e) < 0 || put_date(c->start, v->start, "start", e) < 0 ||
	    put_date(c->end, v->end, "end", e) < 0)
		goto out;
	if (v->start[0] && v->end[0] && strcmp(v->start, v->end) > 0) {
		ops_fail(e, rc, "end", "the end date %s is before the start date %s", v->end, v->start);
		goto out;
	}
	if (v->enabled && !v->text[0]) {
		ops_fail(e, rc, "text", "the reply needs a text to be turned on (--text or --text-file)");
		goto out;
	}
	if ((rc = ops_vacation_set(st, address, v, e)) == 0 && out)
		*out = *v;
out:
	free(v);
	return rc;
}

void ops_json_vacation(struct jw *j, const char *address, const struct vacation *v)
{
	jw_obj(j);
	jw_kstr(j, "address", address);
	jw_kbool(j, "enabled", v->enabled);
	jw_kstr(j, "subject", v->subject);
	jw_kstr(j, "text", v->text);
	jw_key(j, "start");
	v->start[0] ? jw_str(j, v->start) : jw_null(j);
	jw_key(j, "end");
	v->end[0] ? jw_str(j, v->end) : jw_null(j);
	jw_obj_end(j);
}
