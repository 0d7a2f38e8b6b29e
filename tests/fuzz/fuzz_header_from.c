/*
 * fuzz_header_from: the From: header domain extractor (header_from.h)
 * that checks an authorized sender's header against its account's
 * domains. Input is a message header section as a client sends it.
 * Checks: the count is bounded by max, each domain is a NUL-terminated,
 * lower-case string with no LF or space. (Other control bytes, a bare CR
 * among them, do come through: the session normalizes line ends before
 * this runs, and a domain with them never matches a hosted one; see
 * docs/fuzzing.md.)
 */
#include "policy/header_from.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char domains[HDR_FROM_MAX][256], *hdr;
	int n, i, max;

	if (size > 65536)
		return 0;
	if (!(hdr = malloc(size ? size : 1)))
		return 0;
	memcpy(hdr, data, size);
	for (max = 1; max <= HDR_FROM_MAX; max += HDR_FROM_MAX - 1) {
		memset(domains, 0x5a, sizeof domains);
		n = header_from_domains(hdr, size, domains, max);
		CHECK(n >= -1 && n <= max);
		for (i = 0; i < n; i++) {
			const char *d = domains[i];
			CHECK(memchr(d, '\0', 256) != NULL);
			CHECK(strpbrk(d, "\n ") == NULL);
			for (; *d; d++)
				CHECK(!(*d >= 'A' && *d <= 'Z'));
		}
	}
	free(hdr);
	return 0;
}
