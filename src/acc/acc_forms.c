/*
 * acc_forms: form bodies and cookies (see acc_forms.h). libevent does the
 * percent- and plus-decoding; this file only bounds what reaches it.
 */
#include "acc/acc_forms.h"
#include <event2/http.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int acc_form_parse(const char *body, size_t len, struct evkeyvalq *q)
{
	char *s;
	size_t i;
	int rc;

	TAILQ_INIT(q);
	if (len == 0)
		body = "";          /* an empty POST body comes as NULL (evbuffer_pullup) */
	if (len > ACC_FORM_MAX || memchr(body, '\0', len))
		return -1;
	for (i = 0; i + 2 < len; i++)
		if (body[i] == '%' && body[i + 1] == '0' && body[i + 2] == '0')
			return -1;
	if (!(s = malloc(len + 1)))
		return -1;
	memcpy(s, body, len);
	s[len] = '\0';
	rc = evhttp_parse_query_str(s, q);
	explicit_bzero(s, len);         /* forms carry passwords */
	free(s);
	if (rc < 0) {
		evhttp_clear_headers(q);
		return -1;
	}
	return 0;
}

const char *acc_form_get(const struct evkeyvalq *q, const char *key)
{
	const char *v = evhttp_find_header(q, key);

	return v ? v : "";
}

int acc_cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name), vl;
	const char *p = header;

	if (!header || outlen == 0)
		return -1;
	while (*p) {
		p += strspn(p, " \t;");
		vl = strcspn(p, ";");
		if (vl > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			const char *v = p + nl + 1;
			size_t n = vl - nl - 1;

			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= outlen)
				return -1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
		p += vl;
	}
	return -1;
}
