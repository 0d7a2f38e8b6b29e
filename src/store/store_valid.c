/*
 * store_valid: syntax checks and normalization for account store input
 * (see store_valid.h). The local part of an address becomes a directory
 * name under data_dir/mail/<domain>/, hence the refusal of '/' and of a
 * leading dot on top of RFC 5322 dot-atom rules.
 */
#include "store/store_valid.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define LOCAL_MAX 64
#define DOMAIN_MAX 253
#define LABEL_MAX 63

static int fail(char *err, size_t errlen, const char *msg, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, msg, what);
	return -1;
}

int valid_account_name(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name), i;
	static const char *msg = "invalid account name \"%.64s\": use 1 to 32 of a-z, 0-9 and '-', "
	                         "starting with a letter or digit";

	if (n < 1 || n > 32 || name[0] == '-')
		return fail(err, errlen, msg, name);
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return fail(err, errlen, msg, name);
	}
	return 0;
}

static int is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int valid_domain(const char *domain, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t n = strlen(domain), i, label = 0, labels = 1, last_start = 0;
	int tld_alpha = 0;
	static const char *msg = "invalid domain \"%.256s\": expected a host name like example.com "
	                         "(letters, digits, '-' and dots)";

	if (n < 3 || n > DOMAIN_MAX || n >= outlen)
		return fail(err, errlen, msg, domain);
	for (i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)domain[i]);

		out[i] = c;
		if (c == '.') {
			/* a label may not be empty or end with '-' */
			if (label == 0 || out[i - 1] == '-')
				return fail(err, errlen, msg, domain);
			label = 0;
			labels++;
			last_start = i + 1;
		} else if (!is_ldh(c) || (label == 0 && c == '-') || ++label > LABEL_MAX) {
			return fail(err, errlen, msg, domain);
		}
	}
	out[n] = '\0';
	if (label == 0 || out[n - 1] == '-' || labels < 2)
		return fail(err, errlen, msg, domain);
	/* an all-numeric last label would make 192.0.2.1 a "domain" */
	for (i = last_start; i < n; i++)
		if (out[i] < '0' || out[i] > '9')
			tld_alpha = 1;
	if (!tld_alpha)
		return fail(err, errlen, msg, domain);
	return 0;
}

static int is_atext(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-=?^_`{|}~", c));
}

int valid_address(const char *address, char *local, size_t locallen,
                  char *domain, size_t domainlen, char *err, size_t errlen)
{
	const char *at = strrchr(address, '@');
	size_t ln, i;
	static const char *msg = "invalid mailbox address \"%.320s\": expected local@domain, the local "
	                         "part made of letters, digits, dots (not first, last or doubled) "
	                         "and !#$%%&'*+-=?^_`{|}~";

	if (!at || at == address)
		return fail(err, errlen, msg, address);
	ln = (size_t)(at - address);
	if (ln > LOCAL_MAX || ln >= locallen || address[0] == '.' || at[-1] == '.')
		return fail(err, errlen, msg, address);
	for (i = 0; i < ln; i++) {
		char c = address[i];
		if (c == '.' ? address[i + 1] == '.' : !is_atext(c))
			return fail(err, errlen, msg, address);
		local[i] = (char)tolower((unsigned char)c);
	}
	local[ln] = '\0';
	if (valid_domain(at + 1, domain, domainlen, NULL, 0) < 0)
		return fail(err, errlen, msg, address);
	return 0;
}

int valid_date(const char *date, char *err, size_t errlen)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	static const char *msg = "invalid date \"%.32s\": expected a calendar day as YYYY-MM-DD";
	int y, m, d, i, dim;

	if (strlen(date) != 10 || date[4] != '-' || date[7] != '-')
		return fail(err, errlen, msg, date);
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)date[i]))
			return fail(err, errlen, msg, date);
	y = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 + (date[3] - '0');
	m = (date[5] - '0') * 10 + (date[6] - '0');
	d = (date[8] - '0') * 10 + (date[9] - '0');
	if (y < 1970 || m < 1 || m > 12)
		return fail(err, errlen, msg, date);
	dim = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	if (d < 1 || d > dim)
		return fail(err, errlen, msg, date);
	return 0;
}
