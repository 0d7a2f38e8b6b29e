/* limits: an account's effective limits (see limits.h). */
#include "policy/limits.h"

/* An override of 0 is real (no recipients at all); -1 means "the default".
 * The store refuses a per-message override below 1. */
static int pick(int override, int dflt, int min)
{
	return override >= min ? override : dflt;
}

void account_limits(const struct account_limits *ov, const struct account_limits *dflt,
                    struct account_limits *out)
{
	out->per_hour = pick(ov->per_hour, dflt->per_hour, 0);
	out->per_day = pick(ov->per_day, dflt->per_day, 0);
	out->max_recipients = pick(ov->max_recipients, dflt->max_recipients, 1);
}
