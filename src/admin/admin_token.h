/*
 * admin_token: the admin API's bearer tokens. A token is "NAME.SECRET",
 * SECRET 64 hex digits (256 random bits), shown once by `hostmailctl
 * token add`; the node keeps only its SHA-256 (a fast hash is right for
 * 256 random bits: nothing to guess) in data_dir/admin_tokens, one line
 * a token: "NAME rw|ro HEX-SHA256". The NAME in a token is only a hint
 * for the log: a token is valid when its whole hash matches a line,
 * compared in constant time. Tokens are per node (the file is in the
 * data directory), like the queue. docs/admin-api.md.
 */
#ifndef HM_ADMIN_TOKEN_H
#define HM_ADMIN_TOKEN_H
#include <stddef.h>

#define ADMIN_TOKEN_FILE "admin_tokens"
#define ADMIN_TOKEN_NAME_MAX 32
#define ADMIN_TOKEN_SECRET_HEX 64
#define ADMIN_TOKEN_MAX (ADMIN_TOKEN_NAME_MAX + 1 + ADMIN_TOKEN_SECRET_HEX)
#define ADMIN_TOKENS_MAX 256

struct admin_token {
	char name[ADMIN_TOKEN_NAME_MAX + 1];
	int read_only;
	unsigned char hash[32];
};

/* pure */
/* [A-Za-z0-9_-]{1,32}: 1, else 0. */
int admin_token_name_valid(const char *name);
/* One line of the file (no line end): 0, or -1 if it is not one. */
int admin_token_parse_line(const char *line, struct admin_token *t);
/* The file's line for t, "\n" included, into out; -1 if it does not fit. */
int admin_token_format_line(const struct admin_token *t, char *out, size_t len);
void admin_token_hash(const char *token, unsigned char out[32]);
/* Which of list[n] token is: its index; -1 unknown. *named_known: the
 * name part of token is the name of one of them (a wrong secret), so the
 * log may say which name was tried (otherwise "unknown"). */
int admin_token_match(const struct admin_token *list, size_t n, const char *token, int *named_known);

/* data_dir/admin_tokens: every token into out (at most max), their count,
 * 0 when there is no file; -1 + errno. */
int admin_token_load(const char *data_dir, struct admin_token *out, size_t max);
/* A new token NAME (0 or 1 read_only) into token (ADMIN_TOKEN_MAX + 1
 * bytes). 0; -3 the name is taken; -4 bad name; -1 + errno. */
int admin_token_add(const char *data_dir, const char *name, int read_only, char *token);
/* 0; -2 no such token; -1 + errno. */
int admin_token_remove(const char *data_dir, const char *name);

#endif
