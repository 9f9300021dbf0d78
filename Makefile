# SPDX-License-Identifier: BSD-2-Clause
# jlkit - GNU make. `make help` lists the targets.

VERSION    = 0.1.0
BUILD     ?= build
# One spelling of BUILD (relative inside the tree, as tests give it absolute),
# so that objects and their dependency files always name the same targets.
override BUILD := $(patsubst $(CURDIR)/%,%,$(abspath $(BUILD)))
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
CC        ?= cc
CFLAGS    ?= -O2 -g
FUZZ_CC   ?= clang
FUZZTIME  ?= 60

WARNINGS = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wvla -Wpointer-arith -Wwrite-strings -Wno-unused-parameter
ifeq ($(DEVELOPER),1)
WARNINGS += -Werror
endif
ifneq ($(SANITIZE),)
SANFLAGS = -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

# libcurl and sqlite3 ship .pc files; libjq 1.6 and libcsv do not.
PKG_CONFIG ?= pkg-config
JQ_CFLAGS  := $(shell $(PKG_CONFIG) --cflags libjq 2>/dev/null)
JQ_LIBS    := $(shell $(PKG_CONFIG) --libs libjq 2>/dev/null || echo -ljq)
CSV_LIBS   := -lcsv
CURL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS  := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
SQLITE_CFLAGS := $(shell $(PKG_CONFIG) --cflags sqlite3 2>/dev/null)
SQLITE_LIBS := $(shell $(PKG_CONFIG) --libs sqlite3 2>/dev/null || echo -lsqlite3)
JQ_VERSION := $(shell $(PKG_CONFIG) --modversion libjq 2>/dev/null || \
		dpkg-query -W -f='$${source:Upstream-Version}' libjq-dev 2>/dev/null || echo unknown)

ALL_CPPFLAGS = -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Icommon \
	       -DJLKIT_VERSION='"$(VERSION)"' -DJQ_BUILD_VERSION='"$(JQ_VERSION)"' \
	       $(JQ_CFLAGS) $(CURL_CFLAGS) $(SQLITE_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = -std=c17 -pthread $(WARNINGS) $(SANFLAGS) $(CFLAGS)
ALL_LDFLAGS  = -pthread $(SANFLAGS) $(LDFLAGS)

COMMON_SRC = $(wildcard common/*.c)
COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o)
LIBCOMMON  = $(BUILD)/libcommon.a

# Every directory tools/jl-NAME with a main.c is a tool.
TOOLS      = $(patsubst tools/%/main.c,%,$(wildcard tools/jl-*/main.c))
TOOL_BINS  = $(TOOLS:%=$(BUILD)/%)

