#!/usr/bin/env bash
# Links one example's fusewire part for one target and reports its size.
#   size.sh <profile> <target> <example.c> <libfusewire_ffi.a> <out-dir>
# The GC roots are exactly the fusewire functions the example calls, so the
# figure is what that firmware pays. Details go to stdout first; the one
# machine-readable line, `size <profile> <target>: text=N data=N bss=N`, is
# appended to <out-dir>/size-lines.txt (the Makefile prints those last).
# Fails when core::fmt is linked, when .data/.bss are not empty, and for
# the minimal profile when the goals are missed: .text <= 1024 bytes on
# thumbv7em, no soft float and no 64-bit division on thumbv6m.
set -euo pipefail
profile=$1 target=$2 example=$3 lib=$4 out=$5
lld=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/rust-lld | head -1)
obj=$out/$profile-$target.o elf=$out/$profile-$target.elf
cc -std=c99 -c -Iinclude "$example" -o "$obj"
roots=$(nm -u "$obj" | grep -o 'fusewire_[a-z0-9_]*' | sort -u | sed 's/^/--undefined=/')
"$lld" -flavor gnu --gc-sections -e 0 $roots "$lib" -o "$elf" -Map "$elf.map"
sec() {
  local hex
  hex=$(readelf -S -W "$elf" | awk -v n="$1" '{ for (i=1;i<=NF;i++) if ($i==n) { print $(i+4); exit } }')
  printf '%d' "0x${hex:-0}"
}
text=$(sec .text) rodata=$(sec .rodata) data=$(sec .data) bss=$(sec .bss)
echo "$profile $target ($example): .text=$text .rodata=$rodata .data=$data .bss=$bss; largest functions:"
readelf -s -W "$elf" | awk '$4=="FUNC" {print $3, $8}' | sort -rn | head -6 | sed 's/^/  /'
fail=0
if [ "$profile" = mesh ]; then
  # Each object's functions (entry points and the core code only it
  # uses, by symbol name); the rest is shared: 64-bit division, memcpy.
  readelf -s -W "$elf" | awk '$4=="FUNC" {
      if ($8 ~ /chaos/) c += $3; else if ($8 ~ /pool/) p += $3; else if ($8 ~ /budget/) b += $3; else { o += $3; l = l " " $8 } }
    END { printf "  parts: chaos %d B, pool4 %d B, budget %d B, shared %d B:%s\n", c, p, b, o, l }'
  if [ "$target" = thumbv7em-none-eabihf ] && [ "$text" -gt 9216 ]; then
    echo "FAIL: chaos + pool4 + budget .text $text B is over its 9216 B ceiling (rustc 1.95.0; 8112 B on 2026-12-05)"; fail=1
  fi
fi
if readelf -s -W "$elf" | grep -E 'core3fmt|core\.\.fmt|Formatter' >/dev/null; then
  echo "FAIL: core::fmt code is linked"; fail=1
fi
if [ "$data" != 0 ] || [ "$bss" != 0 ]; then echo "FAIL: .data/.bss must be empty"; fail=1; fi
if [ "$profile" = minimal ]; then
  if [ "$target" = thumbv7em-none-eabihf ] && [ "$text" -gt 1024 ]; then
    echo "FAIL: minimal .text $text B is over the 1024 B goal"; fail=1
  fi
  if [ "$target" = thumbv6m-none-eabi ]; then
    soft=$(readelf -s -W "$elf" | awk '$4=="FUNC" {print $8}' | grep -E '^__aeabi_[fd]|^__(add|sub|mul|div)[sd]f3|^__(fix|float)' || true)
    div64=$(readelf -s -W "$elf" | awk '$4=="FUNC" {print $8}' | grep -E '^__aeabi_u?ldivmod|^__u?divdi3|^__u?moddi3|^__udivmoddi4' || true)
    [ -z "$soft" ] || { echo "FAIL: soft float linked: $soft"; fail=1; }
    [ -z "$div64" ] || { echo "FAIL: 64-bit division linked: $div64"; fail=1; }
    echo "  thumbv6m: no soft float, no 64-bit division"
  fi
fi
echo "size $profile $target: text=$text data=$data bss=$bss" >> "$out/size-lines.txt"
exit $fail
