#!/usr/bin/env bash
# End-to-end: the reference lab on one machine. Four network namespaces joined by veth
# links, host A -- endpoint 1 == underlay == endpoint 2 -- host B, with
# examples/gre-ipsec-tunnel doing GRE over ESP (AES-256-CBC + HMAC-SHA1-96) between the
# endpoints and the kernel's own ping and TCP as the clients:
#   - ping -M do at exactly the computed tunnel MTU succeeds, one byte more is answered
#     with "Frag needed" carrying that MTU (built by encap, not the kernel);
#   - a 3000-byte ping without DF gets through (encap pre-fragments before encryption);
#   - a TCP transfer arrives byte-identical, and the SYN inside the tunnel carries the
#     clamped MSS;
#   - IPv6 through the same tunnel: a DF-sized ping6 one byte over the tunnel MTU gets
#     ICMPv6 Packet Too Big with that MTU (built by encap);
#   - a capture on the underlay shows only ESP.
# With --jumbo every link has MTU 9000 and the endpoints --underlay-mtu 9000: an 8978-byte
# packet without DF is pre-fragmented into tunnel-MTU pieces (the fragment buffers were
# once sized for 1500 and overflowed; under ASan this run would abort).
# Only addresses inside the namespaces it creates; cleans up even when it fails.
# Usage: tunnel_e2e.sh path/to/gre-ipsec-tunnel path/to/tunnel-mtu [--throughput] [--nat-t] [--jumbo]
# With --nat-t the endpoints carry ESP in UDP port 4500 (RFC 3948) and the underlay
# must show only that.
# Exit 77 (skipped) when not root or a tool is missing.
set -euo pipefail
tunnel=$1 calc=$2 throughput="" natt="" jumbo="" under=1500
for opt in "${@:3}"; do
  case "$opt" in
    --throughput) throughput=--throughput ;;
    --nat-t) natt=--nat-t ;;
    --jumbo) jumbo=1 under=9000 ;;
    *) echo "unknown option $opt"; exit 2 ;;
  esac
done
for tool in ip ping nc tcpdump sha256sum; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (apt-get install iproute2 iputils-ping netcat-openbsd tcpdump)"; exit 77; }
done
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, TUN, raw sockets)"; exit 77; }
[[ -c /dev/net/tun ]] || { echo "SKIP: no /dev/net/tun"; exit 77; }

id=$$ work=$(mktemp -d)
A=encap-hA-$id E1=encap-ep1-$id E2=encap-ep2-$id B=encap-hB-$id
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for ns in "$A" "$E1" "$E2" "$B"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$A" || { echo "SKIP: cannot create network namespaces"; exit 77; }
ip netns add "$E1"; ip netns add "$E2"; ip netns add "$B"
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

ip link add a0 netns "$A" type veth peer name a1 netns "$E1"
ip link add u1 netns "$E1" type veth peer name u2 netns "$E2"
ip link add b1 netns "$E2" type veth peer name b0 netns "$B"
nsx "$A" ip addr add 10.1.0.2/24 dev a0;    nsx "$E1" ip addr add 10.1.0.1/24 dev a1
nsx "$E1" ip addr add 192.0.2.1/24 dev u1;  nsx "$E2" ip addr add 192.0.2.2/24 dev u2
nsx "$E2" ip addr add 10.2.0.1/24 dev b1;   nsx "$B" ip addr add 10.2.0.2/24 dev b0
for ns in "$A" "$E1" "$E2" "$B"; do nsx "$ns" ip link set lo up; done
nsx "$A" ip link set a0 up; nsx "$E1" ip link set a1 up; nsx "$E1" ip link set u1 up
nsx "$E2" ip link set u2 up; nsx "$E2" ip link set b1 up; nsx "$B" ip link set b0 up
nsx "$A" ip route add default via 10.1.0.1
nsx "$B" ip route add default via 10.2.0.1
# IPv6 hosts on the same links (documentation prefix 2001:db8::/32, RFC 3849)
nsx "$A" ip -6 addr add 2001:db8:1::2/64 dev a0 nodad;  nsx "$E1" ip -6 addr add 2001:db8:1::1/64 dev a1 nodad
nsx "$E2" ip -6 addr add 2001:db8:2::1/64 dev b1 nodad; nsx "$B" ip -6 addr add 2001:db8:2::2/64 dev b0 nodad
nsx "$A" ip -6 route add default via 2001:db8:1::1
nsx "$B" ip -6 route add default via 2001:db8:2::1
for ns in "$E1" "$E2"; do
  nsx "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  nsx "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
