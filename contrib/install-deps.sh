#!/bin/sh
# Install the Debian 12 packages Gatehouse builds, tests and runs with, and
# (as root) the unprivileged system user `gatehouse` the daemon drops to after
# binding its port. Non-interactive; safe to run again: apt-get skips what is
# installed and the user is created only when missing.
#   install-deps.sh            build + run packages
#   install-deps.sh --test     build + test packages
#   install-deps.sh --build    build packages only
#   install-deps.sh --bench    build + test + benchmark packages (make bench)
set -eu

BUILD="build-essential pkg-config clang libclang-rt-14-dev
  libssh-dev libssh2-1-dev libpam0g-dev liboath-dev libsqlite3-dev libzstd-dev
  libssl-dev libcrypt-dev libvterm-dev libqrencode-dev libjansson-dev
  libcmocka-dev libinih-dev libseccomp-dev tzdata"
TEST="openssh-server openssh-client dropbear-bin tmux python3-pexpect
  python3-paramiko putty-tools oathtool ssh-audit asciinema rsync zstd sqlite3
  libpam-modules python3 jq bc vim less openssl procps util-linux"
RUN="openssh-client oathtool"
# cmake and zlib1g-dev: bench/libssh-readsize.sh builds libssh from source.
BENCH="hyperfine gnuplot-nox iproute2 linux-perf strace valgrind cmake zlib1g-dev"

want="$BUILD $RUN"
case "${1:-}" in
--test) want="$BUILD $TEST" ;;
--build) want="$BUILD" ;;
--bench) want="$BUILD $TEST $BENCH" ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

# The daemon starts as root only to bind, then runs as this user. No login
# shell, no password, home = the data directory of an installed system.
ensure_user() {
	if getent passwd gatehouse >/dev/null 2>&1; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: note: system user 'gatehouse' is missing; as root run:" >&2
		echo "  useradd --system --home-dir /var/lib/gatehouse --no-create-home --shell /usr/sbin/nologin gatehouse" >&2
		return 0
	fi
	echo "install-deps: creating system user gatehouse"
	useradd --system --user-group --home-dir /var/lib/gatehouse --no-create-home \
		--shell /usr/sbin/nologin --comment "Gatehouse SSH bastion" gatehouse
}

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	ensure_user
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run as root:  sudo $0 ${1:-}" >&2
	ensure_user
	exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
ensure_user
