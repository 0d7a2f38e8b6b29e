/*
 * test_qp_convert: the 7-bit downgrade for servers without 8BITMIME.
 * Quoted-printable (RFC 2045 6.7) fed in every split, header rewriting,
 * and msg_inspect's header facts and conversion verdicts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "delivery/qp_convert.h"
#include "delivery/msg_inspect.h"

static void encode_split(const char *in, size_t n, size_t at, struct buf *out)
{
	struct qp_enc q;

	qp_init(&q);
	assert_int_equal(qp_encode(&q, in, at, out), 0);
	assert_int_equal(qp_encode(&q, in + at, n - at, out), 0);
	assert_int_equal(qp_finish(&q, out), 0);
}

static void t_qp(void **st)
{
	static const char in[] = "caf\xc3\xa9 = x\r\ntrailing \r\ntab\t\r\n.dot\r\nend ";
	static const char want[] = "caf=C3=A9 =3D x\r\ntrailing=20\r\ntab=09\r\n.dot\r\nend=20";
	struct buf b;

	(void)st;
	buf_init(&b, 0);
	for (size_t at = 0; at <= sizeof in - 1; at++) {
		buf_reset(&b);
		encode_split(in, sizeof in - 1, at, &b);
		assert_string_equal(b.data, want);
	}
	buf_free(&b);
}

static void t_qp_soft_breaks(void **st)
{
	char in[300];
	struct buf b;
	size_t col = 0;

	(void)st;
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = i % 3 ? 'a' : (char)0xe9;
	buf_init(&b, 0);
	encode_split(in, sizeof in, 100, &b);
	for (size_t i = 0; i < b.len; i++) {
		if (b.data[i] == '\r') {
			assert_true(col <= QP_LINE_MAX && b.data[i - 1] == '=');
			col = 0;
			i++;
			continue;
		}
		col++;
		assert_true((unsigned char)b.data[i] < 0x80);
	}
	assert_true(col <= QP_LINE_MAX);
	buf_free(&b);
}

static void t_header(void **st)
{
	static const char h[] = "Subject: x\r\nContent-Transfer-Encoding:\r\n 8bit\r\nContent-Type: text/plain\r\n\r\n";
	struct buf b;

	(void)st;
	buf_init(&b, 0);
	assert_int_equal(qp_header(h, sizeof h - 1, 0, 1, 1, &b), 0);
	assert_string_equal(b.data, "Subject: x\r\nContent-Type: text/plain\r\nMIME-Version: 1.0\r\n"
	                            "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	buf_reset(&b);
	assert_int_equal(qp_header("Subject: y\r\n", 12, 1, 0, 0, &b), 0);
	assert_string_equal(b.data, "Subject: y\r\nContent-Type: text/plain; charset=unknown-8bit\r\n"
	                            "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	buf_free(&b);
}

static void t_utf8(void **st)
{
	struct utf8_check u = { 0, 0 };

	(void)st;
	utf8_check_feed(&u, "caf\xc3", 4);
	utf8_check_feed(&u, "\xa9 \xe2\x9c\x93", 5);
	assert_false(u.bad);
	assert_int_equal(u.need, 0);
	utf8_check_feed(&u, "\xe9t\xe9", 3);           /* Latin-1 */
	assert_true(u.bad);
}

static void t_inspect(void **st)
{
	static const char h[] = "From: a@b\r\nContent-Type:\r\n multipart/signed; boundary=x\r\n\r\nbody \xff";
	struct msgi_header m;
	char v[64];

	(void)st;
	msgi_header(h, sizeof h - 1, &m);
	assert_int_equal(m.type, MSGI_TYPE_SIGNED);
	assert_false(m.eight_bit);                       /* the body's byte is not the header's */
	assert_non_null(msgi_why_not_convertible(&m));
	assert_int_equal(msgi_field(h, sizeof h - 1, "content-type", v, sizeof v), 1);
	assert_string_equal(v, "multipart/signed; boundary=x");
	msgi_header("Subject: gr\xc3\xbc\r\nDKIM-Signature: v=1\r\n\r\n", 39, &m);
	assert_true(m.eight_bit);
	assert_true(m.dkim_signed);
	assert_int_equal(m.type, MSGI_TYPE_NONE);
	assert_non_null(strstr(msgi_why_not_convertible(&m), "DKIM"));
	msgi_header("Content-Type: text/plain; charset=utf-8\r\nMIME-Version: 1.0\r\n\r\n", 61, &m);
	assert_int_equal(m.type, MSGI_TYPE_SINGLE);
	assert_true(m.has_mime_version);
	assert_null(msgi_why_not_convertible(&m));
	msgi_header("Content-Type: multipart/mixed; b=1\r\n\r\n", 38, &m);
	assert_non_null(strstr(msgi_why_not_convertible(&m), "multipart"));
	assert_true(msgi_8bit_str("j\xc3\xb6rg@x"));
	assert_false(msgi_8bit_str("jorg@x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_qp),
		cmocka_unit_test(t_qp_soft_breaks),
		cmocka_unit_test(t_header),
		cmocka_unit_test(t_utf8),
		cmocka_unit_test(t_inspect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
