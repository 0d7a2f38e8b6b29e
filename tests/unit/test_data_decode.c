/*
 * Unit tests for src/smtp/data_decode.c: end of data, dot-unstuffing, SMTP
 * smuggling variants, bare CR/LF counts. Every case is run whole, split at
 * every point, and byte by byte: all must agree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "smtp/data_decode.h"

struct result {
	char out[512];
	size_t outlen;
	size_t consumed; /* input bytes consumed in total */
	int done;
	unsigned long bare_lf, bare_cr;
};

/* Feed in[0..len) in chunks of the given sizes (0-terminated list repeats
 * the last size); stop feeding once done. */
static void run(const char *in, size_t len, const size_t *chunks, struct result *r)
{
	struct data_decoder d;
	size_t pos = 0, ci = 0;

	memset(r, 0, sizeof(*r));
	data_decoder_init(&d);
	while (pos < len && !r->done) {
		size_t n = chunks[ci], got, outn = 0;
		char *out;

		if (chunks[ci + 1] != 0)
			ci++;
		if (n > len - pos)
			n = len - pos;
		out = malloc(n + 2); /* exactly the documented bound, for ASan */
		assert_non_null(out);
		got = data_decoder_feed(&d, in + pos, n, out, &outn, &r->done);
		assert_true(got <= n);
		assert_true(outn <= n + 2);
		if (!r->done)
			assert_int_equal(got, n);
		assert_true(r->outlen + outn <= sizeof(r->out));
		memcpy(r->out + r->outlen, out, outn);
		r->outlen += outn;
		free(out);
		pos += got;
	}
	r->consumed = pos;
	r->bare_lf = d.bare_lf;
	r->bare_cr = d.bare_cr;
}

static void same(const struct result *a, const struct result *b)
{
	assert_int_equal(a->done, b->done);
	assert_int_equal(a->consumed, b->consumed);
	assert_int_equal(a->outlen, b->outlen);
	assert_memory_equal(a->out, b->out, a->outlen);
	assert_int_equal(a->bare_lf, b->bare_lf);
	assert_int_equal(a->bare_cr, b->bare_cr);
}

/* Decode in whole, check it, then check every split and byte-by-byte. */
static void check(const char *in, const char *want, int done, size_t consumed,
                  unsigned long bare_lf, unsigned long bare_cr)
{
	size_t len = strlen(in), split;
	struct result whole, part;
	size_t all[] = { 1 << 20, 0 }, one[] = { 1, 0 };

	run(in, len, all, &whole);
	assert_int_equal(whole.done, done);
	assert_int_equal(whole.consumed, consumed);
	assert_int_equal(whole.outlen, strlen(want));
	assert_memory_equal(whole.out, want, whole.outlen);
	assert_int_equal(whole.bare_lf, bare_lf);
	assert_int_equal(whole.bare_cr, bare_cr);

	run(in, len, one, &part);
	same(&whole, &part);
	for (split = 1; split < len; split++) {
		size_t two[] = { split, 1 << 20, 0 };

		run(in, len, two, &part);
		same(&whole, &part);
	}
	for (split = 2; split < 5; split++) {
		size_t k[] = { split, 0 };

		run(in, len, k, &part);
		same(&whole, &part);
	}
}

static void t_simple(void **st)
{
	(void)st;
	check("Subject: x\r\n\r\nbody\r\n.\r\n",
	      "Subject: x\r\n\r\nbody\r\n", 1, 23, 0, 0);
}

static void t_empty(void **st)
{
	(void)st;
	check(".\r\n", "", 1, 3, 0, 0);
	check(".\r\nQUIT\r\n", "", 1, 3, 0, 0);
	check("\r\n.\r\n", "\r\n", 1, 5, 0, 0);
}

static void t_pipelined_rest(void **st)
{
	(void)st;
	/* bytes after the end are the next command: not consumed */
	check("a\r\n.\r\nMAIL FROM:<x@y>\r\n", "a\r\n", 1, 6, 0, 0);
}

static void t_unstuff(void **st)
{
	(void)st;
	check("..\r\n.\r\n", ".\r\n", 1, 7, 0, 0);
	check("a\r\n..b\r\n.\r\n", "a\r\n.b\r\n", 1, 11, 0, 0);
	check("a\r\n...\r\n.\r\n", "a\r\n..\r\n", 1, 11, 0, 0);
	check("a\r\n.x\r\n.\r\n", "a\r\nx\r\n", 1, 10, 0, 0);
	/* a dot not at line start stays */
	check("a.\r\nb..c\r\n.\r\n", "a.\r\nb..c\r\n", 1, 13, 0, 0);
}

