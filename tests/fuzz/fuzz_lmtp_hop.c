/*
 * fuzz_lmtp_hop: src/cluster/lmtp_proto.c, what a node reads from bytes
 * another node (or, through it, the internet) sent: the hop headers of a
 * message's header section, LMTP reply lines, the dedup key. Checks: the
 * hop count never exceeds the header lines, the id is NUL-terminated and
 * only letters, digits and dots; a hop header we format scans back as one
 * hop with our id on top of any input; a reply line's code is 200-599 and
 * its text lies inside the line; the dedup key is 64 hex digits.
 */
#include "cluster/lmtp_proto.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_id(const char *id)
{
	CHECK(memchr(id, '\0', LMTP_HOP_ID_MAX) != NULL);
	for (const char *p = id; *p; p++)
		CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '.');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lmtp_hop hop;
	char hdr[200], key[65], *buf, *line;
	const char *text;
	size_t lines = 1;
	int code, last, n;

	lmtp_hop_scan((const char *)data, size, &hop);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	CHECK(hop.count >= 0 && (size_t)hop.count <= lines);
	check_id(hop.id);
	/* our own header on top of whatever follows */
	n = lmtp_hop_format(hdr, sizeof hdr, 11, 13, "0TPKNXCBXL8006E60000");
	CHECK(n > 0);
	if (!(buf = malloc((size_t)n + size + 1)))
		return 0;
	memcpy(buf, hdr, (size_t)n);
	memcpy(buf + n, data, size);
	lmtp_hop_scan(buf, (size_t)n + size, &hop);
	CHECK(hop.count >= 1 && strcmp(hop.id, "11.0TPKNXCBXL8006E60000") == 0);
	/* the input as one reply line */
	if ((line = malloc(size + 1))) {
		memcpy(line, data, size);
		line[size] = '\0';
		if (lmtp_reply_line(line, &code, &last, &text) == 0) {
			CHECK(code >= 200 && code <= 599);
			CHECK(text >= line + 3 && text <= line + strlen(line));
		}
		lmtp_dedup_key(line, hop.id, key);
		CHECK(strlen(key) == 64 && strspn(key, "0123456789abcdef") == 64);
		free(line);
	}
	free(buf);
	return 0;
}
