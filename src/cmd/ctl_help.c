/*
 * ctl_help: `hostmailctl help NOUN [VERB]` prints only the lines of the
 * usage text about that command (its line and the indented lines that
 * continue it), so one text is the whole help and every verb's help.
 */
#include "cmd/ctl.h"
#include <string.h>

#define CONT_INDENT 27      /* continuation lines start with this many spaces */

/* Does this usage line start a command about noun (and verb)? Lines like
 * "  account suspend NAME | account resume NAME" name several. */
static int about(const char *line, size_t len, const char *noun, const char *verb)
{
	char want[128];
	size_t wl;

	snprintf(want, sizeof want, "%s%s%s", noun, verb ? " " : "", verb ? verb : "");
	wl = strlen(want);
	for (const char *p = line + 2; p && p + wl <= line + len; ) {
		if (!strncmp(p, want, wl) && (p[wl] == ' ' || p[wl] == '\n'))
			return 1;
		if ((p = memchr(p, '|', (size_t)(line + len - p))))
			p += 2;                 /* "| " */
	}
	return 0;
}

int ctl_help_print(const char *usage, const char *noun, const char *verb, FILE *out)
{
	const char *line = usage;
	int printing = 0, n = 0;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line + 1) : strlen(line);
		int cont = len > CONT_INDENT && strspn(line, " ") >= CONT_INDENT;

		if (!cont)
			printing = len > 2 && line[0] == ' ' && line[1] == ' ' && line[2] != ' ' &&
			           about(line, len, noun, verb);
		if (printing) {
			fwrite(line, 1, len, out);
			n++;
		}
		line += len;
	}
	return n;
}
