// tunnel_mtu_emit.hpp — tunnel-mtu --emit: the figures as configuration a network engineer
// pastes, per platform, with the probe that verifies them. Each template names the vendor
// document that defines its syntax. An application of the library, not part of it.
#pragma once

#include "tunnel_mtu_report.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace encap::report {

inline constexpr std::string_view emit_platforms = "cisco, linux, nft, iptables, wg, juniper, fortios, windows";

struct emit_options {
  std::string interface;  // empty: the platform's usual name
  std::string peer;       // the far end's tunnel address, for the probe
};

namespace detail {

struct emit_figures {
  std::size_t mtu = 0;          // the tunnel MTU: the largest inner packet
  bool v4 = true, v6 = true;    // which families the tunnel carries
  std::size_t mss4 = 0, mss6 = 0;
  std::string header;           // comment text: what was computed from what
};

inline std::string n(std::size_t v) { return std::to_string(v); }

}  // namespace detail

// The lines for one platform, or an error message in `error`.
// Precondition: mtu_problem(s, mtu) is empty.
inline std::optional<std::string> emit(std::string_view platform, const stack_spec& s, std::size_t underlay,
                                       const emit_options& opt, std::string& error) {
  using detail::n;
  if (find_layer(s, layer_kind::iptfs) < s.rules.size()) {
    error = "an IP-TFS tunnel has no MTU of its own: RFC 9347 packs and splits inner packets, so keep the inner links' MTU";
    return std::nullopt;
  }
  detail::emit_figures f;
  f.mtu = max_inner_size(s, underlay).value_or(0);
  const layer_rule& last = s.rules.back();
  if (last.inner_header) { f.v4 = last.kind == layer_kind::ipv4; f.v6 = last.kind == layer_kind::ipv6; }
  if (f.mtu < 1280) f.v6 = false;  // IPv6 needs a 1280-byte link (RFC 8200 §5): no IPv6 lines
  if (f.mtu <= 68) f.v4 = false;
  if (!f.v4 && !f.v6) { error = "the tunnel MTU " + n(f.mtu) + " is too small for IPv4 (68) and IPv6 (1280): nothing to configure"; return std::nullopt; }
  f.mss4 = f.mtu - 40;
  f.mss6 = f.mtu > 60 ? f.mtu - 60 : 0;
  f.header = "tunnel-mtu: " + to_string(s) + ", underlay MTU " + n(underlay) + " -> tunnel MTU " + n(f.mtu) +
             (f.v4 ? ", IPv4 MSS " + n(f.mss4) : std::string()) + (f.v6 ? ", IPv6 MSS " + n(f.mss6) : std::string());
  const std::string peer = opt.peer.empty() ? (f.v4 ? "PEER" : "PEER6") : opt.peer;
  const std::size_t ping4 = f.mtu - 28, ping6 = f.mtu - 48;
  // One MSS where a platform takes one value for both families: the one that fits both.
  const std::size_t mss_one = f.v6 ? f.mss6 : f.mss4;
  const bool has_esp = find_layer(s, layer_kind::esp) < s.rules.size();
  const bool has_gre = find_layer(s, layer_kind::gre) < s.rules.size();
  std::string o;

  if (platform == "cisco") {
    // Cisco IOS XE Interface and Hardware Component Command Reference: ip mtu, ipv6 mtu;
    // Cisco IOS IP Application Services Command Reference: ip tcp adjust-mss, ipv6 tcp adjust-mss;
    // Cisco IOS Network Management Command Reference: ping ... size (the whole IP datagram) df-bit.
    const std::string itf = opt.interface.empty() ? "Tunnel0" : opt.interface;
    o += "! " + f.header + "\n";
    o += "! syntax: Cisco IOS XE Interface and Hardware Component Command Reference (ip mtu, ipv6 mtu),\n";
    o += "!         IP Application Services Command Reference (ip tcp adjust-mss, ipv6 tcp adjust-mss)\n";
    o += "interface " + itf + "\n";
    if (f.v4) o += " ip mtu " + n(f.mtu) + "\n ip tcp adjust-mss " + n(f.mss4) + "\n";
    if (f.v6) o += " ipv6 mtu " + n(f.mtu) + "\n ipv6 tcp adjust-mss " + n(f.mss6) + "\n";
    o += "end\n";
    o += "! verify (Network Management Command Reference, ping: size counts the whole datagram):\n";
    if (f.v4) o += "!   ping " + peer + " size " + n(f.mtu) + " df-bit      <- passes\n!   ping " + peer + " size " + n(f.mtu + 1) + " df-bit      <- fails (M.M.M)\n";
    return o;
  }
  if (platform == "linux") {
    // ip-link(8): "mtu MTU"; ping(8) (iputils): -M do sets DF, -s is the ICMP payload size.
    const std::string itf = opt.interface.empty() ? "tun0" : opt.interface;
    o += "# " + f.header + "\n# syntax: ip-link(8) (mtu); ping(8) from iputils (-M do: set DF; -s: ICMP payload bytes)\n";
    o += "ip link set dev " + itf + " mtu " + n(f.mtu) + "\n";
    o += "# verify: the first passes, the second fails with \"message too long, mtu=" + n(f.mtu) + "\"\n";
    if (f.v4) o += "ping -M do -s " + n(ping4) + " -c 3 " + peer + "    # " + n(ping4) + " + 8 (ICMP) + 20 (IPv4) = " + n(f.mtu) + "\n" +
                   "ping -M do -s " + n(ping4 + 1) + " -c 1 " + peer + "\n";
    if (f.v6) o += "ping -6 -M do -s " + n(ping6) + " -c 3 " + (opt.peer.empty() ? std::string("PEER6") : opt.peer) + "   # " + n(ping6) +
                   " + 8 (ICMPv6) + 40 (IPv6) = " + n(f.mtu) + "\n";
    o += "# TCP MSS clamping: tunnel-mtu --emit nft (or iptables)\n";
    return o;
  }
  if (platform == "nft") {
    // nft(8), "TCP OPTIONS" / "EXTENSION HEADER EXPRESSIONS": tcp option maxseg size set.
    // SYNs both ways through the tunnel interface, only lowered (a smaller MSS stays).
    const std::string itf = opt.interface.empty() ? "tun0" : opt.interface;
    o += "# " + f.header + "\n# syntax: nft(8), tcp option maxseg size; load with: nft -f FILE\n";
    o += "table inet encap_mss {\n\tchain forward {\n\t\ttype filter hook forward priority mangle; policy accept;\n";
    for (const char* dir : {"oifname", "iifname"}) {
      if (f.v4) o += "\t\tmeta nfproto ipv4 " + std::string(dir) + " \"" + itf + "\" tcp flags & (syn | rst) == syn tcp option maxseg size > " +
                     n(f.mss4) + " tcp option maxseg size set " + n(f.mss4) + "\n";
      if (f.v6) o += "\t\tmeta nfproto ipv6 " + std::string(dir) + " \"" + itf + "\" tcp flags & (syn | rst) == syn tcp option maxseg size > " +
                     n(f.mss6) + " tcp option maxseg size set " + n(f.mss6) + "\n";
    }
    o += "\t}\n}\n";
    return o;
  }
  if (platform == "iptables") {
    // iptables-extensions(8): TCPMSS --set-mss, tcpmss --mss (only a larger MSS is lowered).
    const std::string itf = opt.interface.empty() ? "tun0" : opt.interface;
    o += "# " + f.header + "\n# syntax: iptables-extensions(8), TCPMSS target and tcpmss match\n";
    for (const char* dir : {"-o", "-i"}) {
      if (f.v4) o += "iptables -t mangle -A FORWARD " + std::string(dir) + " " + itf + " -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss " +
                     n(f.mss4 + 1) + ":65535 -j TCPMSS --set-mss " + n(f.mss4) + "\n";
      if (f.v6) o += "ip6tables -t mangle -A FORWARD " + std::string(dir) + " " + itf + " -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss " +
                     n(f.mss6 + 1) + ":65535 -j TCPMSS --set-mss " + n(f.mss6) + "\n";
    }
    return o;
  }
  if (platform == "wg") {
    // wg-quick(8): "MTU — if not specified, the MTU is automatically determined ...".
    if (find_layer(s, layer_kind::wireguard) == s.rules.size()) {
      error = "--emit wg needs a stack with a wireguard layer, e.g. 'ipv6/udp/wireguard/ipv4'";
      return std::nullopt;
    }
    o += "# " + f.header + "\n# syntax: wg-quick(8), [Interface] MTU\n[Interface]\nMTU = " + n(f.mtu) + "\n";
    if (f.v4) o += "# verify: ping -M do -s " + n(ping4) + " -c 3 " + peer + "   (one byte more fails)\n";
    return o;
  }
  if (platform == "juniper") {
    // Junos: "family inet mtu" / "family inet6 mtu" (the protocol MTU of a logical unit);
    // SRX "security flow tcp-mss" (ipsec-vpn, gre-in, gre-out, all-tcp);
    // ping: "size" is the ICMP payload (the device adds 8 + 20), "do-not-fragment".
    const std::string itf = opt.interface.empty() ? (has_esp ? "st0" : has_gre ? "gr-0/0/0" : "st0") : opt.interface;
    o += "# " + f.header + "\n# syntax: Junos family inet/inet6 mtu; security flow tcp-mss (SRX); ping size do-not-fragment\n";
    if (f.v4) o += "set interfaces " + itf + " unit 0 family inet mtu " + n(f.mtu) + "\n";
    if (f.v6) o += "set interfaces " + itf + " unit 0 family inet6 mtu " + n(f.mtu) + "\n";
    if (f.v4 && f.v6) o += "# one MSS for both families: IPv6's " + n(f.mss6) + " fits IPv4 too\n";
    if (has_esp) o += "set security flow tcp-mss ipsec-vpn mss " + n(mss_one) + "\n";
    else if (has_gre) o += "set security flow tcp-mss gre-in mss " + n(mss_one) + "\nset security flow tcp-mss gre-out mss " + n(mss_one) + "\n";
    else o += "set security flow tcp-mss all-tcp mss " + n(mss_one) + "\n";
    if (f.v4) o += "# verify: run ping " + peer + " size " + n(ping4) + " do-not-fragment count 3   (size " + n(ping4 + 1) + " fails)\n";
    return o;
  }
  if (platform == "fortios") {
    // FortiOS CLI reference: config system interface (mtu-override, mtu, tcp-mss);
    // execute ping-options df-bit / data-size (the ICMP payload; the default is 56).
    const std::string itf = opt.interface.empty() ? "vpn-tunnel" : opt.interface;
    o += "# " + f.header + "\n# syntax: FortiOS CLI reference, config system interface (mtu-override, mtu, tcp-mss)\n";
    o += "config system interface\n    edit \"" + itf + "\"\n        set mtu-override enable\n        set mtu " + n(f.mtu) +
         "\n        set tcp-mss " + n(mss_one) + "\n    next\nend\n";
    if (f.v4 && f.v6) o += "# one MSS for both families: IPv6's " + n(f.mss6) + " fits IPv4 too\n";
    if (f.v4) o += "# verify: execute ping-options df-bit yes; execute ping-options data-size " + n(ping4) + "; execute ping " + peer + "\n";
    return o;
  }
  if (platform == "windows") {
    // netsh interface ipv4 set subinterface ... mtu= store=persistent; ping -f (DF), -l (payload bytes).
    const std::string itf = opt.interface.empty() ? "Tunnel" : opt.interface;
    o += "REM " + f.header + "\nREM syntax: netsh interface ipv4|ipv6 set subinterface; ping -f (do not fragment, IPv4) -l (payload bytes)\n";
    if (f.v4) o += "netsh interface ipv4 set subinterface \"" + itf + "\" mtu=" + n(f.mtu) + " store=persistent\n";
    if (f.v6) o += "netsh interface ipv6 set subinterface \"" + itf + "\" mtu=" + n(f.mtu) + " store=persistent\n";
    if (f.v4) o += "REM verify: ping -f -l " + n(ping4) + " " + peer + "   (-l " + n(ping4 + 1) + " gives \"Packet needs to be fragmented but DF set.\")\n";
    return o;
  }
  error = "unknown platform '" + std::string(platform) + "' for --emit; one of: " + std::string(emit_platforms);
  return std::nullopt;
}

}  // namespace encap::report
