/*
 * settings_json: client_settings as a JSON object (see settings_json.h).
 */
#include "policy/settings_json.h"

int json_string(struct buf *b, const char *s)
{
	if (buf_puts(b, "\"") < 0)
		return -1;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		int r;

		if (ch == '"' || ch == '\\')
			r = buf_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			r = buf_printf(b, "\\u%04x", ch);
		else
			r = buf_append(b, s, 1);
		if (r < 0)
			return -1;
	}
	return buf_puts(b, "\"");
}

static int servers(struct buf *b, const char *name, const struct client_settings *cs,
                   const struct cs_server *list, int n)
{
	if (buf_printf(b, ",\"%s\":[", name) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (buf_printf(b, "%s{\"protocol\":\"%s\",\"host\":", i ? "," : "", cs_proto_name(list[i].proto)) < 0 ||
		    json_string(b, cs->host) < 0 ||
		    buf_printf(b, ",\"port\":%d,\"security\":\"%s\",\"authentication\":\"password\","
		                  "\"username\":", list[i].port, cs_security_name(list[i].security)) < 0 ||
		    json_string(b, cs->username) < 0 ||
		    buf_printf(b, ",\"recommended\":%s}", i == 0 ? "true" : "false") < 0)
			return -1;
	}
	return buf_puts(b, "]");
}

int settings_json(struct buf *b, const struct client_settings *cs)
{
	if (buf_puts(b, "{\"username\":") < 0 || json_string(b, cs->username) < 0 ||
	    buf_puts(b, ",\"host\":") < 0 || json_string(b, cs->host) < 0 ||
	    servers(b, "incoming", cs, cs->in, cs->nin) < 0 ||
	    servers(b, "outgoing", cs, cs->out, cs->nout) < 0 ||
	    buf_printf(b, ",\"max_message_size\":%llu,\"pop_before_smtp_minutes\":%d}\n",
	               (unsigned long long)cs->max_size, cs->pop_before_smtp_minutes) < 0)
		return -1;
	return 0;
}
