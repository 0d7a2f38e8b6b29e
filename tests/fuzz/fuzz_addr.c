/*
 * fuzz_addr: the RFC 5321 path and mailbox parser (addr.h) with every
 * combination of allow_null and allow_utf8. A path that parses must have
 * consumed bytes that end in '>', a bounded local part and a lower-case
 * domain, and format back to something that parses as a mailbox again.
 */
#include "smtp/addr.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(const struct mail_addr *a, int allow_utf8)
{
	char fmt[ADDR_LOCAL_MAX * 2 + 3 + ADDR_DOMAIN_MAX + 2];
	struct mail_addr b;
	const char *why;
	size_t i;

	CHECK(memchr(a->local, '\0', sizeof a->local) != NULL);
	CHECK(memchr(a->domain, '\0', sizeof a->domain) != NULL);
	for (i = 0; a->domain[i] && !a->ip_literal; i++)
		CHECK(!(a->domain[i] >= 'A' && a->domain[i] <= 'Z'));
	CHECK(allow_utf8 || !a->utf8);
	addr_format(a, fmt, sizeof fmt);
	if (a->null) {
		CHECK(fmt[0] == '\0');
		return;
	}
	CHECK(strchr(fmt, '\r') == NULL && strchr(fmt, '\n') == NULL);
	if (a->domain[0] != '\0')
		CHECK(addr_parse_mailbox(fmt, &b, allow_utf8, &why) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_addr a;
	const char *why;
	char *s;
	int flags, r;

	if (size > 1024)
		return 0;
	/* exactly size bytes for the path parser: reads past them show */
	if (!(s = malloc(size + 1)))
		return 0;
	memcpy(s, data, size);
	for (flags = 0; flags < 4; flags++) {
		memset(&a, 0x5a, sizeof a);
		why = NULL;
		r = addr_parse_path(s, size, &a, flags & 1, flags & 2, &why);
		if (r >= 0) {
			CHECK(r >= 2 && (size_t)r <= size && s[r - 1] == '>' && s[0] == '<');
			CHECK((flags & 1) || !a.null);
			check(&a, flags & 2);
		} else {
			CHECK(r == -1 && why != NULL);
		}
	}
	s[size] = '\0';
	for (flags = 0; flags < 2; flags++) {
		memset(&a, 0x5a, sizeof a);
		if (addr_parse_mailbox(s, &a, flags, &why) == 0)
			check(&a, flags);
	}
	free(s);
	return 0;
}
