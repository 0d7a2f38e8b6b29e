/*
 * ctl_token: hostmailctl's token verbs for the admin API (admin/admin_token.h).
 *   token add NAME [--read-only]   print a new token once; only its hash is kept
 *   token list [--json]            NAME rw|ro
 *   token remove NAME
 */
#include "cmd/ctl.h"
#include "admin/admin_token.h"
#include "util/buf.h"
#include "util/jw.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

int ctl_token_add(struct ctl *c, int argc, char **argv)
{
	char token[ADMIN_TOKEN_MAX + 1];
	int ro = 0, rc;

	if (argc == 2 && !strcmp(argv[1], "--read-only"))
		ro = 1;
	else if (argc != 1)
		return fail("token add: usage: token add NAME [--read-only]");
	rc = admin_token_add(c->cfg.data_dir, argv[0], ro, token);
	if (rc == -4)
		return fail("invalid token name %s: use 1 to %d letters, digits, '-' or '_'", argv[0],
		            ADMIN_TOKEN_NAME_MAX);
	if (rc == -3)
		return fail("token %s already exists", argv[0]);
	if (rc < 0)
		return fail("cannot write %s/%s: %s", c->cfg.data_dir, ADMIN_TOKEN_FILE, strerror(errno));
	printf("%s\n", token);
	OPENSSL_cleanse(token, sizeof token);
	return 0;
}

int ctl_token_list(struct ctl *c, int argc, char **argv)
{
	static struct admin_token list[ADMIN_TOKENS_MAX];
	int n = admin_token_load(c->cfg.data_dir, list, ADMIN_TOKENS_MAX);
	struct buf b;
	struct jw j;

	(void)argc, (void)argv;
	if (n < 0)
		return fail("cannot read %s/%s: %s", c->cfg.data_dir, ADMIN_TOKEN_FILE, strerror(errno));
	if (!c->json) {
		for (int i = 0; i < n; i++)
			printf("%s %s\n", list[i].name, list[i].read_only ? "ro" : "rw");
		return 0;
	}
	buf_init(&b, 0);
	jw_init(&j, &b);
	jw_arr(&j);
	for (int i = 0; i < n; i++) {
		jw_obj(&j);
		jw_kstr(&j, "name", list[i].name);
		jw_kbool(&j, "read_only", list[i].read_only);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	return ctl_put_json(&b, &j);
}

int ctl_token_remove(struct ctl *c, int argc, char **argv)
{
	int rc = admin_token_remove(c->cfg.data_dir, argv[0]);

	(void)argc;
	if (rc == -2)
		return fail("token %s does not exist", argv[0]);
	return rc < 0 ? fail("cannot write %s/%s: %s", c->cfg.data_dir, ADMIN_TOKEN_FILE, strerror(errno)) : 0;
}
