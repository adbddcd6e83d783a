#!/usr/bin/env bash
# Builds the Debian package and checks it on this machine: apt-get install ./imsmeter_*.deb,
# imsmeter --version, the network module (libimsmeter-net.so: found and loaded by collect
# --http and --sink mqtt:, not linked by the binary), man -w for every page, the bash
# completion, the conffile, the system user owning /var/lib/imsmeter, systemd-analyze verify
# on the unit (when available), then apt-get purge, checking everything is gone. Needs root
# (CI runs as root).
# Usage: tests/package/test_package.sh [build-dir]   (default build-package)
# Refuses to run when imsmeter is already installed, so it never removes a real install.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build-package}"
fail() { echo "test_package: FAIL: $*" >&2; exit 1; }
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

if dpkg-query -W -f='${Status}' imsmeter 2>/dev/null | grep -q "install ok installed"; then
  fail "imsmeter is already installed here; not touching it"
fi

deb=$(scripts/package "$build" | tail -1)
[ -f "$deb" ] || fail "scripts/package printed no .deb"
case "$deb" in /*) ;; *) deb="./$deb" ;; esac  # apt-get takes a file for a path, not a name
echo "package: $deb"

# The package's own description: files, conffile, dependencies from the shared libraries.
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/imsmeter ./usr/share/man/man1/imsmeter.1.gz ./usr/share/man/man1/imsmeter-collect.1.gz \
  ./usr/share/bash-completion/completions/imsmeter ./usr/share/zsh/vendor-completions/_imsmeter \
  ./etc/imsmeter/imsmeter.toml ./lib/systemd/system/imsmeter-collect.service; do
  grep -q " $f\$" <<<"$contents" || fail "$f missing from the package"
done
grep -Eq " \./usr/lib/[^ ]*/?imsmeter/libimsmeter-net\.so\$" <<<"$contents" ||
  fail "the network module (usr/lib/<multiarch>/imsmeter/libimsmeter-net.so) missing"
[ "$(dpkg-deb -f "$deb" Package)" = imsmeter ] || fail "package name"
depends=$(dpkg-deb -f "$deb" Depends)
grep -q "libc6" <<<"$depends" || fail "Depends lacks libc6 (shlibdeps): $depends"
grep -q "libsqlite3" <<<"$depends" || fail "Depends lacks libsqlite3 (shlibdeps): $depends"
grep -q "libpaho-mqttpp3" <<<"$depends" || fail "Depends lacks the module's libpaho-mqttpp3: $depends"
dpkg-deb -I "$deb" conffiles | grep -qx "/etc/imsmeter/imsmeter.toml" || fail "conffile"

cleanup() { $sudo apt-get purge -y -qq imsmeter >/dev/null 2>&1 || true; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq --no-install-recommends "$deb" >/dev/null

imsmeter --version | grep -q "^imsmeter " || fail "imsmeter --version"
imsmeter --version | grep -q "^SQLite " || fail "--version names SQLite"
# The network module: not linked by the binary, found where the package put it and loaded by
# the options that need it.
if command -v readelf >/dev/null 2>&1; then
  ! readelf -d /usr/bin/imsmeter | grep -Eq "NEEDED.*(paho|httplib|modbus|libssl|libcrypto)" ||
    fail "/usr/bin/imsmeter links a network library: $(readelf -d /usr/bin/imsmeter | grep NEEDED)"
fi
work=$(mktemp -d)
imsmeter simulate --meters 2 --model S2-480-N-01-01-041-01 --duration 1h --out "file:$work/cap.bin" \
  --no-progress --quiet >/dev/null 2>&1 || fail "imsmeter simulate"
out=$(imsmeter collect --source "file:$work/cap.bin" --db "$work/p.db" --http 127.0.0.1:0 \
  --sink mqtt://127.0.0.1:1 --log-level error 2>&1) ||
  fail "collect --http --sink mqtt: with the installed module: $out"
grep -q "imsmeter collect: listening on http://127.0.0.1:" <<<"$out" ||
  fail "collect --http did not listen: $out"
rm -rf "$work"
man -w imsmeter >/dev/null || fail "man -w imsmeter"
for c in decode model collect readings events meters report rebuild simulate accuracy; do
  man -w "imsmeter-$c" >/dev/null || fail "man -w imsmeter-$c"
done
bash -c 'source /usr/share/bash-completion/completions/imsmeter &&
  COMP_WORDS=(imsmeter dec) COMP_CWORD=1 && _imsmeter && [ "${COMPREPLY[*]}" = decode ]' ||
  fail "bash completion of 'imsmeter dec'"
getent passwd imsmeter >/dev/null || fail "no imsmeter system user"
[ "$(stat -c %U /var/lib/imsmeter)" = imsmeter ] || fail "/var/lib/imsmeter not owned by imsmeter"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify /lib/systemd/system/imsmeter-collect.service ||
    fail "systemd-analyze verify"
else
  echo "systemd-analyze not available: unit not verified"
fi

trap - EXIT
$sudo apt-get purge -y -qq imsmeter >/dev/null
hash -r  # bash remembers where it ran imsmeter; command -v must search PATH again
! command -v imsmeter >/dev/null 2>&1 || fail "imsmeter still on PATH after purge"
[ ! -e /etc/imsmeter/imsmeter.toml ] || fail "conffile left after purge"
! compgen -G "/usr/lib/*/imsmeter/libimsmeter-net.so" >/dev/null || fail "module left after purge"
! getent passwd imsmeter >/dev/null || fail "imsmeter user left after purge"
[ ! -e /var/lib/imsmeter ] || fail "/var/lib/imsmeter left after purge (it was empty)"
echo "test_package: ok"
