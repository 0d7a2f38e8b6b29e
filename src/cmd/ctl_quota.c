/*
 * ctl_quota: hostmailctl's verbs for mailbox quotas and autoresponders
 * (docs/quotas.md, docs/vacation.md): mailbox quota, mailbox vacation,
 * the quota lines of mailbox show and account limits --mailbox-quota.
 */
#include "cmd/ctl.h"
#include "delivery/quota.h"
#include "ops/ops_quota.h"
#include "util/buf.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "default" = -1 (the account's), else a size: 0 or -1 (bad). */
static int size_arg(const char *v, int allow_default, int64_t *out)
{
	if (allow_default && !strcmp(v, "default")) {
		*out = -1;
		return 0;
	}
	return quota_parse_size(v, out);
}

/* mailbox quota ADDRESS SIZE|default [--messages N|default] */
int ctl_mailbox_quota(struct ctl *c, int argc, char **argv)
{
	int64_t bytes, messages = -2;
	struct ops_err e;

	if (size_arg(argv[1], 1, &bytes) < 0)
		return fail("mailbox quota: SIZE must be a number of bytes (K, M, G allowed), 0 or \"default\"");
	for (int i = 2; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--messages") || i + 1 >= argc)
			return fail("mailbox quota: unknown option (--messages N|default)");
		i++;
		if (!strcmp(argv[i], "default")) {
			messages = -1;
			continue;
		}
		errno = 0;
		messages = strtoll(argv[i], &end, 10);
		if (errno || end == argv[i] || *end || messages < 0)
			return fail("mailbox quota: --messages needs a count, 0 or \"default\"");
	}
	if (!store(c))
		return 1;
	if (ops_mailbox_quota(c->st, argv[0], bytes, messages, &e))
		return fail("%s", e.msg);
	return 0;
}

/* account limits NAME --mailbox-quota SIZE [--mailbox-messages N] (from account_limits) */
int ctl_account_mailbox_quota(struct ctl *c, const char *name, const char *size, const char *count)
{
	int64_t bytes = -2, messages = -2;
	struct ops_err e;

	if (size && quota_parse_size(size, &bytes) < 0)
		return fail("--mailbox-quota must be a number of bytes (K, M, G allowed) or 0");
	if (count && quota_parse_size(count, &messages) < 0)
		return fail("--mailbox-messages must be a count or 0");
	if (!store(c))
		return 1;
	return ops_account_mailbox_quota(c->st, name, bytes, messages, &e) ? fail("%s", e.msg) : 0;
}

/* The quota lines of mailbox show: 0, or 1 (reported). */
int ctl_quota_show(struct ctl *c, const char *address)
{
	struct ops_quota_info qi;
	struct vacation *v = malloc(sizeof *v);
	struct ops_err e;
	struct buf b;
	int rc = 0;

	if (!v)
		return fail("out of memory");
	if (ops_quota_info(c->st, c->cfg.data_dir, address, &qi, &e) || ops_vacation_get(c->st, address, v, &e)) {
		free(v);
		return fail("%s", e.msg);
	}
	buf_init(&b, 4096);
	if (ops_quota_lines(&qi, v->enabled, &b) < 0)
		rc = fail("out of memory");
	else
		fputs(b.data, stdout);
	buf_free(&b);
	free(v);
	return rc;
}

/* The text of --text-file PATH into v->text. 0 or 1 (reported). */
static int read_text(const char *path, struct vacation *v)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t n;

	if (!f)
		return fail("%s: %s", path, strerror(errno));
	n = fread(v->text, 1, sizeof v->text - 1, f);
	v->text[n] = '\0';
	if (!feof(f) && n == sizeof v->text - 1) {
		if (f != stdin)
			fclose(f);
		return fail("%s: the text is longer than %zu bytes", path, sizeof v->text - 1);
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

static int vacation_print(struct ctl *c, const char *address)
{
	struct vacation v;
	struct ops_err e;

	if (ops_vacation_get(c->st, address, &v, &e))
		return fail("%s", e.msg);
	printf("vacation: %s\nsubject: %s\nstart: %s\nend: %s\ntext:\n%s%s", v.enabled ? "on" : "off",
	       v.subject, v.start[0] ? v.start : "-", v.end[0] ? v.end : "-", v.text,
	       v.text[0] && v.text[strlen(v.text) - 1] != '\n' ? "\n" : "");
	return 0;
}

/* mailbox vacation ADDRESS on|off|show [--subject S] [--text T | --text-file PATH] [--start D] [--end D] */
int ctl_mailbox_vacation(struct ctl *c, int argc, char **argv)
{
	struct vacation *v;
	struct ops_err e;
	int rc = 0;

	if (argc < 2)
		return fail("mailbox vacation: ADDRESS on|off|show");
	if (!store(c))
		return 1;
	if (!strcmp(argv[1], "show"))
		return argc > 2 ? fail("mailbox vacation show: too many arguments") : vacation_print(c, argv[0]);
	if (strcmp(argv[1], "on") && strcmp(argv[1], "off"))
		return fail("mailbox vacation: say on, off or show");
	if (!(v = calloc(1, sizeof *v)))
		return fail("out of memory");
	if (ops_vacation_get(c->st, argv[0], v, &e)) {   /* options change what is there */
		free(v);
		return fail("%s", e.msg);
	}
	v->enabled = !strcmp(argv[1], "on");
	for (int i = 2; i < argc && rc == 0; i += 2) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val)
			rc = fail("mailbox vacation: %s needs a value", o);
		else if (!strcmp(o, "--subject"))
			rc = snprintf(v->subject, sizeof v->subject, "%s", val) >= (int)sizeof v->subject
			         ? fail("--subject is too long") : 0;
		else if (!strcmp(o, "--text"))
			rc = snprintf(v->text, sizeof v->text, "%s", val) >= (int)sizeof v->text ? fail("--text is too long") : 0;
		else if (!strcmp(o, "--text-file"))
			rc = read_text(val, v);
		else if (!strcmp(o, "--start"))
			rc = snprintf(v->start, sizeof v->start, "%s", strcmp(val, "-") ? val : "") >= (int)sizeof v->start
			         ? fail("--start: YYYY-MM-DD") : 0;
		else if (!strcmp(o, "--end"))
			rc = snprintf(v->end, sizeof v->end, "%s", strcmp(val, "-") ? val : "") >= (int)sizeof v->end
			         ? fail("--end: YYYY-MM-DD") : 0;
		else
			rc = fail("mailbox vacation: unknown option %s", o);
	}
	if (rc == 0 && v->enabled && !v->text[0])
		rc = fail("mailbox vacation on: the reply needs a text (--text or --text-file)");
	if (rc == 0 && ops_vacation_set(c->st, argv[0], v, &e))
		rc = fail("%s", e.msg);
	free(v);
	return rc;
}
