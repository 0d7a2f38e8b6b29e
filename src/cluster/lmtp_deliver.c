/*
 * lmtp_deliver: the worker half of the LMTP listener (lmtp_deliver.h): a
 * received message, fsynced in data_dir/cluster/tmp/, checked for a
 * second internal hop and written to each recipient's Maildir with the
 * local delivery code under the mailbox's quota (delivery/quota.h), as
 * the queue runner delivers a mailbox homed here.
 *
 * Exactly once: the sending node records a recipient delivered only after
 * our 250; should it crash in between it hands the message over again. So
 * before writing to a Maildir we look for a marker named by the hop id and
 * the recipient (data_dir/cluster/seen/KEY) and, once the message is in
 * the Maildir, make that marker (fsynced) before answering 250. Markers are
 * removed after [queue] max_age and one day.
 */
#include "cluster/lmtp_deliver.h"
#include "cluster/lmtp_proto.h"
#include "delivery/maildir.h"
#include "delivery/quota.h"
#include "routing/vacation_send.h"
#include "queue/queue.h"
#include "util/fsutil.h"
#include "util/log.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The hop header of the received message. */
static int read_hops(const char *path, struct lmtp_hop *hop)
{
	char *buf = malloc(LMTP_HEADER_SCAN_MAX);
	ssize_t n;
	int fd;

	memset(hop, 0, sizeof *hop);
	if (!buf || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		free(buf);
		return -1;
	}
	n = read(fd, buf, LMTP_HEADER_SCAN_MAX);
	close(fd);
	if (n >= 0)
		lmtp_hop_scan(buf, (size_t)n, hop);
	free(buf);
	return n < 0 ? -1 : 0;
}

static void seen_path(const struct lmtp_delivery *j, const char *hop_id, const char *rcpt, char *out, size_t len)
{
	char key[65];

	lmtp_dedup_key(hop_id, rcpt, key);
	snprintf(out, len, "%s/cluster/seen/%s", j->data_dir, key);
}

static int mark_seen(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || fsync(fd) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return fsync_parent(path);
}

/* The mailbox's autoresponder, as after a delivery from the queue
 * (routing/vacation_send.h); the reply is scheduled by data_done. */
static void vacation(struct lmtp_delivery *j, const struct lmtp_hop *hop, struct lmtp_rcpt *r)
{
	char mailbox[520], id[QUEUE_ID_LEN + 1];
	struct vacation_delivery d = {
		.queue_id = hop->id[0] ? hop->id : "lmtp", .mailbox = mailbox, .sender = j->sender,
		.msg_path = j->tmp, .offset = 0, .size = j->size, .hostname = j->hostname,
		.period = j->vacation_period, .dkim_sign = j->dkim_sign, .now = time(NULL),
	};

	snprintf(mailbox, sizeof mailbox, "%s@%s", r->local, r->domain);
	if (vacation_after_delivery(j->store, j->queue_dir, &d, id, sizeof id) == 1)
		snprintf(r->vacation_id, sizeof r->vacation_id, "%s", id);
}