done
if [[ -n "$jumbo" ]]; then
  nsx "$A" ip link set a0 mtu 9000; nsx "$E1" ip link set a1 mtu 9000; nsx "$E1" ip link set u1 mtu 9000
  nsx "$E2" ip link set u2 mtu 9000; nsx "$E2" ip link set b1 mtu 9000; nsx "$B" ip link set b0 mtu 9000
fi

# keys: fixed test keys, one SA per direction
k12=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f a12=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3
k21=202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f a21=c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3
cat > "$work/ep1.conf" <<CONF
tun = tun0
local = 192.0.2.1
remote = 192.0.2.2
icmp-source = 172.16.0.1
icmp6-source = 2001:db8:e1::1
underlay-mtu = $under
spi-out = 0x1001
spi-in = 0x1002
key-out = $k12
auth-out = $a12
key-in = $k21
auth-in = $a21
nat-t = $([[ -n $natt ]] && echo 1 || echo 0)
CONF
ip netns exec "$E1" "$tunnel" --config "$work/ep1.conf" > "$work/ep1.log" 2>&1 & pids+=($!)
ip netns exec "$E2" "$tunnel" --tun tun0 --local 192.0.2.2 --remote 192.0.2.1 --icmp-source 172.16.0.2 --icmp6-source 2001:db8:e2::1 \
  --underlay-mtu $under --spi-out 0x1002 --spi-in 0x1001 \
  --key-out $k21 --auth-out $a21 --key-in $k12 --auth-in $a12 $natt > "$work/ep2.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do nsx "$E1" ip link show tun0 >/dev/null 2>&1 && nsx "$E2" ip link show tun0 >/dev/null 2>&1 && break; sleep 0.1; done
nsx "$E1" ip route add 10.2.0.0/24 dev tun0
nsx "$E2" ip route add 10.1.0.0/24 dev tun0
nsx "$E1" ip -6 route add 2001:db8:2::/64 dev tun0
nsx "$E2" ip -6 route add 2001:db8:1::/64 dev tun0
for ns in "$E1" "$E2"; do nsx "$ns" sysctl -qw net.ipv4.conf.tun0.rp_filter=0; done
cat "$work/ep1.log"

# the figures encap's calculator gives for this stack
spec='ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre'
[[ -n "$natt" ]] && spec='ipv4/udp/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre'
mtu=$("$calc" --json --mtu $under "$spec" | sed 's/.*"max_inner":\([0-9]*\).*/\1/')
mss=$((mtu - 40))
echo "tunnel MTU $mtu, MSS clamp $mss"
fail() { echo "FAIL: $*"; echo "--- ep1"; cat "$work/ep1.log"; echo "--- ep2"; cat "$work/ep2.log"; exit 1; }

# underlay capture for the whole run
ip netns exec "$E1" tcpdump -i u1 -nn -U -w "$work/underlay.pcap" ip 2>/dev/null & pids+=($!)
sleep 0.5

echo "== ping through the tunnel ($(date +%T.%N))"
nsx "$A" ping -c 3 -i 0.2 -W 2 10.2.0.2 || fail "plain ping"

if [[ -n "$jumbo" ]]; then
  echo "== 8950-byte ping without DF over 9000-byte links: encap pre-fragments to $mtu ($(date +%T.%N))"
  nsx "$A" ping -M dont -s 8950 -c 3 -i 0.2 -W 2 10.2.0.2 || fail "8950-byte ping without DF"
  kill -INT "${pids[0]}" "${pids[1]}"
  sleep 0.5
  echo "--- endpoint 1"; cat "$work/ep1.log"
  grep -q "pre-fragmented: [1-9]" "$work/ep1.log" || fail "endpoint 1 did not pre-fragment"
  echo "e2e (jumbo): all checks passed"
  exit 0
fi

echo "== 3000-byte ping without DF (host A fragments at 1500, encap pre-fragments to $mtu) ($(date +%T.%N))"
nsx "$A" ping -M dont -s 3000 -c 3 -i 0.2 -W 2 10.2.0.2 || fail "3000-byte ping without DF"

echo "== IPv6 through the tunnel, then ping6 at $((mtu + 1)) bytes: Packet Too Big, mtu = $mtu ($(date +%T.%N))"
nsx "$A" ping -6 -c 2 -i 0.2 -W 2 2001:db8:2::2 || fail "ping6 through the tunnel"
out6=$(nsx "$A" ping -6 -M do -s $((mtu + 1 - 48)) -c 2 -i 0.5 -W 2 2001:db8:2::2 2>&1 || true)
echo "$out6"
grep -Eq "Packet too big: mtu=$mtu" <<<"$out6" || fail "no ICMPv6 Packet Too Big with mtu $mtu"

