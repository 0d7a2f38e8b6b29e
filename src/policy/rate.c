/* rate: the pure budget decision and window arithmetic (see rate.h). */
#include "policy/rate.h"
#include <stdio.h>

time_t rate_hour_start(time_t now)
{
	return now - now % 3600;
}

time_t rate_day_start(time_t now)
{
	return now - now % 86400;
}

int rate_decide(const struct rate_use *use, int per_hour, int per_day, int pending,
                char *why, size_t whylen)
{
	char when[32];
	struct tm tm;

	if (use->hour + pending + 1 > per_hour) {
		gmtime_r(&use->hour_reset, &tm);
		strftime(when, sizeof when, "%H:%M UTC", &tm);
		snprintf(why, whylen, "hourly limit of %d recipients reached; it resets at %s", per_hour, when);
		return 1;
	}
	if (use->day + pending + 1 > per_day) {
		gmtime_r(&use->day_reset, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
		snprintf(why, whylen, "daily limit of %d recipients reached; it resets at %s", per_day, when);
		return 2;
	}
	return 0;
}
