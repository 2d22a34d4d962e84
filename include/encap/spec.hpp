// encap/spec.hpp — the same stacks, parsed at run time from text, for tools and
// configuration files:
//
//   ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre      GRE over IPsec, tunnel mode
//   ipv6/udp/esp(aes-128-gcm-16)/ipv4                NAT-T, IPv4 in IPv6
//
// Parsing produces the layer_rule array the typed stacks produce, so every calculator
// gives the same answer either way. Setup-time code: it allocates and returns errors
// that point at the offending token and list what would be valid.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/suite_names.hpp"
#include "crypto/suites.hpp"
#include "layering.hpp"
#include "layers/ah.hpp"
#include "layers/esp.hpp"
#include "layers/ethernet.hpp"
#include "layers/geneve.hpp"
#include "layers/gre.hpp"
#include "layers/gtpu.hpp"
#include "layers/ip.hpp"
#include "layers/ipv4.hpp"
#include "layers/ipv6.hpp"
#include "layers/ipv6_ext.hpp"
#include "layers/iptfs.hpp"
#include "layers/l2tpv3.hpp"
#include "layers/macsec.hpp"
#include "layers/mpls.hpp"
#include "layers/openvpn.hpp"
#include "layers/pppoe.hpp"
#include "layers/tcp.hpp"
#include "layers/udp.hpp"
#include "layers/vxlan.hpp"
#include "layers/wireguard.hpp"
#include "sizing.hpp"
#include "text_error.hpp"

