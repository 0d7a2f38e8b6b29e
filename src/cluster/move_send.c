/*
 * move_send: the old home's side of an account move (move_send.h): a
 * blocking TLS client (hostmailctl), one connection to the new home's
 * internal endpoint for the whole run.
 *
 * HOSTMAIL_MOVE_PAUSE_AT=copied|switched|removing makes the run stop and
 * wait there (a line "move: paused at STEP" on out) so that the tests can
 * kill it at a known step; nothing else reads it. HOSTMAIL_MOVE_LOCK_WAIT_MS
 * shortens the wait for a Maildir's lock (MOVE_LOCK_WAIT_MS), so a test
 * can see a held lock stop the move without waiting a minute. Both are
 * test hooks only.
 */
#include "cluster/move_send.h"
#include "cluster/move_recv.h"
#include "delivery/maildir.h"
#include "delivery/maildir_lock.h"
#include "pop3/pop3_proxy.h"
#include "store/store.h"
#include "store/store_move.h"
#include "store/store_node.h"
#include "util/config.h"
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT 60

struct link {
	int fd;
	SSL *ssl;
	char in[4096];
	size_t inlen;
};

struct mbox {
	char address[320];
	char dir[1200];
};

struct mbox_list {
	struct store *st;
	const struct config *cfg;
	struct mbox *v;
	size_t n, cap;
	int failed;
};

static int seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void pause_at(const char *step, FILE *out)
{
	const char *p = getenv("HOSTMAIL_MOVE_PAUSE_AT");

	if (p && strcmp(p, step) == 0) {
		fprintf(out, "move: paused at %s\n", step);
		fflush(out);
		for (;;)
			pause();
	}
}

/* ---- the connection ---- */

static void link_close(struct link *l)
{
	if (l->ssl) {
		SSL_shutdown(l->ssl);
		SSL_free(l->ssl);
	}
	if (l->fd >= 0)
		close(l->fd);
	l->ssl = NULL;
	l->fd = -1;
}

static int link_write(struct link *l, const void *p, size_t n)
{
	size_t w;

	while (n > 0) {
		if (SSL_write_ex(l->ssl, p, n, &w) != 1)
			return -1;
		p = (const char *)p + w;
		n -= w;
	}
	return 0;
}

/* One reply line (CRLF removed) into out. */
static int link_line(struct link *l, char *out, size_t outlen)
{
	for (;;) {
		char *nl = memchr(l->in, '\n', l->inlen);
		size_t r;

		if (nl) {
			size_t n = (size_t)(nl - l->in);
			size_t k = n > 0 && l->in[n - 1] == '\r' ? n - 1 : n;
			snprintf(out, outlen, "%.*s", (int)k, l->in);
			memmove(l->in, nl + 1, l->inlen - n - 1);
			l->inlen -= n + 1;
			return 0;
		}
		if (l->inlen == sizeof l->in || SSL_read_ex(l->ssl, l->in + l->inlen, sizeof l->in - l->inlen, &r) != 1)
			return -1;
		l->inlen += r;
	}
}

