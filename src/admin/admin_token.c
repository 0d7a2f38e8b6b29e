/*
 * admin_token: the admin API's tokens and their file (admin_token.h).
 */
#include "admin/admin_token.h"
#include "util/fsutil.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int admin_token_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= ADMIN_TOKEN_NAME_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

static void tohex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int admin_token_parse_line(const char *line, struct admin_token *t)
{
	const char *sp1 = strchr(line, ' '), *sp2;
	size_t nl;

	memset(t, 0, sizeof *t);
	if (!sp1 || !(sp2 = strchr(sp1 + 1, ' ')) || sp2 - sp1 != 3)
		return -1;
	nl = (size_t)(sp1 - line);
	if (nl > ADMIN_TOKEN_NAME_MAX)
		return -1;
	memcpy(t->name, line, nl);
	if (!admin_token_name_valid(t->name))
		return -1;
	if (!strncmp(sp1 + 1, "ro", 2))
		t->read_only = 1;
	else if (strncmp(sp1 + 1, "rw", 2))
		return -1;
	if (strlen(sp2 + 1) != 64 || unhex(sp2 + 1, t->hash, 32) < 0)
		return -1;
	return 0;
}

int admin_token_format_line(const struct admin_token *t, char *out, size_t len)
{
	char hex[65];

	tohex(t->hash, 32, hex);
	return snprintf(out, len, "%s %s %s\n", t->name, t->read_only ? "ro" : "rw", hex) >= (int)len ? -1 : 0;
}

void admin_token_hash(const char *token, unsigned char out[32])
{
	unsigned int n = 32;

	if (!EVP_Digest(token, strlen(token), out, &n, EVP_sha256(), NULL))
		memset(out, 0, 32);    /* matches nothing: every stored hash is a real digest */
}

int admin_token_match(const struct admin_token *list, size_t n, const char *token, int *named_known)
{
	const char *dot = strrchr(token, '.');
	unsigned char h[32];
	size_t nl = dot ? (size_t)(dot - token) : 0;
	int found = -1;

	*named_known = 0;
	admin_token_hash(token, h);
	for (size_t i = 0; i < n; i++) {
		/* every line compared, whatever matched: no early exit to time */
		if (CRYPTO_memcmp(h, list[i].hash, 32) == 0 && found < 0)
			found = (int)i;
		if (dot && strlen(list[i].name) == nl && !memcmp(list[i].name, token, nl))
			*named_known = 1;
	}
	return found;
}

static int path_of(const char *data_dir, char *path, size_t len)
{
	if (snprintf(path, len, "%s/%s", data_dir, ADMIN_TOKEN_FILE) >= (int)len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int admin_token_load(const char *data_dir, struct admin_token *out, size_t max)
{
	char path[1024], line[256];
	size_t n = 0;
	FILE *f;

	if (path_of(data_dir, path, sizeof path) < 0)
		return -1;
	if (!(f = fopen(path, "re")))
		return errno == ENOENT ? 0 : -1;
	while (n < max && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (admin_token_parse_line(line, &out[n]) == 0)   /* a damaged line is no token */
			n++;
	}
	fclose(f);
	return (int)n;
}

/* Replace the file with list[n]. */
static int save(const char *data_dir, const struct admin_token *list, size_t n)
{
	char path[1024], text[ADMIN_TOKENS_MAX * 112 + 1];
	size_t len = 0;

	if (path_of(data_dir, path, sizeof path) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (admin_token_format_line(&list[i], text + len, sizeof text - len) < 0) {
			errno = EOVERFLOW;
			return -1;
		}
		len += strlen(text + len);
	}
	return write_file_durably(path, text, len, 0600);
}

/* Two hostmailctl runs at once must not each drop the other's change:
 * add and remove hold data_dir/admin_tokens.lock while they read and
 * rewrite the file (the daemon only reads it: the rename is atomic). */
static int lock_tokens(const char *data_dir)
{
	char path[1024];
	int fd;

	if (snprintf(path, sizeof path, "%s/%s.lock", data_dir, ADMIN_TOKEN_FILE) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int add_locked(const char *data_dir, const char *name, int read_only, char *token);
static int remove_locked(const char *data_dir, const char *name);

int admin_token_add(const char *data_dir, const char *name, int read_only, char *token)
{
	int fd, rc, e;

	if (!admin_token_name_valid(name))
		return -4;
	if ((fd = lock_tokens(data_dir)) < 0)
		return -1;
	rc = add_locked(data_dir, name, read_only, token);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

int admin_token_remove(const char *data_dir, const char *name)
{
	int fd, rc, e;

	if ((fd = lock_tokens(data_dir)) < 0)
		return -1;
	rc = remove_locked(data_dir, name);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static int add_locked(const char *data_dir, const char *name, int read_only, char *token)
{
	static struct admin_token list[ADMIN_TOKENS_MAX + 1];  /* hostmailctl only: one call */
	unsigned char secret[32];
	char hex[65];
	int n;

	if ((n = admin_token_load(data_dir, list, ADMIN_TOKENS_MAX)) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i].name, name))
			return -3;
	if (n >= ADMIN_TOKENS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	if (RAND_bytes(secret, sizeof secret) != 1) {
		errno = EIO;
		return -1;
	}
	tohex(secret, sizeof secret, hex);
	OPENSSL_cleanse(secret, sizeof secret);
	snprintf(token, ADMIN_TOKEN_MAX + 1, "%s.%s", name, hex);
	OPENSSL_cleanse(hex, sizeof hex);
	memset(&list[n], 0, sizeof list[n]);
	snprintf(list[n].name, sizeof list[n].name, "%s", name);
	list[n].read_only = read_only;
	admin_token_hash(token, list[n].hash);
	return save(data_dir, list, (size_t)n + 1);
}

static int remove_locked(const char *data_dir, const char *name)
{
	static struct admin_token list[ADMIN_TOKENS_MAX];
	int n, k = 0, gone = 0;

	if ((n = admin_token_load(data_dir, list, ADMIN_TOKENS_MAX)) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!strcmp(list[i].name, name))
			gone = 1;
		else
			list[k++] = list[i];
	}
	return gone ? save(data_dir, list, (size_t)k) : -2;
}