static void deliver_one(struct lmtp_delivery *j, const struct lmtp_hop *hop, struct lmtp_rcpt *r)
{
	char seen[800];

	seen[0] = '\0';
	if (hop->id[0]) {
		seen_path(j, hop->id, r->addr, seen, sizeof seen);
		if (access(seen, F_OK) == 0) {
			r->code = 250;
			snprintf(r->reply, sizeof r->reply, "2.0.0 <%s> delivered already (hop %s)", r->addr, hop->id);
			log_info("lmtp[%llu]: to=<%s>: delivered already (hop id %s): not stored twice", j->id, r->addr,
			         hop->id);
			return;
		}
	}
	struct quota_delivery d = {
		.data_dir = j->data_dir, .local = r->local, .domain = r->domain, .sender = j->sender,
		.msg_path = j->tmp, .offset = 0, .size = j->size, .warning = j->quota_warning, .hostname = j->hostname,
	};
	enum quota_result q = quota_deliver(j->store, &d);

	if (q == QUOTA_FULL) {
		r->code = j->quota_temp ? 452 : 552;
		snprintf(r->reply, sizeof r->reply, "%s <%s> mailbox full", j->quota_temp ? "4.2.2" : "5.2.2", r->addr);
		log_info("lmtp[%llu]: to=<%s>: mailbox full (%d)", j->id, r->addr, r->code);
		return;
	}
	if (q != QUOTA_FITS) {
		r->code = 451;
		snprintf(r->reply, sizeof r->reply, "4.3.0 <%s> maildir delivery failed: %s", r->addr, strerror(errno));
		log_warn("lmtp[%llu]: to=<%s>: maildir delivery failed: %s", j->id, r->addr, strerror(errno));
		return;
	}
	if (seen[0] && mark_seen(seen) < 0)
		log_warn("lmtp[%llu]: to=<%s>: delivered, but cannot note it in %s: %s (a repeated hand-over"
		         " would be stored twice)", j->id, r->addr, seen, strerror(errno));
	r->code = 250;
	snprintf(r->reply, sizeof r->reply, "2.0.0 <%s> delivered to maildir", r->addr);
	vacation(j, hop, r);
	log_info("lmtp[%llu]: to=<%s>: delivered to maildir (hop id %s)", j->id, r->addr, hop->id[0] ? hop->id : "-");
}

/* Remove the files of dir older than age seconds (all with age 0). */
static void sweep(const char *dir, time_t age)
{
	char path[1024];
	struct dirent *e;
	struct stat sb;
	time_t now = time(NULL);
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (age == 0 || (stat(path, &sb) == 0 && now - sb.st_mtime > age))
			unlink(path);
	}
	closedir(d);
}

/* The markers, at most once an hour, by whichever delivery comes first. */
static void sweep_seen(const char *data_dir, int max_age)
{
	static time_t last;
	time_t now = time(NULL), prev = __atomic_load_n(&last, __ATOMIC_RELAXED);
	char seen[600];

	if (now - prev < 3600 || !__atomic_compare_exchange_n(&last, &prev, now, 0, __ATOMIC_RELAXED,
	                                                      __ATOMIC_RELAXED))
		return;
	snprintf(seen, sizeof seen, "%s/cluster/seen", data_dir);
	sweep(seen, (time_t)max_age + 86400);
}

void lmtp_deliver(void *arg)
{
	struct lmtp_delivery *j = arg;
	struct lmtp_hop hop;
	size_t i;

	if (read_hops(j->tmp, &hop) < 0) {
		for (i = 0; i < j->nrcpt; i++) {
			j->rcpt[i].code = 451;
			snprintf(j->rcpt[i].reply, sizeof j->rcpt[i].reply, "4.3.0 cannot read the message back");
		}
	} else if (hop.count >= 2) {
		log_warn("lmtp[%llu]: refused: the message made an internal hop already (%d hop headers, id %s)",
		         j->id, hop.count, hop.id[0] ? hop.id : "-");
		for (i = 0; i < j->nrcpt; i++) {
			j->rcpt[i].code = 554;
			snprintf(j->rcpt[i].reply, sizeof j->rcpt[i].reply, "5.4.6 <%s> routing loop: the message made"
			         " an internal hop already", j->rcpt[i].addr);
		}
	} else {
		for (i = 0; i < j->nrcpt; i++)
			deliver_one(j, &hop, &j->rcpt[i]);
	}
	unlink(j->tmp);
	sweep_seen(j->data_dir, j->max_age);
}

int lmtp_spool_prepare(const char *data_dir, int max_age)
{
	char tmp[600], seen[600];

	snprintf(tmp, sizeof tmp, "%s/cluster/tmp", data_dir);
	snprintf(seen, sizeof seen, "%s/cluster/seen", data_dir);
	if (mkdir_p(tmp, 0700) < 0 || mkdir_p(seen, 0700) < 0) {
		log_warn("lmtp: cannot make %s and %s: %s", tmp, seen, strerror(errno));
		return -1;
	}
	sweep(tmp, 0);      /* messages being received when the daemon stopped: never answered 250 */
	sweep(seen, (time_t)max_age + 86400);
	return 0;
}
