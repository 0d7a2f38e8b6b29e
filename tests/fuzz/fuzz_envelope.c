/*
 * fuzz_envelope: the queue envelope reader (envelope_load), which the
 * runner and hostmailctl run on every file in queue/env after a crash,
 * a disk fault or an operator's edit. The input is written as
 * queue/env/ID in a scratch queue. Checks: a loaded envelope has bounded,
 * NUL-terminated fields; its header formats as printable ASCII, one record
 * per line (a CR or LF in a value, which %0D/%0A may carry, stays encoded:
 * the format stores any value faithfully, test_queue.c relies on it) and
 * reloads to the same values; a progress record appended to it (after any
 * torn tail) reads back.
 */
#include "queue/queue.h"
#include "queue/queue_priv.h"
#include "util/buf.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char qdir[512], id[QUEUE_ID_LEN + 1], path[700];

static void check_str(const char *s, size_t cap)
{
	CHECK(memchr(s, '\0', cap) != NULL);
}

static void check_env(const struct envelope *e)
{
	size_t i;

	CHECK(strcmp(e->id, id) == 0);
	check_str(e->sender, sizeof e->sender);
	check_str(e->client_ip, sizeof e->client_ip);
	check_str(e->helo, sizeof e->helo);
	check_str(e->account, sizeof e->account);
	CHECK(e->nrcpt <= QUEUE_MAX_RCPT && (e->nrcpt == 0 || e->rcpt != NULL));
	for (i = 0; i < e->nrcpt; i++) {
		check_str(e->rcpt[i].addr, sizeof e->rcpt[i].addr);
		check_str(e->rcpt[i].reason, sizeof e->rcpt[i].reason);
		CHECK(e->rcpt[i].state == RCPT_PENDING || e->rcpt[i].state == RCPT_DONE ||
		      e->rcpt[i].state == RCPT_FAILED);
	}
}

static void roundtrip(const struct envelope *e)
{
	struct envelope b;
	struct buf out;
	size_t i;

	/* written back as version 1 (no message bytes to carry along) */
	buf_init(&out, 64 << 20);
	CHECK(buf_puts(&out, "V 1\n") == 0 && env_format(&out, e) == 0);
	for (i = 0; i < out.len; i++)
		CHECK(out.data[i] == '\n' || (out.data[i] >= 0x20 && out.data[i] < 0x7f));
	CHECK(fuzz_write_file(path, out.data, out.len) == 0);
	buf_free(&out);
	CHECK(envelope_load(qdir, id, &b) == 0);
	CHECK(strcmp(b.sender, e->sender) == 0 && strcmp(b.client_ip, e->client_ip) == 0);
	CHECK(strcmp(b.helo, e->helo) == 0 && strcmp(b.account, e->account) == 0);
	CHECK(b.size == e->size && b.arrival == e->arrival && b.nrcpt == e->nrcpt);
	for (i = 0; i < b.nrcpt; i++) {
		CHECK(strcmp(b.rcpt[i].addr, e->rcpt[i].addr) == 0);
		CHECK(b.rcpt[i].local == e->rcpt[i].local);
		CHECK(b.rcpt[i].state == RCPT_PENDING);
	}
	envelope_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope e;

	if (size > 256 * 1024)
		return 0;
	if (!qdir[0]) {
		snprintf(qdir, sizeof qdir, "%s/queue", fuzz_scratch_dir());
		CHECK(queue_init(qdir) == 0);
		/* the id the seeds' "I" records carry (seeds.py) */
		snprintf(id, sizeof id, "%s", "0000000000000000ABCD");
		CHECK(queue_id_valid(id));
		snprintf(path, sizeof path, "%s/env/%s", qdir, id);
	}
	CHECK(fuzz_write_file(path, data, size) == 0);
	if (envelope_load(qdir, id, &e) < 0)
		return 0;
	check_env(&e);
	if (e.nrcpt > 0) {
		/* append a progress record to the file as the runner would */
		size_t last = e.nrcpt - 1;
		struct envelope f;
		int was_failed = e.rcpt[last].state == RCPT_FAILED;
		CHECK(envelope_mark_done(qdir, id, last) == 0);
		CHECK(envelope_load(qdir, id, &f) == 0);
		check_env(&f);
		CHECK(f.nrcpt == e.nrcpt);
		CHECK(f.rcpt[last].state == RCPT_DONE || was_failed);
		envelope_free(&f);
	}
	roundtrip(&e);
	envelope_free(&e);
	return 0;
}
