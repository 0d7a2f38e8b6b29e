/*
 * jw: a small JSON writer onto a struct buf (util/buf.h), for the admin
 * API's answers and hostmailctl --json. Strings are escaped per RFC 8259
 * (quote, backslash, every control byte; bytes >= 0x80 pass as they are,
 * so valid UTF-8 stays valid). Commas are the writer's business: call
 * key/value functions in order and it places them. Pure: no I/O.
 */
#ifndef HM_JW_H
#define HM_JW_H
#include <stddef.h>
#include "util/buf.h"

#define JW_DEPTH_MAX 16

struct jw {
	struct buf *b;
	int depth;
	int count[JW_DEPTH_MAX];  /* members written at each level */
	int after_key;              /* a key was written: the value needs no comma */
	int err;                    /* an append failed or the nesting is wrong */
};

void jw_init(struct jw *j, struct buf *b);
void jw_obj(struct jw *j);       /* { */
void jw_obj_end(struct jw *j);   /* } */
void jw_arr(struct jw *j);       /* [ */
void jw_arr_end(struct jw *j);   /* ] */
void jw_key(struct jw *j, const char *key);
void jw_str(struct jw *j, const char *s);
void jw_int(struct jw *j, long long v);
void jw_bool(struct jw *j, int v);
void jw_null(struct jw *j);
/* Shorthands: key then value. */
void jw_kstr(struct jw *j, const char *key, const char *s);
void jw_kint(struct jw *j, const char *key, long long v);
void jw_kbool(struct jw *j, const char *key, int v);
/* 0 if everything was written and every object and array closed, else -1. */
int jw_done(const struct jw *j);
/* s as a JSON string (quotes included) onto b; 0 or -1. */
int jw_escape(struct buf *b, const char *s);

#endif
