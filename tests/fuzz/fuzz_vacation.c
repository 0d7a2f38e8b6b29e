/*
 * fuzz_vacation: the autoresponder's RFC 3834 decision (routing/vacation.h)
 * on a header section a stranger wrote. Input: the sender up to the first
 * NUL, then the header. Checks: the verdict is one of the enum, the facts
 * kept for the reply are NUL-terminated and carry no line end (they go
 * into the reply's header), and the reply built from them has no bare
 * line end and no empty line before the body.
 */
#define _GNU_SOURCE
#include "routing/vacation.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vacation_orig o;
	struct vacation_reply r;
	enum vacation_verdict v;
	const uint8_t *nul = memchr(data, 0, size);
	char sender[320] = "bob@x.test", *hdr, *body;
	size_t hlen;
	struct buf b;

	if (size > 65536)
		return 0;
	if (nul && (size_t)(nul - data) < sizeof sender) {
		size_t k = (size_t)(nul - data);
		memcpy(sender, data, k);
		sender[k] = '\0';
		data += k + 1;
		size -= k + 1;
	}
	hlen = size;
	if (!(hdr = malloc(hlen ? hlen : 1)))
		return 0;
	memcpy(hdr, data, hlen);
	v = vacation_decide(hdr, hlen, sender, "alice@acme.test", &o);
	CHECK(v >= VACATION_REPLY && v <= VACATION_BAD_HEADER);
	CHECK(memchr(o.subject, 0, sizeof o.subject) && memchr(o.message_id, 0, sizeof o.message_id) &&
	      memchr(o.references, 0, sizeof o.references));
	CHECK(!strpbrk(o.subject, "\r\n") && !strpbrk(o.message_id, "\r\n") && !strpbrk(o.references, "\r\n"));
	if (v == VACATION_REPLY) {
		memset(&r, 0, sizeof r);
		r.from = "alice@acme.test";
		r.to = "bob@x.test";
		r.subject = "";
		r.text = "away";
		r.message_id = "id@mx.test";
		r.orig = &o;
		buf_init(&b, 1 << 20);
		CHECK(vacation_format(&b, &r) == 0);
		CHECK(memchr(b.data, '\0', b.len) == NULL);
		body = memmem(b.data, b.len, "\r\n\r\n", 4);
		CHECK(body != NULL);
		CHECK((size_t)(b.data + b.len - body) == 10 && memcmp(body, "\r\n\r\naway\r\n", 10) == 0);
		for (size_t i = 0; i < b.len; i++)
			CHECK((b.data[i] != '\n' || (i > 0 && b.data[i - 1] == '\r')) &&
			      (b.data[i] != '\r' || (i + 1 < b.len && b.data[i + 1] == '\n')));
		buf_free(&b);
	}
	free(hdr);
	return 0;
}
