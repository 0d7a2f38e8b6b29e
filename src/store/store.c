/*
 * store: the public face of the account store (store.h, rate.h,
 * relay_auth.h, store_acc_session.h). It opens the backend [store] names
 * and dispatches every call through the backend's table (store_backend.h),
 * after checking and normalizing the input here, once for both backends:
 * names, domains and addresses, password hashes, the recipient-budget
 * windows, and the ACC session ids (made here from OpenSSL's CSPRNG; the
 * backends only ever see their SHA-256).
 */
#include "store/store.h"
#include "store/store_backend.h"
#include "store/store_valid.h"
#include "store/store_rate.h"
#include "util/config.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void store_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

struct store *store_open(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->store_backend == STORE_POSTGRESQL)
		return store_pg_open(cfg->store_dsn, cfg->store_statement_timeout, cfg->store_pool_size, 1,
		                     err, errlen);
	return store_sqlite_open(cfg->data_dir, NULL, err, errlen);
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

const char *store_backend(const struct store *st)
{
	return st->ops->name;
}

int store_schema_init(const struct config *cfg, int *from, int *to, char *err, size_t errlen)
{
	struct store *st;
	int rc = 0;

	if (cfg->store_backend == STORE_POSTGRESQL) {
		if (!(st = store_pg_open(cfg->store_dsn, cfg->store_statement_timeout, 1, 0, err, errlen)))
			return STORE_EFAIL;
		rc = store_pg_schema_upgrade(st, from, to, err, errlen);
	} else {
		if (!(st = store_sqlite_open(cfg->data_dir, from, err, errlen)))
			return STORE_EFAIL;
		*to = STORE_SCHEMA_VERSION;
	}
	store_close(st);
	return rc;
}

/* ---- accounts ---- */

int store_account_add(struct store *st, const char *name, const char *created,
                      int server_number, char *err, size_t errlen)
{
	char today[11];
	time_t now;
	struct tm tm;

	if (valid_account_name(name, err, errlen) < 0)
		return STORE_EINVAL;
	if (!created) {
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(today, sizeof today, "%Y-%m-%d", &tm);
		created = today;
	} else if (valid_date(created, err, errlen) < 0) {
		return STORE_EINVAL;
	}
	if (server_number < 0 || server_number > 99999) {
		store_seterr(err, errlen, "invalid server number: must be 0 to 99999");
		return STORE_EINVAL;
	}
	return st->ops->account_add(st, name, created, server_number, err, errlen);
}

int store_account_get(struct store *st, const char *name, struct account *out)
{
	return st->ops->account_get(st, name, out);
}

int store_account_set_suspended(struct store *st, const char *name, int suspended,
                                char *err, size_t errlen)
{
	return st->ops->account_set_suspended(st, name, suspended ? 1 : 0, err, errlen);
}

int store_account_set_limits(struct store *st, const char *name, int per_hour, int per_day,
                             int max_recipients, char *err, size_t errlen)
{
	if (per_hour < -2 || per_day < -2 || max_recipients < -2 || max_recipients == 0) {
		store_seterr(err, errlen, "limits must be 0 or more (max recipients at least 1)");
		return STORE_EINVAL;
	}
	return st->ops->account_set_limits(st, name, per_hour, per_day, max_recipients, err, errlen);
}

int store_account_remove(struct store *st, const char *name, char *err, size_t errlen)
{
	return st->ops->account_remove(st, name, err, errlen);
}

int store_account_list(struct store *st, int (*cb)(const struct account *, void *), void *arg)
{
	return st->ops->account_list(st, cb, arg);
}

/* A password hash made by password_hash(): "$id$...", fitting 256 bytes. */
static int check_hash(const char *hash, char *err, size_t errlen)
{
	if (!hash || hash[0] != '$' || strlen(hash) >= sizeof ((struct mailbox *)0)->password_hash) {
		store_seterr(err, errlen, "unusable password hash");
		return -1;
	}
	return 0;
}

