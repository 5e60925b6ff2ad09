#!/usr/bin/env bash
# Assemble a private CPython 3.14 from Debian sid binary packages, for hosts
# (Debian 12 and friends) whose own archive has no Python >= 3.14.2.
#
#   scripts/lib/bootstrap-python.sh PREFIX   -> prints PREFIX/usr/bin/python3.14
#
# sid's python3.14 needs sid's glibc, so we take the whole dependency closure
# (libc6 included) with a private apt state that never touches the host's dpkg
# database, unpack it with dpkg-deb -x, and point the interpreter's ELF header
# at PREFIX's dynamic loader and libraries.  Host programs are unaffected.
# Progress goes to stderr; only the interpreter path goes to stdout.
set -euo pipefail

prefix=${1:?usage: $0 PREFIX}
suite=${COMMHUB_PY_SUITE:-sid}
mirror=${COMMHUB_PY_MIRROR:-http://deb.debian.org/debian}
triplet=x86_64-linux-gnu
py=$prefix/usr/bin/python3.14
log() { echo "bootstrap-python: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case $prefix in /*) ;; *) die "PREFIX must be absolute: $prefix" ;; esac
[ "$(uname -m)" = x86_64 ] || die "only x86_64 hosts are supported"
if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
  die "needs a Debian-family host (apt-get, dpkg-deb)"
fi

# Already assembled (the marker is written only after the self-test passed).
if [ -f "$prefix/.commhub-python-ok" ] && "$py" -c 'import ssl, venv' 2>/dev/null; then
  echo "$py"; exit 0
fi

if ! command -v patchelf >/dev/null; then
  [ "$(id -u)" = 0 ] || die "patchelf is missing: apt-get install patchelf"
  log "installing patchelf from the host's apt sources"
  { apt-get install -y -q patchelf || { apt-get update -q && apt-get install -y -q patchelf; }; } >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/commhub-python.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts" \
  "$work/debs" "$work/root"
: >"$work/status"
echo "deb $mirror $suite main" >"$work/sources.list"

# A private apt: our own lists/cache/empty dpkg status, and no host
# apt.conf.d parts (their update hooks are not ours to run).  The host's
# Acquire:: settings are kept because they may be what makes its mirror work
# (proxies, relaxed Valid-Until checks, ...).
{
  apt-config dump Acquire 2>/dev/null | grep -v -e '^Acquire::IndexTargets' || true
  cat <<CONF
Dir::Etc::parts "$work/parts";
Dir::Etc::main "/dev/null";
Dir::Etc::sourcelist "$work/sources.list";
Dir::Etc::sourceparts "$work/parts";
Dir::Etc::preferencesparts "$work/parts";
Dir::State "$work";
Dir::State::Lists "$work/lists";
Dir::State::status "$work/status";
Dir::Cache "$work/cache";
Debug::NoLocking "true";
APT::Architectures { "amd64"; };
APT::Install-Recommends "false";
Acquire::Languages "none";
CONF
  # apt's _apt download user cannot write into our root-owned temp dir.
  [ "$(id -u)" = 0 ] && echo 'APT::Sandbox::User "root";'
} >"$work/apt.conf"
export APT_CONFIG=$work/apt.conf

log "fetching python3.14 and its dependency closure from $suite"
apt-get -q update >"$work/log" 2>&1 || { cat "$work/log" >&2; die "apt-get update failed"; }
apt-get -q -y --download-only install python3.14 python3.14-venv >"$work/log" 2>&1 \
  || { cat "$work/log" >&2; die "could not resolve python3.14 in $suite"; }
mv "$work"/cache/archives/*.deb "$work/debs/"
# Headers only (for sdists); its own closure would drag in sid's libc6-dev.
(cd "$work/debs" && apt-get -q download libpython3.14-dev) >"$work/log" 2>&1 \
  || { cat "$work/log" >&2; die "could not download libpython3.14-dev"; }

root=$work/root
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
log "unpacked $(find "$work/debs" -name '*.deb' | wc -l) packages"

# Run against PREFIX's loader and libs.  DT_RPATH (not RUNPATH) because it is
# also searched for the libraries of dlopen()ed lib-dynload extension modules.
ldso=$prefix/usr/lib/$triplet/ld-linux-x86-64.so.2
[ -e "$root/usr/lib/$triplet/ld-linux-x86-64.so.2" ] || die "sid's libc6 layout changed"
patchelf --set-interpreter "$ldso" --force-rpath \
  --set-rpath "$prefix/usr/lib/$triplet" "$root/usr/bin/python3.14"

# Debian compiles in /usr/share/python-wheels for ensurepip; the host has no
# (or too old) wheels there, so point venv/ensurepip at PREFIX's copy.
sed -i "s|/usr/share/python-wheels|$prefix/usr/share/python-wheels|g" \
  "$root"/usr/lib/python3.14/_sysconfigdata__*.py \
  "$root"/usr/lib/python3.14/_sysconfig_vars__*.json
# Debian's pyconfig.h is a multiarch stub that includes the real one from the
# system include path; sdist builds would then pick up the host's (none).
cp "$root/usr/include/$triplet/python3.14/pyconfig.h" "$root/usr/include/python3.14/pyconfig.h"

if [ -n "$(ls -A "$prefix" 2>/dev/null)" ] && [ ! -e "$py" ]; then
  die "refusing to replace $prefix: not empty and not an earlier bootstrap"
fi
rm -rf "$prefix"
mkdir -p "$(dirname "$prefix")"
mv "$root" "$prefix"

# Self-test: the modules pip and Home Assistant need, and a working venv.
"$py" - "$prefix" <<'PY' || die "the assembled interpreter failed its self-test"
import sys, ssl, sqlite3, ctypes, lzma, bz2, zlib, readline, decimal, uuid, venv
assert sys.version_info >= (3, 14, 2), sys.version
# every shared library in this process must come from PREFIX, not the host
libs = {line.split()[-1] for line in open("/proc/self/maps") if ".so" in line}
host = sorted(lib for lib in libs if not lib.startswith(sys.argv[1] + "/"))
assert not host, f"host libraries loaded: {host}"
PY
if ! "$py" -m venv "$work/venv" >&2 || ! "$work/venv/bin/python" -m pip --version >&2; then
  die "venv/ensurepip do not work"
fi
"$py" -m compileall -q "$prefix/usr/lib/python3.14" >/dev/null 2>&1 || true
touch "$prefix/.commhub-python-ok"
log "ready: $("$py" --version) in $prefix"
echo "$py"
