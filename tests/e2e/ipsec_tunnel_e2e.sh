#!/usr/bin/env bash
# End-to-end: examples/ipsec-tunnel on both sides of a veth pair between two network
# namespaces, the kernel's ping and TCP as the clients, in the I/O modes the strongSwan
# lab (NAT-T with every offload on) does not reach:
#   plain     ESP in IPv4 on raw sockets (IP_HDRINCL out, IPPROTO_ESP in), TUN TSO on;
#   natt-off  ESP in UDP 4500 on the UDP socket with `offload = no`: one packet per
#             message, no UDP GSO/GRO, no TUN offload.
# Each: 5 pings, a 2 MiB TCP transfer byte-identical (SHA-256), and on exit both tunnels
# report ESP received and no decap error. Only addresses inside the namespaces it creates.
# Usage: ipsec_tunnel_e2e.sh path/to/ipsec-tunnel plain|natt-off
# Exit 77 (skipped) when not root or a tool is missing.
set -euo pipefail
tunnel=$1 mode=$2
case "$mode" in
  plain) stack_a="ipv4(src=192.0.2.1,dst=192.0.2.2)/esp(aes256gcm16)/ipv4"
         stack_b="ipv4(src=192.0.2.2,dst=192.0.2.1)/esp(aes256gcm16)/ipv4" extra="" ;;
  natt-off) stack_a="ipv4(src=192.0.2.1,dst=192.0.2.2)/udp(4500)/esp(aes256gcm16)/ipv4"
            stack_b="ipv4(src=192.0.2.2,dst=192.0.2.1)/udp(4500)/esp(aes256gcm16)/ipv4" extra="offload = no" ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
for tool in ip ping nc sha256sum; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (apt-get install iproute2 iputils-ping netcat-openbsd)"; exit 77; }
done
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, TUN, raw sockets)"; exit 77; }
[[ -c /dev/net/tun ]] || { echo "SKIP: no /dev/net/tun"; exit 77; }

id=$$ work=$(mktemp -d)
E1=encap-it1-$id E2=encap-it2-$id
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for ns in "$E1" "$E2"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL ($mode): $*"; for s in 1 2; do echo "--- tunnel $s:"; cat "$work/t$s.log" 2>/dev/null || true; done; exit 1; }
ip netns add "$E1" || { echo "SKIP: cannot create network namespaces"; exit 77; }
ip netns add "$E2"
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
ip link add u1 netns "$E1" type veth peer name u2 netns "$E2"
nsx "$E1" ip addr add 192.0.2.1/24 dev u1; nsx "$E2" ip addr add 192.0.2.2/24 dev u2
for ns in "$E1" "$E2"; do nsx "$ns" ip link set lo up; done
nsx "$E1" ip link set u1 up; nsx "$E2" ip link set u2 up
# veth leaves a UDP checksum for offload; the tunnel verifies non-zero ones (RFC 768),
# so it is computed in software, as a NIC would have on the wire
nsx "$E1" ethtool -K u1 tx off >/dev/null 2>&1 || true; nsx "$E2" ethtool -K u2 tx off >/dev/null 2>&1 || true
nsx "$E1" ip addr add 10.9.0.1/32 dev lo; nsx "$E2" ip addr add 10.9.0.2/32 dev lo

key() { printf '0x'; head -c 36 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
k1=$(key) k2=$(key)
sas="ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0xa0000001 aead rfc4106(gcm(aes)) $k1 128
ip xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0xb0000001 aead rfc4106(gcm(aes)) $k2 128"
printf 'tun = encap0\nstack = %s\n%s\n%s\n' "$stack_a" "$extra" "$sas" > "$work/t1.conf"
printf 'tun = encap0\nstack = %s\n%s\n%s\n' "$stack_b" "$extra" "$sas" > "$work/t2.conf"
# (ip netns exec runs the tunnel in its own process: $! is the tunnel, for the SIGTERM below)
ip netns exec "$E1" "$tunnel" "$work/t1.conf" > "$work/t1.log" 2>&1 & pids+=($!); t1=$!
ip netns exec "$E2" "$tunnel" "$work/t2.conf" > "$work/t2.log" 2>&1 & pids+=($!); t2=$!
for _ in $(seq 50); do
  nsx "$E1" ip link show encap0 >/dev/null 2>&1 && nsx "$E2" ip link show encap0 >/dev/null 2>&1 && break
  sleep 0.1
done
nsx "$E1" ip route add 10.9.0.2/32 dev encap0 src 10.9.0.1 || fail "no encap0 in namespace 1"
nsx "$E2" ip route add 10.9.0.1/32 dev encap0 src 10.9.0.2 || fail "no encap0 in namespace 2"

nsx "$E1" ping -c 5 -i 0.2 -W 2 -I 10.9.0.1 10.9.0.2 > "$work/ping" || fail "ping: $(tail -2 "$work/ping")"

head -c $((2 << 20)) /dev/urandom > "$work/data"
nsx "$E2" nc -l 10.9.0.2 5001 > "$work/received" & nc_pid=$!; pids+=($nc_pid)
sleep 0.3
nsx "$E1" nc -N -w 5 -s 10.9.0.1 10.9.0.2 5001 < "$work/data" || fail "nc send"
wait "$nc_pid" || true
sent=$(sha256sum < "$work/data" | cut -d' ' -f1) got=$(sha256sum < "$work/received" | cut -d' ' -f1)
[[ $sent == "$got" ]] || fail "TCP: sent $sent, received $got ($(stat -c %s "$work/received") bytes)"

kill "$t1" "$t2"; wait "$t1" 2>/dev/null || true; wait "$t2" 2>/dev/null || true
# at least: tunnel 1 the 5 echo replies, tunnel 2 the 2 MiB in segments of at most 1398
# bytes (the clamped MSS), 1500 of them
for s in 1 2; do
  received=$(sed -n 's/.*ESP received \([0-9]*\).*/\1/p' "$work/t$s.log")
  least=$([[ $s == 1 ]] && echo 5 || echo 1500)
  [[ ${received:-0} -ge $least ]] || fail "tunnel $s received ${received:-no} ESP packets, fewer than $least"
  if grep -q "decap error" "$work/t$s.log"; then fail "tunnel $s: $(grep 'decap error' "$work/t$s.log")"; fi
done
mode_line=$(grep -m1 "tunnel MTU" "$work/t1.log")
echo "PASS ($mode): 5 pings, 2 MiB TCP with equal SHA-256; ${mode_line##*; }; $(grep -m1 'ESP sent' "$work/t1.log" | sed 's/^ *//')"
