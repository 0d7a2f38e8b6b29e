/*
 * http_syntax: checks of single HTTP/1.1 syntax elements (see
 * http_syntax.h). Each is strict: what the ABNF does not allow is refused,
 * and where the RFC lets a recipient choose, the choice is the stricter
 * one documented in http_parse.h.
 */
#include "acc/http_syntax.h"
#include <string.h>
#include <strings.h>

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t skip_ows(const char *s, size_t n, size_t i)
{
	while (i < n && is_ows(s[i]))
		i++;
	return i;
}

int http_is_tchar(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int http_is_field_char(char c)
{
	unsigned char u = (unsigned char)c;

	return u >= 0x80 || (u >= 0x21 && u <= 0x7e) || is_ows(c);
}

size_t http_span_token(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && http_is_tchar(s[i]))
		i++;
	return i;
}

/* unreserved, sub-delims, ':' and '@' (pchar less pct-encoded), '/', '?' */
static int is_target_char(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@/?", c) != NULL);
}

int http_valid_target(const char *t, size_t n)
{
	size_t i;

	if (n == 0 || t[0] != '/')
		return 0;
	for (i = 0; i < n; i++) {
		if (t[i] == '%') {
			if (i + 2 >= n || hex_value(t[i + 1]) < 0 || hex_value(t[i + 2]) < 0)
				return 0;
			i += 2;
		} else if (!is_target_char(t[i])) {
			return 0;
		}
	}
	return 1;
}

/* "HTTP/" 1*DIGIT "." 1*DIGIT in any case: a version, if not one of ours */
static int looks_like_version(const char *v, size_t n)
{
	size_t i = 5, major = 0, minor = 0;

	if (n < 5 || n > 16 || strncasecmp(v, "HTTP/", 5) != 0)
		return 0;
	for (; i < n && is_digit(v[i]); i++)
		major++;
	if (i == n || v[i++] != '.')
		return 0;
	for (; i < n && is_digit(v[i]); i++)
		minor++;
	return major > 0 && minor > 0 && i == n;
}

int http_check_version(const char *v, size_t n, int *minor)
{
	if (n == HTTP_VERSION_LEN && memcmp(v, "HTTP/1.", 7) == 0 && (v[7] == '0' || v[7] == '1')) {
		*minor = v[7] - '0';
		return 0;
	}
	return looks_like_version(v, n) ? 505 : 400;
}

/* IP-literal, loosely: hex digits, ':' and '.' between brackets */
static size_t host_literal(const char *h, size_t n)
{
	size_t i = 1;

	while (i < n && (hex_value(h[i]) >= 0 || h[i] == ':' || h[i] == '.'))
		i++;
	return i > 1 && i < n && h[i] == ']' ? i + 1 : 0;
}

int http_valid_host(const char *h)
{
	size_t n = strlen(h), i = 0, digits = 0;
	unsigned long port = 0;

	if (n == 0 || n > HTTP_HOST_MAX)
		return 0;
	if (h[0] == '[') {
		if ((i = host_literal(h, n)) == 0)
			return 0;
	} else {
		while (i < n && (is_alnum(h[i]) || h[i] == '-' || h[i] == '.'))
			i++;
		if (i == 0)
			return 0;
	}
	if (i == n)
		return 1;
	if (h[i++] != ':')
		return 0;
	for (; i < n && is_digit(h[i]) && digits < 5; i++, digits++)
		port = port * 10 + (unsigned long)(h[i] - '0');
	return i == n && digits > 0 && port <= 65535;
}

int http_parse_length(const char *s, uint64_t *v)
{
	uint64_t d;

	if (*s == '\0')
		return -1;
	for (*v = 0; *s; s++) {
		if (!is_digit(*s))
			return -1;
		d = (uint64_t)(*s - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return -1;
		*v = *v * 10 + d;
	}
	return 0;
}

/* #connection-option: tokens, commas, OWS; empty elements are allowed (RFC 9110 5.6.1) */
int http_parse_connection(const char *s, int *close, int *keep_alive)
{
	size_t n = strlen(s), i = 0, t;

	while (i < n) {
		i = skip_ows(s, n, i);
		t = http_span_token(s + i, n - i);
		if (t == 5 && strncasecmp(s + i, "close", 5) == 0)
			*close = 1;
		if (t == 10 && strncasecmp(s + i, "keep-alive", 10) == 0)
			*keep_alive = 1;
		i = skip_ows(s, n, i + t);
		if (i < n && s[i++] != ',')
			return -1;
	}
	return 0;
}

const char *http_split_field(char *line, size_t len, struct http_field *f)
{
	size_t n = http_span_token(line, len), v, end, i;

	if (is_ows(line[0]))
		return "obsolete line folding";
	if (n < len && is_ows(line[n]))
		return "white space before colon";
	if (n == 0 || n == len || line[n] != ':')
		return "bad field name";
	v = skip_ows(line, len, n + 1);
	for (end = len; end > v && is_ows(line[end - 1]); end--)
		;
	for (i = v; i < end; i++)
		if (!http_is_field_char(line[i]))
			return "bad field value";
	line[n] = '\0';
	line[end] = '\0';
	f->name = line;
	f->value = line + v;
	return NULL;
}

/* token / quoted-string; returns its length, 0 if neither */
static size_t ext_value(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] != '"')
		return http_span_token(s, n);
	for (i = 1; i < n; i++) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] == '\\' && ++i == n)   /* quoted-pair: the escaped byte is checked below */
			return 0;
		if (!http_is_field_char(s[i]))
			return 0;
	}
	return 0;
}

/* *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) from s[i] to the end */
static int chunk_extensions(const char *s, size_t n, size_t i)
{
	size_t k;

	while (i < n) {
		i = skip_ows(s, n, i);
		if (i == n || s[i] != ';')
			return -1;
		i = skip_ows(s, n, i + 1);
		if ((k = http_span_token(s + i, n - i)) == 0)
			return -1;
		i += k;
		k = skip_ows(s, n, i);
		if (k < n && s[k] == '=') {
			i = skip_ows(s, n, k + 1);
			if ((k = ext_value(s + i, n - i)) == 0)
				return -1;
			i += k;
		}
	}
	return 0;
}

const char *http_chunk_line(const char *s, size_t n, uint64_t *size)
{
	size_t i;

	for (i = 0, *size = 0; i < n && hex_value(s[i]) >= 0; i++) {
		if (i == 16)
			return "chunk size too long";
		*size = *size * 16 + (uint64_t)hex_value(s[i]);
	}
	if (i == 0)
		return "bad chunk size";
	if (chunk_extensions(s, n, i) < 0)
		return "bad chunk extension";
	return NULL;
}
