/*
 * lmtp_proto: hop header, reply lines and dedup key (lmtp_proto.h).
 */
#include "cluster/lmtp_proto.h"
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int lmtp_hop_format(char *out, size_t outlen, int from, int to, const char *queue_id)
{
	int n;

	if (!queue_id[0])
		return -1;
	for (const char *p = queue_id; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return -1;
	n = snprintf(out, outlen, LMTP_HOP_NAME ": from=%d to=%d id=%d.%s\r\n", from, to, from, queue_id);
	if (n < 0 || (size_t)n >= outlen || strlen(queue_id) + 8 >= LMTP_HOP_ID_MAX)
		return -1;
	return n;
}

/* The id= value in a hop header's body [p, end) into id: the first
 * whitespace-separated word starting "id=", up to its first byte that is
 * not a letter, digit or '.'. */
static void hop_id(const char *p, const char *end, char *id)
{
	id[0] = '\0';
	while (p < end) {
		const char *w = p;
		size_t n = 0;

		while (w < end && (*w == ' ' || *w == '\t'))
			w++;
		p = w;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		if (p - w < 3 || strncasecmp(w, "id=", 3))
			continue;
		for (w += 3; w + n < p && n < LMTP_HOP_ID_MAX - 1; n++)
			if (!((w[n] >= '0' && w[n] <= '9') || (w[n] >= 'A' && w[n] <= 'Z') ||
			      (w[n] >= 'a' && w[n] <= 'z') || w[n] == '.'))
				break;
		memcpy(id, w, n);
		id[n] = '\0';
		return;
	}
}

void lmtp_hop_scan(const char *msg, size_t len, struct lmtp_hop *out)
{
	static const size_t namelen = sizeof LMTP_HOP_NAME - 1;
	const char *p = msg, *end = msg + (len < LMTP_HEADER_SCAN_MAX ? len : LMTP_HEADER_SCAN_MAX);

	memset(out, 0, sizeof *out);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		size_t l = (size_t)(le - p);

		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0)
			break;            /* the empty line: the body follows */
		if (l > namelen && !strncasecmp(p, LMTP_HOP_NAME, namelen)) {
			const char *q = p + namelen;
			while (q < p + l && (*q == ' ' || *q == '\t'))
				q++;
			if (q < p + l && *q == ':') {
				if (out->count++ == 0)
					hop_id(q + 1, p + l, out->id);
			}
		}
		if (!eol)
			break;
		p = eol + 1;
	}
}

int lmtp_reply_line(const char *line, int *code, int *last, const char **text)
{
	if (!(line[0] >= '2' && line[0] <= '5') || !(line[1] >= '0' && line[1] <= '9') ||
	    !(line[2] >= '0' && line[2] <= '9'))
		return -1;
	if (line[3] != '\0' && line[3] != ' ' && line[3] != '-')
		return -1;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	*last = line[3] != '-';
	*text = line[3] ? line + 4 : line + 3;
	return 0;
}

void lmtp_dedup_key(const char *hop_id, const char *rcpt, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t a = strlen(hop_id), b = strlen(rcpt);
	char buf[LMTP_HOP_ID_MAX + 1 + 512];

	/* the id ends at its NUL: "1.A" + "b@x" differs from "1.Ab" + "@x" */
	if (a >= LMTP_HOP_ID_MAX)
		a = LMTP_HOP_ID_MAX - 1;
	if (b > 512)
		b = 512;
	memcpy(buf, hop_id, a);
	buf[a] = '\0';
	memcpy(buf + a + 1, rcpt, b);
	EVP_Digest(buf, a + 1 + b, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32 && i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}
