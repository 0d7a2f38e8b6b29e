/*
 * smtp_budget: the recipient budget a transaction holds. Each accepted
 * RCPT of a transaction that relays as the account reserved one recipient
 * of the account's budget (rate_reserve, on a worker, in the RCPT lookup);
 * its smtp_rcpt.reserved_at says when. A committed message keeps them:
 * they are its count. Any other end of the transaction (RSET, HELO,
 * STARTTLS, a refused or failed message, the session's end) gives them
 * back with rate_release, once: budget_take makes the transaction forget
 * them as it hands them over.
 */
#include "smtp/smtp_session_int.h"
#include "store/store.h"
#include "policy/rate.h"
#include "store/store_rate.h"
#include "util/log.h"
#include "util/workers.h"
#include <stdio.h>
#include <stdlib.h>

struct budget_piece {
	time_t at;                 /* a reservation time in the window */
	int n;                     /* recipients reserved in that hour */
};

struct budget_give {
	struct store *st;
	char account[64];
	size_t n;
	struct budget_piece p[];
};

static struct budget_give *give_new(struct store *st, const char *account, size_t npieces)
{
	struct budget_give *g = calloc(1, sizeof *g + npieces * sizeof g->p[0]);

	if (!g)
		return NULL;
	g->st = st;
	snprintf(g->account, sizeof g->account, "%s", account);
	return g;
}

static void give_log_lost(const char *account, int n)
{
	log_warn("account %s: cannot give back %d reserved recipient(s): they count until their window ends",
	         account, n);
}

struct budget_give *budget_one(struct store *st, const char *account, time_t at)
{
	struct budget_give *g = give_new(st, account, 1);

	if (!g) {
		give_log_lost(account, 1);
		return NULL;
	}
	g->p[0].at = at;
	g->p[0].n = 1;
	g->n = 1;
	return g;
}

struct budget_give *budget_take(struct store *st, const char *account, struct smtp_tx *tx)
{
	struct budget_give *g;

	if (!tx || tx->nreserved == 0)
		return NULL;
	if (!(g = give_new(st, account, tx->nreserved))) {
		give_log_lost(account, (int)tx->nreserved);
	} else {
		/* in RCPT order, so one piece per hour the reservations fell in */
		for (size_t i = 0; i < tx->nrcpt; i++) {
			time_t at = tx->rcpts[i].reserved_at;
			if (!at)
				continue;
			if (g->n && rate_hour_start(g->p[g->n - 1].at) == rate_hour_start(at)) {
				g->p[g->n - 1].n++;
			} else {
				g->p[g->n].at = at;
				g->p[g->n++].n = 1;
			}
		}
	}
	for (size_t i = 0; i < tx->nrcpt; i++)
		tx->rcpts[i].reserved_at = 0;
	tx->nreserved = 0;
	return g;
}

void budget_give_now(struct budget_give *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		if (rate_release(g->st, g->account, g->p[i].at, g->p[i].n) != 0)
			give_log_lost(g->account, g->p[i].n);
	free(g);
}

static void give_work(void *arg)
{
	budget_give_now(arg);
}

void budget_give_later(struct workers *pool, struct budget_give *g)
{
	if (!g)
		return;
	/* urgent: a client may be about to use what comes back */
	if (workers_submit_urgent(pool, give_work, NULL, g) < 0) {
		for (size_t i = 0; i < g->n; i++)
			give_log_lost(g->account, g->p[i].n);
		free(g);
	}
}

void budget_free(struct budget_give *g)
{
	free(g);
}
