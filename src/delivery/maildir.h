/*
 * maildir: local delivery into data_dir/mail/<domain>/<localpart>/, a
 * standard Maildir (tmp/ new/ cur/). The file is written in tmp/, fsynced,
 * renamed into new/ and new/ fsynced. Stored with LF line ends, as Maildir
 * tools expect; the name is "<sec>.M<usec>P<pid>Q<n>.<host>,S=<bytes>,W=<crlf-bytes>"
 * so POP3 can list sizes without reading files. Blocking: call on a worker.
 */
#ifndef HM_MAILDIR_H
#define HM_MAILDIR_H
#include <stddef.h>
#include <stdint.h>

/* Make data_dir/mail/<domain>/<local>/{tmp,new,cur}; path of the Maildir into out. */
int maildir_create(const char *data_dir, const char *local, const char *domain,
                   char *out, size_t outlen);
/*
 * Deliver the queued message (CRLF line ends), size bytes at offset in
 * msg_path, for recipient
 * local@domain, prepending "Return-Path: <sender>" and "Delivered-To:
 * local@domain". local and domain must be lower-case, with no '/' and no
 * leading '.'. Returns 0, or -1 with errno (all failures here are
 * temporary: disk, permissions) and nothing left in new/.
 */
int maildir_deliver(const char *data_dir, const char *local, const char *domain,
                    const char *sender, const char *msg_path, uint64_t offset, uint64_t size);
/* The same; *stored (if not NULL) gets the file's size, its S= (the
 * Maildir++ quota counts it: delivery/quota.h). */
int maildir_deliver_sized(const char *data_dir, const char *local, const char *domain,
                          const char *sender, const char *msg_path, uint64_t offset, uint64_t size,
                          uint64_t *stored);

#endif
