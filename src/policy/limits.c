/* limits: an account's effective limits (see limits.h). */
#include "policy/limits.h"
#include "store/store.h"
#include "util/config.h"

/* An override of 0 is real (no recipients at all); -1 means "the default".
 * The store refuses a per-message override below 1. */
static int pick(int override, int dflt, int min)
{
	return override >= min ? override : dflt;
}

void account_limits(const struct account *a, const struct config *cfg, struct account_limits *out)
{
	out->per_hour = pick(a->limit_per_hour, cfg->recipients_per_hour, 0);
	out->per_day = pick(a->limit_per_day, cfg->recipients_per_day, 0);
	out->max_recipients = pick(a->limit_max_recipients, cfg->max_recipients, 1);
}
