/*
 * admin_reply: the admin API's answers and request-body reading (admin_reply.h).
 */
#include "admin/admin_reply.h"
#include "store/store.h"
#include "util/config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void admin_error(struct admin_req *r, int status, const char *field, const char *msg)
{
	struct jw j;

	r->status = status;
	buf_reset(&r->out);
	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kstr(&j, "error", msg);
	if (field && *field)
		jw_kstr(&j, "field", field);
	jw_obj_end(&j);
}

static int status_of(int code)
{
	switch (code) {
	case STORE_EINVAL: return 400;
	case STORE_ENOTFOUND: return 404;
	case STORE_EEXIST: return 409;
	default: return 500;
	}
}

void admin_op_error(struct admin_req *r, int code, const struct ops_err *e)
{
	admin_error(r, status_of(code), code == STORE_EINVAL ? e->field : NULL, e->msg);
}

/* 200 (or status) with what the writer j made, if it is whole. */
void admin_ok(struct admin_req *r, int status, const struct jw *j)
{
	if (jw_done(j) < 0)
		admin_error(r, 500, NULL, "the answer could not be made (too large)");
	else
		r->status = status;
}

void admin_ok_empty(struct admin_req *r, int status)
{
	struct jw j;

	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kbool(&j, "ok", 1);
	jw_obj_end(&j);
	admin_ok(r, status, &j);
}

/* ---- the request's JSON ---- */

/* The request's object, or NULL with 400 set. */
json_t *admin_body(struct admin_req *r)
{
	json_error_t je;
	json_t *root;
	char msg[300];

	if (r->body.len == 0) {
		admin_error(r, 400, NULL, "a JSON object is needed as the request's body");
		return NULL;
	}
	if (strncasecmp(r->content_type, "application/json", 16) != 0) {
		admin_error(r, 400, NULL, "Content-Type must be application/json");
		return NULL;
	}
	root = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &je);
	if (!root || !json_is_object(root)) {
		snprintf(msg, sizeof msg, "the body is not a JSON object%s%s", root ? "" : ": ", root ? "" : je.text);
		admin_error(r, 400, NULL, msg);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Member key as a string: 1 and *out; 0 absent (error set if required); -1 wrong type (error set). */
int admin_get_str(struct admin_req *r, json_t *o, const char *key, int required, const char **out)
{
	json_t *v = json_object_get(o, key);
	char msg[128];

	if (!v || json_is_null(v)) {
		if (required) {
			snprintf(msg, sizeof msg, "%s missing", key);
			admin_error(r, 400, key, msg);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(msg, sizeof msg, "%s must be a string", key);
		admin_error(r, 400, key, msg);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int admin_get_bool(struct admin_req *r, json_t *o, const char *key, int *out)
{
	json_t *v = json_object_get(o, key);
	char msg[128];

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(msg, sizeof msg, "%s must be true or false", key);
		admin_error(r, 400, key, msg);
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

/* Only the members named in keys (NULL-terminated): a typo is a 400, not ignored. */
int admin_only(struct admin_req *r, json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;
	char msg[128];

	json_object_foreach(o, k, v) {
		size_t i;

		for (i = 0; keys[i] && strcmp(keys[i], k); i++)
			;
		if (!keys[i]) {
			snprintf(msg, sizeof msg, "unknown member %.80s", k);
			admin_error(r, 400, k, msg);
			return -1;
		}
	}
	return 0;
}
