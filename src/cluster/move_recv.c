/*
 * move_recv: the new home's side of an account move (move_recv.h).
 */
#include "cluster/move_recv.h"
#include "pop3/pop3_session_int.h"
#include "delivery/maildir.h"
#include "store/store.h"
#include "store/store_move.h"
#include "util/log.h"
#include <event2/buffer.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PUT_CHUNK (256 * 1024)
#define PUT_MAX_SIZE ((uint64_t)1 << 40)

enum put_state { PUT_CHECK, PUT_DATA };

struct move_put {
	struct store *store;
	int node;                          /* this node's number */
	const char *data_dir;              /* the session's configuration's */
	int drop;                          /* XMOVE DROP */
	char mailbox[320], sub[8], name[256];
	uint64_t size, got;
	unsigned char want[32];
	char dir[1200];                    /* the Maildir */
	char tmp[1600];
	int fd;
	EVP_MD_CTX *md;
	/* the job's result */
	int present;                       /* nothing to send */
	int done;                          /* stored */
	char err[200];                     /* "": fine */
	int temp;                          /* the error is temporary ([SYS/TEMP]) */
	unsigned char *chunk;
	size_t nchunk;
};

int move_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 255 || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] >= 0x7f || name[i] == '/')
			return 0;
	return 1;
}

int move_recv_is_cmd(const struct pop3_session *s, const char *line, size_t len)
{
	return conn_kind(s->c) == LISTEN_POP3_CLUSTER && len > 6 && strncasecmp(line, "XMOVE ", 6) == 0;
}

void move_recv_free(struct move_put *p)
{
	if (!p)
		return;
	if (p->fd >= 0) {
		close(p->fd);
		unlink(p->tmp);
	}
	EVP_MD_CTX_free(p->md);
	free(p->chunk);
	free(p);
}

