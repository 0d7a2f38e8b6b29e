/*
 * fuzz_srs: the SRS parser (routing/srs.h) that reads the recipient of
 * every bounce to a forwarded message, i.e. bytes from anyone. Input: an
 * address. Checks: reversal never writes past its buffer and returns a
 * known code; what it returns is NUL-terminated and has an '@'; whatever
 * srs_forward makes from a plain address (one '@', no '=' in its domain)
 * reverses to that address.
 */
#include "routing/srs.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <string.h>

#define NOW 1764892800

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct srs s;
	char in[SRS_ADDR_MAX + 64], out[SRS_ADDR_MAX], fwd[SRS_ADDR_MAX], back[SRS_ADDR_MAX];
	enum srs_rc rc;

	if (size >= sizeof in)
		return 0;
	if (!s.nsecrets) {
		srs_parse_secrets(&s, "fuzz secret\nold\n", 16);
		s.max_age_days = 21;
		strcpy(s.domain, "fwd.example");
	}
	memcpy(in, data, size);
	in[size] = '\0';
	rc = srs_reverse(&s, in, NOW, out, sizeof out);
	CHECK(rc == SRS_OK || rc == SRS_NOT_SRS || rc == SRS_ESYNTAX || rc == SRS_EHASH || rc == SRS_EEXPIRED ||
	      rc == SRS_ETOOLONG);
	if (rc == SRS_OK)
		CHECK(memchr(out, '\0', sizeof out) && strchr(out, '@'));
	rc = srs_forward(&s, in, NOW, fwd, sizeof fwd);
	/* a domain with '=' is ambiguous in SRS0 (as in postsrsd): left out */
	if (rc == SRS_OK && !srs_is_srs(in) && strchr(in, '@') == strrchr(in, '@') &&
	    !strchr(strchr(in, '@'), '=')) {
		CHECK(srs_reverse(&s, fwd, NOW, back, sizeof back) == SRS_OK);
		CHECK(strcmp(back, in) == 0);
	}
	return 0;
}
