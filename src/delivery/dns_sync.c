/*
 * dns_sync: blocking lookups on a private c-ares channel (dns_sync.h):
 * queries sent, then ares_process driven with poll() until every one has
 * answered or the deadline passed (then ares_destroy calls the rest back
 * with ARES_EDESTRUCTION).
 */
#include "delivery/dns_sync.h"
#include <ares.h>
#include <arpa/nameser.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct pending {
	struct dns_sync_q *q;
	int *left;
};

static void put_txt(struct dns_sync_q *q, const unsigned char *abuf, int alen)
{
	struct ares_txt_ext *txt, *t;
	size_t used = 0;

	if (ares_parse_txt_reply_ext(abuf, alen, &txt) != ARES_SUCCESS)
		return;
	for (t = txt; t; t = t->next) {
		if (t->record_start) {
			if (q->n >= DNS_SYNC_MAX_ANSWERS)
				break;
			q->n++;
			used = 0;
			q->answers[q->n - 1][0] = '\0';
		}
		if (q->n == 0)
			continue;
		/* the record's strings joined (RFC 6376 3.6.2.2) */
		used += (size_t)snprintf(q->answers[q->n - 1] + used, used < DNS_SYNC_ANSWER_MAX ?
		                         DNS_SYNC_ANSWER_MAX - used : 0, "%.*s", (int)t->length, (const char *)t->txt);
		if (used >= DNS_SYNC_ANSWER_MAX)
			used = DNS_SYNC_ANSWER_MAX - 1;
	}
	ares_free_data(txt);
}

static void put_mx(struct dns_sync_q *q, const unsigned char *abuf, int alen)
{
	struct ares_mx_reply *mx, *m;

	if (ares_parse_mx_reply(abuf, alen, &mx) != ARES_SUCCESS)
		return;
	for (m = mx; m && q->n < DNS_SYNC_MAX_ANSWERS; m = m->next)
		snprintf(q->answers[q->n++], DNS_SYNC_ANSWER_MAX, "%u %s", m->priority, m->host);
	ares_free_data(mx);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct pending *p = arg;
	struct dns_sync_q *q = p->q;

	(void)timeouts;
	(*p->left)--;
	if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
		q->status = 0;        /* an answer: there is no such record */
		return;
	}
	if (status != ARES_SUCCESS)
		return;               /* q->status stays -1 */
	q->status = 0;
	if (q->type == DNS_SYNC_TXT)
		put_txt(q, abuf, alen);
	else
		put_mx(q, abuf, alen);
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drive ch until left is 0 or the deadline passes. */
static void run(ares_channel ch, int *left, long long deadline)
{
	while (*left > 0) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval tv, *tvp;
		long long wait = deadline - ms_now();
		unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		int np = 0;

		if (wait <= 0)
			return;
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			/* c-ares's ARES_GETSOCK_WRITABLE shifts a signed 1 into bit 31 */
			short ev = (bits & (1u << i) ? POLLIN : 0) | (bits & (1u << (i + ARES_GETSOCK_MAXNUM)) ? POLLOUT : 0);
			if (ev) {
				pfd[np].fd = socks[i];
				pfd[np].events = ev;
				pfd[np++].revents = 0;
			}
		}
		tvp = ares_timeout(ch, NULL, &tv);
		if (tvp && tvp->tv_sec * 1000LL + tvp->tv_usec / 1000 < wait)
			wait = tvp->tv_sec * 1000LL + tvp->tv_usec / 1000;
		int ready = poll(pfd, (nfds_t)np, (int)wait);
		if (ready < 0)
			return;
		if (ready == 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);   /* its timeouts */
			continue;
		}
		for (int i = 0; i < np; i++)
			if (pfd[i].revents)
				ares_process_fd(ch, pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd : ARES_SOCKET_BAD,
				                pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
	}
}

int dns_sync_resolve(const char *servers, struct dns_sync_q *qs, size_t n, int timeout_ms,
                     char *err, size_t errlen)
{
	struct pending p[16];
	struct ares_options o;
	ares_channel ch;
	int r, left = 0, mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;

	if (n > sizeof p / sizeof p[0]) {
		snprintf(err, errlen, "too many lookups");
		return -1;
	}
	memset(&o, 0, sizeof o);
	o.timeout = timeout_ms / 2 > 0 ? timeout_ms / 2 : 1;
	o.tries = 2;
	if (servers[0]) {
		o.lookups = (char *)"b";
		mask |= ARES_OPT_LOOKUPS;
	}
	if ((r = ares_init_options(&ch, &o, mask)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(r));
		return -1;
	}
	if (servers[0] && (r = ares_set_servers_ports_csv(ch, servers)) != ARES_SUCCESS) {
		snprintf(err, errlen, "[delivery] dns_servers \"%s\": %s", servers, ares_strerror(r));
		ares_destroy(ch);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		qs[i].status = -1;
		qs[i].n = 0;
		p[i].q = &qs[i];
		p[i].left = &left;
		left++;
		ares_query(ch, qs[i].name, ns_c_in, qs[i].type == DNS_SYNC_TXT ? ns_t_txt : ns_t_mx, on_answer, &p[i]);
	}
	run(ch, &left, ms_now() + timeout_ms + 500);
	ares_destroy(ch);      /* the unanswered are called back, status stays -1 */
	return 0;
}
