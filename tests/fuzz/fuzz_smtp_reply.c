/*
 * fuzz_smtp_reply: the outbound client's reply parser, EHLO keyword
 * reader and DATA dot-stuffer (smtp_client_parse.h), i.e. everything a
 * hostile or broken remote MX can make us read. The input is split at
 * LF into reply lines (multi-line replies, short lines like "553" or
 * "250-" alone, overlong lines). Checks: a finished reply has a 3-digit
 * code and a bounded, NUL-terminated text with no control bytes, and an
 * enhanced status of the reply's class; the stuffer's output, for a
 * CRLF-only message, decodes (data_decode) back to the message with the
 * end of data exactly at its end.
 */
#include "delivery/smtp_client_parse.h"
#include "smtp/data_decode.h"
#include "util/buf.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_reply(const struct smtpc_reply *r)
{
	char st[32];
	size_t i, n;

	CHECK(r->code >= 100 && r->code <= 999);
	CHECK(r->nlines >= 1 && r->nlines <= SMTPC_MAX_LINES);
	n = strnlen(r->text, sizeof r->text);
	CHECK(n < sizeof r->text);
	for (i = 0; i < n; i++)
		CHECK((unsigned char)r->text[i] >= 0x20 && r->text[i] != 0x7f);
	memset(st, 0x5a, sizeof st);
	smtpc_reply_status(r, st, sizeof st);
	CHECK(memchr(st, '\0', sizeof st) != NULL);
	CHECK(strlen(st) >= 5 && st[1] == '.');
	smtpc_reply_status(r, st, 4);          /* too small: bounded */
	CHECK(memchr(st, '\0', 4) != NULL);
}

static void replies(const uint8_t *data, size_t size)
{
	struct smtpc_reply r;
	struct smtpc_ehlo e;
	size_t i = 0;

	smtpc_reply_reset(&r);
	memset(&e, 0, sizeof e);
	while (i < size) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t len = nl ? (size_t)(nl - (data + i)) : size - i;
		char *line = malloc(len ? len : 1);
		enum smtpc_feed f;

		CHECK(line != NULL);
		memcpy(line, data + i, len);
		if (len && line[len - 1] == '\r')
			len--;
		if (len <= SMTPC_LINE_MAX) {
			f = smtpc_reply_feed(&r, line, len);
			CHECK(f == SMTPC_MORE || f == SMTPC_DONE || f == SMTPC_BAD);
			if (f == SMTPC_DONE) {
				CHECK(r.done);
				check_reply(&r);
			}
			if (f != SMTPC_MORE)
				smtpc_reply_reset(&r);
		}
		smtpc_ehlo_line(&e, line, len);
		free(line);
		i += (nl ? (size_t)(nl - (data + i)) + 1 : size - i);
	}
}

static void stuffing(const uint8_t *data, size_t size)
{
	struct smtpc_stuffer s;
	struct buf out;
	struct data_decoder d;
	size_t cut = size ? data[0] % (size + 1) : 0, i, used, dn;
	char *dec;
	int done, bare = 0;

	for (i = 0; i < size; i++)
		if ((data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n')) ||
		    (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')))
			bare = 1;
	buf_init(&out, 4 * size + 64);
	smtpc_stuff_init(&s);
	CHECK(smtpc_stuff(&s, (const char *)data, cut, &out) == 0);
	CHECK(smtpc_stuff(&s, (const char *)data + cut, size - cut, &out) == 0);
	CHECK(smtpc_stuff_end(&s, &out) == 0);
	CHECK(out.len >= 3 && memcmp(out.data + out.len - 3, ".\r\n", 3) == 0);
	if (!bare) {
		dec = malloc(out.len + 2);
		CHECK(dec != NULL);
		data_decoder_init(&d);
		used = data_decoder_feed(&d, out.data, out.len, dec, &dn, &done);
		CHECK(done && used == out.len);
		CHECK(dn >= size && memcmp(dec, data, size) == 0);
		CHECK(dn == size || (dn == size + 2 && dec[size] == '\r' && dec[size + 1] == '\n'));
		free(dec);
	}
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	replies(data, size);
	stuffing(data, size);
	return 0;
}
