/*
 * fuzz_admin_route: the admin API's router and query reader
 * (admin_route.h) and the JSON writer's escaping (util/jw.h) on any
 * bytes. A matched path's argument is one decoded segment (no '/', no
 * NUL, bounded); a query value likewise; an escaped string holds no raw
 * control byte and no unescaped quote, so a name can never break out of
 * its JSON string.
 */
#include "admin/admin_route.h"
#include "util/jw.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <string.h>

static void check_escape(const char *s)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	CHECK(jw_escape(&b, s) == 0);
	CHECK(b.len >= 2 && b.data[0] == '"' && b.data[b.len - 1] == '"');
	for (i = 1; i + 1 < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];

		CHECK(c >= 0x20 && c != 0x7f);
		if (c == '\\')
			i++;                  /* the escaped byte */
		else
			CHECK(c != '"');
	}
	CHECK(i == b.len - 1);        /* no escape swallowed the closing quote */
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum http_method methods[] = { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE };
	char path[4096], val[128];
	struct admin_match m;
	enum admin_route_result r;

	if (size < 1 || size >= sizeof path)
		return 0;
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	r = admin_route(methods[data[0] % 5], path, &m);
	CHECK(r == ROUTE_OK || r == ROUTE_NOT_FOUND || r == ROUTE_BAD_METHOD || r == ROUTE_BAD_PATH);
	CHECK((r == ROUTE_OK) == (m.route != NULL));
	CHECK(memchr(m.arg, '\0', sizeof m.arg) != NULL && !strchr(m.arg, '/'));
	if (r == ROUTE_OK && strstr(m.route->pattern, "{}"))
		CHECK(m.arg[0] != '\0');
	if (admin_query_get(path, "account", val, sizeof val) == 1)
		CHECK(memchr(val, '\0', sizeof val) != NULL && !strchr(val, '/'));
	check_escape(path);
	return 0;
}
