/*
 * autoconfig: Mozilla autoconfig and Autodiscover XML (see autoconfig.h).
 * Formats: https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat
 * and Microsoft's "POX Autodiscover" reference (Protocol, SSL, Encryption).
 */
#include "policy/autoconfig.h"
#include "util/xml.h"
#include <ctype.h>
#include <string.h>

#define AD_RESPONSE_NS "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define AD_OUTLOOK_NS  "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

static int moz_server(struct buf *b, const struct client_settings *cs, const struct cs_server *s, int incoming)
{
	const char *tag = incoming ? "incomingServer" : "outgoingServer";

	if (buf_printf(b, "    <%s type=\"%s\">\n      ", tag, s->proto == CS_POP3 ? "pop3" : s->proto == CS_IMAP ? "imap" : "smtp") < 0 ||
	    xml_element(b, "hostname", cs->host) < 0 ||
	    buf_printf(b, "\n      <port>%d</port>\n      <socketType>%s</socketType>\n"
	                  "      <authentication>password-cleartext</authentication>\n"
	                  "      <username>%%EMAILADDRESS%%</username>\n    </%s>\n",
	               s->port, s->security == CS_SSL ? "SSL" : "STARTTLS", tag) < 0)
		return -1;
	return 0;
}

int autoconfig_mozilla(struct buf *b, const struct client_settings *cs, const char *domain,
                       const char *provider, const char *doc_url)
{
	int i;

	if (buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n"
	                "  <emailProvider id=\"") < 0 || xml_escape(b, domain) < 0 ||
	    buf_puts(b, "\">\n    ") < 0 || xml_element(b, "domain", domain) < 0 ||
	    buf_puts(b, "\n    ") < 0 || xml_element(b, "displayName", provider) < 0 ||
	    buf_puts(b, "\n    ") < 0 || xml_element(b, "displayShortName", provider) < 0 ||
	    buf_puts(b, "\n") < 0)
		return -1;
	for (i = 0; i < cs->nin; i++)
		if (moz_server(b, cs, &cs->in[i], 1) < 0)
			return -1;
	for (i = 0; i < cs->nout; i++)
		if (moz_server(b, cs, &cs->out[i], 0) < 0)
			return -1;
	if (doc_url && *doc_url &&
	    (buf_puts(b, "    <documentation url=\"") < 0 || xml_escape(b, doc_url) < 0 ||
	     buf_puts(b, "\">\n      <descr lang=\"en\">Settings and help</descr>\n    </documentation>\n") < 0))
		return -1;
	return buf_puts(b, "  </emailProvider>\n</clientConfig>\n");
}

static int ad_protocol(struct buf *b, const struct client_settings *cs, const struct cs_server *s)
{
	if (buf_printf(b, "      <Protocol>\n        <Type>%s</Type>\n        ", cs_proto_name(s->proto)) < 0 ||
	    xml_element(b, "Server", cs->host) < 0 ||
	    buf_printf(b, "\n        <Port>%d</Port>\n        ", s->port) < 0 ||
	    xml_element(b, "LoginName", cs->username) < 0 ||
	    buf_printf(b, "\n        <DomainRequired>off</DomainRequired>\n        <SPA>off</SPA>\n"
	                  "        <SSL>on</SSL>\n        <Encryption>%s</Encryption>\n"
	                  "        <AuthRequired>on</AuthRequired>\n%s      </Protocol>\n",
	               s->security == CS_SSL ? "SSL" : "TLS",
	               s->proto == CS_SMTP ? "        <UsePOPAuth>on</UsePOPAuth>\n" : "") < 0)
		return -1;
	return 0;
}

int autodiscover_response(struct buf *b, const struct client_settings *cs)
{
	/* Outlook takes the first Protocol of each Type: the recommended one */
	if (buf_puts(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"" AD_RESPONSE_NS "\">\n"
	                "  <Response xmlns=\"" AD_OUTLOOK_NS "\">\n    <User>\n      ") < 0 ||
	    xml_element(b, "DisplayName", cs->username) < 0 ||
	    buf_puts(b, "\n    </User>\n    <Account>\n      <AccountType>email</AccountType>\n"
	                "      <Action>settings</Action>\n") < 0)
		return -1;
	if (cs->nin && ad_protocol(b, cs, &cs->in[0]) < 0)
		return -1;
	if (cs->nout && ad_protocol(b, cs, &cs->out[0]) < 0)
		return -1;
	return buf_puts(b, "    </Account>\n  </Response>\n</Autodiscover>\n");
}

/* The start of an element named name, with or without a prefix: "<name>"
 * or "<p:name>". The position after '>', or NULL. */
static const char *open_tag(const char *s, const char *end, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = s; p < end; p++) {
		const char *q;

		if (*p != '<')
			continue;
		q = p + 1;
		while (q < end && (isalnum((unsigned char)*q) || *q == '_' || *q == '-' || *q == '.'))
			q++;
		if (q < end && *q == ':')
			q++;
		else
			q = p + 1;
		if ((size_t)(end - q) > nl && memcmp(q, name, nl) == 0 && q[nl] == '>')
			return q + nl + 1;
	}
	return NULL;
}

int autodiscover_request_address(const char *body, size_t len, char *out, size_t outlen)
{
	const char *end = body + len, *v = open_tag(body, end, "EMailAddress"), *e;
	size_t n;

	if (!v)
		return -1;
	for (e = v; e < end && *e != '<'; e++)
		if (*e == '&' || *e == '>' || *e == '\0')
			return -1;
	if (e == end)
		return -1;
	while (v < e && isspace((unsigned char)*v))
		v++;
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - v);
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}
