/*
 * acc_dns: the ACC's DNS pages (routes in acc_server.c): /dns shows, for
 * each domain of the logged-in account, the records to publish in zone
 * syntax (the same as hostmailctl domain dns); /dns/check?domain=D looks
 * them up in DNS and says which are there, missing or wrong.
 */
#ifndef HM_ACC_DNS_H
#define HM_ACC_DNS_H
#include "acc/acc_int.h"

/* On a worker: the store, and for the check blocking DNS lookups
 * (delivery/dns_sync.h, a few seconds at most). */
void acc_work_dns(struct acc_req *r);
void acc_work_dns_check(struct acc_req *r);

#endif