static void fail(struct move_put *p, int temp, const char *fmt, const char *arg)
{
	snprintf(p->err, sizeof p->err, fmt, arg);
	p->temp = temp;
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

/* A file of dir/sub whose unique name (before ':') is base: its name into out. */
static int find_base(const char *dir, const char *sub, const char *base, size_t blen, char *out, size_t outlen)
{
	char path[1400];
	struct dirent *e;
	DIR *d;
	int found = 0;

	snprintf(path, sizeof path, "%s/%s", dir, sub);
	if (!(d = opendir(path)))
		return 0;
	while (!found && (e = readdir(d))) {
		if (strncmp(e->d_name, base, blen) == 0 && (e->d_name[blen] == '\0' || e->d_name[blen] == ':')) {
			snprintf(out, outlen, "%s", e->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

/* On a worker: may this node take the mailbox's files, and where? */
static int check_store(struct move_put *p)
{
	struct mailbox mb;
	struct account_move mv;
	char local[320], *at;
	int rc;

	if ((rc = store_mailbox_get(p->store, p->mailbox, &mb)) != 0) {
		fail(p, rc != STORE_ENOTFOUND, rc == STORE_ENOTFOUND ? "no mailbox %s" : "store error looking up %s",
		     p->mailbox);
		return -1;
	}
	if ((rc = store_move_get(p->store, mb.account, &mv)) != 0 || mv.to_node != p->node) {
		fail(p, rc == STORE_EFAIL, rc == STORE_EFAIL ? "store error looking up the move of %s"
		     : "account %s is not being moved to this node", mb.account);
		return -1;
	}
	if (p->drop && mv.switched) {
		fail(p, 0, "the move of %s has switched its home here: nothing to drop", mb.account);
		return -1;
	}
	snprintf(local, sizeof local, "%s", mb.address);
	if (!(at = strrchr(local, '@')))
		return -1;
	*at = '\0';
	if (maildir_create(p->data_dir, local, at + 1, p->dir, sizeof p->dir) < 0) {
		fail(p, 1, "cannot make the Maildir: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void remove_tree_files(const char *dir)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char path[1400], f[1700];
	struct dirent *e;
	DIR *d;

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, subs[i]);
		if (!(d = opendir(path)))
			continue;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				snprintf(f, sizeof f, "%s/%s", path, e->d_name);
				unlink(f);
			}
		closedir(d);
		fsync_dir(path);
	}
}

static void check_work(void *arg)
{
	struct move_put *p = arg;
	char found[300], from[1600], to[1600];
	static const char *const subs[] = { "new", "cur" };
	size_t blen = strcspn(p->name, ":");

	if (check_store(p) < 0)
		return;
	if (p->drop) {
		remove_tree_files(p->dir);
		p->done = 1;
		return;
	}
	for (size_t i = 0; i < 2; i++) {
		if (!find_base(p->dir, subs[i], p->name, blen, found, sizeof found))
			continue;
		p->present = 1;
		if (strcmp(subs[i], p->sub) == 0 && strcmp(found, p->name) == 0)
			return;
		/* its flags (or new/ -> cur/) changed at the old home meanwhile */
		snprintf(from, sizeof from, "%s/%s/%s", p->dir, subs[i], found);
		snprintf(to, sizeof to, "%s/%s/%s", p->dir, p->sub, p->name);
		if (rename(from, to) < 0) {
			fail(p, 1, "cannot rename: %s", strerror(errno));
			return;
		}
		snprintf(from, sizeof from, "%s/%s", p->dir, p->sub);
		fsync_dir(from);
		return;
	}
	snprintf(p->tmp, sizeof p->tmp, "%s/tmp/%.*s.move", p->dir, (int)blen, p->name);
	if ((p->fd = open(p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		fail(p, 1, "cannot create a file in tmp/: %s", strerror(errno));
		return;
	}
	if (!(p->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(p->md, EVP_sha256(), NULL) != 1)
		fail(p, 1, "%s", "out of memory");
}

static void data_work(void *arg)
{
	struct move_put *p = arg;
	unsigned char got[32];
	char to[1600];
	size_t off = 0;

	while (off < p->nchunk) {
		ssize_t n = write(p->fd, p->chunk + off, p->nchunk - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(p, 1, "cannot write: %s", strerror(errno));
			return;
		}
		off += (size_t)n;
	}
	EVP_DigestUpdate(p->md, p->chunk, p->nchunk);
	p->got += p->nchunk;
	p->nchunk = 0;
	if (p->got < p->size)
		return;
	EVP_DigestFinal_ex(p->md, got, NULL);
	if (CRYPTO_memcmp(got, p->want, 32) != 0) {
		fail(p, 0, "%s", "SHA-256 mismatch: the file was not kept");
		return;
	}
	if (fsync(p->fd) < 0 || close(p->fd) < 0) {
		p->fd = -1;
		fail(p, 1, "cannot fsync: %s", strerror(errno));
		return;
	}
	p->fd = -1;
	snprintf(to, sizeof to, "%s/%s/%s", p->dir, p->sub, p->name);
	if (rename(p->tmp, to) < 0) {
		fail(p, 1, "cannot rename into place: %s", strerror(errno));
		unlink(p->tmp);
		return;
	}
	snprintf(to, sizeof to, "%s/%s", p->dir, p->sub);
	if (fsync_dir(to) < 0) {
		fail(p, 1, "cannot fsync the directory: %s", strerror(errno));
		return;
	}
	p->done = 1;
}

static void end_put(struct pop3_session *s, struct move_put *p)
{
	if (p->err[0])
		p3_reply(s, "-ERR %s%s", p->temp ? "[SYS/TEMP] " : "", p->err);
	else if (p->drop)
		p3_reply(s, "+OK dropped");
	else
		p3_reply(s, p->present ? "+OK present" : "+OK stored");
	if (p->err[0] || p->done)
		log_info("pop3[%llu] ip=%s: move %s %s %s/%s: %s", s->id, s->ip, p->drop ? "DROP" : "PUT",
		         p->mailbox, p->sub, p->name, p->err[0] ? p->err : p->present ? "present" : "stored");
	if (s->put == p)
		s->put = NULL;
	move_recv_free(p);
}

static void data_done(void *st, void *arg)
{
	struct pop3_session *s = st;
	struct move_put *p = arg;

	if (!s) {
		move_recv_free(p);
		return;
	}
	if (p->err[0] || p->done) {
		int cut = p->err[0] && p->got < p->size;
		end_put(s, p);
		if (cut)                       /* the rest of the file would be read as commands */
			p3_close_after_reply(s);
		else
			p3_input_again(s);
		return;
	}
	move_recv_input(s);
}

void move_recv_input(struct pop3_session *s)
{
	struct move_put *p = s->put;
	struct evbuffer *in = conn_input(s->c);
	size_t have = in ? evbuffer_get_length(in) : 0, want;

	if (!p)
		return;
	want = p->size - p->got < PUT_CHUNK ? (size_t)(p->size - p->got) : PUT_CHUNK;
	if (want > have)
		want = have;
	if (want == 0 && p->got < p->size)
		return;                               /* wait for more */
	if (want && !(p->chunk = p->chunk ? p->chunk : malloc(PUT_CHUNK))) {
		fail(p, 1, "%s", "out of memory");
		end_put(s, p);
		return;
	}
	p->nchunk = want;
	if (want)
		evbuffer_remove(in, p->chunk, want);
	conn_progress(s->c);
	if (p3_job(s, s->srv->workers, data_work, data_done, p) < 0) {
		fail(p, 1, "%s", "busy");
		end_put(s, p);
	}
}

static void check_done(void *st, void *arg)
{
	struct pop3_session *s = st;
	struct move_put *p = arg;

	if (!s) {
		move_recv_free(p);
		return;
	}
	if (p->err[0] || p->present || p->done) {
		end_put(s, p);
		return;
	}
	s->put = p;
	p3_reply(s, "+ send %llu bytes", (unsigned long long)p->size);
	move_recv_input(s);
}

static int hex32(const char *h, unsigned char out[32])
{
	if (strlen(h) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)h[2 * i]) || !isxdigit((unsigned char)h[2 * i + 1]) ||
		    sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

int move_cmd_parse(const char *line, struct move_cmd *out)
{
	char verb[8], sub[8], sha[80], extra[2];
	int n;

	memset(out, 0, sizeof *out);
	if (strncasecmp(line, "XMOVE ", 6) != 0)
		return -1;
	n = sscanf(line + 6, "%7s %319s %7s %255s %llu %79s %1s", verb, out->mailbox, sub, out->name, &out->size,
	           sha, extra);
	if (n == 2 && strcasecmp(verb, "DROP") == 0 && strchr(out->mailbox, '@')) {
		out->drop = 1;
		out->name[0] = '\0';
		return 0;
	}
	if (n == 6 && strcasecmp(verb, "PUT") == 0 && strchr(out->mailbox, '@') &&
	    (!strcmp(sub, "new") || !strcmp(sub, "cur")) && move_name_ok(out->name) && out->size < PUT_MAX_SIZE &&
	    hex32(sha, out->sha256) == 0) {
		memcpy(out->sub, sub, 4);
		return 0;
	}
	return -1;
}

void move_recv_cmd(struct pop3_session *s, const char *line, size_t len)
{
	struct move_cmd c;
	struct move_put *p;

	(void)len;
	if (s->state != ST_AUTH || s->put) {
		p3_error(s, "-ERR XMOVE not allowed now");
		return;
	}
	if (move_cmd_parse(line, &c) < 0) {
		p3_error(s, "-ERR Syntax: XMOVE PUT mailbox new|cur name size sha256 | XMOVE DROP mailbox");
		return;
	}
	if (!(p = calloc(1, sizeof *p))) {
		p3_reply(s, "-ERR [SYS/TEMP] out of memory");
		return;
	}
	p->fd = -1;
	p->drop = c.drop;
	snprintf(p->mailbox, sizeof p->mailbox, "%s", c.mailbox);
	snprintf(p->sub, sizeof p->sub, "%s", c.sub);
	snprintf(p->name, sizeof p->name, "%s", c.name);
	p->size = c.size;
	memcpy(p->want, c.sha256, 32);
	p->store = s->srv->store;
	p->node = s->cfg->cluster_node;
	p->data_dir = s->cfg->data_dir;
	if (p3_job(s, s->srv->workers, check_work, check_done, p) < 0) {
		move_recv_free(p);
		p3_reply(s, "-ERR [SYS/TEMP] busy, try again");
	}
}
