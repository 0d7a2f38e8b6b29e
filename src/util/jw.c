/*
 * jw: the JSON writer (json.h).
 */
#include "util/jw.h"
#include <stdio.h>
#include <string.h>

void jw_init(struct jw *j, struct buf *b)
{
	memset(j, 0, sizeof *j);
	j->b = b;
}

static void put(struct jw *j, const char *s)
{
	if (buf_puts(j->b, s) < 0)
		j->err = 1;
}

/* Before a value or a key: the comma that separates it from the last. */
static void sep(struct jw *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth > 0 && j->count[j->depth - 1]++ > 0)
		put(j, ",");
}

static void jopen(struct jw *j, const char *c)
{
	sep(j);
	put(j, c);
	if (j->depth >= JW_DEPTH_MAX) {
		j->err = 1;
		return;
	}
	j->count[j->depth++] = 0;
}

static void jclose(struct jw *j, const char *c)
{
	if (j->depth == 0 || j->after_key)
		j->err = 1;
	else
		j->depth--;
	put(j, c);
}

void jw_obj(struct jw *j) { jopen(j, "{"); }
void jw_obj_end(struct jw *j) { jclose(j, "}"); }
void jw_arr(struct jw *j) { jopen(j, "["); }
void jw_arr_end(struct jw *j) { jclose(j, "]"); }

int jw_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	int rc = buf_puts(b, "\"");

	for (; rc == 0 && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7] = "\\u00";

		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			esc[2] = '\0';
		} else if (c == '\n' || c == '\r' || c == '\t') {
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			esc[2] = '\0';
		} else if (c < 0x20 || c == 0x7f) {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
		} else {
			rc = buf_append(b, s, 1);
			continue;
		}
		rc = buf_puts(b, esc);
	}
	return rc < 0 || buf_puts(b, "\"") < 0 ? -1 : 0;
}

void jw_key(struct jw *j, const char *key)
{
	sep(j);
	if (jw_escape(j->b, key) < 0)
		j->err = 1;
	put(j, ":");
	j->after_key = 1;
}

void jw_str(struct jw *j, const char *s)
{
	sep(j);
	if (jw_escape(j->b, s ? s : "") < 0)
		j->err = 1;
}

void jw_int(struct jw *j, long long v)
{
	char n[24];

	sep(j);
	snprintf(n, sizeof n, "%lld", v);
	put(j, n);
}

void jw_bool(struct jw *j, int v)
{
	sep(j);
	put(j, v ? "true" : "false");
}

void jw_null(struct jw *j)
{
	sep(j);
	put(j, "null");
}

void jw_kstr(struct jw *j, const char *key, const char *s) { jw_key(j, key); jw_str(j, s); }
void jw_kint(struct jw *j, const char *key, long long v) { jw_key(j, key); jw_int(j, v); }
void jw_kbool(struct jw *j, const char *key, int v) { jw_key(j, key); jw_bool(j, v); }

int jw_done(const struct jw *j)
{
	return j->err || j->depth || j->after_key ? -1 : 0;
}