# the probes exactly as `tunnel-mtu --emit linux` prints them: the first passes, the second fails
probes=$("$calc" --emit linux --peer 10.2.0.2 --mtu $under "$spec" | grep '^ping -M do' | sed 's/ *#.*//')
probe_ok=$(sed -n 1p <<<"$probes") probe_over=$(sed -n 2p <<<"$probes")
[[ "$probe_ok" == "ping -M do -s $((mtu - 28)) -c 3 10.2.0.2" ]] || fail "--emit linux probe: '$probe_ok'"
echo "== $probe_ok: exactly $mtu bytes ($(date +%T.%N))"
nsx "$A" $probe_ok -i 0.2 -W 2 || fail "ping at the tunnel MTU"

echo "== $probe_over: $((mtu + 1)) bytes, frag needed, mtu = $mtu ($(date +%T.%N))"
out=$(nsx "$A" $probe_over -i 0.5 -W 2 2>&1 || true)
echo "$out"
grep -Eq "Frag needed and DF set \(mtu = $mtu\)|mtu=$mtu" <<<"$out" || fail "no frag-needed with mtu $mtu"

echo "== TCP: 4 MiB from host A to host B, SYN seen on host B's side ($(date +%T.%N))"
# forget the PMTU host A learnt above, so its SYN offers 1460 and the clamp has work to do
nsx "$A" ip route flush cache
head -c $((4 * 1024 * 1024)) /dev/urandom > "$work/data"
nsx "$B" tcpdump -i b0 -nn -v -c 1 'tcp[13] & 2 != 0 and dst port 5001' > "$work/syn.txt" 2>/dev/null & syn_pid=$!; pids+=($syn_pid)
sleep 0.5
nsx "$B" nc -l 5001 > "$work/received" & nc_pid=$!; pids+=($nc_pid)
sleep 0.3
nsx "$A" nc -N -w 5 10.2.0.2 5001 < "$work/data" || fail "nc send"
wait "$nc_pid" || true
wait "$syn_pid" || true
sent=$(sha256sum < "$work/data" | cut -d' ' -f1) got=$(sha256sum < "$work/received" | cut -d' ' -f1)
echo "sent $sent"; echo "got  $got ($(date +%T.%N))"
[[ "$sent" == "$got" ]] || fail "TCP data differs"
cat "$work/syn.txt"
grep -q "mss $mss" "$work/syn.txt" || fail "SYN does not carry the clamped MSS $mss"

if [[ "$throughput" == "--throughput" ]]; then
  echo "== throughput, 64 MiB: bare veth (host A -> endpoint 1) and through the tunnel (host A -> host B)"
  head -c $((64 * 1024 * 1024)) /dev/zero > "$work/big"
  for target in "$E1 10.1.0.1" "$B 10.2.0.2"; do
    set -- $target
    nsx "$1" nc -l 5002 > /dev/null & p=$!; pids+=($p)
    sleep 0.3
    t0=$(date +%s.%N); nsx "$A" nc -N 10.${2#10.} 5002 < "$work/big"; t1=$(date +%s.%N)
    wait "$p" || true
    awk -v a="$t0" -v b="$t1" -v d="$2" 'BEGIN { printf "to %s: %.0f Mbit/s\n", d, 64 * 8 * 1.048576 / (b - a) }'
  done
fi

sleep 0.5
kill "${pids[2]}" 2>/dev/null || true  # the underlay capture
sleep 0.3
total=$(tcpdump -r "$work/underlay.pcap" -nn 2>/dev/null | wc -l)
carrier='proto 50'
[[ -n "$natt" ]] && carrier='udp port 4500'
esp=$(tcpdump -r "$work/underlay.pcap" -nn "$carrier" 2>/dev/null | wc -l)
other=$(tcpdump -r "$work/underlay.pcap" -nn "not ($carrier)" 2>/dev/null | wc -l)
echo "underlay: $total IP packets, $esp ESP${natt:+ in UDP 4500}, $other other"
tcpdump -r "$work/underlay.pcap" -nn 2>/dev/null | sed -n 1,3p || true
tcpdump -r "$work/underlay.pcap" -nn "not ($carrier)" 2>/dev/null | sed -n 1,10p || true
[[ $esp -gt 100 && $other -eq 0 ]] || fail "the underlay carried something other than ESP"

kill -INT "${pids[0]}" "${pids[1]}"
sleep 0.5
echo "--- endpoint 1"; cat "$work/ep1.log"
echo "--- endpoint 2"; cat "$work/ep2.log"
grep -q "pre-fragmented: [1-9]" "$work/ep1.log" || fail "endpoint 1 did not pre-fragment"
grep -q "ICMP frag-needed sent: [1-9]" "$work/ep1.log" || fail "endpoint 1 sent no ICMP"
grep -q "MSS clamped: [1-9]" "$work/ep1.log" || fail "endpoint 1 clamped no SYN"
echo "e2e: all checks passed"
