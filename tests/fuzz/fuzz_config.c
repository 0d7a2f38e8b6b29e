/*
 * fuzz_config: the INI configuration reader (config_load, libinih plus
 * our key parsers: listen lists, durations, retry schedules, sizes). The
 * input is written to a scratch file. A configuration is trusted input,
 * but a typo must give an error message, never a crash or a half-filled
 * struct: on success every string is NUL-terminated and every list is
 * within its bounds; on failure the error text is set.
 */
#include "util/config.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STR_OK(f) CHECK(memchr((f), '\0', sizeof(f)) != NULL)

static void check_list(const struct listen_list *l)
{
	int i;

	CHECK(l->n >= 0 && l->n <= CFG_MAX_ADDRS);
	for (i = 0; i < l->n; i++) {
		STR_OK(l->a[i].host);
		STR_OK(l->a[i].port);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[300];
	static struct config cfg;
	char err[512];

	if (size > 64 * 1024)
		return 0;
	if (!path[0])
		snprintf(path, sizeof path, "%s/hostmail.ini", fuzz_scratch_dir());
	CHECK(fuzz_write_file(path, data, size) == 0);
	memset(err, 0x5a, sizeof err);
	if (config_load(path, &cfg, err, sizeof err) < 0) {
		STR_OK(err);
		CHECK(err[0] != '\0');
		return 0;
	}
	STR_OK(cfg.hostname);
	STR_OK(cfg.data_dir);
	STR_OK(cfg.user);
	STR_OK(cfg.tls_certificate);
	STR_OK(cfg.tls_key);
	STR_OK(cfg.tls_sni_dir);
	STR_OK(cfg.dns_servers);
	STR_OK(cfg.hostname_legacy_pattern);
	STR_OK(cfg.hostname_pattern);
	STR_OK(cfg.hostname_legacy_cutover);
	check_list(&cfg.smtp);
	check_list(&cfg.submission);
	check_list(&cfg.submissions);
	check_list(&cfg.pop3);
	check_list(&cfg.pop3s);
	check_list(&cfg.acc);
	CHECK(cfg.retry_schedule_n >= 0 && cfg.retry_schedule_n <= 16);
	CHECK(cfg.message_size > 0);
	return 0;
}
