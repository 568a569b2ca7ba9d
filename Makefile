# kubetape top-level build.  `make V=1` shows the commands.
#
#   make            BPF objects, skeletons, libkubetape, kubetape-recorder, kubetape
#   make deps       install every Debian package the project needs (root)
#   make test       unit + fuzz-seed + end-to-end tests (root for e2e)
#   make SAN=1 ...  the same, built with ASan + UBSan into build-san/
#   make demo       the README's demo: a pod, a recorded exec session, replayed
#   make bench      benchmarks (bench/)
#   make fuzz       every tests/fuzz/fuzz_* under libFuzzer (clang) for
#                   FUZZ_TIME seconds each (default 60), into build-fuzz/

.DELETE_ON_ERROR:
# Objects reached only through pattern chains (tests, fuzzers) are kept, so
# `make test` after `make all` does not rebuild them.
.SECONDARY:
.SUFFIXES:

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

SAN ?= 0
# FUZZ=1: the fuzz targets as libFuzzer programs (clang, ASan+UBSan and
# coverage) in build-fuzz/; `make fuzz` sets it.
FUZZ ?= 0
ifeq ($(FUZZ),1)
OUT ?= build-fuzz
CC := clang
SANFLAGS := -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SAN),1)
OUT ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
OUT ?= build
SANFLAGS :=
endif

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 \
	  -D_GNU_SOURCE -MMD -MP -I$(OUT) $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -Wno-gnu-variable-sized-type-not-at-end -D__TARGET_ARCH_$(ARCH) -D__KUBETAPE_BPF__ \
	      -I$(OUT) -Ibpf -Wall -Wno-unused-function -MMD -MP

# With sanitizers (SAN=1, FUZZ=1) libvterm is Debian's source of the
# installed version built with the same sanitizers (tests/fuzz/get_libvterm.sh
# fetches it), so memory errors inside it are seen; plain builds link
# the system library.  VTERM_FROM_SRC=0 links the system one anyway.
VTERM_FROM_SRC ?= $(if $(SANFLAGS),1,0)
ifeq ($(VTERM_FROM_SRC),1)
VTERM_DIR := $(OUT)/libvterm
VTERM_LIB := $(VTERM_DIR)/libvterm.a
LIBS_VTERM := $(VTERM_LIB)
else
VTERM_LIB :=
LIBS_VTERM := -lvterm
endif
# libpq: the shipper and the cluster store's read backend (store/pg/).
# Only its headers at build time: store/pg/pq_load.c loads libpq.so.5 when
# a PostgreSQL store is first used, so a program that never uses one (a
# run on SQLite, --help, a recorder that does not ship) does not load it
# and its ~20 libraries at every start (pq_load.c says why).
PG_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
# libcrypto: likewise headers only; store/crypto_load.c loads libcrypto.so.3
# when a SHA-256 chain is first hashed (it says why).
LIBS_STORE := -lsqlite3 -lzstd -ljansson $(LIBS_VTERM) -lsodium -ldl -lm
LIBS_BPF := -lbpf -lelf -lz


# ---------------------------------------------------------------- include paths
# Each component sees what it may use, so the boundaries are the build's,
# not a habit: the store's public headers are store/include/ (replay/, web/
# and the recorder see only those); its internals (store/*.h,
# store/term/screen_int.h, store/index/index_int.h) only the store itself
# and its unit tests and fuzz targets.  bpf/ (events.h) is the recorder's.
# A pattern's % also matches '/': web/% covers web/webhook/.
INC_STORE := -Istore/include
INC_STORE_INT := -Istore -Istore/term -Istore/index -Istore/export
$(OUT)/store/%.o: CFLAGS += $(INC_STORE) $(INC_STORE_INT)
$(OUT)/recorder/%.o: CFLAGS += -Ibpf -Irecorder $(INC_STORE)
$(OUT)/replay/%.o: CFLAGS += $(INC_STORE)
$(OUT)/web/%.o: CFLAGS += $(INC_STORE)
$(OUT)/tests/%.o: CFLAGS += $(INC_STORE) $(INC_STORE_INT) -Ibpf -Irecorder $(PG_CFLAGS)

