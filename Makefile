# hostmail build. `make` builds build/hostmaild and build/hostmailctl.
# `make run` and `make test` first install missing Debian packages.

CC      ?= cc
PKGS     = libevent libevent_pthreads libevent_openssl inih sqlite3 libcrypt openssl
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
	$(CC) $(XCFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/hostmailctl: $(BUILD)/src/cmd/hostmailctl.o $(BUILD)/libhostmail.a
	$(CC) $(XCFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libhostmail.a
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

deps:
	@bash scripts/deps.sh

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# The same unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
unit-asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" unit

integration: all
	cd tests/integration && /usr/bin/python3 -m pytest -q -x -p no:cacheprovider

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) integration

run: deps
	$(MAKE) all
	@bash scripts/demo.sh

clean:
	rm -rf build

.PHONY: all deps unit unit-asan integration test run clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
