#!/usr/bin/env bash
# Reports the sections of the linked thumbv7em image and fails if any
# core::fmt code or any .data/.bss made it in.
set -euo pipefail
elf=$1
sec() {
  local hex
  hex=$(readelf -S -W "$elf" | awk -v n="$1" '{ for (i=1;i<=NF;i++) if ($i==n) { print $(i+4); exit } }')
  printf '%d' "0x${hex:-0}"
}
text=$(sec .text); text=${text:-0}
rodata=$(sec .rodata); rodata=${rodata:-0}
data=$(sec .data); data=${data:-0}
bss=$(sec .bss); bss=${bss:-0}
echo "thumbv7em-none-eabihf, example's fusewire part: .text=$text .rodata=$rodata .data=$data .bss=$bss bytes"
echo "largest functions:"
readelf -s -W "$elf" | awk '$4=="FUNC" {print $3, $8}' | sort -rn | head -8 | sed 's/^/  /'
if readelf -s -W "$elf" | grep -E 'core3fmt|core\.\.fmt|Formatter|Display' >/dev/null; then
  echo "FAIL: core::fmt code is linked:"; readelf -s -W "$elf" | grep -E 'core3fmt|core\.\.fmt|Formatter|Display'; exit 1
fi
echo "core::fmt: none linked"
if [ "$data" != 0 ] || [ "$bss" != 0 ]; then echo "FAIL: .data/.bss must be empty"; exit 1; fi
