/*
 * fuzz_pop3_cmd: the POP3 command parser and the RETR/TOP encoder
 * (pop3_parse.h). The whole input is one command line for pop3_parse;
 * then, with the first byte choosing a TOP line limit (or none), the
 * rest is a stored message for the encoder, split in two. Checks: parsed
 * arguments are NUL-terminated and counted, a syntax error has a reason;
 * the encoded form has CRLF line ends only where the message had LF,
 * every line starting with '.' is stuffed, and it ends in CRLF "." CRLF,
 * which is the first place the SMTP end-of-data rule (data_decode) sees
 * an end: a message can never end a RETR early.
 */
#include "pop3/pop3_parse.h"
#include "smtp/data_decode.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_parse(const uint8_t *data, size_t size)
{
	struct pop3_command c;
	char *line = malloc(size ? size : 1);
	enum pop3_parse_result r;

	CHECK(line != NULL);
	memcpy(line, data, size);
	memset(&c, 0x5a, sizeof c);
	r = pop3_parse(line, size, &c);
	CHECK(r == POP3_PARSE_OK || r == POP3_PARSE_UNKNOWN || r == POP3_PARSE_SYNTAX);
	if (r == POP3_PARSE_OK) {
		CHECK(c.cmd >= 0 && c.cmd < POP3_NCMDS && c.name != NULL);
		CHECK(c.nargs >= 0 && c.nargs <= 2);
		CHECK(memchr(c.arg, '\0', sizeof c.arg) && memchr(c.arg2, '\0', sizeof c.arg2));
	} else if (r == POP3_PARSE_SYNTAX) {
		CHECK(c.error != NULL && c.error[0] != '\0');
	}
	free(line);
}

static void check_encoder(const uint8_t *data, size_t size)
{
	static const long limits[] = { -1, 0, 1, 3 };
	long lim = limits[data[0] & 3];
	const char *msg = (const char *)data + 1;
	size_t len = size - 1, cut = len ? (size_t)data[0] % (len + 1) : 0, n = 0, i, used, dn;
	char *out = malloc(2 * len + 8), *dec = malloc(2 * len + 10);
	struct pop3_enc e;
	struct data_decoder d;
	int done;

	CHECK(out && dec);
	pop3_enc_init(&e, lim);
	n += pop3_enc_step(&e, msg, cut, out + n);
	n += pop3_enc_step(&e, msg + cut, len - cut, out + n);
	n += pop3_enc_finish(&e, out + n);
	CHECK(n <= 2 * len + 5 && n >= 3);
	CHECK(memcmp(out + n - 3, ".\r\n", 3) == 0);
	for (i = 0; i < n; i++) {
		if (out[i] == '\n')
			CHECK(i > 0 && out[i - 1] == '\r');
		/* at a line start (after CRLF), a dot is the final "." or stuffed */
		if (i >= 2 && out[i - 2] == '\r' && out[i - 1] == '\n' && out[i] == '.' && i != n - 3)
			CHECK(i + 1 < n && out[i + 1] == '.');
	}
	data_decoder_init(&d);
	used = data_decoder_feed(&d, out, n, dec, &dn, &done);
	CHECK(done && used == n);
	if (lim < 0) {
		/* the whole message comes back, LF as CRLF */
		size_t k = 0;
		for (i = 0; i < len; i++) {
			if (msg[i] == '\n')
				CHECK(k < dn && dec[k++] == '\r');
			CHECK(k < dn && dec[k++] == msg[i]);
		}
		if (len && msg[len - 1] != '\n')
			CHECK(k + 2 == dn && dec[k] == '\r' && dec[k + 1] == '\n');
		else
			CHECK(k == dn);
	}
	free(out);
	free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	check_parse(data, size);
	if (size >= 1)
		check_encoder(data, size);
	return 0;
}
