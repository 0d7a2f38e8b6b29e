/*
 * pop3_update: the UPDATE state's decision (pop3_update.h). Anything
 * uncertain keeps the messages: a client told -ERR at QUIT deletes them
 * again at its next session (RFC 1939 allows the -ERR), whereas a file
 * removed after a move copied it is back for good at the new home.
 */
#include "pop3/pop3_update.h"
#include "store/store.h"
#include <stddef.h>

enum pop3_update_verdict pop3_update_decide(const struct pop3_update_facts *f)
{
	if (f->cluster_node <= 0)
		return POP3_UPDATE_REMOVE;
	if (!f->locked)
		return POP3_UPDATE_TEMPFAIL;
	if (f->move_rc == 0)
		return POP3_UPDATE_MOVING;
	if (f->move_rc != STORE_ENOTFOUND)
		return POP3_UPDATE_TEMPFAIL;
	if (f->account_rc == STORE_ENOTFOUND)
		return POP3_UPDATE_REMOVE;       /* the account is gone: nothing moves it */
	if (f->account_rc != 0)
		return POP3_UPDATE_TEMPFAIL;
	if (f->server_number > 0 && f->server_number != f->cluster_node)
		return POP3_UPDATE_MOVING;       /* moved away since the login */
	return POP3_UPDATE_REMOVE;
}

const char *pop3_update_refusal(enum pop3_update_verdict v)
{
	switch (v) {
	case POP3_UPDATE_MOVING:
		return "-ERR [SYS/TEMP] deleted messages not removed: your mailbox is being moved, "
		       "try again in a few minutes";
	case POP3_UPDATE_TEMPFAIL:
		return "-ERR [SYS/TEMP] deleted messages not removed, try again later";
	case POP3_UPDATE_REMOVE:
		break;
	}
	return NULL;
}
