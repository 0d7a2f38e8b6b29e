/*
 * http_syntax: the grammar pieces of HTTP/1.1 (RFC 9110, RFC 9112, RFC
 * 3986) that http_parse.c and http_reply.c share: character classes and
 * checks of one request-target, version, field line or field value, each
 * on bytes already cut out of the stream. Private to src/acc/http_*.c.
 */
#ifndef HM_HTTP_SYNTAX_H
#define HM_HTTP_SYNTAX_H
#include <stddef.h>
#include <stdint.h>
#include "acc/http_parse.h"

/* tchar (RFC 9110 5.6.2) */
int http_is_tchar(char c);
/* field-vchar, SP or HTAB: visible ASCII and obs-text (8-bit) */
int http_is_field_char(char c);
/* the length of the run of tchars at s (n bytes at most) */
size_t http_span_token(const char *s, size_t n);

/* origin-form: absolute-path [ "?" query ], well-formed percent-encoding */
int http_valid_target(const char *t, size_t n);
/* 0 for HTTP/1.0 and HTTP/1.1 (*minor set), 505 for another version, 400 for garbage */
int http_check_version(const char *v, size_t n, int *minor);
/* a DNS name or an IP literal in brackets, then an optional port */
int http_valid_host(const char *h);
/* 1*DIGIT without overflow; 0 or -1 */
int http_parse_length(const char *s, uint64_t *v);
/* a Connection list: sets *close and *keep_alive when named; 0 or -1 */
int http_parse_connection(const char *s, int *close, int *keep_alive);

/*
 * Split a field line (no CRLF, len > 0) into name and value, NUL-terminating
 * both in place and trimming the value's OWS. Returns NULL, or why the line
 * is not a field line (obs-fold, white space before the colon...): a 400.
 */
const char *http_split_field(char *line, size_t len, struct http_field *f);

/*
 * A chunk line: chunk-size (1 to 16 hex digits) and extensions (RFC 9112
 * 7.1.1, checked and ignored). Returns NULL and sets *size, or why not: a 400.
 */
const char *http_chunk_line(const char *s, size_t n, uint64_t *size);

#endif
