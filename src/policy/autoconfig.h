/*
 * autoconfig: the answers mail programs fetch to set themselves up, made
 * from a mailbox's client_settings (client_settings.h):
 *  - Mozilla autoconfig (clientConfig 1.1: Thunderbird, K-9, FairEmail,
 *    Evolution...), with the username as the placeholder %EMAILADDRESS%,
 *    so the answer is the same for every address of the domain;
 *  - Microsoft Autodiscover "POX" (the Outlook response schema 2006a), and
 *    the e-mail address read out of its request.
 * Every value is XML-escaped. Pure: the ACC (src/acc/acc_auto.c) looks the
 * domain up and serves them.
 */
#ifndef HM_AUTOCONFIG_H
#define HM_AUTOCONFIG_H
#include <stddef.h>
#include "policy/client_settings.h"
#include "util/buf.h"

/* cs->username is ignored (the placeholder stands for it); domain is the
 * address's domain, provider the [acc] provider_name, doc_url "" or a page
 * for people. 0, or -1 if b is full or a value cannot be XML. */
int autoconfig_mozilla(struct buf *b, const struct client_settings *cs, const char *domain,
                       const char *provider, const char *doc_url);
/* The Autodiscover answer for cs (LoginName = cs->username). */
int autodiscover_response(struct buf *b, const struct client_settings *cs);
/* The address in an Autodiscover request's <EMailAddress> (any namespace
 * prefix, white space around it trimmed) into out. 0, or -1 if there is
 * none, it is empty or too long, or it holds markup or an entity. */
int autodiscover_request_address(const char *body, size_t len, char *out, size_t outlen);

#endif
