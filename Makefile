# tapedeck — one Makefile for the three binaries, the tests and the benchmarks.
# Objects go to $(BUILD), binaries to $(BIN). `make SANITIZE=address,undefined` builds an instrumented
# tree under build/asan so it can sit beside the normal one.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
CC         ?= cc
SANITIZE   ?=
WERROR     ?= 1
OPT        ?= -O2

ifeq ($(SANITIZE),)
BUILD      ?= build
BIN        ?= bin
else
BUILD      ?= build/asan
BIN        ?= build/asan/bin
endif

PKGS       := libevent libevent_pthreads libevent_openssl libcurl libzstd jansson zlib libdeflate libbrotlidec libssl libcrypto \
              libnghttp2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# These are read when make parses this file: on a machine without the -dev packages they are empty. The
# targets that install packages first (demo, test, bench, deb) therefore re-enter $(MAKE) for the build,
# which parses again once the packages are there; a plain `make` without them stops with this message
# (compile recipes expand it) rather than with undefined references at link time.
ifeq ($(shell pkg-config --exists $(PKGS) 2>/dev/null && echo ok),)
PKG_MISSING = $(error the libraries the build needs are missing ($(PKGS)): run 'scripts/install-deps build' as root, or 'make deps'; 'make demo' and 'make test' install them themselves)
endif

WARN       := -Wall -Wextra -Wstrict-prototypes -Wshadow -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN       += -Werror
endif
CFLAGS     ?= $(OPT) -g
# Sub-rooms (see docs/internals.md). Header basenames are unique across the tree, so every room is on the
# include path and a file names a header by its basename; tests/e2e/layering.sh checks who may include whom.
CAP_DIRS   := captures/util captures/http captures/json captures captures/redact
PROXY_DIRS := proxy/base proxy/record proxy/mirror proxy/conn proxy/h2 proxy
REPLAY_DIRS:= replay/engine replay/check replay/shadow replay/load replay/stats replay/report
INC        := -I. $(addprefix -I,$(CAP_DIRS) $(PROXY_DIRS) $(REPLAY_DIRS))
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DTAPEDECK_VERSION='"$(VERSION)"' $(WARN) $(CPPFLAGS) $(CFLAGS) \
              $(INC) $(PKG_CFLAGS) -MMD -MP -pthread
LDLIBS     := -Wl,--as-needed $(PKG_LIBS) -lhttp_parser -lpthread -lm
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# The instrumented build also checks the state machines' invariants (TD_ASSERT, captures/util/td_assert.h).
ALL_CFLAGS += -DTD_DEBUG
LDFLAGS    += -fsanitize=$(SANITIZE)
endif

