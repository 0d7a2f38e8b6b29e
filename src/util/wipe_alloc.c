/* wipe_alloc: wiping allocators for libevent and OpenSSL (see wipe_alloc.h). */
#include "util/wipe_alloc.h"
#include <event2/event.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static void wipe_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

/* realloc that leaves no copy behind: a new block, the old one wiped. */
static void *wipe_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(n);
	if (n == 0) {
		wipe_free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	if (n <= old)
		return p;                  /* shrinking in place: the tail stays ours */
	if (!(q = malloc(n)))
		return NULL;
	memcpy(q, p, old);
	wipe_free(p);
	return q;
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return wipe_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	wipe_free(p);
}

int wipe_alloc_install(void)
{
	event_set_mem_functions(malloc, wipe_realloc, wipe_free);
	return CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) ? 0 : -1;
}
