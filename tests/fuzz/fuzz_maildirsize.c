/*
 * fuzz_maildirsize: the Maildir++ quota file parser (delivery/maildirsize.h)
 * that reads a file any Maildir tool (or a local user with shell access)
 * may have written. Checks: a parse that succeeds has no negative limits
 * and a line count that fits the input; a re-formatted quota line parses
 * back to the same limits.
 */
#include "delivery/maildirsize.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildirsize m, back;
	char line[MAILDIRSIZE_LINE_MAX + 2], *copy;

	if (size > MAILDIRSIZE_MAX + 1)
		return 0;
	if (!(copy = malloc(size ? size : 1)))   /* exactly size bytes: no NUL to lean on */
		return 0;
	memcpy(copy, data, size);
	if (maildirsize_parse(copy, size, &m) == 0) {
		CHECK(m.quota_bytes >= 0 && m.quota_messages >= 0);
		CHECK(m.lines < size);
		if (maildirsize_quota_line(m.quota_bytes, m.quota_messages, line, MAILDIRSIZE_LINE_MAX) == 0) {
			size_t n = strlen(line);
			line[n++] = '\n';
			CHECK(maildirsize_parse(line, n, &back) == 0);
			CHECK(back.quota_bytes == m.quota_bytes && back.quota_messages == m.quota_messages);
			CHECK(back.lines == 0 && back.bytes == 0);
		}
	}
	free(copy);
	return 0;
}
