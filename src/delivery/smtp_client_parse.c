/*
 * smtp_client_parse: reply lines, EHLO keywords and dot-stuffing for the
 * outbound client (see smtp_client_parse.h). Pure functions.
 */
#include "delivery/smtp_client_parse.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void smtpc_reply_reset(struct smtpc_reply *r)
{
	memset(r, 0, sizeof *r);
}

/* Append len bytes to r->text (bounded; unprintable bytes as '?'). */
static void text_add(struct smtpc_reply *r, const char *s, size_t len)
{
	size_t n = strlen(r->text);

	for (size_t i = 0; i < len && n < SMTPC_TEXT_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		r->text[n++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	r->text[n] = '\0';
}

enum smtpc_feed smtpc_reply_feed(struct smtpc_reply *r, const char *line, size_t len)
{
	int code;

	if (r->done)
		smtpc_reply_reset(r);
	if (len < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) || line[0] < '2' || line[0] > '5')
		return SMTPC_BAD;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return SMTPC_BAD;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->nlines > 0 && code != r->code)
		return SMTPC_BAD;
	if (++r->nlines > SMTPC_MAX_LINES)
		return SMTPC_BAD;
	if (r->nlines == 1) {
		r->code = code;
		text_add(r, line, 3);
	}
	if (len > 4) {
		text_add(r, " ", 1);
		text_add(r, line + 4, len - 4);
	}
	/* "250" alone and "250 text" end a reply; "250-" and "250-text" do not */
	if (len == 3 || line[3] == ' ') {
		r->done = 1;
		return SMTPC_DONE;
	}
	return SMTPC_MORE;
}

static int is_enh(const char *s, size_t *n)
{
	size_t i = 0, parts = 0;

	if (s[0] < '2' || s[0] > '5' || s[1] != '.')
		return 0;
	i = 2;
	for (parts = 1; parts < 3; parts++) {
		size_t d = 0;
		while (isdigit((unsigned char)s[i]) && d < 3) {
			i++;
			d++;
		}
		if (d == 0)
			return 0;
		if (parts == 1) {
			if (s[i] != '.')
				return 0;
			i++;
		}
	}
	if (s[i] != '\0' && s[i] != ' ')
		return 0;
	*n = i;
	return 1;
}

void smtpc_reply_status(const struct smtpc_reply *r, char *out, size_t outlen)
{
	size_t n;
	const char *t = r->text;

	if (strlen(t) > 4 && is_enh(t + 4, &n) && t[4] == t[0]) {
		snprintf(out, outlen, "%.*s", (int)n, t + 4);
		return;
	}
	snprintf(out, outlen, "%c.0.0", r->code >= 200 && r->code < 600 ? '0' + r->code / 100 : '4');
}

/* Does line[0..len) start with keyword kw (followed by the end or a space)? */
static int keyword(const char *line, size_t len, const char *kw, const char **param)
{
	size_t k = strlen(kw);

	if (len < k || strncasecmp(line, kw, k) != 0)
		return 0;
	if (len > k && line[k] != ' ')
		return 0;
	*param = len > k ? line + k + 1 : line + len;
	return 1;
}

void smtpc_ehlo_line(struct smtpc_ehlo *e, const char *line, size_t len)
{
	const char *p;

	if (keyword(line, len, "STARTTLS", &p))
		e->ext |= SMTPC_EXT_STARTTLS;
	else if (keyword(line, len, "PIPELINING", &p))
		e->ext |= SMTPC_EXT_PIPELINING;
	else if (keyword(line, len, "8BITMIME", &p))
		e->ext |= SMTPC_EXT_8BITMIME;
	else if (keyword(line, len, "SMTPUTF8", &p))
		e->ext |= SMTPC_EXT_SMTPUTF8;
	else if (keyword(line, len, "SIZE", &p)) {
		uint64_t v = 0;
		const char *end = line + len;
		e->ext |= SMTPC_EXT_SIZE;
		for (; p < end && isdigit((unsigned char)*p); p++) {
			if (v > (UINT64_MAX - 9) / 10) {
				v = 0; /* absurd: treat as "no fixed limit" */
				break;
			}
			v = v * 10 + (uint64_t)(*p - '0');
		}
		e->size_max = v;
	}
}

void smtpc_stuff_init(struct smtpc_stuffer *s)
{
	memset(s, 0, sizeof *s);
	s->bol = 1;
}

int smtpc_stuff(struct smtpc_stuffer *s, const char *in, size_t n, struct buf *out)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		if (s->bol && in[i] == '.') {
			/* flush up to here, then the extra dot; in[i] goes with the next run */
			if (buf_append(out, in + start, i - start) < 0 || buf_append(out, ".", 1) < 0)
				return -1;
			start = i;
		}
		s->bol = in[i] == '\n';
	}
	if (n >= 2) {
		s->tail[0] = in[n - 2];
		s->tail[1] = in[n - 1];
	} else if (n == 1) {
		s->tail[0] = s->tail[1];
		s->tail[1] = in[0];
	}
	s->total += n;
	return buf_append(out, in + start, n - start);
}

int smtpc_stuff_end(struct smtpc_stuffer *s, struct buf *out)
{
	if (s->total > 0 && !(s->tail[0] == '\r' && s->tail[1] == '\n') && buf_append(out, "\r\n", 2) < 0)
		return -1;
	return buf_append(out, ".\r\n", 3);
}