int store_account_set_password(struct store *st, const char *name, const char *password_hash,
                               char *err, size_t errlen)
{
	if (check_hash(password_hash, err, errlen) < 0)
		return STORE_EINVAL;
	return st->ops->account_set_password(st, name, password_hash, err, errlen);
}

int store_account_get_password(struct store *st, const char *name, char *out, size_t outlen)
{
	if (outlen == 0)
		return STORE_EINVAL;
	out[0] = '\0';
	return st->ops->account_get_password(st, name, out, outlen);
}

/* ---- domains ---- */

int store_domain_add(struct store *st, const char *account, const char *domain,
                     char *err, size_t errlen)
{
	char d[256];

	if (valid_domain(domain, d, sizeof d, err, errlen) < 0)
		return STORE_EINVAL;
	return st->ops->domain_add(st, account, d, err, errlen);
}

int store_domain_remove(struct store *st, const char *domain, char *err, size_t errlen)
{
	char d[256];

	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0) {
		store_seterr(err, errlen, "domain %s is not hosted", domain);
		return STORE_ENOTFOUND;
	}
	return st->ops->domain_remove(st, d, err, errlen);
}

int store_domain_list(struct store *st, const char *account,
                      int (*cb)(const char *domain, const char *account, void *), void *arg)
{
	return st->ops->domain_list(st, account, cb, arg);
}

int store_domain_owner(struct store *st, const char *domain, char *owner, size_t ownerlen)
{
	char d[256];

	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		return STORE_ENOTFOUND;
	return st->ops->domain_owner(st, d, owner, ownerlen);
}

/* ---- mailboxes ---- */

/* Normalize local@domain into addr (lower case); -1 with err on bad syntax. */
static int norm_address(const char *address, char *addr, size_t addrlen, char *err, size_t errlen)
{
	char local[65], domain[256];

	if (valid_address(address, local, sizeof local, domain, sizeof domain, err, errlen) < 0)
		return -1;
	/* 64 + 1 + 253 always fits the 320 of struct mailbox */
	if (snprintf(addr, addrlen, "%s@%s", local, domain) >= (int)addrlen)
		return -1;
	return 0;
}

int store_mailbox_add(struct store *st, const char *address, const char *password_hash,
                      char *err, size_t errlen)
{
	char addr[320];

	if (norm_address(address, addr, sizeof addr, err, errlen) < 0 ||
	    check_hash(password_hash, err, errlen) < 0)
		return STORE_EINVAL;
	return st->ops->mailbox_add(st, addr, strrchr(addr, '@') + 1, password_hash, err, errlen);
}

int store_mailbox_set_password(struct store *st, const char *address, const char *password_hash,
                               char *err, size_t errlen)
{
	char addr[320];

	if (norm_address(address, addr, sizeof addr, err, errlen) < 0 ||
	    check_hash(password_hash, err, errlen) < 0)
		return STORE_EINVAL;
	return st->ops->mailbox_set_password(st, addr, password_hash, err, errlen);
}

int store_mailbox_remove(struct store *st, const char *address, char *err, size_t errlen)
{
	char addr[320];

	if (norm_address(address, addr, sizeof addr, err, errlen) < 0)
		return STORE_EINVAL;
	return st->ops->mailbox_remove(st, addr, err, errlen);
}

int store_mailbox_get(struct store *st, const char *address, struct mailbox *out)
{
	char addr[320];

	if (norm_address(address, addr, sizeof addr, NULL, 0) < 0)
		return STORE_ENOTFOUND;
	return st->ops->mailbox_get(st, addr, out);
}

