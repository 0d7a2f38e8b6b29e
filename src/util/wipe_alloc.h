/*
 * wipe_alloc: libevent and OpenSSL free their memory wiped. Client input
 * (AUTH lines, POP3 PASS, message data) passes through libevent's buffer
 * chains and OpenSSL's record buffers; freed unwiped, a password would
 * linger in the heap until reused and show in a core dump. Installed once,
 * first thing in main, before either library allocates.
 */
#ifndef HM_WIPE_ALLOC_H
#define HM_WIPE_ALLOC_H

/* 0, or -1 if a library had allocated already (its memory is then not wiped). */
int wipe_alloc_install(void);

#endif
