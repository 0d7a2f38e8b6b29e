/* hostnames: an account's mail host name from the [hostnames] patterns (see hostnames.h). */
#include "policy/hostnames.h"
#include <stdio.h>
#include <string.h>

int hostname_expand(const char *pattern, const struct account *acc, char *out, size_t outlen)
{
	char num[16];
	size_t o = 0, n;
	const char *p = pattern, *rep;

	if (outlen == 0)
		return -1;
	snprintf(num, sizeof num, "%03d", acc->server_number);
	while (*p) {
		if (strncmp(p, "{user}", 6) == 0) {
			rep = acc->name;
			p += 6;
		} else if (strncmp(p, "{server}", 8) == 0) {
			rep = num;
			p += 8;
		} else {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = *p++;
			continue;
		}
		n = strlen(rep);
		if (o + n >= outlen)
			return -1;
		memcpy(out + o, rep, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int account_is_legacy(const struct config *cfg, const struct account *acc)
{
	/* YYYY-MM-DD strings order like the dates they name. */
	return strcmp(acc->created, cfg->hostname_legacy_cutover) < 0;
}

int account_smtp_host(const struct config *cfg, const struct account *acc, char *out, size_t outlen)
{
	const char *pattern = account_is_legacy(cfg, acc) ? cfg->hostname_legacy_pattern
	                                                  : cfg->hostname_pattern;

	return hostname_expand(pattern, acc, out, outlen);
}
