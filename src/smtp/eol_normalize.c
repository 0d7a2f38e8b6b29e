/* eol_normalize: bare CR / bare LF -> CRLF (see eol_normalize.h). Text
 * between line ends is copied as a whole. */
#include "smtp/eol_normalize.h"
#include "smtp/line_run.h"

void eol_norm_init(struct eol_norm *e)
{
	e->pending_cr = 0;
	e->fixed = 0;
}

size_t eol_norm_feed(struct eol_norm *e, const char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c;

		if (!e->pending_cr) {
			size_t run = line_run(in + i, len - i);
			memcpy(out + o, in + i, run);
			o += run;
			i += run;
			if (i == len)
				break;
		}
		c = in[i];
		if (e->pending_cr) {
			e->pending_cr = 0;
			out[o++] = '\r';
			out[o++] = '\n';
			if (c == '\n')
				continue;          /* a proper CRLF */
			e->fixed++;                /* bare CR */
		}
		if (c == '\r') {
			e->pending_cr = 1;
		} else if (c == '\n') {
			out[o++] = '\r';           /* bare LF */
			out[o++] = '\n';
			e->fixed++;
		} else {
			out[o++] = c;
		}
	}
	return o;
}

size_t eol_norm_finish(struct eol_norm *e, char *out)
{
	if (!e->pending_cr)
		return 0;
	e->pending_cr = 0;
	e->fixed++;
	out[0] = '\r';
	out[1] = '\n';
	return 2;
}