int store_mailbox_list(struct store *st, const char *domain,
                       int (*cb)(const struct mailbox *, void *), void *arg)
{
	char d[256];

	if (domain && valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		return 0;  /* not a domain, so certainly no mailboxes in it */
	return st->ops->mailbox_list(st, domain ? d : NULL, cb, arg);
}

int store_rcpt_lookup(struct store *st, const char *local, const char *domain,
                      int *hosted, int *exists)
{
	char d[256], addr[320];
	size_t i, n;

	*hosted = *exists = 0;
	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		return 0;
	n = (size_t)snprintf(addr, sizeof addr, "%s@%s", local, d);
	if (n >= sizeof addr)
		n = 0, addr[0] = '\0';  /* longer than any stored address */
	for (i = 0; i < n; i++)
		addr[i] = (addr[i] >= 'A' && addr[i] <= 'Z') ? (char)(addr[i] - 'A' + 'a') : addr[i];
	return st->ops->rcpt_lookup(st, d, addr, hosted, exists);
}

int store_addr_hosted(struct store *st, const char *addr)
{
	const char *at = strrchr(addr, '@');
	char local[320];
	int hosted = 0, exists = 0;

	if (!at || (size_t)(at - addr) >= sizeof local)
		return 0;
	snprintf(local, sizeof local, "%.*s", (int)(at - addr), addr);
	if (store_rcpt_lookup(st, local, at + 1, &hosted, &exists) != 0)
		return -1;
	return hosted;
}

/* ---- POP-before-SMTP grants (relay_auth.h) ---- */

int relay_auth_grant(struct store *st, const char *ip, const char *mailbox, time_t expires)
{
	return st->ops->relay_grant(st, ip, mailbox, expires);
}

int relay_auth_lookup(struct store *st, const char *ip, time_t now, struct relay_grant *out)
{
	return st->ops->relay_lookup(st, ip, now, out);
}

int relay_auth_revoke(struct store *st, const char *ip)
{
	return st->ops->relay_revoke(st, ip);
}

int relay_auth_revoke_account(struct store *st, const char *account)
{
	return st->ops->relay_revoke_account(st, account);
}

int relay_auth_purge(struct store *st, time_t now)
{
	return st->ops->relay_purge(st, now);
}

int relay_auth_list(struct store *st, time_t now, int (*cb)(const struct relay_grant *, void *), void *arg)
{
	return st->ops->relay_list(st, now, cb, arg);
}

/* ---- recipient budgets (rate.h) ---- */

static void use_init(struct rate_use *use, time_t now)
{
	memset(use, 0, sizeof *use);
	use->hour_reset = rate_hour_start(now) + 3600;
	use->day_reset = rate_day_start(now) + 86400;
}

int rate_get(struct store *st, const char *account, time_t now, struct rate_use *out)
{
	use_init(out, now);
	return st->ops->rate_get(st, account, rate_hour_start(now), rate_day_start(now), &out->hour, &out->day);
}

int rate_add(struct store *st, const char *account, time_t now, int n)
{
	if (n <= 0)
		return 0;
	return st->ops->rate_add(st, account, rate_hour_start(now), rate_day_start(now), n);
}

int rate_reserve(struct store *st, const char *account, time_t now, int n, int per_hour, int per_day,
                 struct rate_use *use_out)
{
	struct rate_use use;
	int rc;

	use_init(&use, now);
	if (n < 0)
		return STORE_EINVAL;
	if (per_hour < 0)
		per_hour = 0;
	if (per_day < 0)
		per_day = 0;
	rc = st->ops->rate_reserve(st, account, rate_hour_start(now), rate_day_start(now), n,
	                           per_hour, per_day, &use.hour, &use.day);
	if (use_out)
		*use_out = use;
	return rc;
}

int rate_release(struct store *st, const char *account, time_t reserved_at, int n)
{
	if (n <= 0)
		return 0;
	return st->ops->rate_release(st, account, rate_hour_start(reserved_at), rate_day_start(reserved_at), n);
}

/* ---- ACC sessions (store_acc_session.h) ---- */

static const char hexdigits[] = "0123456789abcdef";

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdigits[b[i] >> 4];
		out[2 * i + 1] = hexdigits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* 64 hex digits from 32 CSPRNG bytes; -1 if the RNG fails. */
static int new_token(char out[STORE_SESSION_ID_LEN + 1])
{
	unsigned char r[STORE_SESSION_ID_LEN / 2];

	if (RAND_bytes(r, sizeof r) != 1)
		return -1;
	to_hex(r, sizeof r, out);
	OPENSSL_cleanse(r, sizeof r);
	return 0;
}

/* SHA-256 of a well-formed id, in hex: 0, or -1 for a malformed id. */
static int id_hash(const char *id, char out[STORE_HASH_HEX + 1])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (!id || strlen(id) != STORE_SESSION_ID_LEN || strspn(id, hexdigits) != STORE_SESSION_ID_LEN)
		return -1;
	if (EVP_Digest(id, STORE_SESSION_ID_LEN, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof md)
		return -1;
	to_hex(md, sizeof md, out);
	return 0;
}

int store_acc_session_create(struct store *st, const char *account, time_t now, int max_per_account,
                             struct store_acc_session *out)
{
	char hash[STORE_HASH_HEX + 1];
	int rc;

	memset(out, 0, sizeof *out);
	if (max_per_account < 1)
		return STORE_EINVAL;
	if (valid_account_name(account, NULL, 0) < 0)
		return STORE_ENOTFOUND;
	if (new_token(out->id) < 0 || new_token(out->csrf) < 0 || id_hash(out->id, hash) < 0)
		return STORE_EFAIL;
	rc = st->ops->session_create(st, account, hash, out->csrf, now, max_per_account);
	if (rc != 0) {
		OPENSSL_cleanse(out, sizeof *out);
		return rc;
	}
	snprintf(out->account, sizeof out->account, "%s", account);
	out->created = out->last = now;
	return 0;
}

int store_acc_session_find(struct store *st, const char *id, time_t now, int idle, int lifetime,
                           struct store_acc_session *out)
{
	char hash[STORE_HASH_HEX + 1];
	int rc;

	memset(out, 0, sizeof *out);
	if (id_hash(id, hash) < 0)
		return STORE_ENOTFOUND;
	rc = st->ops->session_find(st, hash, now, idle, lifetime, out);
	if (rc == 0)
		memcpy(out->id, id, STORE_SESSION_ID_LEN + 1);
	return rc;
}

int store_acc_session_set_flash(struct store *st, const char *id, int error, const char *msg)
{
	char hash[STORE_HASH_HEX + 1], m[STORE_SESSION_FLASH_MAX];

	if (id_hash(id, hash) < 0)
		return STORE_ENOTFOUND;
	snprintf(m, sizeof m, "%s", msg ? msg : "");
	return st->ops->session_set_flash(st, hash, error ? 1 : 0, m);
}

int store_acc_session_take_flash(struct store *st, const char *id, char *msg, size_t msglen, int *error)
{
	char hash[STORE_HASH_HEX + 1];

	if (msglen == 0)
		return STORE_EINVAL;
	msg[0] = '\0';
	*error = 0;
	if (id_hash(id, hash) < 0)
		return STORE_ENOTFOUND;
	return st->ops->session_take_flash(st, hash, msg, msglen, error);
}

int store_acc_session_end(struct store *st, const char *id)
{
	char hash[STORE_HASH_HEX + 1];

	if (id_hash(id, hash) < 0)
		return STORE_ENOTFOUND;
	return st->ops->session_end(st, hash);
}

int store_acc_session_end_account(struct store *st, const char *account, const char *except_id)
{
	char hash[STORE_HASH_HEX + 1];

	if (except_id && id_hash(except_id, hash) < 0)
		except_id = NULL;   /* no session has a malformed id: end them all */
	return st->ops->session_end_account(st, account, except_id ? hash : NULL);
}

int store_acc_session_purge(struct store *st, time_t now, int idle, int lifetime)
{
	return st->ops->session_purge(st, now, idle, lifetime);
}
