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

/* mailbox quota ADDRESS SIZE|default [--messages N|default] */
int ctl_mailbox_quota(struct ctl *c, int argc, char **argv)
{
	int64_t bytes, messages = -2;
	struct ops_err e;

	if (ops_quota_parse(argv[1], 1, &bytes) < 0)
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

	if (size && ops_quota_parse(size, 0, &bytes) < 0)
		return fail("--mailbox-quota must be a number of bytes (K, M, G allowed) or 0");
	if (count && quota_parse_size(count, &messages) < 0)
		return fail("--mailbox-messages must be a count or 0");
	if (!store(c))
		return 1;
	return ops_account_mailbox_quota(c->st, name, bytes, messages, &e) ? fail("%s", e.msg) : 0;
}

int ctl_account_quota_show(struct ctl *c, const char *account)
{
	int64_t bytes, messages;
	struct ops_err e;

	if (ops_account_mailbox_quota_get(c->st, account, &bytes, &messages, &e))
		return fail("%s", e.msg);
	printf("mailbox_quota_bytes: %lld\nmailbox_quota_messages: %lld\n", (long long)bytes, (long long)messages);
	return 0;
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
	if (ops_quota_info(c->st, c->cfg.data_dir, c->cfg.cluster_node, address, &qi, &e) || ops_vacation_get(c->st, address, v, &e)) {
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

/* The text of --text-file PATH into text (VACATION_TEXT_MAX bytes). 0 or 1 (reported). */
static int read_text(const char *path, char *text)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t n;

	if (!f)
		return fail("%s: %s", path, strerror(errno));
	n = fread(text, 1, VACATION_TEXT_MAX - 1, f);
	text[n] = '\0';
	if (!feof(f) && n == VACATION_TEXT_MAX - 1) {
		if (f != stdin)
			fclose(f);
		return fail("%s: the text is longer than %d bytes", path, VACATION_TEXT_MAX - 1);
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

/* mailbox vacation ADDRESS on|off|show [--subject S] [--text T | --text-file PATH] [--start D] [--end D]
 * (the options change only what they name: ops_vacation_change) */
int ctl_mailbox_vacation(struct ctl *c, int argc, char **argv)
{
	struct ops_vacation_change ch = { 0, NULL, NULL, NULL, NULL };
	char *text = NULL;
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
	ch.enabled = !strcmp(argv[1], "on");
	for (int i = 2; i < argc && rc == 0; i += 2) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val)
			rc = fail("mailbox vacation: %s needs a value", o);
		else if (!strcmp(o, "--subject"))
			ch.subject = val;
		else if (!strcmp(o, "--text"))
			ch.text = val;
		else if (!strcmp(o, "--text-file") && !text && !(text = malloc(VACATION_TEXT_MAX)))
			rc = fail("out of memory");
		else if (!strcmp(o, "--text-file"))
			rc = read_text(val, text), ch.text = text;
		else if (!strcmp(o, "--start"))
			ch.start = val;
		else if (!strcmp(o, "--end"))
			ch.end = val;
		else
			rc = fail("mailbox vacation: unknown option %s", o);
	}
	if (rc == 0 && ops_vacation_change(c->st, argv[0], &ch, NULL, &e))
		rc = fail("%s", e.msg);
	free(text);
	return rc;
}
