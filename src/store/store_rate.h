/*
 * store_rate: the recipient budgets' counters in the store (table
 * rate_budget of SQLite or the shared PostgreSQL; see policy/rate.h for
 * the windows and the pure decision). Blocking: from hostmaild call these
 * on a worker.
 */
#ifndef HM_STORE_RATE_H
#define HM_STORE_RATE_H
#include <time.h>
#include "policy/rate.h"

struct store;

/* Current use of account's windows at now. 0 or STORE_EFAIL. */
int rate_get(struct store *st, const char *account, time_t now, struct rate_use *out);
/* Count n more recipients for account at now. 0 or STORE_EFAIL. */
int rate_add(struct store *st, const char *account, time_t now, int n);

/*
 * Reserve n recipients for account at now if they fit both windows: the
 * hour's count + n <= per_hour and the day's count + n <= per_day (a
 * limit of 0 admits none). Returns 0 (reserved and counted), 1 (the hourly
 * limit would be passed), 2 (the daily one; the hour is checked first),
 * STORE_ENOTFOUND (no such account), STORE_EINVAL (n < 0) or STORE_EFAIL.
 * use_out (may be NULL) gets the windows' counts (with n when reserved,
 * as they were when not) and reset times, for rate_decide's 450 4.7.1 text.
 */
int rate_reserve(struct store *st, const char *account, time_t now, int n, int per_hour, int per_day,
                 struct rate_use *use_out);
/*
 * Give back n recipients reserved at reserved_at (by rate_reserve or
 * rate_add) for a transaction that was not committed: each window is
 * lowered only if it is still the window reserved_at fell in, and never
 * below 0. 0 or STORE_EFAIL.
 */
int rate_release(struct store *st, const char *account, time_t reserved_at, int n);

#endif
