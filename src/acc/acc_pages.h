/*
 * acc_pages: the ACC's HTML, rendered on the server from what a worker
 * loaded into struct acc_req. Every value is HTML-escaped; one inline
 * stylesheet (allowed by its hash in the Content-Security-Policy), no
 * scripts, no external assets, laid out to fit a phone. Each page sets
 * r->status and r->body.
 */
#ifndef HM_ACC_PAGES_H
#define HM_ACC_PAGES_H
#include "acc/acc_int.h"

/* The stylesheet, exactly as it appears between <style> and </style>. */
const char *acc_stylesheet(void);
/* The copy buttons' script, exactly as it appears between <script> and </script>. */
const char *acc_script(void);
/* Append s to b with & < > " ' escaped; -1 if b is full. */
int acc_html_escape(struct buf *b, const char *s);

/* login_token: the token the login form posts back (= the hm_login cookie). */
void acc_page_login(struct acc_req *r, int status, const char *login_token, const char *error);
/* A page with one message; with the navigation when r->logged_in. */
void acc_page_message(struct acc_req *r, int status, const char *title, const char *msg);
void acc_page_overview(struct acc_req *r);
void acc_page_mail(struct acc_req *r);
void acc_page_remove_confirm(struct acc_req *r);
void acc_page_relay(struct acc_req *r);
void acc_page_budget(struct acc_req *r);
void acc_page_account(struct acc_req *r);

/* For the other page files (acc_settings_pages.c): raw HTML (constants
 * and numbers only), an escaped value, a page's start and end, the form's
 * CSRF field, and a link's query value (URI-encoded, then escaped). */
void acc_out(struct acc_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void acc_esc(struct acc_req *r, const char *s);
void acc_begin(struct acc_req *r, int status, const char *title);
void acc_end(struct acc_req *r);
void acc_csrf_field(struct acc_req *r);
void acc_esc_uri(struct acc_req *r, const char *s);
/* A new password typed twice; idp prefixes the inputs' ids. */
void acc_password_inputs(struct acc_req *r, const char *idp);
/* acc_settings_pages.c */
void acc_mailbox_settings(struct acc_req *r, int k);
void acc_page_help(struct acc_req *r, const char *client, const struct acc_mailbox_view *m);

#endif
