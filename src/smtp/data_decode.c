/*
 * data_decode: DATA end-of-data detection and dot-unstuffing (see
 * data_decode.h). A byte-at-a-time state machine, so a split anywhere in
 * the input gives the same result. Only a line start that follows a real
 * CRLF is special: bare LF and bare CR never start a line here, which is
 * what defeats the SMTP smuggling variants ("\n.\n", "\r.\r", ...).
 * Inside a line only CR and LF matter, so the text up to the next one is
 * copied as a whole (memchr): most bytes never reach the state machine.
 */
#include "smtp/data_decode.h"
#include "smtp/line_run.h"

enum {
	DD_BOL = 0, /* just after CRLF (or at the start of the data) */
	DD_TEXT,    /* inside a line */
	DD_CR,      /* CR written out, waiting to see whether LF follows */
	DD_DOT,     /* "." at line start, held back */
	DD_DOTCR,   /* "." CR at line start, both held back */
	DD_DONE     /* CRLF.CRLF consumed */
};

void data_decoder_init(struct data_decoder *d)
{
	d->state = DD_BOL;
	d->bare_lf = 0;
	d->bare_cr = 0;
}

/* c inside a line (or after a removed leading dot); writes it to o. */
static int text_byte(struct data_decoder *d, char c, char *o, size_t *n)
{
	o[(*n)++] = c;
	if (c == '\r')
		return DD_CR;
	if (c == '\n')
		d->bare_lf++;
	return DD_TEXT;
}

size_t data_decoder_feed(struct data_decoder *d, const char *in, size_t len,
                         char *out, size_t *outlen, int *done)
{
	size_t i, n = 0;

	*done = 0;
	for (i = 0; i < len && d->state != DD_DONE; i++) {
		char c;

		if (d->state == DD_TEXT) {
			size_t run = line_run(in + i, len - i);
			memcpy(out + n, in + i, run);
			n += run;
			i += run;
			if (i == len)
				break;
		}
		c = in[i];

		switch (d->state) {
		case DD_BOL:
			d->state = c == '.' ? DD_DOT : text_byte(d, c, out, &n);
			break;
		case DD_CR:
			if (c == '\n') {
				out[n++] = c;
				d->state = DD_BOL;
			} else {
				d->bare_cr++;
				d->state = text_byte(d, c, out, &n);
			}
			break;
		case DD_DOT:
			/* A leading dot on any other line is stuffing: drop it. */
			d->state = c == '\r' ? DD_DOTCR : text_byte(d, c, out, &n);
			break;
		case DD_DOTCR:
			if (c == '\n') {
				d->state = DD_DONE;
				break;
			}
			/* ".\r" then not LF: the held CR is a bare CR of the text. */
			d->bare_cr++;
			out[n++] = '\r';
			d->state = text_byte(d, c, out, &n);
			break;
		default:
			d->state = text_byte(d, c, out, &n);
			break;
		}
	}
	*outlen = n;
	*done = d->state == DD_DONE;
	return i;
}
