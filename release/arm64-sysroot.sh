#!/usr/bin/env bash
# Assembles an arm64 sysroot with Debian's node and python3 in it, for
# qemu-aarch64 -L: the packages are downloaded (apt-get download, Debian's
# registry) and unpacked into target/arm64-sysroot, never installed, so the
# host's own node/python are untouched. musl:arm64 too, for the musl checks. Prints the sysroot's path.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sys=$root/target/arm64-sysroot
if [ -x "$sys/usr/bin/node" ] && [ -x "$sys/usr/bin/python3" ] && [ -e "$sys/lib/ld-musl-aarch64.so.1" ]; then echo "$sys"; exit 0; fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  apt-get update -qq >&2
fi
apt-cache policy nodejs:arm64 | grep -q 'Candidate: [0-9]' || apt-get update -qq >&2
debs=$root/target/arm64-debs
mkdir -p "$debs" "$sys"
pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \
         --no-pre-depends nodejs:arm64 musl:arm64 python3.11-minimal:arm64 libpython3.11-stdlib:arm64 libc6:arm64 2>/dev/null \
       | grep -E '^[a-z0-9][^ <]*$' | grep -v -E '^(debconf|dpkg|perl-base|install-info|tzdata|media-types|readline-common|netbase|ca-certificates|sensible-utils)' | sort -u)
(cd "$debs" && for p in $pkgs; do
   case $p in *:arm64) ;; *) p=$p:arm64 ;; esac
   ls "${p%%:*}"_*_arm64.deb "${p%%:*}"_*_all.deb >/dev/null 2>&1 || apt-get download -qq "$p" >&2 2>/dev/null || apt-get download -qq "${p%%:*}" >&2 2>/dev/null || true
 done)
for f in "$debs"/*.deb; do dpkg-deb -x "$f" "$sys"; done
[ -e "$sys/usr/bin/python3" ] || ln -s python3.11 "$sys/usr/bin/python3"
test -x "$sys/usr/bin/node" && test -x "$sys/usr/bin/python3.11" && test -e "$sys/lib/ld-musl-aarch64.so.1"
echo "$sys"