# Each tool is the .c files of tools/NAME; all but main.c also go into an
# archive the unit tests link, so they test a tool's pieces without its main.
tool_src   = $(wildcard tools/$(1)/*.c)
tool_obj   = $(patsubst %.c,$(BUILD)/%.o,$(call tool_src,$(1)))
tool_lib   = $(BUILD)/tools/$(1)/lib$(1).a
TOOL_LIBS  = $(foreach t,$(TOOLS),$(call tool_lib,$(t)))
TOOL_INCS  = $(TOOLS:%=-Itools/%)
LIBS       = $(CSV_LIBS) $(CURL_LIBS) $(SQLITE_LIBS) $(JQ_LIBS) -lm

MOCK_SRC   = $(wildcard tests/mock/*.c)
MOCK_OBJ   = $(MOCK_SRC:%.c=$(BUILD)/%.o)
MOCKD      = $(BUILD)/mockd

UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_BINS  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
TEST_TOOL  = $(BUILD)/test-tool
FUZZ_REPLAY = $(BUILD)/tests/fuzz/replay_csv
MANPAGES   = $(wildcard man/*.1 man/*.7)

.SECONDARY:

.PHONY: all check check-asan check-valgrind lint fuzz fuzz-run bench demo deps install \
	uninstall clean help

all: $(TOOL_BINS) $(LIBCOMMON) $(MOCKD)

help:
	@echo "targets: all demo check check-asan check-valgrind lint fuzz fuzz-run bench deps"
	@echo "         install uninstall clean   (knobs: BUILD PREFIX DESTDIR DEVELOPER SANITIZE)"

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

define tool_rules
$(BUILD)/$(1): $(call tool_obj,$(1)) $(LIBCOMMON)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $(call tool_obj,$(1)) $$(LIBCOMMON) $$(LIBS)

$(call tool_lib,$(1)): $(filter-out %/main.o,$(call tool_obj,$(1)))
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rules,$(t))))

# The mock of the LLM and search APIs (tests/mock/README): built, never installed.
$(MOCKD): $(MOCK_OBJ) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $(MOCK_OBJ) $(LIBCOMMON) $(JQ_LIBS) -lm

# Unit tests link every tool's pieces and everything common/ may need; the
# linker keeps what they use.
$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(TOOL_LIBS) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TOOL_LIBS) $(LIBCOMMON) $(LIBS)

$(BUILD)/tests/unit/%.o: ALL_CPPFLAGS += $(TOOL_INCS)
$(BUILD)/tests/fuzz/%.o: ALL_CPPFLAGS += -Itools/jl-csv

$(TEST_TOOL): $(BUILD)/tests/test-tool.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBCOMMON) $(LIBS)

# The fuzz target built with a plain main that replays a corpus, so gcc runs it too.
$(FUZZ_REPLAY): $(BUILD)/tests/fuzz/fuzz_csv.o $(BUILD)/tests/fuzz/replay.o \
		$(BUILD)/tools/jl-csv/csvconv.o $(BUILD)/tools/jl-csv/csvrows.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CSV_LIBS) $(JQ_LIBS)

check: all $(UNIT_BINS) $(TEST_TOOL) $(FUZZ_REPLAY)
	@BUILD='$(abspath $(BUILD))' SRCDIR='$(CURDIR)' sh tests/run.sh

check-asan:
	$(MAKE) BUILD=build-asan SANITIZE=address,undefined check

check-valgrind: all $(UNIT_BINS) $(TEST_TOOL) $(FUZZ_REPLAY)
	@TEST_VALGRIND=1 BUILD='$(abspath $(BUILD))' SRCDIR='$(CURDIR)' sh tests/run.sh

# libFuzzer targets (clang); the corpus lives in tests/fuzz/corpus/<target>.
FUZZ_BUILD = build-fuzz
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz: $(FUZZ_BUILD)/fuzz_csv

$(FUZZ_BUILD)/fuzz_csv: tests/fuzz/fuzz_csv.c tools/jl-csv/csvconv.c tools/jl-csv/csvrows.c \
		$(COMMON_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(ALL_CPPFLAGS) -Itools/jl-csv -std=c17 -o $@ $^ \
		$(CSV_LIBS) $(JQ_LIBS)

fuzz-run: fuzz
	@mkdir -p $(FUZZ_BUILD)/corpus-csv
	$(FUZZ_BUILD)/fuzz_csv -max_total_time=$(FUZZTIME) -max_len=4096 \
		$(FUZZ_BUILD)/corpus-csv tests/fuzz/corpus/csv

# Every bench/*.sh but the sourced lib.sh, then one table of their figures.
BENCH_SUMMARY = $(abspath $(BUILD))/bench-summary.tsv
bench: all
	@rm -f '$(BENCH_SUMMARY)'
	@for b in bench/*.sh; do \
		[ "$$b" = bench/lib.sh ] && continue; \
		BUILD='$(abspath $(BUILD))' CC='$(CC)' BENCH_SUMMARY='$(BENCH_SUMMARY)' \
			sh "$$b" || exit 1; \
	done
	@echo "== summary ($$(nproc) cores, $$(uname -sr))"
	@awk -f bench/table.awk '$(BENCH_SUMMARY)'

# The offline demo (examples/demo.sh): installs what is missing, builds, runs
# examples/companies against the mock.
demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@BUILD='$(abspath $(BUILD))' sh examples/demo.sh

# Debian packages: build dependencies and what the tests and lint use.
DEB_PACKAGES = build-essential pkg-config libcurl4-openssl-dev libjq-dev libcsv-dev \
	       libsqlite3-dev mandoc shellcheck cppcheck clang clang-format valgrind \
	       python3 python3-aiohttp python3-botocore miller curl wrk time parallel jq chromium tmux
deps:
	@if [ -f /usr/include/csv.h ] && [ -f /usr/include/jq.h ] && \
	    $(PKG_CONFIG) --exists libcurl sqlite3 2>/dev/null && command -v mandoc >/dev/null && \
	    command -v curl >/dev/null; then \
		echo "deps: all present"; \
	else \
		SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends \
			$(DEB_PACKAGES); \
	fi

lint:
	@sh tests/lint.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(wildcard man/*.7) $(DESTDIR)$(MANDIR)/man7

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%)
	for m in $(notdir $(wildcard man/*.1)); do rm -f $(DESTDIR)$(MANDIR)/man1/$$m; done
	for m in $(notdir $(wildcard man/*.7)); do rm -f $(DESTDIR)$(MANDIR)/man7/$$m; done

clean:
	rm -rf $(BUILD) build build-asan $(FUZZ_BUILD) tests/results

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
