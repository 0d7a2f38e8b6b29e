/*
 * dirsync: group commit for directory fsyncs. A rename is durable once its
 * directory has been fsynced after it; one fsync covers every rename made
 * before it started. dirsync(dir) waits for such an fsync: if one of the
 * same directory is already running, the caller waits for the next round,
 * which one of the waiters runs for all of them. Threads that finish a
 * message at the same moment thus share one fsync, and each still returns
 * only when its own rename is on disk. Blocks: call from worker threads.
 */
#ifndef HM_DIRSYNC_H
#define HM_DIRSYNC_H
#include <stdint.h>

int dirsync(const char *dir);          /* 0, or -1 + errno (sticky for its round) */
int dirsync_parent(const char *path);  /* dirsync(dirname(path)) */

/* Since start: calls to dirsync and fsyncs actually run (tests, bench). */
void dirsync_stats(uint64_t *calls, uint64_t *fsyncs);

#endif
