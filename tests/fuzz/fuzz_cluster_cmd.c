/*
 * fuzz_cluster_cmd: the commands another node sends to the internal
 * endpoint ([listen] pop3_cluster): "XLOGIN mailbox client-address"
 * (pop3/pop3_proxy_home.c) and "XMOVE PUT|DROP ..." (cluster/move_recv.c).
 * Checks: whatever parses has a mailbox with '@', a client address that is
 * an IP address; a PUT has new or cur, a file name a move may carry (no
 * '/', no leading '.', printable) and a size below 2^40; the outputs are
 * NUL-terminated; a PUT we format from the parsed fields parses back to
 * the same fields.
 */
#include "cluster/move_recv.h"
#include "pop3/pop3_proxy.h"
#include "fuzz_common.h"
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), mailbox[320], ip[64], again[1024], hex[65];
	unsigned char a[16];
	struct move_cmd c, d;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (pop3_xlogin_parse(line, mailbox, ip) == 0) {
		CHECK(memchr(mailbox, '\0', sizeof mailbox) && memchr(ip, '\0', sizeof ip));
		CHECK(strchr(mailbox, '@'));
		CHECK(inet_pton(AF_INET, ip, a) == 1 || inet_pton(AF_INET6, ip, a) == 1);
	}
	if (move_cmd_parse(line, &c) == 0) {
		CHECK(memchr(c.mailbox, '\0', sizeof c.mailbox) && strchr(c.mailbox, '@'));
		if (!c.drop) {
			CHECK(!strcmp(c.sub, "new") || !strcmp(c.sub, "cur"));
			CHECK(move_name_ok(c.name));
			CHECK(c.size < (1ULL << 40));
			for (int i = 0; i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02x", c.sha256[i]);
			snprintf(again, sizeof again, "XMOVE PUT %s %s %s %llu %s", c.mailbox, c.sub, c.name, c.size, hex);
			CHECK(move_cmd_parse(again, &d) == 0);
			CHECK(!d.drop && !strcmp(d.mailbox, c.mailbox) && !strcmp(d.sub, c.sub) && !strcmp(d.name, c.name));
			CHECK(d.size == c.size && !memcmp(d.sha256, c.sha256, 32));
		}
	}
	free(line);
	return 0;
}
