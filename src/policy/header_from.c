/* header_from: From: field address domains (see header_from.h). */
#include "policy/header_from.h"
#include "util/buf.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Lower-cased domain of addr (text after the last '@'), trimmed. */
static int add_domain(const char *addr, size_t n, char domains[][256], int max, int *count)
{
	size_t s = 0, e = n, i;
	const char *at = NULL;

	while (s < e && isspace((unsigned char)addr[s]))
		s++;
	while (e > s && isspace((unsigned char)addr[e - 1]))
		e--;
	if (s == e)
		return 0; /* empty element, e.g. "a@b, , c@d" or an empty group */
	for (i = s; i < e; i++)
		if (addr[i] == '@')
			at = addr + i;
	if (!at || at == addr + e - 1 || at == addr + s || (size_t)(addr + e - at - 1) >= 256)
		return -1;
	if (*count >= max)
		return -1;
	for (i = 0; at + 1 + i < addr + e; i++)
		domains[*count][i] = (char)tolower((unsigned char)at[1 + i]);
	domains[*count][i] = '\0';
	if (strpbrk(domains[*count], " \t<>()\",;:"))
		return -1;
	(*count)++;
	return 0;
}

/* Parse one unfolded field value. */
static int parse_value(const char *v, size_t n, char domains[][256], int max, int *count)
{
	char bare[1024], angle[1024];
	size_t bl = 0, al = 0, i;
	int quote = 0, comment = 0, in_angle = 0, have_angle = 0;

	for (i = 0; i <= n; i++) {
		char c = i < n ? v[i] : ',';
		if (quote) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '"')
				quote = 0;
			continue;
		}
		if (comment) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '(')
				comment++;
			else if (c == ')')
				comment--;
			continue;
		}
		if (in_angle) {
			if (c == '>') {
				in_angle = 0;
				have_angle = 1;
			} else if (c == '<' || al + 1 >= sizeof angle) {
				return -1;
			} else {
				angle[al++] = c;
			}
			continue;
		}
		switch (c) {
		case '"': quote = 1; bl = 0; break;          /* display name */
		case '(': comment = 1; break;
		case '<': in_angle = 1; al = 0; bl = 0; break;
		case ':': bl = 0; have_angle = 0; break;     /* group name */
		case ',':
		case ';':
			if (have_angle ? add_domain(angle, al, domains, max, count) < 0
			               : add_domain(bare, bl, domains, max, count) < 0)
				return -1;
			bl = al = 0;
			have_angle = 0;
			break;
		case '>': return -1;
		default:
			if (bl + 1 >= sizeof bare)
				return -1;
			bare[bl++] = c;
		}
	}
	return (quote || comment || in_angle) ? -1 : 0;
}

/* "From:" or, as RFC 5322 4.5.1 obs-from allows, "From :": the offset after
 * the colon, or 0 if this line is not a From: field. */
static size_t from_field(const char *l, size_t n)
{
	size_t i = 4;

	if (n < 5 || strncasecmp(l, "From", 4) != 0)
		return 0;
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	return i < n && l[i] == ':' ? i + 1 : 0;
}

int header_from_domains(const char *hdr, size_t len, char domains[][256], int max)
{
	size_t i = 0, name_end;
	int count = 0, found = 0;

	while (i < len) {
		size_t ls = i, le;
		while (i < len && hdr[i] != '\n')
			i++;
		le = i;
		if (i < len)
			i++;
		if (le > ls && hdr[le - 1] == '\r')
			le--;
		if (le == ls)
			break; /* end of the header section */
		if ((name_end = from_field(hdr + ls, le - ls)) > 0) {
			struct buf val;
			int r;
			buf_init(&val, 65536);
			buf_append(&val, hdr + ls + name_end, le - ls - name_end);
			/* unfold: continuation lines start with WSP */
			while (i < len && (hdr[i] == ' ' || hdr[i] == '\t')) {
				size_t cs = i;
				while (i < len && hdr[i] != '\n')
					i++;
				le = i;
				if (i < len)
					i++;
				if (le > cs && hdr[le - 1] == '\r')
					le--;
				buf_append(&val, hdr + cs, le - cs);
			}
			found = 1;
			r = val.data ? parse_value(val.data, val.len, domains, max, &count) : -1;
			buf_free(&val);
			if (r < 0)
				return -1;
		}
	}
	if (found && count == 0)
		return -1;
	return count;
}
