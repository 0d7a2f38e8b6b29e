/*
 * route_store: the routing layer's glue to the store, the SRS secret and
 * the queue (route_store.h).
 */
#include "routing/route_store.h"
#include "store/store.h"
#include "store/store_alias.h"
#include "store/store_rate.h"
#include "util/config.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void split(const char *addr, char *local, size_t ll, char *domain, size_t dl)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);

	snprintf(local, ll, "%.*s", (int)n, addr);
	snprintf(domain, dl, "%s", at ? at + 1 : "");
}

static int db_hosted(void *arg, const char *domain)
{
	char owner[STORE_NAME_MAX];
	int rc = store_domain_owner(arg, domain, owner, sizeof owner);

	return rc == 0 ? 1 : rc == STORE_ENOTFOUND ? 0 : -1;
}

static int db_mailbox(void *arg, const char *addr)
{
	char local[320], domain[256];
	int hosted = 0, exists = 0;

	split(addr, local, sizeof local, domain, sizeof domain);
	if (store_rcpt_lookup(arg, local, domain, &hosted, &exists) != 0)
		return -1;
	return exists;
}

static int db_alias(void *arg, const char *addr, char *targets, size_t len)
{
	struct alias a;
	int rc = store_alias_get(arg, addr, &a);

	if (rc == 0)
		snprintf(targets, len, "%s", a.targets);
	return rc == 0 ? 1 : rc == STORE_ENOTFOUND ? 0 : -1;
}

static int db_catchall(void *arg, const char *domain, char *out, size_t len)
{
	if (store_catchall_get(arg, domain, out, len) != 0)
		return -1;
	return out[0] ? 1 : 0;
}

static int db_contact(void *arg, const char *domain, char *out, size_t len)
{
	char owner[STORE_NAME_MAX];
	int rc = store_domain_owner(arg, domain, owner, sizeof owner);

	if (rc == STORE_ENOTFOUND)
		return 0;
	if (rc || store_account_get_contact(arg, owner, out, len, NULL) != 0)
		return -1;
	return 1;
}

void route_db_store(struct route_db *db, struct store *st)
{
	db->arg = st;
	db->hosted = db_hosted;
	db->mailbox = db_mailbox;
	db->alias = db_alias;
	db->catchall = db_catchall;
	db->contact = db_contact;
}

/* Is local@domain one of our SRS addresses (the SRS domain, or a hosted one)? */
static int srs_addressed(const struct srs *srs, const char *local, const char *domain, int hosted)
{
	return srs && srs_is_srs(local) && (hosted || strcasecmp(domain, srs->domain) == 0);
}

int route_rcpt(struct store *st, const struct srs *srs, const char *local, const char *domain, int *hosted,
               int *exists, char *why, size_t whylen)
{
	char addr[SRS_ADDR_MAX], out[SRS_ADDR_MAX];
	enum srs_rc rc;
	int r;

	if (*exists)
		return 0;
	if (srs_addressed(srs, local, domain, *hosted)) {
		snprintf(addr, sizeof addr, "%s@%s", local, domain);
		rc = srs_reverse(srs, addr, time(NULL), out, sizeof out);
		if (rc == SRS_OK) {
			*hosted = *exists = 1;
			return 0;
		}
		snprintf(why, whylen, "<%s>: %s: not an address of ours to bounce to", addr, srs_strerror(rc));
		return 1;
	}
	if (!*hosted)
		return 0;
	snprintf(addr, sizeof addr, "%s@%s", local, domain);
	if (route_is_role(local)) {
		*exists = 1;             /* always (RFC 5321 4.5.1, RFC 2142) */
		return 0;
	}
	char targets[ALIAS_TARGETS_LEN];
	if ((r = db_alias(st, addr, targets, sizeof targets)) == 0)
		r = db_catchall(st, domain, targets, sizeof targets);
	if (r < 0)
		return -1;
	*exists = r;
	return 0;
}

/* ---- the SRS secret ---- */

static int make_secret(const char *path, char *err, size_t errlen)
{
	unsigned char raw[24];
	char line[64];
	int fd, n;

	if (RAND_bytes(raw, sizeof raw) != 1) {
		snprintf(err, errlen, "%s: no random bytes for a new SRS secret", path);
		return -1;
	}
	n = EVP_EncodeBlock((unsigned char *)line, raw, sizeof raw);
	line[n++] = '\n';
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		if (errno == EEXIST)
			return 0;        /* made meanwhile by another process */
		snprintf(err, errlen, "cannot create the SRS secret %s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, line, (size_t)n) != n || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot write the SRS secret %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

struct srs *route_srs_load(const struct config *cfg, char *err, size_t errlen)
{
	char path[600], text[SRS_MAX_SECRETS * SRS_SECRET_MAX];
	struct srs *s = calloc(1, sizeof *s);
	ssize_t n;
	int fd;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (cfg->srs_secret_file[0])
		snprintf(path, sizeof path, "%s", cfg->srs_secret_file);
	else
		snprintf(path, sizeof path, "%s/srs.secret", cfg->data_dir);
	if (access(path, F_OK) < 0 && errno == ENOENT && make_secret(path, err, errlen) < 0)
		goto fail;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot read the SRS secret %s: %s", path, strerror(errno));
		goto fail;
	}
	n = read(fd, text, sizeof text);
	close(fd);
	if (n < 0 || srs_parse_secrets(s, text, (size_t)n) < 0) {
		snprintf(err, errlen, "%s: no SRS secret in it (one secret a line)", path);
		goto fail;
	}
	OPENSSL_cleanse(text, sizeof text);
	snprintf(s->domain, sizeof s->domain, "%s", cfg->srs_domain[0] ? cfg->srs_domain : cfg->hostname);
	s->max_age_days = cfg->srs_max_age_days;
	return s;
fail:
	free(s);
	return NULL;
}
