/*
 * fuzz_server: what the whole-server harnesses (fuzz_smtp_session,
 * fuzz_pop3_session, fuzz_acc_http) set up the same way: a default
 * configuration on a scratch data directory, the account store with the
 * hosting account "acme" and its domain acme.test, and the event loop
 * with its throttle, connection limits and worker pools.
 */
#ifndef HM_FUZZ_SERVER_H
#define HM_FUZZ_SERVER_H
#include "daemon/server.h"
#include "daemon/connlimit.h"
#include "auth/login_queue.h"
#include "auth/throttle.h"
#include "store/store.h"
#include "util/config.h"
#include "util/workers.h"
#include "fuzz_common.h"
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Defaults, hostname, data_dir under the scratch directory; the harness
 * may change the returned snapshot until its first connection. The server
 * logs every connection (megabytes a minute): to /dev/null unless
 * HM_FUZZ_LOG is set; sanitizer and CHECK reports go to fd 2 directly. */
static struct config *fuzz_server_config(struct server *srv, const char *hostname)
{
	struct config *c;

	signal(SIGPIPE, SIG_IGN);
	if (!getenv("HM_FUZZ_LOG"))
		CHECK((stderr = fopen("/dev/null", "w")) != NULL);
	CHECK((c = config_new()) != NULL);
	snprintf(c->hostname, sizeof c->hostname, "%s", hostname);
	snprintf(c->data_dir, sizeof c->data_dir, "%s/data", fuzz_scratch_dir());
	srv->cfg = c;
	return c;
}

/* The data directory and the store, with account acme and domain acme.test. */
static void fuzz_server_store(struct server *srv)
{
	char err[512];

	CHECK(mkdir(srv->cfg->data_dir, 0700) == 0);
	CHECK((srv->store = store_open(srv->cfg, err, sizeof err)) != NULL);
	CHECK(store_account_add(srv->store, "acme", NULL, 7, err, sizeof err) == 0);
	CHECK(store_domain_add(srv->store, "acme", "acme.test", err, sizeof err) == 0);
}

/* The event loop, login throttle, connection limits, worker pools and the
 * login queue. */
static void fuzz_server_loop(struct server *srv)
{
	CHECK((srv->base = event_base_new()) != NULL);
	CHECK((srv->auth_throttle = throttle_new(5, 600, 600)) != NULL);
	CHECK((srv->conns = connlimit_new()) != NULL);
	CHECK((srv->acc_conns = connlimit_new()) != NULL);
	srv->workers = workers_start(srv->base, 2);
	srv->auth_workers = workers_start(srv->base, 1);
	CHECK((srv->logins = login_queue_new(srv->auth_workers, 1)) != NULL);
}

#endif
