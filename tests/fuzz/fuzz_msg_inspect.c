/*
 * fuzz_msg_inspect: the outbound client's reading of a queued message
 * (msg_inspect.h: header facts, one field's unfolded value) and the
 * 7-bit conversion (qp_convert.h). Input: a message, as a customer may
 * submit it. Checks: a field value is NUL-terminated within its buffer;
 * the converted body is 7-bit, CRLF only, lines at most 76 characters,
 * the same whichever way the input is split; the rewritten header ends
 * with its one Content-Transfer-Encoding and the empty line.
 */
#include "delivery/msg_inspect.h"
#include "delivery/qp_convert.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_qp(const struct buf *b)
{
	size_t col = 0;

	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		CHECK(c < 0x80);
		if (c == '\r') {
			CHECK(i + 1 < b->len && b->data[i + 1] == '\n');
			CHECK(col <= QP_LINE_MAX);
			col = 0;
			i++;
			continue;
		}
		CHECK(c != '\n');
		col++;
	}
	CHECK(col <= QP_LINE_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct msgi_header h;
	struct qp_enc q;
	struct buf a, b;
	char v[64];
	size_t cut = size ? data[0] % (size + 1) : 0;

	if (size > 65536)
		return 0;
	msgi_header(p, size, &h);
	memset(v, 0x5a, sizeof v);
	msgi_field(p, size, "Content-Type", v, sizeof v);
	CHECK(memchr(v, '\0', sizeof v) != NULL);
	(void)msgi_why_not_convertible(&h);

	buf_init(&a, 0);
	buf_init(&b, 0);
	qp_init(&q);
	CHECK(qp_encode(&q, p, size, &a) == 0 && qp_finish(&q, &a) == 0);
	qp_init(&q);
	CHECK(qp_encode(&q, p, cut, &b) == 0 && qp_encode(&q, p + cut, size - cut, &b) == 0);
	CHECK(qp_finish(&q, &b) == 0);
	CHECK(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
	check_qp(&a);

	buf_reset(&a);
	CHECK(qp_header(p, size, h.has_mime_version, h.has_ctype, 1, &a) == 0);
	CHECK(a.len >= 47 && memcmp(a.data + a.len - 47, "Content-Transfer-Encoding: quoted-printable\r\n\r\n", 47) == 0);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
