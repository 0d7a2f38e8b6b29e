/* Unit tests for src/util/jw.c, the JSON writer: escaping and commas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "util/jw.h"

static void test_nested(void **state)
{
	struct buf b;
	struct jw j;

	(void)state;
	buf_init(&b, 0);
	jw_init(&j, &b);
	jw_obj(&j);
	jw_kstr(&j, "name", "acme");
	jw_kint(&j, "n", -7);
	jw_key(&j, "list");
	jw_arr(&j);
	jw_int(&j, 1);
	jw_obj(&j);
	jw_obj_end(&j);
	jw_null(&j);
	jw_bool(&j, 0);
	jw_arr_end(&j);
	jw_kbool(&j, "ok", 1);
	jw_obj_end(&j);
	assert_int_equal(jw_done(&j), 0);
	assert_string_equal(b.data, "{\"name\":\"acme\",\"n\":-7,\"list\":[1,{},null,false],\"ok\":true}");
	buf_free(&b);
}

/* Every byte a client may put in a name comes out as one JSON string:
 * no quote ends it early, no control byte passes raw. */
static void test_escaping(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(jw_escape(&b, "a\"b\\c\nd\re\tf\x01g\x1fh\x7fi\xc3\xa9"), 0);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\\u007fi\xc3\xa9\"");
	buf_free(&b);
}

static void test_unbalanced_and_bounded(void **state)
{
	struct buf b;
	struct jw j;

	(void)state;
	buf_init(&b, 0);
	jw_init(&j, &b);
	jw_arr(&j);
	assert_int_equal(jw_done(&j), -1);      /* not closed */
	jw_arr_end(&j);
	jw_arr_end(&j);
	assert_int_equal(jw_done(&j), -1);      /* closed once too often */
	buf_free(&b);

	buf_init(&b, 8);                        /* an answer over its bound fails whole */
	jw_init(&j, &b);
	jw_arr(&j);
	jw_str(&j, "far too long for eight bytes");
	jw_arr_end(&j);
	assert_int_equal(jw_done(&j), -1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_unbalanced_and_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
