/*
 * milter_codec: encode milter commands and decode milter replies
 * (milter_codec.h). No I/O: the unit tests and the fuzz harness call it
 * directly, and milter_client.c feeds it what the socket gave.
 */
#include "milter/milter_codec.h"
#include <string.h>

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* The string starting at d[*off] within d[0..n): it must end with a NUL
 * inside. Its start, *off moved past the NUL; NULL if unterminated. */
static const char *take_str(const unsigned char *d, size_t n, size_t *off)
{
	const unsigned char *z;

	if (*off >= n || !(z = memchr(d + *off, '\0', n - *off)))
		return NULL;
	const char *s = (const char *)d + *off;
	*off = (size_t)(z - d) + 1;
	return s;
}

int milter_reply_code(const char *t)
{
	if (!t || (t[0] != '4' && t[0] != '5') || t[1] < '0' || t[1] > '9' || t[2] < '0' || t[2] > '9')
		return -1;
	if (t[3] != '\0' && t[3] != ' ' && t[3] != '-')
		return -1;
	return (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
}

/* The data of one reply packet, by command. 0 or -1. */
static int decode_data(struct milter_reply *r, const unsigned char *d, size_t n)
{
	size_t off = 0;

	switch (r->cmd) {
	case SMFIC_OPTNEG:
		if (n < 12)
			return -1;
		r->version = get32(d);
		r->actions = get32(d + 4);
		r->protocol = get32(d + 8);
		return 0;    /* macro lists after it: not used */
	case SMFIR_ACCEPT: case SMFIR_CONTINUE: case SMFIR_DISCARD: case SMFIR_REJECT:
	case SMFIR_TEMPFAIL: case SMFIR_SKIP: case SMFIR_PROGRESS: case SMFIR_SHUTDOWN:
	case SMFIR_CONN_FAIL:
		return 0;
	case SMFIR_REPLYCODE:
		if (!(r->name = take_str(d, n, &off)) || (r->code = milter_reply_code(r->name)) < 0)
			return -1;
		return 0;
	case SMFIR_INSHEADER: case SMFIR_CHGHEADER:
		if (n < 4)
			return -1;
		r->index = get32(d);
		off = 4;
		/* fall through */
	case SMFIR_ADDHEADER:
		if (!(r->name = take_str(d, n, &off)) || !(r->value = take_str(d, n, &off)) || !r->name[0])
			return -1;
		return 0;
	case SMFIR_ADDRCPT: case SMFIR_DELRCPT: case SMFIR_QUARANTINE:
		return (r->name = take_str(d, n, &off)) ? 0 : -1;
	case SMFIR_ADDRCPT_PAR: case SMFIR_CHGFROM:
		if (!(r->name = take_str(d, n, &off)))
			return -1;
		r->value = off < n ? take_str(d, n, &off) : NULL;
		return off < n && !r->value ? -1 : 0;
	case SMFIR_REPLBODY:
		r->data = d;
		r->datalen = n;
		return 0;
	default:
		return -1;
	}
}

int milter_decode(const unsigned char *p, size_t n, struct milter_reply *r, size_t *used)
{
	uint32_t len;

	memset(r, 0, sizeof *r);
	if (n < 4)
		return 0;
	len = get32(p);
	if (len == 0 || len > MILTER_REPLY_MAX)
		return -1;
	if (n - 4 < len)
		return 0;
	r->cmd = (char)p[4];
	if (decode_data(r, p + 5, len - 1) < 0)
		return -1;
	*used = 4 + (size_t)len;
	return 1;
}

/* ---- encoding ---- */

/* Start a packet: the length is filled in by finish(). Offset of it. */
static int start(struct buf *out, char cmd, size_t *at)
{
	unsigned char h[5] = { 0, 0, 0, 0, (unsigned char)cmd };

	*at = out->len;
	return buf_append(out, h, sizeof h);
}

static int finish(struct buf *out, size_t at)
{
	size_t len = out->len - at - 4;

	if (len > 0xffffffffu)
		return -1;
	put32((unsigned char *)out->data + at, (uint32_t)len);
	return 0;
}

/* s with its NUL. */
static int add_str(struct buf *out, const char *s)
{
	return buf_append(out, s ? s : "", strlen(s ? s : "") + 1);
}

int milter_enc_simple(struct buf *out, char cmd)
{
	size_t at;

	return start(out, cmd, &at) < 0 ? -1 : finish(out, at);
}

int milter_enc_optneg(struct buf *out, uint32_t actions, uint32_t protocol)
{
	unsigned char d[12];
	size_t at;

	put32(d, MILTER_VERSION);
	put32(d + 4, actions);
	put32(d + 8, protocol);
	if (start(out, SMFIC_OPTNEG, &at) < 0 || buf_append(out, d, sizeof d) < 0)
		return -1;
	return finish(out, at);
}

int milter_enc_macros(struct buf *out, char stage, const char *const *names, const char *const *values,
                      size_t n)
{
	size_t at;

	if (start(out, SMFIC_MACRO, &at) < 0 || buf_append(out, &stage, 1) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (add_str(out, names[i]) < 0 || add_str(out, values[i]) < 0)
			return -1;
	return finish(out, at);
}

int milter_enc_connect(struct buf *out, const char *hostname, char family, uint16_t port, const char *addr)
{
	unsigned char pb[2] = { (unsigned char)(port >> 8), (unsigned char)port };
	size_t at;

	if (start(out, SMFIC_CONNECT, &at) < 0 || add_str(out, hostname) < 0 || buf_append(out, &family, 1) < 0)
		return -1;
	if (family != 'U' && (buf_append(out, pb, 2) < 0 || add_str(out, addr) < 0))
		return -1;
	return finish(out, at);
}

int milter_enc_helo(struct buf *out, const char *helo)
{
	size_t at;

	if (start(out, SMFIC_HELO, &at) < 0 || add_str(out, helo) < 0)
		return -1;
	return finish(out, at);
}

int milter_enc_addr(struct buf *out, char cmd, const char *addr, const char *const *args, size_t nargs)
{
	size_t at;

	if (start(out, cmd, &at) < 0 || buf_append(out, "<", 1) < 0 || buf_puts(out, addr ? addr : "") < 0 ||
	    buf_append(out, ">", 2) < 0)
		return -1;
	for (size_t i = 0; i < nargs; i++)
		if (add_str(out, args[i]) < 0)
			return -1;
	return finish(out, at);
}

int milter_enc_header(struct buf *out, const char *name, const char *value)
{
	size_t at;

	if (start(out, SMFIC_HEADER, &at) < 0 || add_str(out, name) < 0 || add_str(out, value) < 0)
		return -1;
	return finish(out, at);
}

int milter_enc_body(struct buf *out, const void *p, size_t n)
{
	size_t at;

	if (n > MILTER_CHUNK || start(out, SMFIC_BODY, &at) < 0 || buf_append(out, p, n) < 0)
		return -1;
	return finish(out, at);
}