static int link_open(struct link *l, const struct config *cfg, const char *addr, char *err, size_t errlen)
{
	char host[NODE_ADDR_MAX], port_s[8], line[512];
	struct addrinfo hints = { 0 }, *ai = NULL, *a;
	struct timeval tv = { IO_TIMEOUT, 0 };
	int port;

	l->fd = -1;
	l->ssl = NULL;
	l->inlen = 0;
	if (node_addr_parse(addr, host, sizeof host, &port) < 0)
		return seterr(err, errlen, "bad POP3 address %s in the nodes table", addr);
	snprintf(port_s, sizeof port_s, "%d", port);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port_s, &hints, &ai) != 0)
		return seterr(err, errlen, "cannot resolve %s", host);
	for (a = ai; a; a = a->ai_next) {
		if ((l->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0)) < 0)
			continue;
		setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(l->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		if (connect(l->fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(l->fd);
		l->fd = -1;
	}
	freeaddrinfo(ai);
	if (l->fd < 0)
		return seterr(err, errlen, "cannot connect to %s: %s", addr, strerror(errno));
	if (!(l->ssl = pop3_cluster_client_ssl(cfg, err, errlen))) {
		link_close(l);
		return -1;
	}
	SSL_set_fd(l->ssl, l->fd);
	if (SSL_connect(l->ssl) != 1) {
		char e[256];
		ERR_error_string_n(ERR_get_error(), e, sizeof e);
		link_close(l);
		return seterr(err, errlen, "TLS with %s failed: %s", addr, e);
	}
	if (link_line(l, line, sizeof line) < 0 || strncmp(line, "+OK", 3) != 0) {
		link_close(l);
		return seterr(err, errlen, "no greeting from %s (is it a node's pop3_cluster endpoint?)", addr);
	}
	return 0;
}

/* ---- the account's Maildirs ---- */

static int add_mbox(const struct mailbox *m, void *arg)
{
	struct mbox_list *ml = arg;
	char local[320], *at;

	if (ml->n == ml->cap) {
		size_t cap = ml->cap ? 2 * ml->cap : 16;
		struct mbox *v = realloc(ml->v, cap * sizeof *v);
		if (!v)
			return ml->failed = -1;
		ml->v = v;
		ml->cap = cap;
	}
	snprintf(local, sizeof local, "%s", m->address);
	if (!(at = strrchr(local, '@')))
		return 0;
	*at = '\0';
	snprintf(ml->v[ml->n].address, sizeof ml->v[ml->n].address, "%s", m->address);
	if (maildir_create(ml->cfg->data_dir, local, at + 1, ml->v[ml->n].dir, sizeof ml->v[ml->n].dir) < 0)
		return ml->failed = -1;
	ml->n++;
	return 0;
}

static int add_domain(const char *domain, const char *account, void *arg)
{
	struct mbox_list *ml = arg;

	(void)account;
	if (store_mailbox_list(ml->st, domain, add_mbox, ml) != 0)
		ml->failed = -1;
	return ml->failed;
}

/* ---- one file ---- */

static int file_sha(int fd, unsigned char out[32], uint64_t *size)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[65536];
	ssize_t n;
	int rc = -1;

	*size = 0;
	if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
		while ((n = read(fd, buf, sizeof buf)) > 0) {
			EVP_DigestUpdate(md, buf, (size_t)n);
			*size += (uint64_t)n;
		}
		if (n == 0 && EVP_DigestFinal_ex(md, out, NULL) == 1)
			rc = 0;
	}
	EVP_MD_CTX_free(md);
	return rc;
}

/* 0 the file is at the new home (present or stored: *stored), 1 it is gone
 * here (renamed or removed meanwhile), -1 error. */
