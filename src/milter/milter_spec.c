/*
 * milter_spec: parse a [milter] filter list (milter_spec.h).
 */
#include "milter/milter_spec.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One entry s[0..n), trimmed. 0 or -1. */
static int parse_one(const char *s, size_t n, struct milter_spec *sp)
{
	char tmp[160], *colon, *end;
	unsigned char a[16];
	long port;

	memset(sp, 0, sizeof *sp);
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	snprintf(sp->text, sizeof sp->text, "%s", tmp);
	if (!strncmp(tmp, "unix:", 5)) {
		if (tmp[5] != '/' || strlen(tmp + 5) >= sizeof sp->path)
			return -1;
		sp->unix_socket = 1;
		memcpy(sp->path, tmp + 5, strlen(tmp + 5) + 1);   /* the length is checked above */
		return 0;
	}
	if (strncmp(tmp, "inet:", 5) || !(colon = strrchr(tmp + 5, ':')))
		return -1;
	*colon = '\0';
	char *host = tmp + 5;
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {   /* [::1] */
		host[hl - 1] = '\0';
		host++;
	}
	if (inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1)
		return -1;    /* numeric only: no DNS on the way to a filter */
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 1 || port > 65535)
		return -1;
	if (strlen(host) >= sizeof sp->host)
		return -1;
	memcpy(sp->host, host, strlen(host) + 1);
	sp->port = (int)port;
	return 0;
}

int milter_spec_parse(const char *list, struct milter_spec *out, int max)
{
	int n = 0;
	const char *p = list ? list : "";

	for (;;) {
		const char *e;
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return n;
		e = strchr(p, ',');
		len = e ? (size_t)(e - p) : strlen(p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (n >= max || parse_one(p, len, &out[n]) < 0)
			return -1;
		n++;
		if (!e)
			return n;
		p = e + 1;
	}
}
