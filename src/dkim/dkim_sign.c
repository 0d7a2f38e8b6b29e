/*
 * dkim_sign: signing with libopendkim (dkim_sign.h). One library handle
 * per message: dkim_init is cheap beside a 2048-bit RSA signature, and a
 * handle of our own keeps the header lists out of shared state. The
 * library gets its own copies of the keys (dkim_sign copies them); ours
 * are wiped at the end.
 */
#include "dkim/dkim_sign.h"
#include <opendkim/dkim.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 6376 5.4.1, and the MIME fields that say how to read the body
 * (as OpenDKIM's own default list does), and Message-ID */
static const char *const sign_headers[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Resent-Date", "Resent-From", "Resent-To",
	"Resent-Cc", "In-Reply-To", "References", "List-Id", "List-Help", "List-Unsubscribe",
	"List-Subscribe", "List-Post", "List-Owner", "List-Archive", "Message-ID", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding", NULL
};
static const char *const oversign_headers[] = { "From", NULL };

struct dkim_signer {
	DKIM_LIB *lib;
	DKIM *d[DKIM_SIGN_MAX_KEYS];
	size_t n;
	int failed;
};

void dkim_signer_free(struct dkim_signer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->d[i])
			dkim_free(s->d[i]);
	if (s->lib)
		dkim_close(s->lib);
	free(s);
}

static int set_lists(DKIM_LIB *lib)
{
	return dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, (void *)sign_headers, sizeof(char **)) ==
	               DKIM_STAT_OK &&
	       dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, (void *)oversign_headers,
	                    sizeof(char **)) == DKIM_STAT_OK ? 0 : -1;
}

struct dkim_signer *dkim_signer_new(const char *id, const char *domain, const struct dkim_key *keys,
                                    size_t n, char *err, size_t errlen)
{
	struct dkim_signer *s = calloc(1, sizeof *s);
	DKIM_STAT st = DKIM_STAT_OK;

	if (!s || n == 0 || n > DKIM_SIGN_MAX_KEYS) {
		snprintf(err, errlen, "%s", s ? "no DKIM keys" : "out of memory");
		free(s);
		return NULL;
	}
	if (!(s->lib = dkim_init(NULL, NULL)) || set_lists(s->lib) < 0) {
		snprintf(err, errlen, "cannot set up libopendkim");
		dkim_signer_free(s);
		return NULL;
	}
	for (s->n = 0; s->n < n; s->n++) {
		const struct dkim_key *k = &keys[s->n];
		s->d[s->n] = dkim_sign(s->lib, (const unsigned char *)id, NULL, (dkim_sigkey_t)(uintptr_t)k->private_key, /* copied by the library */
		                       (const unsigned char *)k->selector, (const unsigned char *)domain,
		                       DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
		                       k->alg == DKIM_ALG_ED25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256,
		                       -1, &st);
		if (!s->d[s->n]) {
			snprintf(err, errlen, "cannot sign with %s: %s", k->selector, dkim_getresultstr(st));
			dkim_signer_free(s);
			return NULL;
		}
	}
	return s;
}

int dkim_signer_feed(struct dkim_signer *s, const void *p, size_t n)
{
	for (size_t i = 0; i < s->n && !s->failed && n; i++)
		if (dkim_chunk(s->d[i], (unsigned char *)p, n) != DKIM_STAT_OK)
			s->failed = 1;
	return s->failed ? -1 : 0;
}

/* "DKIM-Signature: " + the library's value, its LF folds made CRLF. */
static int append_field(struct buf *out, const unsigned char *v, size_t len)
{
	if (buf_puts(out, DKIM_SIGNHEADER ": ") < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\n' ? buf_append(out, "\r\n", 2) < 0 : buf_append(out, &v[i], 1) < 0)
			return -1;
	}
	return buf_append(out, "\r\n", 2);
}

int dkim_signer_finish(struct dkim_signer *s, struct buf *out, char *err, size_t errlen)
{
	unsigned char *v;
	size_t len;

	for (size_t i = 0; i < s->n; i++) {
		DKIM *d = s->d[i];
		if (s->failed || dkim_chunk(d, NULL, 0) != DKIM_STAT_OK || dkim_eom(d, NULL) != DKIM_STAT_OK ||
		    dkim_getsighdr_d(d, strlen(DKIM_SIGNHEADER ": "), &v, &len) != DKIM_STAT_OK) {
			snprintf(err, errlen, "signing failed: %s", dkim_geterror(d) ? dkim_geterror(d) : "malformed message");
			return -1;
		}
		if (append_field(out, v, len) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}