namespace encap {
inline namespace v0 {

using spec_error = text_error;  // where and what, with format() for a caret line

// A layer's run-time values, where the spec gives them: ipv4(src=192.0.2.1,dst=192.0.2.2,ttl=64),
// ipv6(src=2001:db8::1,dst=2001:db8::2,hops=64), udp(4500) or udp(sport=4500,dport=4500),
// gre(key=42). The calculators ignore them; the run-time endpoint writes them.
struct layer_values {
  ipv4 v4{};
  ipv6 v6{};
  udp ports{};
  std::uint32_t gre_key = 0;
};

struct stack_spec {
  std::vector<layer_rule> rules;    // outermost first, in context: input to every calculator
  std::vector<esp_mode> modes;      // per layer; meaningful for ESP layers
  std::vector<layer_values> values; // per layer; addresses, ports, GRE key
  std::string text;                 // canonical spelling

  operator rule_span() const noexcept { return rules; }  // NOLINT: a spec is its rules
};

// The parser's answer, in result<T>'s vocabulary: has_value(), value() (or * and ->),
// error() with the position and message (text_error.hpp).
using spec_result = parsed<stack_spec>;

namespace detail {

struct token { std::string_view text; std::size_t offset; };

// 'text', built by appending: GCC 12's -O3 warns (-Wrestrict, a false positive) on
// "'" + std::string(...), which inserts one character at the front.
inline std::string quoted(std::string_view text) {
  std::string s;
  s.reserve(text.size() + 2);
  s += '\'';
  s += text;
  s += '\'';
  return s;
}

inline std::string join_names(std::uint32_t mask) {
  std::string s;
  for (std::size_t k = 0; k < layer_kind_count; ++k)
    if (mask & (1u << k)) { if (!s.empty()) s += ", "; s += to_string(static_cast<layer_kind>(k)); }
  return s;
}

inline std::string cipher_names() {
  std::string s;
  for (const auto& c : ciphers) { if (!s.empty()) s += ", "; s += c.name; }
  return s;
}

inline std::string integ_names() {
  std::string s;
  for (const auto& i : integrities) if (!i.name.empty()) { if (!s.empty()) s += ", "; s += i.name; }
  return s;
}

inline std::optional<std::size_t> parse_size(std::string_view v) {
  std::size_t n = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
  if (r.ec != std::errc{} || r.ptr != v.data() + v.size()) return std::nullopt;
  return n;
}

// Dotted-quad IPv4 (four decimal octets, no leading '+' or spaces).
inline bool parse_ipv4_address(std::string_view t, std::array<std::uint8_t, 4>& out) {
  std::size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    std::size_t e = pos;
    while (e < t.size() && t[e] != '.') ++e;
    const auto n = parse_size(t.substr(pos, e - pos));
    if (!n || *n > 255 || e == pos || e - pos > 3) return false;
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(*n);
    if (i < 3 && e == t.size()) return false;
    pos = e + 1;
  }
  return pos == t.size() + 1;
}

// IPv6 text (RFC 4291 §2.2: groups of 1 to 4 hex digits, one "::", a trailing dotted quad).
inline bool parse_ipv6_address(std::string_view t, std::array<std::uint8_t, 16>& out) {
  // the groups of one side of "::" into words; false on a malformed group
  auto groups = [](std::string_view side, bool last, std::uint16_t* w, std::size_t& n) {
    if (side.empty()) return true;
    std::size_t pos = 0;
    while (true) {
      const std::size_t e = std::min(side.find(':', pos), side.size());
      const std::string_view g = side.substr(pos, e - pos);
      if (last && e == side.size() && g.find('.') != std::string_view::npos) {
        std::array<std::uint8_t, 4> v4{};
        if (n > 6 || !parse_ipv4_address(g, v4)) return false;
        w[n++] = static_cast<std::uint16_t>(v4[0] << 8 | v4[1]);
        w[n++] = static_cast<std::uint16_t>(v4[2] << 8 | v4[3]);
        return true;
      }
      unsigned v = 0;
      const auto r = std::from_chars(g.data(), g.data() + g.size(), v, 16);
      if (g.empty() || g.size() > 4 || n == 8 || r.ec != std::errc{} || r.ptr != g.data() + g.size()) return false;
      w[n++] = static_cast<std::uint16_t>(v);
      if (e == side.size()) return true;
      pos = e + 1;
    }
  };
  std::uint16_t head[8] = {}, tail[8] = {};
  std::size_t nh = 0, nt = 0;
  const std::size_t gap = t.find("::");
  if (gap == std::string_view::npos) {
    if (!groups(t, true, head, nh) || nh != 8) return false;
  } else {
    if (t.find("::", gap + 1) != std::string_view::npos) return false;
    if (!groups(t.substr(0, gap), false, head, nh) || !groups(t.substr(gap + 2), true, tail, nt) || nh + nt > 7) return false;
  }
  std::uint16_t w[8] = {};
  for (std::size_t i = 0; i < nh; ++i) w[i] = head[i];
  for (std::size_t i = 0; i < nt; ++i) w[8 - nt + i] = tail[i];
  for (std::size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(w[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(w[i]);
  }
  return true;
}

class parser {
 public:
  explicit parser(std::string_view s) : s_(s) {}

  spec_result run() {
    stack_spec out;
    std::vector<std::optional<esp_mode>> explicit_mode;
    std::vector<token> names;
    std::size_t pos = 0;
    while (true) {
      const std::size_t start = pos;
      while (pos < s_.size() && s_[pos] != '/' && s_[pos] != '(') ++pos;
      token name{trim(s_.substr(start, pos - start), start)};
      std::vector<token> args;
      if (pos < s_.size() && s_[pos] == '(') {
        const std::size_t close = s_.find(')', pos);
        if (close == std::string_view::npos) return fail(pos, 1, "unbalanced '(': expected ')'");
        std::size_t a = pos + 1;
        while (a <= close) {
          std::size_t e = a;
          while (e < close && s_[e] != ',') ++e;
          const token t = trim(s_.substr(a, e - a), a);
          if (t.text.empty()) return fail(a, 1, "empty argument");
          args.push_back(t);
          a = e + 1;
        }
        pos = close + 1;
        while (pos < s_.size() && s_[pos] == ' ') ++pos;
        if (pos < s_.size() && s_[pos] != '/') return fail(pos, 1, "expected '/' between layers");
      }
      if (name.text.empty()) return fail(name.offset, 1, "empty layer: expected one of " + layer_names());
      if (out.rules.size() == max_layers) return fail(name.offset, name.text.size(), "too many layers (at most " + std::to_string(max_layers) + ")");
      std::optional<esp_mode> mode;
      layer_values values{};
      auto rule = layer(name, args, mode, values);
      if (!rule) return err_;
      out.rules.push_back(*rule);
      out.values.push_back(values);
      explicit_mode.push_back(mode);
      names.push_back(name);
      if (pos >= s_.size()) break;
      ++pos;  // '/'
    }

    // Modes: as given, else as the next layer shows on the wire (IP follows: tunnel).
    out.modes.resize(out.rules.size(), esp_mode::tunnel);
    for (std::size_t i = 0; i < out.rules.size(); ++i) {
      if (out.rules[i].kind != layer_kind::esp) continue;
      if (explicit_mode[i]) out.modes[i] = *explicit_mode[i];
      else if (i + 1 < out.rules.size())
        out.modes[i] = is_ip(out.rules[i + 1].kind) || out.rules[i + 1].kind == layer_kind::iptfs ? esp_mode::tunnel : esp_mode::transport;
    }
    for (std::size_t i = 0; i < out.rules.size(); ++i)
      if (out.rules[i].kind == layer_kind::esp && out.rules[i].pad_to && out.modes[i] == esp_mode::transport)
        return fail(names[i].offset, names[i].text.size(),
                    "TFC padding needs tunnel mode: only an inner IP header says where the payload ends (RFC 4303 §2.7)");
    // What the stack stands on, and what its innermost layer carries.
    if (needs_carrier(out.rules[0].kind))
      return fail(names[0].offset, names[0].text.size(),
                  quoted(to_string(out.rules[0].kind)) + " cannot be the outermost layer: nothing carries it; it rides in: " +
                      join_names(carriers_of(out.rules[0].kind)));
    const std::size_t last = out.rules.size() - 1;
    if (out.rules[last].kind == layer_kind::udp && !(last > 0 && out.rules[last - 1].kind == layer_kind::esp &&
                                                     out.modes[last - 1] == esp_mode::transport))
      return fail(names[last].offset, names[last].text.size(),
                  "'udp' at the end carries nothing the stack names; say what it carries: " + join_names(payloads_of(layer_kind::udp)));
    // Carrying rules and context.
    for (std::size_t i = 1; i < out.rules.size(); ++i) {
      const layer_kind o = out.rules[i - 1].kind, in = out.rules[i].kind;
      if (!may_carry(o, in, out.modes[i - 1])) {
        std::string m;
        if (o == layer_kind::esp)
          m = std::string("esp in ") + (out.modes[i - 1] == esp_mode::tunnel ? "tunnel" : "transport") +
              " mode cannot carry '" + std::string(to_string(in)) + "'; it carries: " + join_names(payloads_of(o, out.modes[i - 1]));
        else
          m = quoted(to_string(o)) + " cannot carry '" + std::string(to_string(in)) +
              "'; it carries: " + join_names(payloads_of(o));
        return fail(names[i].offset, names[i].text.size(), m);
      }
    }
    // ESP in UDP is port 4500 (RFC 3948 §2); udp(N) over ESP with another port is a mistake.
    for (std::size_t i = 0; i + 1 < out.rules.size(); ++i)
      if (out.rules[i].kind == layer_kind::udp && out.rules[i + 1].kind == layer_kind::esp)
        for (const token& t : udp_port_tokens_)
          if (t.offset > names[i].offset && t.offset < names[i + 1].offset && out.values[i].ports.dst_port != nat_t_port)
            return fail(t.offset, t.text.size(),
                        out.values[i].ports.dst_port == 500
                            ? "UDP 500 is IKE's port (RFC 7296 §2); ESP in UDP uses 4500 (RFC 3948 §2)"
                            : "ESP in UDP uses port 4500 (RFC 3948 §2); for a NAT-mapped peer port say udp(sport=4500,dport=N)");
    place_in_stack(out.rules.data(), out.rules.size());
    out.text = std::string(s_);
    return out;
  }

 private:
  std::string_view s_;
  spec_error err_;
  std::vector<token> udp_port_tokens_;

  token trim(std::string_view t, std::size_t off) const {
    while (!t.empty() && t.front() == ' ') { t.remove_prefix(1); ++off; }
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    return {t, off};
  }
  spec_result fail(std::size_t off, std::size_t len, std::string msg) {
    err_ = {off, len, std::move(msg)};
    return err_;
  }
  std::nullopt_t bad(const token& t, std::string msg) {
    err_ = {t.offset, t.text.size(), std::move(msg)};
    return std::nullopt;
  }
  static std::string layer_names() {
    std::string out;
    for (const layer_info& l : layer_table) { if (!out.empty()) out += ", "; out += l.name; }
    return out + " (and dot1q, qinq)";
  }

  // key=value or a bare word; returns the value part (empty for a bare word)
  static std::pair<std::string_view, std::string_view> kv(std::string_view a) {
    const auto eq = a.find('=');
    if (eq == std::string_view::npos) return {a, {}};
    return {a.substr(0, eq), a.substr(eq + 1)};
  }

  std::optional<std::size_t> number(const token& t, std::string_view v, std::string_view what) {
    auto n = parse_size(v);
    if (!n) { bad(t, std::string(what) + " needs a number, got '" + std::string(v) + "'"); }
    return n;
  }

  std::optional<layer_rule> no_args(const token& name, const std::vector<token>& args, layer_rule r) {
    if (!args.empty()) return bad(args[0], quoted(name.text) + " takes no arguments");
    return r;
  }

  // The name picks the row of layer_table; the switch (no default: the compiler names a
  // kind that is missing) picks its argument grammar.
  std::optional<layer_rule> layer(const token& name, const std::vector<token>& args, std::optional<esp_mode>& mode,
                                  layer_values& v) {
    const std::string_view n = name.text;
    const auto match = layer_by_name(n);
    if (!match.found) return bad(name, "unknown layer '" + std::string(n) + "'; valid layers: " + layer_names());
    switch (match.kind) {
      case layer_kind::ipv4: return ip(args, false, v);
      case layer_kind::ipv6: return ip(args, true, v);
      case layer_kind::udp: return udp_ports(args, v);
      case layer_kind::gre: return gre(args, v);
      case layer_kind::esp: return esp(name, args, mode);
      case layer_kind::ethernet: return eth(n, args);
      case layer_kind::pppoe: return no_args(name, args, pppoe_rule());
      case layer_kind::mpls: return mpls(args);
      case layer_kind::vxlan: return no_args(name, args, vxlan_rule());
      case layer_kind::geneve: return geneve(args);
      case layer_kind::l2tpv3: return l2tpv3(args);
      case layer_kind::macsec: return macsec(args);
      case layer_kind::wireguard: return no_args(name, args, wireguard_rule());
      case layer_kind::ah: return ah(name, args);
      case layer_kind::tcp: return tcp(args);
      case layer_kind::iptfs: return iptfs(args);
      case layer_kind::hbh: return ipv6_options(args, true);
      case layer_kind::dstopts: return ipv6_options(args, false);
      case layer_kind::srh: return srh(name, args);
      case layer_kind::frag: return no_args(name, args, frag_rule());
      case layer_kind::openvpn: return openvpn(name, args);
      case layer_kind::gtpu: return gtpu(args);
    }
    return bad(name, "unknown layer");
  }

  // A single number, bare or as key=N.
  std::optional<std::size_t> one_number(const std::vector<token>& args, std::string_view key, std::string_view what,
                                        std::size_t if_absent) {
    if (args.empty()) return if_absent;
    if (args.size() > 1) { bad(args[1], std::string(what) + ": one argument"); return std::nullopt; }
    auto [k, v] = kv(args[0].text);
    const std::string_view num = v.empty() ? k : (k == key ? v : std::string_view{});
    if (num.empty()) { bad(args[0], std::string(what) + ": a number, or " + std::string(key) + "=N"); return std::nullopt; }
    return number(args[0], num, what);
  }

  std::optional<layer_rule> ah(const token& name, const std::vector<token>& args) {
    if (args.size() != 1)
      return bad(args.empty() ? name : args[1], "ah takes one integrity algorithm, e.g. ah(hmac-sha256-128) or ah(sha1); valid: " +
                                                    integ_names() + ", aes-gmac-128, aes-gmac-192, aes-gmac-256");
    const std::string_view k = args[0].text;
    for (const std::size_t bits : {128u, 192u, 256u})
      if (k == "aes-gmac-" + std::to_string(bits) || k == "aes" + std::to_string(bits) + "gmac") return ah_gmac_rule(bits);
    for (const auto& i : integrities)
      if (!i.name.empty() && i.id != integ_id::none && (i.name == k || alias(k) == i.name)) return ah_rule(i.id);
    return bad(args[0], "unknown AH integrity algorithm '" + std::string(k) + "'; valid: " + integ_names() +
                            ", aes-gmac-128, aes-gmac-192, aes-gmac-256");
  }

  std::optional<layer_rule> tcp(const std::vector<token>& args) {
    std::size_t options = 0;
    for (const auto& a : args) {
      auto [k, val] = kv(a.text);
      if ((k == "options" || k == "opts") && !val.empty()) {
        const auto n = number(a, val, "TCP option bytes");
        if (!n) return std::nullopt;
        if (!tcp_options_valid(*n)) return bad(a, "TCP options are 0..40 bytes in 4-byte words (RFC 9293 §3.1)");
        options = *n;
      } else if (val.empty() && parse_size(k)) {  // a port: a value for a run-time endpoint, not a size
        if (*parse_size(k) < 1 || *parse_size(k) > 65535) return bad(a, "a TCP port is 1 to 65535");
      } else {
        return bad(a, "unknown TCP option '" + std::string(a.text) + "'; valid: PORT, options=N");
      }
    }
    return tcp_rule(options);
  }

  std::optional<layer_rule> iptfs(const std::vector<token>& args) {
    bool cc = false;
    for (const auto& a : args) {
      if (a.text == "cc" || a.text == "congestion-control") cc = true;
      else return bad(a, "unknown IP-TFS option '" + std::string(a.text) + "'; valid: cc (congestion control, RFC 9347 §6.1.2)");
    }
    return iptfs_rule(cc);
  }

  std::optional<layer_rule> ipv6_options(const std::vector<token>& args, bool hop_by_hop) {
    const auto n = one_number(args, "bytes", hop_by_hop ? "hbh" : "dstopts", ipv6_ext_unit);
    if (!n) return std::nullopt;
    if (!ipv6_options_size_valid(*n)) return bad(args[0], "an options header is 8..2048 bytes in 8-byte units (RFC 8200 §4.3)");
    return hop_by_hop ? hbh_rule(*n) : dstopts_rule(*n);
  }

  std::optional<layer_rule> srh(const token& name, const std::vector<token>& args) {
    std::optional<std::size_t> segments;
    std::size_t tlv = 0;
    for (const auto& a : args) {
      auto [k, val] = kv(a.text);
      if (k == "tlv" && !val.empty()) {
        const auto n = number(a, val, "SRH TLV bytes");
        if (!n) return std::nullopt;
        tlv = *n;
      } else {
        const auto n = number(a, val.empty() ? k : (k == "segments" ? val : std::string_view{}), "SRH segments");
        if (!n) return std::nullopt;
        segments = *n;
      }
      if (!srh_valid(segments.value_or(1), tlv))
        return bad(a, "an SRH has 1..127 segments and TLVs in 8-byte units, 2048 bytes at most (RFC 8754 §2)");
    }
    if (!segments) return bad(name, "srh needs the number of segments, e.g. srh(3) (RFC 8754: 8 + 16 per segment)");
    return srh_rule(*segments, tlv);
  }

  std::optional<layer_rule> openvpn(const token& name, const std::vector<token>& args) {
    std::optional<std::size_t> cipher, auth;
    bool comp = false, v1 = false;
    std::string ciphers, auths;
    for (const auto& c : openvpn_ciphers) ciphers += (ciphers.empty() ? "" : ", ") + std::string(c.name);
    for (const auto& h : openvpn_auths) auths += (auths.empty() ? "" : ", ") + std::string(h.name);
    for (const auto& a : args) {
      const std::string_view k = a.text;
      if (k == "comp" || k == "compress") { comp = true; continue; }
      if (k == "v1") { v1 = true; continue; }
      bool found = false;
      for (std::size_t i = 0; i < openvpn_ciphers.size(); ++i)
        if (openvpn_ciphers[i].name == k) {
          if (cipher) return bad(a, "a second cipher; OpenVPN's data channel takes one");
          cipher = i; found = true;
        }
      for (std::size_t i = 0; i < openvpn_auths.size(); ++i)
        if (openvpn_auths[i].name == k) {
          if (auth) return bad(a, "a second auth digest");
          auth = i; found = true;
        }
      if (!found) return bad(a, "unknown OpenVPN option '" + std::string(k) + "'; ciphers: " + ciphers + "; auth: " + auths + "; comp, v1");
    }
    if (!cipher) return bad(name, "openvpn needs its data-channel cipher, e.g. openvpn(aes-256-gcm) or openvpn(aes-256-cbc,sha256); ciphers: " + ciphers);
    if (openvpn_ciphers[*cipher].aead && auth)
      return bad(args[0], "an AEAD cipher authenticates itself: no auth digest with " + std::string(openvpn_ciphers[*cipher].name));
    return openvpn_rule(*cipher, auth.value_or(0), comp, v1);
  }

  std::optional<layer_rule> gtpu(const std::vector<token>& args) {
    bool opt = false;
    std::size_t ext = 0;
    for (const auto& a : args) {
      auto [k, val] = kv(a.text);
      if (a.text == "seq") { opt = true; continue; }
      if (a.text == "pdu_session" || a.text == "pdu-session") { ext += gtpu_pdu_session_size; continue; }
      if (k == "ext" && !val.empty()) {
        const auto n = number(a, val, "GTP-U extension header bytes");
        if (!n) return std::nullopt;
        if (!gtpu_ext_valid(*n)) return bad(a, "GTP-U extension headers are multiples of 4 bytes (TS 29.281 §5.2)");
        ext += *n;
        continue;
      }
      return bad(a, "unknown GTP-U option '" + std::string(a.text) + "'; valid: seq, pdu_session, ext=N");
    }
    return gtpu_rule(opt, ext);
  }

  // Addresses and TTL: values for the run-time endpoint (the calculators need none).
  std::optional<layer_rule> ip(const std::vector<token>& args, bool v6, layer_values& v) {
    bool seen[3] = {};
    std::size_t options = 0;
    for (const auto& a : args) {
      auto [k, val] = kv(a.text);
      if (!v6 && (k == "options" || k == "opts") && !val.empty()) {
        const auto n = number(a, val, "IPv4 option bytes");
        if (!n) return std::nullopt;
        if (!ipv4_options_valid(*n)) return bad(a, "IPv4 options are 0..40 bytes in 4-byte words (RFC 791 §3.1)");
        options = *n;
        continue;
      }
      const int which = k == "src" ? 0 : k == "dst" ? 1 : (k == "ttl" || k == "hops" || k == "hop_limit") ? 2 : -1;
      if (which < 0 || val.empty())
        return bad(a, std::string("unknown ") + (v6 ? "IPv6" : "IPv4") + " option '" + std::string(a.text) +
                          "'; valid: src=ADDRESS, dst=ADDRESS, " + (v6 ? "hops=N" : "ttl=N, options=N"));
      if (seen[which]) return bad(a, quoted(k) + " given twice");
      seen[which] = true;
      if (which == 2) {
        const auto n = number(a, val, k);
        if (!n) return std::nullopt;
        if (*n < 1 || *n > 255) return bad(a, std::string(k) + " is 1 to 255");
        (v6 ? v.v6.hop_limit : v.v4.ttl) = static_cast<std::uint8_t>(*n);
        continue;
      }
      const bool ok = v6 ? parse_ipv6_address(val, which == 0 ? v.v6.src : v.v6.dst)
                         : parse_ipv4_address(val, which == 0 ? v.v4.src : v.v4.dst);
      if (!ok) return bad(a, std::string("not an ") + (v6 ? "IPv6" : "IPv4") + " address: '" + std::string(val) + "'");
    }
    return v6 ? ipv6_rule() : ipv4_rule(options);
  }

  // udp(4500) sets both ports; udp(sport=N,dport=N) each (a NAT may map the peer's port).
  std::optional<layer_rule> udp_ports(const std::vector<token>& args, layer_values& v) {
    bool seen_s = false, seen_d = false;
    for (const auto& a : args) {
      auto [k, val] = kv(a.text);
      const bool both = val.empty() || k == "port";
      if (!both && k != "sport" && k != "dport")
        return bad(a, "unknown UDP option '" + std::string(a.text) + "'; valid: PORT, port=N, sport=N, dport=N");
      const auto n = number(a, both && val.empty() ? k : val, "a UDP port");
      if (!n) return std::nullopt;
      if (*n < 1 || *n > 65535) return bad(a, "a UDP port is 1 to 65535");
      if ((both || k == "sport") && seen_s) return bad(a, "the source port given twice");
      if ((both || k == "dport") && seen_d) return bad(a, "the destination port given twice");
      if (both || k == "sport") { v.ports.src_port = static_cast<std::uint16_t>(*n); seen_s = true; }
      if (both || k == "dport") { v.ports.dst_port = static_cast<std::uint16_t>(*n); seen_d = true; }
      if (both) udp_port_tokens_.push_back(a);
    }
    return udp_rule();
  }

  std::optional<layer_rule> gre(const std::vector<token>& args, layer_values& v) {
    gre_opt o = gre_opt::none;
    for (const auto& a : args) {
      gre_opt f;
      auto [k, val] = kv(a.text);
      if (a.text == "csum" || a.text == "checksum") f = gre_opt::csum;
      else if (a.text == "key") f = gre_opt::key;
      else if (k == "key" && !val.empty()) {
        std::uint32_t key = 0;
        const auto r = std::from_chars(val.data(), val.data() + val.size(), key);
        if (r.ec != std::errc{} || r.ptr != val.data() + val.size()) return bad(a, "a GRE key is a number, 0 to 4294967295");
        v.gre_key = key;
        f = gre_opt::key;
      }
      else if (a.text == "seq") f = gre_opt::seq;
      else return bad(a, "unknown GRE option '" + std::string(a.text) + "'; valid: csum, key, key=N, seq");
      if (has(o, f)) return bad(a, "GRE option '" + std::string(a.text) + "' given twice");
      o = o | f;
    }
    return gre_rule(o);
  }

  std::optional<layer_rule> eth(std::string_view name, const std::vector<token>& args) {
    unsigned tags = name == "dot1q" || name == "vlan" ? 1 : name == "qinq" ? 2 : 0;
    for (const auto& a : args) {
      if (a.text == "vlan" || a.text == "dot1q") ++tags;
      else if (a.text == "qinq") tags += 2;
      else return bad(a, "unknown Ethernet option '" + std::string(a.text) + "'; valid: vlan, qinq");
      if (tags > 2) return bad(a, "at most two VLAN tags (802.1Q, QinQ)");
    }
    return ethernet_rule(tags);
  }

  std::optional<layer_rule> mpls(const std::vector<token>& args) {
    if (args.empty()) return mpls_rule(1);
    if (args.size() > 1) return bad(args[1], "mpls takes one argument: the number of labels");
    auto [k, v] = kv(args[0].text);
    const std::string_view num = v.empty() ? k : (k == "labels" ? v : std::string_view{});
    if (num.empty()) return bad(args[0], "mpls takes the number of labels, e.g. mpls(2) or mpls(labels=2)");
    auto c = number(args[0], num, "mpls labels");
    if (!c) return std::nullopt;
    if (*c < 1 || *c > 16) return bad(args[0], "an MPLS stack has 1 to 16 labels");
    return mpls_rule(static_cast<unsigned>(*c));
  }

  std::optional<layer_rule> geneve(const std::vector<token>& args) {
    if (args.empty()) return geneve_rule(0);
    if (args.size() > 1) return bad(args[1], "geneve takes one argument: option bytes, e.g. geneve(opt=8)");
    auto [k, v] = kv(args[0].text);
    const std::string_view num = v.empty() ? k : (k == "opt" || k == "options" ? v : std::string_view{});
    if (num.empty()) return bad(args[0], "geneve takes option bytes, e.g. geneve(opt=8)");
    auto c = number(args[0], num, "geneve option bytes");
    if (!c) return std::nullopt;
    if (!geneve_options_valid(*c)) return bad(args[0], "GENEVE options are 0..252 bytes in 4-byte units (RFC 8926)");
    return geneve_rule(*c);
  }

  std::optional<layer_rule> l2tpv3(const std::vector<token>& args) {
    std::size_t cookie = 0;
    bool sublayer = false;
    for (const auto& a : args) {
      auto [k, v] = kv(a.text);
      if (k == "sublayer" && v.empty()) { sublayer = true; continue; }
      if (k != "cookie") return bad(a, "unknown L2TPv3 option '" + std::string(a.text) + "'; valid: cookie=0|4|8, sublayer");
      auto c = number(a, v, "cookie");
      if (!c) return std::nullopt;
      if (!l2tpv3_cookie_valid(*c)) return bad(a, "an L2TPv3 cookie is 0, 4 or 8 bytes (RFC 3931)");
      cookie = *c;
    }
    return l2tpv3_rule(cookie, sublayer);
  }

  std::optional<layer_rule> macsec(const std::vector<token>& args) {
    bool sci = true;
    for (const auto& a : args) {
      if (a.text == "sci") sci = true;
      else if (a.text == "nosci" || a.text == "no-sci") sci = false;
      else return bad(a, "unknown MACsec option '" + std::string(a.text) + "'; valid: sci, nosci");
    }
    return macsec_rule(sci);
  }

  std::optional<layer_rule> esp(const token& name, const std::vector<token>& args, std::optional<esp_mode>& mode) {
    std::optional<cipher_id> cipher;
    integ_id integ = integ_id::unspecified;
    const token* integ_tok = nullptr;
    esp_padding pad{};
    const token* pad_tok = nullptr;
    bool have_pad = false, have_tfc = false;
    for (const auto& a : args) {
      auto [k, v] = kv(a.text);
      if (!v.empty() || k == "pad" || k == "tfc") {
        if (k != "pad" && k != "tfc") return bad(a, "unknown ESP option '" + std::string(k) + "'; valid: pad=N, tfc=N");
        bool& seen = k == "pad" ? have_pad : have_tfc;
        if (seen) return bad(a, "ESP option '" + std::string(k) + "' given twice");
        seen = true;
        auto n = number(a, v, std::string(k));
        if (!n) return std::nullopt;
        if (k == "pad") pad.extra = *n;
        else pad.tfc_boundary = *n;
        pad_tok = &a;
        continue;
      }
      if (k == "tunnel" || k == "transport") {
        if (mode) return bad(a, "ESP mode given twice");
        mode = k == "tunnel" ? esp_mode::tunnel : esp_mode::transport;
        continue;
      }
      bool found = false;
      for (const auto& c : ciphers)
        if (c.name == k) {
          if (cipher) return bad(a, "a second cipher '" + std::string(k) + "'; ESP takes one cipher");
          cipher = c.id; found = true;
        }
      for (const auto& i : integrities)
        if (!i.name.empty() && (i.name == k || alias(k) == i.name)) {
          if (integ != integ_id::unspecified) return bad(a, "a second integrity algorithm '" + std::string(k) + "'");
          integ = i.id; integ_tok = &a; found = true;
        }
      if (!found) {  // a suite as users write it: strongSwan, Cisco IOS, aes-256-gcm (crypto/suite_names.hpp)
        const auto named = parse_suite_name(a.text);
        if (!named) {
          const text_error& e = named.error();
          err_ = {a.offset + e.offset, e.length, e.message + "; options: tunnel, transport, pad=N, tfc=N"};
          return std::nullopt;
        }
        if (cipher) return bad(a, "a second cipher in '" + std::string(a.text) + "'; ESP takes one cipher");
        if (integ != integ_id::unspecified && named->suite.integ != integ_id::unspecified)
          return bad(a, "a second integrity algorithm in '" + std::string(a.text) + "'");
        cipher = named->suite.cipher;
        if (named->suite.integ != integ_id::unspecified) { integ = named->suite.integ; integ_tok = &a; }
      }
    }
    if (!cipher) return bad(name, "esp needs a cipher, e.g. esp(aes-256-gcm-16) or esp(aes-256-cbc,hmac-sha1-96); ciphers: " + cipher_names());
    const esp_suite s{*cipher, integ};
    if (const auto e = s.check(); e != suite_error::ok) return bad(integ_tok ? *integ_tok : name, std::string(to_string(e)));
    switch (check_padding(s, pad)) {
      case padding_error::ok: break;
      case padding_error::extra_not_aligned:
        return bad(*pad_tok, "extra padding must be a multiple of the suite's alignment (" + std::to_string(s.align()) + " bytes)");
      case padding_error::extra_exceeds_pad_length:
        return bad(*pad_tok, "extra padding of " + std::to_string(pad.extra) + " bytes would overflow the 255-byte pad length field");
      case padding_error::tfc_boundary_too_large:
        return bad(*pad_tok, "TFC boundary must be at most 65535 bytes");
    }
    return esp_rule(s, pad);
  }

  static std::string_view alias(std::string_view k) {
    if (k == "hmac-sha2-256-128") return "hmac-sha256-128";
    if (k == "hmac-sha2-384-192") return "hmac-sha384-192";
    if (k == "hmac-sha2-512-256") return "hmac-sha512-256";
    if (k == "hmac-sha-1-96" || k == "sha1") return "hmac-sha1-96";
    if (const auto id = names::strongswan_integ(k)) return info(*id).name;  // strongSwan's integrity keywords
    return {};
  }
};

}  // namespace detail

inline spec_result parse_spec(std::string_view text) { return detail::parser(text).run(); }

// One layer as the spec spells it (the inverse of parsing, for reports).
inline std::string to_string(const layer_rule& r, esp_mode mode = esp_mode::tunnel) {
  std::string out(to_string(r.kind));
  std::string args;
  auto arg = [&](const std::string& a) { if (!args.empty()) args += ','; args += a; };
  switch (r.kind) {
    case layer_kind::gre: {
      const auto o = static_cast<gre_opt>(r.param);
      if (has(o, gre_opt::csum)) arg("csum");
      if (has(o, gre_opt::key)) arg("key");
      if (has(o, gre_opt::seq)) arg("seq");
      break;
    }
    case layer_kind::esp:
      arg(to_string(esp_suite::from_code(r.param)));
      arg(mode == esp_mode::tunnel ? "tunnel" : "transport");
      if (r.extra_padding) arg("pad=" + std::to_string(r.extra_padding));
      if (r.pad_to) arg("tfc=" + std::to_string(r.pad_to));
      break;
    case layer_kind::ethernet:
      for (unsigned i = 0; i < r.param; ++i) arg("vlan");
      break;
    case layer_kind::mpls: arg(std::to_string(r.param)); break;
    case layer_kind::geneve: if (r.param) arg("opt=" + std::to_string(r.param)); break;
    case layer_kind::l2tpv3:
      if (r.param & 0xff) arg("cookie=" + std::to_string(r.param & 0xff));
      if (r.param & 0x100) arg("sublayer");
      break;
    case layer_kind::macsec: if (!r.param) arg("nosci"); break;
    case layer_kind::ipv4: if (r.param) arg("options=" + std::to_string(r.param)); break;
    case layer_kind::ah:
      if (r.param & ah_gmac_flag) arg("aes-gmac-" + std::to_string((r.param & 0xff) * 8));
      else arg(std::string(info(static_cast<integ_id>(r.param)).name));
      break;
    case layer_kind::tcp: if (r.param) arg("options=" + std::to_string(r.param)); break;
    case layer_kind::iptfs: if (r.param) arg("cc"); break;
    case layer_kind::hbh: case layer_kind::dstopts: if (r.param != ipv6_ext_unit) arg(std::to_string(r.param)); break;
    case layer_kind::srh:
      arg(std::to_string(r.param & 0xff));
      if (r.param >> 8) arg("tlv=" + std::to_string((r.param >> 8) * ipv6_ext_unit));
      break;
    case layer_kind::openvpn:
      arg(std::string(openvpn_ciphers[r.param & 0xf].name));
      if (!openvpn_ciphers[r.param & 0xf].aead) arg(std::string(openvpn_auths[(r.param >> 4) & 0xf].name));
      if (r.param & openvpn_comp_flag) arg("comp");
      if (r.param & openvpn_v1_flag) arg("v1");
      break;
    case layer_kind::gtpu:
      if ((r.param & gtpu_optional_flag) && !(r.param & 0xfff)) arg("seq");
      if (r.param & 0xfff) arg("ext=" + std::to_string(r.param & 0xfff));
      break;
    case layer_kind::ipv6: case layer_kind::udp: case layer_kind::pppoe: case layer_kind::vxlan:
    case layer_kind::wireguard: case layer_kind::frag:
      break;
  }
  if (!args.empty()) out += "(" + args + ")";
  return out;
}

inline std::string to_string(const stack_spec& s) {
  std::string out;
  for (std::size_t i = 0; i < s.rules.size(); ++i) {
    if (i) out += '/';
    out += to_string(s.rules[i], s.modes[i]);
  }
  return out;
}

}  // namespace v0
}  // namespace encap
