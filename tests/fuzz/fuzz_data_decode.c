/*
 * fuzz_data_decode: the DATA end-of-data detector and dot-unstuffer
 * (data_decode.h) and the line-end normalizer (eol_normalize.h).
 *
 * The first two input bytes choose where the rest is split into three
 * pieces; the decoder is fed piece by piece and its result is compared
 * with a plain reference on the whole input: end of data is the first
 * "." CRLF at the start of the data or after a CRLF (never after a bare
 * CR or LF: SMTP smuggling), and a leading dot is dropped from every
 * other such line. The normalizer's output must hold no bare CR or LF and
 * must leave CRLF-only input unchanged, however the input is split.
 */
#include "smtp/data_decode.h"
#include "smtp/eol_normalize.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Reference: returns bytes consumed (through the final CRLF) or len if
 * the end was not seen; the unstuffed text goes to out. */
static size_t reference(const char *in, size_t len, char *out, size_t *outlen, int *done)
{
	size_t i = 0, n = 0;

	*done = 0;
	while (i < len) {
		int bol = i == 0 || (i >= 2 && in[i - 2] == '\r' && in[i - 1] == '\n');
		if (bol && in[i] == '.') {
			if (i + 2 < len && in[i + 1] == '\r' && in[i + 2] == '\n') {
				*done = 1;
				*outlen = n;
				return i + 3;
			}
			if (i + 2 >= len && (i + 1 == len || (in[i + 1] == '\r' && i + 2 == len))) {
				/* ".", ".\r" at the very end: held back, not output */
				*outlen = n;
				return len;
			}
			i++;
			continue;
		}
		out[n++] = in[i++];
	}
	*outlen = n;
	return len;
}

static void check_decoder(const char *in, size_t len, size_t cut1, size_t cut2)
{
	struct data_decoder d;
	char *out = malloc(len + 2), *ref = malloc(len + 2), *piece;
	size_t cuts[4] = { 0, cut1, cut2, len }, used = 0, total = 0, k, rlen, rused;
	int done = 0, rdone;

	CHECK(out && ref);
	data_decoder_init(&d);
	for (k = 0; k < 3 && !done; k++) {
		size_t start = cuts[k] > used ? cuts[k] : used, end = cuts[k + 1], n, o = 0;
		if (end < start)
			continue;
		/* each piece in its own allocation: ASan sees reads past it */
		piece = malloc(end - start + 1);
		CHECK(piece != NULL);
		memcpy(piece, in + start, end - start);
		n = data_decoder_feed(&d, piece, end - start, out + total, &o, &done);
		CHECK(n <= end - start);
		CHECK(o <= (end - start) + 2);
		CHECK(done || n == end - start);
		free(piece);
		used = start + n;
		total += o;
	}
	rused = reference(in, len, ref, &rlen, &rdone);
	CHECK(done == rdone);
	if (done) {
		CHECK(used == rused);
		CHECK(used == 3 || (used >= 5 && memcmp(in + used - 5, "\r\n.\r\n", 5) == 0));
		CHECK(total == rlen && memcmp(out, ref, rlen) == 0);
		CHECK(total == 0 || (total >= 2 && out[total - 2] == '\r' && out[total - 1] == '\n'));
	} else {
		/* a trailing "." or ".\r" at a line start is held back by both */
		CHECK(total == rlen && memcmp(out, ref, rlen) == 0);
	}
	free(out);
	free(ref);
}

static void check_eol(const char *in, size_t len, size_t cut)
{
	struct eol_norm e;
	char *out = malloc(2 * len + 3);
	size_t n = 0, i;
	int bare = 0;

	CHECK(out != NULL);
	eol_norm_init(&e);
	n += eol_norm_feed(&e, in, cut, out + n);
	n += eol_norm_feed(&e, in + cut, len - cut, out + n);
	n += eol_norm_finish(&e, out + n);
	CHECK(n <= 2 * len + 2);
	for (i = 0; i < n; i++) {
		if (out[i] == '\r')
			CHECK(i + 1 < n && out[i + 1] == '\n');
		if (out[i] == '\n')
			CHECK(i > 0 && out[i - 1] == '\r');
	}
	for (i = 0; i < len; i++) {
		if (in[i] == '\r' && (i + 1 == len || in[i + 1] != '\n'))
			bare = 1;
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			bare = 1;
	}
	if (!bare)
		CHECK(n == len && memcmp(out, in, len) == 0);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len, c1, c2, t;
	const char *in;

	if (size < 2)
		return 0;
	in = (const char *)data + 2;
	len = size - 2;
	c1 = len ? data[0] % (len + 1) : 0;
	c2 = len ? data[1] % (len + 1) : 0;
	if (c1 > c2)
		t = c1, c1 = c2, c2 = t;
	check_decoder(in, len, c1, c2);
	check_eol(in, len, c1);
	return 0;
}
