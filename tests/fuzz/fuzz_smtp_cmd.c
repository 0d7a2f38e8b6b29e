/*
 * fuzz_smtp_cmd: one SMTP command line through smtp_parse_cmd, then its
 * argument through the MAIL, RCPT, HELO and BDAT parsers whatever the
 * verb, as a hostile client could send any of them. Checks what the
 * session relies on: a parsed argument points inside the line, a parsed
 * address fits its fields and is NUL-terminated, a rejection has a reason.
 */
#include "smtp/smtp_parse.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_addr(const struct mail_addr *a)
{
	CHECK(memchr(a->local, '\0', sizeof a->local) != NULL);
	CHECK(memchr(a->domain, '\0', sizeof a->domain) != NULL);
	if (!a->null)
		CHECK(strlen(a->domain) <= ADDR_DOMAIN_MAX);
}

static void check_fail(int code, const char *enh, const char *why)
{
	CHECK(code >= 500 && code <= 599);
	CHECK(enh != NULL && enh[0] == '5' && enh[1] == '.');
	CHECK(why != NULL && why[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_cmd cmd;
	struct smtp_mail_args ma;
	struct smtp_rcpt_args ra;
	char *line, helo[ADDR_DOMAIN_MAX + 1];
	const char *enh, *why;
	uint64_t bsize;
	int code, last;

	if (size > SMTP_LINE_MAX)
		return 0;
	/* exactly len + 1 bytes, as the session gives it, so ASan sees overruns */
	if (!(line = malloc(size + 1)))
		return 0;
	memcpy(line, data, size);
	if (smtp_parse_cmd(line, size, &cmd) == 0) {
		CHECK(cmd.verb_text != NULL && cmd.arg != NULL);
		CHECK(cmd.arg >= line && cmd.arg <= line + size);
		CHECK(memchr(line, '\0', size) == NULL);
		code = 0, enh = why = NULL;
		if (smtp_parse_mail(cmd.arg, &ma, &code, &enh, &why) == 0)
			check_addr(&ma.from);
		else
			check_fail(code, enh, why);
		code = 0, enh = why = NULL;
		if (smtp_parse_rcpt(cmd.arg, &ra, &code, &enh, &why) == 0) {
			check_addr(&ra.to);
			CHECK(!ra.to.null);
		} else {
			check_fail(code, enh, why);
		}
		if (smtp_parse_helo(cmd.arg, helo, sizeof helo) == 0)
			CHECK(strlen(helo) <= ADDR_DOMAIN_MAX && strchr(helo, ' ') == NULL);
		if (smtp_parse_bdat(cmd.arg, &bsize, &last) == 0)
			CHECK(last == 0 || last == 1);
	}
	free(line);
	return 0;
}
