/*
 * tmpdir.h: the scratch directory of a cmocka test group. tmpdir_make()
 * creates /tmp/hm-NAME-XXXXXX (fails the test if it cannot);
 * tmpdir_teardown() removes it with everything below it (a cmocka
 * teardown taking the directory from *state), without a shell.
 */
#ifndef HOSTMAIL_TESTS_TMPDIR_H
#define HOSTMAIL_TESTS_TMPDIR_H

#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline char *tmpdir_make(const char *name)
{
	char tmpl[256];
	char *d;

	snprintf(tmpl, sizeof tmpl, "/tmp/hm-%s-XXXXXX", name);
	d = strdup(tmpl);
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

/* Remove path and, for a directory, everything below it (no symlinks followed). */
static inline int tmpdir_rm(const char *path)
{
	char sub[4096];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (lstat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	if (!(d = opendir(path)))
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub)
			rc = -1;
		else
			rc |= tmpdir_rm(sub);
	}
	closedir(d);
	return rc | rmdir(path);
}

static inline int tmpdir_teardown(void **state)
{
	assert_int_equal(tmpdir_rm((char *)*state), 0);
	free(*state);
	return 0;
}

#endif
