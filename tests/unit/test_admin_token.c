/* Unit tests for src/admin/admin_token.c: the token file's lines, the
 * match, and add/list/remove in a scratch data directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>
#include "admin/admin_token.h"
#include "tmpdir.h"

static void test_lines(void **state)
{
	struct admin_token t, u;
	char line[200];

	(void)state;
	assert_int_equal(admin_token_parse_line(
		"panel rw 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", &t), 0);
	assert_string_equal(t.name, "panel");
	assert_false(t.read_only);
	assert_int_equal(t.hash[1], 0x11);
	assert_int_equal(admin_token_format_line(&t, line, sizeof line), 0);
	line[strcspn(line, "\n")] = '\0';
	assert_int_equal(admin_token_parse_line(line, &u), 0);
	assert_memory_equal(&t, &u, sizeof t);
	assert_int_equal(admin_token_parse_line("x ro 0011", &t), -1);
	assert_int_equal(admin_token_parse_line(
		"bad.name rw 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", &t), -1);
	assert_int_equal(admin_token_parse_line(
		"x rx 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", &t), -1);
	assert_int_equal(admin_token_parse_line(
		"x ro 00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff", &t), -1);
	assert_true(admin_token_name_valid("ci_panel-2"));
	assert_false(admin_token_name_valid(""));
	assert_false(admin_token_name_valid("a b"));
	assert_false(admin_token_name_valid("a.b"));
}

static void test_add_match_remove(void **state)
{
	char *dir = tmpdir_make("admtok"), tok[ADMIN_TOKEN_MAX + 1], tok2[ADMIN_TOKEN_MAX + 1], bad[ADMIN_TOKEN_MAX + 1];
	struct admin_token list[ADMIN_TOKENS_MAX];
	char path[512];
	struct stat st;
	int named, n;

	*state = dir;
	assert_int_equal(admin_token_load(dir, list, ADMIN_TOKENS_MAX), 0);   /* no file: none */
	assert_int_equal(admin_token_add(dir, "panel", 0, tok), 0);
	assert_int_equal(strlen(tok), strlen("panel.") + 64);
	assert_int_equal(admin_token_add(dir, "watch", 1, tok2), 0);
	assert_int_equal(admin_token_add(dir, "panel", 1, bad), -3);
	assert_int_equal(admin_token_add(dir, "no good", 1, bad), -4);
	snprintf(path, sizeof path, "%s/%s", dir, ADMIN_TOKEN_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	n = admin_token_load(dir, list, ADMIN_TOKENS_MAX);
	assert_int_equal(n, 2);
	assert_int_equal(admin_token_match(list, (size_t)n, tok, &named), 0);
	assert_int_equal(admin_token_match(list, (size_t)n, tok2, &named), 1);
	assert_true(list[1].read_only);
	/* a wrong secret under a known name: refused, and the name may be logged */
	snprintf(bad, sizeof bad, "%s", tok);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
	assert_int_equal(admin_token_match(list, (size_t)n, bad, &named), -1);
	assert_true(named);
	assert_int_equal(admin_token_match(list, (size_t)n, "stranger.00", &named), -1);
	assert_false(named);
	assert_int_equal(admin_token_match(list, (size_t)n, "", &named), -1);
	/* the file holds no secret */
	{
		FILE *f = fopen(path, "r");
		char text[1024] = "";
		size_t len = fread(text, 1, sizeof text - 1, f);

		fclose(f);
		text[len] = '\0';
		assert_null(strstr(text, strchr(tok, '.') + 1));
	}
	assert_int_equal(admin_token_remove(dir, "panel"), 0);
	assert_int_equal(admin_token_remove(dir, "panel"), -2);
	n = admin_token_load(dir, list, ADMIN_TOKENS_MAX);
	assert_int_equal(n, 1);
	assert_int_equal(admin_token_match(list, (size_t)n, tok, &named), -1);
	assert_int_equal(admin_token_match(list, (size_t)n, tok2, &named), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test_teardown(test_add_match_remove, tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
