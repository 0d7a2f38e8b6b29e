/*
 * fuzz_common: small helpers the harnesses share: a private scratch
 * directory (under $HM_FUZZ_TMP, which run.sh makes and removes, else on
 * /dev/shm when it exists, so fsync costs nothing) and writing a whole file.
 */
#ifndef HM_FUZZ_COMMON_H
#define HM_FUZZ_COMMON_H
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Written to fd 2 directly: a harness may point stdio's stderr elsewhere. */
#define CHECK(c) do { if (!(c)) { dprintf(2, "CHECK failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); abort(); } } while (0)

/* A fresh directory that lives for the whole fuzzing run. */
static inline const char *fuzz_scratch_dir(void)
{
	static char dir[256];
	const char *base = getenv("HM_FUZZ_TMP");

	if (!base || !base[0])
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	if (!dir[0]) {
		snprintf(dir, sizeof dir, "%s/hostmail-fuzz-XXXXXX", base);
		if (!mkdtemp(dir))
			abort();
	}
	return dir;
}

static inline int fuzz_write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *c = p;

	if (fd < 0)
		return -1;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return close(fd);
}

#endif
