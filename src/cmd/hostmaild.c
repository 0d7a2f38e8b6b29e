/*
 * hostmaild: the mail daemon. One event loop serves every listener and
 * the queue runner; blocking work goes to a worker pool. Runs in the
 * foreground and logs to stderr. SIGTERM/SIGINT stop it, SIGHUP reloads
 * the configuration (listeners and data_dir need a restart).
 */
#define _GNU_SOURCE
#include "cluster/cluster.h"
#include "cluster/lmtp_server.h"
#include "daemon/server.h"
#include "queue/queue.h"
#include "queue/runner.h"
#include "store/store.h"
#include "util/dirsync.h"
#include "util/config.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/privdrop.h"
#include "util/workers.h"
#include "routing/route_store.h"
#include "auth/throttle.h"
#include "tls/tls.h"
#include "daemon/connlimit.h"
#include "daemon/fdlimit.h"
#include "auth/auth_cache.h"
#include "metrics/metrics.h"
#include "util/wipe_alloc.h"
#include "auth/login_queue.h"
#include <event2/event.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: hostmaild -c FILE\n"
	           "  -c FILE  configuration file (INI; see docs/configuration.md)\n"
	           "  -h       this help\n"
	           "Runs in the foreground and logs to stderr. SIGTERM stops, SIGHUP reloads.\n");
}

/* Started as root: give the data directory to [server] user and become it
 * (the ports are bound and the keys loaded by now). */
static void drop_privileges(const struct config *cfg)
{
	char err[512];

	if (geteuid() != 0)
		return;
	if (priv_drop_tree(cfg->user, cfg->data_dir, err, sizeof err) < 0)
		log_fatal("%s", err);
	log_info("running as user %s", cfg->user);
}

/* (Re)load certificates; at a reload a failure keeps the old ones. */
static void load_tls(struct server *srv, int startup)
{
	struct tls_server *t;
	char err[512];

	if (!(t = tls_server_load(srv->cfg, err, sizeof err))) {
		if (startup && (srv->cfg->submissions.n || srv->cfg->pop3s.n))
			log_fatal("tls: %s (needed by the implicit-TLS listeners)", err);
		log_warn("tls: %s: %s", err, srv->tls ? "keeping the old certificates" : "STARTTLS and AUTH not offered");
		return;
	}
	if (srv->tls)
		tls_server_unref(srv->tls);
	srv->tls = t;
	log_info("tls: certificate %s loaded, %d SNI certificate(s)", srv->cfg->tls_certificate,
	         tls_server_sni_count(t));
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	(void)what;
	log_info("signal %d: stopping", (int)sig);
	server_close_listeners(srv);
	event_base_loopexit(srv->base, NULL);
}

/* The listen keys a reload cannot change (the ports were bound as root). */
static int listeners_changed(const struct config *a, const struct config *b)
{
	return memcmp(&a->smtp, &b->smtp, sizeof a->smtp) || memcmp(&a->submission, &b->submission, sizeof a->smtp) ||
	       memcmp(&a->submissions, &b->submissions, sizeof a->smtp) || memcmp(&a->pop3, &b->pop3, sizeof a->smtp) ||
	       memcmp(&a->pop3s, &b->pop3s, sizeof a->smtp) || memcmp(&a->acc, &b->acc, sizeof a->smtp) ||
	       memcmp(&a->admin, &b->admin, sizeof a->smtp) ||
	       memcmp(&a->pop3_cluster, &b->pop3_cluster, sizeof a->smtp);
}

/* SIGHUP: publish a new configuration snapshot. Sessions, jobs and
 * deliveries already running keep the one they started with. */
static void on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	const struct config *old = srv->cfg;
	struct config *nc;
	char err[512];

	(void)sig;
	(void)what;
	if (!(nc = config_new_load(old->path, err, sizeof err))) {
		log_warn("reload: %s (keeping the old configuration)", err);
		return;
	}
	if (strcmp(nc->data_dir, old->data_dir) != 0)
		log_warn("reload: [server] data_dir changes need a restart (still %s)", old->data_dir);
	if (listeners_changed(nc, old))
		log_warn("reload: [listen] changes need a restart (still listening as before)");
	if (nc->worker_threads != old->worker_threads)
		log_warn("reload: [server] worker_threads changes need a restart (still %d)", old->worker_threads);
	if (strcmp(nc->user, old->user) != 0)
		log_warn("reload: [server] user changes need a restart");
	snprintf(nc->data_dir, sizeof nc->data_dir, "%s", old->data_dir);
	snprintf(nc->user, sizeof nc->user, "%s", old->user);
	nc->smtp = old->smtp;
	nc->submission = old->submission;
	nc->submissions = old->submissions;
	nc->pop3 = old->pop3;
	nc->pop3s = old->pop3s;
	nc->acc = old->acc;
	nc->admin = old->admin;
	nc->pop3_cluster = old->pop3_cluster;
	nc->worker_threads = old->worker_threads;
	srv->cfg = nc;
	config_unref(old);
	load_tls(srv, 0);
	log_info("reload: configuration %s reloaded", nc->path);
}

#define AUTH_THREADS 2   /* password hashing, fed by the login queue */

/* The log's flood windows are summed up on time even when all is quiet. */
static void on_log_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_tick();
}

