/*
 * xml: escaping for the XML hostmail writes (autoconfig, Autodiscover,
 * Apple profiles); see xml.h.
 */
#include "util/xml.h"
#include <string.h>

int xml_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		const char *e = NULL;

		switch (ch) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&apos;"; break;
		default:
			if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
				return -1;
		}
		if (e ? buf_puts(b, e) < 0 : buf_append(b, s, 1) < 0)
			return -1;
	}
	return 0;
}

int xml_element(struct buf *b, const char *name, const char *text)
{
	if (buf_printf(b, "<%s>", name) < 0 || xml_escape(b, text) < 0 || buf_printf(b, "</%s>", name) < 0)
		return -1;
	return 0;
}