# Libraries: every .c in a component folder except its main.c.
CAP_SRC     := $(foreach d,$(CAP_DIRS),$(wildcard $(d)/*.c))
CAPCLI_SRC  := $(wildcard captures/cli/*.c)
PROXY_SRC   := $(filter-out proxy/main.c,$(foreach d,$(PROXY_DIRS),$(wildcard $(d)/*.c)))
REPLAY_SRC  := $(foreach d,$(REPLAY_DIRS),$(wildcard $(d)/*.c))
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBCAP      := $(BUILD)/libtdcapture.a
LIBPROXY    := $(BUILD)/libtdproxy.a
LIBREPLAY   := $(BUILD)/libtdreplay.a
BINS        := $(BIN)/tapedeck-proxy $(BIN)/tapedeck-replay $(BIN)/tapedeck-capture
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_DRIVERS:= $(patsubst tests/fuzz/%.c,$(BUILD)/tests/%-regress,$(FUZZ_SRC))

.PHONY: all deps test check unit e2e asan bench demo fresh-check install uninstall deb clean fuzz format
all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(PKG_MISSING)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBCAP): $(call obj,$(CAP_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBPROXY): $(call obj,$(PROXY_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBREPLAY): $(call obj,$(REPLAY_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/tapedeck-capture: $(call obj,$(CAPCLI_SRC)) $(LIBCAP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LDLIBS)
$(BIN)/tapedeck-proxy: $(call obj,proxy/main.c) $(LIBPROXY) $(LIBCAP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LDLIBS)
$(BIN)/tapedeck-replay: $(call obj,replay/main.c) $(LIBREPLAY) $(LIBCAP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LDLIBS)

# Unit tests (cmocka) link every library; archives pull in only what a test uses.
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(LIBREPLAY) $(LIBPROXY) $(LIBCAP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LDLIBS) -lcmocka

# Fuzz targets: a regression driver (plain main over the corpus) for `make test`, libFuzzer for `make fuzz`.
$(BUILD)/tests/fuzz_%-regress: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/regress_driver.o $(LIBREPLAY) $(LIBCAP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LDLIBS)
# fuzz_cli_* targets reach the capture CLI's importers, which live in the program: they also link its
# objects (all but main.c).
CAPCLI_OBJ_SRC := $(filter-out captures/cli/main.c,$(CAPCLI_SRC))
$(BUILD)/tests/fuzz_cli_%-regress: $(BUILD)/tests/fuzz/fuzz_cli_%.o $(BUILD)/tests/fuzz/regress_driver.o \
  $(call obj,$(CAPCLI_OBJ_SRC)) $(LIBREPLAY) $(LIBCAP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LDLIBS)
# fuzz_h2 drives the proxy's HTTP/2 request checks (proxy_h2_req), pure code from the proxy's library.
$(BUILD)/tests/fuzz_h2-regress: $(BUILD)/tests/fuzz/fuzz_h2.o $(BUILD)/tests/fuzz/regress_driver.o \
  $(call obj,proxy/h2/proxy_h2_req.c) $(LIBCAP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LDLIBS)
$(BUILD)/tests/fuzz/regress_driver.o: tests/fuzz/regress_driver.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The libraries get coverage instrumentation too (fuzzer-no-link), or libFuzzer would see only the target.
fuzz:
	$(MAKE) CC=clang SANITIZE=fuzzer-no-link,address,undefined BUILD=build/fuzz BIN=build/fuzz/bin \
	  build/fuzz/libtdcapture.a build/fuzz/libtdreplay.a $(patsubst %.c,build/fuzz/%.o,$(CAPCLI_OBJ_SRC)) \
	  build/fuzz/proxy/h2/proxy_h2_req.o
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); x=; \
	  case $$n in fuzz_cli_*) x="$(patsubst %.c,build/fuzz/%.o,$(CAPCLI_OBJ_SRC))";; \
	    fuzz_h2) x="build/fuzz/proxy/h2/proxy_h2_req.o";; esac; \
	  clang -std=c11 -D_GNU_SOURCE -g -O1 $(INC) -fsanitize=fuzzer,address,undefined $$f $$x \
	    build/fuzz/libtdreplay.a build/fuzz/libtdcapture.a $(LDLIBS) -o build/fuzz/$$n || exit 1; \
	  echo "built build/fuzz/$$n"; done

# Installing and building are separate makes: the build's make must be parsed after install-deps ran
# (PKG_LIBS above), and under -j the install must be over before the first compile starts.
DEPS_PROFILE ?= test
deps:
	@scripts/install-deps $(DEPS_PROFILE)

# `make test`: install what is missing, then the suite twice: plain and under ASan+UBSan.
test:
	@scripts/install-deps test
	$(MAKE) all tests-build
	BIN=$(CURDIR)/bin BUILD=$(CURDIR)/build tests/run
	$(MAKE) SANITIZE=address,undefined all tests-build
	BIN=$(CURDIR)/build/asan/bin BUILD=$(CURDIR)/build/asan TAPEDECK_ASAN=1 tests/run

# `make check`: the suite once, no install step, no sanitizer pass (the developer's loop).
check: all tests-build
	BIN=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) tests/run

.PHONY: tests-build
tests-build: $(UNIT_BINS) $(FUZZ_DRIVERS)

# Every benchmark runs even when an earlier one misses its target; the exit status says whether any did.
# BENCH_H2=0: proxy_h2 runs on its own here, not a second time from scripts/bench/proxy.
bench:
	@scripts/install-deps test
	$(MAKE) all
	@rc=0; for b in scripts/bench/*; do [ -f "$$b" ] && [ -x "$$b" ] || continue; echo "== $$b"; \
	  BENCH_H2=0 "$$b" || { echo "== $$b: below its target or failed"; rc=1; }; done; exit $$rc

# `make demo` installs only what the demo needs (scripts/install-deps demo), then builds and runs it.
demo:
	@scripts/install-deps demo
	$(MAKE) all
	@if [ -x scripts/demo/run ]; then scripts/demo/run; else echo "make demo: the demo is not built yet (issue 6)"; exit 1; fi

# A brand-new Debian 12 root (mmdebstrap) runs `make demo` and installs the .deb: see scripts/fresh-machine.
fresh-check:
	scripts/fresh-machine

# `make install` (PREFIX, DESTDIR): the programs, the pipeline scripts (scripts/replay-gate and
# scripts/cutover become tapedeck-replay-gate and tapedeck-cutover: bare names like "cutover" do not belong
# in a shared bin folder), the man pages, the reference docs, and the systemd unit with its paths set to
# where the proxy and the docs went. `make uninstall` removes exactly that list.
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/tapedeck
UNITDIR    ?= $(PREFIX)/lib/systemd/system
PROGRAMS   := tapedeck-proxy tapedeck-replay tapedeck-capture
SCRIPTS    := replay-gate cutover
MANPAGES   := $(wildcard docs/man/*.1)
DOCS       := README.md $(wildcard docs/*.md)
UNIT       := docs/deploy/tapedeck-proxy.service
INSTALLED  := $(addprefix $(BINDIR)/,$(PROGRAMS) $(addprefix tapedeck-,$(SCRIPTS))) \
              $(addprefix $(MANDIR)/man1/,$(notdir $(MANPAGES))) \
              $(addprefix $(DOCDIR)/,$(notdir $(DOCS))) $(UNITDIR)/$(notdir $(UNIT))

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	for s in $(SCRIPTS); do install -m 0755 scripts/$$s $(DESTDIR)$(BINDIR)/tapedeck-$$s || exit 1; done
	install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	sed -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/usr/local/share/doc/tapedeck|$(DOCDIR)|g' \
	  -e 's|scripts/cutover|tapedeck-cutover|g' $(UNIT) >$(DESTDIR)$(UNITDIR)/$(notdir $(UNIT)).tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/$(notdir $(UNIT)).tmp
	mv $(DESTDIR)$(UNITDIR)/$(notdir $(UNIT)).tmp $(DESTDIR)$(UNITDIR)/$(notdir $(UNIT))

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# `make deb`: build/deb/tapedeck_VERSION_ARCH.deb with debhelper (debian/), checked by lintian. It builds in
# build/deb/ (its own objects, with Debian's hardening flags), so it leaves the developer's build alone.
deb:
	@scripts/install-deps deb
	rm -rf build/deb && mkdir -p build/deb
	TAPEDECK_DEB_DIR=build/deb DEB_BUILD_OPTIONS="$${DEB_BUILD_OPTIONS:-parallel=$$(nproc)}" $(if $(filter 0,$(shell id -u)),,fakeroot) debian/rules binary
	lintian --fail-on error --display-info build/deb/tapedeck_$(VERSION)_*.deb

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
.SECONDARY:
