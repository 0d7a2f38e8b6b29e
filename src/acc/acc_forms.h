/*
 * acc_forms: what the ACC reads from a request besides the URL: an
 * application/x-www-form-urlencoded body (decoded by libevent's
 * evhttp_parse_query_str) and one cookie from a Cookie header. Pure.
 */
#ifndef HM_ACC_FORMS_H
#define HM_ACC_FORMS_H
#include <stddef.h>
#include <event2/keyvalq_struct.h>

#define ACC_FORM_MAX 8192            /* bytes of a form body */

/* Parse body (len bytes, not NUL-terminated; NULL if len is 0) into q. A body over
 * ACC_FORM_MAX, with a NUL byte or an encoded one (%00), or not
 * urlencoded is refused: -1 (q is empty). Free q with evhttp_clear_headers. */
int acc_form_parse(const char *body, size_t len, struct evkeyvalq *q);
/* The first value of key, or "" if absent. */
const char *acc_form_get(const struct evkeyvalq *q, const char *key);
/* Value of cookie name in a Cookie header ("a=1; b=2") into out: 0, or -1
 * if absent or longer than outlen - 1. */
int acc_cookie_get(const char *header, const char *name, char *out, size_t outlen);

#endif
