#!/usr/bin/env bash
# tunnel-mtu --emit nft / --emit iptables, loaded into a real kernel: a router namespace R
# forwards between hosts A and B, and the emitted rules sit on R's interface toward B
# (the stand-in for the tunnel interface). Checked with the kernel's own TCP:
#   - A's SYN (MSS 1460, from a 1500-byte veth) reaches B clamped to the emitted IPv4 MSS;
#   - B's SYN-ACK reaches A clamped too (the rules match both directions);
#   - the same over IPv6 with the IPv6 MSS;
#   - a SYN whose MSS is already below the clamp passes unchanged (the rules only lower).
# Expected MSS: the reference tunnel's 1374 (IPv4) and 1354 (IPv6), DESIGN.md's worked example.
# Exit 77 (skipped) when not root or a tool is missing.
set -euo pipefail
calc=$1
for tool in ip nft iptables ip6tables tcpdump nc; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (apt-get install nftables iptables tcpdump netcat-openbsd)"; exit 77; }
done
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces)"; exit 77; }

spec='ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre'
mss4=1374 mss6=1354
id=$$ work=$(mktemp -d)
A=encap-mA-$id R=encap-mR-$id B=encap-mB-$id
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in "$A" "$R" "$B"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$A" || { echo "SKIP: cannot create network namespaces"; exit 77; }
ip netns add "$R"; ip netns add "$B"
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

ip link add a0 netns "$A" type veth peer name ra0 netns "$R"
ip link add rb0 netns "$R" type veth peer name b0 netns "$B"
nsx "$A" ip addr add 10.9.1.2/24 dev a0;  nsx "$R" ip addr add 10.9.1.1/24 dev ra0
nsx "$R" ip addr add 10.9.2.1/24 dev rb0; nsx "$B" ip addr add 10.9.2.2/24 dev b0
nsx "$A" ip -6 addr add 2001:db8:91::2/64 dev a0 nodad;  nsx "$R" ip -6 addr add 2001:db8:91::1/64 dev ra0 nodad
nsx "$R" ip -6 addr add 2001:db8:92::1/64 dev rb0 nodad; nsx "$B" ip -6 addr add 2001:db8:92::2/64 dev b0 nodad
for ns in "$A" "$R" "$B"; do nsx "$ns" ip link set lo up; done
nsx "$A" ip link set a0 up; nsx "$R" ip link set ra0 up; nsx "$R" ip link set rb0 up; nsx "$B" ip link set b0 up
nsx "$A" ip route add default via 10.9.1.1;  nsx "$B" ip route add default via 10.9.2.1
nsx "$A" ip -6 route add default via 2001:db8:91::1; nsx "$B" ip -6 route add default via 2001:db8:92::1
nsx "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# One TCP handshake from A to B; prints the MSS B saw in the SYN and A saw in the SYN-ACK.
handshake() {  # family address port [client mss]
  local fam=$1 addr=$2 port=$3 cmss=${4:-}
  nsx "$B" tcpdump -i b0 -nn -v -c 1 "tcp[tcpflags] == tcp-syn and dst port $port or ip6 and tcp and dst port $port" > "$work/syn" 2>/dev/null & local t1=$!
  nsx "$A" tcpdump -i a0 -nn -v -c 1 "src port $port" > "$work/synack" 2>/dev/null & local t2=$!
  pids+=($t1 $t2)
  sleep 0.6
  nsx "$B" nc -"$fam" -l "$port" > /dev/null & local srv=$!; pids+=($srv)
  sleep 0.3
  if [[ -n "$cmss" ]]; then
    # a client that offers a small MSS: the route's advmss
    nsx "$A" ip route change default via "$([[ $fam == 4 ]] && echo 10.9.1.1 || echo 2001:db8:91::1)" advmss "$cmss" 2>/dev/null ||
      nsx "$A" ip -"$fam" route change default via "$([[ $fam == 4 ]] && echo 10.9.1.1 || echo 2001:db8:91::1)" advmss "$cmss"
  fi
  echo hello | nsx "$A" nc -"$fam" -N -w 3 "$addr" "$port" || true
  for _ in $(seq 30); do kill -0 "$t1" 2>/dev/null || kill -0 "$t2" 2>/dev/null || break; sleep 0.1; done
  kill "$t1" "$t2" "$srv" 2>/dev/null || true
  syn=$(grep -o 'mss [0-9]*' "$work/syn" | head -1 | cut -d' ' -f2)
  synack=$(grep -o 'mss [0-9]*' "$work/synack" | head -1 | cut -d' ' -f2)
  echo "  IPv$fam: SYN at B mss ${syn:-?}, SYN-ACK at A mss ${synack:-?}"
}

check() {  # label
  handshake 4 10.9.2.2 5101
  [[ "$syn" == "$mss4" && "$synack" == "$mss4" ]] || fail "$1: IPv4 MSS $syn/$synack, expected $mss4"
  handshake 6 2001:db8:92::2 5102
  [[ "$syn" == "$mss6" && "$synack" == "$mss6" ]] || fail "$1: IPv6 MSS $syn/$synack, expected $mss6"
}

echo "== no rules: the hosts offer 1460 / 1440"
handshake 4 10.9.2.2 5100
[[ "$syn" == 1460 ]] || fail "without rules the SYN should carry 1460, got $syn"

echo "== tunnel-mtu --emit nft --interface rb0"
"$calc" --mtu 1500 --emit nft --interface rb0 "$spec" | tee "$work/rules.nft"
nsx "$R" nft -f "$work/rules.nft" || fail "nft refused the emitted ruleset"
check nft
echo "== a SYN already below the clamp passes unchanged (MSS 1200)"
handshake 4 10.9.2.2 5103 1200
[[ "$syn" == 1200 ]] || fail "nft raised or changed a smaller MSS: $syn"
nsx "$A" ip route change default via 10.9.1.1
nsx "$R" nft flush ruleset

echo "== tunnel-mtu --emit iptables --interface rb0"
"$calc" --mtu 1500 --emit iptables --interface rb0 "$spec" | tee "$work/rules.sh"
while read -r line; do
  [[ "$line" == \#* || -z "$line" ]] && continue
  nsx "$R" $line || fail "the kernel refused: $line"
done < "$work/rules.sh"
check iptables
echo "emit lab: all checks passed"