int main(int argc, char **argv)
{
	static struct server srv;
	const char *cfgpath = NULL;
	struct event *ev_term, *ev_int, *ev_hup, *ev_log;
	struct timeval one_second = { 1, 0 };
	char err[512];
	int c;

	/* before libevent or OpenSSL allocate anything */
	if (wipe_alloc_install() < 0)
		fprintf(stderr, "hostmaild: OpenSSL allocated before start: its buffers are freed unwiped\n");
	log_init("hostmaild");
	while ((c = getopt(argc, argv, "c:h")) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!cfgpath || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!(srv.cfg = config_new_load(cfgpath, err, sizeof err)))
		log_fatal("%s", err);
	/* [server] log: read here only, a reload keeps the destination */
	if (srv.cfg->log_syslog && log_to_syslog(srv.cfg->syslog_socket) < 0)
		log_warn("syslog: cannot reach %s: %m (logging to stderr until it can)", srv.cfg->syslog_socket);
	if (geteuid() == 0 && priv_check(srv.cfg->user, err, sizeof err) < 0)
		log_fatal("%s", err);          /* before anything is created as root */
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	snprintf(srv.queue_dir, sizeof srv.queue_dir, "%s/queue", srv.cfg->data_dir);
	if (mkdir_p(srv.cfg->data_dir, 0700) < 0 || queue_init(srv.queue_dir) < 0)
		log_fatal("cannot create %s: %m", srv.queue_dir);
	if (!(srv.base = event_base_new()))
		log_fatal("cannot create the event loop");
	/* Handlers before the listeners: a client may see the port open and
	 * signal at once (a reload must never kill a starting daemon). */
	ev_term = evsignal_new(srv.base, SIGTERM, on_stop, &srv);
	ev_int = evsignal_new(srv.base, SIGINT, on_stop, &srv);
	ev_hup = evsignal_new(srv.base, SIGHUP, on_reload, &srv);
	event_add(ev_term, NULL);
	event_add(ev_int, NULL);
	event_add(ev_hup, NULL);
	ev_log = event_new(srv.base, -1, EV_PERSIST, on_log_tick, NULL);
	event_add(ev_log, &one_second);
	load_tls(&srv, 1);
	/* [cluster]: read once, before dropping privileges (the node's key) */
	if (srv.cfg->cluster_node && !(srv.cluster = cluster_load(srv.cfg, err, sizeof err)))
		log_fatal("cluster: %s", err);
	if (!(srv.auth_throttle = throttle_new(5, 600, 600)) || !(srv.conns = connlimit_new()) ||
	    !(srv.acc_conns = connlimit_new()) || !(srv.metrics = metrics_new()))
		log_fatal("out of memory");
	fdlimit_setup(srv.cfg);
	if (server_listen(&srv) < 0)
		log_fatal("cannot listen on the configured addresses");
	drop_privileges(srv.cfg);
	if (srv.cluster && lmtp_service_start(&srv) < 0)
		log_fatal("cannot prepare internal delivery (data_dir/cluster)");
	/* As the daemon's user: PostgreSQL's peer authentication sees it. */
	if (!(srv.store = store_open(srv.cfg, err, sizeof err)))
		log_fatal("account store: %s", err);
	if (!(srv.srs = route_srs_load(srv.cfg, err, sizeof err)))   /* [srs]: read at start only */
		log_fatal("%s", err);
	srv.workers = workers_start(srv.base, srv.cfg->worker_threads);
	srv.auth_workers = workers_start(srv.base, AUTH_THREADS);
	if (!(srv.logins = login_queue_new(srv.auth_workers, AUTH_THREADS)))
		log_fatal("out of memory");
	/* [auth] keys are read here only: a reload keeps the cache as it is */
	if (srv.cfg->auth_cache_ttl > 0 &&
	    !(srv.auth_cache = auth_cache_new((size_t)srv.cfg->auth_cache_size, srv.cfg->auth_cache_ttl,
	                                      srv.cfg->auth_negative_ttl)))
		log_fatal("cannot set up the authentication cache");
	srv.runner = runner_start(&srv);

	log_info("hostmaild started: hostname %s, data_dir %s", srv.cfg->hostname, srv.cfg->data_dir);
	event_base_dispatch(srv.base);

	/* Jobs in flight finish (a commit either completes or leaves debris
	 * that recovery removes; nothing acknowledged depends on them). */
	workers_stop(srv.auth_workers);
	login_queue_free(srv.logins);
	workers_stop(srv.workers);
	runner_stop(srv.runner);
	if (srv.auth_cache) {
		struct auth_cache_stats cs;

		auth_cache_stats(srv.auth_cache, &cs);
		log_info("auth cache: %lu hits, %lu misses, %lu verdicts stored, %lu evicted", cs.hits,
		         cs.misses, cs.inserts, cs.evictions);
		auth_cache_free(srv.auth_cache);
	}
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	event_free(ev_log);
	store_close(srv.store);
	free(srv.srs);
	tls_server_unref(srv.tls);
	cluster_free(srv.cluster);
	throttle_free(srv.auth_throttle);
	connlimit_free(srv.conns);
	connlimit_free(srv.acc_conns);
	metrics_free(srv.metrics);
	config_unref(srv.cfg);
	{
		uint64_t calls, fsyncs;

		dirsync_stats(&calls, &fsyncs);
		log_info("hostmaild stopped: %llu directory syncs asked for, %llu run",
		         (unsigned long long)calls, (unsigned long long)fsyncs);
	}
	return 0;
}