# ---------------------------------------------------------------- sources
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))

STORE_SRCS := $(wildcard store/*.c store/*/*.c)
STORE_OBJS := $(patsubst %.c,$(OUT)/%.o,$(STORE_SRCS))
LIBKT := $(OUT)/libkubetape.a

RECORDER_SRCS := $(wildcard recorder/*.c)
RECORDER_OBJS := $(patsubst %.c,$(OUT)/%.o,$(RECORDER_SRCS))
# recorder files that need no BPF (attribution parsers) are also unit-tested
RECORDER_LIB_OBJS := $(filter-out $(OUT)/recorder/main.o $(OUT)/recorder/daemon.o $(OUT)/recorder/options.o $(OUT)/recorder/loader.o $(OUT)/recorder/pin.o $(OUT)/recorder/ring.o $(OUT)/recorder/loader_ops.o $(OUT)/recorder/loader_progs.o $(OUT)/recorder/skips.o $(OUT)/recorder/indexer.o $(OUT)/recorder/rec_metrics.o $(OUT)/recorder/upgrade.o,$(RECORDER_OBJS))

REPLAY_SRCS := $(wildcard replay/*.c)
REPLAY_OBJS := $(patsubst %.c,$(OUT)/%.o,$(REPLAY_SRCS))

PROGS := $(OUT)/kubetape-recorder $(OUT)/kubetape

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUT)/tests/%,$(FUZZ_SRCS))
# BPF selftests: load the real programs (root); run from tests/e2e/
BPFTEST_SRCS := $(wildcard tests/bpf/test_*.c)
BPFTEST_BINS := $(patsubst tests/bpf/%.c,$(OUT)/tests/bpf/%,$(BPFTEST_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(patsubst tests/helpers/%.c,$(OUT)/tests/%,$(HELPER_SRCS))

.PHONY: all deps test test-unit test-e2e demo bench clean fuzz
all: $(PROGS) $(UNIT_BINS) $(FUZZ_BINS) $(HELPER_BINS) $(BPFTEST_BINS)

# What a program linked with $(OUT)/libkubetape.a also needs (bench/ builds
# its harnesses against the library: one list, here).
print-store-libs:
	@echo $(LIBS_STORE)
.PHONY: print-store-libs

# ---------------------------------------------------------------- BPF
# vmlinux.h is generated from the running kernel's BTF at build time, never
# committed.  CO-RE relocates field accesses on whatever kernel loads it.
$(OUT)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)test -r $(VMLINUX_BTF) || { echo "no BTF at $(VMLINUX_BTF): set VMLINUX_BTF=" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# ---------------------------------------------------------------- user space
$(OUT)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(RECORDER_OBJS): | $(SKELS)
$(OUT)/store/pg/%.o: CFLAGS += $(PG_CFLAGS)

$(LIBKT): $(STORE_OBJS) | $(VTERM_LIB)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/kubetape-recorder: $(RECORDER_OBJS) $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_BPF) $(LIBS_STORE)

$(OUT)/kubetape: $(REPLAY_OBJS) $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_STORE)

$(OUT)/tests/%: $(OUT)/tests/unit/%.o $(RECORDER_LIB_OBJS) $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_STORE)

$(OUT)/tests/bpf/%.o: | $(SKELS)
$(OUT)/tests/bpf/%: $(OUT)/tests/bpf/%.o $(OUT)/recorder/loader.o $(OUT)/recorder/loader_ops.o $(OUT)/recorder/loader_progs.o $(OUT)/recorder/upgrade.o $(OUT)/recorder/pin.o $(OUT)/recorder/ring.o $(OUT)/recorder/ctr_seed.o $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_BPF) $(LIBS_STORE)

# Fuzz targets: libFuzzer entry point; without FUZZ=1 they link a driver that
# replays the seed corpus (tests/fuzz/corpus/<name>/*), as sudo does.
ifeq ($(FUZZ),1)
$(OUT)/tests/fuzz_%: $(OUT)/tests/fuzz/fuzz_%.o $(RECORDER_LIB_OBJS) $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer $^ -o $@ $(LIBS_STORE)
else
$(OUT)/tests/fuzz_%: $(OUT)/tests/fuzz/fuzz_%.o $(OUT)/tests/fuzz/replay_main.o $(RECORDER_LIB_OBJS) $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_STORE)
endif

# Fuzz targets that reach web/ code (tests/fuzz/fuzz_web_*.c) also link the
# web objects that need no lws at run time (params, framefmt, jsonenc).
WEB_FUZZ_OBJS := $(OUT)/web/params.o $(OUT)/web/framefmt.o $(OUT)/web/jsonenc.o
$(OUT)/tests/fuzz/fuzz_web_%.o: CFLAGS += -Iweb $(WEB_CFLAGS)
$(OUT)/tests/fuzz_web_%: $(OUT)/tests/fuzz/fuzz_web_%.o $(WEB_FUZZ_OBJS) $(if $(filter 1,$(FUZZ)),,$(OUT)/tests/fuzz/replay_main.o) $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(if $(filter 1,$(FUZZ)),-fsanitize=fuzzer) $^ -o $@ $(LIBS_STORE)

# libvterm from Debian's source (see LIBS_VTERM above): get_libvterm.sh
# fetches it once (apt-get source, private lists; Debian archive only).
ifneq ($(VTERM_LIB),)
$(VTERM_LIB):
	$(call msg,VTERM,$@)
	$(Q)tests/fuzz/get_libvterm.sh $(VTERM_DIR)
	$(Q)rm -rf $(VTERM_DIR)/obj && mkdir -p $(VTERM_DIR)/obj
	$(Q)for f in $(VTERM_DIR)/libvterm-src/src/*.c; do \
		$(CC) -O1 -g -std=c99 -w $(SANFLAGS) -I$(VTERM_DIR)/libvterm-src/include \
			-c $$f -o $(VTERM_DIR)/obj/$$(basename $$f .c).o || exit 1; \
	done
	$(Q)ar rcs $@ $(VTERM_DIR)/obj/*.o
endif

# make fuzz: build with FUZZ=1 and run each target FUZZ_TIME seconds on a
# working corpus seeded from tests/fuzz/corpus/<name>/; prints per target
# execs, coverage and findings (tests/fuzz/run_fuzz.sh).
FUZZ_TIME ?= 60
fuzz:
	$(Q)$(MAKE) --no-print-directory FUZZ=1 OUT=build-fuzz $(patsubst tests/fuzz/%.c,build-fuzz/tests/%,$(FUZZ_SRCS))
	FUZZ_ONLY="$(FUZZ_ONLY)" tests/fuzz/run_fuzz.sh build-fuzz $(FUZZ_TIME)

$(OUT)/tests/fuzz/replay_main.o: tests/fuzz/replay_main.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/tests/%: $(OUT)/tests/helpers/%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ -lutil

# a helper that reads a store through the store API (tests/e2e/pg_read_test.sh)
$(OUT)/tests/kt_search_pages: $(OUT)/tests/helpers/kt_search_pages.o $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_STORE)

# every closed screen block's trigrams on a node store (tests/lib/pg.sh)
$(OUT)/tests/kt_trigrams: $(OUT)/tests/helpers/kt_trigrams.o $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_STORE)

# the cluster store's schema migration alone, or up to a step
# (tests/e2e/pg_upgrade_test.sh)
$(OUT)/tests/kt_pg_migrate: $(OUT)/tests/helpers/kt_pg_migrate.o $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_STORE)

# ---------------------------------------------------------------- kubetape-web (web/; owner: web)
# The browser UI (web/ui/ plus @xterm/xterm from web/node_modules) is
# embedded into the binary at build time by web/embed.c.  node_modules comes
# from `npm ci --prefix web` (make deps); it is only re-run here when
# package-lock.json changed, so builds need no network once it exists.
WEB_SRCS := $(filter-out web/embed.c,$(wildcard web/*.c))
WEB_OBJS := $(patsubst %.c,$(OUT)/%.o,$(WEB_SRCS)) $(OUT)/web/assets_gen.o
XTERM_DIR := web/node_modules/@xterm/xterm
WEB_ASSETS := /index.html=web/ui/index.html /login.html=web/ui/login.html \
	      /app.css=web/ui/app.css /app.js=web/ui/app.js /player.js=web/ui/player.js \
	      /session.js=web/ui/session.js \
	      /csp-shim.js=web/ui/csp-shim.js /favicon.svg=web/ui/favicon.svg \
	      /xterm.js=$(XTERM_DIR)/lib/xterm.js /xterm.css=$(XTERM_DIR)/css/xterm.css
WEB_CFLAGS := $(shell pkg-config --cflags libwebsockets 2>/dev/null)
WEB_LIBS := $(shell pkg-config --libs libwebsockets 2>/dev/null || echo -lwebsockets)
WEB_TEST_BINS := $(patsubst tests/web/%.c,$(OUT)/tests/web/%,$(wildcard tests/web/*.c))

all: $(OUT)/kubetape-web $(WEB_TEST_BINS)

web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	$(call msg,NPM,web/node_modules)
	$(Q)command -v npm >/dev/null || { echo "npm is missing: run 'make deps'" >&2; exit 1; }
	$(Q)npm ci --prefix web --no-audit --no-fund --loglevel=error
# the npm packages' files come from that step
$(XTERM_DIR)/lib/xterm.js $(XTERM_DIR)/css/xterm.css: web/node_modules/.package-lock.json ;

$(OUT)/web/embed: web/embed.c
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(OUT)/web/assets_gen.c: $(OUT)/web/embed web/node_modules/.package-lock.json $(foreach a,$(WEB_ASSETS),$(lastword $(subst =, ,$(a))))
	$(call msg,EMBED,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(OUT)/web/embed $@ $(WEB_ASSETS)

$(OUT)/web/assets_gen.o: $(OUT)/web/assets_gen.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iweb -c $< -o $@

$(patsubst %.c,$(OUT)/%.o,$(WEB_SRCS)): CFLAGS += $(WEB_CFLAGS)

$(OUT)/kubetape-web: $(WEB_OBJS) $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(WEB_LIBS) $(LIBS_STORE)

# test helpers that write a store (the web tests' recorder stand-in, bench)
.SECONDARY: $(WEB_TEST_BINS:=.o)
$(OUT)/tests/web/%: $(OUT)/tests/web/%.o $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_STORE)

# kubetape-webhook (web/webhook/; owner: identity): audit webhook + exec-id
# admission webhook, its own process so a client never slows the recorder
HOOK_SRCS := $(wildcard web/webhook/*.c)
# web/listen.c: the listen address and lws logger both servers use
HOOK_OBJS := $(patsubst %.c,$(OUT)/%.o,$(HOOK_SRCS)) $(OUT)/web/listen.o
$(HOOK_OBJS): CFLAGS += $(WEB_CFLAGS) -Iweb
all: $(OUT)/kubetape-webhook
$(OUT)/kubetape-webhook: $(HOOK_OBJS) $(LIBKT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(WEB_LIBS) $(LIBS_STORE)
# ---------------------------------------------------------------- end of kubetape-web

# ---------------------------------------------------------------- tasks
deps:
	tests/lib/deps.sh

# The README's two commands.  Both install the Debian packages first (a
# no-op when they are there) and then build, so each works on a fresh
# Debian 12 machine.  Unit tests and fuzz seeds need no privileges; the
# end-to-end tests need root, BPF and containerd and fail (never skip) when
# those are missing.
test:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory all
	tests/run.sh $(OUT)

test-unit: all
	KT_TEST_ONLY=unit tests/run.sh $(OUT)

test-e2e: all
	KT_TEST_ONLY=e2e tests/run.sh $(OUT)

demo:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory all
	tests/demo.sh $(OUT)

bench: all
	bench/run.sh $(OUT)

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
