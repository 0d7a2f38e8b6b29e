/*
 * maildir: local delivery into data_dir/mail/<domain>/<local>/ (see maildir.h).
 *
 * The queue file is streamed in 64 KiB chunks (never whole: up to 40 MiB)
 * into tmp/, CRLF turned into LF on the way, after a Return-Path and a
 * Delivered-To line. Then fsync, close, rename into new/, fsync new/: the
 * rename is the delivery. S= is the stored size, W= the size with every LF
 * counted as CRLF (what POP3 sends), as Dovecot reads them.
 */
#include "delivery/maildir.h"
#include "util/buf.h"
#include "util/dirsync.h"
#include "util/fsutil.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

struct sizes {
	uint64_t bytes; /* S= */
	uint64_t lfs;   /* W= is bytes + lfs */
};

static atomic_ulong deliveries;

/* A path component we may create: not empty, no '/', no leading '.'. */
static int name_ok(const char *s)
{
	return s[0] != '\0' && s[0] != '.' && strchr(s, '/') == NULL;
}

/* mkdir, and fsync the parent when the directory is new so it survives a crash. */
static int mkdir_durably(const char *path)
{
	if (mkdir(path, 0700) == 0)
		return fsync_parent(path);
	return errno == EEXIST ? 0 : -1;
}

