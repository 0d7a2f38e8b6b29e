/*
 * privdrop: switching from root to [server] user (see privdrop.h).
 */
#define _GNU_SOURCE
#include "util/privdrop.h"
#include "util/fsutil.h"
#include "util/log.h"
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* nftw gives its callback no argument: the owner to give files to */
static uid_t tree_uid;
static gid_t tree_gid;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if ((st->st_uid != tree_uid || st->st_gid != tree_gid) && lchown(path, tree_uid, tree_gid) < 0)
		log_warn("chown %s: %s", path, strerror(errno));
	return 0;
}

static const struct passwd *lookup(const char *user, char *err, size_t errlen)
{
	const struct passwd *pw;

	if (!user[0]) {
		snprintf(err, errlen, "refusing to run as root: set [server] user to the unprivileged "
		         "user to run as (for example hostmail; see docs/security.md)");
		return NULL;
	}
	if (!(pw = getpwnam(user))) {
		snprintf(err, errlen, "[server] user %s: no such user", user);
		return NULL;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "[server] user %s has uid 0: refusing to run as root", user);
		return NULL;
	}
	return pw;
}

int priv_check(const char *user, char *err, size_t errlen)
{
	return lookup(user, err, errlen) ? 0 : -1;
}

static int become(const struct passwd *pw, char *err, size_t errlen)
{
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "cannot switch to user %s: %s", pw->pw_name, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "switched to user %s, but root could be regained", pw->pw_name);
		return -1;
	}
	return 0;
}

int priv_drop_tree(const char *user, const char *data_dir, char *err, size_t errlen)
{
	const struct passwd *pw = lookup(user, err, errlen);

	if (!pw)
		return -1;
	tree_uid = pw->pw_uid;
	tree_gid = pw->pw_gid;
	if (nftw(data_dir, chown_one, 32, FTW_PHYS) < 0) {
		snprintf(err, errlen, "%s: %s", data_dir, strerror(errno));
		return -1;
	}
	return become(pw, err, errlen);
}

int priv_drop_top(const char *user, const char *data_dir, char *err, size_t errlen)
{
	const struct passwd *pw = lookup(user, err, errlen);
	struct stat st;

	if (!pw)
		return -1;
	if (mkdir_p(data_dir, 0700) < 0 || stat(data_dir, &st) < 0) {
		snprintf(err, errlen, "%s: %s", data_dir, strerror(errno));
		return -1;
	}
	if (st.st_uid != pw->pw_uid && chown(data_dir, pw->pw_uid, pw->pw_gid) < 0) {
		snprintf(err, errlen, "chown %s: %s", data_dir, strerror(errno));
		return -1;
	}
	return become(pw, err, errlen);
}