static int put_file(struct link *l, const struct mbox *mb, const char *sub, const char *name, int *stored,
                    char *err, size_t errlen)
{
	char path[1600], line[600], hex[65];
	unsigned char sha[32], buf[65536];
	uint64_t size;
	ssize_t n;
	int fd;

	*stored = 0;
	snprintf(path, sizeof path, "%s/%s/%s", mb->dir, sub, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 1 : seterr(err, errlen, "%s: %s", path, strerror(errno));
	if (file_sha(fd, sha, &size) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return seterr(err, errlen, "cannot read %s", path);
	}
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
	snprintf(line, sizeof line, "XMOVE PUT %s %s %s %llu %s\r\n", mb->address, sub, name,
	         (unsigned long long)size, hex);
	if (link_write(l, line, strlen(line)) < 0 || link_line(l, line, sizeof line) < 0) {
		close(fd);
		return seterr(err, errlen, "the new home stopped answering");
	}
	if (strncmp(line, "+OK", 3) == 0) {
		close(fd);
		return 0;
	}
	if (strncmp(line, "+ ", 2) != 0) {
		close(fd);
		return seterr(err, errlen, "the new home refused %s/%s: %s", sub, name, line);
	}
	for (uint64_t left = size; left > 0; left -= (uint64_t)n) {
		n = read(fd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
		if (n <= 0) {
			close(fd);
			return seterr(err, errlen, "%s changed while it was sent", path);
		}
		if (link_write(l, buf, (size_t)n) < 0) {
			close(fd);
			return seterr(err, errlen, "the new home stopped reading");
		}
	}
	close(fd);
	if (link_line(l, line, sizeof line) < 0)
		return seterr(err, errlen, "the new home stopped answering");
	if (strncmp(line, "+OK", 3) != 0)
		return seterr(err, errlen, "the new home did not keep %s/%s: %s", sub, name, line);
	*stored = 1;
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Every file of every mailbox to the new home; with remove, each one
 * confirmed there is then unlinked here. */
static int pass(struct link *l, const struct mbox_list *ml, int remove, struct move_counts *mc, FILE *out,
                char *err, size_t errlen)
{
	static const char *const subs[] = { "new", "cur" };

	for (size_t i = 0; i < ml->n; i++) {
		for (int k = 0; k < 2; k++) {
			char dir[1300], path[1600];
			struct dirent *e;
			DIR *d;
			int stored, rc = 0, removed = 0;

			snprintf(dir, sizeof dir, "%s/%s", ml->v[i].dir, subs[k]);
			if (!(d = opendir(dir)))
				continue;
			while (rc >= 0 && (e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				if (!move_name_ok(e->d_name)) {
					fprintf(out, "move: skipping %s/%s (a name no Maildir program makes)\n", dir, e->d_name);
					continue;
				}
				if ((rc = put_file(l, &ml->v[i], subs[k], e->d_name, &stored, err, errlen)) != 0)
					continue;
				if (stored)
					mc->sent++;
				else
					mc->present++;
				if (remove) {
					snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
					if (unlink(path) == 0 || errno == ENOENT) {
						mc->removed++;
						removed = 1;
						if (mc->removed == 1)
							pause_at("removing", out);
					}
				}
			}
			closedir(d);
			if (removed)
				fsync_dir(dir);
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}

static void remove_dirs(const struct mbox_list *ml)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char p[1300];

	for (size_t i = 0; i < ml->n; i++) {
		for (int k = 0; k < 3; k++) {
			snprintf(p, sizeof p, "%s/%s", ml->v[i].dir, subs[k]);
			rmdir(p);                  /* a late delivery's file keeps it */
		}
		rmdir(ml->v[i].dir);
	}
}

/* Take and release each Maildir's lock once, after the begin is in the
 * store: a POP3 QUIT removing deleted messages (it holds the lock while it
 * reads the store and unlinks) finishes before the copy starts, and every
 * QUIT after this finds the move and removes nothing. */
static int quiesce_quits(const struct mbox_list *ml, char *err, size_t errlen)
{
	const char *hook = getenv("HOSTMAIL_MOVE_LOCK_WAIT_MS");
	int wait = hook && atoi(hook) > 0 ? atoi(hook) : MOVE_LOCK_WAIT_MS;

	for (size_t i = 0; i < ml->n; i++) {
		int fd = maildir_lock(ml->v[i].dir, wait);

		if (fd < 0)
			return seterr(err, errlen, "cannot lock the Maildir of %s (%s) within %.1f s: %s%s; run it again",
			              ml->v[i].address, ml->v[i].dir, wait / 1000.0, strerror(errno),
			              errno == ETIMEDOUT ? " (a POP3 session is still removing messages)" : "");
		maildir_unlock(fd);
	}
	return 0;
}

static int load(struct store *st, const struct config *cfg, const char *account, struct mbox_list *ml,
                char *err, size_t errlen)
{
	memset(ml, 0, sizeof *ml);
	ml->st = st;
	ml->cfg = cfg;
	if (store_domain_list(st, account, add_domain, ml) != 0 || ml->failed)
		return seterr(err, errlen, "cannot list the mailboxes of %s", account);
	return 0;
}

static int node_link(struct store *st, const struct config *cfg, int to, struct link *l, char *err,
                     size_t errlen)
{
	struct node n;
	int rc = store_node_get(st, to, &n);

	if (rc == STORE_ENOTFOUND)
		return seterr(err, errlen, "node %d is not in the nodes table (hostmailctl node add)", to);
	if (rc != 0)
		return seterr(err, errlen, "store error reading node %d", to);
	return link_open(l, cfg, n.pop3, err, errlen);
}

int move_account(struct store *st, const struct config *cfg, const char *account, int to, FILE *out,
                 struct move_counts *mc, char *err, size_t errlen)
{
	struct account_move mv;
	struct mbox_list ml;
	struct link l = { -1, NULL, "", 0 };
	struct timespec grace = { MOVE_GRACE_MS / 1000, (MOVE_GRACE_MS % 1000) * 1000000L };
	int rc;

	memset(mc, 0, sizeof *mc);
	if (cfg->cluster_node <= 0)
		return seterr(err, errlen, "moving an account is between the nodes of a fleet: [cluster] node is not set");
	if (store_move_begin(st, account, to, (int64_t)time(NULL), &mv, err, errlen) != 0)
		return -1;
	if (mv.from_node != cfg->cluster_node)
		return seterr(err, errlen, "run this on node %d, the account's old home (this is node %d): it"
		              " copies that node's Maildirs", mv.from_node, cfg->cluster_node);
	if (load(st, cfg, account, &ml, err, errlen) < 0 || quiesce_quits(&ml, err, errlen) < 0 ||
	    node_link(st, cfg, to, &l, err, errlen) < 0) {
		free(ml.v);
		return -1;
	}
	mc->mailboxes = (int)ml.n;
	fprintf(out, "move: %s from node %d to node %d, %zu mailbox(es)%s\n", account, mv.from_node, to, ml.n,
	        mv.switched ? " (switched already: finishing)" : "");
	rc = 0;
	if (!mv.switched) {
		if ((rc = pass(&l, &ml, 0, mc, out, err, errlen)) == 0) {
			fprintf(out, "move: copied %ld file(s) (%ld there already)\n", mc->sent, mc->present);
			fflush(out);
			pause_at("copied", out);
			rc = store_move_switch(st, account, err, errlen) == 0 ? 0 : -1;
		}
		if (rc == 0) {
			fprintf(out, "move: node %d is the home of %s now\n", to, account);
			fflush(out);
			pause_at("switched", out);
		}
	}
	if (rc == 0) {
		/* deliveries here that started before the switch end first */
		nanosleep(&grace, NULL);
		rc = pass(&l, &ml, 0, mc, out, err, errlen);
	}
	/* until a pass finds nothing left here (a delivery that was under way) */
	for (int tries = 0; rc == 0; tries++) {
		long before = mc->removed;
		if ((rc = pass(&l, &ml, 1, mc, out, err, errlen)) != 0 || mc->removed == before)
			break;
		if (tries == 10)
			rc = seterr(err, errlen, "mail still arrives in the old Maildirs");
		else
			nanosleep(&grace, NULL);
	}
	if (rc == 0) {
		remove_dirs(&ml);
		rc = store_move_end(st, account, err, errlen) == 0 ? 0 : -1;
	}
	if (rc == 0)
		fprintf(out, "move: done: %ld file(s) sent, %ld removed here\n", mc->sent, mc->removed);
	link_close(&l);
	free(ml.v);
	return rc;
}

int move_abort(struct store *st, const struct config *cfg, const char *account, FILE *out, char *err,
               size_t errlen)
{
	struct account_move mv;
	struct mbox_list ml;
	struct link l = { -1, NULL, "", 0 };
	char line[600];
	int rc = store_move_get(st, account, &mv);

	if (rc == STORE_ENOTFOUND)
		return seterr(err, errlen, "account %s is not being moved", account);
	if (rc != 0)
		return seterr(err, errlen, "store error reading the move of %s", account);
	if (mv.switched)
		return seterr(err, errlen, "the move of %s switched its home to node %d already: finish it with"
		              " account move %s --to %d", account, mv.to_node, account, mv.to_node);
	if (load(st, cfg, account, &ml, err, errlen) < 0 || node_link(st, cfg, mv.to_node, &l, err, errlen) < 0) {
		free(ml.v);
		return -1;
	}
	rc = 0;
	for (size_t i = 0; rc == 0 && i < ml.n; i++) {
		snprintf(line, sizeof line, "XMOVE DROP %s\r\n", ml.v[i].address);
		if (link_write(&l, line, strlen(line)) < 0 || link_line(&l, line, sizeof line) < 0)
			rc = seterr(err, errlen, "node %d stopped answering", mv.to_node);
		else if (strncmp(line, "+OK", 3) != 0)
			rc = seterr(err, errlen, "node %d: %s", mv.to_node, line);
	}
	link_close(&l);
	free(ml.v);
	if (rc == 0 && store_move_end(st, account, err, errlen) != 0)
		rc = -1;
	if (rc == 0)
		fprintf(out, "move: %s stays on node %d; node %d dropped its copy\n", account, mv.from_node, mv.to_node);
	return rc;
}