static int join(char *out, size_t len, const char *a, const char *b)
{
	int n = snprintf(out, len, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int maildir_create(const char *data_dir, const char *local, const char *domain,
                   char *out, size_t outlen)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char mail[PATH_MAX], dom[PATH_MAX], p[PATH_MAX];

	if (!name_ok(local) || !name_ok(domain)) {
		errno = EINVAL;
		return -1;
	}
	if (join(mail, sizeof mail, data_dir, "mail") < 0 || join(dom, sizeof dom, mail, domain) < 0 ||
	    join(out, outlen, dom, local) < 0)
		return -1;
	if (mkdir_durably(mail) < 0 || mkdir_durably(dom) < 0 || mkdir_durably(out) < 0)
		return -1;
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (join(p, sizeof p, out, subs[i]) < 0 || mkdir_durably(p) < 0)
			return -1;
	return 0;
}

/* gethostname with '/', ':' (and ',', which starts S=/W=) as \ooo, per the Maildir spec. */
static void safe_hostname(char *out, size_t outlen)
{
	char host[256];
	size_t o = 0;

	if (gethostname(host, sizeof host) < 0 || host[0] == '\0')
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	for (const char *h = host; *h && o + 5 < outlen; h++) {
		if (*h == '/' || *h == ':' || *h == ',')
			o += (size_t)snprintf(out + o, outlen - o, "\\%03o", (unsigned char)*h);
		else
			out[o++] = *h;
	}
	out[o] = '\0';
}

/* Create tmp/<unique> exclusively; its name into base, its path into path. */
static int open_unique_tmp(const char *md, char *base, size_t blen, char *path, size_t plen)
{
	char host[1100];

	safe_hostname(host, sizeof host);
	for (int tries = 0; tries < 10; tries++) {
		struct timespec ts;
		unsigned long q = atomic_fetch_add(&deliveries, 1);
		int n, fd;

		clock_gettime(CLOCK_REALTIME, &ts);
		n = snprintf(base, blen, "%lld.M%ldP%ldQ%lu.%s", (long long)ts.tv_sec,
		             ts.tv_nsec / 1000, (long)getpid(), q, host);
		if (n < 0 || (size_t)n >= blen || snprintf(path, plen, "%s/tmp/%s", md, base) >= (int)plen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1; /* errno is EEXIST */
}

static int put(int fd, const char *p, size_t n, struct sizes *sz)
{
	if (write_all(fd, p, n) < 0)
		return -1;
	sz->bytes += n;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		sz->lfs++;
	return 0;
}

static int write_headers(int fd, const char *sender, const char *local, const char *domain,
                         struct sizes *sz)
{
	struct buf b;
	int r;

	buf_init(&b, 0);
	r = buf_printf(&b, "Return-Path: <%s>\nDelivered-To: %s@%s\n", sender, local, domain);
	if (r < 0)
		errno = ENOMEM;
	else
		r = put(fd, b.data, b.len, sz);
	buf_free(&b);
	return r;
}

/* Copy in to out turning CRLF into LF; a bare CR or LF is kept. */
static int copy_crlf_to_lf(int in, uint64_t left, int out, struct sizes *sz)
{
	char *ib = malloc(CHUNK), *ob = malloc(CHUNK + 1);
	int cr = 0, r = -1;   /* cr: the previous chunk ended in CR */

	if (ib == NULL || ob == NULL)
		goto done;
	for (;;) {
		ssize_t n = left == 0 ? 0 : read(in, ib, left < CHUNK ? (size_t)left : CHUNK);
		size_t o = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto done;
		if (n == 0)
			break;
		left -= (uint64_t)n;
		for (size_t i = 0; i < (size_t)n; i++) {
			const char *next_cr;
			size_t run;

			if (cr && ib[i] != '\n')
				ob[o++] = '\r';
			cr = ib[i] == '\r';
			if (cr)
				continue;
			/* the bytes up to the next CR go out as they are */
			next_cr = memchr(ib + i, '\r', (size_t)n - i);
			run = next_cr ? (size_t)(next_cr - (ib + i)) : (size_t)n - i;
			memcpy(ob + o, ib + i, run);
			o += run;
			i += run - 1;
		}
		if (put(out, ob, o, sz) < 0)
			goto done;
	}
	r = cr ? put(out, "\r", 1, sz) : 0;
done:
	if (ib == NULL || ob == NULL)
		errno = ENOMEM;
	free(ib);
	free(ob);
	return r;
}

int maildir_deliver(const char *data_dir, const char *local, const char *domain,
                    const char *sender, const char *msg_path, uint64_t offset, uint64_t size)
{
	return maildir_deliver_sized(data_dir, local, domain, sender, msg_path, offset, size, NULL);
}

int maildir_deliver_sized(const char *data_dir, const char *local, const char *domain,
                          const char *sender, const char *msg_path, uint64_t offset, uint64_t size,
                          uint64_t *stored)
{
	char md[PATH_MAX], base[NAME_MAX + 1], tmp[PATH_MAX] = "", dst[PATH_MAX], newdir[PATH_MAX];
	struct sizes sz = { 0, 0 };
	int in = -1, out = -1, e, n;

	/* a CR or LF in the sender would forge a header line */
	if (strpbrk(sender, "\r\n") != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (maildir_create(data_dir, local, domain, md, sizeof md) < 0 ||
	    join(newdir, sizeof newdir, md, "new") < 0)
		return -1;
	if ((in = open_read_at(msg_path, (off_t)offset)) < 0)
		return -1;
	if ((out = open_unique_tmp(md, base, sizeof base - 64, tmp, sizeof tmp)) < 0) {
		tmp[0] = '\0'; /* not ours: never unlink it */
		goto fail;
	}
	if (write_headers(out, sender, local, domain, &sz) < 0 || copy_crlf_to_lf(in, size, out, &sz) < 0)
		goto fail;
	/* durable in tmp/, then the rename into new/ delivers it, then new/ durable */
	if (fsync(out) < 0)
		goto fail;
	e = close(out);
	out = -1;
	if (e < 0)
		goto fail;
	n = snprintf(dst, sizeof dst, "%s/%s,S=%llu,W=%llu", newdir, base,
	             (unsigned long long)sz.bytes, (unsigned long long)(sz.bytes + sz.lfs));
	if (n < 0 || (size_t)n >= sizeof dst) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (rename(tmp, dst) < 0)
		goto fail;
	if (dirsync(newdir) < 0) {
		e = errno;
		unlink(dst); /* not durable: report failure, the queue retries */
		errno = e;
		goto fail;
	}
	close(in);
	if (stored)
		*stored = sz.bytes;
	return 0;
fail:
	e = errno;
	if (out >= 0)
		close(out);
	close(in);
	if (tmp[0] != '\0')
		unlink(tmp);
	errno = e;
	return -1;
}
