#!/bin/sh
# Install the Debian 12 packages Gatehouse builds, tests and runs with.
# Non-interactive; safe to run again (apt-get skips what is installed).
set -eu

BUILD="build-essential pkg-config clang libclang-rt-14-dev
  libssh-dev libssh2-1-dev libpam0g-dev liboath-dev libsqlite3-dev libzstd-dev
  libssl-dev libcrypt-dev libvterm-dev libqrencode-dev libjansson-dev
  libcmocka-dev libinih-dev libseccomp-dev"
TEST="openssh-server openssh-client dropbear-bin tmux python3-pexpect
  python3-paramiko putty-tools oathtool ssh-audit asciinema rsync zstd sqlite3
  libpam-modules"
RUN="openssh-client oathtool"

want="$BUILD $RUN"
case "${1:-}" in
--test) want="$BUILD $TEST" ;;
--build) want="$BUILD" ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run as root:  sudo $0 ${1:-}" >&2
	exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
