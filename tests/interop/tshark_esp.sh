#!/usr/bin/env bash
# Wireshark's tshark, an independent ESP implementation, decrypts and authenticates the
# packets that examples/esp-pcap builds (15 SAs: CBC, CTR, GCM-8/12/16 and NULL with
# HMAC-SHA1/SHA-2; tunnel and transport; GRE and plain; IPv6 underlay; NAT-T).
# Passes when every ESP ICV is [correct], none is [incorrect], and every inner ICMP echo
# request is dissected. Exit 77 (skipped) without tshark.
set -euo pipefail
tool=$1 work=$2
command -v tshark >/dev/null || { echo "SKIP: tshark not installed (apt-get install tshark)"; exit 77; }
mkdir -p "$work"
"$tool" "$work/esp.pcap" >/dev/null
args=()
while read -r line; do args+=(-o "uat:esp_sa:$line"); done < "$work/esp.pcap.keys"
out=$(tshark -r "$work/esp.pcap" -V -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE "${args[@]}" 2>/dev/null)
packets=$(wc -l < "$work/esp.pcap.keys")
correct=$(grep -c 'ESP ICV: .*\[correct\]' <<<"$out" || true)
incorrect=$(grep -c '\[incorrect\]' <<<"$out" || true)
pings=$(grep -c 'Type: 8 (Echo (ping) request)' <<<"$out" || true)
echo "tshark: $packets packets, $correct ICVs correct, $incorrect incorrect, $pings inner echo requests dissected"
[[ $packets -eq 15 && $correct -eq $packets && $incorrect -eq 0 && $pings -eq $packets ]]
