# hostmail build. `make` builds build/hostmaild and build/hostmailctl.
# `make run` and `make test` first install missing Debian packages.

CC      ?= cc
PKGS     = libevent libevent_pthreads libevent_openssl inih sqlite3 libpq libcrypt openssl libcares jansson
CFLAGS  ?= -O2 -g
XCFLAGS  = $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -pthread -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread

BUILD   ?= build
LIB_SRC  = $(filter-out src/cmd/%,$(wildcard src/*/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BUILD)/hostmaild $(BUILD)/hostmailctl

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libhostmail.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/hostmaild: $(BUILD)/src/cmd/hostmaild.o $(BUILD)/libhostmail.a
	$(CC) $(XCFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/hostmailctl: $(BUILD)/src/cmd/hostmailctl.o $(BUILD)/src/cmd/ctl_queue.o $(BUILD)/src/cmd/ctl_db.o $(BUILD)/src/cmd/ctl_dkim.o $(BUILD)/src/cmd/ctl_dovecot.o $(BUILD)/src/cmd/ctl_token.o $(BUILD)/src/cmd/ctl_help.o $(BUILD)/src/cmd/ctl_alias.o $(BUILD)/src/cmd/ctl_quota.o $(BUILD)/src/cmd/ctl_spam.o $(BUILD)/src/cmd/ctl_node.o $(BUILD)/src/cmd/ctl_move.o $(BUILD)/libhostmail.a
	$(CC) $(XCFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libhostmail.a
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# libopendkim is the independent signer our DKIM signatures are compared
# with (docs/dkim.md says why it does not sign for the daemon)
$(BUILD)/tests/test_dkim_sign: LDLIBS += -lopendkim

deps:
	@bash scripts/deps.sh

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# The same unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
# (with LeakSanitizer); integration-asan runs the whole integration suite
# against daemons built so: any report in a daemon's log fails its test.
ASAN_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
unit-asan:
	$(MAKE) BUILD=build/asan CFLAGS="$(ASAN_CFLAGS)" unit

integration-asan:
	$(MAKE) BUILD=build/asan CFLAGS="$(ASAN_CFLAGS)" integration

# ThreadSanitizer: the unit tests, then a short integration run of the
# files that work the worker pool hardest (SMTP, POP3, the ACC, the
# connection layer), against daemons built with -fsanitize=thread in
# build/tsan. Any report fails the target: a unit test exits with TSan's
# exitcode, a daemon's report lands in its log, which fails its test
# (conftest.py, as for ASan). Run under `setarch -R` where the kernel
# allows it: TSan's shadow memory needs a fixed layout, and with many
# bits of mmap randomization it stops with "unexpected memory mapping".
# Slow (minutes), so not part of `make test`.
TSAN_CFLAGS   = -O1 -g -fsanitize=thread -fno-omit-frame-pointer
TSAN_RUN      = TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 $(TSAN_OPTIONS)" \
                $(shell setarch $$(uname -m) -R true 2>/dev/null && echo setarch $$(uname -m) -R)
TSAN_TESTS   ?= test_smtp.py test_pop3.py test_acc.py test_conn.py
unit-tsan:
	$(TSAN_RUN) $(MAKE) BUILD=build/tsan CFLAGS="$(TSAN_CFLAGS)" unit

integration-tsan:
	$(MAKE) BUILD=build/tsan CFLAGS="$(TSAN_CFLAGS)" all
	cd tests/integration && HOSTMAIL_BUILD=$(abspath build/tsan) $(TSAN_RUN) /usr/bin/python3 -m pytest -q \
		-p no:cacheprovider -n 2 --basetemp=$(abspath build/tsan)/pytest-tmp $(TSAN_TESTS)

test-tsan: unit-tsan integration-tsan

# The store's unit tests once more on PostgreSQL: tests/pg/pgctl.sh makes a
# private cluster (initdb in /tmp, a Unix socket only), sets
# HOSTMAIL_TEST_PG_DSN for the run and removes the cluster afterwards.
STORE_UNIT_BIN = $(filter $(BUILD)/tests/test_store%,$(UNIT_BIN))
unit-pg: $(STORE_UNIT_BIN)
	@bash tests/pg/pgctl.sh run sh -c 'set -e; for t in $(STORE_UNIT_BIN); do echo "== $$t"; $$t; done'

unit-pg-asan:
	$(MAKE) BUILD=build/asan CFLAGS="$(ASAN_CFLAGS)" unit-pg

# Fuzzing: libFuzzer harnesses tests/fuzz/fuzz_*.c (clang, ASan + UBSan),
# one per parser of untrusted bytes; see docs/fuzzing.md. The library is
# rebuilt with clang into $(BUILD)/fuzz. `make fuzz` runs each harness for
# FUZZ_SECONDS, `make fuzz-quick` (part of `make test`) for FUZZ_QUICK_SECONDS, FUZZ_JOBS
# at a time; both replay every kept crash in tests/fuzz/regressions/ first,
# and fail on any crash. `make fuzz-regress` only replays seeds and crashes.
FUZZ_SECONDS ?= 60
# 20 harnesses, 2 at a time: 10 s each keeps make test well inside its 20 minutes
FUZZ_QUICK_SECONDS ?= 10
FUZZ_JOBS    ?= 2
FUZZ_CC      ?= clang
FUZZ_SRC      = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES    = $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_BIN      = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzzers/%)
FUZZ_FLAGS    = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
                -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION

$(BUILD)/fuzzers/%: tests/fuzz/%.c tests/fuzz/fuzz_common.h tests/fuzz/fuzz_client.h tests/fuzz/fuzz_server.h $(BUILD)/libhostmail.a
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -Itests/fuzz -fsanitize=fuzzer -o $@ $< $(BUILD)/libhostmail.a $(LDLIBS)

fuzz-bins: $(FUZZ_BIN)

fuzz-build:
	$(MAKE) BUILD=$(BUILD)/fuzz CC=$(FUZZ_CC) CFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" fuzz-bins

fuzz: fuzz-build
	@FUZZ_JOBS=$(FUZZ_JOBS) bash tests/fuzz/run.sh $(BUILD)/fuzz/fuzzers $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-quick: fuzz-build
	@FUZZ_JOBS=$(FUZZ_JOBS) bash tests/fuzz/run.sh $(BUILD)/fuzz/fuzzers $(FUZZ_QUICK_SECONDS) $(FUZZ_NAMES)

fuzz-regress: fuzz-build
	@FUZZ_JOBS=$(FUZZ_JOBS) bash tests/fuzz/run.sh $(BUILD)/fuzz/fuzzers 0 $(FUZZ_NAMES)

# testssl.sh against every TLS listener of a daemon the script starts (slow).
test-tls: all
	@bash tests/tls_scan.sh $(BUILD)

# The fault-injection shim (LD_PRELOAD) of tests/integration/test_faults.py;
# plain flags, never sanitizers: it is preloaded ahead of everything.
$(BUILD)/faultfs.so: tests/faults/faultfs.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -fPIC -shared -o $@ $< -ldl -pthread

# TEST_JOBS tests at a time (pytest-xdist): most of a test is waiting for
# a daemon's timers and replies, so 4 fit on 2 cores. The temporary
# directories are the build's own: a pytest started elsewhere on the
# machine makes /tmp/pytest-of-USER 0700 again, which would lock the
# daemons (running as the hostmail user) out of their data directories.
TEST_JOBS ?= 4
integration: all $(BUILD)/faultfs.so
	cd tests/integration && HOSTMAIL_BUILD=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		-n $(TEST_JOBS) --basetemp=$(abspath $(BUILD))/pytest-tmp

# The same suite with every daemon's store in PostgreSQL
# (HOSTMAIL_TEST_STORE=postgresql): each test process starts one private
# cluster (tests/pg/pgctl.sh: initdb in /tmp, a Unix socket only) and gives
# every daemon a new database with `hostmailctl db init`; tests about the
# SQLite file itself are skipped with that reason. It takes about as long
# as `make integration` (3m51s against 3m23s with 2 workers on 2 shared
# cores), so `make test` runs the whole of it: about 4 more minutes on
# the ~9 of make test, under the 20 allowed. See docs/cluster.md.
integration-pg: all $(BUILD)/faultfs.so
	cd tests/integration && HOSTMAIL_TEST_STORE=postgresql HOSTMAIL_BUILD=$(abspath $(BUILD)) \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider -n $(TEST_JOBS) --basetemp=$(abspath $(BUILD))/pytest-tmp-pg

# Benchmarks against Postfix (bench/run installs Postfix, a private instance
# on loopback high ports); see docs/performance.md. `make test` runs only the
# smoke variant: every scenario tiny, checking that it all works.
bench: all
	HOSTMAIL_BUILD=$(abspath $(BUILD)) bench/run

bench-smoke: all
	HOSTMAIL_BUILD=$(abspath $(BUILD)) bench/run --smoke

# The store's hot calls per second, SQLite and a private PostgreSQL
# (bench/store_bench.c; THREADS, CALLS); see docs/cluster.md.
$(BUILD)/store_bench: bench/store_bench.c $(BUILD)/libhostmail.a
	$(CC) $(XCFLAGS) -o $@ $^ $(LDLIBS)

bench-store: $(BUILD)/store_bench
	@d=$$(mktemp -d /tmp/hm-bench-XXXXXX) && bash tests/pg/pgctl.sh run sh -c '$(BUILD)/store_bench '"$$d"' "$$HOSTMAIL_TEST_PG_DSN"'; rc=$$?; rm -rf "$$d"; exit $$rc

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) unit-pg
	$(MAKE) unit-pg-asan
	$(MAKE) fuzz-quick
	$(MAKE) integration
	$(MAKE) integration-pg
	$(MAKE) integration-asan
	$(MAKE) test-deb
	$(MAKE) bench-smoke

# Installing: the two programs into PREFIX/sbin, a configuration into
# SYSCONFDIR/hostmail/hostmail.ini unless one is there, the documentation
# into PREFIX/share/doc/hostmail; DESTDIR for staging (docs/running.md).
PREFIX     ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(SYSCONFDIR)/hostmail $(DESTDIR)$(PREFIX)/share/doc/hostmail
	install -m 0755 $(BUILD)/hostmaild $(BUILD)/hostmailctl $(DESTDIR)$(PREFIX)/sbin/
	[ -e $(DESTDIR)$(SYSCONFDIR)/hostmail/hostmail.ini ] || \
		install -m 0644 contrib/hostmail.ini $(DESTDIR)$(SYSCONFDIR)/hostmail/hostmail.ini
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/hostmail/

# The Debian package, with Debian's tools (debian/): the checkout's files
# (tracked and new, not ignored) are copied into $(BUILD)/deb/hostmail,
# dpkg-buildpackage builds there, the .deb lands in $(BUILD)/deb/, and
# lintian must report no error. `make test-deb` (about 35 s, in `make test`)
# also unpacks it into a throwaway root and runs the installed daemon
# (tests/package/test_package.py; docs/running.md).
DEB_DIR = $(BUILD)/deb
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/hostmail
	git ls-files -co --exclude-standard | while read -r f; do [ -e "$$f" ] && printf '%s\n' "$$f"; done | \
		tar -cf - -T - | tar -xf - -C $(DEB_DIR)/hostmail
	cd $(DEB_DIR)/hostmail && dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(DEB_DIR)/hostmail_*.deb

test-deb: deb
	cd tests/package && HOSTMAIL_DEB_DIR=$(abspath $(DEB_DIR)) /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		--basetemp=$(abspath $(BUILD))/pytest-tmp-deb

# The package installed for real (as root; NOT in `make test`: it changes
# the machine, then gives it back): dpkg -i with services forbidden to
# start (policy-rc.d), the postinst's work checked, the installed daemon
# run on loopback high ports, dpkg --purge (tests/deb/test_deb_install.py;
# docs/running.md). The .deb is rebuilt only when a source is newer.
test-deb-install:
	deb=$$(ls $(DEB_DIR)/hostmail_*.deb 2>/dev/null | head -1); \
	if [ -z "$$deb" ] || [ -n "$$(git ls-files -co --exclude-standard | grep -v '^tests/' | \
		while read -r f; do [ "$$f" -nt "$$deb" ] && echo "$$f"; done)" ]; then $(MAKE) deb; fi
	cd tests/deb && HOSTMAIL_DEB_DIR=$(abspath $(DEB_DIR)) /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		--basetemp=$(abspath $(BUILD))/pytest-tmp-deb-install

run: deps
	$(MAKE) all
	@bash scripts/demo.sh

clean:
	rm -rf build

.PHONY: install deb test-deb test-deb-install all deps unit unit-asan unit-pg unit-pg-asan bench-store integration integration-pg test run clean fuzz fuzz-bins fuzz-build fuzz-quick fuzz-regress test-tls bench bench-smoke integration-asan unit-tsan integration-tsan test-tsan
-include $(shell find $(BUILD) -path $(BUILD)/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
