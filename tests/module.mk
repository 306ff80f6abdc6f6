# Tests: tests/unit/test_*.c are cmocka programs linked against every room
# library; tests/fuzz/fuzz_*.c are libFuzzer targets built with clang in
# build/fuzz (MODE=fuzz); tests/integration/*.sh are scenario scripts.

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/tests/fuzz/%,$(FUZZ_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(patsubst tests/helpers/%.c,$(B)/tests/helpers/%,$(HELPER_SRCS))

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(LIBS_ALL)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS_ALL) $(LDLIBS) $(TEST_LIBS)
$(B)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -Wno-missing-prototypes -MMD -MP -c $< -o $@
$(B)/tests/helpers/%: $(B)/tests/helpers/%.o $(LIBS_ALL)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS_ALL) $(LDLIBS) $(TEST_LIBS)
$(B)/tests/helpers/%.o: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

.PHONY: test-build fuzz-build
test-build: $(PROGRAMS) $(UNIT_BINS) $(HELPER_BINS)

# Fuzzers: everything rebuilt by clang with coverage instrumentation.
FUZZ_CFLAGS = -fsanitize=fuzzer-no-link,address,undefined
fuzz-build:
	@$(MAKE) --no-print-directory MODE=fuzz CC=clang SANITIZE="$(FUZZ_CFLAGS)" OPT=-O1 fuzz-bins
fuzz-bins: $(FUZZ_BINS)
build/fuzz/tests/fuzz/%: tests/fuzz/%.c $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Wno-missing-prototypes -o $@ $< $(LIBS_ALL) $(LDLIBS)

FUZZ_TIME ?= 300
fuzz: fuzz-build
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p tests/fuzz/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_TIME)s"; \
		$$f -max_total_time=$(FUZZ_TIME) -timeout=30 tests/fuzz/corpus/$$n || exit 1; done
