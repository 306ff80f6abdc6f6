#!/bin/bash
# bench/libssh-readsize.sh LIBSSH_SRC: what libssh's 4 KiB socket read costs
# the bastion (docs/performance.md, "What a libssh change would give").
#
# libssh reads its socket MAX_BUF_SIZE bytes per poll (include/libssh/priv.h,
# 4096, a compile-time constant; 0.10 to 0.12). This builds libssh from
# LIBSSH_SRC twice with the same flags, as is and with -DMAX_BUF_SIZE=65536,
# then runs bench/run.sh alternately with each one preloaded into gatehoused
# only (BENCH_PRELOAD; the soname matches, so the system copy is not loaded).
# Both builds come from the same tree, so the comparison is of the constant
# alone, not of Debian's build against ours.
#
#   LIBSSH_SRC   a libssh source tree (0.10.6 matches Debian 12), e.g.
#                git -C libssh archive --prefix=src/ libssh-0.10.6 | tar x
#   ROUNDS=2     alternations (4k 64k 4k 64k ...)
#   BENCH_ONLY   default "tp sftp mem"; other BENCH_* pass through
#                (the rtt figure restarts gatehoused without the preload)
#
# Not part of make bench: Debian's archive serves no libssh source here, and
# the result is about a dependency, not about Gatehouse.
set -eu

src=${1:-${LIBSSH_SRC:-}}
if [ -z "$src" ] || [ ! -f "$src/include/libssh/priv.h" ]; then
	echo "usage: bench/libssh-readsize.sh LIBSSH_SRC (a libssh source tree)" >&2
	exit 2
fi
grep -q '^#define MAX_BUF_SIZE 4096' "$src/include/libssh/priv.h" || {
	echo "libssh-readsize: $src does not define MAX_BUF_SIZE 4096; nothing to compare" >&2
	exit 2
}
command -v cmake >/dev/null || {
	echo "libssh-readsize: needs cmake (contrib/install-deps.sh --bench)" >&2
	exit 2
}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${LIBSSH_WORK:-$root/build/libssh-readsize}
out=${BENCH_OUT:-$root/bench/results}
mkdir -p "$work" "$out"

for v in 4k 64k; do
	flags="-g -O2"
	[ "$v" = 64k ] && flags="$flags -DMAX_BUF_SIZE=65536"
	if [ ! -e "$work/$v/lib/libssh.so.4" ]; then
		echo "libssh-readsize: building libssh ($v read) in $work/$v" >&2
		mkdir -p "$work/$v"
		# The data path does not use GSSAPI, pcap or the NaCl curve25519
		# (OpenSSL's is used); leaving them out keeps the build dependencies
		# to what install-deps already has.
		(cd "$work/$v" && cmake "$src" -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="$flags" \
			-DWITH_GSSAPI=OFF -DWITH_EXAMPLES=OFF -DWITH_NACL=OFF -DWITH_PCAP=OFF >cmake.log 2>&1 &&
			make -j"$(nproc)" ssh >make.log 2>&1) || {
			echo "libssh-readsize: the $v build failed, see $work/$v/cmake.log and make.log" >&2
			exit 1
		}
	fi
done

export BENCH_QUICK=${BENCH_QUICK:-1} BENCH_SIZE_MB=${BENCH_SIZE_MB:-1024} BENCH_ONLY=${BENCH_ONLY:-tp sftp mem}
export BENCH_OUT=$out
runs=()
for ((r = 1; r <= ${ROUNDS:-2}; r++)); do
	for v in 4k 64k; do
		echo "libssh-readsize: round $r, libssh reading $v per poll" >&2
		BENCH_PRELOAD=$work/$v/lib/libssh.so.4 BENCH_TAG=libssh$v-$r "$root/bench/run.sh"
		# Named DATE-HOST-TAG.json: the last in sort order is this run's.
		found=("$out"/*-libssh"$v-$r".json)
		runs+=("${found[-1]}")
	done
done
summary=${runs[-1]%-libssh64k-*}-libssh-readsize.md
{
	echo "# libssh socket read size: 4 KiB (as shipped) against 64 KiB"
	echo
	echo "bench/libssh-readsize.sh $src (libssh $(sed -n 's/^project(libssh VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")), ROUNDS=${ROUNDS:-2}, BENCH_ONLY=\"$BENCH_ONLY\", BENCH_SIZE_MB=$BENCH_SIZE_MB;"
	echo "gatehouse $(git -C "$root" rev-parse --short HEAD). Each column is one bench/run.sh run (linked below); ratios are to -J and direct in the same run."
	echo
	/usr/bin/python3 "$root/bench/compare.py" "${runs[@]}"
	echo
	for r in "${runs[@]}"; do echo "- $(basename "${r%.json}.md")"; done
} >"$summary"
cat "$summary"