static void t_not_finished(void **st)
{
	(void)st;
	check("abc", "abc", 0, 3, 0, 0);
	check("abc\r\n", "abc\r\n", 0, 5, 0, 0);
	check("abc\r\n.", "abc\r\n", 0, 6, 0, 0);
	check("abc\r\n.\r", "abc\r\n", 0, 7, 0, 0);
	check("", "", 0, 0, 0, 0);
}

static void t_smuggling(void **st)
{
	(void)st;
	/* none of these end the message */
	check("a\n.\nb", "a\n.\nb", 0, 5, 2, 0);
	check("a\r.\rb", "a\r.\rb", 0, 5, 0, 2);
	check("a\n.\r\nb", "a\n.\r\nb", 0, 6, 1, 0);
	check("a\r\n.\nb", "a\r\n\nb", 0, 6, 1, 0);
	check("a\r.\r\nb", "a\r.\r\nb", 0, 6, 0, 1);
	check("a\r\n.\rb", "a\r\n\rb", 0, 6, 0, 1);
	check("a\r\n.\r\rb", "a\r\n\r\rb", 0, 7, 0, 2);
	check("\n.\n", "\n.\n", 0, 3, 2, 0);
	check(".\n", "\n", 0, 2, 1, 0);
	check(".\r.\r\n", "\r.\r\n", 0, 5, 0, 1);
	/* the real end still works after a smuggling attempt */
	check("a\n.\nb\r\n.\r\nX", "a\n.\nb\r\n", 1, 10, 2, 0);
	check("a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", 1, 11, 0, 1);
	/* ".\r\r\n" is not CRLF.CRLF: the first CR is bare */
	check("a\r\n.\r\r\n.\r\n", "a\r\n\r\r\n", 1, 10, 0, 1);
}

static void t_bare_counts(void **st)
{
	(void)st;
	check("a\nb\nc\r\n", "a\nb\nc\r\n", 0, 7, 2, 0);
	check("a\rb\r\r\n", "a\rb\r\r\n", 0, 6, 0, 2);
	check("\n\n", "\n\n", 0, 2, 2, 0);
	check("\r\n\n", "\r\n\n", 0, 3, 1, 0);
	check("\r\r", "\r\r", 0, 2, 0, 1); /* last CR undecided yet */
}

static void t_after_done(void **st)
{
	struct data_decoder d;
	char out[16];
	size_t outn;
	int done;

	(void)st;
	data_decoder_init(&d);
	assert_int_equal(data_decoder_feed(&d, ".\r\n", 3, out, &outn, &done), 3);
	assert_int_equal(done, 1);
	assert_int_equal(outn, 0);
	assert_int_equal(data_decoder_feed(&d, "xyz", 3, out, &outn, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(outn, 0);
	data_decoder_init(&d);
	assert_int_equal(data_decoder_feed(&d, "x", 1, out, &outn, &done), 1);
	assert_int_equal(done, 0);
}

static void t_all_byte_quads(void **st)
{
	/* Every 4-byte string over {'.', '\r', '\n', 'a'} behind a CRLF: split
	 * results must match, output never exceeds the bound, and the message
	 * ends only where CRLF.CRLF really is. */
	static const char alpha[] = ".\r\na";
	char in[16];
	int a, b, c, e;

	(void)st;
	for (a = 0; a < 4; a++)
		for (b = 0; b < 4; b++)
			for (c = 0; c < 4; c++)
				for (e = 0; e < 4; e++) {
					struct result whole, part;
					size_t all[] = { 1 << 20, 0 }, one[] = { 1, 0 };
					int ends;

					in[0] = 'x'; in[1] = '\r'; in[2] = '\n';
					in[3] = alpha[a]; in[4] = alpha[b];
					in[5] = alpha[c]; in[6] = alpha[e];
					in[7] = '\0';
					run(in, 7, all, &whole);
					run(in, 7, one, &part);
					same(&whole, &part);
					ends = strstr(in, "\r\n.\r\n") != NULL;
					assert_int_equal(whole.done, ends);
				}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_simple),
		cmocka_unit_test(t_empty),
		cmocka_unit_test(t_pipelined_rest),
		cmocka_unit_test(t_unstuff),
		cmocka_unit_test(t_not_finished),
		cmocka_unit_test(t_smuggling),
		cmocka_unit_test(t_bare_counts),
		cmocka_unit_test(t_after_done),
		cmocka_unit_test(t_all_byte_quads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
