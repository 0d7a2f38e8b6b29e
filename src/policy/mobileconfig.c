/*
 * mobileconfig: the Apple profile of one mailbox (see mobileconfig.h).
 * Keys from Apple's "Mail" payload reference (com.apple.mail.managed).
 * UseSSL means TLS either way: Apple Mail starts it on 587 and 110 with
 * STARTTLS and implicitly on 465 and 995.
 */
#include "policy/mobileconfig.h"
#include "util/xml.h"
#include <stdio.h>

static int key_string(struct buf *b, const char *key, const char *value)
{
	if (buf_printf(b, "\t\t\t<key>%s</key>\n\t\t\t", key) < 0 || xml_element(b, "string", value) < 0 ||
	    buf_puts(b, "\n") < 0)
		return -1;
	return 0;
}

static int key_int(struct buf *b, const char *key, int v)
{
	return buf_printf(b, "\t\t\t<key>%s</key>\n\t\t\t<integer>%d</integer>\n", key, v) < 0 ? -1 : 0;
}

static int key_bool(struct buf *b, const char *key, int v)
{
	return buf_printf(b, "\t\t\t<key>%s</key>\n\t\t\t<%s/>\n", key, v ? "true" : "false") < 0 ? -1 : 0;
}

/* One side's servers: host, port, TLS, login. */
static int server_keys(struct buf *b, const char *side, const struct client_settings *cs,
                       const struct cs_server *s)
{
	char k[64];

	snprintf(k, sizeof k, "%sMailServerAuthentication", side);
	if (key_string(b, k, "EmailAuthPassword") < 0)
		return -1;
	snprintf(k, sizeof k, "%sMailServerHostName", side);
	if (key_string(b, k, cs->host) < 0)
		return -1;
	snprintf(k, sizeof k, "%sMailServerPortNumber", side);
	if (key_int(b, k, s->port) < 0)
		return -1;
	snprintf(k, sizeof k, "%sMailServerUseSSL", side);
	if (key_bool(b, k, 1) < 0)
		return -1;
	snprintf(k, sizeof k, "%sMailServerUsername", side);
	return key_string(b, k, cs->username);
}

int mobileconfig_profile(struct buf *b, const struct client_settings *cs, const char *provider,
                         const struct mobileconfig_ids *ids, const char *password)
{
	char name[512], id[512];

	if (cs->nin == 0 || cs->nout == 0)
		return -1;
	snprintf(name, sizeof name, "%s: %s", provider, cs->username);
	snprintf(id, sizeof id, "%s.mail", ids->identifier);
	if (buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	                "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
	                "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
	                "<plist version=\"1.0\">\n<dict>\n\t<key>PayloadContent</key>\n\t<array>\n\t\t<dict>\n") < 0 ||
	    key_string(b, "EmailAccountDescription", cs->username) < 0 ||
	    key_string(b, "EmailAccountType", cs->in[0].proto == CS_IMAP ? "EmailTypeIMAP" : "EmailTypePOP") < 0 ||
	    key_string(b, "EmailAddress", cs->username) < 0 ||
	    server_keys(b, "Incoming", cs, &cs->in[0]) < 0 ||
	    (password && key_string(b, "IncomingPassword", password) < 0) ||
	    server_keys(b, "Outgoing", cs, &cs->out[0]) < 0 ||
	    key_bool(b, "OutgoingPasswordSameAsIncomingPassword", 1) < 0 ||
	    key_string(b, "PayloadDescription", "E-mail account settings") < 0 ||
	    key_string(b, "PayloadDisplayName", cs->username) < 0 ||
	    key_string(b, "PayloadIdentifier", id) < 0 ||
	    key_string(b, "PayloadType", "com.apple.mail.managed") < 0 ||
	    key_string(b, "PayloadUUID", ids->mail_uuid) < 0 ||
	    key_int(b, "PayloadVersion", 1) < 0 ||
	    buf_puts(b, "\t\t</dict>\n\t</array>\n") < 0)
		return -1;
	/* the top level, one tab in: reuse the helpers and accept their indent */
	if (key_string(b, "PayloadDisplayName", name) < 0 ||
	    key_string(b, "PayloadIdentifier", ids->identifier) < 0 ||
	    key_string(b, "PayloadOrganization", provider) < 0 ||
	    key_bool(b, "PayloadRemovalDisallowed", 0) < 0 ||
	    key_string(b, "PayloadType", "Configuration") < 0 ||
	    key_string(b, "PayloadUUID", ids->profile_uuid) < 0 ||
	    key_int(b, "PayloadVersion", 1) < 0 ||
	    buf_puts(b, "</dict>\n</plist>\n") < 0)
		return -1;
	return 0;
}
