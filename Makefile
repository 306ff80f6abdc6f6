# Gatehouse — top-level, non-recursive Makefile.
#
#   make            build gatehoused, gatehouse-admin, gatehouse-play (build/)
#   make run        build, initialise ./gatehouse-data if missing, start the daemon
#   make test       sanitizer build (build/asan/), unit + integration + short fuzz
#   make fuzz       longer fuzz runs (FUZZ_TIME seconds per target)
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench      release build, then bench/run.sh (BENCH_QUICK=1 for a short run)
#
# Every room (directory) has a module.mk. Sources in a room go into a static
# library lib<room>.a, except main-*.c which are program entry points.

PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man

MODE ?= release
ifeq ($(MODE),fuzz)
B        := build/fuzz
SANITIZE ?= -fsanitize=fuzzer-no-link,address,undefined
OPT      ?= -O1
else ifeq ($(MODE),asan)
B        := build/asan
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1
else
B        := build
SANITIZE :=
OPT      := -O2
endif

CC ?= cc
PKGS := libssh sqlite3 libzstd libcrypto liboath libqrencode jansson inih libxcrypt vterm libseccomp
TEST_PKGS := cmocka libssh2

# build/config.mk is generated (and dependencies installed when missing) before
# anything else: GNU make rebuilds included makefiles first, then restarts.
CONFIG_MK := build/config.mk
ifeq ($(filter clean format help,$(MAKECMDGOALS)),)
-include $(CONFIG_MK)
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?=
CFLAGS  += -std=c11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE $(OPT) -g $(WARN) $(SANITIZE) -I. $(DEP_CFLAGS)
LDFLAGS += -pie -Wl,-z,relro,-z,now $(SANITIZE)
LDLIBS  += $(DEP_LIBS) -lpam -lm

.DEFAULT_GOAL := all
PROGRAMS := $(B)/gatehoused $(B)/gatehouse-admin $(B)/gatehouse-play
# Link order: higher rooms first.
LIBS_ALL := $(B)/libproxy.a $(B)/libadmin.a $(B)/libplayer.a $(B)/librecorder.a $(B)/libauth.a $(B)/libcommon.a
ROOMS := common auth recorder admin player proxy
include $(foreach r,$(ROOMS),$(r)/module.mk)
include tests/module.mk


.PHONY: all run test unit integration fuzz fuzz-short install clean format deps help bench valgrind
all: $(PROGRAMS)

$(CONFIG_MK): contrib/install-deps.sh
	@mkdir -p build
	@if ! pkg-config --exists $(PKGS) $(TEST_PKGS) 2>/dev/null || [ ! -f /usr/include/security/pam_appl.h ]; then \
		echo "make: some libraries are missing; running contrib/install-deps.sh --build"; \
		./contrib/install-deps.sh --build || exit 1; \
	fi
	@{ echo "DEP_CFLAGS := $$(pkg-config --cflags $(PKGS))"; \
	   echo "DEP_LIBS := $$(pkg-config --libs $(PKGS))"; \
	   echo "TEST_CFLAGS := $$(pkg-config --cflags $(TEST_PKGS))"; \
	   echo "TEST_LIBS := $$(pkg-config --libs $(TEST_PKGS))"; } > $@.tmp && mv $@.tmp $@

deps: $(CONFIG_MK)

# Objects: build/<room>/<file>.o, with header dependencies.
$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

define room_lib
$(1)_LIB_OBJS := $$(patsubst %.c,$(B)/%.o,$$(filter-out $(1)/main-%.c,$$($(1)_SRCS)))
$(B)/lib$(1).a: $$($(1)_LIB_OBJS)
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach r,$(ROOMS),$(eval $(call room_lib,$(r))))

$(B)/gatehoused: $(B)/proxy/main-gatehoused.o $(LIBS_ALL)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS_ALL) $(LDLIBS)
$(B)/gatehouse-admin: $(B)/admin/main-admin.o $(LIBS_ALL)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS_ALL) $(LDLIBS)
$(B)/gatehouse-play: $(B)/player/main-play.o $(LIBS_ALL)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS_ALL) $(LDLIBS)

DATA ?= gatehouse-data
RUN_PORT ?= 2222
run:
	@./contrib/install-deps.sh
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@if [ ! -d "$(DATA)" ]; then \
		echo "make run: initialising ./$(DATA) (first run)"; \
		$(B)/gatehouse-admin -d "$(DATA)" init || exit 1; \
	else echo "make run: using existing ./$(DATA)"; fi
	@echo "make run: connect with:  ssh -p $(RUN_PORT) admin@127.0.0.1"
	$(B)/gatehoused -d "$(DATA)" -l 127.0.0.1 -p $(RUN_PORT) -f

test: $(CONFIG_MK)
	@./contrib/install-deps.sh --test
	@$(MAKE) --no-print-directory -j$$(nproc) MODE=asan test-build
	@MODE=asan B=build/asan ./tests/run.sh

# Memcheck (issue 9): a subset of the integration suite against the release
# build of gatehoused started under valgrind (GH_VALGRIND=1 in lib-ssh.sh);
# too slow for every `make test` (docs/development.md).
VALGRIND_TESTS ?= t_proxy_smoke t_proxy_exec t_proxy_login t_proxy_recording
valgrind: all
	@rc=0; for t in $(VALGRIND_TESTS); do \
		GH_VALGRIND=1 B=build GH_TEST_LOGS=build/test-logs-valgrind TESTS=integration ONLY=$$t \
			./tests/run.sh || rc=1; \
	done; exit $$rc

# Benchmarks against OpenSSH (issue 5); never part of `make test`.
bench: all
	@./bench/run.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(B)/gatehoused $(DESTDIR)$(SBINDIR)/gatehoused
	install -m 0755 $(B)/gatehouse-admin $(DESTDIR)$(SBINDIR)/gatehouse-admin
	install -m 0755 $(B)/gatehouse-play $(DESTDIR)$(BINDIR)/gatehouse-play
	for m in docs/man/*.8; do [ -f "$$m" ] && install -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man8/ || true; done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

help:
	@sed -n '1,12p' Makefile

-include $(shell find $(B) -name '*.d' 2>/dev/null)
