/*
 * fsutil: the durable-write primitives. Everything that must survive a
 * crash goes through here: write all, fsync the file, rename, fsync the
 * directory. These block: call them from a worker thread, not the loop.
 */
#ifndef HM_FSUTIL_H
#define HM_FSUTIL_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int write_all(int fd, const void *p, size_t n);          /* -1 + errno */
int fsync_dir(const char *dir);                          /* -1 + errno */
int parent_dir(const char *path, char *out, size_t len);  /* dirname into out; -1 + errno */
int fsync_parent(const char *path);                      /* fsync_dir(dirname(path)) */
/* Durably replace path with data: tmp, fsync, rename, fsync dir. */
int write_file_durably(const char *path, const void *data, size_t n, mode_t mode);
/* Durably move a fsynced file into place: rename, fsync the target directory. */
int rename_durably(const char *from, const char *to);
int mkdir_p(const char *path, mode_t mode);              /* like mkdir -p */
/* Open path read-only, positioned at offset. fd, or -1 + errno. */
int open_read_at(const char *path, off_t offset);
/* The header section of the message at offset of path, at most cap bytes
 * into out: up to and with the CRLF before the empty line, else cut after
 * the last whole line. Returns its length (0 when unreadable). */
size_t read_header_section(const char *path, uint64_t offset, size_t cap, char *out);

#endif
