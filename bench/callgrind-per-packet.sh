#!/usr/bin/env bash
# Instructions per packet inside encap-bench's workload step, split into the crypto
# library's and everything else's (the harness's ring restore included, as for the raw
# baseline): what "per-packet work outside the cipher" means in docs/performance.md.
#
#   bench/callgrind-per-packet.sh build/default/bench/encap-bench ipsec_mb encap aes-256-gcm-16 64
#   (operations: raw, encap, raw-open, decap, rt-encap, rt-decap; needs valgrind)
set -euo pipefail
bench=$1 backend=$2 op=$3 suite=$4 size=$5
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out/cg" --toggle-collect='*workload*step*' "$bench" \
  --benchmark_filter="^$backend/$op/$suite/$size\$" --benchmark_min_time=0.02 >/dev/null 2>&1
callgrind_annotate --inclusive=no --auto=yes "$out/cg" >"$out/ann" 2>/dev/null
total=$(awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}' "$out/ann")
lib_re=$([ "$backend" = ipsec_mb ] && echo 'libIPSec_MB' || echo 'libbotan')
lib=$(grep -E "^ *[0-9,]+ .*\[.*$lib_re" "$out/ann" | awk '{gsub(",","",$1); s+=$1} END{print s+0}')
# packets: step's calls of restore(), one per packet
packets=$(grep -E "=> .*workload.*::restore\(.*\(([0-9,]+)x\)" "$out/ann" | head -1 | sed -E 's/.*\(([0-9,]+)x\).*/\1/' | tr -d ,)
echo "$backend/$op/$suite/$size: $((total / packets)) instructions per packet, library $((lib / packets)), outside it $(((total - lib) / packets)) ($packets packets)"
