/*
 * dkim_sign: the signer (dkim_sign.h). The header section is kept (it is
 * hashed at the end, once the body hash is known); the body goes through
 * the canonicalizer into one SHA-256 as it comes. Each signature: the
 * selected header fields, bottom-up per name (RFC 6376 5.4.2), then this
 * DKIM-Signature field itself with an empty b=, all relaxed; RSA signs
 * that with SHA-256 (PKCS#1 v1.5), Ed25519 signs its SHA-256 (RFC 8463).
 */
#define _GNU_SOURCE    /* memmem */
#include "dkim/dkim_sign.h"
#include "dkim/dkim_canon.h"
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 6376 5.4.1, and Message-ID and the MIME fields that say how to
 * read the body (as OpenDKIM's default list does) */
static const char *const sign_headers[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Resent-Date", "Resent-From", "Resent-To",
	"Resent-Cc", "In-Reply-To", "References", "List-Id", "List-Help", "List-Unsubscribe",
	"List-Subscribe", "List-Post", "List-Owner", "List-Archive", "Message-ID", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding",
};
#define NSIGN (sizeof sign_headers / sizeof sign_headers[0])
#define MAX_FIELDS 1024        /* header fields looked at */
#define FOLD_AT 76

struct field {
	const char *p;             /* into hdr */
	size_t len;                /* without the final CRLF */
	size_t namelen;
	int used;
};

struct dkim_signer {
	char domain[256];
	int64_t t;
	struct {
		EVP_PKEY *pkey;
		enum dkim_alg alg;
		char selector[DKIM_SELECTOR_MAX];
	} k[DKIM_SIGN_MAX_KEYS];
	size_t n;
	struct buf hdr;            /* the header section, with its blank line */
	int in_body, failed;
	EVP_MD_CTX *body;
	struct dkim_body_canon canon;
	struct field *f;
	size_t nf;
};

void dkim_signer_free(struct dkim_signer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		EVP_PKEY_free(s->k[i].pkey);
	EVP_MD_CTX_free(s->body);
	buf_free(&s->hdr);
	free(s->f);
	free(s);
}

static EVP_PKEY *load_key(const struct dkim_key *k)
{
	BIO *b = BIO_new_mem_buf(k->private_key, -1);
	EVP_PKEY *p = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (p && EVP_PKEY_get_id(p) != (k->alg == DKIM_ALG_ED25519 ? EVP_PKEY_ED25519 : EVP_PKEY_RSA)) {
		EVP_PKEY_free(p);
		p = NULL;
	}
	return p;
}

static void body_hash(void *arg, const char *p, size_t n)
{
	struct dkim_signer *s = arg;

	if (EVP_DigestUpdate(s->body, p, n) != 1)
		s->failed = 1;
}

struct dkim_signer *dkim_signer_new(const char *domain, const struct dkim_key *keys, size_t n, int64_t t,
                                    char *err, size_t errlen)
{
	struct dkim_signer *s;

	if (n == 0 || n > DKIM_SIGN_MAX_KEYS) {
		snprintf(err, errlen, "no DKIM keys");
		return NULL;
	}
	if (!(s = calloc(1, sizeof *s)) || !(s->body = EVP_MD_CTX_new()) ||
	    EVP_DigestInit_ex(s->body, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "out of memory");
		dkim_signer_free(s);
		return NULL;
	}
	snprintf(s->domain, sizeof s->domain, "%s", domain);
	s->t = t;
	buf_init(&s->hdr, DKIM_SIGN_HEADER_MAX);
	dkim_body_canon_init(&s->canon, body_hash, s);
	for (s->n = 0; s->n < n; s->n++) {
		if (!(s->k[s->n].pkey = load_key(&keys[s->n]))) {
			snprintf(err, errlen, "DKIM key %s cannot be read", keys[s->n].selector);
			dkim_signer_free(s);
			return NULL;
		}
		s->k[s->n].alg = keys[s->n].alg;
		snprintf(s->k[s->n].selector, sizeof s->k[s->n].selector, "%s", keys[s->n].selector);
	}
	return s;
}

/* Header bytes until the blank line; what follows is body. */
int dkim_signer_feed(struct dkim_signer *s, const void *p, size_t n)
{
	const char *c = p;

	if (s->failed)
		return -1;
	if (!s->in_body) {
		size_t before = s->hdr.len, take;
		const char *end;
		/* look for CRLF CRLF, also across the previous piece */
		if (buf_append(&s->hdr, c, n < DKIM_SIGN_HEADER_MAX ? n : DKIM_SIGN_HEADER_MAX) < 0) {
			s->failed = 1;
			return -1;
		}
		size_t from = before > 3 ? before - 3 : 0;
		if (s->hdr.len >= 2 && s->hdr.data[0] == '\r' && s->hdr.data[1] == '\n')
			end = s->hdr.data;      /* no header fields at all */
		else if ((end = memmem(s->hdr.data + from, s->hdr.len - from, "\r\n\r\n", 4)) != NULL)
			end += 2;
		if (!end)
			return 0;
		take = (size_t)(end + 2 - s->hdr.data);   /* the header section and its blank line */
		s->in_body = 1;
		dkim_body_canon_feed(&s->canon, s->hdr.data + take, s->hdr.len - take);
		s->hdr.len = take;
		s->hdr.data[take] = '\0';
		return 0;
	}
	dkim_body_canon_feed(&s->canon, c, n);
	return s->failed ? -1 : 0;
}

/* The header section into fields (a field's continuation lines start with WSP). */
static int split_fields(struct dkim_signer *s)
{
	const char *p = s->hdr.data, *end = s->hdr.data + s->hdr.len;

	if (!(s->f = calloc(MAX_FIELDS, sizeof *s->f)))
		return -1;
	while (p < end && !(p[0] == '\r' && p + 1 < end && p[1] == '\n')) {
		const char *q = p, *colon;
		while (q < end) {
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			q = nl ? nl + 1 : end;
			if (q >= end || (*q != ' ' && *q != '\t'))
				break;
		}
		if (s->nf < MAX_FIELDS && (colon = memchr(p, ':', (size_t)(q - p))) != NULL) {
			struct field *f = &s->f[s->nf++];
			f->p = p;
			f->len = (size_t)(q - p);
			while (f->len && (p[f->len - 1] == '\n' || p[f->len - 1] == '\r'))
				f->len--;
			f->namelen = (size_t)(colon - p);
			while (f->namelen && (p[f->namelen - 1] == ' ' || p[f->namelen - 1] == '\t'))
				f->namelen--;
		}
		p = q;
	}
	return 0;
}

/* The list's spelling of field f's name, or NULL if it is not signed. */
static const char *signed_name(const struct field *f)
{
	for (size_t i = 0; i < NSIGN; i++)
		if (f->namelen == strlen(sign_headers[i]) && !strncasecmp(f->p, sign_headers[i], f->namelen))
			return sign_headers[i];
	return NULL;
}

/* h=: the signed fields' names in the message's order (once per
 * instance), then From once more. */
static int header_list(const struct dkim_signer *s, struct buf *h)
{
	for (size_t i = 0; i < s->nf; i++) {
		const char *name = signed_name(&s->f[i]);
		if (name && buf_printf(h, "%s%s", h->len ? ":" : "", name) < 0)
			return -1;
	}
	return buf_printf(h, "%sFrom", h->len ? ":" : "");
}

/* The selected fields, relaxed, in h='s order; bottom-up per name. */
static int signed_fields(struct dkim_signer *s, const char *hlist, struct buf *out)
{
	char name[64];
	const char *p = hlist;

	for (size_t i = 0; i < s->nf; i++)
		s->f[i].used = 0;
	while (*p) {
		size_t n = strcspn(p, ":");
		snprintf(name, sizeof name, "%.*s", (int)n, p);
		for (size_t i = s->nf; i-- > 0;) {
			struct field *f = &s->f[i];
			if (!f->used && f->namelen == n && !strncasecmp(f->p, name, n)) {
				f->used = 1;
				if (dkim_canon_header(f->p, f->len, 1, out) < 0)
					return -1;
				break;
			}
		}                          /* none left: nothing (oversigning) */
		p += n + (p[n] == ':');
	}
	return 0;
}

/* Append "; " or ";\r\n\t" before the next tag, folding at FOLD_AT. */
static int tag(struct buf *f, size_t *line, const char *fmt, const char *a, const char *b)
{
	char t[1200];
	int n = snprintf(t, sizeof t, fmt, a, b);

	if (n < 0 || (size_t)n >= sizeof t)
		return -1;
	if (*line + (size_t)n + 2 > FOLD_AT) {
		if (buf_puts(f, ";\r\n\t") < 0)
			return -1;
		*line = 1;
	} else {
		if (buf_puts(f, "; ") < 0)
			return -1;
		*line += 2;
	}
	*line += (size_t)n;
	return buf_puts(f, t);
}

/* The field for key i with an empty b= (folded as it will be sent). */
static int unsigned_field(struct dkim_signer *s, size_t i, const char *bh, const char *hlist, struct buf *f)
{
	char t[24];
	size_t line;

	snprintf(t, sizeof t, "%lld", (long long)s->t);
	if (buf_printf(f, "DKIM-Signature: v=1") < 0)
		return -1;
	line = f->len;
	return tag(f, &line, "a=%s%s", dkim_alg_name(s->k[i].alg), "") < 0 ||
	       tag(f, &line, "c=relaxed/relaxed%s%s", "", "") < 0 ||
	       tag(f, &line, "d=%s%s", s->domain, "") < 0 ||
	       tag(f, &line, "s=%s%s", s->k[i].selector, "") < 0 ||
	       tag(f, &line, "t=%s%s", t, "") < 0 ||
	       tag(f, &line, "bh=%s%s", bh, "") < 0 ||
	       tag(f, &line, "h=%s%s", hlist, "") < 0 ||
	       buf_puts(f, ";\r\n\tb=") < 0 ? -1 : 0;
}

/* Sign data with key i: RSA over SHA-256 of it, Ed25519 over its SHA-256. */
static int sign_data(struct dkim_signer *s, size_t i, const struct buf *data, unsigned char *sig, size_t *siglen)
{
	unsigned char md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!ctx)
		return -1;
	if (s->k[i].alg == DKIM_ALG_ED25519)
		ok = EVP_Digest(data->data, data->len, md, NULL, EVP_sha256(), NULL) == 1 &&
		     EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->k[i].pkey) == 1 &&
		     EVP_DigestSign(ctx, sig, siglen, md, sizeof md) == 1;
	else
		ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, s->k[i].pkey) == 1 &&
		     EVP_DigestSign(ctx, sig, siglen, (const unsigned char *)data->data, data->len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* b= in base64, folded. */
static int append_b64(struct buf *out, const unsigned char *sig, size_t len)
{
	char b64[1400];
	int n;

	if (len > 1024 || (n = EVP_EncodeBlock((unsigned char *)b64, sig, (int)len)) < 0)
		return -1;
	for (int off = 0; off < n; off += 64)
		if (buf_printf(out, "%s%.*s", off ? "\r\n\t " : "", n - off < 64 ? n - off : 64, b64 + off) < 0)
			return -1;
	return buf_puts(out, "\r\n");
}

static int one_signature(struct dkim_signer *s, size_t i, const char *bh, const char *hlist, struct buf *out)
{
	struct buf field, data;
	unsigned char sig[1024];
	size_t siglen = sizeof sig;
	int rc = -1;

	buf_init(&field, 0);
	buf_init(&data, 0);
	if (unsigned_field(s, i, bh, hlist, &field) == 0 && signed_fields(s, hlist, &data) == 0 &&
	    dkim_canon_header(field.data, field.len, 0, &data) == 0 && sign_data(s, i, &data, sig, &siglen) == 0 &&
	    buf_append(out, field.data, field.len) == 0 && append_b64(out, sig, siglen) == 0)
		rc = 0;
	buf_free(&field);
	buf_free(&data);
	return rc;
}

int dkim_signer_finish(struct dkim_signer *s, struct buf *out, char *err, size_t errlen)
{
	unsigned char md[32];
	char bh[48];
	struct buf hlist;
	int rc = 0;

	if (!s->in_body) {           /* no blank line: all header, an empty body */
		if (buf_puts(&s->hdr, s->hdr.len >= 2 && !strcmp(s->hdr.data + s->hdr.len - 2, "\r\n") ? "\r\n" :
		             "\r\n\r\n") < 0)
			s->failed = 1;
		s->in_body = 1;
	}
	dkim_body_canon_finish(&s->canon);
	if (s->failed || EVP_DigestFinal_ex(s->body, md, NULL) != 1 || split_fields(s) < 0) {
		snprintf(err, errlen, "header section too long or out of memory");
		return -1;
	}
	EVP_EncodeBlock((unsigned char *)bh, md, sizeof md);
	buf_init(&hlist, 0);
	if (header_list(s, &hlist) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < s->n; i++)
		rc = one_signature(s, i, bh, hlist.data, out);
	if (rc < 0)
		snprintf(err, errlen, "signing failed (OpenSSL or out of memory)");
	buf_free(&hlist);
	return rc;
}
