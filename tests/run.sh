#!/bin/bash
# Runs every test of `make test` and ends with one line "N passed, N failed".
#   unit:        each cmocka binary in $B/tests/unit (TAP output, one count per case)
#   integration: each tests/integration/*.sh scenario (one count per script)
#   fuzz:        each libFuzzer target for FUZZ_SHORT seconds (one count each)
# Select a part with TESTS=unit|integration|fuzz, one script with ONLY=name.
set -u
cd "$(dirname "$0")/.."
B=${B:-build/asan}
export B GH_BUILD=$B
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
TESTS=${TESTS:-unit integration fuzz}
FUZZ_SHORT=${FUZZ_SHORT:-10}
passed=0 failed=0
failures=()
logdir=${GH_TEST_LOGS:-build/test-logs}
mkdir -p "$logdir"

run_unit() {
	local bin out ok nok
	for bin in "$B"/tests/unit/test_*; do
		[ -x "$bin" ] || continue
		case "$bin" in *.o|*.d) continue ;; esac
		out=$(CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$bin" 2>&1)
		rc=$?
		echo "$out" > "$logdir/$(basename "$bin").log"
		ok=$(grep -c '^ok ' <<<"$out")
		nok=$(grep -c '^not ok ' <<<"$out")
		if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then nok=1; fi
		passed=$((passed + ok)); failed=$((failed + nok))
		if [ "$nok" -ne 0 ]; then
			failures+=("unit $(basename "$bin")")
			echo "FAIL unit $(basename "$bin")"; grep -E '^not ok|ERROR|error:|runtime error' <<<"$out" | head -20
		else
			echo "ok   unit $(basename "$bin") ($ok cases)"
		fi
	done
}

run_integration() {
	local t name start
	for t in tests/integration/t_*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		if [ -n "${ONLY:-}" ] && [ "$name" != "$ONLY" ]; then continue; fi
		start=$SECONDS
		if timeout 900 bash "$t" > "$logdir/$name.log" 2>&1; then
			passed=$((passed + 1)); echo "ok   $name ($((SECONDS - start))s)"
		else
			failed=$((failed + 1)); failures+=("$name")
			echo "FAIL $name ($((SECONDS - start))s), last lines of $logdir/$name.log:"
			tail -25 "$logdir/$name.log" | sed 's/^/    /'
		fi
	done
}

run_fuzz() {
	local f name
	if ! make --no-print-directory -j"$(nproc)" fuzz-build > "$logdir/fuzz-build.log" 2>&1; then
		failed=$((failed + 1)); failures+=("fuzz-build"); echo "FAIL fuzz-build"; tail -20 "$logdir/fuzz-build.log"
		return
	fi
	for f in build/fuzz/tests/fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		mkdir -p "tests/fuzz/corpus/$name"
		work=$(mktemp -d)
		if timeout $((FUZZ_SHORT + 180)) "$f" -max_total_time="$FUZZ_SHORT" -timeout=30 -rss_limit_mb=2048 \
			-artifact_prefix="$logdir/$name-" "$work" "tests/fuzz/corpus/$name" > "$logdir/$name.log" 2>&1; then
			passed=$((passed + 1)); echo "ok   $name (${FUZZ_SHORT}s)"
		else
			failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name"
			# the finding (sanitizer report, timeout, stack), not the last coverage lines
			grep -E '^(==[0-9]+==|SUMMARY|ALARM|artifact_prefix|Test unit written| +#[0-9]+ )' "$logdir/$name.log" | head -40
			tail -3 "$logdir/$name.log"
		fi
		rm -rf "$work"
	done
}

for part in $TESTS; do
	case $part in
	unit) run_unit ;;
	integration) run_integration ;;
	fuzz) run_fuzz ;;
	esac
done
if [ ${#failures[@]} -gt 0 ]; then echo "failed: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
